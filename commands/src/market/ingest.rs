//! Where candles enter the system: validation (PRODUCT §3 sanity rules,
//! finite numbers, alignment), closed-only, de-duplicated and sorted.

use std::collections::BTreeMap;

use domain::market::{Candle, Symbol, Timeframe};

/// Candles that passed, and how many were rejected (each one logged).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Screened {
    pub accepted: Vec<Candle>,
    pub rejected: usize,
    pub not_closed: usize,
}

/// Keeps the valid 1m candles that closed at or before `now_ms`, ascending,
/// one per open time (the last one given wins). Every rejected candle is
/// logged with its reason.
pub fn screen_1m(symbol: &Symbol, candles: Vec<Candle>, now_ms: Option<i64>) -> Screened {
    let mut by_time = BTreeMap::new();
    let mut rejected = 0;
    let mut not_closed = 0;
    for candle in candles {
        if let Err(reason) = candle.validate(Timeframe::M1) {
            tracing::warn!(
                symbol = %symbol,
                open_time = candle.open_time,
                %reason,
                "rejected an invalid candle; it is not stored"
            );
            rejected += 1;
            continue;
        }
        if now_ms.is_some_and(|now| candle.open_time + Timeframe::M1.duration_ms() > now) {
            not_closed += 1;
            continue;
        }
        by_time.insert(candle.open_time, candle);
    }
    Screened {
        accepted: by_time.into_values().collect(),
        rejected,
        not_closed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(t: i64, o: f64, h: f64, l: f64, cl: f64) -> Candle {
        Candle::new(t, o, h, l, cl, 1.0)
    }

    #[test]
    fn invalid_unclosed_and_duplicate_candles_are_left_out() {
        let symbol = Symbol::parse("BTC/USDT").unwrap();
        let screened = screen_1m(
            &symbol,
            vec![
                c(180_000, 1.0, 2.0, 0.5, 1.5),
                c(60_000, 1.0, 2.0, 0.5, 1.5),
                c(120_000, 1.0, 0.9, 0.5, 1.5), // high below body
                c(90_000, 1.0, 2.0, 0.5, 1.5),  // misaligned
                c(0, f64::NAN, 2.0, 0.5, 1.5),  // not finite
                c(60_000, 1.0, 3.0, 0.5, 1.5),  // duplicate: last wins
                c(240_000, 1.0, 2.0, 0.5, 1.5), // closes at 300 000 > now
            ],
            Some(299_999),
        );
        assert_eq!(screened.rejected, 3);
        assert_eq!(screened.not_closed, 1);
        assert_eq!(
            screened.accepted,
            vec![
                c(60_000, 1.0, 3.0, 0.5, 1.5),
                c(180_000, 1.0, 2.0, 0.5, 1.5)
            ]
        );
    }
}
