//! `symbols_view`: one row per symbol ever listed.

use std::collections::BTreeMap;

use domain::symbol::SymbolEvent;
use serde::Serialize;
use time::OffsetDateTime;

use crate::{ProjectionError, RecordedEvent};

pub const NAME: &str = "symbols";
pub const TABLE: &str = "symbols_view";
pub const EVENT_TYPES: &[&str] = &[
    SymbolEvent::LISTED,
    SymbolEvent::DELISTED,
    SymbolEvent::NOTIFICATIONS_CHANGED,
];

/// A row of `symbols_view`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SymbolView {
    pub symbol: String,
    pub listed: bool,
    pub mandatory: bool,
    pub notifications: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub listed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub delisted_at: Option<OffsetDateTime>,
}

/// Changes to a row that already exists (no listing in this batch).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SymbolDelta {
    pub symbol: String,
    pub listed: Option<bool>,
    pub notifications: Option<bool>,
    pub delisted_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SymbolChanges {
    /// Complete rows: the symbol was (re)listed in this batch.
    pub rows: Vec<SymbolView>,
    pub deltas: Vec<SymbolDelta>,
}

enum Change {
    Row(SymbolView),
    Delta(SymbolDelta),
}

pub fn changes(events: &[RecordedEvent]) -> Result<SymbolChanges, ProjectionError> {
    let mut by_symbol: BTreeMap<String, Change> = BTreeMap::new();
    for event in events.iter().filter(|e| e.aggregate_type == "symbol") {
        match event.decode::<SymbolEvent>()? {
            SymbolEvent::SymbolListed {
                symbol,
                mandatory,
                notifications,
                at,
            } => {
                by_symbol.insert(
                    symbol.to_string(),
                    Change::Row(SymbolView {
                        symbol: symbol.to_string(),
                        listed: true,
                        mandatory,
                        notifications,
                        listed_at: at,
                        delisted_at: None,
                    }),
                );
            }
            SymbolEvent::SymbolDelisted { symbol, at } => {
                match by_symbol.entry(symbol.to_string()).or_insert_with(|| {
                    Change::Delta(SymbolDelta {
                        symbol: symbol.to_string(),
                        ..SymbolDelta::default()
                    })
                }) {
                    Change::Row(row) => {
                        row.listed = false;
                        row.delisted_at = Some(at);
                    }
                    Change::Delta(delta) => {
                        delta.listed = Some(false);
                        delta.delisted_at = Some(at);
                    }
                }
            }
            SymbolEvent::SymbolNotificationsChanged {
                symbol, enabled, ..
            } => {
                match by_symbol.entry(symbol.to_string()).or_insert_with(|| {
                    Change::Delta(SymbolDelta {
                        symbol: symbol.to_string(),
                        ..SymbolDelta::default()
                    })
                }) {
                    Change::Row(row) => row.notifications = enabled,
                    Change::Delta(delta) => delta.notifications = Some(enabled),
                }
            }
        }
    }
    let mut out = SymbolChanges::default();
    for change in by_symbol.into_values() {
        match change {
            Change::Row(row) => out.rows.push(row),
            Change::Delta(delta) => out.deltas.push(delta),
        }
    }
    Ok(out)
}
