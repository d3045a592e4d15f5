use std::sync::Arc;

use cqrs_es::EventStore;
use domain::allowance::{AllowanceError, TradingAllowance};
use domain::billing::Tier;
use domain::market::{PatternType, Symbol, Timeframe};
use domain::portfolio::{Portfolio, Side, TradeSource, TradeStatus};
use rust_decimal::Decimal;
use time::macros::datetime;
use uuid::Uuid;

use super::*;
use crate::ports::FakeClock;
use crate::store::{EventStores, MemStores};

const ALICE: Uuid = Uuid::from_u128(1);
const MALLORY: Uuid = Uuid::from_u128(2);

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

struct Fixture {
    stores: MemStores,
    service: PortfolioService<MemStores>,
    tiers: Arc<FakeTiers>,
    market: Arc<FakeTradingMarket>,
    clock: Arc<FakeClock>,
    meta: Metadata,
}

fn fixture(tier: Tier) -> Fixture {
    let stores = MemStores::default();
    let tiers = Arc::new(FakeTiers::all(tier));
    let market = Arc::new(FakeTradingMarket::default());
    market
        .listed
        .lock()
        .unwrap()
        .push(Symbol::parse("BTC/USDT").unwrap());
    let clock = Arc::new(FakeClock::at(datetime!(2026-11-28 23:00 UTC)));
    let service =
        PortfolioService::new(&stores, None, tiers.clone(), market.clone(), clock.clone());
    Fixture {
        stores,
        service,
        tiers,
        market,
        clock,
        meta: Metadata::system("test"),
    }
}

fn new_portfolio() -> NewPortfolio {
    NewPortfolio {
        name: "Main".into(),
        currency: "USDT".into(),
        initial_balance: d("10000"),
        description: String::new(),
    }
}

fn long(quantity: Option<&str>, open: bool) -> NewTrade {
    NewTrade {
        symbol: "btc/usdt".into(),
        side: Side::Long,
        timeframe: Some(Timeframe::H4),
        pattern_type: None,
        entry: d("100"),
        quantity: quantity.map(d),
        stop: Some(d("90")),
        target: Some(d("130")),
        fees: Decimal::ZERO,
        risk_percent: Some(d("2")),
        setup_notes: String::new(),
        open,
    }
}

impl Fixture {
    async fn events<A: crate::store::PureAggregate>(&self, id: Uuid) -> usize {
        self.stores
            .store::<A>()
            .load_events(&id.to_string())
            .await
            .unwrap()
            .len()
    }

    async fn portfolio(&self) -> Uuid {
        self.service
            .create_portfolio(ALICE, new_portfolio(), &self.meta)
            .await
            .unwrap()
    }
}

fn rejected(result: PortfolioResult<impl std::fmt::Debug>) -> PortfolioRejection {
    match result {
        Err(CommandError::Rejected(rejection)) => rejection,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn the_free_tier_has_no_portfolios_and_nothing_is_recorded() {
    let f = fixture(Tier::Free);
    let result = f
        .service
        .create_portfolio(ALICE, new_portfolio(), &f.meta)
        .await;
    assert_eq!(
        rejected(result),
        PortfolioRejection::Allowance(AllowanceError::PortfoliosNotIncluded)
    );
    assert_eq!(f.events::<TradingAllowance>(ALICE).await, 0);
}

#[tokio::test]
async fn pro_has_one_active_portfolio_archiving_frees_it_and_restoring_needs_it() {
    let f = fixture(Tier::Pro);
    let first = f.portfolio().await;
    let second = f
        .service
        .create_portfolio(ALICE, new_portfolio(), &f.meta)
        .await;
    assert_eq!(
        rejected(second),
        PortfolioRejection::Allowance(AllowanceError::PortfolioLimitReached(1))
    );
    f.service
        .archive_portfolio(ALICE, first, &f.meta)
        .await
        .unwrap();
    let replacement = f.portfolio().await;
    let restore = f.service.restore_portfolio(ALICE, first, &f.meta).await;
    assert_eq!(
        rejected(restore),
        PortfolioRejection::Allowance(AllowanceError::PortfolioLimitReached(1))
    );
    assert!(
        f.service
            .portfolio(ALICE, first)
            .await
            .unwrap()
            .is_archived()
    );
    f.service
        .archive_portfolio(ALICE, replacement, &f.meta)
        .await
        .unwrap();
    f.service
        .restore_portfolio(ALICE, first, &f.meta)
        .await
        .unwrap();
    f.tiers.set(ALICE, Tier::Premium);
    f.service
        .restore_portfolio(ALICE, replacement, &f.meta)
        .await
        .unwrap();
}

#[tokio::test]
async fn pro_opens_five_trades_per_utc_day_pending_ones_are_free_and_premium_is_unlimited() {
    let f = fixture(Tier::Pro);
    let pid = f.portfolio().await;
    for _ in 0..5 {
        f.service
            .place_trade(ALICE, pid, long(Some("1"), true), &f.meta)
            .await
            .unwrap();
    }
    let pending = f
        .service
        .place_trade(ALICE, pid, long(Some("1"), false), &f.meta)
        .await
        .unwrap();
    let before = f.events::<Portfolio>(pid).await;
    let sixth = f
        .service
        .place_trade(ALICE, pid, long(Some("1"), true), &f.meta)
        .await;
    assert_eq!(
        rejected(sixth),
        PortfolioRejection::Allowance(AllowanceError::TradeLimitReached(5))
    );
    let open = f
        .service
        .open_trade(ALICE, pid, pending, d("101"), None, None, &f.meta)
        .await;
    assert_eq!(
        rejected(open),
        PortfolioRejection::Allowance(AllowanceError::TradeLimitReached(5))
    );
    assert_eq!(f.events::<Portfolio>(pid).await, before);

    f.clock.advance(time::Duration::hours(1)); // 00:00 UTC: a new day
    f.service
        .open_trade(ALICE, pid, pending, d("101"), None, None, &f.meta)
        .await
        .unwrap();

    f.tiers.set(ALICE, Tier::Premium);
    for _ in 0..10 {
        f.service
            .place_trade(ALICE, pid, long(Some("1"), true), &f.meta)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn another_users_ids_are_not_found_everywhere_and_nothing_is_appended() {
    let f = fixture(Tier::Premium);
    let pid = f.portfolio().await;
    let trade = f
        .service
        .place_trade(ALICE, pid, long(Some("1"), false), &f.meta)
        .await
        .unwrap();
    let tag = f
        .service
        .create_tag(ALICE, "breakout".into(), None, &f.meta)
        .await
        .unwrap();
    let entry = f
        .service
        .add_journal_entry(
            ALICE,
            pid,
            trade,
            domain::portfolio::JournalKind::PreTrade,
            "plan".into(),
            None,
            &f.meta,
        )
        .await
        .unwrap();
    let before = (
        f.events::<Portfolio>(pid).await,
        f.events::<domain::tag::TagSet>(ALICE).await,
    );
    let s = &f.service;
    let m = &f.meta;
    let results: Vec<PortfolioResult<()>> = vec![
        s.portfolio(MALLORY, pid).await.map(drop),
        s.rename_portfolio(MALLORY, pid, "x".into(), m).await,
        s.describe_portfolio(MALLORY, pid, "x".into(), m).await,
        s.archive_portfolio(MALLORY, pid, m).await,
        s.restore_portfolio(MALLORY, pid, m).await,
        s.deposit(MALLORY, pid, d("1"), String::new(), m).await,
        s.withdraw(MALLORY, pid, d("1"), String::new(), m).await,
        s.place_trade(MALLORY, pid, long(Some("1"), true), m)
            .await
            .map(drop),
        s.open_trade(MALLORY, pid, trade, d("100"), None, None, m)
            .await,
        s.edit_trade(MALLORY, pid, trade, Default::default(), m)
            .await,
        s.close_trade(
            MALLORY,
            pid,
            trade,
            ClosePrice::Market,
            d("0"),
            String::new(),
            m,
        )
        .await,
        s.cancel_trade(MALLORY, pid, trade, m).await,
        s.discard_trade(MALLORY, pid, trade, m).await,
        s.tag_trade(MALLORY, pid, trade, tag, true, m).await,
        s.tag_trade(MALLORY, pid, trade, tag, false, m).await,
        s.add_journal_entry(
            MALLORY,
            pid,
            trade,
            domain::portfolio::JournalKind::Lesson,
            "x".into(),
            None,
            m,
        )
        .await
        .map(drop),
        s.edit_journal_entry(
            MALLORY,
            pid,
            trade,
            entry,
            domain::portfolio::JournalKind::Lesson,
            "x".into(),
            None,
            m,
        )
        .await,
        s.delete_journal_entry(MALLORY, pid, trade, entry, m).await,
        s.change_tag(MALLORY, tag, Some("mine".into()), None, m)
            .await,
        s.delete_tag(MALLORY, tag, m).await,
    ];
    for (i, result) in results.into_iter().enumerate() {
        assert!(
            matches!(result, Err(CommandError::NotFound)),
            "call {i}: {result:?}"
        );
    }
    // Alice's own portfolio with Mallory's tag is not found either.
    let mallory_tag = s.create_tag(MALLORY, "mine".into(), None, m).await.unwrap();
    assert!(matches!(
        s.tag_trade(ALICE, pid, trade, mallory_tag, true, m).await,
        Err(CommandError::NotFound)
    ));
    assert_eq!(
        (
            f.events::<Portfolio>(pid).await,
            f.events::<domain::tag::TagSet>(ALICE).await,
        ),
        before
    );
    assert_eq!(f.events::<TradingAllowance>(MALLORY).await, 0);
}

#[tokio::test]
async fn an_unknown_symbol_is_a_field_error_and_takes_no_slot() {
    let f = fixture(Tier::Pro);
    let pid = f.portfolio().await;
    let mut trade = long(Some("1"), true);
    trade.symbol = "DOGE/USDT".into();
    let before = f.events::<TradingAllowance>(ALICE).await;
    let result = f.service.place_trade(ALICE, pid, trade, &f.meta).await;
    match rejected(result) {
        PortfolioRejection::Invalid(fields) => assert_eq!(fields[0].field, "symbol"),
        other => panic!("{other:?}"),
    }
    let mut wrong_stop = long(Some("1"), true);
    wrong_stop.stop = Some(d("120"));
    let result = f.service.place_trade(ALICE, pid, wrong_stop, &f.meta).await;
    assert!(matches!(rejected(result), PortfolioRejection::Invalid(_)));
    assert_eq!(f.events::<TradingAllowance>(ALICE).await, before);
    assert_eq!(f.events::<Portfolio>(pid).await, 1);
}

#[tokio::test]
async fn a_trade_from_a_signal_copies_its_levels_and_is_sized_from_risk() {
    let f = fixture(Tier::Pro);
    let pid = f.portfolio().await;
    let signal = Uuid::from_u128(77);
    f.market.setups.lock().unwrap().insert(
        signal,
        TradeSetup {
            symbol: Symbol::parse("BTC/USDT").unwrap(),
            side: Side::Short,
            timeframe: Some(Timeframe::H1),
            pattern_type: Some(PatternType::OrderBlock),
            entry: d("50000"),
            stop: d("51000"),
            target: Some(d("47000")),
        },
    );
    let trade = f
        .service
        .place_trade_from(
            ALICE,
            pid,
            FromSource {
                source: TradeSource::Signal(signal),
                risk_percent: d("1.5"),
                open: false,
                setup_notes: String::new(),
            },
            &f.meta,
        )
        .await
        .unwrap();
    let portfolio = f.service.portfolio(ALICE, pid).await.unwrap();
    let placed = portfolio.trade(trade).unwrap();
    // 10 000 × 1.5 % / 1 000 = 0.15
    assert_eq!(placed.plan.quantity, d("0.15"));
    assert_eq!(
        (placed.plan.entry, placed.plan.stop, placed.plan.target),
        (d("50000"), Some(d("51000")), Some(d("47000")))
    );
    assert_eq!(placed.status, TradeStatus::Pending);
    assert_eq!(placed.plan.source, TradeSource::Signal(signal));
}

#[tokio::test]
async fn closing_at_market_uses_the_latest_close_and_moves_the_balance() {
    let f = fixture(Tier::Pro);
    let pid = f.portfolio().await;
    let trade = f
        .service
        .place_trade(ALICE, pid, long(None, true), &f.meta)
        .await
        .unwrap();
    // 10 000 × 2 % / 10 = 20 units.
    let without_price = f
        .service
        .close_trade(
            ALICE,
            pid,
            trade,
            ClosePrice::Market,
            d("0"),
            "tp".into(),
            &f.meta,
        )
        .await;
    assert!(matches!(
        rejected(without_price),
        PortfolioRejection::Invalid(_)
    ));
    f.market
        .closes
        .lock()
        .unwrap()
        .insert(Symbol::parse("BTC/USDT").unwrap(), d("112.5"));
    f.service
        .close_trade(
            ALICE,
            pid,
            trade,
            ClosePrice::Market,
            d("5"),
            "tp".into(),
            &f.meta,
        )
        .await
        .unwrap();
    let portfolio = f.service.portfolio(ALICE, pid).await.unwrap();
    let outcome = portfolio.trade(trade).unwrap().outcome.unwrap();
    assert_eq!(outcome.pnl, d("245"));
    assert_eq!(outcome.r_multiple, Some(d("1.225")));
    assert_eq!(portfolio.balance(), d("10245"));
}
