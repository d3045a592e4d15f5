//! Rate limits per client address with the PRODUCT §2 numbers, and
//! `X-Forwarded-For` spoofing. Each over-limit answer is 429 with
//! `Retry-After`, the same body, and appends nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use tests::{TestApp, count_events, history, spawn_fast_app, test_clock};

const PASSWORD: &str = "Correct-Horse-9";

/// The production limits (the other test files raise them).
const PRODUCTION: [(&str, &str); 6] = [
    ("CRYPTOLENS_RATE_LIMIT__LOGIN_PER_MINUTE", "20"),
    ("CRYPTOLENS_RATE_LIMIT__REGISTER_PER_HOUR", "3"),
    ("CRYPTOLENS_RATE_LIMIT__EMAIL_PER_HOUR", "3"),
    ("CRYPTOLENS_RATE_LIMIT__RESET_PER_HOUR", "5"),
    ("CRYPTOLENS_RATE_LIMIT__DEFAULT_PER_MINUTE", "200"),
    ("CRYPTOLENS_RATE_LIMIT__API_KEY_PER_MINUTE", "60"),
];

async fn app(pool: PgPool, extra: &[(&str, &str)]) -> TestApp {
    let mut vars: Vec<(&str, &str)> = PRODUCTION.to_vec();
    vars.extend_from_slice(extra);
    spawn_fast_app(pool, test_clock(), &vars).await
}

/// Asserts a 429 with `Retry-After` in `retry` and the standard body.
async fn assert_limited(response: reqwest::Response, retry: std::ops::RangeInclusive<u64>) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry.contains(&after), "Retry-After {after}");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "rate_limited", "message": format!("too many requests; try again in {after} s")})
    );
}

fn login(t: &TestApp, email: &str, forwarded: Option<&str>) -> reqwest::RequestBuilder {
    let request = t
        .client
        .post(t.url("/api/v1/sessions"))
        .json(&json!({"email": email, "password": "Wrong-Horse-9"}));
    match forwarded {
        Some(xff) => request.header("x-forwarded-for", xff),
        None => request,
    }
}

/// Sends `n` requests at once; each must be answered 401.
async fn burst(n: usize, request: impl Fn(usize) -> reqwest::RequestBuilder) {
    let responses = futures::future::join_all((0..n).map(|i| request(i).send())).await;
    for response in responses {
        assert_eq!(response.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn registration_is_limited_to_3_posts_an_hour_and_reads_do_not_count(pool: PgPool) {
    let t = app(pool, &[]).await;
    for n in 0..5 {
        let read = t
            .client
            .get(t.url("/api/v1/accounts/0190c0de-0000-7000-8000-000000000000"))
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), StatusCode::UNAUTHORIZED, "read {n}");
    }
    for n in 0..3 {
        t.register(&format!("u{n}@example.com"), &format!("user{n}"), PASSWORD)
            .await;
    }
    let before = count_events(t.pool()).await;
    let fourth = t
        .client
        .post(t.url("/api/v1/accounts"))
        .json(&json!({"email": "u4@example.com", "username": "user4", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    // One registration comes back every 20 minutes.
    assert_limited(fourth, 1190..=1200).await;
    assert_eq!(count_events(t.pool()).await, before);
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_in_is_limited_to_20_a_minute(pool: PgPool) {
    let t = app(pool, &[]).await;
    // At once: failures answer after 300 ms, and the bucket refills one every 3 s.
    burst(20, |_| login(&t, "nobody@example.com", None)).await;
    let before = count_events(t.pool()).await;
    assert_limited(
        login(&t, "nobody@example.com", None).send().await.unwrap(),
        1..=3,
    )
    .await;
    assert_eq!(count_events(t.pool()).await, before);
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_spoofed_x_forwarded_for_from_an_untrusted_peer_is_ignored(pool: PgPool) {
    let t = app(pool, &[("CRYPTOLENS_TRUSTED_PROXIES", "10.0.0.1")]).await;
    let id = t.register("ada@example.com", "ada", PASSWORD).await;
    // Twenty attempts, each claiming another address: all count against 127.0.0.1.
    burst(20, |n| {
        login(&t, "ada@example.com", Some(&format!("198.51.100.{n}")))
    })
    .await;
    let before = count_events(t.pool()).await;
    assert_limited(
        login(&t, "ada@example.com", Some("203.0.113.99"))
            .send()
            .await
            .unwrap(),
        1..=3,
    )
    .await;
    assert_eq!(count_events(t.pool()).await, before);
    // The recorded address is the peer's, not the claimed one.
    let failures: Vec<_> = history(t.pool(), "account", &id)
        .await
        .into_iter()
        .filter(|(kind, _, _)| kind == "LoginFailed")
        .collect();
    assert!(!failures.is_empty());
    for (_, payload, metadata) in failures {
        assert_eq!(payload["LoginFailed"]["client_ip"], "127.0.0.1");
        assert_eq!(metadata["client_ip"], "127.0.0.1");
    }
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn x_forwarded_for_from_a_trusted_proxy_names_the_client(pool: PgPool) {
    let t = app(pool, &[("CRYPTOLENS_TRUSTED_PROXIES", "127.0.0.0/8")]).await;
    let id = t.register("ada@example.com", "ada", PASSWORD).await;
    burst(20, |_| {
        login(&t, "ada@example.com", Some("1.2.3.4, 203.0.113.7"))
    })
    .await;
    assert_limited(
        login(&t, "ada@example.com", Some("203.0.113.7"))
            .send()
            .await
            .unwrap(),
        1..=3,
    )
    .await;
    // Another client behind the same proxy has its own budget.
    let other = login(&t, "nobody@example.com", Some("203.0.113.8"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
    let (_, payload, metadata) = history(t.pool(), "account", &id)
        .await
        .into_iter()
        .find(|(kind, _, _)| kind == "LoginFailed")
        .unwrap();
    // The rightmost untrusted hop, not the client-written first one.
    assert_eq!(payload["LoginFailed"]["client_ip"], "203.0.113.7");
    assert_eq!(metadata["client_ip"], "203.0.113.7");
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn forgot_and_resend_share_3_an_hour_and_reset_has_5(pool: PgPool) {
    let t = app(pool, &[]).await;
    for (n, path) in [
        "/api/v1/password-reset",
        "/api/v1/email-verification/resend",
        "/api/v1/password-reset",
    ]
    .into_iter()
    .enumerate()
    {
        let response = t
            .client
            .post(t.url(path))
            .json(&json!({"email": format!("x{n}@example.com")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let fourth = t
        .client
        .post(t.url("/api/v1/email-verification/resend"))
        .json(&json!({"email": "x@example.com"}))
        .send()
        .await
        .unwrap();
    assert_limited(fourth, 1190..=1200).await;

    let reset = || {
        t.client
            .post(t.url("/api/v1/password-reset/confirm"))
            .json(&json!({
                "account_id": "0190c0de-0000-7000-8000-000000000000",
                "token": "guess",
                "new_password": "Brand-New-Pass-7"
            }))
    };
    for _ in 0..5 {
        let response = reset().send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    // One reset comes back every 12 minutes.
    assert_limited(reset().send().await.unwrap(), 710..=720).await;
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn everything_else_is_limited_to_200_a_minute_except_health(pool: PgPool) {
    let t = app(pool, &[]).await;
    // A burst of 200, then one more every 300 ms: the limit is met just
    // after 200 plus what refilled while they ran.
    let started = std::time::Instant::now();
    let mut allowed = 0u32;
    let limited = loop {
        let response = t.client.get(t.url("/api/v1/me")).send().await.unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            break response;
        }
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        allowed += 1;
        assert!(allowed <= 400, "never limited");
    };
    let refilled = (started.elapsed().as_millis() / 300) as u32;
    assert!(
        (200..=200 + refilled + 1).contains(&allowed),
        "{allowed} allowed in {:?}",
        started.elapsed()
    );
    assert_limited(limited, 1..=1).await;
    let html = t.client.get(t.url("/login")).send().await.unwrap();
    assert_eq!(html.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(html.headers().contains_key("content-security-policy"));
    let live = t.client.get(t.url("/health/live")).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    t.app.shutdown().await.unwrap();
}
