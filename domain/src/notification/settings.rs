//! One user's notification settings (aggregate id = account id): the
//! private topic, preferences, muted symbols, and test pushes requested.
//! Every event carries the full resulting value of what it changed, so the
//! read model applies each batch set-based.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::preferences::{Mutes, Preferences, Topic};
use super::push::Priority;
use crate::FIRST_EVENT_VERSION;

#[derive(Debug, Clone, PartialEq)]
pub enum SettingsCommand {
    /// Gives the user a topic if they have none yet (`topic` is fresh).
    AssignTopic {
        topic: Topic,
    },
    /// Replaces the topic (old subscriptions stop receiving).
    RotateTopic {
        topic: Topic,
    },
    UpdatePreferences {
        preferences: Preferences,
    },
    Mute {
        symbol: String,
    },
    Unmute {
        symbol: String,
    },
    RequestTestPush {
        now: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SettingsEvent {
    NotificationTopicAssigned {
        topic: Topic,
    },
    NotificationTopicRotated {
        topic: Topic,
    },
    NotificationPreferencesUpdated {
        #[serde(flatten)]
        preferences: Preferences,
    },
    NotificationSymbolsMuted {
        /// The whole list after the change.
        muted_symbols: Vec<String>,
    },
    TestPushRequested {
        /// Where and how loud (the notifier needs no read model for it).
        topic: Topic,
        priority: Priority,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl SettingsEvent {
    pub const TOPIC_ASSIGNED: &'static str = "NotificationTopicAssigned";
    pub const TOPIC_ROTATED: &'static str = "NotificationTopicRotated";
    pub const PREFERENCES_UPDATED: &'static str = "NotificationPreferencesUpdated";
    pub const SYMBOLS_MUTED: &'static str = "NotificationSymbolsMuted";
    pub const TEST_PUSH_REQUESTED: &'static str = "TestPushRequested";
    pub const ALL: &'static [&'static str] = &[
        Self::TOPIC_ASSIGNED,
        Self::TOPIC_ROTATED,
        Self::PREFERENCES_UPDATED,
        Self::SYMBOLS_MUTED,
        Self::TEST_PUSH_REQUESTED,
    ];
}

impl DomainEvent for SettingsEvent {
    fn event_type(&self) -> String {
        match self {
            Self::NotificationTopicAssigned { .. } => Self::TOPIC_ASSIGNED,
            Self::NotificationTopicRotated { .. } => Self::TOPIC_ROTATED,
            Self::NotificationPreferencesUpdated { .. } => Self::PREFERENCES_UPDATED,
            Self::NotificationSymbolsMuted { .. } => Self::SYMBOLS_MUTED,
            Self::TestPushRequested { .. } => Self::TEST_PUSH_REQUESTED,
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("there is no topic yet to send to")]
    NoTopic,
    #[error("at most 100 symbols can be muted")]
    TooManyMutes,
}

pub const MAX_MUTES: usize = 100;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationSettings {
    topic: Option<Topic>,
    preferences: Preferences,
    muted: Mutes,
}

impl NotificationSettings {
    pub fn topic(&self) -> Option<&Topic> {
        self.topic.as_ref()
    }

    pub fn preferences(&self) -> &Preferences {
        &self.preferences
    }

    pub fn muted(&self) -> &Mutes {
        &self.muted
    }
}

impl Aggregate for NotificationSettings {
    const TYPE: &'static str = "notification_settings";
    type Command = SettingsCommand;
    type Event = SettingsEvent;
    type Error = SettingsError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            SettingsCommand::AssignTopic { .. } if self.topic.is_some() => None,
            SettingsCommand::AssignTopic { topic } => {
                Some(SettingsEvent::NotificationTopicAssigned { topic })
            }
            SettingsCommand::RotateTopic { topic } => {
                Some(SettingsEvent::NotificationTopicRotated { topic })
            }
            SettingsCommand::UpdatePreferences { preferences } => (preferences != self.preferences)
                .then_some(SettingsEvent::NotificationPreferencesUpdated { preferences }),
            SettingsCommand::Mute { symbol } => {
                let mut muted = self.muted.clone();
                if muted.insert(symbol) && muted.len() > MAX_MUTES {
                    return Err(SettingsError::TooManyMutes);
                }
                (muted != self.muted).then(|| SettingsEvent::NotificationSymbolsMuted {
                    muted_symbols: muted.into_iter().collect(),
                })
            }
            SettingsCommand::Unmute { symbol } => {
                let mut muted = self.muted.clone();
                muted
                    .remove(&symbol)
                    .then(|| SettingsEvent::NotificationSymbolsMuted {
                        muted_symbols: muted.into_iter().collect(),
                    })
            }
            SettingsCommand::RequestTestPush { now } => {
                let topic = self.topic.clone().ok_or(SettingsError::NoTopic)?;
                Some(SettingsEvent::TestPushRequested {
                    topic,
                    priority: self.preferences.priority,
                    at: now,
                })
            }
        };
        if let Some(event) = event {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            SettingsEvent::NotificationTopicAssigned { topic }
            | SettingsEvent::NotificationTopicRotated { topic } => self.topic = Some(topic),
            SettingsEvent::NotificationPreferencesUpdated { preferences } => {
                self.preferences = preferences;
            }
            SettingsEvent::NotificationSymbolsMuted { muted_symbols } => {
                self.muted = muted_symbols.into_iter().collect();
            }
            SettingsEvent::TestPushRequested { .. } => {}
        }
    }
}
