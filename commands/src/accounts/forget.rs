//! Forget an account's personal data (crypto-shredding).
//!
//! Records `PersonalDataForgotten`, releases the email and username claims
//! (so the address can register again), deletes the TOTP secret and, last,
//! the personal-data key: every email, username and client address sealed
//! in the account's events becomes unreadable, while the events stay. Safe
//! to run again after a crash part-way.

use domain::account::{AccountCommand, AccountError, AccountId};
use domain::claim::{ClaimCommand, ClaimKind};

use super::AccountService;
use crate::store::EventStores;
use crate::{CommandError, Metadata};

impl<S: EventStores> AccountService<S> {
    #[tracing::instrument(skip_all, fields(%account_id))]
    pub async fn forget(
        &self,
        account_id: AccountId,
        metadata: &Metadata,
    ) -> Result<(), CommandError<AccountError>> {
        let account = self.load_account(account_id).await?;
        let owner = account_id.as_uuid();
        // No address in what is recorded about forgetting.
        let metadata = Metadata {
            client_ip: None,
            ..metadata.clone()
        };
        if let Some((email, username)) = account.sealed_identity() {
            let email = self
                .open_personal(account_id, email)
                .await
                .map_err(CommandError::Unavailable)?;
            let username = self
                .open_personal(account_id, username)
                .await
                .map_err(CommandError::Unavailable)?;
            let claims = [
                email.map(|e| self.keys.claim_id(ClaimKind::Email, &e)),
                username.map(|u| {
                    self.keys
                        .claim_id(ClaimKind::Username, &u.to_ascii_lowercase())
                }),
            ];
            for claim in claims.iter().flatten() {
                self.claims
                    .execute(claim, ClaimCommand::Release { owner }, &metadata)
                    .await
                    .map_err(|e| e.map_rejection(|_| AccountError::Forgotten))?;
            }
        }
        if !account.is_forgotten() {
            self.accounts
                .execute(
                    &account_id.to_string(),
                    AccountCommand::Forget {
                        now: self.clock.now(),
                    },
                    &metadata,
                )
                .await?;
        }
        self.totp_secrets
            .delete(owner)
            .await
            .map_err(CommandError::Unavailable)?;
        self.personal_data
            .forget(owner)
            .await
            .map_err(CommandError::Unavailable)?;
        Ok(())
    }
}
