//! `cryptolens events show|tail`.

use std::io::Write;
use std::time::Duration;

use clap::Subcommand;
use serde_json::json;

use crate::config::Config;
use crate::postgres::{self, event_log};

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// An aggregate's full history, in order.
    Show {
        /// Aggregate type, e.g. `account` or `unique_claim`.
        aggregate_type: String,
        aggregate_id: String,
        /// One JSON object per line instead of text.
        #[arg(long)]
        json: bool,
    },
    /// All events in global commit order.
    Tail {
        /// Start at this global position (inclusive); default: the beginning.
        #[arg(long, default_value_t = 0)]
        from: i64,
        /// Keep waiting for new events.
        #[arg(long)]
        follow: bool,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(config: &Config, command: EventsCommand) -> anyhow::Result<()> {
    let pool = postgres::connect(&config.database_url, 2).await?;
    let mut out = std::io::stdout().lock();
    match command {
        EventsCommand::Show {
            aggregate_type,
            aggregate_id,
            json,
        } => {
            let history = readable_history(&pool, &aggregate_type, &aggregate_id).await?;
            if history.is_empty() {
                anyhow::bail!("no events for {aggregate_type} {aggregate_id}");
            }
            for entry in history {
                if json {
                    writeln!(out, "{}", serde_json::to_string(&entry)?)?;
                } else {
                    writeln!(
                        out,
                        "#{:<4} position {:<8} {}  {} v{}",
                        entry.sequence,
                        entry.global_position,
                        entry
                            .recorded_at
                            .format(&time::format_description::well_known::Rfc3339)?,
                        entry.event_type,
                        entry.event_version
                    )?;
                    writeln!(out, "      payload  {}", entry.payload)?;
                    writeln!(out, "      metadata {}", entry.metadata)?;
                }
            }
            Ok(())
        }
        EventsCommand::Tail { from, follow, json } => {
            let mut after = if from > 0 {
                event_log::position_before(&pool, from)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no event at position {from}"))?
            } else {
                event_log::Position::start()
            };
            let head = event_log::head(&pool).await?;
            let give_up = tokio::time::Instant::now() + Duration::from_secs(30);
            let mut conn = pool.acquire().await?;
            loop {
                let rows = event_log::read_after(&mut conn, &after, 1000, None, None).await?;
                for row in &rows {
                    let e = &row.event;
                    if json {
                        writeln!(
                            out,
                            "{}",
                            json!({
                                "global_position": e.global_position,
                                "transaction_id": row.position.tx,
                                "recorded_at": e.recorded_at.format(&time::format_description::well_known::Rfc3339)?,
                                "aggregate_type": e.aggregate_type,
                                "aggregate_id": e.aggregate_id,
                                "sequence": e.sequence,
                                "event_type": e.event_type,
                                "event_version": e.event_version,
                                "payload": e.payload,
                                "metadata": e.metadata,
                            })
                        )?;
                    } else {
                        writeln!(
                            out,
                            "{:<8} {}  {}/{}#{}  {} v{}  {}",
                            e.global_position,
                            e.recorded_at
                                .format(&time::format_description::well_known::Rfc3339)?,
                            e.aggregate_type,
                            e.aggregate_id,
                            e.sequence,
                            e.event_type,
                            e.event_version,
                            e.payload
                        )?;
                    }
                }
                if let Some(last) = rows.last() {
                    after = last.position.clone();
                    continue;
                }
                if !follow {
                    // Done once every event that existed when we started is
                    // out. Events of still-open transactions elsewhere in
                    // the cluster hold the fence back; wait for them briefly.
                    let pending = event_log::count_after(&pool, &after, head).await?;
                    if pending == 0 {
                        return Ok(());
                    }
                    if tokio::time::Instant::now() >= give_up {
                        anyhow::bail!(
                            "{pending} events are behind a transaction that is still open; try again or use --follow"
                        );
                    }
                }
                let pause = if follow {
                    Duration::from_millis(500)
                } else {
                    Duration::from_millis(50)
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => return Ok(()),
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
}

/// An aggregate's history as `events show` prints it: an account's sealed
/// personal data opened, or `<forgotten>` once its key is gone.
pub async fn readable_history(
    pool: &sqlx::PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
) -> anyhow::Result<Vec<event_log::HistoryEntry>> {
    let mut history = event_log::aggregate_history(pool, aggregate_type, aggregate_id).await?;
    if aggregate_type == "account" {
        open_personal_data(pool, aggregate_id, &mut history).await?;
    }
    Ok(history)
}

/// Opens sealed personal data in place.
async fn open_personal_data(
    pool: &sqlx::PgPool,
    aggregate_id: &str,
    history: &mut [event_log::HistoryEntry],
) -> anyhow::Result<()> {
    let Ok(account) = uuid::Uuid::parse_str(aggregate_id) else {
        return Ok(());
    };
    let key: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT key FROM personal_data_keys WHERE account_id = $1")
            .bind(account)
            .fetch_optional(pool)
            .await?;
    for entry in history.iter_mut() {
        for value in [&mut entry.payload, &mut entry.metadata] {
            open_in(value, key.as_deref(), account);
        }
    }
    Ok(())
}

fn open_in(value: &mut serde_json::Value, key: Option<&[u8]>, account: uuid::Uuid) {
    match value {
        serde_json::Value::String(text)
            if text.starts_with(domain::account::PersonalData::PREFIX) =>
        {
            let sealed = domain::account::PersonalData::from_sealed(text.clone());
            *text = key
                .and_then(|key| commands::personal_data::open(key, account, &sealed))
                .unwrap_or_else(|| "<forgotten>".to_owned());
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| open_in(v, key, account)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| open_in(v, key, account)),
        _ => {}
    }
}
