//! The `subscriptions` projection: one row per user who ever had a plan,
//! with its status, period and `access_until` (the instant the tier drops
//! to free: the period end plus the 3-day grace while active, the period
//! end when cancelled, none once suspended, revoked or expired). The SQL
//! function `cryptolens_account_tier_at` reads it.
//!
//! A batch folds into at most one partial row per user; `None` leaves a
//! column as it is. The one rule that needs the stored row: a payment does
//! not lift a suspension ([`SubscriptionChange::payment_keeps_suspension`]).

use std::collections::BTreeMap;

use domain::billing::subscription::SubscriptionEvent;
use domain::billing::{BillingCycle, Plan};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{ProjectionError, RecordedEvent};

pub const NAME: &str = "subscriptions";
pub const TABLE: &str = "subscriptions_view";
pub const AGGREGATE_TYPE: &str = "subscription";
pub const EVENT_TYPES: &[&str] = &[
    "SubscriptionActivated",
    "SubscriptionRenewed",
    "SubscriptionCancelled",
    "SubscriptionReactivated",
    "SubscriptionSuspended",
    "AccessRevoked",
    "SubscriptionExpired",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Cancelled,
    Suspended,
    Revoked,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Cancelled => "cancelled",
            Self::Suspended => "suspended",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

pub fn plan_name(plan: Plan) -> &'static str {
    match plan {
        Plan::Pro => "pro",
        Plan::Premium => "premium",
    }
}

pub fn cycle_name(cycle: BillingCycle) -> &'static str {
    match cycle {
        BillingCycle::Monthly => "monthly",
        BillingCycle::Yearly => "yearly",
    }
}

/// What a batch changes for one user.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionChange {
    pub user_id: Uuid,
    pub plan: Option<Plan>,
    pub cycle: Option<BillingCycle>,
    pub period_start: Option<OffsetDateTime>,
    pub period_end: Option<OffsetDateTime>,
    pub status: Option<Status>,
    /// The status is `Active` from a payment or grant, which leaves a
    /// stored `suspended` as it is (the batch did not know the old status).
    pub payment_keeps_suspension: bool,
    pub updated_at: OffsetDateTime,
    /// Applied only to rows that have not seen `first_sequence`.
    pub first_sequence: i64,
    pub last_sequence: i64,
}

pub fn changes(events: &[RecordedEvent]) -> Result<Vec<SubscriptionChange>, ProjectionError> {
    let mut by_user: BTreeMap<Uuid, SubscriptionChange> = BTreeMap::new();
    for event in events.iter().filter(|e| e.aggregate_type == AGGREGATE_TYPE) {
        let user_id =
            Uuid::parse_str(&event.aggregate_id).map_err(|_| ProjectionError::BadAggregateId {
                position: event.global_position,
                aggregate_id: event.aggregate_id.clone(),
            })?;
        let change = by_user
            .entry(user_id)
            .or_insert_with(|| SubscriptionChange {
                user_id,
                plan: None,
                cycle: None,
                period_start: None,
                period_end: None,
                status: None,
                payment_keeps_suspension: false,
                updated_at: event.recorded_at,
                first_sequence: event.sequence,
                last_sequence: event.sequence,
            });
        change.last_sequence = event.sequence;
        change.updated_at = event.recorded_at;
        let set_status = |change: &mut SubscriptionChange, status| {
            change.status = Some(status);
            change.payment_keeps_suspension = false;
        };
        match event.decode::<SubscriptionEvent>()? {
            SubscriptionEvent::SubscriptionActivated {
                choice,
                period_start,
                period_end,
                ..
            } => {
                paid(change, choice.plan, choice.cycle, period_end);
                change.period_start = Some(period_start);
            }
            SubscriptionEvent::SubscriptionRenewed {
                choice, period_end, ..
            } => paid(change, choice.plan, choice.cycle, period_end),
            SubscriptionEvent::SubscriptionCancelled { .. } => {
                set_status(change, Status::Cancelled)
            }
            SubscriptionEvent::SubscriptionReactivated { .. } => set_status(change, Status::Active),
            SubscriptionEvent::SubscriptionSuspended { .. } => {
                set_status(change, Status::Suspended)
            }
            SubscriptionEvent::AccessRevoked { .. } => set_status(change, Status::Revoked),
            SubscriptionEvent::SubscriptionExpired { .. } => set_status(change, Status::Expired),
            SubscriptionEvent::ExpiryWarningSent { .. } => {}
        }
    }
    Ok(by_user.into_values().collect())
}

/// A payment or grant: the new period, and `active` unless suspended.
fn paid(change: &mut SubscriptionChange, plan: Plan, cycle: BillingCycle, end: OffsetDateTime) {
    change.plan = Some(plan);
    change.cycle = Some(cycle);
    change.period_end = Some(end);
    match change.status {
        Some(Status::Suspended) => {}
        Some(_) => change.status = Some(Status::Active),
        None => {
            change.status = Some(Status::Active);
            change.payment_keeps_suspension = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::billing::PlanChoice;
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn recorded(sequence: i64, event: &SubscriptionEvent) -> RecordedEvent {
        let payload = serde_json::to_value(event).unwrap();
        RecordedEvent {
            global_position: sequence,
            aggregate_type: AGGREGATE_TYPE.into(),
            aggregate_id: Uuid::from_u128(7).to_string(),
            sequence,
            event_type: payload.as_object().unwrap().keys().next().unwrap().clone(),
            event_version: "1.0".into(),
            payload,
            metadata: json!({}),
            recorded_at: datetime!(2026-11-28 00:00 UTC),
        }
    }

    const PRO: PlanChoice = PlanChoice {
        plan: Plan::Pro,
        cycle: BillingCycle::Monthly,
    };

    #[test]
    fn activation_renewal_and_cancellation_fold_into_one_row() {
        let events = [
            recorded(
                1,
                &SubscriptionEvent::SubscriptionActivated {
                    choice: PRO,
                    payment_ref: None,
                    period_start: datetime!(2026-11-01 00:00 UTC),
                    period_end: datetime!(2026-12-01 00:00 UTC),
                    credit_seconds: 0,
                },
            ),
            recorded(
                2,
                &SubscriptionEvent::SubscriptionRenewed {
                    choice: PRO,
                    payment_ref: Some("lemonsqueezy:1".into()),
                    previous_end: datetime!(2026-12-01 00:00 UTC),
                    period_end: datetime!(2026-12-31 00:00 UTC),
                },
            ),
            recorded(
                3,
                &SubscriptionEvent::SubscriptionCancelled {
                    at: datetime!(2026-11-20 00:00 UTC),
                    access_until: datetime!(2026-12-31 00:00 UTC),
                },
            ),
        ];
        let changes = changes(&events).unwrap();
        assert_eq!(changes.len(), 1);
        let change = &changes[0];
        assert_eq!(change.plan, Some(Plan::Pro));
        assert_eq!(change.period_start, Some(datetime!(2026-11-01 00:00 UTC)));
        assert_eq!(change.period_end, Some(datetime!(2026-12-31 00:00 UTC)));
        assert_eq!(change.status, Some(Status::Cancelled));
        assert!(!change.payment_keeps_suspension);
        assert_eq!((change.first_sequence, change.last_sequence), (1, 3));
    }

    #[test]
    fn a_payment_after_a_suspension_in_the_same_batch_stays_suspended() {
        let events = [
            recorded(
                4,
                &SubscriptionEvent::SubscriptionSuspended {
                    reason: "abuse".into(),
                    at: datetime!(2026-11-20 00:00 UTC),
                },
            ),
            recorded(
                5,
                &SubscriptionEvent::SubscriptionRenewed {
                    choice: PRO,
                    payment_ref: Some("nowpayments:9".into()),
                    previous_end: datetime!(2026-12-01 00:00 UTC),
                    period_end: datetime!(2026-12-31 00:00 UTC),
                },
            ),
        ];
        let changes = changes(&events).unwrap();
        assert_eq!(changes[0].status, Some(Status::Suspended));
        let only_payment = changes_of(&events[1..]);
        assert_eq!(only_payment.status, Some(Status::Active));
        assert!(only_payment.payment_keeps_suspension);
    }

    fn changes_of(events: &[RecordedEvent]) -> SubscriptionChange {
        changes(events).unwrap().remove(0)
    }
}
