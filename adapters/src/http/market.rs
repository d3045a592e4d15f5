//! The market read API, authenticated (session or API key with the right
//! scope; tier rules come with the payments issue):
//!
//! | route | scope | limit (default / max) |
//! |---|---|---|
//! | `GET /api/v1/candles/{symbol}/{timeframe}?limit=&before=` | `read:market` | 200 / 1000 |
//! | `GET /api/v1/patterns?symbol=&timeframe=&type=&direction=&status=&limit=&cursor=` | `read:patterns` | 50 / 500 |
//! | `GET /api/v1/signals?symbol=&direction=&outcome=&limit=&cursor=` | `read:signals` | 50 / 500 |
//! | `GET /api/v1/signals/{id}` | `read:signals` | |
//! | `GET /api/v1/matrix?symbol=` | `read:patterns` | |
//!
//! The symbol in a path is `BTC-USDT`, `BTC_USDT` or `BTC%2FUSDT`. A limit
//! outside its range is clamped into it (0 -> 1, 5000 -> the maximum); a
//! parameter that does not parse, or that the route does not know, is a
//! 400 `invalid_parameters` naming each bad field. Lists are newest first;
//! `next_cursor` (absent on the last page) fetches the next page. Times are
//! epoch milliseconds (candle open times, 1m close times for events).

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use domain::market::tracker::PATTERN_PRIORITY;
use domain::market::{Direction, PatternType, Symbol, Timeframe, round2};
use domain::pattern::PatternStatus;
use projections::market::patterns::PatternView;
use projections::market::signals::SignalView;
use serde::Serialize;
use uuid::Uuid;

use super::AppState;
use super::auth::{ApiScope, CurrentUser};
use super::error::{ApiError, ApiJson};
use crate::read_models::market::{patterns, signals};

pub const CANDLES_LIMIT: (i64, i64) = (200, 1000);
pub const LIST_LIMIT: (i64, i64) = (50, 500);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/candles/{symbol}/{timeframe}", get(get_candles))
        .route("/api/v1/patterns", get(list_patterns))
        .route("/api/v1/signals", get(list_signals))
        .route("/api/v1/signals/{id}", get(get_signal))
        .route("/api/v1/matrix", get(get_matrix))
}

/// Query parameters, checked one by one; every problem is kept so the 400
/// names all the bad fields at once.
struct Params {
    raw: HashMap<String, String>,
    errors: Vec<(&'static str, String)>,
}

impl Params {
    fn new(raw: HashMap<String, String>, known: &[&'static str]) -> Self {
        let mut errors = Vec::new();
        let mut unknown: Vec<&String> = raw
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .collect();
        unknown.sort();
        for key in unknown {
            errors.push((
                "unknown",
                format!("unknown parameter `{key}`; known: {}", known.join(", ")),
            ));
        }
        Self { raw, errors }
    }

    fn parse<T>(
        &mut self,
        field: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let value = self.raw.get(field)?.trim();
        if value.is_empty() {
            return None;
        }
        match parse(value) {
            Ok(v) => Some(v),
            Err(message) => {
                self.errors.push((field, message));
                None
            }
        }
    }

    fn limit(&mut self, (default, max): (i64, i64)) -> i64 {
        self.parse("limit", |v| {
            v.parse::<i64>()
                .map_err(|_| format!("`{v}` is not a whole number (1 to {max})"))
        })
        .map_or(default, |n| n.clamp(1, max))
    }

    fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::InvalidParameters {
                fields: self.errors,
            })
        }
    }
}

fn symbol(v: &str) -> Result<Symbol, String> {
    Symbol::parse(v).map_err(|e| e.to_string())
}

fn timeframe(v: &str) -> Result<Timeframe, String> {
    Timeframe::parse(v).map_err(|e| e.to_string())
}

fn direction(v: &str) -> Result<Direction, String> {
    match v {
        "long" => Ok(Direction::Bullish),
        "short" => Ok(Direction::Bearish),
        _ => Direction::parse(v)
            .ok_or_else(|| format!("`{v}` is not a direction (bullish, bearish, long, short)")),
    }
}

fn cursor(v: &str) -> Result<(i64, Uuid), String> {
    let bad = || format!("`{v}` is not a cursor from a previous page");
    let (ts, id) = v.split_once('_').ok_or_else(bad)?;
    Ok((
        ts.parse().map_err(|_| bad())?,
        Uuid::parse_str(id).map_err(|_| bad())?,
    ))
}

fn next_cursor(len: usize, limit: i64, last: Option<(i64, Uuid)>) -> Option<String> {
    (len as i64 == limit)
        .then_some(last)
        .flatten()
        .map(|(ts, id)| format!("{ts}_{id}"))
}

#[derive(Debug, Serialize)]
pub struct CandleResponse {
    pub open_time: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

#[derive(Debug, Serialize)]
pub struct CandlesResponse {
    pub symbol: String,
    pub timeframe: String,
    /// Ascending by open time; only closed candles exist.
    pub candles: Vec<CandleResponse>,
}

async fn get_candles(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((symbol_text, timeframe_text)): Path<(String, String)>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<ApiJson<CandlesResponse>, ApiError> {
    user.require_scope(ApiScope::ReadMarket)?;
    let mut params = Params::new(raw, &["limit", "before"]);
    let parsed_symbol = symbol(&symbol_text)
        .map_err(|e| params.errors.push(("symbol", e)))
        .ok();
    let parsed_tf = timeframe(&timeframe_text)
        .map_err(|e| params.errors.push(("timeframe", e)))
        .ok();
    let limit = params.limit(CANDLES_LIMIT);
    let before = params.parse("before", |v| {
        v.parse::<i64>()
            .map_err(|_| format!("`{v}` is not epoch milliseconds"))
    });
    params.finish()?;
    let (Some(symbol), Some(tf)) = (parsed_symbol, parsed_tf) else {
        return Err(ApiError::NotFound);
    };
    use commands::market::CandleStore;
    let store = crate::market::candles::PgCandleStore::new(state.pool.clone());
    let candles = store
        .tail_before(
            &symbol,
            tf,
            before.unwrap_or(i64::MAX),
            usize::try_from(limit).unwrap_or(1),
        )
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    Ok(ApiJson(CandlesResponse {
        symbol: symbol.to_string(),
        timeframe: tf.to_string(),
        candles: candles
            .into_iter()
            .map(|c| CandleResponse {
                open_time: c.open_time,
                open: c.open,
                high: c.high,
                low: c.low,
                close: c.close,
                volume: c.volume,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize)]
pub struct LevelsResponse {
    pub atr: f64,
    pub swing_high: Option<f64>,
    pub swing_low: Option<f64>,
    pub entry: f64,
    pub stop_loss: f64,
    pub take_profit_1: f64,
    pub take_profit_2: f64,
    pub take_profit_3: f64,
    pub risk: f64,
    /// Rounded to 2 decimals, as the original stored them.
    pub risk_reward_1: f64,
    pub risk_reward_2: f64,
    pub risk_reward_3: f64,
}

#[derive(Debug, Serialize)]
pub struct PatternResponse {
    pub id: Uuid,
    pub symbol: String,
    pub timeframe: String,
    #[serde(rename = "type")]
    pub pattern_type: String,
    pub direction: String,
    pub zone_low: f64,
    pub zone_high: f64,
    pub swept_level: Option<f64>,
    /// Open time of the detection candle.
    pub detected_at: i64,
    /// When the detection candle closed and the pattern became known.
    pub known_at: i64,
    pub expires_at: i64,
    pub status: String,
    pub closed_at: Option<i64>,
    pub levels: LevelsResponse,
}

impl From<PatternView> for PatternResponse {
    fn from(v: PatternView) -> Self {
        Self {
            id: v.pattern_id,
            symbol: v.symbol,
            timeframe: v.timeframe,
            pattern_type: v.pattern_type,
            direction: v.direction,
            zone_low: v.zone_low,
            zone_high: v.zone_high,
            swept_level: v.swept_level,
            detected_at: v.detected_ts,
            known_at: v.known_at,
            expires_at: v.expires_at,
            status: v.status,
            closed_at: v.closed_at,
            levels: LevelsResponse {
                atr: v.atr,
                swing_high: v.swing_high,
                swing_low: v.swing_low,
                entry: v.entry,
                stop_loss: v.stop_loss,
                take_profit_1: v.take_profit_1,
                take_profit_2: v.take_profit_2,
                take_profit_3: v.take_profit_3,
                risk: v.risk,
                risk_reward_1: round2(v.risk_reward_1),
                risk_reward_2: round2(v.risk_reward_2),
                risk_reward_3: round2(v.risk_reward_3),
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PatternsResponse {
    pub patterns: Vec<PatternResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

async fn list_patterns(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<ApiJson<PatternsResponse>, ApiError> {
    user.require_scope(ApiScope::ReadPatterns)?;
    let mut params = Params::new(
        raw,
        &[
            "symbol",
            "timeframe",
            "type",
            "direction",
            "status",
            "limit",
            "cursor",
        ],
    );
    let filter = patterns::PatternFilter {
        symbol: params.parse("symbol", symbol).map(|s| s.to_string()),
        timeframe: params.parse("timeframe", timeframe).map(|t| t.to_string()),
        pattern_type: params
            .parse("type", |v| {
                PatternType::parse(v).ok_or_else(|| {
                    format!("`{v}` is not a pattern type (imbalance, order_block, liquidity_sweep)")
                })
            })
            .map(|t| t.as_str().to_owned()),
        direction: params
            .parse("direction", direction)
            .map(|d| d.as_str().to_owned()),
        status: params
            .parse("status", |v| {
                PatternStatus::parse(v).ok_or_else(|| {
                    format!("`{v}` is not a status (active, filled, invalidated, expired)")
                })
            })
            .map(|s| s.as_str().to_owned()),
        before: params.parse("cursor", cursor),
    };
    let limit = params.limit(LIST_LIMIT);
    params.finish()?;
    let rows = patterns::list(&state.pool, &filter, limit)
        .await
        .map_err(ApiError::internal)?;
    let next = next_cursor(
        rows.len(),
        limit,
        rows.last().map(|r| (r.detected_ts, r.pattern_id)),
    );
    Ok(ApiJson(PatternsResponse {
        patterns: rows.into_iter().map(Into::into).collect(),
        next_cursor: next,
    }))
}

#[derive(Debug, Serialize)]
pub struct SignalResponse {
    pub id: Uuid,
    pub symbol: String,
    /// `long` or `short`.
    pub side: String,
    pub direction: String,
    /// The 1m close after which it was generated.
    pub created_at: i64,
    pub pattern_id: Uuid,
    pub pattern_timeframe: String,
    pub pattern_type: String,
    pub zone_low: f64,
    pub zone_high: f64,
    pub confluence: i32,
    /// Out of the seven pattern timeframes.
    pub confluence_of: usize,
    pub timeframes_aligned: Vec<String>,
    pub entry: f64,
    pub stop_loss: f64,
    pub take_profit_1: f64,
    pub take_profit_2: f64,
    pub take_profit_3: f64,
    pub risk_reward: f64,
    pub valid_until: i64,
    pub entered_at: Option<i64>,
    pub targets_reached: Vec<u8>,
    /// `open` until resolved, then `tp1`, `tp2`, `tp3`, `stopped` or `expired`.
    pub outcome: String,
    pub resolved_at: Option<i64>,
    pub closed_by: Option<String>,
}

impl From<SignalView> for SignalResponse {
    fn from(v: SignalView) -> Self {
        let targets_reached = [v.tp1_at, v.tp2_at, v.tp3_at]
            .iter()
            .enumerate()
            .filter(|(_, at)| at.is_some())
            .map(|(i, _)| i as u8 + 1)
            .collect();
        Self {
            id: v.signal_id,
            symbol: v.symbol,
            side: Direction::parse(&v.direction)
                .map_or("", Direction::side)
                .to_owned(),
            direction: v.direction,
            created_at: v.created_at,
            pattern_id: v.pattern_id,
            pattern_timeframe: v.pattern_timeframe,
            pattern_type: v.pattern_type,
            zone_low: v.zone_low,
            zone_high: v.zone_high,
            confluence: v.confluence,
            confluence_of: PATTERN_PRIORITY.len(),
            timeframes_aligned: v.timeframes_aligned,
            entry: v.entry,
            stop_loss: v.stop_loss,
            take_profit_1: v.take_profit_1,
            take_profit_2: v.take_profit_2,
            take_profit_3: v.take_profit_3,
            risk_reward: v.risk_reward,
            valid_until: v.valid_until,
            entered_at: v.entered_at,
            targets_reached,
            outcome: v.outcome.unwrap_or_else(|| "open".to_owned()),
            resolved_at: v.resolved_at,
            closed_by: v.closed_by,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SignalsResponse {
    pub signals: Vec<SignalResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

const OUTCOMES: [&str; 6] = ["open", "tp1", "tp2", "tp3", "stopped", "expired"];

async fn list_signals(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<ApiJson<SignalsResponse>, ApiError> {
    user.require_scope(ApiScope::ReadSignals)?;
    let mut params = Params::new(raw, &["symbol", "direction", "outcome", "limit", "cursor"]);
    let filter = signals::SignalFilter {
        symbol: params.parse("symbol", symbol).map(|s| s.to_string()),
        direction: params
            .parse("direction", direction)
            .map(|d| d.as_str().to_owned()),
        outcome: params.parse("outcome", |v| {
            OUTCOMES
                .contains(&v)
                .then(|| v.to_owned())
                .ok_or_else(|| format!("`{v}` is not an outcome ({})", OUTCOMES.join(", ")))
        }),
        before: params.parse("cursor", cursor),
    };
    let limit = params.limit(LIST_LIMIT);
    params.finish()?;
    let rows = signals::list(&state.pool, &filter, limit)
        .await
        .map_err(ApiError::internal)?;
    let next = next_cursor(
        rows.len(),
        limit,
        rows.last().map(|r| (r.created_at, r.signal_id)),
    );
    Ok(ApiJson(SignalsResponse {
        signals: rows.into_iter().map(Into::into).collect(),
        next_cursor: next,
    }))
}

async fn get_signal(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<ApiJson<SignalResponse>, ApiError> {
    user.require_scope(ApiScope::ReadSignals)?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::InvalidParameters {
        fields: vec![("id", format!("`{id}` is not a signal id (a UUID)"))],
    })?;
    let signal = signals::find(&state.pool, id)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError::NotFound)?;
    Ok(ApiJson(signal.into()))
}

#[derive(Debug, Serialize)]
pub struct MatrixCellResponse {
    pub symbol: String,
    pub timeframe: String,
    #[serde(rename = "type")]
    pub pattern_type: String,
    pub direction: String,
    pub zone_low: f64,
    pub zone_high: f64,
    pub detected_at: i64,
    pub pattern_id: Uuid,
}

#[derive(Debug, Serialize)]
pub struct MatrixResponse {
    /// The newest active pattern per symbol, timeframe and type; cells
    /// without an active pattern are absent.
    pub cells: Vec<MatrixCellResponse>,
}

async fn get_matrix(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<ApiJson<MatrixResponse>, ApiError> {
    user.require_scope(ApiScope::ReadPatterns)?;
    let mut params = Params::new(raw, &["symbol"]);
    let only = params.parse("symbol", symbol).map(|s| s.to_string());
    params.finish()?;
    let cells = patterns::matrix(&state.pool)
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .filter(|c| only.as_ref().is_none_or(|s| *s == c.symbol))
        .map(|c| MatrixCellResponse {
            symbol: c.symbol,
            timeframe: c.timeframe,
            pattern_type: c.pattern_type,
            direction: c.direction,
            zone_low: c.zone_low,
            zone_high: c.zone_high,
            detected_at: c.detected_ts,
            pattern_id: c.pattern_id,
        })
        .collect();
    Ok(ApiJson(MatrixResponse { cells }))
}
