#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Notification settings over HTTP: topic, preferences with field errors,
//! rotation, mutes, and the read model the notifier uses.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use tests::{Browser, TestApp, eventually, spawn_fast_app, test_clock};

/// topic, min_confluence, directions, priority, quiet start/end, zone, mutes.
type SettingsRow = (
    String,
    i16,
    String,
    i16,
    Option<i16>,
    Option<i16>,
    String,
    Vec<String>,
);

fn put_as(app: &TestApp, browser: &Browser, path: &str) -> reqwest::RequestBuilder {
    app.client
        .put(app.url(path))
        .header(reqwest::header::COOKIE, browser.cookie_header())
        .header("x-csrf-token", &browser.csrf)
}

fn is_topic(text: &str) -> bool {
    text.strip_prefix("cl_").is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

#[sqlx::test(migrations = "../migrations")]
async fn a_user_gets_a_private_topic_and_sets_validated_preferences(pool: PgPool) {
    let app = spawn_fast_app(
        pool.clone(),
        test_clock(),
        &[("CRYPTOLENS_NTFY__URL", "https://ntfy.example")],
    )
    .await;
    let (id, browser) = app
        .signed_up("ada@example.com", "ada", "Correct-Horse-9")
        .await;

    let anonymous = app
        .client
        .get(app.url("/api/v1/notifications/settings"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let settings: Value = app
        .get_as(&browser, "/api/v1/notifications/settings")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let topic = settings["topic"].as_str().unwrap().to_owned();
    assert!(is_topic(&topic), "{topic}");
    assert_eq!(
        settings["subscribe_url"],
        format!("https://ntfy.example/{topic}")
    );
    assert_eq!(settings["min_confluence"], 3);
    assert_eq!(settings["directions"], "both");
    assert_eq!(settings["time_zone"], "UTC");

    let bad = put_as(&app, &browser, "/api/v1/notifications/preferences")
        .json(&json!({"enabled": true, "min_confluence": 0, "directions": "up", "priority": 9,
                      "quiet_hours": {"start_hour": 22, "end_hour": 25}, "time_zone": "Nowhere/Else"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"], "validation_failed");
    let mut fields: Vec<&str> = body["fields"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "directions",
            "min_confluence",
            "priority",
            "quiet_hours",
            "time_zone"
        ]
    );

    let good = put_as(&app, &browser, "/api/v1/notifications/preferences")
        .json(&json!({"enabled": true, "min_confluence": 5, "directions": "short", "priority": 2,
                      "quiet_hours": {"start_hour": 22, "end_hour": 7}, "time_zone": "Europe/Berlin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), StatusCode::OK);
    let saved: Value = good.json().await.unwrap();
    assert_eq!(saved["min_confluence"], 5);
    assert_eq!(saved["directions"], "short");
    assert_eq!(saved["priority"], 2);
    assert_eq!(
        saved["quiet_hours"],
        json!({"start_hour": 22, "end_hour": 7})
    );
    assert_eq!(saved["time_zone"], "Europe/Berlin");
    assert_eq!(saved["topic"], topic.as_str(), "the topic is kept");

    let muted: Value = app
        .post_as(&browser, "/api/v1/notifications/mutes")
        .json(&json!({"symbol": "eth/usdt", "muted": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(muted["muted_symbols"], json!(["ETH/USDT"]));
    let bad_symbol = app
        .post_as(&browser, "/api/v1/notifications/mutes")
        .json(&json!({"symbol": "ETHUSDT", "muted": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_symbol.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let rotated: Value = app
        .post_as(&browser, "/api/v1/notifications/topic/rotate")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_topic = rotated["topic"].as_str().unwrap().to_owned();
    assert!(is_topic(&new_topic) && new_topic != topic);

    // The read model the notifier reads follows.
    let row: SettingsRow = eventually(
        Duration::from_secs(20),
        "the settings row",
        || async {
            let row: Option<SettingsRow> =
                sqlx::query_as(
                    "SELECT topic, min_confluence, directions, priority, quiet_start, quiet_end, time_zone, muted_symbols
                       FROM notification_settings_view WHERE user_id = $1::uuid",
                )
                .bind(&id)
                .fetch_optional(&pool)
                .await
                .unwrap();
            row.filter(|r| r.0 == new_topic)
        },
    )
    .await;
    assert_eq!(
        row,
        (
            new_topic.clone(),
            5,
            "short".into(),
            2,
            Some(22),
            Some(7),
            "Europe/Berlin".into(),
            vec!["ETH/USDT".into()]
        )
    );
    app.app.shutdown().await.unwrap();
}
