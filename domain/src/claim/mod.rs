//! Unique claims: how "this email / username is taken" stays true under
//! concurrent registrations without a unique index on personal data.
//!
//! Each claimable value gets its own aggregate whose id is
//! `<kind>:<keyed hash of the normalised value>` (the hash is computed in
//! `commands`, so no personal data sits in an id). Two registrations racing
//! for the same value both try to append sequence 1 of the same aggregate;
//! the event store's primary key lets exactly one win.
//!
//! A claim is first *reserved* by a registration and *confirmed* once the
//! account exists. A reservation that was never confirmed (the registering
//! process died) lapses after [`RESERVATION_TTL`], so a crash cannot lock a
//! value forever.

mod aggregate;
mod command;
mod error;
mod event;

#[cfg(test)]
mod tests;

pub use aggregate::{Claim, ClaimState};
pub use command::ClaimCommand;
pub use error::ClaimError;
pub use event::ClaimEvent;

/// How long an unconfirmed reservation blocks others.
pub const RESERVATION_TTL: time::Duration = time::Duration::minutes(15);

/// What kind of value a claim protects; the prefix of its aggregate id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    Email,
    Username,
}

impl ClaimKind {
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Username => "username",
        }
    }
}
