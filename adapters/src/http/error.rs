//! One error type for the whole API, with stable JSON codes:
//! `{"error": "<code>", "message": "...", "fields": {...}}`.

use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

#[derive(Debug)]
pub enum ApiError {
    /// 400: the request itself is malformed.
    BadRequest {
        code: &'static str,
        message: String,
    },
    /// 400: query or path parameters that do not parse, named one by one.
    InvalidParameters {
        fields: Vec<(&'static str, String)>,
    },
    /// 422: well-formed but refused, with a message per field.
    Validation {
        fields: Vec<(&'static str, String)>,
    },
    /// 409: refused because of the current state.
    Conflict {
        code: &'static str,
        message: String,
    },
    NotFound,
    Unauthenticated {
        message: String,
    },
    /// 403: authenticated, but not allowed to do this.
    Forbidden,
    /// 403 with a specific reason (missing scope, CSRF token, unverified, ...).
    Denied {
        code: &'static str,
        message: String,
    },
    /// 429 with `Retry-After`.
    RateLimited {
        retry_after_secs: u64,
    },
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
    /// 503: a dependency is down; try again.
    Unavailable,
    /// 500: logged once with its cause chain; the client gets a generic message.
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, fields) = match self {
            Self::BadRequest { code, message } => (StatusCode::BAD_REQUEST, code, message, None),
            Self::InvalidParameters { fields } => (
                StatusCode::BAD_REQUEST,
                "invalid_parameters",
                "some parameters are invalid".to_owned(),
                Some(
                    fields
                        .into_iter()
                        .map(|(field, message)| (field.to_owned(), Value::String(message)))
                        .collect::<Map<String, Value>>(),
                ),
            ),
            Self::Validation { fields } => {
                let map: Map<String, Value> = fields
                    .into_iter()
                    .map(|(field, message)| (field.to_owned(), Value::String(message)))
                    .collect();
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "some fields are invalid".to_owned(),
                    Some(map),
                )
            }
            Self::Conflict { code, message } => (StatusCode::CONFLICT, code, message, None),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "no such resource".to_owned(),
                None,
            ),
            Self::Unauthenticated { message } => {
                (StatusCode::UNAUTHORIZED, "unauthenticated", message, None)
            }
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "you are not allowed to do this".to_owned(),
                None,
            ),
            Self::Denied { code, message } => (StatusCode::FORBIDDEN, code, message, None),
            Self::RateLimited { retry_after_secs } => {
                let body = json!({
                    "error": "rate_limited",
                    "message": format!("too many requests; try again in {retry_after_secs} s"),
                });
                let mut response =
                    (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
                response.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(retry_after_secs),
                );
                return response;
            }
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this method is not allowed here".to_owned(),
                None,
            ),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large".to_owned(),
                None,
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send JSON with Content-Type: application/json".to_owned(),
                None,
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the service is temporarily unavailable, try again shortly".to_owned(),
                None,
            ),
            Self::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side".to_owned(),
                    None,
                )
            }
        };
        let mut body = json!({ "error": code, "message": message });
        if let (Some(fields), Some(object)) = (fields, body.as_object_mut()) {
            object.insert("fields".to_owned(), Value::Object(fields));
        }
        (status, axum::Json(body)).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType,
            JsonRejection::BytesRejection(_)
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Self::PayloadTooLarge
            }
            JsonRejection::JsonDataError(error) => Self::BadRequest {
                code: "invalid_body",
                message: error.body_text(),
            },
            JsonRejection::JsonSyntaxError(error) => Self::BadRequest {
                code: "malformed_json",
                message: error.body_text(),
            },
            other => Self::BadRequest {
                code: "bad_request",
                message: other.body_text(),
            },
        }
    }
}

/// `axum::Json`, with rejections in the API's error shape.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
