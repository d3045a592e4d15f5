//! Publishing with publisher confirms: every message persistent and
//! mandatory, confirms pipelined (all sent, then all awaited), and a batch
//! counts as published only when every message was acked and none returned.

use anyhow::Context;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection};

use super::config::{DEAD_ROUTING_KEY, NotifyConfig, WORK_ROUTING_KEY};
use super::message::PushMessage;

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Straight to the work queue.
    Work,
    /// Through the free-tier delay queue.
    Delay,
    /// Through the retry queue for the `n`-th retry (1-based).
    Retry(u32),
    /// Into the dead-letter queue.
    Dead,
}

/// The counters a message carries between attempts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempts {
    /// Failed NTFY attempts so far.
    pub retries: u32,
    /// Times it was put off without an attempt (breaker open, lease busy).
    pub deferrals: u32,
}

pub const RETRY_HEADER: &str = "x-retry";
pub const DEFERRAL_HEADER: &str = "x-deferred";

impl Attempts {
    pub fn from_headers(headers: Option<&FieldTable>) -> Self {
        let read = |name: &str| {
            headers
                .and_then(|h| h.inner().get(name))
                .and_then(|value| match value {
                    AMQPValue::LongLongInt(n) => u32::try_from(*n).ok(),
                    AMQPValue::LongInt(n) => u32::try_from(*n).ok(),
                    AMQPValue::ShortInt(n) => u32::try_from(*n).ok(),
                    _ => None,
                })
                .unwrap_or(0)
        };
        Self {
            retries: read(RETRY_HEADER),
            deferrals: read(DEFERRAL_HEADER),
        }
    }

    fn headers(self) -> FieldTable {
        let mut headers = FieldTable::default();
        headers.insert(
            RETRY_HEADER.into(),
            AMQPValue::LongLongInt(i64::from(self.retries)),
        );
        headers.insert(
            DEFERRAL_HEADER.into(),
            AMQPValue::LongLongInt(i64::from(self.deferrals)),
        );
        headers
    }
}

/// A confirm-mode channel.
#[derive(Clone)]
pub struct Publisher {
    channel: Channel,
    config: NotifyConfig,
}

/// One message to publish.
pub struct Outgoing<'a> {
    pub route: Route,
    pub message: &'a PushMessage,
    pub attempts: Attempts,
}

impl Publisher {
    pub async fn open(connection: &Connection, config: &NotifyConfig) -> anyhow::Result<Self> {
        let channel = connection
            .create_channel()
            .await
            .context("opening a publisher channel")?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .context("enabling publisher confirms")?;
        Ok(Self {
            channel,
            config: config.clone(),
        })
    }

    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    fn address(&self, route: Route) -> (String, String) {
        match route {
            Route::Work => (self.config.exchange(), WORK_ROUTING_KEY.to_owned()),
            Route::Delay => (String::new(), self.config.delay_queue()),
            Route::Retry(n) => (String::new(), self.config.retry_queue(n)),
            Route::Dead => (self.config.dead_exchange(), DEAD_ROUTING_KEY.to_owned()),
        }
    }

    /// Publishes every message and waits for every confirm. `Ok` means the
    /// broker has taken responsibility for all of them.
    pub async fn publish_all(&self, batch: &[Outgoing<'_>]) -> anyhow::Result<()> {
        let mut pending = Vec::with_capacity(batch.len());
        for outgoing in batch {
            let payload =
                serde_json::to_vec(outgoing.message).context("serialising a push message")?;
            let (exchange, key) = self.address(outgoing.route);
            let properties = BasicProperties::default()
                .with_delivery_mode(2)
                .with_content_type(ShortString::from("application/json"))
                .with_message_id(ShortString::from(outgoing.message.message_id.as_str()))
                .with_headers(outgoing.attempts.headers());
            let confirm = self
                .channel
                .basic_publish(
                    exchange.as_str().into(),
                    key.as_str().into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..BasicPublishOptions::default()
                    },
                    &payload,
                    properties,
                )
                .await
                .context("publishing a push message")?;
            pending.push(confirm);
        }
        for confirm in pending {
            match confirm.await.context("waiting for a publisher confirm")? {
                Confirmation::Ack(None) => {}
                Confirmation::Ack(Some(returned)) => anyhow::bail!(
                    "RabbitMQ returned a message as unroutable ({})",
                    returned.reply_text
                ),
                Confirmation::Nack(_) => anyhow::bail!("RabbitMQ refused a message (nack)"),
                Confirmation::NotRequested => {
                    anyhow::bail!("the channel is not in confirm mode")
                }
            }
        }
        Ok(())
    }
}
