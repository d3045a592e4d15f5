//! `cryptolens mail list`: the outbox, with each mail rendered (links
//! included), for local runs without SMTP.

use anyhow::Context;
use clap::Subcommand;
use commands::tokens::TokenKey;
use sqlx::Row;
use uuid::Uuid;

use crate::config::Config;
use crate::mail::{MailKind, render};
use crate::postgres;

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// The newest mails in the outbox (local, pending and sent), rendered.
    List {
        /// How many, newest first.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

pub async fn run(config: &Config, command: MailCommand) -> anyhow::Result<()> {
    let MailCommand::List { limit } = command;
    let pool = postgres::connect(&config.database_url, 2).await?;
    print!("{}", list(&pool, config, limit).await?);
    Ok(())
}

/// The text `cryptolens mail list` prints.
pub async fn list(pool: &sqlx::PgPool, config: &Config, limit: i64) -> anyhow::Result<String> {
    use std::fmt::Write;
    let mut out = String::new();
    let key = TokenKey::new(config.identity.require_token_key()?.to_vec())
        .context("CRYPTOLENS_TOKEN_KEY is too short")?;
    let rows = sqlx::query(
        "SELECT id, kind, account_id, token_id, recipient, status, attempts, last_error,
                to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created
           FROM mail_outbox ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("reading the outbox")?;
    if rows.is_empty() {
        writeln!(out, "the outbox is empty")?;
    }
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let kind: String = row.try_get("kind")?;
        let account_id: Uuid = row.try_get("account_id")?;
        let token_id: Option<Uuid> = row.try_get("token_id")?;
        let status: String = row.try_get("status")?;
        let attempts: i32 = row.try_get("attempts")?;
        let last_error: Option<String> = row.try_get("last_error")?;
        writeln!(
            out,
            "#{id} {} {status} (attempts {attempts}) to {}",
            row.try_get::<String, _>("created")?,
            row.try_get::<String, _>("recipient")?
        )?;
        if let (Some(kind), Some(token_id)) = (MailKind::parse(&kind), token_id) {
            let mail = render(
                kind,
                account_id,
                token_id,
                &key,
                &config.identity.public_url,
            );
            writeln!(
                out,
                "Subject: {}\n\n{}",
                mail.subject,
                mail.body.replace("\r\n", "\n")
            )?;
        }
        if let Some(error) = last_error {
            writeln!(out, "last error: {error}")?;
        }
        writeln!(out, "----")?;
    }
    Ok(out)
}
