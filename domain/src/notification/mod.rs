//! Notifications: what a push says, the per-message delivery record, and
//! (with the preferences work) who wants which pushes.

mod delivery;
mod push;

#[cfg(test)]
mod tests;

pub use delivery::{
    FailureReason, Notification, NotificationCommand, NotificationError, NotificationEvent,
    Recipient,
};
pub use push::{Priority, Push, PushKind};
