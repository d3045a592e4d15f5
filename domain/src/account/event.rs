//! What happened to an account. Variant names are the frozen `event_type`s.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::values::{AccountId, Email, Username};
use crate::FIRST_EVENT_VERSION;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AccountEvent {
    AccountRegistered {
        account_id: AccountId,
        email: Email,
        username: Username,
        /// PHC string of the Argon2id hash; the password itself never is stored.
        password_hash: String,
        #[serde(with = "time::serde::rfc3339")]
        registered_at: OffsetDateTime,
    },
    LoginSucceeded {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        client_ip: Option<String>,
    },
    LoginFailed {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        client_ip: Option<String>,
        /// Failures in a row, this one included (reset by a success).
        consecutive_failures: u32,
    },
}

impl AccountEvent {
    pub const REGISTERED: &'static str = "AccountRegistered";
    pub const LOGIN_SUCCEEDED: &'static str = "LoginSucceeded";
    pub const LOGIN_FAILED: &'static str = "LoginFailed";
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> String {
        match self {
            Self::AccountRegistered { .. } => Self::REGISTERED,
            Self::LoginSucceeded { .. } => Self::LOGIN_SUCCEEDED,
            Self::LoginFailed { .. } => Self::LOGIN_FAILED,
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}
