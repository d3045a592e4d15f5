//! What can be asked of a symbol.

use time::OffsetDateTime;

use crate::market::Symbol;

#[derive(Debug, Clone, PartialEq)]
pub enum SymbolCommand {
    /// List the pair (again, if it was delisted). Notifications start on.
    List {
        symbol: Symbol,
        now: OffsetDateTime,
    },
    Delist {
        now: OffsetDateTime,
    },
    SetNotifications {
        enabled: bool,
        now: OffsetDateTime,
    },
}
