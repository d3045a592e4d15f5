//! The account aggregate: one per user, created by registration; it records
//! every sign-in attempt so that lockout rules (identity issue) can be decided
//! from its history.

mod aggregate;
mod command;
mod error;
mod event;
mod values;

#[cfg(test)]
mod tests;

pub use aggregate::Account;
pub use command::AccountCommand;
pub use error::AccountError;
pub use event::AccountEvent;
pub use values::{
    AccountId, Email, EmailError, FieldError, Password, PasswordError, Registration,
    RegistrationInvalid, Username, UsernameError,
};
