//! API keys: `cl_<prefix>_<secret>`, shown once, Bearer only, scoped,
//! expiring, revocable, rate limited per key, and acting with the owner's
//! current state.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use commands::ports::FakeClock;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use tests::{Browser, TestApp, count_events, spawn_fast_app, test_clock};

const PASSWORD: &str = "Correct-Horse-9";

fn invalid_key() -> Value {
    json!({"error": "unauthenticated", "message": "the API key is invalid, expired or revoked"})
}

/// A verified user (verified by an admin) signed in, and the admin.
async fn verified_user(
    pool: PgPool,
    clock: Arc<FakeClock>,
    vars: &[(&str, &str)],
) -> (TestApp, String, Browser, Browser) {
    let t = spawn_fast_app(pool, clock, vars).await;
    let (_, admin) = t.create_admin(PASSWORD).await;
    let (id, ada) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    let verified = t
        .post_as(&admin, &format!("/api/v1/admin/accounts/{id}/verify"))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), StatusCode::OK);
    (t, id, ada, admin)
}

async fn issue(t: &TestApp, who: &Browser, body: Value) -> Value {
    let response = t
        .post_as(who, "/api/v1/api-keys")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// Issues a key and returns just the key.
async fn issue_key(t: &TestApp, who: &Browser, body: Value) -> String {
    issue(t, who, body).await["key"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn bearer(t: &TestApp, key: &str, path: &str) -> reqwest::RequestBuilder {
    t.client.get(t.url(path)).bearer_auth(key)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_key_is_shown_once_and_stored_only_as_a_peppered_hash(pool: PgPool) {
    let (t, id, ada, _) = verified_user(pool, test_clock(), &[]).await;
    let created = issue(&t, &ada, json!({"name": "trading bot", "scopes": ["read:signals", "read:market"], "expires_in_days": 30})).await;
    let key = created["key"].as_str().unwrap();
    let key_id = created["id"].as_str().unwrap();
    let prefix = key_id.replace('-', "");
    assert!(key.starts_with(&format!("cl_{prefix}_")), "{key}");
    assert_eq!(created["scopes"], json!(["read:market", "read:signals"]));
    assert_eq!(created["expires_at"], "2026-12-28T09:00:00Z");
    let secret = key.rsplit_once(&format!("{prefix}_")).unwrap().1;
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE payload::text LIKE '%' || $1 || '%'")
            .bind(secret)
            .fetch_one(t.pool())
            .await
            .unwrap();
    assert_eq!(stored, 0, "the secret is in no event");

    let current = bearer(&t, key, "/api/v1/api-keys/current")
        .send()
        .await
        .unwrap();
    assert_eq!(current.status(), StatusCode::OK);
    assert_eq!(
        current.json::<Value>().await.unwrap(),
        json!({"id": key_id, "account_id": id, "scopes": ["read:market", "read:signals"]})
    );
    // Listed by name, never with the key; last-used time recorded.
    let list: Vec<Value> = t
        .get_as(&ada, "/api/v1/api-keys")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "trading bot");
    assert_eq!(list[0]["prefix"], format!("cl_{prefix}"));
    assert_eq!(list[0]["last_used_at"], "2026-11-28T09:00:00Z");
    assert!(!list[0].to_string().contains(secret));
    // Many keys per user.
    issue(
        &t,
        &ada,
        json!({"name": "second", "scopes": ["read:portfolio"]}),
    )
    .await;
    let list: Vec<Value> = t
        .get_as(&ada, "/api/v1/api-keys")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    // A key cannot mint keys.
    let minted = t
        .client
        .post(t.url("/api/v1/api-keys"))
        .bearer_auth(key)
        .json(&json!({"name": "x", "scopes": ["read:market"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(minted.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        minted.json::<Value>().await.unwrap()["error"],
        "session_required"
    );
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_key_in_a_query_string_is_rejected(pool: PgPool) {
    let (t, _, ada, _) = verified_user(pool, test_clock(), &[]).await;
    let key = issue_key(&t, &ada, json!({"name": "bot", "scopes": ["read:market"]})).await;
    for query in [
        format!("api_key={key}"),
        format!("token={key}"),
        format!("k={key}"),
    ] {
        let response = t
            .client
            .get(t.url(&format!("/api/v1/api-keys/current?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"error": "api_key_in_query", "message": "API keys are accepted only in the Authorization: Bearer header; this key is now exposed in logs and should be revoked"})
        );
    }
    let used: i64 = sqlx::query_scalar("SELECT count(*) FROM api_key_usage")
        .fetch_one(t.pool())
        .await
        .unwrap();
    assert_eq!(used, 0, "the key was never accepted");
    // Not a Bearer: refused too.
    let basic = t
        .client
        .get(t.url("/api/v1/api-keys/current"))
        .header("authorization", format!("Token {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_key_without_the_scope_is_refused(pool: PgPool) {
    let (t, id, ada, _) = verified_user(pool, test_clock(), &[]).await;
    let market = issue_key(&t, &ada, json!({"name": "m", "scopes": ["read:market"]})).await;
    let portfolio = issue_key(&t, &ada, json!({"name": "p", "scopes": ["read:portfolio"]})).await;
    let path = format!("/api/v1/accounts/{id}");
    let refused = bearer(&t, &market, &path).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        json!({"error": "insufficient_scope", "message": "this API key lacks the read:portfolio scope"})
    );
    let allowed = bearer(&t, &portfolio, &path).send().await.unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(allowed.json::<Value>().await.unwrap()["username"], "ada");
    // Unknown scopes are refused at issue time.
    let bad = t
        .post_as(&ada, "/api/v1/api-keys")
        .json(&json!({"name": "x", "scopes": ["admin"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_revoked_key_is_refused_and_only_its_owner_revokes_it(pool: PgPool) {
    let (t, _, ada, admin) = verified_user(pool, test_clock(), &[]).await;
    let created = issue(&t, &ada, json!({"name": "bot", "scopes": ["read:market"]})).await;
    let (key, key_id) = (
        created["key"].as_str().unwrap(),
        created["id"].as_str().unwrap(),
    );
    // Another user (even an admin) cannot revoke it: 404, nothing recorded.
    let before = count_events(t.pool()).await;
    let foreign = t
        .delete_as(&admin, &format!("/api/v1/api-keys/{key_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    assert_eq!(count_events(t.pool()).await, before);
    let revoke = || t.delete_as(&ada, &format!("/api/v1/api-keys/{key_id}"));
    assert_eq!(
        revoke().send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let refused = bearer(&t, key, "/api/v1/api-keys/current")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json::<Value>().await.unwrap(), invalid_key());
    assert_eq!(
        revoke().send().await.unwrap().status(),
        StatusCode::CONFLICT
    );
    let (kind, _, metadata): (String, Value, Value) = sqlx::query_as(
        "SELECT event_type, payload, metadata FROM events WHERE aggregate_type = 'api_key' AND aggregate_id = $1 ORDER BY sequence DESC LIMIT 1",
    )
    .bind(key_id)
    .fetch_one(t.pool())
    .await
    .unwrap();
    assert_eq!(kind, "ApiKeyRevoked");
    assert!(metadata["actor"].as_str().unwrap().starts_with("account:"));
    // A forged secret on a real prefix is refused the same way.
    let created = issue(&t, &ada, json!({"name": "bot2", "scopes": ["read:market"]})).await;
    let real = created["key"].as_str().unwrap();
    let forged = format!("{}{}", &real[..real.len() - 43], "A".repeat(43));
    let response = bearer(&t, &forged, "/api/v1/api-keys/current")
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<Value>().await.unwrap(), invalid_key());
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn an_expired_key_is_refused(pool: PgPool) {
    let clock = test_clock();
    let (t, _, ada, _) = verified_user(pool, clock.clone(), &[]).await;
    let key = issue_key(
        &t,
        &ada,
        json!({"name": "bot", "scopes": ["read:market"], "expires_in_days": 1}),
    )
    .await;
    clock.advance(time::Duration::hours(23) + time::Duration::minutes(59));
    assert_eq!(
        bearer(&t, &key, "/api/v1/api-keys/current")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    clock.advance(time::Duration::minutes(1));
    let expired = bearer(&t, &key, "/api/v1/api-keys/current")
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(expired.json::<Value>().await.unwrap(), invalid_key());
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_key_of_a_deactivated_owner_is_refused(pool: PgPool) {
    let (t, id, ada, admin) = verified_user(pool, test_clock(), &[]).await;
    let key = issue_key(&t, &ada, json!({"name": "bot", "scopes": ["read:market"]})).await;
    let deactivate = t
        .post_as(&admin, &format!("/api/v1/admin/accounts/{id}/deactivate"))
        .send()
        .await
        .unwrap();
    assert_eq!(deactivate.status(), StatusCode::OK);
    let refused = bearer(&t, &key, "/api/v1/api-keys/current")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json::<Value>().await.unwrap(), invalid_key());
    // The key follows the owner's current state: reactivated, it works again.
    t.post_as(&admin, &format!("/api/v1/admin/accounts/{id}/reactivate"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        bearer(&t, &key, "/api/v1/api-keys/current")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn each_key_has_its_own_rate_limit(pool: PgPool) {
    let (t, _, ada, _) = verified_user(
        pool,
        test_clock(),
        &[("CRYPTOLENS_RATE_LIMIT__API_KEY_PER_MINUTE", "60")],
    )
    .await;
    let first = issue_key(&t, &ada, json!({"name": "a", "scopes": ["read:market"]})).await;
    let second = issue_key(&t, &ada, json!({"name": "b", "scopes": ["read:market"]})).await;
    let started = std::time::Instant::now();
    let mut allowed = 0u32;
    let limited = loop {
        let response = bearer(&t, &first, "/api/v1/api-keys/current")
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            break response;
        }
        assert_eq!(response.status(), StatusCode::OK);
        allowed += 1;
        assert!(allowed <= 120, "never limited");
    };
    let refilled = started.elapsed().as_secs() as u32;
    assert!((60..=61 + refilled).contains(&allowed), "{allowed}");
    assert_eq!(limited.headers()["retry-after"], "1");
    assert_eq!(
        limited.json::<Value>().await.unwrap()["error"],
        "rate_limited"
    );
    assert_eq!(
        bearer(&t, &second, "/api/v1/api-keys/current")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK,
        "another key has its own budget"
    );
    t.app.shutdown().await.unwrap();
}
