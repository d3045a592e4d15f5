//! Listing, delisting and notification switches of symbols (admin), and
//! seeding the default list from the repository's configuration file.

use std::sync::Arc;

use domain::market::{InvalidSymbol, Symbol};
use domain::symbol::{Listing, SymbolCommand, SymbolError};

use crate::ports::Clock;
use crate::store::{CommitObserver, EventStores, Repository};
use crate::{CommandError, Metadata};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SymbolChangeError {
    #[error(transparent)]
    Invalid(#[from] InvalidSymbol),
    #[error(transparent)]
    Refused(#[from] SymbolError),
}

pub struct SymbolService<S: EventStores> {
    listings: Repository<Listing, S>,
    clock: Arc<dyn Clock>,
}

/// Parses the default symbol list: one `BASE/QUOTE` per line, `#` starts a
/// comment, blank lines are ignored.
pub fn parse_symbol_list(text: &str) -> Result<Vec<Symbol>, InvalidSymbol> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|line| !line.is_empty())
        .map(Symbol::parse)
        .collect()
}

impl<S: EventStores> SymbolService<S> {
    pub fn new(
        stores: &S,
        observer: Option<Arc<dyn CommitObserver>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            listings: Repository::new(stores, observer),
            clock,
        }
    }

    async fn change(
        &self,
        symbol: &str,
        command: impl FnOnce(Symbol) -> SymbolCommand,
        metadata: &Metadata,
    ) -> Result<Symbol, CommandError<SymbolChangeError>> {
        let symbol = Symbol::parse(symbol).map_err(|e| CommandError::Rejected(e.into()))?;
        self.listings
            .execute(symbol.as_str(), command(symbol.clone()), metadata)
            .await
            .map_err(|e| e.map_rejection(SymbolChangeError::Refused))?;
        Ok(symbol)
    }

    #[tracing::instrument(skip_all, fields(symbol))]
    pub async fn list(
        &self,
        symbol: &str,
        metadata: &Metadata,
    ) -> Result<Symbol, CommandError<SymbolChangeError>> {
        let now = self.clock.now();
        self.change(
            symbol,
            |symbol| SymbolCommand::List { symbol, now },
            metadata,
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(symbol))]
    pub async fn delist(
        &self,
        symbol: &str,
        metadata: &Metadata,
    ) -> Result<Symbol, CommandError<SymbolChangeError>> {
        let now = self.clock.now();
        self.change(symbol, |_| SymbolCommand::Delist { now }, metadata)
            .await
    }

    #[tracing::instrument(skip_all, fields(symbol, enabled))]
    pub async fn set_notifications(
        &self,
        symbol: &str,
        enabled: bool,
        metadata: &Metadata,
    ) -> Result<Symbol, CommandError<SymbolChangeError>> {
        let now = self.clock.now();
        self.change(
            symbol,
            |_| SymbolCommand::SetNotifications { enabled, now },
            metadata,
        )
        .await
    }

    /// Lists every symbol of `defaults` that is not listed yet (delisted
    /// ones stay delisted unless they are mandatory, which cannot happen);
    /// returns the newly listed ones.
    pub async fn seed(
        &self,
        defaults: &[Symbol],
        metadata: &Metadata,
    ) -> Result<Vec<Symbol>, CommandError<SymbolChangeError>> {
        let mut listed = Vec::new();
        for symbol in defaults {
            let listing = self
                .listings
                .load(symbol.as_str())
                .await
                .map_err(|e| e.map_rejection(SymbolChangeError::Refused))?;
            if listing.symbol().is_some() {
                continue;
            }
            match self.list(symbol.as_str(), metadata).await {
                Ok(symbol) => listed.push(symbol),
                Err(CommandError::Rejected(SymbolChangeError::Refused(
                    SymbolError::AlreadyListed,
                ))) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(listed)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::ports::FakeClock;
    use crate::store::MemStores;

    fn service() -> SymbolService<MemStores> {
        SymbolService::new(
            &MemStores::default(),
            None,
            Arc::new(FakeClock::at(datetime!(2026-01-01 00:00 UTC))),
        )
    }

    #[tokio::test]
    async fn seeding_lists_the_defaults_once_and_keeps_admin_decisions() {
        let service = service();
        let meta = Metadata::system("test");
        let defaults = parse_symbol_list("# majors\nBTC/USDT\n\nada/usdt  # alt\n").unwrap();
        assert_eq!(defaults.len(), 2);
        assert_eq!(service.seed(&defaults, &meta).await.unwrap(), defaults);
        service.delist("ADA/USDT", &meta).await.unwrap();
        assert!(service.seed(&defaults, &meta).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn mandatory_symbols_cannot_be_delisted_and_bad_names_are_refused() {
        let service = service();
        let meta = Metadata::system("test");
        service.list("BTC/USDT", &meta).await.unwrap();
        assert!(matches!(
            service.delist("btc/usdt", &meta).await,
            Err(CommandError::Rejected(SymbolChangeError::Refused(
                SymbolError::Mandatory
            )))
        ));
        assert!(matches!(
            service.list("BTCUSDT", &meta).await,
            Err(CommandError::Rejected(SymbolChangeError::Invalid(_)))
        ));
    }
}
