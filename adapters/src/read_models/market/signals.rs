//! `signals_view`.

use anyhow::Context;
use async_trait::async_trait;
use projections::RecordedEvent;
use projections::market::signals::{self, SignalView};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use super::table;
use crate::projector::Projection;

pub struct SignalsProjection;

#[async_trait]
impl Projection for SignalsProjection {
    fn name(&self) -> &'static str {
        signals::NAME
    }

    fn event_types(&self) -> &'static [&'static str] {
        signals::EVENT_TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &[signals::TABLE]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &[String],
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let t = table(tables, 0, signals::NAME)?;
        let changes = signals::changes(events)?;
        if !changes.rows.is_empty() {
            let r = &changes.rows;
            let f = |get: fn(&SignalView) -> f64| r.iter().map(get).collect::<Vec<f64>>();
            let o = |get: fn(&SignalView) -> Option<i64>| {
                r.iter().map(get).collect::<Vec<Option<i64>>>()
            };
            let s = |get: fn(&SignalView) -> Option<String>| {
                r.iter().map(get).collect::<Vec<Option<String>>>()
            };
            sqlx::query(&format!(
                "INSERT INTO {t} (signal_id, symbol, direction, created_at, pattern_id, pattern_timeframe,
                     pattern_type, pattern_detected_ts, zone_low, zone_high, timeframes_aligned, confluence,
                     atr, entry, stop_loss, take_profit_1, take_profit_2, take_profit_3, risk, risk_reward,
                     valid_until, entered_at, tp1_at, tp2_at, tp3_at, resolved_at, outcome, closed_by)
                 SELECT signal_id, symbol, direction, created_at, pattern_id, pattern_timeframe,
                        pattern_type, pattern_detected_ts, zone_low, zone_high,
                        string_to_array(aligned, ','), confluence, atr, entry, stop_loss,
                        take_profit_1, take_profit_2, take_profit_3, risk, risk_reward, valid_until,
                        entered_at, tp1_at, tp2_at, tp3_at, resolved_at, outcome, closed_by
                   FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::uuid[], $6::text[],
                        $7::text[], $8::bigint[], $9::float8[], $10::float8[], $11::text[], $12::int[],
                        $13::float8[], $14::float8[], $15::float8[], $16::float8[], $17::float8[],
                        $18::float8[], $19::float8[], $20::float8[], $21::bigint[], $22::bigint[],
                        $23::bigint[], $24::bigint[], $25::bigint[], $26::bigint[], $27::text[], $28::text[])
                     AS x(signal_id, symbol, direction, created_at, pattern_id, pattern_timeframe,
                          pattern_type, pattern_detected_ts, zone_low, zone_high, aligned, confluence,
                          atr, entry, stop_loss, take_profit_1, take_profit_2, take_profit_3, risk,
                          risk_reward, valid_until, entered_at, tp1_at, tp2_at, tp3_at, resolved_at,
                          outcome, closed_by)
                 ON CONFLICT (signal_id) DO NOTHING"
            ))
            .bind(r.iter().map(|x| x.signal_id).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.symbol.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.direction.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.created_at).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.pattern_id).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.pattern_timeframe.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.pattern_type.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.pattern_detected_ts).collect::<Vec<_>>())
            .bind(f(|x| x.zone_low))
            .bind(f(|x| x.zone_high))
            .bind(r.iter().map(|x| x.timeframes_aligned.join(",")).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.confluence).collect::<Vec<_>>())
            .bind(f(|x| x.atr))
            .bind(f(|x| x.entry))
            .bind(f(|x| x.stop_loss))
            .bind(f(|x| x.take_profit_1))
            .bind(f(|x| x.take_profit_2))
            .bind(f(|x| x.take_profit_3))
            .bind(f(|x| x.risk))
            .bind(f(|x| x.risk_reward))
            .bind(r.iter().map(|x| x.valid_until).collect::<Vec<_>>())
            .bind(o(|x| x.entered_at))
            .bind(o(|x| x.tp1_at))
            .bind(o(|x| x.tp2_at))
            .bind(o(|x| x.tp3_at))
            .bind(o(|x| x.resolved_at))
            .bind(s(|x| x.outcome.clone()))
            .bind(s(|x| x.closed_by.clone()))
            .execute(&mut *conn)
            .await
            .context("inserting signals")?;
        }
        if !changes.progress.is_empty() {
            let p = &changes.progress;
            sqlx::query(&format!(
                "UPDATE {t} AS s SET entered_at = COALESCE(s.entered_at, p.entered_at),
                        tp1_at = COALESCE(s.tp1_at, p.tp1_at), tp2_at = COALESCE(s.tp2_at, p.tp2_at),
                        tp3_at = COALESCE(s.tp3_at, p.tp3_at),
                        resolved_at = COALESCE(s.resolved_at, p.resolved_at),
                        outcome = COALESCE(s.outcome, p.outcome), closed_by = COALESCE(s.closed_by, p.closed_by)
                   FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
                               $6::bigint[], $7::text[], $8::text[])
                        AS p(signal_id, entered_at, tp1_at, tp2_at, tp3_at, resolved_at, outcome, closed_by)
                  WHERE s.signal_id = p.signal_id"
            ))
            .bind(p.iter().map(|x| x.signal_id).collect::<Vec<_>>())
            .bind(p.iter().map(|x| x.entered_at).collect::<Vec<_>>())
            .bind(p.iter().map(|x| x.tp1_at).collect::<Vec<_>>())
            .bind(p.iter().map(|x| x.tp2_at).collect::<Vec<_>>())
            .bind(p.iter().map(|x| x.tp3_at).collect::<Vec<_>>())
            .bind(p.iter().map(|x| x.resolved_at).collect::<Vec<_>>())
            .bind(p.iter().map(|x| x.outcome.clone()).collect::<Vec<_>>())
            .bind(p.iter().map(|x| x.closed_by.clone()).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await
            .context("recording signal progress")?;
        }
        Ok(())
    }
}

pub(crate) const COLUMNS: &str = "signal_id, symbol, direction, created_at, pattern_id, pattern_timeframe,
    pattern_type, pattern_detected_ts, zone_low, zone_high, timeframes_aligned, confluence, atr, entry,
    stop_loss, take_profit_1, take_profit_2, take_profit_3, risk, risk_reward, valid_until, entered_at,
    tp1_at, tp2_at, tp3_at, resolved_at, outcome, closed_by";

pub(crate) fn from_row(row: &PgRow) -> Result<SignalView, sqlx::Error> {
    Ok(SignalView {
        signal_id: row.try_get("signal_id")?,
        symbol: row.try_get("symbol")?,
        direction: row.try_get("direction")?,
        created_at: row.try_get("created_at")?,
        pattern_id: row.try_get("pattern_id")?,
        pattern_timeframe: row.try_get("pattern_timeframe")?,
        pattern_type: row.try_get("pattern_type")?,
        pattern_detected_ts: row.try_get("pattern_detected_ts")?,
        zone_low: row.try_get("zone_low")?,
        zone_high: row.try_get("zone_high")?,
        timeframes_aligned: row.try_get("timeframes_aligned")?,
        confluence: row.try_get("confluence")?,
        atr: row.try_get("atr")?,
        entry: row.try_get("entry")?,
        stop_loss: row.try_get("stop_loss")?,
        take_profit_1: row.try_get("take_profit_1")?,
        take_profit_2: row.try_get("take_profit_2")?,
        take_profit_3: row.try_get("take_profit_3")?,
        risk: row.try_get("risk")?,
        risk_reward: row.try_get("risk_reward")?,
        valid_until: row.try_get("valid_until")?,
        entered_at: row.try_get("entered_at")?,
        tp1_at: row.try_get("tp1_at")?,
        tp2_at: row.try_get("tp2_at")?,
        tp3_at: row.try_get("tp3_at")?,
        resolved_at: row.try_get("resolved_at")?,
        outcome: row.try_get("outcome")?,
        closed_by: row.try_get("closed_by")?,
    })
}

/// Filters of the signal list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct SignalFilter {
    pub symbol: Option<String>,
    pub direction: Option<String>,
    /// `open`, or an outcome (`tp1` ... `expired`).
    pub outcome: Option<String>,
    pub before: Option<(i64, Uuid)>,
}

pub async fn list(
    pool: &PgPool,
    filter: &SignalFilter,
    limit: i64,
) -> anyhow::Result<Vec<SignalView>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM signals_view
          WHERE ($1::text IS NULL OR symbol = $1) AND ($2::text IS NULL OR direction = $2)
            AND ($3::text IS NULL OR ($3 = 'open' AND outcome IS NULL) OR outcome = $3)
            AND ($4::bigint IS NULL OR (created_at, signal_id) < ($4, $5::uuid))
          ORDER BY created_at DESC, signal_id DESC LIMIT $6"
    ))
    .bind(&filter.symbol)
    .bind(&filter.direction)
    .bind(&filter.outcome)
    .bind(filter.before.map(|(ts, _)| ts))
    .bind(filter.before.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("reading signals_view")?;
    rows.iter()
        .map(|r| from_row(r).map_err(Into::into))
        .collect()
}

pub async fn find(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<SignalView>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM signals_view WHERE signal_id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .context("reading signals_view")?;
    row.map(|r| from_row(&r).map_err(Into::into)).transpose()
}
