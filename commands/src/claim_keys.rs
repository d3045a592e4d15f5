//! Claim ids: `<kind>:<HMAC-SHA256(key, normalised value)>` in hex, so the
//! event log's aggregate ids carry no personal data and cannot be reversed
//! by hashing a dictionary of addresses without the key.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use domain::claim::ClaimKind;

#[derive(Clone)]
pub struct ClaimKeys {
    key: Vec<u8>,
}

impl std::fmt::Debug for ClaimKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClaimKeys(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the claim key must be at least 32 bytes")]
pub struct ClaimKeyTooShort;

impl ClaimKeys {
    pub fn new(key: Vec<u8>) -> Result<Self, ClaimKeyTooShort> {
        if key.len() < 32 {
            return Err(ClaimKeyTooShort);
        }
        Ok(Self { key })
    }

    /// The aggregate id of the claim on `normalised_value`.
    pub fn claim_id(&self, kind: ClaimKind, normalised_value: &str) -> String {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail here.
        let digest = match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(mut mac) => {
                mac.update(kind.prefix().as_bytes());
                mac.update(b"\0");
                mac.update(normalised_value.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
            Err(_) => String::new(),
        };
        format!("{}:{digest}", kind.prefix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_ids_are_keyed_and_do_not_contain_the_value() {
        let a = ClaimKeys::new(vec![1; 32]).unwrap();
        let b = ClaimKeys::new(vec![2; 32]).unwrap();
        let id = a.claim_id(ClaimKind::Email, "ada@example.com");
        assert!(id.starts_with("email:") && id.len() == "email:".len() + 64);
        assert!(!id.contains("ada"));
        assert_eq!(id, a.claim_id(ClaimKind::Email, "ada@example.com"));
        assert_ne!(id, b.claim_id(ClaimKind::Email, "ada@example.com"));
        assert_ne!(
            a.claim_id(ClaimKind::Email, "ada"),
            a.claim_id(ClaimKind::Username, "ada")
        );
        assert_eq!(ClaimKeys::new(vec![0; 31]).err(), Some(ClaimKeyTooShort));
    }
}
