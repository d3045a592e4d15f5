//! A local fake of Binance's public REST API for tests and benchmarks:
//! `GET /api/v3/time` and `GET /api/v3/klines` served from in-memory
//! series, with scripted faults (HTTP statuses, rate limits with
//! `Retry-After`, slow answers) and a record of the requests it got.
//! Nothing here ever talks to the real exchange.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::market::{Candle, Symbol};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// A fault the fake answers the next request with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// An HTTP status with an empty JSON body.
    Status(u16),
    /// 429 with `Retry-After: <seconds>`.
    RateLimited { retry_after_secs: u64 },
    /// Answer normally, but only after this long.
    Delay(Duration),
}

#[derive(Default)]
struct FakeState {
    series: Mutex<HashMap<String, Vec<Candle>>>,
    now_ms: AtomicI64,
    faults: Mutex<VecDeque<Fault>>,
    requests: AtomicUsize,
    klines: Mutex<Vec<KlinesRequest>>,
    used_weight: AtomicU32,
}

/// One klines request as the fake saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KlinesRequest {
    pub symbol: String,
    pub start_time: Option<i64>,
    pub limit: usize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub struct FakeBinance {
    addr: SocketAddr,
    state: Arc<FakeState>,
    shutdown: CancellationToken,
}

impl FakeBinance {
    /// Starts the fake on `127.0.0.1:0`; it stops when dropped.
    pub async fn start() -> anyhow::Result<Self> {
        let state = Arc::new(FakeState::default());
        let app = Router::new()
            .route("/api/v3/time", get(server_time))
            .route("/api/v3/klines", get(klines))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the fake Binance")?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
        });
        Ok(Self {
            addr,
            state,
            shutdown,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves `candles` (ascending) for `symbol`.
    pub fn set_series(&self, symbol: &Symbol, candles: Vec<Candle>) {
        lock(&self.state.series).insert(symbol.compact(), candles);
    }

    /// The fake's clock: candles opening after it do not exist yet, the one
    /// containing it is still forming (and is served, as Binance does).
    pub fn set_now(&self, now_ms: i64) {
        self.state.now_ms.store(now_ms, Ordering::SeqCst);
    }

    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.state.faults).extend(faults);
    }

    /// The `X-MBX-USED-WEIGHT-1M` value sent with every answer.
    pub fn set_used_weight(&self, used: u32) {
        self.state.used_weight.store(used, Ordering::SeqCst);
    }

    /// Requests received (all endpoints, faults included).
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    pub fn klines_requests(&self) -> Vec<KlinesRequest> {
        lock(&self.state.klines).clone()
    }
}

impl Drop for FakeBinance {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Applies the next scripted fault, if any; `Some` is the answer to send.
async fn fault(state: &FakeState) -> Option<Response> {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let next = lock(&state.faults).pop_front();
    match next {
        None => None,
        Some(Fault::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            None
        }
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Some(
                (
                    status,
                    axum::Json(json!({"code": -1000, "msg": "scripted fault"})),
                )
                    .into_response(),
            )
        }
        Some(Fault::RateLimited { retry_after_secs }) => {
            let mut headers = HeaderMap::new();
            headers.insert("retry-after", HeaderValue::from(retry_after_secs));
            Some(
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    headers,
                    axum::Json(json!({"code": -1003, "msg": "Too many requests"})),
                )
                    .into_response(),
            )
        }
    }
}

fn with_weight(state: &FakeState, body: Value) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-mbx-used-weight-1m",
        HeaderValue::from(state.used_weight.load(Ordering::SeqCst)),
    );
    (headers, axum::Json(body)).into_response()
}

async fn server_time(State(state): State<Arc<FakeState>>) -> Response {
    if let Some(answer) = fault(&state).await {
        return answer;
    }
    with_weight(
        &state,
        json!({"serverTime": state.now_ms.load(Ordering::SeqCst)}),
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KlinesQuery {
    symbol: String,
    interval: String,
    start_time: Option<i64>,
    limit: Option<usize>,
}

async fn klines(State(state): State<Arc<FakeState>>, Query(query): Query<KlinesQuery>) -> Response {
    if let Some(answer) = fault(&state).await {
        return answer;
    }
    let limit = query.limit.unwrap_or(500).min(1000);
    lock(&state.klines).push(KlinesRequest {
        symbol: query.symbol.clone(),
        start_time: query.start_time,
        limit,
    });
    if query.interval != "1m" {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"code": -1120, "msg": "Invalid interval."})),
        )
            .into_response();
    }
    let series = lock(&state.series);
    let Some(candles) = series.get(&query.symbol) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"code": -1121, "msg": "Invalid symbol."})),
        )
            .into_response();
    };
    let now = state.now_ms.load(Ordering::SeqCst);
    let start = query.start_time.unwrap_or(i64::MIN);
    let rows: Vec<Value> = candles
        .iter()
        .filter(|c| c.open_time >= start && c.open_time <= now)
        .take(limit)
        .map(|c| {
            json!([
                c.open_time,
                c.open.to_string(),
                c.high.to_string(),
                c.low.to_string(),
                c.close.to_string(),
                c.volume.to_string(),
                c.open_time + 59_999,
                "0",
                0,
                "0",
                "0",
                "0"
            ])
        })
        .collect();
    drop(series);
    with_weight(&state, Value::Array(rows))
}
