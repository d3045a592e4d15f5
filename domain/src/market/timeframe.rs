//! Candle timeframes (ALGORITHMS §0.1, §1.1).
//!
//! A [`Timeframe`] is one of the eight bar lengths CryptoLens knows, from
//! `1m` to `1d`. Every timeframe divides 24 h, so epoch-aligned buckets
//! (`floor(ts / tf_ms) * tf_ms`) coincide with the original's
//! midnight-anchored pandas bins.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Milliseconds in one minute.
const MINUTE_MS: i64 = 60_000;

/// A candle timeframe. Ordered from shortest to longest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Timeframe {
    /// One minute (the only timeframe fetched from the exchange).
    #[serde(rename = "1m")]
    M1,
    /// Five minutes.
    #[serde(rename = "5m")]
    M5,
    /// Fifteen minutes.
    #[serde(rename = "15m")]
    M15,
    /// Thirty minutes.
    #[serde(rename = "30m")]
    M30,
    /// One hour.
    #[serde(rename = "1h")]
    H1,
    /// Two hours.
    #[serde(rename = "2h")]
    H2,
    /// Four hours.
    #[serde(rename = "4h")]
    H4,
    /// One day (UTC midnight to midnight).
    #[serde(rename = "1d")]
    D1,
}

/// A string that is not one of the eight timeframe labels.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown timeframe `{0}` (expected one of 1m 5m 15m 30m 1h 2h 4h 1d)")]
pub struct UnknownTimeframe(pub String);

impl Timeframe {
    /// All timeframes, shortest first.
    pub const ALL: [Timeframe; 8] = [
        Timeframe::M1,
        Timeframe::M5,
        Timeframe::M15,
        Timeframe::M30,
        Timeframe::H1,
        Timeframe::H2,
        Timeframe::H4,
        Timeframe::D1,
    ];

    /// The timeframes derived from 1m candles, in the original's order (§1.1).
    pub const AGGREGATED: [Timeframe; 7] = [
        Timeframe::M5,
        Timeframe::M15,
        Timeframe::M30,
        Timeframe::H1,
        Timeframe::H2,
        Timeframe::H4,
        Timeframe::D1,
    ];

    /// Parses a label such as `"5m"` or `"1d"` (exact, lower case).
    pub fn parse(label: &str) -> Result<Self, UnknownTimeframe> {
        Ok(match label {
            "1m" => Timeframe::M1,
            "5m" => Timeframe::M5,
            "15m" => Timeframe::M15,
            "30m" => Timeframe::M30,
            "1h" => Timeframe::H1,
            "2h" => Timeframe::H2,
            "4h" => Timeframe::H4,
            "1d" => Timeframe::D1,
            other => return Err(UnknownTimeframe(other.to_owned())),
        })
    }

    /// The label used everywhere (DB, API, file names): `"1m"`, `"5m"`, ...
    pub const fn as_str(self) -> &'static str {
        match self {
            Timeframe::M1 => "1m",
            Timeframe::M5 => "5m",
            Timeframe::M15 => "15m",
            Timeframe::M30 => "30m",
            Timeframe::H1 => "1h",
            Timeframe::H2 => "2h",
            Timeframe::H4 => "4h",
            Timeframe::D1 => "1d",
        }
    }

    /// Length of one candle in minutes.
    pub const fn minutes(self) -> i64 {
        match self {
            Timeframe::M1 => 1,
            Timeframe::M5 => 5,
            Timeframe::M15 => 15,
            Timeframe::M30 => 30,
            Timeframe::H1 => 60,
            Timeframe::H2 => 120,
            Timeframe::H4 => 240,
            Timeframe::D1 => 1440,
        }
    }

    /// Length of one candle in milliseconds (`TIMEFRAME_MS`).
    pub const fn duration_ms(self) -> i64 {
        self.minutes() * MINUTE_MS
    }

    /// Open time of the epoch-aligned bucket containing `ts` (ms):
    /// `floor(ts / tf_ms) * tf_ms`, flooring towards negative infinity.
    pub const fn bucket_start(self, ts: i64) -> i64 {
        ts.div_euclid(self.duration_ms()) * self.duration_ms()
    }

    /// Whether `ts` is the open time of a bucket of this timeframe.
    pub const fn is_aligned(self, ts: i64) -> bool {
        ts.rem_euclid(self.duration_ms()) == 0
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Timeframe {
    type Err = UnknownTimeframe;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timeframe::parse(s)
    }
}

impl TryFrom<&str> for Timeframe {
    type Error = UnknownTimeframe;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Timeframe::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_round_trips_through_display_and_parse() {
        for tf in Timeframe::ALL {
            assert_eq!(Timeframe::parse(&tf.to_string()), Ok(tf));
        }
    }

    #[test]
    fn unknown_labels_are_rejected_with_the_label() {
        assert_eq!(
            Timeframe::parse("3m"),
            Err(UnknownTimeframe("3m".to_owned()))
        );
        assert!(Timeframe::parse("1H").is_err());
        assert!(Timeframe::parse("").is_err());
    }

    #[test]
    fn durations_are_minutes_times_sixty_thousand() {
        assert_eq!(Timeframe::M1.duration_ms(), 60_000);
        assert_eq!(Timeframe::M5.duration_ms(), 300_000);
        assert_eq!(Timeframe::H4.duration_ms(), 14_400_000);
        assert_eq!(Timeframe::D1.duration_ms(), 86_400_000);
    }

    #[test]
    fn buckets_are_epoch_aligned_and_floor_negative_times() {
        // 2018-01-20 04:53 UTC falls in the 04:00 4h bucket and the 00:00 day.
        let ts = 1_516_423_980_000;
        assert_eq!(Timeframe::H4.bucket_start(ts), 1_516_420_800_000);
        assert_eq!(Timeframe::D1.bucket_start(ts), 1_516_406_400_000);
        assert_eq!(Timeframe::M5.bucket_start(-1), -300_000);
        assert!(Timeframe::M15.is_aligned(1_516_423_500_000));
        assert!(!Timeframe::M15.is_aligned(ts));
    }

    #[test]
    fn serde_uses_the_labels() {
        let json = serde_json::to_string(&Timeframe::M30).unwrap_or_default();
        assert_eq!(json, "\"30m\"");
    }
}
