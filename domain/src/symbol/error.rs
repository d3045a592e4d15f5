//! Why a symbol command is refused.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SymbolError {
    #[error("the symbol is already listed")]
    AlreadyListed,
    #[error("the symbol is not listed")]
    NotListed,
    #[error("the symbol is mandatory and cannot be delisted")]
    Mandatory,
    #[error("notifications are already in that state")]
    Unchanged,
}
