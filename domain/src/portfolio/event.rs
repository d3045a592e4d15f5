//! What happened to a portfolio. Variant names are the frozen `event_type`s.

use cqrs_es::DomainEvent;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::trade::{TradeEdit, TradeOutcome, TradePlan};
use super::values::{JournalKind, Mood, TradeStatus};
use crate::FIRST_EVENT_VERSION;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PortfolioEvent {
    PortfolioCreated {
        portfolio_id: Uuid,
        owner: Uuid,
        name: String,
        currency: String,
        initial_balance: Decimal,
        description: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    PortfolioRenamed {
        name: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    PortfolioDescribed {
        description: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    PortfolioArchived {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    PortfolioRestored {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    FundsDeposited {
        amount: Decimal,
        note: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    FundsWithdrawn {
        amount: Decimal,
        note: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A new trade; `status` is pending or open. `balance_at_placement` is
    /// the balance the quantity was sized on (when `sized_from_risk`).
    TradePlaced {
        trade_id: Uuid,
        plan: TradePlan,
        status: TradeStatus,
        sized_from_risk: bool,
        balance_at_placement: Decimal,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    TradeOpened {
        trade_id: Uuid,
        entry: Decimal,
        quantity: Decimal,
        fees: Decimal,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Only the changed fields; `outcome` is the recomputed result when the
    /// trade is closed.
    TradeEdited {
        trade_id: Uuid,
        changes: TradeEdit,
        outcome: Option<TradeOutcome>,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    TradeClosed {
        trade_id: Uuid,
        exit_price: Decimal,
        exit_fees: Decimal,
        reason: String,
        at_market: bool,
        outcome: TradeOutcome,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    TradeCancelled {
        trade_id: Uuid,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    TradeDiscarded {
        trade_id: Uuid,
        previous_status: TradeStatus,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    TradeTagAttached {
        trade_id: Uuid,
        tag_id: Uuid,
    },
    TradeTagDetached {
        trade_id: Uuid,
        tag_id: Uuid,
    },
    JournalEntryAdded {
        trade_id: Uuid,
        entry_id: Uuid,
        kind: JournalKind,
        content: String,
        mood: Option<Mood>,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// The entry's full new value.
    JournalEntryEdited {
        trade_id: Uuid,
        entry_id: Uuid,
        kind: JournalKind,
        content: String,
        mood: Option<Mood>,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    JournalEntryDeleted {
        trade_id: Uuid,
        entry_id: Uuid,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl PortfolioEvent {
    pub const CREATED: &'static str = "PortfolioCreated";
    pub const RENAMED: &'static str = "PortfolioRenamed";
    pub const DESCRIBED: &'static str = "PortfolioDescribed";
    pub const ARCHIVED: &'static str = "PortfolioArchived";
    pub const RESTORED: &'static str = "PortfolioRestored";
    pub const DEPOSITED: &'static str = "FundsDeposited";
    pub const WITHDRAWN: &'static str = "FundsWithdrawn";
    pub const TRADE_PLACED: &'static str = "TradePlaced";
    pub const TRADE_OPENED: &'static str = "TradeOpened";
    pub const TRADE_EDITED: &'static str = "TradeEdited";
    pub const TRADE_CLOSED: &'static str = "TradeClosed";
    pub const TRADE_CANCELLED: &'static str = "TradeCancelled";
    pub const TRADE_DISCARDED: &'static str = "TradeDiscarded";
    pub const TAG_ATTACHED: &'static str = "TradeTagAttached";
    pub const TAG_DETACHED: &'static str = "TradeTagDetached";
    pub const JOURNAL_ADDED: &'static str = "JournalEntryAdded";
    pub const JOURNAL_EDITED: &'static str = "JournalEntryEdited";
    pub const JOURNAL_DELETED: &'static str = "JournalEntryDeleted";

    pub const ALL_TYPES: [&'static str; 18] = [
        Self::CREATED,
        Self::RENAMED,
        Self::DESCRIBED,
        Self::ARCHIVED,
        Self::RESTORED,
        Self::DEPOSITED,
        Self::WITHDRAWN,
        Self::TRADE_PLACED,
        Self::TRADE_OPENED,
        Self::TRADE_EDITED,
        Self::TRADE_CLOSED,
        Self::TRADE_CANCELLED,
        Self::TRADE_DISCARDED,
        Self::TAG_ATTACHED,
        Self::TAG_DETACHED,
        Self::JOURNAL_ADDED,
        Self::JOURNAL_EDITED,
        Self::JOURNAL_DELETED,
    ];
}

impl DomainEvent for PortfolioEvent {
    fn event_type(&self) -> String {
        match self {
            Self::PortfolioCreated { .. } => Self::CREATED,
            Self::PortfolioRenamed { .. } => Self::RENAMED,
            Self::PortfolioDescribed { .. } => Self::DESCRIBED,
            Self::PortfolioArchived { .. } => Self::ARCHIVED,
            Self::PortfolioRestored { .. } => Self::RESTORED,
            Self::FundsDeposited { .. } => Self::DEPOSITED,
            Self::FundsWithdrawn { .. } => Self::WITHDRAWN,
            Self::TradePlaced { .. } => Self::TRADE_PLACED,
            Self::TradeOpened { .. } => Self::TRADE_OPENED,
            Self::TradeEdited { .. } => Self::TRADE_EDITED,
            Self::TradeClosed { .. } => Self::TRADE_CLOSED,
            Self::TradeCancelled { .. } => Self::TRADE_CANCELLED,
            Self::TradeDiscarded { .. } => Self::TRADE_DISCARDED,
            Self::TradeTagAttached { .. } => Self::TAG_ATTACHED,
            Self::TradeTagDetached { .. } => Self::TAG_DETACHED,
            Self::JournalEntryAdded { .. } => Self::JOURNAL_ADDED,
            Self::JournalEntryEdited { .. } => Self::JOURNAL_EDITED,
            Self::JournalEntryDeleted { .. } => Self::JOURNAL_DELETED,
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}
