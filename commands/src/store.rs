//! Aggregates in and out of an event store, in event-store mode only.
//!
//! [`Repository`] wraps a cqrs-es `CqrsFramework` (to execute commands) and
//! a second handle on the same store (to load state for decisions that need
//! it before a command exists, such as checking a password, and to create
//! new aggregates without a load: [`Repository::create`]). Conflicts on
//! the `(aggregate_type, aggregate_id, sequence)` key are retried a bounded
//! number of times; each retry reloads the aggregate, so a lost race is
//! re-decided on the winner's events.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cqrs_es::event_sink::EventSink;
use cqrs_es::mem_store::{MemStore, MemStoreAggregateContext};
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
    store: S::Store<A>,
    stores: S,
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

    /// Executes a command that creates the aggregate, without first loading
    /// it: the command is decided on a fresh aggregate and appended at
    /// sequence 1. If the aggregate turns out to exist, the append conflicts
    /// and the command is re-decided on its real history by [`Self::execute`].
    /// For ids that are new by construction (fresh UUIDs) this saves the
    /// load's round trip.
    pub async fn create(
        &self,
        id: &str,
        command: A::Command,
        metadata: &Metadata,
    ) -> Result<(), CommandError<A::Error>>
    where
        A::Command: Clone,
    {
        let mut context = self.stores.fresh::<A>(id);
        let sink = EventSink::default();
        context
            .aggregate()
            .handle(command.clone(), &(), &sink)
            .await
            .map_err(CommandError::Rejected)?;
        let events = sink.collect().await;
        if events.is_empty() {
            return Ok(());
        }
        match self.store.commit(events, context, metadata.to_map()).await {
            Ok(committed) => {
                if let Some(observer) = &self.observer {
                    observer.committed(A::TYPE, id, committed.len());
                }
                Ok(())
            }
            Err(AggregateError::AggregateConflict) => self.execute(id, command, metadata).await,
            Err(error) => Err(error.into()),
        }
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
