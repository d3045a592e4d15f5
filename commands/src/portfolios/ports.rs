//! What the portfolio use cases need from outside: the user's tier, and
//! market facts (listed symbols, the latest close, pattern and signal
//! levels) from the read models.

use std::collections::HashMap;
use std::sync::Mutex;

use domain::billing::Tier;
use domain::market::{PatternType, Symbol, Timeframe};
use domain::portfolio::{Side, TradeSource};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::ports::PortError;

/// A user's effective tier right now (PRODUCT §1).
#[async_trait::async_trait]
pub trait TierSource: Send + Sync {
    async fn tier(&self, user: Uuid) -> Result<Tier, PortError>;
}

/// Levels copied from a pattern or a signal.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeSetup {
    pub symbol: Symbol,
    pub side: Side,
    pub timeframe: Option<Timeframe>,
    pub pattern_type: Option<PatternType>,
    pub entry: Decimal,
    pub stop: Decimal,
    pub target: Option<Decimal>,
}

#[async_trait::async_trait]
pub trait TradingMarket: Send + Sync {
    /// Whether `symbol` is a listed symbol.
    async fn is_listed(&self, symbol: &Symbol) -> Result<bool, PortError>;
    /// The newest stored close of `symbol` (closed 1m candles).
    async fn latest_close(&self, symbol: &Symbol) -> Result<Option<Decimal>, PortError>;
    /// The levels of a pattern or signal, if it exists.
    async fn setup(&self, source: TradeSource) -> Result<Option<TradeSetup>, PortError>;
}

/// Tiers for tests: everyone has `default` unless set.
#[derive(Debug)]
pub struct FakeTiers {
    default: Tier,
    tiers: Mutex<HashMap<Uuid, Tier>>,
}

impl FakeTiers {
    pub fn all(default: Tier) -> Self {
        Self {
            default,
            tiers: Mutex::default(),
        }
    }

    pub fn set(&self, user: Uuid, tier: Tier) {
        if let Ok(mut tiers) = self.tiers.lock() {
            tiers.insert(user, tier);
        }
    }
}

#[async_trait::async_trait]
impl TierSource for FakeTiers {
    async fn tier(&self, user: Uuid) -> Result<Tier, PortError> {
        let tiers = self.tiers.lock().map_err(|_| "poisoned")?;
        Ok(tiers.get(&user).copied().unwrap_or(self.default))
    }
}

/// A market for tests.
#[derive(Debug, Default)]
pub struct FakeTradingMarket {
    pub listed: Mutex<Vec<Symbol>>,
    pub closes: Mutex<HashMap<Symbol, Decimal>>,
    pub setups: Mutex<HashMap<Uuid, TradeSetup>>,
}

#[async_trait::async_trait]
impl TradingMarket for FakeTradingMarket {
    async fn is_listed(&self, symbol: &Symbol) -> Result<bool, PortError> {
        Ok(self.listed.lock().map_err(|_| "poisoned")?.contains(symbol))
    }

    async fn latest_close(&self, symbol: &Symbol) -> Result<Option<Decimal>, PortError> {
        Ok(self
            .closes
            .lock()
            .map_err(|_| "poisoned")?
            .get(symbol)
            .copied())
    }

    async fn setup(&self, source: TradeSource) -> Result<Option<TradeSetup>, PortError> {
        let id = match source {
            TradeSource::Manual => return Ok(None),
            TradeSource::Pattern(id) | TradeSource::Signal(id) => id,
        };
        Ok(self
            .setups
            .lock()
            .map_err(|_| "poisoned")?
            .get(&id)
            .cloned())
    }
}
