//! Per-account personal-data keys in `personal_data_keys`.

use std::collections::HashMap;

use anyhow::Context;
use async_trait::async_trait;
use commands::personal_data::{PersonalDataKeys, new_key};
use commands::ports::PortError;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

#[derive(Clone)]
pub struct PgPersonalDataKeys {
    pool: PgPool,
}

impl PgPersonalDataKeys {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl PersonalDataKeys for PgPersonalDataKeys {
    async fn create(&self, account: Uuid) -> Result<Vec<u8>, PortError> {
        let key: Vec<u8> = sqlx::query_scalar(
            "INSERT INTO personal_data_keys (account_id, key) VALUES ($1, $2)
             ON CONFLICT (account_id) DO UPDATE SET account_id = EXCLUDED.account_id
             RETURNING key",
        )
        .bind(account)
        .bind(new_key())
        .fetch_one(&self.pool)
        .await?;
        Ok(key)
    }

    async fn get(&self, account: Uuid) -> Result<Option<Vec<u8>>, PortError> {
        Ok(
            sqlx::query_scalar("SELECT key FROM personal_data_keys WHERE account_id = $1")
                .bind(account)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn forget(&self, account: Uuid) -> Result<bool, PortError> {
        let done = sqlx::query("DELETE FROM personal_data_keys WHERE account_id = $1")
            .bind(account)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// The keys of `accounts` that still exist, read inside the caller's
/// transaction (projections and reactors).
pub async fn keys_for(
    conn: &mut PgConnection,
    accounts: &[Uuid],
) -> anyhow::Result<HashMap<Uuid, Vec<u8>>> {
    let rows: Vec<(Uuid, Vec<u8>)> =
        sqlx::query_as("SELECT account_id, key FROM personal_data_keys WHERE account_id = ANY($1)")
            .bind(accounts)
            .fetch_all(conn)
            .await
            .context("reading personal-data keys")?;
    Ok(rows.into_iter().collect())
}
