//! `/api/v1/admin/...`: admin actions on accounts. Every route takes an
//! [`AdminUser`] (403 otherwise); every action is an event on the target
//! account carrying the admin as actor (metadata) and as `by` (payload).
//! Admins cannot change their own role or deactivate themselves.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use commands::CommandError;
use domain::account::{AccountError, AccountId, AdminAction, RevocationReason};
use projections::accounts::AccountView;
use serde::Serialize;
use uuid::Uuid;

use super::AppState;
use super::auth::AdminUser;
use super::context::RequestMeta;
use super::error::{ApiError, ApiJson};
use super::sessions::{command_error, end_sessions, wait_for_account};
use crate::postgres::sessions;
use crate::read_models;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/accounts/{id}", get(get_account))
        .route(
            "/api/v1/admin/accounts/{id}/{action}",
            post(administer_account),
        )
}

fn parse_action(text: &str) -> Option<AdminAction> {
    Some(match text {
        "grant-admin" => AdminAction::GrantAdmin,
        "revoke-admin" => AdminAction::RevokeAdmin,
        "deactivate" => AdminAction::Deactivate,
        "reactivate" => AdminAction::Reactivate,
        "verify" => AdminAction::Verify,
        "unlock" => AdminAction::Unlock,
        _ => return None,
    })
}

#[derive(Debug, Serialize)]
pub struct AdminAccountResponse {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    pub verified: bool,
    pub active: bool,
    pub is_admin: bool,
    pub two_factor_enabled: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_until: Option<time::OffsetDateTime>,
    pub changed: Option<bool>,
}

fn response(view: AccountView, changed: Option<bool>) -> AdminAccountResponse {
    AdminAccountResponse {
        id: view.account_id,
        username: view.username,
        email: view.email,
        verified: view.verified,
        active: view.active,
        is_admin: view.is_admin,
        two_factor_enabled: view.two_factor_enabled,
        locked_until: view.locked_until,
        changed,
    }
}

async fn get_account(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Path(id): Path<Uuid>,
) -> Result<ApiJson<AdminAccountResponse>, ApiError> {
    read_models::accounts::find(&state.pool, id)
        .await
        .map_err(ApiError::internal)?
        .map(|view| ApiJson(response(view, None)))
        .ok_or(ApiError::NotFound)
}

async fn administer_account(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    AdminUser(admin): AdminUser,
    Path((id, action)): Path<(Uuid, String)>,
) -> Result<ApiJson<AdminAccountResponse>, ApiError> {
    let action = parse_action(&action).ok_or(ApiError::NotFound)?;
    let target = AccountId::from_uuid(id);
    let metadata = metadata.with_actor(admin.actor());
    let changed = state
        .accounts
        .administer(
            target,
            action,
            Some(AccountId::from_uuid(admin.account_id)),
            &metadata,
        )
        .await
        .map_err(|error| match error {
            CommandError::Rejected(AccountError::CannotActOnSelf) => ApiError::Denied {
                code: "cannot_act_on_self",
                message: "admins cannot change their own role or deactivate themselves".to_owned(),
            },
            other => command_error(other),
        })?;
    if changed {
        match action {
            AdminAction::Deactivate => {
                end_sessions(&state, id, None, RevocationReason::Deactivated, &metadata).await?;
            }
            AdminAction::GrantAdmin | AdminAction::RevokeAdmin => {
                sessions::mark_for_rotation(&state.pool, id)
                    .await
                    .map_err(ApiError::internal)?;
            }
            AdminAction::Reactivate | AdminAction::Verify | AdminAction::Unlock => {}
        }
    }
    wait_for_account(&state, id).await?;
    read_models::accounts::find(&state.pool, id)
        .await
        .map_err(ApiError::internal)?
        .map(|view| ApiJson(response(view, Some(changed))))
        .ok_or(ApiError::NotFound)
}
