//! Reading the event log in global order.
//!
//! Every reader that needs all events in commit order (projectors, reactors,
//! `events tail`, audits) reads with [`read_after`]: ordered by
//! `(transaction_id, global_position)` and fenced below the oldest running
//! transaction, so an event committed later can never appear *behind* a
//! reader's position. (Reading by `global_position` alone skips events that
//! commit out of order.)

use anyhow::Context;
use projections::RecordedEvent;
use serde_json::Value;
use sqlx::{PgConnection, PgPool, Row};
use time::OffsetDateTime;

/// A place in the global order: the writing transaction's xid (as text,
/// since sqlx has no `xid8` type) and the global position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub tx: String,
    pub pos: i64,
}

impl Position {
    pub fn start() -> Self {
        Self {
            tx: "0".into(),
            pos: 0,
        }
    }
}

/// One row of a global read. Events of types the reader did not ask for
/// come without payload or metadata (their position still counts).
#[derive(Debug, Clone)]
pub struct LogRow {
    pub position: Position,
    pub wanted: bool,
    pub event: RecordedEvent,
}

const READ_AFTER: &str = "
SELECT e.global_position, e.transaction_id::text AS tx, e.aggregate_type, e.aggregate_id,
       e.sequence, e.event_type, e.event_version, e.recorded_at,
       ($4::text[] IS NULL OR e.event_type = ANY($4)) AS wanted,
       CASE WHEN $4::text[] IS NULL OR e.event_type = ANY($4) THEN e.payload END AS payload,
       CASE WHEN $4::text[] IS NULL OR e.event_type = ANY($4) THEN e.metadata END AS metadata
  FROM events e
 WHERE (e.transaction_id, e.global_position) > ($1::text::xid8, $2)
   AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
   AND ($5::text IS NULL OR (e.transaction_id, e.global_position) <= ($5::text::xid8, $6))
 ORDER BY e.transaction_id, e.global_position
 LIMIT $3";

/// Up to `limit` events after `after` in global order, optionally no
/// further than `until` (inclusive). `types = None` means every type.
pub async fn read_after(
    conn: &mut PgConnection,
    after: &Position,
    limit: i64,
    types: Option<&[&str]>,
    until: Option<&Position>,
) -> anyhow::Result<Vec<LogRow>> {
    let types: Option<Vec<String>> = types.map(|t| t.iter().map(|s| (*s).to_owned()).collect());
    let rows = sqlx::query(READ_AFTER)
        .bind(&after.tx)
        .bind(after.pos)
        .bind(limit)
        .bind(types)
        .bind(until.map(|u| u.tx.clone()))
        .bind(until.map_or(0, |u| u.pos))
        .fetch_all(conn)
        .await
        .context("reading the event log")?;
    rows.iter()
        .map(|row| -> anyhow::Result<LogRow> {
            let pos: i64 = row.try_get("global_position")?;
            Ok(LogRow {
                position: Position {
                    tx: row.try_get("tx")?,
                    pos,
                },
                wanted: row.try_get("wanted")?,
                event: RecordedEvent {
                    global_position: pos,
                    aggregate_type: row.try_get("aggregate_type")?,
                    aggregate_id: row.try_get("aggregate_id")?,
                    sequence: row.try_get("sequence")?,
                    event_type: row.try_get("event_type")?,
                    event_version: row.try_get("event_version")?,
                    payload: row
                        .try_get::<Option<Value>, _>("payload")?
                        .unwrap_or(Value::Null),
                    metadata: row
                        .try_get::<Option<Value>, _>("metadata")?
                        .unwrap_or(Value::Null),
                    recorded_at: row.try_get("recorded_at")?,
                },
            })
        })
        .collect()
}

/// The highest global position in the log (0 when empty).
pub async fn head(pool: &PgPool) -> anyhow::Result<i64> {
    let head: Option<i64> = sqlx::query_scalar("SELECT max(global_position) FROM events")
        .fetch_one(pool)
        .await?;
    Ok(head.unwrap_or(0))
}

/// How many events up to global position `head` are still after `after`
/// in the global order (committed or not yet visible to the fence).
pub async fn count_after(pool: &PgPool, after: &Position, head: i64) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM events e
          WHERE (e.transaction_id, e.global_position) > ($1::text::xid8, $2)
            AND e.global_position <= $3",
    )
    .bind(&after.tx)
    .bind(after.pos)
    .bind(head)
    .fetch_one(pool)
    .await?)
}

/// The position of the event at `global_position`, to start a read just
/// before it.
pub async fn position_before(
    pool: &PgPool,
    global_position: i64,
) -> anyhow::Result<Option<Position>> {
    let row =
        sqlx::query("SELECT transaction_id::text AS tx FROM events WHERE global_position = $1")
            .bind(global_position)
            .fetch_optional(pool)
            .await?;
    row.map(|row| {
        Ok(Position {
            tx: row.try_get("tx")?,
            pos: global_position - 1,
        })
    })
    .transpose()
}

/// Where the newest event of one aggregate sits in the global order.
pub async fn aggregate_head(
    pool: &PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
) -> anyhow::Result<Option<Position>> {
    let row = sqlx::query(
        "SELECT transaction_id::text AS tx, global_position FROM events
          WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence DESC LIMIT 1",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok(Position {
            tx: row.try_get("tx")?,
            pos: row.try_get("global_position")?,
        })
    })
    .transpose()
}

/// One event of an aggregate's history, for `events show` and audits.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HistoryEntry {
    pub sequence: i64,
    pub global_position: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
}

pub async fn aggregate_history(
    pool: &PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
) -> anyhow::Result<Vec<HistoryEntry>> {
    let rows = sqlx::query(
        "SELECT sequence, global_position, recorded_at, event_type, event_version, payload, metadata
           FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .fetch_all(pool)
    .await
    .context("reading an aggregate's history")?;
    rows.iter()
        .map(|row| {
            Ok(HistoryEntry {
                sequence: row.try_get("sequence")?,
                global_position: row.try_get("global_position")?,
                recorded_at: row.try_get("recorded_at")?,
                event_type: row.try_get("event_type")?,
                event_version: row.try_get("event_version")?,
                payload: row.try_get("payload")?,
                metadata: row.try_get("metadata")?,
            })
        })
        .collect()
}
