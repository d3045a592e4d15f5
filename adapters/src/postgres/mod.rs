//! PostgreSQL: the pool, migrations, the cqrs-es event stores and the
//! global-order reader of the event log.

pub mod event_log;
pub mod event_repository;
pub mod in_tx;
pub mod personal_data;
pub mod sessions;
pub mod tiers;
pub mod totp_secrets;

use std::time::Duration;

use anyhow::Context;
use commands::store::{EventStores, PureAggregate};
use cqrs_es::persist::{EventStoreAggregateContext, PersistedEventStore};
use event_repository::EventLogRepository;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

pub async fn connect(database_url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = database_url
        .parse()
        .context("DATABASE_URL is not a valid PostgreSQL URL")?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.application_name("cryptolens"))
        .await
        .context("cannot connect to PostgreSQL (DATABASE_URL)")
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .context("applying database migrations failed")
}

/// cqrs-es stores on PostgreSQL, in event-store mode only (the 0.5.0
/// snapshot and aggregate-store modes apply events twice on reload).
#[derive(Clone)]
pub struct PgStores {
    pool: PgPool,
}

impl PgStores {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

impl EventStores for PgStores {
    type Store<A: PureAggregate> = PersistedEventStore<EventLogRepository, A>;

    fn store<A: PureAggregate>(&self) -> Self::Store<A> {
        PersistedEventStore::new_event_store(EventLogRepository::new(self.pool.clone()))
    }

    fn fresh<A: PureAggregate>(&self, id: &str) -> EventStoreAggregateContext<A> {
        EventStoreAggregateContext {
            aggregate_id: id.to_owned(),
            aggregate: A::default(),
            current_sequence: 0,
            current_snapshot: None,
        }
    }
}
