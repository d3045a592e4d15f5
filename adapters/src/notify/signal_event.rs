//! Reading `SignalGenerated` events into [`SignalAlert`]s. The payload
//! mirrors the market work's `SignalEvent::SignalGenerated` (facts
//! flattened, a `pattern` key, `levels`); only the fields a push needs are
//! read, so additions on the market side do not break it.

use domain::market::{Direction, PatternType, Timeframe};
use domain::notification::SignalAlert;
use projections::RecordedEvent;
use serde::Deserialize;

pub const SIGNAL_GENERATED: &str = "SignalGenerated";
pub const SIGNAL_RESOLVED: &str = "SignalResolved";

#[derive(Deserialize)]
struct Generated {
    symbol: String,
    direction: Direction,
    created_at: i64,
    pattern: PatternKey,
    timeframes_aligned: Vec<Timeframe>,
    confluence: usize,
    levels: Levels,
}

#[derive(Deserialize)]
struct PatternKey {
    timeframe: Timeframe,
    pattern_type: PatternType,
}

#[derive(Deserialize)]
struct Levels {
    entry: f64,
    stop_loss: f64,
    take_profit_1: f64,
    take_profit_2: f64,
    take_profit_3: f64,
    risk_reward: f64,
}

#[derive(Deserialize)]
enum Payload {
    SignalGenerated(Generated),
}

pub fn alert(event: &RecordedEvent) -> anyhow::Result<SignalAlert> {
    let Payload::SignalGenerated(g) =
        serde_json::from_value(event.payload.clone()).map_err(|error| {
            anyhow::anyhow!(
                "event {} is not a SignalGenerated: {error}",
                event.global_position
            )
        })?;
    Ok(SignalAlert {
        signal_id: event.aggregate_id.clone(),
        symbol: g.symbol,
        direction: g.direction,
        pattern: g.pattern.pattern_type,
        timeframe: g.pattern.timeframe,
        entry: g.levels.entry,
        stop_loss: g.levels.stop_loss,
        take_profits: [
            g.levels.take_profit_1,
            g.levels.take_profit_2,
            g.levels.take_profit_3,
        ],
        risk_reward: g.levels.risk_reward,
        confluence: g.confluence,
        aligned: g.timeframes_aligned,
        created_at_ms: g.created_at,
    })
}
