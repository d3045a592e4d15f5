//! CSV candle files as an exchange: `cryptolens market import` backfills a
//! symbol from one (in the format of `data/candles/*.csv`).

use std::path::Path;

use anyhow::Context;
use async_trait::async_trait;
use commands::market::{Exchange, ExchangeError};
use domain::market::csv::parse_candles;
use domain::market::{Candle, Symbol, Timeframe};

/// `ETH_BTC-1m.csv` → `ETH/BTC`.
pub fn symbol_of_file(path: &Path) -> Option<Symbol> {
    let stem = path.file_stem()?.to_str()?;
    let name = stem.strip_suffix("-1m").unwrap_or(stem);
    Symbol::parse(name).ok()
}

/// Reads a candle file.
pub fn read_candle_file(path: &Path) -> anyhow::Result<Vec<Candle>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_candles(&text).with_context(|| format!("{} is not a candle file", path.display()))
}

/// One file's candles, served as they are (no time shift); "now" is the
/// close of its newest candle, so every candle counts as closed.
pub struct CsvExchange {
    candles: Vec<Candle>,
}

impl CsvExchange {
    pub fn new(mut candles: Vec<Candle>) -> Self {
        candles.sort_by_key(|c| c.open_time);
        Self { candles }
    }

    pub fn open(path: &Path) -> anyhow::Result<Self> {
        Ok(Self::new(read_candle_file(path)?))
    }

    pub fn first_open_time(&self) -> Option<i64> {
        self.candles.first().map(|c| c.open_time)
    }

    pub fn len(&self) -> usize {
        self.candles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.candles.is_empty()
    }
}

#[async_trait]
impl Exchange for CsvExchange {
    fn name(&self) -> &'static str {
        "csv"
    }

    async fn now_ms(&self) -> Result<i64, ExchangeError> {
        Ok(self
            .candles
            .last()
            .map_or(0, |c| c.open_time + Timeframe::M1.duration_ms()))
    }

    async fn closed_1m(
        &self,
        _symbol: &Symbol,
        start_ms: i64,
        limit: usize,
    ) -> Result<Vec<Candle>, ExchangeError> {
        let first = self.candles.partition_point(|c| c.open_time < start_ms);
        Ok(self
            .candles
            .iter()
            .skip(first)
            .take(limit)
            .copied()
            .collect())
    }
}
