//! Why a portfolio command was refused.

use crate::account::FieldError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortfolioError {
    /// No such portfolio, or not the caller's: the same answer for both.
    #[error("no such portfolio")]
    NotFound,
    #[error("no such trade in this portfolio")]
    TradeNotFound,
    #[error("no such journal entry on this trade")]
    JournalEntryNotFound,
    /// Bad input, field by field (also: closing a trade that is not open).
    #[error("invalid input: {}", .0.iter().map(|f| f.field).collect::<Vec<_>>().join(", "))]
    Invalid(Vec<FieldError>),
    #[error("the portfolio already exists")]
    AlreadyExists,
    #[error("the portfolio is archived; restore it first")]
    Archived,
    #[error("the portfolio is not archived")]
    NotArchived,
    #[error("close or cancel the pending and open trades before archiving")]
    TradesStillOpen,
    #[error("a trade with this id already exists")]
    TradeAlreadyExists,
    #[error("only a pending trade can be {0}")]
    TradeNotPending(&'static str),
    #[error("a {0} trade cannot be changed")]
    TradeFinished(&'static str),
}

impl PortfolioError {
    pub(crate) fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![super::values::field(field, message)])
    }
}
