//! The plain `candles` table and the pipeline's progress marks
//! ([`CandleStore`] on PostgreSQL). Writes are bulk upserts through
//! `unnest`; unchanged rows are not rewritten.

use async_trait::async_trait;
use commands::market::{CandleStore, StoreError};
use domain::market::{Candle, Symbol, Timeframe};
use sqlx::{PgPool, Row};

/// Rows per upsert statement.
const UPSERT_BATCH: usize = 5000;

#[derive(Clone)]
pub struct PgCandleStore {
    pool: PgPool,
}

impl PgCandleStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

fn candles(rows: Vec<sqlx::postgres::PgRow>) -> Result<Vec<Candle>, StoreError> {
    rows.iter()
        .map(|r| {
            Ok(Candle::new(
                r.try_get("open_time")?,
                r.try_get("open")?,
                r.try_get("high")?,
                r.try_get("low")?,
                r.try_get("close")?,
                r.try_get("volume")?,
            ))
        })
        .collect()
}

#[async_trait]
impl CandleStore for PgCandleStore {
    async fn upsert(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        rows: &[Candle],
    ) -> Result<u64, StoreError> {
        let mut changed = 0;
        for part in rows.chunks(UPSERT_BATCH) {
            let result = sqlx::query(
                "INSERT INTO candles AS c (symbol, timeframe, open_time, open, high, low, close, volume)
                 SELECT $1, $2, * FROM unnest($3::bigint[], $4::float8[], $5::float8[], $6::float8[],
                                              $7::float8[], $8::float8[])
                 ON CONFLICT (symbol, timeframe, open_time) DO UPDATE SET
                     open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
                     close = EXCLUDED.close, volume = EXCLUDED.volume
                 WHERE (c.open, c.high, c.low, c.close, c.volume)
                       IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume)",
            )
            .bind(symbol.as_str())
            .bind(timeframe.as_str())
            .bind(part.iter().map(|c| c.open_time).collect::<Vec<_>>())
            .bind(part.iter().map(|c| c.open).collect::<Vec<_>>())
            .bind(part.iter().map(|c| c.high).collect::<Vec<_>>())
            .bind(part.iter().map(|c| c.low).collect::<Vec<_>>())
            .bind(part.iter().map(|c| c.close).collect::<Vec<_>>())
            .bind(part.iter().map(|c| c.volume).collect::<Vec<_>>())
            .execute(&self.pool)
            .await?;
            changed += result.rows_affected();
        }
        Ok(changed)
    }

    async fn latest_open_time(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT max(open_time) FROM candles WHERE symbol = $1 AND timeframe = $2",
        )
        .bind(symbol.as_str())
        .bind(timeframe.as_str())
        .fetch_one(&self.pool)
        .await?)
    }

    async fn range(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        from: i64,
        to: i64,
    ) -> Result<Vec<Candle>, StoreError> {
        candles(
            sqlx::query(
                "SELECT open_time, open, high, low, close, volume FROM candles
                  WHERE symbol = $1 AND timeframe = $2 AND open_time >= $3 AND open_time < $4
                  ORDER BY open_time",
            )
            .bind(symbol.as_str())
            .bind(timeframe.as_str())
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?,
        )
    }

    async fn after(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Candle>, StoreError> {
        candles(
            sqlx::query(
                "SELECT open_time, open, high, low, close, volume FROM candles
                  WHERE symbol = $1 AND timeframe = $2 AND open_time > $3
                  ORDER BY open_time LIMIT $4",
            )
            .bind(symbol.as_str())
            .bind(timeframe.as_str())
            .bind(after)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?,
        )
    }

    async fn tail_before(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        before: i64,
        limit: usize,
    ) -> Result<Vec<Candle>, StoreError> {
        let mut tail = candles(
            sqlx::query(
                "SELECT open_time, open, high, low, close, volume FROM candles
                  WHERE symbol = $1 AND timeframe = $2 AND open_time < $3
                  ORDER BY open_time DESC LIMIT $4",
            )
            .bind(symbol.as_str())
            .bind(timeframe.as_str())
            .bind(before)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?,
        )?;
        tail.reverse();
        Ok(tail)
    }

    async fn processed_through(&self, symbol: &Symbol) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT processed_through FROM market_progress WHERE symbol = $1")
                .bind(symbol.as_str())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn set_processed_through(
        &self,
        symbol: &Symbol,
        open_time: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO market_progress (symbol, processed_through) VALUES ($1, $2)
             ON CONFLICT (symbol) DO UPDATE SET processed_through = EXCLUDED.processed_through",
        )
        .bind(symbol.as_str())
        .bind(open_time)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn backfill_position(
        &self,
        symbol: &Symbol,
        from: i64,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT next_time FROM market_backfills WHERE symbol = $1 AND from_time = $2",
        )
        .bind(symbol.as_str())
        .bind(from)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn set_backfill_position(
        &self,
        symbol: &Symbol,
        from: i64,
        next: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO market_backfills (symbol, from_time, next_time) VALUES ($1, $2, $3)
             ON CONFLICT (symbol, from_time) DO UPDATE SET next_time = EXCLUDED.next_time",
        )
        .bind(symbol.as_str())
        .bind(from)
        .bind(next)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
