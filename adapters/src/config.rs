//! Configuration from the environment. Every variable is documented in
//! `.env.example` and the README; a missing or malformed one is reported as
//! one line naming the variable and what it should look like.

use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not set: {hint}")]
    Missing {
        name: &'static str,
        hint: &'static str,
    },
    #[error("{name} is invalid ({value:?}): {hint}")]
    Invalid {
        name: &'static str,
        value: String,
        hint: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub amqp_url: Option<String>,
    pub addr: SocketAddr,
    pub claim_key: Option<Vec<u8>>,
    pub db_pool_size: u32,
    pub password_hash_concurrency: usize,
    pub migrate_on_start: bool,
    pub log_format: LogFormat,
    pub projector_batch_size: i64,
    pub projector_poll: Duration,
    pub ready_max_lag: Duration,
    pub read_your_writes_timeout: Duration,
    pub shutdown_timeout: Duration,
    pub identity: crate::identity_config::IdentityConfig,
    pub market: crate::market::config::MarketConfig,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("db_pool_size", &self.db_pool_size)
            .field("projector_batch_size", &self.projector_batch_size)
            .finish_non_exhaustive()
    }
}

const DATABASE_URL_HINT: &str =
    "a PostgreSQL URL such as postgres://user@127.0.0.1:5432/cryptolens";

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let database_url = lookup("DATABASE_URL").ok_or(ConfigError::Missing {
            name: "DATABASE_URL",
            hint: DATABASE_URL_HINT,
        })?;
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(ConfigError::Invalid {
                name: "DATABASE_URL",
                value: redact(&database_url),
                hint: DATABASE_URL_HINT,
            });
        }
        let amqp_url = lookup("AMQP_URL");
        if let Some(url) = &amqp_url
            && !(url.starts_with("amqp://") || url.starts_with("amqps://"))
        {
            return Err(ConfigError::Invalid {
                name: "AMQP_URL",
                value: redact(url),
                hint: "an AMQP URL such as amqp://guest:guest@127.0.0.1:5672/%2f",
            });
        }
        let claim_key = lookup("CRYPTOLENS_CLAIM_KEY")
            .map(|hex_key| match hex::decode(hex_key.trim()) {
                Ok(key) if key.len() >= 32 => Ok(key),
                _ => Err(ConfigError::Invalid {
                    name: "CRYPTOLENS_CLAIM_KEY",
                    value: "<redacted>".into(),
                    hint: "at least 64 hex characters (32 random bytes), e.g. `openssl rand -hex 32`",
                }),
            })
            .transpose()?;
        Ok(Self {
            database_url,
            amqp_url,
            addr: parse(
                &lookup,
                "CRYPTOLENS_ADDR",
                "127.0.0.1:8080".parse().ok(),
                "host:port, e.g. 127.0.0.1:8080",
            )?,
            claim_key,
            db_pool_size: parse(
                &lookup,
                "CRYPTOLENS_DB__POOL_SIZE",
                Some(16),
                "a whole number of connections, e.g. 16",
            )?,
            password_hash_concurrency: parse(
                &lookup,
                "CRYPTOLENS_PASSWORD_HASH_CONCURRENCY",
                Some(std::thread::available_parallelism().map_or(2, usize::from)),
                "how many Argon2 hashes may run at once, e.g. 2",
            )?,
            migrate_on_start: parse(
                &lookup,
                "CRYPTOLENS_MIGRATE_ON_START",
                Some(true),
                "true or false",
            )?,
            log_format: match lookup("CRYPTOLENS_LOG_FORMAT").as_deref() {
                None | Some("json") => LogFormat::Json,
                Some("pretty") => LogFormat::Pretty,
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        name: "CRYPTOLENS_LOG_FORMAT",
                        value: other.into(),
                        hint: "json or pretty",
                    });
                }
            },
            projector_batch_size: parse(
                &lookup,
                "CRYPTOLENS_PROJECTOR__BATCH_SIZE",
                Some(1000),
                "events per projector batch, 1 to 100000",
            )
            .and_then(|n: i64| in_range("CRYPTOLENS_PROJECTOR__BATCH_SIZE", n, 1, 100_000))?,
            projector_poll: Duration::from_millis(parse(
                &lookup,
                "CRYPTOLENS_PROJECTOR__POLL_MS",
                Some(500),
                "milliseconds, e.g. 500",
            )?),
            ready_max_lag: Duration::from_secs(parse(
                &lookup,
                "CRYPTOLENS_READY_MAX_LAG_SECONDS",
                Some(30),
                "seconds, e.g. 30",
            )?),
            read_your_writes_timeout: Duration::from_millis(parse(
                &lookup,
                "CRYPTOLENS_READ_YOUR_WRITES_MS",
                Some(2000),
                "milliseconds, e.g. 2000",
            )?),
            shutdown_timeout: Duration::from_secs(parse(
                &lookup,
                "CRYPTOLENS_SHUTDOWN_TIMEOUT_SECONDS",
                Some(30),
                "seconds, e.g. 30",
            )?),
            identity: crate::identity_config::IdentityConfig::from_lookup(&lookup)?,
            market: crate::market::config::MarketConfig::from_lookup(&lookup)?,
        })
    }

    /// What `serve` needs beyond the database.
    pub fn require_amqp_url(&self) -> Result<&str, ConfigError> {
        self.amqp_url.as_deref().ok_or(ConfigError::Missing {
            name: "AMQP_URL",
            hint: "an AMQP URL such as amqp://guest:guest@127.0.0.1:5672/%2f",
        })
    }

    pub fn require_claim_key(&self) -> Result<&[u8], ConfigError> {
        self.claim_key.as_deref().ok_or(ConfigError::Missing {
            name: "CRYPTOLENS_CLAIM_KEY",
            hint: "64 hex characters (32 random bytes), e.g. `openssl rand -hex 32`; keep it stable: it keys the uniqueness of emails and usernames",
        })
    }
}

pub(crate) fn parse<T: std::str::FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: Option<T>,
    hint: &'static str,
) -> Result<T, ConfigError> {
    match lookup(name) {
        Some(value) => value
            .trim()
            .parse()
            .map_err(|_| ConfigError::Invalid { name, value, hint }),
        None => default.ok_or(ConfigError::Missing { name, hint }),
    }
}

fn in_range(name: &'static str, value: i64, min: i64, max: i64) -> Result<i64, ConfigError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            name,
            value: value.to_string(),
            hint: "events per projector batch, 1 to 100000",
        })
    }
}

/// A URL without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_apply_when_only_the_database_is_given() {
        let config = load(&[("DATABASE_URL", "postgres://root@127.0.0.1/x")]).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.projector_batch_size, 1000);
        assert!(config.migrate_on_start);
    }

    #[test]
    fn problems_are_reported_by_name_in_one_line() {
        let missing = load(&[]).unwrap_err().to_string();
        assert!(missing.starts_with("DATABASE_URL is not set"), "{missing}");
        let bad_addr = load(&[
            ("DATABASE_URL", "postgres://x@h/d"),
            ("CRYPTOLENS_ADDR", "nowhere"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            bad_addr.starts_with("CRYPTOLENS_ADDR is invalid (\"nowhere\")"),
            "{bad_addr}"
        );
        let bad_key = load(&[
            ("DATABASE_URL", "postgres://x@h/d"),
            ("CRYPTOLENS_CLAIM_KEY", "abcd"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            bad_key.contains("CRYPTOLENS_CLAIM_KEY") && !bad_key.contains("abcd"),
            "{bad_key}"
        );
        for message in [missing, bad_addr, bad_key] {
            assert!(!message.contains('\n'));
        }
    }

    #[test]
    fn passwords_in_urls_are_not_echoed() {
        let error = load(&[("DATABASE_URL", "mysql://u:secret@h/d")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("u:***@h/d") && !error.contains("secret"),
            "{error}"
        );
    }
}
