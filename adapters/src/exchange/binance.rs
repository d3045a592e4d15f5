//! Binance spot public klines over reqwest (`GET /api/v3/klines`).
//!
//! * Base URL from configuration (tests point it at the local fake).
//! * Pages of at most 1000 candles; only closed candles are returned.
//! * The request-weight budget per minute is respected: the client counts
//!   the weight it spends, trusts `X-MBX-USED-WEIGHT-1M` when Binance sends
//!   it, and waits for the next minute rather than go over its limit.
//! * Retries with jittered exponential backoff on 429/418 (honouring
//!   `Retry-After`), 5xx, timeouts and connection errors.
//! * A circuit breaker stops calling Binance after repeated failures.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use commands::market::{Exchange, ExchangeError, PAGE_SIZE};
use domain::market::{Candle, Symbol, Timeframe};
use serde_json::Value;

use super::breaker::CircuitBreaker;

/// Weight of one klines request (limit up to 1000) and of a time request.
const KLINES_WEIGHT: u32 = 2;
const TIME_WEIGHT: u32 = 1;
/// The longest `Retry-After` the client is willing to wait inside a call.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct BinanceOptions {
    pub base_url: String,
    pub timeout: Duration,
    pub max_retries: usize,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// Request weight this client spends per minute at most (Binance allows
    /// 6000 per IP).
    pub weight_limit: u32,
    pub breaker_failures: u32,
    pub breaker_open: Duration,
}

impl Default for BinanceOptions {
    fn default() -> Self {
        Self {
            base_url: "https://api.binance.com".to_owned(),
            timeout: Duration::from_secs(10),
            max_retries: 4,
            min_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            weight_limit: 5000,
            breaker_failures: 5,
            breaker_open: Duration::from_secs(30),
        }
    }
}

/// The wall clock in epoch ms (injectable for tests).
pub type WallClock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system_clock() -> WallClock {
    Arc::new(|| (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The per-minute weight budget.
#[derive(Debug)]
pub struct WeightGate {
    limit: u32,
    state: Mutex<(i64, u32)>,
}

impl WeightGate {
    pub fn new(limit: u32) -> Self {
        Self {
            limit: limit.max(1),
            state: Mutex::new((i64::MIN, 0)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (i64, u32)> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Spends `weight` now if the minute's budget allows; otherwise returns
    /// how long to wait for the next minute.
    pub fn reserve(&self, weight: u32, now_ms: i64) -> Option<Duration> {
        let minute = now_ms.div_euclid(60_000);
        let mut state = self.lock();
        if state.0 != minute {
            *state = (minute, 0);
        }
        if state.1 + weight <= self.limit {
            state.1 += weight;
            None
        } else {
            let wait = (minute + 1) * 60_000 - now_ms;
            Some(Duration::from_millis(
                u64::try_from(wait.max(1)).unwrap_or(1),
            ))
        }
    }

    /// What Binance says this minute's usage is.
    pub fn observe(&self, used: u32, now_ms: i64) {
        let minute = now_ms.div_euclid(60_000);
        let mut state = self.lock();
        if state.0 == minute {
            state.1 = state.1.max(used);
        } else {
            *state = (minute, used);
        }
    }
}

pub struct BinanceExchange {
    client: reqwest::Client,
    options: BinanceOptions,
    breaker: CircuitBreaker,
    weight: WeightGate,
    clock: WallClock,
}

fn retryable(error: &ExchangeError) -> bool {
    matches!(
        error,
        ExchangeError::RateLimited { .. } | ExchangeError::Unavailable(_)
    )
}

impl BinanceExchange {
    pub fn new(options: BinanceOptions, clock: WallClock) -> Result<Self, ExchangeError> {
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .user_agent("cryptolens")
            .build()
            .map_err(|e| ExchangeError::Unavailable(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            client,
            breaker: CircuitBreaker::new(options.breaker_failures, options.breaker_open),
            weight: WeightGate::new(options.weight_limit),
            options,
            clock,
        })
    }

    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    async fn reserve(&self, weight: u32) {
        while let Some(wait) = self.weight.reserve(weight, (self.clock)()) {
            tracing::warn!(
                ?wait,
                "Binance request weight budget spent; waiting for the next minute"
            );
            tokio::time::sleep(wait).await;
        }
    }

    async fn send_once(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, ExchangeError> {
        let url = format!("{}{path}", self.options.base_url.trim_end_matches('/'));
        let response = self
            .client
            .get(&url)
            .query(query)
            .send()
            .await
            .map_err(|e| ExchangeError::Unavailable(format!("GET {path}: {e}")))?;
        if let Some(used) = response
            .headers()
            .get("x-mbx-used-weight-1m")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u32>().ok())
        {
            self.weight.observe(used, (self.clock)());
        }
        let status = response.status();
        if status.as_u16() == 429 || status.as_u16() == 418 {
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err(ExchangeError::RateLimited { retry_after });
        }
        if status.is_server_error() {
            return Err(ExchangeError::Unavailable(format!(
                "GET {path}: HTTP {status}"
            )));
        }
        let body = response.text().await.map_err(|e| {
            ExchangeError::Unavailable(format!("GET {path}: reading the body: {e}"))
        })?;
        if !status.is_success() {
            let code = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v.get("code").and_then(Value::as_i64));
            if code == Some(-1121) {
                let symbol = query
                    .iter()
                    .find(|(k, _)| *k == "symbol")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                return Err(ExchangeError::UnknownSymbol(symbol));
            }
            return Err(ExchangeError::Malformed(format!(
                "GET {path}: HTTP {status}: {body}"
            )));
        }
        serde_json::from_str(&body)
            .map_err(|e| ExchangeError::Malformed(format!("GET {path}: {e}")))
    }

    /// One logical call: weight budget, breaker, retries with jittered backoff.
    async fn call(
        &self,
        path: &str,
        query: Vec<(&str, String)>,
        weight: u32,
    ) -> Result<Value, ExchangeError> {
        let attempt = || async {
            self.reserve(weight).await;
            self.breaker
                .acquire()
                .map_err(|_| ExchangeError::CircuitOpen)?;
            let result = self.send_once(path, &query).await;
            // Rate limits and client errors say nothing about Binance's health.
            self.breaker
                .record(!matches!(result, Err(ExchangeError::Unavailable(_))));
            result
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.options.min_backoff)
            .with_max_delay(self.options.max_backoff)
            .with_max_times(self.options.max_retries)
            .with_jitter();
        attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(retryable)
            .adjust(|error, delay| match (error, delay) {
                (
                    ExchangeError::RateLimited {
                        retry_after: Some(after),
                    },
                    Some(_),
                ) => (*after <= MAX_RETRY_AFTER).then_some(*after),
                (_, delay) => delay,
            })
            .notify(|error, delay| {
                tracing::warn!(error = %error, ?delay, "Binance call failed; retrying");
            })
            .await
    }
}

fn number(value: &Value, what: &str) -> Result<f64, ExchangeError> {
    match value {
        Value::String(s) => s.parse::<f64>().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
    .ok_or_else(|| ExchangeError::Malformed(format!("kline {what} is not a number: {value}")))
}

/// Parses the klines answer: `[[openTime, "open", "high", "low", "close",
/// "volume", closeTime, ...], ...]`.
pub fn parse_klines(body: &Value) -> Result<Vec<Candle>, ExchangeError> {
    let rows = body
        .as_array()
        .ok_or_else(|| ExchangeError::Malformed("klines: expected an array".to_owned()))?;
    rows.iter()
        .map(|row| {
            let fields = row.as_array().filter(|f| f.len() >= 6).ok_or_else(|| {
                ExchangeError::Malformed(format!("kline: expected an array of 6+: {row}"))
            })?;
            let open_time = fields[0].as_i64().ok_or_else(|| {
                ExchangeError::Malformed(format!("kline open time: {}", fields[0]))
            })?;
            Ok(Candle::new(
                open_time,
                number(&fields[1], "open")?,
                number(&fields[2], "high")?,
                number(&fields[3], "low")?,
                number(&fields[4], "close")?,
                number(&fields[5], "volume")?,
            ))
        })
        .collect()
}

#[async_trait]
impl Exchange for BinanceExchange {
    fn name(&self) -> &'static str {
        "binance"
    }

    async fn now_ms(&self) -> Result<i64, ExchangeError> {
        let body = self.call("/api/v3/time", Vec::new(), TIME_WEIGHT).await?;
        body.get("serverTime")
            .and_then(Value::as_i64)
            .ok_or_else(|| ExchangeError::Malformed(format!("time: {body}")))
    }

    async fn closed_1m(
        &self,
        symbol: &Symbol,
        start_ms: i64,
        limit: usize,
    ) -> Result<Vec<Candle>, ExchangeError> {
        let limit = limit.clamp(1, PAGE_SIZE);
        let query = vec![
            ("symbol", symbol.compact()),
            ("interval", "1m".to_owned()),
            ("startTime", start_ms.to_string()),
            ("limit", limit.to_string()),
        ];
        let body = self.call("/api/v3/klines", query, KLINES_WEIGHT).await?;
        let now = (self.clock)();
        let mut candles = parse_klines(&body)?;
        // Binance includes the still-forming minute; it is not stored.
        candles.retain(|c| c.open_time + Timeframe::M1.duration_ms() <= now);
        Ok(candles)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_weight_budget_waits_for_the_next_minute() {
        let gate = WeightGate::new(10);
        let t = 5 * 60_000 + 15_000;
        for _ in 0..5 {
            assert_eq!(gate.reserve(2, t), None);
        }
        assert_eq!(gate.reserve(2, t), Some(Duration::from_secs(45)));
        assert_eq!(
            gate.reserve(2, 6 * 60_000),
            None,
            "a new minute, a new budget"
        );
        gate.observe(9, 6 * 60_000 + 1);
        assert_eq!(
            gate.reserve(2, 6 * 60_000 + 2),
            Some(Duration::from_millis(59_998))
        );
    }

    #[test]
    fn klines_parse_with_exact_doubles() {
        let body: Value = serde_json::from_str(
            r#"[[1516423980000,"0.08939998","0.08939998","0.08909372","0.08909374","81.45320695",1516424039999,"7.2",12,"1","2","0"]]"#,
        )
        .unwrap();
        let candles = parse_klines(&body).unwrap();
        assert_eq!(
            candles,
            vec![Candle::new(
                1516423980000,
                0.08939998,
                0.08939998,
                0.08909372,
                0.08909374,
                81.45320695
            )]
        );
        assert!(parse_klines(&serde_json::json!([[1, "x", "1", "1", "1", "1"]])).is_err());
    }
}
