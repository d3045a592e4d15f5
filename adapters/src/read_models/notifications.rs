//! `notification_settings_view`: applying `projections::notifications`.

use anyhow::Context;
use async_trait::async_trait;
use projections::RecordedEvent;
use projections::notifications as settings;
use sqlx::PgConnection;

use crate::projector::Projection;

pub struct NotificationSettingsProjection;

#[async_trait]
impl Projection for NotificationSettingsProjection {
    fn name(&self) -> &'static str {
        settings::NAME
    }

    fn event_types(&self) -> &'static [&'static str] {
        settings::EVENT_TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &[settings::TABLE]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &[String],
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let table = tables
            .first()
            .context("the notification settings projection needs its table")?;
        let changes = settings::changes(events)?;
        if changes.is_empty() {
            return Ok(());
        }
        let ids: Vec<_> = changes.iter().map(|c| c.user_id).collect();
        sqlx::query(&format!(
            "INSERT INTO {table} (user_id, last_seq) SELECT id, 0 FROM unnest($1::uuid[]) AS id
             ON CONFLICT (user_id) DO NOTHING"
        ))
        .bind(&ids)
        .execute(&mut *conn)
        .await
        .context("creating notification settings rows")?;
        let prefs =
            |f: &dyn Fn(&domain::notification::Preferences) -> Option<i16>| -> Vec<Option<i16>> {
                changes
                    .iter()
                    .map(|c| c.preferences.as_ref().and_then(f))
                    .collect()
            };
        sqlx::query(&format!(
            "UPDATE {table} AS v SET
                 topic = COALESCE(d.topic, v.topic),
                 enabled = CASE WHEN d.has_prefs THEN d.enabled ELSE v.enabled END,
                 min_confluence = CASE WHEN d.has_prefs THEN d.min_confluence ELSE v.min_confluence END,
                 directions = CASE WHEN d.has_prefs THEN d.directions ELSE v.directions END,
                 priority = CASE WHEN d.has_prefs THEN d.priority ELSE v.priority END,
                 quiet_start = CASE WHEN d.has_prefs THEN d.quiet_start ELSE v.quiet_start END,
                 quiet_end = CASE WHEN d.has_prefs THEN d.quiet_end ELSE v.quiet_end END,
                 time_zone = CASE WHEN d.has_prefs THEN d.time_zone ELSE v.time_zone END,
                 muted_symbols = CASE WHEN d.mutes IS NULL THEN v.muted_symbols
                                      ELSE string_to_array(d.mutes, ',') END,
                 last_seq = d.last_seq
               FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::text[], $5::bool[],
                           $6::bool[], $7::int2[], $8::text[], $9::int2[], $10::int2[], $11::int2[],
                           $12::text[], $13::text[])
                    AS d(user_id, first_seq, last_seq, topic, has_prefs, enabled, min_confluence,
                         directions, priority, quiet_start, quiet_end, time_zone, mutes)
              WHERE v.user_id = d.user_id AND v.last_seq < d.first_seq"
        ))
        .bind(&ids)
        .bind(changes.iter().map(|c| c.first_sequence).collect::<Vec<_>>())
        .bind(changes.iter().map(|c| c.last_sequence).collect::<Vec<_>>())
        .bind(changes.iter().map(|c| c.topic.clone()).collect::<Vec<_>>())
        .bind(changes.iter().map(|c| c.preferences.is_some()).collect::<Vec<_>>())
        .bind(
            changes
                .iter()
                .map(|c| c.preferences.as_ref().is_some_and(|p| p.enabled))
                .collect::<Vec<_>>(),
        )
        .bind(prefs(&|p| Some(i16::from(p.min_confluence))))
        .bind(
            changes
                .iter()
                .map(|c| c.preferences.as_ref().map(|p| p.directions.as_str().to_owned()))
                .collect::<Vec<_>>(),
        )
        .bind(prefs(&|p| Some(i16::from(p.priority.get()))))
        .bind(prefs(&|p| p.quiet_hours.map(|q| i16::from(q.start_hour))))
        .bind(prefs(&|p| p.quiet_hours.map(|q| i16::from(q.end_hour))))
        .bind(
            changes
                .iter()
                .map(|c| c.preferences.as_ref().map(|p| p.time_zone.as_str().to_owned()))
                .collect::<Vec<_>>(),
        )
        .bind(
            changes
                .iter()
                .map(|c| c.muted_symbols.as_ref().map(|m| m.join(",")))
                .collect::<Vec<_>>(),
        )
        .execute(&mut *conn)
        .await
        .context("updating notification settings")?;
        Ok(())
    }
}
