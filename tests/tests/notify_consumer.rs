#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The notification topology and consumer against a real RabbitMQ and the
//! NTFY fake: declaration, delivery with headers, retries by TTL, parking.

use std::time::{Duration, Instant};

use adapters::notify::publisher::Route;
use adapters::notify::topology;
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use sqlx::PgPool;
use tests::eventually;
use tests::notify::{Broker, PATIENCE, RunningConsumer, events_of, messages, notify_config};
use tests::ntfy_fake::{Mode, NtfyFake};

#[sqlx::test(migrations = "../migrations")]
async fn the_topology_is_declared_idempotently_and_conflicting_arguments_are_refused(
    _pool: PgPool,
) {
    let config = notify_config("http://127.0.0.1:9", &[]);
    let broker = Broker::open(&config).await;
    let channel = broker.connection.create_channel().await.unwrap();
    // Again, identically: fine.
    topology::declare(&channel, &config).await.unwrap();
    for queue in topology::queues(&config) {
        assert_eq!(broker.depth(&queue).await, 0, "{queue} exists and is empty");
    }
    // The work queue with other arguments: RabbitMQ refuses.
    let refused = channel
        .queue_declare(
            config.work_queue().as_str().into(),
            QueueDeclareOptions::durable(),
            FieldTable::default(),
        )
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("PRECONDITION_FAILED"),
        "{refused}"
    );
    broker.cleanup().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn every_message_reaches_ntfy_once_with_its_headers_and_is_recorded(pool: PgPool) {
    let ntfy = NtfyFake::start().await;
    let config = notify_config(&ntfy.url(), &[("CRYPTOLENS_NTFY__TOKEN", "tk_testtoken")]);
    let broker = Broker::open(&config).await;
    let consumer = RunningConsumer::start(&pool, &config, None);
    let sent = messages("happy", 20);
    broker.publish(&sent).await;

    eventually(PATIENCE, "20 pushes", || async {
        (ntfy.accepted().len() >= 20).then_some(())
    })
    .await;
    let expected: Vec<String> = {
        let mut b: Vec<String> = sent.iter().map(|m| m.push.body.clone()).collect();
        b.sort();
        b
    };
    assert_eq!(ntfy.accepted_bodies(), expected);
    let first = ntfy
        .accepted()
        .into_iter()
        .find(|r| r.body == "happy body 3")
        .unwrap();
    assert_eq!(first.method, "POST");
    assert_eq!(first.topic(), "cl_happy_3");
    assert_eq!(first.header("Title"), Some("message 3"));
    assert_eq!(first.header("Priority"), Some("4"));
    assert_eq!(first.header("Tags"), Some("test"));
    assert_eq!(first.header("Authorization"), Some("Bearer tk_testtoken"));
    assert_eq!(first.header("Click"), None);

    let delivered = eventually(PATIENCE, "20 delivery events", || async {
        let events = events_of(&pool, "NotificationDelivered").await;
        (events.len() >= 20).then_some(events)
    })
    .await;
    let mut ids: Vec<String> = delivered.iter().map(|(id, _)| id.clone()).collect();
    ids.sort();
    let mut want: Vec<String> = sent.iter().map(|m| m.message_id.clone()).collect();
    want.sort();
    assert_eq!(ids, want);
    assert_eq!(delivered[0].1["attempt"], 1);
    let inbox: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notification_inbox WHERE status = 'delivered'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(inbox, 20);
    assert_eq!(ntfy.requests().len(), 20, "no extra calls");
    consumer.stop().await;
    broker.cleanup().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_retry_queue_hands_the_message_back_after_its_ttl(pool: PgPool) {
    let ntfy = NtfyFake::start().await;
    let config = notify_config(
        &ntfy.url(),
        &[("CRYPTOLENS_NOTIFY__RETRY_DELAYS_MS", "700")],
    );
    let broker = Broker::open(&config).await;
    let consumer = RunningConsumer::start(&pool, &config, None);
    consumer.connected().await;
    let started = Instant::now();
    broker
        .publish_to(Route::Retry(1), &messages("ttl", 1))
        .await;
    eventually(PATIENCE, "the push", || async {
        (!ntfy.accepted().is_empty()).then_some(())
    })
    .await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(700) && waited < Duration::from_millis(5000),
        "{waited:?}"
    );
    consumer.stop().await;
    broker.cleanup().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_refused_message_is_parked_and_an_undecodable_one_dead_lettered(pool: PgPool) {
    let ntfy = NtfyFake::start().await;
    ntfy.set_mode(Mode::Status(400));
    let config = notify_config(&ntfy.url(), &[]);
    let broker = Broker::open(&config).await;
    let consumer = RunningConsumer::start(&pool, &config, None);
    broker.publish(&messages("refused", 1)).await;
    let channel = broker.connection.create_channel().await.unwrap();
    channel
        .basic_publish(
            config.exchange().as_str().into(),
            "push".into(),
            lapin::options::BasicPublishOptions::default(),
            b"{not json",
            lapin::BasicProperties::default(),
        )
        .await
        .unwrap();

    eventually(PATIENCE, "two dead letters", || async {
        (broker.depth(&config.dead_queue()).await >= 2).then_some(())
    })
    .await;
    let mut parked: Vec<String> = broker
        .dead_letters()
        .await
        .into_iter()
        .map(|(m, _)| m.message_id)
        .collect();
    parked.sort();
    assert_eq!(parked, ["refused/0", "undecodable:{not json"]);
    assert_eq!(ntfy.requests().len(), 1, "a 400 is not retried");
    let failed = events_of(&pool, "NotificationFailed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].1["code"], 400);
    assert_eq!(failed[0].1["last"], true);
    consumer.stop().await;
    broker.cleanup().await;
}
