//! The `notification_settings` projection: one row per user with their
//! topic, preferences and muted symbols, read by the signal notifier to
//! find recipients. Every settings event carries the full value it
//! changed, so a batch folds into at most one partial row per user.

use std::collections::BTreeMap;

use domain::notification::{Preferences, SettingsEvent};
use uuid::Uuid;

use crate::{ProjectionError, RecordedEvent};

pub const NAME: &str = "notification_settings";
pub const TABLE: &str = "notification_settings_view";
pub const EVENT_TYPES: &[&str] = &[
    SettingsEvent::TOPIC_ASSIGNED,
    SettingsEvent::TOPIC_ROTATED,
    SettingsEvent::PREFERENCES_UPDATED,
    SettingsEvent::SYMBOLS_MUTED,
];

/// What a batch changes for one user; `None` leaves a column as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SettingsChange {
    pub user_id: Uuid,
    pub topic: Option<String>,
    pub preferences: Option<Preferences>,
    pub muted_symbols: Option<Vec<String>>,
    /// Applied only to rows that have not seen `first_sequence`.
    pub first_sequence: i64,
    pub last_sequence: i64,
}

pub fn changes(events: &[RecordedEvent]) -> Result<Vec<SettingsChange>, ProjectionError> {
    let mut by_user: BTreeMap<Uuid, SettingsChange> = BTreeMap::new();
    for event in events
        .iter()
        .filter(|e| e.aggregate_type == "notification_settings")
    {
        let user_id =
            Uuid::parse_str(&event.aggregate_id).map_err(|_| ProjectionError::BadAggregateId {
                position: event.global_position,
                aggregate_id: event.aggregate_id.clone(),
            })?;
        let change = by_user.entry(user_id).or_insert_with(|| SettingsChange {
            user_id,
            first_sequence: event.sequence,
            ..SettingsChange::default()
        });
        change.last_sequence = event.sequence;
        match event.decode::<SettingsEvent>()? {
            SettingsEvent::NotificationTopicAssigned { topic }
            | SettingsEvent::NotificationTopicRotated { topic } => {
                change.topic = Some(topic.as_str().to_owned());
            }
            SettingsEvent::NotificationPreferencesUpdated { preferences } => {
                change.preferences = Some(preferences);
            }
            SettingsEvent::NotificationSymbolsMuted { muted_symbols } => {
                change.muted_symbols = Some(muted_symbols);
            }
            SettingsEvent::TestPushRequested { .. } => {}
        }
    }
    Ok(by_user.into_values().collect())
}

#[cfg(test)]
mod tests {
    use domain::notification::{Preferences, Topic};
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn recorded(sequence: i64, event: &SettingsEvent) -> RecordedEvent {
        let payload = serde_json::to_value(event).unwrap();
        RecordedEvent {
            global_position: sequence,
            aggregate_type: "notification_settings".into(),
            aggregate_id: Uuid::from_u128(7).to_string(),
            sequence,
            event_type: payload.as_object().unwrap().keys().next().unwrap().clone(),
            event_version: "1.0".into(),
            payload,
            metadata: json!({}),
            recorded_at: datetime!(2026-11-28 00:00 UTC),
        }
    }

    #[test]
    fn a_batch_folds_into_the_latest_value_of_each_part() {
        let preferences = Preferences {
            min_confluence: 6,
            ..Preferences::default()
        };
        let events = [
            recorded(
                1,
                &SettingsEvent::NotificationTopicAssigned {
                    topic: Topic::from_random([1; 16]),
                },
            ),
            recorded(
                2,
                &SettingsEvent::NotificationTopicRotated {
                    topic: Topic::from_random([2; 16]),
                },
            ),
            recorded(
                3,
                &SettingsEvent::NotificationPreferencesUpdated {
                    preferences: preferences.clone(),
                },
            ),
        ];
        let changes = changes(&events).unwrap();
        assert_eq!(
            changes,
            vec![SettingsChange {
                user_id: Uuid::from_u128(7),
                topic: Some(format!("cl_{}", "02".repeat(16))),
                preferences: Some(preferences),
                muted_symbols: None,
                first_sequence: 1,
                last_sequence: 3,
            }]
        );
    }
}
