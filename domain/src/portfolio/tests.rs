use cqrs_es::Aggregate;
use cqrs_es::test::TestFramework;
use rust_decimal::Decimal;
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

use super::*;
use crate::account::FieldError;
use crate::market::{PatternType, Symbol, Timeframe};

type PortfolioTest = TestFramework<Portfolio>;

const T0: OffsetDateTime = datetime!(2026-11-28 09:00 UTC);
const OWNER: Uuid = Uuid::from_u128(1);
const STRANGER: Uuid = Uuid::from_u128(2);
const PID: Uuid = Uuid::from_u128(10);
const TRADE: Uuid = Uuid::from_u128(20);

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn created() -> PortfolioEvent {
    PortfolioEvent::PortfolioCreated {
        portfolio_id: PID,
        owner: OWNER,
        name: "Main".into(),
        currency: "USDT".into(),
        initial_balance: d("10000"),
        description: String::new(),
        at: T0,
    }
}

fn plan(side: Side, entry: &str, quantity: &str, stop: Option<&str>) -> TradePlan {
    TradePlan {
        symbol: Symbol::parse("BTC/USDT").unwrap(),
        side,
        timeframe: Some(Timeframe::H1),
        pattern_type: Some(PatternType::Imbalance),
        entry: d(entry),
        quantity: d(quantity),
        stop: stop.map(d),
        target: None,
        fees: Decimal::ZERO,
        risk_percent: None,
        setup_notes: String::new(),
        source: TradeSource::Manual,
    }
}

fn placed(plan: TradePlan, status: TradeStatus) -> PortfolioEvent {
    PortfolioEvent::TradePlaced {
        trade_id: TRADE,
        plan,
        status,
        sized_from_risk: false,
        balance_at_placement: d("10000"),
        at: T0,
    }
}

fn place(plan: TradePlan, sizing: Sizing) -> PortfolioCommand {
    PortfolioCommand::PlaceTrade {
        by: OWNER,
        trade_id: TRADE,
        plan,
        sizing,
        open: true,
        now: T0,
    }
}

fn close(price: &str, fees: &str) -> PortfolioCommand {
    PortfolioCommand::CloseTrade {
        by: OWNER,
        trade_id: TRADE,
        price: d(price),
        fees: d(fees),
        reason: "target".into(),
        at_market: false,
        now: T0,
    }
}

fn invalid(fields: &[(&'static str, &str)]) -> PortfolioError {
    PortfolioError::Invalid(
        fields
            .iter()
            .map(|(field, message)| FieldError {
                field,
                message: (*message).to_owned(),
            })
            .collect(),
    )
}

fn replay(events: Vec<PortfolioEvent>) -> Portfolio {
    let mut portfolio = Portfolio::default();
    for event in events {
        portfolio.apply(event);
    }
    portfolio
}

#[test]
fn a_portfolio_is_created_with_a_trimmed_name_and_an_upper_case_currency() {
    PortfolioTest::with(())
        .given_no_previous_events()
        .when(PortfolioCommand::Create {
            portfolio_id: PID,
            owner: OWNER,
            name: "  Main ".into(),
            currency: "usdt".into(),
            initial_balance: d("10000.00"),
            description: String::new(),
            now: T0,
        })
        .then_expect_events(vec![created()]);
}

#[test]
fn bad_portfolio_fields_are_all_reported_and_nothing_is_recorded() {
    PortfolioTest::with(())
        .given_no_previous_events()
        .when(PortfolioCommand::Create {
            portfolio_id: PID,
            owner: OWNER,
            name: "x".repeat(101),
            currency: "us dollars".into(),
            initial_balance: d("-5"),
            description: "y".repeat(501),
            now: T0,
        })
        .then_expect_error(invalid(&[
            ("name", "at most 100 characters"),
            (
                "currency",
                "2 to 10 upper-case letters or digits, e.g. USDT",
            ),
            ("initial_balance", "must not be negative"),
            ("description", "at most 500 characters"),
        ]));
}

#[test]
fn another_user_gets_not_found_for_every_command() {
    let commands = [
        PortfolioCommand::Rename {
            by: STRANGER,
            name: "mine".into(),
            now: T0,
        },
        PortfolioCommand::Archive {
            by: STRANGER,
            now: T0,
        },
        PortfolioCommand::Deposit {
            by: STRANGER,
            amount: d("1"),
            note: String::new(),
            now: T0,
        },
        PortfolioCommand::CloseTrade {
            by: STRANGER,
            trade_id: TRADE,
            price: d("1"),
            fees: d("0"),
            reason: String::new(),
            at_market: false,
            now: T0,
        },
        PortfolioCommand::DiscardTrade {
            by: STRANGER,
            trade_id: TRADE,
            now: T0,
        },
        PortfolioCommand::AddJournalEntry {
            by: STRANGER,
            trade_id: TRADE,
            entry_id: Uuid::from_u128(99),
            kind: JournalKind::Lesson,
            content: "x".into(),
            mood: None,
            now: T0,
        },
    ];
    for command in commands {
        PortfolioTest::with(())
            .given(vec![
                created(),
                placed(plan(Side::Long, "100", "1", None), TradeStatus::Open),
            ])
            .when(command)
            .then_expect_error(PortfolioError::NotFound);
    }
}

#[test]
fn the_balance_comes_from_deposits_withdrawals_and_closed_trades_only() {
    let portfolio = replay(vec![
        created(),
        PortfolioEvent::FundsDeposited {
            amount: d("500"),
            note: String::new(),
            at: T0,
        },
        PortfolioEvent::FundsWithdrawn {
            amount: d("200"),
            note: String::new(),
            at: T0,
        },
        placed(plan(Side::Long, "100", "2", None), TradeStatus::Open),
    ]);
    assert_eq!(portfolio.balance(), d("10300"));
}

#[test]
fn sizing_from_risk_divides_the_risked_amount_by_the_stop_distance() {
    let mut wanted = plan(Side::Long, "100", "0", Some("95"));
    wanted.risk_percent = Some(d("1"));
    let mut sized = wanted.clone();
    // 10 000 × 1 % / |100 − 95| = 20.
    sized.quantity = d("20");
    PortfolioTest::with(())
        .given(vec![created()])
        .when(place(wanted, Sizing::FromRisk))
        .then_expect_events(vec![PortfolioEvent::TradePlaced {
            trade_id: TRADE,
            plan: sized,
            status: TradeStatus::Open,
            sized_from_risk: true,
            balance_at_placement: d("10000"),
            at: T0,
        }]);
}

#[test]
fn sized_quantities_round_down_to_eight_places() {
    assert_eq!(
        position_size(d("1000"), d("1"), d("3"), d("0")),
        Some(d("3.33333333"))
    );
    assert_eq!(position_size(d("1000"), d("1"), d("3"), d("3")), None);
}

#[test]
fn a_stop_on_the_wrong_side_zero_prices_and_risk_over_100_are_refused() {
    let mut bad = plan(Side::Long, "0", "-1", Some("5"));
    bad.risk_percent = Some(d("150"));
    PortfolioTest::with(())
        .given(vec![created()])
        .when(place(bad, Sizing::Given))
        .then_expect_error(invalid(&[
            ("entry_price", "must be greater than zero"),
            ("quantity", "must not be negative"),
            ("risk_percent", "must be above 0 and at most 100 percent"),
        ]));
    PortfolioTest::with(())
        .given(vec![created()])
        .when(place(
            plan(Side::Short, "100", "1", Some("90")),
            Sizing::Given,
        ))
        .then_expect_error(invalid(&[(
            "stop_loss",
            "a short's stop must be above the entry",
        )]));
    let mut risky = plan(Side::Long, "100", "0", Some("95"));
    risky.risk_percent = Some(d("101"));
    PortfolioTest::with(())
        .given(vec![created()])
        .when(place(risky, Sizing::FromRisk))
        .then_expect_error(invalid(&[(
            "risk_percent",
            "must be above 0 and at most 100 percent",
        )]));
}

#[test]
fn closing_records_pnl_in_currency_and_percent_and_the_r_multiple() {
    let mut long = plan(Side::Long, "100", "2", Some("95"));
    long.fees = d("1");
    // (110 − 100) × 2 − 1 − 1 = 18; 18 / 200 = 9 %; risk 5 × 2 = 10 → 1.8 R.
    PortfolioTest::with(())
        .given(vec![created(), placed(long, TradeStatus::Open)])
        .when(close("110", "1"))
        .then_expect_events(vec![PortfolioEvent::TradeClosed {
            trade_id: TRADE,
            exit_price: d("110"),
            exit_fees: d("1"),
            reason: "target".into(),
            at_market: false,
            outcome: TradeOutcome {
                pnl: d("18"),
                pnl_percent: d("9"),
                r_multiple: Some(d("1.8")),
            },
            at: T0,
        }]);
    let short = plan(Side::Short, "100", "1", None);
    let result = outcome(&short, d("120"), Decimal::ZERO).unwrap();
    assert_eq!(
        (result.pnl, result.pnl_percent, result.r_multiple),
        (d("-20"), d("-20"), None)
    );
}

#[test]
fn closing_a_trade_that_is_not_open_is_a_field_error() {
    PortfolioTest::with(())
        .given(vec![
            created(),
            placed(plan(Side::Long, "100", "1", None), TradeStatus::Pending),
        ])
        .when(close("110", "0"))
        .then_expect_error(invalid(&[(
            "status",
            "only an open trade can be closed; this one is pending",
        )]));
}

#[test]
fn a_pending_trade_opens_with_the_confirmed_fill_or_is_cancelled() {
    PortfolioTest::with(())
        .given(vec![
            created(),
            placed(
                plan(Side::Long, "100", "1", Some("90")),
                TradeStatus::Pending,
            ),
        ])
        .when(PortfolioCommand::OpenTrade {
            by: OWNER,
            trade_id: TRADE,
            fill_price: d("101"),
            quantity: Some(d("2")),
            fees: None,
            now: T0,
        })
        .then_expect_events(vec![PortfolioEvent::TradeOpened {
            trade_id: TRADE,
            entry: d("101"),
            quantity: d("2"),
            fees: d("0"),
            at: T0,
        }]);
    PortfolioTest::with(())
        .given(vec![
            created(),
            placed(plan(Side::Long, "100", "1", None), TradeStatus::Open),
        ])
        .when(PortfolioCommand::CancelTrade {
            by: OWNER,
            trade_id: TRADE,
            now: T0,
        })
        .then_expect_error(PortfolioError::TradeNotPending("cancelled"));
}

#[test]
fn editing_a_closed_trade_records_only_the_changes_and_recomputes_the_pnl() {
    let closed = PortfolioEvent::TradeClosed {
        trade_id: TRADE,
        exit_price: d("110"),
        exit_fees: d("0"),
        reason: String::new(),
        at_market: false,
        outcome: TradeOutcome {
            pnl: d("10"),
            pnl_percent: d("10"),
            r_multiple: None,
        },
        at: T0,
    };
    PortfolioTest::with(())
        .given(vec![
            created(),
            placed(plan(Side::Long, "100", "1", None), TradeStatus::Open),
            closed,
        ])
        .when(PortfolioCommand::EditTrade {
            by: OWNER,
            trade_id: TRADE,
            edit: TradeEdit {
                entry: Some(d("100")),
                fees: Some(d("2")),
                ..TradeEdit::default()
            },
            now: T0,
        })
        .then_expect_events(vec![PortfolioEvent::TradeEdited {
            trade_id: TRADE,
            changes: TradeEdit {
                fees: Some(d("2")),
                ..TradeEdit::default()
            },
            outcome: Some(TradeOutcome {
                pnl: d("8"),
                pnl_percent: d("8"),
                r_multiple: None,
            }),
            at: T0,
        }]);
}

#[test]
fn discarding_keeps_the_history_and_takes_the_pnl_out_of_the_balance() {
    let history = vec![
        created(),
        placed(plan(Side::Long, "100", "1", None), TradeStatus::Open),
        PortfolioEvent::TradeClosed {
            trade_id: TRADE,
            exit_price: d("150"),
            exit_fees: d("0"),
            reason: String::new(),
            at_market: false,
            outcome: TradeOutcome {
                pnl: d("50"),
                pnl_percent: d("50"),
                r_multiple: None,
            },
            at: T0,
        },
    ];
    assert_eq!(replay(history.clone()).balance(), d("10050"));
    let discarded = PortfolioEvent::TradeDiscarded {
        trade_id: TRADE,
        previous_status: TradeStatus::Closed,
        at: T0,
    };
    PortfolioTest::with(())
        .given(history.clone())
        .when(PortfolioCommand::DiscardTrade {
            by: OWNER,
            trade_id: TRADE,
            now: T0,
        })
        .then_expect_events(vec![discarded.clone()]);
    let mut after = history;
    after.push(discarded);
    let portfolio = replay(after);
    assert_eq!(portfolio.balance(), d("10000"));
    assert_eq!(
        portfolio.trade(TRADE).map(|t| t.status),
        Some(TradeStatus::Discarded)
    );
}

#[test]
fn archiving_waits_for_open_trades_and_an_archived_portfolio_takes_no_trades() {
    PortfolioTest::with(())
        .given(vec![
            created(),
            placed(plan(Side::Long, "100", "1", None), TradeStatus::Open),
        ])
        .when(PortfolioCommand::Archive { by: OWNER, now: T0 })
        .then_expect_error(PortfolioError::TradesStillOpen);
    PortfolioTest::with(())
        .given(vec![
            created(),
            PortfolioEvent::PortfolioArchived { at: T0 },
        ])
        .when(place(plan(Side::Long, "100", "1", None), Sizing::Given))
        .then_expect_error(PortfolioError::Archived);
    PortfolioTest::with(())
        .given(vec![
            created(),
            PortfolioEvent::PortfolioArchived { at: T0 },
        ])
        .when(PortfolioCommand::Restore { by: OWNER, now: T0 })
        .then_expect_events(vec![PortfolioEvent::PortfolioRestored { at: T0 }]);
}

#[test]
fn withdrawing_more_than_the_balance_is_refused() {
    PortfolioTest::with(())
        .given(vec![created()])
        .when(PortfolioCommand::Withdraw {
            by: OWNER,
            amount: d("10000.01"),
            note: String::new(),
            now: T0,
        })
        .then_expect_error(invalid(&[("amount", "more than the portfolio's balance")]));
}

#[test]
fn journal_entries_are_added_edited_and_deleted_on_their_trade_only() {
    let entry = Uuid::from_u128(30);
    let added = PortfolioEvent::JournalEntryAdded {
        trade_id: TRADE,
        entry_id: entry,
        kind: JournalKind::PreTrade,
        content: "waiting for the retest".into(),
        mood: Some(Mood::Confident),
        at: T0,
    };
    let base = vec![
        created(),
        placed(plan(Side::Long, "100", "1", None), TradeStatus::Open),
    ];
    PortfolioTest::with(())
        .given(base.clone())
        .when(PortfolioCommand::AddJournalEntry {
            by: OWNER,
            trade_id: TRADE,
            entry_id: entry,
            kind: JournalKind::PreTrade,
            content: "waiting for the retest".into(),
            mood: Some(Mood::Confident),
            now: T0,
        })
        .then_expect_events(vec![added.clone()]);
    let mut with_entry = base.clone();
    with_entry.push(added);
    PortfolioTest::with(())
        .given(with_entry.clone())
        .when(PortfolioCommand::DeleteJournalEntry {
            by: OWNER,
            trade_id: Uuid::from_u128(21),
            entry_id: entry,
            now: T0,
        })
        .then_expect_error(PortfolioError::TradeNotFound);
    PortfolioTest::with(())
        .given(with_entry)
        .when(PortfolioCommand::EditJournalEntry {
            by: OWNER,
            trade_id: TRADE,
            entry_id: entry,
            kind: JournalKind::Lesson,
            content: "x".repeat(5001),
            mood: None,
            now: T0,
        })
        .then_expect_error(invalid(&[("content", "at most 5000 characters")]));
    PortfolioTest::with(())
        .given(base)
        .when(PortfolioCommand::AddJournalEntry {
            by: OWNER,
            trade_id: TRADE,
            entry_id: entry,
            kind: JournalKind::During,
            content: "   ".into(),
            mood: None,
            now: T0,
        })
        .then_expect_error(invalid(&[("content", "must not be empty")]));
}

#[test]
fn tags_attach_once_and_detach() {
    let tag = Uuid::from_u128(40);
    let base = vec![
        created(),
        placed(plan(Side::Long, "100", "1", None), TradeStatus::Open),
    ];
    PortfolioTest::with(())
        .given(base.clone())
        .when(PortfolioCommand::AttachTag {
            by: OWNER,
            trade_id: TRADE,
            tag_id: tag,
        })
        .then_expect_events(vec![PortfolioEvent::TradeTagAttached {
            trade_id: TRADE,
            tag_id: tag,
        }]);
    let mut attached = base;
    attached.push(PortfolioEvent::TradeTagAttached {
        trade_id: TRADE,
        tag_id: tag,
    });
    PortfolioTest::with(())
        .given(attached.clone())
        .when(PortfolioCommand::AttachTag {
            by: OWNER,
            trade_id: TRADE,
            tag_id: tag,
        })
        .then_expect_events(vec![]);
    PortfolioTest::with(())
        .given(attached)
        .when(PortfolioCommand::DetachTag {
            by: OWNER,
            trade_id: TRADE,
            tag_id: tag,
        })
        .then_expect_events(vec![PortfolioEvent::TradeTagDetached {
            trade_id: TRADE,
            tag_id: tag,
        }]);
}
