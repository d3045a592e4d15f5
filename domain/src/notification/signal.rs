//! What a signal push says (PRODUCT §5): title with direction, symbol,
//! pattern and timeframe; body with entry, stop, targets, risk/reward and
//! confluence `N/7` with the aligned timeframes; tags (the coloured circle
//! is NTFY's `green_circle` / `red_circle` emoji tag); the user's priority;
//! a click URL to the signal page.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::macros::format_description;

use super::push::{Priority, Push};
use crate::market::{Direction, PatternType, Timeframe};

/// Every timeframe CryptoLens tracks: confluence is out of this many.
pub const TIMEFRAMES: usize = 7;

/// The facts of one generated signal that a push needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalAlert {
    /// The signal's aggregate id (its page is `/signals/{id}`).
    pub signal_id: String,
    pub symbol: String,
    pub direction: Direction,
    pub pattern: PatternType,
    pub timeframe: Timeframe,
    pub entry: f64,
    pub stop_loss: f64,
    pub take_profits: [f64; 3],
    pub risk_reward: f64,
    pub confluence: usize,
    /// Aligned timeframes, shortest first.
    pub aligned: Vec<Timeframe>,
    /// When it was generated (the 1m close, epoch ms).
    pub created_at_ms: i64,
}

pub fn pattern_abbreviation(pattern: PatternType) -> &'static str {
    match pattern {
        PatternType::Imbalance => "FVG",
        PatternType::OrderBlock => "OB",
        PatternType::LiquiditySweep => "LS",
    }
}

fn signed_percent(from: f64, to: f64) -> String {
    if from == 0.0 {
        return "n/a".to_owned();
    }
    format!("{:+.2}%", (to - from) / from * 100.0)
}

impl SignalAlert {
    pub fn is_long(&self) -> bool {
        self.direction == Direction::Bullish
    }

    /// The push for one recipient.
    pub fn push(&self, priority: Priority, public_url: &str) -> Push {
        let (side, circle) = if self.is_long() {
            ("LONG", "green_circle")
        } else {
            ("SHORT", "red_circle")
        };
        let abbreviation = pattern_abbreviation(self.pattern);
        let base = self.symbol.split('/').next().unwrap_or(&self.symbol);
        let when = OffsetDateTime::from_unix_timestamp(self.created_at_ms.div_euclid(1000))
            .ok()
            .and_then(|t| {
                t.format(format_description!(
                    "[day]/[month]/[year] [hour]:[minute] UTC"
                ))
                .ok()
            })
            .unwrap_or_default();
        let aligned: Vec<&str> = self.aligned.iter().map(|t| t.as_str()).collect();
        let mut lines = vec![
            when,
            format!("Entry: ${:.4}", self.entry),
            format!(
                "Stop Loss: ${:.4} ({})",
                self.stop_loss,
                signed_percent(self.entry, self.stop_loss)
            ),
        ];
        for (n, target) in self.take_profits.iter().enumerate() {
            lines.push(format!(
                "TP{}: ${target:.4} ({})",
                n + 1,
                signed_percent(self.entry, *target)
            ));
        }
        lines.push(format!("R:R: {:.1}", self.risk_reward));
        lines.push(format!(
            "Confluence: {}/{TIMEFRAMES} [{}]",
            self.confluence,
            aligned.join(", ")
        ));
        Push {
            title: format!(
                "{side}: {} | {abbreviation} [{}]",
                self.symbol,
                self.timeframe.as_str()
            ),
            body: lines.join("\n"),
            priority,
            tags: vec![
                circle.to_owned(),
                side.to_ascii_lowercase(),
                base.to_owned(),
                abbreviation.to_owned(),
            ],
            click: Some(format!(
                "{}/signals/{}",
                public_url.trim_end_matches('/'),
                self.signal_id
            )),
        }
    }
}

/// A user's plan as far as notifications care (PRODUCT §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Free,
    Pro,
    Premium,
}

/// The symbols a Pro plan sees by default (admin-configurable later).
pub const PRO_SYMBOLS: &[&str] = &["BTC/USDT", "ETH/USDT", "XRP/USDT", "BNB/USDT", "SOL/USDT"];

impl Tier {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "free" => Some(Self::Free),
            "pro" => Some(Self::Pro),
            "premium" => Some(Self::Premium),
            _ => None,
        }
    }

    /// Signal pushes per UTC day (`None`: unlimited).
    pub fn daily_cap(self) -> Option<u32> {
        match self {
            Self::Free => Some(1),
            Self::Pro => Some(20),
            Self::Premium => None,
        }
    }

    /// Whether the plan delays pushes (free: 10 minutes, configurable).
    pub fn is_delayed(self) -> bool {
        self == Self::Free
    }

    pub fn allows(self, symbol: &str, pattern: PatternType) -> bool {
        match self {
            Self::Free => symbol == "BTC/USDT" && pattern == PatternType::Imbalance,
            Self::Pro => PRO_SYMBOLS.contains(&symbol),
            Self::Premium => true,
        }
    }
}
