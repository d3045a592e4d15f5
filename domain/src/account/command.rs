//! What can be asked of an account. Inputs that need the outside world (the
//! hash, the time, whether a password or code matched, fresh tokens) are
//! computed beforehand and handed in.

use time::OffsetDateTime;
use uuid::Uuid;

use super::event::RevocationReason;
use super::values::{AccountId, Email, Username};

/// A freshly issued single-use token: its id (from which the mailer derives
/// the secret), the SHA-256 of the secret, and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub id: Uuid,
    pub hash: String,
    pub expires_at: OffsetDateTime,
}

/// The outcome of checking a second factor, computed by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactor {
    /// A TOTP code matched this time step (the aggregate refuses a step
    /// already used).
    Totp { step: u64 },
    /// A recovery code with this SHA-256 was presented (the aggregate
    /// checks it is one of the unused ones).
    RecoveryCode { hash: String },
    /// Nothing matched.
    Wrong,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AccountCommand {
    Register {
        account_id: AccountId,
        email: Email,
        username: Username,
        password_hash: String,
        verification: IssuedToken,
        now: OffsetDateTime,
    },
    /// Record a password sign-in attempt; `password_matched` was checked
    /// against the stored hash by the caller.
    RecordSignIn {
        password_matched: bool,
        client_ip: Option<String>,
        now: OffsetDateTime,
    },
    /// Record the second step of a sign-in with two-factor authentication.
    RecordSecondFactor {
        factor: SecondFactor,
        client_ip: Option<String>,
        now: OffsetDateTime,
    },
    RequestVerification {
        token: IssuedToken,
    },
    VerifyEmail {
        token_hash: String,
        now: OffsetDateTime,
    },
    RequestPasswordReset {
        token: IssuedToken,
    },
    ResetPassword {
        token_hash: String,
        password_hash: String,
        now: OffsetDateTime,
    },
    ChangePassword {
        current_matched: bool,
        password_hash: String,
        now: OffsetDateTime,
    },
    EnrollTwoFactor {
        step: u64,
        recovery_code_hashes: Vec<String>,
        now: OffsetDateTime,
    },
    DisableTwoFactor {
        password_matched: bool,
        now: OffsetDateTime,
    },
    RecordSessionsRevoked {
        reason: RevocationReason,
        sessions: u32,
        now: OffsetDateTime,
    },
    /// Admin actions. `by` is the acting admin (`None`: the command line).
    Administer {
        action: AdminAction,
        by: Option<AccountId>,
        now: OffsetDateTime,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    GrantAdmin,
    RevokeAdmin,
    Deactivate,
    Reactivate,
    Verify,
    Unlock,
}
