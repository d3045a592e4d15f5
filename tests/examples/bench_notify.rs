#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Notification fan-out benchmark: one signal to N eligible users, end to
//! end (event log -> signal notifier -> RabbitMQ with confirms -> consumers
//! -> inbox, daily cap, events -> NTFY fake), on a scratch database and a
//! randomised topology, both removed afterwards.
//!
//!     cargo run --release -p tests --example bench_notify -- [users] [consumers] [prefetch]
//!
//! Needs DATABASE_URL (a role that may CREATE DATABASE) and AMQP_URL.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;
use tests::notify::{
    Broker, RunningConsumer, RunningNotifier, SignalFixture, UserFixture, append_signal,
    insert_users, notify_config,
};
use tests::ntfy_fake::NtfyFake;
use uuid::Uuid;

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let users = args.first().copied().unwrap_or(10_000);
    let consumers = args.get(1).copied().unwrap_or(4);
    let prefetch = args.get(2).copied().unwrap_or(128);

    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let scratch = format!("cryptolens_bench_notify_{}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS {scratch}"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {scratch}"))
        .execute(&admin)
        .await
        .unwrap();
    if std::env::var("BENCH_ASYNC_COMMIT").is_ok() {
        sqlx::query(&format!(
            "ALTER DATABASE {scratch} SET synchronous_commit = off"
        ))
        .execute(&admin)
        .await
        .unwrap();
    }
    let base = url
        .rsplit_once('/')
        .map_or(url.as_str(), |(b, _)| b)
        .to_owned();
    let pool = PgPoolOptions::new()
        .max_connections(32)
        .connect(&format!("{base}/{scratch}"))
        .await
        .unwrap();
    adapters::postgres::migrate(&pool).await.unwrap();

    let ntfy = NtfyFake::start().await;
    let config = notify_config(
        &ntfy.url(),
        &[
            // Every user is on the free plan until payments exist; the
            // 10-minute free-tier delay is switched off for the run.
            ("CRYPTOLENS_NOTIFY__FREE_DELAY_MS", "0"),
            ("CRYPTOLENS_NOTIFY__PREFETCH", &prefetch.to_string()),
            ("CRYPTOLENS_NOTIFY__LEASE_MS", "30000"),
            ("CRYPTOLENS_NTFY__TIMEOUT_MS", "10000"),
        ],
    );
    let broker = Broker::open(&config).await;
    let fixtures: Vec<(Uuid, UserFixture)> = (0..users)
        .map(|_| (Uuid::now_v7(), UserFixture::default()))
        .collect();
    insert_users(&pool, &fixtures).await;
    let running: Vec<RunningConsumer> = (0..consumers)
        .map(|_| RunningConsumer::start(&pool, &config, None))
        .collect();
    for consumer in &running {
        consumer.connected().await;
    }
    let notifier = RunningNotifier::start(&pool, &config, None);
    tokio::time::sleep(Duration::from_millis(500)).await; // the notifier takes its lock

    let started = Instant::now();
    append_signal(&pool, &SignalFixture::long_btc_fvg()).await;
    let mut published_at = None;
    loop {
        if published_at.is_none() {
            let pos: Option<i64> = sqlx::query_scalar(
                "SELECT last_pos FROM projection_checkpoints WHERE projection = 'signal_notifier'",
            )
            .fetch_optional(&pool)
            .await
            .unwrap();
            if pos.unwrap_or(0) > 0 {
                published_at = Some(started.elapsed());
            }
        }
        if ntfy.accepted().len() >= users {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "timed out");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    // Let any late duplicate show up before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut per_topic: BTreeMap<String, usize> = BTreeMap::new();
    for request in ntfy.accepted() {
        *per_topic.entry(request.topic().to_owned()).or_default() += 1;
    }
    let duplicates: usize = per_topic.values().map(|n| n - 1).sum();
    let lost = fixtures
        .iter()
        .filter(|(id, _)| !per_topic.contains_key(&format!("cl_{}", id.simple())))
        .count();
    let delivered_events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'NotificationDelivered'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    println!(
        "users={users} consumers={consumers} prefetch={prefetch} published_and_checkpointed_after={:.3}s \
         all_pushed_after={:.3}s rate={:.0} msg/s duplicates={duplicates} lost={lost} \
         ntfy_requests={} delivered_events={delivered_events}",
        published_at.unwrap_or_default().as_secs_f64(),
        elapsed.as_secs_f64(),
        users as f64 / elapsed.as_secs_f64(),
        ntfy.requests().len(),
    );

    notifier.stop().await;
    for consumer in running {
        consumer.stop().await;
    }
    broker.cleanup().await;
    pool.close().await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
}
