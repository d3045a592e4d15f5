//! Liveness, readiness and the Prometheus endpoint.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};

use super::AppState;
use crate::projector::{self, status};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(render_metrics))
}

async fn live() -> impl IntoResponse {
    axum::Json(json!({ "status": "live" }))
}

/// 200 when PostgreSQL answers, RabbitMQ is connected and no projection is
/// further behind than `CRYPTOLENS_READY_MAX_LAG_SECONDS`; else 503. The
/// body names every check.
async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let postgres = tokio::time::timeout(
        Duration::from_secs(2),
        sqlx::query("SELECT 1").execute(&state.pool),
    )
    .await
    .map_err(|_| "timed out".to_owned())
    .and_then(|r| r.map(|_| ()).map_err(|e| e.to_string()));
    let rabbitmq = state.broker.is_connected().await;

    let mut projections = serde_json::Map::new();
    let mut projections_ok = postgres.is_ok();
    if postgres.is_ok() {
        for projection in projector::all() {
            match status::status(&state.pool, projection.name()).await {
                Ok(s) => {
                    let ok = s.lag_seconds <= state.config.ready_max_lag.as_secs_f64();
                    projections_ok &= ok;
                    projections.insert(
                        s.name.clone(),
                        json!({ "ok": ok, "lag_events": s.lag_events, "lag_seconds": s.lag_seconds }),
                    );
                }
                Err(error) => {
                    projections_ok = false;
                    projections.insert(
                        projection.name().to_owned(),
                        json!({ "ok": false, "error": format!("{error:#}") }),
                    );
                }
            }
        }
    }
    let all_ok = postgres.is_ok() && rabbitmq && projections_ok;
    let body = json!({
        "status": if all_ok { "ready" } else { "not_ready" },
        "checks": {
            "postgres": match &postgres { Ok(()) => json!({ "ok": true }), Err(e) => json!({ "ok": false, "error": e }) },
            "rabbitmq": json!({ "ok": rabbitmq }),
            "projections": Value::Object({
                let mut p = serde_json::Map::new();
                p.insert("ok".into(), Value::Bool(projections_ok));
                p.insert("each".into(), Value::Object(projections));
                p
            }),
        }
    });
    let code = if all_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body))
}

async fn render_metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
