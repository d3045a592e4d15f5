//! `/api/v1/api-keys`: a user's API keys. Managing keys needs a signed-in,
//! verified session (a key cannot mint keys); the key is shown once.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use commands::CommandError;
use cqrs_es::Aggregate;
use domain::api_key::{ApiKey, ApiKeyError, ApiScope};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::AppState;
use super::auth::{AuthVia, CurrentUser};
use super::context::RequestMeta;
use super::error::{ApiError, ApiJson};
use super::sessions::{command_error, wait_for_projection};
use crate::read_models::api_keys::{self, ApiKeyView};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/api-keys", get(list_api_keys).post(create_api_key))
        .route("/api/v1/api-keys/current", get(get_current_api_key))
        .route("/api/v1/api-keys/{id}", delete(delete_api_key))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    pub name: String,
    pub scopes: Vec<String>,
    /// Days until the key expires (1-3650); absent: never.
    pub expires_in_days: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct CreatedApiKeyResponse {
    pub id: Uuid,
    /// The full key: shown this once, never again.
    pub key: String,
    pub scopes: Vec<ApiScope>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

async fn create_api_key(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    user: CurrentUser,
    ApiJson(request): ApiJson<CreateApiKeyRequest>,
) -> Result<(StatusCode, ApiJson<CreatedApiKeyResponse>), ApiError> {
    user.require_session()?;
    user.require_verified()?;
    let scopes = request
        .scopes
        .iter()
        .map(|s| ApiScope::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::Validation {
            fields: vec![("scopes", e.to_string())],
        })?;
    let expires_at = match request.expires_in_days {
        None => None,
        Some(days @ 1..=3650) => {
            Some(state.identity.clock.now() + time::Duration::days(i64::from(days)))
        }
        Some(_) => {
            return Err(ApiError::Validation {
                fields: vec![("expires_in_days", "must be 1 to 3650".to_owned())],
            });
        }
    };
    let issued = state
        .identity
        .api_keys
        .issue(
            user.account_id,
            &request.name,
            scopes.clone(),
            expires_at,
            &metadata.with_actor(user.actor()),
        )
        .await
        .map_err(|error| match error {
            CommandError::Rejected(ApiKeyError::BadName) => ApiError::Validation {
                fields: vec![("name", "must be 1 to 60 characters".to_owned())],
            },
            CommandError::Rejected(ApiKeyError::NoScopes) => ApiError::Validation {
                fields: vec![("scopes", "name at least one scope".to_owned())],
            },
            other => command_error(other),
        })?;
    wait_for_projection(
        &state,
        api_keys::NAME,
        ApiKey::TYPE,
        &issued.key_id.to_string(),
    )
    .await?;
    let mut scopes = scopes;
    scopes.sort();
    scopes.dedup();
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedApiKeyResponse {
            id: issued.key_id,
            key: issued.key,
            scopes,
            expires_at,
        }),
    ))
}

async fn list_api_keys(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<ApiJson<Vec<ApiKeyView>>, ApiError> {
    user.require_session()?;
    Ok(ApiJson(
        api_keys::list_for_owner(&state.pool, user.account_id)
            .await
            .map_err(ApiError::internal)?,
    ))
}

#[derive(Debug, Serialize)]
pub struct CurrentKeyResponse {
    pub id: Uuid,
    pub account_id: Uuid,
    pub scopes: Vec<ApiScope>,
}

/// What the calling key is (for API clients to check their setup).
async fn get_current_api_key(user: CurrentUser) -> Result<ApiJson<CurrentKeyResponse>, ApiError> {
    match user.via {
        AuthVia::ApiKey { key_id, scopes } => Ok(ApiJson(CurrentKeyResponse {
            id: key_id,
            account_id: user.account_id,
            scopes,
        })),
        AuthVia::Session { .. } => Err(ApiError::BadRequest {
            code: "not_an_api_key",
            message: "call this with Authorization: Bearer <API key>".to_owned(),
        }),
    }
}

async fn delete_api_key(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    user: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    user.require_session()?;
    state
        .identity
        .api_keys
        .revoke(user.account_id, id, &metadata.with_actor(user.actor()))
        .await
        .map_err(|error| match error {
            CommandError::Rejected(ApiKeyError::NotFound) => ApiError::NotFound,
            CommandError::Rejected(ApiKeyError::AlreadyRevoked) => ApiError::Conflict {
                code: "already_revoked",
                message: "the key is already revoked".to_owned(),
            },
            other => command_error(other),
        })?;
    wait_for_projection(&state, api_keys::NAME, ApiKey::TYPE, &id.to_string()).await?;
    Ok(StatusCode::NO_CONTENT)
}
