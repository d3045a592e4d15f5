//! The three pattern detectors of the original CryptoLens (ALGORITHMS §2–5).
//!
//! Each detector is one pass over a candle slice and reports patterns by
//! **position** in that slice (`detected_at`), never by time, in ascending
//! `detected_at` order (bullish before bearish on the same candle). Two modes
//! exist, as in the original `detect_historical`: raw (`skip_overlap=True`,
//! [`DedupMode::Raw`]) and in-memory de-duplication (`skip_overlap=False`,
//! [`DedupMode::InMemory`]), where a zone overlapping any earlier accepted
//! zone of the same direction by the threshold or more is rejected, for the
//! whole series (quirk 19: the memory never forgets). Pure and allocation-light;
//! no I/O.

mod fvg;
mod order_block;
mod rolling;
mod sweep;
mod zone_memory;

use serde::{Deserialize, Serialize};

use super::candle::Candle;

pub use fvg::detect_fvg;
pub use order_block::detect_order_blocks;
pub use sweep::detect_liquidity_sweeps;

/// `MIN_ZONE_PERCENT`: minimum zone size in percent of the zone low.
pub const MIN_ZONE_PERCENT: f64 = 0.15;
/// `ORDER_BLOCK_STRENGTH_MULTIPLIER`: impulse body versus the 20-candle mean body.
pub const ORDER_BLOCK_STRENGTH_MULTIPLIER: f64 = 1.5;
/// `DEFAULT_OVERLAP_THRESHOLD`: ratio at which in-memory de-dup rejects a zone.
pub const DEFAULT_OVERLAP_THRESHOLD: f64 = 0.70;

/// The pattern kinds, named as everywhere in CryptoLens (DB, API, optimizer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternType {
    /// Fair Value Gap, a three-candle wick gap (§3).
    Imbalance,
    /// The last big-enough opposing candle body before an impulse (§4).
    OrderBlock,
    /// A wick through a recent swing point that closes back inside (§5).
    LiquiditySweep,
}

impl PatternType {
    /// All three, in the order the original runs them.
    pub const ALL: [PatternType; 3] = [
        PatternType::Imbalance,
        PatternType::OrderBlock,
        PatternType::LiquiditySweep,
    ];

    /// The stored name: `imbalance`, `order_block`, `liquidity_sweep`.
    pub const fn as_str(self) -> &'static str {
        match self {
            PatternType::Imbalance => "imbalance",
            PatternType::OrderBlock => "order_block",
            PatternType::LiquiditySweep => "liquidity_sweep",
        }
    }
}

/// Which way a pattern points; bullish patterns lead to long trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Expects price to rise.
    Bullish,
    /// Expects price to fall.
    Bearish,
}

impl PatternType {
    /// The shortest series the detector looks at (3 / 5 / 20 candles, §3–5).
    pub const fn min_candles(self) -> usize {
        match self {
            PatternType::Imbalance => 3,
            PatternType::OrderBlock => 5,
            PatternType::LiquiditySweep => 20,
        }
    }

    /// The type named `text` (`imbalance`, `order_block`, `liquidity_sweep`;
    /// `fvg` is accepted for `imbalance`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "imbalance" | "fvg" => Some(PatternType::Imbalance),
            "order_block" => Some(PatternType::OrderBlock),
            "liquidity_sweep" => Some(PatternType::LiquiditySweep),
            _ => None,
        }
    }
}

impl Direction {
    /// `bullish` or `bearish`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Bullish => "bullish",
            Direction::Bearish => "bearish",
        }
    }

    /// The direction named `text` (`bullish` / `bearish`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "bullish" => Some(Direction::Bullish),
            "bearish" => Some(Direction::Bearish),
            _ => None,
        }
    }

    /// The trade side: `long` for bullish, `short` for bearish.
    pub const fn side(self) -> &'static str {
        match self {
            Direction::Bullish => "long",
            Direction::Bearish => "short",
        }
    }
}

/// Whether a detector de-duplicates overlapping zones in memory (§2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DedupMode {
    /// Every qualifying zone is reported (original `skip_overlap=True`).
    Raw,
    /// Zones overlapping an earlier accepted zone of the same direction are
    /// rejected (original `skip_overlap=False`).
    InMemory,
}

/// Parameters of one detector run (`detect_historical` arguments).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectConfig {
    /// Minimum zone size in percent of the zone low (inclusive).
    pub min_zone_pct: f64,
    /// Raw or in-memory de-duplicated output.
    pub dedup: DedupMode,
    /// Overlap ratio at or above which in-memory de-dup rejects a zone.
    pub overlap_threshold: f64,
    /// Impulse test multiplier of the order-block detector.
    pub ob_strength_multiplier: f64,
}

impl DetectConfig {
    /// The original defaults in the given mode.
    pub const fn new(dedup: DedupMode) -> Self {
        DetectConfig {
            min_zone_pct: MIN_ZONE_PERCENT,
            dedup,
            overlap_threshold: DEFAULT_OVERLAP_THRESHOLD,
            ob_strength_multiplier: ORDER_BLOCK_STRENGTH_MULTIPLIER,
        }
    }

    /// Defaults, raw mode.
    pub const fn raw() -> Self {
        DetectConfig::new(DedupMode::Raw)
    }

    /// Defaults, in-memory de-duplication.
    pub const fn deduplicated() -> Self {
        DetectConfig::new(DedupMode::InMemory)
    }
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig::raw()
    }
}

/// One detected pattern (the `detect_historical` record, §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pattern {
    /// Detector that found it.
    pub pattern_type: PatternType,
    /// Bullish or bearish.
    pub direction: Direction,
    /// Upper bound of the zone.
    pub zone_high: f64,
    /// Lower bound of the zone (always `< zone_high`).
    pub zone_low: f64,
    /// Position of the detection candle in the series given to the detector.
    pub detected_at: usize,
    /// Open time (ms) of the detection candle.
    pub detected_ts: i64,
    /// The swing price taken out (liquidity sweeps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swept_level: Option<f64>,
}

/// Runs one detector.
pub fn detect(series: &[Candle], pattern_type: PatternType, config: &DetectConfig) -> Vec<Pattern> {
    match pattern_type {
        PatternType::Imbalance => detect_fvg(series, config),
        PatternType::OrderBlock => detect_order_blocks(series, config),
        PatternType::LiquiditySweep => detect_liquidity_sweeps(series, config),
    }
}

/// The minimum-size test (§2.1): `zone_low > 0` and
/// `((zone_high - zone_low) / zone_low) * 100 >= min_zone_pct`, evaluated in
/// that order so that float rounding decides boundary cases as in the original.
pub fn zone_is_large_enough(zone_low: f64, zone_high: f64, min_zone_pct: f64) -> bool {
    zone_low > 0.0 && ((zone_high - zone_low) / zone_low) * 100.0 >= min_zone_pct
}

/// Overlap ratio of two zones relative to the smaller one (§2.2): 0 when they
/// do not overlap or either has zero size, 1 when one contains the other.
pub fn overlap_ratio(a_low: f64, a_high: f64, b_low: f64, b_high: f64) -> f64 {
    let overlap = py_min(a_high, b_high) - py_max(a_low, b_low);
    if overlap <= 0.0 {
        return 0.0;
    }
    let smaller = py_min(a_high - a_low, b_high - b_low);
    if smaller <= 0.0 {
        return 0.0;
    }
    overlap / smaller
}

/// Python's `min(a, b)`: `b` only if `b < a`.
fn py_min(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

/// Python's `max(a, b)`: `b` only if `b > a`.
fn py_max(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

/// Accepted-zone memories of one detector run, one per direction.
struct Dedup {
    mode: DedupMode,
    bullish: zone_memory::ZoneMemory,
    bearish: zone_memory::ZoneMemory,
}

impl Dedup {
    fn new(config: &DetectConfig) -> Self {
        Dedup {
            mode: config.dedup,
            bullish: zone_memory::ZoneMemory::new(config.overlap_threshold),
            bearish: zone_memory::ZoneMemory::new(config.overlap_threshold),
        }
    }

    /// In raw mode always true. Otherwise true, and the zone is remembered,
    /// unless it overlaps an accepted zone of the same direction.
    fn admit(&mut self, direction: Direction, zone_low: f64, zone_high: f64) -> bool {
        if self.mode == DedupMode::Raw {
            return true;
        }
        let memory = match direction {
            Direction::Bullish => &mut self.bullish,
            Direction::Bearish => &mut self.bearish,
        };
        if memory.overlaps_any(zone_low, zone_high) {
            return false;
        }
        memory.insert(zone_low, zone_high);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_is_measured_against_the_zone_low_with_float_rounding() {
        // 100 -> 100.15 is 0.15000000000000568 %, which passes.
        assert!(zone_is_large_enough(100.0, 100.15, 0.15));
        assert!(!zone_is_large_enough(100.0, 100.14, 0.15));
        assert!(!zone_is_large_enough(0.0, 1.0, 0.15));
        assert!(!zone_is_large_enough(-1.0, 1.0, 0.15));
    }

    #[test]
    fn overlap_is_relative_to_the_smaller_zone() {
        assert_eq!(overlap_ratio(1.0, 2.0, 1.2, 1.4), 1.0);
        assert_eq!(overlap_ratio(1.0, 2.0, 1.5, 3.0), 0.5);
        assert_eq!(overlap_ratio(1.0, 2.0, 2.0, 3.0), 0.0);
        assert_eq!(overlap_ratio(1.0, 2.0, 1.5, 1.5), 0.0);
    }

    #[test]
    fn pattern_serialises_with_the_original_names() {
        let p = Pattern {
            pattern_type: PatternType::OrderBlock,
            direction: Direction::Bearish,
            zone_high: 2.0,
            zone_low: 1.0,
            detected_at: 20,
            detected_ts: 7,
            swept_level: None,
        };
        let json = serde_json::to_string(&p).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"pattern_type":"order_block","direction":"bearish","zone_high":2.0,"zone_low":1.0,"detected_at":20,"detected_ts":7}"#
        );
    }
}
