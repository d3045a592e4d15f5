//! The portfolio aggregate: one per portfolio, owned by one user. It holds
//! the portfolio's money (initial balance, deposits, withdrawals), its
//! trades and their journal entries, so every rule that needs the balance
//! (sizing a trade from risk, refusing a withdrawal) is decided on the
//! aggregate's own history. There is no stored balance: it is derived from
//! events ([`Portfolio::balance`]): initial + deposits − withdrawals + the
//! P&L of closed trades that were not discarded.
//!
//! Every command carries `by`, the acting user; a portfolio that does not
//! exist and one owned by someone else answer the same
//! [`PortfolioError::NotFound`]. Trades and journal entries are addressed
//! inside their portfolio, so another user's trade id is simply unknown.
//!
//! Money and quantities are [`rust_decimal::Decimal`]; arithmetic is
//! checked (an overflow is a validation error, never a panic).

mod aggregate;
mod command;
mod error;
mod event;
mod trade;
mod values;

#[cfg(test)]
mod tests;

pub use aggregate::{JournalEntryState, Portfolio, TradeState, check_new_portfolio};
pub use command::{PortfolioCommand, Sizing};
pub use error::PortfolioError;
pub use event::PortfolioEvent;
pub use trade::{TradeEdit, TradeOutcome, TradePlan, outcome, position_size};
pub use values::{
    JournalKind, Mood, Side, TradeSource, TradeStatus, check_currency, check_money, check_text,
};

/// At most this many characters in a portfolio name (and at least one).
pub const NAME_MAX_CHARS: usize = 100;
/// At most this many characters in a portfolio description.
pub const DESCRIPTION_MAX_CHARS: usize = 500;
/// Setup and exit notes.
pub const NOTES_MAX_CHARS: usize = 2_000;
/// A journal entry's content (and at least one character).
pub const JOURNAL_MAX_CHARS: usize = 5_000;
/// A close reason or a deposit note.
pub const REASON_MAX_CHARS: usize = 200;
/// Upper bound of every price, quantity, fee and amount (the original's 1e9).
pub const MAX_AMOUNT: i64 = 1_000_000_000;
/// Sized quantities are rounded down to this many decimal places.
pub const QUANTITY_DECIMALS: u32 = 8;
