//! Confluence signals (ALGORITHMS §8) with the PRODUCT §4 fixes, and the
//! outcome rules that track a signal on later candles.

use serde::{Deserialize, Serialize};

use crate::market::{Candle, Direction, Timeframe, atr};

/// The §8 settings (the original's DB key/value defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SignalSettings {
    /// Timeframes that must agree.
    pub min_confluence: usize,
    /// No second signal for the same symbol and direction within this time.
    pub cooldown_ms: i64,
    /// One of the aligned timeframes must be 4h or 1d.
    pub require_htf: bool,
    /// Reward multiple of the third target.
    pub default_rr: f64,
    /// Minimum distance entry → stop, in percent of the entry.
    pub min_risk_pct: f64,
}

impl Default for SignalSettings {
    fn default() -> Self {
        Self {
            min_confluence: 3,
            cooldown_ms: 4 * 3_600_000,
            require_htf: true,
            default_rr: 3.0,
            min_risk_pct: 0.5,
        }
    }
}

/// Priority in which the aligned timeframes are searched for the signal's
/// pattern. The original lacked 30m and 2h (bug 5); all seven take part.
pub const PATTERN_PRIORITY: [Timeframe; 7] = [
    Timeframe::D1,
    Timeframe::H4,
    Timeframe::H2,
    Timeframe::H1,
    Timeframe::M30,
    Timeframe::M15,
    Timeframe::M5,
];

/// Entry, stop and targets of a signal (§8.3).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SignalLevels {
    pub atr: f64,
    pub entry: f64,
    pub stop_loss: f64,
    pub take_profit_1: f64,
    pub take_profit_2: f64,
    pub take_profit_3: f64,
    pub risk: f64,
    pub risk_reward: f64,
}

impl SignalLevels {
    /// The target price `n` (1 to 3).
    pub fn target(&self, n: u8) -> f64 {
        match n {
            1 => self.take_profit_1,
            2 => self.take_profit_2,
            _ => self.take_profit_3,
        }
    }
}

/// §8.3: `recent` are the newest stored candles of the pattern's timeframe
/// at signal time (up to 15; ATR is 0 below 14).
pub fn signal_levels(
    direction: Direction,
    zone_low: f64,
    zone_high: f64,
    recent: &[Candle],
    settings: &SignalSettings,
) -> SignalLevels {
    let atr = if recent.len() < 14 { 0.0 } else { atr(recent) };
    let zone_mid = (zone_high + zone_low) / 2.0;
    let min_buffer = zone_mid * settings.min_risk_pct / 100.0;
    let buffer = if atr > 0.0 {
        let half = 0.5 * atr;
        if min_buffer > half { min_buffer } else { half }
    } else {
        min_buffer
    };
    let rr = settings.default_rr;
    match direction {
        Direction::Bullish => {
            let entry = zone_high;
            let mut stop_loss = zone_low - buffer;
            let mut risk = entry - stop_loss;
            if risk / entry * 100.0 < settings.min_risk_pct {
                risk = entry * settings.min_risk_pct / 100.0;
                stop_loss = entry - risk;
            }
            SignalLevels {
                atr,
                entry,
                stop_loss,
                take_profit_1: entry + risk,
                take_profit_2: entry + 2.0 * risk,
                take_profit_3: entry + rr * risk,
                risk,
                risk_reward: rr,
            }
        }
        Direction::Bearish => {
            let entry = zone_low;
            let mut stop_loss = zone_high + buffer;
            let mut risk = stop_loss - entry;
            if risk / entry * 100.0 < settings.min_risk_pct {
                risk = entry * settings.min_risk_pct / 100.0;
                stop_loss = entry + risk;
            }
            SignalLevels {
                atr,
                entry,
                stop_loss,
                take_profit_1: entry - risk,
                take_profit_2: entry - 2.0 * risk,
                take_profit_3: entry - rr * risk,
                risk,
                risk_reward: rr,
            }
        }
    }
}

/// How a signal ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The best target reached was TP1 (then stopped or expired).
    Tp1,
    /// The best target reached was TP2 (then stopped or expired).
    Tp2,
    /// TP3 was reached.
    Tp3,
    /// Stopped out before any target.
    Stopped,
    /// Its validity ran out before any target (entered or not).
    Expired,
}

impl Outcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Tp1 => "tp1",
            Outcome::Tp2 => "tp2",
            Outcome::Tp3 => "tp3",
            Outcome::Stopped => "stopped",
            Outcome::Expired => "expired",
        }
    }

    /// The outcome when a signal that reached `best` (0 to 3) closes for
    /// `reason`.
    pub const fn closing(best: u8, stopped: bool) -> Self {
        match best {
            0 if stopped => Outcome::Stopped,
            0 => Outcome::Expired,
            1 => Outcome::Tp1,
            2 => Outcome::Tp2,
            _ => Outcome::Tp3,
        }
    }
}

/// One step of a signal's tracking on a closed 1m candle.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignalStep {
    pub entered: bool,
    /// Targets reached on this candle, ascending.
    pub targets: Vec<u8>,
    /// Set when the signal is over.
    pub resolved: Option<(Outcome, ClosedBy)>,
}

/// What ended a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedBy {
    Stop,
    FinalTarget,
    Expiry,
}

/// Tracks an open signal on one candle. The trade is entered when price
/// touches the entry; before that, neither stop nor targets count. On the
/// entry candle only the stop is checked (the order inside a candle is
/// unknown: fixing the original backtester's blindness to it, bug 8, the
/// conservative way). Afterwards a candle reaching both the stop and a
/// target is a stop.
pub fn track_signal(
    direction: Direction,
    levels: &SignalLevels,
    entered: bool,
    best: u8,
    candle: &Candle,
) -> SignalStep {
    let long = direction == Direction::Bullish;
    let stop_hit = if long {
        candle.low <= levels.stop_loss
    } else {
        candle.high >= levels.stop_loss
    };
    let mut step = SignalStep::default();
    if !entered {
        let touched = if long {
            candle.low <= levels.entry
        } else {
            candle.high >= levels.entry
        };
        if !touched {
            return step;
        }
        step.entered = true;
        if stop_hit {
            step.resolved = Some((Outcome::closing(best, true), ClosedBy::Stop));
        }
        return step;
    }
    if stop_hit {
        step.resolved = Some((Outcome::closing(best, true), ClosedBy::Stop));
        return step;
    }
    for n in (best + 1)..=3 {
        let reached = if long {
            candle.high >= levels.target(n)
        } else {
            candle.low <= levels.target(n)
        };
        if reached {
            step.targets.push(n);
        }
    }
    if step.targets.last() == Some(&3) {
        step.resolved = Some((Outcome::Tp3, ClosedBy::FinalTarget));
    }
    step
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(n: usize, range: f64) -> Vec<Candle> {
        (0..n)
            .map(|i| {
                Candle::new(
                    i as i64 * 60_000,
                    100.0,
                    100.0 + range,
                    100.0 - range,
                    100.0,
                    1.0,
                )
            })
            .collect()
    }

    #[test]
    fn a_long_signal_enters_at_the_zone_high_with_the_minimum_risk_applied() {
        let s = SignalSettings::default();
        // Too few candles: ATR 0, buffer = 0.5 % of the zone mid.
        let levels = signal_levels(Direction::Bullish, 99.0, 101.0, &flat(5, 1.0), &s);
        assert_eq!(levels.atr, 0.0);
        assert_eq!(levels.entry, 101.0);
        assert_eq!(levels.stop_loss, 99.0 - 0.5);
        assert_eq!(levels.risk, 101.0 - 98.5);
        assert_eq!(levels.take_profit_3, 101.0 + 3.0 * 2.5);
        // Short: entry at the zone low, stop above the zone high. (The
        // minimum-risk rule of §8.3 can only bite through float rounding:
        // the buffer alone is already 0.5 % of the zone mid.)
        let short = signal_levels(Direction::Bearish, 100.0, 100.01, &flat(15, 0.001), &s);
        let buffer = (100.01 + 100.0) / 2.0 * 0.5 / 100.0;
        assert_eq!(short.entry, 100.0);
        assert_eq!(short.stop_loss, 100.01 + buffer);
        assert_eq!(short.risk, short.stop_loss - 100.0);
        assert_eq!(short.take_profit_2, 100.0 - 2.0 * short.risk);
    }

    #[test]
    fn atr_counts_from_fourteen_candles() {
        let s = SignalSettings::default();
        let levels = signal_levels(Direction::Bullish, 99.0, 101.0, &flat(15, 2.0), &s);
        assert_eq!(levels.atr, 4.0);
        // buffer = max(0.5 * 4, 0.5 % of 100) = 2
        assert_eq!(levels.stop_loss, 97.0);
    }

    #[test]
    fn tracking_enters_then_counts_targets_and_stops_conservatively() {
        let levels = SignalLevels {
            atr: 0.0,
            entry: 100.0,
            stop_loss: 95.0,
            take_profit_1: 105.0,
            take_profit_2: 110.0,
            take_profit_3: 115.0,
            risk: 5.0,
            risk_reward: 3.0,
        };
        let c = |low: f64, high: f64| Candle::new(0, low, high, low, low, 1.0);
        let long = Direction::Bullish;
        assert_eq!(
            track_signal(long, &levels, false, 0, &c(101.0, 120.0)),
            SignalStep::default()
        );
        let entry = track_signal(long, &levels, false, 0, &c(99.0, 120.0));
        assert!(entry.entered && entry.targets.is_empty() && entry.resolved.is_none());
        let run = track_signal(long, &levels, true, 0, &c(99.0, 111.0));
        assert_eq!(run.targets, vec![1, 2]);
        assert_eq!(run.resolved, None);
        let both = track_signal(long, &levels, true, 2, &c(94.0, 116.0));
        assert_eq!(both.resolved, Some((Outcome::Tp2, ClosedBy::Stop)));
        let done = track_signal(long, &levels, true, 2, &c(100.0, 115.0));
        assert_eq!(done.resolved, Some((Outcome::Tp3, ClosedBy::FinalTarget)));
        let stopped_on_entry = track_signal(long, &levels, false, 0, &c(94.0, 100.0));
        assert_eq!(
            stopped_on_entry.resolved,
            Some((Outcome::Stopped, ClosedBy::Stop))
        );
    }
}
