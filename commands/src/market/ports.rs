//! What the market use cases need from the outside world: an exchange to
//! fetch closed 1m candles from, a candle table, and the read side's view
//! of the pattern book.

use std::time::Duration;

use async_trait::async_trait;
use domain::market::tracker::{TrackedPattern, TrackedSignal};
use domain::market::{Candle, Direction, Symbol, Timeframe};

/// Failures of storage ports (PostgreSQL in production).
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// How many candles one exchange request returns at most.
pub const PAGE_SIZE: usize = 1000;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExchangeError {
    #[error("the exchange does not know the symbol {0}")]
    UnknownSymbol(String),
    #[error("rate limited by the exchange (retry after {retry_after:?})")]
    RateLimited { retry_after: Option<Duration> },
    #[error("the exchange circuit breaker is open; not calling it for now")]
    CircuitOpen,
    #[error("the exchange is unavailable: {0}")]
    Unavailable(String),
    #[error("the exchange sent a malformed answer: {0}")]
    Malformed(String),
}

/// A source of 1m candles (Binance, a replay of recorded files, a CSV file).
#[async_trait]
pub trait Exchange: Send + Sync {
    /// A short name for logs and job reports (`binance`, `replay`, `csv`).
    fn name(&self) -> &'static str;

    /// The exchange's current time in epoch ms (the replay's runs at its
    /// own speed).
    async fn now_ms(&self) -> Result<i64, ExchangeError>;

    /// Up to `limit` (at most [`PAGE_SIZE`]) **closed** 1m candles opening
    /// at or after `start_ms`, ascending. Fewer than `limit` means there is
    /// nothing more yet. Candles are not validated here.
    async fn closed_1m(
        &self,
        symbol: &Symbol,
        start_ms: i64,
        limit: usize,
    ) -> Result<Vec<Candle>, ExchangeError>;
}

/// The plain `candles` table (candles are facts, not events).
#[async_trait]
pub trait CandleStore: Send + Sync {
    /// Inserts or updates `candles` (already validated, closed) in bulk;
    /// returns how many rows were inserted or changed.
    async fn upsert(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        candles: &[Candle],
    ) -> Result<u64, StoreError>;

    /// Open time of the newest stored candle.
    async fn latest_open_time(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
    ) -> Result<Option<i64>, StoreError>;

    /// Candles opening in `[from, to)`, ascending.
    async fn range(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        from: i64,
        to: i64,
    ) -> Result<Vec<Candle>, StoreError>;

    /// Up to `limit` candles opening after `after` (exclusive), ascending.
    async fn after(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Candle>, StoreError>;

    /// The `limit` newest candles opening before `before`, ascending.
    async fn tail_before(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        before: i64,
        limit: usize,
    ) -> Result<Vec<Candle>, StoreError>;

    /// Open time of the newest 1m candle whose effects (aggregation,
    /// detection, lifecycle, signals) are fully recorded.
    async fn processed_through(&self, symbol: &Symbol) -> Result<Option<i64>, StoreError>;

    async fn set_processed_through(
        &self,
        symbol: &Symbol,
        open_time: i64,
    ) -> Result<(), StoreError>;

    /// Where a resumable backfill of `symbol` from `from` has got to.
    async fn backfill_position(
        &self,
        symbol: &Symbol,
        from: i64,
    ) -> Result<Option<i64>, StoreError>;

    async fn set_backfill_position(
        &self,
        symbol: &Symbol,
        from: i64,
        next: i64,
    ) -> Result<(), StoreError>;
}

/// The pattern book of a symbol as it stood at some time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BookSnapshot {
    pub active: Vec<TrackedPattern>,
    pub signals: Vec<TrackedSignal>,
    pub last_signal: Vec<(Direction, i64)>,
}

/// The read side's view of symbols and pattern books (projections, caught
/// up with every committed event before answering).
#[async_trait]
pub trait BookState: Send + Sync {
    /// Symbols currently listed, in name order.
    async fn listed_symbols(&self) -> Result<Vec<Symbol>, StoreError>;

    /// The book of `symbol` as of the 1m close `as_of` (ms): patterns known
    /// by then and not closed by then, signals created by then and not
    /// resolved by then (with their entry and targets as of then), and the
    /// last signal time per direction up to then.
    async fn book(&self, symbol: &Symbol, as_of: i64) -> Result<BookSnapshot, StoreError>;
}
