use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::market::tracker::{
    ClosedBy, Outcome, PatternKey, SignalKey, SignalLevels, TrackedSignal,
};
use crate::market::{Direction, PatternType, Symbol, Timeframe};

type SignalTest = TestFramework<Signal>;

fn tracked() -> TrackedSignal {
    TrackedSignal {
        key: SignalKey {
            direction: Direction::Bearish,
            created_at: 600_000,
        },
        pattern: PatternKey {
            timeframe: Timeframe::H4,
            pattern_type: PatternType::OrderBlock,
            direction: Direction::Bearish,
            detected_ts: 0,
        },
        zone_low: 10.0,
        zone_high: 11.0,
        aligned: vec![Timeframe::M5, Timeframe::H1, Timeframe::H4],
        levels: SignalLevels {
            atr: 0.0,
            entry: 10.0,
            stop_loss: 11.5,
            take_profit_1: 8.5,
            take_profit_2: 7.0,
            take_profit_3: 5.5,
            risk: 1.5,
            risk_reward: 3.0,
        },
        valid_until: 600_000 + 168 * 3_600_000,
        entered: false,
        best_target: 0,
    }
}

fn facts() -> SignalFacts {
    SignalFacts {
        symbol: Symbol::parse("ETH/USDT").unwrap(),
        direction: Direction::Bearish,
        created_at: 600_000,
    }
}

fn generated() -> SignalEvent {
    let s = tracked();
    SignalEvent::SignalGenerated {
        facts: facts(),
        pattern_id: Uuid::from_u128(1),
        pattern: s.pattern,
        zone_low: 10.0,
        zone_high: 11.0,
        timeframes_aligned: s.aligned.clone(),
        confluence: 3,
        levels: s.levels,
        valid_until: s.valid_until,
    }
}

#[test]
fn a_signal_is_generated_once() {
    let generate = || SignalCommand::Generate {
        symbol: Symbol::parse("ETH/USDT").unwrap(),
        pattern_id: Uuid::from_u128(1),
        signal: tracked(),
    };
    SignalTest::with(())
        .given_no_previous_events()
        .when(generate())
        .then_expect_events(vec![generated()]);
    SignalTest::with(())
        .given(vec![generated()])
        .when(generate())
        .then_expect_events(vec![]);
}

#[test]
fn entry_targets_and_resolution_are_recorded_once_each() {
    let entered = SignalEvent::SignalEntered {
        facts: facts(),
        at: 660_000,
    };
    SignalTest::with(())
        .given(vec![generated()])
        .when(SignalCommand::Enter { at: 660_000 })
        .then_expect_events(vec![entered.clone()]);
    SignalTest::with(())
        .given(vec![generated(), entered.clone()])
        .when(SignalCommand::Enter { at: 720_000 })
        .then_expect_events(vec![]);
    let tp1 = SignalEvent::SignalTargetReached {
        facts: facts(),
        target: 1,
        at: 720_000,
    };
    SignalTest::with(())
        .given(vec![generated(), entered.clone(), tp1.clone()])
        .when(SignalCommand::ReachTarget {
            target: 1,
            at: 780_000,
        })
        .then_expect_events(vec![]);
    let resolved = SignalEvent::SignalResolved {
        facts: facts(),
        outcome: Outcome::Tp1,
        closed_by: ClosedBy::Stop,
        at: 840_000,
    };
    SignalTest::with(())
        .given(vec![generated(), entered.clone(), tp1.clone()])
        .when(SignalCommand::Resolve {
            outcome: Outcome::Tp1,
            closed_by: ClosedBy::Stop,
            at: 840_000,
        })
        .then_expect_events(vec![resolved.clone()]);
    SignalTest::with(())
        .given(vec![generated(), entered, tp1, resolved])
        .when(SignalCommand::ReachTarget {
            target: 2,
            at: 900_000,
        })
        .then_expect_events(vec![]);
}

#[test]
fn an_unknown_signal_cannot_progress() {
    SignalTest::with(())
        .given_no_previous_events()
        .when(SignalCommand::Enter { at: 1 })
        .then_expect_error(SignalError::NotGenerated);
}
