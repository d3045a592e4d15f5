//! The live pattern book of one symbol, in candle time (ALGORITHMS §6, §8
//! with the fixes listed there and in PRODUCT §3–4).
//!
//! A [`Tracker`] holds the active patterns of every timeframe, the open
//! signals, the last signal time per direction and the newest candles of
//! each timeframe. It is fed closed candles and detector output in time
//! order ([`Tracker::advance`]) and answers with [`TrackerEvent`]s, which the
//! pipeline turns into aggregate commands.
//!
//! Everything is decided in **candle time**, never on a wall clock: a
//! higher-timeframe candle exists once the 1m data reaches its last minute
//! ([`bucket_closed`]), a pattern becomes known when its detection candle
//! closes, fills and expiries are judged at each 1m candle's close, and
//! signals are evaluated after each 1m close. So the outcome does not depend
//! on how the data was cut into scans: feeding a series in one piece
//! ([`simulate`]) or minute by minute, with restarts from a
//! [`Tracker::restore`]d state, gives the same events. The end-to-end test
//! relies on exactly that.

mod engine;
pub mod lifecycle;
pub mod signal;

pub use engine::{
    Chunk, DETECTION_LOOKBACK, Offer, PatternKey, SignalKey, TrackedPattern, TrackedSignal,
    Tracker, TrackerEvent, bucket_closed, closed_series, first_closing_bucket, newly_closed,
    offers, simulate,
};
pub use lifecycle::{Closure, expires_at, expiry_hours, judge, overlap_threshold};
pub use signal::{
    ClosedBy, Outcome, PATTERN_PRIORITY, SignalLevels, SignalSettings, signal_levels, track_signal,
};
