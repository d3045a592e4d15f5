//! What can be asked of an API key.

use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiScope;

#[derive(Debug, Clone, PartialEq)]
pub enum ApiKeyCommand {
    Issue {
        key_id: Uuid,
        owner: Uuid,
        name: String,
        /// Peppered SHA-256 of the secret part, hex.
        secret_hash: String,
        scopes: Vec<ApiScope>,
        expires_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    },
    /// Revoke; `by` must be the owner.
    Revoke { by: Uuid, now: OffsetDateTime },
}
