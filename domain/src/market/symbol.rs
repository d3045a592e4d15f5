//! Trading pair names (PRODUCT §3): `BASE/QUOTE`, each part 2 to 10 ASCII
//! letters or digits, stored upper-case.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The symbols that can never be delisted (PRODUCT §3).
pub const MANDATORY_SYMBOLS: [&str; 5] =
    ["BTC/USDT", "ETH/USDT", "BNB/USDT", "SOL/USDT", "XRP/USDT"];

/// A trading pair such as `BTC/USDT`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Symbol(String);

/// Why a text is not a symbol.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "`{0}` is not a symbol: expected BASE/QUOTE with 2 to 10 letters or digits each, e.g. BTC/USDT"
)]
pub struct InvalidSymbol(pub String);

impl Symbol {
    /// Parses `base/quote` (any case). `_` and `-` are accepted as the
    /// separator too, so file names like `ETH_BTC` parse.
    pub fn parse(text: &str) -> Result<Self, InvalidSymbol> {
        let trimmed = text.trim();
        let mut parts = trimmed.split(['/', '_', '-']);
        let (Some(base), Some(quote), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(InvalidSymbol(text.to_owned()));
        };
        let valid = |part: &str| {
            (2..=10).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphanumeric())
        };
        if !valid(base) || !valid(quote) {
            return Err(InvalidSymbol(text.to_owned()));
        }
        Ok(Self(format!(
            "{}/{}",
            base.to_ascii_uppercase(),
            quote.to_ascii_uppercase()
        )))
    }

    /// `BTC/USDT`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The base asset, `BTC` of `BTC/USDT`.
    pub fn base(&self) -> &str {
        self.0.split_once('/').map_or("", |(base, _)| base)
    }

    /// The quote asset, `USDT` of `BTC/USDT`.
    pub fn quote(&self) -> &str {
        self.0.split_once('/').map_or("", |(_, quote)| quote)
    }

    /// The exchange spelling without separator, `BTCUSDT`.
    pub fn compact(&self) -> String {
        format!("{}{}", self.base(), self.quote())
    }

    /// Whether the symbol is one of [`MANDATORY_SYMBOLS`].
    pub fn is_mandatory(&self) -> bool {
        MANDATORY_SYMBOLS.contains(&self.0.as_str())
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Symbol {
    type Err = InvalidSymbol;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Symbol {
    type Error = InvalidSymbol;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Symbol> for String {
    fn from(value: Symbol) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_normalised_to_upper_case_with_a_slash() {
        let s = Symbol::parse(" eth_btc ").unwrap();
        assert_eq!(s.as_str(), "ETH/BTC");
        assert_eq!(s.compact(), "ETHBTC");
        assert_eq!((s.base(), s.quote()), ("ETH", "BTC"));
        assert_eq!(
            Symbol::parse("UNITTEST/BTC").map(|s| s.0),
            Ok("UNITTEST/BTC".to_owned())
        );
    }

    #[test]
    fn malformed_symbols_are_rejected() {
        for bad in [
            "BTCUSDT",
            "B/USDT",
            "BTC/",
            "BTC/USDT/X",
            "BT C/USDT",
            "ABCDEFGHIJK/USDT",
            "€€/USD",
        ] {
            assert!(Symbol::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_five_majors_are_mandatory() {
        for s in MANDATORY_SYMBOLS {
            assert!(Symbol::parse(s).is_ok_and(|s| s.is_mandatory()));
        }
        assert!(Symbol::parse("ADA/USDT").is_ok_and(|s| !s.is_mandatory()));
    }
}
