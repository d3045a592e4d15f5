//! What can be asked of an account. Inputs that need the outside world (the
//! hash, the time, whether the password matched) are computed beforehand.

use time::OffsetDateTime;

use super::values::{AccountId, Email, Username};

#[derive(Debug, Clone, PartialEq)]
pub enum AccountCommand {
    Register {
        account_id: AccountId,
        email: Email,
        username: Username,
        password_hash: String,
        now: OffsetDateTime,
    },
    /// Record a sign-in attempt; `password_matched` was checked against the
    /// stored hash by the caller.
    RecordSignIn {
        password_matched: bool,
        client_ip: Option<String>,
        now: OffsetDateTime,
    },
}
