//! `cryptolens keys rotate`: re-seal every sealed secret under the newest
//! key of `CRYPTOLENS_SEALING_KEYS`.
//!
//! Rotation: put the new key first (`2:<new>,1:<old>`), restart the app
//! (it seals new secrets with key 2 and still opens key 1), run this
//! command, then drop key 1 from the list.

use anyhow::Context;
use clap::Subcommand;
use commands::sealing::Keyring;

use crate::config::Config;
use crate::postgres::{self, totp_secrets::PgTotpSecrets};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-seal all TOTP secrets with the first key of CRYPTOLENS_SEALING_KEYS.
    Rotate,
}

/// What a rotation re-sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotated {
    pub totp_secrets: u64,
}

pub async fn rotate(pool: &sqlx::PgPool, config: &Config) -> anyhow::Result<Rotated> {
    let keyring =
        Keyring::new(config.identity.require_sealing_keys()?).context("CRYPTOLENS_SEALING_KEYS")?;
    let totp_secrets = PgTotpSecrets::new(pool.clone(), keyring).rotate().await?;
    Ok(Rotated { totp_secrets })
}

pub async fn run(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    let KeysCommand::Rotate = command;
    let pool = postgres::connect(&config.database_url, 2).await?;
    let rotated = rotate(&pool, config).await?;
    println!(
        "re-sealed {} TOTP secrets under key {:?}",
        rotated.totp_secrets,
        config
            .identity
            .sealing_keys
            .as_ref()
            .and_then(|k| k.first())
            .map_or("", |(id, _)| id.as_str())
    );
    Ok(())
}
