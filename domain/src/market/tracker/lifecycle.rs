//! Pattern lifecycle rules of the live pipeline (ALGORITHMS §6, PRODUCT §4).
//!
//! Deliberate differences from the original, which judged one sampled price
//! per minute (§6.1): every closed 1m candle is judged on its high and low,
//! and only candles that open after the pattern became known (its detection
//! candle closed) count.

use serde::{Deserialize, Serialize};

use crate::market::{Candle, Direction, PatternType, Timeframe};

/// How a pattern stopped being active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Closure {
    /// Price traded through the zone (FVG, OB) or ran away in the pattern's
    /// direction (liquidity sweep).
    Filled,
    /// A liquidity sweep whose level was taken out the wrong way.
    Invalidated,
    /// Its timeframe's expiry passed.
    Expired,
}

impl Closure {
    pub const fn as_str(self) -> &'static str {
        match self {
            Closure::Filled => "filled",
            Closure::Invalidated => "invalidated",
            Closure::Expired => "expired",
        }
    }
}

/// `OVERLAP_THRESHOLDS` (§0.1): the overlap ratio at or above which a new
/// zone duplicates an active one of the same symbol, timeframe, type and
/// direction.
pub const fn overlap_threshold(timeframe: Timeframe) -> f64 {
    match timeframe {
        Timeframe::M1 => 0.50,
        Timeframe::M5 => 0.55,
        Timeframe::M15 => 0.60,
        Timeframe::M30 => 0.65,
        Timeframe::H1 => 0.70,
        Timeframe::H2 => 0.75,
        Timeframe::H4 => 0.80,
        Timeframe::D1 => 0.85,
    }
}

/// `PATTERN_EXPIRY_HOURS` (§0.1, PRODUCT §4).
pub const fn expiry_hours(timeframe: Timeframe) -> i64 {
    match timeframe {
        Timeframe::M1 => 4,
        Timeframe::M5 => 12,
        Timeframe::M15 => 24,
        Timeframe::M30 => 48,
        Timeframe::H1 => 72,
        Timeframe::H2 => 120,
        Timeframe::H4 => 168,
        Timeframe::D1 => 336,
    }
}

/// When a pattern detected on the candle opening at `detected_ts` expires:
/// measured from the candle open as in the original (§6.2, quirk 20).
pub const fn expires_at(timeframe: Timeframe, detected_ts: i64) -> i64 {
    detected_ts + expiry_hours(timeframe) * 3_600_000
}

/// Judges one closed candle against an active zone (§6.1 rules, applied to
/// the candle's low and high instead of one last price).
///
/// * FVG / order block, bullish: filled when the low reaches the zone low;
///   bearish: when the high reaches the zone high.
/// * Liquidity sweep, bullish: invalidated when the low goes below
///   `zone_low - size`, filled when the high goes above `zone_high + 2 size`;
///   bearish mirrored. If one candle does both, the invalidation wins (the
///   order inside a candle is unknown; the conservative reading).
pub fn judge(
    pattern_type: PatternType,
    direction: Direction,
    zone_low: f64,
    zone_high: f64,
    candle: &Candle,
) -> Option<Closure> {
    let size = zone_high - zone_low;
    match (pattern_type, direction) {
        (PatternType::Imbalance | PatternType::OrderBlock, Direction::Bullish) => {
            (candle.low <= zone_low).then_some(Closure::Filled)
        }
        (PatternType::Imbalance | PatternType::OrderBlock, Direction::Bearish) => {
            (candle.high >= zone_high).then_some(Closure::Filled)
        }
        (PatternType::LiquiditySweep, Direction::Bullish) => {
            if candle.low < zone_low - size {
                Some(Closure::Invalidated)
            } else if candle.high > zone_high + 2.0 * size {
                Some(Closure::Filled)
            } else {
                None
            }
        }
        (PatternType::LiquiditySweep, Direction::Bearish) => {
            if candle.high > zone_high + size {
                Some(Closure::Invalidated)
            } else if candle.low < zone_low - 2.0 * size {
                Some(Closure::Filled)
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candle(low: f64, high: f64) -> Candle {
        Candle::new(0, low, high, low, low, 1.0)
    }

    #[test]
    fn fvg_and_ob_fill_when_a_wick_trades_through_the_zone() {
        for t in [PatternType::Imbalance, PatternType::OrderBlock] {
            assert_eq!(
                judge(t, Direction::Bullish, 10.0, 11.0, &candle(10.5, 12.0)),
                None
            );
            assert_eq!(
                judge(t, Direction::Bullish, 10.0, 11.0, &candle(10.0, 12.0)),
                Some(Closure::Filled)
            );
            assert_eq!(
                judge(t, Direction::Bearish, 10.0, 11.0, &candle(9.0, 10.9)),
                None
            );
            assert_eq!(
                judge(t, Direction::Bearish, 10.0, 11.0, &candle(9.0, 11.0)),
                Some(Closure::Filled)
            );
        }
    }

    #[test]
    fn sweeps_fill_on_a_run_of_two_sizes_and_invalidate_on_one_size_against() {
        let ls = PatternType::LiquiditySweep;
        // bullish zone 10..11 (size 1): invalid below 9, filled above 13
        assert_eq!(
            judge(ls, Direction::Bullish, 10.0, 11.0, &candle(9.0, 13.0)),
            None
        );
        assert_eq!(
            judge(ls, Direction::Bullish, 10.0, 11.0, &candle(9.5, 13.1)),
            Some(Closure::Filled)
        );
        assert_eq!(
            judge(ls, Direction::Bullish, 10.0, 11.0, &candle(8.9, 13.5)),
            Some(Closure::Invalidated)
        );
        // bearish zone 10..11: invalid above 12, filled below 8
        assert_eq!(
            judge(ls, Direction::Bearish, 10.0, 11.0, &candle(7.9, 11.5)),
            Some(Closure::Filled)
        );
        assert_eq!(
            judge(ls, Direction::Bearish, 10.0, 11.0, &candle(9.0, 12.1)),
            Some(Closure::Invalidated)
        );
    }

    #[test]
    fn expiry_follows_the_product_table_from_the_candle_open() {
        assert_eq!(expires_at(Timeframe::M5, 0), 12 * 3_600_000);
        assert_eq!(
            expires_at(Timeframe::D1, 86_400_000),
            86_400_000 + 336 * 3_600_000
        );
        assert_eq!(overlap_threshold(Timeframe::H4), 0.80);
    }
}
