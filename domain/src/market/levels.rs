//! Trading levels stored on each pattern (ALGORITHMS §7, `trading.py`).
//!
//! Inputs are the 14-candle ATR and the trading variant of swing high/low
//! (see `indicators`). The formulas differ per pattern type; see
//! [`trading_levels`]. The live pipeline computes them as of each pattern's
//! own detection candle ([`levels_as_of_detection`]), deliberately not with
//! the scan window's values as the original production scan did (bug 11).

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::candle::Candle;
use super::detect::{Direction, Pattern, PatternType};
use super::indicators::{atr, find_swing_high, find_swing_low};

/// Entry, stop, targets and their inputs for one pattern.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TradingLevels {
    /// 14-candle average true range (0 with fewer than 14 candles).
    pub atr: f64,
    /// Trading swing high before the detection candle, if any.
    pub swing_high: Option<f64>,
    /// Trading swing low before the detection candle, if any.
    pub swing_low: Option<f64>,
    /// Entry price.
    pub entry: f64,
    /// Stop-loss price.
    pub stop_loss: f64,
    /// First target.
    pub take_profit_1: f64,
    /// Second target.
    pub take_profit_2: f64,
    /// Third target.
    pub take_profit_3: f64,
    /// Distance from entry to stop in the trade's favour.
    pub risk: f64,
    /// `|TP1 - entry| / risk` (unrounded; 0 if risk <= 0).
    pub risk_reward_1: f64,
    /// `|TP2 - entry| / risk`.
    pub risk_reward_2: f64,
    /// `|TP3 - entry| / risk`.
    pub risk_reward_3: f64,
}

/// Why levels could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum LevelsError {
    /// The pattern's detection index is not inside the given series.
    #[error("detection index {detected_at} is outside a series of {len} candles")]
    DetectionOutOfRange {
        /// The pattern's `detected_at`.
        detected_at: usize,
        /// Length of the series given.
        len: usize,
    },
}

/// Levels of a pattern as of its own detection candle: ATR and swings from
/// `series[..=detected_at]`, swings searched before the detection candle.
pub fn levels_as_of_detection(
    series: &[Candle],
    pattern: &Pattern,
) -> Result<TradingLevels, LevelsError> {
    let i = pattern.detected_at;
    let history = series.get(..=i).ok_or(LevelsError::DetectionOutOfRange {
        detected_at: i,
        len: series.len(),
    })?;
    Ok(trading_levels(
        pattern.pattern_type,
        pattern.direction,
        pattern.zone_low,
        pattern.zone_high,
        atr(history),
        find_swing_high(history, i),
        find_swing_low(history, i),
    ))
}

/// The §7.2 formulas. A swing is used only when present, non-zero and on the
/// profit side of the entry.
pub fn trading_levels(
    pattern_type: PatternType,
    direction: Direction,
    zone_low: f64,
    zone_high: f64,
    atr: f64,
    swing_high: Option<f64>,
    swing_low: Option<f64>,
) -> TradingLevels {
    let size = zone_high - zone_low;
    let factor = match pattern_type {
        PatternType::Imbalance => 0.5,
        PatternType::OrderBlock => 0.3,
        PatternType::LiquiditySweep => 0.2,
    };
    let buffer = if atr > 0.0 {
        factor * atr
    } else {
        factor * size
    };
    let entry = match (pattern_type, direction) {
        (PatternType::OrderBlock, _) => (zone_high + zone_low) / 2.0,
        (_, Direction::Bullish) => zone_high,
        (_, Direction::Bearish) => zone_low,
    };
    let (stop_loss, risk) = match direction {
        Direction::Bullish => {
            let sl = zone_low - buffer;
            (sl, entry - sl)
        }
        Direction::Bearish => {
            let sl = zone_high + buffer;
            (sl, sl - entry)
        }
    };
    let swing = match direction {
        Direction::Bullish => swing_high.filter(|&h| h != 0.0 && h > entry),
        Direction::Bearish => swing_low.filter(|&l| l != 0.0 && l < entry),
    };
    let targets = match direction {
        Direction::Bullish => long_targets(pattern_type, entry, risk, swing),
        Direction::Bearish => short_targets(pattern_type, entry, risk, swing),
    };
    let reward = |tp: f64| {
        if risk <= 0.0 {
            0.0
        } else {
            (tp - entry).abs() / risk
        }
    };
    TradingLevels {
        atr,
        swing_high,
        swing_low,
        entry,
        stop_loss,
        take_profit_1: targets[0],
        take_profit_2: targets[1],
        take_profit_3: targets[2],
        risk,
        risk_reward_1: reward(targets[0]),
        risk_reward_2: reward(targets[1]),
        risk_reward_3: reward(targets[2]),
    }
}

/// TP1..TP3 of a long, `high` being the usable swing high.
fn long_targets(pattern_type: PatternType, entry: f64, risk: f64, high: Option<f64>) -> [f64; 3] {
    match (pattern_type, high) {
        (PatternType::Imbalance, Some(h)) => [py_min(entry + risk, h), h, h + (h - entry) * 0.5],
        (PatternType::OrderBlock, Some(h)) => [entry + risk, h, h + risk],
        (PatternType::LiquiditySweep, Some(h)) => [entry + risk * 1.5, h, h + (h - entry) * 0.618],
        (PatternType::LiquiditySweep, None) => {
            [entry + risk * 1.5, entry + risk * 2.5, entry + risk * 4.0]
        }
        (PatternType::Imbalance | PatternType::OrderBlock, None) => {
            [entry + risk, entry + risk * 2.0, entry + risk * 3.0]
        }
    }
}

/// TP1..TP3 of a short, `low` being the usable swing low.
fn short_targets(pattern_type: PatternType, entry: f64, risk: f64, low: Option<f64>) -> [f64; 3] {
    match (pattern_type, low) {
        (PatternType::Imbalance, Some(l)) => [py_max(entry - risk, l), l, l - (entry - l) * 0.5],
        (PatternType::OrderBlock, Some(l)) => [entry - risk, l, l - risk],
        (PatternType::LiquiditySweep, Some(l)) => [entry - risk * 1.5, l, l - (entry - l) * 0.618],
        (PatternType::LiquiditySweep, None) => {
            [entry - risk * 1.5, entry - risk * 2.5, entry - risk * 4.0]
        }
        (PatternType::Imbalance | PatternType::OrderBlock, None) => {
            [entry - risk, entry - risk * 2.0, entry - risk * 3.0]
        }
    }
}

/// Python's `min(a, b)`.
fn py_min(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

/// Python's `max(a, b)`.
fn py_max(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

/// Python's `round(x, 2)`: the exact binary value rounded to 2 decimals,
/// exact ties to even (the DB stores risk-rewards this way).
pub fn round2(x: f64) -> f64 {
    format!("{x:.2}").parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candle(i: i64, high: f64, low: f64, close: f64) -> Candle {
        Candle::new(i * 60_000, low, high, low, close, 1.0)
    }

    #[test]
    fn levels_as_of_detection_ignore_later_candles() {
        let series: Vec<Candle> = (0..40)
            .map(|i| {
                let mid = 100.0 + (i % 7) as f64;
                candle(i, mid + 1.0, mid - 1.0, mid)
            })
            .collect();
        let pattern = Pattern {
            pattern_type: PatternType::LiquiditySweep,
            direction: Direction::Bullish,
            zone_high: 101.0,
            zone_low: 100.0,
            detected_at: 30,
            detected_ts: 30 * 60_000,
            swept_level: Some(101.0),
        };
        let full = levels_as_of_detection(&series, &pattern);
        assert_eq!(full, levels_as_of_detection(&series[..31], &pattern));
        let levels = full.unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(levels.atr, atr(&series[..31]));
        assert_eq!(levels.swing_high, Some(107.0));
        assert_eq!((levels.entry, levels.take_profit_2), (101.0, 107.0));
    }

    #[test]
    fn round2_follows_python() {
        assert_eq!(round2(2.675), 2.67); // binary value is below 2.675
        assert_eq!(round2(0.125), 0.12); // exact tie: to even
        assert_eq!(round2(0.375), 0.38);
        assert_eq!(round2(1.005), 1.0);
        assert_eq!(round2(-1.238), -1.24);
        assert_eq!(round2(3.0), 3.0);
    }

    #[test]
    fn fvg_long_targets_stop_at_the_swing_high() {
        let l = trading_levels(
            PatternType::Imbalance,
            Direction::Bullish,
            100.0,
            102.0,
            2.0,
            Some(103.0),
            None,
        );
        assert_eq!((l.entry, l.stop_loss, l.risk), (102.0, 99.0, 3.0));
        assert_eq!(
            [l.take_profit_1, l.take_profit_2, l.take_profit_3],
            [103.0, 103.0, 103.5]
        );
        assert_eq!(l.risk_reward_1, 1.0 / 3.0);
    }

    #[test]
    fn unusable_swings_fall_back_to_multiples_of_risk() {
        // Swing low above the entry of a short and a zero swing are ignored.
        let l = trading_levels(
            PatternType::LiquiditySweep,
            Direction::Bearish,
            100.0,
            101.0,
            0.0,
            None,
            Some(100.5),
        );
        assert_eq!(
            (l.entry, l.stop_loss, l.risk),
            (100.0, 101.2, 1.2000000000000028)
        );
        assert_eq!(l.take_profit_1, 100.0 - l.risk * 1.5);
        assert_eq!(l.take_profit_3, 100.0 - l.risk * 4.0);
        let z = trading_levels(
            PatternType::OrderBlock,
            Direction::Bullish,
            100.0,
            101.0,
            1.0,
            Some(0.0),
            None,
        );
        assert_eq!((z.entry, z.take_profit_2), (100.5, 100.5 + z.risk * 2.0));
    }

    #[test]
    fn order_block_levels_use_the_zone_midpoint() {
        let l = trading_levels(
            PatternType::OrderBlock,
            Direction::Bearish,
            100.0,
            102.0,
            10.0,
            None,
            Some(95.0),
        );
        assert_eq!((l.entry, l.stop_loss, l.risk), (101.0, 105.0, 4.0));
        assert_eq!(
            [l.take_profit_1, l.take_profit_2, l.take_profit_3],
            [97.0, 95.0, 91.0]
        );
        assert_eq!(l.risk_reward_2, 1.5);
    }

    #[test]
    fn levels_reject_a_detection_outside_the_series() {
        let p = Pattern {
            pattern_type: PatternType::Imbalance,
            direction: Direction::Bullish,
            zone_high: 2.0,
            zone_low: 1.0,
            detected_at: 3,
            detected_ts: 0,
            swept_level: None,
        };
        assert_eq!(
            levels_as_of_detection(&[], &p),
            Err(LevelsError::DetectionOutOfRange {
                detected_at: 3,
                len: 0
            })
        );
    }
}
