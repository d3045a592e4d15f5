//! Repairs for `market health --fix`: refetching a stretch of 1m candles and
//! rebuilding higher-timeframe buckets from the stored 1m data.

use domain::job::SymbolReport;
use domain::market::{Symbol, Timeframe, aggregate};

use super::ingest::screen_1m;
use super::ports::PAGE_SIZE;
use super::{MarketPipeline, PipelineError};
use crate::store::EventStores;

impl<S: EventStores> MarketPipeline<S> {
    /// Fetches the 1m candles opening in `[from, to)` again and stores the
    /// valid ones (late ones re-aggregate their buckets).
    pub async fn refetch(
        &self,
        symbol: &Symbol,
        from: i64,
        to: i64,
        report: &mut SymbolReport,
    ) -> Result<(), PipelineError> {
        let minute = Timeframe::M1.duration_ms();
        let now = self.exchange.now_ms().await?;
        let mut cursor = from;
        while cursor < to {
            let page = self.exchange.closed_1m(symbol, cursor, PAGE_SIZE).await?;
            let full = page.len() >= PAGE_SIZE;
            report.fetched += page.len() as u64;
            let Some(last) = page.last().map(|c| c.open_time) else {
                break;
            };
            let inside: Vec<_> = page.into_iter().filter(|c| c.open_time < to).collect();
            let screened = screen_1m(symbol, inside, Some(now));
            report.rejected += screened.rejected as u64;
            self.store_1m(symbol, &screened.accepted, report).await?;
            cursor = last + minute;
            if !full {
                break;
            }
        }
        Ok(())
    }

    /// Rebuilds the `timeframe` buckets starting at `starts` from the stored
    /// 1m candles and writes them; returns the rows changed.
    pub async fn rebuild_buckets(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        starts: &[i64],
    ) -> Result<u64, PipelineError> {
        let mut changed = 0;
        for &start in starts {
            let source = self
                .candles
                .range(
                    symbol,
                    Timeframe::M1,
                    start,
                    start + timeframe.duration_ms(),
                )
                .await
                .map_err(PipelineError::storage)?;
            let rebuilt = aggregate(&source, timeframe)?;
            changed += self
                .candles
                .upsert(symbol, timeframe, &rebuilt)
                .await
                .map_err(PipelineError::storage)?;
        }
        Ok(changed)
    }
}
