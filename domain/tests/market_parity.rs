//! Differential tests against the ORIGINAL CryptoLens outputs shipped in
//! `data/reference/` (copied from the shared data set) (ALGORITHMS §12): aggregation of every file to
//! the seven higher timeframes, the three detectors in both modes on all
//! eight timeframes, and the trading levels as of each detection candle.
//! Zone bounds and levels are compared bit for bit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use domain::market::{
    Candle, DetectConfig, Direction, Pattern, PatternType, Timeframe, TradingLevels, aggregate,
    detect, levels_as_of_detection, validate_series,
};
use serde::Deserialize;

/// Root of the shared test data (`candles/` and `reference/`).
const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data");

const FILES: [&str; 4] = ["ETH_BTC-1m", "XLM_BTC-1m", "UNITTEST_BTC-1m", "XRP_ETH-1m"];

#[derive(Debug, Deserialize)]
struct ReferenceFile {
    n_candles: usize,
    first_ts: i64,
    last_ts: i64,
    detectors: BTreeMap<String, ReferenceModes>,
}

#[derive(Debug, Deserialize)]
struct ReferenceModes {
    skip_overlap_true: Vec<ReferencePattern>,
    skip_overlap_false: Vec<ReferencePattern>,
}

#[derive(Debug, Deserialize)]
struct ReferencePattern {
    pattern_type: PatternType,
    direction: Direction,
    zone_high: f64,
    zone_low: f64,
    detected_at: usize,
    detected_ts: i64,
    #[serde(default)]
    swept_level: Option<f64>,
    #[serde(default)]
    levels_as_of_detection: Option<TradingLevels>,
}

impl ReferencePattern {
    fn pattern(&self) -> Pattern {
        Pattern {
            pattern_type: self.pattern_type,
            direction: self.direction,
            zone_high: self.zone_high,
            zone_low: self.zone_low,
            detected_at: self.detected_at,
            detected_ts: self.detected_ts,
            swept_level: self.swept_level,
        }
    }
}

fn data(path: impl AsRef<Path>) -> PathBuf {
    Path::new(DATA_DIR).join(path)
}

fn read_csv(path: &Path) -> Vec<Candle> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 6, "{}: bad line {line}", path.display());
            let num = |i: usize| {
                f[i].parse::<f64>()
                    .unwrap_or_else(|e| panic!("{line}: {e}"))
            };
            Candle::new(
                f[0].parse().unwrap(),
                num(1),
                num(2),
                num(3),
                num(4),
                num(5),
            )
        })
        .collect()
}

fn one_minute(file: &str) -> Vec<Candle> {
    read_csv(&data(format!("candles/{file}.csv")))
}

fn reference_candles(file: &str, tf: Timeframe) -> Vec<Candle> {
    read_csv(&data(format!("reference/{file}/candles_{tf}.csv")))
}

fn reference_patterns(file: &str, tf: Timeframe) -> ReferenceFile {
    let path = data(format!("reference/{file}/patterns_{tf}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The series the original detectors saw for `tf`.
fn series(file: &str, tf: Timeframe) -> Vec<Candle> {
    match tf {
        Timeframe::M1 => one_minute(file),
        _ => reference_candles(file, tf),
    }
}

fn same_bits(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits()
}

fn same_pattern(ours: &Pattern, theirs: &Pattern) -> bool {
    ours.pattern_type == theirs.pattern_type
        && ours.direction == theirs.direction
        && same_bits(ours.zone_high, theirs.zone_high)
        && same_bits(ours.zone_low, theirs.zone_low)
        && ours.detected_at == theirs.detected_at
        && ours.detected_ts == theirs.detected_ts
        && match (ours.swept_level, theirs.swept_level) {
            (Some(a), Some(b)) => same_bits(a, b),
            (None, None) => true,
            _ => false,
        }
}

fn same_levels(a: &TradingLevels, b: &TradingLevels) -> bool {
    let opt = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) => same_bits(x, y),
        (None, None) => true,
        _ => false,
    };
    same_bits(a.atr, b.atr)
        && opt(a.swing_high, b.swing_high)
        && opt(a.swing_low, b.swing_low)
        && [
            (a.entry, b.entry),
            (a.stop_loss, b.stop_loss),
            (a.take_profit_1, b.take_profit_1),
            (a.take_profit_2, b.take_profit_2),
            (a.take_profit_3, b.take_profit_3),
            (a.risk, b.risk),
            (a.risk_reward_1, b.risk_reward_1),
            (a.risk_reward_2, b.risk_reward_2),
            (a.risk_reward_3, b.risk_reward_3),
        ]
        .iter()
        .all(|&(x, y)| same_bits(x, y))
}

/// Describes the first difference between two record lists, if any.
fn first_difference<T: Debug>(
    ours: &[T],
    theirs: &[T],
    same: impl Fn(&T, &T) -> bool,
) -> Option<String> {
    if let Some(i) = ours.iter().zip(theirs).position(|(a, b)| !same(a, b)) {
        return Some(format!(
            "record {i} differs:\n  ours:   {:?}\n  theirs: {:?}",
            ours[i], theirs[i]
        ));
    }
    (ours.len() != theirs.len()).then(|| {
        let i = ours.len().min(theirs.len());
        format!(
            "counts differ (ours {}, theirs {}); first extra: ours {:?} / theirs {:?}",
            ours.len(),
            theirs.len(),
            ours.get(i),
            theirs.get(i)
        )
    })
}

#[test]
fn aggregation_reproduces_the_original_aggregator() {
    let mut failures = Vec::new();
    let (mut candles, mut volume_bit_exact) = (0usize, 0usize);
    for file in FILES {
        let ones = one_minute(file);
        validate_series(&ones, Timeframe::M1).unwrap_or_else(|e| panic!("{file}: {e}"));
        for tf in Timeframe::AGGREGATED {
            let ours = aggregate(&ones, tf).unwrap();
            let theirs = reference_candles(file, tf);
            validate_series(&ours, tf).unwrap_or_else(|e| panic!("{file} {tf}: {e}"));
            let same = |a: &Candle, b: &Candle| {
                a.open_time == b.open_time
                    && [
                        (a.open, b.open),
                        (a.high, b.high),
                        (a.low, b.low),
                        (a.close, b.close),
                    ]
                    .iter()
                    .all(|&(x, y)| same_bits(x, y))
                    && ((a.volume - b.volume).abs() <= 1e-9 * b.volume.abs().max(f64::MIN_POSITIVE))
            };
            if let Some(diff) = first_difference(&ours, &theirs, same) {
                failures.push(format!("{file} {tf}: {diff}"));
            }
            candles += theirs.len();
            volume_bit_exact += ours
                .iter()
                .zip(&theirs)
                .filter(|(a, b)| same_bits(a.volume, b.volume))
                .count();
        }
    }
    println!(
        "aggregation: {} files x 7 timeframes, {candles} candles compared, {volume_bit_exact} volumes bit-exact",
        FILES.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        volume_bit_exact, candles,
        "some volumes are only within tolerance"
    );
}

#[test]
fn detectors_reproduce_the_original_in_both_modes() {
    let mut failures = Vec::new();
    let mut compared: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for file in FILES {
        for tf in Timeframe::ALL {
            let candles = series(file, tf);
            let reference = reference_patterns(file, tf);
            assert_eq!(
                reference.n_candles,
                candles.len(),
                "{file} {tf}: series length"
            );
            assert_eq!(
                Some(reference.first_ts),
                candles.first().map(|c| c.open_time)
            );
            assert_eq!(Some(reference.last_ts), candles.last().map(|c| c.open_time));
            for pattern_type in PatternType::ALL {
                let modes = reference
                    .detectors
                    .get(pattern_type.as_str())
                    .unwrap_or_else(|| panic!("{file} {tf}: no {}", pattern_type.as_str()));
                for (mode, config, records) in [
                    ("raw", DetectConfig::raw(), &modes.skip_overlap_true),
                    (
                        "dedup",
                        DetectConfig::deduplicated(),
                        &modes.skip_overlap_false,
                    ),
                ] {
                    let ours = detect(&candles, pattern_type, &config);
                    let theirs: Vec<Pattern> =
                        records.iter().map(ReferencePattern::pattern).collect();
                    if let Some(diff) = first_difference(&ours, &theirs, same_pattern) {
                        failures.push(format!(
                            "{file} {tf} {} {mode}: {diff}",
                            pattern_type.as_str()
                        ));
                    }
                    *compared.entry((pattern_type.as_str(), mode)).or_default() += theirs.len();
                }
            }
        }
    }
    println!(
        "detectors: {} files x 8 timeframes; reference patterns compared: {compared:?}",
        FILES.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn levels_as_of_detection_reproduce_the_original() {
    let mut failures = Vec::new();
    let mut compared = 0usize;
    for file in FILES {
        for tf in Timeframe::ALL {
            let candles = series(file, tf);
            let reference = reference_patterns(file, tf);
            for (name, modes) in &reference.detectors {
                let mut first_failure = None;
                for record in &modes.skip_overlap_true {
                    let theirs = record
                        .levels_as_of_detection
                        .unwrap_or_else(|| panic!("{file} {tf} {name}: raw record without levels"));
                    let ours = levels_as_of_detection(&candles, &record.pattern()).unwrap();
                    compared += 1;
                    if first_failure.is_none() && !same_levels(&ours, &theirs) {
                        first_failure = Some(format!(
                            "{file} {tf} {name} at {}:\n  ours:   {ours:?}\n  theirs: {theirs:?}",
                            record.detected_at
                        ));
                    }
                }
                failures.extend(first_failure);
            }
        }
    }
    println!("levels: {compared} level sets compared");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
