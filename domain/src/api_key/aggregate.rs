//! An API key's decision logic.

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{ApiKeyCommand, ApiKeyError, ApiKeyEvent, ApiScope, NAME_MAX_CHARS};

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    owner: Option<Uuid>,
    name: String,
    secret_hash: String,
    scopes: Vec<ApiScope>,
    expires_at: Option<OffsetDateTime>,
    revoked: bool,
}

impl ApiKey {
    pub fn owner(&self) -> Option<Uuid> {
        self.owner
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn secret_hash(&self) -> &str {
        &self.secret_hash
    }

    pub fn scopes(&self) -> &[ApiScope] {
        &self.scopes
    }

    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        self.expires_at
    }

    pub fn is_revoked(&self) -> bool {
        self.revoked
    }

    /// Issued, not revoked, not expired at `now`.
    pub fn is_usable(&self, now: OffsetDateTime) -> bool {
        self.owner.is_some() && !self.revoked && self.expires_at.is_none_or(|at| now < at)
    }
}

impl Aggregate for ApiKey {
    const TYPE: &'static str = "api_key";
    type Command = ApiKeyCommand;
    type Event = ApiKeyEvent;
    type Error = ApiKeyError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            ApiKeyCommand::Issue {
                key_id,
                owner,
                name,
                secret_hash,
                mut scopes,
                expires_at,
                now,
            } => {
                if self.owner.is_some() {
                    return Err(ApiKeyError::AlreadyIssued);
                }
                let name = name.trim().to_owned();
                if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
                    return Err(ApiKeyError::BadName);
                }
                scopes.sort();
                scopes.dedup();
                if scopes.is_empty() {
                    return Err(ApiKeyError::NoScopes);
                }
                if expires_at.is_some_and(|at| at <= now) {
                    return Err(ApiKeyError::ExpiryInPast);
                }
                ApiKeyEvent::ApiKeyIssued {
                    key_id,
                    owner,
                    name,
                    secret_hash,
                    scopes,
                    expires_at,
                    issued_at: now,
                }
            }
            ApiKeyCommand::Revoke { by, now } => {
                if self.owner != Some(by) {
                    return Err(ApiKeyError::NotFound);
                }
                if self.revoked {
                    return Err(ApiKeyError::AlreadyRevoked);
                }
                ApiKeyEvent::ApiKeyRevoked { at: now }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ApiKeyEvent::ApiKeyIssued {
                owner,
                name,
                secret_hash,
                scopes,
                expires_at,
                ..
            } => {
                self.owner = Some(owner);
                self.name = name;
                self.secret_hash = secret_hash;
                self.scopes = scopes;
                self.expires_at = expires_at;
            }
            ApiKeyEvent::ApiKeyRevoked { .. } => self.revoked = true,
        }
    }
}
