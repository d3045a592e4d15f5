//! The `cryptolens` command line.

pub mod admin;
mod demo;
mod events;
pub mod keys;
pub mod mail;
pub mod market;
mod projections;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::{app, bench, postgres, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "cryptolens",
    version,
    about = "CryptoLens: Smart-Money-Concepts pattern detection, event-sourced."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server and every projector in one process (until SIGINT/SIGTERM).
    Serve,
    /// Apply the database migrations in migrations/.
    Migrate,
    /// Read the event log.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Inspect, rebuild and verify projections.
    #[command(subcommand)]
    Projections(projections::ProjectionsCommand),
    /// Create admins and act on accounts as an admin.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Sealing keys: re-seal secrets after adding a new key.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// The mail outbox (what was or would be sent).
    #[command(subcommand)]
    Mail(mail::MailCommand),
    /// Load demo data (idempotent).
    #[command(subcommand)]
    Demo(demo::DemoCommand),
    /// Market data: symbols, scans, backfill, import, health, parity tools.
    #[command(subcommand)]
    Market(market::MarketCommand),
    /// Measure the write path and projector replay against a baseline, on a scratch database.
    Bench(bench::BenchArgs),
}

/// The account use cases over PostgreSQL, for commands that act on accounts.
pub fn account_service(
    config: &Config,
    pool: &sqlx::PgPool,
    hasher: std::sync::Arc<dyn commands::ports::PasswordHasher>,
    claim_keys: commands::claim_keys::ClaimKeys,
) -> anyhow::Result<commands::accounts::AccountService<postgres::PgStores>> {
    use anyhow::Context;
    let identity = &config.identity;
    let keyring = commands::sealing::Keyring::new(identity.require_sealing_keys()?)
        .context("CRYPTOLENS_SEALING_KEYS")?;
    Ok(commands::accounts::AccountService::new(
        &postgres::PgStores::new(pool.clone()),
        None,
        commands::accounts::AccountDeps {
            hasher,
            clock: std::sync::Arc::new(commands::ports::SystemClock),
            claim_keys,
            token_key: commands::tokens::TokenKey::new(identity.require_token_key()?.to_vec())
                .context("CRYPTOLENS_TOKEN_KEY is too short")?,
            totp_secrets: std::sync::Arc::new(postgres::totp_secrets::PgTotpSecrets::new(
                pool.clone(),
                keyring,
            )),
        },
    ))
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Market(command) = &cli.command
        && let Some(result) = market::run_offline(command)
    {
        return result;
    }
    let config = Config::from_env()?;
    let log_format = match cli.command {
        Command::Serve => config.log_format,
        _ => crate::config::LogFormat::Pretty,
    };
    telemetry::init_tracing(log_format);
    match cli.command {
        Command::Serve => app::serve(config).await,
        Command::Migrate => {
            let pool = postgres::connect(&config.database_url, 2).await?;
            postgres::migrate(&pool).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Events(command) => events::run(&config, command).await,
        Command::Projections(command) => projections::run(&config, command).await,
        Command::Demo(command) => demo::run(&config, command).await,
        Command::Market(command) => market::run(&config, command).await,
        Command::Mail(command) => mail::run(&config, command).await,
        Command::Keys(command) => keys::run(&config, command).await,
        Command::Admin(command) => admin::run(&config, command).await,
        Command::Bench(args) => bench::run(&config, args).await,
    }
}
