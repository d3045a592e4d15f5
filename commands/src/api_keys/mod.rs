//! API keys: issue (shown once), revoke, authenticate.
//!
//! A key is `cl_<prefix>_<secret>`: the prefix is the key id in 32 hex
//! digits (the aggregate id, so authentication is one load with no index on
//! secrets), the secret 256 random bits in base64url. Only
//! `HMAC-SHA256(pepper, secret)` is recorded; a presented key is hashed the
//! same way and compared in constant time.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::api_key::{ApiKey, ApiKeyCommand, ApiKeyError, ApiScope};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ports::Clock;
use crate::store::{CommitObserver, EventStores, Repository};
use crate::{CommandError, Metadata};

pub const KEY_PREFIX: &str = "cl_";

#[derive(Clone)]
pub struct Pepper(Vec<u8>);

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pepper(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the API key pepper must be at least 32 bytes")]
pub struct PepperTooShort;

impl Pepper {
    pub fn new(bytes: Vec<u8>) -> Result<Self, PepperTooShort> {
        if bytes.len() < 32 {
            return Err(PepperTooShort);
        }
        Ok(Self(bytes))
    }

    fn hash(&self, secret: &str) -> String {
        match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mut mac) => {
                mac.update(secret.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
            Err(_) => String::new(),
        }
    }
}

/// A freshly issued key: the only time the full key exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedKey {
    pub key_id: Uuid,
    pub key: String,
}

/// A key that authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedKey {
    pub key_id: Uuid,
    pub owner: Uuid,
    pub scopes: Vec<ApiScope>,
}

/// Splits `cl_<prefix>_<secret>` into the key id and the secret.
pub fn parse_key(presented: &str) -> Option<(Uuid, &str)> {
    let rest = presented.strip_prefix(KEY_PREFIX)?;
    let (prefix, secret) = rest.split_once('_')?;
    if prefix.len() != 32 || secret.is_empty() {
        return None;
    }
    Uuid::try_parse(prefix).ok().map(|id| (id, secret))
}

pub struct ApiKeyService<S: EventStores> {
    keys: Repository<ApiKey, S>,
    pepper: Pepper,
    clock: Arc<dyn Clock>,
}

impl<S: EventStores> ApiKeyService<S> {
    pub fn new(
        stores: &S,
        observer: Option<Arc<dyn CommitObserver>>,
        pepper: Pepper,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            keys: Repository::new(stores, observer),
            pepper,
            clock,
        }
    }

    #[tracing::instrument(skip_all, fields(%owner))]
    pub async fn issue(
        &self,
        owner: Uuid,
        name: &str,
        scopes: Vec<ApiScope>,
        expires_at: Option<OffsetDateTime>,
        metadata: &Metadata,
    ) -> Result<IssuedKey, CommandError<ApiKeyError>> {
        let key_id = Uuid::now_v7();
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = URL_SAFE_NO_PAD.encode(bytes);
        self.keys
            .execute(
                &key_id.to_string(),
                ApiKeyCommand::Issue {
                    key_id,
                    owner,
                    name: name.to_owned(),
                    secret_hash: self.pepper.hash(&secret),
                    scopes,
                    expires_at,
                    now: self.clock.now(),
                },
                metadata,
            )
            .await?;
        Ok(IssuedKey {
            key_id,
            key: format!("{KEY_PREFIX}{}_{secret}", key_id.simple()),
        })
    }

    #[tracing::instrument(skip_all, fields(%owner, %key_id))]
    pub async fn revoke(
        &self,
        owner: Uuid,
        key_id: Uuid,
        metadata: &Metadata,
    ) -> Result<(), CommandError<ApiKeyError>> {
        self.keys
            .execute(
                &key_id.to_string(),
                ApiKeyCommand::Revoke {
                    by: owner,
                    now: self.clock.now(),
                },
                metadata,
            )
            .await
    }

    /// The key's identity if `presented` is a usable key (issued, secret
    /// matches, not revoked, not expired); `None` otherwise, whatever the
    /// reason.
    pub async fn authenticate(
        &self,
        presented: &str,
    ) -> Result<Option<AuthenticatedKey>, CommandError<ApiKeyError>> {
        let Some((key_id, secret)) = parse_key(presented) else {
            return Ok(None);
        };
        let key = self.keys.load(&key_id.to_string()).await?;
        let hash = self.pepper.hash(secret);
        let matches: bool = hash.as_bytes().ct_eq(key.secret_hash().as_bytes()).into();
        Ok(match key.owner() {
            Some(owner) if matches && key.is_usable(self.clock.now()) => Some(AuthenticatedKey {
                key_id,
                owner,
                scopes: key.scopes().to_vec(),
            }),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::ports::FakeClock;
    use crate::store::MemStores;

    #[tokio::test]
    async fn an_issued_key_authenticates_until_revoked_and_a_forged_one_never() {
        let stores = MemStores::default();
        let clock = Arc::new(FakeClock::at(datetime!(2026-01-01 00:00 UTC)));
        let service = ApiKeyService::new(
            &stores,
            None,
            Pepper::new(vec![3; 32]).unwrap(),
            clock.clone(),
        );
        let owner = Uuid::from_u128(5);
        let meta = Metadata::system("test");
        let issued = service
            .issue(
                owner,
                "bot",
                vec![ApiScope::ReadMarket],
                Some(datetime!(2026-01-02 00:00 UTC)),
                &meta,
            )
            .await
            .unwrap();
        assert!(
            issued
                .key
                .starts_with(&format!("cl_{}_", issued.key_id.simple()))
        );
        assert_eq!(issued.key.len(), 3 + 32 + 1 + 43);
        let found = service.authenticate(&issued.key).await.unwrap().unwrap();
        assert_eq!(found.owner, owner);
        assert_eq!(found.scopes, vec![ApiScope::ReadMarket]);

        let mut forged = issued.key.clone();
        forged.pop();
        forged.push(if issued.key.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(service.authenticate(&forged).await.unwrap(), None);
        assert_eq!(service.authenticate("cl_nope").await.unwrap(), None);

        clock.advance(time::Duration::days(1));
        assert_eq!(service.authenticate(&issued.key).await.unwrap(), None);
    }
}
