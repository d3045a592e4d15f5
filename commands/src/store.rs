//! Aggregates in and out of an event store, in event-store mode only.
//!
//! [`Repository`] wraps a cqrs-es `CqrsFramework` (to execute commands) and
//! a second handle on the same store (to load state for decisions that need
//! it before a command exists, such as checking a password). Conflicts on
//! the `(aggregate_type, aggregate_id, sequence)` key are retried a bounded
//! number of times; each retry reloads the aggregate, so a lost race is
//! re-decided on the winner's events.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cqrs_es::event_sink::EventSink;
use cqrs_es::mem_store::MemStore;
use cqrs_es::{
    Aggregate, AggregateContext, AggregateError, CqrsFramework, EventEnvelope, EventStore, Query,
};

use crate::{CommandError, Metadata};

/// How many times a command is re-run after losing a race.
pub const CONFLICT_RETRIES: usize = 3;

/// An aggregate with no injected services: `handle` is pure.
pub trait PureAggregate: Aggregate<Services = ()> + 'static {}
impl<A: Aggregate<Services = ()> + 'static> PureAggregate for A {}

/// A source of event stores, one per aggregate type.
pub trait EventStores: Send + Sync + 'static {
    type Store<A: PureAggregate>: EventStore<A> + 'static;

    fn store<A: PureAggregate>(&self) -> Self::Store<A>;
}

/// Told after every successful commit (wake-ups, metrics, logs). Never the
/// source of any state: a crash right after a commit skips it, and whoever
/// relies on it must also poll.
pub trait CommitObserver: Send + Sync {
    fn committed(&self, aggregate_type: &'static str, aggregate_id: &str, events: usize);
}

struct ObserverQuery<A> {
    observer: Arc<dyn CommitObserver>,
    _aggregate: PhantomData<fn() -> A>,
}

#[async_trait]
impl<A: PureAggregate> Query<A> for ObserverQuery<A> {
    async fn dispatch(&self, aggregate_id: &str, events: &[EventEnvelope<A>]) {
        self.observer.committed(A::TYPE, aggregate_id, events.len());
    }
}

pub struct Repository<A: PureAggregate, S: EventStores> {
    framework: CqrsFramework<A, S::Store<A>>,
    reader: S::Store<A>,
    observer: Option<Arc<dyn CommitObserver>>,
}

impl<A: PureAggregate, S: EventStores> Repository<A, S> {
    pub fn new(stores: &S, observer: Option<Arc<dyn CommitObserver>>) -> Self {
        let queries: Vec<Box<dyn Query<A>>> = observer
            .clone()
            .into_iter()
            .map(|observer| {
                Box::new(ObserverQuery::<A> {
                    observer,
                    _aggregate: PhantomData,
                }) as Box<dyn Query<A>>
            })
            .collect();
        Self {
            framework: CqrsFramework::new(stores.store::<A>(), queries, ()),
            reader: stores.store::<A>(),
            observer,
        }
    }

    /// The aggregate's current state (default when it has no events).
    pub async fn load(&self, id: &str) -> Result<A, CommandError<A::Error>> {
        let mut context = self.reader.load_aggregate(id).await?;
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
        let mut attempt = 0;
        loop {
            match self
                .framework
                .execute_with_metadata(id, command.clone(), metadata.to_map())
                .await
            {
                Err(AggregateError::AggregateConflict) if attempt < CONFLICT_RETRIES => {
                    attempt += 1;
                    tracing::debug!(aggregate = A::TYPE, id, attempt, "conflict, retrying");
                }
                other => return other.map_err(CommandError::from),
            }
        }
    }
}

impl<A: PureAggregate, S: EventStores> Repository<A, S> {
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
            match self.try_execute(id, command.clone(), metadata).await {
                Err(AggregateError::AggregateConflict) if attempt < CONFLICT_RETRIES => {
                    attempt += 1;
                    tracing::debug!(aggregate = A::TYPE, id, attempt, "conflict, retrying");
                }
                other => return other.map_err(CommandError::from),
            }
        }
    }

    async fn try_execute(
        &self,
        id: &str,
        command: A::Command,
        metadata: &Metadata,
    ) -> Result<Vec<A::Event>, AggregateError<A::Error>> {
        let mut context = self.reader.load_aggregate(id).await?;
        let sink: EventSink<A> = EventSink::default();
        context
            .aggregate()
            .handle(command, &(), &sink)
            .await
            .map_err(AggregateError::UserError)?;
        let events = sink.collect().await;
        let committed = self
            .reader
            .commit(events.clone(), context, metadata.to_map())
            .await?;
        if let (Some(observer), false) = (&self.observer, committed.is_empty()) {
            observer.committed(A::TYPE, id, committed.len());
        }
        Ok(events)
    }
}

/// In-memory stores for tests: one shared `MemStore` per aggregate type.
#[derive(Default)]
pub struct MemStores {
    stores: Mutex<HashMap<TypeId, Box<dyn Any + Send>>>,
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
