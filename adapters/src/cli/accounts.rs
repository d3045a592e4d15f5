//! `cryptolens accounts forget <id>`: crypto-shred a person.

use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use commands::Metadata;
use commands::claim_keys::ClaimKeys;
use commands::password::Argon2Hasher;
use domain::account::AccountId;
use uuid::Uuid;

use crate::config::Config;
use crate::postgres;

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Forget an account's personal data: its key is deleted, so the email,
    /// username and addresses in its events can no longer be read; its
    /// sessions, 2FA secret and queued mail go; the account is closed.
    Forget { account_id: Uuid },
}

/// Forgets `account_id` (idempotent).
pub async fn forget(pool: &sqlx::PgPool, config: &Config, account_id: Uuid) -> anyhow::Result<()> {
    let keys = ClaimKeys::new(config.require_claim_key()?.to_vec()).context("claim key")?;
    let service = super::account_service(config, pool, Arc::new(Argon2Hasher::new(1)?), keys)?;
    service
        .forget(
            AccountId::from_uuid(account_id),
            &Metadata::system("accounts-forget"),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("forgetting {account_id}"))?;
    postgres::sessions::delete_for_account(pool, account_id, None).await?;
    sqlx::query("DELETE FROM mail_outbox WHERE account_id = $1")
        .bind(account_id)
        .execute(pool)
        .await
        .context("dropping queued mail")?;
    Ok(())
}

pub async fn run(config: &Config, command: AccountsCommand) -> anyhow::Result<()> {
    let AccountsCommand::Forget { account_id } = command;
    let pool = postgres::connect(&config.database_url, 2).await?;
    forget(&pool, config, account_id).await?;
    println!(
        "{account_id}: personal data forgotten (its events remain; sealed values now read as forgotten)"
    );
    Ok(())
}
