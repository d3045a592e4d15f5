//! Order Block detector, pattern type `order_block` (ALGORITHMS §4).
//!
//! An impulse candle has a body strictly larger than 1.5 × the mean body of
//! the 20 candles ending with it (pandas rolling mean, see `rolling`). For a
//! bullish impulse the order block is a bearish candle among the three before
//! it, most recent first; for a bearish impulse a bullish one. The zone is
//! that candle's body. Quirk kept: a candidate whose zone is too small (or,
//! with de-dup, overlaps an accepted zone) makes the search fall back to the
//! next older candidate, so the reported block is "the most recent opposing
//! candle among the three that qualifies". At most one block per impulse,
//! reported on the impulse candle (the block's own index is not reported).

use super::rolling::RollingMean;
use super::{Candle, Dedup, DetectConfig, Direction, Pattern, PatternType, zone_is_large_enough};

/// Candles in the rolling mean body window (includes the impulse candle).
const BODY_WINDOW: usize = 20;
/// How many candles before the impulse are searched for the block.
const SEARCH_DEPTH: usize = 3;

/// Finds order blocks, reported on their impulse candle.
pub fn detect_order_blocks(series: &[Candle], config: &DetectConfig) -> Vec<Pattern> {
    let mut patterns = Vec::new();
    if series.len() < 5 {
        return patterns;
    }
    let mut dedup = Dedup::new(config);
    let mut rolling = RollingMean::new(BODY_WINDOW);
    for (i, impulse) in series.iter().enumerate() {
        let leaving = i.checked_sub(BODY_WINDOW).map(|j| body_size(&series[j]));
        let body_size_i = body_size(impulse);
        let avg_body = rolling.step(leaving, body_size_i);
        if i < 3 || avg_body.is_nan() || avg_body == 0.0 {
            continue;
        }
        let is_impulse = body_size_i > avg_body * config.ob_strength_multiplier;
        if !is_impulse {
            continue;
        }
        let body = impulse.close - impulse.open;
        let direction = if body > 0.0 {
            Direction::Bullish
        } else {
            Direction::Bearish
        };
        if let Some((zone_low, zone_high)) = find_block(series, i, direction, config, &mut dedup) {
            patterns.push(Pattern {
                pattern_type: PatternType::OrderBlock,
                direction,
                zone_high,
                zone_low,
                detected_at: i,
                detected_ts: impulse.open_time,
                swept_level: None,
            });
        }
    }
    patterns
}

fn body_size(candle: &Candle) -> f64 {
    (candle.close - candle.open).abs()
}

/// Searches candles `i-1, i-2, i-3` (never index 0) for the first opposing
/// candle whose body passes the size filter and de-dup; returns its body.
fn find_block(
    series: &[Candle],
    i: usize,
    direction: Direction,
    config: &DetectConfig,
    dedup: &mut Dedup,
) -> Option<(f64, f64)> {
    let oldest = i.saturating_sub(SEARCH_DEPTH).max(1);
    for j in (oldest..i).rev() {
        let candle = &series[j];
        let body = candle.close - candle.open;
        let opposing = match direction {
            Direction::Bullish => body < 0.0,
            Direction::Bearish => body > 0.0,
        };
        if !opposing {
            continue;
        }
        let zone_low = py_min(candle.open, candle.close);
        let zone_high = py_max(candle.open, candle.close);
        if zone_low <= 0.0 || !zone_is_large_enough(zone_low, zone_high, config.min_zone_pct) {
            continue;
        }
        if !dedup.admit(direction, zone_low, zone_high) {
            continue;
        }
        return Some((zone_low, zone_high));
    }
    None
}

fn py_min(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

fn py_max(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Candles at minutes 0, 1, ... from (open, close); wicks hug the body.
    fn series(bodies: &[(f64, f64)]) -> Vec<Candle> {
        bodies
            .iter()
            .enumerate()
            .map(|(i, &(o, c))| Candle::new(i as i64 * 60_000, o, o.max(c), o.min(c), c, 1.0))
            .collect()
    }

    /// 19 quiet candles alternating up/down by 0.3 around 100 (no impulses).
    fn quiet() -> Vec<(f64, f64)> {
        (0..19)
            .map(|i| {
                if i % 2 == 0 {
                    (100.0, 100.3)
                } else {
                    (100.3, 100.0)
                }
            })
            .collect()
    }

    fn zones(found: &[Pattern]) -> Vec<(f64, f64, usize)> {
        found
            .iter()
            .map(|p| (p.zone_low, p.zone_high, p.detected_at))
            .collect()
    }

    #[test]
    fn a_bullish_impulse_after_a_down_candle_marks_a_bullish_block() {
        let mut bodies = quiet();
        bodies.push((100.9, 100.5)); // 19: bearish, body 0.4 (not an impulse)
        bodies.push((100.5, 103.0)); // 20: bullish impulse
        let found = detect_order_blocks(&series(&bodies), &DetectConfig::raw());
        assert_eq!(zones(&found), vec![(100.5, 100.9, 20)]);
        assert_eq!(found[0].direction, Direction::Bullish);
        assert_eq!(found[0].detected_ts, 20 * 60_000);
        assert_eq!(found[0].pattern_type, PatternType::OrderBlock);
    }

    #[test]
    fn a_too_small_opposing_candle_falls_back_to_an_older_one() {
        let mut bodies = quiet();
        bodies.push((100.9, 100.5)); // 19: bearish, big enough
        bodies.push((100.5, 100.6)); // 20: bullish, not opposing
        bodies.push((100.62, 100.6)); // 21: bearish but only 0.02 %
        bodies.push((100.6, 103.0)); // 22: bullish impulse
        let found = detect_order_blocks(&series(&bodies), &DetectConfig::raw());
        assert_eq!(zones(&found), vec![(100.5, 100.9, 22)]);
    }

    #[test]
    fn a_bearish_impulse_uses_the_up_candle_body() {
        let mut bodies = quiet();
        bodies.push((100.0, 100.4)); // 19: bullish
        bodies.push((100.4, 98.0)); // 20: bearish impulse
        let found = detect_order_blocks(&series(&bodies), &DetectConfig::raw());
        assert_eq!(zones(&found), vec![(100.0, 100.4, 20)]);
        assert_eq!(found[0].direction, Direction::Bearish);
    }

    #[test]
    fn no_impulse_before_twenty_candles_and_no_block_without_opposing_candle() {
        let short = series(&[
            (100.0, 100.3),
            (100.3, 100.0),
            (100.0, 100.5),
            (100.5, 110.0),
        ]);
        assert!(detect_order_blocks(&short, &DetectConfig::raw()).is_empty());
        let mut bodies = quiet();
        bodies.extend([
            (100.0, 100.4),
            (100.4, 100.8),
            (100.8, 101.2),
            (101.2, 104.0),
        ]);
        assert!(detect_order_blocks(&series(&bodies), &DetectConfig::raw()).is_empty());
    }

    #[test]
    fn dedup_makes_a_second_impulse_fall_back_to_an_older_block() {
        let mut bodies = quiet();
        bodies.push((100.9, 100.5)); // 19: bearish
        bodies.push((100.5, 100.1)); // 20: bearish
        bodies.push((100.1, 103.0)); // 21: impulse -> block 20
        bodies.push((103.0, 106.5)); // 22: impulse -> block 20 again when raw
        let raw = detect_order_blocks(&series(&bodies), &DetectConfig::raw());
        assert_eq!(zones(&raw), vec![(100.1, 100.5, 21), (100.1, 100.5, 22)]);
        let dedup = detect_order_blocks(&series(&bodies), &DetectConfig::deduplicated());
        assert_eq!(zones(&dedup), vec![(100.1, 100.5, 21), (100.5, 100.9, 22)]);
    }
}
