//! Starting and stopping the whole application in one process: HTTP,
//! every projector, the broker connection and housekeeping tasks.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use commands::accounts::AccountService;
use commands::claim_keys::ClaimKeys;
use commands::password::Argon2Hasher;
use commands::ports::SystemClock;
use commands::store::CommitObserver;
use sqlx::PgPool;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::broker::Broker;
use crate::config::Config;
use crate::http::{self, AppState};
use crate::postgres::{self, PgStores};
use crate::projector::runtime::{self, RunnerOptions};
use crate::projector::status::export_lag;
use crate::projector::wake::Wake;
use crate::projector::{self, Projection};
use crate::telemetry;

/// A running instance.
pub struct RunningApp {
    pub addr: SocketAddr,
    pub pool: PgPool,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    tasks: JoinSet<()>,
    timeout: std::time::Duration,
}

/// Knobs for tests; production uses the defaults.
#[derive(Clone, Default)]
pub struct StartOptions {
    /// Use this pool instead of connecting to `DATABASE_URL` (tests).
    pub pool: Option<PgPool>,
    /// Projections to run; `None` means all of them.
    pub projections: Option<Vec<Arc<dyn Projection>>>,
    pub runner: Option<RunnerOptions>,
}

impl RunningApp {
    pub async fn start(config: Config, options: StartOptions) -> anyhow::Result<Self> {
        let amqp_url = config.require_amqp_url()?.to_owned();
        let keys = ClaimKeys::new(config.require_claim_key()?.to_vec())
            .context("CRYPTOLENS_CLAIM_KEY is too short")?;
        let pool = match options.pool {
            Some(pool) => pool,
            None => postgres::connect(&config.database_url, config.db_pool_size).await?,
        };
        if config.migrate_on_start {
            postgres::migrate(&pool).await?;
        }
        let metrics = telemetry::metrics_handle();
        let shutdown = CancellationToken::new();
        let mut tasks = JoinSet::new();

        let wake = Wake::default();
        let observer: Arc<dyn CommitObserver> = Arc::new(wake.clone());
        let hasher = Argon2Hasher::new(config.password_hash_concurrency)
            .context("setting up password hashing")?;
        let accounts = AccountService::new(
            &PgStores::new(pool.clone()),
            Some(observer),
            Arc::new(hasher),
            Arc::new(SystemClock),
            keys,
        );

        let projections = options.projections.unwrap_or_else(projector::all);
        let runner = options.runner.unwrap_or(RunnerOptions {
            batch_size: config.projector_batch_size,
            poll: config.projector_poll,
            ..RunnerOptions::default()
        });
        runtime::spawn_all(
            &mut tasks,
            &pool,
            projections.clone(),
            &wake,
            &runner,
            &shutdown,
        );
        tasks.spawn(export_lag(pool.clone(), projections, shutdown.clone()));
        tasks.spawn(telemetry::run_metrics_upkeep(
            metrics.clone(),
            shutdown.clone(),
        ));

        let broker = Broker::default();
        let connection_name = format!("cryptolens-{}-{}", std::process::id(), uuid::Uuid::now_v7());
        tasks.spawn(broker.clone().run(
            amqp_url.clone(),
            connection_name.clone(),
            shutdown.clone(),
        ));

        crate::notify::spawn(
            &mut tasks,
            &pool,
            &config,
            &amqp_url,
            &connection_name,
            &shutdown,
        )?;

        let state = AppState {
            accounts: Arc::new(accounts),
            pool: pool.clone(),
            broker,
            metrics,
            config: Arc::new(config.clone()),
        };
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {} (CRYPTOLENS_ADDR)", config.addr))?;
        let addr = listener.local_addr()?;
        let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.clone().cancelled_owned())
                .into_future(),
        );
        tracing::info!(%addr, "CryptoLens is listening");
        Ok(Self {
            addr,
            pool,
            shutdown,
            server,
            tasks,
            timeout: config.shutdown_timeout,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, lets in-flight requests finish, lets
    /// projector batches commit or roll back, then returns.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        let drained = tokio::time::timeout(self.timeout, async {
            let served = (&mut self.server).await;
            while self.tasks.join_next().await.is_some() {}
            served
        })
        .await;
        match drained {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(error))) => Err(error).context("the HTTP server failed"),
            Ok(Err(join)) => Err(join).context("the HTTP server task failed"),
            Err(_) => {
                self.server.abort();
                self.tasks.abort_all();
                anyhow::bail!("shutdown took longer than {:?}; aborted", self.timeout)
            }
        }
    }
}

/// Waits for SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// `cryptolens serve`.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let app = RunningApp::start(config, StartOptions::default()).await?;
    shutdown_signal().await;
    tracing::info!("shutting down");
    app.shutdown().await?;
    tracing::info!("stopped cleanly");
    Ok(())
}
