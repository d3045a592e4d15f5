//! Notification delivery through RabbitMQ to NTFY (ARCHITECTURE §5).
//!
//! * [`topology`]: exchanges and queues, declared idempotently.
//! * [`publisher`]: publishing with confirms.
//! * [`consumer`]: the work-queue consumer (inbox, daily cap, breaker,
//!   retries, dead-lettering, recovery), run by `serve` and by
//!   `cryptolens worker notifications`.
//! * [`ntfy`] / [`breaker`]: the NTFY client and its circuit breaker.

pub mod breaker;
pub mod config;
pub mod consumer;
pub mod inbox;
pub mod message;
pub mod notifier;
pub mod ntfy;
pub mod publisher;
pub mod topology;

use sqlx::PgPool;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Config;

/// Topics from the operating system's random generator (128 bits each).
#[derive(Debug, Clone, Copy)]
pub struct RandomTopics;

impl commands::notifications::TopicMint for RandomTopics {
    fn mint(&self) -> domain::notification::Topic {
        domain::notification::Topic::from_random(rand::random())
    }
}

/// Starts the notification tasks of `serve` (unless
/// `CRYPTOLENS_NOTIFY__RUN_IN_SERVE=false`): the consumer, the signal
/// notifier reactor and the quiet-hours hold releaser.
pub fn spawn(
    tasks: &mut JoinSet<()>,
    pool: &PgPool,
    config: &Config,
    instance: &str,
    wake: &crate::projector::wake::Wake,
    runner: &crate::projector::runtime::RunnerOptions,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    if !config.notify.run_in_serve {
        return Ok(());
    }
    let amqp_url = config.require_amqp_url()?;
    let consumer = consumer::Consumer::new(
        pool.clone(),
        &config.notify,
        amqp_url,
        &format!("{instance}-notify-consumer"),
    )?;
    let stop = shutdown.clone();
    tasks.spawn(async move {
        consumer.run(stop).await;
    });
    let link = std::sync::Arc::new(notifier::Link::new(
        amqp_url,
        &format!("{instance}-notifier"),
        &config.notify,
    ));
    let notifier = notifier::SignalNotifier::new(&config.notify, link.clone());
    tasks.spawn(
        crate::projector::runtime::Runner::new(
            std::sync::Arc::new(notifier),
            pool.clone(),
            wake.clone(),
            runner.clone(),
        )
        .run(shutdown.clone()),
    );
    tasks.spawn(notifier::release_holds(
        pool.clone(),
        link,
        std::time::Duration::from_secs(5),
        shutdown.clone(),
    ));
    let broadcasts = commands::notifications::BroadcastService::new(
        &crate::postgres::PgStores::new(pool.clone()),
        Some(std::sync::Arc::new(wake.clone())),
        std::sync::Arc::new(commands::ports::SystemClock),
    );
    tasks.spawn(run_scheduler(
        pool.clone(),
        broadcasts,
        config.notify.scheduler_tick,
        shutdown.clone(),
    ));
    Ok(())
}

/// Sends scheduled broadcasts when their time comes: every `tick`, each
/// due one gets `SendIfDue` (idempotent, so several instances may run it).
pub async fn run_scheduler(
    pool: PgPool,
    broadcasts: commands::notifications::BroadcastService<crate::postgres::PgStores>,
    tick: std::time::Duration,
    shutdown: CancellationToken,
) {
    let metadata = commands::Metadata::system("broadcast-scheduler");
    loop {
        match crate::read_models::broadcasts::due(&pool).await {
            Ok(due) => {
                for id in due {
                    if let Err(error) = broadcasts.send_if_due(id, &metadata).await {
                        tracing::warn!(%id, %error, "could not send a scheduled broadcast");
                    }
                }
            }
            Err(error) => tracing::warn!(error = format!("{error:#}"), "scheduler read failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(tick) => {}
        }
    }
}

/// `cryptolens worker notifications`: the consumer alone, until SIGINT/SIGTERM.
pub async fn run_worker(config: &Config) -> anyhow::Result<()> {
    let amqp_url = config.require_amqp_url()?;
    let pool = crate::postgres::connect(&config.database_url, config.db_pool_size).await?;
    let name = format!(
        "cryptolens-worker-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    );
    let consumer = consumer::Consumer::new(pool, &config.notify, amqp_url, &name)?;
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(consumer.run(shutdown.clone()));
    crate::app::shutdown_signal().await;
    tracing::info!("notification worker stopping");
    shutdown.cancel();
    task.await?;
    Ok(())
}
