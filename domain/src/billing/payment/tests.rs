use cqrs_es::Aggregate;
use cqrs_es::test::TestFramework;
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

use super::*;
use crate::billing::{BillingCycle, Plan, PlanChoice};

type PaymentTest = TestFramework<Payment>;

const AT: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

fn order() -> Order {
    Order {
        account_id: Uuid::from_u128(42),
        choice: PlanChoice {
            plan: Plan::Pro,
            cycle: BillingCycle::Monthly,
        },
    }
}

fn record(id: &str, update: ProviderUpdate) -> PaymentCommand {
    PaymentCommand::Record {
        provider_event_id: id.into(),
        update,
        order: Some(order()),
        now: AT,
    }
}

fn recorded(id: &str, update: ProviderUpdate) -> PaymentEvent {
    PaymentEvent::ProviderEventRecorded {
        provider_event_id: id.into(),
        update,
        at: AT,
    }
}

fn paid(amount_cents: u64, currency: &str) -> ProviderUpdate {
    ProviderUpdate::Completed {
        amount_cents,
        currency: currency.into(),
    }
}

fn refund() -> ProviderUpdate {
    ProviderUpdate::Reversed {
        reversal: Reversal::Refund,
    }
}

#[test]
fn a_completed_payment_of_the_right_amount_grants_access() {
    PaymentTest::with(())
        .given_no_previous_events()
        .when(record("e1", paid(1_900, "usd")))
        .then_expect_events(vec![
            recorded("e1", paid(1_900, "usd")),
            PaymentEvent::PaymentCompleted {
                order: order(),
                amount_cents: 1_900,
                currency: "USD".into(),
                at: AT,
            },
        ]);
}

#[test]
fn a_duplicate_provider_event_appends_nothing() {
    PaymentTest::with(())
        .given(vec![recorded("e1", paid(1_900, "USD"))])
        .when(record("e1", paid(1_900, "USD")))
        .then_expect_events(vec![]);
}

#[test]
fn a_second_completion_under_another_event_id_grants_nothing_more() {
    PaymentTest::with(())
        .given(vec![
            recorded("e1", paid(1_900, "USD")),
            PaymentEvent::PaymentCompleted {
                order: order(),
                amount_cents: 1_900,
                currency: "USD".into(),
                at: AT,
            },
        ])
        .when(record("e2", paid(1_900, "USD")))
        .then_expect_events(vec![recorded("e2", paid(1_900, "USD"))]);
}

#[test]
fn partial_short_or_foreign_payments_grant_nothing() {
    let partial = ProviderUpdate::PartiallyPaid {
        amount_cents: 1_000,
        currency: "USD".into(),
    };
    PaymentTest::with(())
        .given_no_previous_events()
        .when(record("e1", partial.clone()))
        .then_expect_events(vec![recorded("e1", partial)]);
    for (update, reason) in [
        (paid(1_899, "USD"), RejectionReason::AmountTooLow),
        (paid(1_900, "EUR"), RejectionReason::WrongCurrency),
    ] {
        let ProviderUpdate::Completed {
            amount_cents,
            currency,
        } = update.clone()
        else {
            unreachable!()
        };
        PaymentTest::with(())
            .given_no_previous_events()
            .when(record("e1", update.clone()))
            .then_expect_events(vec![
                recorded("e1", update),
                PaymentEvent::PaymentRejected {
                    reason,
                    amount_cents,
                    currency,
                    at: AT,
                },
            ]);
    }
}

#[test]
fn a_completion_without_a_known_order_is_rejected() {
    PaymentTest::with(())
        .given_no_previous_events()
        .when(PaymentCommand::Record {
            provider_event_id: "e1".into(),
            update: paid(1_900, "USD"),
            order: None,
            now: AT,
        })
        .then_expect_events(vec![
            recorded("e1", paid(1_900, "USD")),
            PaymentEvent::PaymentRejected {
                reason: RejectionReason::UnknownOrder,
                amount_cents: 1_900,
                currency: "USD".into(),
                at: AT,
            },
        ]);
}

#[test]
fn a_refund_after_completion_revokes() {
    PaymentTest::with(())
        .given(vec![
            recorded("e1", paid(1_900, "USD")),
            PaymentEvent::PaymentCompleted {
                order: order(),
                amount_cents: 1_900,
                currency: "USD".into(),
                at: AT,
            },
        ])
        .when(record("e2", refund()))
        .then_expect_events(vec![
            recorded("e2", refund()),
            PaymentEvent::PaymentReversed {
                reversal: Reversal::Refund,
                was_completed: true,
                order: Some(order()),
                at: AT,
            },
        ]);
}

#[test]
fn a_refund_arriving_before_its_order_means_the_order_grants_nothing() {
    let refunded = vec![
        recorded("e2", refund()),
        PaymentEvent::PaymentReversed {
            reversal: Reversal::Refund,
            was_completed: false,
            order: Some(order()),
            at: AT,
        },
    ];
    PaymentTest::with(())
        .given_no_previous_events()
        .when(record("e2", refund()))
        .then_expect_events(refunded.clone());
    PaymentTest::with(())
        .given(refunded)
        .when(record("e1", paid(1_900, "USD")))
        .then_expect_events(vec![recorded("e1", paid(1_900, "USD"))]);
}

#[test]
fn intermediate_statuses_never_downgrade_a_completed_payment() {
    let mut payment = Payment::default();
    for event in [
        recorded("e1", paid(1_900, "USD")),
        PaymentEvent::PaymentCompleted {
            order: order(),
            amount_cents: 1_900,
            currency: "USD".into(),
            at: AT,
        },
        recorded(
            "e0",
            ProviderUpdate::InProgress {
                status: "confirming".into(),
            },
        ),
    ] {
        payment.apply(event);
    }
    assert!(payment.is_completed());
    assert_eq!(payment.last_status(), Some("completed"));
}

#[test]
fn a_webhook_naming_another_buyer_than_the_checkout_is_refused() {
    let other = Order {
        account_id: Uuid::from_u128(7),
        ..order()
    };
    PaymentTest::with(())
        .given(vec![PaymentEvent::PaymentOpened {
            order: order(),
            at: AT,
        }])
        .when(PaymentCommand::Record {
            provider_event_id: "e1".into(),
            update: paid(1_900, "USD"),
            order: Some(other),
            now: AT,
        })
        .then_expect_error(PaymentError::OrderMismatch);
}
