//! What can be asked of a payment.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::billing::PlanChoice;

/// Who pays for what: from our checkout, or from the provider's custom data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub account_id: Uuid,
    pub choice: PlanChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reversal {
    Refund,
    Chargeback,
}

/// A provider's notification, normalised (LemonSqueezy events and
/// NOWPayments statuses both map onto this).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ProviderUpdate {
    /// Waiting, confirming, confirmed, sending: money on its way.
    InProgress {
        status: String,
    },
    /// Less than the price arrived.
    PartiallyPaid {
        amount_cents: u64,
        currency: String,
    },
    Completed {
        amount_cents: u64,
        currency: String,
    },
    Failed,
    Expired,
    Reversed {
        reversal: Reversal,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum PaymentCommand {
    /// A checkout was created: we know who pays for what before any webhook.
    Open { order: Order, now: OffsetDateTime },
    /// A verified provider notification; `order` when the notification
    /// itself names the buyer and plan.
    Record {
        provider_event_id: String,
        update: ProviderUpdate,
        order: Option<Order>,
        now: OffsetDateTime,
    },
}
