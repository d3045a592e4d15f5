//! `symbols_view`.

use anyhow::Context;
use async_trait::async_trait;
use projections::RecordedEvent;
use projections::market::symbols::{self, SymbolView};
use sqlx::{PgConnection, PgPool, Row};
use time::OffsetDateTime;

use super::table;
use crate::projector::Projection;

pub struct SymbolsProjection;

#[async_trait]
impl Projection for SymbolsProjection {
    fn name(&self) -> &'static str {
        symbols::NAME
    }

    fn event_types(&self) -> &'static [&'static str] {
        symbols::EVENT_TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &[symbols::TABLE]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &[String],
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let t = table(tables, 0, symbols::NAME)?;
        let changes = symbols::changes(events)?;
        if !changes.rows.is_empty() {
            let r = &changes.rows;
            sqlx::query(&format!(
                "INSERT INTO {t} (symbol, listed, mandatory, notifications, listed_at, delisted_at)
                 SELECT * FROM unnest($1::text[], $2::bool[], $3::bool[], $4::bool[], $5::timestamptz[], $6::timestamptz[])
                 ON CONFLICT (symbol) DO UPDATE SET listed = EXCLUDED.listed, mandatory = EXCLUDED.mandatory,
                     notifications = EXCLUDED.notifications, listed_at = EXCLUDED.listed_at,
                     delisted_at = EXCLUDED.delisted_at"
            ))
            .bind(r.iter().map(|x| x.symbol.clone()).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.listed).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.mandatory).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.notifications).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.listed_at).collect::<Vec<_>>())
            .bind(r.iter().map(|x| x.delisted_at).collect::<Vec<Option<OffsetDateTime>>>())
            .execute(&mut *conn)
            .await
            .context("writing symbols")?;
        }
        if !changes.deltas.is_empty() {
            let d = &changes.deltas;
            sqlx::query(&format!(
                "UPDATE {t} AS s SET listed = COALESCE(d.listed, s.listed),
                        notifications = COALESCE(d.notifications, s.notifications),
                        delisted_at = COALESCE(d.delisted_at, s.delisted_at)
                   FROM unnest($1::text[], $2::bool[], $3::bool[], $4::timestamptz[])
                        AS d(symbol, listed, notifications, delisted_at)
                  WHERE s.symbol = d.symbol"
            ))
            .bind(d.iter().map(|x| x.symbol.clone()).collect::<Vec<_>>())
            .bind(d.iter().map(|x| x.listed).collect::<Vec<Option<bool>>>())
            .bind(
                d.iter()
                    .map(|x| x.notifications)
                    .collect::<Vec<Option<bool>>>(),
            )
            .bind(
                d.iter()
                    .map(|x| x.delisted_at)
                    .collect::<Vec<Option<OffsetDateTime>>>(),
            )
            .execute(&mut *conn)
            .await
            .context("updating symbols")?;
        }
        Ok(())
    }
}

/// Every symbol ever listed, by name.
pub async fn all(pool: &PgPool) -> anyhow::Result<Vec<SymbolView>> {
    let rows = sqlx::query(
        "SELECT symbol, listed, mandatory, notifications, listed_at, delisted_at
           FROM symbols_view ORDER BY symbol",
    )
    .fetch_all(pool)
    .await
    .context("reading symbols_view")?;
    rows.iter()
        .map(|row| {
            Ok(SymbolView {
                symbol: row.try_get("symbol")?,
                listed: row.try_get("listed")?,
                mandatory: row.try_get("mandatory")?,
                notifications: row.try_get("notifications")?,
                listed_at: row.try_get("listed_at")?,
                delisted_at: row.try_get("delisted_at")?,
            })
        })
        .collect()
}
