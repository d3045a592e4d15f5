//! `patterns_view` (every pattern with its levels and status) and
//! `pattern_matrix_view` (the active ones, for the matrix).

use std::collections::BTreeMap;

use domain::pattern::{PatternEvent, PatternStatus};
use serde::Serialize;
use uuid::Uuid;

use super::uuid_of;
use crate::{ProjectionError, RecordedEvent};

pub const NAME: &str = "patterns";
pub const TABLE: &str = "patterns_view";
pub const MATRIX_NAME: &str = "pattern_matrix";
pub const MATRIX_TABLE: &str = "pattern_matrix_view";
pub const EVENT_TYPES: &[&str] = PatternEvent::ALL;

/// A row of `patterns_view`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatternView {
    pub pattern_id: Uuid,
    pub symbol: String,
    pub timeframe: String,
    pub pattern_type: String,
    pub direction: String,
    pub detected_ts: i64,
    pub known_at: i64,
    pub expires_at: i64,
    pub zone_low: f64,
    pub zone_high: f64,
    pub swept_level: Option<f64>,
    pub atr: f64,
    pub swing_high: Option<f64>,
    pub swing_low: Option<f64>,
    pub entry: f64,
    pub stop_loss: f64,
    pub take_profit_1: f64,
    pub take_profit_2: f64,
    pub take_profit_3: f64,
    pub risk: f64,
    pub risk_reward_1: f64,
    pub risk_reward_2: f64,
    pub risk_reward_3: f64,
    pub status: String,
    pub closed_at: Option<i64>,
}

/// A pattern that closed (its row existed before this batch).
#[derive(Debug, Clone, PartialEq)]
pub struct PatternClose {
    pub pattern_id: Uuid,
    pub status: String,
    pub closed_at: i64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatternChanges {
    pub rows: Vec<PatternView>,
    pub closes: Vec<PatternClose>,
}

impl PatternChanges {
    /// For the matrix: rows still active after this batch, and the ids to
    /// remove (closed in this batch, detected earlier).
    pub fn matrix(&self) -> (Vec<&PatternView>, Vec<Uuid>) {
        let active = self
            .rows
            .iter()
            .filter(|r| r.status == PatternStatus::Active.as_str())
            .collect();
        let removed = self.closes.iter().map(|c| c.pattern_id).collect();
        (active, removed)
    }
}

fn close(status: PatternStatus, at: i64) -> (String, i64) {
    (status.as_str().to_owned(), at)
}

pub fn changes(events: &[RecordedEvent]) -> Result<PatternChanges, ProjectionError> {
    let mut rows: BTreeMap<Uuid, PatternView> = BTreeMap::new();
    let mut closes: BTreeMap<Uuid, PatternClose> = BTreeMap::new();
    for event in events.iter().filter(|e| e.aggregate_type == "pattern") {
        let id = uuid_of(event)?;
        let (status, at) = match event.decode::<PatternEvent>()? {
            PatternEvent::PatternDetected {
                facts,
                zone_low,
                zone_high,
                swept_level,
                known_at,
                expires_at,
                levels,
            } => {
                rows.insert(
                    id,
                    PatternView {
                        pattern_id: id,
                        symbol: facts.symbol.to_string(),
                        timeframe: facts.timeframe.to_string(),
                        pattern_type: facts.pattern_type.as_str().to_owned(),
                        direction: facts.direction.as_str().to_owned(),
                        detected_ts: facts.detected_ts,
                        known_at,
                        expires_at,
                        zone_low,
                        zone_high,
                        swept_level,
                        atr: levels.atr,
                        swing_high: levels.swing_high,
                        swing_low: levels.swing_low,
                        entry: levels.entry,
                        stop_loss: levels.stop_loss,
                        take_profit_1: levels.take_profit_1,
                        take_profit_2: levels.take_profit_2,
                        take_profit_3: levels.take_profit_3,
                        risk: levels.risk,
                        risk_reward_1: levels.risk_reward_1,
                        risk_reward_2: levels.risk_reward_2,
                        risk_reward_3: levels.risk_reward_3,
                        status: PatternStatus::Active.as_str().to_owned(),
                        closed_at: None,
                    },
                );
                continue;
            }
            PatternEvent::PatternFilled { at, .. } => close(PatternStatus::Filled, at),
            PatternEvent::PatternInvalidated { at, .. } => close(PatternStatus::Invalidated, at),
            PatternEvent::PatternExpired { at, .. } => close(PatternStatus::Expired, at),
        };
        match rows.get_mut(&id) {
            Some(row) => {
                row.status = status;
                row.closed_at = Some(at);
            }
            None => {
                closes.insert(
                    id,
                    PatternClose {
                        pattern_id: id,
                        status,
                        closed_at: at,
                    },
                );
            }
        }
    }
    Ok(PatternChanges {
        rows: rows.into_values().collect(),
        closes: closes.into_values().collect(),
    })
}
