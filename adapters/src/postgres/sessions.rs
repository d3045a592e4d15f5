//! Server-side sessions: rows in `sessions`, keyed by the SHA-256 of the
//! 256-bit cookie value. Timeouts are enforced by the HTTP layer against
//! the injected clock; these are the statements it needs.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// The password was right; the second factor is still due.
    PendingSecondFactor,
    Active,
}

impl SessionState {
    fn as_str(self) -> &'static str {
        match self {
            Self::PendingSecondFactor => "pending_second_factor",
            Self::Active => "active",
        }
    }
}

/// A session with what the request layer needs of its account (from the
/// accounts view; `None` while the projection has not caught up).
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub state: SessionState,
    pub csrf_token: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub rotate: bool,
    pub account: Option<SessionAccount>,
}

#[derive(Debug, Clone)]
pub struct SessionAccount {
    pub username: String,
    pub is_admin: bool,
    pub verified: bool,
    pub active: bool,
}

/// A new session: its row id and the cookie value (only ever sent, never stored).
#[derive(Debug, Clone)]
pub struct Created {
    pub id: Uuid,
    pub token: String,
    pub csrf_token: String,
}

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub async fn create(
    pool: &PgPool,
    account_id: Uuid,
    state: SessionState,
    now: OffsetDateTime,
    client_ip: Option<&str>,
    user_agent: Option<&str>,
) -> anyhow::Result<Created> {
    let created = Created {
        id: Uuid::now_v7(),
        token: random_token(),
        csrf_token: random_token(),
    };
    sqlx::query(
        "INSERT INTO sessions (id, token_hash, account_id, state, csrf_token, created_at,
                               last_seen_at, client_ip, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)",
    )
    .bind(created.id)
    .bind(token_hash(&created.token))
    .bind(account_id)
    .bind(state.as_str())
    .bind(&created.csrf_token)
    .bind(now)
    .bind(client_ip)
    .bind(user_agent.map(|ua| ua.chars().take(200).collect::<String>()))
    .execute(pool)
    .await
    .context("creating a session")?;
    Ok(created)
}

const SELECT: &str = "
SELECT s.id, s.account_id, s.state, s.csrf_token, s.created_at, s.last_seen_at, s.client_ip,
       s.user_agent, s.rotate, a.username, a.is_admin, a.verified, a.active
  FROM sessions s LEFT JOIN accounts_view a ON a.account_id = s.account_id";

fn decode(row: &sqlx::postgres::PgRow) -> anyhow::Result<SessionRow> {
    let state: String = row.try_get("state")?;
    let username: Option<String> = row.try_get("username")?;
    Ok(SessionRow {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        state: if state == "active" {
            SessionState::Active
        } else {
            SessionState::PendingSecondFactor
        },
        csrf_token: row.try_get("csrf_token")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
        client_ip: row.try_get("client_ip")?,
        user_agent: row.try_get("user_agent")?,
        rotate: row.try_get("rotate")?,
        account: match username {
            Some(username) => Some(SessionAccount {
                username,
                is_admin: row.try_get("is_admin")?,
                verified: row.try_get("verified")?,
                active: row.try_get("active")?,
            }),
            None => None,
        },
    })
}

pub async fn find_by_token(pool: &PgPool, token: &str) -> anyhow::Result<Option<SessionRow>> {
    sqlx::query(&format!("{SELECT} WHERE s.token_hash = $1"))
        .bind(token_hash(token))
        .fetch_optional(pool)
        .await
        .context("reading a session")?
        .as_ref()
        .map(decode)
        .transpose()
}

pub async fn list_for_account(pool: &PgPool, account_id: Uuid) -> anyhow::Result<Vec<SessionRow>> {
    sqlx::query(&format!(
        "{SELECT} WHERE s.account_id = $1 AND s.state = 'active' ORDER BY s.last_seen_at DESC, s.id"
    ))
    .bind(account_id)
    .fetch_all(pool)
    .await
    .context("listing sessions")?
    .iter()
    .map(decode)
    .collect()
}

pub async fn touch(pool: &PgPool, id: Uuid, now: OffsetDateTime) -> anyhow::Result<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(pool)
        .await
        .context("touching a session")?;
    Ok(())
}

/// Gives the session a new cookie value (the old one stops working) and
/// clears its rotation flag. Returns the new cookie value.
pub async fn rotate(pool: &PgPool, id: Uuid, now: OffsetDateTime) -> anyhow::Result<String> {
    let token = random_token();
    sqlx::query(
        "UPDATE sessions SET token_hash = $2, rotate = false, last_seen_at = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(token_hash(&token))
    .bind(now)
    .execute(pool)
    .await
    .context("rotating a session id")?;
    Ok(token)
}

pub async fn delete(pool: &PgPool, id: Uuid) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .context("deleting a session")?;
    Ok(done.rows_affected() > 0)
}

/// Deletes one of `account_id`'s sessions; false if it is not theirs.
pub async fn delete_owned(pool: &PgPool, account_id: Uuid, id: Uuid) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM sessions WHERE id = $1 AND account_id = $2")
        .bind(id)
        .bind(account_id)
        .execute(pool)
        .await
        .context("deleting a session")?;
    Ok(done.rows_affected() > 0)
}

/// Ends every session of `account_id` except `keep`: one statement.
pub async fn delete_for_account(
    pool: &PgPool,
    account_id: Uuid,
    keep: Option<Uuid>,
) -> anyhow::Result<u32> {
    let done = sqlx::query(
        "DELETE FROM sessions WHERE account_id = $1 AND ($2::uuid IS NULL OR id <> $2)",
    )
    .bind(account_id)
    .bind(keep)
    .execute(pool)
    .await
    .context("ending an account's sessions")?;
    Ok(u32::try_from(done.rows_affected()).unwrap_or(u32::MAX))
}

/// Privileges changed: each of the account's sessions gets a new id at its
/// next request.
pub async fn mark_for_rotation(pool: &PgPool, account_id: Uuid) -> anyhow::Result<()> {
    sqlx::query("UPDATE sessions SET rotate = true WHERE account_id = $1")
        .bind(account_id)
        .execute(pool)
        .await
        .context("marking sessions for rotation")?;
    Ok(())
}
