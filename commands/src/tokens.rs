//! Single-use email tokens (verification 24 h, password reset 1 h).
//!
//! A token is 256 bits: `HMAC-SHA256(server key, purpose || token id)`,
//! base64url. Events record the token id and the SHA-256 of the token,
//! never the token, so neither the event log nor a database dump yields a
//! working link; the mailer, which holds the key, re-derives the token from
//! the id when it sends the mail.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::account::IssuedToken;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    Verification,
    PasswordReset,
}

impl TokenPurpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::Verification => b"verify-email",
            Self::PasswordReset => b"reset-password",
        }
    }
}

#[derive(Clone)]
pub struct TokenKey(Vec<u8>);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the token key must be at least 32 bytes")]
pub struct TokenKeyTooShort;

impl TokenKey {
    pub fn new(key: Vec<u8>) -> Result<Self, TokenKeyTooShort> {
        if key.len() < 32 {
            return Err(TokenKeyTooShort);
        }
        Ok(Self(key))
    }

    /// The token for `id`: what the emailed link carries.
    pub fn derive(&self, purpose: TokenPurpose, id: Uuid) -> String {
        match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mut mac) => {
                mac.update(purpose.label());
                mac.update(b"\0");
                mac.update(id.as_bytes());
                URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
            }
            // HMAC takes keys of any length.
            Err(_) => String::new(),
        }
    }

    /// A new token valid for `ttl` from `now`.
    pub fn issue(&self, purpose: TokenPurpose, ttl: Duration, now: OffsetDateTime) -> IssuedToken {
        let id = Uuid::now_v7();
        IssuedToken {
            id,
            hash: hash_token(&self.derive(purpose, id)),
            expires_at: now + ttl,
        }
    }
}

/// The stored form of a token: hex SHA-256.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn tokens_are_256_bits_keyed_by_purpose_and_stored_only_hashed() {
        let key = TokenKey::new(vec![5; 32]).unwrap();
        let issued = key.issue(
            TokenPurpose::PasswordReset,
            Duration::hours(1),
            datetime!(2026-01-01 00:00 UTC),
        );
        let token = key.derive(TokenPurpose::PasswordReset, issued.id);
        assert_eq!(URL_SAFE_NO_PAD.decode(&token).unwrap().len(), 32);
        assert_eq!(issued.hash, hash_token(&token));
        assert_ne!(issued.hash, token);
        assert_eq!(issued.expires_at, datetime!(2026-01-01 01:00 UTC));
        assert_ne!(token, key.derive(TokenPurpose::Verification, issued.id));
        let other = TokenKey::new(vec![6; 32]).unwrap();
        assert_ne!(token, other.derive(TokenPurpose::PasswordReset, issued.id));
        assert!(TokenKey::new(vec![1; 31]).is_err());
    }
}
