//! The projection against a from-scratch recomputation: random command
//! sequences run through the real aggregates, the events are folded in
//! random batches the way the adapter does (load touched rows, fold,
//! write back), and the rows and statistics are compared with what the
//! final aggregates say, computed independently.

use std::collections::{BTreeMap, BTreeSet};

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use domain::market::{PatternType, Symbol, Timeframe};
use domain::portfolio::{
    JournalKind, Portfolio, PortfolioCommand, Side, Sizing, TradeEdit, TradePlan, TradeSource,
    TradeStatus,
};
use domain::tag::{TagCommand, TagSet};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

use super::*;
use crate::RecordedEvent;

const OWNER: Uuid = Uuid::from_u128(1);
const T0: OffsetDateTime = datetime!(2026-11-28 00:00 UTC);
const PORTFOLIOS: [Uuid; 2] = [Uuid::from_u128(100), Uuid::from_u128(101)];
const TAGS: [Uuid; 3] = [
    Uuid::from_u128(200),
    Uuid::from_u128(201),
    Uuid::from_u128(202),
];

#[derive(Debug, Clone)]
enum Op {
    Place {
        p: usize,
        long: bool,
        entry: u32,
        quantity: u32,
        stop_distance: Option<u32>,
        open: bool,
        timeframe: usize,
    },
    Open {
        t: usize,
        price: u32,
    },
    Close {
        t: usize,
        price: u32,
        fees: u32,
    },
    Cancel {
        t: usize,
    },
    Discard {
        t: usize,
    },
    EditFees {
        t: usize,
        fees: u32,
    },
    Deposit {
        p: usize,
        amount: u32,
    },
    Attach {
        t: usize,
        tag: usize,
    },
    Detach {
        t: usize,
        tag: usize,
    },
    DeleteTag {
        tag: usize,
    },
    Journal {
        t: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..2usize, any::<bool>(), 50..150u32, 1..20u32, proptest::option::of(1..40u32), any::<bool>(), 0..3usize)
            .prop_map(|(p, long, entry, quantity, stop_distance, open, timeframe)| Op::Place {
                p, long, entry, quantity, stop_distance, open, timeframe
            }),
        1 => (0..12usize, 50..150u32).prop_map(|(t, price)| Op::Open { t, price }),
        3 => (0..12usize, 20..200u32, 0..5u32).prop_map(|(t, price, fees)| Op::Close { t, price, fees }),
        1 => (0..12usize).prop_map(|t| Op::Cancel { t }),
        1 => (0..12usize).prop_map(|t| Op::Discard { t }),
        1 => (0..12usize, 0..5u32).prop_map(|(t, fees)| Op::EditFees { t, fees }),
        1 => (0..2usize, 1..1000u32).prop_map(|(p, amount)| Op::Deposit { p, amount }),
        2 => (0..12usize, 0..3usize).prop_map(|(t, tag)| Op::Attach { t, tag }),
        1 => (0..12usize, 0..3usize).prop_map(|(t, tag)| Op::Detach { t, tag }),
        1 => (0..3usize).prop_map(|tag| Op::DeleteTag { tag }),
        1 => (0..12usize).prop_map(|t| Op::Journal { t }),
    ]
}

/// Runs commands through the real aggregates and records their events.
#[derive(Default)]
struct World {
    portfolios: BTreeMap<Uuid, Portfolio>,
    tags: TagSet,
    trades: Vec<(Uuid, Uuid)>,
    closed_at: BTreeMap<Uuid, OffsetDateTime>,
    events: Vec<RecordedEvent>,
    sequences: BTreeMap<Uuid, i64>,
}

fn record<A: Aggregate<Services = ()>>(
    world_events: &mut Vec<RecordedEvent>,
    sequences: &mut BTreeMap<Uuid, i64>,
    aggregate: &mut A,
    id: Uuid,
    command: A::Command,
) -> bool {
    let sink = EventSink::default();
    let decided = futures::executor::block_on(aggregate.handle(command, &(), &sink));
    if decided.is_err() {
        return false;
    }
    for event in futures::executor::block_on(sink.collect()) {
        let sequence = sequences.entry(id).or_default();
        *sequence += 1;
        world_events.push(RecordedEvent {
            global_position: i64::try_from(world_events.len()).unwrap() + 1,
            aggregate_type: A::TYPE.to_owned(),
            aggregate_id: id.to_string(),
            sequence: *sequence,
            event_type: event.event_type(),
            event_version: event.event_version(),
            payload: serde_json::to_value(&event).unwrap(),
            metadata: json!({}),
            recorded_at: T0,
        });
    }
    true
}

impl World {
    fn new() -> Self {
        let mut world = World::default();
        for (i, tag_id) in TAGS.iter().enumerate() {
            world.tags_do(TagCommand::Create {
                tag_id: *tag_id,
                name: format!("tag{i}"),
                colour: None,
            });
        }
        for (i, id) in PORTFOLIOS.iter().enumerate() {
            world.portfolio_do(
                *id,
                PortfolioCommand::Create {
                    portfolio_id: *id,
                    owner: OWNER,
                    name: format!("p{i}"),
                    currency: "USDT".into(),
                    initial_balance: Decimal::from(10_000 + i),
                    description: String::new(),
                    now: T0,
                },
            );
        }
        world
    }

    fn tags_do(&mut self, command: TagCommand) -> bool {
        record(
            &mut self.events,
            &mut self.sequences,
            &mut self.tags,
            OWNER,
            command,
        )
    }

    fn portfolio_do(&mut self, id: Uuid, command: PortfolioCommand) -> bool {
        let portfolio = self.portfolios.entry(id).or_default();
        record(
            &mut self.events,
            &mut self.sequences,
            portfolio,
            id,
            command,
        )
    }

    fn trade(&self, t: usize) -> Option<(Uuid, Uuid)> {
        (!self.trades.is_empty()).then(|| self.trades[t % self.trades.len()])
    }

    fn run(&mut self, step: usize, op: Op) {
        let now = T0 + time::Duration::minutes(i64::try_from(step).unwrap() + 1);
        let by = OWNER;
        let d = Decimal::from;
        match op {
            Op::Place {
                p,
                long,
                entry,
                quantity,
                stop_distance,
                open,
                timeframe,
            } => {
                let trade_id = Uuid::from_u128(1_000 + step as u128);
                let side = if long { Side::Long } else { Side::Short };
                let stop = stop_distance
                    .filter(|s| *s < entry)
                    .map(|s| if long { d(entry - s) } else { d(entry + s) });
                let plan = TradePlan {
                    symbol: Symbol::parse(["BTC/USDT", "ETH/USDT"][p]).unwrap(),
                    side,
                    timeframe: Some([Timeframe::H1, Timeframe::H4, Timeframe::D1][timeframe]),
                    pattern_type: Some(PatternType::ALL[timeframe]),
                    entry: d(entry),
                    quantity: d(quantity),
                    stop,
                    target: None,
                    fees: Decimal::ZERO,
                    risk_percent: None,
                    setup_notes: String::new(),
                    source: TradeSource::Manual,
                };
                let portfolio = PORTFOLIOS[p];
                let command = PortfolioCommand::PlaceTrade {
                    by,
                    trade_id,
                    plan,
                    sizing: Sizing::Given,
                    open,
                    now,
                };
                if self.portfolio_do(portfolio, command) {
                    self.trades.push((portfolio, trade_id));
                }
            }
            Op::Open { t, price } => {
                if let Some((p, trade_id)) = self.trade(t) {
                    self.portfolio_do(
                        p,
                        PortfolioCommand::OpenTrade {
                            by,
                            trade_id,
                            fill_price: d(price),
                            quantity: None,
                            fees: None,
                            now,
                        },
                    );
                }
            }
            Op::Close { t, price, fees } => {
                if let Some((p, trade_id)) = self.trade(t) {
                    let closed = self.portfolio_do(
                        p,
                        PortfolioCommand::CloseTrade {
                            by,
                            trade_id,
                            price: d(price),
                            fees: d(fees),
                            reason: String::new(),
                            at_market: false,
                            now,
                        },
                    );
                    if closed {
                        self.closed_at.insert(trade_id, now);
                    }
                }
            }
            Op::Cancel { t } => {
                if let Some((p, trade_id)) = self.trade(t) {
                    self.portfolio_do(p, PortfolioCommand::CancelTrade { by, trade_id, now });
                }
            }
            Op::Discard { t } => {
                if let Some((p, trade_id)) = self.trade(t) {
                    self.portfolio_do(p, PortfolioCommand::DiscardTrade { by, trade_id, now });
                }
            }
            Op::EditFees { t, fees } => {
                if let Some((p, trade_id)) = self.trade(t) {
                    let edit = TradeEdit {
                        fees: Some(d(fees)),
                        ..TradeEdit::default()
                    };
                    self.portfolio_do(
                        p,
                        PortfolioCommand::EditTrade {
                            by,
                            trade_id,
                            edit,
                            now,
                        },
                    );
                }
            }
            Op::Deposit { p, amount } => {
                self.portfolio_do(
                    PORTFOLIOS[p],
                    PortfolioCommand::Deposit {
                        by,
                        amount: d(amount),
                        note: String::new(),
                        now,
                    },
                );
            }
            Op::Attach { t, tag } | Op::Detach { t, tag } => {
                let attach = matches!(op, Op::Attach { .. });
                let tag_id = TAGS[tag];
                if let Some((p, trade_id)) = self.trade(t)
                    && (!attach || self.tags.contains(tag_id))
                {
                    let command = if attach {
                        PortfolioCommand::AttachTag {
                            by,
                            trade_id,
                            tag_id,
                        }
                    } else {
                        PortfolioCommand::DetachTag {
                            by,
                            trade_id,
                            tag_id,
                        }
                    };
                    self.portfolio_do(p, command);
                }
            }
            Op::DeleteTag { tag } => {
                self.tags_do(TagCommand::Delete { tag_id: TAGS[tag] });
            }
            Op::Journal { t } => {
                if let Some((p, trade_id)) = self.trade(t) {
                    self.portfolio_do(
                        p,
                        PortfolioCommand::AddJournalEntry {
                            by,
                            trade_id,
                            entry_id: Uuid::from_u128(5_000 + step as u128),
                            kind: JournalKind::Lesson,
                            content: "noted".into(),
                            mood: None,
                            now,
                        },
                    );
                }
            }
        }
    }
}

/// Folds `events` in batches of the given sizes, as the adapter does.
fn project(events: &[RecordedEvent], sizes: &[usize]) -> Model {
    let mut db = Model::default();
    let mut rest = events;
    let mut sizes = sizes.iter().cycle();
    while !rest.is_empty() {
        let n = (*sizes.next().unwrap()).clamp(1, rest.len());
        let (batch, tail) = rest.split_at(n);
        let loaded = db.subset(&touched(batch).unwrap());
        db.merge(fold(loaded, batch).unwrap());
        rest = tail;
    }
    db
}

/// The numbers an independent, straightforward computation gives from the
/// final aggregates: (wins, losses, total P&L, max drawdown, curve).
fn recompute(world: &World, tag: Option<Uuid>) -> (u64, u64, Decimal, Decimal, Vec<Decimal>) {
    let mut closes = Vec::new();
    for (trade_id, at) in &world.closed_at {
        let (p, _) = world.trades.iter().find(|(_, t)| t == trade_id).unwrap();
        let trade = world.portfolios[p].trade(*trade_id).unwrap();
        if trade.status != TradeStatus::Closed {
            continue;
        }
        if let Some(tag) = tag
            && !(trade.tags.contains(&tag) && world.tags.contains(tag))
        {
            continue;
        }
        closes.push((*at, *trade_id, trade.outcome.unwrap().pnl));
    }
    closes.sort();
    let start: Decimal = PORTFOLIOS
        .iter()
        .map(|p| world.portfolios[p].initial_balance())
        .sum();
    let (mut equity, mut peak, mut worst) = (start, start, Decimal::ZERO);
    let mut curve = Vec::new();
    let (mut wins, mut losses, mut total) = (0, 0, Decimal::ZERO);
    for (_, _, pnl) in closes {
        if pnl > Decimal::ZERO {
            wins += 1;
        } else if pnl < Decimal::ZERO {
            losses += 1;
        }
        total += pnl;
        equity += pnl;
        if equity > peak {
            peak = equity;
        }
        if peak - equity > worst {
            worst = peak - equity;
        }
        curve.push(equity);
    }
    (wins, losses, total, worst, curve)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_projection_matches_a_recomputation_from_the_aggregates(
        ops in proptest::collection::vec(op(), 1..60),
        sizes in proptest::collection::vec(1..7usize, 1..5),
    ) {
        let mut world = World::new();
        for (step, op) in ops.into_iter().enumerate() {
            world.run(step, op);
        }
        let db = project(&world.events, &sizes);

        // Row by row: status, P&L, portfolio balance, journal, links.
        for (p, trade_id) in &world.trades {
            let state = world.portfolios[p].trade(*trade_id).unwrap();
            let row = &db.trades[trade_id];
            prop_assert_eq!(row.status.as_str(), state.status.as_str());
            prop_assert_eq!(row.pnl, state.outcome.map(|o| o.pnl));
            prop_assert_eq!(row.fees, state.plan.fees);
            let linked: BTreeSet<Uuid> = db.links.iter()
                .filter(|(t, _)| t == trade_id).map(|(_, tag)| *tag).collect();
            let expected: BTreeSet<Uuid> = state.tags.iter().copied()
                .filter(|tag| world.tags.contains(*tag)).collect();
            prop_assert_eq!(linked, expected);
        }
        for p in PORTFOLIOS {
            let row = &db.portfolios[&p];
            let realised: Decimal = db.trades.values()
                .filter(|t| t.portfolio_id == p && t.status == "closed")
                .filter_map(|t| t.pnl).sum();
            prop_assert_eq!(row.initial_balance + row.net_funding + realised,
                world.portfolios[&p].balance());
        }
        let entries: usize = world.portfolios.values().map(|p| p.journal().len()).sum();
        prop_assert_eq!(db.journal.len(), entries);
        let live_tags: BTreeSet<Uuid> = TAGS.iter().copied()
            .filter(|t| world.tags.contains(*t)).collect();
        prop_assert_eq!(db.tags.keys().copied().collect::<BTreeSet<_>>(), live_tags);

        // Statistics per user, unfiltered and by each tag.
        let start: Decimal = db.portfolios.values().map(|p| p.initial_balance).sum();
        for tag in [None, Some(TAGS[0]), Some(TAGS[1])] {
            let filter = AnalyticsFilter { tag, ..AnalyticsFilter::default() };
            let stats = analytics(
                db.trades.values().filter(|t| filter.admits(t, &db.links)),
                start,
            );
            let (wins, losses, total, drawdown, curve) = recompute(&world, tag);
            prop_assert_eq!(stats.wins, wins);
            prop_assert_eq!(stats.losses, losses);
            prop_assert_eq!(stats.total_pnl, total);
            prop_assert_eq!(stats.max_drawdown, drawdown);
            prop_assert_eq!(
                stats.equity_curve.iter().map(|p| p.equity).collect::<Vec<_>>(),
                curve
            );
            prop_assert_eq!(stats.gross_profit - stats.gross_loss, total);
        }
        let stats = analytics(db.trades.values(), start);
        let by_status = |s: TradeStatus| world.portfolios.values()
            .flat_map(|p| p.trades().values())
            .filter(|t| t.status == s).count() as u64;
        prop_assert_eq!(stats.counts.closed, by_status(TradeStatus::Closed));
        prop_assert_eq!(stats.counts.open, by_status(TradeStatus::Open));
        prop_assert_eq!(stats.counts.pending, by_status(TradeStatus::Pending));
        prop_assert_eq!(stats.counts.discarded, by_status(TradeStatus::Discarded));
        prop_assert_eq!(stats.counts.cancelled, by_status(TradeStatus::Cancelled));
    }
}

fn row(pnl: &str, minute: i64, r: Option<&str>) -> TradeRow {
    TradeRow {
        trade_id: Uuid::from_u128(u128::try_from(minute).unwrap()),
        portfolio_id: PORTFOLIOS[0],
        owner_id: OWNER,
        symbol: "BTC/USDT".into(),
        side: "long".into(),
        timeframe: Some("1h".into()),
        pattern_type: None,
        source_kind: "manual".into(),
        source_id: None,
        status: "closed".into(),
        entry_price: Decimal::ONE,
        quantity: Decimal::ONE,
        stop_loss: None,
        take_profit: None,
        fees: Decimal::ZERO,
        risk_percent: None,
        setup_notes: String::new(),
        exit_price: None,
        exit_fees: None,
        exit_reason: None,
        closed_at_market: false,
        pnl: Some(pnl.parse().unwrap()),
        pnl_percent: None,
        r_multiple: r.map(|r| r.parse().unwrap()),
        placed_at: T0,
        opened_at: None,
        closed_at: Some(T0 + time::Duration::minutes(minute)),
        updated_at: T0,
    }
}

#[test]
fn statistics_of_a_known_sequence() {
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    let trades = [
        row("100", 1, Some("2")),
        row("-50", 2, Some("-1")),
        row("-150", 3, None),
        row("300", 4, Some("3")),
    ];
    let stats = analytics(&trades, d("1000"));
    assert_eq!((stats.wins, stats.losses, stats.counts.closed), (2, 2, 4));
    assert_eq!(stats.win_rate, Some(d("50")));
    assert_eq!(stats.profit_factor, Some(d("2")));
    assert_eq!(stats.expectancy, Some(d("50")));
    assert_eq!(stats.average_win, Some(d("200")));
    assert_eq!(stats.average_loss, Some(d("-100")));
    assert_eq!(stats.largest_win, Some(d("300")));
    assert_eq!(stats.largest_loss, Some(d("-150")));
    assert_eq!(stats.average_r, Some(d("1.3333")));
    // 1000 → 1100 (peak) → 1050 → 900 → 1200: the fall is 200, 18.1818 %.
    assert_eq!(stats.max_drawdown, d("200"));
    assert_eq!(stats.max_drawdown_percent, Some(d("18.1818")));
    assert_eq!(
        stats
            .equity_curve
            .iter()
            .map(|p| p.equity)
            .collect::<Vec<_>>(),
        vec![d("1100"), d("1050"), d("900"), d("1200")]
    );
    let none = analytics(&trades[..1], d("1000"));
    assert_eq!(none.profit_factor, None);
}
