//! The rows of the portfolio read models.

use rust_decimal::Decimal;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortfolioRow {
    pub portfolio_id: Uuid,
    pub owner_id: Uuid,
    pub name: String,
    pub description: String,
    pub currency: String,
    pub initial_balance: Decimal,
    /// Deposits minus withdrawals.
    pub net_funding: Decimal,
    pub archived: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TradeRow {
    pub trade_id: Uuid,
    pub portfolio_id: Uuid,
    pub owner_id: Uuid,
    pub symbol: String,
    pub side: String,
    pub timeframe: Option<String>,
    pub pattern_type: Option<String>,
    /// `manual`, `pattern` or `signal`.
    pub source_kind: String,
    pub source_id: Option<Uuid>,
    pub status: String,
    pub entry_price: Decimal,
    pub quantity: Decimal,
    pub stop_loss: Option<Decimal>,
    pub take_profit: Option<Decimal>,
    pub fees: Decimal,
    pub risk_percent: Option<Decimal>,
    pub setup_notes: String,
    pub exit_price: Option<Decimal>,
    pub exit_fees: Option<Decimal>,
    pub exit_reason: Option<String>,
    pub closed_at_market: bool,
    pub pnl: Option<Decimal>,
    pub pnl_percent: Option<Decimal>,
    pub r_multiple: Option<Decimal>,
    #[serde(with = "time::serde::rfc3339")]
    pub placed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub opened_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagRow {
    pub tag_id: Uuid,
    pub owner_id: Uuid,
    pub name: String,
    pub colour: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalRow {
    pub entry_id: Uuid,
    pub trade_id: Uuid,
    pub portfolio_id: Uuid,
    pub owner_id: Uuid,
    pub kind: String,
    pub content: String,
    pub mood: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}
