//! The account aggregate: one per user, created by registration. It carries
//! everything security-relevant about the user, so `events show account
//! <id>` tells the whole story: sign-ins and failures, the lockout (5
//! counted failures in a row lock it for 15 minutes; the command carries
//! `now`, so an expired lock is lifted, and recorded, at the next attempt),
//! email verification and password reset tokens (hashes only), password
//! changes, two-factor enrolment and its one-time codes, the admin role,
//! deactivation and session revocations.

mod aggregate;
mod command;
mod error;
mod event;
mod values;

#[cfg(test)]
mod tests;

pub use aggregate::{Account, SignInState};
pub use command::{AccountCommand, AdminAction, IssuedToken, SecondFactor};
pub use error::AccountError;
pub use event::{AccountEvent, FailureReason, RevocationReason, UnlockReason, VerificationMethod};
pub use values::{
    AccountId, Email, EmailError, FieldError, Password, PasswordError, Registration,
    RegistrationInvalid, Username, UsernameError,
};

/// Counted failures in a row that lock an account (PRODUCT §2).
pub const LOCKOUT_THRESHOLD: u32 = 5;
/// How long a lock lasts (PRODUCT §2).
pub const LOCKOUT_DURATION: time::Duration = time::Duration::minutes(15);
/// How long an email verification link works.
pub const VERIFICATION_TTL: time::Duration = time::Duration::hours(24);
/// How long a password reset link works.
pub const RESET_TTL: time::Duration = time::Duration::hours(1);
