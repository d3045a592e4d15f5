//! Trades: placing (by hand, or from a pattern or signal with the size
//! from risk), opening, editing, closing, cancelling, discarding; their
//! tags and journal entries.

use domain::allowance::AllowanceCommand;
use domain::market::{PatternType, Symbol, Timeframe};
use domain::portfolio::{
    JournalKind, Mood, PortfolioCommand, Side, Sizing, TradeEdit, TradePlan, TradeSource,
    TradeStatus,
};
use rust_decimal::Decimal;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    PortfolioResult, PortfolioService, from_allowance, from_portfolio, from_tag, invalid,
    unavailable,
};
use crate::store::EventStores;
use crate::{CommandError, Metadata};

/// A trade typed in by hand. Without a quantity it is sized from risk
/// (stop and risk % required).
#[derive(Debug, Clone, PartialEq)]
pub struct NewTrade {
    pub symbol: String,
    pub side: Side,
    pub timeframe: Option<Timeframe>,
    pub pattern_type: Option<PatternType>,
    pub entry: Decimal,
    pub quantity: Option<Decimal>,
    pub stop: Option<Decimal>,
    pub target: Option<Decimal>,
    pub fees: Decimal,
    pub risk_percent: Option<Decimal>,
    pub setup_notes: String,
    /// Open now (filled at `entry`) rather than pending.
    pub open: bool,
}

/// A trade from a pattern or a signal: its levels, sized from risk.
#[derive(Debug, Clone, PartialEq)]
pub struct FromSource {
    pub source: TradeSource,
    pub risk_percent: Decimal,
    pub open: bool,
    pub setup_notes: String,
}

/// Where a close happens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClosePrice {
    At(Decimal),
    /// The latest stored close of the trade's symbol.
    Market,
}

impl<S: EventStores> PortfolioService<S> {
    async fn listed_symbol(&self, text: &str) -> PortfolioResult<Symbol> {
        let symbol = Symbol::parse(text).map_err(|e| invalid("symbol", e.to_string()))?;
        if self.market.is_listed(&symbol).await.map_err(unavailable)? {
            Ok(symbol)
        } else {
            Err(invalid(
                "symbol",
                format!("{symbol} is not a listed symbol"),
            ))
        }
    }

    /// Places a trade by hand.
    #[tracing::instrument(skip_all, fields(%user, %portfolio_id))]
    pub async fn place_trade(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        input: NewTrade,
        metadata: &Metadata,
    ) -> PortfolioResult<Uuid> {
        self.policy(user).await?;
        // Owner first: another user's portfolio is "not found" whatever the body.
        self.portfolio(user, portfolio_id).await?;
        let symbol = self.listed_symbol(&input.symbol).await?;
        let sizing = if input.quantity.is_some() {
            Sizing::Given
        } else {
            Sizing::FromRisk
        };
        let plan = TradePlan {
            symbol,
            side: input.side,
            timeframe: input.timeframe,
            pattern_type: input.pattern_type,
            entry: input.entry,
            quantity: input.quantity.unwrap_or(Decimal::ZERO),
            stop: input.stop,
            target: input.target,
            fees: input.fees,
            risk_percent: input.risk_percent,
            setup_notes: input.setup_notes,
            source: TradeSource::Manual,
        };
        self.place(user, portfolio_id, plan, sizing, input.open, metadata)
            .await
    }

    /// Places a trade with a pattern's or signal's levels (entry, stop,
    /// target), sized from `risk_percent` of the current balance.
    #[tracing::instrument(skip_all, fields(%user, %portfolio_id))]
    pub async fn place_trade_from(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        input: FromSource,
        metadata: &Metadata,
    ) -> PortfolioResult<Uuid> {
        self.policy(user).await?;
        self.portfolio(user, portfolio_id).await?;
        let field = match input.source {
            TradeSource::Signal(_) => "signal_id",
            _ => "pattern_id",
        };
        let setup = self
            .market
            .setup(input.source)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| invalid(field, "no such pattern or signal"))?;
        let plan = TradePlan {
            symbol: setup.symbol,
            side: setup.side,
            timeframe: setup.timeframe,
            pattern_type: setup.pattern_type,
            entry: setup.entry,
            quantity: Decimal::ZERO,
            stop: Some(setup.stop),
            target: setup.target,
            fees: Decimal::ZERO,
            risk_percent: Some(input.risk_percent),
            setup_notes: input.setup_notes,
            source: input.source,
        };
        self.place(
            user,
            portfolio_id,
            plan,
            Sizing::FromRisk,
            input.open,
            metadata,
        )
        .await
    }

    async fn place(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        plan: TradePlan,
        sizing: Sizing,
        open: bool,
        metadata: &Metadata,
    ) -> PortfolioResult<Uuid> {
        let trade_id = Uuid::now_v7();
        let portfolio = self.portfolio(user, portfolio_id).await?;
        portfolio
            .check_new_trade(user, trade_id, &plan, sizing)
            .map_err(|e| from_portfolio(CommandError::Rejected(e)))?;
        let now = self.clock.now();
        let command = PortfolioCommand::PlaceTrade {
            by: user,
            trade_id,
            plan,
            sizing,
            open,
            now,
        };
        if open {
            self.with_trade_slot(user, trade_id, now, portfolio_id, command, metadata)
                .await?;
        } else {
            self.run(portfolio_id, command, metadata).await?;
        }
        Ok(trade_id)
    }

    /// Takes today's trade slot, runs `command`, and gives the slot back if
    /// the command fails after all.
    async fn with_trade_slot(
        &self,
        user: Uuid,
        trade_id: Uuid,
        now: OffsetDateTime,
        portfolio_id: Uuid,
        command: PortfolioCommand,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        let policy = self.policy(user).await?;
        let day = now.date();
        let allowance = user.to_string();
        self.allowances
            .execute(
                &allowance,
                AllowanceCommand::TakeTradeSlot {
                    trade_id,
                    day,
                    limit: policy.trades_per_day,
                },
                metadata,
            )
            .await
            .map_err(from_allowance)?;
        let result = self.run(portfolio_id, command, metadata).await;
        if result.is_err()
            && let Err(error) = self
                .allowances
                .execute(
                    &allowance,
                    AllowanceCommand::ReleaseTradeSlot { trade_id, day },
                    metadata,
                )
                .await
        {
            tracing::warn!(%error, %trade_id, "could not release a trade slot");
        }
        result
    }

    /// pending → open with the confirmed fill; counts as today's trade.
    #[tracing::instrument(skip_all, fields(%user, %trade_id))]
    #[expect(clippy::too_many_arguments, reason = "one use case, every field named")]
    pub async fn open_trade(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        trade_id: Uuid,
        fill_price: Decimal,
        quantity: Option<Decimal>,
        fees: Option<Decimal>,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        let portfolio = self.portfolio(user, portfolio_id).await?;
        let now = self.clock.now();
        let command = PortfolioCommand::OpenTrade {
            by: user,
            trade_id,
            fill_price,
            quantity,
            fees,
            now,
        };
        let pending = portfolio
            .trade(trade_id)
            .is_some_and(|t| t.status == TradeStatus::Pending);
        if !pending || portfolio.is_archived() {
            // Let the aggregate say why, without taking a slot.
            return self.run(portfolio_id, command, metadata).await;
        }
        let mut filled = portfolio
            .trade(trade_id)
            .map(|t| t.plan.clone())
            .ok_or(CommandError::NotFound)?;
        filled.entry = fill_price;
        filled.quantity = quantity.unwrap_or(filled.quantity);
        filled.fees = fees.unwrap_or(filled.fees);
        let problems = filled.problems();
        if !problems.is_empty() {
            return Err(CommandError::Rejected(super::PortfolioRejection::Invalid(
                problems,
            )));
        }
        self.with_trade_slot(user, trade_id, now, portfolio_id, command, metadata)
            .await
    }

    pub async fn edit_trade(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        trade_id: Uuid,
        edit: TradeEdit,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        let now = self.clock.now();
        let command = PortfolioCommand::EditTrade {
            by: user,
            trade_id,
            edit,
            now,
        };
        self.run(portfolio_id, command, metadata).await
    }

    #[tracing::instrument(skip_all, fields(%user, %trade_id))]
    #[expect(clippy::too_many_arguments, reason = "one use case, every field named")]
    pub async fn close_trade(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        trade_id: Uuid,
        price: ClosePrice,
        fees: Decimal,
        reason: String,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        let (price, at_market) = match price {
            ClosePrice::At(price) => (price, false),
            ClosePrice::Market => {
                let portfolio = self.portfolio(user, portfolio_id).await?;
                let trade = portfolio.trade(trade_id).ok_or(CommandError::NotFound)?;
                let close = self
                    .market
                    .latest_close(&trade.plan.symbol)
                    .await
                    .map_err(unavailable)?
                    .ok_or_else(|| invalid("exit_price", "no stored close for this symbol yet"))?;
                (close, true)
            }
        };
        let now = self.clock.now();
        let command = PortfolioCommand::CloseTrade {
            by: user,
            trade_id,
            price,
            fees,
            reason,
            at_market,
            now,
        };
        self.run(portfolio_id, command, metadata).await
    }

    pub async fn cancel_trade(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        trade_id: Uuid,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        let now = self.clock.now();
        let command = PortfolioCommand::CancelTrade {
            by: user,
            trade_id,
            now,
        };
        self.run(portfolio_id, command, metadata).await
    }

    pub async fn discard_trade(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        trade_id: Uuid,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        let now = self.clock.now();
        let command = PortfolioCommand::DiscardTrade {
            by: user,
            trade_id,
            now,
        };
        self.run(portfolio_id, command, metadata).await
    }

    /// Attaches (or detaches) one of the user's own tags.
    pub async fn tag_trade(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        trade_id: Uuid,
        tag_id: Uuid,
        attach: bool,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        self.policy(user).await?;
        self.portfolio(user, portfolio_id).await?;
        let tags = self.tags.load(&user.to_string()).await.map_err(from_tag)?;
        if attach && !tags.contains(tag_id) {
            return Err(CommandError::NotFound);
        }
        let command = if attach {
            PortfolioCommand::AttachTag {
                by: user,
                trade_id,
                tag_id,
            }
        } else {
            PortfolioCommand::DetachTag {
                by: user,
                trade_id,
                tag_id,
            }
        };
        self.run(portfolio_id, command, metadata).await
    }

    #[expect(clippy::too_many_arguments, reason = "one use case, every field named")]
    pub async fn add_journal_entry(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        trade_id: Uuid,
        kind: JournalKind,
        content: String,
        mood: Option<Mood>,
        metadata: &Metadata,
    ) -> PortfolioResult<Uuid> {
        let entry_id = Uuid::now_v7();
        let now = self.clock.now();
        let command = PortfolioCommand::AddJournalEntry {
            by: user,
            trade_id,
            entry_id,
            kind,
            content,
            mood,
            now,
        };
        self.run(portfolio_id, command, metadata).await?;
        Ok(entry_id)
    }

    #[expect(clippy::too_many_arguments, reason = "one use case, every field named")]
    pub async fn edit_journal_entry(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        trade_id: Uuid,
        entry_id: Uuid,
        kind: JournalKind,
        content: String,
        mood: Option<Mood>,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        let now = self.clock.now();
        let command = PortfolioCommand::EditJournalEntry {
            by: user,
            trade_id,
            entry_id,
            kind,
            content,
            mood,
            now,
        };
        self.run(portfolio_id, command, metadata).await
    }

    pub async fn delete_journal_entry(
        &self,
        user: Uuid,
        portfolio_id: Uuid,
        trade_id: Uuid,
        entry_id: Uuid,
        metadata: &Metadata,
    ) -> PortfolioResult<()> {
        let now = self.clock.now();
        let command = PortfolioCommand::DeleteJournalEntry {
            by: user,
            trade_id,
            entry_id,
            now,
        };
        self.run(portfolio_id, command, metadata).await
    }
}
