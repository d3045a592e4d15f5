//! API keys: one aggregate per key, keyed by the key id. The key itself is
//! `cl_<prefix>_<secret>` where the prefix is the key id (32 hex digits)
//! and only a peppered SHA-256 of the secret is recorded. Use (last-used
//! time) is not a state change of the key and is not evented.

mod aggregate;
mod command;
mod error;
mod event;
mod scope;

#[cfg(test)]
mod tests;

pub use aggregate::ApiKey;
pub use command::ApiKeyCommand;
pub use error::ApiKeyError;
pub use event::ApiKeyEvent;
pub use scope::{ApiScope, ScopeError};

/// At most this many characters in a key's name.
pub const NAME_MAX_CHARS: usize = 60;
