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
pub mod payments;

/// The broker tests talk to (a real RabbitMQ).
pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// Configuration for an app on an ephemeral port over `pool`'s database.
/// Rate limits are raised so ordinary tests never meet them; the rate-limit
/// tests set the production numbers back with [`test_config_with`].
pub fn test_config() -> Config {
    test_config_with(&[])
}

/// [`test_config`] with some variables replaced or added.
pub fn test_config_with(overrides: &[(&str, &str)]) -> Config {
    let defaults = [
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
        ("CRYPTOLENS_TOKEN_KEY", "22".repeat(32)),
        // Notification delivery runs only in the tests that set it up (with
        // a randomised topology they delete afterwards).
        ("CRYPTOLENS_NOTIFY__RUN_IN_SERVE", "false".to_owned()),
        ("CRYPTOLENS_API_KEY_PEPPER", "33".repeat(32)),
        ("CRYPTOLENS_SEALING_KEYS", format!("k1:{}", "44".repeat(32))),
        (
            "CRYPTOLENS_RATE_LIMIT__LOGIN_PER_MINUTE",
            "10000".to_owned(),
        ),
        (
            "CRYPTOLENS_RATE_LIMIT__REGISTER_PER_HOUR",
            "10000".to_owned(),
        ),
        ("CRYPTOLENS_RATE_LIMIT__EMAIL_PER_HOUR", "10000".to_owned()),
        ("CRYPTOLENS_RATE_LIMIT__RESET_PER_HOUR", "10000".to_owned()),
        (
            "CRYPTOLENS_RATE_LIMIT__DEFAULT_PER_MINUTE",
            "100000".to_owned(),
        ),
        (
            "CRYPTOLENS_RATE_LIMIT__API_KEY_PER_MINUTE",
            "100000".to_owned(),
        ),
        ("CRYPTOLENS_SCHEDULER__ENABLED", "false".to_owned()),
    ];
    Config::from_lookup(|name| {
        overrides
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
            .or_else(|| {
                defaults
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.clone())
            })
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
    spawn_app_with(pool, test_config(), StartOptions::default()).await
}

/// Starts the application with `config` and `options` (the pool is set here).
pub async fn spawn_app_with(pool: PgPool, config: Config, options: StartOptions) -> TestApp {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let app = RunningApp::start(
        config,
        StartOptions {
            pool: Some(pool),
            ..options
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

/// The `__Host-cl_session` value a response sets, if any (empty when it clears it).
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("__Host-cl_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// A signed-in browser: its session cookie and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

impl Browser {
    pub fn cookie_header(&self) -> String {
        format!("__Host-cl_session={}", self.cookie)
    }
}

impl TestApp {
    /// Registers an account; returns its id.
    pub async fn register(&self, email: &str, username: &str, password: &str) -> String {
        let response = self
            .client
            .post(self.url("/api/v1/accounts"))
            .json(&serde_json::json!({"email": email, "username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
        response.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// POST /api/v1/sessions.
    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/sessions"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// Signs in (no 2FA) and returns the browser state.
    pub async fn sign_in(&self, email: &str, password: &str) -> Browser {
        let response = self.login(email, password).await;
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        let cookie = session_cookie(&response).expect("a session cookie");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "signed_in");
        Browser {
            cookie,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    /// A GET as `browser`.
    pub fn get_as(&self, browser: &Browser, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(self.url(path))
            .header(reqwest::header::COOKIE, browser.cookie_header())
    }

    /// A POST as `browser`, with its CSRF token.
    pub fn post_as(&self, browser: &Browser, path: &str) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(path))
            .header(reqwest::header::COOKIE, browser.cookie_header())
            .header("x-csrf-token", &browser.csrf)
    }

    /// Registers and signs in; returns the id and the browser.
    pub async fn signed_up(
        &self,
        email: &str,
        username: &str,
        password: &str,
    ) -> (String, Browser) {
        let id = self.register(email, username, password).await;
        (id, self.sign_in(email, password).await)
    }
}

/// Events recorded for one aggregate, as (type, payload, metadata), in order.
pub async fn history(
    pool: &PgPool,
    aggregate_type: &str,
    id: &str,
) -> Vec<(String, serde_json::Value, serde_json::Value)> {
    sqlx::query_as(
        "SELECT event_type, payload, metadata FROM events
          WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
    )
    .bind(aggregate_type)
    .bind(id)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// One aggregate's history as `cryptolens events show` prints it (personal
/// data opened, or `<forgotten>`): (type, payload, metadata).
pub async fn readable_history(
    pool: &PgPool,
    aggregate_type: &str,
    id: &str,
) -> Vec<(String, serde_json::Value, serde_json::Value)> {
    adapters::cli::events::readable_history(pool, aggregate_type, id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event_type, e.payload, e.metadata))
        .collect()
}

/// The event types of one account, in order.
pub async fn account_event_types(pool: &PgPool, id: &str) -> Vec<String> {
    history(pool, "account", id)
        .await
        .into_iter()
        .map(|(t, _, _)| t)
        .collect()
}

/// A tiny local SMTP server for mail tests (no TLS, no auth): it answers
/// the first `fail_first` transactions with a temporary failure (451), then
/// accepts and keeps each message's DATA.
pub struct FakeSmtp {
    pub port: u16,
    pub messages: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    pub refused: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl FakeSmtp {
    pub async fn start(fail_first: usize) -> Self {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let refused = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (store, failures) = (messages.clone(), refused.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (store, failures) = (store.clone(), failures.clone());
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 fake ESMTP\r\n").await.ok()?;
                    let mut data: Option<String> = None;
                    while let Ok(Some(line)) = lines.next_line().await {
                        if let Some(body) = data.as_mut() {
                            if line == "." {
                                store.lock().unwrap().push(data.take().unwrap_or_default());
                                write.write_all(b"250 queued\r\n").await.ok()?;
                            } else {
                                body.push_str(&line);
                                body.push('\n');
                            }
                            continue;
                        }
                        let verb = line
                            .split(' ')
                            .next()
                            .unwrap_or_default()
                            .to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250 fake\r\n",
                            "MAIL" if failures.load(Ordering::SeqCst) < fail_first => {
                                failures.fetch_add(1, Ordering::SeqCst);
                                b"451 try again later\r\n"
                            }
                            "DATA" => {
                                data = Some(String::new());
                                b"354 go ahead\r\n"
                            }
                            "QUIT" => {
                                write.write_all(b"221 bye\r\n").await.ok()?;
                                return Some(());
                            }
                            _ => b"250 ok\r\n",
                        };
                        write.write_all(reply).await.ok()?;
                    }
                    Some(())
                });
            }
        });
        Self {
            port,
            messages,
            refused,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }
}

/// The clock tests start at.
pub fn test_clock() -> std::sync::Arc<commands::ports::FakeClock> {
    std::sync::Arc::new(commands::ports::FakeClock::at(time::macros::datetime!(
        2026-11-28 09:00 UTC
    )))
}

/// An app on `clock` with the cheap `FakePasswordHasher` (for tests that
/// sign in many times; the timing tests use the real Argon2id).
pub async fn spawn_fast_app(
    pool: PgPool,
    clock: std::sync::Arc<commands::ports::FakeClock>,
    overrides: &[(&str, &str)],
) -> TestApp {
    spawn_app_with(
        pool,
        test_config_with(overrides),
        StartOptions {
            clock: Some(clock),
            password_hasher: Some(std::sync::Arc::new(commands::password::FakePasswordHasher)),
            ..StartOptions::default()
        },
    )
    .await
}

impl TestApp {
    /// A DELETE as `browser`, with its CSRF token.
    pub fn delete_as(&self, browser: &Browser, path: &str) -> reqwest::RequestBuilder {
        self.client
            .delete(self.url(path))
            .header(reqwest::header::COOKIE, browser.cookie_header())
            .header("x-csrf-token", &browser.csrf)
    }

    /// Creates `root@example.com` with `cryptolens admin create` (an app
    /// started with the fake hasher) and signs it in.
    pub async fn create_admin(&self, password: &str) -> (String, Browser) {
        let id = adapters::cli::admin::create(
            self.pool(),
            &test_config(),
            std::sync::Arc::new(commands::password::FakePasswordHasher),
            "root@example.com",
            "root",
            password,
        )
        .await
        .unwrap();
        (
            id.to_string(),
            self.sign_in("root@example.com", password).await,
        )
    }
}
