//! The market read API: authenticated (401 without a session or key, 403
//! for a key without the scope), candles, patterns with filters and
//! cursors, signals and one signal, the matrix; bad parameters are a 400
//! naming each field; limits are clamped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use adapters::exchange::csv::CsvExchange;
use adapters::market::config::MarketConfig;
use adapters::projector;
use adapters::read_models::market::book;
use commands::Metadata;
use domain::market::Symbol;
use domain::market::csv::parse_candles;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use tests::{Browser, TestApp, spawn_fast_app, test_clock};

const PASSWORD: &str = "Correct-Horse-42";

async fn with_market_data(pool: PgPool) -> (TestApp, Browser, Browser) {
    let t = spawn_fast_app(pool.clone(), test_clock(), &[]).await;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/candles/XRP_ETH-1m.csv"
    );
    let candles = parse_candles(&std::fs::read_to_string(path).unwrap()).unwrap();
    let from = candles[0].open_time;
    let config = MarketConfig::from_lookup(&|_: &str| None).unwrap();
    let pipeline =
        adapters::market::pipeline(&pool, &config, Arc::new(CsvExchange::new(candles)), None);
    pipeline
        .backfill(
            &Symbol::parse("XRP/ETH").unwrap(),
            from,
            &|_, _| {},
            &Metadata::system("test"),
        )
        .await
        .unwrap();
    book::settle(&pool, &projector::all()).await.unwrap();
    let (_, admin) = t.create_admin(PASSWORD).await;
    let (id, ada) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    let verified = t
        .post_as(&admin, &format!("/api/v1/admin/accounts/{id}/verify"))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), StatusCode::OK);
    (t, ada, admin)
}

async fn get(t: &TestApp, who: &Browser, path: &str) -> (StatusCode, Value) {
    let response = t.get_as(who, path).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[sqlx::test(migrations = "../migrations")]
async fn the_market_api_needs_a_signed_in_caller_and_the_right_scope(pool: PgPool) {
    let (t, ada, _) = with_market_data(pool).await;
    for path in [
        "/api/v1/candles/XRP-ETH/1h",
        "/api/v1/patterns",
        "/api/v1/signals",
        "/api/v1/matrix",
    ] {
        let anonymous = t.client.get(t.url(path)).send().await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            anonymous.json::<Value>().await.unwrap()["error"],
            "unauthenticated"
        );
    }
    let created = t
        .post_as(&ada, "/api/v1/api-keys")
        .json(&json!({"name": "signals only", "scopes": ["read:signals"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let key = created.json::<Value>().await.unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let with_key = |path: &str| t.client.get(t.url(path)).bearer_auth(&key).send();
    let signals = with_key("/api/v1/signals").await.unwrap();
    assert_eq!(signals.status(), StatusCode::OK);
    for path in [
        "/api/v1/patterns",
        "/api/v1/matrix",
        "/api/v1/candles/XRP-ETH/1h",
    ] {
        let denied = with_key(path).await.unwrap();
        assert_eq!(denied.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(
            denied.json::<Value>().await.unwrap()["error"],
            "insufficient_scope"
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn candles_patterns_signals_and_the_matrix_read_the_projections(pool: PgPool) {
    let (t, ada, _) = with_market_data(pool.clone()).await;
    // Candles: newest `limit` closed ones, ascending; `before` pages back.
    let (status, body) = get(&t, &ada, "/api/v1/candles/XRP%2FETH/1h?limit=5").await;
    assert_eq!(status, StatusCode::OK);
    let candles = body["candles"].as_array().unwrap();
    assert_eq!(candles.len(), 5);
    assert_eq!(body["symbol"], "XRP/ETH");
    let last: i64 = sqlx::query_scalar(
        "SELECT max(open_time) FROM candles WHERE symbol = 'XRP/ETH' AND timeframe = '1h'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(candles[4]["open_time"], last);
    assert_eq!(candles[3]["open_time"], last - 3_600_000);
    let (_, older) = get(
        &t,
        &ada,
        &format!(
            "/api/v1/candles/XRP-ETH/1h?limit=2&before={}",
            last - 3_600_000
        ),
    )
    .await;
    assert_eq!(older["candles"][1]["open_time"], last - 2 * 3_600_000);
    let (_, clamped) = get(&t, &ada, "/api/v1/candles/XRP_ETH/1m?limit=100000").await;
    assert_eq!(
        clamped["candles"].as_array().unwrap().len(),
        1000,
        "limits are clamped to 1000"
    );
    let (_, at_least_one) = get(&t, &ada, "/api/v1/candles/XRP_ETH/5m?limit=0").await;
    assert_eq!(at_least_one["candles"].as_array().unwrap().len(), 1);

    // Patterns: filters and a cursor walk that sees every row once.
    let total: i64 =
        sqlx::query_scalar("SELECT count(*) FROM patterns_view WHERE timeframe = '5m'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(total > 20, "{total}");
    let mut seen = 0;
    let mut path = "/api/v1/patterns?timeframe=5m&limit=7".to_owned();
    loop {
        let (status, page) = get(&t, &ada, &path).await;
        assert_eq!(status, StatusCode::OK);
        let rows = page["patterns"].as_array().unwrap();
        assert!(
            rows.iter()
                .all(|p| p["timeframe"] == "5m" && p["symbol"] == "XRP/ETH")
        );
        seen += rows.len();
        let Some(cursor) = page["next_cursor"].as_str() else {
            break;
        };
        path = format!("/api/v1/patterns?timeframe=5m&limit=7&cursor={cursor}");
    }
    assert_eq!(seen as i64, total);
    let (_, active) = get(
        &t,
        &ada,
        "/api/v1/patterns?status=active&type=liquidity_sweep&direction=bullish",
    )
    .await;
    let active_rows = active["patterns"].as_array().unwrap();
    let expected: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM patterns_view WHERE status = 'active' AND pattern_type = 'liquidity_sweep' AND direction = 'bullish'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(active_rows.len() as i64, expected.min(50));
    let first = &active_rows.first().cloned().unwrap_or(Value::Null);
    if !first.is_null() {
        assert!(first["levels"]["entry"].is_number() && first["swept_level"].is_number());
    }

    // Signals and one signal.
    let (_, signals) = get(&t, &ada, "/api/v1/signals?symbol=XRP/ETH").await;
    let rows = signals["signals"].as_array().unwrap();
    let expected: i64 = sqlx::query_scalar("SELECT count(*) FROM signals_view")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows.len() as i64, expected);
    assert!(!rows.is_empty(), "XRP_ETH yields signals");
    let id = rows[0]["id"].as_str().unwrap();
    let (status, one) = get(&t, &ada, &format!("/api/v1/signals/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, rows[0]);
    assert!(one["confluence"].as_i64().unwrap() >= 3);
    assert_eq!(one["confluence_of"], 7);
    let (status, _) = get(
        &t,
        &ada,
        "/api/v1/signals/00000000-0000-4000-8000-000000000000",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, open) = get(&t, &ada, "/api/v1/signals?outcome=open").await;
    assert!(
        open["signals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["outcome"] == "open")
    );

    // The matrix: one cell per symbol, timeframe and type with an active pattern.
    let (_, matrix) = get(&t, &ada, "/api/v1/matrix").await;
    let cells = matrix["cells"].as_array().unwrap();
    let expected: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT DISTINCT symbol, timeframe, pattern_type FROM patterns_view WHERE status = 'active') c",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(cells.len() as i64, expected);
    for cell in cells {
        let newest: i64 = sqlx::query_scalar(
            "SELECT max(detected_ts) FROM patterns_view WHERE status = 'active' AND symbol = $1 AND timeframe = $2 AND pattern_type = $3",
        )
        .bind(cell["symbol"].as_str().unwrap())
        .bind(cell["timeframe"].as_str().unwrap())
        .bind(cell["type"].as_str().unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(cell["detected_at"], newest);
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_parameters_are_named_in_a_400(pool: PgPool) {
    let (t, ada, _) = with_market_data(pool).await;
    let (status, body) = get(
        &t,
        &ada,
        "/api/v1/candles/BTCUSDT/3m?limit=ten&before=yesterday",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_parameters");
    let fields = body["fields"].as_object().unwrap();
    let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["before", "limit", "symbol", "timeframe"]);
    assert!(fields["timeframe"].as_str().unwrap().contains("3m"));
    let (status, body) = get(
        &t,
        &ada,
        "/api/v1/patterns?type=triangle&status=open&cursor=nope&color=red",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields = body["fields"].as_object().unwrap();
    assert!(
        fields.contains_key("type")
            && fields.contains_key("status")
            && fields.contains_key("cursor")
    );
    assert!(fields["unknown"].as_str().unwrap().contains("color"));
    let (status, body) = get(&t, &ada, "/api/v1/signals?outcome=won&direction=up").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["fields"]["outcome"].is_string() && body["fields"]["direction"].is_string());
    let (status, body) = get(&t, &ada, "/api/v1/signals/not-a-uuid").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["fields"]["id"].is_string());
}

#[sqlx::test(migrations = "../migrations")]
async fn admins_list_and_delist_symbols_but_not_the_mandatory_ones(pool: PgPool) {
    let t = spawn_fast_app(pool.clone(), test_clock(), &[]).await;
    let (_, admin) = t.create_admin(PASSWORD).await;
    let (_, ada) = t.signed_up("ada@example.com", "ada", PASSWORD).await;
    let denied = t
        .post_as(&ada, "/api/v1/admin/symbols")
        .json(&json!({"symbol": "ADA/USDT"}))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);

    let added = t
        .post_as(&admin, "/api/v1/admin/symbols")
        .json(&json!({"symbol": "ada/usdt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    let body: Value = added.json().await.unwrap();
    assert_eq!(
        (
            body["symbol"].clone(),
            body["listed"].clone(),
            body["mandatory"].clone()
        ),
        (json!("ADA/USDT"), json!(true), json!(false))
    );
    let again = t
        .post_as(&admin, "/api/v1/admin/symbols")
        .json(&json!({"symbol": "ADA/USDT"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"],
        "already_listed"
    );
    let bad = t
        .post_as(&admin, "/api/v1/admin/symbols")
        .json(&json!({"symbol": "ADAUSDT"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.json::<Value>().await.unwrap()["fields"]["symbol"].is_string());

    let muted = t
        .client
        .put(t.url("/api/v1/admin/symbols/ADA-USDT/notifications"))
        .header(reqwest::header::COOKIE, admin.cookie_header())
        .header("x-csrf-token", &admin.csrf)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(muted.status(), StatusCode::OK);
    assert_eq!(muted.json::<Value>().await.unwrap()["notifications"], false);
    let removed = t
        .delete_as(&admin, "/api/v1/admin/symbols/ADA-USDT")
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    assert_eq!(removed.json::<Value>().await.unwrap()["listed"], false);

    let btc = t
        .post_as(&admin, "/api/v1/admin/symbols")
        .json(&json!({"symbol": "BTC/USDT"}))
        .send()
        .await
        .unwrap();
    assert_eq!(btc.status(), StatusCode::CREATED);
    let kept = t
        .delete_as(&admin, "/api/v1/admin/symbols/BTC%2FUSDT")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status(), StatusCode::CONFLICT);
    assert_eq!(
        kept.json::<Value>().await.unwrap()["error"],
        "mandatory_symbol"
    );

    let (status, list) = get(&t, &admin, "/api/v1/admin/symbols").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<(&str, bool)> = list["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["symbol"].as_str().unwrap(),
                s["listed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, [("ADA/USDT", false), ("BTC/USDT", true)]);
    let actor: String = sqlx::query_scalar(
        "SELECT metadata->>'actor' FROM events WHERE aggregate_type = 'symbol' AND event_type = 'SymbolDelisted'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(actor.starts_with("account:"), "{actor}");
}
