//! `/api/v1/sessions`: sign in. (Server-side sessions and cookies arrive
//! with the identity feature; this records the attempt and answers.)

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use commands::CommandError;
use commands::accounts::SignInOutcome;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AppState;
use super::context::RequestMeta;
use super::error::{ApiError, ApiJson};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/sessions", post(create_session))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize)]
pub struct SessionResponse {
    pub account_id: Uuid,
}

/// The one answer for a wrong password and an unknown email alike.
const SIGN_IN_FAILED: &str = "the email address or the password is wrong";

async fn create_session(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    ApiJson(request): ApiJson<CreateSessionRequest>,
) -> Result<ApiJson<SessionResponse>, ApiError> {
    match state
        .accounts
        .sign_in(&request.email, &request.password, &metadata)
        .await
    {
        Ok(SignInOutcome::Succeeded { account_id }) => Ok(ApiJson(SessionResponse {
            account_id: account_id.as_uuid(),
        })),
        Ok(SignInOutcome::Failed) => Err(ApiError::Unauthenticated {
            message: SIGN_IN_FAILED.to_owned(),
        }),
        Err(CommandError::Conflict) => Err(ApiError::Conflict {
            code: "conflict",
            message: "the request raced with another one; try again".to_owned(),
        }),
        Err(CommandError::Rejected(_) | CommandError::NotFound) => Err(ApiError::Unauthenticated {
            message: SIGN_IN_FAILED.to_owned(),
        }),
        Err(CommandError::Unavailable(source)) => Err(ApiError::internal(anyhow::anyhow!(source))),
    }
}
