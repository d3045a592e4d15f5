//! `accounts_view`: applying `projections::accounts` changes, and reads.

use anyhow::Context;
use async_trait::async_trait;
use projections::RecordedEvent;
use projections::accounts::{self, AccountView};
use sqlx::{PgConnection, PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::projector::Projection;

pub struct AccountsProjection;

#[async_trait]
impl Projection for AccountsProjection {
    fn name(&self) -> &'static str {
        accounts::NAME
    }

    fn event_types(&self) -> &'static [&'static str] {
        accounts::EVENT_TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &[accounts::TABLE]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &[String],
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let table = tables
            .first()
            .context("accounts projection needs its table")?;
        let changes = accounts::changes(events)?;
        if !changes.new_accounts.is_empty() {
            let n = &changes.new_accounts;
            sqlx::query(&format!(
                "INSERT INTO {table} (account_id, username, email, registered_at, last_seq)
                 SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::bigint[])
                 ON CONFLICT (account_id) DO NOTHING"
            ))
            .bind(n.iter().map(|a| a.account_id).collect::<Vec<_>>())
            .bind(n.iter().map(|a| a.username.clone()).collect::<Vec<_>>())
            .bind(n.iter().map(|a| a.email.clone()).collect::<Vec<_>>())
            .bind(n.iter().map(|a| a.registered_at).collect::<Vec<_>>())
            .bind(n.iter().map(|a| a.sequence).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await
            .context("inserting accounts")?;
        }
        if !changes.activity.is_empty() {
            let d = &changes.activity;
            sqlx::query(&format!(
                "UPDATE {table} AS v
                    SET logins_succeeded = v.logins_succeeded + d.ok,
                        logins_failed = v.logins_failed + d.bad,
                        consecutive_failures = COALESCE(d.consecutive, v.consecutive_failures),
                        last_login_at = COALESCE(d.last_ok, v.last_login_at),
                        last_failed_login_at = COALESCE(d.last_bad, v.last_failed_login_at),
                        verified = COALESCE(d.verified, v.verified),
                        active = COALESCE(d.active, v.active),
                        is_admin = COALESCE(d.admin, v.is_admin),
                        two_factor_enabled = COALESCE(d.two_factor, v.two_factor_enabled),
                        locked_until = CASE WHEN d.lock_changed THEN d.locked_until ELSE v.locked_until END,
                        last_seq = d.last_seq
                   FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
                               $6::int[], $7::timestamptz[], $8::timestamptz[], $9::bool[],
                               $10::bool[], $11::bool[], $12::bool[], $13::bool[], $14::timestamptz[])
                        AS d(account_id, first_seq, last_seq, ok, bad, consecutive, last_ok, last_bad,
                             verified, active, admin, two_factor, lock_changed, locked_until)
                  WHERE v.account_id = d.account_id AND v.last_seq < d.first_seq"
            ))
            .bind(d.iter().map(|a| a.account_id).collect::<Vec<_>>())
            .bind(d.iter().map(|a| a.first_sequence).collect::<Vec<_>>())
            .bind(d.iter().map(|a| a.last_sequence).collect::<Vec<_>>())
            .bind(d.iter().map(|a| a.logins_succeeded).collect::<Vec<_>>())
            .bind(d.iter().map(|a| a.logins_failed).collect::<Vec<_>>())
            .bind(d.iter().map(|a| a.consecutive_failures).collect::<Vec<_>>())
            .bind(d.iter().map(|a| a.last_login_at).collect::<Vec<Option<OffsetDateTime>>>())
            .bind(d.iter().map(|a| a.last_failed_login_at).collect::<Vec<Option<OffsetDateTime>>>())
            .bind(d.iter().map(|a| a.verified).collect::<Vec<_>>())
            .bind(d.iter().map(|a| a.active).collect::<Vec<_>>())
            .bind(d.iter().map(|a| a.is_admin).collect::<Vec<_>>())
            .bind(d.iter().map(|a| a.two_factor_enabled).collect::<Vec<_>>())
            .bind(d.iter().map(|a| a.locked_until.is_some()).collect::<Vec<_>>())
            .bind(d.iter().map(|a| a.locked_until.flatten()).collect::<Vec<Option<OffsetDateTime>>>())
            .execute(&mut *conn)
            .await
            .context("updating account activity")?;
        }
        Ok(())
    }
}

pub async fn find(pool: &PgPool, account_id: Uuid) -> anyhow::Result<Option<AccountView>> {
    let row = sqlx::query(
        "SELECT account_id, username, email, registered_at, logins_succeeded, logins_failed,
                consecutive_failures, last_login_at, last_failed_login_at,
                verified, active, is_admin, two_factor_enabled, locked_until
           FROM accounts_view WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_optional(pool)
    .await
    .context("reading accounts_view")?;
    row.map(|row| {
        Ok(AccountView {
            account_id: row.try_get("account_id")?,
            username: row.try_get("username")?,
            email: row.try_get("email")?,
            registered_at: row.try_get("registered_at")?,
            logins_succeeded: row.try_get("logins_succeeded")?,
            logins_failed: row.try_get("logins_failed")?,
            consecutive_failures: row.try_get("consecutive_failures")?,
            last_login_at: row.try_get("last_login_at")?,
            last_failed_login_at: row.try_get("last_failed_login_at")?,
            verified: row.try_get("verified")?,
            active: row.try_get("active")?,
            is_admin: row.try_get("is_admin")?,
            two_factor_enabled: row.try_get("two_factor_enabled")?,
            locked_until: row.try_get("locked_until")?,
        })
    })
    .transpose()
}
