#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Admin broadcasts end to end through `serve` (HTTP -> events -> notifier
//! -> RabbitMQ -> consumer -> NTFY fake): templates, audiences, immediate
//! and scheduled sends, cancellation, statistics; and the user's test push.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use tests::notify::{Broker, PATIENCE, UserFixture, append_event, insert_users, topic_of};
use tests::ntfy_fake::NtfyFake;
use tests::{Browser, TestApp, eventually, spawn_fast_app, test_clock};
use uuid::Uuid;

async fn admin(app: &TestApp, pool: &PgPool) -> (String, Browser) {
    let (id, browser) = app
        .signed_up("root@example.com", "root", "Correct-Horse-9")
        .await;
    append_event(
        pool,
        "account",
        &id,
        "AdminRoleGranted",
        json!({"AdminRoleGranted": {"at": "2026-11-28T09:00:00Z", "by": null}}),
    )
    .await;
    eventually(PATIENCE, "the admin role", || async {
        let admin: Option<bool> =
            sqlx::query_scalar("SELECT is_admin FROM accounts_view WHERE account_id = $1::uuid")
                .bind(&id)
                .fetch_optional(pool)
                .await
                .unwrap();
        (admin == Some(true)).then_some(())
    })
    .await;
    (id, browser)
}

async fn broadcast(app: &TestApp, browser: &Browser, id: &str) -> Value {
    app.get_as(browser, &format!("/api/v1/admin/broadcasts/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn admins_broadcast_to_audiences_now_and_later_with_statistics(pool: PgPool) {
    let ntfy = NtfyFake::start().await;
    let prefix = format!("test.{}", Uuid::now_v7().simple());
    let url = ntfy.url();
    let overrides = [
        ("CRYPTOLENS_NOTIFY__RUN_IN_SERVE", "true"),
        ("CRYPTOLENS_NOTIFY__PREFIX", prefix.as_str()),
        ("CRYPTOLENS_NOTIFY__SCHEDULER_TICK_MS", "100"),
        ("CRYPTOLENS_NOTIFY__RETRY_DELAYS_MS", "200,400"),
        ("CRYPTOLENS_NTFY__URL", url.as_str()),
    ];
    let app = spawn_fast_app(pool.clone(), test_clock(), &overrides).await;
    let notify_config = tests::test_config_with(&overrides).notify;
    let (_admin_id, root) = admin(&app, &pool).await;

    let users: Vec<(Uuid, UserFixture)> = vec![
        (Uuid::now_v7(), UserFixture::default()),
        (Uuid::now_v7(), UserFixture::default()),
        (Uuid::now_v7(), UserFixture::default()),
        (
            Uuid::now_v7(),
            UserFixture {
                verified: false,
                ..UserFixture::default()
            },
        ),
        (
            Uuid::now_v7(),
            UserFixture {
                active: false,
                ..UserFixture::default()
            },
        ),
    ];
    insert_users(&pool, &users).await;

    // Templates: validated, created, listed, updated, deleted.
    let bad = app
        .post_as(&root, "/api/v1/admin/broadcast-templates")
        .json(&json!({"name": "", "title": "x", "message": "", "priority": 9}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = bad.json().await.unwrap();
    let mut fields: Vec<&str> = body["fields"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["message", "name", "priority"]);
    let created: Value = app
        .post_as(&root, "/api/v1/admin/broadcast-templates")
        .json(&json!({"name": "maintenance", "title": "Maintenance", "message": "Down at 10:00", "priority": 3, "tags": ["wrench"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let template = created["id"].as_str().unwrap().to_owned();
    let updated = app
        .client
        .put(app.url(&format!("/api/v1/admin/broadcast-templates/{template}")))
        .header(reqwest::header::COOKIE, root.cookie_header())
        .header("x-csrf-token", &root.csrf)
        .json(&json!({"name": "maintenance", "title": "Maintenance window", "message": "Down at 11:00", "priority": 4, "tags": ["wrench"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), StatusCode::NO_CONTENT);
    let listed: Value = eventually(PATIENCE, "the updated template", || async {
        let list: Value = app
            .get_as(&root, "/api/v1/admin/broadcast-templates")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (list[0]["title"] == "Maintenance window").then_some(list)
    })
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["message"], "Down at 11:00");

    // A non-admin is refused.
    let (_, plain) = app
        .signed_up("user@example.com", "someone", "Correct-Horse-9")
        .await;
    let refused = app
        .get_as(&plain, "/api/v1/admin/broadcasts")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // Immediate, from the template, to verified users.
    let now: Value = app
        .post_as(&root, "/api/v1/admin/broadcasts")
        .json(&json!({"template_id": template, "audience": {"kind": "verified"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let now_id = now["id"].as_str().unwrap().to_owned();
    eventually(PATIENCE, "three pushes", || async {
        (ntfy.accepted().len() >= 3).then_some(())
    })
    .await;
    let mut topics: Vec<String> = ntfy
        .accepted()
        .iter()
        .map(|r| r.topic().to_owned())
        .collect();
    topics.sort();
    let mut verified: Vec<String> = users[..3].iter().map(|(id, _)| topic_of(*id)).collect();
    verified.sort();
    assert_eq!(topics, verified);
    let first = &ntfy.accepted()[0];
    assert_eq!(first.header("Title"), Some("Maintenance window"));
    assert_eq!(first.body, "Down at 11:00");
    assert_eq!(first.header("Priority"), Some("4"));
    assert_eq!(first.header("Tags"), Some("wrench"));
    let stats = eventually(PATIENCE, "the statistics", || async {
        let b = broadcast(&app, &root, &now_id).await;
        (b["delivered"] == 3).then_some(b)
    })
    .await;
    assert_eq!(
        (
            stats["status"].as_str(),
            stats["recipients"].as_i64(),
            stats["failed"].as_i64()
        ),
        (Some("sent"), Some(3), Some(0))
    );

    // Scheduled to custom topics: the scheduler sends it at its time.
    let send_at = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let later: Value = app
        .post_as(&root, "/api/v1/admin/broadcasts")
        .json(&json!({"title": "Later", "message": "Scheduled hello", "priority": 2, "tags": [],
                      "audience": {"kind": "topics", "topics": ["custom_topic_a"]},
                      "send_at": send_at.format(&time::format_description::well_known::Rfc3339).unwrap()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let later_id = later["id"].as_str().unwrap().to_owned();
    let pending = eventually(PATIENCE, "the scheduled broadcast listed", || async {
        let b = broadcast(&app, &root, &later_id).await;
        (b["status"] == "scheduled").then_some(b)
    })
    .await;
    assert_eq!(pending["delivered"], 0);
    eventually(PATIENCE, "the scheduled push", || async {
        ntfy.accepted()
            .iter()
            .any(|r| r.topic() == "custom_topic_a")
            .then_some(())
    })
    .await;
    assert!(
        time::OffsetDateTime::now_utc() >= send_at,
        "not before its time"
    );
    let sent = eventually(PATIENCE, "its statistics", || async {
        let b = broadcast(&app, &root, &later_id).await;
        (b["delivered"] == 1).then_some(b)
    })
    .await;
    assert_eq!(sent["status"], "sent");

    // Cancelled before its time: never sent.
    let far = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let cancelled: Value = app
        .post_as(&root, "/api/v1/admin/broadcasts")
        .json(&json!({"title": "Never", "message": "Cancelled", "priority": 3,
                      "audience": {"kind": "all"},
                      "send_at": far.format(&time::format_description::well_known::Rfc3339).unwrap()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cancelled_id = cancelled["id"].as_str().unwrap().to_owned();
    let cancel = app
        .post_as(
            &root,
            &format!("/api/v1/admin/broadcasts/{cancelled_id}/cancel"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), StatusCode::NO_CONTENT);
    eventually(PATIENCE, "the cancellation", || async {
        (broadcast(&app, &root, &cancelled_id).await["status"] == "cancelled").then_some(())
    })
    .await;

    // The admin sends themselves a test push.
    let test = app
        .post_as(&root, "/api/v1/notifications/test")
        .send()
        .await
        .unwrap();
    assert_eq!(test.status(), StatusCode::ACCEPTED);
    let settings: Value = app
        .get_as(&root, "/api/v1/notifications/settings")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let own_topic = settings["topic"].as_str().unwrap().to_owned();
    eventually(PATIENCE, "the test push", || async {
        ntfy.accepted()
            .iter()
            .any(|r| r.topic() == own_topic)
            .then_some(())
    })
    .await;
    let push = ntfy
        .accepted()
        .into_iter()
        .find(|r| r.topic() == own_topic)
        .unwrap();
    assert_eq!(push.header("Title"), Some("CryptoLens Test Notification"));

    let broker = Broker::open(&notify_config).await;
    eventually(PATIENCE, "nothing left in flight", || async {
        let queued = broker.depth(&notify_config.work_queue()).await;
        let sending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM notification_inbox WHERE status = 'sending'")
                .fetch_one(&pool)
                .await
                .unwrap();
        (queued == 0 && sending == 0).then_some(())
    })
    .await;
    assert_eq!(
        ntfy.accepted().len(),
        5,
        "3 + 1 + the test push, nothing from the cancelled one"
    );
    app.app.shutdown().await.unwrap();
    broker.cleanup().await;
}
