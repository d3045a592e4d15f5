//! Personal data in the event log is sealed with a per-user key kept
//! outside the log; `cryptolens accounts forget` deletes the key: the
//! history stays, readable as "forgotten", and projections drop the person.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use adapters::projector::rebuild;
use adapters::read_models::accounts::AccountsProjection;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use tests::{
    account_event_types, count_events, eventually, readable_history, spawn_fast_app, test_clock,
    test_config,
};
use uuid::Uuid;

const PASSWORD: &str = "Correct-Horse-9";

async fn log_mentions(pool: &PgPool, text: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE payload::text LIKE '%' || $1 || '%' OR metadata::text LIKE '%' || $1 || '%'",
    )
    .bind(text)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn emails_usernames_and_addresses_are_sealed_in_the_log(pool: PgPool) {
    let t = spawn_fast_app(pool, test_clock(), &[]).await;
    let (id, _) = t
        .signed_up("ada.lovelace@example.com", "countess_ada", PASSWORD)
        .await;
    t.login("ada.lovelace@example.com", "Wrong-Horse-9").await;
    for secret in ["ada.lovelace@example.com", "countess_ada", "127.0.0.1"] {
        assert_eq!(
            log_mentions(t.pool(), secret).await,
            0,
            "{secret} is in the log"
        );
    }
    // The auditor's view opens them.
    let history = readable_history(t.pool(), "account", &id).await;
    let registered = &history[0].1["AccountRegistered"];
    assert_eq!(registered["email"], "ada.lovelace@example.com");
    assert_eq!(registered["username"], "countess_ada");
    let failed = history.iter().find(|(k, _, _)| k == "LoginFailed").unwrap();
    assert_eq!(failed.1["LoginFailed"]["client_ip"], "127.0.0.1");
    assert_eq!(failed.2["client_ip"], "127.0.0.1");
    t.app.shutdown().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_forgotten_person_reads_as_forgotten_and_leaves_the_projections(pool: PgPool) {
    let t = spawn_fast_app(pool, test_clock(), &[]).await;
    let (id, ada) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    let (bob_id, bob) = t.signed_up("bob@example.com", "bob", PASSWORD).await;
    let account = Uuid::parse_str(&id).unwrap();
    let before = count_events(t.pool()).await;

    adapters::cli::accounts::forget(t.pool(), &test_config(), account)
        .await
        .unwrap();
    // Again: nothing more happens.
    adapters::cli::accounts::forget(t.pool(), &test_config(), account)
        .await
        .unwrap();

    // The history stays, and reads as forgotten. Recorded: the email and
    // username claims released, and the forgetting itself.
    let appended: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM events ORDER BY transaction_id, global_position OFFSET $1",
    )
    .bind(before)
    .fetch_all(t.pool())
    .await
    .unwrap();
    assert_eq!(
        appended,
        ["ClaimReleased", "ClaimReleased", "PersonalDataForgotten"]
    );
    let types = account_event_types(t.pool(), &id).await;
    assert_eq!(types.last().unwrap(), "PersonalDataForgotten");
    let history = readable_history(t.pool(), "account", &id).await;
    let registered = &history[0].1["AccountRegistered"];
    assert_eq!(registered["email"], "<forgotten>");
    assert_eq!(registered["username"], "<forgotten>");
    let login = history
        .iter()
        .find(|(k, _, _)| k == "LoginSucceeded")
        .unwrap();
    assert_eq!(login.1["LoginSucceeded"]["client_ip"], "<forgotten>");
    assert_eq!(login.2["client_ip"], "<forgotten>");
    let keys: i64 =
        sqlx::query_scalar("SELECT count(*) FROM personal_data_keys WHERE account_id = $1")
            .bind(account)
            .fetch_one(t.pool())
            .await
            .unwrap();
    assert_eq!(keys, 0);

    // The projection drops the person, and a fresh rebuild agrees.
    let pool = t.pool().clone();
    eventually(Duration::from_secs(10), "the row to go", || {
        let pool = pool.clone();
        async move {
            let rows: i64 =
                sqlx::query_scalar("SELECT count(*) FROM accounts_view WHERE account_id = $1")
                    .bind(account)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            (rows == 0).then_some(())
        }
    })
    .await;
    let report = rebuild::verify(t.pool(), &AccountsProjection, 1000)
        .await
        .unwrap();
    assert_eq!(report.total(), 0, "{report:?}");
    let names: Vec<String> = sqlx::query_scalar("SELECT username FROM accounts_view")
        .fetch_all(t.pool())
        .await
        .unwrap();
    assert_eq!(names, ["bob"]);

    // The person is gone from the live system: no session, no sign-in, no mail.
    let me = t.get_as(&ada, "/api/v1/me").send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        t.login("ada@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let mail: i64 = sqlx::query_scalar("SELECT count(*) FROM mail_outbox WHERE account_id = $1")
        .bind(account)
        .fetch_one(t.pool())
        .await
        .unwrap();
    assert_eq!(mail, 0);
    // The address is free again, for a new, unrelated account.
    let again = t.register("ada@example.com", "ada", PASSWORD).await;
    assert_ne!(again, id);
    // Others are untouched.
    let bob_me: Value = t
        .get_as(&bob, "/api/v1/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bob_me["account_id"], bob_id.as_str());
    t.app.shutdown().await.unwrap();
}
