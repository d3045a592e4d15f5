//! CSRF, layer one: `tower-http`'s Fetch-Metadata / Origin check
//! (cross-site unsafe requests get 403 before any handler runs). Layer two,
//! the synchronizer token tied to the session, is checked by
//! [`super::auth::CurrentUser`] for every session-authenticated unsafe call
//! and by the HTML form handlers. API-key calls carry no cookies and are
//! exempt from layer two; webhooks (`/webhooks/`) are exempt from both.

use axum::body::Body;
use axum::http::{Method, Response, Uri};
use axum::response::IntoResponse;
use tower_http::csrf::{CsrfLayer, ProtectionError};

use super::error::ApiError;

fn reject(_: ProtectionError) -> Response<Body> {
    ApiError::Denied {
        code: "cross_site_request",
        message: "cross-site requests may not change anything here".to_owned(),
    }
    .into_response()
}

pub fn layer(public_url: &str) -> CsrfLayer<fn(ProtectionError) -> Response<Body>> {
    let base = CsrfLayer::new()
        .with_insecure_bypass(|_: &Method, uri: &Uri| uri.path().starts_with("/webhooks/"));
    let base = match base.clone().add_trusted_origin(public_url) {
        Ok(with_origin) => with_origin,
        Err(error) => {
            tracing::warn!(%error, public_url, "CRYPTOLENS_PUBLIC_URL is not a usable origin");
            base
        }
    };
    base.with_rejection_response(reject as fn(ProtectionError) -> Response<Body>)
}
