use cqrs_es::test::TestFramework;
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::market::Symbol;

type SymbolTest = TestFramework<Listing>;

const NOW: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn listed(s: &str) -> SymbolEvent {
    SymbolEvent::SymbolListed {
        symbol: sym(s),
        mandatory: sym(s).is_mandatory(),
        notifications: true,
        at: NOW,
    }
}

#[test]
fn listing_a_pair_records_whether_it_is_mandatory() {
    SymbolTest::with(())
        .given_no_previous_events()
        .when(SymbolCommand::List {
            symbol: sym("btc/usdt"),
            now: NOW,
        })
        .then_expect_events(vec![SymbolEvent::SymbolListed {
            symbol: sym("BTC/USDT"),
            mandatory: true,
            notifications: true,
            at: NOW,
        }]);
}

#[test]
fn a_listed_pair_cannot_be_listed_again_but_a_delisted_one_can() {
    SymbolTest::with(())
        .given(vec![listed("ADA/USDT")])
        .when(SymbolCommand::List {
            symbol: sym("ADA/USDT"),
            now: NOW,
        })
        .then_expect_error(SymbolError::AlreadyListed);
    let delisted = SymbolEvent::SymbolDelisted {
        symbol: sym("ADA/USDT"),
        at: NOW,
    };
    SymbolTest::with(())
        .given(vec![listed("ADA/USDT"), delisted])
        .when(SymbolCommand::List {
            symbol: sym("ADA/USDT"),
            now: NOW,
        })
        .then_expect_events(vec![listed("ADA/USDT")]);
}

#[test]
fn mandatory_pairs_cannot_be_delisted() {
    SymbolTest::with(())
        .given(vec![listed("ETH/USDT")])
        .when(SymbolCommand::Delist { now: NOW })
        .then_expect_error(SymbolError::Mandatory);
}

#[test]
fn other_pairs_can_be_delisted_once() {
    SymbolTest::with(())
        .given(vec![listed("ADA/USDT")])
        .when(SymbolCommand::Delist { now: NOW })
        .then_expect_events(vec![SymbolEvent::SymbolDelisted {
            symbol: sym("ADA/USDT"),
            at: NOW,
        }]);
    SymbolTest::with(())
        .given(vec![
            listed("ADA/USDT"),
            SymbolEvent::SymbolDelisted {
                symbol: sym("ADA/USDT"),
                at: NOW,
            },
        ])
        .when(SymbolCommand::Delist { now: NOW })
        .then_expect_error(SymbolError::NotListed);
}

#[test]
fn notifications_can_be_switched_off_even_on_mandatory_pairs() {
    SymbolTest::with(())
        .given(vec![listed("SOL/USDT")])
        .when(SymbolCommand::SetNotifications {
            enabled: false,
            now: NOW,
        })
        .then_expect_events(vec![SymbolEvent::SymbolNotificationsChanged {
            symbol: sym("SOL/USDT"),
            enabled: false,
            at: NOW,
        }]);
    SymbolTest::with(())
        .given(vec![listed("SOL/USDT")])
        .when(SymbolCommand::SetNotifications {
            enabled: true,
            now: NOW,
        })
        .then_expect_error(SymbolError::Unchanged);
}

#[test]
fn an_unknown_pair_cannot_be_changed() {
    SymbolTest::with(())
        .given_no_previous_events()
        .when(SymbolCommand::Delist { now: NOW })
        .then_expect_error(SymbolError::NotListed);
}
