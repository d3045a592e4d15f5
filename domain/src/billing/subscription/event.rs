//! What happened to a subscription. Variant names are frozen event types.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::command::RevocationReason;
use crate::FIRST_EVENT_VERSION;
use crate::billing::PlanChoice;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SubscriptionEvent {
    /// A new period starts now (first purchase, a purchase after a lapse,
    /// or a change of plan with `credit_seconds` carried over).
    SubscriptionActivated {
        choice: PlanChoice,
        payment_ref: Option<String>,
        #[serde(with = "time::serde::rfc3339")]
        period_start: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        period_end: OffsetDateTime,
        credit_seconds: i64,
    },
    /// The same plan paid again: one more period after the current end.
    SubscriptionRenewed {
        choice: PlanChoice,
        payment_ref: Option<String>,
        #[serde(with = "time::serde::rfc3339")]
        previous_end: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        period_end: OffsetDateTime,
    },
    SubscriptionCancelled {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        access_until: OffsetDateTime,
    },
    SubscriptionReactivated {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    SubscriptionSuspended {
        reason: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    AccessRevoked {
        payment_ref: String,
        reason: RevocationReason,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    SubscriptionExpired {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    ExpiryWarningSent {
        #[serde(with = "time::serde::rfc3339")]
        period_end: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl DomainEvent for SubscriptionEvent {
    fn event_type(&self) -> String {
        match self {
            Self::SubscriptionActivated { .. } => "SubscriptionActivated",
            Self::SubscriptionRenewed { .. } => "SubscriptionRenewed",
            Self::SubscriptionCancelled { .. } => "SubscriptionCancelled",
            Self::SubscriptionReactivated { .. } => "SubscriptionReactivated",
            Self::SubscriptionSuspended { .. } => "SubscriptionSuspended",
            Self::AccessRevoked { .. } => "AccessRevoked",
            Self::SubscriptionExpired { .. } => "SubscriptionExpired",
            Self::ExpiryWarningSent { .. } => "ExpiryWarningSent",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}
