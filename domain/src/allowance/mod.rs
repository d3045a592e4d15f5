//! A user's tier allowances for trading (PRODUCT §1): active portfolios and
//! trades opened per UTC day. One aggregate per user (keyed by the user
//! id), so two concurrent requests race on its event sequence and the
//! loser is re-decided on the winner's events: the count cannot be
//! exceeded, whatever the concurrency.
//!
//! Rules:
//! * A portfolio holds a slot while it is active. Creating and restoring
//!   take one first (refused at the tier's limit); archiving gives it back
//!   after the portfolio is archived. So the number of active portfolios
//!   never exceeds the limit, and archiving cannot be used to dodge it.
//!   After a downgrade, portfolios beyond the new limit stay active but no
//!   new one can be created or restored until enough are archived.
//! * A trade counts on the UTC day it is *opened* (created open, or a
//!   pending trade filled); planning a pending trade costs nothing, and
//!   cancelling or discarding gives nothing back. A slot taken for a
//!   trade that then fails to open is released (a compensating event).
//!
//! The limits come from [`crate::billing::Tier::policy`], passed in the
//! command by the use case with the user's current tier.

use std::collections::BTreeSet;

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use crate::FIRST_EVENT_VERSION;
use crate::billing::Access;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradingAllowance {
    active_portfolios: BTreeSet<Uuid>,
    day: Option<Date>,
    trades_today: BTreeSet<Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AllowanceCommand {
    TakePortfolioSlot {
        portfolio_id: Uuid,
        limit: Access,
    },
    ReleasePortfolioSlot {
        portfolio_id: Uuid,
    },
    TakeTradeSlot {
        trade_id: Uuid,
        day: Date,
        limit: Access,
    },
    ReleaseTradeSlot {
        trade_id: Uuid,
        day: Date,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AllowanceEvent {
    PortfolioSlotTaken { portfolio_id: Uuid },
    PortfolioSlotReleased { portfolio_id: Uuid },
    TradeSlotTaken { trade_id: Uuid, day: Date },
    TradeSlotReleased { trade_id: Uuid, day: Date },
}

impl DomainEvent for AllowanceEvent {
    fn event_type(&self) -> String {
        match self {
            Self::PortfolioSlotTaken { .. } => "PortfolioSlotTaken",
            Self::PortfolioSlotReleased { .. } => "PortfolioSlotReleased",
            Self::TradeSlotTaken { .. } => "TradeSlotTaken",
            Self::TradeSlotReleased { .. } => "TradeSlotReleased",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AllowanceError {
    #[error("your plan does not include portfolios")]
    PortfoliosNotIncluded,
    #[error("your plan allows {0} active portfolio(s); archive one or upgrade")]
    PortfolioLimitReached(u32),
    #[error("your plan does not include trades")]
    TradesNotIncluded,
    #[error("your plan allows {0} trade(s) per UTC day; try again tomorrow or upgrade")]
    TradeLimitReached(u32),
}

impl TradingAllowance {
    pub fn active_portfolios(&self) -> usize {
        self.active_portfolios.len()
    }

    /// Trades opened on `day` (UTC).
    pub fn trades_on(&self, day: Date) -> usize {
        if self.day == Some(day) {
            self.trades_today.len()
        } else {
            0
        }
    }
}

fn used(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

impl Aggregate for TradingAllowance {
    const TYPE: &'static str = "trading_allowance";
    type Command = AllowanceCommand;
    type Event = AllowanceEvent;
    type Error = AllowanceError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            AllowanceCommand::TakePortfolioSlot {
                portfolio_id,
                limit,
            } => {
                if self.active_portfolios.contains(&portfolio_id) {
                    return Ok(());
                }
                match limit {
                    Access::Denied => return Err(AllowanceError::PortfoliosNotIncluded),
                    Access::UpTo(n)
                        if !limit.allows_another(used(self.active_portfolios.len())) =>
                    {
                        return Err(AllowanceError::PortfolioLimitReached(n));
                    }
                    _ => AllowanceEvent::PortfolioSlotTaken { portfolio_id },
                }
            }
            AllowanceCommand::ReleasePortfolioSlot { portfolio_id } => {
                if !self.active_portfolios.contains(&portfolio_id) {
                    return Ok(());
                }
                AllowanceEvent::PortfolioSlotReleased { portfolio_id }
            }
            AllowanceCommand::TakeTradeSlot {
                trade_id,
                day,
                limit,
            } => {
                if self.day == Some(day) && self.trades_today.contains(&trade_id) {
                    return Ok(());
                }
                match limit {
                    Access::Denied => return Err(AllowanceError::TradesNotIncluded),
                    Access::UpTo(n) if !limit.allows_another(used(self.trades_on(day))) => {
                        return Err(AllowanceError::TradeLimitReached(n));
                    }
                    _ => AllowanceEvent::TradeSlotTaken { trade_id, day },
                }
            }
            AllowanceCommand::ReleaseTradeSlot { trade_id, day } => {
                if self.day != Some(day) || !self.trades_today.contains(&trade_id) {
                    return Ok(());
                }
                AllowanceEvent::TradeSlotReleased { trade_id, day }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            AllowanceEvent::PortfolioSlotTaken { portfolio_id } => {
                self.active_portfolios.insert(portfolio_id);
            }
            AllowanceEvent::PortfolioSlotReleased { portfolio_id } => {
                self.active_portfolios.remove(&portfolio_id);
            }
            AllowanceEvent::TradeSlotTaken { trade_id, day } => {
                if self.day != Some(day) {
                    self.day = Some(day);
                    self.trades_today.clear();
                }
                self.trades_today.insert(trade_id);
            }
            AllowanceEvent::TradeSlotReleased { trade_id, day } => {
                if self.day == Some(day) {
                    self.trades_today.remove(&trade_id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use time::macros::date;

    use super::*;

    const P1: Uuid = Uuid::from_u128(1);
    const P2: Uuid = Uuid::from_u128(2);

    fn take_trade(n: u128, day: Date, limit: Access) -> AllowanceCommand {
        AllowanceCommand::TakeTradeSlot {
            trade_id: Uuid::from_u128(n),
            day,
            limit,
        }
    }

    fn trade_taken(n: u128, day: Date) -> AllowanceEvent {
        AllowanceEvent::TradeSlotTaken {
            trade_id: Uuid::from_u128(n),
            day,
        }
    }

    #[test]
    fn the_portfolio_limit_counts_active_portfolios_and_archiving_frees_a_slot() {
        TestFramework::<TradingAllowance>::with(())
            .given_no_previous_events()
            .when(AllowanceCommand::TakePortfolioSlot {
                portfolio_id: P1,
                limit: Access::Denied,
            })
            .then_expect_error(AllowanceError::PortfoliosNotIncluded);
        TestFramework::<TradingAllowance>::with(())
            .given(vec![AllowanceEvent::PortfolioSlotTaken {
                portfolio_id: P1,
            }])
            .when(AllowanceCommand::TakePortfolioSlot {
                portfolio_id: P2,
                limit: Access::UpTo(1),
            })
            .then_expect_error(AllowanceError::PortfolioLimitReached(1));
        TestFramework::<TradingAllowance>::with(())
            .given(vec![
                AllowanceEvent::PortfolioSlotTaken { portfolio_id: P1 },
                AllowanceEvent::PortfolioSlotReleased { portfolio_id: P1 },
            ])
            .when(AllowanceCommand::TakePortfolioSlot {
                portfolio_id: P2,
                limit: Access::UpTo(1),
            })
            .then_expect_events(vec![AllowanceEvent::PortfolioSlotTaken {
                portfolio_id: P2,
            }]);
        TestFramework::<TradingAllowance>::with(())
            .given(vec![
                AllowanceEvent::PortfolioSlotTaken { portfolio_id: P1 },
                AllowanceEvent::PortfolioSlotTaken { portfolio_id: P2 },
            ])
            .when(AllowanceCommand::TakePortfolioSlot {
                portfolio_id: Uuid::from_u128(3),
                limit: Access::Unlimited,
            })
            .then_expect_events(vec![AllowanceEvent::PortfolioSlotTaken {
                portfolio_id: Uuid::from_u128(3),
            }]);
    }

    #[test]
    fn trades_count_per_utc_day_and_a_new_day_starts_from_zero() {
        let day = date!(2026 - 11 - 28);
        let five: Vec<_> = (1..=5).map(|n| trade_taken(n, day)).collect();
        TestFramework::<TradingAllowance>::with(())
            .given(five.clone())
            .when(take_trade(6, day, Access::UpTo(5)))
            .then_expect_error(AllowanceError::TradeLimitReached(5));
        TestFramework::<TradingAllowance>::with(())
            .given(five.clone())
            .when(take_trade(6, day.next_day().unwrap(), Access::UpTo(5)))
            .then_expect_events(vec![trade_taken(6, day.next_day().unwrap())]);
        TestFramework::<TradingAllowance>::with(())
            .given(five.clone())
            .when(take_trade(3, day, Access::UpTo(5)))
            .then_expect_events(vec![]);
        let mut released = five;
        released.push(AllowanceEvent::TradeSlotReleased {
            trade_id: Uuid::from_u128(5),
            day,
        });
        TestFramework::<TradingAllowance>::with(())
            .given(released)
            .when(take_trade(7, day, Access::UpTo(5)))
            .then_expect_events(vec![trade_taken(7, day)]);
        TestFramework::<TradingAllowance>::with(())
            .given_no_previous_events()
            .when(take_trade(1, day, Access::Denied))
            .then_expect_error(AllowanceError::TradesNotIncluded);
    }
}
