//! A circuit breaker for NTFY: after `failures` consecutive failures it
//! opens and refuses calls for `open_for`; then it lets exactly one probe
//! through (half-open). A successful probe closes it, a failed one opens it
//! again. Process-local, like the client it guards.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug)]
enum Inner {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is out; everyone else waits for its verdict.
    HalfOpen,
}

#[derive(Debug)]
pub struct Breaker {
    inner: Mutex<Inner>,
    failures: u32,
    open_for: Duration,
}

/// The breaker refused the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the NTFY circuit breaker is open")]
pub struct BreakerOpen;

impl Breaker {
    pub fn new(failures: u32, open_for: Duration) -> Self {
        Self {
            inner: Mutex::new(Inner::Closed { failures: 0 }),
            failures: failures.max(1),
            open_for,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { until } if Instant::now() < until => BreakerState::Open,
            Inner::Open { .. } | Inner::HalfOpen => BreakerState::HalfOpen,
        }
    }

    /// May a call go out now? While half-open, only the first caller may.
    pub fn try_call(&self) -> Result<(), BreakerOpen> {
        let mut inner = self.lock();
        match *inner {
            Inner::Closed { .. } => Ok(()),
            Inner::Open { until } if Instant::now() >= until => {
                *inner = Inner::HalfOpen;
                metrics::gauge!("cryptolens_ntfy_breaker_state").set(2.0);
                Ok(())
            }
            Inner::Open { .. } | Inner::HalfOpen => Err(BreakerOpen),
        }
    }

    pub fn succeeded(&self) {
        let mut inner = self.lock();
        if !matches!(*inner, Inner::Closed { failures: 0 }) {
            *inner = Inner::Closed { failures: 0 };
            metrics::gauge!("cryptolens_ntfy_breaker_state").set(0.0);
        }
    }

    pub fn failed(&self) {
        let mut inner = self.lock();
        let open = match *inner {
            Inner::Closed { failures } if failures + 1 < self.failures => {
                *inner = Inner::Closed {
                    failures: failures + 1,
                };
                false
            }
            _ => true,
        };
        if open {
            *inner = Inner::Open {
                until: Instant::now() + self.open_for,
            };
            metrics::gauge!("cryptolens_ntfy_breaker_state").set(1.0);
            metrics::counter!("cryptolens_ntfy_breaker_opened_total").increment(1);
            tracing::warn!(
                open_for_ms = self.open_for.as_millis() as u64,
                "NTFY circuit breaker opened"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_opens_after_consecutive_failures_and_probes_once_when_half_open() {
        let breaker = Breaker::new(3, Duration::from_millis(30));
        breaker.failed();
        breaker.failed();
        breaker.succeeded(); // a success resets the count
        breaker.failed();
        breaker.failed();
        assert_eq!(breaker.try_call(), Ok(()));
        breaker.failed();
        assert_eq!(breaker.state(), BreakerState::Open);
        assert_eq!(breaker.try_call(), Err(BreakerOpen));

        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(breaker.try_call(), Ok(()), "the probe");
        assert_eq!(breaker.try_call(), Err(BreakerOpen), "only one probe");
        breaker.failed();
        assert_eq!(
            breaker.state(),
            BreakerState::Open,
            "a failed probe reopens"
        );

        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(breaker.try_call(), Ok(()));
        breaker.succeeded();
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert_eq!(breaker.try_call(), Ok(()));
        assert_eq!(breaker.try_call(), Ok(()));
    }
}
