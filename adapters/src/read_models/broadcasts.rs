//! `broadcasts_view` (with delivery statistics from the notification
//! events) and `broadcast_templates_view`. Applied event by event in
//! global order: admin traffic is small, deliveries are counted set-based.

use std::collections::BTreeMap;

use anyhow::Context;
use async_trait::async_trait;
use domain::notification::{BroadcastEvent, NotificationEvent, TemplateEvent};
use projections::RecordedEvent;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::Projection;

pub struct BroadcastsProjection;

const EVENT_TYPES: &[&str] = &[
    BroadcastEvent::SCHEDULED,
    BroadcastEvent::SENT,
    BroadcastEvent::CANCELLED,
    TemplateEvent::SAVED,
    TemplateEvent::DELETED,
    NotificationEvent::DELIVERED,
    NotificationEvent::FAILED,
];

fn id_of(event: &RecordedEvent) -> anyhow::Result<Uuid> {
    Uuid::parse_str(&event.aggregate_id)
        .with_context(|| format!("event {} has a non-UUID id", event.global_position))
}

#[async_trait]
impl Projection for BroadcastsProjection {
    fn name(&self) -> &'static str {
        "broadcasts"
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENT_TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &["broadcasts_view", "broadcast_templates_view"]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &[String],
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let (Some(broadcasts), Some(templates)) = (tables.first(), tables.get(1)) else {
            anyhow::bail!("the broadcasts projection needs two tables");
        };
        // (delivered, failed) per broadcast in this batch.
        let mut counts: BTreeMap<Uuid, (i64, i64)> = BTreeMap::new();
        for event in events {
            match event.aggregate_type.as_str() {
                "broadcast" => {
                    let id = id_of(event)?;
                    match event.decode::<BroadcastEvent>()? {
                        BroadcastEvent::BroadcastScheduled {
                            content,
                            audience,
                            send_at,
                        } => {
                            sqlx::query(&format!(
                                "INSERT INTO {broadcasts} (broadcast_id, title, message, priority, tags, audience, status, send_at)
                                 VALUES ($1, $2, $3, $4, $5, $6, 'scheduled', $7) ON CONFLICT DO NOTHING"
                            ))
                            .bind(id)
                            .bind(&content.title)
                            .bind(&content.message)
                            .bind(i16::from(content.priority.get()))
                            .bind(&content.tags)
                            .bind(serde_json::to_value(&audience)?)
                            .bind(send_at)
                            .execute(&mut *conn)
                            .await?;
                        }
                        BroadcastEvent::BroadcastSent { at, .. } => {
                            settle(conn, broadcasts, id, "sent", at).await?;
                        }
                        BroadcastEvent::BroadcastCancelled { at } => {
                            settle(conn, broadcasts, id, "cancelled", at).await?;
                        }
                    }
                }
                "broadcast_template" => {
                    let id = id_of(event)?;
                    match event.decode::<TemplateEvent>()? {
                        TemplateEvent::BroadcastTemplateSaved { name, content } => {
                            sqlx::query(&format!(
                                "INSERT INTO {templates} (template_id, name, title, message, priority, tags)
                                 VALUES ($1, $2, $3, $4, $5, $6)
                                 ON CONFLICT (template_id) DO UPDATE SET name = EXCLUDED.name,
                                    title = EXCLUDED.title, message = EXCLUDED.message,
                                    priority = EXCLUDED.priority, tags = EXCLUDED.tags"
                            ))
                            .bind(id)
                            .bind(&name)
                            .bind(&content.title)
                            .bind(&content.message)
                            .bind(i16::from(content.priority.get()))
                            .bind(&content.tags)
                            .execute(&mut *conn)
                            .await?;
                        }
                        TemplateEvent::BroadcastTemplateDeleted {} => {
                            sqlx::query(&format!("DELETE FROM {templates} WHERE template_id = $1"))
                                .bind(id)
                                .execute(&mut *conn)
                                .await?;
                        }
                    }
                }
                "notification" => match event.decode::<NotificationEvent>()? {
                    NotificationEvent::NotificationDelivered { recipient, .. } => {
                        if let Some(id) = recipient.broadcast_id {
                            counts.entry(id).or_default().0 += 1;
                        }
                    }
                    NotificationEvent::NotificationFailed {
                        recipient,
                        last: true,
                        ..
                    } => {
                        if let Some(id) = recipient.broadcast_id {
                            counts.entry(id).or_default().1 += 1;
                        }
                    }
                    NotificationEvent::NotificationFailed { .. } => {}
                },
                _ => {}
            }
        }
        if !counts.is_empty() {
            sqlx::query(&format!(
                "UPDATE {broadcasts} AS b SET delivered = b.delivered + d.ok, failed = b.failed + d.bad
                   FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS d(id, ok, bad)
                  WHERE b.broadcast_id = d.id"
            ))
            .bind(counts.keys().copied().collect::<Vec<_>>())
            .bind(counts.values().map(|c| c.0).collect::<Vec<_>>())
            .bind(counts.values().map(|c| c.1).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await
            .context("counting broadcast deliveries")?;
        }
        Ok(())
    }
}

async fn settle(
    conn: &mut PgConnection,
    table: &str,
    id: Uuid,
    status: &str,
    at: time::OffsetDateTime,
) -> anyhow::Result<()> {
    sqlx::query(&format!(
        "UPDATE {table} SET status = $2, settled_at = $3 WHERE broadcast_id = $1"
    ))
    .bind(id)
    .bind(status)
    .bind(at)
    .execute(conn)
    .await
    .context("settling a broadcast")?;
    Ok(())
}

/// Scheduled broadcasts whose time has come.
pub async fn due(pool: &sqlx::PgPool) -> anyhow::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT broadcast_id FROM broadcasts_view WHERE status = 'scheduled' AND send_at <= now()
          ORDER BY send_at LIMIT 100",
    )
    .fetch_all(pool)
    .await
    .context("reading due broadcasts")
}
