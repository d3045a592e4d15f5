//! HTTP: one `router()` per feature, composed here with the cross-cutting
//! layers (request context, body limit, panic catcher, JSON fallbacks).

pub mod accounts;
pub mod context;
pub mod error;
pub mod health;
pub mod sessions;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use commands::accounts::AccountService;
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use tower_http::catch_panic::CatchPanicLayer;

use crate::broker::Broker;
use crate::config::Config;
use crate::postgres::PgStores;
use error::ApiError;

/// Request bodies above this are refused with 413.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub accounts: Arc<AccountService<PgStores>>,
    pub pool: PgPool,
    pub broker: Broker,
    pub metrics: PrometheusHandle,
    pub config: Arc<Config>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(accounts::router())
        .merge(sessions::router())
        .merge(health::router())
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| -> Response {
                ApiError::internal(anyhow::anyhow!("a request handler panicked")).into_response()
            },
        ))
        .layer(axum::middleware::from_fn(context::request_context))
        .with_state(state)
}
