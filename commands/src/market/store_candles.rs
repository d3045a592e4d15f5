//! Storing screened 1m candles; late ones re-aggregate their buckets.

use std::collections::BTreeSet;

use domain::job::SymbolReport;
use domain::market::tracker::bucket_closed;
use domain::market::{Candle, Symbol, Timeframe, aggregate};

use super::{MarketPipeline, PipelineError};
use crate::store::EventStores;

impl<S: EventStores> MarketPipeline<S> {
    /// Upserts valid, closed 1m candles (ascending). Candles at or before
    /// the symbol's progress mark arrived late: the higher-timeframe
    /// buckets they touch that are already complete are rebuilt from the
    /// stored 1m data and rewritten (the original never corrected them,
    /// bug 17). Buckets not complete yet are built by `process`.
    pub(super) async fn store_1m(
        &self,
        symbol: &Symbol,
        candles: &[Candle],
        report: &mut SymbolReport,
    ) -> Result<(), PipelineError> {
        if candles.is_empty() {
            return Ok(());
        }
        report.stored += self
            .candles
            .upsert(symbol, Timeframe::M1, candles)
            .await
            .map_err(PipelineError::storage)?;
        let Some(mark) = self
            .candles
            .processed_through(symbol)
            .await
            .map_err(PipelineError::storage)?
        else {
            return Ok(());
        };
        let late: Vec<&Candle> = candles.iter().filter(|c| c.open_time <= mark).collect();
        if late.is_empty() {
            return Ok(());
        }
        tracing::info!(%symbol, late = late.len(), "late 1m candles: re-aggregating their buckets");
        let mut touched: Vec<(Timeframe, BTreeSet<i64>)> = Vec::new();
        for tf in Timeframe::AGGREGATED {
            let starts: BTreeSet<i64> = late
                .iter()
                .map(|c| tf.bucket_start(c.open_time))
                .filter(|&start| bucket_closed(tf, start, mark))
                .collect();
            if !starts.is_empty() {
                touched.push((tf, starts));
            }
        }
        let from = touched.iter().filter_map(|(_, s)| s.first()).min().copied();
        let to = touched
            .iter()
            .filter_map(|(tf, s)| s.last().map(|last| last + tf.duration_ms()))
            .max();
        let (Some(from), Some(to)) = (from, to) else {
            return Ok(());
        };
        let source = self
            .candles
            .range(symbol, Timeframe::M1, from, to)
            .await
            .map_err(PipelineError::storage)?;
        for (tf, starts) in touched {
            let mut rebuilt = aggregate(&source, tf)?;
            rebuilt.retain(|c| starts.contains(&c.open_time));
            report.aggregated += self
                .candles
                .upsert(symbol, tf, &rebuilt)
                .await
                .map_err(PipelineError::storage)?;
        }
        Ok(())
    }
}
