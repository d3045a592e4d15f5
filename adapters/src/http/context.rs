//! Per-request context: the request id (echoed or generated), the client
//! address, request logging and metrics, and the command metadata built
//! from them.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use commands::Metadata;
use tracing::Instrument;
use uuid::Uuid;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
static CORRELATION_ID: HeaderName = HeaderName::from_static("x-correlation-id");

/// The id of this request: the caller's `X-Request-Id` when it is sane
/// (1-128 visible ASCII characters), otherwise a fresh UUID v7.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The peer address the request came from.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<SocketAddr>);

fn sane_id(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let ok = (1..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| text.to_owned())
}

/// Assigns the request id, logs the request in its span, records metrics
/// and echoes the id on the response.
pub async fn request_context(mut request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(sane_id)
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().clone();
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    request.extensions_mut().insert(ClientAddr(client));

    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        );
    });
    metrics::counter!("http_requests_total", "method" => method.to_string(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route)
        .record(elapsed.as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    response
}

/// Command metadata for this request, acting anonymously.
#[derive(Debug, Clone)]
pub struct RequestMeta(pub Metadata);

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .map_or_else(|| Uuid::now_v7().to_string(), |id| id.0.clone());
        let client_ip = match parts.extensions.get::<super::rate_limit::ClientIp>() {
            Some(ip) => Some(ip.0.to_string()),
            None => parts
                .extensions
                .get::<ClientAddr>()
                .and_then(|c| c.0)
                .map(|addr| addr.ip().to_string()),
        };
        let correlation_id = parts
            .headers
            .get(&CORRELATION_ID)
            .and_then(sane_id)
            .unwrap_or_else(|| request_id.clone());
        Ok(Self(Metadata {
            actor: "anonymous".to_owned(),
            request_id,
            client_ip,
            correlation_id,
            causation_id: None,
        }))
    }
}
