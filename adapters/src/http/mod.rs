//! HTTP: one `router()` per feature, composed here with the cross-cutting
//! layers (request context, body limit, panic catcher, JSON fallbacks).

pub mod account_settings;
pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod auth;
pub mod broadcasts;
pub mod context;
pub mod csrf;
pub mod error;
pub mod health;
pub mod market;
pub mod market_admin;
pub mod notifications;
pub mod pages;
pub mod rate_limit;
pub mod security_headers;
pub mod sessions;
pub mod subscriptions_admin;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
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
    pub identity: Arc<auth::IdentityState>,
    pub notifications: Arc<commands::notifications::NotificationService<PgStores>>,
    pub broadcasts: Arc<commands::notifications::BroadcastService<PgStores>>,
}

pub fn router(state: AppState) -> Router {
    let csrf = csrf::layer(&state.identity.public_url);
    Router::new()
        .merge(accounts::router())
        .merge(sessions::router())
        .merge(account_settings::router())
        .merge(api_keys::router())
        .merge(admin::router())
        .merge(notifications::router())
        .merge(broadcasts::router())
        .merge(pages::router())
        .merge(health::router())
        .merge(market::router())
        .merge(market_admin::router())
        .merge(subscriptions_admin::router())
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| -> Response {
                ApiError::internal(anyhow::anyhow!("a request handler panicked")).into_response()
            },
        ))
        .layer(from_fn_with_state(state.clone(), auth::resolve_session))
        .layer(csrf)
        .layer(from_fn_with_state(state.clone(), rate_limit::limit))
        .layer(from_fn_with_state(state.clone(), security_headers::add))
        .layer(axum::middleware::from_fn(context::request_context))
        .with_state(state)
}
