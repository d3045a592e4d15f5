//! Why an API key command was refused.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyError {
    #[error("the key already exists")]
    AlreadyIssued,
    #[error("no such key")]
    NotFound,
    #[error("the key is already revoked")]
    AlreadyRevoked,
    #[error("a key needs a name of 1 to 60 characters")]
    BadName,
    #[error("a key needs at least one scope")]
    NoScopes,
    #[error("the expiry must be in the future")]
    ExpiryInPast,
}
