//! Trade statistics over a set of trade rows (one portfolio, or all of a
//! user's), after a filter by symbol, pattern type, timeframe and tag.
//!
//! Definitions (closed trades only, unless said otherwise):
//! * win: P&L > 0; loss: P&L < 0; break-even trades count in the total.
//! * win rate = wins / closed × 100.
//! * profit factor = gross profit / |gross loss|; none without losses
//!   (the original's "0 without losses" hid a perfect record).
//! * expectancy = total P&L / closed (currency per trade).
//! * average win / loss, largest win / loss, average R over trades with a
//!   stop.
//! * equity curve: the starting equity (initial balances) plus cumulative
//!   P&L, one point per close in close order (ties by trade id). Deposits
//!   and withdrawals are funding, not performance, and are left out.
//! * max drawdown: the largest fall from a running peak of that curve
//!   (the start counts as a peak), in currency and in percent of the peak.
//! * counts by status cover every trade, discarded ones included; nothing
//!   else counts discarded trades.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::rows::TradeRow;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnalyticsFilter {
    pub symbol: Option<String>,
    pub pattern_type: Option<String>,
    pub timeframe: Option<String>,
    pub tag: Option<Uuid>,
}

impl AnalyticsFilter {
    /// Whether `trade` (with the tags in `links`) passes.
    pub fn admits(&self, trade: &TradeRow, links: &BTreeSet<(Uuid, Uuid)>) -> bool {
        self.symbol.as_ref().is_none_or(|s| *s == trade.symbol)
            && self
                .pattern_type
                .as_ref()
                .is_none_or(|p| trade.pattern_type.as_ref() == Some(p))
            && self
                .timeframe
                .as_ref()
                .is_none_or(|t| trade.timeframe.as_ref() == Some(t))
            && self
                .tag
                .is_none_or(|tag| links.contains(&(trade.trade_id, tag)))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    pub pending: u64,
    pub open: u64,
    pub closed: u64,
    pub cancelled: u64,
    pub discarded: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EquityPoint {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub trade_id: Uuid,
    pub pnl: Decimal,
    pub equity: Decimal,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Analytics {
    pub counts: StatusCounts,
    pub wins: u64,
    pub losses: u64,
    pub breakeven: u64,
    pub total_pnl: Decimal,
    pub gross_profit: Decimal,
    pub gross_loss: Decimal,
    /// Percent, 2 decimals.
    pub win_rate: Option<Decimal>,
    pub profit_factor: Option<Decimal>,
    pub expectancy: Option<Decimal>,
    pub average_win: Option<Decimal>,
    pub average_loss: Option<Decimal>,
    pub largest_win: Option<Decimal>,
    pub largest_loss: Option<Decimal>,
    pub average_r: Option<Decimal>,
    pub starting_equity: Decimal,
    pub max_drawdown: Decimal,
    pub max_drawdown_percent: Option<Decimal>,
    pub equity_curve: Vec<EquityPoint>,
}

fn ratio(numerator: Decimal, denominator: Decimal, places: u32) -> Option<Decimal> {
    numerator
        .checked_div(denominator)
        .map(|r| r.round_dp(places).normalize())
}

fn count(n: usize) -> Decimal {
    Decimal::from(u64::try_from(n).unwrap_or(u64::MAX))
}

/// The statistics of `trades` (already filtered), starting from
/// `starting_equity`.
pub fn analytics<'a>(
    trades: impl IntoIterator<Item = &'a TradeRow>,
    starting_equity: Decimal,
) -> Analytics {
    let mut result = Analytics {
        starting_equity,
        ..Analytics::default()
    };
    let mut closed: BTreeMap<(OffsetDateTime, Uuid), Decimal> = BTreeMap::new();
    let mut r_values = Vec::new();
    for trade in trades {
        let counter = match trade.status.as_str() {
            "pending" => &mut result.counts.pending,
            "open" => &mut result.counts.open,
            "closed" => &mut result.counts.closed,
            "cancelled" => &mut result.counts.cancelled,
            _ => &mut result.counts.discarded,
        };
        *counter += 1;
        if trade.status != "closed" {
            continue;
        }
        let (Some(pnl), Some(at)) = (trade.pnl, trade.closed_at) else {
            continue;
        };
        closed.insert((at, trade.trade_id), pnl);
        if let Some(r) = trade.r_multiple {
            r_values.push(r);
        }
    }
    let pnls: Vec<Decimal> = closed.values().copied().collect();
    let wins: Vec<Decimal> = pnls
        .iter()
        .copied()
        .filter(|p| p.is_sign_positive() && !p.is_zero())
        .collect();
    let losses: Vec<Decimal> = pnls
        .iter()
        .copied()
        .filter(|p| p.is_sign_negative() && !p.is_zero())
        .collect();
    result.wins = wins.len() as u64;
    result.losses = losses.len() as u64;
    result.breakeven = (pnls.len() - wins.len() - losses.len()) as u64;
    result.gross_profit = wins.iter().sum();
    result.gross_loss = losses.iter().sum::<Decimal>().abs();
    result.total_pnl = pnls.iter().sum();
    if !pnls.is_empty() {
        result.win_rate = ratio(
            count(wins.len()) * Decimal::ONE_HUNDRED,
            count(pnls.len()),
            2,
        );
        result.expectancy = ratio(result.total_pnl, count(pnls.len()), 8);
    }
    if !losses.is_empty() {
        result.profit_factor = ratio(result.gross_profit, result.gross_loss, 4);
        result.average_loss = ratio(-result.gross_loss, count(losses.len()), 8);
        result.largest_loss = losses.iter().copied().min();
    }
    if !wins.is_empty() {
        result.average_win = ratio(result.gross_profit, count(wins.len()), 8);
        result.largest_win = wins.iter().copied().max();
    }
    if !r_values.is_empty() {
        result.average_r = ratio(r_values.iter().sum(), count(r_values.len()), 4);
    }
    let mut equity = starting_equity;
    let mut peak = starting_equity;
    let mut worst_percent: Option<Decimal> = None;
    for ((at, trade_id), pnl) in closed {
        equity += pnl;
        peak = peak.max(equity);
        let drawdown = peak - equity;
        result.max_drawdown = result.max_drawdown.max(drawdown);
        if peak > Decimal::ZERO
            && let Some(percent) = ratio(drawdown * Decimal::ONE_HUNDRED, peak, 4)
        {
            worst_percent = Some(worst_percent.map_or(percent, |w| w.max(percent)));
        }
        result.equity_curve.push(EquityPoint {
            at,
            trade_id,
            pnl,
            equity,
        });
    }
    result.max_drawdown_percent = worst_percent;
    result
}
