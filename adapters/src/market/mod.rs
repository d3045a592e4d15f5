//! Market data wiring: the candle table, job locks, configuration, the
//! pipeline over PostgreSQL, and the file tools behind `market aggregate`
//! and `market detect`.

pub mod bench;
pub mod candles;
pub mod config;
pub mod files;
pub mod health;
pub mod lock;

use std::sync::Arc;

use commands::Metadata;
use commands::market::{Exchange, MarketPipeline, PipelineOptions, PipelinePorts, SCAN_JOB};
use commands::ports::SystemClock;
use commands::store::CommitObserver;
use domain::job::SymbolReport;
use sqlx::PgPool;
use uuid::Uuid;

use crate::postgres::PgStores;
use crate::read_models::market::book::PgBookState;
use config::MarketConfig;

pub type PgPipeline = MarketPipeline<PgStores>;

/// The pipeline over PostgreSQL with `exchange`.
pub fn pipeline(
    pool: &PgPool,
    config: &MarketConfig,
    exchange: Arc<dyn Exchange>,
    observer: Option<Arc<dyn CommitObserver>>,
) -> PgPipeline {
    MarketPipeline::new(
        &PgStores::new(pool.clone()),
        observer,
        PipelinePorts {
            candles: Arc::new(candles::PgCandleStore::new(pool.clone())),
            book: Arc::new(PgBookState::new(pool.clone())),
            exchange,
            clock: Arc::new(SystemClock),
        },
        PipelineOptions {
            initial_history_ms: config.initial_history_hours.max(1) * 3_600_000,
            symbol_concurrency: config.symbol_concurrency.max(1),
            ..PipelineOptions::default()
        },
    )
}

/// One scan under the job lock; `None` when another instance holds it.
pub async fn scan_once(
    pool: &PgPool,
    pipeline: &PgPipeline,
    instance: &str,
) -> anyhow::Result<Option<Vec<SymbolReport>>> {
    let Some(lock) = lock::try_lock(pool, SCAN_JOB).await? else {
        tracing::debug!("another instance is running the market scan");
        return Ok(None);
    };
    let run_id = Uuid::now_v7();
    let mut metadata = Metadata::system(SCAN_JOB);
    metadata.correlation_id = run_id.to_string();
    let result = pipeline.run_scan(run_id, instance, &metadata).await;
    lock.release().await;
    let reports = result?;
    let detected: u64 = reports.iter().map(|r| r.patterns_detected).sum();
    let signals: u64 = reports.iter().map(|r| r.signals_generated).sum();
    if detected > 0 {
        metrics::counter!("cryptolens_patterns_detected_total").increment(detected);
    }
    if signals > 0 {
        metrics::counter!("cryptolens_signals_generated_total").increment(signals);
    }
    Ok(Some(reports))
}

/// A name for this process in job runs.
pub fn instance_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".to_owned());
    format!("{host}:{}", std::process::id())
}

/// Starts the market scheduler (with `exchange`, or the configured one).
pub fn spawn_scheduler(
    tasks: &mut tokio::task::JoinSet<()>,
    pool: &PgPool,
    config: &MarketConfig,
    exchange: Option<Arc<dyn Exchange>>,
    observer: Arc<dyn CommitObserver>,
    shutdown: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<()> {
    let exchange = match exchange {
        Some(exchange) => exchange,
        None => crate::exchange::from_config(config)?,
    };
    let pipeline = Arc::new(pipeline(pool, config, exchange, Some(observer)));
    tasks.spawn(crate::scheduler::run(
        pool.clone(),
        pipeline,
        config.scan_interval,
        shutdown.clone(),
    ));
    Ok(())
}
