//! The tracker state machine and the batch reference built on it.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::lifecycle::{Closure, expires_at, expiry_hours, judge, overlap_threshold};
use super::signal::{
    ClosedBy, Outcome, PATTERN_PRIORITY, SignalLevels, SignalSettings, signal_levels, track_signal,
};
use crate::market::{
    Candle, DetectConfig, Direction, Pattern, PatternType, SeriesError, Timeframe, TradingLevels,
    aggregate, detect, levels_as_of_detection, overlap_ratio,
};

/// Candles of history given to the detectors before the first new candle of
/// a timeframe. The liquidity sweep needs 53 (swings up to 50 back, each
/// confirmed over ±3), the order block 20 for its mean body and the levels
/// 50 for swings; 100 leaves room.
pub const DETECTION_LOOKBACK: usize = 100;

/// How many candles of each timeframe the tracker keeps (signal ATR, §8.3).
const RECENT_CANDLES: usize = 15;

/// What identifies a pattern of one symbol. The duplicate key includes the
/// direction (the original's did not: bug 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PatternKey {
    pub timeframe: Timeframe,
    pub pattern_type: PatternType,
    pub direction: Direction,
    /// Open time of the detection candle (ms).
    pub detected_ts: i64,
}

/// An accepted pattern while it is active.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackedPattern {
    pub key: PatternKey,
    pub zone_low: f64,
    pub zone_high: f64,
    pub swept_level: Option<f64>,
    /// When the detection candle closed: the pattern exists from then on.
    pub known_at: i64,
    /// `detected_ts + PATTERN_EXPIRY_HOURS[tf]`.
    pub expires_at: i64,
    /// §7 levels as of the detection candle (bug 11 fixed).
    pub levels: TradingLevels,
}

/// What identifies a signal of one symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SignalKey {
    pub direction: Direction,
    /// The 1m close after which it was generated (ms).
    pub created_at: i64,
}

/// A signal while it is tracked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackedSignal {
    pub key: SignalKey,
    /// The pattern it is built on.
    pub pattern: PatternKey,
    pub zone_low: f64,
    pub zone_high: f64,
    /// Timeframes agreeing with the direction, shortest first.
    pub aligned: Vec<Timeframe>,
    pub levels: SignalLevels,
    /// The signal ends as `expired` (or with its best target) after this.
    pub valid_until: i64,
    pub entered: bool,
    pub best_target: u8,
}

impl TrackedSignal {
    pub fn confluence(&self) -> usize {
        self.aligned.len()
    }
}

/// What the tracker decided; each becomes one event on an aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum TrackerEvent {
    PatternDetected(TrackedPattern),
    PatternClosed {
        key: PatternKey,
        closure: Closure,
        /// Close time of the 1m candle that decided it.
        at: i64,
    },
    SignalGenerated(TrackedSignal),
    SignalEntered {
        key: SignalKey,
        at: i64,
    },
    SignalTargetReached {
        key: SignalKey,
        target: u8,
        at: i64,
    },
    SignalResolved {
        key: SignalKey,
        outcome: Outcome,
        closed_by: ClosedBy,
        at: i64,
    },
}

/// A raw detector finding on a timeframe, with its levels, offered to the
/// book once its detection candle has closed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Offer {
    pub timeframe: Timeframe,
    pub pattern: Pattern,
    pub levels: TradingLevels,
    /// When the finding became visible: the close of its detection candle,
    /// or, at the very start of a series shorter than the detector's
    /// minimum, the close of the candle that brought the series to it.
    pub known_at: i64,
}

impl Offer {
    fn known_at(&self) -> i64 {
        self.known_at
    }
}

/// New data for one step: 1m candles (ascending, all newer than anything
/// fed before), the higher-timeframe candles they closed, and the detector
/// findings on those candles.
#[derive(Debug, Clone, Default)]
pub struct Chunk<'a> {
    pub candles_1m: &'a [Candle],
    pub closed: Vec<(Timeframe, Candle)>,
    pub offers: Vec<Offer>,
}

/// Whether the `timeframe` bucket starting at `bucket_start` is complete
/// once the newest 1m candle opens at `last_1m_open`: the data has reached
/// the bucket's last minute (or gone past it). Decided by data, not by the
/// wall clock, so replays and live runs agree.
pub const fn bucket_closed(timeframe: Timeframe, bucket_start: i64, last_1m_open: i64) -> bool {
    bucket_start + timeframe.duration_ms() - Timeframe::M1.duration_ms() <= last_1m_open
}

/// The complete `timeframe` candles of a 1m series (ALGORITHMS §1.2 minus
/// the still-forming last bucket).
pub fn closed_series(
    series_1m: &[Candle],
    timeframe: Timeframe,
) -> Result<Vec<Candle>, SeriesError> {
    let Some(last) = series_1m.last() else {
        return Ok(Vec::new());
    };
    let mut candles = aggregate(series_1m, timeframe)?;
    candles.retain(|c| bucket_closed(timeframe, c.open_time, last.open_time));
    Ok(candles)
}

/// The start of the earliest `timeframe` bucket that closes when the 1m
/// candles of `chunk` (ascending) arrive after the newest one opening at
/// `prev_last`; `None` when no bucket closes. Buckets close once the data
/// reaches their last minute, so the candidates are the bucket of
/// `prev_last` (it may close through a gap) and those of the new candles.
pub fn first_closing_bucket(
    timeframe: Timeframe,
    prev_last: Option<i64>,
    chunk: &[Candle],
) -> Option<i64> {
    let new_last = chunk.last()?.open_time;
    prev_last
        .into_iter()
        .chain(chunk.iter().map(|c| c.open_time))
        .map(|t| timeframe.bucket_start(t))
        .find(|&start| {
            bucket_closed(timeframe, start, new_last)
                && !prev_last.is_some_and(|p| bucket_closed(timeframe, start, p))
        })
}

/// The `timeframe` candles that close in a step ending with the 1m candle
/// opening at `new_last`: `loaded` must hold every stored 1m candle from
/// [`first_closing_bucket`] on (ascending).
pub fn newly_closed(
    timeframe: Timeframe,
    loaded: &[Candle],
    prev_last: Option<i64>,
    new_last: i64,
) -> Result<Vec<Candle>, SeriesError> {
    let mut candles = aggregate(loaded, timeframe)?;
    candles.retain(|c| {
        bucket_closed(timeframe, c.open_time, new_last)
            && !prev_last.is_some_and(|p| bucket_closed(timeframe, c.open_time, p))
    });
    Ok(candles)
}

/// Raw findings of the three detectors on `window`, with their levels as of
/// detection, in the order the original production scan offers them
/// (detector by detector). `from` is the number of older candles in the
/// window, already seen by earlier steps: findings before it were offered
/// then, unless the series was still shorter than the detector's minimum
/// (then `window` is the whole series and they are offered now, known from
/// the candle that reached the minimum).
pub fn offers(timeframe: Timeframe, window: &[Candle], from: usize) -> Vec<Offer> {
    let config = DetectConfig::raw();
    let mut out = Vec::new();
    for pattern_type in PatternType::ALL {
        let minimum = pattern_type.min_candles();
        let visible_from = window
            .get(minimum - 1)
            .map_or(i64::MAX, |c| c.open_time + timeframe.duration_ms());
        for pattern in detect(window, pattern_type, &config) {
            if pattern.detected_at < from && from >= minimum {
                continue;
            }
            if let Ok(levels) = levels_as_of_detection(window, &pattern) {
                let closed = pattern.detected_ts + timeframe.duration_ms();
                out.push(Offer {
                    timeframe,
                    pattern,
                    levels,
                    known_at: closed.max(visible_from),
                });
            }
        }
    }
    out
}

/// The pattern book of one symbol. See the module documentation.
#[derive(Debug, Clone)]
pub struct Tracker {
    settings: SignalSettings,
    active: BTreeMap<(Timeframe, PatternType, Direction), Vec<TrackedPattern>>,
    recent: BTreeMap<Timeframe, VecDeque<Candle>>,
    signals: Vec<TrackedSignal>,
    last_signal: BTreeMap<Direction, i64>,
}

impl Tracker {
    pub fn new(settings: SignalSettings) -> Self {
        Self {
            settings,
            active: BTreeMap::new(),
            recent: BTreeMap::new(),
            signals: Vec::new(),
            last_signal: BTreeMap::new(),
        }
    }

    /// The state as it was after some earlier step: the patterns active then,
    /// the signals open then, the last signal time per direction, and the
    /// newest candles of each timeframe (any number; the newest 15 are kept).
    pub fn restore(
        settings: SignalSettings,
        mut active: Vec<TrackedPattern>,
        mut signals: Vec<TrackedSignal>,
        last_signal: impl IntoIterator<Item = (Direction, i64)>,
        recent: impl IntoIterator<Item = (Timeframe, Vec<Candle>)>,
    ) -> Self {
        let mut tracker = Self::new(settings);
        active.sort_by_key(|p| (p.known_at, p.key));
        for pattern in active {
            tracker.book(&pattern.key).push(pattern);
        }
        signals.sort_by_key(|s| (s.key.created_at, s.key.direction));
        tracker.signals = signals;
        tracker.last_signal = last_signal.into_iter().collect();
        for (timeframe, candles) in recent {
            for candle in candles {
                tracker.remember(timeframe, candle);
            }
        }
        tracker
    }

    /// Active patterns, by timeframe, type, direction, then acceptance.
    pub fn active(&self) -> impl Iterator<Item = &TrackedPattern> {
        self.active.values().flatten()
    }

    pub fn open_signals(&self) -> &[TrackedSignal] {
        &self.signals
    }

    fn book(&mut self, key: &PatternKey) -> &mut Vec<TrackedPattern> {
        self.active
            .entry((key.timeframe, key.pattern_type, key.direction))
            .or_default()
    }

    fn remember(&mut self, timeframe: Timeframe, candle: Candle) {
        let recent = self.recent.entry(timeframe).or_default();
        recent.push_back(candle);
        while recent.len() > RECENT_CANDLES {
            recent.pop_front();
        }
    }

    /// Feeds one step of data in time order: at each 1m close, first what
    /// became known before the candle opened, then the candle (expiries,
    /// fills, signal tracking), then what became known at its close, then
    /// the signal check.
    pub fn advance(&mut self, chunk: Chunk<'_>) -> Vec<TrackerEvent> {
        let mut closed = chunk.closed;
        closed.sort_by_key(|(tf, c)| (c.open_time + tf.duration_ms(), *tf));
        let mut offers: Vec<(usize, Offer)> = chunk.offers.into_iter().enumerate().collect();
        offers.sort_by_key(|(seq, o)| (o.known_at(), o.timeframe, *seq));
        let mut closed = closed.into_iter().peekable();
        let mut offers = offers.into_iter().map(|(_, o)| o).peekable();
        let mut events = Vec::new();
        let mut take_known = |tracker: &mut Self, until: i64, events: &mut Vec<TrackerEvent>| {
            while let Some((tf, candle)) =
                closed.next_if(|(tf, c)| c.open_time + tf.duration_ms() <= until)
            {
                tracker.remember(tf, candle);
            }
            while let Some(offer) = offers.next_if(|o| o.known_at() <= until) {
                events.extend(tracker.offer(&offer));
            }
        };
        for candle in chunk.candles_1m {
            let close = candle.open_time + Timeframe::M1.duration_ms();
            take_known(self, candle.open_time, &mut events);
            self.on_candle(candle, &mut events);
            take_known(self, close, &mut events);
            events.extend(self.evaluate_signal(close));
        }
        take_known(self, i64::MAX, &mut events);
        events
    }

    /// De-duplication against the active patterns (§6 step 2a, with the
    /// per-timeframe thresholds). Patterns accepted earlier in the same step
    /// count too (bug 13 fixed).
    fn offer(&mut self, offer: &Offer) -> Option<TrackerEvent> {
        let p = &offer.pattern;
        let key = PatternKey {
            timeframe: offer.timeframe,
            pattern_type: p.pattern_type,
            direction: p.direction,
            detected_ts: p.detected_ts,
        };
        let known_at = offer.known_at();
        let expires_at = expires_at(offer.timeframe, p.detected_ts);
        if expires_at < known_at {
            return None;
        }
        let threshold = overlap_threshold(offer.timeframe);
        let book = self.book(&key);
        let duplicate = book.iter().any(|a| {
            a.key == key
                || (a.expires_at >= known_at
                    && overlap_ratio(a.zone_low, a.zone_high, p.zone_low, p.zone_high) >= threshold)
        });
        if duplicate {
            return None;
        }
        let tracked = TrackedPattern {
            key,
            zone_low: p.zone_low,
            zone_high: p.zone_high,
            swept_level: p.swept_level,
            known_at,
            expires_at,
            levels: offer.levels,
        };
        book.push(tracked);
        Some(TrackerEvent::PatternDetected(tracked))
    }

    fn on_candle(&mut self, candle: &Candle, events: &mut Vec<TrackerEvent>) {
        let close = candle.open_time + Timeframe::M1.duration_ms();
        for book in self.active.values_mut() {
            book.retain(|p| {
                let closure = if close > p.expires_at {
                    Some(Closure::Expired)
                } else if p.known_at <= candle.open_time {
                    judge(
                        p.key.pattern_type,
                        p.key.direction,
                        p.zone_low,
                        p.zone_high,
                        candle,
                    )
                } else {
                    None
                };
                match closure {
                    Some(closure) => {
                        events.push(TrackerEvent::PatternClosed {
                            key: p.key,
                            closure,
                            at: close,
                        });
                        false
                    }
                    None => true,
                }
            });
        }
        self.signals.retain_mut(|signal| {
            if signal.key.created_at > candle.open_time {
                return true;
            }
            let key = signal.key;
            if close > signal.valid_until {
                events.push(TrackerEvent::SignalResolved {
                    key,
                    outcome: Outcome::closing(signal.best_target, false),
                    closed_by: ClosedBy::Expiry,
                    at: close,
                });
                return false;
            }
            let step = track_signal(
                key.direction,
                &signal.levels,
                signal.entered,
                signal.best_target,
                candle,
            );
            if step.entered {
                signal.entered = true;
                events.push(TrackerEvent::SignalEntered { key, at: close });
            }
            for target in step.targets {
                signal.best_target = target;
                events.push(TrackerEvent::SignalTargetReached {
                    key,
                    target,
                    at: close,
                });
            }
            match step.resolved {
                Some((outcome, closed_by)) => {
                    events.push(TrackerEvent::SignalResolved {
                        key,
                        outcome,
                        closed_by,
                        at: close,
                    });
                    false
                }
                None => true,
            }
        });
    }

    /// The newest active pattern of `timeframe` (ties on the detection
    /// candle: the later type in `PatternType::ALL` order, then bearish;
    /// the original left this to the database's row order).
    fn newest(&self, timeframe: Timeframe) -> Option<&TrackedPattern> {
        self.active
            .range((timeframe, PatternType::Imbalance, Direction::Bullish)..)
            .take_while(|((tf, _, _), _)| *tf == timeframe)
            .flat_map(|(_, book)| book.iter())
            .max_by_key(|p| (p.key.detected_ts, p.key.pattern_type, p.key.direction))
    }

    /// §8.1–8.3 at time `at` (a 1m close).
    fn evaluate_signal(&mut self, at: i64) -> Option<TrackerEvent> {
        let settings = self.settings;
        let mut bullish = Vec::new();
        let mut bearish = Vec::new();
        for timeframe in Timeframe::AGGREGATED {
            match self.newest(timeframe).map(|p| p.key.direction) {
                Some(Direction::Bullish) => bullish.push(timeframe),
                Some(Direction::Bearish) => bearish.push(timeframe),
                None => {}
            }
        }
        let (direction, aligned) = match bullish.len().cmp(&bearish.len()) {
            std::cmp::Ordering::Greater => (Direction::Bullish, bullish),
            std::cmp::Ordering::Less => (Direction::Bearish, bearish),
            std::cmp::Ordering::Equal => return None,
        };
        if aligned.len() < settings.min_confluence {
            return None;
        }
        if settings.require_htf && !aligned.iter().any(|tf| *tf >= Timeframe::H4) {
            return None;
        }
        if self
            .last_signal
            .get(&direction)
            .is_some_and(|last| at - last < settings.cooldown_ms)
        {
            return None;
        }
        let timeframe = PATTERN_PRIORITY
            .into_iter()
            .find(|tf| aligned.contains(tf))?;
        let pattern = *self.newest(timeframe)?;
        let recent: Vec<Candle> = self
            .recent
            .get(&timeframe)
            .map(|r| r.iter().copied().collect())
            .unwrap_or_default();
        let levels = signal_levels(
            direction,
            pattern.zone_low,
            pattern.zone_high,
            &recent,
            &settings,
        );
        let signal = TrackedSignal {
            key: SignalKey {
                direction,
                created_at: at,
            },
            pattern: pattern.key,
            zone_low: pattern.zone_low,
            zone_high: pattern.zone_high,
            aligned,
            levels,
            valid_until: at + expiry_hours(timeframe) * 3_600_000,
            entered: false,
            best_target: 0,
        };
        self.last_signal.insert(direction, at);
        self.signals.push(signal.clone());
        Some(TrackerEvent::SignalGenerated(signal))
    }
}

/// The batch reference: every event of a whole 1m series fed in one piece
/// from an empty book, with the timeframes' complete candles and the
/// detectors run over each complete series. The live pipeline, fed the same
/// closed candles in any number of steps, must produce the same events.
pub fn simulate(
    series_1m: &[Candle],
    settings: SignalSettings,
) -> Result<Vec<TrackerEvent>, SeriesError> {
    let mut closed = Vec::new();
    let mut all_offers = Vec::new();
    for timeframe in Timeframe::AGGREGATED {
        let series = closed_series(series_1m, timeframe)?;
        all_offers.extend(offers(timeframe, &series, 0));
        closed.extend(series.into_iter().map(|c| (timeframe, c)));
    }
    let mut tracker = Tracker::new(settings);
    Ok(tracker.advance(Chunk {
        candles_1m: series_1m,
        closed,
        offers: all_offers,
    }))
}
