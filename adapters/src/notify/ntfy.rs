//! The NTFY publish client (`POST {base}/{topic}`, message as the body,
//! Title / Priority / Tags / Click headers, optional bearer token), over
//! reqwest with a total timeout. The circuit breaker and the retries
//! (through RabbitMQ's TTL queues) sit around it in the consumer.

use std::time::Duration;

use base64::Engine;
use domain::notification::{FailureReason, Push};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

use super::config::NtfyConfig;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NtfyError {
    /// Worth trying again later: 429, 5xx, timeouts, dropped connections.
    #[error("NTFY failed transiently: {0:?}")]
    Transient(FailureReason),
    /// Another attempt would fail the same way (4xx other than 429).
    #[error("NTFY refused the message: {0:?}")]
    Permanent(FailureReason),
}

impl NtfyError {
    pub fn reason(&self) -> &FailureReason {
        match self {
            Self::Transient(reason) | Self::Permanent(reason) => reason,
        }
    }
}

#[derive(Clone)]
pub struct NtfyClient {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl NtfyClient {
    /// Needs the rustls provider installed (see `main`).
    pub fn new(config: &NtfyConfig) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Self {
            http,
            base: config.url.trim_end_matches('/').to_owned(),
            token: config.token.clone(),
        })
    }

    /// The headers of a publish (public for the exact-request tests).
    pub fn headers(&self, push: &Push) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(title) = HeaderValue::from_str(&header_text(&push.title)) {
            headers.insert("Title", title);
        }
        headers.insert(
            "Priority",
            HeaderValue::from(u16::from(push.priority.get())),
        );
        if !push.tags.is_empty()
            && let Ok(tags) = HeaderValue::from_str(&header_text(&push.tags.join(",")))
        {
            headers.insert("Tags", tags);
        }
        if let Some(click) = push.click.as_deref()
            && let Ok(click) = HeaderValue::from_str(click)
        {
            headers.insert("Click", click);
        }
        if let Some(token) = &self.token
            && let Ok(mut bearer) = HeaderValue::from_str(&format!("Bearer {token}"))
        {
            bearer.set_sensitive(true);
            headers.insert(AUTHORIZATION, bearer);
        }
        headers
    }

    /// Publishes one message; `Ok` carries NTFY's status code.
    pub async fn publish(&self, topic: &str, push: &Push) -> Result<u16, NtfyError> {
        let response = self
            .http
            .post(format!("{}/{topic}", self.base))
            .headers(self.headers(push))
            .body(push.body.clone())
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(error) if error.is_timeout() => {
                return Err(NtfyError::Transient(FailureReason::Timeout));
            }
            Err(_) => return Err(NtfyError::Transient(FailureReason::Unreachable)),
        };
        let code = response.status().as_u16();
        // Read the body so the connection can be reused (and a drop
        // mid-body counts as a failure).
        let body = response.bytes().await;
        match (code, body) {
            (200..=299, Ok(_)) => Ok(code),
            (200..=299, Err(error)) if error.is_timeout() => {
                Err(NtfyError::Transient(FailureReason::Timeout))
            }
            (200..=299, Err(_)) => Err(NtfyError::Transient(FailureReason::Unreachable)),
            (429 | 500..=599, _) => Err(NtfyError::Transient(FailureReason::Status { code })),
            _ => Err(NtfyError::Permanent(FailureReason::Status { code })),
        }
    }
}

/// Header values must be ASCII: anything else is sent RFC 2047-encoded
/// (`=?UTF-8?B?...?=`), which NTFY decodes.
fn header_text(text: &str) -> String {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        text.to_owned()
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(text)
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn non_ascii_header_text_is_rfc2047_encoded() {
        assert_eq!(super::header_text("BTC/USDT long"), "BTC/USDT long");
        assert_eq!(super::header_text("Grüße"), "=?UTF-8?B?R3LDvMOfZQ==?=");
    }
}
