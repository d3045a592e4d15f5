//! Mail: a reactor turns `EmailVerificationRequested` and
//! `PasswordResetRequested` events into `mail_outbox` rows, exactly once
//! (the rows are written in the reactor's batch transaction, with its
//! checkpoint); a sender delivers due rows over SMTP and retries failures
//! with backoff, so an SMTP outage delays mail but loses none.
//!
//! Without `CRYPTOLENS_SMTP__URL` the rows are kept as `local`, and
//! `cryptolens mail list` shows them (with their links) so `ops/run` works
//! offline. No row holds a token: the body is rendered when the mail is
//! sent or listed, re-deriving the token from the event's token id with the
//! server key.

mod reactor;
mod sender;

use commands::tokens::{TokenKey, TokenPurpose};
use uuid::Uuid;

pub use reactor::MailReactor;
pub use sender::{MailSender, run_sender};

/// What kind of mail a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    Verification,
    PasswordReset,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verification => "verification",
            Self::PasswordReset => "password_reset",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "verification" => Some(Self::Verification),
            "password_reset" => Some(Self::PasswordReset),
            _ => None,
        }
    }
}

/// A rendered mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// The mail for an outbox row.
pub fn render(
    kind: MailKind,
    account_id: Uuid,
    token_id: Uuid,
    key: &TokenKey,
    public_url: &str,
) -> Rendered {
    match kind {
        MailKind::Verification => {
            let token = key.derive(TokenPurpose::Verification, token_id);
            Rendered {
                subject: "Confirm your email address for CryptoLens".to_owned(),
                body: format!(
                    "Welcome to CryptoLens.\r\n\r\nConfirm your email address within 24 hours:\r\n\r\n{public_url}/verify-email?account={account_id}&token={token}\r\n\r\nIf you did not register, ignore this mail.\r\n"
                ),
            }
        }
        MailKind::PasswordReset => {
            let token = key.derive(TokenPurpose::PasswordReset, token_id);
            Rendered {
                subject: "Reset your CryptoLens password".to_owned(),
                body: format!(
                    "Someone asked to reset the password of your CryptoLens account.\r\n\r\nSet a new password within 1 hour (the link works once):\r\n\r\n{public_url}/reset-password?account={account_id}&token={token}\r\n\r\nIf it was not you, ignore this mail; your password stays as it is.\r\n"
                ),
            }
        }
    }
}
