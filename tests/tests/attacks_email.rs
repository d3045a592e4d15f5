//! Email flows: verification (24 h) and password reset (1 h) tokens are
//! single use and expire; "forgot" and "resend" do not reveal whether an
//! address has an account; mail goes out through the reactor, to the local
//! outbox or over SMTP with retries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use commands::ports::FakeClock;
use commands::tokens::{TokenKey, TokenPurpose};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use tests::{
    FakeSmtp, TestApp, account_event_types, count_events, eventually, session_cookie,
    spawn_fast_app, test_clock, test_config,
};
use uuid::Uuid;

const PASSWORD: &str = "Correct-Horse-9";

async fn app_with(pool: PgPool, clock: Arc<FakeClock>, vars: &[(&str, &str)]) -> TestApp {
    spawn_fast_app(pool, clock, vars).await
}

fn clock() -> Arc<FakeClock> {
    test_clock()
}

/// The test configuration's token key (`CRYPTOLENS_TOKEN_KEY` = 0x22 x 32).
fn token_key() -> TokenKey {
    TokenKey::new(vec![0x22; 32]).unwrap()
}

/// Waits for the `n`-th mail of `kind` to reach the outbox; returns (account, token id, status).
async fn outbox_mail(t: &TestApp, kind: &str, n: usize) -> (Uuid, Uuid, String) {
    let pool = t.pool().clone();
    let kind = kind.to_owned();
    eventually(Duration::from_secs(10), "a mail in the outbox", || {
        let (pool, kind) = (pool.clone(), kind.clone());
        async move {
            let rows: Vec<(Uuid, Uuid, String)> = sqlx::query_as(
                "SELECT account_id, token_id, status FROM mail_outbox WHERE kind = $1 ORDER BY id",
            )
            .bind(&kind)
            .fetch_all(&pool)
            .await
            .unwrap();
            rows.get(n).cloned()
        }
    })
    .await
}

fn invalid_link() -> Value {
    json!({"error": "invalid_token", "message": "the link is invalid, expired or already used"})
}

#[sqlx::test(migrations = "../migrations")]
async fn a_verification_link_verifies_once(pool: PgPool) {
    let t = app_with(pool, clock(), &[]).await;
    let (id, ada) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    // Unverified users sign in, but paid features are closed to them.
    let key = t
        .post_as(&ada, "/api/v1/api-keys")
        .json(&json!({"name": "bot", "scopes": ["read:market"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(key.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        key.json::<Value>().await.unwrap(),
        json!({"error": "email_unverified", "message": "verify your email address first"})
    );

    let (account, token_id, status) = outbox_mail(&t, "verification", 0).await;
    assert_eq!(account.to_string(), id);
    assert_eq!(
        status, "local",
        "no SMTP configured: kept for `cryptolens mail list`"
    );
    let token = token_key().derive(TokenPurpose::Verification, token_id);
    let listed = adapters::cli::mail::list(t.pool(), &test_config(), 20)
        .await
        .unwrap();
    assert!(
        listed.contains("local (attempts 0) to ada@example.com"),
        "{listed}"
    );
    assert!(
        listed.contains(&format!("/verify-email?account={id}&token={token}")),
        "{listed}"
    );
    let verify = || {
        t.client
            .post(t.url("/api/v1/email-verification"))
            .json(&json!({"account_id": id, "token": token}))
    };
    assert_eq!(
        verify().send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let me: Value = t
        .get_as(&ada, "/api/v1/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["verified"], true);
    let before = count_events(t.pool()).await;
    let again = verify().send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(again.json::<Value>().await.unwrap(), invalid_link());
    assert_eq!(count_events(t.pool()).await, before);
    assert!(
        account_event_types(t.pool(), &id)
            .await
            .contains(&"EmailVerified".to_owned())
    );
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_verification_link_expires_after_24_hours(pool: PgPool) {
    let clock = clock();
    let t = app_with(pool, clock.clone(), &[]).await;
    let id = t.register("ada@example.com", "ada", PASSWORD).await;
    let (_, token_id, _) = outbox_mail(&t, "verification", 0).await;
    let token = token_key().derive(TokenPurpose::Verification, token_id);
    clock.advance(time::Duration::hours(24));
    let before = count_events(t.pool()).await;
    let late = t
        .client
        .post(t.url("/api/v1/email-verification"))
        .json(&json!({"account_id": id, "token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), StatusCode::BAD_REQUEST);
    assert_eq!(late.json::<Value>().await.unwrap(), invalid_link());
    assert_eq!(count_events(t.pool()).await, before);
    t.app.shutdown().await.unwrap();
}

async fn forgot(t: &TestApp, email: &str) -> reqwest::Response {
    t.client
        .post(t.url("/api/v1/password-reset"))
        .json(&json!({"email": email}))
        .send()
        .await
        .unwrap()
}

fn reset(t: &TestApp, id: &str, token: &str, password: &str) -> reqwest::RequestBuilder {
    t.client
        .post(t.url("/api/v1/password-reset/confirm"))
        .json(&json!({"account_id": id, "token": token, "new_password": password}))
}

#[sqlx::test(migrations = "../migrations")]
async fn a_reset_token_works_once_ends_every_session_and_cannot_be_reused(pool: PgPool) {
    let t = app_with(pool, clock(), &[]).await;
    let (id, ada) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    let phone = t.sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(
        forgot(&t, "ada@example.com").await.status(),
        StatusCode::ACCEPTED
    );
    let (_, token_id, _) = outbox_mail(&t, "password_reset", 0).await;
    let token = token_key().derive(TokenPurpose::PasswordReset, token_id);

    // Policy first: a weak password is refused and the token stays usable.
    let weak = reset(&t, &id, &token, "password1").send().await.unwrap();
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let done = reset(&t, &id, &token, "Brand-New-Pass-7")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    assert_eq!(done.headers()["referrer-policy"], "no-referrer");
    for browser in [&ada, &phone] {
        let me = t.get_as(browser, "/api/v1/me").send().await.unwrap();
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    }
    let types = account_event_types(t.pool(), &id).await;
    assert_eq!(
        types[types.len() - 2..],
        ["PasswordReset".to_owned(), "SessionsRevoked".to_owned()]
    );

    let before = count_events(t.pool()).await;
    let reused = reset(&t, &id, &token, "Another-Pass-8")
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(reused.json::<Value>().await.unwrap(), invalid_link());
    // A guessed token and an unknown account answer the same.
    let guessed = reset(&t, &id, &"A".repeat(43), "Another-Pass-8")
        .send()
        .await
        .unwrap();
    assert_eq!(guessed.json::<Value>().await.unwrap(), invalid_link());
    let nobody = reset(&t, &Uuid::now_v7().to_string(), &token, "Another-Pass-8")
        .send()
        .await
        .unwrap();
    assert_eq!(nobody.status(), StatusCode::BAD_REQUEST);
    assert_eq!(nobody.json::<Value>().await.unwrap(), invalid_link());
    assert_eq!(count_events(t.pool()).await, before, "nothing recorded");
    assert_eq!(
        t.login("ada@example.com", "Another-Pass-8").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        t.login("ada@example.com", "Brand-New-Pass-7")
            .await
            .status(),
        StatusCode::OK
    );
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_reset_token_expires_after_one_hour(pool: PgPool) {
    let clock = clock();
    let t = app_with(pool, clock.clone(), &[]).await;
    let id = t.register("ada@example.com", "ada", PASSWORD).await;
    forgot(&t, "ada@example.com").await;
    let (_, first, _) = outbox_mail(&t, "password_reset", 0).await;
    clock.advance(time::Duration::hours(1));
    let before = count_events(t.pool()).await;
    let token = token_key().derive(TokenPurpose::PasswordReset, first);
    let late = reset(&t, &id, &token, "Brand-New-Pass-7")
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), StatusCode::BAD_REQUEST);
    assert_eq!(late.json::<Value>().await.unwrap(), invalid_link());
    assert_eq!(count_events(t.pool()).await, before);
    // A fresh link works within its hour, and only the newest link does.
    forgot(&t, "ada@example.com").await;
    forgot(&t, "ada@example.com").await;
    let (_, older, _) = outbox_mail(&t, "password_reset", 1).await;
    let (_, newest, _) = outbox_mail(&t, "password_reset", 2).await;
    clock.advance(time::Duration::minutes(59));
    let older = token_key().derive(TokenPurpose::PasswordReset, older);
    assert_eq!(
        reset(&t, &id, &older, "Brand-New-Pass-7")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::BAD_REQUEST
    );
    let newest = token_key().derive(TokenPurpose::PasswordReset, newest);
    assert_eq!(
        reset(&t, &id, &newest, "Brand-New-Pass-7")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn forgot_and_resend_answer_alike_for_known_and_unknown_addresses(pool: PgPool) {
    let t = app_with(pool, clock(), &[]).await;
    let id = t.register("ada@example.com", "ada", PASSWORD).await;
    outbox_mail(&t, "verification", 0).await;
    let mut answers = Vec::new();
    for path in [
        "/api/v1/password-reset",
        "/api/v1/email-verification/resend",
    ] {
        for email in ["ada@example.com", "nobody@example.com", "not an address"] {
            let started = Instant::now();
            let response = t
                .client
                .post(t.url(path))
                .json(&json!({"email": email}))
                .send()
                .await
                .unwrap();
            let elapsed = started.elapsed();
            assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
            assert!(elapsed < Duration::from_millis(750), "{elapsed:?}");
            answers.push((response.status(), response.json::<Value>().await.unwrap()));
        }
    }
    for answer in &answers {
        assert_eq!(
            answer,
            &(
                StatusCode::ACCEPTED,
                json!({"message": "if this address has an account, we have sent it an email"})
            )
        );
    }
    // Only the real account got mail.
    outbox_mail(&t, "verification", 1).await;
    outbox_mail(&t, "password_reset", 0).await;
    let recipients: Vec<String> = sqlx::query_scalar("SELECT DISTINCT recipient FROM mail_outbox")
        .fetch_all(t.pool())
        .await
        .unwrap();
    assert_eq!(recipients, ["ada@example.com"]);
    let types = account_event_types(t.pool(), &id).await;
    assert_eq!(
        types,
        [
            "AccountRegistered",
            "EmailVerificationRequested",
            "PasswordResetRequested",
            "EmailVerificationRequested"
        ]
    );
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn mail_is_sent_over_smtp_and_a_failure_is_retried_not_lost(pool: PgPool) {
    let smtp = FakeSmtp::start(2).await;
    let url = smtp.url();
    let t = app_with(
        pool,
        clock(),
        &[
            ("CRYPTOLENS_SMTP__URL", url.as_str()),
            ("CRYPTOLENS_MAIL__RETRY_BASE_MS", "100"),
            ("CRYPTOLENS_PUBLIC_URL", "https://cryptolens.example"),
        ],
    )
    .await;
    let id = t.register("ada@example.com", "ada", PASSWORD).await;
    let messages = smtp.messages.clone();
    let message = eventually(Duration::from_secs(15), "the mail over SMTP", || {
        let messages = messages.clone();
        async move { messages.lock().unwrap().first().cloned() }
    })
    .await;
    assert_eq!(smtp.refused.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert!(message.contains("To: ada@example.com"), "{message}");
    assert!(message.contains("Subject: Confirm your email address for CryptoLens"));
    let (_, token_id, _) = outbox_mail(&t, "verification", 0).await;
    let token = token_key().derive(TokenPurpose::Verification, token_id);
    let link = format!("https://cryptolens.example/verify-email?account={id}&token={token}");
    // Quoted-printable: soft line breaks and "=3D" for "=".
    let decoded = message.replace("=\n", "").replace("=3D", "=");
    assert!(decoded.contains(&link), "{message}");
    let pool = t.pool().clone();
    let (status, attempts): (String, i32) = eventually(Duration::from_secs(5), "sent", || {
        let pool = pool.clone();
        async move {
            let row: (String, i32) = sqlx::query_as("SELECT status, attempts FROM mail_outbox")
                .fetch_one(&pool)
                .await
                .unwrap();
            (row.0 == "sent").then_some(row)
        }
    })
    .await;
    assert_eq!((status.as_str(), attempts), ("sent", 3));
    assert_eq!(smtp.messages.lock().unwrap().len(), 1, "sent exactly once");

    // The emailed link opens a confirmation form (no side effect on GET).
    let page = t
        .client
        .get(t.url(&format!("/verify-email?account={id}&token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert!(
        !account_event_types(t.pool(), &id)
            .await
            .contains(&"EmailVerified".to_owned())
    );
    let confirmed = t
        .client
        .post(t.url("/verify-email"))
        .form(&[("account", id.as_str()), ("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert!(
        account_event_types(t.pool(), &id)
            .await
            .contains(&"EmailVerified".to_owned())
    );
    assert!(session_cookie(&confirmed).is_none());
    t.app.shutdown().await.unwrap();
}
