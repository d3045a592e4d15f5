//! `cryptolens market ...`: symbols, scans, history (backfill, import),
//! data health, and the offline parity tools `aggregate` and `detect`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use commands::Metadata;
use commands::market::{SymbolService, parse_symbol_list};
use commands::ports::SystemClock;
use domain::job::SymbolReport;
use domain::market::{Symbol, Timeframe};
use indicatif::{ProgressBar, ProgressStyle};
use uuid::Uuid;

use crate::config::Config;
use crate::exchange::csv::{CsvExchange, symbol_of_file};
use crate::market::{self, files, health, instance_name};
use crate::postgres::{self, PgStores};
use crate::read_models::market::{book, symbols as symbols_view};

#[derive(Debug, Subcommand)]
pub enum MarketCommand {
    /// List, add and remove symbols, switch their notifications, seed the defaults.
    #[command(subcommand)]
    Symbols(SymbolsCommand),
    /// Run one market scan now (fetch, store, aggregate, detect, signals), under the job lock.
    Scan,
    /// Load the 1m history of a symbol from a date (resumable), then process it.
    Backfill {
        #[arg(long)]
        symbol: String,
        /// Start: YYYY-MM-DD (UTC midnight), an RFC 3339 time, or epoch ms.
        #[arg(long)]
        from: String,
    },
    /// Import a 1m candle CSV file (timestamp_ms,open,high,low,close,volume), then process it.
    Import {
        file: PathBuf,
        /// The symbol (default: from the file name, e.g. ETH_BTC-1m.csv -> ETH/BTC).
        #[arg(long)]
        symbol: Option<String>,
    },
    /// Check stored candles: gaps, OHLC violations, misaligned candles, aggregates vs their 1m source.
    Health {
        /// One symbol (default: every symbol with candles).
        #[arg(long)]
        symbol: Option<String>,
        /// Refetch gaps and bad candles, rebuild bad aggregates, remember gaps the exchange cannot fill.
        #[arg(long)]
        fix: bool,
    },
    /// Print the candles of a 1m CSV file aggregated to a timeframe, as the original's candles_<tf>.csv.
    Aggregate {
        file: PathBuf,
        #[arg(long)]
        timeframe: String,
    },
    /// Run the three detectors in both modes on a 1m CSV file (aggregated first when a
    /// timeframe is given) and print JSON as the original's patterns_<tf>.json.
    Detect {
        file: PathBuf,
        #[arg(long)]
        timeframe: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SymbolsCommand {
    /// Every symbol with its state.
    List,
    /// List a symbol (BASE/QUOTE).
    Add { symbol: String },
    /// Delist a symbol (mandatory ones cannot be delisted).
    Remove { symbol: String },
    /// Switch a symbol's notifications on or off.
    Notifications {
        symbol: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// List every symbol of the default list that is not known yet (idempotent).
    Seed {
        /// The list (default: CRYPTOLENS_MARKET__SYMBOLS_FILE, config/symbols.txt).
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

fn timeframe(text: &str) -> anyhow::Result<Timeframe> {
    Timeframe::parse(text).map_err(|e| anyhow::anyhow!(e))
}

fn read(file: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
}

/// The commands that need no database or configuration; `None` for the others.
pub fn run_offline(command: &MarketCommand) -> Option<anyhow::Result<()>> {
    let result = match command {
        MarketCommand::Aggregate {
            file,
            timeframe: tf,
        } => (|| {
            let out = files::aggregate_file(&read(file)?, timeframe(tf)?)?;
            print!("{out}");
            Ok(())
        })(),
        MarketCommand::Detect {
            file,
            timeframe: tf,
        } => (|| {
            let source = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("input.csv");
            let tf = tf.as_deref().map(timeframe).transpose()?;
            let out = files::detect_file(&read(file)?, source, tf)?;
            print!("{out}");
            Ok(())
        })(),
        _ => return None,
    };
    Some(result)
}

/// `YYYY-MM-DD`, RFC 3339, or epoch ms.
pub fn parse_start(text: &str) -> anyhow::Result<i64> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = time::Date::parse(text, &format) {
        return Ok((date.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .with_context(|| {
            format!("{text:?} is not a date (YYYY-MM-DD), an RFC 3339 time or epoch ms")
        })?;
    Ok((at.unix_timestamp_nanos() / 1_000_000) as i64)
}

fn print_reports(reports: &[SymbolReport]) {
    println!(
        "{:<14} {:>8} {:>8} {:>6} {:>8} {:>8} {:>7} {:>7} {:>5}  error",
        "symbol", "fetched", "stored", "bad", "aggr", "patterns", "closed", "signals", "gaps"
    );
    for r in reports {
        println!(
            "{:<14} {:>8} {:>8} {:>6} {:>8} {:>8} {:>7} {:>7} {:>5}  {}",
            r.symbol,
            r.fetched,
            r.stored,
            r.rejected,
            r.aggregated,
            r.patterns_detected,
            r.patterns_closed,
            r.signals_generated,
            r.gaps,
            r.error.as_deref().unwrap_or("")
        );
    }
}

fn job_metadata(job: &str, run_id: Uuid) -> Metadata {
    let mut metadata = Metadata::system(job);
    metadata.correlation_id = run_id.to_string();
    metadata
}

pub async fn run(config: &Config, command: MarketCommand) -> anyhow::Result<()> {
    if let Some(result) = run_offline(&command) {
        return result;
    }
    let pool = postgres::connect(&config.database_url, 8).await?;
    postgres::migrate(&pool).await?;
    let instance = instance_name();
    match command {
        MarketCommand::Symbols(command) => symbols(config, &pool, command).await,
        MarketCommand::Scan => {
            let exchange = crate::exchange::from_config(&config.market)?;
            let pipeline = market::pipeline(&pool, &config.market, exchange, None);
            match market::scan_once(&pool, &pipeline, &instance).await? {
                Some(reports) => print_reports(&reports),
                None => println!("another instance is running the market scan; nothing done"),
            }
            Ok(())
        }
        MarketCommand::Backfill { symbol, from } => {
            let symbol = Symbol::parse(&symbol)?;
            let from = parse_start(&from)?;
            let exchange = crate::exchange::from_config(&config.market)?;
            let pipeline = market::pipeline(&pool, &config.market, exchange, None);
            let job = format!("market-backfill:{symbol}");
            let Some(lock) = market::lock::try_lock(&pool, &job).await? else {
                anyhow::bail!("a backfill of {symbol} is already running");
            };
            let bar = ProgressBar::new(0).with_style(
                ProgressStyle::with_template("{spinner} backfilling {msg} [{bar:40}] {pos}/{len} minutes ({per_sec}, eta {eta})")?
                    .progress_chars("=> "),
            );
            bar.set_message(symbol.to_string());
            let run_id = Uuid::now_v7();
            let metadata = job_metadata("market-backfill", run_id);
            let progress = |done: u64, total: u64| {
                bar.set_length(total);
                bar.set_position(done);
            };
            let result = pipeline
                .run_job("market-backfill", run_id, &instance, &metadata, async {
                    Ok(vec![
                        pipeline
                            .backfill(&symbol, from, &progress, &metadata)
                            .await?,
                    ])
                })
                .await;
            bar.finish_and_clear();
            lock.release().await;
            print_reports(&result?);
            Ok(())
        }
        MarketCommand::Import { file, symbol } => {
            let symbol = match symbol {
                Some(s) => Symbol::parse(&s)?,
                None => symbol_of_file(&file).with_context(|| {
                    format!(
                        "cannot tell the symbol from {}; pass --symbol",
                        file.display()
                    )
                })?,
            };
            let exchange = CsvExchange::open(&file)?;
            let from = exchange
                .first_open_time()
                .context("the file has no candles")?;
            println!(
                "importing {} candles of {symbol} from {}",
                exchange.len(),
                file.display()
            );
            // An import reads the whole file every time (it is not resumed).
            sqlx::query("DELETE FROM market_backfills WHERE symbol = $1 AND from_time = $2")
                .bind(symbol.as_str())
                .bind(from)
                .execute(&pool)
                .await?;
            let pipeline = market::pipeline(&pool, &config.market, Arc::new(exchange), None);
            let run_id = Uuid::now_v7();
            let metadata = job_metadata("market-import", run_id);
            let reports = pipeline
                .run_job("market-import", run_id, &instance, &metadata, async {
                    Ok(vec![
                        pipeline
                            .backfill(&symbol, from, &|_, _| {}, &metadata)
                            .await?,
                    ])
                })
                .await?;
            print_reports(&reports);
            Ok(())
        }
        MarketCommand::Health { symbol, fix } => {
            let names = match symbol {
                Some(s) => vec![Symbol::parse(&s)?.to_string()],
                None => health::symbols_with_candles(&pool).await?,
            };
            let pipeline = if fix {
                Some(market::pipeline(
                    &pool,
                    &config.market,
                    crate::exchange::from_config(&config.market)?,
                    None,
                ))
            } else {
                None
            };
            let mut unhealthy = 0;
            for name in names {
                let symbol = Symbol::parse(&name)?;
                let mut report = health::check(&pool, &symbol).await?;
                print_health(&report);
                if let (Some(pipeline), false) = (&pipeline, report.is_healthy()) {
                    let run_id = Uuid::now_v7();
                    let metadata = job_metadata("market-health-fix", run_id);
                    let mut job = SymbolReport::new(&symbol);
                    report = health::fix(&pool, pipeline, &report, &mut job).await?;
                    pipeline
                        .run_job("market-health-fix", run_id, &instance, &metadata, async {
                            Ok(vec![job])
                        })
                        .await?;
                    println!("after --fix:");
                    print_health(&report);
                }
                unhealthy += usize::from(!report.is_healthy());
            }
            if unhealthy > 0 {
                anyhow::bail!("{unhealthy} symbol(s) have data problems");
            }
            Ok(())
        }
        MarketCommand::Aggregate { .. } | MarketCommand::Detect { .. } => Ok(()),
    }
}

fn print_health(r: &health::HealthReport) {
    println!(
        "{}: {} 1m candles ({:?} .. {:?}); gaps {} ({} minutes, {} accepted); OHLC violations {}; misaligned {}; aggregates missing or disagreeing {}",
        r.symbol,
        r.candles_1m,
        r.first_open_time,
        r.last_open_time,
        r.gaps.len(),
        r.gaps.iter().map(health::Gap::missing_minutes).sum::<i64>(),
        r.accepted_gaps,
        r.invalid.len(),
        r.misaligned.len(),
        r.disagreeing.len()
    );
}

async fn symbols(
    config: &Config,
    pool: &sqlx::PgPool,
    command: SymbolsCommand,
) -> anyhow::Result<()> {
    let service = SymbolService::new(&PgStores::new(pool.clone()), None, Arc::new(SystemClock));
    let metadata = Metadata::system("admin-cli");
    let done = |r: Result<Symbol, commands::CommandError<commands::market::SymbolChangeError>>| {
        r.map_err(|e| anyhow::anyhow!("{e}"))
    };
    match command {
        SymbolsCommand::List => {
            book::settle(pool, &[Arc::new(symbols_view::SymbolsProjection)]).await?;
            println!(
                "{:<14} {:<9} {:<10} notifications",
                "symbol", "listed", "mandatory"
            );
            for s in symbols_view::all(pool).await? {
                println!(
                    "{:<14} {:<9} {:<10} {}",
                    s.symbol,
                    if s.listed { "yes" } else { "no" },
                    if s.mandatory { "yes" } else { "no" },
                    if s.notifications { "on" } else { "off" }
                );
            }
            Ok(())
        }
        SymbolsCommand::Add { symbol } => {
            println!("listed {}", done(service.list(&symbol, &metadata).await)?);
            Ok(())
        }
        SymbolsCommand::Remove { symbol } => {
            println!(
                "delisted {}",
                done(service.delist(&symbol, &metadata).await)?
            );
            Ok(())
        }
        SymbolsCommand::Notifications { symbol, state } => {
            let symbol = done(
                service
                    .set_notifications(&symbol, state == "on", &metadata)
                    .await,
            )?;
            println!("notifications of {symbol} {state}");
            Ok(())
        }
        SymbolsCommand::Seed { file } => {
            let file = file.unwrap_or_else(|| config.market.symbols_file.clone());
            let defaults = parse_symbol_list(&read(&file)?)
                .with_context(|| format!("in {}", file.display()))?;
            let listed = service
                .seed(&defaults, &metadata)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{} symbols in {}; newly listed: {}",
                defaults.len(),
                file.display(),
                if listed.is_empty() {
                    "none".to_owned()
                } else {
                    listed
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            );
            Ok(())
        }
    }
}
