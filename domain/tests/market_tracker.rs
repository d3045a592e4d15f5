//! The live pattern book fed in steps equals the batch reference: on every
//! shipped candle file, feeding the 1m candles in chunks of varying size,
//! with windowed detection (the lookback of the live pipeline) and the
//! book restored from the event history before each step, gives exactly
//! the events of one batch run over the whole series. A re-run of a step
//! after a "crash" (events written, progress not) repeats the same events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use domain::market::csv::parse_candles;
use domain::market::tracker::{
    Chunk, DETECTION_LOOKBACK, SignalSettings, TrackedPattern, TrackedSignal, Tracker,
    TrackerEvent, first_closing_bucket, newly_closed, offers, simulate,
};
use domain::market::{Candle, Direction, Timeframe};

const FILES: [&str; 4] = ["ETH_BTC-1m", "XLM_BTC-1m", "UNITTEST_BTC-1m", "XRP_ETH-1m"];

fn series(file: &str) -> Vec<Candle> {
    let path = format!("{}/../data/candles/{file}.csv", env!("CARGO_MANIFEST_DIR"));
    parse_candles(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The book as of time `t` (a 1m close), rebuilt from the events the way
/// the pipeline rebuilds it from the projections.
fn restore_as_of(
    events: &[TrackerEvent],
    t: i64,
    stored: &BTreeMap<Timeframe, Vec<Candle>>,
) -> Tracker {
    let mut patterns: BTreeMap<_, TrackedPattern> = BTreeMap::new();
    let mut signals: BTreeMap<_, TrackedSignal> = BTreeMap::new();
    let mut last_signal: BTreeMap<Direction, i64> = BTreeMap::new();
    for event in events {
        match event {
            TrackerEvent::PatternDetected(p) if p.known_at <= t => {
                patterns.insert(p.key, *p);
            }
            TrackerEvent::PatternClosed { key, at, .. } if *at <= t => {
                patterns.remove(key);
            }
            TrackerEvent::SignalGenerated(s) if s.key.created_at <= t => {
                signals.insert(s.key, s.clone());
                let last = last_signal
                    .entry(s.key.direction)
                    .or_insert(s.key.created_at);
                *last = (*last).max(s.key.created_at);
            }
            TrackerEvent::SignalEntered { key, at } if *at <= t => {
                signals.get_mut(key).unwrap().entered = true;
            }
            TrackerEvent::SignalTargetReached { key, target, at } if *at <= t => {
                signals.get_mut(key).unwrap().best_target = *target;
            }
            TrackerEvent::SignalResolved { key, at, .. } if *at <= t => {
                signals.remove(key);
            }
            _ => {}
        }
    }
    let recent = stored.iter().map(|(tf, candles)| {
        let closed: Vec<Candle> = candles
            .iter()
            .filter(|c| c.open_time + tf.duration_ms() <= t)
            .copied()
            .collect();
        (*tf, closed[closed.len().saturating_sub(15)..].to_vec())
    });
    Tracker::restore(
        SignalSettings::default(),
        patterns.into_values().collect(),
        signals.into_values().collect(),
        last_signal,
        recent,
    )
}

/// Feeds `all` like the live pipeline: chunk by chunk, aggregating only the
/// buckets that close, detecting on windows of `DETECTION_LOOKBACK` older
/// candles plus the new ones, restoring the book before each step, and
/// re-running every `crash_every`-th step once.
fn run_in_steps(all: &[Candle], sizes: &[usize], crash_every: usize) -> Vec<TrackerEvent> {
    let mut stored: BTreeMap<Timeframe, Vec<Candle>> = BTreeMap::new();
    let mut events: Vec<TrackerEvent> = Vec::new();
    let mut prev_last: Option<i64> = None;
    let mut pos = 0;
    let mut step = 0;
    while pos < all.len() {
        let end = (pos + sizes[step % sizes.len()]).min(all.len());
        let chunk = &all[pos..end];
        let new_last = chunk.last().unwrap().open_time;
        let mut closed = Vec::new();
        let mut found = Vec::new();
        for tf in Timeframe::AGGREGATED {
            let Some(start) = first_closing_bucket(tf, prev_last, chunk) else {
                continue;
            };
            let loaded: Vec<Candle> = all[..end]
                .iter()
                .filter(|c| c.open_time >= start)
                .copied()
                .collect();
            let new = newly_closed(tf, &loaded, prev_last, new_last).unwrap();
            let history = stored.entry(tf).or_default();
            let tail = &history[history.len().saturating_sub(DETECTION_LOOKBACK)..];
            let window: Vec<Candle> = tail.iter().chain(&new).copied().collect();
            found.extend(offers(tf, &window, tail.len()));
            history.extend(&new);
            closed.extend(new.into_iter().map(|c| (tf, c)));
        }
        let t = prev_last.map_or(i64::MIN, |p| p + 60_000);
        let mut tracker = restore_as_of(&events, t, &stored);
        let produced = tracker.advance(Chunk {
            candles_1m: chunk,
            closed: closed.clone(),
            offers: found.clone(),
        });
        if crash_every > 0 && step % crash_every == crash_every - 1 {
            // The events were written, the progress was not: run it again
            // from the book as of the previous step, which now sees them.
            let mut everything = events.clone();
            everything.extend(produced.iter().cloned());
            let mut again = restore_as_of(&everything, t, &stored);
            let rerun = again.advance(Chunk {
                candles_1m: chunk,
                closed,
                offers: found,
            });
            assert_eq!(rerun, produced, "a re-run of step {step} differs");
        }
        events.extend(produced);
        prev_last = Some(new_last);
        pos = end;
        step += 1;
    }
    events
}

fn summary(events: &[TrackerEvent]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for e in events {
        let name = match e {
            TrackerEvent::PatternDetected(_) => "detected",
            TrackerEvent::PatternClosed { .. } => "closed",
            TrackerEvent::SignalGenerated(_) => "signals",
            TrackerEvent::SignalEntered { .. } => "entered",
            TrackerEvent::SignalTargetReached { .. } => "targets",
            TrackerEvent::SignalResolved { .. } => "resolved",
        };
        *counts.entry(name).or_default() += 1;
    }
    counts
}

#[test]
fn feeding_in_steps_with_restarts_equals_the_batch_reference() {
    for file in FILES {
        let all = series(file);
        let batch = simulate(&all, SignalSettings::default()).unwrap();
        println!("{file}: {:?}", summary(&batch));
        assert!(
            summary(&batch)["detected"] > 50,
            "{file}: too few patterns to mean anything"
        );
        let stepped = run_in_steps(&all, &[1, 7, 60, 997, 3, 240], 5);
        if let Some(i) = stepped.iter().zip(&batch).position(|(a, b)| a != b) {
            panic!(
                "{file}: event {i} differs:\n stepped {:?}\n batch   {:?}",
                stepped[i], batch[i]
            );
        }
        assert_eq!(stepped.len(), batch.len(), "{file}: event counts differ");
    }
}

#[test]
fn signals_come_out_of_the_real_files() {
    let all = series("ETH_BTC-1m");
    let events = simulate(&all, SignalSettings::default()).unwrap();
    let counts = summary(&events);
    assert!(
        counts.get("signals").copied().unwrap_or(0) > 0,
        "{counts:?}"
    );
    for event in &events {
        if let TrackerEvent::SignalGenerated(s) = event {
            assert!(s.confluence() >= 3);
            assert!(s.aligned.iter().any(|tf| *tf >= Timeframe::H4));
            assert!(s.aligned.contains(&s.pattern.timeframe));
            assert_eq!(s.pattern.direction, s.key.direction);
        }
    }
}
