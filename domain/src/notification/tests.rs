use cqrs_es::test::TestFramework;
use time::macros::datetime;
use uuid::Uuid;

use super::*;

type NotificationTest = TestFramework<Notification>;

fn recipient() -> Recipient {
    Recipient {
        user_id: Some(Uuid::from_u128(5)),
        kind: PushKind::Signal,
        broadcast_id: None,
    }
}

fn failed(attempt: u32, last: bool) -> NotificationEvent {
    NotificationEvent::NotificationFailed {
        recipient: recipient(),
        attempt,
        reason: FailureReason::Status { code: 503 },
        last,
        at: datetime!(2026-11-28 10:00 UTC),
    }
}

#[test]
fn a_delivery_after_failures_is_recorded_once() {
    NotificationTest::with(())
        .given(vec![failed(1, false)])
        .when(NotificationCommand::RecordDelivered {
            recipient: recipient(),
            attempt: 2,
            now: datetime!(2026-11-28 10:00:05 UTC),
        })
        .then_expect_events(vec![NotificationEvent::NotificationDelivered {
            recipient: recipient(),
            attempt: 2,
            at: datetime!(2026-11-28 10:00:05 UTC),
        }]);
}

#[test]
fn a_delivered_message_accepts_nothing_more() {
    let delivered = NotificationEvent::NotificationDelivered {
        recipient: recipient(),
        attempt: 1,
        at: datetime!(2026-11-28 10:00 UTC),
    };
    NotificationTest::with(())
        .given(vec![delivered])
        .when(NotificationCommand::RecordDelivered {
            recipient: recipient(),
            attempt: 2,
            now: datetime!(2026-11-28 10:01 UTC),
        })
        .then_expect_error(NotificationError::AlreadyDelivered);
}

#[test]
fn a_message_given_up_on_stays_given_up() {
    NotificationTest::with(())
        .given(vec![failed(1, true)])
        .when(NotificationCommand::RecordDelivered {
            recipient: recipient(),
            attempt: 2,
            now: datetime!(2026-11-28 10:01 UTC),
        })
        .then_expect_error(NotificationError::AlreadyAbandoned);
}

#[test]
fn events_are_stored_with_flat_fields() {
    let json = serde_json::to_value(failed(3, false)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"NotificationFailed": {
            "user_id": "00000000-0000-0000-0000-000000000005", "kind": "signal",
            "broadcast_id": null, "attempt": 3, "reason": "status", "code": 503,
            "last": false, "at": "2026-11-28T10:00:00Z"}})
    );
    let back: NotificationEvent = serde_json::from_value(json).unwrap();
    assert_eq!(back, failed(3, false));
    assert!(Priority::new(0).is_none() && Priority::new(6).is_none());
    assert_eq!(Priority::new(5).map(Priority::get), Some(5));
}
