//! `subscriptions_view`: applying `projections::billing::subscriptions`,
//! and reading a user's row.

use anyhow::Context;
use async_trait::async_trait;
use projections::RecordedEvent;
use projections::billing::subscriptions::{self as subs, cycle_name, plan_name};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::projector::Projection;

pub struct SubscriptionsProjection;

#[async_trait]
impl Projection for SubscriptionsProjection {
    fn name(&self) -> &'static str {
        subs::NAME
    }

    fn event_types(&self) -> &'static [&'static str] {
        subs::EVENT_TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &[subs::TABLE]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &[String],
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let table = tables
            .first()
            .context("the subscriptions projection needs its table")?;
        let changes = subs::changes(events)?;
        if changes.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = changes.iter().map(|c| c.user_id).collect();
        sqlx::query(&format!(
            "INSERT INTO {table} (user_id, updated_at, last_seq)
             SELECT id, at, 0 FROM unnest($1::uuid[], $2::timestamptz[]) AS d(id, at)
             ON CONFLICT (user_id) DO NOTHING"
        ))
        .bind(&ids)
        .bind(changes.iter().map(|c| c.updated_at).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await
        .context("creating subscription rows")?;
        sqlx::query(&format!(
            "UPDATE {table} AS v SET
                 plan = COALESCE(d.plan, v.plan),
                 cycle = COALESCE(d.cycle, v.cycle),
                 period_start = COALESCE(d.period_start, v.period_start),
                 period_end = COALESCE(d.period_end, v.period_end),
                 status = CASE WHEN d.status IS NULL THEN v.status
                               WHEN d.keeps_suspension AND v.status = 'suspended' THEN v.status
                               ELSE d.status END,
                 updated_at = d.updated_at,
                 last_seq = d.last_seq
               FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
                           $6::timestamptz[], $7::timestamptz[], $8::text[], $9::bool[],
                           $10::timestamptz[])
                    AS d(user_id, first_seq, last_seq, plan, cycle, period_start, period_end,
                         status, keeps_suspension, updated_at)
              WHERE v.user_id = d.user_id AND v.last_seq < d.first_seq"
        ))
        .bind(&ids)
        .bind(changes.iter().map(|c| c.first_sequence).collect::<Vec<_>>())
        .bind(changes.iter().map(|c| c.last_sequence).collect::<Vec<_>>())
        .bind(
            changes
                .iter()
                .map(|c| c.plan.map(plan_name))
                .collect::<Vec<_>>(),
        )
        .bind(
            changes
                .iter()
                .map(|c| c.cycle.map(cycle_name))
                .collect::<Vec<_>>(),
        )
        .bind(changes.iter().map(|c| c.period_start).collect::<Vec<_>>())
        .bind(changes.iter().map(|c| c.period_end).collect::<Vec<_>>())
        .bind(
            changes
                .iter()
                .map(|c| c.status.map(subs::Status::as_str))
                .collect::<Vec<_>>(),
        )
        .bind(
            changes
                .iter()
                .map(|c| c.payment_keeps_suspension)
                .collect::<Vec<_>>(),
        )
        .bind(changes.iter().map(|c| c.updated_at).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await
        .context("updating subscriptions")?;
        sqlx::query(&format!(
            "UPDATE {table} SET access_until = CASE status
                 WHEN 'active' THEN period_end + interval '3 days'
                 WHEN 'cancelled' THEN period_end
                 ELSE NULL END
              WHERE user_id = ANY($1)"
        ))
        .bind(&ids)
        .execute(&mut *conn)
        .await
        .context("computing access_until")?;
        Ok(())
    }
}

/// A row of `subscriptions_view`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub user_id: Uuid,
    pub plan: Option<String>,
    pub cycle: Option<String>,
    pub status: String,
    pub period_start: Option<OffsetDateTime>,
    pub period_end: Option<OffsetDateTime>,
    pub access_until: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
}

pub async fn find(pool: &PgPool, user_id: Uuid) -> anyhow::Result<Option<SubscriptionRow>> {
    sqlx::query_as(
        "SELECT user_id, plan, cycle, status, period_start, period_end, access_until, updated_at
           FROM subscriptions_view WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await
    .context("reading a subscription")
}

/// Subscriptions that are due for the expiry job at `now`: active ones past
/// their grace, cancelled ones past their end, and active ones whose end is
/// within `warn_ahead` (for the warning mail).
pub async fn due_for_expiry_job(
    pool: &PgPool,
    now: OffsetDateTime,
    warn_ahead: time::Duration,
) -> anyhow::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT user_id FROM subscriptions_view
          WHERE (status = 'active' AND period_end <= $1 + $2)
             OR (status = 'cancelled' AND period_end <= $1)
          ORDER BY user_id",
    )
    .bind(now)
    .bind(warn_ahead)
    .fetch_all(pool)
    .await
    .context("finding subscriptions due for the expiry job")
}
