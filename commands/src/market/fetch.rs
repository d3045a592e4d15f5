//! Fetching new closed 1m candles from the exchange.

use domain::job::SymbolReport;
use domain::market::{Symbol, Timeframe};

use super::ingest::screen_1m;
use super::ports::PAGE_SIZE;
use super::{MarketPipeline, PipelineError};
use crate::store::EventStores;

impl<S: EventStores> MarketPipeline<S> {
    /// Pulls closed 1m candles since the newest stored one (or, for a new
    /// symbol, since `initial_history_ms` ago), page by page, at most
    /// `max_pages` pages, and stores the valid ones.
    #[tracing::instrument(skip_all, fields(%symbol))]
    pub async fn fetch_new(
        &self,
        symbol: &Symbol,
        report: &mut SymbolReport,
    ) -> Result<(), PipelineError> {
        let minute = Timeframe::M1.duration_ms();
        let now = self.exchange.now_ms().await?;
        let latest = self
            .candles
            .latest_open_time(symbol, Timeframe::M1)
            .await
            .map_err(PipelineError::storage)?;
        let mut start = match latest {
            Some(open_time) => open_time + minute,
            None => Timeframe::M1.bucket_start(now - self.options.initial_history_ms),
        };
        for _ in 0..self.options.max_pages {
            if start + minute > now {
                break;
            }
            let page = self.exchange.closed_1m(symbol, start, PAGE_SIZE).await?;
            let full = page.len() >= PAGE_SIZE;
            report.fetched += page.len() as u64;
            let Some(last) = page.last().map(|c| c.open_time) else {
                break;
            };
            let screened = screen_1m(symbol, page, Some(now));
            report.rejected += screened.rejected as u64;
            self.store_1m(symbol, &screened.accepted, report).await?;
            start = last + minute;
            if !full {
                break;
            }
        }
        Ok(())
    }
}
