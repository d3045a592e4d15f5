//! Account use cases: registration with unique email and username, sign-in
//! (password, then a second factor when enrolled), email verification,
//! password reset and change, two-factor enrolment, and admin actions.

mod administer;
mod email_flows;
mod register_account;
mod sign_in;
mod two_factor;

use std::sync::Arc;

use domain::account::{Account, AccountError, AccountId, Email};
use domain::claim::{Claim, ClaimKind, ClaimState};

use crate::claim_keys::ClaimKeys;
use crate::ports::{Clock, PasswordHasher, TotpSecrets};
use crate::store::{CommitObserver, EventStores, Repository};
use crate::tokens::TokenKey;
use crate::{CommandError, Metadata};

pub use email_flows::PasswordChangeError;
pub use register_account::RegistrationError;
pub use sign_in::SignInOutcome;
pub use two_factor::Enrolment;

/// The ports and keys the account use cases need.
pub struct AccountDeps {
    pub hasher: Arc<dyn PasswordHasher>,
    pub clock: Arc<dyn Clock>,
    pub claim_keys: ClaimKeys,
    pub token_key: TokenKey,
    pub totp_secrets: Arc<dyn TotpSecrets>,
}

/// What the account use cases run on.
pub struct AccountService<S: EventStores> {
    accounts: Repository<Account, S>,
    claims: Repository<Claim, S>,
    hasher: Arc<dyn PasswordHasher>,
    clock: Arc<dyn Clock>,
    keys: ClaimKeys,
    tokens: TokenKey,
    totp_secrets: Arc<dyn TotpSecrets>,
}

impl<S: EventStores> AccountService<S> {
    pub fn new(stores: &S, observer: Option<Arc<dyn CommitObserver>>, deps: AccountDeps) -> Self {
        Self {
            accounts: Repository::new(stores, observer.clone()),
            claims: Repository::new(stores, observer),
            hasher: deps.hasher,
            clock: deps.clock,
            keys: deps.claim_keys,
            tokens: deps.token_key,
            totp_secrets: deps.totp_secrets,
        }
    }

    pub fn accounts(&self) -> &Repository<Account, S> {
        &self.accounts
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn token_key(&self) -> &TokenKey {
        &self.tokens
    }

    /// The account registered with `email`, if any.
    pub async fn find_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(AccountId, Account)>, CommandError<AccountError>> {
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
        Ok(account.id().map(|id| (id, account)))
    }

    /// A registered account, or `NotFound`.
    pub async fn load_account(
        &self,
        account_id: AccountId,
    ) -> Result<Account, CommandError<AccountError>> {
        let account = self.accounts.load(&account_id.to_string()).await?;
        if account.is_registered() {
            Ok(account)
        } else {
            Err(CommandError::NotFound)
        }
    }

    /// Whether `password` is the account's current password (one Argon2
    /// verification either way).
    async fn password_matches(
        &self,
        account: &Account,
        password: &str,
    ) -> Result<bool, CommandError<AccountError>> {
        match account.password_hash() {
            Some(phc) => self.hasher.verify(password, phc).await,
            None => self.hasher.verify_dummy(password).await,
        }
        .map_err(CommandError::unavailable)
    }

    fn acting_as(metadata: &Metadata, account_id: AccountId) -> Metadata {
        metadata.with_actor(format!("account:{account_id}"))
    }
}

#[cfg(test)]
mod tests;
