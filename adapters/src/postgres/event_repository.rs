//! The event repository behind every aggregate: postgres-es for reads, and
//! a one-statement append.
//!
//! postgres-es 0.5 appends with `BEGIN`, one `INSERT` per event, `COMMIT`:
//! three round trips for the common one-event command. A single
//! `INSERT … SELECT FROM unnest(…)` is atomic on its own, so we append every
//! event of a command in one autocommitted statement. The primary key
//! `(aggregate_type, aggregate_id, sequence)` still turns a lost race into
//! an optimistic-lock error. Snapshots are refused: event-store mode only
//! (the 0.5.0 snapshot modes apply events twice on reload).

use cqrs_es::Aggregate;
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlx::PgPool;

const APPEND: &str = "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT $1, $2, seq, event_type, event_version, payload, metadata
  FROM unnest($3::bigint[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[])
       AS e(seq, event_type, event_version, payload, metadata)";

pub struct EventLogRepository {
    reads: PostgresEventRepository,
    pool: PgPool,
}

impl EventLogRepository {
    pub fn new(pool: PgPool) -> Self {
        Self {
            reads: PostgresEventRepository::new(pool.clone()),
            pool,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("snapshots are disabled: CryptoLens runs cqrs-es in event-store mode only")]
struct SnapshotsDisabled;

impl PersistedEventRepository for EventLogRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.reads.get_events::<A>(aggregate_id).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.reads
            .get_last_events::<A>(aggregate_id, last_sequence)
            .await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        _aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        Ok(None)
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        if snapshot_update.is_some() {
            return Err(PersistenceError::UnknownError(Box::new(SnapshotsDisabled)));
        }
        let Some(first) = events.first() else {
            return Ok(());
        };
        let sequences: Vec<i64> = events
            .iter()
            .map(|e| i64::try_from(e.sequence).unwrap_or(i64::MAX))
            .collect();
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        let versions: Vec<&str> = events.iter().map(|e| e.event_version.as_str()).collect();
        let payloads: Vec<&Value> = events.iter().map(|e| &e.payload).collect();
        let metadata: Vec<&Value> = events.iter().map(|e| &e.metadata).collect();
        sqlx::query(APPEND)
            .bind(A::TYPE)
            .bind(&first.aggregate_id)
            .bind(sequences)
            .bind(types)
            .bind(versions)
            .bind(payloads)
            .bind(metadata)
            .execute(&self.pool)
            .await
            .map_err(|error| match &error {
                sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
                    PersistenceError::OptimisticLockError
                }
                _ => PersistenceError::ConnectionError(Box::new(error)),
            })?;
        Ok(())
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        self.reads.stream_events::<A>(aggregate_id).await
    }

    /// Per-aggregate-type, per-aggregate order (cqrs-es replay): not the
    /// global order. Global readers use `event_log::read_after` instead.
    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        self.reads.stream_all_events::<A>().await
    }
}
