//! The projector runtime: read models built from the event log in global
//! order, exactly once.
//!
//! * A [`Projection`] names its tables and the event types it consumes and
//!   applies a batch set-based.
//! * One batch is one transaction: lock the checkpoint row `FOR UPDATE`,
//!   read the next events with the fenced query, apply, advance the
//!   checkpoint, commit. A crash rolls back both ([`batch`]).
//! * One runner per projection across processes: a session advisory lock on
//!   a dedicated connection; the row lock fences out a stale runner anyway
//!   ([`runtime`]).
//! * Wake-ups: in-process after local commits, `LISTEN` for other
//!   instances, and a poll, which is what correctness relies on ([`wake`]).
//! * Rebuild (blue/green) and verify ([`rebuild`]); lag ([`status`]).

pub mod batch;
pub mod rebuild;
pub mod runtime;
pub mod status;
pub mod wake;

use std::sync::Arc;

use async_trait::async_trait;
use projections::RecordedEvent;
use sqlx::PgConnection;

use crate::read_models;

#[async_trait]
pub trait Projection: Send + Sync {
    /// The projection's name, also its checkpoint row.
    fn name(&self) -> &'static str;
    /// The event types it consumes; the others only advance its checkpoint.
    fn event_types(&self) -> &'static [&'static str];
    /// Its live tables; a rebuild writes copies of them and swaps them in.
    fn tables(&self) -> &'static [&'static str];
    /// Applies a batch (in global order) to `tables`: physical table names,
    /// one per entry of [`Projection::tables`], in that order. Runs inside
    /// the batch transaction; must be set-based and deterministic (a rebuild
    /// must reproduce the live rows exactly).
    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &[String],
        events: &[RecordedEvent],
    ) -> anyhow::Result<()>;
}

/// Every projection of the application.
pub fn all() -> Vec<Arc<dyn Projection>> {
    let mut all: Vec<Arc<dyn Projection>> = vec![
        Arc::new(read_models::accounts::AccountsProjection),
        Arc::new(read_models::api_keys::ApiKeysProjection),
        Arc::new(read_models::notifications::NotificationSettingsProjection),
        Arc::new(read_models::broadcasts::BroadcastsProjection),
    ];
    all.extend(read_models::billing_projections());
    all.extend(read_models::market::projections());
    all
}

/// A projection by name.
pub fn by_name(name: &str) -> anyhow::Result<Arc<dyn Projection>> {
    all().into_iter().find(|p| p.name() == name).ok_or_else(|| {
        let known: Vec<_> = all().iter().map(|p| p.name()).collect();
        anyhow::anyhow!("no projection named {name:?}; known: {}", known.join(", "))
    })
}
