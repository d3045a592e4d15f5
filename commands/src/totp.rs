//! TOTP (RFC 6238): SHA-1, 6 digits, 30-second steps, T0 = 0; a code is
//! accepted for the current step and one step either side. Which step
//! matched is returned, so the account can refuse a step already used.

use rand::RngCore;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

pub const DIGITS: usize = 6;
pub const STEP_SECONDS: u64 = 30;
/// Steps accepted either side of the current one.
pub const SKEW_STEPS: u64 = 1;
/// 160-bit secrets (RFC 4226 §4 recommends 160).
pub const SECRET_BYTES: usize = 20;

pub fn generate_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut secret);
    secret
}

fn totp(secret: &[u8], digits: usize) -> Option<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        digits,
        0,
        STEP_SECONDS,
        secret.to_vec(),
        Some("CryptoLens".to_owned()),
        String::new(),
    )
    .ok()
}

/// The code for `unix_seconds` with `digits` digits (6 in the product; the
/// RFC's test vectors use 8).
pub fn code_at(secret: &[u8], digits: usize, unix_seconds: u64) -> Option<String> {
    totp(secret, digits).map(|t| t.generate(unix_seconds))
}

/// The step `code` belongs to, within ±[`SKEW_STEPS`] of `unix_seconds`.
pub fn matching_step(secret: &[u8], code: &str, unix_seconds: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, DIGITS)?;
    let current = unix_seconds / STEP_SECONDS;
    let mut found = None;
    // Every candidate is compared, in constant time, whatever matched first.
    for step in current.saturating_sub(SKEW_STEPS)..=current + SKEW_STEPS {
        let expected = totp.generate(step * STEP_SECONDS);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` URL authenticator apps read from the QR code.
pub fn otpauth_url(secret: &[u8], account_label: &str) -> Option<String> {
    let label: String = account_label.chars().filter(|c| *c != ':').collect();
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        0,
        STEP_SECONDS,
        secret.to_vec(),
        Some("CryptoLens".to_owned()),
        label,
    )
    .ok()
    .map(|t| t.get_url())
}

/// The secret as base32, for manual entry.
pub fn secret_base32(secret: &[u8]) -> String {
    totp_rs::Secret::Raw(secret.to_vec())
        .to_encoded()
        .to_string()
}

/// Ten 128-bit recovery codes, base32 in groups of four (shown once).
pub fn generate_recovery_codes() -> Vec<String> {
    (0..10)
        .map(|_| {
            let mut bytes = [0u8; 16];
            rand::rng().fill_bytes(&mut bytes);
            let encoded = totp_rs::Secret::Raw(bytes.to_vec())
                .to_encoded()
                .to_string();
            encoded
                .trim_end_matches('=')
                .as_bytes()
                .chunks(4)
                .map(|chunk| String::from_utf8_lossy(chunk).to_lowercase())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// The stored form of a recovery code: SHA-256 of its normalised text
/// (128-bit codes need no slow hash; ASVS 5.0 6.5.2).
pub fn hash_recovery_code(code: &str) -> String {
    let normalised: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    crate::tokens::hash_token(&normalised)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 column (8 digits, seed "12345678901234567890").
    #[test]
    fn the_rfc_6238_sha1_test_vectors_pass() {
        let seed = b"12345678901234567890";
        for (time, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(seed, 8, time).as_deref(), Some(expected), "{time}");
        }
        assert_eq!(secret_base32(seed), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn a_code_matches_its_step_and_one_step_either_side_only() {
        let secret = generate_secret();
        assert_eq!(secret.len(), 20);
        let now = 1_800_000_000;
        let step = now / 30;
        let code = code_at(&secret, 6, now).unwrap();
        assert_eq!(code.len(), 6);
        assert_eq!(matching_step(&secret, &code, now), Some(step));
        assert_eq!(matching_step(&secret, &code, now + 30), Some(step));
        assert_eq!(matching_step(&secret, &code, now - 30), Some(step));
        assert_eq!(matching_step(&secret, &code, now + 60), None);
        assert_eq!(matching_step(&secret, &code, now - 60), None);
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn recovery_codes_are_ten_distinct_128_bit_codes_hashed_loosely() {
        let codes = generate_recovery_codes();
        assert_eq!(codes.len(), 10);
        let mut distinct = codes.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 10);
        // 26 base32 characters = 130 bits of room for 128 random bits.
        assert_eq!(codes[0].replace('-', "").len(), 26);
        assert_eq!(
            hash_recovery_code(&codes[0]),
            hash_recovery_code(&codes[0].to_uppercase().replace('-', " "))
        );
    }
}
