//! The signal's decision logic. Every command is idempotent (a repeated
//! step records nothing), so a re-run scan repeats no event.

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::{SignalEvent, SignalFacts};
use crate::market::Symbol;
use crate::market::tracker::{ClosedBy, Outcome, TrackedSignal};

#[derive(Debug, Clone, PartialEq)]
pub enum SignalCommand {
    Generate {
        symbol: Symbol,
        pattern_id: Uuid,
        signal: TrackedSignal,
    },
    Enter {
        at: i64,
    },
    ReachTarget {
        target: u8,
        at: i64,
    },
    Resolve {
        outcome: Outcome,
        closed_by: ClosedBy,
        at: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
    #[error("no such signal was generated")]
    NotGenerated,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    facts: Option<SignalFacts>,
    entered: bool,
    best_target: u8,
    outcome: Option<Outcome>,
}

impl Signal {
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }
}

impl Aggregate for Signal {
    const TYPE: &'static str = "signal";
    type Command = SignalCommand;
    type Event = SignalEvent;
    type Error = SignalError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        if let SignalCommand::Generate {
            symbol,
            pattern_id,
            signal,
        } = command
        {
            if self.facts.is_none() {
                let event = SignalEvent::SignalGenerated {
                    facts: SignalFacts {
                        symbol,
                        direction: signal.key.direction,
                        created_at: signal.key.created_at,
                    },
                    pattern_id,
                    pattern: signal.pattern,
                    zone_low: signal.zone_low,
                    zone_high: signal.zone_high,
                    confluence: signal.aligned.len(),
                    timeframes_aligned: signal.aligned,
                    levels: signal.levels,
                    valid_until: signal.valid_until,
                };
                sink.write(event, self).await;
            }
            return Ok(());
        }
        let facts = self.facts.clone().ok_or(SignalError::NotGenerated)?;
        if self.outcome.is_some() {
            return Ok(());
        }
        let event = match command {
            SignalCommand::Enter { .. } if self.entered => return Ok(()),
            SignalCommand::Enter { at } => SignalEvent::SignalEntered { facts, at },
            SignalCommand::ReachTarget { target, .. } if target <= self.best_target => {
                return Ok(());
            }
            SignalCommand::ReachTarget { target, at } => {
                SignalEvent::SignalTargetReached { facts, target, at }
            }
            SignalCommand::Resolve {
                outcome,
                closed_by,
                at,
            } => SignalEvent::SignalResolved {
                facts,
                outcome,
                closed_by,
                at,
            },
            SignalCommand::Generate { .. } => return Ok(()),
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            SignalEvent::SignalGenerated { facts, .. } => self.facts = Some(facts),
            SignalEvent::SignalEntered { .. } => self.entered = true,
            SignalEvent::SignalTargetReached { target, .. } => self.best_target = target,
            SignalEvent::SignalResolved { outcome, .. } => self.outcome = Some(outcome),
        }
    }
}
