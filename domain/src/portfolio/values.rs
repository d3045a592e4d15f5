//! Small value types of trades and journals, and the field checks shared
//! by every command.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::MAX_AMOUNT;
use crate::account::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Long,
    Short,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Long => "long",
            Self::Short => "short",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Long, Self::Short]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeStatus {
    Pending,
    Open,
    Closed,
    Cancelled,
    /// Kept in the history, ignored by the balance and the statistics.
    Discarded,
}

impl TradeStatus {
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Open,
        Self::Closed,
        Self::Cancelled,
        Self::Discarded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
            Self::Discarded => "discarded",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Where a trade's levels came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum TradeSource {
    Manual,
    Pattern(Uuid),
    Signal(Uuid),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalKind {
    PreTrade,
    During,
    PostTrade,
    Lesson,
}

impl JournalKind {
    pub const ALL: [Self; 4] = [Self::PreTrade, Self::During, Self::PostTrade, Self::Lesson];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PreTrade => "pre_trade",
            Self::During => "during",
            Self::PostTrade => "post_trade",
            Self::Lesson => "lesson",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mood {
    Confident,
    Neutral,
    Fearful,
    Greedy,
    Fomo,
    Revenge,
}

impl Mood {
    pub const ALL: [Self; 6] = [
        Self::Confident,
        Self::Neutral,
        Self::Fearful,
        Self::Greedy,
        Self::Fomo,
        Self::Revenge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confident => "confident",
            Self::Neutral => "neutral",
            Self::Fearful => "fearful",
            Self::Greedy => "greedy",
            Self::Fomo => "fomo",
            Self::Revenge => "revenge",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

pub(crate) fn field(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

/// A positive amount up to [`MAX_AMOUNT`] (`allow_zero` for fees).
pub fn check_money(
    errors: &mut Vec<FieldError>,
    name: &'static str,
    value: Decimal,
    allow_zero: bool,
) {
    let max = Decimal::from(MAX_AMOUNT);
    if value.is_sign_negative() && !value.is_zero() {
        errors.push(field(name, "must not be negative"));
    } else if value.is_zero() && !allow_zero {
        errors.push(field(name, "must be greater than zero"));
    } else if value > max {
        errors.push(field(name, format!("must be at most {max}")));
    } else if value.scale() > 12 {
        errors.push(field(name, "at most 12 decimal places"));
    }
}

/// Text of at most `max` characters (and at least one unless `allow_empty`).
pub fn check_text(
    errors: &mut Vec<FieldError>,
    name: &'static str,
    value: &str,
    max: usize,
    allow_empty: bool,
) {
    let count = value.chars().count();
    if count > max {
        errors.push(field(name, format!("at most {max} characters")));
    } else if !allow_empty && value.trim().is_empty() {
        errors.push(field(name, "must not be empty"));
    } else if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        errors.push(field(name, "must not contain control characters"));
    }
}

/// A currency code: 2 to 10 upper-case letters or digits (`USDT`, `EUR`).
pub fn check_currency(errors: &mut Vec<FieldError>, value: &str) {
    let ok = (2..=10).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !ok {
        errors.push(field(
            "currency",
            "2 to 10 upper-case letters or digits, e.g. USDT",
        ));
    }
}
