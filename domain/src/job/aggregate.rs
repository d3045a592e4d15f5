//! A job run's decision logic and events.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::FIRST_EVENT_VERSION;
use crate::market::Symbol;

/// What one market job did for one symbol.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SymbolReport {
    pub symbol: String,
    /// 1m candles the exchange returned.
    pub fetched: u64,
    /// 1m candles inserted or changed.
    pub stored: u64,
    /// Candles rejected by the sanity rules (each one logged).
    pub rejected: u64,
    /// Higher-timeframe candles written.
    pub aggregated: u64,
    pub patterns_detected: u64,
    pub patterns_closed: u64,
    pub signals_generated: u64,
    pub signals_resolved: u64,
    /// First and last open time of the 1m candles this run processed.
    pub first_open_time: Option<i64>,
    pub last_open_time: Option<i64>,
    /// Holes in the 1m sequence this run saw, and the minutes missing.
    pub gaps: u64,
    pub missing_minutes: u64,
    /// Set when this symbol failed (the run carried on with the others).
    pub error: Option<String>,
}

impl SymbolReport {
    pub fn new(symbol: &Symbol) -> Self {
        Self {
            symbol: symbol.to_string(),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum JobCommand {
    Start {
        job: String,
        instance: String,
        now: OffsetDateTime,
    },
    Finish {
        symbols: Vec<SymbolReport>,
        now: OffsetDateTime,
    },
    Fail {
        reason: String,
        now: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum JobEvent {
    JobStarted {
        job: String,
        /// Which process ran it.
        instance: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    JobFinished {
        job: String,
        symbols: Vec<SymbolReport>,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    JobFailed {
        job: String,
        reason: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl JobEvent {
    pub const STARTED: &'static str = "JobStarted";
    pub const FINISHED: &'static str = "JobFinished";
    pub const FAILED: &'static str = "JobFailed";
    pub const ALL: &'static [&'static str] = &[Self::STARTED, Self::FINISHED, Self::FAILED];
}

impl DomainEvent for JobEvent {
    fn event_type(&self) -> String {
        match self {
            Self::JobStarted { .. } => Self::STARTED,
            Self::JobFinished { .. } => Self::FINISHED,
            Self::JobFailed { .. } => Self::FAILED,
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("the run has already started")]
    AlreadyStarted,
    #[error("the run has not started")]
    NotStarted,
    #[error("the run is already over")]
    AlreadyOver,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRun {
    job: Option<String>,
    over: bool,
}

impl Aggregate for JobRun {
    const TYPE: &'static str = "job_run";
    type Command = JobCommand;
    type Event = JobEvent;
    type Error = JobError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match (command, self.job.clone()) {
            (JobCommand::Start { .. }, Some(_)) => return Err(JobError::AlreadyStarted),
            (JobCommand::Start { job, instance, now }, None) => JobEvent::JobStarted {
                job,
                instance,
                at: now,
            },
            (_, None) => return Err(JobError::NotStarted),
            (_, Some(_)) if self.over => return Err(JobError::AlreadyOver),
            (JobCommand::Finish { symbols, now }, Some(job)) => JobEvent::JobFinished {
                job,
                symbols,
                at: now,
            },
            (JobCommand::Fail { reason, now }, Some(job)) => JobEvent::JobFailed {
                job,
                reason,
                at: now,
            },
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            JobEvent::JobStarted { job, .. } => self.job = Some(job),
            JobEvent::JobFinished { .. } | JobEvent::JobFailed { .. } => self.over = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

    fn started() -> JobEvent {
        JobEvent::JobStarted {
            job: "market-scan".into(),
            instance: "host-1".into(),
            at: NOW,
        }
    }

    #[test]
    fn a_run_starts_then_finishes_with_its_counts() {
        let report = SymbolReport {
            symbol: "BTC/USDT".into(),
            fetched: 3,
            ..SymbolReport::default()
        };
        TestFramework::<JobRun>::with(())
            .given(vec![started()])
            .when(JobCommand::Finish {
                symbols: vec![report.clone()],
                now: NOW,
            })
            .then_expect_events(vec![JobEvent::JobFinished {
                job: "market-scan".into(),
                symbols: vec![report],
                at: NOW,
            }]);
    }

    #[test]
    fn a_run_ends_only_once() {
        TestFramework::<JobRun>::with(())
            .given(vec![
                started(),
                JobEvent::JobFailed {
                    job: "market-scan".into(),
                    reason: "database down".into(),
                    at: NOW,
                },
            ])
            .when(JobCommand::Finish {
                symbols: vec![],
                now: NOW,
            })
            .then_expect_error(JobError::AlreadyOver);
        TestFramework::<JobRun>::with(())
            .given_no_previous_events()
            .when(JobCommand::Fail {
                reason: "x".into(),
                now: NOW,
            })
            .then_expect_error(JobError::NotStarted);
    }
}
