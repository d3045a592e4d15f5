//! A small circuit breaker for external HTTP services: after
//! `failure_threshold` failures in a row it opens and refuses calls for
//! `open_for`; then one trial call is let through (half-open), whose outcome
//! closes it again or re-opens it.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { trial: bool },
}

#[derive(Debug)]
pub struct CircuitBreaker {
    failure_threshold: u32,
    open_for: Duration,
    state: Mutex<State>,
}

/// The breaker refused the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerOpen;

impl CircuitBreaker {
    pub fn new(failure_threshold: u32, open_for: Duration) -> Self {
        Self {
            failure_threshold: failure_threshold.max(1),
            open_for,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Asks to make a call.
    pub fn acquire(&self) -> Result<(), BreakerOpen> {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Ok(()),
            State::Open { until } if Instant::now() >= until => {
                *state = State::HalfOpen { trial: true };
                Ok(())
            }
            State::Open { .. } | State::HalfOpen { trial: true } => Err(BreakerOpen),
            State::HalfOpen { trial: false } => {
                *state = State::HalfOpen { trial: true };
                Ok(())
            }
        }
    }

    /// Reports how an acquired call went.
    pub fn record(&self, success: bool) {
        let mut state = self.lock();
        *state = match (*state, success) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.failure_threshold => {
                State::Closed {
                    failures: failures + 1,
                }
            }
            (_, false) => {
                tracing::warn!(open_for = ?self.open_for, "circuit breaker opened");
                State::Open {
                    until: Instant::now() + self.open_for,
                }
            }
        };
    }

    pub fn is_open(&self) -> bool {
        matches!(*self.lock(), State::Open { until } if Instant::now() < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_then_lets_one_trial_through() {
        let breaker = CircuitBreaker::new(3, Duration::from_secs(30));
        for _ in 0..2 {
            assert_eq!(breaker.acquire(), Ok(()));
            breaker.record(false);
        }
        assert_eq!(breaker.acquire(), Ok(()));
        breaker.record(true);
        for _ in 0..3 {
            assert_eq!(breaker.acquire(), Ok(()));
            breaker.record(false);
        }
        assert!(breaker.is_open());
        assert_eq!(breaker.acquire(), Err(BreakerOpen));
        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(breaker.acquire(), Ok(()), "the trial call");
        assert_eq!(
            breaker.acquire(),
            Err(BreakerOpen),
            "only one trial at a time"
        );
        breaker.record(false);
        assert_eq!(
            breaker.acquire(),
            Err(BreakerOpen),
            "a failed trial re-opens"
        );
        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(breaker.acquire(), Ok(()));
        breaker.record(true);
        assert_eq!(breaker.acquire(), Ok(()));
        assert_eq!(breaker.acquire(), Ok(()), "closed again");
    }
}
