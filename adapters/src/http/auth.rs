//! Who is calling: the contract every feature builds on.
//!
//! * [`resolve_session`] (a middleware on every request) reads the
//!   `__Host-cl_session` cookie, enforces the idle and absolute timeouts
//!   against the injected clock, rotates the id when the account's
//!   privileges changed, and leaves the session in the request extensions.
//!   It also refuses an API key in a query string (400), on every route.
//! * [`CurrentUser`] (an extractor) is the signed-in user, from a session or
//!   an `Authorization: Bearer cl_...` key, always with the account's
//!   *current* state: a deactivated account is refused (401). Session calls
//!   with an unsafe method must carry the session's CSRF token in
//!   `X-CSRF-Token` (403 otherwise); API-key calls are exempt.
//! * [`AdminUser`]: a signed-in admin, by session only (403 otherwise).

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use commands::api_keys::ApiKeyService;
use commands::ports::Clock;
pub use domain::api_key::ApiScope;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::rate_limit::RateLimiters;
use crate::identity_config::IpBlock;
use crate::postgres::PgStores;
use crate::postgres::sessions::{self, SessionRow, SessionState};

pub const SESSION_COOKIE: &str = "__Host-cl_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Identity services and settings shared by the HTTP layer.
pub struct IdentityState {
    pub clock: Arc<dyn Clock>,
    pub api_keys: ApiKeyService<PgStores>,
    pub idle_timeout: time::Duration,
    pub absolute_timeout: time::Duration,
    pub limits: RateLimiters,
    pub trusted_proxies: Vec<IpBlock>,
    pub tls: bool,
    pub public_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthVia {
    Session { session_id: String },
    ApiKey { key_id: Uuid, scopes: Vec<ApiScope> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub account_id: Uuid,
    pub username: String,
    pub is_admin: bool,
    pub verified: bool,
    pub active: bool,
    pub via: AuthVia,
}

impl CurrentUser {
    /// Session users have every scope; a key needs `scope` (403 otherwise).
    pub fn require_scope(&self, scope: ApiScope) -> Result<(), ApiError> {
        match &self.via {
            AuthVia::Session { .. } => Ok(()),
            AuthVia::ApiKey { scopes, .. } if scopes.contains(&scope) => Ok(()),
            AuthVia::ApiKey { .. } => Err(ApiError::Denied {
                code: "insufficient_scope",
                message: format!("this API key lacks the {scope} scope"),
            }),
        }
    }

    /// Paid features and notifications need a verified address (403).
    pub fn require_verified(&self) -> Result<(), ApiError> {
        if self.verified {
            Ok(())
        } else {
            Err(ApiError::Denied {
                code: "email_unverified",
                message: "verify your email address first".to_owned(),
            })
        }
    }

    /// Only a session may do this (not an API key): 403 otherwise.
    pub fn require_session(&self) -> Result<Uuid, ApiError> {
        match &self.via {
            AuthVia::Session { session_id } => {
                Uuid::parse_str(session_id).map_err(ApiError::internal)
            }
            AuthVia::ApiKey { .. } => Err(ApiError::Denied {
                code: "session_required",
                message: "this needs a signed-in session, not an API key".to_owned(),
            }),
        }
    }

    pub fn actor(&self) -> String {
        format!("account:{}", self.account_id)
    }
}

/// The session this request presented, after the timeout checks.
#[derive(Debug, Clone)]
pub struct ResolvedSession(pub SessionRow);

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// `Set-Cookie` for a session cookie: `__Host-` (so Secure, Path=/, no
/// Domain), HttpOnly, SameSite=Lax.
pub fn session_cookie(token: &str, max_age: time::Duration) -> HeaderValue {
    let value = format!(
        "{SESSION_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={}",
        max_age.whole_seconds().max(0)
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_session_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-cl_session=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0",
    )
}

fn query_carries_key(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&').any(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            value.starts_with("cl_") || name.starts_with("cl_")
        })
    })
}

/// See the module documentation.
pub async fn resolve_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if query_carries_key(request.uri().query()) {
        return ApiError::BadRequest {
            code: "api_key_in_query",
            message: "API keys are accepted only in the Authorization: Bearer header; this key is now exposed in logs and should be revoked".to_owned(),
        }
        .into_response();
    }
    let identity = &state.identity;
    let token = cookie_value(request.headers(), SESSION_COOKIE).map(str::to_owned);
    let mut new_cookie = None;
    if let Some(token) = token {
        match sessions::find_by_token(&state.pool, &token).await {
            Err(error) => return ApiError::internal(error).into_response(),
            Ok(None) => new_cookie = Some(clear_session_cookie()),
            Ok(Some(mut session)) => {
                let now = identity.clock.now();
                let idle = now - session.last_seen_at > identity.idle_timeout;
                let expired = now - session.created_at > identity.absolute_timeout;
                if idle || expired {
                    if let Err(error) = sessions::delete(&state.pool, session.id).await {
                        return ApiError::internal(error).into_response();
                    }
                    new_cookie = Some(clear_session_cookie());
                } else {
                    let touched = if session.rotate {
                        sessions::rotate(&state.pool, session.id, now)
                            .await
                            .map(|token| {
                                let left = identity.absolute_timeout - (now - session.created_at);
                                new_cookie = Some(session_cookie(&token, left));
                            })
                    } else {
                        sessions::touch(&state.pool, session.id, now).await
                    };
                    if let Err(error) = touched {
                        return ApiError::internal(error).into_response();
                    }
                    session.last_seen_at = now;
                    request.extensions_mut().insert(ResolvedSession(session));
                }
            }
        }
    }
    let mut response = next.run(request).await;
    if let Some(cookie) = new_cookie {
        let handler_set_one = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| v.as_bytes().starts_with(SESSION_COOKIE.as_bytes()));
        if !handler_set_one {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
    }
    response
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::Unauthenticated {
        message: message.to_owned(),
    }
}

pub const INVALID_KEY: &str = "the API key is invalid, expired or revoked";

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(authorization) = parts.headers.get(header::AUTHORIZATION) {
            return from_api_key(authorization, state).await;
        }
        let Some(ResolvedSession(session)) = parts.extensions.get::<ResolvedSession>() else {
            return Err(unauthenticated("sign in first"));
        };
        if session.state != SessionState::Active {
            return Err(unauthenticated("complete the two-factor step first"));
        }
        let Some(account) = &session.account else {
            return Err(ApiError::Unavailable);
        };
        if !account.active {
            return Err(unauthenticated("sign in first"));
        }
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            check_csrf(&parts.headers, session)?;
        }
        Ok(Self {
            account_id: session.account_id,
            username: account.username.clone(),
            is_admin: account.is_admin,
            verified: account.verified,
            active: account.active,
            via: AuthVia::Session {
                session_id: session.id.to_string(),
            },
        })
    }
}

/// The synchronizer token of `session` must be in `X-CSRF-Token`.
pub fn check_csrf(headers: &HeaderMap, session: &SessionRow) -> Result<(), ApiError> {
    let presented = headers
        .get(CSRF_HEADER)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if bool::from(presented.ct_eq(session.csrf_token.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::Denied {
            code: "csrf_token_invalid",
            message: "missing or wrong X-CSRF-Token for this session".to_owned(),
        })
    }
}

async fn from_api_key(
    authorization: &HeaderValue,
    state: &AppState,
) -> Result<CurrentUser, ApiError> {
    let identity = &state.identity;
    let presented = authorization
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| unauthenticated("use Authorization: Bearer <API key>"))?;
    let key = identity
        .api_keys
        .authenticate(presented)
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?
        .ok_or_else(|| unauthenticated(INVALID_KEY))?;
    identity.limits.check_api_key(key.key_id)?;
    let owner = crate::read_models::accounts::find(&state.pool, key.owner)
        .await
        .map_err(ApiError::internal)?
        .filter(|owner| owner.active)
        .ok_or_else(|| unauthenticated(INVALID_KEY))?;
    crate::read_models::api_keys::record_use(&state.pool, key.key_id, identity.clock.now())
        .await
        .map_err(ApiError::internal)?;
    Ok(CurrentUser {
        account_id: owner.account_id,
        username: owner.username,
        is_admin: owner.is_admin,
        verified: owner.verified,
        active: owner.active,
        via: AuthVia::ApiKey {
            key_id: key.key_id,
            scopes: key.scopes,
        },
    })
}

/// A signed-in admin (by session; API keys carry no admin scope).
#[derive(Debug, Clone)]
pub struct AdminUser(pub CurrentUser);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if user.is_admin && matches!(user.via, AuthVia::Session { .. }) {
            Ok(Self(user))
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_query_strings_are_recognised() {
        assert!(query_carries_key(Some("api_key=cl_abc_def")));
        assert!(query_carries_key(Some("x=1&token=cl_abc_def")));
        assert!(query_carries_key(Some("whatever=cl_abc")));
        assert!(!query_carries_key(Some("symbol=BTC&limit=5")));
        assert!(!query_carries_key(None));
    }

    #[test]
    fn the_session_cookie_is_host_prefixed_secure_http_only_and_lax() {
        let cookie = session_cookie("abc", time::Duration::days(7));
        assert_eq!(
            cookie.to_str().unwrap(),
            "__Host-cl_session=abc; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=604800"
        );
    }
}
