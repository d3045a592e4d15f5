//! Runners: one task per projection, active only while it holds the
//! projection's advisory lock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::Projection;
use super::batch::{self, BeforeCommit};
use super::wake::Wake;

#[derive(Clone)]
pub struct RunnerOptions {
    pub batch_size: i64,
    pub poll: Duration,
    /// How often a follower retries the lock, and a leader checks it still has it.
    pub leadership_check: Duration,
    pub before_commit: Option<BeforeCommit>,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            poll: Duration::from_millis(500),
            leadership_check: Duration::from_secs(2),
            before_commit: None,
        }
    }
}

/// Keeps one projection up to date while this process leads it.
pub struct Runner {
    projection: Arc<dyn Projection>,
    pool: PgPool,
    wake: Wake,
    options: RunnerOptions,
    leading: Arc<AtomicBool>,
}

impl Runner {
    pub fn new(
        projection: Arc<dyn Projection>,
        pool: PgPool,
        wake: Wake,
        options: RunnerOptions,
    ) -> Self {
        Self {
            projection,
            pool,
            wake,
            options,
            leading: Arc::new(AtomicBool::new(false)),
        }
    }

    /// True while this runner holds the projection's lock.
    pub fn leading(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.leading)
    }

    pub async fn run(self, shutdown: CancellationToken) {
        let name = self.projection.name();
        loop {
            match self.lead(&shutdown).await {
                Ok(Leadership::Stopped) => return,
                Ok(Leadership::Busy) => {}
                Ok(Leadership::Lost) => {
                    tracing::warn!(projection = name, "lost the projection lock")
                }
                Err(error) => {
                    tracing::error!(
                        projection = name,
                        error = format!("{error:#}"),
                        "projector failed; retrying"
                    );
                    metrics::counter!("cryptolens_projector_failures_total", "projection" => name)
                        .increment(1);
                }
            }
            self.leading.store(false, Ordering::SeqCst);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.options.leadership_check) => {}
            }
        }
    }

    async fn lead(&self, shutdown: &CancellationToken) -> anyhow::Result<Leadership> {
        let name = self.projection.name();
        let Some(mut lock) = try_lock(&self.pool, name).await? else {
            return Ok(Leadership::Busy);
        };
        self.leading.store(true, Ordering::SeqCst);
        tracing::info!(projection = name, "leading projection");
        batch::ensure_checkpoint(&self.pool, name).await?;
        let mut wake = self.wake.subscribe();
        let mut last_check = tokio::time::Instant::now();
        loop {
            if shutdown.is_cancelled() {
                let _ = lock.close().await;
                return Ok(Leadership::Stopped);
            }
            if last_check.elapsed() >= self.options.leadership_check {
                if sqlx::query("SELECT 1").execute(&mut lock).await.is_err() {
                    return Ok(Leadership::Lost);
                }
                last_check = tokio::time::Instant::now();
            }
            // A batch in flight is never cancelled: it commits or rolls back.
            wake.mark_unchanged();
            let read = batch::run_batch(
                &self.pool,
                self.projection.as_ref(),
                self.options.batch_size,
                self.options.before_commit.as_ref(),
            )
            .await?;
            if read > 0 {
                continue;
            }
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = wake.changed() => {}
                _ = tokio::time::sleep(self.options.poll) => {}
            }
        }
    }
}

enum Leadership {
    Stopped,
    Busy,
    Lost,
}

/// Tries the projection's session advisory lock on a dedicated connection
/// (a pooled one would keep the lock after going back to the pool). The
/// lock lives as long as the returned connection.
async fn try_lock(pool: &PgPool, name: &str) -> anyhow::Result<Option<PgConnection>> {
    let mut conn = PgConnection::connect_with(&pool.connect_options())
        .await
        .context("opening the projector lock connection")?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
        .bind(format!("projection:{name}"))
        .fetch_one(&mut conn)
        .await
        .context("taking the projection lock")?;
    if locked {
        Ok(Some(conn))
    } else {
        let _ = conn.close().await;
        Ok(None)
    }
}

/// Starts a runner for each projection, plus the wake-up tasks.
pub fn spawn_all(
    tasks: &mut JoinSet<()>,
    pool: &PgPool,
    projections: Vec<Arc<dyn Projection>>,
    wake: &Wake,
    options: &RunnerOptions,
    shutdown: &CancellationToken,
) {
    tasks.spawn(wake.clone().run_listener(pool.clone(), shutdown.clone()));
    tasks.spawn(wake.clone().run_notifier(pool.clone(), shutdown.clone()));
    for projection in projections {
        let runner = Runner::new(projection, pool.clone(), wake.clone(), options.clone());
        tasks.spawn(runner.run(shutdown.clone()));
    }
}
