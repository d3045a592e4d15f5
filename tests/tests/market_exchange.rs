//! The Binance adapter against the local fake Binance: pages of 1000, only
//! closed candles, retries with backoff on 5xx, 429 (honouring
//! `Retry-After`) and timeouts, no retry on client errors, the circuit
//! breaker, the request-weight budget; then the whole scan over PostgreSQL
//! with invalid candles rejected, and the job lock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::exchange::binance::{BinanceExchange, BinanceOptions, WallClock};
use adapters::exchange::fake_binance::{FakeBinance, Fault};
use adapters::market::config::MarketConfig;
use adapters::market::{self, lock};
use adapters::postgres::PgStores;
use commands::Metadata;
use commands::market::{Exchange, ExchangeError, SCAN_JOB, SymbolService};
use commands::ports::SystemClock;
use domain::market::{Candle, Symbol};
use sqlx::PgPool;

const MINUTE: i64 = 60_000;
const T0: i64 = 1_700_000_040_000 - 1_700_000_040_000 % MINUTE;

fn walk(n: usize) -> Vec<Candle> {
    (0..n)
        .map(|i| {
            let p = 100.0 + (i as f64 * 0.37).sin();
            Candle::new(
                T0 + i as i64 * MINUTE,
                p,
                p + 0.5,
                p - 0.5,
                p + 0.1,
                10.0 + i as f64,
            )
        })
        .collect()
}

fn fixed_clock(ms: i64) -> WallClock {
    Arc::new(move || ms)
}

async fn fake_with(series: Vec<Candle>) -> (FakeBinance, Symbol) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeBinance::start().await.unwrap();
    let symbol = Symbol::parse("BTC/USDT").unwrap();
    fake.set_now(series.last().unwrap().open_time + 30_000);
    fake.set_series(&symbol, series);
    (fake, symbol)
}

fn options(fake: &FakeBinance) -> BinanceOptions {
    BinanceOptions {
        base_url: fake.base_url(),
        timeout: Duration::from_millis(500),
        max_retries: 3,
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        ..BinanceOptions::default()
    }
}

#[tokio::test]
async fn pages_hold_at_most_1000_closed_candles() {
    let series = walk(2500);
    let (fake, symbol) = fake_with(series.clone()).await;
    let now = series.last().unwrap().open_time + 30_000;
    let binance = BinanceExchange::new(options(&fake), fixed_clock(now)).unwrap();
    let first = binance.closed_1m(&symbol, T0, 1000).await.unwrap();
    assert_eq!(
        first,
        series[..1000].to_vec(),
        "exact doubles through the wire format"
    );
    let last = binance
        .closed_1m(&symbol, series[2000].open_time, 1000)
        .await
        .unwrap();
    assert_eq!(last.len(), 499, "the forming minute is left out");
    assert_eq!(last.last(), Some(&series[2498]));
    let requests = fake.klines_requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests
            .iter()
            .all(|r| r.symbol == "BTCUSDT" && r.limit == 1000)
    );
    assert_eq!(requests[1].start_time, Some(series[2000].open_time));
}

#[tokio::test]
async fn server_errors_and_timeouts_are_retried_with_backoff() {
    let (fake, symbol) = fake_with(walk(10)).await;
    let binance = BinanceExchange::new(options(&fake), fixed_clock(T0 + 10 * MINUTE)).unwrap();
    fake.push_faults([
        Fault::Status(500),
        Fault::Status(503),
        Fault::Delay(Duration::from_secs(2)),
    ]);
    let started = Instant::now();
    let candles = binance.closed_1m(&symbol, T0, 1000).await.unwrap();
    assert_eq!(candles.len(), 10);
    assert_eq!(fake.requests(), 4, "two 5xx, one timeout, then the answer");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "the timeout was waited for"
    );
}

#[tokio::test]
async fn rate_limits_wait_for_retry_after() {
    let (fake, symbol) = fake_with(walk(10)).await;
    let binance = BinanceExchange::new(options(&fake), fixed_clock(T0 + 10 * MINUTE)).unwrap();
    fake.push_faults([Fault::RateLimited {
        retry_after_secs: 1,
    }]);
    let started = Instant::now();
    assert_eq!(
        binance.closed_1m(&symbol, T0, 1000).await.unwrap().len(),
        10
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 honoured"
    );
    assert_eq!(fake.requests(), 2);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (fake, _) = fake_with(walk(10)).await;
    let binance = BinanceExchange::new(options(&fake), fixed_clock(T0)).unwrap();
    let unknown = binance
        .closed_1m(&Symbol::parse("NOPE/USDT").unwrap(), T0, 10)
        .await;
    assert_eq!(
        unknown,
        Err(ExchangeError::UnknownSymbol("NOPEUSDT".to_owned()))
    );
    fake.push_faults([Fault::Status(400)]);
    let bad = binance
        .closed_1m(&Symbol::parse("BTC/USDT").unwrap(), T0, 10)
        .await;
    assert!(matches!(bad, Err(ExchangeError::Malformed(_))), "{bad:?}");
    assert_eq!(fake.requests(), 2);
}

#[tokio::test]
async fn the_breaker_opens_after_repeated_failures_and_stops_calling() {
    let (fake, symbol) = fake_with(walk(10)).await;
    let binance = BinanceExchange::new(
        BinanceOptions {
            max_retries: 1,
            breaker_failures: 3,
            breaker_open: Duration::from_secs(60),
            ..options(&fake)
        },
        fixed_clock(T0 + 10 * MINUTE),
    )
    .unwrap();
    fake.push_faults([Fault::Status(502); 10]);
    assert!(matches!(
        binance.closed_1m(&symbol, T0, 10).await,
        Err(ExchangeError::Unavailable(_))
    ));
    assert_eq!(fake.requests(), 2);
    assert_eq!(
        binance.closed_1m(&symbol, T0, 10).await,
        Err(ExchangeError::CircuitOpen)
    );
    assert_eq!(fake.requests(), 3, "the third failure opened the breaker");
    assert!(binance.breaker().is_open());
    assert_eq!(binance.now_ms().await, Err(ExchangeError::CircuitOpen));
    assert_eq!(fake.requests(), 3, "no call while open");
}

#[tokio::test]
async fn the_weight_budget_holds_calls_until_the_next_minute() {
    let (fake, symbol) = fake_with(walk(10)).await;
    // A budget of 4: one klines call (weight 2) fits, a second would too by
    // our own count, but Binance reports 3 used, which the client trusts:
    // the next call must wait for the next minute (59 s away).
    fake.set_used_weight(3);
    let binance = BinanceExchange::new(
        BinanceOptions {
            weight_limit: 4,
            ..options(&fake)
        },
        fixed_clock(T0 + 10 * MINUTE + 1_000),
    )
    .unwrap();
    binance.closed_1m(&symbol, T0, 10).await.unwrap();
    let second = tokio::time::timeout(
        Duration::from_millis(300),
        binance.closed_1m(&symbol, T0, 10),
    )
    .await;
    assert!(second.is_err(), "the call waits for the next minute");
    assert_eq!(fake.requests(), 1, "and sends nothing meanwhile");
}

async fn pipeline_over(
    pool: &PgPool,
    fake: &FakeBinance,
    now: i64,
) -> adapters::market::PgPipeline {
    let binance = BinanceExchange::new(options(fake), fixed_clock(now)).unwrap();
    let config = MarketConfig::from_lookup(&|name: &str| match name {
        "CRYPTOLENS_MARKET__INITIAL_HISTORY_HOURS" => Some("100".to_owned()),
        _ => None,
    })
    .unwrap();
    market::pipeline(pool, &config, Arc::new(binance), None)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_scan_stores_only_valid_closed_candles_from_binance(pool: PgPool) {
    let mut series = walk(2600);
    series[1500].high = series[1500].open - 1.0; // high below the body
    series[1700].low = -1.0; // negative price
    let (fake, symbol) = fake_with(series.clone()).await;
    let now = series.last().unwrap().open_time + 30_000;
    fake.set_now(now);
    SymbolService::new(&PgStores::new(pool.clone()), None, Arc::new(SystemClock))
        .list(symbol.as_str(), &Metadata::system("test"))
        .await
        .unwrap();
    let pipeline = pipeline_over(&pool, &fake, now).await;
    let reports = market::scan_once(&pool, &pipeline, "test")
        .await
        .unwrap()
        .unwrap();
    let report = &reports[0];
    assert_eq!(report.error, None);
    assert_eq!(report.fetched, 2599, "three pages of closed candles");
    assert_eq!(report.rejected, 2);
    assert_eq!(report.stored, 2597);
    let stored: Vec<i64> = sqlx::query_scalar("SELECT open_time FROM candles WHERE symbol = 'BTC/USDT' AND timeframe = '1m' ORDER BY open_time")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2597);
    assert!(!stored.contains(&series[1500].open_time) && !stored.contains(&series[1700].open_time));
    assert!(
        !stored.contains(&series[2599].open_time),
        "the forming minute is not stored"
    );
    let pages: Vec<Option<i64>> = fake
        .klines_requests()
        .iter()
        .map(|r| r.start_time)
        .collect();
    // A new symbol starts 100 h back (the configured initial history).
    let start = (now - 100 * 3_600_000) / MINUTE * MINUTE;
    assert_eq!(
        pages,
        vec![
            Some(start),
            Some(T0 + 1000 * MINUTE),
            Some(T0 + 2000 * MINUTE)
        ]
    );
    // The rejected candles show up as holes in the job report.
    assert_eq!((report.gaps, report.missing_minutes), (2, 2));
    let events: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM events WHERE aggregate_type = 'job_run' ORDER BY global_position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(events, ["JobStarted", "JobFinished"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn two_instances_never_scan_at_the_same_time(pool: PgPool) {
    let (fake, symbol) = fake_with(walk(100)).await;
    SymbolService::new(&PgStores::new(pool.clone()), None, Arc::new(SystemClock))
        .list(symbol.as_str(), &Metadata::system("test"))
        .await
        .unwrap();
    let pipeline = pipeline_over(&pool, &fake, T0 + 100 * MINUTE).await;
    let held = lock::try_lock(&pool, SCAN_JOB).await.unwrap().unwrap();
    assert!(lock::try_lock(&pool, SCAN_JOB).await.unwrap().is_none());
    assert!(
        market::scan_once(&pool, &pipeline, "second")
            .await
            .unwrap()
            .is_none()
    );
    let runs: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_type = 'job_run'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(runs, 0, "the second instance did nothing");
    held.release().await;
    // Concurrent attempts: exactly the ones that got the lock ran, never overlapping.
    let attempts = (0..4).map(|i| {
        let pool = pool.clone();
        let pipeline = &pipeline;
        async move {
            market::scan_once(&pool, pipeline, &format!("i{i}"))
                .await
                .unwrap()
                .is_some()
        }
    });
    let ran = futures::future::join_all(attempts)
        .await
        .into_iter()
        .filter(|r| *r)
        .count();
    assert!(ran >= 1);
    let overlapping: i64 = sqlx::query_scalar(
        "WITH runs AS (
             SELECT aggregate_id, min(recorded_at) AS started, max(recorded_at) AS ended
               FROM events WHERE aggregate_type = 'job_run' GROUP BY aggregate_id)
         SELECT count(*) FROM runs a JOIN runs b ON a.aggregate_id < b.aggregate_id
          WHERE a.started < b.ended AND b.started < a.ended",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(overlapping, 0);
}
