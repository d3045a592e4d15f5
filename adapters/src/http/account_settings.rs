//! The signed-in user's own security settings (password, two-factor) and
//! the anonymous email flows (verify, resend, forgot, reset).
//!
//! "Resend" and "forgot" answer 202 with the same body whether or not the
//! address has an account, after the same minimum time.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use commands::CommandError;
use commands::accounts::PasswordChangeError;
use domain::account::{AccountError, AccountId, RevocationReason};
use qrcode::QrCode;
use qrcode::render::svg;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AppState;
use super::auth::{CurrentUser, session_cookie};
use super::context::RequestMeta;
use super::error::{ApiError, ApiJson};
use super::sessions::{command_error, end_sessions, wait_for_account};
use crate::postgres::sessions;

/// "Resend" and "forgot" take at least this long, found or not.
pub const UNIFORM_RESPONSE_TIME: Duration = Duration::from_millis(250);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/account/password", post(change_password))
        .route(
            "/api/v1/account/two-factor/enrolment",
            post(begin_two_factor),
        )
        .route("/api/v1/account/two-factor", post(confirm_two_factor))
        .route(
            "/api/v1/account/two-factor/disable",
            post(disable_two_factor),
        )
        .route("/api/v1/email-verification", post(verify_email))
        .route(
            "/api/v1/email-verification/resend",
            post(resend_verification),
        )
        .route("/api/v1/password-reset", post(request_password_reset))
        .route("/api/v1/password-reset/confirm", post(reset_password))
}

fn password_error(error: CommandError<PasswordChangeError>) -> ApiError {
    match error {
        CommandError::Rejected(PasswordChangeError::Policy(policy)) => ApiError::Validation {
            fields: vec![("new_password", policy.to_string())],
        },
        CommandError::Rejected(PasswordChangeError::Account(AccountError::WrongPassword)) => {
            ApiError::Denied {
                code: "wrong_password",
                message: "the current password is wrong".to_owned(),
            }
        }
        CommandError::Rejected(PasswordChangeError::Account(
            AccountError::InvalidToken | AccountError::TokenExpired | AccountError::Deactivated,
        )) => invalid_link(),
        other => command_error(other),
    }
}

fn invalid_link() -> ApiError {
    ApiError::BadRequest {
        code: "invalid_token",
        message: "the link is invalid, expired or already used".to_owned(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the password, ends every other session and gives this one a
/// new id.
async fn change_password(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    user: CurrentUser,
    ApiJson(request): ApiJson<ChangePasswordRequest>,
) -> Result<Response, ApiError> {
    let session_id = user.require_session()?;
    let account_id = AccountId::from_uuid(user.account_id);
    let metadata = metadata.with_actor(user.actor());
    state
        .accounts
        .change_password(
            account_id,
            &request.current_password,
            &request.new_password,
            &metadata,
        )
        .await
        .map_err(password_error)?;
    let ended = end_sessions(
        &state,
        user.account_id,
        Some(session_id),
        RevocationReason::PasswordChanged,
        &metadata,
    )
    .await?;
    let token = sessions::rotate(&state.pool, session_id, state.identity.clock.now())
        .await
        .map_err(ApiError::internal)?;
    let mut response =
        ApiJson(serde_json::json!({ "other_sessions_ended": ended })).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        session_cookie(&token, state.identity.absolute_timeout),
    );
    Ok(response)
}

#[derive(Debug, Serialize)]
pub struct EnrolmentResponse {
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    pub otpauth_url: String,
    /// The otpauth URL as an SVG QR code, rendered here.
    pub qr_svg: String,
}

async fn begin_two_factor(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<ApiJson<EnrolmentResponse>, ApiError> {
    user.require_session()?;
    let enrolment = state
        .accounts
        .begin_two_factor(AccountId::from_uuid(user.account_id), &user.username)
        .await
        .map_err(|error| match error {
            CommandError::Rejected(AccountError::TwoFactorAlreadyEnabled) => ApiError::Conflict {
                code: "two_factor_enabled",
                message: "two-factor authentication is already enabled".to_owned(),
            },
            other => command_error(other),
        })?;
    let qr_svg = QrCode::new(enrolment.otpauth_url.as_bytes())
        .map_err(ApiError::internal)?
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    Ok(ApiJson(EnrolmentResponse {
        secret: enrolment.secret_base32,
        otpauth_url: enrolment.otpauth_url,
        qr_svg,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    pub code: String,
}

#[derive(Debug, Serialize)]
pub struct RecoveryCodesResponse {
    /// Ten one-time codes, shown this once.
    pub recovery_codes: Vec<String>,
}

async fn confirm_two_factor(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    user: CurrentUser,
    ApiJson(request): ApiJson<CodeRequest>,
) -> Result<ApiJson<RecoveryCodesResponse>, ApiError> {
    user.require_session()?;
    let codes = state
        .accounts
        .confirm_two_factor(
            AccountId::from_uuid(user.account_id),
            &request.code,
            &metadata.with_actor(user.actor()),
        )
        .await
        .map_err(|error| match error {
            CommandError::Rejected(AccountError::InvalidToken) => ApiError::Validation {
                fields: vec![("code", "is not the current code".to_owned())],
            },
            CommandError::Rejected(AccountError::TwoFactorNotEnabled) => ApiError::Conflict {
                code: "no_enrolment",
                message: "start an enrolment first".to_owned(),
            },
            CommandError::Rejected(AccountError::TwoFactorAlreadyEnabled) => ApiError::Conflict {
                code: "two_factor_enabled",
                message: "two-factor authentication is already enabled".to_owned(),
            },
            other => command_error(other),
        })?;
    wait_for_account(&state, user.account_id).await?;
    Ok(ApiJson(RecoveryCodesResponse {
        recovery_codes: codes,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    pub password: String,
}

async fn disable_two_factor(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    user: CurrentUser,
    ApiJson(request): ApiJson<PasswordRequest>,
) -> Result<StatusCode, ApiError> {
    user.require_session()?;
    state
        .accounts
        .disable_two_factor(
            AccountId::from_uuid(user.account_id),
            &request.password,
            &metadata.with_actor(user.actor()),
        )
        .await
        .map_err(|error| match error {
            CommandError::Rejected(AccountError::WrongPassword) => ApiError::Denied {
                code: "wrong_password",
                message: "the password is wrong".to_owned(),
            },
            CommandError::Rejected(AccountError::TwoFactorNotEnabled) => ApiError::Conflict {
                code: "two_factor_disabled",
                message: "two-factor authentication is not enabled".to_owned(),
            },
            other => command_error(other),
        })?;
    wait_for_account(&state, user.account_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub account_id: Uuid,
    pub token: String,
}

async fn verify_email(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    ApiJson(request): ApiJson<TokenRequest>,
) -> Result<StatusCode, ApiError> {
    let account_id = AccountId::from_uuid(request.account_id);
    state
        .accounts
        .verify_email(account_id, &request.token, &metadata)
        .await
        .map_err(|error| match error {
            CommandError::Rejected(_) | CommandError::NotFound => invalid_link(),
            other => command_error(other),
        })?;
    wait_for_account(&state, request.account_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    pub email: String,
}

const EMAIL_SENT: &str = "if this address has an account, we have sent it an email";

/// The same 202 and body for every address, after the same minimum time.
async fn uniform<F>(work: F) -> Result<Response, ApiError>
where
    F: Future<Output = Result<(), CommandError<AccountError>>>,
{
    let started = tokio::time::Instant::now();
    let result = work.await;
    tokio::time::sleep_until(started + UNIFORM_RESPONSE_TIME).await;
    result.map_err(command_error)?;
    let mut response = (
        StatusCode::ACCEPTED,
        ApiJson(serde_json::json!({ "message": EMAIL_SENT })),
    )
        .into_response();
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

async fn resend_verification(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    ApiJson(request): ApiJson<EmailRequest>,
) -> Result<Response, ApiError> {
    uniform(
        state
            .accounts
            .resend_verification(&request.email, &metadata),
    )
    .await
}

async fn request_password_reset(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    ApiJson(request): ApiJson<EmailRequest>,
) -> Result<Response, ApiError> {
    uniform(
        state
            .accounts
            .request_password_reset(&request.email, &metadata),
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    pub account_id: Uuid,
    pub token: String,
    pub new_password: String,
}

/// Sets the new password and ends every session of the account.
async fn reset_password(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    ApiJson(request): ApiJson<ResetPasswordRequest>,
) -> Result<Response, ApiError> {
    let account_id = AccountId::from_uuid(request.account_id);
    state
        .accounts
        .reset_password(account_id, &request.token, &request.new_password, &metadata)
        .await
        .map_err(|error| match error {
            CommandError::NotFound => invalid_link(),
            other => password_error(other),
        })?;
    end_sessions(
        &state,
        request.account_id,
        None,
        RevocationReason::PasswordReset,
        &metadata,
    )
    .await?;
    wait_for_account(&state, request.account_id).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}
