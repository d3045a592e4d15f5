//! The server-rendered sign-in pages: `/login` (a form), `/account` (who
//! you are, with a sign-out form) and `POST /logout`. Forms that change
//! state while signed in carry the session's synchronizer token in a hidden
//! `csrf_token` field; the sign-in form itself is covered by the
//! Fetch-Metadata / Origin layer. (The dashboard proper is another feature.)

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use commands::accounts::SignInOutcome;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::AppState;
use super::auth::{ResolvedSession, clear_session_cookie};
use super::context::RequestMeta;
use super::error::ApiError;
use super::sessions::{SIGN_IN_FAILED, start_session, wait_for_account};
use crate::postgres::sessions::{self, SessionState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_form))
        .route("/account", get(account_page))
        .route("/logout", post(logout_form))
}

pub fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} - CryptoLens</title></head><body><main><h1>{}</h1>{body}</main></body></html>",
        escape(title),
        escape(title)
    ))
}

fn login_html(error: Option<&str>) -> Html<String> {
    let error = error
        .map(|e| format!("<p role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    page(
        "Sign in",
        &format!(
            "{error}<form method=\"post\" action=\"/login\">\
             <label>Email <input type=\"email\" name=\"email\" autocomplete=\"username\" required></label>\
             <label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>\
             <button type=\"submit\">Sign in</button></form>"
        ),
    )
}

async fn login_page() -> Html<String> {
    login_html(None)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub email: String,
    pub password: String,
}

async fn login_form(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    presented: Option<Extension<ResolvedSession>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let outcome = state
        .accounts
        .sign_in(&form.email, &form.password, &metadata)
        .await
        .unwrap_or(SignInOutcome::Failed);
    let SignInOutcome::SignedIn { account_id } = outcome else {
        // Two-factor sign-in is offered by the JSON API; the page says the same as for a failure.
        return Ok((StatusCode::UNAUTHORIZED, login_html(Some(SIGN_IN_FAILED))).into_response());
    };
    wait_for_account(&state, account_id.as_uuid()).await?;
    let (_, cookie) = start_session(
        &state,
        presented.as_deref(),
        account_id.as_uuid(),
        SessionState::Active,
        metadata.client_ip.as_deref(),
        &headers,
    )
    .await?;
    let mut response = Redirect::to("/account").into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

async fn account_page(session: Option<Extension<ResolvedSession>>) -> Response {
    let Some(Extension(ResolvedSession(session))) = session else {
        return Redirect::to("/login").into_response();
    };
    let (Some(account), SessionState::Active) = (&session.account, session.state) else {
        return Redirect::to("/login").into_response();
    };
    page(
        "Your account",
        &format!(
            "<p>Signed in as <strong>{}</strong>.</p>\
             <form method=\"post\" action=\"/logout\">\
             <input type=\"hidden\" name=\"csrf_token\" value=\"{}\">\
             <button type=\"submit\">Sign out</button></form>",
            escape(&account.username),
            escape(&session.csrf_token)
        ),
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    pub csrf_token: String,
}

async fn logout_form(
    State(state): State<AppState>,
    session: Option<Extension<ResolvedSession>>,
    Form(form): Form<LogoutForm>,
) -> Result<Response, ApiError> {
    let Some(Extension(ResolvedSession(session))) = session else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !bool::from(
        form.csrf_token
            .as_bytes()
            .ct_eq(session.csrf_token.as_bytes()),
    ) {
        return Err(ApiError::Denied {
            code: "csrf_token_invalid",
            message: "missing or wrong csrf_token for this session".to_owned(),
        });
    }
    sessions::delete(&state.pool, session.id)
        .await
        .map_err(ApiError::internal)?;
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_session_cookie());
    Ok(response)
}
