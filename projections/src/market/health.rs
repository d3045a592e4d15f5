//! `market_health_view`: per symbol, what the market jobs saw (candles
//! fetched, stored and rejected, first and last candle, gaps, failures).

use std::collections::BTreeMap;

use domain::job::JobEvent;
use serde::Serialize;
use time::OffsetDateTime;

use crate::{ProjectionError, RecordedEvent};

pub const NAME: &str = "market_health";
pub const TABLE: &str = "market_health_view";
pub const EVENT_TYPES: &[&str] = &[JobEvent::FINISHED];

/// A row of `market_health_view`, also the change a batch adds to it
/// (counts add up, first/last widen, the last run and error replace).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthView {
    pub symbol: String,
    pub runs: i64,
    pub failures: i64,
    pub candles_fetched: i64,
    pub candles_stored: i64,
    pub candles_rejected: i64,
    pub first_open_time: Option<i64>,
    pub last_open_time: Option<i64>,
    pub gaps: i64,
    pub missing_minutes: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub last_run_at: OffsetDateTime,
    pub last_error: Option<String>,
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub fn changes(events: &[RecordedEvent]) -> Result<Vec<HealthView>, ProjectionError> {
    let mut rows: BTreeMap<String, HealthView> = BTreeMap::new();
    for event in events.iter().filter(|e| e.event_type == JobEvent::FINISHED) {
        let JobEvent::JobFinished { symbols, at, .. } = event.decode::<JobEvent>()? else {
            continue;
        };
        for report in symbols {
            let row = rows
                .entry(report.symbol.clone())
                .or_insert_with(|| HealthView {
                    symbol: report.symbol.clone(),
                    runs: 0,
                    failures: 0,
                    candles_fetched: 0,
                    candles_stored: 0,
                    candles_rejected: 0,
                    first_open_time: None,
                    last_open_time: None,
                    gaps: 0,
                    missing_minutes: 0,
                    last_run_at: at,
                    last_error: None,
                });
            row.runs += 1;
            row.failures += i64::from(report.error.is_some());
            row.candles_fetched += int(report.fetched);
            row.candles_stored += int(report.stored);
            row.candles_rejected += int(report.rejected);
            row.first_open_time = match (row.first_open_time, report.first_open_time) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            row.last_open_time = row.last_open_time.max(report.last_open_time);
            row.gaps += int(report.gaps);
            row.missing_minutes += int(report.missing_minutes);
            row.last_run_at = at;
            row.last_error = report.error;
        }
    }
    Ok(rows.into_values().collect())
}
