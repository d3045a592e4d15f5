//! Admin API for symbols (PRODUCT §3; admins only, by session):
//!
//! * `GET /api/v1/admin/symbols`: every symbol with its state.
//! * `POST /api/v1/admin/symbols` `{"symbol": "ADA/USDT"}`: list (201).
//! * `DELETE /api/v1/admin/symbols/{symbol}`: delist (409 for the mandatory ones).
//! * `PUT /api/v1/admin/symbols/{symbol}/notifications` `{"enabled": false}`.
//!
//! Every change is an event on the symbol aggregate with the admin as actor.
//! The symbol in a path is `ADA-USDT`, `ADA_USDT` or `ADA%2FUSDT`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, put};
use commands::CommandError;
use commands::market::{SymbolChangeError, SymbolService};
use domain::symbol::{Listing, SymbolError};
use projections::market::symbols::SymbolView;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::AdminUser;
use super::context::RequestMeta;
use super::error::{ApiError, ApiJson};
use crate::postgres::{PgStores, event_log};
use crate::projector::status::wait_until_processed;
use crate::read_models::market::symbols;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/symbols", get(list_symbols).post(add_symbol))
        .route("/api/v1/admin/symbols/{symbol}", delete(remove_symbol))
        .route(
            "/api/v1/admin/symbols/{symbol}/notifications",
            put(set_notifications),
        )
}

#[derive(Debug, Serialize)]
pub struct SymbolResponse {
    pub symbol: String,
    pub listed: bool,
    pub mandatory: bool,
    pub notifications: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub listed_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub delisted_at: Option<time::OffsetDateTime>,
}

impl From<SymbolView> for SymbolResponse {
    fn from(v: SymbolView) -> Self {
        Self {
            symbol: v.symbol,
            listed: v.listed,
            mandatory: v.mandatory,
            notifications: v.notifications,
            listed_at: v.listed_at,
            delisted_at: v.delisted_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SymbolsResponse {
    pub symbols: Vec<SymbolResponse>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddSymbolRequest {
    pub symbol: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsRequest {
    pub enabled: bool,
}

fn service(state: &AppState) -> SymbolService<PgStores> {
    SymbolService::new(
        &PgStores::new(state.pool.clone()),
        None,
        Arc::clone(&state.identity.clock),
    )
}

fn refused(error: CommandError<SymbolChangeError>) -> ApiError {
    match error {
        CommandError::Rejected(SymbolChangeError::Invalid(invalid)) => {
            ApiError::InvalidParameters {
                fields: vec![("symbol", invalid.to_string())],
            }
        }
        CommandError::Rejected(SymbolChangeError::Refused(reason)) => ApiError::Conflict {
            code: match reason {
                SymbolError::AlreadyListed => "already_listed",
                SymbolError::NotListed => "not_listed",
                SymbolError::Mandatory => "mandatory_symbol",
                SymbolError::Unchanged => "unchanged",
            },
            message: reason.to_string(),
        },
        CommandError::NotFound => ApiError::NotFound,
        CommandError::Conflict => ApiError::Conflict {
            code: "conflict",
            message: "the request raced with another one; try again".to_owned(),
        },
        CommandError::Unavailable(source) => ApiError::internal(anyhow::anyhow!(source)),
    }
}

/// The symbol's row once the projection has seen the change.
async fn read_back(state: &AppState, symbol: &str) -> Result<ApiJson<SymbolResponse>, ApiError> {
    if let Some(head) =
        event_log::aggregate_head(&state.pool, <Listing as cqrs_es::Aggregate>::TYPE, symbol)
            .await
            .map_err(ApiError::internal)?
    {
        let caught_up = wait_until_processed(
            &state.pool,
            projections::market::symbols::NAME,
            &head,
            state.config.read_your_writes_timeout,
        )
        .await
        .map_err(ApiError::internal)?;
        if !caught_up {
            return Err(ApiError::Unavailable);
        }
    }
    symbols::all(&state.pool)
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .find(|s| s.symbol == symbol)
        .map(|s| ApiJson(s.into()))
        .ok_or(ApiError::NotFound)
}

async fn list_symbols(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> Result<ApiJson<SymbolsResponse>, ApiError> {
    let rows = symbols::all(&state.pool)
        .await
        .map_err(ApiError::internal)?;
    Ok(ApiJson(SymbolsResponse {
        symbols: rows.into_iter().map(Into::into).collect(),
    }))
}

async fn add_symbol(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    AdminUser(admin): AdminUser,
    ApiJson(request): ApiJson<AddSymbolRequest>,
) -> Result<(StatusCode, ApiJson<SymbolResponse>), ApiError> {
    let metadata = metadata.with_actor(admin.actor());
    let symbol = service(&state)
        .list(&request.symbol, &metadata)
        .await
        .map_err(refused)?;
    Ok((
        StatusCode::CREATED,
        read_back(&state, symbol.as_str()).await?,
    ))
}

async fn remove_symbol(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    AdminUser(admin): AdminUser,
    Path(symbol): Path<String>,
) -> Result<ApiJson<SymbolResponse>, ApiError> {
    let metadata = metadata.with_actor(admin.actor());
    let symbol = service(&state)
        .delist(&symbol, &metadata)
        .await
        .map_err(refused)?;
    read_back(&state, symbol.as_str()).await
}

async fn set_notifications(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    AdminUser(admin): AdminUser,
    Path(symbol): Path<String>,
    ApiJson(request): ApiJson<NotificationsRequest>,
) -> Result<ApiJson<SymbolResponse>, ApiError> {
    let metadata = metadata.with_actor(admin.actor());
    let symbol = service(&state)
        .set_notifications(&symbol, request.enabled, &metadata)
        .await
        .map_err(refused)?;
    read_back(&state, symbol.as_str()).await
}
