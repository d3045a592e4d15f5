//! `TotpSecrets` on PostgreSQL: secrets sealed with the configured keyring,
//! bound to their account by the associated data.

use anyhow::Context;
use async_trait::async_trait;
use commands::ports::{PortError, TotpSecrets};
use commands::sealing::{Keyring, Sealed};
use sqlx::{PgPool, Row};
use uuid::Uuid;

fn aad(account: Uuid) -> Vec<u8> {
    let mut aad = account.as_bytes().to_vec();
    aad.extend_from_slice(b"|totp:v1");
    aad
}

#[derive(Clone)]
pub struct PgTotpSecrets {
    pool: PgPool,
    keyring: Keyring,
}

impl PgTotpSecrets {
    pub fn new(pool: PgPool, keyring: Keyring) -> Self {
        Self { pool, keyring }
    }

    /// Re-seals every secret not under the current key. Returns how many.
    pub async fn rotate(&self) -> anyhow::Result<u64> {
        let rows = sqlx::query(
            "SELECT account_id, key_id, nonce, ciphertext FROM totp_secrets WHERE key_id <> $1",
        )
        .bind(self.keyring.current_key_id())
        .fetch_all(&self.pool)
        .await
        .context("reading sealed secrets")?;
        let mut count = 0;
        for row in rows {
            let account: Uuid = row.try_get("account_id")?;
            let sealed = Sealed {
                key_id: row.try_get("key_id")?,
                nonce: row.try_get("nonce")?,
                ciphertext: row.try_get("ciphertext")?,
            };
            let Some(resealed) = self
                .keyring
                .reseal(&sealed, &aad(account))
                .with_context(|| format!("re-sealing the TOTP secret of {account}"))?
            else {
                continue;
            };
            // Only if nobody replaced it meanwhile.
            let done = sqlx::query(
                "UPDATE totp_secrets SET key_id = $2, nonce = $3, ciphertext = $4, updated_at = now()
                  WHERE account_id = $1 AND key_id = $5 AND nonce = $6",
            )
            .bind(account)
            .bind(&resealed.key_id)
            .bind(&resealed.nonce)
            .bind(&resealed.ciphertext)
            .bind(&sealed.key_id)
            .bind(&sealed.nonce)
            .execute(&self.pool)
            .await?;
            count += done.rows_affected();
        }
        Ok(count)
    }
}

#[async_trait]
impl TotpSecrets for PgTotpSecrets {
    async fn load(&self, account: Uuid) -> Result<Option<Vec<u8>>, PortError> {
        let row =
            sqlx::query("SELECT key_id, nonce, ciphertext FROM totp_secrets WHERE account_id = $1")
                .bind(account)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let sealed = Sealed {
            key_id: row.try_get("key_id")?,
            nonce: row.try_get("nonce")?,
            ciphertext: row.try_get("ciphertext")?,
        };
        Ok(Some(self.keyring.open(&sealed, &aad(account))?))
    }

    async fn store(&self, account: Uuid, secret: &[u8]) -> Result<(), PortError> {
        let sealed = self.keyring.seal(secret, &aad(account))?;
        sqlx::query(
            "INSERT INTO totp_secrets (account_id, key_id, nonce, ciphertext) VALUES ($1, $2, $3, $4)
             ON CONFLICT (account_id) DO UPDATE
                SET key_id = EXCLUDED.key_id, nonce = EXCLUDED.nonce,
                    ciphertext = EXCLUDED.ciphertext, updated_at = now()",
        )
        .bind(account)
        .bind(&sealed.key_id)
        .bind(&sealed.nonce)
        .bind(&sealed.ciphertext)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete(&self, account: Uuid) -> Result<(), PortError> {
        sqlx::query("DELETE FROM totp_secrets WHERE account_id = $1")
            .bind(account)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
