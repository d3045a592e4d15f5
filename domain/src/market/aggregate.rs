//! Building higher-timeframe candles from 1m candles (ALGORITHMS §1.2, §1.3).
//!
//! Buckets are epoch-aligned (`floor(ts / tf_ms) * tf_ms`); a bucket's candle
//! takes the first open, the highest high, the lowest low, the last close and
//! the volume summed with pandas' Kahan-compensated group sum in time order
//! (bit-identical to the original aggregator). Empty buckets produce nothing
//! and partial buckets produce a full-looking candle, exactly like the
//! original (bug 17 keeps partial buckets; what the live pipeline stores is
//! its own decision). Pure functions over slices; no I/O.

use super::candle::{Candle, SeriesError, check_ascending};
use super::timeframe::Timeframe;

/// Running OHLCV of one bucket, fed candles in time order.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    start: i64,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
    compensation: f64,
}

impl Bucket {
    fn new(start: i64, first: &Candle) -> Self {
        let mut bucket = Bucket {
            start,
            open: first.open,
            high: first.high,
            low: first.low,
            close: first.close,
            volume: 0.0,
            compensation: 0.0,
        };
        bucket.add_volume(first.volume);
        bucket
    }

    fn push(&mut self, candle: &Candle) {
        if candle.high > self.high {
            self.high = candle.high;
        }
        if candle.low < self.low {
            self.low = candle.low;
        }
        self.close = candle.close;
        self.add_volume(candle.volume);
    }

    /// pandas' compensated group sum: `y = v - c; t = s + y; c = (t - s) - y; s = t`.
    fn add_volume(&mut self, v: f64) {
        let y = v - self.compensation;
        let t = self.volume + y;
        self.compensation = (t - self.volume) - y;
        self.volume = t;
    }

    fn finish(&self) -> Candle {
        Candle::new(
            self.start,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
        )
    }
}

/// Aggregates an ascending series (normally 1m candles) into `target` candles:
/// one candle per non-empty epoch-aligned bucket, in time order.
///
/// Fails if open times do not strictly ascend.
pub fn aggregate(candles: &[Candle], target: Timeframe) -> Result<Vec<Candle>, SeriesError> {
    check_ascending(candles)?;
    Ok(aggregate_sorted(candles, target))
}

/// [`aggregate`] for input already known to ascend.
fn aggregate_sorted(candles: &[Candle], target: Timeframe) -> Vec<Candle> {
    let mut out = Vec::with_capacity(estimated_len(candles, target));
    let mut current: Option<Bucket> = None;
    for candle in candles {
        let start = target.bucket_start(candle.open_time);
        match current.as_mut() {
            Some(bucket) if bucket.start == start => bucket.push(candle),
            _ => {
                if let Some(done) = current.replace(Bucket::new(start, candle)) {
                    out.push(done.finish());
                }
            }
        }
    }
    if let Some(done) = current {
        out.push(done.finish());
    }
    out
}

fn estimated_len(candles: &[Candle], target: Timeframe) -> usize {
    match (candles.first(), candles.last()) {
        (Some(first), Some(last)) => {
            let span = last.open_time.saturating_sub(first.open_time) / target.duration_ms();
            usize::try_from(span.saturating_add(2))
                .unwrap_or(0)
                .min(candles.len())
        }
        _ => 0,
    }
}

/// Recomputes only the `target` buckets touched by `late` 1m candles.
///
/// `full` is the complete ascending 1m series *after* the late candles were
/// merged into it. Returns one candle per distinct touched bucket that has
/// data in `full`, ascending; each equals the candle [`aggregate`] would build
/// for that bucket from `full`. This is the fix for bug 17 (the original
/// never corrected a stored higher-timeframe candle). Cost is
/// O(k log n + candles in the touched buckets). Fails if the candles of a
/// touched bucket do not strictly ascend.
pub fn reaggregate_touched(
    full: &[Candle],
    late: &[Candle],
    target: Timeframe,
) -> Result<Vec<Candle>, SeriesError> {
    let mut starts: Vec<i64> = late
        .iter()
        .map(|c| target.bucket_start(c.open_time))
        .collect();
    starts.sort_unstable();
    starts.dedup();

    let mut out = Vec::with_capacity(starts.len());
    for start in starts {
        let end = start.saturating_add(target.duration_ms());
        let from = full.partition_point(|c| c.open_time < start);
        let to = from + full[from..].partition_point(|c| c.open_time < end);
        let slice = &full[from..to];
        check_ascending(slice).map_err(|err| match err {
            SeriesError::NotAscending { index } => SeriesError::NotAscending {
                index: from + index,
            },
            other => other,
        })?;
        out.extend(aggregate_sorted(slice, target));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 1_516_406_400_000; // 2018-01-20 00:00 UTC

    fn minute(offset: i64, open: f64, high: f64, low: f64, close: f64, volume: f64) -> Candle {
        Candle::new(DAY + offset * 60_000, open, high, low, close, volume)
    }

    #[test]
    fn a_bucket_takes_first_open_extremes_last_close_and_summed_volume() {
        let ones = [
            minute(0, 10.0, 11.0, 9.5, 10.5, 1.0),
            minute(1, 10.5, 12.0, 10.0, 11.0, 2.0),
            minute(4, 11.0, 11.5, 9.0, 9.5, 0.5),
            minute(5, 9.5, 9.8, 9.4, 9.6, 4.0),
        ];
        let fives = aggregate(&ones, Timeframe::M5).unwrap_or_default();
        assert_eq!(
            fives,
            vec![
                Candle::new(DAY, 10.0, 12.0, 9.0, 9.5, 3.5),
                Candle::new(DAY + 300_000, 9.5, 9.8, 9.4, 9.6, 4.0),
            ]
        );
    }

    #[test]
    fn empty_buckets_are_dropped_and_partial_ones_kept() {
        let ones = [
            minute(3, 1.0, 2.0, 0.5, 1.5, 1.0),
            minute(31, 1.5, 1.6, 1.4, 1.45, 1.0),
        ];
        let fifteens = aggregate(&ones, Timeframe::M15).unwrap_or_default();
        let starts: Vec<i64> = fifteens.iter().map(|c| c.open_time).collect();
        assert_eq!(starts, vec![DAY, DAY + 30 * 60_000]);
        assert_eq!(fifteens[0], Candle::new(DAY, 1.0, 2.0, 0.5, 1.5, 1.0));
    }

    #[test]
    fn volume_uses_the_compensated_sum() {
        // A plain running sum gives 0.6000000000000001 here; Kahan gives 0.6.
        let ones = [
            minute(0, 1.0, 1.0, 1.0, 1.0, 0.1),
            minute(1, 1.0, 1.0, 1.0, 1.0, 0.2),
            minute(2, 1.0, 1.0, 1.0, 1.0, 0.3),
        ];
        let plain = 0.1 + 0.2 + 0.3;
        let fives = aggregate(&ones, Timeframe::M5).unwrap_or_default();
        assert_ne!(plain, 0.6);
        assert_eq!(fives[0].volume, 0.6);
    }

    #[test]
    fn unsorted_input_is_rejected() {
        let ones = [
            minute(1, 1.0, 1.0, 1.0, 1.0, 1.0),
            minute(0, 1.0, 1.0, 1.0, 1.0, 1.0),
        ];
        assert_eq!(
            aggregate(&ones, Timeframe::M5),
            Err(SeriesError::NotAscending { index: 1 })
        );
        assert_eq!(aggregate(&[], Timeframe::M5), Ok(vec![]));
    }

    #[test]
    fn late_candles_rebuild_exactly_their_buckets() {
        let mut full: Vec<Candle> = (0..40)
            .map(|m| {
                minute(
                    m,
                    10.0 + m as f64,
                    11.0 + m as f64,
                    9.0 + m as f64,
                    10.5 + m as f64,
                    1.0,
                )
            })
            .collect();
        let late = [full.remove(7), full.remove(22)]; // minutes 7 and 23
        let before = aggregate(&full, Timeframe::M15).unwrap_or_default();
        full.extend(late);
        full.sort_by_key(|c| c.open_time);
        let after = aggregate(&full, Timeframe::M15).unwrap_or_default();

        let rebuilt = reaggregate_touched(&full, &late, Timeframe::M15).unwrap_or_default();
        assert_eq!(rebuilt, vec![after[0], after[1]]);
        assert_ne!(before[0], after[0]);
        assert_eq!(before[2], after[2]);
    }

    #[test]
    fn late_candles_missing_from_the_full_series_touch_nothing() {
        let late = [minute(7, 1.0, 1.0, 1.0, 1.0, 1.0)];
        assert_eq!(reaggregate_touched(&[], &late, Timeframe::H1), Ok(vec![]));
    }
}
