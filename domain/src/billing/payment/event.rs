//! What happened to a payment. Variant names are frozen event types.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::command::{Order, ProviderUpdate, Reversal};
use crate::FIRST_EVENT_VERSION;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    UnknownOrder,
    AmountTooLow,
    WrongCurrency,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PaymentEvent {
    PaymentOpened {
        order: Order,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    ProviderEventRecorded {
        provider_event_id: String,
        update: ProviderUpdate,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Access is to be granted for `order` (the subscription reactor credits it).
    PaymentCompleted {
        order: Order,
        amount_cents: u64,
        currency: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A completion that grants nothing, and why.
    PaymentRejected {
        reason: RejectionReason,
        amount_cents: u64,
        currency: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    PaymentReversed {
        reversal: Reversal,
        /// Whether access had been granted (and must now be revoked).
        was_completed: bool,
        order: Option<Order>,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl DomainEvent for PaymentEvent {
    fn event_type(&self) -> String {
        match self {
            Self::PaymentOpened { .. } => "PaymentOpened",
            Self::ProviderEventRecorded { .. } => "ProviderEventRecorded",
            Self::PaymentCompleted { .. } => "PaymentCompleted",
            Self::PaymentRejected { .. } => "PaymentRejected",
            Self::PaymentReversed { .. } => "PaymentReversed",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}
