//! The CryptoLens domain: aggregates, commands, events and value objects.
//!
//! Everything here is pure. No I/O, no clock, no randomness: whatever needs
//! the outside world (password hashing, the current time, fresh ids) is
//! computed by the `commands` crate and handed in inside the command, so an
//! aggregate's `handle` is a deterministic function of its history and the
//! command. `type Services = ()` on every aggregate.

pub mod account;
pub mod allowance;
pub mod api_key;
pub mod billing;
pub mod claim;
pub mod job;
pub mod market;
pub mod notification;
pub mod pattern;
pub mod portfolio;
pub mod signal;
pub mod symbol;
pub mod tag;

/// The `event_version` every event type starts with. A breaking payload change
/// bumps it and ships an upcaster; stored events are never edited.
pub const FIRST_EVENT_VERSION: &str = "1.0";
