//! Deterministic aggregate ids for market state: the same pattern or signal
//! always gets the same id, so a re-run scan addresses the aggregate it
//! already wrote instead of creating a twin.

use domain::market::Symbol;
use domain::market::tracker::{PatternKey, SignalKey};
use sha2::{Digest, Sha256};
use uuid::{Builder, Uuid};

fn derive(text: &str) -> Uuid {
    let digest = Sha256::digest(text.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Builder::from_custom_bytes(bytes).into_uuid()
}

/// `hash(pattern|symbol|timeframe|type|direction|detected_ts)` as a UUID (v8).
pub fn pattern_id(symbol: &Symbol, key: &PatternKey) -> Uuid {
    derive(&format!(
        "pattern|{symbol}|{}|{}|{}|{}",
        key.timeframe,
        key.pattern_type.as_str(),
        key.direction.as_str(),
        key.detected_ts
    ))
}

/// `hash(signal|symbol|direction|created_at)` as a UUID (v8).
pub fn signal_id(symbol: &Symbol, key: &SignalKey) -> Uuid {
    derive(&format!(
        "signal|{symbol}|{}|{}",
        key.direction.as_str(),
        key.created_at
    ))
}

#[cfg(test)]
mod tests {
    use domain::market::{Direction, PatternType, Timeframe};

    use super::*;

    #[test]
    fn ids_are_stable_and_include_the_direction() {
        let symbol = Symbol::parse("BTC/USDT").unwrap();
        let key = |direction| PatternKey {
            timeframe: Timeframe::H1,
            pattern_type: PatternType::LiquiditySweep,
            direction,
            detected_ts: 1_700_000_000_000,
        };
        let bullish = pattern_id(&symbol, &key(Direction::Bullish));
        assert_eq!(bullish, pattern_id(&symbol, &key(Direction::Bullish)));
        assert_ne!(bullish, pattern_id(&symbol, &key(Direction::Bearish)));
        assert_eq!(bullish.get_version_num(), 8);
        let signal = SignalKey {
            direction: Direction::Bullish,
            created_at: 1,
        };
        assert_ne!(signal_id(&symbol, &signal), bullish);
    }
}
