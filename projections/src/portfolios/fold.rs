//! Events to row changes: which rows a batch touches, and what it does to
//! them.

use std::collections::{BTreeMap, BTreeSet};

use domain::portfolio::{PortfolioEvent, TradeSource, TradeStatus};
use domain::tag::TagEvent;
use uuid::Uuid;

use super::rows::{JournalRow, PortfolioRow, TagRow, TradeRow};
use super::{PORTFOLIO_AGGREGATE, TAG_AGGREGATE};
use crate::{ProjectionError, RecordedEvent};

/// The keys of the rows a batch needs loaded before [`fold`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touched {
    /// These portfolios' rows and all their trades.
    pub portfolios: BTreeSet<Uuid>,
    /// These users' tags.
    pub tag_owners: BTreeSet<Uuid>,
    pub journal_entries: BTreeSet<Uuid>,
}

/// Rows by key (links: `(trade_id, tag_id)`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    pub portfolios: BTreeMap<Uuid, PortfolioRow>,
    pub trades: BTreeMap<Uuid, TradeRow>,
    pub tags: BTreeMap<Uuid, TagRow>,
    pub journal: BTreeMap<Uuid, JournalRow>,
    pub links: BTreeSet<(Uuid, Uuid)>,
}

/// What to write back: every row of `upsert`, then the deletions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    pub upsert: Model,
    pub removed_journal: BTreeSet<Uuid>,
    /// Deleted tags; their links go too.
    pub removed_tags: BTreeSet<Uuid>,
    pub links_added: BTreeSet<(Uuid, Uuid)>,
    pub links_removed: BTreeSet<(Uuid, Uuid)>,
}

fn aggregate_uuid(event: &RecordedEvent) -> Result<Uuid, ProjectionError> {
    Uuid::parse_str(&event.aggregate_id).map_err(|_| ProjectionError::BadAggregateId {
        position: event.global_position,
        aggregate_id: event.aggregate_id.clone(),
    })
}

fn relevant(event: &RecordedEvent) -> bool {
    event.aggregate_type == PORTFOLIO_AGGREGATE || event.aggregate_type == TAG_AGGREGATE
}

pub fn touched(events: &[RecordedEvent]) -> Result<Touched, ProjectionError> {
    let mut touched = Touched::default();
    for event in events.iter().filter(|e| relevant(e)) {
        let id = aggregate_uuid(event)?;
        if event.aggregate_type == TAG_AGGREGATE {
            touched.tag_owners.insert(id);
            continue;
        }
        touched.portfolios.insert(id);
        match event.decode::<PortfolioEvent>()? {
            PortfolioEvent::JournalEntryEdited { entry_id, .. }
            | PortfolioEvent::JournalEntryDeleted { entry_id, .. } => {
                touched.journal_entries.insert(entry_id);
            }
            _ => {}
        }
    }
    Ok(touched)
}

fn missing(event: &RecordedEvent, what: &'static str) -> ProjectionError {
    ProjectionError::MissingRow {
        position: event.global_position,
        what,
    }
}

/// Applies `events` (in global order) to the rows `loaded` for them.
pub fn fold(loaded: Model, events: &[RecordedEvent]) -> Result<Changes, ProjectionError> {
    let mut changes = Changes {
        upsert: loaded,
        ..Changes::default()
    };
    for event in events.iter().filter(|e| relevant(e)) {
        let id = aggregate_uuid(event)?;
        if event.aggregate_type == TAG_AGGREGATE {
            apply_tag(&mut changes, id, event.decode()?);
        } else {
            apply_portfolio(&mut changes, id, event, event.decode()?)?;
        }
    }
    Ok(changes)
}

fn apply_tag(changes: &mut Changes, owner_id: Uuid, event: TagEvent) {
    let tags = &mut changes.upsert.tags;
    match event {
        TagEvent::TagCreated {
            tag_id,
            name,
            colour,
        } => {
            tags.insert(
                tag_id,
                TagRow {
                    tag_id,
                    owner_id,
                    name,
                    colour,
                },
            );
        }
        TagEvent::TagRenamed { tag_id, name } => {
            if let Some(tag) = tags.get_mut(&tag_id) {
                tag.name = name;
            }
        }
        TagEvent::TagRecoloured { tag_id, colour } => {
            if let Some(tag) = tags.get_mut(&tag_id) {
                tag.colour = colour;
            }
        }
        TagEvent::TagDeleted { tag_id } => {
            tags.remove(&tag_id);
            changes.removed_tags.insert(tag_id);
            changes.links_added.retain(|(_, tag)| *tag != tag_id);
        }
    }
}

fn apply_portfolio(
    changes: &mut Changes,
    portfolio_id: Uuid,
    recorded: &RecordedEvent,
    event: PortfolioEvent,
) -> Result<(), ProjectionError> {
    let model = &mut changes.upsert;
    if let PortfolioEvent::PortfolioCreated {
        owner,
        name,
        currency,
        initial_balance,
        description,
        at,
        ..
    } = event
    {
        model.portfolios.insert(
            portfolio_id,
            PortfolioRow {
                portfolio_id,
                owner_id: owner,
                name,
                description,
                currency,
                initial_balance,
                net_funding: rust_decimal::Decimal::ZERO,
                archived: false,
                created_at: at,
                updated_at: at,
            },
        );
        return Ok(());
    }
    let owner_id = model
        .portfolios
        .get(&portfolio_id)
        .map(|p| p.owner_id)
        .ok_or_else(|| missing(recorded, "portfolio"))?;
    fn trade<'m>(
        model: &'m mut Model,
        trade_id: Uuid,
        recorded: &RecordedEvent,
    ) -> Result<&'m mut TradeRow, ProjectionError> {
        model
            .trades
            .get_mut(&trade_id)
            .ok_or_else(|| missing(recorded, "trade"))
    }
    if let Some(portfolio) = model.portfolios.get_mut(&portfolio_id) {
        let updated = match &event {
            PortfolioEvent::PortfolioRenamed { name, at } => {
                portfolio.name.clone_from(name);
                Some(*at)
            }
            PortfolioEvent::PortfolioDescribed { description, at } => {
                portfolio.description.clone_from(description);
                Some(*at)
            }
            PortfolioEvent::PortfolioArchived { at } => {
                portfolio.archived = true;
                Some(*at)
            }
            PortfolioEvent::PortfolioRestored { at } => {
                portfolio.archived = false;
                Some(*at)
            }
            PortfolioEvent::FundsDeposited { amount, at, .. } => {
                portfolio.net_funding += *amount;
                Some(*at)
            }
            PortfolioEvent::FundsWithdrawn { amount, at, .. } => {
                portfolio.net_funding -= *amount;
                Some(*at)
            }
            _ => None,
        };
        if let Some(at) = updated {
            portfolio.updated_at = at;
            return Ok(());
        }
    }
    match event {
        PortfolioEvent::PortfolioCreated { .. }
        | PortfolioEvent::PortfolioRenamed { .. }
        | PortfolioEvent::PortfolioDescribed { .. }
        | PortfolioEvent::PortfolioArchived { .. }
        | PortfolioEvent::PortfolioRestored { .. }
        | PortfolioEvent::FundsDeposited { .. }
        | PortfolioEvent::FundsWithdrawn { .. } => {}
        PortfolioEvent::TradePlaced {
            trade_id,
            plan,
            status,
            at,
            ..
        } => {
            let (source_kind, source_id) = match plan.source {
                TradeSource::Manual => ("manual", None),
                TradeSource::Pattern(id) => ("pattern", Some(id)),
                TradeSource::Signal(id) => ("signal", Some(id)),
            };
            model.trades.insert(
                trade_id,
                TradeRow {
                    trade_id,
                    portfolio_id,
                    owner_id,
                    symbol: plan.symbol.as_str().to_owned(),
                    side: plan.side.as_str().to_owned(),
                    timeframe: plan.timeframe.map(|t| t.as_str().to_owned()),
                    pattern_type: plan.pattern_type.map(|p| p.as_str().to_owned()),
                    source_kind: source_kind.to_owned(),
                    source_id,
                    status: status.as_str().to_owned(),
                    entry_price: plan.entry,
                    quantity: plan.quantity,
                    stop_loss: plan.stop,
                    take_profit: plan.target,
                    fees: plan.fees,
                    risk_percent: plan.risk_percent,
                    setup_notes: plan.setup_notes,
                    exit_price: None,
                    exit_fees: None,
                    exit_reason: None,
                    closed_at_market: false,
                    pnl: None,
                    pnl_percent: None,
                    r_multiple: None,
                    placed_at: at,
                    opened_at: (status == TradeStatus::Open).then_some(at),
                    closed_at: None,
                    updated_at: at,
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
            let row = trade(model, trade_id, recorded)?;
            row.entry_price = entry;
            row.quantity = quantity;
            row.fees = fees;
            row.status = TradeStatus::Open.as_str().to_owned();
            row.opened_at = Some(at);
            row.updated_at = at;
        }
        PortfolioEvent::TradeEdited {
            trade_id,
            changes: edit,
            outcome,
            at,
        } => {
            let row = trade(model, trade_id, recorded)?;
            if let Some(v) = edit.timeframe {
                row.timeframe = Some(v.as_str().to_owned());
            }
            if let Some(v) = edit.pattern_type {
                row.pattern_type = Some(v.as_str().to_owned());
            }
            row.entry_price = edit.entry.unwrap_or(row.entry_price);
            row.quantity = edit.quantity.unwrap_or(row.quantity);
            row.stop_loss = edit.stop.or(row.stop_loss);
            row.take_profit = edit.target.or(row.take_profit);
            row.fees = edit.fees.unwrap_or(row.fees);
            row.risk_percent = edit.risk_percent.or(row.risk_percent);
            if let Some(notes) = edit.setup_notes {
                row.setup_notes = notes;
            }
            row.exit_price = edit.exit_price.or(row.exit_price);
            row.exit_fees = edit.exit_fees.or(row.exit_fees);
            if let Some(outcome) = outcome {
                row.pnl = Some(outcome.pnl);
                row.pnl_percent = Some(outcome.pnl_percent);
                row.r_multiple = outcome.r_multiple;
            }
            row.updated_at = at;
        }
        PortfolioEvent::TradeClosed {
            trade_id,
            exit_price,
            exit_fees,
            reason,
            at_market,
            outcome,
            at,
        } => {
            let row = trade(model, trade_id, recorded)?;
            row.status = TradeStatus::Closed.as_str().to_owned();
            row.exit_price = Some(exit_price);
            row.exit_fees = Some(exit_fees);
            row.exit_reason = Some(reason);
            row.closed_at_market = at_market;
            row.pnl = Some(outcome.pnl);
            row.pnl_percent = Some(outcome.pnl_percent);
            row.r_multiple = outcome.r_multiple;
            row.closed_at = Some(at);
            row.updated_at = at;
        }
        PortfolioEvent::TradeCancelled { trade_id, at } => {
            let row = trade(model, trade_id, recorded)?;
            row.status = TradeStatus::Cancelled.as_str().to_owned();
            row.updated_at = at;
        }
        PortfolioEvent::TradeDiscarded { trade_id, at, .. } => {
            let row = trade(model, trade_id, recorded)?;
            row.status = TradeStatus::Discarded.as_str().to_owned();
            row.updated_at = at;
        }
        PortfolioEvent::TradeTagAttached { trade_id, tag_id } => {
            changes.links_removed.remove(&(trade_id, tag_id));
            changes.links_added.insert((trade_id, tag_id));
        }
        PortfolioEvent::TradeTagDetached { trade_id, tag_id } => {
            changes.links_added.remove(&(trade_id, tag_id));
            changes.links_removed.insert((trade_id, tag_id));
        }
        PortfolioEvent::JournalEntryAdded {
            trade_id,
            entry_id,
            kind,
            content,
            mood,
            at,
        } => {
            model.journal.insert(
                entry_id,
                JournalRow {
                    entry_id,
                    trade_id,
                    portfolio_id,
                    owner_id,
                    kind: kind.as_str().to_owned(),
                    content,
                    mood: mood.map(|m| m.as_str().to_owned()),
                    created_at: at,
                    updated_at: at,
                },
            );
        }
        PortfolioEvent::JournalEntryEdited {
            entry_id,
            kind,
            content,
            mood,
            at,
            ..
        } => {
            let row = model
                .journal
                .get_mut(&entry_id)
                .ok_or_else(|| missing(recorded, "journal entry"))?;
            row.kind = kind.as_str().to_owned();
            row.content = content;
            row.mood = mood.map(|m| m.as_str().to_owned());
            row.updated_at = at;
        }
        PortfolioEvent::JournalEntryDeleted { entry_id, .. } => {
            model.journal.remove(&entry_id);
            changes.removed_journal.insert(entry_id);
        }
    }
    Ok(())
}

impl Model {
    /// The rows a batch touching `touched` loads (the in-memory twin of
    /// the adapter's SELECTs).
    pub fn subset(&self, touched: &Touched) -> Model {
        Model {
            portfolios: self
                .portfolios
                .iter()
                .filter(|(id, _)| touched.portfolios.contains(id))
                .map(|(id, row)| (*id, row.clone()))
                .collect(),
            trades: self
                .trades
                .iter()
                .filter(|(_, row)| touched.portfolios.contains(&row.portfolio_id))
                .map(|(id, row)| (*id, row.clone()))
                .collect(),
            tags: self
                .tags
                .iter()
                .filter(|(_, row)| touched.tag_owners.contains(&row.owner_id))
                .map(|(id, row)| (*id, row.clone()))
                .collect(),
            journal: self
                .journal
                .iter()
                .filter(|(id, _)| touched.journal_entries.contains(id))
                .map(|(id, row)| (*id, row.clone()))
                .collect(),
            links: BTreeSet::new(),
        }
    }

    /// Writes `changes` back (the in-memory twin of the adapter's writes).
    pub fn merge(&mut self, changes: Changes) {
        self.portfolios.extend(changes.upsert.portfolios);
        self.trades.extend(changes.upsert.trades);
        self.tags.extend(changes.upsert.tags);
        self.journal.extend(changes.upsert.journal);
        for id in &changes.removed_journal {
            self.journal.remove(id);
        }
        for link in &changes.links_removed {
            self.links.remove(link);
        }
        self.links.extend(changes.links_added);
        for id in &changes.removed_tags {
            self.tags.remove(id);
        }
        self.links
            .retain(|(_, tag)| !changes.removed_tags.contains(tag));
    }
}
