//! OHLCV candles and their sanity rules (ALGORITHMS §0).
//!
//! A [`Candle`] is one bar: open time in epoch milliseconds (UTC) and five
//! doubles. The detectors never look at timestamps, only at positions in a
//! series, so the sanity rules live here, applied where candles enter the
//! system: finite numbers, positive prices, non-negative volume, a high at or
//! above the body, a low at or below it, and an open time aligned to the
//! candle's timeframe.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::timeframe::Timeframe;

/// One OHLCV bar. `open_time` is the candle OPEN time in ms since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Candle {
    /// Open time, epoch milliseconds, UTC.
    pub open_time: i64,
    /// First traded price of the period.
    pub open: f64,
    /// Highest traded price of the period.
    pub high: f64,
    /// Lowest traded price of the period.
    pub low: f64,
    /// Last traded price of the period.
    pub close: f64,
    /// Traded base volume.
    pub volume: f64,
}

/// A numeric field of a candle, named in validation errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandleField {
    /// `open`
    Open,
    /// `high`
    High,
    /// `low`
    Low,
    /// `close`
    Close,
    /// `volume`
    Volume,
}

impl fmt::Display for CandleField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CandleField::Open => "open",
            CandleField::High => "high",
            CandleField::Low => "low",
            CandleField::Close => "close",
            CandleField::Volume => "volume",
        })
    }
}

/// Why a single candle is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CandleError {
    /// A price or the volume is NaN or infinite.
    #[error("{0} is not a finite number")]
    NotFinite(CandleField),
    /// A price is zero or negative.
    #[error("{0} must be greater than zero")]
    NonPositivePrice(CandleField),
    /// The volume is negative.
    #[error("volume must not be negative")]
    NegativeVolume,
    /// `high < max(open, close)`.
    #[error("high is below the candle body")]
    HighBelowBody,
    /// `low > min(open, close)`.
    #[error("low is above the candle body")]
    LowAboveBody,
    /// The open time is not a multiple of the timeframe's length.
    #[error("open time {open_time} is not aligned to {timeframe}")]
    Misaligned {
        /// The offending open time (ms).
        open_time: i64,
        /// The timeframe it was checked against.
        timeframe: Timeframe,
    },
}

/// Why a candle series is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SeriesError {
    /// The candle at `index` breaks a sanity rule.
    #[error("candle {index}: {reason}")]
    InvalidCandle {
        /// Position in the series.
        index: usize,
        /// The rule it breaks.
        reason: CandleError,
    },
    /// The candle at `index` does not open strictly after the previous one.
    #[error("candle {index} does not open after candle {}", index.saturating_sub(1))]
    NotAscending {
        /// Position in the series.
        index: usize,
    },
}

impl Candle {
    /// Builds a candle without checking it (see [`Candle::validate`]).
    pub const fn new(
        open_time: i64,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
        volume: f64,
    ) -> Self {
        Candle {
            open_time,
            open,
            high,
            low,
            close,
            volume,
        }
    }

    /// `close - open`: positive for a bullish candle, negative for a bearish one.
    pub fn body(&self) -> f64 {
        self.close - self.open
    }

    /// `close > open`.
    pub fn is_bullish(&self) -> bool {
        self.close > self.open
    }

    /// `close < open`.
    pub fn is_bearish(&self) -> bool {
        self.close < self.open
    }

    /// Checks the sanity rules, first broken rule wins, in this order:
    /// finite numbers, positive prices, non-negative volume, high at or above
    /// the body, low at or below the body, open time aligned to `timeframe`.
    pub fn validate(&self, timeframe: Timeframe) -> Result<(), CandleError> {
        let prices = [
            (CandleField::Open, self.open),
            (CandleField::High, self.high),
            (CandleField::Low, self.low),
            (CandleField::Close, self.close),
        ];
        for (field, value) in prices
            .into_iter()
            .chain([(CandleField::Volume, self.volume)])
        {
            if !value.is_finite() {
                return Err(CandleError::NotFinite(field));
            }
        }
        if let Some((field, _)) = prices.into_iter().find(|&(_, value)| value <= 0.0) {
            return Err(CandleError::NonPositivePrice(field));
        }
        if self.volume < 0.0 {
            return Err(CandleError::NegativeVolume);
        }
        if self.high < self.open.max(self.close) {
            return Err(CandleError::HighBelowBody);
        }
        if self.low > self.open.min(self.close) {
            return Err(CandleError::LowAboveBody);
        }
        if !timeframe.is_aligned(self.open_time) {
            return Err(CandleError::Misaligned {
                open_time: self.open_time,
                timeframe,
            });
        }
        Ok(())
    }
}

/// Validates every candle of a series and that open times strictly ascend.
pub fn validate_series(candles: &[Candle], timeframe: Timeframe) -> Result<(), SeriesError> {
    check_ascending(candles)?;
    for (index, candle) in candles.iter().enumerate() {
        candle
            .validate(timeframe)
            .map_err(|reason| SeriesError::InvalidCandle { index, reason })?;
    }
    Ok(())
}

/// Checks only that open times strictly ascend.
pub fn check_ascending(candles: &[Candle]) -> Result<(), SeriesError> {
    match candles
        .windows(2)
        .position(|w| w[1].open_time <= w[0].open_time)
    {
        Some(position) => Err(SeriesError::NotAscending {
            index: position + 1,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_516_423_980_000; // a whole minute, not a whole 5 minutes

    fn good() -> Candle {
        Candle::new(T0, 10.0, 12.0, 9.0, 11.0, 3.0)
    }

    #[test]
    fn a_sane_candle_passes() {
        assert_eq!(good().validate(Timeframe::M1), Ok(()));
        let doji_on_its_low = Candle::new(T0, 9.0, 9.5, 9.0, 9.0, 0.0);
        assert_eq!(doji_on_its_low.validate(Timeframe::M1), Ok(()));
    }

    #[test]
    fn non_finite_values_are_named() {
        let c = Candle {
            close: f64::NAN,
            ..good()
        };
        assert_eq!(
            c.validate(Timeframe::M1),
            Err(CandleError::NotFinite(CandleField::Close))
        );
        let c = Candle {
            volume: f64::INFINITY,
            ..good()
        };
        assert_eq!(
            c.validate(Timeframe::M1),
            Err(CandleError::NotFinite(CandleField::Volume))
        );
    }

    #[test]
    fn prices_must_be_positive_and_volume_not_negative() {
        let c = Candle { low: 0.0, ..good() };
        assert_eq!(
            c.validate(Timeframe::M1),
            Err(CandleError::NonPositivePrice(CandleField::Low))
        );
        let c = Candle {
            volume: -1.0,
            ..good()
        };
        assert_eq!(c.validate(Timeframe::M1), Err(CandleError::NegativeVolume));
    }

    #[test]
    fn wicks_must_contain_the_body() {
        let c = Candle {
            high: 10.5,
            ..good()
        };
        assert_eq!(c.validate(Timeframe::M1), Err(CandleError::HighBelowBody));
        let c = Candle {
            low: 10.5,
            ..good()
        };
        assert_eq!(c.validate(Timeframe::M1), Err(CandleError::LowAboveBody));
    }

    #[test]
    fn open_time_must_be_aligned_to_the_timeframe() {
        assert_eq!(
            good().validate(Timeframe::M5),
            Err(CandleError::Misaligned {
                open_time: T0,
                timeframe: Timeframe::M5
            })
        );
    }

    #[test]
    fn a_series_must_ascend_strictly() {
        let a = good();
        let b = Candle {
            open_time: T0 + 60_000,
            ..good()
        };
        assert_eq!(validate_series(&[a, b], Timeframe::M1), Ok(()));
        assert_eq!(
            validate_series(&[a, b, b], Timeframe::M1),
            Err(SeriesError::NotAscending { index: 2 })
        );
        let bad = Candle {
            open_time: T0 + 120_000,
            high: 1.0,
            ..good()
        };
        assert_eq!(
            validate_series(&[a, b, bad], Timeframe::M1),
            Err(SeriesError::InvalidCandle {
                index: 2,
                reason: CandleError::HighBelowBody
            })
        );
    }
}
