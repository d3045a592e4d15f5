//! Sign in: the password step, and the second step when 2FA is on.
//!
//! Unknown email, wrong password, locked and deactivated accounts all spend
//! one Argon2 verification and give the same outcome, so neither the answer
//! nor its timing tells them apart. Attempts on an existing account are
//! recorded (success, failure with its reason, lock); attempts on unknown
//! addresses have no aggregate to belong to and are left to the rate
//! limiter and the logs.

use domain::account::{
    AccountCommand, AccountError, AccountEvent, AccountId, SecondFactor, SignInState,
};

use super::AccountService;
use crate::store::EventStores;
use crate::totp;
use crate::{CommandError, Metadata};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInOutcome {
    SignedIn {
        account_id: AccountId,
    },
    /// The password was right; a TOTP or recovery code must follow.
    SecondFactorRequired {
        account_id: AccountId,
    },
    /// Wrong password, unknown account, locked or deactivated: deliberately
    /// indistinguishable.
    Failed,
}

fn outcome(account_id: AccountId, events: &[AccountEvent]) -> SignInOutcome {
    match domain::account::Account::sign_in_state(events) {
        SignInState::SignedIn => SignInOutcome::SignedIn { account_id },
        SignInState::SecondFactorRequired => SignInOutcome::SecondFactorRequired { account_id },
        SignInState::Failed => SignInOutcome::Failed,
    }
}

impl<S: EventStores> AccountService<S> {
    #[tracing::instrument(skip_all)]
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        metadata: &Metadata,
    ) -> Result<SignInOutcome, CommandError<AccountError>> {
        let Some((account_id, account)) = self.find_by_email(email).await? else {
            self.hasher
                .verify_dummy(password)
                .await
                .map_err(CommandError::unavailable)?;
            return Ok(SignInOutcome::Failed);
        };
        let password_matched = self.password_matches(&account, password).await?;
        let command = AccountCommand::RecordSignIn {
            password_matched,
            client_ip: metadata.client_ip.clone(),
            now: self.clock.now(),
        };
        let actor = if password_matched {
            Self::acting_as(metadata, account_id)
        } else {
            metadata.clone()
        };
        let events = self
            .accounts
            .execute_returning(&account_id.to_string(), command, &actor)
            .await?;
        Ok(outcome(account_id, &events))
    }

    /// The second step: `code` is a current TOTP code or an unused
    /// recovery code. Failures count towards the lockout.
    #[tracing::instrument(skip_all, fields(%account_id))]
    pub async fn complete_sign_in(
        &self,
        account_id: AccountId,
        code: &str,
        metadata: &Metadata,
    ) -> Result<SignInOutcome, CommandError<AccountError>> {
        let account = self.load_account(account_id).await?;
        if !account.has_two_factor() {
            return Ok(SignInOutcome::Failed);
        }
        let now = self.clock.now();
        let secret = self
            .totp_secrets
            .load(account_id.as_uuid())
            .await
            .map_err(CommandError::Unavailable)?;
        let unix = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        let factor = match secret.and_then(|s| totp::matching_step(&s, code, unix)) {
            Some(step) => SecondFactor::Totp { step },
            None if code.trim().len() > totp::DIGITS => SecondFactor::RecoveryCode {
                hash: totp::hash_recovery_code(code),
            },
            None => SecondFactor::Wrong,
        };
        let events = self
            .accounts
            .execute_returning(
                &account_id.to_string(),
                AccountCommand::RecordSecondFactor {
                    factor,
                    client_ip: metadata.client_ip.clone(),
                    now,
                },
                &Self::acting_as(metadata, account_id),
            )
            .await?;
        Ok(outcome(account_id, &events))
    }
}
