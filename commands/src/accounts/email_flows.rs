//! Email verification, password reset and password change.
//!
//! "Resend" and "forgot" answer the same whether or not the address
//! belongs to an account: they return `()` in both cases, and the HTTP
//! layer pads their response time. The mail itself is sent later by the
//! mail reactor from the `...Requested` event.

use domain::account::{
    AccountCommand, AccountError, AccountId, Password, PasswordError, RESET_TTL, VERIFICATION_TTL,
};

use super::AccountService;
use crate::store::EventStores;
use crate::tokens::{TokenPurpose, hash_token};
use crate::{CommandError, Metadata};

/// Why a new password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("the new password {0}")]
    Policy(PasswordError),
    #[error(transparent)]
    Account(#[from] AccountError),
}

impl<S: EventStores> AccountService<S> {
    /// Issues a new verification link for `email` if it belongs to an
    /// unverified, active account; otherwise does nothing, silently.
    #[tracing::instrument(skip_all)]
    pub async fn resend_verification(
        &self,
        email: &str,
        metadata: &Metadata,
    ) -> Result<(), CommandError<AccountError>> {
        self.mail_token(email, metadata, TokenPurpose::Verification)
            .await
    }

    #[tracing::instrument(skip_all, fields(%account_id))]
    pub async fn verify_email(
        &self,
        account_id: AccountId,
        token: &str,
        metadata: &Metadata,
    ) -> Result<(), CommandError<AccountError>> {
        self.load_account(account_id)
            .await
            .map_err(|_| CommandError::Rejected(AccountError::InvalidToken))?;
        self.accounts
            .execute(
                &account_id.to_string(),
                AccountCommand::VerifyEmail {
                    token_hash: hash_token(token),
                    now: self.clock.now(),
                },
                metadata,
            )
            .await
    }

    /// Issues a reset link for `email` if it belongs to an active account;
    /// otherwise does nothing, silently.
    #[tracing::instrument(skip_all)]
    pub async fn request_password_reset(
        &self,
        email: &str,
        metadata: &Metadata,
    ) -> Result<(), CommandError<AccountError>> {
        self.mail_token(email, metadata, TokenPurpose::PasswordReset)
            .await
    }

    /// Records a new token of `purpose` for the active account registered
    /// with `email`, if any (verification: only while unverified). Every
    /// "nothing to do" ends in the same `Ok(())`.
    async fn mail_token(
        &self,
        email: &str,
        metadata: &Metadata,
        purpose: TokenPurpose,
    ) -> Result<(), CommandError<AccountError>> {
        let Some((account_id, account)) = self.find_by_email(email).await? else {
            return Ok(());
        };
        let now = self.clock.now();
        let command = match purpose {
            _ if !account.is_active() => return Ok(()),
            TokenPurpose::Verification if account.is_verified() => return Ok(()),
            TokenPurpose::Verification => AccountCommand::RequestVerification {
                token: self.tokens.issue(purpose, VERIFICATION_TTL, now),
            },
            TokenPurpose::PasswordReset => AccountCommand::RequestPasswordReset {
                token: self.tokens.issue(purpose, RESET_TTL, now),
            },
        };
        match self
            .accounts
            .execute(&account_id.to_string(), command, metadata)
            .await
        {
            Err(CommandError::Rejected(
                AccountError::AlreadyVerified | AccountError::Deactivated,
            )) => Ok(()),
            other => other,
        }
    }

    /// Sets a new password with a reset token. The caller ends every
    /// session of the account afterwards.
    #[tracing::instrument(skip_all, fields(%account_id))]
    pub async fn reset_password(
        &self,
        account_id: AccountId,
        token: &str,
        new_password: &str,
        metadata: &Metadata,
    ) -> Result<(), CommandError<PasswordChangeError>> {
        let password = Password::parse(new_password)
            .map_err(|e| CommandError::Rejected(PasswordChangeError::Policy(e)))?;
        self.load_account(account_id)
            .await
            .map_err(|_| CommandError::Rejected(AccountError::InvalidToken.into()))?;
        let password_hash = self
            .hasher
            .hash(password.expose())
            .await
            .map_err(CommandError::unavailable)?;
        self.accounts
            .execute(
                &account_id.to_string(),
                AccountCommand::ResetPassword {
                    token_hash: hash_token(token),
                    password_hash,
                    now: self.clock.now(),
                },
                metadata,
            )
            .await
            .map_err(|e| e.map_rejection(PasswordChangeError::Account))
    }

    /// Changes the password given the current one. The caller ends every
    /// other session of the account afterwards.
    #[tracing::instrument(skip_all, fields(%account_id))]
    pub async fn change_password(
        &self,
        account_id: AccountId,
        current_password: &str,
        new_password: &str,
        metadata: &Metadata,
    ) -> Result<(), CommandError<PasswordChangeError>> {
        let password = Password::parse(new_password)
            .map_err(|e| CommandError::Rejected(PasswordChangeError::Policy(e)))?;
        let account = self
            .load_account(account_id)
            .await
            .map_err(|e| e.map_rejection(PasswordChangeError::Account))?;
        let current_matched = self
            .password_matches(&account, current_password)
            .await
            .map_err(|e| e.map_rejection(PasswordChangeError::Account))?;
        let password_hash = if current_matched {
            self.hasher
                .hash(password.expose())
                .await
                .map_err(CommandError::unavailable)?
        } else {
            String::new()
        };
        self.accounts
            .execute(
                &account_id.to_string(),
                AccountCommand::ChangePassword {
                    current_matched,
                    password_hash,
                    now: self.clock.now(),
                },
                metadata,
            )
            .await
            .map_err(|e| e.map_rejection(PasswordChangeError::Account))
    }
}
