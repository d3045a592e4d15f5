//! Exchange adapters of the `commands::market::Exchange` port: Binance REST
//! klines (live), a replay of recorded files (offline demos and end-to-end
//! tests), CSV files (imports), plus the local fake Binance used by tests.

pub mod binance;
pub mod breaker;
pub mod csv;
pub mod fake_binance;
pub mod replay;

use std::sync::Arc;

use commands::market::Exchange;

use crate::market::config::{ExchangeKind, MarketConfig};

/// The exchange the configuration asks for.
pub fn from_config(config: &MarketConfig) -> anyhow::Result<Arc<dyn Exchange>> {
    match config.exchange {
        ExchangeKind::Binance => Ok(Arc::new(binance::BinanceExchange::new(
            config.binance.clone(),
            binance::system_clock(),
        )?)),
        ExchangeKind::Replay => {
            let now = (binance::system_clock())();
            Ok(Arc::new(replay::ReplayExchange::from_dir(
                &config.replay_dir,
                config.replay,
                now,
            )?))
        }
    }
}
