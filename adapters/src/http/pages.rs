//! The server-rendered sign-in pages: `/login` (a form), `/account` (who
//! you are, with a sign-out form) and `POST /logout`. Forms that change
//! state while signed in carry the session's synchronizer token in a hidden
//! `csrf_token` field; the sign-in form itself is covered by the
//! Fetch-Metadata / Origin layer. (The dashboard proper is another feature.)

use axum::extract::{Form, Query, State};
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
        .route(
            "/verify-email",
            get(verify_email_page).post(verify_email_form),
        )
        .route(
            "/reset-password",
            get(reset_password_page).post(reset_password_form),
        )
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
    let started = tokio::time::Instant::now();
    let outcome = state
        .accounts
        .sign_in(&form.email, &form.password, &metadata)
        .await
        .unwrap_or(SignInOutcome::Failed);
    let SignInOutcome::SignedIn { account_id } = outcome else {
        // Two-factor sign-in is offered by the JSON API; the page says the same as for a failure.
        tokio::time::sleep_until(started + super::sessions::FAILURE_RESPONSE_TIME).await;
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

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    pub account: String,
    pub token: String,
}

/// Pages carrying a token in their URL must not leak it in a Referer.
fn token_page(status: StatusCode, html: Html<String>) -> Response {
    let mut response = (status, html).into_response();
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        axum::http::HeaderValue::from_static("no-referrer"),
    );
    response
}

fn hidden_token_fields(query: &TokenQuery) -> String {
    format!(
        "<input type=\"hidden\" name=\"account\" value=\"{}\"><input type=\"hidden\" name=\"token\" value=\"{}\">",
        escape(&query.account),
        escape(&query.token)
    )
}

/// The link in the verification mail: a button, so that mail scanners
/// following links verify nothing.
async fn verify_email_page(Query(query): Query<TokenQuery>) -> Response {
    token_page(
        StatusCode::OK,
        page(
            "Confirm your email address",
            &format!(
                "<form method=\"post\" action=\"/verify-email\">{}<button type=\"submit\">Confirm</button></form>",
                hidden_token_fields(&query)
            ),
        ),
    )
}

fn invalid_link_page() -> Response {
    token_page(
        StatusCode::BAD_REQUEST,
        page(
            "This link does not work",
            "<p>The link is invalid, expired or already used. Ask for a new one.</p>",
        ),
    )
}

async fn verify_email_form(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    Form(form): Form<TokenQuery>,
) -> Response {
    let Some(account_id) = domain::account::AccountId::parse(&form.account) else {
        return invalid_link_page();
    };
    match state
        .accounts
        .verify_email(account_id, &form.token, &metadata)
        .await
    {
        Ok(()) => token_page(
            StatusCode::OK,
            page(
                "Address confirmed",
                "<p>Thank you. <a href=\"/login\">Sign in</a>.</p>",
            ),
        ),
        Err(_) => invalid_link_page(),
    }
}

async fn reset_password_page(Query(query): Query<TokenQuery>) -> Response {
    token_page(
        StatusCode::OK,
        page(
            "Choose a new password",
            &format!(
                "<form method=\"post\" action=\"/reset-password\">{}\
                 <label>New password <input type=\"password\" name=\"new_password\" autocomplete=\"new-password\" required minlength=\"8\" maxlength=\"128\"></label>\
                 <button type=\"submit\">Set password</button></form>",
                hidden_token_fields(&query)
            ),
        ),
    )
}

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    pub account: String,
    pub token: String,
    pub new_password: String,
}

async fn reset_password_form(
    State(state): State<AppState>,
    RequestMeta(metadata): RequestMeta,
    Form(form): Form<ResetForm>,
) -> Result<Response, ApiError> {
    let Some(account_id) = domain::account::AccountId::parse(&form.account) else {
        return Ok(invalid_link_page());
    };
    match state
        .accounts
        .reset_password(account_id, &form.token, &form.new_password, &metadata)
        .await
    {
        Ok(()) => {
            super::sessions::end_sessions(
                &state,
                account_id.as_uuid(),
                None,
                domain::account::RevocationReason::PasswordReset,
                &metadata,
            )
            .await?;
            Ok(token_page(
                StatusCode::OK,
                page(
                    "Password changed",
                    "<p>Every session was signed out. <a href=\"/login\">Sign in</a>.</p>",
                ),
            ))
        }
        Err(commands::CommandError::Rejected(commands::accounts::PasswordChangeError::Policy(
            policy,
        ))) => Ok(token_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                "Choose a new password",
                &format!(
                    "<p role=\"alert\">The password {}.</p>",
                    escape(&policy.to_string())
                ),
            ),
        )),
        Err(_) => Ok(invalid_link_page()),
    }
}
