//! The pipeline's view of the read side ([`BookState`]): listed symbols and
//! the pattern book of a symbol as of a time, from the projections, after
//! making sure they have processed every committed event.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use commands::market::{BookSnapshot, BookState, StoreError};
use domain::market::tracker::{PatternKey, SignalKey, SignalLevels, TrackedPattern, TrackedSignal};
use domain::market::{Direction, PatternType, Symbol, Timeframe, TradingLevels};
use sqlx::{PgPool, Row};

use super::patterns::PatternsProjection;
use super::signals::SignalsProjection;
use super::symbols::SymbolsProjection;
use crate::postgres::event_log::Position;
use crate::projector::{Projection, batch, status};

/// How long the book waits for the projections to catch up.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);

pub struct PgBookState {
    pool: PgPool,
}

impl PgBookState {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

/// The newest committed event in global order.
async fn head(pool: &PgPool) -> anyhow::Result<Option<Position>> {
    let row = sqlx::query(
        "SELECT transaction_id::text AS tx, global_position FROM events
          ORDER BY transaction_id DESC, global_position DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await
    .context("reading the head of the event log")?;
    row.map(|r| {
        Ok(Position {
            tx: r.try_get("tx")?,
            pos: r.try_get("global_position")?,
        })
    })
    .transpose()
}

/// Brings `projections` past every event committed before the call (the
/// projector runtime may be doing the same; batches serialise on the
/// checkpoint row).
pub async fn settle(pool: &PgPool, projections: &[Arc<dyn Projection>]) -> anyhow::Result<()> {
    let Some(head) = head(pool).await? else {
        return Ok(());
    };
    let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
    loop {
        let mut done = true;
        for projection in projections {
            batch::catch_up(pool, projection.as_ref(), 1000).await?;
            done &= status::wait_until_processed(pool, projection.name(), &head, Duration::ZERO)
                .await?;
        }
        if done {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the market projections did not reach the head of the log within {SETTLE_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn parse<T>(value: Option<T>, what: &str, text: &str) -> anyhow::Result<T> {
    value.with_context(|| format!("unknown {what} {text:?} in a read model"))
}

fn timeframe(text: &str) -> anyhow::Result<Timeframe> {
    Timeframe::parse(text).map_err(|e| anyhow::anyhow!(e))
}

/// A pattern key from read-model columns.
fn pattern_key(
    tf: &str,
    pattern_type: &str,
    direction: Direction,
    detected_ts: i64,
) -> anyhow::Result<PatternKey> {
    Ok(PatternKey {
        timeframe: timeframe(tf)?,
        pattern_type: parse(
            PatternType::parse(pattern_type),
            "pattern type",
            pattern_type,
        )?,
        direction,
        detected_ts,
    })
}

impl PgBookState {
    async fn snapshot(&self, symbol: &Symbol, as_of: i64) -> anyhow::Result<BookSnapshot> {
        settle(
            &self.pool,
            &[Arc::new(PatternsProjection), Arc::new(SignalsProjection)],
        )
        .await?;
        let rows = sqlx::query(&format!(
            "SELECT {} FROM patterns_view
              WHERE symbol = $1 AND known_at <= $2 AND (closed_at IS NULL OR closed_at > $2)",
            super::patterns::COLUMNS
        ))
        .bind(symbol.as_str())
        .bind(as_of)
        .fetch_all(&self.pool)
        .await
        .context("reading the active patterns")?;
        let mut active = Vec::with_capacity(rows.len());
        for row in &rows {
            let v = super::patterns::from_row(row)?;
            active.push(TrackedPattern {
                key: pattern_key(
                    &v.timeframe,
                    &v.pattern_type,
                    parse(Direction::parse(&v.direction), "direction", &v.direction)?,
                    v.detected_ts,
                )?,
                zone_low: v.zone_low,
                zone_high: v.zone_high,
                swept_level: v.swept_level,
                known_at: v.known_at,
                expires_at: v.expires_at,
                levels: TradingLevels {
                    atr: v.atr,
                    swing_high: v.swing_high,
                    swing_low: v.swing_low,
                    entry: v.entry,
                    stop_loss: v.stop_loss,
                    take_profit_1: v.take_profit_1,
                    take_profit_2: v.take_profit_2,
                    take_profit_3: v.take_profit_3,
                    risk: v.risk,
                    risk_reward_1: v.risk_reward_1,
                    risk_reward_2: v.risk_reward_2,
                    risk_reward_3: v.risk_reward_3,
                },
            });
        }
        let rows = sqlx::query(&format!(
            "SELECT {} FROM signals_view
              WHERE symbol = $1 AND created_at <= $2 AND (resolved_at IS NULL OR resolved_at > $2)",
            super::signals::COLUMNS
        ))
        .bind(symbol.as_str())
        .bind(as_of)
        .fetch_all(&self.pool)
        .await
        .context("reading the open signals")?;
        let mut signals = Vec::with_capacity(rows.len());
        for row in &rows {
            let v = super::signals::from_row(row)?;
            let direction = parse(Direction::parse(&v.direction), "direction", &v.direction)?;
            let reached = |at: Option<i64>| at.is_some_and(|t| t <= as_of);
            let best_target = [v.tp1_at, v.tp2_at, v.tp3_at]
                .iter()
                .rposition(|at| reached(*at))
                .map_or(0, |i| i as u8 + 1);
            signals.push(TrackedSignal {
                key: SignalKey {
                    direction,
                    created_at: v.created_at,
                },
                pattern: pattern_key(
                    &v.pattern_timeframe,
                    &v.pattern_type,
                    direction,
                    v.pattern_detected_ts,
                )?,
                zone_low: v.zone_low,
                zone_high: v.zone_high,
                aligned: v
                    .timeframes_aligned
                    .iter()
                    .map(|t| timeframe(t))
                    .collect::<anyhow::Result<_>>()?,
                levels: SignalLevels {
                    atr: v.atr,
                    entry: v.entry,
                    stop_loss: v.stop_loss,
                    take_profit_1: v.take_profit_1,
                    take_profit_2: v.take_profit_2,
                    take_profit_3: v.take_profit_3,
                    risk: v.risk,
                    risk_reward: v.risk_reward,
                },
                valid_until: v.valid_until,
                entered: reached(v.entered_at),
                best_target,
            });
        }
        let rows = sqlx::query(
            "SELECT direction, max(created_at) AS last FROM signals_view
              WHERE symbol = $1 AND created_at <= $2 GROUP BY direction",
        )
        .bind(symbol.as_str())
        .bind(as_of)
        .fetch_all(&self.pool)
        .await
        .context("reading the last signals")?;
        let mut last_signal = Vec::new();
        for row in &rows {
            let text: String = row.try_get("direction")?;
            last_signal.push((
                parse(Direction::parse(&text), "direction", &text)?,
                row.try_get("last")?,
            ));
        }
        Ok(BookSnapshot {
            active,
            signals,
            last_signal,
        })
    }
}

#[async_trait]
impl BookState for PgBookState {
    async fn listed_symbols(&self) -> Result<Vec<Symbol>, StoreError> {
        settle(&self.pool, &[Arc::new(SymbolsProjection)])
            .await
            .map_err(StoreError::from)?;
        let names: Vec<String> =
            sqlx::query_scalar("SELECT symbol FROM symbols_view WHERE listed ORDER BY symbol")
                .fetch_all(&self.pool)
                .await?;
        names
            .iter()
            .map(|n| Symbol::parse(n).map_err(StoreError::from))
            .collect()
    }

    async fn book(&self, symbol: &Symbol, as_of: i64) -> Result<BookSnapshot, StoreError> {
        self.snapshot(symbol, as_of).await.map_err(StoreError::from)
    }
}
