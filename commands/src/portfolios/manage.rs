//! Creating, renaming, describing, archiving and restoring a portfolio,
//! and moving money in and out.

use domain::allowance::AllowanceCommand;
use domain::portfolio::{PortfolioCommand, check_new_portfolio};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{PortfolioResult, PortfolioService, from_allowance, from_portfolio};
use crate::Metadata;
use crate::store::EventStores;

#[derive(Debug, Clone, PartialEq)]
pub struct NewPortfolio {
    pub name: String,
    pub currency: String,
    pub initial_balance: Decimal,
    pub description: String,
}

impl<S: EventStores> PortfolioService<S> {
    /// Creates a portfolio, taking one of the tier's active-portfolio slots.
    #[tracing::instrument(skip_all, fields(%user))]
    pub async fn create_portfolio(
        &self,
        user: Uuid,
        input: NewPortfolio,
        metadata: &Metadata,
    ) -> PortfolioResult<Uuid> {
        let policy = self.policy(user).await?;
        check_new_portfolio(
            &input.name,
            &input.currency,
            input.initial_balance,
            &input.description,
        )
        .map_err(|e| from_portfolio(crate::CommandError::Rejected(e)))?;
        let portfolio_id = Uuid::now_v7();
        self.allowances
            .execute(
                &user.to_string(),
                AllowanceCommand::TakePortfolioSlot {
                    portfolio_id,
                    limit: policy.portfolios,
                },
                metadata,
            )
            .await
            .map_err(from_allowance)?;
        let created = self
            .portfolios
            .create(
                &portfolio_id.to_string(),
                PortfolioCommand::Create {
                    portfolio_id,
                    owner: user,
                    name: input.name,
                    currency: input.currency,
                    initial_balance: input.initial_balance,
                    description: input.description,
                    now: self.clock.now(),
                },
                metadata,
            )
            .await
            .map_err(from_portfolio);
        if let Err(error) = created {
            self.release_portfolio_slot(user, portfolio_id, metadata)
                .await;
            return Err(error);
        }
        Ok(portfolio_id)
    }

    async fn release_portfolio_slot(&self, user: Uuid, portfolio_id: Uuid, metadata: &Metadata) {
        if let Err(error) = self
            .allowances
            .execute(
                &user.to_string(),
                AllowanceCommand::ReleasePortfolioSlot { portfolio_id },
                metadata,
            )
            .await
        {
            tracing::warn!(%error, %portfolio_id, "could not release a portfolio slot");
        }
    }

    pub async fn rename_portfolio(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        name: String,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        let now = self.clock.now();
        let command = PortfolioCommand::Rename {
            by: user,
            name,
            now,
        };
        self.run(portfolio_id, command, metadata).await
    }

    pub async fn describe_portfolio(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        description: String,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        let now = self.clock.now();
        let command = PortfolioCommand::Describe {
            by: user,
            description,
            now,
        };
        self.run(portfolio_id, command, metadata).await
    }

    /// Archives, then gives the portfolio's slot back.
    #[tracing::instrument(skip_all, fields(%user, %portfolio_id))]
    pub async fn archive_portfolio(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        let now = self.clock.now();
        self.run(
            portfolio_id,
            PortfolioCommand::Archive { by: user, now },
            metadata,
        )
        .await?;
        self.allowances
            .execute(
                &user.to_string(),
                AllowanceCommand::ReleasePortfolioSlot { portfolio_id },
                metadata,
            )
            .await
            .map_err(from_allowance)
    }

    /// Takes a slot (refused at the tier's limit), then restores.
    #[tracing::instrument(skip_all, fields(%user, %portfolio_id))]
    pub async fn restore_portfolio(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        let policy = self.policy(user).await?;
        let portfolio = self.portfolio(user, portfolio_id).await?;
        let now = self.clock.now();
        let command = PortfolioCommand::Restore { by: user, now };
        if !portfolio.is_archived() {
            // Let the aggregate say why, without taking a slot.
            return self.run(portfolio_id, command, metadata).await;
        }
        self.allowances
            .execute(
                &user.to_string(),
                AllowanceCommand::TakePortfolioSlot {
                    portfolio_id,
                    limit: policy.portfolios,
                },
                metadata,
            )
            .await
            .map_err(from_allowance)?;
        let restored = self.run(portfolio_id, command, metadata).await;
        if restored.is_err() {
            self.release_portfolio_slot(user, portfolio_id, metadata)
                .await;
        }
        restored
    }

    pub async fn deposit(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        amount: Decimal,
        note: String,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        let now = self.clock.now();
        let command = PortfolioCommand::Deposit {
            by: user,
            amount,
            note,
            now,
        };
        self.run(portfolio_id, command, metadata).await
    }

    pub async fn withdraw(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        amount: Decimal,
        note: String,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        let now = self.clock.now();
        let command = PortfolioCommand::Withdraw {
            by: user,
            amount,
            note,
            now,
        };
        self.run(portfolio_id, command, metadata).await
    }
}
