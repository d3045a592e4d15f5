//! Black-box tests of the accounts slice over real HTTP, with the real
//! application started on port 0 against a fresh database per test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use tests::{count_events, eventually, spawn_app};

#[sqlx::test(migrations = "../migrations")]
async fn a_user_registers_signs_in_and_reads_the_account_back(pool: PgPool) {
    let t = spawn_app(pool).await;
    let created = t
        .client
        .post(t.url("/api/v1/accounts"))
        .json(&json!({"email": "Ada@Example.com", "username": "ada_l", "password": "Correct-Horse-9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let signed_in = t
        .client
        .post(t.url("/api/v1/sessions"))
        .json(&json!({"email": "ada@example.com", "password": "Correct-Horse-9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    let cookie = tests::session_cookie(&signed_in).unwrap();
    let signed_in: Value = signed_in.json().await.unwrap();
    assert_eq!(signed_in["account_id"], id.as_str());
    assert_eq!(signed_in["status"], "signed_in");
    let cookie = format!("__Host-cl_session={cookie}");

    // Read-your-writes: straight after sign-in the account is readable by its owner.
    let read = t
        .client
        .get(t.url(&format!("/api/v1/accounts/{id}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let body: Value = read.json().await.unwrap();
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["username"], "ada_l");
    assert_eq!(body["logins_succeeded"], 1);
    assert_eq!(body["verified"], false);
    assert!(
        body.get("email").is_none(),
        "the email is not exposed: {body}"
    );

    let wrong = t
        .client
        .post(t.url("/api/v1/sessions"))
        .json(&json!({"email": "ada@example.com", "password": "Wrong-Horse-9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong_body: Value = wrong.json().await.unwrap();

    let unknown = t
        .client
        .post(t.url("/api/v1/sessions"))
        .json(&json!({"email": "nobody@example.com", "password": "Wrong-Horse-9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown.json::<Value>().await.unwrap(),
        wrong_body,
        "unknown email and wrong password answer alike"
    );

    let url = t.url(&format!("/api/v1/accounts/{id}"));
    let client = t.client.clone();
    let account = eventually(
        Duration::from_secs(10),
        "both sign-ins in the projection",
        || {
            let (client, url, cookie) = (client.clone(), url.clone(), cookie.clone());
            async move {
                let body: Value = client
                    .get(&url)
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()?;
                (body["logins_succeeded"] == 1 && body["logins_failed"] == 1).then_some(body)
            }
        },
    )
    .await;
    assert!(account["last_login_at"].is_string());

    // The history tells the story, with metadata.
    let history: Vec<(String, Value)> = sqlx::query_as(
        "SELECT event_type, metadata FROM events WHERE aggregate_type = 'account' AND aggregate_id = $1 ORDER BY sequence",
    )
    .bind(&id)
    .fetch_all(t.pool())
    .await
    .unwrap();
    let types: Vec<_> = history.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "AccountRegistered",
            "EmailVerificationRequested",
            "LoginSucceeded",
            "LoginFailed"
        ]
    );
    for (_, metadata) in &history {
        assert_eq!(metadata["client_ip"], "127.0.0.1");
        assert!(metadata["request_id"].is_string() && metadata["correlation_id"].is_string());
        assert!(metadata["actor"].is_string());
    }
    assert_eq!(history[2].1["actor"], format!("account:{id}"));
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn twenty_concurrent_registrations_of_one_email_let_exactly_one_succeed(pool: PgPool) {
    let t = spawn_app(pool).await;
    let attempts = (0..20).map(|i| {
        let (client, url) = (t.client.clone(), t.url("/api/v1/accounts"));
        async move {
            let response = client
                .post(url)
                .json(&json!({"email": "race@example.com", "username": format!("racer_{i}"), "password": "Correct-Horse-9"}))
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }
    });
    let results = futures::future::join_all(attempts).await;
    let created = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let taken = results
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["error"] == "email_taken")
        .count();
    assert_eq!((created, taken), (1, 19), "{results:?}");
    let registered: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'AccountRegistered'
            AND payload->'AccountRegistered'->>'email' = 'race@example.com'",
    )
    .fetch_one(t.pool())
    .await
    .unwrap();
    assert_eq!(registered, 1);
    // The losers' usernames were released again: they can register elsewhere.
    let retry = t
        .client
        .post(t.url("/api/v1/accounts"))
        .json(&json!({"email": "other@example.com", "username": "racer_0", "password": "Correct-Horse-9"}))
        .send()
        .await
        .unwrap();
    let racer_0_won = results[0].0 == StatusCode::CREATED;
    assert_eq!(
        retry.status(),
        if racer_0_won {
            StatusCode::CONFLICT
        } else {
            StatusCode::CREATED
        }
    );
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn taken_and_invalid_registrations_get_409_and_422_with_fields(pool: PgPool) {
    let t = spawn_app(pool).await;
    let post = |body: Value| t.client.post(t.url("/api/v1/accounts")).json(&body).send();
    assert_eq!(
        post(json!({"email": "a@example.com", "username": "alpha", "password": "Correct-Horse-9"}))
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    let before = count_events(t.pool()).await;
    let email_taken =
        post(json!({"email": "A@EXAMPLE.COM", "username": "beta", "password": "Correct-Horse-9"}))
            .await
            .unwrap();
    assert_eq!(email_taken.status(), StatusCode::CONFLICT);
    assert_eq!(
        email_taken.json::<Value>().await.unwrap()["error"],
        "email_taken"
    );
    let name_taken =
        post(json!({"email": "b@example.com", "username": "ALPHA", "password": "Correct-Horse-9"}))
            .await
            .unwrap();
    assert_eq!(name_taken.status(), StatusCode::CONFLICT);
    assert_eq!(
        name_taken.json::<Value>().await.unwrap()["error"],
        "username_taken"
    );

    let invalid = post(json!({"email": "nope", "username": "x!", "password": "password"}))
        .await
        .unwrap();
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        invalid.json::<Value>().await.unwrap(),
        json!({
            "error": "validation_failed",
            "message": "some fields are invalid",
            "fields": {
                "email": "is not a valid email address",
                "username": "must be 3 to 30 characters",
                "password": "must contain an upper-case letter"
            }
        })
    );
    // Refused registrations leave only released reservations behind, and
    // invalid ones append nothing at all.
    let appended: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM events ORDER BY transaction_id, global_position OFFSET $1",
    )
    .bind(before)
    .fetch_all(t.pool())
    .await
    .unwrap();
    assert!(
        appended
            .iter()
            .all(|e| e == "ClaimReserved" || e == "ClaimReleased"),
        "{appended:?}"
    );
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_requests_get_4xx_in_the_error_shape_never_500(pool: PgPool) {
    let t = spawn_app(pool).await;
    let before = count_events(t.pool()).await;
    let url = t.url("/api/v1/accounts");
    let cases: Vec<(reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (t.client.post(&url).header("content-type", "application/json").body("{not json"), StatusCode::BAD_REQUEST, "malformed_json"),
        (t.client.post(&url).header("content-type", "text/plain").body("{}"), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        (t.client.post(&url).body(r#"{"email":"a@b.co"}"#), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        (t.client.post(&url).json(&json!({"email": "a@b.co"})), StatusCode::BAD_REQUEST, "invalid_body"),
        (t.client.post(&url).json(&json!({"email": 5, "username": "x", "password": "y"})), StatusCode::BAD_REQUEST, "invalid_body"),
        (t.client.post(&url).json(&json!({"email": "a@b.co", "username": "abc", "password": "Correct-Horse-9", "admin": true})), StatusCode::BAD_REQUEST, "invalid_body"),
        (
            t.client.post(&url).header("content-type", "application/json").body(format!(r#"{{"email":"{}"}}"#, "a".repeat(70_000))),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (t.client.get(t.url("/api/v1/accounts/not-a-uuid")), StatusCode::UNAUTHORIZED, "unauthenticated"),
        (t.client.get(t.url("/api/v1/accounts/0190c0de-0000-7000-8000-000000000000")), StatusCode::UNAUTHORIZED, "unauthenticated"),
        (t.client.get(t.url("/no/such/route")), StatusCode::NOT_FOUND, "not_found"),
        (t.client.delete(&url), StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        (t.client.post(t.url("/api/v1/sessions")).json(&json!({"email": "x"})), StatusCode::BAD_REQUEST, "invalid_body"),
    ];
    for (request, status, code) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "expected {code}");
        assert!(response.headers().contains_key("x-request-id"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], code, "{body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
    assert_eq!(
        count_events(t.pool()).await,
        before,
        "no bad request appended anything"
    );
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn health_metrics_and_request_ids(pool: PgPool) {
    let t = spawn_app(pool).await;
    let live = t.client.get(t.url("/health/live")).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);

    let client = t.client.clone();
    let url = t.url("/health/ready");
    let ready = eventually(Duration::from_secs(20), "readiness", || {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let response = client.get(&url).send().await.ok()?;
            (response.status() == StatusCode::OK).then_some(())?;
            response.json::<Value>().await.ok()
        }
    })
    .await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["postgres"]["ok"], true);
    assert_eq!(ready["checks"]["rabbitmq"]["ok"], true);
    assert_eq!(
        ready["checks"]["projections"]["each"]["accounts"]["ok"],
        true
    );

    let echoed = t
        .client
        .get(t.url("/health/live"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-123");
    let replaced = t
        .client
        .get(t.url("/health/live"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let generated = replaced.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");

    t.client
        .post(t.url("/api/v1/accounts"))
        .json(
            &json!({"email": "m@example.com", "username": "metric", "password": "Correct-Horse-9"}),
        )
        .send()
        .await
        .unwrap();
    let metrics = t
        .client
        .get(t.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        r#"http_requests_total{method="POST",route="/api/v1/accounts",status="201"}"#,
        "http_request_duration_seconds_bucket",
        r#"cryptolens_events_appended_total{aggregate_type="account"}"#,
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
    let client = t.client.clone();
    let url = t.url("/metrics");
    eventually(Duration::from_secs(15), "the lag gauge", || {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let text = client.get(&url).send().await.ok()?.text().await.ok()?;
            text.contains(r#"cryptolens_projection_lag_events{projection="accounts"}"#)
                .then_some(())
        }
    })
    .await;
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn readiness_is_503_when_the_broker_is_unreachable(pool: PgPool) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = tests::test_config();
    // Nothing listens on port 9 of loopback.
    config.amqp_url = Some("amqp://guest:guest@127.0.0.1:9/%2f".to_owned());
    let app = adapters::app::RunningApp::start(
        config,
        adapters::app::StartOptions {
            pool: Some(pool),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let response = reqwest::get(format!("{}/health/ready", app.base_url()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["checks"]["rabbitmq"]["ok"], false);
    assert_eq!(body["checks"]["postgres"]["ok"], true);
    app.shutdown().await.unwrap();
}
