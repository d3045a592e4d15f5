//! Market configuration (`CRYPTOLENS_EXCHANGE`, `CRYPTOLENS_BINANCE__*`,
//! `CRYPTOLENS_REPLAY__*`, `CRYPTOLENS_MARKET__*`, `CRYPTOLENS_SCHEDULER__*`),
//! documented in `.env.example` and `docs/market-data.md`.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::ConfigError;
use crate::exchange::binance::BinanceOptions;
use crate::exchange::replay::ReplayOptions;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeKind {
    /// Recorded candle files, time-shifted to now (the default: offline).
    Replay,
    /// Binance spot REST klines.
    Binance,
}

#[derive(Debug, Clone)]
pub struct MarketConfig {
    pub exchange: ExchangeKind,
    pub binance: BinanceOptions,
    pub replay_dir: PathBuf,
    pub replay: ReplayOptions,
    /// The default symbol list (one `BASE/QUOTE` per line).
    pub symbols_file: PathBuf,
    pub scheduler_enabled: bool,
    pub scan_interval: Duration,
    pub initial_history_hours: i64,
    pub symbol_concurrency: usize,
}

fn parse<T: std::str::FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
    hint: &'static str,
) -> Result<T, ConfigError> {
    match lookup(name) {
        Some(value) => value
            .trim()
            .parse()
            .map_err(|_| ConfigError::Invalid { name, value, hint }),
        None => Ok(default),
    }
}

impl MarketConfig {
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let exchange = match lookup("CRYPTOLENS_EXCHANGE").as_deref().map(str::trim) {
            None | Some("replay") => ExchangeKind::Replay,
            Some("binance") => ExchangeKind::Binance,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "CRYPTOLENS_EXCHANGE",
                    value: other.to_owned(),
                    hint: "replay (recorded files, offline) or binance",
                });
            }
        };
        let defaults = BinanceOptions::default();
        let base_url = lookup("CRYPTOLENS_BINANCE__BASE_URL").unwrap_or(defaults.base_url.clone());
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                name: "CRYPTOLENS_BINANCE__BASE_URL",
                value: base_url,
                hint: "an http(s) URL such as https://api.binance.com",
            });
        }
        let binance = BinanceOptions {
            base_url,
            timeout: Duration::from_millis(parse(
                lookup,
                "CRYPTOLENS_BINANCE__TIMEOUT_MS",
                10_000,
                "milliseconds, e.g. 10000",
            )?),
            max_retries: parse(
                lookup,
                "CRYPTOLENS_BINANCE__MAX_RETRIES",
                defaults.max_retries,
                "retries per call, e.g. 4",
            )?,
            weight_limit: parse(
                lookup,
                "CRYPTOLENS_BINANCE__WEIGHT_LIMIT",
                defaults.weight_limit,
                "request weight per minute this client may spend (Binance allows 6000), e.g. 5000",
            )?,
            ..defaults
        };
        let speed: f64 = parse(
            lookup,
            "CRYPTOLENS_REPLAY__SPEED",
            1.0,
            "a positive factor, e.g. 1 or 60",
        )?;
        if !(speed > 0.0 && speed.is_finite()) {
            return Err(ConfigError::Invalid {
                name: "CRYPTOLENS_REPLAY__SPEED",
                value: speed.to_string(),
                hint: "a positive factor, e.g. 1 or 60",
            });
        }
        Ok(Self {
            exchange,
            binance,
            replay_dir: PathBuf::from(
                lookup("CRYPTOLENS_REPLAY__DIR").unwrap_or_else(|| "data/candles".to_owned()),
            ),
            replay: ReplayOptions {
                speed,
                hold_back_minutes: parse(
                    lookup,
                    "CRYPTOLENS_REPLAY__HOLD_BACK_MINUTES",
                    0,
                    "minutes, e.g. 0",
                )?,
            },
            symbols_file: PathBuf::from(
                lookup("CRYPTOLENS_MARKET__SYMBOLS_FILE")
                    .unwrap_or_else(|| "config/symbols.txt".to_owned()),
            ),
            scheduler_enabled: parse(
                lookup,
                "CRYPTOLENS_SCHEDULER__ENABLED",
                true,
                "true or false",
            )?,
            scan_interval: Duration::from_millis(parse(
                lookup,
                "CRYPTOLENS_SCHEDULER__INTERVAL_MS",
                60_000,
                "milliseconds between scans, e.g. 60000",
            )?)
            .max(Duration::from_millis(10)),
            initial_history_hours: parse(
                lookup,
                "CRYPTOLENS_MARKET__INITIAL_HISTORY_HOURS",
                72,
                "hours of 1m history the first fetch of a new symbol loads, e.g. 72",
            )?,
            symbol_concurrency: parse(
                lookup,
                "CRYPTOLENS_MARKET__SYMBOL_CONCURRENCY",
                4,
                "symbols scanned at once, e.g. 4",
            )?,
        })
    }
}
