//! Loading history: a resumable backfill from the exchange, and importing
//! candles read from a file.

use domain::job::SymbolReport;
use domain::market::{Candle, Symbol, Timeframe};

use super::ingest::screen_1m;
use super::ports::PAGE_SIZE;
use super::{MarketPipeline, PipelineError};
use crate::Metadata;
use crate::store::EventStores;

/// Progress callback of a backfill: minutes done, minutes in all.
pub type BackfillProgress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

impl<S: EventStores> MarketPipeline<S> {
    /// Loads 1m history of `symbol` from `from` (ms) to the exchange's now,
    /// page by page, then processes it. Resumable: the position is saved
    /// after every page, and a second run with the same `from` continues
    /// where the first stopped. Candles already stored are rewritten only
    /// if they changed, so the backfill also fills gaps.
    #[tracing::instrument(skip_all, fields(%symbol, from))]
    pub async fn backfill(
        &self,
        symbol: &Symbol,
        from: i64,
        progress: BackfillProgress<'_>,
        metadata: &Metadata,
    ) -> Result<SymbolReport, PipelineError> {
        let minute = Timeframe::M1.duration_ms();
        let from = Timeframe::M1.bucket_start(from + minute - 1);
        let mut report = SymbolReport::new(symbol);
        let now = self.exchange.now_ms().await?;
        let mut cursor = self
            .candles
            .backfill_position(symbol, from)
            .await
            .map_err(PipelineError::storage)?
            .unwrap_or(from);
        let total = ((now - from) / minute).max(0) as u64;
        progress(((cursor - from) / minute).max(0) as u64, total);
        while cursor + minute <= now {
            let page = self.exchange.closed_1m(symbol, cursor, PAGE_SIZE).await?;
            let full = page.len() >= PAGE_SIZE;
            report.fetched += page.len() as u64;
            let Some(last) = page.last().map(|c| c.open_time) else {
                break;
            };
            let screened = screen_1m(symbol, page, Some(now));
            report.rejected += screened.rejected as u64;
            self.store_1m(symbol, &screened.accepted, &mut report)
                .await?;
            cursor = last + minute;
            self.candles
                .set_backfill_position(symbol, from, cursor)
                .await
                .map_err(PipelineError::storage)?;
            progress((((cursor - from) / minute).max(0) as u64).min(total), total);
            if !full {
                break;
            }
        }
        progress(total, total);
        self.process(symbol, &mut report, metadata).await?;
        Ok(report)
    }

    /// Stores candles read from a file (validated, closed only) and
    /// processes them.
    #[tracing::instrument(skip_all, fields(%symbol, candles = candles.len()))]
    pub async fn import(
        &self,
        symbol: &Symbol,
        candles: Vec<Candle>,
        metadata: &Metadata,
    ) -> Result<SymbolReport, PipelineError> {
        let mut report = SymbolReport::new(symbol);
        report.fetched = candles.len() as u64;
        let now = self.clock.now();
        let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        let screened = screen_1m(symbol, candles, Some(now_ms));
        report.rejected = screened.rejected as u64;
        for part in screened.accepted.chunks(PAGE_SIZE * 10) {
            self.store_1m(symbol, part, &mut report).await?;
        }
        self.process(symbol, &mut report, metadata).await?;
        Ok(report)
    }
}
