//! `/api/v1/admin/broadcasts` and `/api/v1/admin/broadcast-templates`:
//! admin broadcasts (immediate or scheduled, cancellable, with delivery
//! statistics) and templates (CRUD). Every route takes an [`AdminUser`].

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use commands::CommandError;
use commands::notifications::{BroadcastInput, BroadcastRejection};
use domain::billing::Tier;
use domain::notification::Audience;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use super::AppState;
use super::auth::AdminUser;
use super::context::RequestMeta;
use super::error::{ApiError, ApiJson};
use super::sessions::command_error;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/admin/broadcasts",
            post(create_broadcast).get(list_broadcasts),
        )
        .route("/api/v1/admin/broadcasts/{id}", get(get_broadcast))
        .route(
            "/api/v1/admin/broadcasts/{id}/cancel",
            post(cancel_broadcast),
        )
        .route(
            "/api/v1/admin/broadcast-templates",
            post(create_template).get(list_templates),
        )
        .route(
            "/api/v1/admin/broadcast-templates/{id}",
            axum::routing::put(update_template).delete(delete_template),
        )
}

fn rejection(error: CommandError<BroadcastRejection>) -> ApiError {
    match error {
        CommandError::Rejected(BroadcastRejection::Invalid(fields)) => ApiError::Validation {
            fields: fields.into_iter().map(|f| (f.field, f.message)).collect(),
        },
        other => command_error(other),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudienceBody {
    /// all, verified, tier or topics.
    pub kind: String,
    pub tier: Option<String>,
    pub topics: Option<Vec<String>>,
}

impl AudienceBody {
    fn parse(self) -> Result<Audience, ApiError> {
        let bad = |message: &str| ApiError::Validation {
            fields: vec![("audience", message.to_owned())],
        };
        match (self.kind.as_str(), self.tier, self.topics) {
            ("all", None, None) => Ok(Audience::All),
            ("verified", None, None) => Ok(Audience::Verified),
            ("tier", Some(tier), None) => Tier::parse(&tier)
                .map(|tier| Audience::Tier { tier })
                .ok_or_else(|| bad("tier must be free, pro or premium")),
            ("topics", None, Some(topics)) => Ok(Audience::Topics { topics }),
            _ => Err(bad(
                "kind all or verified; tier with a tier; topics with a list of topics",
            )),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBroadcastRequest {
    /// Fill title, message, priority and tags from this template.
    pub template_id: Option<Uuid>,
    pub title: Option<String>,
    pub message: Option<String>,
    pub priority: Option<i64>,
    pub tags: Option<Vec<String>>,
    pub audience: AudienceBody,
    /// Absent or past: sent at once.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub send_at: Option<OffsetDateTime>,
}

#[derive(Debug, Serialize)]
pub struct BroadcastResponse {
    pub id: Uuid,
    pub title: String,
    pub status: String,
    #[serde(with = "time::serde::rfc3339")]
    pub send_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub settled_at: Option<OffsetDateTime>,
    pub audience: serde_json::Value,
    /// Messages published for it (once sent).
    pub recipients: Option<i64>,
    pub delivered: i64,
    pub failed: i64,
}

async fn template_input(state: &AppState, id: Uuid) -> Result<BroadcastInput, ApiError> {
    let row = sqlx::query(
        "SELECT title, message, priority, tags FROM broadcast_templates_view WHERE template_id = $1",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await
    .map_err(ApiError::internal)?
    .ok_or(ApiError::NotFound)?;
    Ok(BroadcastInput {
        title: row.try_get("title").map_err(ApiError::internal)?,
        message: row.try_get("message").map_err(ApiError::internal)?,
        priority: i64::from(
            row.try_get::<i16, _>("priority")
                .map_err(ApiError::internal)?,
        ),
        tags: row.try_get("tags").map_err(ApiError::internal)?,
    })
}

async fn create_broadcast(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    AdminUser(admin): AdminUser,
    ApiJson(request): ApiJson<CreateBroadcastRequest>,
) -> Result<(StatusCode, ApiJson<serde_json::Value>), ApiError> {
    let metadata = metadata.with_actor(format!("account:{}", admin.account_id));
    let base = match request.template_id {
        Some(id) => template_input(&state, id).await?,
        None => BroadcastInput {
            title: String::new(),
            message: String::new(),
            priority: 3,
            tags: Vec::new(),
        },
    };
    let input = BroadcastInput {
        title: request.title.unwrap_or(base.title),
        message: request.message.unwrap_or(base.message),
        priority: request.priority.unwrap_or(base.priority),
        tags: request.tags.unwrap_or(base.tags),
    };
    let audience = request.audience.parse()?;
    let id = state
        .broadcasts
        .create_broadcast(&input, audience, request.send_at, &metadata)
        .await
        .map_err(rejection)?;
    Ok((
        StatusCode::CREATED,
        ApiJson(serde_json::json!({ "id": id })),
    ))
}

const SELECT_BROADCASTS: &str = "
SELECT b.broadcast_id, b.title, b.status, b.send_at, b.settled_at, b.audience, b.delivered,
       b.failed, d.recipients
  FROM broadcasts_view b LEFT JOIN broadcast_dispatches d USING (broadcast_id)";

fn broadcast_row(row: &sqlx::postgres::PgRow) -> Result<BroadcastResponse, sqlx::Error> {
    Ok(BroadcastResponse {
        id: row.try_get("broadcast_id")?,
        title: row.try_get("title")?,
        status: row.try_get("status")?,
        send_at: row.try_get("send_at")?,
        settled_at: row.try_get("settled_at")?,
        audience: row.try_get("audience")?,
        recipients: row.try_get("recipients")?,
        delivered: row.try_get("delivered")?,
        failed: row.try_get("failed")?,
    })
}

async fn get_broadcast(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    Path(id): Path<Uuid>,
) -> Result<ApiJson<BroadcastResponse>, ApiError> {
    let row = sqlx::query(&format!("{SELECT_BROADCASTS} WHERE b.broadcast_id = $1"))
        .bind(id)
        .fetch_optional(&state.pool)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError::NotFound)?;
    Ok(ApiJson(broadcast_row(&row).map_err(ApiError::internal)?))
}

async fn list_broadcasts(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
) -> Result<ApiJson<Vec<BroadcastResponse>>, ApiError> {
    let rows = sqlx::query(&format!(
        "{SELECT_BROADCASTS} ORDER BY b.send_at DESC LIMIT 200"
    ))
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    rows.iter()
        .map(|row| broadcast_row(row).map_err(ApiError::internal))
        .collect::<Result<Vec<_>, _>>()
        .map(ApiJson)
}

async fn cancel_broadcast(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let metadata = metadata.with_actor(format!("account:{}", admin.account_id));
    state
        .broadcasts
        .cancel_broadcast(id, &metadata)
        .await
        .map_err(|error| match error {
            CommandError::Rejected(BroadcastRejection::Broadcast(
                domain::notification::BroadcastError::NotFound,
            )) => ApiError::NotFound,
            other => rejection(other),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateRequest {
    pub name: String,
    pub title: String,
    pub message: String,
    pub priority: i64,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct TemplateResponse {
    pub id: Uuid,
    pub name: String,
    pub title: String,
    pub message: String,
    pub priority: i16,
    pub tags: Vec<String>,
}

async fn save_template(
    state: &AppState,
    metadata: commands::Metadata,
    admin: &super::auth::CurrentUser,
    id: Option<Uuid>,
    request: TemplateRequest,
) -> Result<Uuid, ApiError> {
    let metadata = metadata.with_actor(format!("account:{}", admin.account_id));
    let input = BroadcastInput {
        title: request.title,
        message: request.message,
        priority: request.priority,
        tags: request.tags,
    };
    state
        .broadcasts
        .save_template(id, &request.name, &input, &metadata)
        .await
        .map_err(rejection)
}

async fn create_template(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    AdminUser(admin): AdminUser,
    ApiJson(request): ApiJson<TemplateRequest>,
) -> Result<(StatusCode, ApiJson<serde_json::Value>), ApiError> {
    let id = save_template(&state, metadata, &admin, None, request).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(serde_json::json!({ "id": id })),
    ))
}

async fn update_template(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
    ApiJson(request): ApiJson<TemplateRequest>,
) -> Result<StatusCode, ApiError> {
    save_template(&state, metadata, &admin, Some(id), request).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_template(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let metadata = metadata.with_actor(format!("account:{}", admin.account_id));
    state
        .broadcasts
        .delete_template(id, &metadata)
        .await
        .map_err(rejection)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_templates(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
) -> Result<ApiJson<Vec<TemplateResponse>>, ApiError> {
    let rows = sqlx::query(
        "SELECT template_id, name, title, message, priority, tags FROM broadcast_templates_view ORDER BY name",
    )
    .fetch_all(&state.pool)
    .await
    .map_err(ApiError::internal)?;
    rows.iter()
        .map(|row| {
            Ok(TemplateResponse {
                id: row.try_get("template_id")?,
                name: row.try_get("name")?,
                title: row.try_get("title")?,
                message: row.try_get("message")?,
                priority: row.try_get("priority")?,
                tags: row.try_get("tags")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map(ApiJson)
        .map_err(ApiError::internal)
}
