//! What can be asked of a portfolio. Every command names the acting user
//! (`by`) and carries the time (`now`); the aggregate checks ownership.

use rust_decimal::Decimal;
use time::OffsetDateTime;
use uuid::Uuid;

use super::trade::{TradeEdit, TradePlan};
use super::values::{JournalKind, Mood};

/// How a new trade's quantity is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sizing {
    /// The plan's quantity as given.
    Given,
    /// (balance × risk %) / |entry − stop| on the balance at this moment;
    /// the plan must carry a stop and a risk percentage.
    FromRisk,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PortfolioCommand {
    Create {
        portfolio_id: Uuid,
        owner: Uuid,
        name: String,
        currency: String,
        initial_balance: Decimal,
        description: String,
        now: OffsetDateTime,
    },
    Rename {
        by: Uuid,
        name: String,
        now: OffsetDateTime,
    },
    Describe {
        by: Uuid,
        description: String,
        now: OffsetDateTime,
    },
    /// Refused while a trade is pending or open.
    Archive {
        by: Uuid,
        now: OffsetDateTime,
    },
    Restore {
        by: Uuid,
        now: OffsetDateTime,
    },
    Deposit {
        by: Uuid,
        amount: Decimal,
        note: String,
        now: OffsetDateTime,
    },
    /// Refused beyond the current balance.
    Withdraw {
        by: Uuid,
        amount: Decimal,
        note: String,
        now: OffsetDateTime,
    },
    /// A new trade, pending (planned) or open (already filled at the entry).
    PlaceTrade {
        by: Uuid,
        trade_id: Uuid,
        plan: TradePlan,
        sizing: Sizing,
        open: bool,
        now: OffsetDateTime,
    },
    /// pending → open with the confirmed fill (price, and quantity and fees
    /// when they differ from the plan).
    OpenTrade {
        by: Uuid,
        trade_id: Uuid,
        fill_price: Decimal,
        quantity: Option<Decimal>,
        fees: Option<Decimal>,
        now: OffsetDateTime,
    },
    EditTrade {
        by: Uuid,
        trade_id: Uuid,
        edit: TradeEdit,
        now: OffsetDateTime,
    },
    /// open → closed at `price`; `at_market` records that the price was the
    /// latest close rather than one the user typed.
    CloseTrade {
        by: Uuid,
        trade_id: Uuid,
        price: Decimal,
        fees: Decimal,
        reason: String,
        at_market: bool,
        now: OffsetDateTime,
    },
    /// pending → cancelled.
    CancelTrade {
        by: Uuid,
        trade_id: Uuid,
        now: OffsetDateTime,
    },
    /// Any status → discarded: kept in the history, out of the balance.
    DiscardTrade {
        by: Uuid,
        trade_id: Uuid,
        now: OffsetDateTime,
    },
    /// The tag must be one of `by`'s tags (checked by the use case).
    AttachTag {
        by: Uuid,
        trade_id: Uuid,
        tag_id: Uuid,
    },
    DetachTag {
        by: Uuid,
        trade_id: Uuid,
        tag_id: Uuid,
    },
    AddJournalEntry {
        by: Uuid,
        trade_id: Uuid,
        entry_id: Uuid,
        kind: JournalKind,
        content: String,
        mood: Option<Mood>,
        now: OffsetDateTime,
    },
    EditJournalEntry {
        by: Uuid,
        trade_id: Uuid,
        entry_id: Uuid,
        kind: JournalKind,
        content: String,
        mood: Option<Mood>,
        now: OffsetDateTime,
    },
    DeleteJournalEntry {
        by: Uuid,
        trade_id: Uuid,
        entry_id: Uuid,
        now: OffsetDateTime,
    },
}

impl PortfolioCommand {
    /// The acting user.
    pub fn actor(&self) -> Uuid {
        match self {
            Self::Create { owner, .. } => *owner,
            Self::Rename { by, .. }
            | Self::Describe { by, .. }
            | Self::Archive { by, .. }
            | Self::Restore { by, .. }
            | Self::Deposit { by, .. }
            | Self::Withdraw { by, .. }
            | Self::PlaceTrade { by, .. }
            | Self::OpenTrade { by, .. }
            | Self::EditTrade { by, .. }
            | Self::CloseTrade { by, .. }
            | Self::CancelTrade { by, .. }
            | Self::DiscardTrade { by, .. }
            | Self::AttachTag { by, .. }
            | Self::DetachTag { by, .. }
            | Self::AddJournalEntry { by, .. }
            | Self::EditJournalEntry { by, .. }
            | Self::DeleteJournalEntry { by, .. } => *by,
        }
    }
}
