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
        // One dedicated connection per runner: followers retry the lock on
        // it; a leader holds the lock for as long as the connection lives.
        let mut lock: Option<PgConnection> = None;
        loop {
            if lock.is_none() {
                match PgConnection::connect_with(&self.pool.connect_options()).await {
                    Ok(conn) => lock = Some(conn),
                    Err(error) => {
                        tracing::warn!(projection = name, %error, "cannot open the projector lock connection")
                    }
                }
            }
            if let Some(conn) = lock.as_mut() {
                match try_lock(conn, name).await {
                    Ok(true) => match self.lead(conn, &shutdown).await {
                        Leadership::Stopped => {
                            if let Some(conn) = lock.take() {
                                let _ = conn.close().await;
                            }
                            return;
                        }
                        Leadership::Lost => {
                            tracing::warn!(projection = name, "lost the projection lock");
                            lock = None;
                        }
                    },
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(
                            projection = name,
                            error = format!("{error:#}"),
                            "cannot take the projection lock"
                        );
                        lock = None;
                    }
                }
            }
            self.leading.store(false, Ordering::SeqCst);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.options.leadership_check) => {}
            }
        }
    }

    /// Runs batches while holding the lock on `lock`. A failing batch (it
    /// rolled back) is retried after a pause; leadership is kept.
    async fn lead(&self, lock: &mut PgConnection, shutdown: &CancellationToken) -> Leadership {
        let name = self.projection.name();
        self.leading.store(true, Ordering::SeqCst);
        tracing::info!(projection = name, "leading projection");
        let mut wake = self.wake.subscribe();
        let mut last_check = tokio::time::Instant::now();
        let mut checkpoint_exists = false;
        loop {
            if shutdown.is_cancelled() {
                return Leadership::Stopped;
            }
            if last_check.elapsed() >= self.options.leadership_check {
                if sqlx::query("SELECT 1").execute(&mut *lock).await.is_err() {
                    return Leadership::Lost;
                }
                last_check = tokio::time::Instant::now();
            }
            wake.mark_unchanged();
            // A batch in flight is never cancelled: it commits or rolls back.
            let pause = match self.next_batch(&mut checkpoint_exists).await {
                Ok(read) if read > 0 => continue,
                Ok(_) => self.options.poll,
                Err(error) => {
                    tracing::error!(
                        projection = name,
                        error = format!("{error:#}"),
                        "projector batch failed; retrying"
                    );
                    metrics::counter!("cryptolens_projector_failures_total", "projection" => name)
                        .increment(1);
                    self.options.leadership_check
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = wake.changed() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    async fn next_batch(&self, checkpoint_exists: &mut bool) -> anyhow::Result<usize> {
        if !*checkpoint_exists {
            batch::ensure_checkpoint(&self.pool, self.projection.name()).await?;
            *checkpoint_exists = true;
        }
        batch::run_batch(
            &self.pool,
            self.projection.as_ref(),
            self.options.batch_size,
            self.options.before_commit.as_ref(),
        )
        .await
    }
}

enum Leadership {
    Stopped,
    Lost,
}

/// Tries the projection's session advisory lock on the runner's dedicated
/// connection (a pooled one would keep the lock after going back to the
/// pool). The lock lives as long as that connection.
async fn try_lock(conn: &mut PgConnection, name: &str) -> anyhow::Result<bool> {
    sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
        .bind(format!("projection:{name}"))
        .fetch_one(conn)
        .await
        .context("taking the projection lock")
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
