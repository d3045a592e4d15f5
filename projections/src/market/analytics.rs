//! Analytics counts (PRODUCT §4): patterns by symbol, timeframe, type,
//! direction and UTC day of detection, with how they ended; signals by
//! symbol, direction and day of creation, with their outcomes.

use std::collections::BTreeMap;

use domain::market::tracker::Outcome;
use domain::pattern::PatternEvent;
use domain::signal::SignalEvent;

use super::day_of;
use crate::{ProjectionError, RecordedEvent};

pub const NAME: &str = "market_analytics";
pub const PATTERN_TABLE: &str = "pattern_stats_view";
pub const SIGNAL_TABLE: &str = "signal_stats_view";

pub const EVENT_TYPES: &[&str] = &[
    PatternEvent::DETECTED,
    PatternEvent::FILLED,
    PatternEvent::INVALIDATED,
    PatternEvent::EXPIRED,
    SignalEvent::GENERATED,
    SignalEvent::ENTERED,
    SignalEvent::RESOLVED,
];

/// Counts to add to one `pattern_stats_view` row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatternCounts {
    pub detected: i64,
    pub filled: i64,
    pub invalidated: i64,
    pub expired: i64,
}

/// Counts to add to one `signal_stats_view` row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignalCounts {
    pub generated: i64,
    pub entered: i64,
    pub tp1: i64,
    pub tp2: i64,
    pub tp3: i64,
    pub stopped: i64,
    pub expired: i64,
}

/// (symbol, timeframe, type, direction, day since epoch)
pub type PatternCell = (String, String, String, String, i32);
/// (symbol, direction, day since epoch)
pub type SignalCell = (String, String, i32);

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AnalyticsChanges {
    pub patterns: BTreeMap<PatternCell, PatternCounts>,
    pub signals: BTreeMap<SignalCell, SignalCounts>,
}

pub fn changes(events: &[RecordedEvent]) -> Result<AnalyticsChanges, ProjectionError> {
    let mut out = AnalyticsChanges::default();
    for event in events {
        match event.aggregate_type.as_str() {
            "pattern" => {
                let decoded = event.decode::<PatternEvent>()?;
                let f = decoded.facts();
                let cell = (
                    f.symbol.to_string(),
                    f.timeframe.to_string(),
                    f.pattern_type.as_str().to_owned(),
                    f.direction.as_str().to_owned(),
                    day_of(f.detected_ts),
                );
                let counts = out.patterns.entry(cell).or_default();
                match decoded {
                    PatternEvent::PatternDetected { .. } => counts.detected += 1,
                    PatternEvent::PatternFilled { .. } => counts.filled += 1,
                    PatternEvent::PatternInvalidated { .. } => counts.invalidated += 1,
                    PatternEvent::PatternExpired { .. } => counts.expired += 1,
                }
            }
            "signal" => {
                let decoded = event.decode::<SignalEvent>()?;
                let f = decoded.facts();
                let cell = (
                    f.symbol.to_string(),
                    f.direction.as_str().to_owned(),
                    day_of(f.created_at),
                );
                let counts = out.signals.entry(cell).or_default();
                match decoded {
                    SignalEvent::SignalGenerated { .. } => counts.generated += 1,
                    SignalEvent::SignalEntered { .. } => counts.entered += 1,
                    SignalEvent::SignalResolved { outcome, .. } => match outcome {
                        Outcome::Tp1 => counts.tp1 += 1,
                        Outcome::Tp2 => counts.tp2 += 1,
                        Outcome::Tp3 => counts.tp3 += 1,
                        Outcome::Stopped => counts.stopped += 1,
                        Outcome::Expired => counts.expired += 1,
                    },
                    SignalEvent::SignalTargetReached { .. } => {}
                }
            }
            _ => {}
        }
    }
    Ok(out)
}
