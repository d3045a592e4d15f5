//! Admin broadcasts (one aggregate per broadcast: scheduled, then sent or
//! cancelled) and their reusable templates.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::push::Priority;
use crate::FIRST_EVENT_VERSION;
use crate::account::FieldError;
use crate::billing::Tier;

/// What a broadcast (or template) says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BroadcastContent {
    pub title: String,
    pub message: String,
    pub priority: Priority,
    pub tags: Vec<String>,
}

impl BroadcastContent {
    /// Lengths as the original allowed them, the message capped below
    /// NTFY's 4,096-byte limit.
    pub fn parse(
        title: &str,
        message: &str,
        priority: i64,
        tags: &[String],
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut bad = |field, message: &str| {
            errors.push(FieldError {
                field,
                message: message.to_owned(),
            });
        };
        let (title, message) = (title.trim(), message.trim());
        if title.is_empty() || title.chars().count() > 200 {
            bad("title", "must be 1 to 200 characters");
        }
        if message.is_empty() || message.len() > 4000 {
            bad("message", "must be 1 to 4000 bytes");
        }
        let priority = u8::try_from(priority).ok().and_then(Priority::new);
        if priority.is_none() {
            bad("priority", "must be 1 to 5");
        }
        let tags: Vec<String> = tags.iter().map(|t| t.trim().to_owned()).collect();
        if tags.join(",").len() > 100 || tags.iter().any(|t| t.is_empty() || t.contains(',')) {
            bad(
                "tags",
                "at most 100 characters in all, no empty tag, no commas",
            );
        }
        match priority {
            Some(priority) if errors.is_empty() => Ok(Self {
                title: title.to_owned(),
                message: message.to_owned(),
                priority,
                tags,
            }),
            _ => Err(errors),
        }
    }
}

/// Who receives a broadcast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Audience {
    /// Every active user with a topic and notifications on.
    All,
    /// Those of them whose email is verified.
    Verified,
    /// Those of them on this plan.
    Tier { tier: Tier },
    /// These NTFY topics, whoever listens.
    Topics { topics: Vec<String> },
}

impl Audience {
    pub fn validate(self) -> Result<Self, FieldError> {
        if let Self::Topics { topics } = &self {
            let ok = !topics.is_empty()
                && topics.len() <= 1000
                && topics.iter().all(|t| {
                    (1..=64).contains(&t.len())
                        && t.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                });
            if !ok {
                return Err(FieldError {
                    field: "audience",
                    message: "topics: 1 to 1000 NTFY topics of letters, digits, _ and -".into(),
                });
            }
        }
        Ok(self)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum BroadcastCommand {
    /// Schedules it; `send_at <= now` sends it at once.
    Create {
        content: BroadcastContent,
        audience: Audience,
        send_at: OffsetDateTime,
        now: OffsetDateTime,
    },
    /// Sends it if it is due (the scheduler's call).
    SendIfDue {
        now: OffsetDateTime,
    },
    Cancel {
        now: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BroadcastEvent {
    BroadcastScheduled {
        #[serde(flatten)]
        content: BroadcastContent,
        audience: Audience,
        #[serde(with = "time::serde::rfc3339")]
        send_at: OffsetDateTime,
    },
    BroadcastSent {
        #[serde(flatten)]
        content: BroadcastContent,
        audience: Audience,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    BroadcastCancelled {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl BroadcastEvent {
    pub const SCHEDULED: &'static str = "BroadcastScheduled";
    pub const SENT: &'static str = "BroadcastSent";
    pub const CANCELLED: &'static str = "BroadcastCancelled";
}

impl DomainEvent for BroadcastEvent {
    fn event_type(&self) -> String {
        match self {
            Self::BroadcastScheduled { .. } => Self::SCHEDULED,
            Self::BroadcastSent { .. } => Self::SENT,
            Self::BroadcastCancelled { .. } => Self::CANCELLED,
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BroadcastError {
    #[error("the broadcast already exists")]
    AlreadyExists,
    #[error("no such broadcast")]
    NotFound,
    #[error("the broadcast was already sent or cancelled")]
    Settled,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Broadcast {
    pending: Option<(BroadcastContent, Audience, OffsetDateTime)>,
    settled: bool,
}

impl Aggregate for Broadcast {
    const TYPE: &'static str = "broadcast";
    type Command = BroadcastCommand;
    type Event = BroadcastEvent;
    type Error = BroadcastError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match command {
            BroadcastCommand::Create {
                content,
                audience,
                send_at,
                now,
            } => {
                if self.pending.is_some() || self.settled {
                    return Err(BroadcastError::AlreadyExists);
                }
                let scheduled = BroadcastEvent::BroadcastScheduled {
                    content: content.clone(),
                    audience: audience.clone(),
                    send_at,
                };
                sink.write(scheduled, self).await;
                if send_at <= now {
                    let sent = BroadcastEvent::BroadcastSent {
                        content,
                        audience,
                        at: now,
                    };
                    sink.write(sent, self).await;
                }
            }
            BroadcastCommand::SendIfDue { now } => {
                let Some((content, audience, send_at)) = self.pending.clone() else {
                    return if self.settled {
                        Ok(())
                    } else {
                        Err(BroadcastError::NotFound)
                    };
                };
                if send_at <= now {
                    let sent = BroadcastEvent::BroadcastSent {
                        content,
                        audience,
                        at: now,
                    };
                    sink.write(sent, self).await;
                }
            }
            BroadcastCommand::Cancel { now } => {
                if self.settled {
                    return Err(BroadcastError::Settled);
                }
                if self.pending.is_none() {
                    return Err(BroadcastError::NotFound);
                }
                sink.write(BroadcastEvent::BroadcastCancelled { at: now }, self)
                    .await;
            }
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            BroadcastEvent::BroadcastScheduled {
                content,
                audience,
                send_at,
            } => self.pending = Some((content, audience, send_at)),
            BroadcastEvent::BroadcastSent { .. } | BroadcastEvent::BroadcastCancelled { .. } => {
                self.pending = None;
                self.settled = true;
            }
        }
    }
}

/// A reusable broadcast text.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateCommand {
    Save {
        name: String,
        content: BroadcastContent,
    },
    Delete,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TemplateEvent {
    BroadcastTemplateSaved {
        name: String,
        #[serde(flatten)]
        content: BroadcastContent,
    },
    BroadcastTemplateDeleted {},
}

impl TemplateEvent {
    pub const SAVED: &'static str = "BroadcastTemplateSaved";
    pub const DELETED: &'static str = "BroadcastTemplateDeleted";
}

impl DomainEvent for TemplateEvent {
    fn event_type(&self) -> String {
        match self {
            Self::BroadcastTemplateSaved { .. } => Self::SAVED,
            Self::BroadcastTemplateDeleted { .. } => Self::DELETED,
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("no such template")]
    NotFound,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct BroadcastTemplate {
    saved: Option<(String, BroadcastContent)>,
}

impl BroadcastTemplate {
    pub fn saved(&self) -> Option<&(String, BroadcastContent)> {
        self.saved.as_ref()
    }
}

impl Aggregate for BroadcastTemplate {
    const TYPE: &'static str = "broadcast_template";
    type Command = TemplateCommand;
    type Event = TemplateEvent;
    type Error = TemplateError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            TemplateCommand::Save { name, content } => (self.saved.as_ref()
                != Some(&(name.clone(), content.clone())))
            .then_some(TemplateEvent::BroadcastTemplateSaved { name, content }),
            TemplateCommand::Delete if self.saved.is_none() => {
                return Err(TemplateError::NotFound);
            }
            TemplateCommand::Delete => Some(TemplateEvent::BroadcastTemplateDeleted {}),
        };
        if let Some(event) = event {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.saved = match event {
            TemplateEvent::BroadcastTemplateSaved { name, content } => Some((name, content)),
            TemplateEvent::BroadcastTemplateDeleted {} => None,
        };
    }
}

/// Template names: 1 to 100 characters.
pub fn parse_template_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(FieldError {
            field: "name",
            message: "must be 1 to 100 characters".into(),
        });
    }
    Ok(name.to_owned())
}

/// A fresh id for a broadcast or template (UUID v7), minted by the caller.
pub type BroadcastId = Uuid;
