//! Configuration of identity and access: keys, session timeouts, trusted
//! proxies, rate limits and mail. Read with the rest of [`crate::config`];
//! every variable is documented in `.env.example` and `docs/identity.md`.

use std::net::IpAddr;
use std::time::Duration;

use crate::config::{ConfigError, parse};

/// One trusted proxy: an address or a CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpBlock {
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => (addr.parse::<IpAddr>().ok()?, Some(prefix.parse().ok()?)),
            None => (text.trim().parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            _ => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(block), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(block) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(block), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(block) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Requests allowed per client address (PRODUCT §2 numbers by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub login_per_minute: u32,
    pub register_per_hour: u32,
    pub email_per_hour: u32,
    pub reset_per_hour: u32,
    pub default_per_minute: u32,
    pub api_key_per_minute: u32,
}

#[derive(Clone)]
pub struct IdentityConfig {
    /// Keys email tokens are derived with.
    pub token_key: Option<Vec<u8>>,
    /// Server pepper of API key hashes.
    pub api_key_pepper: Option<Vec<u8>>,
    /// AES-256-GCM-SIV keys, newest (sealing) first.
    pub sealing_keys: Option<SealingKeys>,
    pub session_idle_timeout: Duration,
    pub session_absolute_timeout: Duration,
    /// The address users reach the app at: links in mails, and HSTS when https.
    pub public_url: String,
    pub trusted_proxies: Vec<IpBlock>,
    pub rate_limits: RateLimits,
    /// `smtp://user:pass@host:port` (STARTTLS) or `smtps://...`; none: local outbox.
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// First retry delay of a failed mail; doubles per attempt, up to an hour.
    pub mail_retry_base: Duration,
}

impl std::fmt::Debug for IdentityConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityConfig")
            .field("public_url", &self.public_url)
            .field("session_idle_timeout", &self.session_idle_timeout)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("rate_limits", &self.rate_limits)
            .finish_non_exhaustive()
    }
}

const KEY_HINT: &str = "64 hex characters (32 random bytes), e.g. `openssl rand -hex 32`";
const SEALING_HINT: &str =
    "comma-separated <key id>:<64 hex characters>, newest first, e.g. 2:<hex>,1:<hex>";

fn hex_key(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<Vec<u8>>, ConfigError> {
    lookup(name)
        .map(|value| match hex::decode(value.trim()) {
            Ok(key) if key.len() >= 32 => Ok(key),
            _ => Err(ConfigError::Invalid {
                name,
                value: "<redacted>".into(),
                hint: KEY_HINT,
            }),
        })
        .transpose()
}

/// Key id and key bytes, newest first.
pub type SealingKeys = Vec<(String, Vec<u8>)>;

fn sealing_keys(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<SealingKeys>, ConfigError> {
    const NAME: &str = "CRYPTOLENS_SEALING_KEYS";
    let Some(value) = lookup(NAME) else {
        return Ok(None);
    };
    let invalid = || ConfigError::Invalid {
        name: NAME,
        value: "<redacted>".into(),
        hint: SEALING_HINT,
    };
    let mut keys = Vec::new();
    for entry in value.split(',') {
        let (id, hex_key) = entry.trim().split_once(':').ok_or_else(invalid)?;
        let key = hex::decode(hex_key.trim()).map_err(|_| invalid())?;
        if id.trim().is_empty() || key.len() != 32 {
            return Err(invalid());
        }
        keys.push((id.trim().to_owned(), key));
    }
    Ok(Some(keys))
}

impl IdentityConfig {
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let addr = lookup("CRYPTOLENS_ADDR").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let trusted_proxies = match lookup("CRYPTOLENS_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|entry| {
                    IpBlock::parse(entry).ok_or(ConfigError::Invalid {
                        name: "CRYPTOLENS_TRUSTED_PROXIES",
                        value: list.clone(),
                        hint: "comma-separated addresses or CIDR blocks, e.g. 10.0.0.1,10.1.0.0/16",
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let per = |name, default: u32, hint| parse(lookup, name, Some(default), hint);
        Ok(Self {
            token_key: hex_key(lookup, "CRYPTOLENS_TOKEN_KEY")?,
            api_key_pepper: hex_key(lookup, "CRYPTOLENS_API_KEY_PEPPER")?,
            sealing_keys: sealing_keys(lookup)?,
            session_idle_timeout: Duration::from_secs(
                60 * parse::<u64>(
                    lookup,
                    "CRYPTOLENS_SESSION__IDLE_TIMEOUT_MINUTES",
                    Some(30),
                    "minutes, e.g. 30",
                )?,
            ),
            session_absolute_timeout: Duration::from_secs(
                3600 * parse::<u64>(
                    lookup,
                    "CRYPTOLENS_SESSION__ABSOLUTE_TIMEOUT_HOURS",
                    Some(24 * 7),
                    "hours, e.g. 168",
                )?,
            ),
            public_url: lookup("CRYPTOLENS_PUBLIC_URL")
                .unwrap_or_else(|| format!("http://{addr}"))
                .trim_end_matches('/')
                .to_owned(),
            trusted_proxies,
            rate_limits: RateLimits {
                login_per_minute: per(
                    "CRYPTOLENS_RATE_LIMIT__LOGIN_PER_MINUTE",
                    20,
                    "requests per minute, e.g. 20",
                )?,
                register_per_hour: per(
                    "CRYPTOLENS_RATE_LIMIT__REGISTER_PER_HOUR",
                    3,
                    "requests per hour, e.g. 3",
                )?,
                email_per_hour: per(
                    "CRYPTOLENS_RATE_LIMIT__EMAIL_PER_HOUR",
                    3,
                    "requests per hour, e.g. 3",
                )?,
                reset_per_hour: per(
                    "CRYPTOLENS_RATE_LIMIT__RESET_PER_HOUR",
                    5,
                    "requests per hour, e.g. 5",
                )?,
                default_per_minute: per(
                    "CRYPTOLENS_RATE_LIMIT__DEFAULT_PER_MINUTE",
                    200,
                    "requests per minute, e.g. 200",
                )?,
                api_key_per_minute: per(
                    "CRYPTOLENS_RATE_LIMIT__API_KEY_PER_MINUTE",
                    60,
                    "requests per minute, e.g. 60",
                )?,
            },
            smtp_url: lookup("CRYPTOLENS_SMTP__URL"),
            mail_from: lookup("CRYPTOLENS_MAIL_FROM")
                .unwrap_or_else(|| "CryptoLens <no-reply@cryptolens.local>".to_owned()),
            mail_retry_base: Duration::from_millis(parse(
                lookup,
                "CRYPTOLENS_MAIL__RETRY_BASE_MS",
                Some(5000),
                "milliseconds, e.g. 5000",
            )?),
        })
    }

    /// Whether the app is reached over TLS (then HSTS is sent).
    pub fn tls(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn require_token_key(&self) -> Result<&[u8], ConfigError> {
        self.token_key.as_deref().ok_or(ConfigError::Missing {
            name: "CRYPTOLENS_TOKEN_KEY",
            hint: KEY_HINT,
        })
    }

    pub fn require_api_key_pepper(&self) -> Result<&[u8], ConfigError> {
        self.api_key_pepper.as_deref().ok_or(ConfigError::Missing {
            name: "CRYPTOLENS_API_KEY_PEPPER",
            hint: "64 hex characters (32 random bytes); keep it stable: changing it invalidates every API key",
        })
    }

    pub fn require_sealing_keys(&self) -> Result<SealingKeys, ConfigError> {
        self.sealing_keys.clone().ok_or(ConfigError::Missing {
            name: "CRYPTOLENS_SEALING_KEYS",
            hint: SEALING_HINT,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_blocks_match_addresses_and_ranges() {
        let block = IpBlock::parse("10.1.0.0/16").unwrap();
        assert!(block.contains("10.1.200.3".parse().unwrap()));
        assert!(!block.contains("10.2.0.1".parse().unwrap()));
        assert!(block.contains("::ffff:10.1.0.9".parse().unwrap()));
        let one = IpBlock::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        assert!(IpBlock::parse("10.0.0.0/33").is_none());
        assert!(IpBlock::parse("nonsense").is_none());
        assert!(
            IpBlock::parse("::1")
                .unwrap()
                .contains("::1".parse().unwrap())
        );
    }
}
