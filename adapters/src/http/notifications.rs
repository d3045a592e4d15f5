//! `/api/v1/notifications`: the signed-in user's topic, preferences, mutes
//! and test push.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use commands::CommandError;
use commands::notifications::SettingsRejection;
use domain::account::AccountId;
use domain::notification::{NotificationSettings, PreferencesInput};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::CurrentUser;
use super::context::RequestMeta;
use super::error::{ApiError, ApiJson};
use super::sessions::command_error;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/notifications/settings", get(get_settings))
        .route("/api/v1/notifications/preferences", put(update_preferences))
        .route("/api/v1/notifications/topic/rotate", post(rotate_topic))
        .route("/api/v1/notifications/mutes", post(set_mute))
        .route("/api/v1/notifications/test", post(send_test_push))
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct QuietHoursBody {
    pub start_hour: i64,
    pub end_hour: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreferencesRequest {
    pub enabled: bool,
    pub min_confluence: i64,
    pub directions: String,
    pub priority: i64,
    pub quiet_hours: Option<QuietHoursBody>,
    pub time_zone: String,
}

#[derive(Debug, Serialize)]
pub struct SettingsResponse {
    pub topic: Option<String>,
    /// Where to subscribe (the NTFY server plus the topic).
    pub subscribe_url: Option<String>,
    pub enabled: bool,
    pub min_confluence: u8,
    pub directions: &'static str,
    pub priority: u8,
    pub quiet_hours: Option<QuietHoursBody>,
    pub time_zone: String,
    pub muted_symbols: Vec<String>,
}

impl SettingsResponse {
    fn new(settings: &NotificationSettings, ntfy_url: &str) -> Self {
        let p = settings.preferences();
        let topic = settings.topic().map(|t| t.as_str().to_owned());
        Self {
            subscribe_url: topic
                .as_ref()
                .map(|t| format!("{}/{t}", ntfy_url.trim_end_matches('/'))),
            topic,
            enabled: p.enabled,
            min_confluence: p.min_confluence,
            directions: p.directions.as_str(),
            priority: p.priority.get(),
            quiet_hours: p.quiet_hours.map(|q| QuietHoursBody {
                start_hour: i64::from(q.start_hour),
                end_hour: i64::from(q.end_hour),
            }),
            time_zone: p.time_zone.as_str().to_owned(),
            muted_symbols: settings.muted().iter().cloned().collect(),
        }
    }
}

fn rejection(error: CommandError<SettingsRejection>) -> ApiError {
    match error {
        CommandError::Rejected(SettingsRejection::Invalid(fields)) => ApiError::Validation {
            fields: fields.into_iter().map(|f| (f.field, f.message)).collect(),
        },
        other => command_error(other),
    }
}

fn who(user: &CurrentUser, metadata: commands::Metadata) -> (AccountId, commands::Metadata) {
    (
        AccountId::from_uuid(user.account_id),
        metadata.with_actor(format!("account:{}", user.account_id)),
    )
}

async fn get_settings(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    user: CurrentUser,
) -> Result<ApiJson<SettingsResponse>, ApiError> {
    let (id, metadata) = who(&user, metadata);
    let settings = state
        .notifications
        .settings(id, &metadata)
        .await
        .map_err(rejection)?;
    Ok(ApiJson(SettingsResponse::new(
        &settings,
        &state.config.notify.ntfy.url,
    )))
}

async fn update_preferences(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    user: CurrentUser,
    ApiJson(request): ApiJson<PreferencesRequest>,
) -> Result<ApiJson<SettingsResponse>, ApiError> {
    let (id, metadata) = who(&user, metadata);
    let input = PreferencesInput {
        enabled: request.enabled,
        min_confluence: request.min_confluence,
        directions: request.directions,
        priority: request.priority,
        quiet_hours: request.quiet_hours.map(|q| (q.start_hour, q.end_hour)),
        time_zone: request.time_zone,
    };
    state
        .notifications
        .update_preferences(id, &input, &metadata)
        .await
        .map_err(rejection)?;
    get_settings(State(state), RequestMeta(metadata), user).await
}

#[derive(Debug, Serialize)]
pub struct TopicResponse {
    pub topic: String,
}

async fn rotate_topic(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    user: CurrentUser,
) -> Result<ApiJson<TopicResponse>, ApiError> {
    user.require_session()?;
    let (id, metadata) = who(&user, metadata);
    let topic = state
        .notifications
        .rotate_topic(id, &metadata)
        .await
        .map_err(rejection)?;
    Ok(ApiJson(TopicResponse {
        topic: topic.as_str().to_owned(),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MuteRequest {
    pub symbol: String,
    pub muted: bool,
}

#[derive(Debug, Serialize)]
pub struct MutesResponse {
    pub muted_symbols: Vec<String>,
}

async fn set_mute(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    user: CurrentUser,
    ApiJson(request): ApiJson<MuteRequest>,
) -> Result<ApiJson<MutesResponse>, ApiError> {
    let (id, metadata) = who(&user, metadata);
    let muted = state
        .notifications
        .set_muted(id, &request.symbol, request.muted, &metadata)
        .await
        .map_err(rejection)?;
    Ok(ApiJson(MutesResponse {
        muted_symbols: muted.into_iter().collect(),
    }))
}

/// 202: the test push is on its way through the notifier and the queue.
async fn send_test_push(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    user: CurrentUser,
) -> Result<StatusCode, ApiError> {
    let (id, metadata) = who(&user, metadata);
    state
        .notifications
        .request_test_push(id, &metadata)
        .await
        .map_err(rejection)?;
    Ok(StatusCode::ACCEPTED)
}
