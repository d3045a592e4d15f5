//! The password policy (PRODUCT §2: 8-128 characters, a lower-case letter,
//! an upper-case letter, a digit, not a common password), table-driven,
//! the same on register, change and reset; a refused password records
//! nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use commands::tokens::{TokenKey, TokenPurpose};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use tests::{count_events, spawn_fast_app, test_clock};

const PASSWORD: &str = "Correct-Horse-9";

/// (password, `None` if accepted, or the field message).
fn table() -> Vec<(String, Option<&'static str>)> {
    vec![
        ("Sh0rt".into(), Some("must be at least 8 characters")),
        ("Ab1".into(), Some("must be at least 8 characters")),
        (
            format!("Aa1{}", "x".repeat(126)),
            Some("must be at most 128 characters"),
        ),
        (
            "alllower1".into(),
            Some("must contain an upper-case letter"),
        ),
        ("ALLUPPER1".into(), Some("must contain a lower-case letter")),
        ("NoDigitsHere".into(), Some("must contain a digit")),
        ("Password1".into(), Some("is too common")),
        ("Qwerty123".into(), Some("is too common")),
        ("Ab1aaaaa".into(), None),
        (format!("Aa1{}", "x".repeat(125)), None),
        ("Pässwörd-Ünïcode-7".into(), None),
        ("Correct-Horse-9".into(), None),
    ]
}

fn refused(field: &str, message: &str) -> Value {
    json!({"error": "validation_failed", "message": "some fields are invalid", "fields": {field: message}})
}

#[sqlx::test(migrations = "../migrations")]
async fn the_password_policy_is_the_same_on_register_change_and_reset(pool: PgPool) {
    let t = spawn_fast_app(pool, test_clock(), &[]).await;
    let (id, ada) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    t.client
        .post(t.url("/api/v1/password-reset"))
        .json(&json!({"email": "ada@example.com"}))
        .send()
        .await
        .unwrap();
    let token_id: uuid::Uuid =
        tests::eventually(std::time::Duration::from_secs(10), "the reset mail", || {
            let pool = t.pool().clone();
            async move {
                sqlx::query_scalar("SELECT token_id FROM mail_outbox WHERE kind = 'password_reset'")
                    .fetch_optional(&pool)
                    .await
                    .unwrap()
            }
        })
        .await;
    let token = TokenKey::new(vec![0x22; 32])
        .unwrap()
        .derive(TokenPurpose::PasswordReset, token_id);

    for (n, (password, expected)) in table().into_iter().enumerate() {
        let Some(message) = expected else {
            continue;
        };
        let before = count_events(t.pool()).await;
        let register = t
            .client
            .post(t.url("/api/v1/accounts"))
            .json(&json!({"email": format!("u{n}@example.com"), "username": format!("user{n}"), "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            register.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{password}"
        );
        assert_eq!(
            register.json::<Value>().await.unwrap(),
            refused("password", message)
        );
        let change = t
            .post_as(&ada, "/api/v1/account/password")
            .json(&json!({"current_password": PASSWORD, "new_password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            change.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{password}"
        );
        assert_eq!(
            change.json::<Value>().await.unwrap(),
            refused("new_password", message)
        );
        let reset = t
            .client
            .post(t.url("/api/v1/password-reset/confirm"))
            .json(&json!({"account_id": id, "token": token, "new_password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            reset.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{password}"
        );
        assert_eq!(
            reset.json::<Value>().await.unwrap(),
            refused("new_password", message)
        );
        assert_eq!(
            count_events(t.pool()).await,
            before,
            "{password}: nothing recorded"
        );
    }
    // The accepted ones register.
    for (n, (password, expected)) in table().into_iter().enumerate() {
        if expected.is_none() {
            t.register(&format!("ok{n}@example.com"), &format!("ok{n}"), &password)
                .await;
            assert_eq!(
                t.login(&format!("ok{n}@example.com"), &password)
                    .await
                    .status(),
                StatusCode::OK
            );
        }
    }
    t.app.shutdown().await.unwrap();
}
