//! Admin actions on an account, and recording ended sessions.

use domain::account::{AccountCommand, AccountError, AccountId, AdminAction, RevocationReason};

use super::AccountService;
use crate::store::EventStores;
use crate::{CommandError, Metadata};

impl<S: EventStores> AccountService<S> {
    /// Applies `action` to `target` on behalf of admin `by` (`None`: the
    /// command line). Returns whether anything changed.
    #[tracing::instrument(skip_all, fields(%target, ?action))]
    pub async fn administer(
        &self,
        target: AccountId,
        action: AdminAction,
        by: Option<AccountId>,
        metadata: &Metadata,
    ) -> Result<bool, CommandError<AccountError>> {
        self.load_account(target).await?;
        let events = self
            .accounts
            .execute_returning(
                &target.to_string(),
                AccountCommand::Administer {
                    action,
                    by,
                    now: self.clock.now(),
                },
                metadata,
            )
            .await?;
        Ok(!events.is_empty())
    }

    pub async fn record_sessions_revoked(
        &self,
        account_id: AccountId,
        reason: RevocationReason,
        sessions: u32,
        metadata: &Metadata,
    ) -> Result<(), CommandError<AccountError>> {
        self.accounts
            .execute(
                &account_id.to_string(),
                AccountCommand::RecordSessionsRevoked {
                    reason,
                    sessions,
                    now: self.clock.now(),
                },
                metadata,
            )
            .await
    }
}
