//! Sign in with email and password.
//!
//! Unknown email, unregistered claim and wrong password all spend one
//! Argon2 verification and give the same outcome, so neither the answer nor
//! its timing tells whether an address is registered. Only attempts on an
//! existing account are recorded (as `LoginSucceeded` / `LoginFailed` with
//! the client address); attempts on unknown addresses have no aggregate to
//! belong to and are left to the rate limiter and the logs.

use domain::account::{AccountCommand, AccountError, AccountId, Email};
use domain::claim::{ClaimKind, ClaimState};

use super::AccountService;
use crate::store::EventStores;
use crate::{CommandError, Metadata};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInOutcome {
    Succeeded {
        account_id: AccountId,
    },
    /// Wrong password or unknown account: deliberately indistinguishable.
    Failed,
}

impl<S: EventStores> AccountService<S> {
    #[tracing::instrument(skip_all)]
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        metadata: &Metadata,
    ) -> Result<SignInOutcome, CommandError<AccountError>> {
        let Some((account_id, phc)) = self.find_credentials(email).await? else {
            self.hasher
                .verify_dummy(password)
                .await
                .map_err(CommandError::unavailable)?;
            return Ok(SignInOutcome::Failed);
        };
        let password_matched = self
            .hasher
            .verify(password, &phc)
            .await
            .map_err(CommandError::unavailable)?;
        let command = AccountCommand::RecordSignIn {
            password_matched,
            client_ip: metadata.client_ip.clone(),
            now: self.clock.now(),
        };
        let actor = if password_matched {
            metadata.with_actor(format!("account:{account_id}"))
        } else {
            metadata.clone()
        };
        self.accounts
            .execute(&account_id.to_string(), command, &actor)
            .await?;
        Ok(if password_matched {
            SignInOutcome::Succeeded { account_id }
        } else {
            SignInOutcome::Failed
        })
    }

    async fn find_credentials(
        &self,
        email: &str,
    ) -> Result<Option<(AccountId, String)>, CommandError<AccountError>> {
        let Ok(email) = Email::parse(email) else {
            return Ok(None);
        };
        let claim_id = self.keys.claim_id(ClaimKind::Email, email.as_str());
        let claim = self
            .claims
            .load(&claim_id)
            .await
            .map_err(|e| e.map_rejection(|_| AccountError::NotRegistered))?;
        let owner = match claim.state() {
            ClaimState::Confirmed { owner } | ClaimState::Reserved { owner, .. } => owner,
            ClaimState::Free => return Ok(None),
        };
        let account = self.accounts.load(&owner.to_string()).await?;
        Ok(account.id().zip(account.password_hash().map(str::to_owned)))
    }
}
