//! The replay exchange: recorded 1m candle files served as if live, so the
//! whole pipeline runs offline (`ops/run` by default, demos, end-to-end
//! tests).
//!
//! Each recording is shifted in time so that its newest candle closes at
//! the moment the exchange is created (rounded down to the minute), minus
//! `hold_back_minutes`: those last minutes are still "to come" and appear as
//! the replay clock moves. The clock runs at `speed` times real time. When a
//! recording runs out it starts over, shifted by its own span, with prices
//! scaled by `last close / first open` per lap so the series stays
//! continuous (the first lap is served exactly as recorded).
//!
//! A symbol is served from the file named after it (`ETH_BTC-1m.csv` for
//! `ETH/BTC`); a symbol without a recording gets one of the files, chosen
//! by a stable hash of its name.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use anyhow::Context;
use async_trait::async_trait;
use commands::market::{Exchange, ExchangeError};
use domain::market::csv::parse_candles;
use domain::market::{Candle, Symbol, Timeframe};
use sha2::{Digest, Sha256};

const MINUTE: i64 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplayOptions {
    /// How many times faster than real time the replay clock runs.
    pub speed: f64,
    /// Minutes at the end of each recording not yet available at start.
    pub hold_back_minutes: i64,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            speed: 1.0,
            hold_back_minutes: 0,
        }
    }
}

/// One recording, with its time shift.
#[derive(Debug)]
struct Recording {
    candles: Vec<Candle>,
    /// Added to every recorded open time in the first lap.
    shift: i64,
    /// Length of one lap: span of the recording plus one minute.
    lap: i64,
    /// Price factor per lap.
    growth: f64,
}

impl Recording {
    fn new(candles: Vec<Candle>, end_ms: i64) -> Option<Self> {
        let first = *candles.first()?;
        let last = *candles.last()?;
        let growth = if first.open > 0.0 {
            last.close / first.open
        } else {
            1.0
        };
        Some(Self {
            shift: end_ms - (last.open_time + MINUTE),
            lap: last.open_time + MINUTE - first.open_time,
            growth: if growth.is_finite() && growth > 0.0 {
                growth
            } else {
                1.0
            },
            candles,
        })
    }

    /// Up to `limit` candles opening at or after `start` and closing at or
    /// before `now`.
    fn serve(&self, start: i64, now: i64, limit: usize) -> Vec<Candle> {
        let mut out = Vec::new();
        let Some(first) = self.candles.first() else {
            return out;
        };
        let origin = first.open_time + self.shift;
        let mut lap = if start <= origin {
            0
        } else {
            (start - origin) / self.lap
        };
        while out.len() < limit {
            let offset = self.shift + lap * self.lap;
            let factor = self.growth.powi(i32::try_from(lap).unwrap_or(i32::MAX));
            let from = self
                .candles
                .partition_point(|c| c.open_time + offset < start);
            for c in &self.candles[from..] {
                let open_time = c.open_time + offset;
                if open_time + MINUTE > now || out.len() >= limit {
                    return out;
                }
                out.push(if lap == 0 {
                    Candle { open_time, ..*c }
                } else {
                    Candle::new(
                        open_time,
                        c.open * factor,
                        c.high * factor,
                        c.low * factor,
                        c.close * factor,
                        c.volume,
                    )
                });
            }
            lap += 1;
        }
        out
    }
}

/// Where replay time comes from.
#[derive(Debug)]
enum Clock {
    /// `speed` times real time from `virtual_start` at `started`.
    Running {
        virtual_start: i64,
        started: Instant,
        speed: f64,
    },
    /// Moved only by a [`ReplayClock`] (tests step through a recording).
    Manual(Arc<AtomicI64>),
}

/// Moves the clock of a replay made with [`ReplayExchange::stepped`].
#[derive(Debug, Clone)]
pub struct ReplayClock(Arc<AtomicI64>);

impl ReplayClock {
    pub fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    pub fn advance_minutes(&self, minutes: i64) {
        self.0.fetch_add(minutes * MINUTE, Ordering::SeqCst);
    }
}

pub struct ReplayExchange {
    /// Recordings by the symbol they are named after.
    recordings: BTreeMap<Symbol, Arc<Recording>>,
    clock: Clock,
}

impl ReplayExchange {
    /// Replays `recordings` as if their newest candles closed at `now_ms`
    /// (rounded down to the minute) minus the held-back minutes.
    pub fn new(
        recordings: Vec<(Symbol, Vec<Candle>)>,
        options: ReplayOptions,
        now_ms: i64,
    ) -> anyhow::Result<Self> {
        let end = Timeframe::M1.bucket_start(now_ms);
        let mut map = BTreeMap::new();
        for (symbol, candles) in recordings {
            let recording = Recording::new(candles, end)
                .with_context(|| format!("the recording of {symbol} is empty"))?;
            map.insert(symbol, Arc::new(recording));
        }
        anyhow::ensure!(
            !map.is_empty(),
            "the replay exchange needs at least one recording"
        );
        anyhow::ensure!(
            options.speed > 0.0 && options.speed.is_finite(),
            "the replay speed must be positive"
        );
        Ok(Self {
            recordings: map,
            clock: Clock::Running {
                virtual_start: end - options.hold_back_minutes.max(0) * MINUTE,
                started: Instant::now(),
                speed: options.speed,
            },
        })
    }

    /// Like [`ReplayExchange::new`], but time stands still until the
    /// returned clock moves it.
    pub fn stepped(
        recordings: Vec<(Symbol, Vec<Candle>)>,
        hold_back_minutes: i64,
        now_ms: i64,
    ) -> anyhow::Result<(Self, ReplayClock)> {
        let options = ReplayOptions {
            speed: 1.0,
            hold_back_minutes,
        };
        let mut replay = Self::new(recordings, options, now_ms)?;
        let start = Timeframe::M1.bucket_start(now_ms) - hold_back_minutes.max(0) * MINUTE;
        let clock = Arc::new(AtomicI64::new(start));
        replay.clock = Clock::Manual(Arc::clone(&clock));
        Ok((replay, ReplayClock(clock)))
    }

    /// Reads every `*.csv` of `dir` (named `BASE_QUOTE-1m.csv` or
    /// `BASE_QUOTE.csv`).
    pub fn from_dir(dir: &Path, options: ReplayOptions, now_ms: i64) -> anyhow::Result<Self> {
        let mut recordings = Vec::new();
        let entries = std::fs::read_dir(dir).with_context(|| {
            format!(
                "cannot read the replay folder {} (CRYPTOLENS_REPLAY__DIR)",
                dir.display()
            )
        })?;
        let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        paths.sort();
        for path in paths
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        {
            let Some(symbol) = super::csv::symbol_of_file(&path) else {
                tracing::warn!(path = %path.display(), "skipping a replay file whose name is not BASE_QUOTE-1m.csv");
                continue;
            };
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let candles =
                parse_candles(&text).with_context(|| format!("parsing {}", path.display()))?;
            recordings.push((symbol, candles));
        }
        Self::new(recordings, options, now_ms)
    }

    fn recording(&self, symbol: &Symbol) -> Option<&Arc<Recording>> {
        self.recordings.get(symbol).or_else(|| {
            let digest = Sha256::digest(symbol.as_str().as_bytes());
            let n = u64::from_be_bytes([
                digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6],
                digest[7],
            ]);
            let index = usize::try_from(n % self.recordings.len() as u64).unwrap_or(0);
            self.recordings.values().nth(index)
        })
    }

    /// The replay clock.
    pub fn now(&self) -> i64 {
        match &self.clock {
            Clock::Running {
                virtual_start,
                started,
                speed,
            } => virtual_start + (started.elapsed().as_secs_f64() * 1000.0 * speed) as i64,
            Clock::Manual(now) => now.load(Ordering::SeqCst),
        }
    }

    /// The symbols that have their own recording.
    pub fn recorded_symbols(&self) -> Vec<Symbol> {
        self.recordings.keys().cloned().collect()
    }
}

#[async_trait]
impl Exchange for ReplayExchange {
    fn name(&self) -> &'static str {
        "replay"
    }

    async fn now_ms(&self) -> Result<i64, ExchangeError> {
        Ok(self.now())
    }

    async fn closed_1m(
        &self,
        symbol: &Symbol,
        start_ms: i64,
        limit: usize,
    ) -> Result<Vec<Candle>, ExchangeError> {
        let recording = self
            .recording(symbol)
            .ok_or_else(|| ExchangeError::UnknownSymbol(symbol.to_string()))?;
        Ok(recording.serve(start_ms, self.now(), limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: i64) -> Vec<Candle> {
        (0..n)
            .map(|i| {
                Candle::new(
                    1_000 * MINUTE + i * MINUTE,
                    10.0 + i as f64,
                    11.0 + i as f64,
                    9.0 + i as f64,
                    10.5 + i as f64,
                    1.0,
                )
            })
            .collect()
    }

    #[tokio::test]
    async fn the_newest_candle_closes_now_and_held_back_minutes_come_later() {
        let now = 50_000 * MINUTE + 30_000;
        let symbol = Symbol::parse("ETH/BTC").unwrap();
        let replay = ReplayExchange::new(
            vec![(symbol.clone(), series(100))],
            ReplayOptions {
                speed: 1.0,
                hold_back_minutes: 10,
            },
            now,
        )
        .unwrap();
        let served = replay.closed_1m(&symbol, 0, 1000).await.unwrap();
        assert_eq!(served.len(), 90);
        assert_eq!(served[0].open, 10.0, "the first lap is served as recorded");
        assert_eq!(
            served.last().unwrap().open_time + MINUTE,
            50_000 * MINUTE - 10 * MINUTE
        );
        // Any symbol is served; an unrecorded one from one of the files.
        assert_eq!(
            replay
                .closed_1m(&Symbol::parse("BTC/USDT").unwrap(), 0, 5)
                .await
                .unwrap()
                .len(),
            5
        );
    }

    #[test]
    fn after_the_end_the_recording_starts_over_continuously() {
        let recording = Recording::new(series(100), 200 * MINUTE).unwrap();
        let served = recording.serve(0, 400 * MINUTE, 1000);
        assert_eq!(served.len(), 300);
        assert!(
            served
                .windows(2)
                .all(|w| w[1].open_time == w[0].open_time + MINUTE)
        );
        let factor = 109.5 / 10.0;
        assert_eq!(served[100].open, 10.0 * factor);
        assert_eq!(served[100].open_time, 200 * MINUTE);
        let paged = recording.serve(served[150].open_time, 400 * MINUTE, 3);
        assert_eq!(paged, served[150..153].to_vec());
    }
}
