//! What happened to a symbol. Variant names are the frozen `event_type`s.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::FIRST_EVENT_VERSION;
use crate::market::Symbol;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SymbolEvent {
    SymbolListed {
        symbol: Symbol,
        mandatory: bool,
        notifications: bool,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    SymbolDelisted {
        symbol: Symbol,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    SymbolNotificationsChanged {
        symbol: Symbol,
        enabled: bool,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl SymbolEvent {
    pub const LISTED: &'static str = "SymbolListed";
    pub const DELISTED: &'static str = "SymbolDelisted";
    pub const NOTIFICATIONS_CHANGED: &'static str = "SymbolNotificationsChanged";
}

impl DomainEvent for SymbolEvent {
    fn event_type(&self) -> String {
        match self {
            Self::SymbolListed { .. } => Self::LISTED,
            Self::SymbolDelisted { .. } => Self::DELISTED,
            Self::SymbolNotificationsChanged { .. } => Self::NOTIFICATIONS_CHANGED,
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}
