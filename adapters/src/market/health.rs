//! `cryptolens market health [--fix]`: checks the stored candles of a
//! symbol (PRODUCT §3) and repairs what can be repaired.
//!
//! Checks: gaps in the 1m sequence (minus the accepted ones), OHLC sanity
//! violations, candles not aligned to their timeframe, and complete
//! higher-timeframe buckets that are missing or disagree with their 1m
//! source (OHLC exact, volume within 1e-9 relative). `--fix` refetches the
//! gaps (what the exchange still does not have is remembered as accepted),
//! deletes invalid or misaligned rows and refetches them, and rebuilds the
//! disagreeing buckets from the 1m data.

use anyhow::Context;
use commands::market::CandleStore;
use domain::job::SymbolReport;
use domain::market::{Symbol, Timeframe};
use serde::Serialize;
use sqlx::{PgPool, Row};

use super::PgPipeline;
use super::candles::PgCandleStore;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// Open time of the last candle before the hole.
    pub after: i64,
    /// Open time of the first candle after it.
    pub before: i64,
}

impl Gap {
    pub fn missing_minutes(&self) -> i64 {
        (self.before - self.after) / 60_000 - 1
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct HealthReport {
    pub symbol: String,
    pub candles_1m: i64,
    pub first_open_time: Option<i64>,
    pub last_open_time: Option<i64>,
    pub gaps: Vec<Gap>,
    pub accepted_gaps: i64,
    /// (timeframe, open_time) of rows breaking the OHLC rules.
    pub invalid: Vec<(String, i64)>,
    pub misaligned: Vec<(String, i64)>,
    /// (timeframe, bucket start) of complete buckets missing or differing.
    pub disagreeing: Vec<(String, i64)>,
}

impl HealthReport {
    pub fn is_healthy(&self) -> bool {
        self.gaps.is_empty()
            && self.invalid.is_empty()
            && self.misaligned.is_empty()
            && self.disagreeing.is_empty()
    }
}

/// Symbols that have candles.
pub async fn symbols_with_candles(pool: &PgPool) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT symbol FROM candles WHERE timeframe = '1m' ORDER BY symbol",
    )
    .fetch_all(pool)
    .await?)
}

pub async fn check(pool: &PgPool, symbol: &Symbol) -> anyhow::Result<HealthReport> {
    let mut report = HealthReport {
        symbol: symbol.to_string(),
        ..HealthReport::default()
    };
    let row = sqlx::query(
        "SELECT count(*) AS n, min(open_time) AS first, max(open_time) AS last
           FROM candles WHERE symbol = $1 AND timeframe = '1m'",
    )
    .bind(symbol.as_str())
    .fetch_one(pool)
    .await
    .context("counting candles")?;
    report.candles_1m = row.try_get("n")?;
    report.first_open_time = row.try_get("first")?;
    report.last_open_time = row.try_get("last")?;
    let gaps = sqlx::query(
        "SELECT g.after, g.before FROM (
             SELECT open_time AS after, lead(open_time) OVER (ORDER BY open_time) AS before
               FROM candles WHERE symbol = $1 AND timeframe = '1m') g
          WHERE g.before - g.after > 60000
            AND NOT EXISTS (SELECT 1 FROM candle_gaps_accepted a
                             WHERE a.symbol = $1 AND a.from_time = g.after + 60000)
          ORDER BY g.after",
    )
    .bind(symbol.as_str())
    .fetch_all(pool)
    .await
    .context("finding gaps")?;
    for gap in &gaps {
        report.gaps.push(Gap {
            after: gap.try_get("after")?,
            before: gap.try_get("before")?,
        });
    }
    report.accepted_gaps =
        sqlx::query_scalar("SELECT count(*) FROM candle_gaps_accepted WHERE symbol = $1")
            .bind(symbol.as_str())
            .fetch_one(pool)
            .await?;
    let invalid = sqlx::query(
        "SELECT timeframe, open_time FROM candles WHERE symbol = $1 AND NOT (
             open > 0 AND high > 0 AND low > 0 AND close > 0 AND volume >= 0
             AND high >= greatest(open, close) AND low <= least(open, close))
          ORDER BY timeframe, open_time",
    )
    .bind(symbol.as_str())
    .fetch_all(pool)
    .await
    .context("finding OHLC violations")?;
    for row in &invalid {
        report
            .invalid
            .push((row.try_get("timeframe")?, row.try_get("open_time")?));
    }
    let mark: Option<i64> =
        sqlx::query_scalar("SELECT processed_through FROM market_progress WHERE symbol = $1")
            .bind(symbol.as_str())
            .fetch_optional(pool)
            .await?;
    for tf in Timeframe::ALL {
        let misaligned = sqlx::query_scalar::<_, i64>(
            "SELECT open_time FROM candles WHERE symbol = $1 AND timeframe = $2 AND mod(open_time, $3) <> 0
              ORDER BY open_time",
        )
        .bind(symbol.as_str())
        .bind(tf.as_str())
        .bind(tf.duration_ms())
        .fetch_all(pool)
        .await?;
        report
            .misaligned
            .extend(misaligned.into_iter().map(|t| (tf.to_string(), t)));
        if tf == Timeframe::M1 {
            continue;
        }
        // Buckets complete by the progress mark must exist and equal their source.
        let disagreeing = sqlx::query_scalar::<_, i64>(
            "WITH source AS (
                 SELECT (open_time / $3) * $3 AS bucket,
                        (array_agg(open ORDER BY open_time))[1] AS open, max(high) AS high,
                        min(low) AS low, (array_agg(close ORDER BY open_time DESC))[1] AS close,
                        sum(volume) AS volume
                   FROM candles WHERE symbol = $1 AND timeframe = '1m' GROUP BY 1)
             SELECT COALESCE(s.bucket, c.open_time) AS bucket
               FROM source s FULL JOIN (SELECT * FROM candles WHERE symbol = $1 AND timeframe = $2) c
                 ON c.open_time = s.bucket
              WHERE COALESCE(s.bucket, c.open_time) + $3 - 60000 <= $4
                AND (s.bucket IS NULL OR c.open_time IS NULL
                     OR c.open <> s.open OR c.high <> s.high OR c.low <> s.low OR c.close <> s.close
                     OR abs(c.volume - s.volume) > 1e-9 * greatest(abs(s.volume), 1e-300))
              ORDER BY 1",
        )
        .bind(symbol.as_str())
        .bind(tf.as_str())
        .bind(tf.duration_ms())
        .bind(mark.unwrap_or(i64::MIN / 2))
        .fetch_all(pool)
        .await
        .context("comparing aggregates with their 1m source")?;
        report
            .disagreeing
            .extend(disagreeing.into_iter().map(|b| (tf.to_string(), b)));
    }
    Ok(report)
}

/// Repairs what `check` found; returns the report of a second check.
pub async fn fix(
    pool: &PgPool,
    pipeline: &PgPipeline,
    health: &HealthReport,
    job: &mut SymbolReport,
) -> anyhow::Result<HealthReport> {
    let symbol = Symbol::parse(&health.symbol)?;
    let candles = PgCandleStore::new(pool.clone());
    // Invalid or misaligned rows go, and become gaps to refetch.
    for (tf, open_time) in health.invalid.iter().chain(&health.misaligned) {
        sqlx::query("DELETE FROM candles WHERE symbol = $1 AND timeframe = $2 AND open_time = $3")
            .bind(symbol.as_str())
            .bind(tf)
            .bind(open_time)
            .execute(pool)
            .await?;
    }
    let mut refetch: Vec<(i64, i64)> = health
        .gaps
        .iter()
        .map(|g| (g.after + 60_000, g.before))
        .collect();
    for (tf, open_time) in health.invalid.iter().chain(&health.misaligned) {
        if tf == Timeframe::M1.as_str() {
            let start = Timeframe::M1.bucket_start(*open_time);
            refetch.push((start, start + 60_000));
        }
    }
    for (from, to) in &refetch {
        pipeline.refetch(&symbol, *from, *to, job).await?;
    }
    for tf in Timeframe::AGGREGATED {
        let starts: Vec<i64> = health
            .disagreeing
            .iter()
            .filter(|(t, _)| t == tf.as_str())
            .map(|(_, b)| *b)
            .collect();
        job.aggregated += pipeline.rebuild_buckets(&symbol, tf, &starts).await?;
    }
    // Whatever is still missing, the exchange does not have: accept it.
    for (from, to) in &refetch {
        let present = candles
            .range(&symbol, Timeframe::M1, *from, *to)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        if present.is_empty() {
            sqlx::query(
                "INSERT INTO candle_gaps_accepted (symbol, from_time, to_time) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .bind(symbol.as_str())
            .bind(from)
            .bind(to)
            .execute(pool)
            .await?;
        }
    }
    check(pool, &symbol).await
}
