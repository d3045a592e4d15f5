//! Where each projection stands, and how far behind the log it is.

use std::time::Duration;

use anyhow::Context;
use sqlx::{PgPool, Row};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::Projection;
use crate::postgres::event_log::Position;

/// Lag counting stops here: beyond it the number only says "far behind".
pub const LAG_COUNT_CAP: i64 = 1_000_000;

#[derive(Debug, Clone, serde::Serialize)]
pub struct ProjectionStatus {
    pub name: String,
    pub last_tx: String,
    pub last_position: i64,
    pub events_seen: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
    /// Events in the log after the checkpoint (capped at [`LAG_COUNT_CAP`]).
    pub lag_events: i64,
    /// Age of the oldest event not yet processed; 0 when caught up.
    pub lag_seconds: f64,
}

pub async fn status(pool: &PgPool, name: &str) -> anyhow::Result<ProjectionStatus> {
    let checkpoint = sqlx::query(
        "SELECT last_tx::text AS tx, last_pos, events_seen, updated_at
           FROM projection_checkpoints WHERE projection = $1",
    )
    .bind(name)
    .fetch_optional(pool)
    .await
    .context("reading a checkpoint")?;
    let (at, events_seen, updated_at) = match checkpoint {
        Some(row) => (
            Position {
                tx: row.try_get("tx")?,
                pos: row.try_get("last_pos")?,
            },
            row.try_get("events_seen")?,
            Some(row.try_get("updated_at")?),
        ),
        None => (Position::start(), 0, None),
    };
    let lag = sqlx::query(
        "SELECT (SELECT count(*) FROM (
                    SELECT 1 FROM events e
                     WHERE (e.transaction_id, e.global_position) > ($1::text::xid8, $2)
                     LIMIT $3) behind) AS lag_events,
                (SELECT extract(epoch FROM now() - e.recorded_at)::float8 FROM events e
                  WHERE (e.transaction_id, e.global_position) > ($1::text::xid8, $2)
                  ORDER BY e.transaction_id, e.global_position LIMIT 1) AS lag_seconds",
    )
    .bind(&at.tx)
    .bind(at.pos)
    .bind(LAG_COUNT_CAP)
    .fetch_one(pool)
    .await
    .context("measuring projection lag")?;
    Ok(ProjectionStatus {
        name: name.to_owned(),
        last_tx: at.tx,
        last_position: at.pos,
        events_seen,
        updated_at,
        lag_events: lag.try_get("lag_events")?,
        lag_seconds: lag
            .try_get::<Option<f64>, _>("lag_seconds")?
            .unwrap_or(0.0)
            .max(0.0),
    })
}

/// Exports every projection's lag as gauges, every few seconds.
pub async fn export_lag(
    pool: PgPool,
    projections: Vec<std::sync::Arc<dyn Projection>>,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        for projection in &projections {
            match status(&pool, projection.name()).await {
                Ok(s) => {
                    metrics::gauge!("cryptolens_projection_lag_events", "projection" => projection.name())
                        .set(s.lag_events as f64);
                    metrics::gauge!("cryptolens_projection_lag_seconds", "projection" => projection.name())
                        .set(s.lag_seconds);
                }
                Err(error) => tracing::warn!(
                    projection = projection.name(),
                    error = format!("{error:#}"),
                    "cannot measure lag"
                ),
            }
        }
    }
}

/// Waits (up to `timeout`) until `projection` has processed the event at
/// `target`. Returns whether it got there.
pub async fn wait_until_processed(
    pool: &PgPool,
    projection: &str,
    target: &Position,
    timeout: Duration,
) -> anyhow::Result<bool> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let done: Option<bool> = sqlx::query_scalar(
            "SELECT (last_tx, last_pos) >= ($2::text::xid8, $3)
               FROM projection_checkpoints WHERE projection = $1",
        )
        .bind(projection)
        .bind(&target.tx)
        .bind(target.pos)
        .fetch_optional(pool)
        .await
        .context("reading a checkpoint")?;
        if done == Some(true) {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
