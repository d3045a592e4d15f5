//! The portfolio's decisions and state.

use std::collections::{BTreeMap, BTreeSet};

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::trade::{TradeOutcome, TradePlan, check_risk, outcome, position_size};
use super::values::{
    JournalKind, Mood, TradeStatus, check_currency, check_money, check_text, field,
};
use super::{
    DESCRIPTION_MAX_CHARS, JOURNAL_MAX_CHARS, NAME_MAX_CHARS, PortfolioCommand, PortfolioError,
    PortfolioEvent, REASON_MAX_CHARS, Sizing,
};

/// One trade as the aggregate knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeState {
    pub plan: TradePlan,
    pub status: TradeStatus,
    /// Exit price and exit fees, once closed.
    pub exit: Option<(Decimal, Decimal)>,
    pub outcome: Option<TradeOutcome>,
    pub tags: BTreeSet<Uuid>,
    pub placed_at: OffsetDateTime,
    pub opened_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntryState {
    pub trade_id: Uuid,
    pub kind: JournalKind,
    pub content: String,
    pub mood: Option<Mood>,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Portfolio {
    owner: Option<Uuid>,
    name: String,
    currency: String,
    description: String,
    initial_balance: Decimal,
    /// Deposits minus withdrawals.
    net_funding: Decimal,
    archived: bool,
    trades: BTreeMap<Uuid, TradeState>,
    journal: BTreeMap<Uuid, JournalEntryState>,
    /// Journal ids ever used (deleted ones are not reusable).
    journal_ids: BTreeSet<Uuid>,
}

/// The trimmed name and upper-case currency of a new portfolio, or every
/// refused field (the use case asks before it takes a portfolio slot).
pub fn check_new_portfolio(
    name: &str,
    currency: &str,
    initial_balance: Decimal,
    description: &str,
) -> Result<(String, String), PortfolioError> {
    let name = name.trim().to_owned();
    let currency = currency.trim().to_ascii_uppercase();
    let mut errors = Vec::new();
    check_text(&mut errors, "name", &name, NAME_MAX_CHARS, false);
    check_currency(&mut errors, &currency);
    check_money(&mut errors, "initial_balance", initial_balance, false);
    check_text(
        &mut errors,
        "description",
        description,
        DESCRIPTION_MAX_CHARS,
        true,
    );
    if errors.is_empty() {
        Ok((name, currency))
    } else {
        Err(PortfolioError::Invalid(errors))
    }
}

impl Portfolio {
    pub fn owner(&self) -> Option<Uuid> {
        self.owner
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn currency(&self) -> &str {
        &self.currency
    }

    pub fn is_archived(&self) -> bool {
        self.archived
    }

    pub fn initial_balance(&self) -> Decimal {
        self.initial_balance
    }

    /// Initial balance + deposits − withdrawals + P&L of closed trades
    /// (discarded trades count for nothing).
    pub fn balance(&self) -> Decimal {
        self.trades
            .values()
            .filter(|t| t.status == TradeStatus::Closed)
            .filter_map(|t| t.outcome.map(|o| o.pnl))
            .fold(self.initial_balance + self.net_funding, |sum, pnl| {
                sum + pnl
            })
    }

    pub fn trade(&self, trade_id: Uuid) -> Option<&TradeState> {
        self.trades.get(&trade_id)
    }

    pub fn trades(&self) -> &BTreeMap<Uuid, TradeState> {
        &self.trades
    }

    pub fn journal(&self) -> &BTreeMap<Uuid, JournalEntryState> {
        &self.journal
    }

    /// The portfolio, if `by` owns it.
    fn owned_by(&self, by: Uuid) -> Result<(), PortfolioError> {
        if self.owner == Some(by) {
            Ok(())
        } else {
            Err(PortfolioError::NotFound)
        }
    }

    fn live(&self) -> Result<(), PortfolioError> {
        if self.archived {
            Err(PortfolioError::Archived)
        } else {
            Ok(())
        }
    }

    fn trade_of(&self, trade_id: Uuid) -> Result<&TradeState, PortfolioError> {
        self.trades
            .get(&trade_id)
            .ok_or(PortfolioError::TradeNotFound)
    }

    /// Whether a new trade would be accepted (the use case asks before it
    /// takes a daily allowance, so a refused trade costs none).
    pub fn check_new_trade(
        &self,
        by: Uuid,
        trade_id: Uuid,
        plan: &TradePlan,
        sizing: Sizing,
    ) -> Result<TradePlan, PortfolioError> {
        self.owned_by(by)?;
        self.live()?;
        if self.trades.contains_key(&trade_id) {
            return Err(PortfolioError::TradeAlreadyExists);
        }
        let mut plan = plan.clone();
        if sizing == Sizing::FromRisk {
            let mut errors = Vec::new();
            if plan.stop.is_none() {
                errors.push(field("stop_loss", "sizing from risk needs a stop"));
            }
            match plan.risk_percent {
                None => errors.push(field("risk_percent", "sizing from risk needs a risk %")),
                Some(risk) => check_risk(&mut errors, risk),
            }
            if !errors.is_empty() {
                return Err(PortfolioError::Invalid(errors));
            }
            // Validate levels before sizing so a stop on the wrong side is
            // reported as such, not as a size problem.
            plan.quantity = Decimal::ONE;
            let problems = plan.problems();
            if !problems.is_empty() {
                return Err(PortfolioError::Invalid(problems));
            }
            let (Some(stop), Some(risk)) = (plan.stop, plan.risk_percent) else {
                return Err(PortfolioError::field("stop_loss", "sizing needs a stop"));
            };
            plan.quantity = match position_size(self.balance(), risk, plan.entry, stop) {
                Some(quantity) if quantity > Decimal::ZERO => quantity,
                _ => {
                    return Err(PortfolioError::field(
                        "quantity",
                        "the balance and risk give no tradable quantity",
                    ));
                }
            };
        }
        let problems = plan.problems();
        if !problems.is_empty() {
            return Err(PortfolioError::Invalid(problems));
        }
        Ok(plan)
    }

    fn decide(&self, command: PortfolioCommand) -> Result<Vec<PortfolioEvent>, PortfolioError> {
        if !matches!(command, PortfolioCommand::Create { .. }) {
            self.owned_by(command.actor())?;
        }
        let event = match command {
            PortfolioCommand::Create {
                portfolio_id,
                owner,
                name,
                currency,
                initial_balance,
                description,
                now,
            } => {
                if self.owner.is_some() {
                    return Err(PortfolioError::AlreadyExists);
                }
                let (name, currency) =
                    check_new_portfolio(&name, &currency, initial_balance, &description)?;
                PortfolioEvent::PortfolioCreated {
                    portfolio_id,
                    owner,
                    name,
                    currency,
                    initial_balance: initial_balance.normalize(),
                    description,
                    at: now,
                }
            }
            PortfolioCommand::Rename { name, now, .. } => {
                self.live()?;
                let name = name.trim().to_owned();
                let mut errors = Vec::new();
                check_text(&mut errors, "name", &name, NAME_MAX_CHARS, false);
                if !errors.is_empty() {
                    return Err(PortfolioError::Invalid(errors));
                }
                if name == self.name {
                    return Ok(vec![]);
                }
                PortfolioEvent::PortfolioRenamed { name, at: now }
            }
            PortfolioCommand::Describe {
                description, now, ..
            } => {
                self.live()?;
                let mut errors = Vec::new();
                check_text(
                    &mut errors,
                    "description",
                    &description,
                    DESCRIPTION_MAX_CHARS,
                    true,
                );
                if !errors.is_empty() {
                    return Err(PortfolioError::Invalid(errors));
                }
                if description == self.description {
                    return Ok(vec![]);
                }
                PortfolioEvent::PortfolioDescribed {
                    description,
                    at: now,
                }
            }
            PortfolioCommand::Archive { now, .. } => {
                self.live()?;
                if self
                    .trades
                    .values()
                    .any(|t| matches!(t.status, TradeStatus::Pending | TradeStatus::Open))
                {
                    return Err(PortfolioError::TradesStillOpen);
                }
                PortfolioEvent::PortfolioArchived { at: now }
            }
            PortfolioCommand::Restore { now, .. } => {
                if !self.archived {
                    return Err(PortfolioError::NotArchived);
                }
                PortfolioEvent::PortfolioRestored { at: now }
            }
            PortfolioCommand::Deposit {
                amount, note, now, ..
            } => {
                self.live()?;
                let mut errors = Vec::new();
                check_money(&mut errors, "amount", amount, false);
                check_text(&mut errors, "note", &note, REASON_MAX_CHARS, true);
                if !errors.is_empty() {
                    return Err(PortfolioError::Invalid(errors));
                }
                PortfolioEvent::FundsDeposited {
                    amount: amount.normalize(),
                    note,
                    at: now,
                }
            }
            PortfolioCommand::Withdraw {
                amount, note, now, ..
            } => {
                self.live()?;
                let mut errors = Vec::new();
                check_money(&mut errors, "amount", amount, false);
                check_text(&mut errors, "note", &note, REASON_MAX_CHARS, true);
                if errors.is_empty() && amount > self.balance() {
                    errors.push(field("amount", "more than the portfolio's balance"));
                }
                if !errors.is_empty() {
                    return Err(PortfolioError::Invalid(errors));
                }
                PortfolioEvent::FundsWithdrawn {
                    amount: amount.normalize(),
                    note,
                    at: now,
                }
            }
            PortfolioCommand::PlaceTrade {
                by,
                trade_id,
                plan,
                sizing,
                open,
                now,
            } => {
                let plan = self.check_new_trade(by, trade_id, &plan, sizing)?;
                PortfolioEvent::TradePlaced {
                    trade_id,
                    plan,
                    status: if open {
                        TradeStatus::Open
                    } else {
                        TradeStatus::Pending
                    },
                    sized_from_risk: sizing == Sizing::FromRisk,
                    balance_at_placement: self.balance(),
                    at: now,
                }
            }
            PortfolioCommand::OpenTrade {
                trade_id,
                fill_price,
                quantity,
                fees,
                now,
                ..
            } => {
                self.live()?;
                let trade = self.trade_of(trade_id)?;
                if trade.status != TradeStatus::Pending {
                    return Err(PortfolioError::TradeNotPending("opened"));
                }
                let mut filled = trade.plan.clone();
                filled.entry = fill_price;
                filled.quantity = quantity.unwrap_or(filled.quantity);
                filled.fees = fees.unwrap_or(filled.fees);
                let problems = filled.problems();
                if !problems.is_empty() {
                    return Err(PortfolioError::Invalid(problems));
                }
                PortfolioEvent::TradeOpened {
                    trade_id,
                    entry: filled.entry,
                    quantity: filled.quantity,
                    fees: filled.fees,
                    at: now,
                }
            }
            PortfolioCommand::EditTrade {
                trade_id,
                edit,
                now,
                ..
            } => {
                self.live()?;
                let trade = self.trade_of(trade_id)?;
                match trade.status {
                    TradeStatus::Cancelled | TradeStatus::Discarded => {
                        return Err(PortfolioError::TradeFinished(trade.status.as_str()));
                    }
                    TradeStatus::Pending | TradeStatus::Open if edit.touches_exit() => {
                        return Err(PortfolioError::field(
                            "exit_price",
                            "only a closed trade has exit fields",
                        ));
                    }
                    _ => {}
                }
                let changes = edit.changes_from(&trade.plan, trade.exit);
                let plan = changes.apply_to(&trade.plan);
                let mut problems = plan.problems();
                let mut new_outcome = None;
                if let Some((price, fees)) = trade.exit {
                    let price = changes.exit_price.unwrap_or(price);
                    let fees = changes.exit_fees.unwrap_or(fees);
                    check_money(&mut problems, "exit_price", price, false);
                    check_money(&mut problems, "exit_fees", fees, true);
                    if problems.is_empty() {
                        new_outcome = Some(outcome(&plan, price, fees).ok_or_else(|| {
                            PortfolioError::field("quantity", "the numbers are too large")
                        })?);
                    }
                }
                if !problems.is_empty() {
                    return Err(PortfolioError::Invalid(problems));
                }
                if changes.is_empty() {
                    return Ok(vec![]);
                }
                PortfolioEvent::TradeEdited {
                    trade_id,
                    changes,
                    outcome: new_outcome,
                    at: now,
                }
            }
            PortfolioCommand::CloseTrade {
                trade_id,
                price,
                fees,
                reason,
                at_market,
                now,
                ..
            } => {
                self.live()?;
                let trade = self.trade_of(trade_id)?;
                let mut errors = Vec::new();
                if trade.status != TradeStatus::Open {
                    errors.push(field(
                        "status",
                        format!(
                            "only an open trade can be closed; this one is {}",
                            trade.status.as_str()
                        ),
                    ));
                }
                check_money(&mut errors, "exit_price", price, false);
                check_money(&mut errors, "fees", fees, true);
                check_text(&mut errors, "reason", &reason, REASON_MAX_CHARS, true);
                if !errors.is_empty() {
                    return Err(PortfolioError::Invalid(errors));
                }
                let result = outcome(&trade.plan, price, fees).ok_or_else(|| {
                    PortfolioError::field("exit_price", "the numbers are too large")
                })?;
                PortfolioEvent::TradeClosed {
                    trade_id,
                    exit_price: price.normalize(),
                    exit_fees: fees.normalize(),
                    reason,
                    at_market,
                    outcome: result,
                    at: now,
                }
            }
            PortfolioCommand::CancelTrade { trade_id, now, .. } => {
                self.live()?;
                if self.trade_of(trade_id)?.status != TradeStatus::Pending {
                    return Err(PortfolioError::TradeNotPending("cancelled"));
                }
                PortfolioEvent::TradeCancelled { trade_id, at: now }
            }
            PortfolioCommand::DiscardTrade { trade_id, now, .. } => {
                self.live()?;
                let trade = self.trade_of(trade_id)?;
                if trade.status == TradeStatus::Discarded {
                    return Ok(vec![]);
                }
                PortfolioEvent::TradeDiscarded {
                    trade_id,
                    previous_status: trade.status,
                    at: now,
                }
            }
            PortfolioCommand::AttachTag {
                trade_id, tag_id, ..
            } => {
                if self.trade_of(trade_id)?.tags.contains(&tag_id) {
                    return Ok(vec![]);
                }
                PortfolioEvent::TradeTagAttached { trade_id, tag_id }
            }
            PortfolioCommand::DetachTag {
                trade_id, tag_id, ..
            } => {
                if !self.trade_of(trade_id)?.tags.contains(&tag_id) {
                    return Ok(vec![]);
                }
                PortfolioEvent::TradeTagDetached { trade_id, tag_id }
            }
            PortfolioCommand::AddJournalEntry {
                trade_id,
                entry_id,
                kind,
                content,
                mood,
                now,
                ..
            } => {
                self.trade_of(trade_id)?;
                if self.journal_ids.contains(&entry_id) {
                    return Err(PortfolioError::field("entry_id", "already used"));
                }
                let mut errors = Vec::new();
                check_text(&mut errors, "content", &content, JOURNAL_MAX_CHARS, false);
                if !errors.is_empty() {
                    return Err(PortfolioError::Invalid(errors));
                }
                PortfolioEvent::JournalEntryAdded {
                    trade_id,
                    entry_id,
                    kind,
                    content,
                    mood,
                    at: now,
                }
            }
            PortfolioCommand::EditJournalEntry {
                trade_id,
                entry_id,
                kind,
                content,
                mood,
                now,
                ..
            } => {
                let entry = self.entry_of(trade_id, entry_id)?;
                let mut errors = Vec::new();
                check_text(&mut errors, "content", &content, JOURNAL_MAX_CHARS, false);
                if !errors.is_empty() {
                    return Err(PortfolioError::Invalid(errors));
                }
                if entry.kind == kind && entry.content == content && entry.mood == mood {
                    return Ok(vec![]);
                }
                PortfolioEvent::JournalEntryEdited {
                    trade_id,
                    entry_id,
                    kind,
                    content,
                    mood,
                    at: now,
                }
            }
            PortfolioCommand::DeleteJournalEntry {
                trade_id,
                entry_id,
                now,
                ..
            } => {
                self.entry_of(trade_id, entry_id)?;
                PortfolioEvent::JournalEntryDeleted {
                    trade_id,
                    entry_id,
                    at: now,
                }
            }
        };
        Ok(vec![event])
    }

    fn entry_of(
        &self,
        trade_id: Uuid,
        entry_id: Uuid,
    ) -> Result<&JournalEntryState, PortfolioError> {
        self.trade_of(trade_id)?;
        self.journal
            .get(&entry_id)
            .filter(|e| e.trade_id == trade_id)
            .ok_or(PortfolioError::JournalEntryNotFound)
    }
}

impl Aggregate for Portfolio {
    const TYPE: &'static str = "portfolio";
    type Command = PortfolioCommand;
    type Event = PortfolioEvent;
    type Error = PortfolioError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            PortfolioEvent::PortfolioCreated {
                owner,
                name,
                currency,
                initial_balance,
                description,
                ..
            } => {
                self.owner = Some(owner);
                self.name = name;
                self.currency = currency;
                self.initial_balance = initial_balance;
                self.description = description;
            }
            PortfolioEvent::PortfolioRenamed { name, .. } => self.name = name,
            PortfolioEvent::PortfolioDescribed { description, .. } => {
                self.description = description;
            }
            PortfolioEvent::PortfolioArchived { .. } => self.archived = true,
            PortfolioEvent::PortfolioRestored { .. } => self.archived = false,
            PortfolioEvent::FundsDeposited { amount, .. } => self.net_funding += amount,
            PortfolioEvent::FundsWithdrawn { amount, .. } => self.net_funding -= amount,
            PortfolioEvent::TradePlaced {
                trade_id,
                plan,
                status,
                at,
                ..
            } => {
                self.trades.insert(
                    trade_id,
                    TradeState {
                        plan,
                        status,
                        exit: None,
                        outcome: None,
                        tags: BTreeSet::new(),
                        placed_at: at,
                        opened_at: (status == TradeStatus::Open).then_some(at),
                    },
                );
            }
            PortfolioEvent::TradeOpened {
                trade_id,
                entry,
                quantity,
                fees,
                at,
            } => {
                if let Some(trade) = self.trades.get_mut(&trade_id) {
                    trade.plan.entry = entry;
                    trade.plan.quantity = quantity;
                    trade.plan.fees = fees;
                    trade.status = TradeStatus::Open;
                    trade.opened_at = Some(at);
                }
            }
            PortfolioEvent::TradeEdited {
                trade_id,
                changes,
                outcome,
                ..
            } => {
                if let Some(trade) = self.trades.get_mut(&trade_id) {
                    trade.plan = changes.apply_to(&trade.plan);
                    if let Some((price, fees)) = trade.exit {
                        trade.exit = Some((
                            changes.exit_price.unwrap_or(price),
                            changes.exit_fees.unwrap_or(fees),
                        ));
                    }
                    if outcome.is_some() {
                        trade.outcome = outcome;
                    }
                }
            }
            PortfolioEvent::TradeClosed {
                trade_id,
                exit_price,
                exit_fees,
                outcome,
                ..
            } => {
                if let Some(trade) = self.trades.get_mut(&trade_id) {
                    trade.status = TradeStatus::Closed;
                    trade.exit = Some((exit_price, exit_fees));
                    trade.outcome = Some(outcome);
                }
            }
            PortfolioEvent::TradeCancelled { trade_id, .. } => {
                if let Some(trade) = self.trades.get_mut(&trade_id) {
                    trade.status = TradeStatus::Cancelled;
                }
            }
            PortfolioEvent::TradeDiscarded { trade_id, .. } => {
                if let Some(trade) = self.trades.get_mut(&trade_id) {
                    trade.status = TradeStatus::Discarded;
                }
            }
            PortfolioEvent::TradeTagAttached { trade_id, tag_id } => {
                if let Some(trade) = self.trades.get_mut(&trade_id) {
                    trade.tags.insert(tag_id);
                }
            }
            PortfolioEvent::TradeTagDetached { trade_id, tag_id } => {
                if let Some(trade) = self.trades.get_mut(&trade_id) {
                    trade.tags.remove(&tag_id);
                }
            }
            PortfolioEvent::JournalEntryAdded {
                trade_id,
                entry_id,
                kind,
                content,
                mood,
                ..
            }
            | PortfolioEvent::JournalEntryEdited {
                trade_id,
                entry_id,
                kind,
                content,
                mood,
                ..
            } => {
                self.journal_ids.insert(entry_id);
                self.journal.insert(
                    entry_id,
                    JournalEntryState {
                        trade_id,
                        kind,
                        content,
                        mood,
                    },
                );
            }
            PortfolioEvent::JournalEntryDeleted { entry_id, .. } => {
                self.journal.remove(&entry_id);
            }
        }
    }
}
