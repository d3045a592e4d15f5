//! TOTP two-factor authentication: the pending state and the code step,
//! one use per time step, one use per recovery code, failures counting
//! towards the lockout, the password to disable it, and secrets sealed at
//! rest under a rotatable key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use commands::ports::{Clock, FakeClock};
use commands::totp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use tests::{
    Browser, TestApp, account_event_types, count_events, history, session_cookie, spawn_fast_app,
    test_clock, test_config_with,
};

const PASSWORD: &str = "Correct-Horse-9";

struct Enrolled {
    t: TestApp,
    clock: Arc<FakeClock>,
    id: String,
    secret: Vec<u8>,
    recovery: Vec<String>,
}

impl Enrolled {
    fn code(&self) -> String {
        let unix = u64::try_from(self.clock.now().unix_timestamp()).unwrap();
        totp::code_at(&self.secret, 6, unix).unwrap()
    }

    /// Password step: returns the pending browser.
    async fn password_step(&self) -> Browser {
        let response = self.t.login("ada@example.com", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        let cookie = session_cookie(&response).unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "two_factor_required");
        Browser {
            cookie,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    async fn code_step(&self, pending: &Browser, code: &str) -> reqwest::Response {
        self.t
            .post_as(pending, "/api/v1/sessions/two-factor")
            .json(&json!({"code": code}))
            .send()
            .await
            .unwrap()
    }
}

async fn enrolled(pool: PgPool) -> Enrolled {
    let clock = test_clock();
    let t = spawn_fast_app(pool, clock.clone(), &[]).await;
    let (id, ada) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    let enrolment: Value = t
        .post_as(&ada, "/api/v1/account/two-factor/enrolment")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let base32 = enrolment["secret"].as_str().unwrap();
    let secret = totp_rs::Secret::Encoded(base32.to_owned())
        .to_bytes()
        .unwrap();
    assert_eq!(secret.len(), 20, "160-bit secret");
    let url = enrolment["otpauth_url"].as_str().unwrap();
    assert!(url.starts_with("otpauth://totp/CryptoLens:ada?"), "{url}");
    for part in [&format!("secret={base32}") as &str, "issuer=CryptoLens"] {
        assert!(url.contains(part), "{url}");
    }
    let svg = enrolment["qr_svg"].as_str().unwrap();
    assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");

    let mut state = Enrolled {
        t,
        clock,
        id,
        secret,
        recovery: Vec::new(),
    };
    let confirmed = state
        .t
        .post_as(&ada, "/api/v1/account/two-factor")
        .json(&json!({"code": state.code()}))
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);
    let codes: Value = confirmed.json().await.unwrap();
    state.recovery = codes["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(state.recovery.len(), 10);
    // The enrolment used this step; the next sign-in needs the next one.
    state.clock.advance(time::Duration::seconds(30));
    state
}

fn code_failed() -> Value {
    json!({"error": "unauthenticated", "message": "the code is wrong"})
}

#[sqlx::test(migrations = "../migrations")]
async fn a_user_with_two_factor_gets_a_pending_session_then_a_code_step(pool: PgPool) {
    let e = enrolled(pool).await;
    let pending = e.password_step().await;
    let me = e.t.get_as(&pending, "/api/v1/me").send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        me.json::<Value>().await.unwrap(),
        json!({"error": "unauthenticated", "message": "complete the two-factor step first"})
    );
    // The code step is a session call: it needs the pending session's CSRF token.
    let no_token =
        e.t.client
            .post(e.t.url("/api/v1/sessions/two-factor"))
            .header("cookie", pending.cookie_header())
            .json(&json!({"code": e.code()}))
            .send()
            .await
            .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);

    let done = e.code_step(&pending, &e.code()).await;
    assert_eq!(done.status(), StatusCode::OK);
    let signed_in = session_cookie(&done).unwrap();
    assert_ne!(
        signed_in, pending.cookie,
        "a new id after the second factor"
    );
    assert_eq!(done.json::<Value>().await.unwrap()["status"], "signed_in");
    let me =
        e.t.client
            .get(e.t.url("/api/v1/me"))
            .header("cookie", format!("__Host-cl_session={signed_in}"))
            .send()
            .await
            .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(
        e.t.get_as(&pending, "/api/v1/me")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let types = account_event_types(e.t.pool(), &e.id).await;
    assert_eq!(
        types[types.len() - 3..],
        [
            "PasswordAccepted".to_owned(),
            "TwoFactorCodeAccepted".to_owned(),
            "LoginSucceeded".to_owned()
        ]
    );
    e.t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_totp_code_replay_is_rejected(pool: PgPool) {
    let e = enrolled(pool).await;
    let code = e.code();
    let first = e.password_step().await;
    assert_eq!(e.code_step(&first, &code).await.status(), StatusCode::OK);
    // The same code again, still inside its 90-second window.
    e.clock.advance(time::Duration::seconds(20));
    let second = e.password_step().await;
    let before = count_events(e.t.pool()).await;
    let replay = e.code_step(&second, &code).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&replay).is_none());
    assert_eq!(replay.json::<Value>().await.unwrap(), code_failed());
    let events = history(e.t.pool(), "account", &e.id).await;
    assert_eq!(
        count_events(e.t.pool()).await,
        before + 1,
        "only the failure"
    );
    let (kind, payload, _) = events.last().unwrap();
    assert_eq!(kind, "LoginFailed");
    assert_eq!(payload["LoginFailed"]["reason"], "replayed_code");
    // Codes outside ±1 step are wrong, not replays.
    let unix = u64::try_from(e.clock.now().unix_timestamp()).unwrap();
    let stale = totp::code_at(&e.secret, 6, unix - 90).unwrap();
    let third = e.password_step().await;
    assert_eq!(
        e.code_step(&third, &stale).await.status(),
        StatusCode::UNAUTHORIZED
    );
    e.clock.advance(time::Duration::seconds(30));
    assert_eq!(
        e.code_step(&third, &e.code()).await.status(),
        StatusCode::OK
    );
    e.t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_recovery_code_works_once(pool: PgPool) {
    let e = enrolled(pool).await;
    let pending = e.password_step().await;
    let used = e.code_step(&pending, &e.recovery[4].to_uppercase()).await;
    assert_eq!(used.status(), StatusCode::OK);
    let again = e.password_step().await;
    let before = count_events(e.t.pool()).await;
    let reuse = e.code_step(&again, &e.recovery[4]).await;
    assert_eq!(reuse.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(reuse.json::<Value>().await.unwrap(), code_failed());
    assert_eq!(count_events(e.t.pool()).await, before + 1);
    let events = history(e.t.pool(), "account", &e.id).await;
    assert_eq!(
        events.last().unwrap().1["LoginFailed"]["reason"],
        "wrong_second_factor"
    );
    let used: Vec<_> = events
        .iter()
        .filter(|(k, _, _)| k == "RecoveryCodeUsed")
        .collect();
    assert_eq!(used.len(), 1);
    // Only hashes were ever recorded.
    let enrolled = events
        .iter()
        .find(|(k, _, _)| k == "TwoFactorEnrolled")
        .unwrap();
    let text = enrolled.1.to_string();
    for code in &e.recovery {
        assert!(!text.contains(code.as_str()));
    }
    assert_eq!(
        e.code_step(&again, &e.recovery[5]).await.status(),
        StatusCode::OK
    );
    e.t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn two_factor_failures_count_towards_the_lockout(pool: PgPool) {
    let e = enrolled(pool).await;
    let pending = e.password_step().await;
    for _ in 0..5 {
        assert_eq!(
            e.code_step(&pending, "000000").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let types = account_event_types(e.t.pool(), &e.id).await;
    assert_eq!(types.last().unwrap(), "AccountLocked");
    // Locked: right password and right code both get the generic answers.
    let locked = e.t.login("ada@example.com", PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        locked.json::<Value>().await.unwrap(),
        json!({"error": "unauthenticated", "message": "the email address or the password is wrong"})
    );
    let code = e.code_step(&pending, &e.code()).await;
    assert_eq!(code.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code.json::<Value>().await.unwrap(), code_failed());
    e.t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn disabling_two_factor_requires_the_password(pool: PgPool) {
    let e = enrolled(pool).await;
    let pending = e.password_step().await;
    let done = e.code_step(&pending, &e.code()).await;
    let browser = Browser {
        cookie: session_cookie(&done).unwrap(),
        csrf: done.json::<Value>().await.unwrap()["csrf_token"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    let before = count_events(e.t.pool()).await;
    let wrong =
        e.t.post_as(&browser, "/api/v1/account/two-factor/disable")
            .json(&json!({"password": "Wrong-Horse-9"}))
            .send()
            .await
            .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        wrong.json::<Value>().await.unwrap(),
        json!({"error": "wrong_password", "message": "the password is wrong"})
    );
    assert_eq!(count_events(e.t.pool()).await, before);
    let right =
        e.t.post_as(&browser, "/api/v1/account/two-factor/disable")
            .json(&json!({"password": PASSWORD}))
            .send()
            .await
            .unwrap();
    assert_eq!(right.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        account_event_types(e.t.pool(), &e.id).await.last().unwrap(),
        "TwoFactorDisabled"
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM totp_secrets")
        .fetch_one(e.t.pool())
        .await
        .unwrap();
    assert_eq!(rows, 0);
    let plain = e.t.login("ada@example.com", PASSWORD).await;
    assert_eq!(plain.json::<Value>().await.unwrap()["status"], "signed_in");
    e.t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn secrets_are_sealed_at_rest_and_a_key_rotation_reseals_them(pool: PgPool) {
    let e = enrolled(pool.clone()).await;
    let (key_id, nonce, ciphertext): (String, Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT key_id, nonce, ciphertext FROM totp_secrets")
            .fetch_one(e.t.pool())
            .await
            .unwrap();
    assert_eq!(key_id, "k1");
    assert_eq!(nonce.len(), 12);
    assert_eq!(ciphertext.len(), 20 + 16, "secret + tag");
    assert!(!ciphertext.windows(20).any(|w| w == e.secret.as_slice()));
    e.t.app.shutdown().await.unwrap();

    let new_key = format!("k2:{}", "55".repeat(32));
    let both = format!("{new_key},k1:{}", "44".repeat(32));
    let config = test_config_with(&[("CRYPTOLENS_SEALING_KEYS", both.as_str())]);
    let rotated = adapters::cli::keys::rotate(&pool, &config).await.unwrap();
    assert_eq!(rotated.totp_secrets, 1);
    assert_eq!(
        adapters::cli::keys::rotate(&pool, &config)
            .await
            .unwrap()
            .totp_secrets,
        0
    );
    let key_id: String = sqlx::query_scalar("SELECT key_id FROM totp_secrets")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(key_id, "k2");

    // The old key can now go: the app runs on k2 alone and 2FA still works.
    let t = spawn_fast_app(
        pool,
        e.clock.clone(),
        &[("CRYPTOLENS_SEALING_KEYS", new_key.as_str())],
    )
    .await;
    let e = Enrolled { t, ..e };
    e.clock.advance(time::Duration::seconds(30));
    let pending = e.password_step().await;
    assert_eq!(
        e.code_step(&pending, &e.code()).await.status(),
        StatusCode::OK
    );
    e.t.app.shutdown().await.unwrap();
}
