//! The mail reactor: events in, outbox rows out, in one transaction with
//! its checkpoint. It runs on the projector runtime but is deliberately not
//! in `projector::all()`: rebuilding it would send every mail again.

use anyhow::Context;
use async_trait::async_trait;
use domain::account::AccountEvent;
use projections::RecordedEvent;
use sqlx::PgConnection;
use uuid::Uuid;

use super::MailKind;
use crate::projector::Projection;

pub const NAME: &str = "mail_reactor";

pub struct MailReactor {
    /// Rows are queued `pending` (SMTP configured) or kept `local`.
    pub smtp: bool,
}

#[async_trait]
impl Projection for MailReactor {
    fn name(&self) -> &'static str {
        NAME
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[
            AccountEvent::VERIFICATION_REQUESTED,
            AccountEvent::RESET_REQUESTED,
        ]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["mail_outbox"]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &[String],
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let table = tables.first().context("the mail reactor needs its table")?;
        let status = if self.smtp { "pending" } else { "local" };
        for event in events {
            let (kind, token_id) = match event.decode::<AccountEvent>()? {
                AccountEvent::EmailVerificationRequested { token_id, .. } => {
                    (MailKind::Verification, token_id)
                }
                AccountEvent::PasswordResetRequested { token_id, .. } => {
                    (MailKind::PasswordReset, token_id)
                }
                _ => continue,
            };
            let account_id = Uuid::parse_str(&event.aggregate_id)?;
            let Some(recipient) = recipient(conn, account_id).await? else {
                tracing::warn!(%account_id, "no address for a mail; skipped");
                continue;
            };
            sqlx::query(&format!(
                "INSERT INTO {table} (source_event, kind, account_id, token_id, recipient, status)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source_event) DO NOTHING"
            ))
            .bind(event.global_position)
            .bind(kind.as_str())
            .bind(account_id)
            .bind(token_id)
            .bind(recipient)
            .bind(status)
            .execute(&mut *conn)
            .await
            .context("queueing a mail")?;
        }
        Ok(())
    }
}

/// The account's address, from its registration event.
async fn recipient(conn: &mut PgConnection, account_id: Uuid) -> anyhow::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT payload->'AccountRegistered'->>'email' FROM events
          WHERE aggregate_type = 'account' AND aggregate_id = $1 AND event_type = 'AccountRegistered'",
    )
    .bind(account_id.to_string())
    .fetch_optional(conn)
    .await
    .context("reading a recipient")
    .map(Option::flatten)
}
