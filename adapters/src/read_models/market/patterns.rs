//! `patterns_view` and `pattern_matrix_view`.

use anyhow::Context;
use async_trait::async_trait;
use projections::RecordedEvent;
use projections::market::patterns::{self, PatternView};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use super::table;
use crate::projector::Projection;

pub struct PatternsProjection;

#[async_trait]
impl Projection for PatternsProjection {
    fn name(&self) -> &'static str {
        patterns::NAME
    }

    fn event_types(&self) -> &'static [&'static str] {
        patterns::EVENT_TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &[patterns::TABLE]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &[String],
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let t = table(tables, 0, patterns::NAME)?;
        let changes = patterns::changes(events)?;
        if !changes.rows.is_empty() {
            let r = &changes.rows;
            let f = |get: fn(&PatternView) -> f64| r.iter().map(get).collect::<Vec<f64>>();
            let o = |get: fn(&PatternView) -> Option<f64>| {
                r.iter().map(get).collect::<Vec<Option<f64>>>()
            };
            sqlx::query(&format!(
                "INSERT INTO {t} (pattern_id, symbol, timeframe, pattern_type, direction, detected_ts,
                     known_at, expires_at, zone_low, zone_high, swept_level, atr, swing_high, swing_low,
                     entry, stop_loss, take_profit_1, take_profit_2, take_profit_3, risk,
                     risk_reward_1, risk_reward_2, risk_reward_3, status, closed_at)
                 SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                     $6::bigint[], $7::bigint[], $8::bigint[], $9::float8[], $10::float8[], $11::float8[],
                     $12::float8[], $13::float8[], $14::float8[], $15::float8[], $16::float8[],
                     $17::float8[], $18::float8[], $19::float8[], $20::float8[], $21::float8[],
                     $22::float8[], $23::float8[], $24::text[], $25::bigint[])
                 ON CONFLICT (pattern_id) DO NOTHING"
            ))
            .bind(r.iter().map(|x| x.pattern_id).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.symbol.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.timeframe.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.pattern_type.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.direction.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.detected_ts).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.known_at).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.expires_at).collect::<Vec<_>>())
            .bind(f(|x| x.zone_low))
            .bind(f(|x| x.zone_high))
            .bind(o(|x| x.swept_level))
            .bind(f(|x| x.atr))
            .bind(o(|x| x.swing_high))
            .bind(o(|x| x.swing_low))
            .bind(f(|x| x.entry))
            .bind(f(|x| x.stop_loss))
            .bind(f(|x| x.take_profit_1))
            .bind(f(|x| x.take_profit_2))
            .bind(f(|x| x.take_profit_3))
            .bind(f(|x| x.risk))
            .bind(f(|x| x.risk_reward_1))
            .bind(f(|x| x.risk_reward_2))
            .bind(f(|x| x.risk_reward_3))
            .bind(r.iter().map(|x| x.status.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.closed_at).collect::<Vec<Option<i64>>>())
            .execute(&mut *conn)
            .await
            .context("inserting patterns")?;
        }
        if !changes.closes.is_empty() {
            let c = &changes.closes;
            sqlx::query(&format!(
                "UPDATE {t} AS p SET status = c.status, closed_at = c.closed_at
                   FROM unnest($1::uuid[], $2::text[], $3::bigint[]) AS c(pattern_id, status, closed_at)
                  WHERE p.pattern_id = c.pattern_id AND p.status = 'active'"
            ))
            .bind(c.iter().map(|x| x.pattern_id).collect::<Vec<_>>())
            .bind(c.iter().map(|x| x.status.clone()).collect::<Vec<_>>())
            .bind(c.iter().map(|x| x.closed_at).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await
            .context("closing patterns")?;
        }
        Ok(())
    }
}

/// The matrix: only active patterns, one row each.
pub struct MatrixProjection;

#[async_trait]
impl Projection for MatrixProjection {
    fn name(&self) -> &'static str {
        patterns::MATRIX_NAME
    }

    fn event_types(&self) -> &'static [&'static str] {
        patterns::EVENT_TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &[patterns::MATRIX_TABLE]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &[String],
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let t = table(tables, 0, patterns::MATRIX_NAME)?;
        let changes = patterns::changes(events)?;
        let (active, removed) = changes.matrix();
        if !active.is_empty() {
            sqlx::query(&format!(
                "INSERT INTO {t} (pattern_id, symbol, timeframe, pattern_type, direction, detected_ts, zone_low, zone_high)
                 SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                                      $6::bigint[], $7::float8[], $8::float8[])
                 ON CONFLICT (pattern_id) DO NOTHING"
            ))
            .bind(active.iter().map(|x| x.pattern_id).collect::<Vec<_>>())
            .bind(active.iter().map(|x| x.symbol.clone()).collect::<Vec<_>>())
            .bind(active.iter().map(|x| x.timeframe.clone()).collect::<Vec<_>>())
            .bind(active.iter().map(|x| x.pattern_type.clone()).collect::<Vec<_>>())
            .bind(active.iter().map(|x| x.direction.clone()).collect::<Vec<_>>())
            .bind(active.iter().map(|x| x.detected_ts).collect::<Vec<_>>())
            .bind(active.iter().map(|x| x.zone_low).collect::<Vec<_>>())
            .bind(active.iter().map(|x| x.zone_high).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await
            .context("adding active patterns to the matrix")?;
        }
        if !removed.is_empty() {
            sqlx::query(&format!("DELETE FROM {t} WHERE pattern_id = ANY($1)"))
                .bind(removed)
                .execute(&mut *conn)
                .await
                .context("removing closed patterns from the matrix")?;
        }
        Ok(())
    }
}

pub(crate) const COLUMNS: &str =
    "pattern_id, symbol, timeframe, pattern_type, direction, detected_ts,
    known_at, expires_at, zone_low, zone_high, swept_level, atr, swing_high, swing_low, entry,
    stop_loss, take_profit_1, take_profit_2, take_profit_3, risk, risk_reward_1, risk_reward_2,
    risk_reward_3, status, closed_at";

pub(crate) fn from_row(row: &PgRow) -> Result<PatternView, sqlx::Error> {
    Ok(PatternView {
        pattern_id: row.try_get("pattern_id")?,
        symbol: row.try_get("symbol")?,
        timeframe: row.try_get("timeframe")?,
        pattern_type: row.try_get("pattern_type")?,
        direction: row.try_get("direction")?,
        detected_ts: row.try_get("detected_ts")?,
        known_at: row.try_get("known_at")?,
        expires_at: row.try_get("expires_at")?,
        zone_low: row.try_get("zone_low")?,
        zone_high: row.try_get("zone_high")?,
        swept_level: row.try_get("swept_level")?,
        atr: row.try_get("atr")?,
        swing_high: row.try_get("swing_high")?,
        swing_low: row.try_get("swing_low")?,
        entry: row.try_get("entry")?,
        stop_loss: row.try_get("stop_loss")?,
        take_profit_1: row.try_get("take_profit_1")?,
        take_profit_2: row.try_get("take_profit_2")?,
        take_profit_3: row.try_get("take_profit_3")?,
        risk: row.try_get("risk")?,
        risk_reward_1: row.try_get("risk_reward_1")?,
        risk_reward_2: row.try_get("risk_reward_2")?,
        risk_reward_3: row.try_get("risk_reward_3")?,
        status: row.try_get("status")?,
        closed_at: row.try_get("closed_at")?,
    })
}

/// Filters of the pattern list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct PatternFilter {
    pub symbol: Option<String>,
    pub timeframe: Option<String>,
    pub pattern_type: Option<String>,
    pub direction: Option<String>,
    pub status: Option<String>,
    /// Keyset cursor: rows strictly older than this (detected_ts, id).
    pub before: Option<(i64, Uuid)>,
}

/// Newest first, at most `limit`.
pub async fn list(
    pool: &PgPool,
    filter: &PatternFilter,
    limit: i64,
) -> anyhow::Result<Vec<PatternView>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM patterns_view
          WHERE ($1::text IS NULL OR symbol = $1) AND ($2::text IS NULL OR timeframe = $2)
            AND ($3::text IS NULL OR pattern_type = $3) AND ($4::text IS NULL OR direction = $4)
            AND ($5::text IS NULL OR status = $5)
            AND ($6::bigint IS NULL OR (detected_ts, pattern_id) < ($6, $7::uuid))
          ORDER BY detected_ts DESC, pattern_id DESC LIMIT $8"
    ))
    .bind(&filter.symbol)
    .bind(&filter.timeframe)
    .bind(&filter.pattern_type)
    .bind(&filter.direction)
    .bind(&filter.status)
    .bind(filter.before.map(|(ts, _)| ts))
    .bind(filter.before.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("reading patterns_view")?;
    rows.iter()
        .map(|r| from_row(r).map_err(Into::into))
        .collect()
}

/// Every pattern of a symbol (for tests and comparisons), by detection.
pub async fn of_symbol(pool: &PgPool, symbol: &str) -> anyhow::Result<Vec<PatternView>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM patterns_view WHERE symbol = $1
          ORDER BY detected_ts, timeframe, pattern_type, direction"
    ))
    .bind(symbol)
    .fetch_all(pool)
    .await
    .context("reading patterns_view")?;
    rows.iter()
        .map(|r| from_row(r).map_err(Into::into))
        .collect()
}

/// One cell of the matrix: the newest active pattern of a symbol,
/// timeframe and type.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MatrixCell {
    pub symbol: String,
    pub timeframe: String,
    pub pattern_type: String,
    pub direction: String,
    pub detected_ts: i64,
    pub zone_low: f64,
    pub zone_high: f64,
    pub pattern_id: Uuid,
}

pub async fn matrix(pool: &PgPool) -> anyhow::Result<Vec<MatrixCell>> {
    let rows = sqlx::query(
        "SELECT DISTINCT ON (symbol, timeframe, pattern_type)
                symbol, timeframe, pattern_type, direction, detected_ts, zone_low, zone_high, pattern_id
           FROM pattern_matrix_view
          ORDER BY symbol, timeframe, pattern_type, detected_ts DESC, direction DESC, pattern_id",
    )
    .fetch_all(pool)
    .await
    .context("reading pattern_matrix_view")?;
    rows.iter()
        .map(|row| {
            Ok(MatrixCell {
                symbol: row.try_get("symbol")?,
                timeframe: row.try_get("timeframe")?,
                pattern_type: row.try_get("pattern_type")?,
                direction: row.try_get("direction")?,
                detected_ts: row.try_get("detected_ts")?,
                zone_low: row.try_get("zone_low")?,
                zone_high: row.try_get("zone_high")?,
                pattern_id: row.try_get("pattern_id")?,
            })
        })
        .collect()
}
