//! `pattern_stats_view` and `signal_stats_view`, and the analytics summary.

use anyhow::Context;
use async_trait::async_trait;
use projections::RecordedEvent;
use projections::market::analytics;
use serde::Serialize;
use sqlx::{PgConnection, PgPool, Row};

use super::table;
use crate::projector::Projection;

pub struct AnalyticsProjection;

#[async_trait]
impl Projection for AnalyticsProjection {
    fn name(&self) -> &'static str {
        analytics::NAME
    }

    fn event_types(&self) -> &'static [&'static str] {
        analytics::EVENT_TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &[analytics::PATTERN_TABLE, analytics::SIGNAL_TABLE]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &[String],
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let p = table(tables, 0, analytics::NAME)?;
        let s = table(tables, 1, analytics::NAME)?;
        let changes = analytics::changes(events)?;
        if !changes.patterns.is_empty() {
            let (cells, counts): (Vec<_>, Vec<_>) = changes.patterns.iter().unzip();
            sqlx::query(&format!(
                "INSERT INTO {p} AS t (symbol, timeframe, pattern_type, direction, day, detected, filled, invalidated, expired)
                 SELECT symbol, timeframe, pattern_type, direction, DATE '1970-01-01' + day,
                        detected, filled, invalidated, expired
                   FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[],
                               $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
                        AS x(symbol, timeframe, pattern_type, direction, day, detected, filled, invalidated, expired)
                 ON CONFLICT (symbol, timeframe, pattern_type, direction, day) DO UPDATE SET
                     detected = t.detected + EXCLUDED.detected, filled = t.filled + EXCLUDED.filled,
                     invalidated = t.invalidated + EXCLUDED.invalidated, expired = t.expired + EXCLUDED.expired"
            ))
            .bind(cells.iter().map(|c| c.0.clone()).collect::<Vec<_>>())
            .bind(cells.iter().map(|c| c.1.clone()).collect::<Vec<_>>())
            .bind(cells.iter().map(|c| c.2.clone()).collect::<Vec<_>>())
            .bind(cells.iter().map(|c| c.3.clone()).collect::<Vec<_>>())
            .bind(cells.iter().map(|c| c.4).collect::<Vec<_>>())
            .bind(counts.iter().map(|c| c.detected).collect::<Vec<_>>())
            .bind(counts.iter().map(|c| c.filled).collect::<Vec<_>>())
            .bind(counts.iter().map(|c| c.invalidated).collect::<Vec<_>>())
            .bind(counts.iter().map(|c| c.expired).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await
            .context("counting patterns")?;
        }
        if !changes.signals.is_empty() {
            let (cells, counts): (Vec<_>, Vec<_>) = changes.signals.iter().unzip();
            sqlx::query(&format!(
                "INSERT INTO {s} AS t (symbol, direction, day, generated, entered, tp1, tp2, tp3, stopped, expired)
                 SELECT symbol, direction, DATE '1970-01-01' + day, generated, entered, tp1, tp2, tp3, stopped, expired
                   FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::bigint[], $6::bigint[],
                               $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[])
                        AS x(symbol, direction, day, generated, entered, tp1, tp2, tp3, stopped, expired)
                 ON CONFLICT (symbol, direction, day) DO UPDATE SET
                     generated = t.generated + EXCLUDED.generated, entered = t.entered + EXCLUDED.entered,
                     tp1 = t.tp1 + EXCLUDED.tp1, tp2 = t.tp2 + EXCLUDED.tp2, tp3 = t.tp3 + EXCLUDED.tp3,
                     stopped = t.stopped + EXCLUDED.stopped, expired = t.expired + EXCLUDED.expired"
            ))
            .bind(cells.iter().map(|c| c.0.clone()).collect::<Vec<_>>())
            .bind(cells.iter().map(|c| c.1.clone()).collect::<Vec<_>>())
            .bind(cells.iter().map(|c| c.2).collect::<Vec<_>>())
            .bind(counts.iter().map(|c| c.generated).collect::<Vec<_>>())
            .bind(counts.iter().map(|c| c.entered).collect::<Vec<_>>())
            .bind(counts.iter().map(|c| c.tp1).collect::<Vec<_>>())
            .bind(counts.iter().map(|c| c.tp2).collect::<Vec<_>>())
            .bind(counts.iter().map(|c| c.tp3).collect::<Vec<_>>())
            .bind(counts.iter().map(|c| c.stopped).collect::<Vec<_>>())
            .bind(counts.iter().map(|c| c.expired).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await
            .context("counting signals")?;
        }
        Ok(())
    }
}

/// A count broken down by one key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count {
    pub key: String,
    pub count: i64,
}

/// The analytics page (PRODUCT §4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub patterns_total: i64,
    pub by_type: Vec<Count>,
    pub by_direction: Vec<Count>,
    pub by_timeframe: Vec<Count>,
    pub top_symbols: Vec<Count>,
    pub patterns_last_24h: i64,
    /// Filled / (filled + invalidated + expired), over closed patterns.
    pub fill_rate: Option<f64>,
    pub signals_total: i64,
    pub signals_resolved: i64,
    /// Signals that reached at least TP1 / resolved signals.
    pub signal_hit_rate: Option<f64>,
}

async fn counts(pool: &PgPool, key: &str, limit: i64) -> anyhow::Result<Vec<Count>> {
    let rows = sqlx::query(&format!(
        "SELECT {key} AS key, sum(detected)::bigint AS count FROM pattern_stats_view
          GROUP BY {key} ORDER BY count DESC, key LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await
    .with_context(|| format!("counting patterns by {key}"))?;
    rows.iter()
        .map(|r| {
            Ok(Count {
                key: r.try_get("key")?,
                count: r.try_get("count")?,
            })
        })
        .collect()
}

/// Counts as of `now_ms` (the only input that is not from the events).
pub async fn summary(pool: &PgPool, now_ms: i64) -> anyhow::Result<Summary> {
    let totals = sqlx::query(
        "SELECT COALESCE(sum(detected), 0)::bigint AS detected, COALESCE(sum(filled), 0)::bigint AS filled,
                COALESCE(sum(invalidated), 0)::bigint AS invalidated, COALESCE(sum(expired), 0)::bigint AS expired
           FROM pattern_stats_view",
    )
    .fetch_one(pool)
    .await
    .context("pattern totals")?;
    let signals = sqlx::query(
        "SELECT COALESCE(sum(generated), 0)::bigint AS generated,
                COALESCE(sum(tp1 + tp2 + tp3), 0)::bigint AS hits,
                COALESCE(sum(tp1 + tp2 + tp3 + stopped + expired), 0)::bigint AS resolved
           FROM signal_stats_view",
    )
    .fetch_one(pool)
    .await
    .context("signal totals")?;
    let last_24h: i64 =
        sqlx::query_scalar("SELECT count(*) FROM patterns_view WHERE known_at > $1")
            .bind(now_ms - 86_400_000)
            .fetch_one(pool)
            .await
            .context("patterns of the last 24 h")?;
    let filled: i64 = totals.try_get("filled")?;
    let closed =
        filled + totals.try_get::<i64, _>("invalidated")? + totals.try_get::<i64, _>("expired")?;
    let resolved: i64 = signals.try_get("resolved")?;
    let hits: i64 = signals.try_get("hits")?;
    Ok(Summary {
        patterns_total: totals.try_get("detected")?,
        by_type: counts(pool, "pattern_type", 10).await?,
        by_direction: counts(pool, "direction", 10).await?,
        by_timeframe: counts(pool, "timeframe", 10).await?,
        top_symbols: counts(pool, "symbol", 10).await?,
        patterns_last_24h: last_24h,
        fill_rate: (closed > 0).then(|| filled as f64 / closed as f64),
        signals_total: signals.try_get("generated")?,
        signals_resolved: resolved,
        signal_hit_rate: (resolved > 0).then(|| hits as f64 / resolved as f64),
    })
}
