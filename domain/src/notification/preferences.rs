//! A user's notification preferences, parsed and validated: every value
//! that exists is valid (field errors name what was wrong).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::push::Priority;
use crate::account::FieldError;

/// A private NTFY topic: `cl_` and 128 random bits as 32 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Topic(String);

impl Topic {
    pub const PREFIX: &'static str = "cl_";

    /// From 16 random bytes.
    pub fn from_random(bytes: [u8; 16]) -> Self {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Self(format!("{}{hex}", Self::PREFIX))
    }

    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix(Self::PREFIX)?;
        (hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Topic {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text).ok_or_else(|| format!("{text:?} is not a CryptoLens topic"))
    }
}

impl From<Topic> for String {
    fn from(topic: Topic) -> Self {
        topic.0
    }
}

/// Which signal directions a user wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Directions {
    Long,
    Short,
    Both,
}

impl Directions {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "long" => Some(Self::Long),
            "short" => Some(Self::Short),
            "both" => Some(Self::Both),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Long => "long",
            Self::Short => "short",
            Self::Both => "both",
        }
    }

    pub fn allows_long(self, long: bool) -> bool {
        match self {
            Self::Both => true,
            Self::Long => long,
            Self::Short => !long,
        }
    }
}

/// Silent hours, `[start, end)` in whole local hours; `start > end` wraps
/// past midnight (22 -> 7 is silent from 22:00 to 06:59).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QuietHours {
    pub start_hour: u8,
    pub end_hour: u8,
}

impl QuietHours {
    pub fn contains(self, hour: u8) -> bool {
        if self.start_hour < self.end_hour {
            (self.start_hour..self.end_hour).contains(&hour)
        } else {
            hour >= self.start_hour || hour < self.end_hour
        }
    }
}

/// An IANA time zone name known to the bundled tz database.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn utc() -> Self {
        Self("UTC".into())
    }

    pub fn parse(text: &str) -> Option<Self> {
        jiff::tz::TimeZone::get(text)
            .ok()
            .map(|_| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text).ok_or_else(|| format!("{text:?} is not an IANA time zone"))
    }
}

impl From<TimeZoneName> for String {
    fn from(zone: TimeZoneName) -> Self {
        zone.0
    }
}

/// A trading pair as users mute it (`BTC/USDT`): 2-10 letters or digits on
/// each side of the slash, upper-cased.
pub fn parse_symbol(text: &str) -> Option<String> {
    let upper = text.trim().to_ascii_uppercase();
    let (base, quote) = upper.split_once('/')?;
    let part_ok =
        |p: &str| (2..=10).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric());
    (part_ok(base) && part_ok(quote)).then_some(upper)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    pub enabled: bool,
    /// Fewest aligned timeframes (of 7) a signal needs to be pushed.
    pub min_confluence: u8,
    pub directions: Directions,
    pub priority: Priority,
    pub quiet_hours: Option<QuietHours>,
    pub time_zone: TimeZoneName,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            enabled: true,
            min_confluence: 3,
            directions: Directions::Both,
            priority: Priority::DEFAULT,
            quiet_hours: None,
            time_zone: TimeZoneName::utc(),
        }
    }
}

/// Preferences as submitted, before validation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PreferencesInput {
    pub enabled: bool,
    pub min_confluence: i64,
    pub directions: String,
    pub priority: i64,
    pub quiet_hours: Option<(i64, i64)>,
    pub time_zone: String,
}

impl Preferences {
    /// Validates every field, reporting all the bad ones.
    pub fn parse(input: &PreferencesInput) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut bad = |field, message: &str| {
            errors.push(FieldError {
                field,
                message: message.to_owned(),
            });
        };
        let min_confluence = u8::try_from(input.min_confluence)
            .ok()
            .filter(|n| (1..=7).contains(n));
        if min_confluence.is_none() {
            bad("min_confluence", "must be 1 to 7 (of 7 timeframes)");
        }
        let directions = Directions::parse(&input.directions);
        if directions.is_none() {
            bad("directions", "must be long, short or both");
        }
        let priority = u8::try_from(input.priority).ok().and_then(Priority::new);
        if priority.is_none() {
            bad("priority", "must be 1 to 5");
        }
        let quiet_hours = match input.quiet_hours {
            None => Some(None),
            Some((start, end)) => {
                let hour = |h: i64| u8::try_from(h).ok().filter(|h| *h < 24);
                match (hour(start), hour(end)) {
                    (Some(s), Some(e)) if s != e => Some(Some(QuietHours {
                        start_hour: s,
                        end_hour: e,
                    })),
                    (Some(_), Some(_)) => {
                        bad("quiet_hours", "start and end must differ");
                        None
                    }
                    _ => {
                        bad("quiet_hours", "hours must be 0 to 23");
                        None
                    }
                }
            }
        };
        let time_zone = TimeZoneName::parse(&input.time_zone);
        if time_zone.is_none() {
            bad(
                "time_zone",
                "must be an IANA time zone such as Europe/Berlin",
            );
        }
        match (min_confluence, directions, priority, quiet_hours, time_zone) {
            (
                Some(min_confluence),
                Some(directions),
                Some(priority),
                Some(quiet_hours),
                Some(time_zone),
            ) if errors.is_empty() => Ok(Self {
                enabled: input.enabled,
                min_confluence,
                directions,
                priority,
                quiet_hours,
                time_zone,
            }),
            _ => Err(errors),
        }
    }

    /// When quiet hours hold a push due at `at`, the instant they end.
    pub fn quiet_until(&self, at: OffsetDateTime) -> Option<OffsetDateTime> {
        quiet_until(self.quiet_hours?, &self.time_zone, at)
    }
}

/// When `quiet` hours (local to `zone`) hold a push due at `at`, the
/// instant they end; `None` when `at` is outside them.
pub fn quiet_until(
    quiet: QuietHours,
    zone: &TimeZoneName,
    at: OffsetDateTime,
) -> Option<OffsetDateTime> {
    {
        let zone = jiff::tz::TimeZone::get(zone.as_str()).ok()?;
        let instant = jiff::Timestamp::from_second(at.unix_timestamp()).ok()?;
        let local = instant.to_zoned_datetime(zone.clone());
        let hour = u8::try_from(local.hour()).ok()?;
        if !quiet.contains(hour) {
            return None;
        }
        let end_today = local
            .date()
            .at(i8::try_from(quiet.end_hour).ok()?, 0, 0, 0)
            .to_zoned_datetime(zone)
            .ok()?;
        let end = if end_today.timestamp() > instant {
            end_today
        } else {
            end_today.tomorrow().ok()?
        };
        OffsetDateTime::from_unix_timestamp(end.timestamp().as_second()).ok()
    }
}

/// Muted symbols, normalised.
pub type Mutes = BTreeSet<String>;
