//! The pattern's decision logic. Both commands are idempotent: detecting a
//! known pattern or closing a closed one records nothing, so a scan that is
//! re-run after a crash repeats no event.

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use super::event::{PatternEvent, PatternFacts};
use crate::market::Symbol;
use crate::market::tracker::{Closure, TrackedPattern};

#[derive(Debug, Clone, PartialEq)]
pub enum PatternCommand {
    Detect {
        symbol: Symbol,
        pattern: TrackedPattern,
    },
    Close {
        closure: Closure,
        at: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("no such pattern was detected")]
    NotDetected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternStatus {
    Active,
    Filled,
    Invalidated,
    Expired,
}

impl PatternStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            PatternStatus::Active => "active",
            PatternStatus::Filled => "filled",
            PatternStatus::Invalidated => "invalidated",
            PatternStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            PatternStatus::Active,
            PatternStatus::Filled,
            PatternStatus::Invalidated,
            PatternStatus::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A detected pattern's state.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackedZone {
    facts: Option<PatternFacts>,
    status: Option<PatternStatus>,
}

impl TrackedZone {
    pub fn status(&self) -> Option<PatternStatus> {
        self.status
    }
}

impl Aggregate for TrackedZone {
    const TYPE: &'static str = "pattern";
    type Command = PatternCommand;
    type Event = PatternEvent;
    type Error = PatternError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            PatternCommand::Detect { .. } if self.facts.is_some() => return Ok(()),
            PatternCommand::Detect { symbol, pattern } => PatternEvent::PatternDetected {
                facts: PatternFacts {
                    symbol,
                    timeframe: pattern.key.timeframe,
                    pattern_type: pattern.key.pattern_type,
                    direction: pattern.key.direction,
                    detected_ts: pattern.key.detected_ts,
                },
                zone_low: pattern.zone_low,
                zone_high: pattern.zone_high,
                swept_level: pattern.swept_level,
                known_at: pattern.known_at,
                expires_at: pattern.expires_at,
                levels: pattern.levels,
            },
            PatternCommand::Close { closure, at } => {
                let facts = self.facts.clone().ok_or(PatternError::NotDetected)?;
                if self.status != Some(PatternStatus::Active) {
                    return Ok(());
                }
                match closure {
                    Closure::Filled => PatternEvent::PatternFilled { facts, at },
                    Closure::Invalidated => PatternEvent::PatternInvalidated { facts, at },
                    Closure::Expired => PatternEvent::PatternExpired { facts, at },
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.status = Some(match &event {
            PatternEvent::PatternDetected { .. } => PatternStatus::Active,
            PatternEvent::PatternFilled { .. } => PatternStatus::Filled,
            PatternEvent::PatternInvalidated { .. } => PatternStatus::Invalidated,
            PatternEvent::PatternExpired { .. } => PatternStatus::Expired,
        });
        if self.facts.is_none() {
            self.facts = Some(event.facts().clone());
        }
    }
}
