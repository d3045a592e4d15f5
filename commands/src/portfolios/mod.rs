//! Portfolio use cases: portfolios, trades, tags and the journal, with
//! the owner checked on every path and the tier's allowances enforced.
//!
//! * Ownership: every portfolio command names the acting user and the
//!   aggregate answers "not found" for anyone but the owner; tags live in
//!   the user's own tag set. Another user's ids are indistinguishable from
//!   ids that do not exist ([`CommandError::NotFound`]), and nothing is
//!   appended.
//! * Tiers: every write needs a tier with portfolios (PRODUCT §1); the
//!   limits come from [`domain::billing::Tier::policy`] and are counted on
//!   the user's [`TradingAllowance`] aggregate (see `domain::allowance`
//!   for the rules: archiving frees a slot, restoring needs one; a trade
//!   counts on the UTC day it opens). Input is checked before a slot is
//!   taken, so a refused request appends nothing; a slot taken for a
//!   command that then fails anyway is released again.

mod manage;
pub mod ports;
mod tags;
mod trades;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use domain::account::FieldError;
use domain::allowance::{AllowanceError, TradingAllowance};
use domain::billing::TierPolicy;
use domain::portfolio::{Portfolio, PortfolioCommand, PortfolioError};
use domain::tag::{TagError, TagSet};
use uuid::Uuid;

pub use manage::NewPortfolio;
pub use ports::{FakeTiers, FakeTradingMarket, TierSource, TradeSetup, TradingMarket};
pub use trades::{ClosePrice, FromSource, NewTrade};

use crate::ports::Clock;
use crate::store::{CommitObserver, EventStores, Repository};
use crate::{CommandError, Metadata};

/// Why a portfolio request was refused (beyond "not found").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortfolioRejection {
    /// Bad input, field by field (422).
    #[error("some fields are invalid")]
    Invalid(Vec<FieldError>),
    /// Refused in the current state (409).
    #[error(transparent)]
    Portfolio(PortfolioError),
    #[error(transparent)]
    Tag(TagError),
    /// The tier does not allow it (403).
    #[error(transparent)]
    Allowance(AllowanceError),
}

pub type PortfolioResult<T> = Result<T, CommandError<PortfolioRejection>>;

fn invalid(field: &'static str, message: impl Into<String>) -> CommandError<PortfolioRejection> {
    CommandError::Rejected(PortfolioRejection::Invalid(vec![FieldError {
        field,
        message: message.into(),
    }]))
}

fn from_portfolio(error: CommandError<PortfolioError>) -> CommandError<PortfolioRejection> {
    match error {
        CommandError::Rejected(
            PortfolioError::NotFound
            | PortfolioError::TradeNotFound
            | PortfolioError::JournalEntryNotFound,
        ) => CommandError::NotFound,
        CommandError::Rejected(PortfolioError::Invalid(fields)) => {
            CommandError::Rejected(PortfolioRejection::Invalid(fields))
        }
        other => other.map_rejection(PortfolioRejection::Portfolio),
    }
}

fn from_tag(error: CommandError<TagError>) -> CommandError<PortfolioRejection> {
    match error {
        CommandError::Rejected(TagError::NotFound) => CommandError::NotFound,
        CommandError::Rejected(TagError::Invalid(fields)) => {
            CommandError::Rejected(PortfolioRejection::Invalid(fields))
        }
        other => other.map_rejection(PortfolioRejection::Tag),
    }
}

fn from_allowance(error: CommandError<AllowanceError>) -> CommandError<PortfolioRejection> {
    error.map_rejection(PortfolioRejection::Allowance)
}

fn unavailable(error: crate::ports::PortError) -> CommandError<PortfolioRejection> {
    CommandError::Unavailable(error)
}

pub struct PortfolioService<S: EventStores> {
    portfolios: Repository<Portfolio, S>,
    tags: Repository<TagSet, S>,
    allowances: Repository<TradingAllowance, S>,
    tiers: Arc<dyn TierSource>,
    market: Arc<dyn TradingMarket>,
    clock: Arc<dyn Clock>,
}

impl<S: EventStores> PortfolioService<S> {
    pub fn new(
        stores: &S,
        observer: Option<Arc<dyn CommitObserver>>,
        tiers: Arc<dyn TierSource>,
        market: Arc<dyn TradingMarket>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            portfolios: Repository::new(stores, observer.clone()),
            tags: Repository::new(stores, observer.clone()),
            allowances: Repository::new(stores, observer),
            tiers,
            market,
            clock,
        }
    }

    /// The user's tier policy, refusing users whose tier has no portfolios.
    async fn policy(&self, user: Uuid) -> PortfolioResult<&'static TierPolicy> {
        let tier = self.tiers.tier(user).await.map_err(unavailable)?;
        let policy = tier.policy();
        if policy.portfolios.is_allowed() {
            Ok(policy)
        } else {
            Err(CommandError::Rejected(PortfolioRejection::Allowance(
                AllowanceError::PortfoliosNotIncluded,
            )))
        }
    }

    /// A portfolio's state, if `user` owns it.
    pub async fn portfolio(&self, user: Uuid, portfolio_id: Uuid) -> PortfolioResult<Portfolio> {
        let portfolio = self
            .portfolios
            .load(&portfolio_id.to_string())
            .await
            .map_err(from_portfolio)?;
        if portfolio.owner() == Some(user) {
            Ok(portfolio)
        } else {
            Err(CommandError::NotFound)
        }
    }

    /// Runs a command on an owned portfolio (the tier must include portfolios).
    async fn run(
        &self,
        portfolio_id: Uuid,
        command: PortfolioCommand,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        self.policy(command.actor()).await?;
        self.portfolios
            .execute(&portfolio_id.to_string(), command, metadata)
            .await
            .map_err(from_portfolio)
    }
}
