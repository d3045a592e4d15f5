//! Executing a command inside the caller's transaction, so that its events
//! commit (or roll back) together with other rows: the notification inbox
//! records a delivery in the same transaction as `NotificationDelivered`.
//!
//! Same rules as the cqrs-es path: load the history, decide with the pure
//! `handle`, append at the next sequences; a concurrent append of the same
//! sequence fails the unique key (the caller's transaction is then aborted
//! and must be rolled back).

use commands::store::PureAggregate;
use commands::{CommandError, Metadata};
use cqrs_es::DomainEvent;
use cqrs_es::event_sink::EventSink;
use serde_json::Value;
use sqlx::{PgConnection, Row};

const APPEND: &str = "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT $1, $2, seq, event_type, event_version, payload, $7
  FROM unnest($3::bigint[], $4::text[], $5::text[], $6::jsonb[])
       AS e(seq, event_type, event_version, payload)";

/// Executes `command` on aggregate `id` in `conn`'s transaction and returns
/// the events it appended.
pub async fn execute<A: PureAggregate>(
    conn: &mut PgConnection,
    id: &str,
    command: A::Command,
    metadata: &Metadata,
) -> Result<Vec<A::Event>, CommandError<A::Error>> {
    let rows = sqlx::query(
        "SELECT payload FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
    )
    .bind(A::TYPE)
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .map_err(CommandError::unavailable)?;
    let mut aggregate = A::default();
    for row in &rows {
        let payload: Value = row.try_get("payload").map_err(CommandError::unavailable)?;
        let event: A::Event = serde_json::from_value(payload).map_err(CommandError::unavailable)?;
        aggregate.apply(event);
    }
    let sink = EventSink::default();
    aggregate
        .handle(command, &(), &sink)
        .await
        .map_err(CommandError::Rejected)?;
    let events = sink.collect().await;
    if events.is_empty() {
        return Ok(events);
    }
    let first = i64::try_from(rows.len()).unwrap_or(i64::MAX) + 1;
    let sequences: Vec<i64> = (first..).take(events.len()).collect();
    let types: Vec<String> = events.iter().map(DomainEvent::event_type).collect();
    let versions: Vec<String> = events.iter().map(DomainEvent::event_version).collect();
    let payloads = events
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<Value>, _>>()
        .map_err(CommandError::unavailable)?;
    let metadata = serde_json::to_value(metadata.to_map()).map_err(CommandError::unavailable)?;
    sqlx::query(APPEND)
        .bind(A::TYPE)
        .bind(id)
        .bind(sequences)
        .bind(types)
        .bind(versions)
        .bind(payloads)
        .bind(metadata)
        .execute(&mut *conn)
        .await
        .map_err(|error| match &error {
            sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
                CommandError::Conflict
            }
            _ => CommandError::unavailable(error),
        })?;
    Ok(events)
}
