//! A trade's plan, its edits, and the maths of sizing and P&L.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::values::{Side, TradeSource, check_money, check_text, field};
use super::{NOTES_MAX_CHARS, QUANTITY_DECIMALS};
use crate::account::FieldError;
use crate::market::{PatternType, Symbol, Timeframe};

/// Everything a trade is created with. `quantity` is the planned (or, for
/// an open trade, filled) size; `fees` are the entry fees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradePlan {
    pub symbol: Symbol,
    pub side: Side,
    pub timeframe: Option<Timeframe>,
    pub pattern_type: Option<PatternType>,
    pub entry: Decimal,
    pub quantity: Decimal,
    pub stop: Option<Decimal>,
    pub target: Option<Decimal>,
    pub fees: Decimal,
    pub risk_percent: Option<Decimal>,
    pub setup_notes: String,
    pub source: TradeSource,
}

impl TradePlan {
    /// Every refused field at once.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check_money(&mut errors, "entry_price", self.entry, false);
        check_money(&mut errors, "quantity", self.quantity, false);
        check_money(&mut errors, "fees", self.fees, true);
        if let Some(stop) = self.stop {
            let before = errors.len();
            check_money(&mut errors, "stop_loss", stop, false);
            if errors.len() == before && self.entry > Decimal::ZERO {
                match self.side {
                    Side::Long if stop >= self.entry => {
                        errors.push(field("stop_loss", "a long's stop must be below the entry"));
                    }
                    Side::Short if stop <= self.entry => {
                        errors.push(field("stop_loss", "a short's stop must be above the entry"));
                    }
                    _ => {}
                }
            }
        }
        if let Some(target) = self.target {
            let before = errors.len();
            check_money(&mut errors, "take_profit", target, false);
            if errors.len() == before && self.entry > Decimal::ZERO {
                match self.side {
                    Side::Long if target <= self.entry => {
                        errors.push(field(
                            "take_profit",
                            "a long's target must be above the entry",
                        ));
                    }
                    Side::Short if target >= self.entry => {
                        errors.push(field(
                            "take_profit",
                            "a short's target must be below the entry",
                        ));
                    }
                    _ => {}
                }
            }
        }
        if let Some(risk) = self.risk_percent {
            check_risk(&mut errors, risk);
        }
        check_text(
            &mut errors,
            "setup_notes",
            &self.setup_notes,
            NOTES_MAX_CHARS,
            true,
        );
        errors
    }

    /// The amount at risk: |entry − stop| × quantity (no stop: unknown).
    pub fn risk_amount(&self) -> Option<Decimal> {
        let stop = self.stop?;
        (self.entry - stop).abs().checked_mul(self.quantity)
    }
}

/// A risk percentage: above 0, at most 100.
pub(crate) fn check_risk(errors: &mut Vec<FieldError>, risk: Decimal) {
    if risk <= Decimal::ZERO || risk > Decimal::ONE_HUNDRED {
        errors.push(field(
            "risk_percent",
            "must be above 0 and at most 100 percent",
        ));
    }
}

/// The fields an edit changes (`None`: unchanged). Exit fields apply to
/// closed trades only; editing a closed trade recomputes its outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TradeEdit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeframe: Option<Timeframe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern_type: Option<PatternType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fees: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_percent: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_fees: Option<Decimal>,
}

impl TradeEdit {
    pub fn touches_exit(&self) -> bool {
        self.exit_price.is_some() || self.exit_fees.is_some()
    }

    /// `plan` with this edit applied.
    pub fn apply_to(&self, plan: &TradePlan) -> TradePlan {
        let mut plan = plan.clone();
        if let Some(v) = self.timeframe {
            plan.timeframe = Some(v);
        }
        if let Some(v) = self.pattern_type {
            plan.pattern_type = Some(v);
        }
        if let Some(v) = self.entry {
            plan.entry = v;
        }
        if let Some(v) = self.quantity {
            plan.quantity = v;
        }
        if let Some(v) = self.stop {
            plan.stop = Some(v);
        }
        if let Some(v) = self.target {
            plan.target = Some(v);
        }
        if let Some(v) = self.fees {
            plan.fees = v;
        }
        if let Some(v) = self.risk_percent {
            plan.risk_percent = Some(v);
        }
        if let Some(v) = &self.setup_notes {
            plan.setup_notes.clone_from(v);
        }
        plan
    }

    /// Only the fields that differ from `plan` (and the exit fields that
    /// differ from the current exit), so the event names real changes.
    pub fn changes_from(&self, plan: &TradePlan, exit: Option<(Decimal, Decimal)>) -> TradeEdit {
        fn differs<T: PartialEq + Clone>(new: &Option<T>, old: Option<&T>) -> Option<T> {
            new.as_ref().filter(|n| Some(*n) != old).cloned()
        }
        TradeEdit {
            timeframe: differs(&self.timeframe, plan.timeframe.as_ref()),
            pattern_type: differs(&self.pattern_type, plan.pattern_type.as_ref()),
            entry: differs(&self.entry, Some(&plan.entry)),
            quantity: differs(&self.quantity, Some(&plan.quantity)),
            stop: differs(&self.stop, plan.stop.as_ref()),
            target: differs(&self.target, plan.target.as_ref()),
            fees: differs(&self.fees, Some(&plan.fees)),
            risk_percent: differs(&self.risk_percent, plan.risk_percent.as_ref()),
            setup_notes: differs(&self.setup_notes, Some(&plan.setup_notes)),
            exit_price: differs(&self.exit_price, exit.as_ref().map(|(p, _)| p)),
            exit_fees: differs(&self.exit_fees, exit.as_ref().map(|(_, f)| f)),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// What a closed trade made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeOutcome {
    /// In the portfolio's currency, after entry and exit fees.
    pub pnl: Decimal,
    /// P&L over the position's cost (entry × quantity), in percent.
    pub pnl_percent: Decimal,
    /// P&L over the initial risk (|entry − stop| × quantity); no stop, none.
    pub r_multiple: Option<Decimal>,
}

/// P&L of `plan` closed at `exit` with `exit_fees` (long: (exit − entry) ×
/// quantity, short: (entry − exit) × quantity, minus entry and exit fees).
/// `None` when a number overflows.
pub fn outcome(plan: &TradePlan, exit: Decimal, exit_fees: Decimal) -> Option<TradeOutcome> {
    let move_per_unit = match plan.side {
        Side::Long => exit.checked_sub(plan.entry)?,
        Side::Short => plan.entry.checked_sub(exit)?,
    };
    let pnl = move_per_unit
        .checked_mul(plan.quantity)?
        .checked_sub(plan.fees)?
        .checked_sub(exit_fees)?;
    let cost = plan.entry.checked_mul(plan.quantity)?;
    let pnl_percent = pnl
        .checked_mul(Decimal::ONE_HUNDRED)?
        .checked_div(cost)?
        .round_dp(8);
    let r_multiple = match plan.risk_amount() {
        Some(risk) if !risk.is_zero() => Some(pnl.checked_div(risk)?.round_dp(8)),
        _ => None,
    };
    Some(TradeOutcome {
        pnl: pnl.normalize(),
        pnl_percent: pnl_percent.normalize(),
        r_multiple: r_multiple.map(|r| r.normalize()),
    })
}

/// The position size that risks `risk_percent` of `balance` between
/// `entry` and `stop`: (balance × risk %) / |entry − stop|, rounded down to
/// [`QUANTITY_DECIMALS`] places. `None` when the stop equals the entry or a
/// number overflows.
pub fn position_size(
    balance: Decimal,
    risk_percent: Decimal,
    entry: Decimal,
    stop: Decimal,
) -> Option<Decimal> {
    let distance = (entry.checked_sub(stop)?).abs();
    if distance.is_zero() {
        return None;
    }
    let risked = balance
        .checked_mul(risk_percent)?
        .checked_div(Decimal::ONE_HUNDRED)?;
    Some(
        risked
            .checked_div(distance)?
            .round_dp_with_strategy(QUANTITY_DECIMALS, RoundingStrategy::ToZero)
            .normalize(),
    )
}
