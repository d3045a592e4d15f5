//! The in-process scheduler: runs the market scan every minute (a little
//! after each minute boundary, when the exchange has closed the minute), or
//! at the configured interval. Every run takes the job lock first, so with
//! several instances only one scans at a time; the others skip that tick.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::market::{PgPipeline, instance_name, scan_once};

/// After a minute boundary, how long to wait before scanning, so the
/// minute that just ended is closed and published.
const AFTER_BOUNDARY: Duration = Duration::from_secs(2);

/// How long until the next tick: minute-aligned for the one-minute default,
/// a plain interval otherwise (tests, fast replays).
fn until_next_tick(interval: Duration, now_ms: i64) -> Duration {
    if interval == Duration::from_secs(60) {
        let into_minute = now_ms.rem_euclid(60_000);
        let wait = 60_000 - into_minute + i64::try_from(AFTER_BOUNDARY.as_millis()).unwrap_or(0);
        Duration::from_millis(u64::try_from(wait % 60_000).unwrap_or(0).max(1))
    } else {
        interval
    }
}

/// Runs scans until `shutdown`.
pub async fn run(
    pool: PgPool,
    pipeline: Arc<PgPipeline>,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let instance = instance_name();
    tracing::info!(
        ?interval,
        exchange = pipeline.exchange().name(),
        "market scheduler started"
    );
    loop {
        let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(until_next_tick(interval, now)) => {}
        }
        let scan = scan_once(&pool, &pipeline, &instance);
        tokio::select! {
            () = shutdown.cancelled() => break,
            result = scan => match result {
                Ok(Some(reports)) => {
                    let failed = reports.iter().filter(|r| r.error.is_some()).count();
                    tracing::info!(
                        symbols = reports.len(),
                        failed,
                        stored = reports.iter().map(|r| r.stored).sum::<u64>(),
                        patterns = reports.iter().map(|r| r.patterns_detected).sum::<u64>(),
                        signals = reports.iter().map(|r| r.signals_generated).sum::<u64>(),
                        "market scan finished"
                    );
                }
                Ok(None) => {}
                Err(error) => tracing::error!(error = format!("{error:#}"), "market scan failed"),
            },
        }
    }
    tracing::info!("market scheduler stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_ticks_fall_two_seconds_after_the_boundary() {
        let minute = Duration::from_secs(60);
        assert_eq!(
            until_next_tick(minute, 10 * 60_000 + 30_000),
            Duration::from_secs(32)
        );
        assert_eq!(
            until_next_tick(minute, 10 * 60_000 + 1_000),
            Duration::from_secs(1)
        );
        assert_eq!(
            until_next_tick(minute, 10 * 60_000 + 59_000),
            Duration::from_secs(3)
        );
        let fast = Duration::from_millis(200);
        assert_eq!(until_next_tick(fast, 123), fast);
    }
}
