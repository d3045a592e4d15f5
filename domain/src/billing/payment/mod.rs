//! The payment aggregate, keyed `<provider>:<provider payment id>`: every
//! provider notification about one payment, deduplicated by the provider's
//! event id, and the one decision that matters — whether it grants access.
//!
//! * Access is granted once, only for a completed payment whose amount
//!   (at least the plan's price) and currency (USD) match the plan.
//! * `partially_paid`, a short amount or another currency grants nothing.
//! * A refund or chargeback reverses the payment. When it arrives before
//!   the completion (providers do not guarantee order), the later
//!   completion grants nothing: the outcome does not depend on arrival order.
//! * Intermediate statuses never downgrade a completed payment.

mod aggregate;
mod command;
mod error;
mod event;

#[cfg(test)]
mod tests;

pub use aggregate::Payment;
pub use command::{Order, PaymentCommand, ProviderUpdate, Reversal};
pub use error::PaymentError;
pub use event::{PaymentEvent, RejectionReason};

/// The currency prices are set in.
pub const PRICE_CURRENCY: &str = "USD";
