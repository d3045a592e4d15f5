//! Attacks on sessions, sign-in and CSRF. Each test asserts the exact
//! status and body, and that nothing was appended to the event log where
//! nothing may be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::app::StartOptions;
use commands::ports::{Clock, FakeClock};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use tests::{
    Browser, TestApp, account_event_types, count_events, history, session_cookie, spawn_app,
    spawn_app_with, spawn_fast_app, test_clock, test_config_with,
};

const PASSWORD: &str = "Correct-Horse-9";

async fn fast_app(pool: PgPool, clock: Arc<FakeClock>) -> TestApp {
    spawn_fast_app(pool, clock, &[]).await
}

fn clock() -> Arc<FakeClock> {
    test_clock()
}

async fn me(t: &TestApp, cookie: &str) -> reqwest::Response {
    t.client
        .get(t.url("/api/v1/me"))
        .header("cookie", format!("__Host-cl_session={cookie}"))
        .send()
        .await
        .unwrap()
}

fn sign_in_first() -> Value {
    json!({"error": "unauthenticated", "message": "sign in first"})
}

async fn session_rows(t: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(t.pool())
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn session_fixation_a_planted_session_id_is_replaced_at_login(pool: PgPool) {
    let t = fast_app(pool, clock()).await;
    t.register("ada@example.com", "ada", PASSWORD).await;
    // The attacker plants their own valid session id in the victim's browser.
    let (_, eve) = t.signed_up("eve@example.com", "eve", PASSWORD).await;
    let login = t
        .client
        .post(t.url("/api/v1/sessions"))
        .header("cookie", eve.cookie_header())
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let fresh = session_cookie(&login).unwrap();
    assert_ne!(fresh, eve.cookie);
    assert_eq!(fresh.len(), 43, "256 bits, base64url");

    // The planted id is dead; only the fresh one is the victim's session.
    let planted = me(&t, &eve.cookie).await;
    assert_eq!(planted.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(planted.json::<Value>().await.unwrap(), sign_in_first());
    let victim = me(&t, &fresh).await;
    assert_eq!(victim.status(), StatusCode::OK);
    assert_eq!(victim.json::<Value>().await.unwrap()["username"], "ada");

    // An id the attacker made up is ignored the same way.
    let invented = "A".repeat(43);
    let login = t
        .client
        .post(t.url("/api/v1/sessions"))
        .header("cookie", format!("__Host-cl_session={invented}"))
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    assert_ne!(session_cookie(&login).unwrap(), invented);
    assert_eq!(me(&t, &invented).await.status(), StatusCode::UNAUTHORIZED);
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn the_session_cookie_is_host_prefixed_secure_http_only_and_lax(pool: PgPool) {
    let t = fast_app(pool, clock()).await;
    t.register("ada@example.com", "ada", PASSWORD).await;
    let login = t.login("ada@example.com", PASSWORD).await;
    let set_cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    let cookie = session_cookie(&login).unwrap();
    assert_eq!(
        set_cookie,
        format!(
            "__Host-cl_session={cookie}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=604800"
        )
    );
    // Only the hash of the id is stored.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_one(t.pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), 32);
    assert_ne!(stored, cookie.as_bytes());
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn csrf_a_state_change_without_the_token_is_refused(pool: PgPool) {
    let t = fast_app(pool, clock()).await;
    let (_, ada) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    let before = count_events(t.pool()).await;
    let expected = json!({
        "error": "csrf_token_invalid",
        "message": "missing or wrong X-CSRF-Token for this session"
    });
    for request in [
        t.client
            .post(t.url("/api/v1/account/password"))
            .json(&json!({"current_password": PASSWORD, "new_password": "Brand-New-Pass-7"})),
        t.client.post(t.url("/api/v1/sessions/logout")),
        t.client
            .post(t.url("/api/v1/api-keys"))
            .json(&json!({"name": "x", "scopes": ["read:market"]})),
    ] {
        let response = request
            .header("cookie", ada.cookie_header())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(response.json::<Value>().await.unwrap(), expected);
    }
    // The HTML form needs its hidden field too.
    let form = t
        .client
        .post(t.url("/logout"))
        .header("cookie", ada.cookie_header())
        .form(&[("csrf_token", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        form.json::<Value>().await.unwrap(),
        json!({"error": "csrf_token_invalid", "message": "missing or wrong csrf_token for this session"})
    );
    assert_eq!(count_events(t.pool()).await, before, "nothing was recorded");
    assert_eq!(
        me(&t, &ada.cookie).await.status(),
        StatusCode::OK,
        "still signed in"
    );
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn csrf_another_sessions_token_is_refused(pool: PgPool) {
    let t = fast_app(pool, clock()).await;
    let (_, ada) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    let (_, bob) = t.signed_up("bob@example.com", "bob", PASSWORD).await;
    let ada_again = t.sign_in("ada@example.com", PASSWORD).await;
    let before = count_events(t.pool()).await;
    for stolen in [&bob.csrf, &ada_again.csrf] {
        let response = t
            .client
            .post(t.url("/api/v1/account/password"))
            .header("cookie", ada.cookie_header())
            .header("x-csrf-token", stolen)
            .json(&json!({"current_password": PASSWORD, "new_password": "Brand-New-Pass-7"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"error": "csrf_token_invalid", "message": "missing or wrong X-CSRF-Token for this session"})
        );
    }
    let form = t
        .client
        .post(t.url("/logout"))
        .header("cookie", ada.cookie_header())
        .form(&[("csrf_token", bob.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::FORBIDDEN);
    assert_eq!(count_events(t.pool()).await, before);
    assert_eq!(session_rows(&t).await, 3);
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn csrf_a_cross_site_request_is_refused_even_with_the_right_token(pool: PgPool) {
    let t = fast_app(pool, clock()).await;
    let (_, ada) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    let before = count_events(t.pool()).await;
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        let response = t
            .post_as(&ada, "/api/v1/account/password")
            .header(name, value)
            .json(&json!({"current_password": PASSWORD, "new_password": "Brand-New-Pass-7"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"error": "cross_site_request", "message": "cross-site requests may not change anything here"})
        );
    }
    // A cross-site login form post (login CSRF) is refused the same way.
    let login = t
        .client
        .post(t.url("/login"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::FORBIDDEN);
    assert_eq!(count_events(t.pool()).await, before);
    // Same-origin with the token passes.
    let ok = t
        .post_as(&ada, "/api/v1/account/password")
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"current_password": PASSWORD, "new_password": "Brand-New-Pass-7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn idle_timeout_ends_a_session_unused_for_30_minutes(pool: PgPool) {
    let clock = clock();
    let t = fast_app(pool, clock.clone()).await;
    let (id, ada) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    let before = account_event_types(t.pool(), &id).await;
    for _ in 0..3 {
        clock.advance(time::Duration::minutes(29));
        assert_eq!(me(&t, &ada.cookie).await.status(), StatusCode::OK);
    }
    clock.advance(time::Duration::minutes(30) + time::Duration::seconds(1));
    let expired = me(&t, &ada.cookie).await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        session_cookie(&expired).as_deref(),
        Some(""),
        "cookie cleared"
    );
    assert_eq!(expired.json::<Value>().await.unwrap(), sign_in_first());
    assert_eq!(session_rows(&t).await, 0, "the row is gone");
    assert_eq!(account_event_types(t.pool(), &id).await, before);
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn absolute_timeout_ends_a_busy_session_after_7_days(pool: PgPool) {
    let clock = clock();
    let t = fast_app(pool, clock.clone()).await;
    let (_, ada) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    let started = clock.now();
    // Busy all week: never idle for 30 minutes.
    while clock.now() - started < time::Duration::days(7) - time::Duration::minutes(29) {
        clock.advance(time::Duration::minutes(29));
        assert_eq!(me(&t, &ada.cookie).await.status(), StatusCode::OK);
    }
    clock.advance(time::Duration::minutes(29));
    let expired = me(&t, &ada.cookie).await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(expired.json::<Value>().await.unwrap(), sign_in_first());
    assert_eq!(session_rows(&t).await, 0);
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn other_sessions_end_after_a_password_change(pool: PgPool) {
    let t = fast_app(pool, clock()).await;
    let (id, laptop) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    let phone = t.sign_in("ada@example.com", PASSWORD).await;
    let (_, bob) = t.signed_up("bob@example.com", "bob", PASSWORD).await;
    let changed = t
        .post_as(&laptop, "/api/v1/account/password")
        .json(&json!({"current_password": PASSWORD, "new_password": "Brand-New-Pass-7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let rotated = session_cookie(&changed).unwrap();
    assert_eq!(
        changed.json::<Value>().await.unwrap(),
        json!({"other_sessions_ended": 1})
    );
    assert_eq!(
        me(&t, &phone.cookie).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // This session continues under a new id; the old id is dead.
    assert_eq!(
        me(&t, &laptop.cookie).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(me(&t, &rotated).await.status(), StatusCode::OK);
    // Other users are untouched.
    assert_eq!(me(&t, &bob.cookie).await.status(), StatusCode::OK);
    let events = history(t.pool(), "account", &id).await;
    let tail: Vec<_> = events.iter().rev().take(2).rev().collect();
    assert_eq!(tail[0].0, "PasswordChanged");
    assert_eq!(tail[1].0, "SessionsRevoked");
    assert_eq!(tail[1].1["SessionsRevoked"]["reason"], "password_changed");
    assert_eq!(tail[1].1["SessionsRevoked"]["sessions"], 1);
    assert_eq!(tail[1].2["actor"], format!("account:{id}"));
    // The old password no longer works, the new one does.
    assert_eq!(
        t.login("ada@example.com", PASSWORD).await.status(),
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

fn failed_body() -> Value {
    json!({"error": "unauthenticated", "message": "the email address or the password is wrong"})
}

#[sqlx::test(migrations = "../migrations")]
async fn lockout_at_the_fifth_failure_and_unlock_after_15_minutes(pool: PgPool) {
    let clock = clock();
    let t = fast_app(pool, clock.clone()).await;
    let id = t.register("ada@example.com", "ada", PASSWORD).await;
    for n in 1..=4 {
        let wrong = t.login("ada@example.com", "Wrong-Horse-9").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "failure {n}");
        assert_eq!(wrong.json::<Value>().await.unwrap(), failed_body());
    }
    // Not locked yet: the right password still works after four failures...
    // (checked on a copy of the state: a success would reset the count)
    let types = account_event_types(t.pool(), &id).await;
    assert!(!types.contains(&"AccountLocked".to_owned()));
    let fifth = t.login("ada@example.com", "Wrong-Horse-9").await;
    assert_eq!(fifth.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(fifth.json::<Value>().await.unwrap(), failed_body());
    let events = history(t.pool(), "account", &id).await;
    let last = &events[events.len() - 1];
    assert_eq!(last.0, "AccountLocked");
    assert_eq!(last.1["AccountLocked"]["until"], "2026-11-28T09:15:00Z");
    assert_eq!(
        events[events.len() - 2].1["LoginFailed"]["consecutive_failures"],
        5
    );

    // Locked: the right password gets the same answer, and no session.
    clock.advance(time::Duration::minutes(14) + time::Duration::seconds(59));
    let locked = t.login("ada@example.com", PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&locked).is_none());
    assert_eq!(locked.json::<Value>().await.unwrap(), failed_body());
    let events = history(t.pool(), "account", &id).await;
    assert_eq!(events.last().unwrap().1["LoginFailed"]["reason"], "locked");
    assert_eq!(session_rows(&t).await, 0);

    // 15 minutes after the lock: unlocked, and the right password works.
    clock.advance(time::Duration::seconds(1));
    let ok = t.login("ada@example.com", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let types = account_event_types(t.pool(), &id).await;
    assert_eq!(
        types[types.len() - 2..],
        ["AccountUnlocked".to_owned(), "LoginSucceeded".to_owned()]
    );
    let events = history(t.pool(), "account", &id).await;
    assert_eq!(
        events[events.len() - 2].1["AccountUnlocked"]["reason"],
        "expired"
    );
    t.app.shutdown().await.unwrap();
}

/// Runs with the real Argon2id hasher: the timing comparison is the point.
#[sqlx::test(migrations = "../migrations")]
async fn locked_unknown_and_wrong_password_responses_are_identical(pool: PgPool) {
    let t = spawn_app(pool).await;
    let locked_id = t.register("locked@example.com", "locked", PASSWORD).await;
    t.register("ada@example.com", "ada", PASSWORD).await;
    for _ in 0..5 {
        t.login("locked@example.com", "Wrong-Horse-9").await;
    }
    assert!(
        account_event_types(t.pool(), &locked_id)
            .await
            .contains(&"AccountLocked".to_owned())
    );
    let (_, payload, _) = &history(t.pool(), "account", &locked_id).await[0];
    let phc = payload["AccountRegistered"]["password_hash"]
        .as_str()
        .unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");

    let cases = [
        ("locked@example.com", PASSWORD),
        ("nobody@example.com", PASSWORD),
        ("ada@example.com", "Wrong-Horse-9"),
    ];
    // Round-robin, so that load from other tests weighs on every case alike.
    let mut times = vec![Vec::new(); cases.len()];
    let mut answers = Vec::new();
    for _ in 0..5 {
        for (case, (email, password)) in cases.iter().enumerate() {
            let started = Instant::now();
            let response = t.login(email, password).await;
            times[case].push(started.elapsed());
            let status = response.status();
            let cookie = session_cookie(&response);
            answers.push((status, cookie, response.json::<Value>().await.unwrap()));
        }
    }
    let medians: Vec<Duration> = times
        .into_iter()
        .map(|mut t| {
            t.sort();
            t[2]
        })
        .collect();
    println!(
        "median sign-in time: locked {:?}, unknown {:?}, wrong password {:?}",
        medians[0], medians[1], medians[2]
    );
    for answer in &answers {
        assert_eq!(answer, &(StatusCode::UNAUTHORIZED, None, failed_body()));
    }
    let fastest = medians.iter().min().unwrap().as_secs_f64();
    let slowest = medians.iter().max().unwrap().as_secs_f64();
    assert!(
        slowest / fastest < 2.0,
        "medians differ too much (each spends one Argon2id verification): {medians:?}"
    );
    assert!(
        fastest > Duration::from_millis(5).as_secs_f64(),
        "{medians:?}"
    );
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn logout_is_a_post_that_deletes_the_session(pool: PgPool) {
    let t = fast_app(pool, clock()).await;
    let (_, ada) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    let get = t
        .get_as(&ada, "/api/v1/sessions/logout")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(me(&t, &ada.cookie).await.status(), StatusCode::OK);
    let out = t
        .post_as(&ada, "/api/v1/sessions/logout")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(session_cookie(&out).as_deref(), Some(""));
    assert_eq!(session_rows(&t).await, 0);
    assert_eq!(me(&t, &ada.cookie).await.status(), StatusCode::UNAUTHORIZED);
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn users_list_their_sessions_and_revoke_any_of_them_but_no_one_elses(pool: PgPool) {
    let t = fast_app(pool, clock()).await;
    let (id, laptop) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    let phone = t.sign_in("ada@example.com", PASSWORD).await;
    let (_, bob) = t.signed_up("bob@example.com", "bob", PASSWORD).await;
    let list: Vec<Value> = t
        .get_as(&laptop, "/api/v1/sessions")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    for session in &list {
        assert_eq!(session["address"], "127.0.0.1");
        assert!(session["last_seen_at"].is_string() && session["created_at"].is_string());
        assert!(session.get("device").is_some());
    }
    let phone_id = list.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Bob cannot end Ada's session: the same 404 as for no session at all.
    let before = count_events(t.pool()).await;
    let foreign = t
        .client
        .delete(t.url(&format!("/api/v1/sessions/{phone_id}")))
        .header("cookie", bob.cookie_header())
        .header("x-csrf-token", &bob.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        foreign.json::<Value>().await.unwrap(),
        json!({"error": "not_found", "message": "no such resource"})
    );
    assert_eq!(count_events(t.pool()).await, before);
    assert_eq!(me(&t, &phone.cookie).await.status(), StatusCode::OK);

    let revoked = t
        .client
        .delete(t.url(&format!("/api/v1/sessions/{phone_id}")))
        .header("cookie", laptop.cookie_header())
        .header("x-csrf-token", &laptop.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        me(&t, &phone.cookie).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(me(&t, &laptop.cookie).await.status(), StatusCode::OK);
    let events = history(t.pool(), "account", &id).await;
    let (kind, payload, _) = events.last().unwrap();
    assert_eq!(kind, "SessionsRevoked");
    assert_eq!(payload["SessionsRevoked"]["reason"], "user_request");
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn an_account_read_by_another_user_is_refused(pool: PgPool) {
    let t = fast_app(pool, clock()).await;
    let (ada_id, ada) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    let (bob_id, bob) = t.signed_up("bob@example.com", "bob", PASSWORD).await;
    let own = t
        .get_as(&ada, &format!("/api/v1/accounts/{ada_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    assert_eq!(own.json::<Value>().await.unwrap()["username"], "ada");
    let other = t
        .get_as(&bob, &format!("/api/v1/accounts/{ada_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        other.json::<Value>().await.unwrap(),
        json!({"error": "not_found", "message": "no such resource"})
    );
    let anonymous = t
        .client
        .get(t.url(&format!("/api/v1/accounts/{bob_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.json::<Value>().await.unwrap(), sign_in_first());
    t.app.shutdown().await.unwrap();
}

fn assert_security_headers(response: &reqwest::Response, hsts: bool) {
    let h = response.headers();
    let get = |name: &str| h.get(name).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(
        get("content-security-policy").as_deref(),
        Some("default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"),
        "{}",
        response.url()
    );
    assert_eq!(get("x-content-type-options").as_deref(), Some("nosniff"));
    assert!(get("referrer-policy").is_some());
    assert_eq!(get("x-frame-options").as_deref(), Some("DENY"));
    assert!(get("x-request-id").is_some());
    assert_eq!(
        get("strict-transport-security").as_deref(),
        hsts.then_some("max-age=31536000; includeSubDomains")
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn security_headers_are_on_html_json_and_error_responses(pool: PgPool) {
    let t = fast_app(pool, clock()).await;
    let (_, ada) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    let html = t.client.get(t.url("/login")).send().await.unwrap();
    assert_eq!(html.status(), StatusCode::OK);
    assert!(
        html.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_security_headers(&html, false);
    let json = t.get_as(&ada, "/api/v1/me").send().await.unwrap();
    assert_eq!(json.status(), StatusCode::OK);
    assert_eq!(json.headers()["cache-control"], "no-store");
    assert_security_headers(&json, false);
    for (response, status) in [
        (
            t.client.get(t.url("/no/such/page")).send().await.unwrap(),
            StatusCode::NOT_FOUND,
        ),
        (
            t.client.get(t.url("/api/v1/me")).send().await.unwrap(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            t.client
                .post(t.url("/api/v1/account/password"))
                .header("cookie", ada.cookie_header())
                .json(&json!({}))
                .send()
                .await
                .unwrap(),
            StatusCode::FORBIDDEN,
        ),
        (
            t.client
                .get(t.url("/api/v1/me?api_key=cl_x_y"))
                .send()
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        assert_eq!(response.status(), status);
        assert_security_headers(&response, false);
    }
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn hsts_is_sent_when_the_app_is_served_over_tls(pool: PgPool) {
    let t = spawn_app_with(
        pool,
        test_config_with(&[("CRYPTOLENS_PUBLIC_URL", "https://cryptolens.example")]),
        StartOptions::default(),
    )
    .await;
    let html = t.client.get(t.url("/login")).send().await.unwrap();
    assert_security_headers(&html, true);
    let error = t.client.get(t.url("/api/v1/nothing")).send().await.unwrap();
    assert_eq!(error.status(), StatusCode::NOT_FOUND);
    assert_security_headers(&error, true);
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn the_html_login_form_signs_in_and_the_logout_form_carries_the_token(pool: PgPool) {
    let t = fast_app(pool, clock()).await;
    t.register("ada@example.com", "ada", PASSWORD).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let wrong = client
        .post(t.url("/login"))
        .form(&[("email", "ada@example.com"), ("password", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("the email address or the password is wrong")
    );
    let login = client
        .post(t.url("/login"))
        .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&login).unwrap();
    let browser = Browser {
        cookie: cookie.clone(),
        csrf: String::new(),
    };
    let page = t
        .get_as(&browser, "/account")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Signed in as <strong>ada</strong>"), "{page}");
    let csrf = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let out = client
        .post(t.url("/logout"))
        .header("cookie", browser.cookie_header())
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&t, &cookie).await.status(), StatusCode::UNAUTHORIZED);
    t.app.shutdown().await.unwrap();
}
