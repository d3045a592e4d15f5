//! The consumer's inbox and the daily cap, in short transactions (never
//! open across the NTFY call: a long write transaction would hold back the
//! projectors' fence).
//!
//! 1. [`claim`]: insert the message's row, or take over an expired lease;
//!    reserve a cap slot for the UTC day with a conditional upsert.
//! 2. The NTFY call, outside any transaction.
//! 3. [`delivered`] (row -> `delivered` + `NotificationDelivered`, one
//!    transaction) or [`failed`] (cap slot released, lease dropped,
//!    `NotificationFailed`).

use std::time::Duration;

use anyhow::Context;
use commands::{CommandError, Metadata};
use domain::notification::{FailureReason, Notification, NotificationCommand, NotificationError};
use sqlx::{PgConnection, PgPool, Row};
use time::OffsetDateTime;

use super::message::PushMessage;
use crate::postgres::in_tx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This consumer may send; `attempt` counts claims of the message.
    Granted { attempt: u32 },
    /// Already delivered, dropped or parked: acknowledge and forget.
    Done,
    /// Another consumer holds the lease right now: try again later.
    Busy,
    /// The recipient's daily cap is reached (recorded as a final failure).
    CapReached,
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

pub async fn claim(
    pool: &PgPool,
    message: &PushMessage,
    lease: Duration,
    metadata: &Metadata,
) -> anyhow::Result<Claim> {
    let mut tx = pool.begin().await.context("starting a claim")?;
    let row = sqlx::query(
        "INSERT INTO notification_inbox (message_id, user_id, status, attempts, lease_until)
         VALUES ($1, $2, 'sending', 1, clock_timestamp() + $3 * interval '1 millisecond')
         ON CONFLICT (message_id) DO UPDATE
            SET attempts = notification_inbox.attempts + 1,
                lease_until = EXCLUDED.lease_until, updated_at = now()
          WHERE notification_inbox.status = 'sending'
            AND notification_inbox.lease_until < clock_timestamp()
         RETURNING attempts, cap_day IS NOT NULL AS holds_slot",
    )
    .bind(&message.message_id)
    .bind(message.user_id)
    .bind(millis(lease))
    .fetch_optional(&mut *tx)
    .await
    .context("claiming a message")?;
    let Some(row) = row else {
        let status: String =
            sqlx::query_scalar("SELECT status FROM notification_inbox WHERE message_id = $1")
                .bind(&message.message_id)
                .fetch_one(&mut *tx)
                .await
                .context("reading a claimed message")?;
        return Ok(if status == "sending" {
            Claim::Busy
        } else {
            Claim::Done
        });
    };
    let attempt = u32::try_from(row.try_get::<i32, _>("attempts")?).unwrap_or(u32::MAX);
    let holds_slot: bool = row.try_get("holds_slot")?;
    if let (Some(cap), Some(user), false) = (message.daily_cap, message.user_id, holds_slot) {
        let reserved = sqlx::query(
            "INSERT INTO notification_daily_counts AS c (user_id, day, reserved)
             VALUES ($1, (now() AT TIME ZONE 'UTC')::date, 1)
             ON CONFLICT (user_id, day) DO UPDATE SET reserved = c.reserved + 1
              WHERE c.reserved < $2
             RETURNING day",
        )
        .bind(user)
        .bind(i32::try_from(cap).unwrap_or(i32::MAX))
        .fetch_optional(&mut *tx)
        .await
        .context("reserving a daily cap slot")?;
        match reserved {
            Some(slot) => {
                let day: time::Date = slot.try_get("day")?;
                sqlx::query("UPDATE notification_inbox SET cap_day = $2 WHERE message_id = $1")
                    .bind(&message.message_id)
                    .bind(day)
                    .execute(&mut *tx)
                    .await?;
            }
            None => {
                finish(&mut tx, message, "dropped").await?;
                record(
                    &mut tx,
                    message,
                    NotificationCommand::RecordFailed {
                        recipient: message.recipient(),
                        attempt,
                        reason: FailureReason::DailyCapReached,
                        last: true,
                        now: OffsetDateTime::now_utc(),
                    },
                    metadata,
                )
                .await?;
                tx.commit().await.context("committing a capped message")?;
                return Ok(Claim::CapReached);
            }
        }
    }
    tx.commit().await.context("committing a claim")?;
    Ok(Claim::Granted { attempt })
}

/// Marks the message delivered and appends `NotificationDelivered`.
pub async fn delivered(
    pool: &PgPool,
    message: &PushMessage,
    attempt: u32,
    metadata: &Metadata,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    finish(&mut tx, message, "delivered").await?;
    record(
        &mut tx,
        message,
        NotificationCommand::RecordDelivered {
            recipient: message.recipient(),
            attempt,
            now: OffsetDateTime::now_utc(),
        },
        metadata,
    )
    .await?;
    tx.commit().await.context("committing a delivery")
}

/// Releases the lease and the cap slot of a failed attempt and appends
/// `NotificationFailed`; `last` parks the message for good.
pub async fn failed(
    pool: &PgPool,
    message: &PushMessage,
    attempt: u32,
    reason: FailureReason,
    last: bool,
    metadata: &Metadata,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    release(&mut tx, message).await?;
    if last {
        finish(&mut tx, message, "dead").await?;
    }
    record(
        &mut tx,
        message,
        NotificationCommand::RecordFailed {
            recipient: message.recipient(),
            attempt,
            reason,
            last,
            now: OffsetDateTime::now_utc(),
        },
        metadata,
    )
    .await?;
    tx.commit().await.context("committing a failed attempt")
}

/// Gives a claim back without an attempt (the breaker was open).
pub async fn unclaim(pool: &PgPool, message: &PushMessage) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    release(&mut tx, message).await?;
    tx.commit().await.context("releasing a claim")
}

async fn release(conn: &mut PgConnection, message: &PushMessage) -> anyhow::Result<()> {
    sqlx::query(
        "WITH slot AS (
             SELECT user_id, cap_day FROM notification_inbox
              WHERE message_id = $1 AND cap_day IS NOT NULL FOR UPDATE)
         UPDATE notification_daily_counts c SET reserved = c.reserved - 1
           FROM slot WHERE c.user_id = slot.user_id AND c.day = slot.cap_day AND c.reserved > 0",
    )
    .bind(&message.message_id)
    .execute(&mut *conn)
    .await
    .context("releasing a cap slot")?;
    sqlx::query(
        "UPDATE notification_inbox SET cap_day = NULL, lease_until = clock_timestamp(), updated_at = now()
          WHERE message_id = $1 AND status = 'sending'",
    )
    .bind(&message.message_id)
    .execute(&mut *conn)
    .await
    .context("releasing a lease")?;
    Ok(())
}

async fn finish(
    conn: &mut PgConnection,
    message: &PushMessage,
    status: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE notification_inbox SET status = $2, updated_at = now() WHERE message_id = $1",
    )
    .bind(&message.message_id)
    .bind(status)
    .execute(&mut *conn)
    .await
    .context("updating the inbox")?;
    Ok(())
}

async fn record(
    conn: &mut PgConnection,
    message: &PushMessage,
    command: NotificationCommand,
    metadata: &Metadata,
) -> anyhow::Result<()> {
    match in_tx::execute::<Notification>(conn, &message.message_id, command, metadata).await {
        Ok(_) => Ok(()),
        // Already final: the inbox row says so too; nothing to add.
        Err(CommandError::Rejected(
            NotificationError::AlreadyDelivered | NotificationError::AlreadyAbandoned,
        )) => Ok(()),
        Err(error) => Err(anyhow::anyhow!("{error}")).context("recording a notification event"),
    }
}
