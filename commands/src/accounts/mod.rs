//! Account use cases: registration with unique email and username, sign-in
//! (password, then a second factor when enrolled), email verification,
//! password reset and change, two-factor enrolment, and admin actions.

mod administer;
mod email_flows;
mod forget;
mod register_account;
mod sign_in;
mod two_factor;

use std::sync::Arc;

use domain::account::{
    Account, AccountCommand, AccountError, AccountEvent, AccountId, Email, PersonalData,
};
use domain::claim::{Claim, ClaimKind, ClaimState};

use crate::claim_keys::ClaimKeys;
use crate::personal_data::{self, PersonalDataKeys};
use crate::ports::{Clock, PasswordHasher, PortError, TotpSecrets};
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
    pub personal_data: Arc<dyn PersonalDataKeys>,
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
    personal_data: Arc<dyn PersonalDataKeys>,
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
            personal_data: deps.personal_data,
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

    /// `metadata` with its client address sealed with `account`'s
    /// personal-data key (dropped when the key is gone), and the sealed
    /// address for the event payload.
    async fn seal_client(
        &self,
        account: AccountId,
        metadata: &Metadata,
    ) -> Result<(Metadata, Option<PersonalData>), PortError> {
        let sealed =
            personal_data::seal_metadata(self.personal_data.as_ref(), account.as_uuid(), metadata)
                .await?;
        let client_ip = sealed.client_ip.clone().map(PersonalData::from_sealed);
        Ok((sealed, client_ip))
    }

    /// Executes `command` on the account, with the client address sealed.
    async fn record_returning(
        &self,
        account: AccountId,
        command: AccountCommand,
        metadata: &Metadata,
    ) -> Result<Vec<AccountEvent>, CommandError<AccountError>> {
        let (metadata, _) = self
            .seal_client(account, metadata)
            .await
            .map_err(CommandError::Unavailable)?;
        self.accounts
            .execute_returning(&account.to_string(), command, &metadata)
            .await
    }

    async fn record(
        &self,
        account: AccountId,
        command: AccountCommand,
        metadata: &Metadata,
    ) -> Result<(), CommandError<AccountError>> {
        self.record_returning(account, command, metadata)
            .await
            .map(|_| ())
    }

    /// The account's personal data, opened; `None` once forgotten.
    pub async fn open_personal(
        &self,
        account: AccountId,
        data: &PersonalData,
    ) -> Result<Option<String>, PortError> {
        Ok(self
            .personal_data
            .get(account.as_uuid())
            .await?
            .and_then(|key| personal_data::open(&key, account.as_uuid(), data)))
    }

    fn acting_as(metadata: &Metadata, account_id: AccountId) -> Metadata {
        metadata.with_actor(format!("account:{account_id}"))
    }
}

#[cfg(test)]
mod tests;
