//! Account use cases: registration with unique email and username, and
//! sign-in.

mod register_account;
mod sign_in;

use std::sync::Arc;

use domain::account::Account;
use domain::claim::Claim;

use crate::claim_keys::ClaimKeys;
use crate::ports::{Clock, PasswordHasher};
use crate::store::{CommitObserver, EventStores, Repository};

pub use register_account::RegistrationError;
pub use sign_in::SignInOutcome;

/// What the account use cases run on.
pub struct AccountService<S: EventStores> {
    accounts: Repository<Account, S>,
    claims: Repository<Claim, S>,
    hasher: Arc<dyn PasswordHasher>,
    clock: Arc<dyn Clock>,
    keys: ClaimKeys,
}

impl<S: EventStores> AccountService<S> {
    pub fn new(
        stores: &S,
        observer: Option<Arc<dyn CommitObserver>>,
        hasher: Arc<dyn PasswordHasher>,
        clock: Arc<dyn Clock>,
        keys: ClaimKeys,
    ) -> Self {
        Self {
            accounts: Repository::new(stores, observer.clone()),
            claims: Repository::new(stores, observer),
            hasher,
            clock,
            keys,
        }
    }

    pub fn accounts(&self) -> &Repository<Account, S> {
        &self.accounts
    }
}

#[cfg(test)]
mod tests;
