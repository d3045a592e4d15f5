//! `/api/v1/sessions`: sign in (password, then the second factor when
//! enrolled), sign out, and the user's list of sessions.
//!
//! Every successful step creates a *new* session row with a fresh 256-bit
//! id, and the session presented with the request (if any) is deleted: a
//! session id planted before login is worthless after it (fixation).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use commands::CommandError;
use commands::accounts::SignInOutcome;
use cqrs_es::Aggregate;
use domain::account::{Account, AccountId, RevocationReason};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AppState;
use super::auth::{CurrentUser, ResolvedSession, check_csrf, clear_session_cookie, session_cookie};
use super::context::RequestMeta;
use super::error::{ApiError, ApiJson};
use crate::postgres::event_log;
use crate::postgres::sessions::{self, SessionState};
use crate::projector::status::wait_until_processed;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sessions", post(create_session).get(list_sessions))
        .route("/api/v1/sessions/two-factor", post(complete_session))
        .route("/api/v1/sessions/logout", post(delete_current_session))
        .route("/api/v1/sessions/{id}", delete(delete_session))
        .route("/api/v1/me", get(get_me))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorRequest {
    /// A 6-digit TOTP code or one of the recovery codes.
    pub code: String,
}

#[derive(Debug, Serialize)]
pub struct SessionResponse {
    pub account_id: Uuid,
    /// `signed_in`, or `two_factor_required` (then POST the code to
    /// `/api/v1/sessions/two-factor`).
    pub status: &'static str,
    /// Send it as `X-CSRF-Token` with every state-changing call of this session.
    pub csrf_token: String,
}

/// The one answer for a wrong password, an unknown email, a locked or a
/// deactivated account alike.
pub const SIGN_IN_FAILED: &str = "the email address or the password is wrong";
pub const CODE_FAILED: &str = "the code is wrong";

/// A failed sign-in step answers no sooner than this after the request
/// arrived. Every path already spends one Argon2id verification (a dummy one
/// for unknown addresses); the floor also hides the remaining difference
/// (loading and recording the attempt of a real account).
pub const FAILURE_RESPONSE_TIME: std::time::Duration = std::time::Duration::from_millis(300);

/// Holds a failure back until [`FAILURE_RESPONSE_TIME`] after `started`.
pub async fn uniform_failure<T>(
    started: tokio::time::Instant,
    result: Result<T, ApiError>,
) -> Result<T, ApiError> {
    if matches!(result, Err(ApiError::Unauthenticated { .. })) {
        tokio::time::sleep_until(started + FAILURE_RESPONSE_TIME).await;
    }
    result
}

fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
}

pub fn command_error<E: std::error::Error>(error: CommandError<E>) -> ApiError {
    match error {
        CommandError::Conflict => ApiError::Conflict {
            code: "conflict",
            message: "the request raced with another one; try again".to_owned(),
        },
        CommandError::NotFound => ApiError::NotFound,
        CommandError::Rejected(error) => ApiError::Conflict {
            code: "rejected",
            message: error.to_string(),
        },
        CommandError::Unavailable(source) => ApiError::internal(anyhow::anyhow!(source)),
    }
}

/// Ends every session of `account_id` except `keep` and records how many
/// ended (nothing is recorded when none did). Returns the count.
pub async fn end_sessions(
    state: &AppState,
    account_id: Uuid,
    keep: Option<Uuid>,
    reason: RevocationReason,
    metadata: &commands::Metadata,
) -> Result<u32, ApiError> {
    let ended = sessions::delete_for_account(&state.pool, account_id, keep)
        .await
        .map_err(ApiError::internal)?;
    if ended > 0 {
        state
            .accounts
            .record_sessions_revoked(AccountId::from_uuid(account_id), reason, ended, metadata)
            .await
            .map_err(command_error)?;
    }
    Ok(ended)
}

/// Waits until the accounts view reflects everything recorded for the
/// account, so the next request sees its current state (read-your-writes).
pub async fn wait_for_account(state: &AppState, account_id: Uuid) -> Result<(), ApiError> {
    wait_for_projection(
        state,
        projections::accounts::NAME,
        Account::TYPE,
        &account_id.to_string(),
    )
    .await
}

/// Waits until `projection` has processed everything recorded for the
/// aggregate (read-your-writes); 503 if it does not within the timeout.
pub async fn wait_for_projection(
    state: &AppState,
    projection: &str,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<(), ApiError> {
    let head = event_log::aggregate_head(&state.pool, aggregate_type, aggregate_id)
        .await
        .map_err(ApiError::internal)?;
    if let Some(head) = head {
        let caught_up = wait_until_processed(
            &state.pool,
            projection,
            &head,
            state.config.read_your_writes_timeout,
        )
        .await
        .map_err(ApiError::internal)?;
        if !caught_up {
            return Err(ApiError::Unavailable);
        }
    }
    Ok(())
}

/// Starts a fresh session (deleting the one presented, if any) and answers
/// with its cookie.
pub async fn start_session(
    state: &AppState,
    presented: Option<&ResolvedSession>,
    account_id: Uuid,
    session_state: SessionState,
    client_ip: Option<&str>,
    headers: &HeaderMap,
) -> Result<(sessions::Created, axum::http::HeaderValue), ApiError> {
    if let Some(ResolvedSession(old)) = presented {
        sessions::delete(&state.pool, old.id)
            .await
            .map_err(ApiError::internal)?;
    }
    let now = state.identity.clock.now();
    let created = sessions::create(
        &state.pool,
        account_id,
        session_state,
        now,
        client_ip,
        user_agent(headers),
    )
    .await
    .map_err(ApiError::internal)?;
    let cookie = session_cookie(&created.token, state.identity.absolute_timeout);
    Ok((created, cookie))
}

async fn respond_signed_in(
    state: &AppState,
    presented: Option<&ResolvedSession>,
    outcome: SignInOutcome,
    client_ip: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let (account_id, session_state, status) = match outcome {
        SignInOutcome::SignedIn { account_id } => (account_id, SessionState::Active, "signed_in"),
        SignInOutcome::SecondFactorRequired { account_id } => (
            account_id,
            SessionState::PendingSecondFactor,
            "two_factor_required",
        ),
        SignInOutcome::Failed => {
            return Err(ApiError::Unauthenticated {
                message: SIGN_IN_FAILED.to_owned(),
            });
        }
    };
    let account_id = account_id.as_uuid();
    wait_for_account(state, account_id).await?;
    let (created, cookie) = start_session(
        state,
        presented,
        account_id,
        session_state,
        client_ip,
        headers,
    )
    .await?;
    let mut response = ApiJson(SessionResponse {
        account_id,
        status,
        csrf_token: created.csrf_token,
    })
    .into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

async fn create_session(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    presented: Option<axum::Extension<ResolvedSession>>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<CreateSessionRequest>,
) -> Result<Response, ApiError> {
    let started = tokio::time::Instant::now();
    let outcome = match state
        .accounts
        .sign_in(&request.email, &request.password, &metadata)
        .await
    {
        Ok(outcome) => outcome,
        // A lost race (many attempts on one account at once) answers like any
        // failure: a 409 would tell that the account exists.
        Err(CommandError::Rejected(_) | CommandError::NotFound | CommandError::Conflict) => {
            SignInOutcome::Failed
        }
        Err(other) => return Err(command_error(other)),
    };
    let answer = respond_signed_in(
        &state,
        presented.as_deref(),
        outcome,
        metadata.client_ip.as_deref(),
        &headers,
    )
    .await;
    uniform_failure(started, answer).await
}

async fn complete_session(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    presented: Option<axum::Extension<ResolvedSession>>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<SecondFactorRequest>,
) -> Result<Response, ApiError> {
    let Some(session) = presented.as_deref() else {
        return Err(ApiError::Unauthenticated {
            message: "sign in with your password first".to_owned(),
        });
    };
    if session.0.state != SessionState::PendingSecondFactor {
        return Err(ApiError::Conflict {
            code: "already_signed_in",
            message: "this session is already signed in".to_owned(),
        });
    }
    check_csrf(&headers, &session.0)?;
    let started = tokio::time::Instant::now();
    let account_id = AccountId::from_uuid(session.0.account_id);
    let outcome = match state
        .accounts
        .complete_sign_in(account_id, &request.code, &metadata)
        .await
    {
        Ok(outcome) => outcome,
        // A lost race (many attempts on one account at once) answers like any
        // failure: a 409 would tell that the account exists.
        Err(CommandError::Rejected(_) | CommandError::NotFound | CommandError::Conflict) => {
            SignInOutcome::Failed
        }
        Err(other) => return Err(command_error(other)),
    };
    if outcome == SignInOutcome::Failed {
        let failed = Err(ApiError::Unauthenticated {
            message: CODE_FAILED.to_owned(),
        });
        return uniform_failure(started, failed).await;
    }
    respond_signed_in(
        &state,
        Some(session),
        outcome,
        metadata.client_ip.as_deref(),
        &headers,
    )
    .await
}

/// Logout: deletes the session row; the cookie is cleared.
async fn delete_current_session(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, ApiError> {
    let session_id = user.require_session()?;
    sessions::delete(&state.pool, session_id)
        .await
        .map_err(ApiError::internal)?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_session_cookie());
    Ok(response)
}

#[derive(Debug, Serialize)]
pub struct SessionView {
    pub id: Uuid,
    /// The browser's User-Agent when the session started.
    pub device: Option<String>,
    pub address: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: time::OffsetDateTime,
    pub current: bool,
}

async fn list_sessions(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<ApiJson<Vec<SessionView>>, ApiError> {
    let current = user.require_session()?;
    let rows = sessions::list_for_account(&state.pool, user.account_id)
        .await
        .map_err(ApiError::internal)?;
    Ok(ApiJson(
        rows.into_iter()
            .map(|row| SessionView {
                id: row.id,
                device: row.user_agent,
                address: row.client_ip,
                created_at: row.created_at,
                last_seen_at: row.last_seen_at,
                current: row.id == current,
            })
            .collect(),
    ))
}

/// Ends one of the user's sessions (any of them, this one included).
async fn delete_session(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    user: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    user.require_session()?;
    if !sessions::delete_owned(&state.pool, user.account_id, id)
        .await
        .map_err(ApiError::internal)?
    {
        return Err(ApiError::NotFound);
    }
    state
        .accounts
        .record_sessions_revoked(
            AccountId::from_uuid(user.account_id),
            RevocationReason::UserRequest,
            1,
            &metadata.with_actor(user.actor()),
        )
        .await
        .map_err(command_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize)]
pub struct MeResponse {
    pub account_id: Uuid,
    pub username: String,
    pub is_admin: bool,
    pub verified: bool,
    /// `session` or `api_key`.
    pub via: &'static str,
    /// The CSRF token of this session (absent for API keys).
    pub csrf_token: Option<String>,
}

async fn get_me(
    user: CurrentUser,
    session: Option<axum::Extension<ResolvedSession>>,
) -> ApiJson<MeResponse> {
    let session_auth = matches!(user.via, super::auth::AuthVia::Session { .. });
    ApiJson(MeResponse {
        account_id: user.account_id,
        username: user.username,
        is_admin: user.is_admin,
        verified: user.verified,
        via: if session_auth { "session" } else { "api_key" },
        csrf_token: session
            .filter(|_| session_auth)
            .map(|s| s.0.0.csrf_token.clone()),
    })
}
