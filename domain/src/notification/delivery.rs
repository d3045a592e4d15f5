//! The delivery record of one message (aggregate id = message id,
//! `{event id}/{user id}`): every failed attempt and the final delivery.
//! At most one `NotificationDelivered` per message, whatever the retries.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::push::PushKind;
use crate::FIRST_EVENT_VERSION;

/// Who a message was for and why it was sent (shared by every event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// The user; `None` for a custom topic outside any account.
    pub user_id: Option<Uuid>,
    pub kind: PushKind,
    /// The broadcast this message belongs to, for its statistics.
    pub broadcast_id: Option<Uuid>,
}

/// Why an attempt did not deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum FailureReason {
    /// NTFY answered with this HTTP status.
    Status { code: u16 },
    /// No answer within the client timeout.
    Timeout,
    /// The connection failed or was dropped.
    Unreachable,
    /// The user already had their daily number of pushes (UTC day).
    DailyCapReached,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum NotificationCommand {
    RecordDelivered {
        recipient: Recipient,
        attempt: u32,
        now: OffsetDateTime,
    },
    RecordFailed {
        recipient: Recipient,
        attempt: u32,
        reason: FailureReason,
        /// No further attempt will be made.
        last: bool,
        now: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum NotificationEvent {
    NotificationDelivered {
        #[serde(flatten)]
        recipient: Recipient,
        attempt: u32,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    NotificationFailed {
        #[serde(flatten)]
        recipient: Recipient,
        attempt: u32,
        #[serde(flatten)]
        reason: FailureReason,
        last: bool,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl NotificationEvent {
    pub const DELIVERED: &'static str = "NotificationDelivered";
    pub const FAILED: &'static str = "NotificationFailed";
}

impl DomainEvent for NotificationEvent {
    fn event_type(&self) -> String {
        match self {
            Self::NotificationDelivered { .. } => Self::DELIVERED,
            Self::NotificationFailed { .. } => Self::FAILED,
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    #[error("the message was already delivered")]
    AlreadyDelivered,
    #[error("the message was already given up on")]
    AlreadyAbandoned,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    delivered: bool,
    abandoned: bool,
    failures: u32,
}

impl Notification {
    pub fn is_delivered(&self) -> bool {
        self.delivered
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }
}

impl Aggregate for Notification {
    const TYPE: &'static str = "notification";
    type Command = NotificationCommand;
    type Event = NotificationEvent;
    type Error = NotificationError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        if self.delivered {
            return Err(NotificationError::AlreadyDelivered);
        }
        if self.abandoned {
            return Err(NotificationError::AlreadyAbandoned);
        }
        let event = match command {
            NotificationCommand::RecordDelivered {
                recipient,
                attempt,
                now,
            } => NotificationEvent::NotificationDelivered {
                recipient,
                attempt,
                at: now,
            },
            NotificationCommand::RecordFailed {
                recipient,
                attempt,
                reason,
                last,
                now,
            } => NotificationEvent::NotificationFailed {
                recipient,
                attempt,
                reason,
                last,
                at: now,
            },
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            NotificationEvent::NotificationDelivered { .. } => self.delivered = true,
            NotificationEvent::NotificationFailed { last, .. } => {
                self.failures += 1;
                self.abandoned |= last;
            }
        }
    }
}
