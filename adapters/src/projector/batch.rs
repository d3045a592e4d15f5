//! One batch = one transaction.

use std::sync::Arc;

use anyhow::Context;
use projections::RecordedEvent;
use sqlx::{PgConnection, PgPool, Row};

use super::Projection;
use crate::postgres::event_log::{self, Position};

/// A fault to inject between apply and commit (crash tests).
pub type BeforeCommit = Arc<dyn Fn(&str) -> anyhow::Result<()> + Send + Sync>;

/// Makes sure `checkpoint` has a row to lock.
pub async fn ensure_checkpoint(pool: &PgPool, checkpoint: &str) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO projection_checkpoints (projection) VALUES ($1) ON CONFLICT DO NOTHING",
    )
    .bind(checkpoint)
    .execute(pool)
    .await
    .with_context(|| format!("creating the checkpoint of {checkpoint}"))?;
    Ok(())
}

/// Locks `checkpoint`'s row for the rest of the transaction and returns it.
pub async fn lock_checkpoint(
    conn: &mut PgConnection,
    checkpoint: &str,
) -> anyhow::Result<Position> {
    let row = sqlx::query(
        "SELECT last_tx::text AS tx, last_pos FROM projection_checkpoints
          WHERE projection = $1 FOR UPDATE",
    )
    .bind(checkpoint)
    .fetch_optional(&mut *conn)
    .await
    .with_context(|| format!("locking the checkpoint of {checkpoint}"))?
    .with_context(|| format!("projection {checkpoint} has no checkpoint row"))?;
    Ok(Position {
        tx: row.try_get("tx")?,
        pos: row.try_get("last_pos")?,
    })
}

pub async fn store_checkpoint(
    conn: &mut PgConnection,
    checkpoint: &str,
    at: &Position,
    events: usize,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE projection_checkpoints
            SET last_tx = $2::text::xid8, last_pos = $3,
                events_seen = events_seen + $4, updated_at = now()
          WHERE projection = $1",
    )
    .bind(checkpoint)
    .bind(&at.tx)
    .bind(at.pos)
    .bind(i64::try_from(events).unwrap_or(i64::MAX))
    .execute(conn)
    .await
    .with_context(|| format!("advancing the checkpoint of {checkpoint}"))?;
    Ok(())
}

/// Reads, applies and checkpoints one batch inside the caller's transaction,
/// whose checkpoint row it locks first. Returns how many events it read
/// (wanted or not); 0 means caught up.
pub async fn process_batch(
    conn: &mut PgConnection,
    checkpoint: &str,
    projection: &dyn Projection,
    tables: &[String],
    limit: i64,
    until: Option<&Position>,
) -> anyhow::Result<usize> {
    let after = lock_checkpoint(conn, checkpoint).await?;
    let rows =
        event_log::read_after(conn, &after, limit, Some(projection.event_types()), until).await?;
    let Some(last) = rows.last().map(|row| row.position.clone()) else {
        return Ok(0);
    };
    let events: Vec<RecordedEvent> = rows
        .iter()
        .filter(|row| row.wanted)
        .map(|row| row.event.clone())
        .collect();
    if !events.is_empty() {
        projection
            .apply(conn, tables, &events)
            .await
            .with_context(|| format!("projection {} failed to apply a batch", projection.name()))?;
    }
    store_checkpoint(conn, checkpoint, &last, rows.len()).await?;
    Ok(rows.len())
}

/// One complete batch of the live projection in its own transaction.
pub async fn run_batch(
    pool: &PgPool,
    projection: &dyn Projection,
    limit: i64,
    before_commit: Option<&BeforeCommit>,
) -> anyhow::Result<usize> {
    let tables: Vec<String> = projection
        .tables()
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
    let mut tx = pool.begin().await.context("starting a projector batch")?;
    let read = process_batch(&mut tx, projection.name(), projection, &tables, limit, None).await?;
    if let Some(fault) = before_commit.filter(|_| read > 0) {
        fault(projection.name())?;
    }
    tx.commit().await.context("committing a projector batch")?;
    if read > 0 {
        metrics::counter!("cryptolens_projector_events_total", "projection" => projection.name())
            .increment(read as u64);
    }
    Ok(read)
}

/// Runs batches until the projection has caught up with the fence.
pub async fn catch_up(
    pool: &PgPool,
    projection: &dyn Projection,
    limit: i64,
) -> anyhow::Result<usize> {
    ensure_checkpoint(pool, projection.name()).await?;
    let mut total = 0;
    loop {
        let read = run_batch(pool, projection, limit, None).await?;
        total += read;
        if read == 0 {
            return Ok(total);
        }
    }
}
