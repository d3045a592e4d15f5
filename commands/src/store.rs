//! Aggregates in and out of an event store, in event-store mode only.
//!
//! [`Repository`] executes commands the way cqrs-es's `CqrsFramework` does
//! (load through the `EventStore`, decide through an `EventSink`, commit with
//! metadata), and adds what use cases here need: the decided events as the
//! answer, loading state without a command (checking a password), creating
//! new aggregates without a load ([`Repository::create`]), and one post-commit
//! hook for every path. Conflicts on the `(aggregate_type, aggregate_id,
//! sequence)` key are retried a bounded number of times; each retry reloads
//! the aggregate, so a lost race is re-decided on the winner's events.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cqrs_es::event_sink::EventSink;
use cqrs_es::mem_store::{MemStore, MemStoreAggregateContext};
use cqrs_es::{Aggregate, AggregateContext, AggregateError, EventEnvelope, EventStore};

use crate::{CommandError, Metadata};

/// How many times a command is re-run after losing a race.
pub const CONFLICT_RETRIES: usize = 3;

/// An aggregate with no injected services: `handle` is pure.
pub trait PureAggregate: Aggregate<Services = ()> + 'static {}
impl<A: Aggregate<Services = ()> + 'static> PureAggregate for A {}

/// A source of event stores, one per aggregate type.
pub trait EventStores: Clone + Send + Sync + 'static {
    type Store<A: PureAggregate>: EventStore<A> + 'static;

    fn store<A: PureAggregate>(&self) -> Self::Store<A>;

    /// The context of an aggregate assumed not to exist yet (no events),
    /// for optimistic creation: committing it conflicts if it does exist.
    fn fresh<A: PureAggregate>(&self, id: &str) -> <Self::Store<A> as EventStore<A>>::AC;
}

/// Told after every successful commit (wake-ups, metrics, logs). Never the
/// source of any state: a crash right after a commit skips it, and whoever
/// relies on it must also poll.
pub trait CommitObserver: Send + Sync {
    fn committed(&self, aggregate_type: &'static str, aggregate_id: &str, events: usize);
}

pub struct Repository<A: PureAggregate, S: EventStores> {
    store: S::Store<A>,
    stores: S,
    observer: Option<Arc<dyn CommitObserver>>,
}

impl<A: PureAggregate, S: EventStores> Repository<A, S> {
    pub fn new(stores: &S, observer: Option<Arc<dyn CommitObserver>>) -> Self {
        Self {
            store: stores.store::<A>(),
            stores: stores.clone(),
            observer,
        }
    }

    /// The aggregate's current state (default when it has no events).
    pub async fn load(&self, id: &str) -> Result<A, CommandError<A::Error>> {
        let mut context = self.store.load_aggregate(id).await?;
        Ok(std::mem::take(context.aggregate()))
    }

    /// Executes `command`, retrying lost races up to [`CONFLICT_RETRIES`] times.
    pub async fn execute(
        &self,
        id: &str,
        command: A::Command,
        metadata: &Metadata,
    ) -> Result<(), CommandError<A::Error>>
    where
        A::Command: Clone,
    {
        self.execute_returning(id, command, metadata)
            .await
            .map(drop)
    }

    /// Like [`Repository::execute`], returning the events the command
    /// appended (empty when it decided nothing needed recording), for use
    /// cases whose answer depends on what was decided.
    pub async fn execute_returning(
        &self,
        id: &str,
        command: A::Command,
        metadata: &Metadata,
    ) -> Result<Vec<A::Event>, CommandError<A::Error>>
    where
        A::Command: Clone,
    {
        let mut attempt = 0;
        loop {
            let result = match self.store.load_aggregate(id).await {
                Ok(context) => {
                    self.decide_and_commit(id, context, command.clone(), metadata)
                        .await
                }
                Err(error) => Err(error),
            };
            match result {
                Err(AggregateError::AggregateConflict) if attempt < CONFLICT_RETRIES => {
                    attempt += 1;
                    tracing::debug!(aggregate = A::TYPE, id, attempt, "conflict, retrying");
                }
                other => return other.map_err(CommandError::from),
            }
        }
    }

    /// Executes a command that creates the aggregate, without first loading
    /// it: the command is decided on a fresh aggregate and appended at
    /// sequence 1. If the aggregate turns out to exist, the append conflicts
    /// and the command is re-decided on its real history by
    /// [`Self::execute`]. For ids that are new by construction (fresh UUIDs)
    /// this saves the load's round trip.
    pub async fn create(
        &self,
        id: &str,
        command: A::Command,
        metadata: &Metadata,
    ) -> Result<(), CommandError<A::Error>>
    where
        A::Command: Clone,
    {
        let context = self.stores.fresh::<A>(id);
        match self
            .decide_and_commit(id, context, command.clone(), metadata)
            .await
        {
            Err(AggregateError::AggregateConflict) => self.execute(id, command, metadata).await,
            other => other.map(drop).map_err(CommandError::from),
        }
    }

    /// What `CqrsFramework::execute_with_metadata` does (decide on the
    /// loaded state through an `EventSink`, commit with the metadata), plus
    /// returning the decided events and telling the observer.
    async fn decide_and_commit(
        &self,
        id: &str,
        mut context: <S::Store<A> as EventStore<A>>::AC,
        command: A::Command,
        metadata: &Metadata,
    ) -> Result<Vec<A::Event>, AggregateError<A::Error>> {
        let sink: EventSink<A> = EventSink::default();
        context
            .aggregate()
            .handle(command, &(), &sink)
            .await
            .map_err(AggregateError::UserError)?;
        let events = sink.collect().await;
        if events.is_empty() {
            return Ok(events);
        }
        let committed = self
            .store
            .commit(events.clone(), context, metadata.to_map())
            .await?;
        if let Some(observer) = &self.observer {
            observer.committed(A::TYPE, id, committed.len());
        }
        Ok(events)
    }
}

/// In-memory stores for tests: one shared `MemStore` per aggregate type.
#[derive(Default, Clone)]
pub struct MemStores {
    stores: Arc<Mutex<HashMap<TypeId, Box<dyn Any + Send>>>>,
}

/// A handle on one shared in-memory store.
pub struct SharedMemStore<A: PureAggregate>(Arc<MemStore<A>>);

impl<A: PureAggregate> EventStore<A> for SharedMemStore<A> {
    type AC = <MemStore<A> as EventStore<A>>::AC;

    async fn load_events(
        &self,
        id: &str,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        self.0.load_events(id).await
    }

    async fn load_aggregate(&self, id: &str) -> Result<Self::AC, AggregateError<A::Error>> {
        self.0.load_aggregate(id).await
    }

    async fn commit(
        &self,
        events: Vec<A::Event>,
        context: Self::AC,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        self.0.commit(events, context, metadata).await
    }
}

impl EventStores for MemStores {
    type Store<A: PureAggregate> = SharedMemStore<A>;

    fn fresh<A: PureAggregate>(&self, id: &str) -> MemStoreAggregateContext<A> {
        MemStoreAggregateContext {
            aggregate_id: id.to_owned(),
            aggregate: A::default(),
            current_sequence: 0,
        }
    }

    fn store<A: PureAggregate>(&self) -> SharedMemStore<A> {
        let mut stores = match self.stores.lock() {
            Ok(stores) => stores,
            Err(poisoned) => poisoned.into_inner(),
        };
        let entry = stores
            .entry(TypeId::of::<A>())
            .or_insert_with(|| Box::new(Arc::new(MemStore::<A>::default())));
        match entry.downcast_ref::<Arc<MemStore<A>>>() {
            Some(store) => SharedMemStore(Arc::clone(store)),
            // Unreachable: the map is keyed by the type it stores.
            None => SharedMemStore(Arc::default()),
        }
    }
}
