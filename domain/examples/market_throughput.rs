//! Times aggregation and detection on a seeded 1.37M-candle 1m random walk
//! (about 2.6 years of minutes). Run with
//! `cargo run --release --example throughput`. Prints timings, not a verdict.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use domain::market::{
    Candle, DetectConfig, PatternType, Timeframe, aggregate, detect, levels_as_of_detection,
};

const CANDLES: usize = 1_370_000;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn random_walk(n: usize, seed: u64) -> Vec<Candle> {
    let mut rng = Rng(seed);
    let mut price = 0.09;
    let start = 1_516_406_400_000i64;
    (0..n)
        .map(|i| {
            let open = price;
            let close = open * (1.0 + (rng.next_f64() - 0.5) * 0.004);
            let high = open.max(close) * (1.0 + rng.next_f64() * 0.0015);
            let low = open.min(close) * (1.0 - rng.next_f64() * 0.0015);
            price = close;
            Candle::new(
                start + i as i64 * 60_000,
                open,
                high,
                low,
                close,
                rng.next_f64() * 100.0,
            )
        })
        .collect()
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let value = f();
        best = best.min(t.elapsed());
        out = Some(value);
    }
    (best, out.unwrap())
}

fn main() {
    let ones = random_walk(CANDLES, 0x5eed_c0ff_ee15_2024);
    let (agg_time, aggregated) = best_of(3, || {
        Timeframe::AGGREGATED.map(|tf| (tf, aggregate(&ones, tf).unwrap()))
    });
    let mut series = vec![(Timeframe::M1, ones.clone())];
    series.extend(aggregated);
    let total: usize = series.iter().map(|(_, s)| s.len()).sum();
    println!("{CANDLES} 1m candles; {total} candles over 8 timeframes");
    println!(
        "aggregation to 7 timeframes: {:.1} ms ({:.1} M 1m candles/s)",
        agg_time.as_secs_f64() * 1e3,
        CANDLES as f64 / agg_time.as_secs_f64() / 1e6
    );

    for (label, config) in [
        ("raw", DetectConfig::raw()),
        ("in-memory de-dup", DetectConfig::deduplicated()),
    ] {
        let mut per_type = Vec::new();
        let mut overall = Duration::ZERO;
        let mut found = 0;
        for pattern_type in PatternType::ALL {
            let (time, count) = best_of(3, || {
                series
                    .iter()
                    .map(|(_, s)| detect(s, pattern_type, &config).len())
                    .sum::<usize>()
            });
            overall += time;
            found += count;
            per_type.push(format!(
                "{} {:.1} ms ({count})",
                pattern_type.as_str(),
                time.as_secs_f64() * 1e3
            ));
        }
        println!(
            "detect, {label}, 3 detectors x 8 timeframes: {:.1} ms, {found} patterns, {:.1} M candles/s \
             ({:.1} M 1m candles/s) [{}]",
            overall.as_secs_f64() * 1e3,
            (total * 3) as f64 / overall.as_secs_f64() / 1e6,
            CANDLES as f64 / overall.as_secs_f64() / 1e6,
            per_type.join(", ")
        );
    }

    let raw: Vec<_> = series
        .iter()
        .flat_map(|(tf, s)| PatternType::ALL.map(|t| (*tf, s, detect(s, t, &DetectConfig::raw()))))
        .collect();
    let (levels_time, computed) = best_of(3, || {
        raw.iter()
            .map(|(_, s, found)| {
                found
                    .iter()
                    .filter(|p| levels_as_of_detection(s, p).is_ok())
                    .count()
            })
            .sum::<usize>()
    });
    println!(
        "levels as of detection for {computed} raw patterns: {:.1} ms",
        levels_time.as_secs_f64() * 1e3
    );
}
