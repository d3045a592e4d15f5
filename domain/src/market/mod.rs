//! CryptoLens market maths: candles, timeframe aggregation, the three pattern
//! detectors and trading levels, in exact parity with the original Python
//! application (`spec/ALGORITHMS.md` §1–5, §7, §11, §13).
//!
//! Everything here is pure: functions over slices of [`Candle`], no I/O, no
//! clocks, no async. Detectors work on positions in the series they are given
//! and reproduce the original's outputs bit for bit, quirks included; where
//! the live pipeline deliberately differs from the original, the difference
//! is documented at the function that implements it.

pub mod aggregate;
pub mod candle;
pub mod csv;
pub mod detect;
pub mod indicators;
pub mod levels;
pub mod symbol;
pub mod timeframe;
pub mod tracker;

pub use aggregate::{aggregate, reaggregate_touched};
pub use candle::{Candle, CandleError, CandleField, SeriesError, check_ascending, validate_series};
pub use detect::{
    DedupMode, DetectConfig, Direction, Pattern, PatternType, detect, detect_fvg,
    detect_liquidity_sweeps, detect_order_blocks, overlap_ratio, zone_is_large_enough,
};
pub use indicators::{atr, find_swing_high, find_swing_low};
pub use levels::{LevelsError, TradingLevels, levels_as_of_detection, round2, trading_levels};
pub use symbol::{InvalidSymbol, MANDATORY_SYMBOLS, Symbol};
pub use timeframe::{Timeframe, UnknownTimeframe};
