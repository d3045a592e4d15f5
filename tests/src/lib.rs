//! Helpers for the black-box and contract tests: start the real
//! application on port 0 against a per-test database, and wait for
//! asynchronous work on a condition with a deadline (never a bare sleep).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::time::Duration;

use adapters::app::{RunningApp, StartOptions};
use adapters::config::Config;
use sqlx::PgPool;

pub mod notify;
pub mod ntfy_fake;

/// The broker tests talk to (a real RabbitMQ).
pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// Configuration for an app on an ephemeral port over `pool`'s database.
pub fn test_config() -> Config {
    let vars = [
        (
            "DATABASE_URL",
            "postgres://unused@127.0.0.1/unused".to_owned(),
        ),
        ("AMQP_URL", amqp_url()),
        ("CRYPTOLENS_ADDR", "127.0.0.1:0".to_owned()),
        ("CRYPTOLENS_CLAIM_KEY", "11".repeat(32)),
        ("CRYPTOLENS_PROJECTOR__POLL_MS", "100".to_owned()),
        ("CRYPTOLENS_SHUTDOWN_TIMEOUT_SECONDS", "10".to_owned()),
        // The projector fence is cluster-wide: parallel tests in other
        // databases can hold it back; give read-your-writes room.
        ("CRYPTOLENS_READ_YOUR_WRITES_MS", "15000".to_owned()),
    ];
    Config::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap()
}

pub struct TestApp {
    pub app: RunningApp,
    pub client: reqwest::Client,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.base_url())
    }

    pub fn pool(&self) -> &PgPool {
        &self.app.pool
    }
}

/// Starts the whole application (HTTP, projectors, broker connection) on
/// port 0 over `pool`.
pub async fn spawn_app(pool: PgPool) -> TestApp {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let app = RunningApp::start(
        test_config(),
        StartOptions {
            pool: Some(pool),
            ..StartOptions::default()
        },
    )
    .await
    .expect("the application starts");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    TestApp { app, client }
}

/// Polls `check` until it returns `Some`, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn count_events(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .unwrap()
}
