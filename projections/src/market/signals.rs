//! `signals_view`: every signal with its levels, progress and outcome.

use std::collections::BTreeMap;

use domain::signal::SignalEvent;
use serde::Serialize;
use uuid::Uuid;

use super::uuid_of;
use crate::{ProjectionError, RecordedEvent};

pub const NAME: &str = "signals";
pub const TABLE: &str = "signals_view";
pub const EVENT_TYPES: &[&str] = SignalEvent::ALL;

/// A row of `signals_view`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalView {
    pub signal_id: Uuid,
    pub symbol: String,
    pub direction: String,
    pub created_at: i64,
    pub pattern_id: Uuid,
    pub pattern_timeframe: String,
    pub pattern_type: String,
    pub pattern_detected_ts: i64,
    pub zone_low: f64,
    pub zone_high: f64,
    pub timeframes_aligned: Vec<String>,
    pub confluence: i32,
    pub atr: f64,
    pub entry: f64,
    pub stop_loss: f64,
    pub take_profit_1: f64,
    pub take_profit_2: f64,
    pub take_profit_3: f64,
    pub risk: f64,
    pub risk_reward: f64,
    pub valid_until: i64,
    pub entered_at: Option<i64>,
    pub tp1_at: Option<i64>,
    pub tp2_at: Option<i64>,
    pub tp3_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub outcome: Option<String>,
    pub closed_by: Option<String>,
}

/// Progress of a signal whose row existed before this batch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignalProgress {
    pub signal_id: Uuid,
    pub entered_at: Option<i64>,
    pub tp1_at: Option<i64>,
    pub tp2_at: Option<i64>,
    pub tp3_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub outcome: Option<String>,
    pub closed_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignalChanges {
    pub rows: Vec<SignalView>,
    pub progress: Vec<SignalProgress>,
}

fn as_text<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

/// The fields an event sets: entered, target n, resolution.
fn apply(
    event: &SignalEvent,
    entered_at: &mut Option<i64>,
    targets: [&mut Option<i64>; 3],
    resolved: (&mut Option<i64>, &mut Option<String>, &mut Option<String>),
) {
    match event {
        SignalEvent::SignalEntered { at, .. } => *entered_at = Some(*at),
        SignalEvent::SignalTargetReached { target, at, .. } => {
            if let Some(slot) = targets
                .into_iter()
                .nth(usize::from(target.saturating_sub(1)))
            {
                *slot = Some(*at);
            }
        }
        SignalEvent::SignalResolved {
            outcome,
            closed_by,
            at,
            ..
        } => {
            *resolved.0 = Some(*at);
            *resolved.1 = Some(outcome.as_str().to_owned());
            *resolved.2 = as_text(closed_by);
        }
        SignalEvent::SignalGenerated { .. } => {}
    }
}

pub fn changes(events: &[RecordedEvent]) -> Result<SignalChanges, ProjectionError> {
    let mut rows: BTreeMap<Uuid, SignalView> = BTreeMap::new();
    let mut progress: BTreeMap<Uuid, SignalProgress> = BTreeMap::new();
    for event in events.iter().filter(|e| e.aggregate_type == "signal") {
        let id = uuid_of(event)?;
        let decoded = event.decode::<SignalEvent>()?;
        if let SignalEvent::SignalGenerated {
            facts,
            pattern_id,
            pattern,
            zone_low,
            zone_high,
            timeframes_aligned,
            confluence,
            levels,
            valid_until,
        } = &decoded
        {
            rows.insert(
                id,
                SignalView {
                    signal_id: id,
                    symbol: facts.symbol.to_string(),
                    direction: facts.direction.as_str().to_owned(),
                    created_at: facts.created_at,
                    pattern_id: *pattern_id,
                    pattern_timeframe: pattern.timeframe.to_string(),
                    pattern_type: pattern.pattern_type.as_str().to_owned(),
                    pattern_detected_ts: pattern.detected_ts,
                    zone_low: *zone_low,
                    zone_high: *zone_high,
                    timeframes_aligned: timeframes_aligned
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                    confluence: i32::try_from(*confluence).unwrap_or(i32::MAX),
                    atr: levels.atr,
                    entry: levels.entry,
                    stop_loss: levels.stop_loss,
                    take_profit_1: levels.take_profit_1,
                    take_profit_2: levels.take_profit_2,
                    take_profit_3: levels.take_profit_3,
                    risk: levels.risk,
                    risk_reward: levels.risk_reward,
                    valid_until: *valid_until,
                    entered_at: None,
                    tp1_at: None,
                    tp2_at: None,
                    tp3_at: None,
                    resolved_at: None,
                    outcome: None,
                    closed_by: None,
                },
            );
            continue;
        }
        match rows.get_mut(&id) {
            Some(row) => apply(
                &decoded,
                &mut row.entered_at,
                [&mut row.tp1_at, &mut row.tp2_at, &mut row.tp3_at],
                (&mut row.resolved_at, &mut row.outcome, &mut row.closed_by),
            ),
            None => {
                let p = progress.entry(id).or_insert_with(|| SignalProgress {
                    signal_id: id,
                    ..SignalProgress::default()
                });
                apply(
                    &decoded,
                    &mut p.entered_at,
                    [&mut p.tp1_at, &mut p.tp2_at, &mut p.tp3_at],
                    (&mut p.resolved_at, &mut p.outcome, &mut p.closed_by),
                );
            }
        }
    }
    Ok(SignalChanges {
        rows: rows.into_values().collect(),
        progress: progress.into_values().collect(),
    })
}
