//! Market read models: symbols, patterns (list and matrix), signals with
//! their outcomes, per-symbol data health and analytics counts. Each module
//! folds a batch of events into set-based row changes; adapters apply them.

pub mod analytics;
pub mod health;
pub mod patterns;
pub mod signals;
pub mod symbols;

use uuid::Uuid;

use crate::{ProjectionError, RecordedEvent};

/// The aggregate id of a pattern or signal event, which is a UUID.
pub(crate) fn uuid_of(event: &RecordedEvent) -> Result<Uuid, ProjectionError> {
    Uuid::parse_str(&event.aggregate_id).map_err(|_| ProjectionError::BadAggregateId {
        position: event.global_position,
        aggregate_id: event.aggregate_id.clone(),
    })
}

/// The UTC day of an epoch-ms time, as days since 1970-01-01.
pub fn day_of(ms: i64) -> i32 {
    i32::try_from(ms.div_euclid(86_400_000)).unwrap_or(i32::MAX)
}
