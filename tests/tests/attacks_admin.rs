//! The admin role: every admin route refused to non-admins, admins never
//! acting on their own role or deactivating themselves, every action an
//! event with the admin as actor, deactivation ending sessions at once,
//! a privilege change rotating the session id, and `admin create`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use tests::{Browser, TestApp, count_events, history, session_cookie, spawn_fast_app, test_clock};

const PASSWORD: &str = "Correct-Horse-9";
const ACTIONS: [&str; 6] = [
    "grant-admin",
    "revoke-admin",
    "deactivate",
    "reactivate",
    "verify",
    "unlock",
];

/// An app with an admin (created by `cryptolens admin create`) signed in.
async fn with_admin(pool: PgPool) -> (TestApp, String, Browser) {
    let t = spawn_fast_app(pool, test_clock(), &[]).await;
    let (id, admin) = t.create_admin(PASSWORD).await;
    (t, id, admin)
}

async fn act(t: &TestApp, who: &Browser, target: &str, action: &str) -> reqwest::Response {
    t.post_as(who, &format!("/api/v1/admin/accounts/{target}/{action}"))
        .send()
        .await
        .unwrap()
}

#[test]
fn admin_create_reads_the_password_from_the_environment_or_stdin() {
    use adapters::cli::admin::read_password;
    let mut empty = std::io::Cursor::new(Vec::new());
    assert_eq!(
        read_password(Some("From-Env-123".into()), &mut empty).unwrap(),
        "From-Env-123"
    );
    let mut stdin = std::io::Cursor::new(b"From-Stdin-123\nignored\n".to_vec());
    assert_eq!(read_password(None, &mut stdin).unwrap(), "From-Stdin-123");
    let mut nothing = std::io::Cursor::new(Vec::new());
    assert!(
        read_password(None, &mut nothing)
            .unwrap_err()
            .to_string()
            .contains("CRYPTOLENS_ADMIN_PASSWORD")
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn admin_create_makes_a_verified_admin_who_can_sign_in(pool: PgPool) {
    let (t, id, admin) = with_admin(pool).await;
    let me: Value = t
        .get_as(&admin, "/api/v1/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["is_admin"], true);
    assert_eq!(me["verified"], true);
    let events = history(t.pool(), "account", &id).await;
    let granted = events
        .iter()
        .find(|(k, _, _)| k == "AdminRoleGranted")
        .unwrap();
    assert_eq!(granted.1["AdminRoleGranted"]["by"], Value::Null);
    assert_eq!(granted.2["actor"], "system:admin-cli");
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn every_admin_route_is_refused_to_a_non_admin(pool: PgPool) {
    let (t, admin_id, _) = with_admin(pool).await;
    let (bob_id, bob) = t.signed_up("bob@example.com", "bob", PASSWORD).await;
    let before = count_events(t.pool()).await;
    let forbidden = json!({"error": "forbidden", "message": "you are not allowed to do this"});
    for target in [&admin_id, &bob_id] {
        for action in ACTIONS {
            let response = act(&t, &bob, target, action).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{action}");
            assert_eq!(response.json::<Value>().await.unwrap(), forbidden);
            let anonymous = t
                .client
                .post(t.url(&format!("/api/v1/admin/accounts/{target}/{action}")))
                .send()
                .await
                .unwrap();
            assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
        }
        let read = t
            .get_as(&bob, &format!("/api/v1/admin/accounts/{target}"))
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), StatusCode::FORBIDDEN);
        assert_eq!(read.json::<Value>().await.unwrap(), forbidden);
    }
    assert_eq!(count_events(t.pool()).await, before, "nothing recorded");
    let me: Value = t
        .get_as(&bob, "/api/v1/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["is_admin"], false);
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_cannot_change_their_own_role_or_deactivate_themselves(pool: PgPool) {
    let (t, admin_id, admin) = with_admin(pool).await;
    let before = count_events(t.pool()).await;
    for action in ["revoke-admin", "grant-admin", "deactivate"] {
        let response = act(&t, &admin, &admin_id, action).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"error": "cannot_act_on_self", "message": "admins cannot change their own role or deactivate themselves"})
        );
    }
    assert_eq!(count_events(t.pool()).await, before);
    let me: Value = t
        .get_as(&admin, "/api/v1/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["is_admin"], true);
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn every_admin_action_is_an_event_carrying_the_admin(pool: PgPool) {
    let (t, admin_id, admin) = with_admin(pool).await;
    let bob_id = t.register("bob@example.com", "bob", PASSWORD).await;
    for _ in 0..5 {
        t.login("bob@example.com", "Wrong-Horse-9").await;
    }
    let expected = [
        ("verify", "EmailVerified"),
        ("unlock", "AccountUnlocked"),
        ("grant-admin", "AdminRoleGranted"),
        ("revoke-admin", "AdminRoleRevoked"),
        ("deactivate", "AccountDeactivated"),
        ("reactivate", "AccountReactivated"),
    ];
    for (action, event) in expected {
        let response = act(&t, &admin, &bob_id, action).await;
        assert_eq!(response.status(), StatusCode::OK, "{action}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["changed"], true);
        let (kind, payload, metadata) = history(t.pool(), "account", &bob_id).await.pop().unwrap();
        assert_eq!(kind, event);
        assert_eq!(metadata["actor"], format!("account:{admin_id}"));
        if let Some(by) = payload[event].get("by") {
            assert_eq!(by, &json!(admin_id));
        }
    }
    let view: Value = t
        .get_as(&admin, &format!("/api/v1/admin/accounts/{bob_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            view["verified"].clone(),
            view["active"].clone(),
            view["is_admin"].clone(),
            view["locked_until"].clone()
        ),
        (json!(true), json!(true), json!(false), Value::Null)
    );
    // Doing it again changes nothing and records nothing.
    let before = count_events(t.pool()).await;
    let again = act(&t, &admin, &bob_id, "verify").await;
    assert_eq!(again.json::<Value>().await.unwrap()["changed"], false);
    assert_eq!(count_events(t.pool()).await, before);
    assert_eq!(
        t.login("bob@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn deactivation_ends_every_session_at_once_and_blocks_sign_in(pool: PgPool) {
    let (t, _, admin) = with_admin(pool).await;
    let (bob_id, bob) = t.signed_up("bob@example.com", "bob", PASSWORD).await;
    let bob_phone = t.sign_in("bob@example.com", PASSWORD).await;
    assert_eq!(
        act(&t, &admin, &bob_id, "deactivate").await.status(),
        StatusCode::OK
    );
    for browser in [&bob, &bob_phone] {
        let me = t.get_as(browser, "/api/v1/me").send().await.unwrap();
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE account_id = $1::uuid")
        .bind(&bob_id)
        .fetch_one(t.pool())
        .await
        .unwrap();
    assert_eq!(rows, 0);
    let (kind, payload, _) = history(t.pool(), "account", &bob_id).await.pop().unwrap();
    assert_eq!(kind, "SessionsRevoked");
    assert_eq!(
        payload["SessionsRevoked"],
        json!({"at": payload["SessionsRevoked"]["at"], "reason": "deactivated", "sessions": 2})
    );
    let login = t.login("bob@example.com", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        login.json::<Value>().await.unwrap(),
        json!({"error": "unauthenticated", "message": "the email address or the password is wrong"})
    );
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_privilege_change_rotates_the_session_id(pool: PgPool) {
    let (t, _, admin) = with_admin(pool).await;
    let (bob_id, bob) = t.signed_up("bob@example.com", "bob", PASSWORD).await;
    assert_eq!(
        act(&t, &admin, &bob_id, "grant-admin").await.status(),
        StatusCode::OK
    );
    let next = t.get_as(&bob, "/api/v1/me").send().await.unwrap();
    assert_eq!(next.status(), StatusCode::OK);
    let rotated = session_cookie(&next).expect("a new session id");
    assert_ne!(rotated, bob.cookie);
    assert_eq!(next.json::<Value>().await.unwrap()["is_admin"], true);
    assert_eq!(
        t.get_as(&bob, "/api/v1/me").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "the old id is dead"
    );
    let bob = Browser {
        cookie: rotated,
        ..bob
    };
    let again = t.get_as(&bob, "/api/v1/me").send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert!(session_cookie(&again).is_none(), "rotated once");
    // The new role is in force: the admin routes open.
    let read = t
        .get_as(&bob, &format!("/api/v1/admin/accounts/{bob_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    t.app.shutdown().await.unwrap();
}
