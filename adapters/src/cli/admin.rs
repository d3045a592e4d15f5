//! `cryptolens admin ...`: create the first admin, and the admin actions
//! from the command line (recorded with actor `system:admin-cli`).

use std::io::BufRead;
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use commands::Metadata;
use commands::claim_keys::ClaimKeys;
use commands::password::Argon2Hasher;
use commands::ports::PasswordHasher;
use domain::account::{AccountId, AdminAction};
use uuid::Uuid;

use crate::config::Config;
use crate::postgres;

/// Where `admin create` reads the password when stdin is not used.
pub const PASSWORD_ENV: &str = "CRYPTOLENS_ADMIN_PASSWORD";

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Register an admin (verified). The password comes from
    /// CRYPTOLENS_ADMIN_PASSWORD, or else the first line of stdin.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        username: String,
    },
    /// Grant the admin role.
    Grant {
        account_id: Uuid,
    },
    /// Revoke the admin role.
    Revoke {
        account_id: Uuid,
    },
    Deactivate {
        account_id: Uuid,
    },
    Reactivate {
        account_id: Uuid,
    },
    /// Mark the email address verified.
    Verify {
        account_id: Uuid,
    },
    Unlock {
        account_id: Uuid,
    },
}

/// The password: from the environment variable, else one line of `input`.
pub fn read_password(env: Option<String>, input: &mut dyn BufRead) -> anyhow::Result<String> {
    if let Some(password) = env.filter(|p| !p.is_empty()) {
        return Ok(password);
    }
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(
        !password.is_empty(),
        "no password: set {PASSWORD_ENV} or pipe it on stdin"
    );
    Ok(password)
}

/// Registers `email`/`username` as a verified admin.
pub async fn create(
    pool: &sqlx::PgPool,
    config: &Config,
    hasher: Arc<dyn PasswordHasher>,
    email: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<AccountId> {
    let keys = ClaimKeys::new(config.require_claim_key()?.to_vec()).context("claim key")?;
    let service = super::account_service(config, pool, hasher, keys)?;
    let metadata = Metadata::system("admin-cli");
    let id = service
        .register_account(email, username, password, &metadata)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("registering the admin")?;
    for action in [AdminAction::GrantAdmin, AdminAction::Verify] {
        service
            .administer(id, action, None, &metadata)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(id)
}

pub async fn run(config: &Config, command: AdminCommand) -> anyhow::Result<()> {
    let pool = postgres::connect(&config.database_url, 2).await?;
    let hasher: Arc<dyn PasswordHasher> = Arc::new(Argon2Hasher::new(1)?);
    let (account_id, action) = match command {
        AdminCommand::Create { email, username } => {
            let password = read_password(
                std::env::var(PASSWORD_ENV).ok(),
                &mut std::io::stdin().lock(),
            )?;
            let id = create(&pool, config, hasher, &email, &username, &password).await?;
            println!("admin {username} <{email}> created: {id}");
            return Ok(());
        }
        AdminCommand::Grant { account_id } => (account_id, AdminAction::GrantAdmin),
        AdminCommand::Revoke { account_id } => (account_id, AdminAction::RevokeAdmin),
        AdminCommand::Deactivate { account_id } => (account_id, AdminAction::Deactivate),
        AdminCommand::Reactivate { account_id } => (account_id, AdminAction::Reactivate),
        AdminCommand::Verify { account_id } => (account_id, AdminAction::Verify),
        AdminCommand::Unlock { account_id } => (account_id, AdminAction::Unlock),
    };
    let keys = ClaimKeys::new(config.require_claim_key()?.to_vec()).context("claim key")?;
    let service = super::account_service(config, &pool, hasher, keys)?;
    let target = AccountId::from_uuid(account_id);
    let changed = service
        .administer(target, action, None, &Metadata::system("admin-cli"))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if changed && action == AdminAction::Deactivate {
        let ended = postgres::sessions::delete_for_account(&pool, account_id, None).await?;
        if ended > 0 {
            service
                .record_sessions_revoked(
                    target,
                    domain::account::RevocationReason::Deactivated,
                    ended,
                    &Metadata::system("admin-cli"),
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    if changed && matches!(action, AdminAction::GrantAdmin | AdminAction::RevokeAdmin) {
        postgres::sessions::mark_for_rotation(&pool, account_id).await?;
    }
    println!(
        "{account_id}: {action:?} {}",
        if changed {
            "done"
        } else {
            "(nothing to change)"
        }
    );
    Ok(())
}
