//! Notification settings use cases: the private topic (assigned on first
//! use, rotatable), preferences with field validation, per-symbol mutes and
//! the user's test push.

mod broadcasts;
mod preferences;
mod topic;

pub use broadcasts::{BroadcastInput, BroadcastRejection, BroadcastService};

#[cfg(test)]
mod tests;

use std::sync::Arc;

use domain::account::FieldError;
use domain::notification::{NotificationSettings, SettingsError, Topic};

use crate::ports::Clock;
use crate::store::{CommitObserver, EventStores, Repository};

/// Fresh topics (128 random bits each).
pub trait TopicMint: Send + Sync {
    fn mint(&self) -> Topic;
}

/// Why a settings request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsRejection {
    #[error("some fields are invalid")]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

pub struct NotificationService<S: EventStores> {
    settings: Repository<NotificationSettings, S>,
    topics: Arc<dyn TopicMint>,
    clock: Arc<dyn Clock>,
}

impl<S: EventStores> NotificationService<S> {
    pub fn new(
        stores: &S,
        observer: Option<Arc<dyn CommitObserver>>,
        topics: Arc<dyn TopicMint>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            settings: Repository::new(stores, observer),
            topics,
            clock,
        }
    }
}
