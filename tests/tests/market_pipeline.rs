//! The market pipeline over PostgreSQL: imports and backfills, a crash
//! between recording events and moving the progress mark, late candles,
//! data health checks and repairs, resumable backfills, symbols.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use adapters::exchange::csv::CsvExchange;
use adapters::market::config::MarketConfig;
use adapters::market::{self, PgPipeline, health};
use adapters::postgres::PgStores;
use adapters::projector::{self, rebuild};
use adapters::read_models::market::{book, symbols as symbols_view};
use async_trait::async_trait;
use commands::Metadata;
use commands::market::{Exchange, ExchangeError, SymbolService};
use commands::ports::SystemClock;
use domain::job::SymbolReport;
use domain::market::csv::parse_candles;
use domain::market::tracker::closed_series;
use domain::market::{Candle, Symbol, Timeframe};
use sqlx::{PgPool, Row};

fn file(name: &str) -> Vec<Candle> {
    let path = format!("{}/../data/candles/{name}.csv", env!("CARGO_MANIFEST_DIR"));
    parse_candles(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn config() -> MarketConfig {
    MarketConfig::from_lookup(&|_: &str| None).unwrap()
}

fn pipeline(pool: &PgPool, exchange: Arc<dyn Exchange>) -> PgPipeline {
    market::pipeline(pool, &config(), exchange, None)
}

fn meta() -> Metadata {
    Metadata::system("test")
}

async fn import(pool: &PgPool, symbol: &Symbol, candles: Vec<Candle>) -> SymbolReport {
    let from = candles[0].open_time;
    let p = pipeline(pool, Arc::new(CsvExchange::new(candles)));
    p.backfill(symbol, from, &|_, _| {}, &meta()).await.unwrap()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

async fn stored(pool: &PgPool, symbol: &str, tf: Timeframe) -> Vec<Candle> {
    sqlx::query("SELECT open_time, open, high, low, close, volume FROM candles WHERE symbol = $1 AND timeframe = $2 ORDER BY open_time")
        .bind(symbol)
        .bind(tf.as_str())
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| Candle::new(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_rerun_after_a_crash_records_no_pattern_twice(pool: PgPool) {
    let symbol = Symbol::parse("XRP/ETH").unwrap();
    let series = file("XRP_ETH-1m");
    let report = import(&pool, &symbol, series.clone()).await;
    assert!(report.patterns_detected > 100, "{report:?}");
    let events = count(&pool, "SELECT count(*) FROM events").await;
    // The crash: every event of the later steps was written, the progress
    // mark was not moved. The next run repeats those steps.
    sqlx::query("UPDATE market_progress SET processed_through = $1")
        .bind(series[1000].open_time)
        .execute(&pool)
        .await
        .unwrap();
    let mut again = SymbolReport::new(&symbol);
    pipeline(&pool, Arc::new(CsvExchange::new(Vec::new())))
        .process(&symbol, &mut again, &meta())
        .await
        .unwrap();
    assert!(
        again.patterns_detected > 0,
        "the repeated steps decided the same patterns again"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM events").await,
        events,
        "but recorded nothing twice"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(DISTINCT aggregate_id) FROM events WHERE event_type = 'PatternDetected'"
        )
        .await,
        count(
            &pool,
            "SELECT count(*) FROM events WHERE event_type = 'PatternDetected'"
        )
        .await,
    );
    book::settle(&pool, &projector::all()).await.unwrap();
    for projection in projector::all() {
        let report = rebuild::verify(&pool, projection.as_ref(), 500)
            .await
            .unwrap();
        assert_eq!(
            report.total(),
            0,
            "{}: {:?}",
            projection.name(),
            report.differing_rows
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn late_candles_correct_the_stored_aggregates(pool: PgPool) {
    let symbol = Symbol::parse("ETH/BTC").unwrap();
    let series = file("ETH_BTC-1m");
    let mut holed = series.clone();
    let late: Vec<Candle> = holed.drain(6000..6090).collect();
    import(&pool, &symbol, holed).await;
    let before = stored(&pool, "ETH/BTC", Timeframe::H1).await;
    let p = pipeline(&pool, Arc::new(CsvExchange::new(late.clone())));
    let report = p
        .backfill(&symbol, late[0].open_time, &|_, _| {}, &meta())
        .await
        .unwrap();
    assert!(report.aggregated > 0);
    for tf in Timeframe::AGGREGATED {
        let expected = closed_series(&series, tf).unwrap();
        assert_eq!(
            stored(&pool, "ETH/BTC", tf).await,
            expected,
            "{tf} after the late candles"
        );
    }
    assert_ne!(before, stored(&pool, "ETH/BTC", Timeframe::H1).await);
    let check = health::check(&pool, &symbol).await.unwrap();
    assert!(
        check.disagreeing.is_empty() && check.gaps.len() == 1,
        "{check:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn health_finds_damage_and_fix_repairs_it_or_remembers_the_gap(pool: PgPool) {
    let symbol = Symbol::parse("ETH/BTC").unwrap();
    let series = file("ETH_BTC-1m");
    let mut holed = series.clone();
    holed.drain(3000..3010);
    import(&pool, &symbol, holed).await;
    // Damage: a 1h aggregate that no longer matches its 1m source.
    sqlx::query("UPDATE candles SET high = high * 1.5 WHERE symbol = 'ETH/BTC' AND timeframe = '1h' AND open_time = $1")
        .bind(Timeframe::H1.bucket_start(series[5000].open_time))
        .execute(&pool)
        .await
        .unwrap();
    let found = health::check(&pool, &symbol).await.unwrap();
    assert_eq!(
        found.gaps.len(),
        2,
        "the file's own hole and ours: {:?}",
        found.gaps
    );
    assert_eq!(
        found
            .gaps
            .iter()
            .map(health::Gap::missing_minutes)
            .sum::<i64>(),
        11
    );
    assert_eq!(
        found.disagreeing,
        vec![(
            "1h".to_owned(),
            Timeframe::H1.bucket_start(series[5000].open_time)
        )]
    );
    assert!(found.invalid.is_empty() && found.misaligned.is_empty());

    // The exchange has our 10 minutes, but not the file's own missing one.
    let p = pipeline(&pool, Arc::new(CsvExchange::new(series.clone())));
    let mut job = SymbolReport::new(&symbol);
    let fixed = health::fix(&pool, &p, &found, &mut job).await.unwrap();
    assert!(fixed.is_healthy(), "{fixed:?}");
    assert_eq!(
        fixed.accepted_gaps, 1,
        "the hole the exchange cannot fill is remembered"
    );
    assert_eq!(job.stored, 10);
    for tf in Timeframe::AGGREGATED {
        assert_eq!(
            stored(&pool, "ETH/BTC", tf).await,
            closed_series(&series, tf).unwrap(),
            "{tf}"
        );
    }
    assert!(
        health::check(&pool, &symbol).await.unwrap().is_healthy(),
        "accepted gaps stay accepted"
    );
}

/// An exchange that breaks down after a number of pages.
struct Flaky {
    inner: CsvExchange,
    pages_left: AtomicUsize,
}

#[async_trait]
impl Exchange for Flaky {
    fn name(&self) -> &'static str {
        "flaky"
    }

    async fn now_ms(&self) -> Result<i64, ExchangeError> {
        self.inner.now_ms().await
    }

    async fn closed_1m(
        &self,
        symbol: &Symbol,
        start: i64,
        limit: usize,
    ) -> Result<Vec<Candle>, ExchangeError> {
        if self.pages_left.fetch_sub(1, Ordering::SeqCst) == 0 {
            return Err(ExchangeError::Unavailable("down".to_owned()));
        }
        self.inner.closed_1m(symbol, start, limit).await
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn an_interrupted_backfill_resumes_where_it_stopped(pool: PgPool) {
    let symbol = Symbol::parse("XLM/BTC").unwrap();
    let series = file("XLM_BTC-1m");
    let from = series[0].open_time;
    let flaky = Flaky {
        inner: CsvExchange::new(series.clone()),
        pages_left: AtomicUsize::new(4),
    };
    let failed = pipeline(&pool, Arc::new(flaky))
        .backfill(&symbol, from, &|_, _| {}, &meta())
        .await;
    assert!(failed.is_err());
    let after_four = count(&pool, "SELECT count(*) FROM candles WHERE timeframe = '1m'").await;
    assert_eq!(after_four, 4000);
    // The second run asks only for what is missing.
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let progress_seen = Arc::clone(&seen);
    let report = pipeline(&pool, Arc::new(CsvExchange::new(series.clone())))
        .backfill(
            &symbol,
            from,
            &move |done, total| progress_seen.lock().unwrap().push((done, total)),
            &meta(),
        )
        .await
        .unwrap();
    assert_eq!(report.fetched as usize, series.len() - 4000);
    let first = seen.lock().unwrap()[0];
    assert!(
        first.0 > 4000 && first.0 < first.1,
        "the progress bar starts where it stopped: {first:?}"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM candles WHERE timeframe = '1m'").await,
        series.len() as i64
    );
    assert!(report.patterns_detected > 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn symbols_are_listed_delisted_and_the_mandatory_ones_stay(pool: PgPool) {
    let service = SymbolService::new(&PgStores::new(pool.clone()), None, Arc::new(SystemClock));
    let list = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../config/symbols.txt"
    ))
    .unwrap();
    let defaults = commands::market::parse_symbol_list(&list).unwrap();
    for mandatory in domain::market::MANDATORY_SYMBOLS {
        assert!(
            defaults.iter().any(|s| s.as_str() == mandatory),
            "the default list has {mandatory}"
        );
    }
    let listed = service.seed(&defaults, &meta()).await.unwrap();
    assert_eq!(listed.len(), defaults.len());
    assert!(
        service.seed(&defaults, &meta()).await.unwrap().is_empty(),
        "seeding is idempotent"
    );
    service.list("ADA/USDT", &meta()).await.unwrap();
    service.delist("ADA/USDT", &meta()).await.unwrap();
    assert!(service.delist("BTC/USDT", &meta()).await.is_err());
    service
        .set_notifications("BTC/USDT", false, &meta())
        .await
        .unwrap();
    book::settle(&pool, &projector::all()).await.unwrap();
    let rows = symbols_view::all(&pool).await.unwrap();
    let ada = rows.iter().find(|s| s.symbol == "ADA/USDT").unwrap();
    assert!(!ada.listed && ada.delisted_at.is_some() && !ada.mandatory);
    let btc = rows.iter().find(|s| s.symbol == "BTC/USDT").unwrap();
    assert!(btc.listed && btc.mandatory && !btc.notifications);
    assert_eq!(rows.iter().filter(|s| s.listed).count(), defaults.len());
}
