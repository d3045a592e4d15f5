//! `cryptolens demo seed`: a demo account, so a fresh `ops/run` has
//! someone to sign in as.

use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use commands::accounts::RegistrationError;
use commands::claim_keys::ClaimKeys;
use commands::password::Argon2Hasher;
use commands::{CommandError, Metadata};

use crate::config::Config;
use crate::postgres;

pub const DEMO_EMAIL: &str = "demo@cryptolens.local";
pub const DEMO_USERNAME: &str = "demo";
pub const DEMO_PASSWORD: &str = "Demo-Password-2026";

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Register the demo account (demo@cryptolens.local / Demo-Password-2026) unless it exists.
    Seed,
}

pub async fn run(config: &Config, command: DemoCommand) -> anyhow::Result<()> {
    match command {
        DemoCommand::Seed => {
            let pool = postgres::connect(&config.database_url, 2).await?;
            postgres::migrate(&pool).await?;
            let keys = ClaimKeys::new(config.require_claim_key()?.to_vec()).context("claim key")?;
            let service =
                crate::cli::account_service(config, &pool, Arc::new(Argon2Hasher::new(1)?), keys)?;
            match service
                .register_account(
                    DEMO_EMAIL,
                    DEMO_USERNAME,
                    DEMO_PASSWORD,
                    &Metadata::system("demo-seed"),
                )
                .await
            {
                Ok(id) => println!(
                    "demo account {DEMO_EMAIL} registered ({id}); password {DEMO_PASSWORD}"
                ),
                Err(CommandError::Rejected(RegistrationError::EmailTaken)) => {
                    println!("demo account {DEMO_EMAIL} already exists; password {DEMO_PASSWORD}");
                }
                Err(error) => {
                    return Err(anyhow::anyhow!("{error}")).context("seeding the demo account");
                }
            }
            Ok(())
        }
    }
}
