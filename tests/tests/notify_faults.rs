#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Fault tests of notification delivery against the real RabbitMQ: each
//! asserts the exact set of pushes the NTFY fake accepted.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use adapters::notify::breaker::BreakerState;
use adapters::notify::consumer::{Exit, FaultAction, FaultHook, Stage};
use adapters::notify::message::PushMessage;
use sqlx::PgPool;
use tests::eventually;
use tests::notify::{
    Broker, PATIENCE, RunningConsumer, close_connections, connections_named, events_of,
    message_for, messages, notify_config,
};
use tests::ntfy_fake::{Mode, NtfyFake};
use uuid::Uuid;

/// Sent messages NTFY never accepted, and accepted ones it got more than once.
fn lost_and_duplicated(ntfy: &NtfyFake, sent: &[PushMessage]) -> (Vec<String>, Vec<String>) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for body in ntfy.accepted_bodies() {
        *seen.entry(body).or_default() += 1;
    }
    let lost = sent
        .iter()
        .filter(|m| !seen.contains_key(&m.push.body))
        .map(|m| m.message_id.clone())
        .collect();
    let duplicated = seen
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(body, n)| format!("{body} x{n}"))
        .collect();
    (lost, duplicated)
}

fn bodies(messages: &[PushMessage]) -> Vec<String> {
    let mut bodies: Vec<String> = messages.iter().map(|m| m.push.body.clone()).collect();
    bodies.sort();
    bodies
}

async fn all_accepted(ntfy: &NtfyFake, count: usize) {
    eventually(PATIENCE, &format!("{count} accepted pushes"), || async {
        (ntfy.accepted().len() >= count).then_some(())
    })
    .await;
}

/// Waits until nothing is left anywhere in the topology and every inbox
/// row is settled, so that a late duplicate would have shown up.
async fn settled(pool: &PgPool, broker: &Broker, config: &adapters::notify::config::NotifyConfig) {
    eventually(PATIENCE, "empty queues and a settled inbox", || async {
        let mut empty = true;
        for queue in adapters::notify::topology::queues(config) {
            if queue != config.dead_queue() {
                empty &= broker.depth(&queue).await == 0;
            }
        }
        let sending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM notification_inbox WHERE status = 'sending'")
                .fetch_one(pool)
                .await
                .unwrap();
        (empty && sending == 0).then_some(())
    })
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_consumer_dying_after_the_push_but_before_the_ack_causes_no_second_push(pool: PgPool) {
    let ntfy = NtfyFake::start().await;
    // One message in flight at a time: the crash hits exactly one.
    let config = notify_config(&ntfy.url(), &[("CRYPTOLENS_NOTIFY__PREFETCH", "1")]);
    let broker = Broker::open(&config).await;
    let sent = messages("die", 10);
    let died_once = Arc::new(AtomicBool::new(false));
    let hook: FaultHook = {
        let died_once = Arc::clone(&died_once);
        Arc::new(move |id: &str, stage| {
            if id == "die/3" && stage == Stage::Recorded && !died_once.swap(true, Ordering::SeqCst)
            {
                FaultAction::Die
            } else {
                FaultAction::Continue
            }
        })
    };
    let first = RunningConsumer::start(&pool, &config, Some(hook));
    broker.publish(&sent).await;
    assert_eq!(first.join().await, Exit::Died);
    assert!(died_once.load(Ordering::SeqCst));
    let pushed_before_restart = ntfy.accepted_bodies();
    assert!(pushed_before_restart.contains(&"die body 3".to_owned()));
    // The unacknowledged message went back to the queue.
    assert!(broker.depth(&config.work_queue()).await >= 1);

    let second = RunningConsumer::start(&pool, &config, None);
    all_accepted(&ntfy, 10).await;
    settled(&pool, &broker, &config).await;
    assert_eq!(ntfy.accepted_bodies(), bodies(&sent), "each exactly once");
    assert_eq!(events_of(&pool, "NotificationDelivered").await.len(), 10);
    second.stop().await;
    broker.cleanup().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_broker_closing_the_consumers_connections_mid_stream_loses_and_duplicates_nothing(
    pool: PgPool,
) {
    let ntfy = NtfyFake::start().await;
    ntfy.set_latency(Duration::from_millis(50));
    let config = notify_config(&ntfy.url(), &[]);
    let broker = Broker::open(&config).await;
    let consumer = RunningConsumer::start(&pool, &config, None);
    let sent = messages("drop", 1000);
    broker.publish(&sent).await;

    let mut closed = 0;
    for after in [100, 400] {
        all_accepted(&ntfy, after).await;
        let before = ntfy.accepted().len();
        let now_closed = close_connections(&consumer.name).await;
        assert!(
            now_closed >= 1 && before < 900,
            "closed {now_closed} after {before} pushes"
        );
        closed += now_closed;
    }
    assert!(closed >= 2, "closed {closed} connections");
    all_accepted(&ntfy, 1000).await;
    settled(&pool, &broker, &config).await;
    let (lost, duplicated) = lost_and_duplicated(&ntfy, &sent);
    assert!(
        lost.is_empty() && duplicated.is_empty(),
        "lost {lost:?}, duplicated {duplicated:?}"
    );
    assert_eq!(ntfy.accepted_bodies(), bodies(&sent));
    assert_eq!(events_of(&pool, "NotificationDelivered").await.len(), 1000);
    assert!(
        !connections_named(&consumer.name).await.is_empty(),
        "reconnected"
    );
    assert!(!consumer.is_finished());
    consumer.stop().await;
    broker.cleanup().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_ntfy_outage_opens_the_breaker_and_every_message_arrives_after_recovery(pool: PgPool) {
    let ntfy = NtfyFake::start().await;
    ntfy.set_mode(Mode::Status(503));
    let config = notify_config(
        &ntfy.url(),
        &[
            ("CRYPTOLENS_NTFY__BREAKER_FAILURES", "3"),
            ("CRYPTOLENS_NOTIFY__MAX_ATTEMPTS", "30"),
        ],
    );
    let broker = Broker::open(&config).await;
    let consumer = RunningConsumer::start(&pool, &config, None);
    let sent = messages("outage", 40);
    broker.publish(&sent).await;

    // The outage goes through every kind of failure the fake can produce.
    let stretches = [
        (Mode::Status(503), "503"),
        (Mode::Status(429), "429"),
        (Mode::Hang(Duration::from_secs(3)), "timeout"),
        (Mode::Drop, "unreachable"),
    ];
    let opened = AtomicBool::new(false);
    for (mode, reason) in stretches {
        ntfy.set_mode(mode);
        eventually(PATIENCE, &format!("a {reason} failure recorded"), || {
            if consumer.breaker.state() == BreakerState::Open {
                opened.store(true, Ordering::SeqCst);
            }
            let pool = &pool;
            async move {
                let failed = events_of(pool, "NotificationFailed").await;
                failed
                    .iter()
                    .any(|(_, e)| match reason {
                        "503" => e["code"] == 503,
                        "429" => e["code"] == 429,
                        other => e["reason"] == other,
                    })
                    .then_some(())
            }
        })
        .await;
    }
    assert!(
        opened.load(Ordering::SeqCst),
        "the breaker opened during the outage"
    );
    assert!(ntfy.accepted().is_empty());
    let failed_calls = ntfy.requests().len();
    ntfy.set_mode(Mode::Ok);

    all_accepted(&ntfy, 40).await;
    settled(&pool, &broker, &config).await;
    assert_eq!(
        ntfy.accepted_bodies(),
        bodies(&sent),
        "all arrive, once each"
    );
    // Every real attempt is recorded; the breaker kept them few: without
    // it each of the 40 messages would have failed at every retry.
    let failures = events_of(&pool, "NotificationFailed").await;
    assert_eq!(failures.len(), failed_calls);
    assert!(failed_calls < 80, "{failed_calls} failed calls");
    assert!(failures.iter().all(|(_, e)| e["last"] == false));
    assert_eq!(broker.depth(&config.dead_queue()).await, 0);
    consumer.stop().await;
    broker.cleanup().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_poison_message_lands_in_the_dead_letter_queue_after_the_delivery_limit(pool: PgPool) {
    let ntfy = NtfyFake::start().await;
    let config = notify_config(&ntfy.url(), &[("CRYPTOLENS_NOTIFY__DELIVERY_LIMIT", "3")]);
    let broker = Broker::open(&config).await;
    let poison_deliveries = Arc::new(AtomicU32::new(0));
    let hook: FaultHook = {
        let count = Arc::clone(&poison_deliveries);
        Arc::new(move |id: &str, stage| {
            if id == "poison/0" && stage == Stage::Received {
                count.fetch_add(1, Ordering::SeqCst);
                FaultAction::Fail
            } else {
                FaultAction::Continue
            }
        })
    };
    let consumer = RunningConsumer::start(&pool, &config, Some(hook));
    let sent = messages("poison", 6);
    broker.publish(&sent).await;

    eventually(PATIENCE, "the poison message in the DLQ", || async {
        (broker.depth(&config.dead_queue()).await == 1).then_some(())
    })
    .await;
    all_accepted(&ntfy, 5).await;
    let dead = broker.dead_letters().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0.message_id, "poison/0");
    assert_eq!(dead[0].1.as_deref(), Some("delivery_limit"));
    assert_eq!(
        poison_deliveries.load(Ordering::SeqCst),
        4,
        "1 delivery + 3 redeliveries"
    );
    assert_eq!(ntfy.accepted_bodies(), bodies(&sent[1..]));
    consumer.stop().await;
    broker.cleanup().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_daily_cap_holds_with_four_concurrent_consumers(pool: PgPool) {
    let ntfy = NtfyFake::start().await;
    ntfy.set_latency(Duration::from_millis(10));
    let config = notify_config(&ntfy.url(), &[]);
    let broker = Broker::open(&config).await;
    let consumers: Vec<_> = (0..4)
        .map(|_| RunningConsumer::start(&pool, &config, None))
        .collect();
    for consumer in &consumers {
        consumer.connected().await;
    }
    // 8 users x 6 signals, interleaved, each user capped at 2 a day.
    let users: Vec<Uuid> = (0..8).map(|_| Uuid::now_v7()).collect();
    let sent: Vec<PushMessage> = (0..48u32)
        .map(|n| {
            let user = users[n as usize % 8];
            PushMessage {
                user_id: Some(user),
                topic: format!("cl_{}", user.simple()),
                daily_cap: Some(2),
                ..message_for("cap", n)
            }
        })
        .collect();
    broker.publish(&sent).await;

    eventually(PATIENCE, "every message settled", || async {
        let settled: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM notification_inbox WHERE status IN ('delivered', 'dropped')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        (settled == 48).then_some(())
    })
    .await;
    settled(&pool, &broker, &config).await;
    let mut per_topic: BTreeMap<String, usize> = BTreeMap::new();
    for request in ntfy.accepted() {
        *per_topic.entry(request.topic().to_owned()).or_default() += 1;
    }
    assert_eq!(per_topic.len(), 8);
    assert!(per_topic.values().all(|n| *n == 2), "{per_topic:?}");
    assert_eq!(ntfy.requests().len(), 16, "no call beyond the cap");
    let capped = events_of(&pool, "NotificationFailed").await;
    assert_eq!(capped.len(), 32);
    assert!(
        capped
            .iter()
            .all(|(_, e)| e["reason"] == "daily_cap_reached")
    );
    let reserved: Vec<i32> =
        sqlx::query_scalar("SELECT reserved FROM notification_daily_counts ORDER BY user_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(reserved, vec![2; 8]);
    for consumer in consumers {
        consumer.stop().await;
    }
    broker.cleanup().await;
}
