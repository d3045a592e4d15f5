//! What an API key may do (PRODUCT §2).

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ApiScope {
    #[serde(rename = "read:market")]
    ReadMarket,
    #[serde(rename = "read:patterns")]
    ReadPatterns,
    #[serde(rename = "read:signals")]
    ReadSignals,
    #[serde(rename = "read:portfolio")]
    ReadPortfolio,
    #[serde(rename = "write:portfolio")]
    WritePortfolio,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown scope {0:?}; known: read:market, read:patterns, read:signals, read:portfolio, write:portfolio"
)]
pub struct ScopeError(pub String);

impl ApiScope {
    pub const ALL: [Self; 5] = [
        Self::ReadMarket,
        Self::ReadPatterns,
        Self::ReadSignals,
        Self::ReadPortfolio,
        Self::WritePortfolio,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadMarket => "read:market",
            Self::ReadPatterns => "read:patterns",
            Self::ReadSignals => "read:signals",
            Self::ReadPortfolio => "read:portfolio",
            Self::WritePortfolio => "write:portfolio",
        }
    }

    pub fn parse(text: &str) -> Result<Self, ScopeError> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == text)
            .ok_or_else(|| ScopeError(text.to_owned()))
    }
}

impl fmt::Display for ApiScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
