//! What happened to a pattern. Variant names are the frozen `event_type`s.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::FIRST_EVENT_VERSION;
use crate::market::{Direction, PatternType, Symbol, Timeframe, TradingLevels};

/// Which pattern an event is about (repeated on every event so read models
/// need no lookups).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternFacts {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub pattern_type: PatternType,
    pub direction: Direction,
    /// Open time of the detection candle (ms).
    pub detected_ts: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PatternEvent {
    PatternDetected {
        #[serde(flatten)]
        facts: PatternFacts,
        zone_low: f64,
        zone_high: f64,
        swept_level: Option<f64>,
        /// When it became visible (close of the detection candle, ms).
        known_at: i64,
        expires_at: i64,
        /// ALGORITHMS §7 levels as of the detection candle.
        levels: TradingLevels,
    },
    PatternFilled {
        #[serde(flatten)]
        facts: PatternFacts,
        /// Close time of the 1m candle that traded through (ms).
        at: i64,
    },
    PatternInvalidated {
        #[serde(flatten)]
        facts: PatternFacts,
        at: i64,
    },
    PatternExpired {
        #[serde(flatten)]
        facts: PatternFacts,
        /// Close time of the first 1m candle after the expiry (ms).
        at: i64,
    },
}

impl PatternEvent {
    pub const DETECTED: &'static str = "PatternDetected";
    pub const FILLED: &'static str = "PatternFilled";
    pub const INVALIDATED: &'static str = "PatternInvalidated";
    pub const EXPIRED: &'static str = "PatternExpired";
    pub const ALL: &'static [&'static str] = &[
        Self::DETECTED,
        Self::FILLED,
        Self::INVALIDATED,
        Self::EXPIRED,
    ];

    pub fn facts(&self) -> &PatternFacts {
        match self {
            Self::PatternDetected { facts, .. }
            | Self::PatternFilled { facts, .. }
            | Self::PatternInvalidated { facts, .. }
            | Self::PatternExpired { facts, .. } => facts,
        }
    }
}

impl DomainEvent for PatternEvent {
    fn event_type(&self) -> String {
        match self {
            Self::PatternDetected { .. } => Self::DETECTED,
            Self::PatternFilled { .. } => Self::FILLED,
            Self::PatternInvalidated { .. } => Self::INVALIDATED,
            Self::PatternExpired { .. } => Self::EXPIRED,
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}
