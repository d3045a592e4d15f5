//! The symbol's decision logic and the state it is rebuilt from.

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use super::command::SymbolCommand;
use super::error::SymbolError;
use super::event::SymbolEvent;
use crate::market::Symbol;

/// A trading pair's listing state.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    symbol: Option<Symbol>,
    listed: bool,
    notifications: bool,
}

impl Listing {
    pub fn symbol(&self) -> Option<&Symbol> {
        self.symbol.as_ref()
    }

    pub fn is_listed(&self) -> bool {
        self.listed
    }

    pub fn notifications(&self) -> bool {
        self.notifications
    }
}

impl Aggregate for Listing {
    const TYPE: &'static str = "symbol";
    type Command = SymbolCommand;
    type Event = SymbolEvent;
    type Error = SymbolError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match (command, &self.symbol) {
            (SymbolCommand::List { .. }, _) if self.listed => {
                return Err(SymbolError::AlreadyListed);
            }
            (SymbolCommand::List { symbol, now }, _) => SymbolEvent::SymbolListed {
                mandatory: symbol.is_mandatory(),
                symbol,
                notifications: true,
                at: now,
            },
            (_, None) => return Err(SymbolError::NotListed),
            (_, Some(_)) if !self.listed => return Err(SymbolError::NotListed),
            (SymbolCommand::Delist { .. }, Some(symbol)) if symbol.is_mandatory() => {
                return Err(SymbolError::Mandatory);
            }
            (SymbolCommand::Delist { now }, Some(symbol)) => SymbolEvent::SymbolDelisted {
                symbol: symbol.clone(),
                at: now,
            },
            (SymbolCommand::SetNotifications { enabled, .. }, _)
                if enabled == self.notifications =>
            {
                return Err(SymbolError::Unchanged);
            }
            (SymbolCommand::SetNotifications { enabled, now }, Some(symbol)) => {
                SymbolEvent::SymbolNotificationsChanged {
                    symbol: symbol.clone(),
                    enabled,
                    at: now,
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            SymbolEvent::SymbolListed {
                symbol,
                notifications,
                ..
            } => {
                self.symbol = Some(symbol);
                self.listed = true;
                self.notifications = notifications;
            }
            SymbolEvent::SymbolDelisted { .. } => self.listed = false,
            SymbolEvent::SymbolNotificationsChanged { enabled, .. } => {
                self.notifications = enabled;
            }
        }
    }
}
