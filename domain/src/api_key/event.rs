//! What happened to an API key. Variant names are the frozen `event_type`s.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiScope;
use crate::FIRST_EVENT_VERSION;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ApiKeyEvent {
    ApiKeyIssued {
        key_id: Uuid,
        owner: Uuid,
        name: String,
        secret_hash: String,
        scopes: Vec<ApiScope>,
        #[serde(with = "time::serde::rfc3339::option")]
        expires_at: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339")]
        issued_at: OffsetDateTime,
    },
    ApiKeyRevoked {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl ApiKeyEvent {
    pub const ISSUED: &'static str = "ApiKeyIssued";
    pub const REVOKED: &'static str = "ApiKeyRevoked";
}

impl DomainEvent for ApiKeyEvent {
    fn event_type(&self) -> String {
        match self {
            Self::ApiKeyIssued { .. } => Self::ISSUED,
            Self::ApiKeyRevoked { .. } => Self::REVOKED,
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        FIRST_EVENT_VERSION.to_owned()
    }
}
