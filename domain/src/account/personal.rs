//! Personal data inside events, sealed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A piece of personal data (email, username, client address) as it is
/// recorded: sealed with the owner's personal-data key, which is kept
/// outside the event log. Forgetting the owner deletes the key; the events
/// stay, and this value can no longer be opened. The domain never looks
/// inside: `Debug` does not print it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonalData(String);

impl PersonalData {
    /// The prefix of every sealed value (format version 1).
    pub const PREFIX: &'static str = "pd1:";

    /// Wraps an already sealed value (made by the `commands` sealing code).
    pub fn from_sealed(sealed: String) -> Self {
        Self(sealed)
    }

    pub fn sealed(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PersonalData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonalData(sealed)")
    }
}
