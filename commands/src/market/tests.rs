use std::sync::Arc;

use domain::market::csv::parse_candles;
use domain::market::tracker::{SignalSettings, TrackerEvent, simulate};
use domain::market::{Symbol, Timeframe};
use time::macros::datetime;

use super::fakes::{FixedExchange, FreshBook, MemCandleStore};
use super::*;
use crate::Metadata;
use crate::ports::FakeClock;
use crate::store::MemStores;

fn eth_btc() -> Vec<domain::market::Candle> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/candles/ETH_BTC-1m.csv"
    );
    parse_candles(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn pipeline(
    series: Vec<domain::market::Candle>,
    candles: Arc<MemCandleStore>,
    chunk_size: usize,
) -> MarketPipeline<MemStores> {
    let symbol = Symbol::parse("ETH/BTC").unwrap();
    MarketPipeline::new(
        &MemStores::default(),
        None,
        PipelinePorts {
            candles,
            book: Arc::new(FreshBook {
                symbols: vec![symbol],
            }),
            exchange: Arc::new(FixedExchange { series }),
            clock: Arc::new(FakeClock::at(datetime!(2026-01-01 00:00 UTC))),
        },
        PipelineOptions {
            chunk_size,
            initial_history_ms: 30 * 86_400_000,
            ..PipelineOptions::default()
        },
    )
}

#[tokio::test]
async fn a_scan_of_a_real_file_records_what_the_batch_reference_decides() {
    let series = eth_btc();
    let candles = Arc::new(MemCandleStore::default());
    let pipeline = pipeline(series.clone(), Arc::clone(&candles), 997);
    let reports = pipeline
        .run_scan(uuid::Uuid::now_v7(), "test", &Metadata::system("test"))
        .await
        .unwrap();
    let symbol = Symbol::parse("ETH/BTC").unwrap();
    let report = &reports[0];
    assert_eq!(report.error, None);
    assert_eq!(report.fetched, series.len() as u64);
    assert_eq!(report.stored, series.len() as u64);
    assert_eq!(report.gaps, 1, "ETH_BTC misses one minute");
    let batch = simulate(&series, SignalSettings::default()).unwrap();
    let count = |f: fn(&TrackerEvent) -> bool| batch.iter().filter(|e| f(e)).count() as u64;
    assert_eq!(
        report.patterns_detected,
        count(|e| matches!(e, TrackerEvent::PatternDetected(_)))
    );
    assert_eq!(
        report.patterns_closed,
        count(|e| matches!(e, TrackerEvent::PatternClosed { .. }))
    );
    assert_eq!(
        report.signals_generated,
        count(|e| matches!(e, TrackerEvent::SignalGenerated(_)))
    );
    assert!(report.signals_generated > 0);
    // The stored aggregates are the complete buckets of the series.
    for tf in Timeframe::AGGREGATED {
        let expected = domain::market::tracker::closed_series(&series, tf).unwrap();
        assert_eq!(candles.all(&symbol, tf), expected, "{tf}");
    }
    // A second scan finds nothing new and records nothing.
    let again = pipeline
        .run_scan(uuid::Uuid::now_v7(), "test", &Metadata::system("test"))
        .await
        .unwrap();
    assert_eq!(
        (
            again[0].fetched,
            again[0].patterns_detected,
            again[0].aggregated
        ),
        (0, 0, 0)
    );
}

#[tokio::test]
async fn late_candles_rebuild_the_complete_buckets_they_touch() {
    let series = eth_btc();
    let symbol = Symbol::parse("ETH/BTC").unwrap();
    let candles = Arc::new(MemCandleStore::default());
    // The exchange first misses a stretch of 30 minutes in the middle.
    let hole = 5000..5030;
    let mut holed = series.clone();
    holed.drain(hole.clone());
    let first = pipeline(holed, Arc::clone(&candles), 5000);
    first
        .import(
            &symbol,
            first_exchange_series(&first).await,
            &Metadata::system("test"),
        )
        .await
        .unwrap();
    let before = candles.all(&symbol, Timeframe::H1);
    // Then the missing candles arrive.
    let late = series[hole].to_vec();
    let report = first
        .import(&symbol, late, &Metadata::system("test"))
        .await
        .unwrap();
    assert!(report.aggregated > 0);
    let after = candles.all(&symbol, Timeframe::H1);
    assert_ne!(before, after);
    let expected = domain::market::tracker::closed_series(&series, Timeframe::H1).unwrap();
    assert_eq!(
        after, expected,
        "every complete 1h bucket equals the one built from the full data"
    );
}

async fn first_exchange_series(
    pipeline: &MarketPipeline<MemStores>,
) -> Vec<domain::market::Candle> {
    pipeline
        .exchange()
        .closed_1m(&Symbol::parse("ETH/BTC").unwrap(), 0, usize::MAX)
        .await
        .unwrap()
}
