//! Fair Value Gap detector, pattern type `imbalance` (ALGORITHMS §3).
//!
//! For each candle `i >= 2`: a bullish gap when `high[i-2] < low[i]`
//! (zone `high[i-2]..low[i]`), a bearish gap when `low[i-2] > high[i]`
//! (zone `high[i]..low[i-2]`), both strict. The middle candle is not examined
//! at all (original behaviour). Too-small zones are skipped; with in-memory
//! de-dup an overlapping zone is simply dropped.

use super::{Candle, Dedup, DetectConfig, Direction, Pattern, PatternType, zone_is_large_enough};

/// Finds Fair Value Gaps, reported on the third candle of the three.
pub fn detect_fvg(series: &[Candle], config: &DetectConfig) -> Vec<Pattern> {
    let mut patterns = Vec::new();
    if series.len() < 3 {
        return patterns;
    }
    let mut dedup = Dedup::new(config);
    for (offset, window) in series.windows(3).enumerate() {
        let (first, third) = (&window[0], &window[2]);
        let (direction, zone_low, zone_high) = if first.high < third.low {
            (Direction::Bullish, first.high, third.low)
        } else if first.low > third.high {
            (Direction::Bearish, third.high, first.low)
        } else {
            continue;
        };
        if !zone_is_large_enough(zone_low, zone_high, config.min_zone_pct) {
            continue;
        }
        if !dedup.admit(direction, zone_low, zone_high) {
            continue;
        }
        patterns.push(Pattern {
            pattern_type: PatternType::Imbalance,
            direction,
            zone_high,
            zone_low,
            detected_at: offset + 2,
            detected_ts: third.open_time,
            swept_level: None,
        });
    }
    patterns
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Candles at minutes 0, 1, 2, ... with the given (high, low); open/close
    /// sit inside the range and do not matter to this detector.
    fn series(ranges: &[(f64, f64)]) -> Vec<Candle> {
        ranges
            .iter()
            .enumerate()
            .map(|(i, &(high, low))| Candle::new(i as i64 * 60_000, low, high, low, high, 1.0))
            .collect()
    }

    #[test]
    fn a_wick_gap_up_is_a_bullish_gap_on_the_third_candle() {
        let s = series(&[(100.0, 99.0), (103.0, 99.5), (104.0, 101.0)]);
        let found = detect_fvg(&s, &DetectConfig::raw());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].direction, Direction::Bullish);
        assert_eq!((found[0].zone_low, found[0].zone_high), (100.0, 101.0));
        assert_eq!((found[0].detected_at, found[0].detected_ts), (2, 120_000));
        assert_eq!(found[0].swept_level, None);
    }

    #[test]
    fn a_wick_gap_down_is_a_bearish_gap() {
        let s = series(&[(102.0, 101.0), (101.5, 98.0), (100.0, 97.0)]);
        let found = detect_fvg(&s, &DetectConfig::raw());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].direction, Direction::Bearish);
        assert_eq!((found[0].zone_low, found[0].zone_high), (100.0, 101.0));
    }

    #[test]
    fn touching_wicks_and_tiny_gaps_are_not_gaps() {
        let touching = series(&[(100.0, 99.0), (103.0, 99.5), (104.0, 100.0)]);
        assert!(detect_fvg(&touching, &DetectConfig::raw()).is_empty());
        let tiny = series(&[(100.0, 99.0), (103.0, 99.5), (104.0, 100.1)]);
        assert!(detect_fvg(&tiny, &DetectConfig::raw()).is_empty());
        assert!(detect_fvg(&tiny[..2], &DetectConfig::raw()).is_empty());
    }

    #[test]
    fn dedup_drops_a_gap_inside_an_earlier_one_of_the_same_direction() {
        let s = series(&[
            (100.0, 99.0),
            (103.0, 99.5),
            (104.0, 102.0), // bullish 100..102 at 2
            (100.2, 99.8),
            (104.0, 100.5),
            (105.0, 101.5), // bullish 100.2..101.5 at 5: inside 100..102
        ]);
        let raw = detect_fvg(&s, &DetectConfig::raw());
        assert_eq!(
            raw.iter().map(|p| p.detected_at).collect::<Vec<_>>(),
            vec![2, 5]
        );
        let dedup = detect_fvg(&s, &DetectConfig::deduplicated());
        assert_eq!(
            dedup.iter().map(|p| p.detected_at).collect::<Vec<_>>(),
            vec![2]
        );
    }
}
