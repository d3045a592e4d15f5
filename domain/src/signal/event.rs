//! What happened to a signal. Variant names are the frozen `event_type`s.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::FIRST_EVENT_VERSION;
use crate::market::tracker::{ClosedBy, Outcome, PatternKey, SignalLevels};
use crate::market::{Direction, Symbol, Timeframe};

/// Which signal an event is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalFacts {
    pub symbol: Symbol,
    pub direction: Direction,
    /// The 1m close after which it was generated (ms).
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SignalEvent {
    SignalGenerated {
        #[serde(flatten)]
        facts: SignalFacts,
        pattern_id: Uuid,
        pattern: PatternKey,
        zone_low: f64,
        zone_high: f64,
        /// Timeframes agreeing with the direction, shortest first.
        timeframes_aligned: Vec<Timeframe>,
        confluence: usize,
        levels: SignalLevels,
        valid_until: i64,
    },
    SignalEntered {
        #[serde(flatten)]
        facts: SignalFacts,
        at: i64,
    },
    SignalTargetReached {
        #[serde(flatten)]
        facts: SignalFacts,
        target: u8,
        at: i64,
    },
    SignalResolved {
        #[serde(flatten)]
        facts: SignalFacts,
        outcome: Outcome,
        closed_by: ClosedBy,
        at: i64,
    },
}

impl SignalEvent {
    pub const GENERATED: &'static str = "SignalGenerated";
    pub const ENTERED: &'static str = "SignalEntered";
    pub const TARGET_REACHED: &'static str = "SignalTargetReached";
    pub const RESOLVED: &'static str = "SignalResolved";
    pub const ALL: &'static [&'static str] = &[
        Self::GENERATED,
        Self::ENTERED,
        Self::TARGET_REACHED,
        Self::RESOLVED,
    ];

    pub fn facts(&self) -> &SignalFacts {
        match self {
            Self::SignalGenerated { facts, .. }
            | Self::SignalEntered { facts, .. }
            | Self::SignalTargetReached { facts, .. }
            | Self::SignalResolved { facts, .. } => facts,
        }
    }
}

impl DomainEvent for SignalEvent {
    fn event_type(&self) -> String {
        match self {
            Self::SignalGenerated { .. } => Self::GENERATED,
            Self::SignalEntered { .. } => Self::ENTERED,
            Self::SignalTargetReached { .. } => Self::TARGET_REACHED,
            Self::SignalResolved { .. } => Self::RESOLVED,
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}
