//! What a signal push says (PRODUCT §5): title with direction, symbol,
//! pattern and timeframe; body with entry, stop, targets, risk/reward and
//! confluence `N/7` with the aligned timeframes; tags (the coloured circle
//! is NTFY's `green_circle` / `red_circle` emoji tag); the user's priority;
//! a click URL to the signal page.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::macros::format_description;

use super::push::{Priority, Push};
use crate::billing::{DEFAULT_PRO_SYMBOLS, Tier};
use crate::market::{Direction, PatternType, Timeframe};
use crate::signal::SignalEvent;

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
    /// The alert of a recorded `SignalGenerated` (the signal aggregate's own
    /// event type, so the two cannot drift); `None` for the other events.
    pub fn from_event(signal_id: &str, event: &SignalEvent) -> Option<Self> {
        let SignalEvent::SignalGenerated {
            facts,
            pattern,
            timeframes_aligned,
            confluence,
            levels,
            ..
        } = event
        else {
            return None;
        };
        Some(Self {
            signal_id: signal_id.to_owned(),
            symbol: facts.symbol.as_str().to_owned(),
            direction: facts.direction,
            pattern: pattern.pattern_type,
            timeframe: pattern.timeframe,
            entry: levels.entry,
            stop_loss: levels.stop_loss,
            take_profits: [
                levels.take_profit_1,
                levels.take_profit_2,
                levels.take_profit_3,
            ],
            risk_reward: levels.risk_reward,
            confluence: *confluence,
            aligned: timeframes_aligned.clone(),
            created_at_ms: facts.created_at,
        })
    }

    /// Whether a user on `tier` is pushed this signal at all: the tier's
    /// notifications, symbols and pattern types ([`Tier::policy`], PRODUCT
    /// §1; the pro list is the default one until admins can change it).
    pub fn reaches(&self, tier: Tier) -> bool {
        let policy = tier.policy();
        policy.notifications_per_day.is_allowed()
            && policy.allows_symbol(&self.symbol, &DEFAULT_PRO_SYMBOLS)
            && policy.allows_pattern(self.pattern)
    }

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
