//! What can be asked of a subscription. `now` comes from the caller.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::billing::PlanChoice;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RevocationReason {
    Refund,
    Chargeback,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionCommand {
    /// A completed payment (`payment_ref` = provider:payment id) for `choice`.
    CreditPayment {
        choice: PlanChoice,
        payment_ref: String,
        now: OffsetDateTime,
    },
    /// The user cancels: access until the period end.
    Cancel { now: OffsetDateTime },
    /// Undo a cancellation or a suspension while the period still runs.
    Reactivate { now: OffsetDateTime },
    /// An admin suspends access.
    Suspend { reason: String, now: OffsetDateTime },
    /// A credited payment was refunded or charged back.
    Revoke {
        payment_ref: String,
        reason: RevocationReason,
        now: OffsetDateTime,
    },
    /// An admin grants a plan for `days` from now (or from the current end
    /// when the same plan is still valid).
    Grant {
        choice: PlanChoice,
        days: u32,
        now: OffsetDateTime,
    },
    /// The scheduled job: expire what ended (after grace when lapsed).
    Expire { now: OffsetDateTime },
    /// The scheduled job: remember that the expiry warning for the current
    /// period end was sent (once per period end).
    RecordExpiryWarning { now: OffsetDateTime },
}
