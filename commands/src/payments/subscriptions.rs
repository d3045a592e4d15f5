//! Subscription use cases: admin grant, extend and cancel (the admin is the
//! actor in the metadata), and crediting or revoking payments (the payment
//! reactor). The aggregate id is the account id.

use std::sync::Arc;

use domain::billing::subscription::{
    RevocationReason, Subscription, SubscriptionCommand, SubscriptionError, SubscriptionEvent,
};
use domain::billing::{BillingCycle, Plan, PlanChoice};
use uuid::Uuid;

use crate::ports::Clock;
use crate::store::{CommitObserver, EventStores, Repository};
use crate::{CommandError, Metadata};

pub struct SubscriptionService<S: EventStores> {
    subscriptions: Repository<Subscription, S>,
    clock: Arc<dyn Clock>,
}

impl<S: EventStores> SubscriptionService<S> {
    pub fn new(
        stores: &S,
        observer: Option<Arc<dyn CommitObserver>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            subscriptions: Repository::new(stores, observer),
            clock,
        }
    }

    pub async fn load(
        &self,
        account: Uuid,
    ) -> Result<Subscription, CommandError<SubscriptionError>> {
        self.subscriptions.load(&account.to_string()).await
    }

    /// An admin grants `plan` for `days` (renewing from the current end when
    /// the same plan still runs, otherwise a new period with the unused
    /// time of the old plan converted).
    #[tracing::instrument(skip_all, fields(%account, days))]
    pub async fn grant(
        &self,
        account: Uuid,
        plan: Plan,
        cycle: BillingCycle,
        days: u32,
        metadata: &Metadata,
    ) -> Result<Vec<SubscriptionEvent>, CommandError<SubscriptionError>> {
        let now = self.clock.now();
        let choice = PlanChoice { plan, cycle };
        self.subscriptions
            .execute_returning(
                &account.to_string(),
                SubscriptionCommand::Grant { choice, days, now },
                metadata,
            )
            .await
    }

    /// An admin adds `days` to the current plan (from its current end).
    #[tracing::instrument(skip_all, fields(%account, days))]
    pub async fn extend(
        &self,
        account: Uuid,
        days: u32,
        metadata: &Metadata,
    ) -> Result<Vec<SubscriptionEvent>, CommandError<SubscriptionError>> {
        let current = self.load(account).await?;
        let choice = current
            .choice()
            .ok_or(CommandError::Rejected(SubscriptionError::NoSubscription))?;
        self.grant(account, choice.plan, choice.cycle, days, metadata)
            .await
    }

    /// Cancels at the period end (the user, an admin or the provider).
    #[tracing::instrument(skip_all, fields(%account))]
    pub async fn cancel(
        &self,
        account: Uuid,
        metadata: &Metadata,
    ) -> Result<Vec<SubscriptionEvent>, CommandError<SubscriptionError>> {
        let now = self.clock.now();
        self.subscriptions
            .execute_returning(
                &account.to_string(),
                SubscriptionCommand::Cancel { now },
                metadata,
            )
            .await
    }

    /// A completed payment (`payment_ref` = `provider:payment id`); crediting
    /// the same payment twice changes nothing.
    pub async fn credit(
        &self,
        account: Uuid,
        choice: PlanChoice,
        payment_ref: String,
        now: time::OffsetDateTime,
        metadata: &Metadata,
    ) -> Result<Vec<SubscriptionEvent>, CommandError<SubscriptionError>> {
        self.subscriptions
            .execute_returning(
                &account.to_string(),
                SubscriptionCommand::CreditPayment {
                    choice,
                    payment_ref,
                    now,
                },
                metadata,
            )
            .await
    }

    /// A credited payment was refunded or charged back.
    pub async fn revoke(
        &self,
        account: Uuid,
        payment_ref: String,
        reason: RevocationReason,
        now: time::OffsetDateTime,
        metadata: &Metadata,
    ) -> Result<Vec<SubscriptionEvent>, CommandError<SubscriptionError>> {
        self.subscriptions
            .execute_returning(
                &account.to_string(),
                SubscriptionCommand::Revoke {
                    payment_ref,
                    reason,
                    now,
                },
                metadata,
            )
            .await
    }

    /// The scheduled job for one subscription: the warning (recorded once
    /// per period end) and the expiry. Returns what was decided.
    pub async fn run_expiry(
        &self,
        account: Uuid,
        metadata: &Metadata,
    ) -> Result<Vec<SubscriptionEvent>, CommandError<SubscriptionError>> {
        let now = self.clock.now();
        let id = account.to_string();
        let mut decided = self
            .subscriptions
            .execute_returning(
                &id,
                SubscriptionCommand::RecordExpiryWarning { now },
                metadata,
            )
            .await?;
        decided.extend(
            self.subscriptions
                .execute_returning(&id, SubscriptionCommand::Expire { now }, metadata)
                .await?,
        );
        Ok(decided)
    }
}
