//! In-memory ports for tests and benchmarks: a candle table, a book with
//! no history, and an exchange serving a fixed series.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use domain::market::{Candle, Symbol, Timeframe};

use super::ports::{BookSnapshot, BookState, CandleStore, Exchange, ExchangeError, StoreError};

type Series = BTreeMap<i64, Candle>;

/// The `candles` table in memory.
#[derive(Debug, Default)]
pub struct MemCandleStore {
    candles: Mutex<HashMap<(Symbol, Timeframe), Series>>,
    marks: Mutex<HashMap<Symbol, i64>>,
    backfills: Mutex<HashMap<(Symbol, i64), i64>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl MemCandleStore {
    /// Every stored candle of a series, ascending.
    pub fn all(&self, symbol: &Symbol, timeframe: Timeframe) -> Vec<Candle> {
        lock(&self.candles)
            .get(&(symbol.clone(), timeframe))
            .map(|s| s.values().copied().collect())
            .unwrap_or_default()
    }

    fn with<R>(&self, symbol: &Symbol, timeframe: Timeframe, f: impl FnOnce(&Series) -> R) -> R {
        let candles = lock(&self.candles);
        let empty = Series::new();
        f(candles.get(&(symbol.clone(), timeframe)).unwrap_or(&empty))
    }
}

#[async_trait]
impl CandleStore for MemCandleStore {
    async fn upsert(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        candles: &[Candle],
    ) -> Result<u64, StoreError> {
        let mut all = lock(&self.candles);
        let series = all.entry((symbol.clone(), timeframe)).or_default();
        let mut changed = 0;
        for candle in candles {
            if series.insert(candle.open_time, *candle) != Some(*candle) {
                changed += 1;
            }
        }
        Ok(changed)
    }

    async fn latest_open_time(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
    ) -> Result<Option<i64>, StoreError> {
        Ok(self.with(symbol, timeframe, |s| s.keys().next_back().copied()))
    }

    async fn range(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        from: i64,
        to: i64,
    ) -> Result<Vec<Candle>, StoreError> {
        Ok(self.with(symbol, timeframe, |s| {
            if from >= to {
                return Vec::new();
            }
            s.range(from..to).map(|(_, c)| *c).collect()
        }))
    }

    async fn after(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Candle>, StoreError> {
        Ok(self.with(symbol, timeframe, |s| {
            s.range(after.saturating_add(1)..)
                .take(limit)
                .map(|(_, c)| *c)
                .collect()
        }))
    }

    async fn tail_before(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        before: i64,
        limit: usize,
    ) -> Result<Vec<Candle>, StoreError> {
        Ok(self.with(symbol, timeframe, |s| {
            let mut tail: Vec<Candle> = s
                .range(..before)
                .rev()
                .take(limit)
                .map(|(_, c)| *c)
                .collect();
            tail.reverse();
            tail
        }))
    }

    async fn processed_through(&self, symbol: &Symbol) -> Result<Option<i64>, StoreError> {
        Ok(lock(&self.marks).get(symbol).copied())
    }

    async fn set_processed_through(
        &self,
        symbol: &Symbol,
        open_time: i64,
    ) -> Result<(), StoreError> {
        lock(&self.marks).insert(symbol.clone(), open_time);
        Ok(())
    }

    async fn backfill_position(
        &self,
        symbol: &Symbol,
        from: i64,
    ) -> Result<Option<i64>, StoreError> {
        Ok(lock(&self.backfills).get(&(symbol.clone(), from)).copied())
    }

    async fn set_backfill_position(
        &self,
        symbol: &Symbol,
        from: i64,
        next: i64,
    ) -> Result<(), StoreError> {
        lock(&self.backfills).insert((symbol.clone(), from), next);
        Ok(())
    }
}

/// A read side that lists fixed symbols and has no history: enough for a
/// pipeline that runs in one process call from an empty book.
#[derive(Debug, Default)]
pub struct FreshBook {
    pub symbols: Vec<Symbol>,
}

#[async_trait]
impl BookState for FreshBook {
    async fn listed_symbols(&self) -> Result<Vec<Symbol>, StoreError> {
        Ok(self.symbols.clone())
    }

    async fn book(&self, _symbol: &Symbol, _as_of: i64) -> Result<BookSnapshot, StoreError> {
        Ok(BookSnapshot::default())
    }
}

/// An exchange serving one fixed 1m series for every symbol, all closed.
#[derive(Debug, Default)]
pub struct FixedExchange {
    pub series: Vec<Candle>,
}

#[async_trait]
impl Exchange for FixedExchange {
    fn name(&self) -> &'static str {
        "fixed"
    }

    async fn now_ms(&self) -> Result<i64, ExchangeError> {
        Ok(self.series.last().map_or(0, |c| c.open_time + 60_000))
    }

    async fn closed_1m(
        &self,
        _symbol: &Symbol,
        start_ms: i64,
        limit: usize,
    ) -> Result<Vec<Candle>, ExchangeError> {
        let first = self.series.partition_point(|c| c.open_time < start_ms);
        Ok(self
            .series
            .iter()
            .skip(first)
            .take(limit)
            .copied()
            .collect())
    }
}
