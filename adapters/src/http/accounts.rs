//! `/api/v1/accounts`: registration and reading an account back.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use commands::CommandError;
use commands::accounts::RegistrationError;
use cqrs_es::Aggregate;
use domain::account::Account;
use projections::accounts::AccountView;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AppState;
use super::auth::{ApiScope, AuthVia, CurrentUser};
use super::context::RequestMeta;
use super::error::{ApiError, ApiJson};
use crate::postgres::event_log;
use crate::projector::status::wait_until_processed;
use crate::read_models;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts", post(create_account))
        .route("/api/v1/accounts/{id}", get(get_account))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountRequest {
    pub email: String,
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize)]
pub struct CreateAccountResponse {
    pub id: Uuid,
}

async fn create_account(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    ApiJson(request): ApiJson<CreateAccountRequest>,
) -> Result<(StatusCode, ApiJson<CreateAccountResponse>), ApiError> {
    let id = state
        .accounts
        .register_account(
            &request.email,
            &request.username,
            &request.password,
            &metadata,
        )
        .await
        .map_err(|error| match error {
            CommandError::Rejected(RegistrationError::Invalid(invalid)) => ApiError::Validation {
                fields: invalid
                    .fields
                    .into_iter()
                    .map(|f| (f.field, f.message))
                    .collect(),
            },
            CommandError::Rejected(RegistrationError::EmailTaken) => ApiError::Conflict {
                code: "email_taken",
                message: "an account with this email address already exists".to_owned(),
            },
            CommandError::Rejected(RegistrationError::UsernameTaken) => ApiError::Conflict {
                code: "username_taken",
                message: "this username is taken".to_owned(),
            },
            CommandError::Rejected(RegistrationError::AlreadyRegistered)
            | CommandError::Conflict => ApiError::Conflict {
                code: "conflict",
                message: "the request raced with another one; try again".to_owned(),
            },
            CommandError::NotFound => ApiError::NotFound,
            CommandError::Unavailable(source) => ApiError::internal(anyhow::anyhow!(source)),
        })?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreateAccountResponse { id: id.as_uuid() }),
    ))
}

/// What the API shows of an account to its owner.
#[derive(Debug, Serialize)]
pub struct AccountResponse {
    pub id: Uuid,
    pub username: String,
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: time::OffsetDateTime,
    pub logins_succeeded: i64,
    pub logins_failed: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<time::OffsetDateTime>,
    pub verified: bool,
    pub active: bool,
    pub is_admin: bool,
    pub two_factor_enabled: bool,
}

impl From<AccountView> for AccountResponse {
    fn from(view: AccountView) -> Self {
        Self {
            id: view.account_id,
            username: view.username,
            registered_at: view.registered_at,
            logins_succeeded: view.logins_succeeded,
            logins_failed: view.logins_failed,
            last_login_at: view.last_login_at,
            verified: view.verified,
            active: view.active,
            is_admin: view.is_admin,
            two_factor_enabled: view.two_factor_enabled,
        }
    }
}

/// Reads the `accounts` projection. When the account is not there yet but
/// its events are in the log (a registration a moment ago), waits briefly
/// for the projection to catch up: read-your-writes.
///
/// Only the account's owner (or an admin) may read it; anyone else gets the
/// same 404 as for an id that does not exist. An API key needs
/// `read:portfolio`.
async fn get_account(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<ApiJson<AccountResponse>, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::BadRequest {
        code: "invalid_id",
        message: "the account id must be a UUID".to_owned(),
    })?;
    user.require_scope(ApiScope::ReadPortfolio)?;
    let admin_by_session = user.is_admin && matches!(user.via, AuthVia::Session { .. });
    if user.account_id != id && !admin_by_session {
        return Err(ApiError::NotFound);
    }
    if let Some(view) = read_models::accounts::find(&state.pool, id)
        .await
        .map_err(ApiError::internal)?
    {
        return Ok(ApiJson(view.into()));
    }
    let head = event_log::aggregate_head(&state.pool, Account::TYPE, &id.to_string())
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError::NotFound)?;
    let caught_up = wait_until_processed(
        &state.pool,
        projections::accounts::NAME,
        &head,
        state.config.read_your_writes_timeout,
    )
    .await
    .map_err(ApiError::internal)?;
    if !caught_up {
        return Err(ApiError::Unavailable);
    }
    read_models::accounts::find(&state.pool, id)
        .await
        .map_err(ApiError::internal)?
        .map(|view| ApiJson(view.into()))
        .ok_or(ApiError::NotFound)
}
