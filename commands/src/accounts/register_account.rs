//! Register an account: parse, hash, claim the email and the username, then
//! record the account and confirm both claims.
//!
//! Crash safety: a claim is only *reserved* until the account exists. If the
//! process dies before the account is recorded, the reservations lapse (see
//! `domain::claim::RESERVATION_TTL`). If it dies after the account is recorded
//! but before the claims are confirmed, the next registration that finds the
//! lapsed reservation sees that its holder's account exists, confirms the
//! claim for it and is refused: a registered value is never given away.

use domain::account::{
    AccountCommand, AccountId, Registration, RegistrationInvalid, VERIFICATION_TTL,
};
use domain::claim::{ClaimCommand, ClaimError, ClaimKind, ClaimState};
use uuid::Uuid;

use super::AccountService;
use crate::store::EventStores;
use crate::tokens::TokenPurpose;
use crate::{CommandError, Metadata};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error(transparent)]
    Invalid(#[from] RegistrationInvalid),
    #[error("an account with this email address already exists")]
    EmailTaken,
    #[error("this username is taken")]
    UsernameTaken,
    #[error("the account is already registered")]
    AlreadyRegistered,
}

impl<S: EventStores> AccountService<S> {
    #[tracing::instrument(skip_all, fields(account_id))]
    pub async fn register_account(
        &self,
        email: &str,
        username: &str,
        password: &str,
        metadata: &Metadata,
    ) -> Result<AccountId, CommandError<RegistrationError>> {
        let registration = Registration::parse(email, username, password)
            .map_err(|invalid| CommandError::Rejected(invalid.into()))?;
        let password_hash = self
            .hasher
            .hash(registration.password.expose())
            .await
            .map_err(CommandError::unavailable)?;
        let account_id = AccountId::from_uuid(Uuid::now_v7());
        tracing::Span::current().record("account_id", tracing::field::display(account_id));
        let owner = account_id.as_uuid();

        let email_claim = self
            .keys
            .claim_id(ClaimKind::Email, registration.email.as_str());
        let username_claim = self
            .keys
            .claim_id(ClaimKind::Username, &registration.username.normalized());

        self.reserve(&email_claim, owner, metadata, RegistrationError::EmailTaken)
            .await?;
        if let Err(error) = self
            .reserve(
                &username_claim,
                owner,
                metadata,
                RegistrationError::UsernameTaken,
            )
            .await
        {
            self.release(&email_claim, owner, metadata).await;
            return Err(error);
        }

        let now = self.clock.now();
        let register = AccountCommand::Register {
            account_id,
            email: registration.email,
            username: registration.username,
            password_hash,
            verification: self
                .tokens
                .issue(TokenPurpose::Verification, VERIFICATION_TTL, now),
            now,
        };
        if let Err(error) = self
            .accounts
            .execute(&account_id.to_string(), register, metadata)
            .await
        {
            self.release(&email_claim, owner, metadata).await;
            self.release(&username_claim, owner, metadata).await;
            return Err(error.map_rejection(|_| RegistrationError::AlreadyRegistered));
        }

        for claim in [&email_claim, &username_claim] {
            self.claims
                .execute(claim, ClaimCommand::Confirm { owner }, metadata)
                .await
                .map_err(|e| e.map_rejection(|_| RegistrationError::AlreadyRegistered))?;
        }
        Ok(account_id)
    }

    async fn reserve(
        &self,
        claim_id: &str,
        owner: Uuid,
        metadata: &Metadata,
        taken: RegistrationError,
    ) -> Result<(), CommandError<RegistrationError>> {
        let now = self.clock.now();
        let claim = self
            .claims
            .load(claim_id)
            .await
            .map_err(|e| e.map_rejection(|_| taken.clone()))?;
        if let ClaimState::Reserved { owner: holder, at } = claim.state() {
            let lapsed = now - at >= domain::claim::RESERVATION_TTL;
            if holder != owner && lapsed && self.is_registered(holder).await? {
                // The holder's registration finished but never confirmed.
                self.claims
                    .execute(claim_id, ClaimCommand::Confirm { owner: holder }, metadata)
                    .await
                    .map_err(|e| e.map_rejection(|_| taken.clone()))?;
                return Err(CommandError::Rejected(taken));
            }
        }
        self.claims
            .execute(claim_id, ClaimCommand::Reserve { owner, now }, metadata)
            .await
            .map_err(|error| match error {
                CommandError::Rejected(ClaimError::Taken) => CommandError::Rejected(taken.clone()),
                // A race lost more often than the retries allow: someone is
                // registering this very value right now.
                CommandError::Conflict => CommandError::Rejected(taken.clone()),
                other => other.map_rejection(|_| taken.clone()),
            })
    }

    /// Best effort: a reservation that cannot be released lapses on its own.
    async fn release(&self, claim_id: &str, owner: Uuid, metadata: &Metadata) {
        if let Err(error) = self
            .claims
            .execute(claim_id, ClaimCommand::Release { owner }, metadata)
            .await
        {
            tracing::warn!(claim_id, %error, "could not release a claim; it will lapse");
        }
    }

    pub(super) async fn is_registered(
        &self,
        account: Uuid,
    ) -> Result<bool, CommandError<RegistrationError>> {
        Ok(self
            .accounts
            .load(&account.to_string())
            .await
            .map_err(|e| e.map_rejection(|_| RegistrationError::AlreadyRegistered))?
            .is_registered())
    }
}
