//! Secrets sealed at rest with AES-256-GCM-SIV (RFC 8452) under a keyring
//! from configuration. Each sealed value names the key id it was sealed
//! with, so keys rotate: add a new key in front, run the rotation command
//! (it re-seals everything under the newest key), then drop the old key.
//! The associated data binds a sealed value to its owner and purpose, so a
//! ciphertext copied onto another row does not open.

use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use rand::RngCore;

/// A sealed value as stored: key id, 96-bit nonce, ciphertext with tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("no sealing key with id {0:?} is configured")]
    UnknownKey(String),
    #[error("the sealed value does not open (wrong key, owner or purpose, or tampered)")]
    Corrupt,
    #[error("a keyring needs at least one key of 32 bytes with a non-empty, unique id")]
    BadKeyring,
}

#[derive(Clone)]
pub struct Keyring {
    /// The first key seals; all of them open.
    keys: Vec<(String, Aes256GcmSiv)>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<_> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("Keyring").field("key_ids", &ids).finish()
    }
}

impl Keyring {
    /// `keys` in order of preference: the first one seals.
    pub fn new(keys: Vec<(String, Vec<u8>)>) -> Result<Self, SealError> {
        let mut ring = Vec::new();
        for (id, key) in keys {
            if id.is_empty() || key.len() != 32 || ring.iter().any(|(known, _)| *known == id) {
                return Err(SealError::BadKeyring);
            }
            let cipher = Aes256GcmSiv::new_from_slice(&key).map_err(|_| SealError::BadKeyring)?;
            ring.push((id, cipher));
        }
        if ring.is_empty() {
            return Err(SealError::BadKeyring);
        }
        Ok(Self { keys: ring })
    }

    pub fn current_key_id(&self) -> &str {
        self.keys.first().map_or("", |(id, _)| id.as_str())
    }

    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Sealed, SealError> {
        let (key_id, cipher) = self.keys.first().ok_or(SealError::BadKeyring)?;
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| SealError::Corrupt)?;
        Ok(Sealed {
            key_id: key_id.clone(),
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    pub fn open(&self, sealed: &Sealed, aad: &[u8]) -> Result<Vec<u8>, SealError> {
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(id, _)| *id == sealed.key_id)
            .ok_or_else(|| SealError::UnknownKey(sealed.key_id.clone()))?;
        if sealed.nonce.len() != 12 {
            return Err(SealError::Corrupt);
        }
        cipher
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad,
                },
            )
            .map_err(|_| SealError::Corrupt)
    }

    /// Re-seals `sealed` under the current key (unchanged if it already is).
    pub fn reseal(&self, sealed: &Sealed, aad: &[u8]) -> Result<Option<Sealed>, SealError> {
        if sealed.key_id == self.current_key_id() {
            return Ok(None);
        }
        self.seal(&self.open(sealed, aad)?, aad).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_associated_data() {
        let old = Keyring::new(vec![("1".into(), vec![1; 32])]).unwrap();
        let sealed = old.seal(b"secret", b"owner-a").unwrap();
        assert_eq!(sealed.key_id, "1");
        assert_ne!(sealed.ciphertext, b"secret");
        assert_eq!(old.open(&sealed, b"owner-a").unwrap(), b"secret");
        assert_eq!(old.open(&sealed, b"owner-b"), Err(SealError::Corrupt));

        let rotated =
            Keyring::new(vec![("2".into(), vec![2; 32]), ("1".into(), vec![1; 32])]).unwrap();
        let resealed = rotated.reseal(&sealed, b"owner-a").unwrap().unwrap();
        assert_eq!(resealed.key_id, "2");
        assert_eq!(rotated.reseal(&resealed, b"owner-a").unwrap(), None);
        let new_only = Keyring::new(vec![("2".into(), vec![2; 32])]).unwrap();
        assert_eq!(new_only.open(&resealed, b"owner-a").unwrap(), b"secret");
        assert_eq!(
            new_only.open(&sealed, b"owner-a"),
            Err(SealError::UnknownKey("1".into()))
        );
        assert!(Keyring::new(vec![("1".into(), vec![1; 16])]).is_err());
        assert!(Keyring::new(vec![]).is_err());
    }
}
