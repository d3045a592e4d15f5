//! The notification consumer: RabbitMQ work queue -> NTFY.
//!
//! * Bounded prefetch (per consumer, never global), manual acks; each
//!   delivery is handled in its own task, so at most `prefetch` are in
//!   flight.
//! * Per message: claim it in the inbox (deduplication, lease, daily cap
//!   slot), call NTFY through the breaker, record the outcome (inbox row and
//!   event in one transaction), then ack. A crash before the ack leads to a
//!   redelivery that the inbox drops.
//! * Transient NTFY failures go to the retry queue for their attempt (TTL
//!   backoff) with an incremented `x-retry`; after `max_attempts`, or on a
//!   permanent refusal, to the dead-letter queue. While the breaker is open
//!   messages are deferred through the retry queues without using up an
//!   attempt. An undecodable message is rejected to the dead-letter queue;
//!   one whose processing fails (database down, ...) is requeued, and
//!   RabbitMQ dead-letters it once it exceeds `x-delivery-limit`.
//! * The connection auto-recovers (lapin); when recovery fails, the
//!   supervisor builds a new connection with backoff.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use commands::Metadata;
use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use sqlx::PgPool;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::breaker::Breaker;
use super::config::NotifyConfig;
use super::inbox::{self, Claim};
use super::message::PushMessage;
use super::ntfy::{NtfyClient, NtfyError};
use super::publisher::{Attempts, Outgoing, Publisher, Route};
use super::topology;

/// Points where tests inject faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The message is decoded; nothing is claimed yet.
    Received,
    /// NTFY accepted it and the delivery is committed; not acked yet.
    Recorded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    Continue,
    /// Processing fails (the message is requeued).
    Fail,
    /// The consumer dies on the spot: nothing more is acked, its
    /// connection goes away, unacked messages return to the queue.
    Die,
}

pub type FaultHook = Arc<dyn Fn(&str, Stage) -> FaultAction + Send + Sync>;

/// How a consumer run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Stopped,
    Died,
}

#[derive(Clone)]
pub struct Consumer {
    pool: PgPool,
    config: Arc<NotifyConfig>,
    amqp_url: String,
    name: String,
    ntfy: NtfyClient,
    breaker: Arc<Breaker>,
    fault: Option<FaultHook>,
}

enum Handled {
    Ack,
    /// Already settled (rejected to the dead-letter queue).
    Settled,
    Die,
}

impl Consumer {
    /// `name` is the AMQP connection name (visible in `rabbitmqctl`).
    pub fn new(
        pool: PgPool,
        config: &NotifyConfig,
        amqp_url: &str,
        name: &str,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            pool,
            ntfy: NtfyClient::new(&config.ntfy)?,
            breaker: Arc::new(Breaker::new(
                config.ntfy.breaker_failures,
                config.ntfy.breaker_open,
            )),
            config: Arc::new(config.clone()),
            amqp_url: amqp_url.to_owned(),
            name: name.to_owned(),
            fault: None,
        })
    }

    pub fn with_fault(mut self, hook: FaultHook) -> Self {
        self.fault = Some(hook);
        self
    }

    pub fn breaker(&self) -> Arc<Breaker> {
        Arc::clone(&self.breaker)
    }

    /// Consumes until `shutdown` (or an injected death), rebuilding the
    /// connection whenever it is lost for good.
    pub async fn run(self, shutdown: CancellationToken) -> Exit {
        let mut backoff = Duration::from_millis(200);
        loop {
            match self.session(&shutdown).await {
                Ok(exit) => return exit,
                Err(error) => {
                    metrics::counter!("cryptolens_notify_consumer_reconnects_total").increment(1);
                    tracing::warn!(
                        error = format!("{error:#}"),
                        retry_in_ms = backoff.as_millis() as u64,
                        "notification consumer lost its connection; rebuilding"
                    );
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Exit::Stopped,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }

    async fn session(&self, shutdown: &CancellationToken) -> anyhow::Result<Exit> {
        let properties = ConnectionProperties::default()
            .with_connection_name(self.name.as_str().into())
            .enable_auto_recover();
        let connection = tokio::select! {
            _ = shutdown.cancelled() => return Ok(Exit::Stopped),
            connected = Connection::connect(&self.amqp_url, properties) => {
                connected.context("connecting to RabbitMQ")?
            }
        };
        let setup = connection.create_channel().await?;
        topology::declare(&setup, &self.config).await?;
        let publisher = Publisher::open(&connection, &self.config).await?;
        let channel = connection.create_channel().await?;
        channel
            .basic_qos(self.config.prefetch, BasicQosOptions::default())
            .await
            .context("setting the prefetch")?;
        let mut deliveries = channel
            .basic_consume(
                self.config.work_queue().as_str().into(),
                self.name.as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .context("starting to consume")?;
        tracing::info!(consumer = %self.name, queue = %self.config.work_queue(), "consuming notifications");

        let died = CancellationToken::new();
        let mut in_flight = JoinSet::new();
        let depth = tokio::spawn(export_depth(setup, (*self.config).clone()));
        let exit = loop {
            tokio::select! {
                _ = shutdown.cancelled() => {
                    // Let every message in hand finish (and be acked).
                    while in_flight.join_next().await.is_some() {}
                    break Ok(Exit::Stopped);
                }
                _ = died.cancelled() => {
                    in_flight.abort_all();
                    while in_flight.join_next().await.is_some() {}
                    break Ok(Exit::Died);
                }
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
                next = deliveries.next() => match next {
                    Some(Ok(delivery)) => {
                        let this = self.clone();
                        let publisher = publisher.clone();
                        let died = died.clone();
                        in_flight.spawn(async move { this.handle(delivery, &publisher, &died).await });
                    }
                    Some(Err(error)) => {
                        tracing::warn!(%error, "consumer stream failed; waiting for recovery");
                        let recovered = tokio::select! {
                            _ = shutdown.cancelled() => Ok(()),
                            recovered = channel.wait_for_recovery(error) => recovered,
                        };
                        match recovered {
                            Ok(()) => {
                                metrics::counter!("cryptolens_notify_consumer_recoveries_total").increment(1);
                                tracing::info!("RabbitMQ connection recovered");
                            }
                            Err(error) => break Err(anyhow::Error::new(error).context("recovery failed")),
                        }
                    }
                    None => break Err(anyhow::anyhow!("the consumer stream ended")),
                },
            }
        };
        depth.abort();
        // Whatever ended the session, messages in hand run to completion
        // (their acks may fail: the broker redelivers and the inbox drops
        // the copies). Aborting one between the push and its record would
        // leave it to be pushed again once its lease expires.
        while in_flight.join_next().await.is_some() {}
        let _ = connection.close(200, "consumer stopping".into()).await;
        exit
    }

    async fn handle(&self, delivery: Delivery, publisher: &Publisher, died: &CancellationToken) {
        match self.process(&delivery, publisher).await {
            Ok(Handled::Ack) => {
                if let Err(error) = delivery.ack(BasicAckOptions::default()).await {
                    // The channel is gone: the broker redelivers, the inbox drops it.
                    tracing::debug!(%error, "ack failed; the message will be redelivered");
                }
            }
            Ok(Handled::Settled) => {}
            Ok(Handled::Die) => died.cancel(),
            Err(error) => {
                metrics::counter!("cryptolens_notify_errors_total").increment(1);
                tracing::error!(
                    error = format!("{error:#}"),
                    "processing a notification failed; requeueing"
                );
                let requeue = BasicNackOptions {
                    requeue: true,
                    ..BasicNackOptions::default()
                };
                let _ = delivery.nack(requeue).await;
            }
        }
    }

    fn fault(&self, message_id: &str, stage: Stage) -> FaultAction {
        self.fault
            .as_ref()
            .map_or(FaultAction::Continue, |hook| hook(message_id, stage))
    }

    async fn process(&self, delivery: &Delivery, publisher: &Publisher) -> anyhow::Result<Handled> {
        let Ok(message) = serde_json::from_slice::<PushMessage>(&delivery.data) else {
            tracing::error!("undecodable notification message; dead-lettering it");
            metrics::counter!("cryptolens_notify_dead_lettered_total").increment(1);
            delivery
                .nack(BasicNackOptions::default())
                .await
                .context("rejecting an undecodable message")?;
            return Ok(Handled::Settled);
        };
        match self.fault(&message.message_id, Stage::Received) {
            FaultAction::Continue => {}
            FaultAction::Fail => anyhow::bail!("injected fault"),
            FaultAction::Die => return Ok(Handled::Die),
        }
        let attempts = Attempts::from_headers(delivery.properties.headers().as_ref());
        let mut metadata = Metadata::system("notification-consumer");
        metadata.correlation_id.clone_from(&message.message_id);

        match inbox::claim(&self.pool, &message, self.config.lease, &metadata).await? {
            Claim::Done => {
                metrics::counter!("cryptolens_notify_duplicates_total").increment(1);
                return Ok(Handled::Ack);
            }
            Claim::CapReached => {
                metrics::counter!("cryptolens_notify_capped_total").increment(1);
                return Ok(Handled::Ack);
            }
            Claim::Busy => {
                self.defer(publisher, &message, attempts).await?;
                return Ok(Handled::Ack);
            }
            Claim::Granted { .. } => {}
        }
        if self.breaker.try_call().is_err() {
            inbox::unclaim(&self.pool, &message).await?;
            self.defer(publisher, &message, attempts).await?;
            return Ok(Handled::Ack);
        }
        let attempt = attempts.retries + 1;
        match self.ntfy.publish(&message.topic, &message.push).await {
            Ok(_) => {
                self.breaker.succeeded();
                inbox::delivered(&self.pool, &message, attempt, &metadata).await?;
                metrics::counter!("cryptolens_notify_sent_total", "kind" => message.kind.as_str())
                    .increment(1);
                if self.fault(&message.message_id, Stage::Recorded) == FaultAction::Die {
                    return Ok(Handled::Die);
                }
                Ok(Handled::Ack)
            }
            Err(error) => {
                if matches!(error, NtfyError::Transient(_)) {
                    self.breaker.failed();
                } else {
                    self.breaker.succeeded();
                }
                let last =
                    matches!(error, NtfyError::Permanent(_)) || attempt >= self.config.max_attempts;
                tracing::warn!(%error, attempt, last, "NTFY attempt failed");
                metrics::counter!("cryptolens_notify_failed_total").increment(1);
                inbox::failed(
                    &self.pool,
                    &message,
                    attempt,
                    error.reason().clone(),
                    last,
                    &metadata,
                )
                .await?;
                let next = Attempts {
                    retries: attempt,
                    ..attempts
                };
                let route = if last {
                    metrics::counter!("cryptolens_notify_dead_lettered_total").increment(1);
                    Route::Dead
                } else {
                    metrics::counter!("cryptolens_notify_retried_total").increment(1);
                    Route::Retry(attempt)
                };
                publisher
                    .publish_all(&[Outgoing {
                        route,
                        message: &message,
                        attempts: next,
                    }])
                    .await?;
                Ok(Handled::Ack)
            }
        }
    }

    /// Puts a message off without using an attempt (breaker open, lease
    /// held elsewhere): through the retry queues, longer each time.
    async fn defer(
        &self,
        publisher: &Publisher,
        message: &PushMessage,
        attempts: Attempts,
    ) -> anyhow::Result<()> {
        metrics::counter!("cryptolens_notify_deferred_total").increment(1);
        let deferrals = attempts.deferrals + 1;
        publisher
            .publish_all(&[Outgoing {
                route: Route::Retry(deferrals),
                message,
                attempts: Attempts {
                    deferrals,
                    ..attempts
                },
            }])
            .await
    }
}

/// Exports the depth of every queue of the topology every few seconds.
async fn export_depth(channel: lapin::Channel, config: NotifyConfig) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        for queue in topology::queues(&config) {
            match topology::depth(&channel, &queue).await {
                Ok(depth) => {
                    metrics::gauge!("cryptolens_notify_queue_depth", "queue" => queue)
                        .set(f64::from(depth));
                }
                Err(error) => {
                    tracing::debug!(error = format!("{error:#}"), "cannot read a queue depth");
                    return;
                }
            }
        }
    }
}
