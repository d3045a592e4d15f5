//! Job locks: two instances never run the same job at once. A session
//! advisory lock on a dedicated connection (not from the pool), so that it
//! is released when the connection closes, even if the job is cancelled or
//! the process dies.

use anyhow::Context;
use sqlx::{Connection, PgConnection, PgPool};

pub struct JobLock {
    conn: PgConnection,
    name: String,
}

/// Takes the lock named `name` if no one holds it.
pub async fn try_lock(pool: &PgPool, name: &str) -> anyhow::Result<Option<JobLock>> {
    let options = pool.connect_options();
    let mut conn = PgConnection::connect_with(&options)
        .await
        .context("opening a connection for a job lock")?;
    let got: bool = sqlx::query_scalar(
        "SELECT pg_try_advisory_lock(hashtextextended('cryptolens:job:' || $1, 0))",
    )
    .bind(name)
    .fetch_one(&mut conn)
    .await
    .with_context(|| format!("taking the lock of job {name}"))?;
    if got {
        Ok(Some(JobLock {
            conn,
            name: name.to_owned(),
        }))
    } else {
        let _ = conn.close().await;
        Ok(None)
    }
}

impl JobLock {
    pub async fn release(mut self) {
        let _ =
            sqlx::query("SELECT pg_advisory_unlock(hashtextextended('cryptolens:job:' || $1, 0))")
                .bind(&self.name)
                .execute(&mut self.conn)
                .await;
        let _ = self.conn.close().await;
    }
}
