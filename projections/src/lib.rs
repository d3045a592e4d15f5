//! Read-model definitions: which events each projection consumes and the
//! row changes a batch of them makes, as pure functions, plus the view
//! structs the API reads. The SQL that applies the changes set-based lives
//! in `adapters` (postgres read models); nothing here does I/O.

pub mod accounts;
pub mod billing;
pub mod market;
pub mod notifications;
pub mod portfolios;

use serde_json::Value;
use time::OffsetDateTime;

/// One stored event as a projection sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub global_position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    pub recorded_at: OffsetDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("event {position} ({event_type}) does not decode: {source}")]
    Undecodable {
        position: i64,
        event_type: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("event {position} has an aggregate id that is not a UUID: {aggregate_id}")]
    BadAggregateId { position: i64, aggregate_id: String },
    #[error("event {position} refers to a {what} the read model does not have")]
    MissingRow { position: i64, what: &'static str },
}

impl RecordedEvent {
    /// The payload as the domain event type it was written as.
    pub fn decode<E: serde::de::DeserializeOwned>(&self) -> Result<E, ProjectionError> {
        serde_json::from_value(self.payload.clone()).map_err(|source| {
            ProjectionError::Undecodable {
                position: self.global_position,
                event_type: self.event_type.clone(),
                source,
            }
        })
    }
}
