//! `market_health_view`.

use anyhow::Context;
use async_trait::async_trait;
use projections::RecordedEvent;
use projections::market::health::{self, HealthView};
use sqlx::{PgConnection, PgPool, Row};

use super::table;
use crate::projector::Projection;

pub struct HealthProjection;

#[async_trait]
impl Projection for HealthProjection {
    fn name(&self) -> &'static str {
        health::NAME
    }

    fn event_types(&self) -> &'static [&'static str] {
        health::EVENT_TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &[health::TABLE]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &[String],
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let t = table(tables, 0, health::NAME)?;
        let rows = health::changes(events)?;
        if rows.is_empty() {
            return Ok(());
        }
        let i = |get: fn(&HealthView) -> i64| rows.iter().map(get).collect::<Vec<i64>>();
        sqlx::query(&format!(
            "INSERT INTO {t} AS h (symbol, runs, failures, candles_fetched, candles_stored, candles_rejected,
                 first_open_time, last_open_time, gaps, missing_minutes, last_run_at, last_error)
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
                 $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::timestamptz[], $12::text[])
             ON CONFLICT (symbol) DO UPDATE SET
                 runs = h.runs + EXCLUDED.runs, failures = h.failures + EXCLUDED.failures,
                 candles_fetched = h.candles_fetched + EXCLUDED.candles_fetched,
                 candles_stored = h.candles_stored + EXCLUDED.candles_stored,
                 candles_rejected = h.candles_rejected + EXCLUDED.candles_rejected,
                 first_open_time = LEAST(h.first_open_time, EXCLUDED.first_open_time),
                 last_open_time = GREATEST(h.last_open_time, EXCLUDED.last_open_time),
                 gaps = h.gaps + EXCLUDED.gaps, missing_minutes = h.missing_minutes + EXCLUDED.missing_minutes,
                 last_run_at = EXCLUDED.last_run_at, last_error = EXCLUDED.last_error"
        ))
        .bind(rows.iter().map(|r| r.symbol.clone()).collect::<Vec<_>>())
        .bind(i(|r| r.runs))
        .bind(i(|r| r.failures))
        .bind(i(|r| r.candles_fetched))
        .bind(i(|r| r.candles_stored))
        .bind(i(|r| r.candles_rejected))
        .bind(rows.iter().map(|r| r.first_open_time).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.last_open_time).collect::<Vec<_>>())
        .bind(i(|r| r.gaps))
        .bind(i(|r| r.missing_minutes))
        .bind(rows.iter().map(|r| r.last_run_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.last_error.clone()).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await
        .context("updating market health")?;
        Ok(())
    }
}

pub async fn all(pool: &PgPool) -> anyhow::Result<Vec<HealthView>> {
    let rows = sqlx::query(
        "SELECT symbol, runs, failures, candles_fetched, candles_stored, candles_rejected,
                first_open_time, last_open_time, gaps, missing_minutes, last_run_at, last_error
           FROM market_health_view ORDER BY symbol",
    )
    .fetch_all(pool)
    .await
    .context("reading market_health_view")?;
    rows.iter()
        .map(|row| {
            Ok(HealthView {
                symbol: row.try_get("symbol")?,
                runs: row.try_get("runs")?,
                failures: row.try_get("failures")?,
                candles_fetched: row.try_get("candles_fetched")?,
                candles_stored: row.try_get("candles_stored")?,
                candles_rejected: row.try_get("candles_rejected")?,
                first_open_time: row.try_get("first_open_time")?,
                last_open_time: row.try_get("last_open_time")?,
                gaps: row.try_get("gaps")?,
                missing_minutes: row.try_get("missing_minutes")?,
                last_run_at: row.try_get("last_run_at")?,
                last_error: row.try_get("last_error")?,
            })
        })
        .collect()
}
