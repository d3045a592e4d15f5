//! Blue/green rebuilds and verification against a fresh replay.

use anyhow::Context;
use sqlx::{PgConnection, PgPool};

use super::Projection;
use super::batch::{self, ensure_checkpoint, lock_checkpoint, process_batch};
use crate::postgres::event_log::{self, Position};

/// How long a rebuild waits for open transactions to let events through.
const FENCE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Progress callback: events processed so far, events expected in all.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

fn shadow_tables(projection: &dyn Projection, suffix: &str) -> Vec<String> {
    projection
        .tables()
        .iter()
        .map(|t| format!("{t}{suffix}"))
        .collect()
}

async fn create_copies(
    conn: &mut PgConnection,
    projection: &dyn Projection,
    copies: &[String],
    temporary: bool,
) -> anyhow::Result<()> {
    for (live, copy) in projection.tables().iter().zip(copies) {
        sqlx::query(&format!("DROP TABLE IF EXISTS {copy}"))
            .execute(&mut *conn)
            .await?;
        let kind = if temporary {
            "TEMPORARY TABLE"
        } else {
            "TABLE"
        };
        sqlx::query(&format!("CREATE {kind} {copy} (LIKE {live} INCLUDING ALL)"))
            .execute(&mut *conn)
            .await
            .with_context(|| format!("creating {copy}"))?;
    }
    Ok(())
}

async fn log_size(pool: &PgPool) -> anyhow::Result<u64> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    pub events: u64,
    pub position: Position,
}

/// Replays the whole log into fresh copies of the projection's tables while
/// the live ones keep serving, then swaps them in atomically: the final
/// transaction holds the live checkpoint row (pausing the live runner),
/// applies what arrived meanwhile, replaces the tables and moves the
/// checkpoint. Readers see either the old or the new tables, never a mix.
pub async fn rebuild(
    pool: &PgPool,
    projection: &dyn Projection,
    batch_size: i64,
    progress: Progress<'_>,
) -> anyhow::Result<RebuildReport> {
    let name = projection.name();
    let shadow = format!("{name}#rebuild");
    let copies = shadow_tables(projection, "__rebuild");
    let total = log_size(pool).await?;

    let mut conn = pool.acquire().await?;
    create_copies(&mut conn, projection, &copies, false).await?;
    drop(conn);
    sqlx::query("DELETE FROM projection_checkpoints WHERE projection = $1")
        .bind(&shadow)
        .execute(pool)
        .await?;
    ensure_checkpoint(pool, &shadow).await?;
    ensure_checkpoint(pool, name).await?;

    // Everything in the log when the rebuild starts goes into the copy
    // before the swap. Events of transactions still open elsewhere in the
    // cluster hold the fence back: wait for them (bounded); the live runner
    // picks up anything later from the swapped-in checkpoint.
    let head = event_log::head(pool).await?;
    let give_up = tokio::time::Instant::now() + FENCE_WAIT;
    let mut done = 0u64;
    loop {
        let mut tx = pool.begin().await?;
        let read = process_batch(&mut tx, &shadow, projection, &copies, batch_size, None).await?;
        let reached = lock_checkpoint(&mut tx, &shadow).await?;
        tx.commit().await?;
        done += read as u64;
        progress(done, total.max(done));
        if read > 0 {
            continue;
        }
        if event_log::count_after(pool, &reached, head).await? == 0
            || tokio::time::Instant::now() >= give_up
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let mut tx = pool.begin().await?;
    lock_checkpoint(&mut tx, name).await?;
    loop {
        let read = process_batch(&mut tx, &shadow, projection, &copies, batch_size, None).await?;
        done += read as u64;
        if read == 0 {
            break;
        }
    }
    let position = lock_checkpoint(&mut tx, &shadow).await?;
    for (live, copy) in projection.tables().iter().zip(&copies) {
        sqlx::query(&format!("DROP TABLE {live}"))
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!("ALTER TABLE {copy} RENAME TO {live}"))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "UPDATE projection_checkpoints AS live
            SET last_tx = shadow.last_tx, last_pos = shadow.last_pos,
                events_seen = shadow.events_seen, updated_at = now()
           FROM projection_checkpoints AS shadow
          WHERE live.projection = $1 AND shadow.projection = $2",
    )
    .bind(name)
    .bind(&shadow)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM projection_checkpoints WHERE projection = $1")
        .bind(&shadow)
        .execute(&mut *tx)
        .await?;
    tx.commit()
        .await
        .context("swapping in the rebuilt tables")?;
    progress(done, done);
    Ok(RebuildReport {
        events: done,
        position,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Rows present in one of live / fresh but not the other, per table.
    pub differing_rows: Vec<(String, i64)>,
    pub position: Position,
}

impl VerifyReport {
    pub fn total(&self) -> i64 {
        self.differing_rows.iter().map(|(_, n)| n).sum()
    }
}

/// Replays the log into temporary tables up to the live checkpoint (held
/// for the duration, so the live tables stand still) and counts the rows
/// that differ. Changes nothing.
pub async fn verify(
    pool: &PgPool,
    projection: &dyn Projection,
    batch_size: i64,
) -> anyhow::Result<VerifyReport> {
    let name = projection.name();
    ensure_checkpoint(pool, name).await?;
    let copies = shadow_tables(projection, "__verify");
    let scratch = format!("{name}#verify");
    let mut tx = pool.begin().await?;
    let position = lock_checkpoint(&mut tx, name).await?;
    create_copies(&mut tx, projection, &copies, true).await?;
    // A scratch checkpoint inside this transaction only; rolled back below.
    sqlx::query("INSERT INTO projection_checkpoints (projection) VALUES ($1) ON CONFLICT (projection) DO UPDATE SET last_tx = '0', last_pos = 0")
        .bind(&scratch)
        .execute(&mut *tx)
        .await?;
    loop {
        let read = process_batch(
            &mut tx,
            &scratch,
            projection,
            &copies,
            batch_size,
            Some(&position),
        )
        .await?;
        if read == 0 {
            break;
        }
    }
    let mut differing_rows = Vec::new();
    for (live, copy) in projection.tables().iter().zip(&copies) {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM ((TABLE {live} EXCEPT ALL TABLE {copy})
                              UNION ALL (TABLE {copy} EXCEPT ALL TABLE {live})) AS diff"
        ))
        .fetch_one(&mut *tx)
        .await
        .with_context(|| format!("comparing {live} with a fresh replay"))?;
        differing_rows.push(((*live).to_owned(), n));
    }
    tx.rollback().await?;
    Ok(VerifyReport {
        differing_rows,
        position,
    })
}

/// Convenience for tests and the CLI: run the live projection to the fence.
pub async fn catch_up(
    pool: &PgPool,
    projection: &dyn Projection,
    batch_size: i64,
) -> anyhow::Result<usize> {
    batch::catch_up(pool, projection, batch_size).await
}
