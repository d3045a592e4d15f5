//! What one push says: the NTFY title, body, priority, tags and click URL.

use serde::{Deserialize, Serialize};

/// NTFY priority, 1 (min) to 5 (max/urgent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Priority(u8);

impl Priority {
    pub const DEFAULT: Self = Self(4);

    pub fn new(value: u8) -> Option<Self> {
        (1..=5).contains(&value).then_some(Self(value))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Priority {
    type Error = String;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Self::new(value).ok_or_else(|| format!("priority must be 1 to 5, not {value}"))
    }
}

impl From<Priority> for u8 {
    fn from(priority: Priority) -> Self {
        priority.0
    }
}

/// Why a push is sent; decides caps and statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushKind {
    /// A trade signal; counts towards the user's daily cap.
    Signal,
    /// An admin broadcast.
    Broadcast,
    /// A test push the user sent themselves.
    Test,
}

impl PushKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signal => "signal",
            Self::Broadcast => "broadcast",
            Self::Test => "test",
        }
    }
}

/// The content of one NTFY message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    pub title: String,
    pub body: String,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub click: Option<String>,
}
