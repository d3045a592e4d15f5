use cqrs_es::Aggregate;
use cqrs_es::test::TestFramework;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::billing::{BillingCycle, Plan, PlanChoice, Tier};

type SubscriptionTest = TestFramework<Subscription>;

const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

fn pro() -> PlanChoice {
    PlanChoice {
        plan: Plan::Pro,
        cycle: BillingCycle::Monthly,
    }
}

fn premium() -> PlanChoice {
    PlanChoice {
        plan: Plan::Premium,
        cycle: BillingCycle::Monthly,
    }
}

fn activated(choice: PlanChoice, payment: &str) -> SubscriptionEvent {
    SubscriptionEvent::SubscriptionActivated {
        choice,
        payment_ref: Some(payment.into()),
        period_start: T0,
        period_end: T0 + Duration::days(30),
        credit_seconds: 0,
    }
}

fn credit(choice: PlanChoice, payment: &str, now: OffsetDateTime) -> SubscriptionCommand {
    SubscriptionCommand::CreditPayment {
        choice,
        payment_ref: payment.into(),
        now,
    }
}

fn state(events: Vec<SubscriptionEvent>) -> Subscription {
    let mut subscription = Subscription::default();
    for event in events {
        subscription.apply(event);
    }
    subscription
}

#[test]
fn a_first_payment_starts_a_thirty_day_period() {
    SubscriptionTest::with(())
        .given_no_previous_events()
        .when(credit(pro(), "ls:1", T0))
        .then_expect_events(vec![activated(pro(), "ls:1")]);
}

#[test]
fn the_same_payment_is_credited_once() {
    SubscriptionTest::with(())
        .given(vec![activated(pro(), "ls:1")])
        .when(credit(pro(), "ls:1", T0 + Duration::days(1)))
        .then_expect_events(vec![]);
}

#[test]
fn a_renewal_extends_from_the_current_end_not_from_now() {
    SubscriptionTest::with(())
        .given(vec![activated(pro(), "ls:1")])
        .when(credit(pro(), "ls:2", T0 + Duration::days(20)))
        .then_expect_events(vec![SubscriptionEvent::SubscriptionRenewed {
            choice: pro(),
            payment_ref: Some("ls:2".into()),
            previous_end: T0 + Duration::days(30),
            period_end: T0 + Duration::days(60),
        }]);
}

#[test]
fn a_renewal_within_grace_still_extends_from_the_end() {
    SubscriptionTest::with(())
        .given(vec![activated(pro(), "ls:1")])
        .when(credit(pro(), "ls:2", T0 + Duration::days(32)))
        .then_expect_events(vec![SubscriptionEvent::SubscriptionRenewed {
            choice: pro(),
            payment_ref: Some("ls:2".into()),
            previous_end: T0 + Duration::days(30),
            period_end: T0 + Duration::days(60),
        }]);
}

#[test]
fn upgrading_converts_the_unused_pro_time_into_premium_time() {
    let now = T0 + Duration::days(15);
    // 15 unused Pro days are worth 950 cents = 950/4900 of a Premium month.
    let credit_seconds = 950 * 30 * 86_400 / 4_900;
    SubscriptionTest::with(())
        .given(vec![activated(pro(), "ls:1")])
        .when(credit(premium(), "ls:2", now))
        .then_expect_events(vec![SubscriptionEvent::SubscriptionActivated {
            choice: premium(),
            payment_ref: Some("ls:2".into()),
            period_start: now,
            period_end: now + Duration::days(30) + Duration::seconds(credit_seconds),
            credit_seconds,
        }]);
}

#[test]
fn a_payment_after_the_grace_period_starts_afresh() {
    let now = T0 + Duration::days(40);
    SubscriptionTest::with(())
        .given(vec![activated(pro(), "ls:1")])
        .when(credit(pro(), "ls:2", now))
        .then_expect_events(vec![SubscriptionEvent::SubscriptionActivated {
            choice: pro(),
            payment_ref: Some("ls:2".into()),
            period_start: now,
            period_end: now + Duration::days(30),
            credit_seconds: 0,
        }]);
}

#[test]
fn the_grace_period_boundary_is_three_days_after_the_end() {
    let s = state(vec![activated(pro(), "ls:1")]);
    let end = T0 + Duration::days(30);
    assert_eq!(s.tier_at(T0), Tier::Pro);
    assert_eq!(
        s.tier_at(end + GRACE_PERIOD - Duration::seconds(1)),
        Tier::Pro
    );
    assert_eq!(s.tier_at(end + GRACE_PERIOD), Tier::Free);
}

#[test]
fn a_cancelled_subscription_keeps_access_until_the_period_end() {
    let end = T0 + Duration::days(30);
    let cancelled = SubscriptionEvent::SubscriptionCancelled {
        at: T0 + Duration::days(5),
        access_until: end,
    };
    SubscriptionTest::with(())
        .given(vec![activated(pro(), "ls:1")])
        .when(SubscriptionCommand::Cancel {
            now: T0 + Duration::days(5),
        })
        .then_expect_events(vec![cancelled.clone()]);
    let s = state(vec![activated(pro(), "ls:1"), cancelled]);
    assert_eq!(s.tier_at(end - Duration::seconds(1)), Tier::Pro);
    assert_eq!(s.tier_at(end), Tier::Free, "no grace after a cancellation");
}

#[test]
fn a_refund_revokes_access_at_once() {
    let revoked = SubscriptionEvent::AccessRevoked {
        payment_ref: "ls:1".into(),
        reason: RevocationReason::Refund,
        at: T0 + Duration::days(2),
    };
    SubscriptionTest::with(())
        .given(vec![activated(pro(), "ls:1")])
        .when(SubscriptionCommand::Revoke {
            payment_ref: "ls:1".into(),
            reason: RevocationReason::Refund,
            now: T0 + Duration::days(2),
        })
        .then_expect_events(vec![revoked.clone()]);
    assert_eq!(
        state(vec![activated(pro(), "ls:1"), revoked]).tier_at(T0 + Duration::days(2)),
        Tier::Free
    );
}

#[test]
fn revoking_a_payment_that_was_never_credited_changes_nothing() {
    SubscriptionTest::with(())
        .given(vec![activated(pro(), "ls:1")])
        .when(SubscriptionCommand::Revoke {
            payment_ref: "ls:9".into(),
            reason: RevocationReason::Chargeback,
            now: T0,
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_suspension_drops_to_free_and_payments_do_not_lift_it() {
    let suspended = SubscriptionEvent::SubscriptionSuspended {
        reason: "fraud review".into(),
        at: T0,
    };
    let s = state(vec![activated(pro(), "ls:1"), suspended.clone()]);
    assert_eq!(s.tier_at(T0 + Duration::days(1)), Tier::Free);
    let renewed = SubscriptionEvent::SubscriptionRenewed {
        choice: pro(),
        payment_ref: Some("ls:2".into()),
        previous_end: T0 + Duration::days(30),
        period_end: T0 + Duration::days(60),
    };
    let s = state(vec![activated(pro(), "ls:1"), suspended, renewed]);
    assert_eq!(s.status(), Status::Suspended);
    assert_eq!(s.tier_at(T0 + Duration::days(1)), Tier::Free);
}

#[test]
fn reactivation_restores_a_cancelled_period() {
    let cancelled = SubscriptionEvent::SubscriptionCancelled {
        at: T0,
        access_until: T0 + Duration::days(30),
    };
    SubscriptionTest::with(())
        .given(vec![activated(pro(), "ls:1"), cancelled.clone()])
        .when(SubscriptionCommand::Reactivate {
            now: T0 + Duration::days(1),
        })
        .then_expect_events(vec![SubscriptionEvent::SubscriptionReactivated {
            at: T0 + Duration::days(1),
        }]);
    SubscriptionTest::with(())
        .given(vec![activated(pro(), "ls:1"), cancelled])
        .when(SubscriptionCommand::Reactivate {
            now: T0 + Duration::days(31),
        })
        .then_expect_error(SubscriptionError::PeriodEnded);
}

#[test]
fn expiry_waits_for_the_grace_period() {
    let end = T0 + Duration::days(30);
    SubscriptionTest::with(())
        .given(vec![activated(pro(), "ls:1")])
        .when(SubscriptionCommand::Expire {
            now: end + Duration::days(2),
        })
        .then_expect_events(vec![]);
    SubscriptionTest::with(())
        .given(vec![activated(pro(), "ls:1")])
        .when(SubscriptionCommand::Expire {
            now: end + GRACE_PERIOD,
        })
        .then_expect_events(vec![SubscriptionEvent::SubscriptionExpired {
            at: end + GRACE_PERIOD,
        }]);
}

#[test]
fn the_expiry_warning_goes_out_once_three_days_ahead() {
    let end = T0 + Duration::days(30);
    SubscriptionTest::with(())
        .given(vec![activated(pro(), "ls:1")])
        .when(SubscriptionCommand::RecordExpiryWarning {
            now: end - Duration::days(4),
        })
        .then_expect_events(vec![]);
    let warned = SubscriptionEvent::ExpiryWarningSent {
        period_end: end,
        at: end - Duration::days(3),
    };
    SubscriptionTest::with(())
        .given(vec![activated(pro(), "ls:1")])
        .when(SubscriptionCommand::RecordExpiryWarning {
            now: end - Duration::days(3),
        })
        .then_expect_events(vec![warned.clone()]);
    SubscriptionTest::with(())
        .given(vec![activated(pro(), "ls:1"), warned])
        .when(SubscriptionCommand::RecordExpiryWarning {
            now: end - Duration::days(1),
        })
        .then_expect_events(vec![]);
}

#[test]
fn admin_grants_renew_the_same_plan_and_need_days() {
    SubscriptionTest::with(())
        .given(vec![activated(pro(), "ls:1")])
        .when(SubscriptionCommand::Grant {
            choice: pro(),
            days: 7,
            now: T0,
        })
        .then_expect_events(vec![SubscriptionEvent::SubscriptionRenewed {
            choice: pro(),
            payment_ref: None,
            previous_end: T0 + Duration::days(30),
            period_end: T0 + Duration::days(37),
        }]);
    SubscriptionTest::with(())
        .given_no_previous_events()
        .when(SubscriptionCommand::Grant {
            choice: pro(),
            days: 0,
            now: T0,
        })
        .then_expect_error(SubscriptionError::EmptyGrant);
}
