//! Rate limits per client address (PRODUCT §2: login 20/min, register
//! 3/hour counting POSTs only, forgot/resend 3/hour, reset 5/hour, default
//! 200/min) and per API key, with GCRA buckets from `governor`. Over the
//! limit: 429 with `Retry-After`.
//!
//! The client address is the peer's, unless the peer is a configured
//! trusted proxy: then `X-Forwarded-For` is read from the right, skipping
//! trusted hops, and the first untrusted address is the client. A spoofed
//! header from anyone else is ignored.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use crate::identity_config::{IpBlock, RateLimits};

/// The client's address as decided above; command metadata uses it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitClass {
    Login,
    Register,
    Email,
    Reset,
    Default,
}

pub struct RateLimiters {
    login: DefaultKeyedRateLimiter<IpAddr>,
    register: DefaultKeyedRateLimiter<IpAddr>,
    email: DefaultKeyedRateLimiter<IpAddr>,
    reset: DefaultKeyedRateLimiter<IpAddr>,
    default: DefaultKeyedRateLimiter<IpAddr>,
    api_key: DefaultKeyedRateLimiter<Uuid>,
}

fn quota(per: u32, period: Duration) -> Quota {
    let n = NonZeroU32::new(per.max(1)).unwrap_or(NonZeroU32::MIN);
    // Replenish one cell every period/n, bursts of up to n.
    Quota::with_period(period / n.get())
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(n)
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

impl RateLimiters {
    pub fn new(limits: &RateLimits) -> Self {
        Self {
            login: RateLimiter::keyed(quota(limits.login_per_minute, MINUTE)),
            register: RateLimiter::keyed(quota(limits.register_per_hour, HOUR)),
            email: RateLimiter::keyed(quota(limits.email_per_hour, HOUR)),
            reset: RateLimiter::keyed(quota(limits.reset_per_hour, HOUR)),
            default: RateLimiter::keyed(quota(limits.default_per_minute, MINUTE)),
            api_key: RateLimiter::keyed(quota(limits.api_key_per_minute, MINUTE)),
        }
    }

    fn limiter(&self, class: LimitClass) -> &DefaultKeyedRateLimiter<IpAddr> {
        match class {
            LimitClass::Login => &self.login,
            LimitClass::Register => &self.register,
            LimitClass::Email => &self.email,
            LimitClass::Reset => &self.reset,
            LimitClass::Default => &self.default,
        }
    }

    pub fn check(&self, class: LimitClass, ip: IpAddr) -> Result<(), ApiError> {
        self.limiter(class)
            .check_key(&ip)
            .map_err(|not_until| ApiError::RateLimited {
                retry_after_secs: retry_after(
                    not_until.wait_time_from(DefaultClock::default().now()),
                ),
            })
    }

    pub fn check_api_key(&self, key_id: Uuid) -> Result<(), ApiError> {
        self.api_key
            .check_key(&key_id)
            .map_err(|not_until| ApiError::RateLimited {
                retry_after_secs: retry_after(
                    not_until.wait_time_from(DefaultClock::default().now()),
                ),
            })
    }

    /// Forgets buckets that are full again (call now and then).
    pub fn shrink(&self) {
        for limiter in [
            &self.login,
            &self.register,
            &self.email,
            &self.reset,
            &self.default,
        ] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        self.api_key.retain_recent();
        self.api_key.shrink_to_fit();
    }
}

fn retry_after(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// Which bucket a request draws from; `None`: not limited (health, metrics).
pub fn classify(method: &Method, path: &str) -> Option<LimitClass> {
    if path.starts_with("/health/") || path == "/metrics" {
        return None;
    }
    let post = method == Method::POST;
    Some(match path {
        "/api/v1/sessions" | "/api/v1/sessions/two-factor" | "/login" if post => LimitClass::Login,
        "/api/v1/accounts" if post => LimitClass::Register,
        "/api/v1/password-reset" | "/api/v1/email-verification/resend" if post => LimitClass::Email,
        "/api/v1/password-reset/confirm" | "/reset-password" if post => LimitClass::Reset,
        _ => LimitClass::Default,
    })
}

/// The client address of a request from `peer` carrying `forwarded_for`.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpBlock]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|block| block.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = forwarded_for
        .unwrap_or_default()
        .split(',')
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.iter()
        .rev()
        .copied()
        .find(|hop| !is_trusted(*hop))
        .or_else(|| hops.first().copied())
        .unwrap_or(peer)
}

/// Decides the client address, then applies the request's limit.
pub async fn limit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let Some(peer) = peer else {
        return next.run(request).await;
    };
    let forwarded = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let ip = client_ip(
        peer,
        Some(forwarded.as_str()).filter(|f| !f.is_empty()),
        &state.identity.trusted_proxies,
    );
    request.extensions_mut().insert(ClientIp(ip));
    if let Some(class) = classify(request.method(), request.uri().path())
        && let Err(error) = state.identity.limits.check(class, ip)
    {
        tracing::warn!(%ip, ?class, "rate limited");
        return error.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_trusted_only_from_configured_proxies() {
        let proxies = [IpBlock::parse("10.0.0.0/8").unwrap()];
        let peer: IpAddr = "10.0.0.5".parse().unwrap();
        let stranger: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(
            client_ip(peer, Some("203.0.113.1, 10.0.0.9"), &proxies),
            "203.0.113.1".parse::<IpAddr>().unwrap()
        );
        // A client-supplied first hop cannot hide the real one.
        assert_eq!(
            client_ip(peer, Some("1.1.1.1, 203.0.113.1"), &proxies),
            "203.0.113.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(stranger, Some("203.0.113.1"), &proxies), stranger);
        assert_eq!(client_ip(peer, None, &proxies), peer);
    }

    #[test]
    fn register_counts_posts_only() {
        assert_eq!(
            classify(&Method::POST, "/api/v1/accounts"),
            Some(LimitClass::Register)
        );
        assert_eq!(
            classify(&Method::GET, "/api/v1/accounts"),
            Some(LimitClass::Default)
        );
        assert_eq!(classify(&Method::GET, "/health/live"), None);
    }

    #[test]
    fn the_fourth_registration_in_an_hour_waits_twenty_minutes() {
        let limits = RateLimiters::new(&RateLimits {
            login_per_minute: 20,
            register_per_hour: 3,
            email_per_hour: 3,
            reset_per_hour: 5,
            default_per_minute: 200,
            api_key_per_minute: 60,
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            limits.check(LimitClass::Register, ip).unwrap();
        }
        let Err(ApiError::RateLimited { retry_after_secs }) =
            limits.check(LimitClass::Register, ip)
        else {
            panic!("not limited");
        };
        assert!(
            (1190..=1200).contains(&retry_after_secs),
            "{retry_after_secs}"
        );
        limits
            .check(LimitClass::Register, "192.0.2.2".parse().unwrap())
            .unwrap();
    }
}
