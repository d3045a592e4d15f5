//! Two-factor enrolment (TOTP + ten recovery codes) and disabling it.

use domain::account::{AccountCommand, AccountError, AccountId};

use super::AccountService;
use crate::store::EventStores;
use crate::totp;
use crate::{CommandError, Metadata};

/// A started enrolment: what the user's authenticator app needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_url: String,
}

impl<S: EventStores> AccountService<S> {
    /// Creates a fresh 160-bit secret (replacing an unconfirmed one).
    #[tracing::instrument(skip_all, fields(%account_id))]
    pub async fn begin_two_factor(
        &self,
        account_id: AccountId,
        label: &str,
    ) -> Result<Enrolment, CommandError<AccountError>> {
        let account = self.load_account(account_id).await?;
        if account.has_two_factor() {
            return Err(CommandError::Rejected(
                AccountError::TwoFactorAlreadyEnabled,
            ));
        }
        let secret = totp::generate_secret();
        let otpauth_url = totp::otpauth_url(&secret, label)
            .ok_or_else(|| CommandError::unavailable(std::fmt::Error))?;
        self.totp_secrets
            .store(account_id.as_uuid(), &secret)
            .await
            .map_err(CommandError::Unavailable)?;
        Ok(Enrolment {
            secret_base32: totp::secret_base32(&secret),
            otpauth_url,
        })
    }

    /// Confirms the enrolment with a current code; returns the ten recovery
    /// codes (shown once; only their hashes are recorded).
    #[tracing::instrument(skip_all, fields(%account_id))]
    pub async fn confirm_two_factor(
        &self,
        account_id: AccountId,
        code: &str,
        metadata: &Metadata,
    ) -> Result<Vec<String>, CommandError<AccountError>> {
        let account = self.load_account(account_id).await?;
        if account.has_two_factor() {
            return Err(CommandError::Rejected(
                AccountError::TwoFactorAlreadyEnabled,
            ));
        }
        let secret = self
            .totp_secrets
            .load(account_id.as_uuid())
            .await
            .map_err(CommandError::Unavailable)?
            .ok_or(CommandError::Rejected(AccountError::TwoFactorNotEnabled))?;
        let now = self.clock.now();
        let unix = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        let step = totp::matching_step(&secret, code, unix)
            .ok_or(CommandError::Rejected(AccountError::InvalidToken))?;
        let codes = totp::generate_recovery_codes();
        self.accounts
            .execute(
                &account_id.to_string(),
                AccountCommand::EnrollTwoFactor {
                    step,
                    recovery_code_hashes: codes
                        .iter()
                        .map(|c| totp::hash_recovery_code(c))
                        .collect(),
                    now,
                },
                metadata,
            )
            .await?;
        Ok(codes)
    }

    /// Turns 2FA off; needs the password.
    #[tracing::instrument(skip_all, fields(%account_id))]
    pub async fn disable_two_factor(
        &self,
        account_id: AccountId,
        password: &str,
        metadata: &Metadata,
    ) -> Result<(), CommandError<AccountError>> {
        let account = self.load_account(account_id).await?;
        let password_matched = self.password_matches(&account, password).await?;
        self.accounts
            .execute(
                &account_id.to_string(),
                AccountCommand::DisableTwoFactor {
                    password_matched,
                    now: self.clock.now(),
                },
                metadata,
            )
            .await?;
        self.totp_secrets
            .delete(account_id.as_uuid())
            .await
            .map_err(CommandError::Unavailable)
    }
}
