use cqrs_es::test::TestFramework;

use super::*;
use crate::market::tracker::{Closure, PatternKey, TrackedPattern};
use crate::market::{Direction, PatternType, Symbol, Timeframe, trading_levels};

type PatternTest = TestFramework<TrackedZone>;

fn tracked() -> TrackedPattern {
    TrackedPattern {
        key: PatternKey {
            timeframe: Timeframe::H1,
            pattern_type: PatternType::Imbalance,
            direction: Direction::Bullish,
            detected_ts: 3_600_000,
        },
        zone_low: 10.0,
        zone_high: 11.0,
        swept_level: None,
        known_at: 7_200_000,
        expires_at: 3_600_000 + 72 * 3_600_000,
        levels: trading_levels(
            PatternType::Imbalance,
            Direction::Bullish,
            10.0,
            11.0,
            0.0,
            None,
            None,
        ),
    }
}

fn facts() -> PatternFacts {
    PatternFacts {
        symbol: Symbol::parse("BTC/USDT").unwrap(),
        timeframe: Timeframe::H1,
        pattern_type: PatternType::Imbalance,
        direction: Direction::Bullish,
        detected_ts: 3_600_000,
    }
}

fn detected() -> PatternEvent {
    let p = tracked();
    PatternEvent::PatternDetected {
        facts: facts(),
        zone_low: 10.0,
        zone_high: 11.0,
        swept_level: None,
        known_at: p.known_at,
        expires_at: p.expires_at,
        levels: p.levels,
    }
}

fn detect() -> PatternCommand {
    PatternCommand::Detect {
        symbol: Symbol::parse("BTC/USDT").unwrap(),
        pattern: tracked(),
    }
}

#[test]
fn a_new_pattern_is_recorded_with_its_levels() {
    PatternTest::with(())
        .given_no_previous_events()
        .when(detect())
        .then_expect_events(vec![detected()]);
}

#[test]
fn detecting_a_known_pattern_again_records_nothing() {
    PatternTest::with(())
        .given(vec![detected()])
        .when(detect())
        .then_expect_events(vec![]);
}

#[test]
fn an_active_pattern_closes_once() {
    PatternTest::with(())
        .given(vec![detected()])
        .when(PatternCommand::Close {
            closure: Closure::Filled,
            at: 9_000_000,
        })
        .then_expect_events(vec![PatternEvent::PatternFilled {
            facts: facts(),
            at: 9_000_000,
        }]);
    PatternTest::with(())
        .given(vec![
            detected(),
            PatternEvent::PatternFilled {
                facts: facts(),
                at: 9_000_000,
            },
        ])
        .when(PatternCommand::Close {
            closure: Closure::Expired,
            at: 9_060_000,
        })
        .then_expect_events(vec![]);
}

#[test]
fn an_unknown_pattern_cannot_close() {
    PatternTest::with(())
        .given_no_previous_events()
        .when(PatternCommand::Close {
            closure: Closure::Invalidated,
            at: 1,
        })
        .then_expect_error(PatternError::NotDetected);
}

#[test]
fn events_serialise_flat_with_the_pattern_facts() {
    let json = serde_json::to_value(PatternEvent::PatternExpired {
        facts: facts(),
        at: 5,
    })
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!({"PatternExpired": {"symbol": "BTC/USDT", "timeframe": "1h",
            "pattern_type": "imbalance", "direction": "bullish", "detected_ts": 3_600_000, "at": 5}})
    );
}
