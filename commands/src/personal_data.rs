//! Crypto-shredding: each account's personal data (email, username, client
//! addresses) is sealed with a 256-bit key of its own, kept outside the
//! event log (port [`PersonalDataKeys`]). Forgetting the account deletes
//! the key: the events stay, and what was sealed with it is gone for good.
//!
//! Format: `pd1:` + base64url(96-bit nonce || AES-256-GCM-SIV ciphertext),
//! with the account id as associated data, so a value copied into another
//! account's events does not open.

use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::account::PersonalData;
use rand::RngCore;
use uuid::Uuid;

use crate::ports::PortError;

/// Where the per-account keys live.
#[async_trait]
pub trait PersonalDataKeys: Send + Sync {
    /// The account's key, created on first use.
    async fn create(&self, account: Uuid) -> Result<Vec<u8>, PortError>;
    /// The account's key; `None` once forgotten (or never created).
    async fn get(&self, account: Uuid) -> Result<Option<Vec<u8>>, PortError>;
    /// Deletes the key; true if there was one.
    async fn forget(&self, account: Uuid) -> Result<bool, PortError>;
}

pub fn new_key() -> Vec<u8> {
    let mut key = vec![0u8; 32];
    rand::rng().fill_bytes(&mut key);
    key
}

/// Seals `plaintext` for `account` with `key`.
pub fn seal(key: &[u8], account: Uuid, plaintext: &str) -> Option<PersonalData> {
    let cipher = Aes256GcmSiv::new_from_slice(key).ok()?;
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext.as_bytes(),
                aad: account.as_bytes(),
            },
        )
        .ok()?;
    let mut blob = nonce.to_vec();
    blob.extend_from_slice(&ciphertext);
    Some(PersonalData::from_sealed(format!(
        "{}{}",
        PersonalData::PREFIX,
        URL_SAFE_NO_PAD.encode(blob)
    )))
}

/// Opens a value sealed for `account` with `key`; `None` if it does not open.
pub fn open(key: &[u8], account: Uuid, data: &PersonalData) -> Option<String> {
    let encoded = data.sealed().strip_prefix(PersonalData::PREFIX)?;
    let blob = URL_SAFE_NO_PAD.decode(encoded).ok()?;
    if blob.len() < 12 {
        return None;
    }
    let (nonce, ciphertext) = blob.split_at(12);
    let cipher = Aes256GcmSiv::new_from_slice(key).ok()?;
    let plain = cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: account.as_bytes(),
            },
        )
        .ok()?;
    String::from_utf8(plain).ok()
}

/// In-memory keys for tests.
#[derive(Debug, Default)]
pub struct MemPersonalDataKeys(std::sync::Mutex<std::collections::HashMap<Uuid, Vec<u8>>>);

#[async_trait]
impl PersonalDataKeys for MemPersonalDataKeys {
    async fn create(&self, account: Uuid) -> Result<Vec<u8>, PortError> {
        let mut keys = self.0.lock().map_err(|_| "poisoned")?;
        Ok(keys.entry(account).or_insert_with(new_key).clone())
    }

    async fn get(&self, account: Uuid) -> Result<Option<Vec<u8>>, PortError> {
        Ok(self
            .0
            .lock()
            .map_err(|_| "poisoned")?
            .get(&account)
            .cloned())
    }

    async fn forget(&self, account: Uuid) -> Result<bool, PortError> {
        Ok(self
            .0
            .lock()
            .map_err(|_| "poisoned")?
            .remove(&account)
            .is_some())
    }
}

/// `metadata` with its client address sealed for `account` (dropped when
/// the account has no key, i.e. was forgotten).
pub async fn seal_metadata(
    keys: &dyn PersonalDataKeys,
    account: Uuid,
    metadata: &crate::Metadata,
) -> Result<crate::Metadata, PortError> {
    let Some(ip) = &metadata.client_ip else {
        return Ok(metadata.clone());
    };
    let sealed = keys
        .get(account)
        .await?
        .and_then(|key| seal(&key, account, ip));
    Ok(crate::Metadata {
        client_ip: sealed.map(|s| s.sealed().to_owned()),
        ..metadata.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_personal_data_opens_only_with_its_key_and_account() {
        let (key, other_key) = (new_key(), new_key());
        let (ada, bob) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let sealed = seal(&key, ada, "ada@example.com").unwrap();
        assert!(sealed.sealed().starts_with("pd1:"));
        assert!(!sealed.sealed().contains("ada"));
        assert_ne!(
            sealed,
            seal(&key, ada, "ada@example.com").unwrap(),
            "random nonces"
        );
        assert_eq!(open(&key, ada, &sealed).as_deref(), Some("ada@example.com"));
        assert_eq!(open(&other_key, ada, &sealed), None);
        assert_eq!(open(&key, bob, &sealed), None);
        assert_eq!(
            open(&key, ada, &PersonalData::from_sealed("plain".into())),
            None
        );
    }
}
