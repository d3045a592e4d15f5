//! The `portfolios` projection: portfolios, trades, tags, trade tags and
//! journal entries as rows, and the trade analytics computed from those
//! rows ([`analytics`]).
//!
//! A batch is applied in three steps, the same in PostgreSQL and in the
//! property test: the adapter loads the rows the batch touches
//! ([`Touched`]), [`fold`] applies the events to them in order, and the
//! adapter writes the resulting [`Changes`] back set-based (upserts, then
//! deletions). Every column comes from events (times are the events'
//! `at`), so a rebuild reproduces the rows exactly.
//!
//! Balances are not stored: a portfolio's balance is its initial balance
//! plus net funding plus the P&L of its closed trades, summed on read.

pub mod analytics;
mod fold;
mod rows;

#[cfg(test)]
mod tests;

pub use analytics::{Analytics, AnalyticsFilter, EquityPoint, StatusCounts, analytics};
pub use fold::{Changes, Model, Touched, fold, touched};
pub use rows::{JournalRow, PortfolioRow, TagRow, TradeRow};

use domain::portfolio::PortfolioEvent;
use domain::tag::TagEvent;

pub const NAME: &str = "portfolios";
pub const PORTFOLIOS_TABLE: &str = "portfolios_view";
pub const TRADES_TABLE: &str = "portfolio_trades_view";
pub const TAGS_TABLE: &str = "trade_tags_view";
pub const TRADE_TAGS_TABLE: &str = "trade_tag_links_view";
pub const JOURNAL_TABLE: &str = "trade_journal_view";

/// The aggregate types this projection reads.
pub const PORTFOLIO_AGGREGATE: &str = "portfolio";
pub const TAG_AGGREGATE: &str = "tag_set";

pub const EVENT_TYPES: &[&str] = &[
    PortfolioEvent::CREATED,
    PortfolioEvent::RENAMED,
    PortfolioEvent::DESCRIBED,
    PortfolioEvent::ARCHIVED,
    PortfolioEvent::RESTORED,
    PortfolioEvent::DEPOSITED,
    PortfolioEvent::WITHDRAWN,
    PortfolioEvent::TRADE_PLACED,
    PortfolioEvent::TRADE_OPENED,
    PortfolioEvent::TRADE_EDITED,
    PortfolioEvent::TRADE_CLOSED,
    PortfolioEvent::TRADE_CANCELLED,
    PortfolioEvent::TRADE_DISCARDED,
    PortfolioEvent::TAG_ATTACHED,
    PortfolioEvent::TAG_DETACHED,
    PortfolioEvent::JOURNAL_ADDED,
    PortfolioEvent::JOURNAL_EDITED,
    PortfolioEvent::JOURNAL_DELETED,
    TagEvent::CREATED,
    TagEvent::RENAMED,
    TagEvent::RECOLOURED,
    TagEvent::DELETED,
];
