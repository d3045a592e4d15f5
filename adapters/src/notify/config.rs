//! Notification settings: broker names, retry delays, limits and the NTFY
//! client. Read from `CRYPTOLENS_NOTIFY__*` and `CRYPTOLENS_NTFY__*`.
//! Every broker name derives from one prefix, so tests randomise it.

use std::time::Duration;

use domain::billing::Tier;

use crate::config::{ConfigError, parse};

/// The routing key of the work queue inside the work exchange.
pub const WORK_ROUTING_KEY: &str = "push";
/// The routing key of the dead-letter queue inside the dead-letter exchange.
pub const DEAD_ROUTING_KEY: &str = "dead";

#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// Prefix of every exchange and queue name (`cryptolens.notify`).
    pub prefix: String,
    /// TTL of each retry queue, shortest first (5 s, 30 s, 5 min).
    pub retry_delays: Vec<Duration>,
    /// `x-delivery-limit` of the work queue: redeliveries (crashes, requeues)
    /// before RabbitMQ dead-letters a message.
    pub delivery_limit: u32,
    /// NTFY attempts per message before it is parked in the dead-letter queue.
    pub max_attempts: u32,
    /// Unacknowledged messages per consumer (basic.qos, per consumer).
    pub prefetch: u16,
    /// How long a claimed message is reserved for the consumer holding it.
    pub lease: Duration,
    /// The TTL of the delay queue that signal pushes of a tier with a
    /// notification delay go through: the free tier's delay from
    /// `Tier::policy()` (10 minutes), unless overridden (tests, demos; 0
    /// sends them straight away).
    pub free_delay: Duration,
    /// Whether `serve` runs the notification tasks (consumer, notifier,
    /// scheduler); the worker command always runs its consumer.
    pub run_in_serve: bool,
    /// How often the broadcast scheduler looks for due broadcasts.
    pub scheduler_tick: Duration,
    pub ntfy: NtfyConfig,
    /// Base of the click URLs (`https://cryptolens.example`).
    pub public_url: String,
}

#[derive(Debug, Clone)]
pub struct NtfyConfig {
    pub url: String,
    pub token: Option<String>,
    pub timeout: Duration,
    /// Consecutive failures that open the breaker.
    pub breaker_failures: u32,
    /// How long the breaker stays open before one probe is let through.
    pub breaker_open: Duration,
}

impl NotifyConfig {
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let retry_delays = match lookup("CRYPTOLENS_NOTIFY__RETRY_DELAYS_MS") {
            None => vec![
                Duration::from_secs(5),
                Duration::from_secs(30),
                Duration::from_secs(300),
            ],
            Some(text) => text
                .split(',')
                .map(|ms| ms.trim().parse::<u64>().ok().filter(|ms| *ms > 0))
                .collect::<Option<Vec<u64>>>()
                .filter(|delays| !delays.is_empty())
                .map(|delays| delays.into_iter().map(Duration::from_millis).collect())
                .ok_or(ConfigError::Invalid {
                    name: "CRYPTOLENS_NOTIFY__RETRY_DELAYS_MS",
                    value: text.clone(),
                    hint: "comma-separated milliseconds, shortest first, e.g. 5000,30000,300000",
                })?,
        };
        let prefix =
            lookup("CRYPTOLENS_NOTIFY__PREFIX").unwrap_or_else(|| "cryptolens.notify".into());
        if prefix.len() > 200 || prefix.chars().any(char::is_whitespace) {
            return Err(ConfigError::Invalid {
                name: "CRYPTOLENS_NOTIFY__PREFIX",
                value: prefix,
                hint: "a queue name prefix without spaces, at most 200 characters",
            });
        }
        let ms = |name, default| -> Result<Duration, ConfigError> {
            Ok(Duration::from_millis(parse(
                lookup,
                name,
                Some(default),
                "milliseconds, e.g. 10000",
            )?))
        };
        Ok(Self {
            prefix,
            retry_delays,
            delivery_limit: parse(
                lookup,
                "CRYPTOLENS_NOTIFY__DELIVERY_LIMIT",
                Some(5),
                "redeliveries before dead-lettering, e.g. 5",
            )?,
            max_attempts: parse(
                lookup,
                "CRYPTOLENS_NOTIFY__MAX_ATTEMPTS",
                Some(6),
                "NTFY attempts per message, e.g. 6",
            )?,
            prefetch: parse(
                lookup,
                "CRYPTOLENS_NOTIFY__PREFETCH",
                Some(64),
                "unacknowledged messages per consumer, 1 to 65535",
            )?,
            lease: ms("CRYPTOLENS_NOTIFY__LEASE_MS", 30_000)?,
            free_delay: ms(
                "CRYPTOLENS_NOTIFY__FREE_DELAY_MS",
                u64::try_from(Tier::Free.policy().notification_delay().as_millis())
                    .unwrap_or(u64::MAX),
            )?,
            run_in_serve: parse(
                lookup,
                "CRYPTOLENS_NOTIFY__RUN_IN_SERVE",
                Some(true),
                "true or false",
            )?,
            scheduler_tick: ms("CRYPTOLENS_NOTIFY__SCHEDULER_TICK_MS", 1000)?,
            ntfy: NtfyConfig {
                url: lookup("CRYPTOLENS_NTFY__URL").unwrap_or_else(|| "https://ntfy.sh".into()),
                token: lookup("CRYPTOLENS_NTFY__TOKEN"),
                timeout: ms("CRYPTOLENS_NTFY__TIMEOUT_MS", 10_000)?,
                breaker_failures: parse(
                    lookup,
                    "CRYPTOLENS_NTFY__BREAKER_FAILURES",
                    Some(5),
                    "consecutive failures that open the breaker, e.g. 5",
                )?,
                breaker_open: ms("CRYPTOLENS_NTFY__BREAKER_OPEN_MS", 30_000)?,
            },
            public_url: lookup("CRYPTOLENS_PUBLIC_URL")
                .unwrap_or_else(|| "http://127.0.0.1:8080".into())
                .trim_end_matches('/')
                .to_owned(),
        })
    }

    pub fn exchange(&self) -> String {
        format!("{}.work", self.prefix)
    }

    pub fn work_queue(&self) -> String {
        format!("{}.work", self.prefix)
    }

    pub fn dead_exchange(&self) -> String {
        format!("{}.dlx", self.prefix)
    }

    pub fn dead_queue(&self) -> String {
        format!("{}.dead", self.prefix)
    }

    /// The retry queue for the `n`-th retry (1-based); the longest delay
    /// repeats once the list runs out.
    pub fn retry_queue(&self, n: u32) -> String {
        let index = (n.max(1) as usize - 1).min(self.retry_delays.len().saturating_sub(1));
        format!("{}.retry.{index}", self.prefix)
    }

    /// The queue holding free-tier messages for [`Self::free_delay`].
    pub fn delay_queue(&self) -> String {
        format!("{}.delay", self.prefix)
    }
}
