//! The subscription's decisions and state.

use std::collections::BTreeSet;

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{
    EXPIRY_WARNING_AHEAD, GRACE_PERIOD, SubscriptionCommand, SubscriptionError, SubscriptionEvent,
};
use crate::billing::{PlanChoice, Tier};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    #[default]
    None,
    Active,
    Cancelled,
    Suspended,
    Revoked,
    Expired,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    status: Status,
    choice: Option<PlanChoice>,
    period_end: Option<OffsetDateTime>,
    credited: BTreeSet<String>,
    warned_for: Option<OffsetDateTime>,
}

impl Subscription {
    pub fn status(&self) -> Status {
        self.status
    }

    pub fn choice(&self) -> Option<PlanChoice> {
        self.choice
    }

    pub fn period_end(&self) -> Option<OffsetDateTime> {
        self.period_end
    }

    /// The tier this subscription gives at `now`.
    pub fn tier_at(&self, now: OffsetDateTime) -> Tier {
        match (self.running_choice(now), self.status) {
            (Some(choice), Status::Active | Status::Cancelled) => choice.plan.tier(),
            _ => Tier::Free,
        }
    }

    /// The plan whose period (with grace when lapsed, without when
    /// cancelled) still runs at `now`, whatever the status.
    fn running_choice(&self, now: OffsetDateTime) -> Option<PlanChoice> {
        let (choice, end) = (self.choice?, self.period_end?);
        let until = match self.status {
            Status::Cancelled => end,
            Status::Active | Status::Suspended => end + GRACE_PERIOD,
            Status::None | Status::Revoked | Status::Expired => return None,
        };
        (now < until).then_some(choice)
    }

    /// The event that gives `choice` for `length` more: a renewal from the
    /// current end when the same plan still runs, otherwise a new period
    /// from now carrying over the value of the unused time.
    fn next_period(
        &self,
        choice: PlanChoice,
        length: Duration,
        payment_ref: Option<String>,
        now: OffsetDateTime,
    ) -> SubscriptionEvent {
        match (self.running_choice(now), self.period_end) {
            (Some(current), Some(end)) if current.plan == choice.plan => {
                SubscriptionEvent::SubscriptionRenewed {
                    choice,
                    payment_ref,
                    previous_end: end,
                    period_end: end + length,
                }
            }
            (running, end) => {
                let unused = match (running, end) {
                    (Some(current), Some(end)) if end > now => current.cents_for(end - now),
                    _ => 0,
                };
                let credit_seconds = choice.seconds_for_cents(unused);
                SubscriptionEvent::SubscriptionActivated {
                    choice,
                    payment_ref,
                    period_start: now,
                    period_end: now + length + Duration::seconds(credit_seconds),
                    credit_seconds,
                }
            }
        }
    }
}

impl Aggregate for Subscription {
    const TYPE: &'static str = "subscription";
    type Command = SubscriptionCommand;
    type Event = SubscriptionEvent;
    type Error = SubscriptionError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            SubscriptionCommand::CreditPayment {
                choice,
                payment_ref,
                now,
            } => {
                if self.credited.contains(&payment_ref) {
                    return Ok(());
                }
                self.next_period(choice, choice.cycle.period(), Some(payment_ref), now)
            }
            SubscriptionCommand::Grant { choice, days, now } => {
                if days == 0 {
                    return Err(SubscriptionError::EmptyGrant);
                }
                self.next_period(choice, Duration::days(i64::from(days)), None, now)
            }
            SubscriptionCommand::Cancel { now } => {
                let end = self.period_end.ok_or(SubscriptionError::NoSubscription)?;
                match self.status {
                    Status::None => return Err(SubscriptionError::NoSubscription),
                    Status::Cancelled => return Err(SubscriptionError::AlreadyCancelled),
                    _ if now >= end || self.status != Status::Active => {
                        return Err(SubscriptionError::PeriodEnded);
                    }
                    _ => SubscriptionEvent::SubscriptionCancelled {
                        at: now,
                        access_until: end,
                    },
                }
            }
            SubscriptionCommand::Reactivate { now } => {
                if !matches!(self.status, Status::Cancelled | Status::Suspended) {
                    return Err(SubscriptionError::NotPaused);
                }
                if self.period_end.is_none_or(|end| now >= end) {
                    return Err(SubscriptionError::PeriodEnded);
                }
                SubscriptionEvent::SubscriptionReactivated { at: now }
            }
            SubscriptionCommand::Suspend { reason, now } => {
                if self.status == Status::None {
                    return Err(SubscriptionError::NoSubscription);
                }
                if self.status == Status::Suspended {
                    return Ok(());
                }
                SubscriptionEvent::SubscriptionSuspended { reason, at: now }
            }
            SubscriptionCommand::Revoke {
                payment_ref,
                reason,
                now,
            } => {
                if !self.credited.contains(&payment_ref) || self.status == Status::Revoked {
                    return Ok(());
                }
                SubscriptionEvent::AccessRevoked {
                    payment_ref,
                    reason,
                    at: now,
                }
            }
            SubscriptionCommand::Expire { now } => {
                let ended = match (self.status, self.period_end) {
                    (Status::Active, Some(end)) => now >= end + GRACE_PERIOD,
                    (Status::Cancelled, Some(end)) => now >= end,
                    _ => false,
                };
                if !ended {
                    return Ok(());
                }
                SubscriptionEvent::SubscriptionExpired { at: now }
            }
            SubscriptionCommand::RecordExpiryWarning { now } => {
                let due = match (self.status, self.period_end) {
                    (Status::Active, Some(end)) => {
                        now < end
                            && end - now <= EXPIRY_WARNING_AHEAD
                            && self.warned_for != Some(end)
                    }
                    _ => false,
                };
                match (due, self.period_end) {
                    (true, Some(period_end)) => SubscriptionEvent::ExpiryWarningSent {
                        period_end,
                        at: now,
                    },
                    _ => return Ok(()),
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            SubscriptionEvent::SubscriptionActivated {
                choice,
                payment_ref,
                period_end,
                ..
            }
            | SubscriptionEvent::SubscriptionRenewed {
                choice,
                payment_ref,
                period_end,
                ..
            } => {
                // A payment never lifts an admin's suspension.
                if self.status != Status::Suspended {
                    self.status = Status::Active;
                }
                self.choice = Some(choice);
                self.period_end = Some(period_end);
                self.credited.extend(payment_ref);
            }
            SubscriptionEvent::SubscriptionCancelled { .. } => self.status = Status::Cancelled,
            SubscriptionEvent::SubscriptionReactivated { .. } => self.status = Status::Active,
            SubscriptionEvent::SubscriptionSuspended { .. } => self.status = Status::Suspended,
            SubscriptionEvent::AccessRevoked { .. } => self.status = Status::Revoked,
            SubscriptionEvent::SubscriptionExpired { .. } => self.status = Status::Expired,
            SubscriptionEvent::ExpiryWarningSent { period_end, .. } => {
                self.warned_for = Some(period_end)
            }
        }
    }
}
