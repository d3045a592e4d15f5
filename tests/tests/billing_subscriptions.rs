//! Subscriptions as admins change them, and the tier function every gated
//! path reads: grant, extend from the current end, cancel to the period
//! end, the admin as actor, refusals appending nothing, and the exact
//! grace-period boundary of `cryptolens_account_tier_at`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapters::postgres::tiers::{account_tier, account_tier_at};
use commands::ports::Clock;
use domain::billing::Tier;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use tests::{count_events, history, spawn_fast_app, test_clock};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const PASSWORD: &str = "Correct-Horse-9";

fn at(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().expect("a timestamp"), &Rfc3339).unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_grants_extends_and_cancels_with_the_admin_as_actor(pool: PgPool) {
    let clock = test_clock();
    let t = spawn_fast_app(pool, clock.clone(), &[]).await;
    let (admin_id, admin) = t.billing_admin().await;
    let (user, _) = t.signed_up("ann@example.com", "ann", PASSWORD).await;
    let user_id = Uuid::parse_str(&user).unwrap();
    assert_eq!(account_tier(t.pool(), user_id).await.unwrap(), Tier::Free);

    let granted = t.grant_plan_as(&admin, &user, "pro").await;
    assert_eq!(granted["status"], "active");
    assert_eq!(at(&granted["period_end"]), clock.now() + Duration::days(30));
    assert_eq!(
        at(&granted["access_until"]),
        clock.now() + Duration::days(33)
    );
    assert_eq!(account_tier(t.pool(), user_id).await.unwrap(), Tier::Pro);

    // An extension of 5 days adds to the current end (not to now).
    let extended: Value = t
        .post_as(
            &admin,
            &format!("/api/v1/admin/subscriptions/{user}/extend"),
        )
        .json(&json!({"days": 5}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(extended["status"], "active", "{extended}");
    assert_eq!(
        at(&extended["period_end"]),
        at(&granted["period_end"]) + Duration::days(5)
    );

    let cancelled: Value = t
        .post_as(
            &admin,
            &format!("/api/v1/admin/subscriptions/{user}/cancel"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(
        cancelled["tier"], "pro",
        "access continues to the period end"
    );
    assert_eq!(cancelled["access_until"], extended["period_end"]);

    let events = history(t.pool(), "subscription", &user).await;
    let types: Vec<_> = events.iter().map(|(t, _, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "SubscriptionActivated",
            "SubscriptionRenewed",
            "SubscriptionCancelled"
        ]
    );
    for (_, _, metadata) in &events {
        assert_eq!(metadata["actor"], format!("account:{admin_id}"));
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn refused_subscription_changes_append_nothing(pool: PgPool) {
    let t = spawn_fast_app(pool, test_clock(), &[]).await;
    let (_, admin) = t.billing_admin().await;
    let (user, browser) = t.signed_up("bob@example.com", "bob", PASSWORD).await;
    let before = count_events(t.pool()).await;

    let grant = |who: &tests::Browser, body: Value| {
        t.post_as(who, &format!("/api/v1/admin/subscriptions/{user}/grant"))
            .json(&body)
            .send()
    };
    let response = grant(
        &admin,
        json!({"plan": "gold", "cycle": "weekly", "days": 0}),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert!(body["fields"]["plan"].is_string());
    assert!(body["fields"]["cycle"].is_string());
    assert!(body["fields"]["days"].is_string());

    let response = grant(&browser, json!({"plan": "premium"})).await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "users cannot grant"
    );

    let response = t
        .post_as(
            &admin,
            &format!("/api/v1/admin/subscriptions/{user}/cancel"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "no_subscription"
    );

    let response = t
        .post_as(
            &admin,
            &format!("/api/v1/admin/subscriptions/{}/grant", Uuid::now_v7()),
        )
        .json(&json!({"plan": "pro"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(count_events(t.pool()).await, before);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_lapsed_subscription_keeps_its_tier_exactly_for_the_grace_period(pool: PgPool) {
    let t = spawn_fast_app(pool, test_clock(), &[]).await;
    let (user, _) = t.signed_up("cyd@example.com", "cyd", PASSWORD).await;
    let user_id = Uuid::parse_str(&user).unwrap();
    let granted = t.grant_plan(&user, "premium").await;
    let end = at(&granted["period_end"]);
    let tier = |moment| account_tier_at(t.pool(), user_id, moment);

    assert_eq!(
        tier(end - Duration::seconds(1)).await.unwrap(),
        Tier::Premium
    );
    assert_eq!(tier(end).await.unwrap(), Tier::Premium, "lapsed: in grace");
    let grace_end = end + Duration::days(3);
    assert_eq!(
        tier(grace_end - Duration::seconds(1)).await.unwrap(),
        Tier::Premium
    );
    assert_eq!(tier(grace_end).await.unwrap(), Tier::Free, "grace is over");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_cancelled_subscription_drops_to_free_at_the_period_end_without_grace(pool: PgPool) {
    let t = spawn_fast_app(pool, test_clock(), &[]).await;
    let (_, admin) = t.billing_admin().await;
    let (user, _) = t.signed_up("dix@example.com", "dix", PASSWORD).await;
    let user_id = Uuid::parse_str(&user).unwrap();
    let granted = t.grant_plan_as(&admin, &user, "pro").await;
    let end = at(&granted["period_end"]);
    let response = t
        .post_as(
            &admin,
            &format!("/api/v1/admin/subscriptions/{user}/cancel"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let tier = |moment| account_tier_at(t.pool(), user_id, moment);
    assert_eq!(tier(end - Duration::seconds(1)).await.unwrap(), Tier::Pro);
    assert_eq!(tier(end).await.unwrap(), Tier::Free);
}
