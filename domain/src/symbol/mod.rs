//! The symbol aggregate: one per trading pair, keyed by its name
//! (`BTC/USDT`). Admins list and delist pairs and switch their notifications;
//! the mandatory pairs (PRODUCT §3) cannot be delisted.

mod aggregate;
mod command;
mod error;
mod event;

#[cfg(test)]
mod tests;

pub use aggregate::Listing;
pub use command::SymbolCommand;
pub use error::SymbolError;
pub use event::SymbolEvent;
