//! The subscription aggregate, one per account (id = the account id): what
//! was paid for, until when, and so which tier the user has at any moment.
//!
//! Rules (PRODUCT §1, §6):
//! * A credited payment activates or renews; a renewal of the same plan
//!   adds one period to the current end, so paying early loses nothing.
//! * Changing plan while a period runs (upgrade Pro → Premium, or down):
//!   the unused part of the current period is converted at the new plan's
//!   daily rate and added to the new period, which starts now. Pro monthly
//!   with 15 days left is worth 9.50 USD, i.e. 5.8 days of Premium monthly:
//!   the new Premium period runs 30 + 5.8 days from now.
//! * Cancelled: access until the period end, then free (no grace).
//! * Lapsed (not renewed): access continues for a 3-day grace period.
//! * Suspended, revoked (refund or chargeback) or expired: free at once.
//! * Each payment is credited at most once (its reference is remembered).

mod aggregate;
mod command;
mod error;
mod event;

#[cfg(test)]
mod tests;

pub use aggregate::{Status, Subscription};
pub use command::{RevocationReason, SubscriptionCommand};
pub use error::SubscriptionError;
pub use event::SubscriptionEvent;

/// How long a lapsed subscription keeps its tier.
pub const GRACE_PERIOD: time::Duration = time::Duration::days(3);
/// How long before the end the expiry warning goes out.
pub const EXPIRY_WARNING_AHEAD: time::Duration = time::Duration::days(3);
