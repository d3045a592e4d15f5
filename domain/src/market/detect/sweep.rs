//! Liquidity Sweep detector, pattern type `liquidity_sweep` (ALGORITHMS §5).
//!
//! Swing points: candle `k` (3 ≤ k ≤ n-4) is a swing high when its high is the
//! maximum of the 7 highs `k-3..=k+3` (ties count), a swing low likewise with
//! lows. From candle 10 on, candle `i` sweeps a swing low `P` with index in
//! `[i-50, i-4]` when `low[i] < P < close[i]` (bullish, zone `low[i]..P`),
//! and a swing high when `close[i] < P < high[i]` (bearish, zone
//! `P..high[i]`). The OLDEST qualifying swing wins; too-small zones make the
//! search try the next swing, but with de-dup an overlapping zone ends the
//! search for that candle and direction (quirk 19, unlike order blocks).
//! At most one sweep per direction per candle, bullish listed first.

use super::{Candle, Dedup, DetectConfig, Direction, Pattern, PatternType, zone_is_large_enough};

/// Swing half-window: a swing is the extreme of `k-3..=k+3`.
const SWING_LOOKBACK: usize = 3;
/// First candle that can be a sweep.
const FIRST_SWEEP_INDEX: usize = 10;
/// Oldest usable swing: `i - 50`.
const MAX_SWING_AGE: usize = 50;
/// Newest usable swing: `i - 4` (its 3 right-hand neighbours exist before `i`).
const MIN_SWING_AGE: usize = 4;

/// Finds liquidity sweeps, reported on the sweeping candle.
pub fn detect_liquidity_sweeps(series: &[Candle], config: &DetectConfig) -> Vec<Pattern> {
    let mut patterns = Vec::new();
    let n = series.len();
    if n < 20 {
        return patterns;
    }
    let (swing_highs, swing_lows) = swing_points(series);
    let mut dedup = Dedup::new(config);
    let (mut lows_from, mut lows_to, mut highs_from, mut highs_to) = (0, 0, 0, 0);

    for i in FIRST_SWEEP_INDEX..n {
        let oldest = i.saturating_sub(MAX_SWING_AGE);
        let newest = i - MIN_SWING_AGE;
        advance(&swing_lows, &mut lows_from, &mut lows_to, oldest, newest);
        advance(&swing_highs, &mut highs_from, &mut highs_to, oldest, newest);
        let candle = &series[i];

        let levels = swing_lows[lows_from..lows_to]
            .iter()
            .map(|&k| series[k].low);
        if let Some(level) = first_sweep(levels, candle, Direction::Bullish, config, &mut dedup) {
            patterns.push(sweep(
                Direction::Bullish,
                candle.low,
                level,
                level,
                i,
                candle,
            ));
        }
        let levels = swing_highs[highs_from..highs_to]
            .iter()
            .map(|&k| series[k].high);
        if let Some(level) = first_sweep(levels, candle, Direction::Bearish, config, &mut dedup) {
            patterns.push(sweep(
                Direction::Bearish,
                level,
                candle.high,
                level,
                i,
                candle,
            ));
        }
    }
    patterns
}

/// Indices of swing highs and swing lows, ascending.
fn swing_points(series: &[Candle]) -> (Vec<usize>, Vec<usize>) {
    let (mut highs, mut lows) = (Vec::new(), Vec::new());
    for (offset, window) in series.windows(2 * SWING_LOOKBACK + 1).enumerate() {
        let centre = &window[SWING_LOOKBACK];
        if window.iter().all(|c| c.high <= centre.high) {
            highs.push(offset + SWING_LOOKBACK);
        }
        if window.iter().all(|c| c.low >= centre.low) {
            lows.push(offset + SWING_LOOKBACK);
        }
    }
    (highs, lows)
}

/// Moves `[from, to)` so that it covers the swings with index in `[oldest, newest]`.
fn advance(swings: &[usize], from: &mut usize, to: &mut usize, oldest: usize, newest: usize) {
    while *to < swings.len() && swings[*to] <= newest {
        *to += 1;
    }
    while *from < *to && swings[*from] < oldest {
        *from += 1;
    }
}

/// The swept level of the first (oldest) swing that `candle` sweeps with an
/// acceptable zone, if any, following the §5.2 continue/stop rules.
fn first_sweep(
    levels: impl Iterator<Item = f64>,
    candle: &Candle,
    direction: Direction,
    config: &DetectConfig,
    dedup: &mut Dedup,
) -> Option<f64> {
    for level in levels {
        let (zone_low, zone_high) = match direction {
            Direction::Bullish if candle.low < level && candle.close > level => (candle.low, level),
            Direction::Bearish if candle.high > level && candle.close < level => {
                (level, candle.high)
            }
            _ => continue,
        };
        if zone_high <= zone_low || zone_low <= 0.0 {
            continue;
        }
        if !zone_is_large_enough(zone_low, zone_high, config.min_zone_pct) {
            continue;
        }
        // With de-dup, an overlapping zone is dropped and no other swing is tried.
        return dedup.admit(direction, zone_low, zone_high).then_some(level);
    }
    None
}

fn sweep(
    direction: Direction,
    zone_low: f64,
    zone_high: f64,
    level: f64,
    i: usize,
    candle: &Candle,
) -> Pattern {
    Pattern {
        pattern_type: PatternType::LiquiditySweep,
        direction,
        zone_high,
        zone_low,
        detected_at: i,
        detected_ts: candle.open_time,
        swept_level: Some(level),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat series of `n` candles around 100 (high 100.1, low 99.9).
    fn flat(n: usize) -> Vec<Candle> {
        (0..n)
            .map(|i| Candle::new(i as i64 * 60_000, 100.0, 100.1, 99.9, 100.0, 1.0))
            .collect()
    }

    fn set(series: &mut [Candle], i: usize, open: f64, high: f64, low: f64, close: f64) {
        series[i] = Candle::new(series[i].open_time, open, high, low, close, 1.0);
    }

    #[test]
    fn equal_extremes_are_all_swings() {
        let (highs, lows) = swing_points(&flat(10));
        assert_eq!(highs, vec![3, 4, 5, 6]);
        assert_eq!(lows, vec![3, 4, 5, 6]);
    }

    #[test]
    fn a_wick_below_a_swing_low_closing_above_is_a_bullish_sweep() {
        let mut s = flat(30);
        set(&mut s, 8, 99.85, 99.9, 99.0, 99.85); // swing low 99.0 at 8
        set(&mut s, 20, 99.5, 99.6, 98.5, 99.5); // sweeps 99.0, closes above
        let found = detect_liquidity_sweeps(&s, &DetectConfig::raw());
        assert_eq!(found.len(), 1);
        let p = found[0];
        assert_eq!(p.direction, Direction::Bullish);
        assert_eq!(
            (p.zone_low, p.zone_high, p.swept_level),
            (98.5, 99.0, Some(99.0))
        );
        assert_eq!((p.detected_at, p.detected_ts), (20, 20 * 60_000));
    }

    #[test]
    fn a_wick_above_a_swing_high_closing_below_is_a_bearish_sweep() {
        let mut s = flat(30);
        set(&mut s, 8, 100.0, 101.0, 99.9, 100.0); // swing high 101.0
        set(&mut s, 20, 100.5, 101.5, 100.4, 100.5);
        let found = detect_liquidity_sweeps(&s, &DetectConfig::raw());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].direction, Direction::Bearish);
        assert_eq!((found[0].zone_low, found[0].zone_high), (101.0, 101.5));
        assert_eq!(found[0].swept_level, Some(101.0));
    }

    #[test]
    fn swings_too_recent_or_too_old_are_not_candidates() {
        let mut s = flat(80);
        set(&mut s, 8, 99.85, 99.9, 99.0, 99.85);
        set(&mut s, 59, 99.5, 99.6, 98.5, 99.5); // 59 - 8 = 51 > 50
        set(&mut s, 70, 99.85, 99.9, 99.2, 99.85); // swing low 99.2
        set(&mut s, 73, 99.5, 99.6, 98.8, 99.5); // 73 - 70 = 3 < 4
        assert!(detect_liquidity_sweeps(&s, &DetectConfig::raw()).is_empty());
    }

    #[test]
    fn the_oldest_swing_wins_and_too_small_zones_fall_through() {
        let mut s = flat(40);
        set(&mut s, 8, 99.85, 99.9, 99.05, 99.85); // swing low 99.05: zone 0.05 %, too small
        set(&mut s, 16, 99.85, 99.9, 99.5, 99.85); // swing low 99.5
        set(&mut s, 24, 99.85, 99.9, 99.6, 99.85); // swing low 99.6
        set(&mut s, 30, 99.7, 99.8, 99.0, 99.7);
        let found = detect_liquidity_sweeps(&s, &DetectConfig::raw());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].swept_level, Some(99.5));
    }

    #[test]
    fn dedup_gives_up_on_a_candle_whose_first_zone_overlaps() {
        let mut s = flat(40);
        set(&mut s, 8, 99.85, 99.9, 99.5, 99.85); // swing low 99.5
        set(&mut s, 20, 99.6, 99.7, 99.0, 99.6); // sweeps 99.5: zone 99.0..99.5
        set(&mut s, 24, 99.87, 99.9, 99.85, 99.87); // swing low 99.85
        // Oldest swept swing 99.5 gives 99.3..99.5, inside the accepted zone;
        // 99.85 (99.3..99.85, ratio 0.4) would pass but is not tried.
        set(&mut s, 30, 99.87, 99.88, 99.3, 99.87);
        let raw = detect_liquidity_sweeps(&s, &DetectConfig::raw());
        let levels: Vec<_> = raw.iter().map(|p| (p.detected_at, p.swept_level)).collect();
        assert_eq!(levels, vec![(20, Some(99.5)), (30, Some(99.5))]);
        let dedup = detect_liquidity_sweeps(&s, &DetectConfig::deduplicated());
        let levels: Vec<_> = dedup
            .iter()
            .map(|p| (p.detected_at, p.swept_level))
            .collect();
        assert_eq!(levels, vec![(20, Some(99.5))]);
    }

    #[test]
    fn both_directions_can_fire_on_one_candle_bullish_first() {
        let mut s = flat(30);
        set(&mut s, 8, 100.0, 101.0, 99.0, 100.0);
        set(&mut s, 20, 100.0, 101.5, 98.5, 100.0);
        let found = detect_liquidity_sweeps(&s, &DetectConfig::raw());
        let dirs: Vec<_> = found.iter().map(|p| (p.detected_at, p.direction)).collect();
        assert_eq!(
            dirs,
            vec![(20, Direction::Bullish), (20, Direction::Bearish)]
        );
        assert!(detect_liquidity_sweeps(&s[..19], &DetectConfig::raw()).is_empty());
    }
}
