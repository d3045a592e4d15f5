//! Processing stored 1m candles: aggregation of the buckets they close,
//! incremental detection, the pattern book, and recording its decisions.

use std::collections::HashMap;

use domain::job::SymbolReport;
use domain::market::tracker::{
    Chunk, DETECTION_LOOKBACK, Offer, Tracker, TrackerEvent, first_closing_bucket, newly_closed,
    offers,
};
use domain::market::{Candle, Symbol, Timeframe};
use domain::pattern::PatternCommand;
use domain::signal::SignalCommand;
use futures::StreamExt;

use super::ids::{pattern_id, signal_id};
use super::{MarketPipeline, PipelineError};
use crate::store::EventStores;
use crate::{CommandError, Metadata};

/// How many newest candles per timeframe the signal levels need.
const RECENT: usize = 15;

enum Step {
    Pattern(PatternCommand),
    Signal(SignalCommand),
}

impl<S: EventStores> MarketPipeline<S> {
    /// Processes every stored 1m candle after the symbol's progress mark.
    #[tracing::instrument(skip_all, fields(%symbol))]
    pub async fn process(
        &self,
        symbol: &Symbol,
        report: &mut SymbolReport,
        metadata: &Metadata,
    ) -> Result<(), PipelineError> {
        let mut prev = self
            .candles
            .processed_through(symbol)
            .await
            .map_err(PipelineError::storage)?;
        let mut tracker: Option<Tracker> = None;
        loop {
            let chunk = self
                .candles
                .after(
                    symbol,
                    Timeframe::M1,
                    prev.unwrap_or(i64::MIN),
                    self.options.chunk_size,
                )
                .await
                .map_err(PipelineError::storage)?;
            let Some(new_last) = chunk.last().map(|c| c.open_time) else {
                break;
            };
            count_gaps(prev, &chunk, report);
            let (closed, found) = self.close_buckets(symbol, prev, &chunk, report).await?;
            let book = match tracker.as_mut() {
                Some(book) => book,
                None => tracker.insert(self.restore(symbol, prev).await?),
            };
            let events = book.advance(Chunk {
                candles_1m: &chunk,
                closed,
                offers: found,
            });
            self.record(symbol, events, report, metadata).await?;
            self.candles
                .set_processed_through(symbol, new_last)
                .await
                .map_err(PipelineError::storage)?;
            report.first_open_time = report
                .first_open_time
                .or(chunk.first().map(|c| c.open_time));
            report.last_open_time = Some(new_last);
            prev = Some(new_last);
            if chunk.len() < self.options.chunk_size {
                break;
            }
        }
        Ok(())
    }

    /// The book as of the progress mark, from the read side.
    async fn restore(&self, symbol: &Symbol, prev: Option<i64>) -> Result<Tracker, PipelineError> {
        let settings = self.options.settings;
        let Some(prev) = prev else {
            return Ok(Tracker::new(settings));
        };
        let as_of = prev + Timeframe::M1.duration_ms();
        let snapshot = self
            .book
            .book(symbol, as_of)
            .await
            .map_err(PipelineError::storage)?;
        let mut recent = Vec::new();
        for tf in Timeframe::AGGREGATED {
            let candles = self
                .candles
                .tail_before(symbol, tf, as_of - tf.duration_ms() + 1, RECENT)
                .await
                .map_err(PipelineError::storage)?;
            recent.push((tf, candles));
        }
        Ok(Tracker::restore(
            settings,
            snapshot.active,
            snapshot.signals,
            snapshot.last_signal,
            recent,
        ))
    }

    /// Writes the higher-timeframe candles that `chunk` completes and runs
    /// the detectors over them plus `DETECTION_LOOKBACK` older candles.
    async fn close_buckets(
        &self,
        symbol: &Symbol,
        prev: Option<i64>,
        chunk: &[Candle],
        report: &mut SymbolReport,
    ) -> Result<(Vec<(Timeframe, Candle)>, Vec<Offer>), PipelineError> {
        let mut closed = Vec::new();
        let mut found = Vec::new();
        let Some(new_last) = chunk.last().map(|c| c.open_time) else {
            return Ok((closed, found));
        };
        let starts: Vec<(Timeframe, i64)> = Timeframe::AGGREGATED
            .into_iter()
            .filter_map(|tf| first_closing_bucket(tf, prev, chunk).map(|s| (tf, s)))
            .collect();
        let Some(from) = starts.iter().map(|(_, s)| *s).min() else {
            return Ok((closed, found));
        };
        let loaded = self
            .candles
            .range(
                symbol,
                Timeframe::M1,
                from,
                new_last + Timeframe::M1.duration_ms(),
            )
            .await
            .map_err(PipelineError::storage)?;
        for (tf, start) in starts {
            let first = loaded.partition_point(|c| c.open_time < start);
            let new = newly_closed(tf, &loaded[first..], prev, new_last)?;
            let Some(first_new) = new.first().map(|c| c.open_time) else {
                continue;
            };
            report.aggregated += self
                .candles
                .upsert(symbol, tf, &new)
                .await
                .map_err(PipelineError::storage)?;
            let tail = self
                .candles
                .tail_before(symbol, tf, first_new, DETECTION_LOOKBACK)
                .await
                .map_err(PipelineError::storage)?;
            let from_index = tail.len();
            let mut window = tail;
            window.extend_from_slice(&new);
            found.extend(offers(tf, &window, from_index));
            closed.extend(new.into_iter().map(|c| (tf, c)));
        }
        Ok((closed, found))
    }

    /// Turns the book's decisions into commands, grouped per aggregate (in
    /// order within one aggregate), several aggregates at a time.
    async fn record(
        &self,
        symbol: &Symbol,
        events: Vec<TrackerEvent>,
        report: &mut SymbolReport,
        metadata: &Metadata,
    ) -> Result<(), PipelineError> {
        // One group per aggregate, in order of first appearance.
        let mut index: HashMap<uuid::Uuid, usize> = HashMap::new();
        let mut groups: Vec<(uuid::Uuid, Vec<Step>)> = Vec::new();
        for event in events {
            let (id, step) = match event {
                TrackerEvent::PatternDetected(pattern) => {
                    report.patterns_detected += 1;
                    let command = PatternCommand::Detect {
                        symbol: symbol.clone(),
                        pattern,
                    };
                    (pattern_id(symbol, &pattern.key), Step::Pattern(command))
                }
                TrackerEvent::PatternClosed { key, closure, at } => {
                    report.patterns_closed += 1;
                    (
                        pattern_id(symbol, &key),
                        Step::Pattern(PatternCommand::Close { closure, at }),
                    )
                }
                TrackerEvent::SignalGenerated(signal) => {
                    report.signals_generated += 1;
                    let id = signal_id(symbol, &signal.key);
                    let command = SignalCommand::Generate {
                        symbol: symbol.clone(),
                        pattern_id: pattern_id(symbol, &signal.pattern),
                        signal,
                    };
                    (id, Step::Signal(command))
                }
                TrackerEvent::SignalEntered { key, at } => (
                    signal_id(symbol, &key),
                    Step::Signal(SignalCommand::Enter { at }),
                ),
                TrackerEvent::SignalTargetReached { key, target, at } => (
                    signal_id(symbol, &key),
                    Step::Signal(SignalCommand::ReachTarget { target, at }),
                ),
                TrackerEvent::SignalResolved {
                    key,
                    outcome,
                    closed_by,
                    at,
                } => {
                    report.signals_resolved += 1;
                    (
                        signal_id(symbol, &key),
                        Step::Signal(SignalCommand::Resolve {
                            outcome,
                            closed_by,
                            at,
                        }),
                    )
                }
            };
            let slot = *index.entry(id).or_insert_with(|| {
                groups.push((id, Vec::new()));
                groups.len() - 1
            });
            if let Some((_, steps)) = groups.get_mut(slot) {
                steps.push(step);
            }
        }
        let results: Vec<Result<(), PipelineError>> = futures::stream::iter(groups)
            .map(|(id, steps)| self.run_steps(id, steps, metadata))
            .buffer_unordered(self.options.command_concurrency.max(1))
            .collect()
            .await;
        results.into_iter().collect()
    }

    async fn run_steps(
        &self,
        id: uuid::Uuid,
        steps: Vec<Step>,
        metadata: &Metadata,
    ) -> Result<(), PipelineError> {
        let id = id.to_string();
        for step in steps {
            match step {
                Step::Pattern(command) => self
                    .patterns
                    .execute(&id, command, metadata)
                    .await
                    .map_err(|e| command_error("pattern", e))?,
                Step::Signal(command) => self
                    .signals
                    .execute(&id, command, metadata)
                    .await
                    .map_err(|e| command_error("signal", e))?,
            }
        }
        Ok(())
    }
}

fn command_error<E: std::error::Error>(
    what: &'static str,
    error: CommandError<E>,
) -> PipelineError {
    PipelineError::Command {
        what,
        message: error.to_string(),
    }
}

/// Counts holes in the 1m sequence from the previous mark through `chunk`.
fn count_gaps(prev: Option<i64>, chunk: &[Candle], report: &mut SymbolReport) {
    let minute = Timeframe::M1.duration_ms();
    let mut last = prev;
    for candle in chunk {
        if let Some(last) = last {
            let missing = (candle.open_time - last) / minute - 1;
            if missing > 0 {
                report.gaps += 1;
                report.missing_minutes += missing as u64;
            }
        }
        last = Some(candle.open_time);
    }
}
