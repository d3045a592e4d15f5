use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use domain::account::AccountId;
use domain::notification::{PreferencesInput, Topic};
use time::macros::datetime;
use uuid::Uuid;

use super::*;
use crate::Metadata;
use crate::ports::FakeClock;
use crate::store::MemStores;

/// Topics 01.., 02.., in order.
#[derive(Default)]
struct CountingTopics(AtomicU8);

impl TopicMint for CountingTopics {
    fn mint(&self) -> Topic {
        Topic::from_random([self.0.fetch_add(1, Ordering::SeqCst) + 1; 16])
    }
}

fn service() -> NotificationService<MemStores> {
    NotificationService::new(
        &MemStores::default(),
        None,
        Arc::new(CountingTopics::default()),
        Arc::new(FakeClock::at(datetime!(2026-11-28 10:00 UTC))),
    )
}

fn user() -> AccountId {
    AccountId::from_uuid(Uuid::from_u128(42))
}

#[tokio::test]
async fn a_topic_is_assigned_on_first_use_kept_and_rotated() {
    let service = service();
    let meta = Metadata::system("test");
    let first = service.settings(user(), &meta).await.unwrap();
    assert_eq!(first.topic(), Some(&Topic::from_random([1; 16])));
    let again = service.settings(user(), &meta).await.unwrap();
    assert_eq!(again.topic(), first.topic());
    let rotated = service.rotate_topic(user(), &meta).await.unwrap();
    assert_eq!(rotated, Topic::from_random([2; 16]));
    assert_eq!(
        service.settings(user(), &meta).await.unwrap().topic(),
        Some(&rotated)
    );
}

#[tokio::test]
async fn bad_preferences_are_refused_with_their_fields_and_good_ones_kept() {
    let service = service();
    let meta = Metadata::system("test");
    let bad = PreferencesInput {
        min_confluence: 0,
        directions: "both".into(),
        priority: 3,
        time_zone: "UTC".into(),
        ..PreferencesInput::default()
    };
    match service.update_preferences(user(), &bad, &meta).await {
        Err(crate::CommandError::Rejected(SettingsRejection::Invalid(fields))) => {
            assert_eq!(fields.len(), 1);
            assert_eq!(fields[0].field, "min_confluence");
        }
        other => panic!("{other:?}"),
    }
    let good = PreferencesInput {
        min_confluence: 5,
        ..bad
    };
    let saved = service
        .update_preferences(user(), &good, &meta)
        .await
        .unwrap();
    assert_eq!(saved.min_confluence, 5);
    assert_eq!(
        service.settings(user(), &meta).await.unwrap().preferences(),
        &saved
    );
}

#[tokio::test]
async fn symbols_are_muted_normalised_and_unmuted() {
    let service = service();
    let meta = Metadata::system("test");
    let muted = service
        .set_muted(user(), "eth/usdt", true, &meta)
        .await
        .unwrap();
    assert_eq!(muted.into_iter().collect::<Vec<_>>(), ["ETH/USDT"]);
    assert!(
        service
            .set_muted(user(), "ETHUSDT", true, &meta)
            .await
            .is_err()
    );
    let muted = service
        .set_muted(user(), "ETH/USDT", false, &meta)
        .await
        .unwrap();
    assert!(muted.is_empty());
    // A test push with a topic is accepted (the settings call assigns one).
    service.request_test_push(user(), &meta).await.unwrap();
}
