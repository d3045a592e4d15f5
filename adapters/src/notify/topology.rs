//! The notification topology, declared idempotently at start-up (same
//! arguments every time; RabbitMQ answers PRECONDITION_FAILED if an existing
//! queue was declared differently).
//!
//! ```text
//! {p}.work (direct exchange) --push--> {p}.work (quorum queue, x-delivery-limit,
//!                                       dead-letters at-least-once to {p}.dlx)
//! {p}.retry.N   (quorum, x-message-ttl = Nth retry delay) --expires--> {p}.work/push
//! {p}.delay     (quorum, x-message-ttl = free-tier delay)  --expires--> {p}.work/push
//! {p}.dlx (direct exchange) --dead--> {p}.dead (quorum queue, the parking lot)
//! ```
//!
//! Retry and delay queues are written through the default exchange (routing
//! key = queue name). One queue per delay: a TTL queue is FIFO, so mixing
//! delays would block short ones behind long ones. RabbitMQ 3.10 has no
//! default delivery limit (4.x defaults to 20): it is always set here.

use anyhow::Context;
use lapin::options::{
    ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, ExchangeKind};

use super::config::{DEAD_ROUTING_KEY, NotifyConfig, WORK_ROUTING_KEY};

fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}

fn number(value: u64) -> AMQPValue {
    AMQPValue::LongLongInt(i64::try_from(value).unwrap_or(i64::MAX))
}

/// Arguments shared by every queue: quorum, dead-lettered at-least-once
/// (which RabbitMQ only allows with `reject-publish` overflow).
fn quorum(dead_exchange: &str, dead_key: &str) -> FieldTable {
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), text("quorum"));
    args.insert("x-dead-letter-exchange".into(), text(dead_exchange));
    args.insert("x-dead-letter-routing-key".into(), text(dead_key));
    args.insert("x-dead-letter-strategy".into(), text("at-least-once"));
    args.insert("x-overflow".into(), text("reject-publish"));
    args
}

/// Declares (or re-declares, identically) every exchange, queue and binding.
pub async fn declare(channel: &Channel, config: &NotifyConfig) -> anyhow::Result<()> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    for exchange in [config.exchange(), config.dead_exchange()] {
        channel
            .exchange_declare(
                exchange.as_str().into(),
                ExchangeKind::Direct,
                durable,
                FieldTable::default(),
            )
            .await
            .with_context(|| format!("declaring exchange {exchange}"))?;
    }

    let mut work = quorum(&config.dead_exchange(), DEAD_ROUTING_KEY);
    work.insert(
        "x-delivery-limit".into(),
        number(u64::from(config.delivery_limit)),
    );
    declare_queue(channel, &config.work_queue(), work).await?;
    bind(
        channel,
        &config.work_queue(),
        &config.exchange(),
        WORK_ROUTING_KEY,
    )
    .await?;

    // The parking lot dead-letters nowhere.
    let mut dead = FieldTable::default();
    dead.insert("x-queue-type".into(), text("quorum"));
    declare_queue(channel, &config.dead_queue(), dead).await?;
    bind(
        channel,
        &config.dead_queue(),
        &config.dead_exchange(),
        DEAD_ROUTING_KEY,
    )
    .await?;

    let delayed = config
        .retry_delays
        .iter()
        .enumerate()
        .map(|(i, delay)| (format!("{}.retry.{i}", config.prefix), *delay))
        .chain([(config.delay_queue(), config.free_delay)]);
    for (queue, ttl) in delayed {
        let mut args = quorum(&config.exchange(), WORK_ROUTING_KEY);
        args.insert(
            "x-message-ttl".into(),
            number(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)),
        );
        declare_queue(channel, &queue, args).await?;
    }
    Ok(())
}

async fn declare_queue(channel: &Channel, name: &str, args: FieldTable) -> anyhow::Result<()> {
    channel
        .queue_declare(name.into(), QueueDeclareOptions::durable(), args)
        .await
        .with_context(|| format!("declaring queue {name}"))?;
    Ok(())
}

async fn bind(channel: &Channel, queue: &str, exchange: &str, key: &str) -> anyhow::Result<()> {
    channel
        .queue_bind(
            queue.into(),
            exchange.into(),
            key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .with_context(|| format!("binding {queue} to {exchange}/{key}"))
}

/// Every queue of the topology, for depth metrics and clean-up.
pub fn queues(config: &NotifyConfig) -> Vec<String> {
    let mut queues = vec![
        config.work_queue(),
        config.dead_queue(),
        config.delay_queue(),
    ];
    queues.extend((0..config.retry_delays.len()).map(|i| format!("{}.retry.{i}", config.prefix)));
    queues
}

/// Messages ready in `queue` (a passive declare: fails if it does not exist).
pub async fn depth(channel: &Channel, queue: &str) -> anyhow::Result<u32> {
    let declared = channel
        .queue_declare(
            ShortString::from(queue),
            QueueDeclareOptions::default().passive(),
            FieldTable::default(),
        )
        .await
        .with_context(|| format!("inspecting queue {queue}"))?;
    Ok(declared.message_count())
}

/// Deletes the whole topology (tests clean up their randomised names).
pub async fn delete(channel: &Channel, config: &NotifyConfig) -> anyhow::Result<()> {
    for queue in queues(config) {
        channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await
            .with_context(|| format!("deleting queue {queue}"))?;
    }
    for exchange in [config.exchange(), config.dead_exchange()] {
        channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await
            .with_context(|| format!("deleting exchange {exchange}"))?;
    }
    Ok(())
}
