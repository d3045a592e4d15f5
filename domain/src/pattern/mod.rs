//! The pattern aggregate: one per detected pattern, keyed by a
//! deterministic id (symbol, timeframe, type, direction, detection candle),
//! so a re-run of a scan can never record the same pattern twice. It is
//! detected once, then closes once: filled, invalidated or expired.

mod aggregate;
mod event;

#[cfg(test)]
mod tests;

pub use aggregate::{PatternCommand, PatternError, PatternStatus, TrackedZone};
pub use event::{PatternEvent, PatternFacts};
