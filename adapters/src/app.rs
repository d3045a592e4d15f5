//! Starting and stopping the whole application in one process: HTTP,
//! every projector, the broker connection and housekeeping tasks.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use commands::accounts::{AccountDeps, AccountService};
use commands::api_keys::{ApiKeyService, Pepper};
use commands::claim_keys::ClaimKeys;
use commands::password::Argon2Hasher;
use commands::personal_data::PersonalDataKeys;
use commands::ports::{Clock, PasswordHasher, SystemClock};
use commands::sealing::Keyring;
use commands::store::CommitObserver;
use commands::tokens::TokenKey;
use sqlx::PgPool;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::broker::Broker;
use crate::config::Config;
use crate::http::auth::IdentityState;
use crate::http::rate_limit::RateLimiters;
use crate::http::{self, AppState};
use crate::mail::{MailReactor, MailSender, run_sender};
use crate::postgres::personal_data::PgPersonalDataKeys;
use crate::postgres::totp_secrets::PgTotpSecrets;
use crate::postgres::{self, PgStores};
use crate::projector::runtime::{self, Runner, RunnerOptions};
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
    /// The clock every use case and the session timeouts read (tests: a `FakeClock`).
    pub clock: Option<Arc<dyn Clock>>,
    /// Replaces Argon2id (tests that sign in many times: `FakePasswordHasher`).
    pub password_hasher: Option<Arc<dyn PasswordHasher>>,
    /// The exchange the market scheduler uses instead of the configured one.
    pub exchange: Option<Arc<dyn commands::market::Exchange>>,
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
        if config.market.scheduler_enabled {
            crate::market::spawn_scheduler(
                &mut tasks,
                &pool,
                &config.market,
                options.exchange.clone(),
                Arc::clone(&observer),
                &shutdown,
            )?;
        }
        let hasher: Arc<dyn PasswordHasher> = match options.password_hasher {
            Some(hasher) => hasher,
            None => Arc::new(
                Argon2Hasher::new(config.password_hash_concurrency)
                    .context("setting up password hashing")?,
            ),
        };
        let clock: Arc<dyn Clock> = options.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let identity_config = &config.identity;
        let keyring = Keyring::new(identity_config.require_sealing_keys()?)
            .context("CRYPTOLENS_SEALING_KEYS")?;
        let stores = PgStores::new(pool.clone());
        let personal_data: Arc<dyn PersonalDataKeys> =
            Arc::new(PgPersonalDataKeys::new(pool.clone()));
        let accounts = AccountService::new(
            &stores,
            Some(observer.clone()),
            AccountDeps {
                hasher,
                clock: clock.clone(),
                claim_keys: keys,
                token_key: TokenKey::new(identity_config.require_token_key()?.to_vec())
                    .context("CRYPTOLENS_TOKEN_KEY is too short")?,
                totp_secrets: Arc::new(PgTotpSecrets::new(pool.clone(), keyring)),
                personal_data: personal_data.clone(),
            },
        );
        let notifications = commands::notifications::NotificationService::new(
            &stores,
            Some(observer.clone()),
            Arc::new(crate::notify::RandomTopics),
            clock.clone(),
        );
        let api_keys = ApiKeyService::new(
            &stores,
            Some(observer),
            Pepper::new(identity_config.require_api_key_pepper()?.to_vec())
                .context("CRYPTOLENS_API_KEY_PEPPER is too short")?,
            clock.clone(),
            personal_data,
        );
        let identity = Arc::new(IdentityState {
            clock,
            api_keys,
            idle_timeout: time::Duration::try_from(identity_config.session_idle_timeout)
                .context("session idle timeout")?,
            absolute_timeout: time::Duration::try_from(identity_config.session_absolute_timeout)
                .context("session absolute timeout")?,
            limits: RateLimiters::new(&identity_config.rate_limits),
            trusted_proxies: identity_config.trusted_proxies.clone(),
            tls: identity_config.tls(),
            public_url: identity_config.public_url.clone(),
        });
        tasks.spawn(shrink_rate_limiters(identity.clone(), shutdown.clone()));

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
        let smtp_url = config.identity.smtp_url.clone();
        tasks.spawn(
            Runner::new(
                Arc::new(MailReactor {
                    smtp: smtp_url.is_some(),
                }),
                pool.clone(),
                wake.clone(),
                runner.clone(),
            )
            .run(shutdown.clone()),
        );
        if let Some(smtp_url) = smtp_url {
            let sender = MailSender::new(
                pool.clone(),
                &smtp_url,
                &config.identity.mail_from,
                TokenKey::new(config.identity.require_token_key()?.to_vec())
                    .context("CRYPTOLENS_TOKEN_KEY is too short")?,
                config.identity.public_url.clone(),
                config.identity.mail_retry_base,
            )?;
            tasks.spawn(run_sender(sender, shutdown.clone()));
        }
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
            &connection_name,
            &wake,
            &runner,
            &shutdown,
        )?;

        let state = AppState {
            accounts: Arc::new(accounts),
            pool: pool.clone(),
            broker,
            metrics,
            config: Arc::new(config.clone()),
            identity,
            notifications: Arc::new(notifications),
            broadcasts: Arc::new(commands::notifications::BroadcastService::new(
                &PgStores::new(pool.clone()),
                Some(Arc::new(wake.clone())),
                Arc::new(SystemClock),
            )),
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

/// Forgets full rate-limit buckets once a minute, so memory stays bounded.
async fn shrink_rate_limiters(identity: Arc<IdentityState>, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => identity.limits.shrink(),
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
