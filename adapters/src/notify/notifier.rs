//! The signal notifier: a reactor over the event log (the runner,
//! checkpoint and advisory lock of the projector runtime), turning
//! `SignalGenerated` into one message per eligible recipient and
//! `TestPushRequested` into one message for its user.
//!
//! Per batch, inside the batch transaction: find the recipients, publish
//! every message (persistent, mandatory) with publisher confirms and await
//! them all; only then does the runner commit the checkpoint. A crash or
//! failure before the commit republishes the batch with the same message
//! ids (`{global position}/{user id}`), which the consumer's inbox drops.
//!
//! Policies (tier rules from `domain::billing::Tier::policy`, PRODUCT §1):
//! * Who: the tier's symbols and pattern types, and its notifications at all.
//! * Daily cap: the tier's `notifications_per_day` (free 1, pro 20,
//!   premium unlimited).
//! * Delay: a tier with a notification delay (free: 10 minutes) goes
//!   through the delay queue.
//! * Quiet hours: evaluated at the moment the push would go out (after the
//!   free-tier delay); a push that would land in them is held in
//!   `notification_holds` until they end, then published, unless its
//!   signal was resolved (`SignalResolved`) meanwhile, in which case it is
//!   dropped: a stale entry is worse than none.
//! * Daily cap: pre-checked here against today's count; the consumer
//!   re-checks race-safely at delivery.
//! * Recipients are read from the read models as they are when the batch
//!   runs (not as of the event).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use domain::billing::Tier;
use domain::notification::{
    Audience, BroadcastContent, BroadcastEvent, Priority, Push, PushKind, QuietHours,
    SettingsEvent, SignalAlert, TimeZoneName, quiet_until,
};
use domain::signal::SignalEvent;
use lapin::{Connection, ConnectionProperties};
use projections::RecordedEvent;
use sqlx::{PgConnection, Row};
use time::OffsetDateTime;
use tokio::sync::Mutex;
use uuid::Uuid;

use super::config::NotifyConfig;
use super::message::PushMessage;
use super::publisher::{Attempts, Outgoing, Publisher, Route};
use super::topology;
use crate::projector::Projection;

pub const NAME: &str = "signal_notifier";

/// A publisher on its own connection, (re)opened on demand.
pub struct Link {
    amqp_url: String,
    name: String,
    config: NotifyConfig,
    open: Mutex<Option<(Connection, Publisher)>>,
}

impl Link {
    pub fn new(amqp_url: &str, name: &str, config: &NotifyConfig) -> Self {
        Self {
            amqp_url: amqp_url.to_owned(),
            name: name.to_owned(),
            config: config.clone(),
            open: Mutex::new(None),
        }
    }

    /// Publishes and confirms all of `batch`; a failure drops the connection
    /// so that the next call starts afresh.
    pub async fn publish_all(&self, batch: &[Outgoing<'_>]) -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut open = self.open.lock().await;
        if !open.as_ref().is_some_and(|(c, _)| c.status().connected()) {
            let connection = Connection::connect(
                &self.amqp_url,
                ConnectionProperties::default()
                    .with_connection_name(self.name.as_str().into())
                    .enable_auto_recover(),
            )
            .await
            .context("connecting the notifier to RabbitMQ")?;
            topology::declare(&connection.create_channel().await?, &self.config).await?;
            let publisher = Publisher::open(&connection, &self.config).await?;
            *open = Some((connection, publisher));
        }
        let result = match open.as_ref() {
            Some((_, publisher)) => publisher.publish_all(batch).await,
            None => Err(anyhow::anyhow!("no publisher")),
        };
        if result.is_err()
            && let Some((connection, _)) = open.take()
        {
            let _ = connection.close(200, "publish failed".into()).await;
        }
        result
    }
}

pub struct SignalNotifier {
    config: NotifyConfig,
    link: Arc<Link>,
}

impl SignalNotifier {
    pub fn new(config: &NotifyConfig, link: Arc<Link>) -> Self {
        Self {
            config: config.clone(),
            link,
        }
    }
}

/// The alert of a recorded `SignalGenerated`, decoded as the signal
/// aggregate's own event type.
fn signal_alert(event: &RecordedEvent) -> anyhow::Result<SignalAlert> {
    let decoded: SignalEvent = event.decode()?;
    SignalAlert::from_event(&event.aggregate_id, &decoded)
        .ok_or_else(|| anyhow::anyhow!("event {} is not a SignalGenerated", event.global_position))
}

/// One recipient row of the read models.
struct Candidate {
    user_id: Uuid,
    topic: String,
    priority: Priority,
    quiet: Option<QuietHours>,
    zone: TimeZoneName,
    tier: Tier,
    used_today: i64,
}

const CANDIDATES: &str = "
SELECT s.user_id, s.topic, s.priority, s.quiet_start, s.quiet_end, s.time_zone,
       cryptolens_account_tier(s.user_id) AS tier,
       COALESCE(c.reserved, 0)::bigint AS used_today
  FROM notification_settings_view s
  JOIN accounts_view a ON a.account_id = s.user_id
  LEFT JOIN notification_daily_counts c
         ON c.user_id = s.user_id AND c.day = (now() AT TIME ZONE 'UTC')::date
 WHERE s.topic IS NOT NULL AND s.enabled AND a.verified AND a.active
   AND s.min_confluence <= $1
   AND s.directions IN ('both', $2)
   AND NOT ($3 = ANY (s.muted_symbols))";

async fn candidates(
    conn: &mut PgConnection,
    alert: &SignalAlert,
) -> anyhow::Result<Vec<Candidate>> {
    let rows = sqlx::query(CANDIDATES)
        .bind(i16::try_from(alert.confluence).unwrap_or(i16::MAX))
        .bind(if alert.is_long() { "long" } else { "short" })
        .bind(&alert.symbol)
        .fetch_all(&mut *conn)
        .await
        .context("finding signal recipients")?;
    rows.iter()
        .map(|row| {
            let hour = |name| -> anyhow::Result<Option<u8>> {
                Ok(row
                    .try_get::<Option<i16>, _>(name)?
                    .and_then(|h| u8::try_from(h).ok()))
            };
            Ok(Candidate {
                user_id: row.try_get("user_id")?,
                topic: row.try_get("topic")?,
                priority: u8::try_from(row.try_get::<i16, _>("priority")?)
                    .ok()
                    .and_then(Priority::new)
                    .unwrap_or(Priority::DEFAULT),
                quiet: match (hour("quiet_start")?, hour("quiet_end")?) {
                    (Some(start_hour), Some(end_hour)) => Some(QuietHours {
                        start_hour,
                        end_hour,
                    }),
                    _ => None,
                },
                zone: TimeZoneName::parse(&row.try_get::<String, _>("time_zone")?)
                    .unwrap_or_else(TimeZoneName::utc),
                tier: Tier::parse(&row.try_get::<String, _>("tier")?).unwrap_or(Tier::Free),
                used_today: row.try_get("used_today")?,
            })
        })
        .collect()
}

/// What the batch does with one message.
struct Planned {
    message: PushMessage,
    route: Route,
    hold: Option<(String, OffsetDateTime)>,
}

impl SignalNotifier {
    fn plan_signal(
        &self,
        event: &RecordedEvent,
        alert: &SignalAlert,
        candidates: Vec<Candidate>,
        now: OffsetDateTime,
    ) -> Vec<Planned> {
        candidates
            .into_iter()
            .filter(|c| alert.reaches(c.tier))
            .filter(|c| {
                c.tier
                    .policy()
                    .notification_cap()
                    .is_none_or(|cap| c.used_today < i64::from(cap))
            })
            .map(|c| {
                let policy = c.tier.policy();
                let delayed =
                    !policy.notification_delay().is_zero() && !self.config.free_delay.is_zero();
                let due = if delayed {
                    now + self.config.free_delay
                } else {
                    now
                };
                let hold = c
                    .quiet
                    .and_then(|quiet| quiet_until(quiet, &c.zone, due))
                    .map(|until| (alert.signal_id.clone(), until));
                Planned {
                    message: PushMessage {
                        message_id: format!("{}/{}", event.global_position, c.user_id),
                        user_id: Some(c.user_id),
                        kind: PushKind::Signal,
                        broadcast_id: None,
                        topic: c.topic,
                        daily_cap: policy.notification_cap(),
                        push: alert.push(c.priority, &self.config.public_url),
                    },
                    route: if delayed { Route::Delay } else { Route::Work },
                    hold,
                }
            })
            .collect()
    }

    fn plan_test_push(&self, event: &RecordedEvent) -> anyhow::Result<Planned> {
        let Ok(SettingsEvent::TestPushRequested {
            topic, priority, ..
        }) = event.decode()
        else {
            anyhow::bail!("event {} is not a TestPushRequested", event.global_position);
        };
        let user_id = Uuid::parse_str(&event.aggregate_id).ok();
        Ok(Planned {
            message: PushMessage {
                message_id: format!("{}/{}", event.global_position, event.aggregate_id),
                user_id,
                kind: PushKind::Test,
                broadcast_id: None,
                topic: topic.as_str().to_owned(),
                daily_cap: None,
                push: Push {
                    title: "CryptoLens Test Notification".to_owned(),
                    body: "Notifications work: this is where your CryptoLens signals will arrive."
                        .to_owned(),
                    priority,
                    tags: vec!["test".to_owned(), "white_check_mark".to_owned()],
                    click: Some(format!("{}/settings/notifications", self.config.public_url)),
                },
            },
            route: Route::Work,
            hold: None,
        })
    }
}

#[async_trait]
impl Projection for SignalNotifier {
    fn name(&self) -> &'static str {
        NAME
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[
            SignalEvent::GENERATED,
            SignalEvent::RESOLVED,
            SettingsEvent::TEST_PUSH_REQUESTED,
            BroadcastEvent::SENT,
        ]
    }

    fn tables(&self) -> &'static [&'static str] {
        &[]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        _tables: &[String],
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let now = OffsetDateTime::now_utc();
        let mut planned = Vec::new();
        let mut resolved = Vec::new();
        for event in events {
            match event.event_type.as_str() {
                SignalEvent::GENERATED => {
                    let alert = signal_alert(event)?;
                    let found = candidates(conn, &alert).await?;
                    planned.extend(self.plan_signal(event, &alert, found, now));
                }
                SignalEvent::RESOLVED => resolved.push(event.aggregate_id.clone()),
                SettingsEvent::TEST_PUSH_REQUESTED => planned.push(self.plan_test_push(event)?),
                BroadcastEvent::SENT => {
                    let messages = broadcast_messages(conn, event).await?;
                    let id = Uuid::parse_str(&event.aggregate_id)?;
                    sqlx::query(
                        "INSERT INTO broadcast_dispatches (broadcast_id, recipients) VALUES ($1, $2)
                         ON CONFLICT (broadcast_id) DO UPDATE SET recipients = EXCLUDED.recipients",
                    )
                    .bind(id)
                    .bind(i64::try_from(messages.len()).unwrap_or(i64::MAX))
                    .execute(&mut *conn)
                    .await?;
                    planned.extend(messages.into_iter().map(|message| Planned {
                        message,
                        route: Route::Work,
                        hold: None,
                    }));
                }
                _ => {}
            }
        }
        let (held, now_due): (Vec<_>, Vec<_>) = planned.into_iter().partition(|p| p.hold.is_some());
        let batch: Vec<Outgoing<'_>> = now_due
            .iter()
            .map(|p| Outgoing {
                route: p.route,
                message: &p.message,
                attempts: Attempts::default(),
            })
            .collect();
        self.link.publish_all(&batch).await?;
        metrics::counter!("cryptolens_notify_published_total").increment(batch.len() as u64);
        hold(conn, &held).await?;
        if !resolved.is_empty() {
            sqlx::query(
                "INSERT INTO notification_resolved_signals (signal_id)
                 SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
            )
            .bind(&resolved)
            .execute(&mut *conn)
            .await
            .context("recording resolved signals")?;
        }
        Ok(())
    }
}

/// One message per member of a broadcast's audience (no cap, delay or
/// quiet hours: broadcasts are operator announcements).
async fn broadcast_messages(
    conn: &mut PgConnection,
    event: &RecordedEvent,
) -> anyhow::Result<Vec<PushMessage>> {
    let Ok(BroadcastEvent::BroadcastSent {
        content, audience, ..
    }) = event.decode()
    else {
        anyhow::bail!("event {} is not a BroadcastSent", event.global_position);
    };
    let broadcast_id = Uuid::parse_str(&event.aggregate_id).ok();
    let push = |content: &BroadcastContent| Push {
        title: content.title.clone(),
        body: content.message.clone(),
        priority: content.priority,
        tags: content.tags.clone(),
        click: None,
    };
    let message = |suffix: String, user_id: Option<Uuid>, topic: String| PushMessage {
        message_id: format!("{}/{suffix}", event.global_position),
        user_id,
        kind: PushKind::Broadcast,
        broadcast_id,
        topic,
        daily_cap: None,
        push: push(&content),
    };
    let (verified_only, tier) = match &audience {
        Audience::Topics { topics } => {
            return Ok(topics
                .iter()
                .map(|t| message(format!("topic:{t}"), None, t.clone()))
                .collect());
        }
        Audience::All => (false, None),
        Audience::Verified => (true, None),
        Audience::Tier { tier } => (false, Some(tier.as_str())),
    };
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT s.user_id, s.topic FROM notification_settings_view s
           JOIN accounts_view a ON a.account_id = s.user_id
          WHERE s.topic IS NOT NULL AND s.enabled AND a.active
            AND (NOT $1 OR a.verified)
            AND ($2::text IS NULL OR cryptolens_account_tier(s.user_id) = $2)",
    )
    .bind(verified_only)
    .bind(tier)
    .fetch_all(&mut *conn)
    .await
    .context("finding a broadcast's audience")?;
    Ok(rows
        .into_iter()
        .map(|(user, topic)| message(user.to_string(), Some(user), topic))
        .collect())
}

async fn hold(conn: &mut PgConnection, held: &[Planned]) -> anyhow::Result<()> {
    if held.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::new();
    let mut signals = Vec::new();
    let mut release = Vec::new();
    let mut routes = Vec::new();
    let mut messages = Vec::new();
    for planned in held {
        if let Some((signal, until)) = &planned.hold {
            ids.push(planned.message.message_id.clone());
            signals.push(signal.clone());
            release.push(*until);
            routes.push(if planned.route == Route::Delay {
                "delay"
            } else {
                "work"
            });
            messages.push(serde_json::to_value(&planned.message)?);
        }
    }
    sqlx::query(
        "INSERT INTO notification_holds (message_id, signal_id, release_at, route, message)
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::jsonb[])
         ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(ids)
    .bind(signals)
    .bind(release)
    .bind(routes)
    .bind(messages)
    .execute(&mut *conn)
    .await
    .context("holding pushes for quiet hours")?;
    metrics::counter!("cryptolens_notify_held_total").increment(held.len() as u64);
    Ok(())
}

/// Publishes held pushes whose quiet hours are over (dropping those whose
/// signal was resolved meanwhile), every `every`, until shutdown.
pub async fn release_holds(
    pool: sqlx::PgPool,
    link: Arc<Link>,
    every: Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    loop {
        match release_due(&pool, &link).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "releasing held pushes failed")
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// One round of [`release_holds`]; returns how many holds it settled.
pub async fn release_due(pool: &sqlx::PgPool, link: &Link) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    let rows = sqlx::query(
        "SELECT h.message_id, h.route, h.message, r.signal_id IS NOT NULL AS resolved
           FROM notification_holds h
           LEFT JOIN notification_resolved_signals r ON r.signal_id = h.signal_id
          WHERE h.release_at <= now()
          ORDER BY h.release_at LIMIT 1000
          FOR UPDATE OF h SKIP LOCKED",
    )
    .fetch_all(&mut *tx)
    .await
    .context("reading due holds")?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut ids = Vec::new();
    let mut due = Vec::new();
    let mut dropped = 0u64;
    for row in &rows {
        ids.push(row.try_get::<String, _>("message_id")?);
        if row.try_get::<bool, _>("resolved")? {
            dropped += 1;
            continue;
        }
        let route = if row.try_get::<String, _>("route")? == "delay" {
            Route::Delay
        } else {
            Route::Work
        };
        let message: PushMessage = serde_json::from_value(row.try_get("message")?)?;
        due.push((route, message));
    }
    let batch: Vec<Outgoing<'_>> = due
        .iter()
        .map(|(route, message)| Outgoing {
            route: *route,
            message,
            attempts: Attempts::default(),
        })
        .collect();
    link.publish_all(&batch).await?;
    sqlx::query("DELETE FROM notification_holds WHERE message_id = ANY($1)")
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    tx.commit().await.context("settling held pushes")?;
    metrics::counter!("cryptolens_notify_hold_dropped_total").increment(dropped);
    Ok(rows.len())
}
