//! Property tests: aggregation is associative across timeframes and keeps
//! OHLC invariants; late-candle re-aggregation equals a full rebuild; the
//! detectors only ever report well-formed, ordered patterns.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use domain::market::{
    Candle, DetectConfig, PatternType, Timeframe, aggregate, detect, levels_as_of_detection,
    reaggregate_touched, validate_series, zone_is_large_enough,
};
use proptest::prelude::*;

/// 2018-01-20 00:00 UTC, aligned to every timeframe.
const START: i64 = 1_516_406_400_000;

/// One generated 1m step: minutes skipped before it, price move, wicks, volume.
type Step = (u8, f64, f64, f64, f64, f64);

fn step() -> impl Strategy<Value = Step> {
    (
        prop_oneof![8 => Just(0u8), 2 => 1u8..5, 1 => 5u8..200],
        -0.01f64..0.01,
        0.0f64..0.004,
        0.0f64..0.004,
        0.0f64..1.0,
        prop_oneof![1 => Just(0.0), 4 => 0.0f64..1000.0],
    )
}

/// A valid ascending 1m series (gaps included) built as a random walk.
fn one_minute_series(max_len: usize) -> impl Strategy<Value = Vec<Candle>> {
    (
        0i64..2000,
        0.001f64..100.0,
        prop::collection::vec(step(), 0..max_len),
    )
        .prop_map(|(offset, first_price, steps)| {
            let mut time = START + offset * 60_000;
            let mut price = first_price;
            let mut candles = Vec::with_capacity(steps.len());
            for (gap, ret, up, down, body_share, volume) in steps {
                time += i64::from(gap) * 60_000;
                let open = price;
                let close = open * (1.0 + ret * body_share);
                let high = open.max(close) * (1.0 + up);
                let low = open.min(close) * (1.0 - down);
                candles.push(Candle::new(time, open, high, low, close, volume));
                price = close;
                time += 60_000;
            }
            candles
        })
}

fn assert_same_candles(a: &[Candle], b: &[Candle]) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        prop_assert_eq!(x.open_time, y.open_time);
        prop_assert_eq!(
            (x.open, x.high, x.low, x.close),
            (y.open, y.high, y.low, y.close)
        );
        prop_assert!((x.volume - y.volume).abs() <= 1e-9 * y.volume.max(1.0));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn fifteen_minutes_from_one_minute_equals_from_five_minutes(ones in one_minute_series(600)) {
        let direct = aggregate(&ones, Timeframe::M15).unwrap();
        let via_five = aggregate(&aggregate(&ones, Timeframe::M5).unwrap(), Timeframe::M15).unwrap();
        assert_same_candles(&direct, &via_five)?;
    }

    #[test]
    fn one_hour_from_one_minute_equals_from_fifteen_minutes(ones in one_minute_series(1500)) {
        let direct = aggregate(&ones, Timeframe::H1).unwrap();
        let via_fifteen = aggregate(&aggregate(&ones, Timeframe::M15).unwrap(), Timeframe::H1).unwrap();
        assert_same_candles(&direct, &via_fifteen)?;
    }

    #[test]
    fn aggregated_candles_keep_ohlc_invariants(ones in one_minute_series(800)) {
        prop_assert_eq!(validate_series(&ones, Timeframe::M1), Ok(()));
        for tf in Timeframe::AGGREGATED {
            let candles = aggregate(&ones, tf).unwrap();
            prop_assert_eq!(validate_series(&candles, tf), Ok(()));
            let mut buckets: Vec<i64> = ones.iter().map(|c| tf.bucket_start(c.open_time)).collect();
            buckets.dedup();
            prop_assert_eq!(candles.iter().map(|c| c.open_time).collect::<Vec<_>>(), buckets);
            for candle in &candles {
                let members: Vec<&Candle> = ones
                    .iter()
                    .filter(|c| tf.bucket_start(c.open_time) == candle.open_time)
                    .collect();
                prop_assert_eq!(candle.open, members[0].open);
                prop_assert_eq!(candle.close, members[members.len() - 1].close);
                prop_assert!(members.iter().all(|c| c.high <= candle.high && c.low >= candle.low));
                prop_assert!(members.iter().any(|c| c.high == candle.high));
                prop_assert!(members.iter().any(|c| c.low == candle.low));
            }
        }
    }

    #[test]
    fn late_candles_rebuild_the_same_buckets_as_a_full_aggregation(
        ones in one_minute_series(400),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let late: Vec<Candle> = if ones.is_empty() {
            Vec::new()
        } else {
            picks.iter().map(|p| ones[p.index(ones.len())]).collect()
        };
        for tf in [Timeframe::M5, Timeframe::H1, Timeframe::D1] {
            let full = aggregate(&ones, tf).unwrap();
            let rebuilt = reaggregate_touched(&ones, &late, tf).unwrap();
            let mut touched: Vec<i64> = late.iter().map(|c| tf.bucket_start(c.open_time)).collect();
            touched.sort_unstable();
            touched.dedup();
            let expected: Vec<Candle> =
                full.into_iter().filter(|c| touched.contains(&c.open_time)).collect();
            prop_assert_eq!(rebuilt, expected);
        }
    }

    #[test]
    fn detectors_report_well_formed_patterns_in_order(
        ones in one_minute_series(1500),
        min_zone_pct in prop_oneof![Just(0.15), 0.0f64..0.5],
    ) {
        for candles in [ones.clone(), aggregate(&ones, Timeframe::M5).unwrap()] {
            for base in [DetectConfig::raw(), DetectConfig::deduplicated()] {
                let config = DetectConfig { min_zone_pct, ..base };
                for pattern_type in PatternType::ALL {
                    let found = detect(&candles, pattern_type, &config);
                    for p in &found {
                        prop_assert!(p.zone_low < p.zone_high, "zone_low > zone_high: {:?}", p);
                        prop_assert!(zone_is_large_enough(p.zone_low, p.zone_high, min_zone_pct));
                        prop_assert_eq!(p.pattern_type, pattern_type);
                        prop_assert_eq!(p.detected_ts, candles[p.detected_at].open_time);
                        prop_assert_eq!(p.swept_level.is_some(), pattern_type == PatternType::LiquiditySweep);
                        prop_assert!(levels_as_of_detection(&candles, p).is_ok());
                    }
                    prop_assert!(found.windows(2).all(|w| w[0].detected_at <= w[1].detected_at));
                }
            }
        }
    }

    #[test]
    fn deduplicated_output_is_a_subset_of_raw_for_gaps_and_sweep_candles(ones in one_minute_series(1500)) {
        for pattern_type in [PatternType::Imbalance, PatternType::LiquiditySweep] {
            let raw = detect(&ones, pattern_type, &DetectConfig::raw());
            let dedup = detect(&ones, pattern_type, &DetectConfig::deduplicated());
            prop_assert!(dedup.len() <= raw.len());
            prop_assert!(dedup.iter().all(|d| raw.contains(d)));
        }
    }
}
