//! Market use cases: symbols, and the pipeline that turns exchange candles
//! into stored candles, aggregates, pattern and signal events.
//!
//! * [`MarketPipeline::fetch_new`] pulls closed 1m candles since the newest
//!   stored one (pages of 1000) and stores the valid ones in bulk; late
//!   candles re-aggregate the buckets they touch (bug 17 fixed).
//! * [`MarketPipeline::process`] takes the stored 1m candles after the
//!   symbol's progress mark in chunks: aggregates the buckets they close,
//!   runs the detectors on those candles plus a lookback window, feeds the
//!   candle-time pattern book (`domain::market::tracker`) and records what
//!   it decides as events on per-pattern and per-signal aggregates, then
//!   moves the mark. A crash before the mark moves repeats the chunk: the
//!   book is restored as of the mark and the aggregates ignore repeats.
//! * [`MarketPipeline::run_scan`] does both for every listed symbol inside
//!   a job run (events `JobStarted` / `JobFinished` / `JobFailed`).

mod backfill;
pub mod fakes;
mod fetch;
pub mod ids;
pub mod ingest;
pub mod ports;
mod process;
mod repair;
mod scan;
mod store_candles;
mod symbols;

use std::sync::Arc;

use domain::job::JobRun;
use domain::market::SeriesError;
use domain::market::tracker::SignalSettings;
use domain::pattern::TrackedZone;
use domain::signal::Signal;

use crate::ports::Clock;
use crate::store::{CommitObserver, EventStores, Repository};
pub use backfill::BackfillProgress;
pub use ports::{
    BookSnapshot, BookState, CandleStore, Exchange, ExchangeError, PAGE_SIZE, StoreError,
};
pub use scan::SCAN_JOB;
pub use symbols::{SymbolChangeError, SymbolService, parse_symbol_list};

/// Tuning of the pipeline; the defaults suit a live minute-by-minute run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PipelineOptions {
    pub settings: SignalSettings,
    /// 1m candles processed per step.
    pub chunk_size: usize,
    /// Exchange pages fetched per symbol and scan at most.
    pub max_pages: usize,
    /// How far back the first fetch of a symbol with no candles starts.
    pub initial_history_ms: i64,
    /// Aggregates written concurrently while recording a step.
    pub command_concurrency: usize,
    /// Symbols scanned concurrently.
    pub symbol_concurrency: usize,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        Self {
            settings: SignalSettings::default(),
            chunk_size: 5000,
            max_pages: 20,
            initial_history_ms: 3 * 86_400_000,
            command_concurrency: 8,
            symbol_concurrency: 4,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
    #[error("storage failed: {0}")]
    Storage(StoreError),
    #[error("recording a {what} event failed: {message}")]
    Command { what: &'static str, message: String },
    #[error(transparent)]
    Series(#[from] SeriesError),
}

impl PipelineError {
    fn storage(error: StoreError) -> Self {
        Self::Storage(error)
    }
}

/// What the pipeline runs on.
pub struct MarketPipeline<S: EventStores> {
    patterns: Repository<TrackedZone, S>,
    signals: Repository<Signal, S>,
    jobs: Repository<JobRun, S>,
    candles: Arc<dyn CandleStore>,
    book: Arc<dyn BookState>,
    exchange: Arc<dyn Exchange>,
    clock: Arc<dyn Clock>,
    options: PipelineOptions,
}

/// The pipeline's outside world.
pub struct PipelinePorts {
    pub candles: Arc<dyn CandleStore>,
    pub book: Arc<dyn BookState>,
    pub exchange: Arc<dyn Exchange>,
    pub clock: Arc<dyn Clock>,
}

impl<S: EventStores> MarketPipeline<S> {
    pub fn new(
        stores: &S,
        observer: Option<Arc<dyn CommitObserver>>,
        ports: PipelinePorts,
        options: PipelineOptions,
    ) -> Self {
        Self {
            patterns: Repository::new(stores, observer.clone()),
            signals: Repository::new(stores, observer.clone()),
            jobs: Repository::new(stores, observer),
            candles: ports.candles,
            book: ports.book,
            exchange: ports.exchange,
            clock: ports.clock,
            options,
        }
    }

    pub fn exchange(&self) -> &Arc<dyn Exchange> {
        &self.exchange
    }

    pub fn options(&self) -> &PipelineOptions {
        &self.options
    }
}

#[cfg(test)]
mod tests;
