//! What happened to an account. Variant names are the frozen `event_type`s.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::values::{AccountId, Email, Username};
use crate::FIRST_EVENT_VERSION;

/// Why a sign-in attempt failed. Only the event log knows; the caller gets
/// one generic answer whatever the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// The password did not match (counts towards the lockout).
    #[default]
    WrongPassword,
    /// The second-factor code or recovery code did not match (counts).
    WrongSecondFactor,
    /// A TOTP code whose time step was already used (counts).
    ReplayedCode,
    /// The account is locked; the attempt is recorded but not counted.
    Locked,
    /// The account is deactivated; recorded, not counted.
    Deactivated,
}

impl FailureReason {
    /// Whether this failure adds to the consecutive-failure count.
    pub fn counts(self) -> bool {
        matches!(
            self,
            Self::WrongPassword | Self::WrongSecondFactor | Self::ReplayedCode
        )
    }
}

/// Why an account was unlocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnlockReason {
    /// The lock ran out (recorded at the next sign-in attempt).
    Expired,
    /// An admin unlocked it.
    Admin,
    /// The owner reset the password through the emailed link.
    PasswordReset,
}

/// How an address was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationMethod {
    Link,
    Admin,
}

/// Why sessions were ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// The owner ended one or more of their sessions.
    UserRequest,
    PasswordChanged,
    PasswordReset,
    Deactivated,
    TwoFactorChanged,
}

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
        /// Failures in a row, this one included when it counts (reset by a success).
        consecutive_failures: u32,
        #[serde(default)]
        reason: FailureReason,
    },
    /// The password was right and a second factor is now expected.
    PasswordAccepted {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        client_ip: Option<String>,
    },
    AccountLocked {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
    },
    AccountUnlocked {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        reason: UnlockReason,
    },
    /// A verification link was issued. Only the token's SHA-256 is kept;
    /// the token itself is derived by the mailer from `token_id` with a
    /// server key, so the log alone cannot reproduce it.
    EmailVerificationRequested {
        token_id: Uuid,
        token_hash: String,
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    EmailVerified {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        method: VerificationMethod,
    },
    PasswordResetRequested {
        token_id: Uuid,
        token_hash: String,
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    PasswordReset {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        password_hash: String,
    },
    PasswordChanged {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        password_hash: String,
    },
    TwoFactorEnrolled {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// The TOTP time step of the code that confirmed the enrolment.
        step: u64,
        /// SHA-256 of each of the ten 128-bit recovery codes.
        recovery_code_hashes: Vec<String>,
    },
    TwoFactorDisabled {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A TOTP code was accepted; its step can never be used again.
    TwoFactorCodeAccepted {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        step: u64,
    },
    RecoveryCodeUsed {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        code_hash: String,
    },
    AdminRoleGranted {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// The admin who granted it; `None` for the command line.
        by: Option<AccountId>,
    },
    AdminRoleRevoked {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        by: Option<AccountId>,
    },
    AccountDeactivated {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        by: Option<AccountId>,
    },
    AccountReactivated {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        by: Option<AccountId>,
    },
    SessionsRevoked {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        reason: RevocationReason,
        /// How many sessions ended.
        sessions: u32,
    },
}

impl AccountEvent {
    pub const REGISTERED: &'static str = "AccountRegistered";
    pub const LOGIN_SUCCEEDED: &'static str = "LoginSucceeded";
    pub const LOGIN_FAILED: &'static str = "LoginFailed";
    pub const PASSWORD_ACCEPTED: &'static str = "PasswordAccepted";
    pub const LOCKED: &'static str = "AccountLocked";
    pub const UNLOCKED: &'static str = "AccountUnlocked";
    pub const VERIFICATION_REQUESTED: &'static str = "EmailVerificationRequested";
    pub const VERIFIED: &'static str = "EmailVerified";
    pub const RESET_REQUESTED: &'static str = "PasswordResetRequested";
    pub const PASSWORD_RESET: &'static str = "PasswordReset";
    pub const PASSWORD_CHANGED: &'static str = "PasswordChanged";
    pub const TWO_FACTOR_ENROLLED: &'static str = "TwoFactorEnrolled";
    pub const TWO_FACTOR_DISABLED: &'static str = "TwoFactorDisabled";
    pub const TWO_FACTOR_CODE_ACCEPTED: &'static str = "TwoFactorCodeAccepted";
    pub const RECOVERY_CODE_USED: &'static str = "RecoveryCodeUsed";
    pub const ADMIN_GRANTED: &'static str = "AdminRoleGranted";
    pub const ADMIN_REVOKED: &'static str = "AdminRoleRevoked";
    pub const DEACTIVATED: &'static str = "AccountDeactivated";
    pub const REACTIVATED: &'static str = "AccountReactivated";
    pub const SESSIONS_REVOKED: &'static str = "SessionsRevoked";
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> String {
        match self {
            Self::AccountRegistered { .. } => Self::REGISTERED,
            Self::LoginSucceeded { .. } => Self::LOGIN_SUCCEEDED,
            Self::LoginFailed { .. } => Self::LOGIN_FAILED,
            Self::PasswordAccepted { .. } => Self::PASSWORD_ACCEPTED,
            Self::AccountLocked { .. } => Self::LOCKED,
            Self::AccountUnlocked { .. } => Self::UNLOCKED,
            Self::EmailVerificationRequested { .. } => Self::VERIFICATION_REQUESTED,
            Self::EmailVerified { .. } => Self::VERIFIED,
            Self::PasswordResetRequested { .. } => Self::RESET_REQUESTED,
            Self::PasswordReset { .. } => Self::PASSWORD_RESET,
            Self::PasswordChanged { .. } => Self::PASSWORD_CHANGED,
            Self::TwoFactorEnrolled { .. } => Self::TWO_FACTOR_ENROLLED,
            Self::TwoFactorDisabled { .. } => Self::TWO_FACTOR_DISABLED,
            Self::TwoFactorCodeAccepted { .. } => Self::TWO_FACTOR_CODE_ACCEPTED,
            Self::RecoveryCodeUsed { .. } => Self::RECOVERY_CODE_USED,
            Self::AdminRoleGranted { .. } => Self::ADMIN_GRANTED,
            Self::AdminRoleRevoked { .. } => Self::ADMIN_REVOKED,
            Self::AccountDeactivated { .. } => Self::DEACTIVATED,
            Self::AccountReactivated { .. } => Self::REACTIVATED,
            Self::SessionsRevoked { .. } => Self::SESSIONS_REVOKED,
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}
