//! Indicators feeding the trading levels (ALGORITHMS §7.1, §11).
//!
//! The 14-candle ATR is the simple mean of true ranges, summed in numpy's
//! pairwise order as pandas' `mean` does. The trading swing high/low search
//! the 50 candles before `start` and return the MOST EXTREME strict 5-candle
//! local extreme (quirk 12: the original documents it as "nearest"), or the
//! extreme of the whole slice when there is none. This is a different swing
//! definition from the liquidity-sweep detector's.

use super::candle::Candle;

/// Candles in the ATR.
pub const ATR_PERIOD: usize = 14;
/// Candles before `start` searched by the trading swing functions.
pub const SWING_SEARCH_LOOKBACK: usize = 50;

/// Average true range of the last 14 candles of `series`; 0.0 if shorter.
///
/// `TR = max(high - low, |high - prev_close|, |low - prev_close|)`, and
/// `high - low` for the series' first candle. The 14 values are summed as
/// numpy does (`((t0+t1)+(t2+t3))+((t4+t5)+(t6+t7))`, then t8..t13 one by
/// one) and divided by 14.
pub fn atr(series: &[Candle]) -> f64 {
    let n = series.len();
    if n < ATR_PERIOD {
        return 0.0;
    }
    let mut tr = [0.0; ATR_PERIOD];
    for (slot, g) in tr.iter_mut().zip(n - ATR_PERIOD..n) {
        let candle = &series[g];
        let range = candle.high - candle.low;
        *slot = match g.checked_sub(1) {
            None => range,
            Some(prev) => {
                let prev_close = series[prev].close;
                range
                    .max((candle.high - prev_close).abs())
                    .max((candle.low - prev_close).abs())
            }
        };
    }
    let mut sum = ((tr[0] + tr[1]) + (tr[2] + tr[3])) + ((tr[4] + tr[5]) + (tr[6] + tr[7]));
    for value in &tr[8..] {
        sum += value;
    }
    sum / ATR_PERIOD as f64
}

/// `find_swing_high(series, start)`: among candles `max(0, start-50)..start`
/// (excluding `start`), the maximum high that is strictly above the two highs
/// on each side; if there is none, the maximum high of those candles; `None`
/// if there are no candles before `start`.
pub fn find_swing_high(series: &[Candle], start: usize) -> Option<f64> {
    find_swing(series, start, |c| c.high, |a, b| a > b)
}

/// `find_swing_low(series, start)`: the mirror of [`find_swing_high`] with
/// lows and the minimum.
pub fn find_swing_low(series: &[Candle], start: usize) -> Option<f64> {
    find_swing(series, start, |c| c.low, |a, b| a < b)
}

fn find_swing(
    series: &[Candle],
    start: usize,
    price: impl Fn(&Candle) -> f64,
    beyond: impl Fn(f64, f64) -> bool,
) -> Option<f64> {
    let end = start.min(series.len());
    let slice = &series[start.saturating_sub(SWING_SEARCH_LOOKBACK).min(end)..end];
    let extreme = |acc: Option<f64>, v: f64| match acc {
        Some(best) if !beyond(v, best) => Some(best),
        _ => Some(v),
    };
    let local = slice
        .windows(5)
        .map(|w| {
            [
                price(&w[0]),
                price(&w[1]),
                price(&w[2]),
                price(&w[3]),
                price(&w[4]),
            ]
        })
        .filter(|v| {
            beyond(v[2], v[0]) && beyond(v[2], v[1]) && beyond(v[2], v[3]) && beyond(v[2], v[4])
        })
        .map(|v| v[2])
        .fold(None, extreme);
    local.or_else(|| slice.iter().map(&price).fold(None, extreme))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candle(i: i64, high: f64, low: f64, close: f64) -> Candle {
        Candle::new(i * 60_000, low, high, low, close, 1.0)
    }

    #[test]
    fn atr_is_zero_below_fourteen_candles_and_uses_prev_close() {
        let flat: Vec<Candle> = (0..13).map(|i| candle(i, 11.0, 10.0, 10.5)).collect();
        assert_eq!(atr(&flat), 0.0);
        let mut s: Vec<Candle> = (0..14).map(|i| candle(i, 11.0, 10.0, 10.5)).collect();
        assert_eq!(atr(&s), 1.0); // first TR is high - low, others 1.0 too
        s.push(candle(14, 14.0, 13.5, 13.8)); // gap up: TR = 14 - 10.5 = 3.5
        assert_eq!(atr(&s), (13.0 + 3.5) / 14.0);
    }

    #[test]
    fn trading_swing_is_the_most_extreme_local_high_before_start() {
        let highs = [1.0, 2.0, 5.0, 2.0, 1.0, 3.0, 4.0, 3.0, 1.0, 0.5, 9.0];
        let s: Vec<Candle> = highs
            .iter()
            .enumerate()
            .map(|(i, &h)| candle(i as i64, h, 0.1, 0.2))
            .collect();
        assert_eq!(find_swing_high(&s, 10), Some(5.0)); // local highs 5.0 and 4.0; 9.0 excluded
        assert_eq!(find_swing_high(&s, 4), Some(5.0)); // no local high: max of slice
        assert_eq!(find_swing_high(&s, 0), None);
        assert_eq!(find_swing_low(&s, 10), Some(0.1));
    }
}
