//! `api_keys_view`: each user's keys (never their secrets), built from
//! `ApiKeyIssued` / `ApiKeyRevoked`; plus the last-used times, kept apart in
//! `api_key_usage` because use is not a state change.

use anyhow::Context;
use async_trait::async_trait;
use domain::api_key::ApiKeyEvent;
use projections::RecordedEvent;
use sqlx::{PgConnection, PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::projector::Projection;

pub const NAME: &str = "api_keys";
const TABLE: &str = "api_keys_view";

pub struct ApiKeysProjection;

#[async_trait]
impl Projection for ApiKeysProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[ApiKeyEvent::ISSUED, ApiKeyEvent::REVOKED]
    }

    fn tables(&self) -> &'static [&'static str] {
        &[TABLE]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &[String],
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let table = tables
            .first()
            .context("api_keys projection needs its table")?;
        // Keys are few and their events rare: one statement per event, in order.
        for event in events {
            match event.decode::<ApiKeyEvent>()? {
                ApiKeyEvent::ApiKeyIssued {
                    key_id,
                    owner,
                    name,
                    scopes,
                    expires_at,
                    issued_at,
                    ..
                } => {
                    sqlx::query(&format!(
                        "INSERT INTO {table} (key_id, owner, name, scopes, expires_at, issued_at)
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key_id) DO NOTHING"
                    ))
                    .bind(key_id)
                    .bind(owner)
                    .bind(name)
                    .bind(
                        scopes
                            .iter()
                            .map(|s| s.as_str().to_owned())
                            .collect::<Vec<_>>(),
                    )
                    .bind(expires_at)
                    .bind(issued_at)
                    .execute(&mut *conn)
                    .await
                    .context("inserting an API key")?;
                }
                ApiKeyEvent::ApiKeyRevoked { at } => {
                    let key_id = Uuid::parse_str(&event.aggregate_id)?;
                    sqlx::query(&format!(
                        "UPDATE {table} SET revoked_at = $2 WHERE key_id = $1"
                    ))
                    .bind(key_id)
                    .bind(at)
                    .execute(&mut *conn)
                    .await
                    .context("revoking an API key")?;
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ApiKeyView {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

pub async fn list_for_owner(pool: &PgPool, owner: Uuid) -> anyhow::Result<Vec<ApiKeyView>> {
    let rows = sqlx::query(
        "SELECT k.key_id, k.name, k.scopes, k.expires_at, k.issued_at, k.revoked_at, u.last_used_at
           FROM api_keys_view k LEFT JOIN api_key_usage u USING (key_id)
          WHERE k.owner = $1 ORDER BY k.issued_at DESC, k.key_id",
    )
    .bind(owner)
    .fetch_all(pool)
    .await
    .context("listing API keys")?;
    rows.iter()
        .map(|row| {
            let id: Uuid = row.try_get("key_id")?;
            Ok(ApiKeyView {
                id,
                name: row.try_get("name")?,
                prefix: format!("cl_{}", id.simple()),
                scopes: row.try_get("scopes")?,
                expires_at: row.try_get("expires_at")?,
                created_at: row.try_get("issued_at")?,
                revoked_at: row.try_get("revoked_at")?,
                last_used_at: row.try_get("last_used_at")?,
            })
        })
        .collect()
}

pub async fn record_use(pool: &PgPool, key_id: Uuid, at: OffsetDateTime) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO api_key_usage (key_id, last_used_at) VALUES ($1, $2)
         ON CONFLICT (key_id) DO UPDATE SET last_used_at = GREATEST(api_key_usage.last_used_at, $2)",
    )
    .bind(key_id)
    .bind(at)
    .execute(pool)
    .await
    .context("recording an API key's use")?;
    Ok(())
}
