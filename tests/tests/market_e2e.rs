//! End to end: a real candle file played through the replay exchange at
//! high speed into the running application (scheduler, pipeline, event
//! store, projectors). The patterns and signals that reach the projections
//! equal the batch reference over the same closed candles, signals appear,
//! and every projection equals a fresh replay of the log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use adapters::app::StartOptions;
use adapters::exchange::replay::ReplayExchange;
use adapters::postgres::PgStores;
use adapters::projector::{self, rebuild};
use adapters::read_models::market::{book, patterns, signals};
use commands::Metadata;
use commands::market::SymbolService;
use commands::market::ids::{pattern_id, signal_id};
use commands::ports::SystemClock;
use domain::market::csv::parse_candles;
use domain::market::tracker::{SignalSettings, TrackerEvent, simulate};
use domain::market::{Candle, Symbol};
use sqlx::{PgPool, Row};
use tests::{eventually, spawn_app_with, test_config_with};

const HOLD_BACK_MINUTES: i64 = 2000;
const STEP_MINUTES: i64 = 100;

fn recording() -> Vec<Candle> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/candles/ETH_BTC-1m.csv"
    );
    parse_candles(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn stored_1m(pool: &PgPool, symbol: &str) -> Vec<Candle> {
    sqlx::query("SELECT open_time, open, high, low, close, volume FROM candles WHERE symbol = $1 AND timeframe = '1m' ORDER BY open_time")
        .bind(symbol)
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| Candle::new(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_replayed_file_yields_the_batch_patterns_and_signals(pool: PgPool) {
    let symbol = Symbol::parse("ETH/BTC").unwrap();
    let series = recording();
    SymbolService::new(&PgStores::new(pool.clone()), None, Arc::new(SystemClock))
        .list(symbol.as_str(), &Metadata::system("test"))
        .await
        .unwrap();
    // The last 2000 minutes are still to come; the test moves the replay
    // clock 100 minutes at a time once the scheduler (every 100 ms) has
    // processed what is there, so the live part arrives over 20 scans.
    let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let (replay, clock) = ReplayExchange::stepped(
        vec![(symbol.clone(), series.clone())],
        HOLD_BACK_MINUTES,
        now,
    )
    .unwrap();
    let config = test_config_with(&[
        ("CRYPTOLENS_SCHEDULER__ENABLED", "true"),
        ("CRYPTOLENS_SCHEDULER__INTERVAL_MS", "100"),
        ("CRYPTOLENS_MARKET__INITIAL_HISTORY_HOURS", "1000"),
    ]);
    let app = spawn_app_with(
        pool.clone(),
        config,
        StartOptions {
            exchange: Some(Arc::new(replay)),
            ..StartOptions::default()
        },
    )
    .await;
    let recording_end = clock.now() + HOLD_BACK_MINUTES * 60_000;
    loop {
        // Everything the replay has served so far is processed...
        let newest_open = clock.now() - 60_000;
        eventually(
            Duration::from_secs(120),
            "the served candles to be processed",
            || async {
                let mark: Option<i64> = sqlx::query_scalar(
                    "SELECT processed_through FROM market_progress WHERE symbol = 'ETH/BTC'",
                )
                .fetch_optional(&pool)
                .await
                .unwrap();
                // (ETH_BTC has a one-minute hole, which may be the newest minute.)
                mark.filter(|m| *m >= newest_open - 60_000).map(|_| ())
            },
        )
        .await;
        if clock.now() >= recording_end {
            break;
        }
        // ...then the next 100 minutes happen.
        clock.advance_minutes(STEP_MINUTES);
    }
    // The run that processed the last candles has recorded its report.
    eventually(
        Duration::from_secs(60),
        "the last run to finish",
        || async {
            let reported: Option<i64> = sqlx::query_scalar(
                "SELECT max((s->>'last_open_time')::bigint)
               FROM events, jsonb_array_elements(payload->'JobFinished'->'symbols') s
              WHERE event_type = 'JobFinished'",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            let mark: i64 = sqlx::query_scalar(
                "SELECT processed_through FROM market_progress WHERE symbol = 'ETH/BTC'",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            reported.filter(|r| *r >= mark).map(|_| ())
        },
    )
    .await;
    let runs: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'JobFinished'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        runs >= HOLD_BACK_MINUTES / STEP_MINUTES,
        "the recording arrived over many scans: {runs} runs"
    );
    // The last scan reports its counts after moving the progress mark: wait
    // for its run to reach the health projection before stopping the app.
    let wanted = series.len() as i64;
    let health: (i64, i64) = eventually(Duration::from_secs(60), "the health projection", || {
        let pool = pool.clone();
        async move {
            let row: (i64, i64) = sqlx::query_as(
                "SELECT candles_stored, gaps FROM market_health_view WHERE symbol = 'ETH/BTC'",
            )
            .fetch_one(&pool)
            .await
            .ok()?;
            (row.0 >= wanted).then_some(row)
        }
    })
    .await;
    app.app.shutdown().await.unwrap();

    // The batch reference over exactly the candles that were stored.
    let stored = stored_1m(&pool, "ETH/BTC").await;
    let mark: i64 = sqlx::query_scalar(
        "SELECT processed_through FROM market_progress WHERE symbol = 'ETH/BTC'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let processed: Vec<Candle> = stored.into_iter().filter(|c| c.open_time <= mark).collect();
    assert_eq!(
        &processed[..series.len()]
            .iter()
            .map(|c| c.open)
            .collect::<Vec<_>>(),
        &series.iter().map(|c| c.open).collect::<Vec<_>>()
    );
    let batch = simulate(&processed, SignalSettings::default()).unwrap();

    book::settle(&pool, &projector::all()).await.unwrap();
    let live: BTreeMap<_, _> = patterns::of_symbol(&pool, "ETH/BTC")
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.pattern_id, p))
        .collect();
    let mut expected = BTreeMap::new();
    let mut closed = BTreeMap::new();
    let mut expected_signals = BTreeMap::new();
    let mut outcomes = BTreeMap::new();
    for event in &batch {
        match event {
            TrackerEvent::PatternDetected(p) => {
                expected.insert(pattern_id(&symbol, &p.key), *p);
            }
            TrackerEvent::PatternClosed { key, closure, at } => {
                closed.insert(pattern_id(&symbol, key), (closure.as_str(), *at));
            }
            TrackerEvent::SignalGenerated(s) => {
                expected_signals.insert(signal_id(&symbol, &s.key), s.clone());
            }
            TrackerEvent::SignalResolved {
                key, outcome, at, ..
            } => {
                outcomes.insert(signal_id(&symbol, key), (outcome.as_str(), *at));
            }
            _ => {}
        }
    }
    assert!(expected.len() > 500, "{} patterns", expected.len());
    assert_eq!(live.len(), expected.len(), "pattern counts: live vs batch");
    for (id, p) in &expected {
        let row = live
            .get(id)
            .unwrap_or_else(|| panic!("pattern {:?} missing from the projection", p.key));
        assert_eq!(row.timeframe, p.key.timeframe.as_str());
        assert_eq!(row.pattern_type, p.key.pattern_type.as_str());
        assert_eq!(row.direction, p.key.direction.as_str());
        assert_eq!(row.detected_ts, p.key.detected_ts);
        assert_eq!(row.zone_low.to_bits(), p.zone_low.to_bits());
        assert_eq!(row.zone_high.to_bits(), p.zone_high.to_bits());
        assert_eq!(
            row.swept_level.map(f64::to_bits),
            p.swept_level.map(f64::to_bits)
        );
        assert_eq!(row.entry.to_bits(), p.levels.entry.to_bits());
        assert_eq!(row.stop_loss.to_bits(), p.levels.stop_loss.to_bits());
        assert_eq!(
            row.take_profit_3.to_bits(),
            p.levels.take_profit_3.to_bits()
        );
        let (status, at) = closed
            .get(id)
            .map_or(("active", None), |(s, at)| (*s, Some(*at)));
        assert_eq!(
            (row.status.as_str(), row.closed_at),
            (status, at),
            "status of {:?}",
            p.key
        );
    }

    let live_signals: BTreeMap<_, _> =
        signals::list(&pool, &signals::SignalFilter::default(), 10_000)
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.signal_id, s))
            .collect();
    assert!(
        !expected_signals.is_empty(),
        "the batch reference has signals"
    );
    assert_eq!(
        live_signals.len(),
        expected_signals.len(),
        "signal counts: live vs batch"
    );
    for (id, s) in &expected_signals {
        let row = live_signals
            .get(id)
            .unwrap_or_else(|| panic!("signal {:?} missing", s.key));
        assert_eq!(row.direction, s.key.direction.as_str());
        assert_eq!(row.confluence as usize, s.aligned.len());
        assert_eq!(row.entry.to_bits(), s.levels.entry.to_bits());
        assert_eq!(row.stop_loss.to_bits(), s.levels.stop_loss.to_bits());
        assert_eq!(row.pattern_id, pattern_id(&symbol, &s.pattern));
        let outcome = outcomes.get(id).map(|(o, at)| ((*o).to_owned(), *at));
        assert_eq!(
            row.outcome.clone().zip(row.resolved_at),
            outcome,
            "outcome of {:?}",
            s.key
        );
    }
    println!(
        "e2e: {} candles in {runs} scans, {} patterns ({} closed), {} signals ({} resolved)",
        processed.len(),
        live.len(),
        closed.len(),
        live_signals.len(),
        outcomes.len()
    );

    for projection in projector::all() {
        let report = rebuild::verify(&pool, projection.as_ref(), 1000)
            .await
            .unwrap();
        assert_eq!(
            report.total(),
            0,
            "projection {} differs from a fresh replay: {:?}",
            projection.name(),
            report.differing_rows
        );
    }
    assert!(health.1 >= 1, "the one-minute hole of ETH_BTC is reported");
}
