//! Delivers due outbox rows over SMTP (lettre), with retries: a failed row
//! is tried again after `CRYPTOLENS_MAIL__RETRY_BASE_MS` (5 s), doubling up
//! to an hour, for as long as it takes. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so several
//! instances never send one mail twice at once.

use std::time::Duration;

use anyhow::Context;
use commands::tokens::TokenKey;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::{PgPool, Row};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{MailKind, render};

pub struct MailSender {
    pub pool: PgPool,
    pub transport: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
    pub token_key: TokenKey,
    pub public_url: String,
    pub poll: Duration,
    pub retry_base: Duration,
}

impl MailSender {
    pub fn new(
        pool: PgPool,
        smtp_url: &str,
        from: &str,
        token_key: TokenKey,
        public_url: String,
        retry_base: Duration,
    ) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .context("CRYPTOLENS_SMTP__URL is not a usable SMTP URL (smtp://host:port, smtp://host?tls=required, smtps://user:pass@host)")?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        Ok(Self {
            pool,
            transport,
            from: from
                .parse()
                .context("CRYPTOLENS_MAIL_FROM is not a mailbox")?,
            token_key,
            public_url,
            poll: Duration::from_millis(500),
            retry_base,
        })
    }

    /// Sends every due row once; returns how many were sent.
    pub async fn send_due(&self) -> anyhow::Result<usize> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "SELECT id, kind, account_id, token_id, recipient, attempts FROM mail_outbox
              WHERE status = 'pending' AND next_attempt_at <= now()
              ORDER BY id LIMIT 20 FOR UPDATE SKIP LOCKED",
        )
        .fetch_all(&mut *tx)
        .await
        .context("claiming due mail")?;
        let mut sent = 0;
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let attempts: i32 = row.try_get("attempts")?;
            match self.send_row(&row).await {
                Ok(()) => {
                    sqlx::query(
                        "UPDATE mail_outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1",
                    )
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    sent += 1;
                    metrics::counter!("cryptolens_mail_sent_total").increment(1);
                }
                Err(error) => {
                    let backoff = (self.retry_base.as_secs_f64()
                        * f64::from(1u32 << attempts.clamp(0, 12)))
                    .min(3600.0);
                    tracing::warn!(
                        id,
                        attempts,
                        error = format!("{error:#}"),
                        "mail not sent; will retry"
                    );
                    metrics::counter!("cryptolens_mail_failures_total").increment(1);
                    sqlx::query(
                        "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2,
                                next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1",
                    )
                    .bind(id)
                    .bind(format!("{error:#}").chars().take(500).collect::<String>())
                    .bind(backoff)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(sent)
    }

    async fn send_row(&self, row: &sqlx::postgres::PgRow) -> anyhow::Result<()> {
        let kind: String = row.try_get("kind")?;
        let kind = MailKind::parse(&kind).context("unknown mail kind")?;
        let account_id: Uuid = row.try_get("account_id")?;
        let token_id: Option<Uuid> = row.try_get("token_id")?;
        let recipient: String = row.try_get("recipient")?;
        let rendered = render(
            kind,
            account_id,
            token_id.context("mail without a token")?,
            &self.token_key,
            &self.public_url,
        );
        let message = Message::builder()
            .from(self.from.clone())
            .to(recipient.parse().context("recipient")?)
            .subject(rendered.subject)
            .body(rendered.body)
            .context("building the mail")?;
        self.transport.send(message).await.context("SMTP")?;
        Ok(())
    }
}

/// Sends due mail until shut down.
pub async fn run_sender(sender: MailSender, shutdown: CancellationToken) {
    loop {
        if let Err(error) = sender.send_due().await {
            tracing::error!(error = format!("{error:#}"), "mail sender failed; retrying");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(sender.poll) => {}
        }
    }
}
