//! Admin API for subscriptions (PRODUCT §6, §9; admins only, by session):
//!
//! * `GET /api/v1/admin/subscriptions/{user_id}`: the user's subscription
//!   and effective tier now.
//! * `POST /api/v1/admin/subscriptions/{user_id}/grant`
//!   `{"plan": "pro"|"premium", "cycle"?: "monthly"|"yearly", "days"?: 1..=3650}`
//!   (days default to the cycle's period: 30 or 365).
//! * `POST /api/v1/admin/subscriptions/{user_id}/extend` `{"days": 1..=3650}`:
//!   more of the current plan, from its current end.
//! * `POST /api/v1/admin/subscriptions/{user_id}/cancel`: access until the
//!   period end.
//!
//! Each change is an event on the user's subscription with the admin as actor.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use commands::CommandError;
use commands::payments::subscriptions::SubscriptionService;
use domain::billing::subscription::{Subscription, SubscriptionError, SubscriptionEvent};
use domain::billing::{BillingCycle, Plan};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AppState;
use super::auth::AdminUser;
use super::context::RequestMeta;
use super::error::{ApiError, ApiJson};
use crate::postgres::{PgStores, event_log, tiers};
use crate::projector::status::wait_until_processed;
use crate::read_models::subscriptions::{self, SubscriptionRow};

/// The longest grant or extension an admin can give at once (10 years).
pub const MAX_DAYS: u32 = 3650;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/admin/subscriptions/{user_id}",
            get(show_subscription),
        )
        .route(
            "/api/v1/admin/subscriptions/{user_id}/grant",
            post(grant_subscription),
        )
        .route(
            "/api/v1/admin/subscriptions/{user_id}/extend",
            post(extend_subscription),
        )
        .route(
            "/api/v1/admin/subscriptions/{user_id}/cancel",
            post(cancel_subscription),
        )
}

#[derive(Debug, Serialize)]
pub struct SubscriptionResponse {
    pub user_id: Uuid,
    /// The effective tier now (`free` without a valid subscription).
    pub tier: &'static str,
    pub plan: Option<String>,
    pub cycle: Option<String>,
    pub status: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub period_start: Option<time::OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub period_end: Option<time::OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub access_until: Option<time::OffsetDateTime>,
}

impl SubscriptionResponse {
    pub fn new(user_id: Uuid, tier: domain::billing::Tier, row: Option<SubscriptionRow>) -> Self {
        match row {
            Some(row) => Self {
                user_id,
                tier: tier.as_str(),
                plan: row.plan,
                cycle: row.cycle,
                status: row.status,
                period_start: row.period_start,
                period_end: row.period_end,
                access_until: row.access_until,
            },
            None => Self {
                user_id,
                tier: tier.as_str(),
                plan: None,
                cycle: None,
                status: "none".to_owned(),
                period_start: None,
                period_end: None,
                access_until: None,
            },
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    pub plan: String,
    pub cycle: Option<String>,
    pub days: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendRequest {
    pub days: u32,
}

fn service(state: &AppState) -> SubscriptionService<PgStores> {
    SubscriptionService::new(
        &PgStores::new(state.pool.clone()),
        None,
        Arc::clone(&state.identity.clock),
    )
}

pub fn parse_plan(name: &str) -> Option<Plan> {
    match name {
        "pro" => Some(Plan::Pro),
        "premium" => Some(Plan::Premium),
        _ => None,
    }
}

pub fn parse_cycle(name: &str) -> Option<BillingCycle> {
    match name {
        "monthly" => Some(BillingCycle::Monthly),
        "yearly" => Some(BillingCycle::Yearly),
        _ => None,
    }
}

fn check_days(days: u32, fields: &mut Vec<(&'static str, String)>) {
    if !(1..=MAX_DAYS).contains(&days) {
        fields.push(("days", format!("must be between 1 and {MAX_DAYS}")));
    }
}

fn refused(error: CommandError<SubscriptionError>) -> ApiError {
    match error {
        CommandError::Rejected(reason) => ApiError::Conflict {
            code: match reason {
                SubscriptionError::NoSubscription => "no_subscription",
                SubscriptionError::NotPaused => "not_paused",
                SubscriptionError::PeriodEnded => "period_ended",
                SubscriptionError::AlreadyCancelled => "already_cancelled",
                SubscriptionError::EmptyGrant => "empty_grant",
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

/// 404 unless `user_id` is an account.
async fn existing_account(state: &AppState, user_id: &str) -> Result<Uuid, ApiError> {
    let id = Uuid::parse_str(user_id).map_err(|_| ApiError::InvalidParameters {
        fields: vec![("user_id", "must be a UUID".to_owned())],
    })?;
    crate::read_models::accounts::find(&state.pool, id)
        .await
        .map_err(ApiError::internal)?
        .map(|_| id)
        .ok_or(ApiError::NotFound)
}

/// The user's row once the projection has seen every event of the subscription.
pub async fn read_back(
    state: &AppState,
    user_id: Uuid,
) -> Result<ApiJson<SubscriptionResponse>, ApiError> {
    let id = user_id.to_string();
    if let Some(head) =
        event_log::aggregate_head(&state.pool, <Subscription as cqrs_es::Aggregate>::TYPE, &id)
            .await
            .map_err(ApiError::internal)?
    {
        let caught_up = wait_until_processed(
            &state.pool,
            projections::billing::subscriptions::NAME,
            &head,
            state.config.read_your_writes_timeout,
        )
        .await
        .map_err(ApiError::internal)?;
        if !caught_up {
            return Err(ApiError::Unavailable);
        }
    }
    let row = subscriptions::find(&state.pool, user_id)
        .await
        .map_err(ApiError::internal)?;
    let tier = tiers::account_tier_at(&state.pool, user_id, state.identity.clock.now())
        .await
        .map_err(ApiError::internal)?;
    Ok(ApiJson(SubscriptionResponse::new(user_id, tier, row)))
}

async fn show_subscription(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Path(user_id): Path<String>,
) -> Result<ApiJson<SubscriptionResponse>, ApiError> {
    let user_id = existing_account(&state, &user_id).await?;
    read_back(&state, user_id).await
}

async fn grant_subscription(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    AdminUser(admin): AdminUser,
    Path(user_id): Path<String>,
    ApiJson(request): ApiJson<GrantRequest>,
) -> Result<ApiJson<SubscriptionResponse>, ApiError> {
    let user_id = existing_account(&state, &user_id).await?;
    let mut fields = Vec::new();
    let plan = parse_plan(&request.plan);
    if plan.is_none() {
        fields.push(("plan", "must be pro or premium".to_owned()));
    }
    let cycle = match request.cycle.as_deref() {
        None => Some(BillingCycle::Monthly),
        Some(name) => parse_cycle(name),
    };
    if cycle.is_none() {
        fields.push(("cycle", "must be monthly or yearly".to_owned()));
    }
    let days = request.days.unwrap_or_else(|| {
        let period = cycle.unwrap_or(BillingCycle::Monthly).period();
        u32::try_from(period.whole_days()).unwrap_or(30)
    });
    check_days(days, &mut fields);
    let (Some(plan), Some(cycle), true) = (plan, cycle, fields.is_empty()) else {
        return Err(ApiError::Validation { fields });
    };
    let metadata = metadata.with_actor(admin.actor());
    let _: Vec<SubscriptionEvent> = service(&state)
        .grant(user_id, plan, cycle, days, &metadata)
        .await
        .map_err(refused)?;
    read_back(&state, user_id).await
}

async fn extend_subscription(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    AdminUser(admin): AdminUser,
    Path(user_id): Path<String>,
    ApiJson(request): ApiJson<ExtendRequest>,
) -> Result<ApiJson<SubscriptionResponse>, ApiError> {
    let user_id = existing_account(&state, &user_id).await?;
    let mut fields = Vec::new();
    check_days(request.days, &mut fields);
    if !fields.is_empty() {
        return Err(ApiError::Validation { fields });
    }
    let metadata = metadata.with_actor(admin.actor());
    service(&state)
        .extend(user_id, request.days, &metadata)
        .await
        .map_err(refused)?;
    read_back(&state, user_id).await
}

async fn cancel_subscription(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    AdminUser(admin): AdminUser,
    Path(user_id): Path<String>,
) -> Result<ApiJson<SubscriptionResponse>, ApiError> {
    let user_id = existing_account(&state, &user_id).await?;
    let metadata = metadata.with_actor(admin.actor());
    service(&state)
        .cancel(user_id, &metadata)
        .await
        .map_err(refused)?;
    read_back(&state, user_id).await
}
