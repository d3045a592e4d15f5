//! Webhook signature schemes of our payment providers.
//!
//! * LemonSqueezy: `X-Signature` = lowercase hex HMAC-SHA256 of the raw body.
//! * NOWPayments: `x-nowpayments-sig` = lowercase hex HMAC-SHA512 of the body
//!   re-serialised as `JSON.stringify` would after sorting keys recursively.
//!   The canonical form is written here by hand (not through
//!   `serde_json::Value`, whose key order changes if any crate in the graph
//!   turns on `preserve_order`), with JavaScript's number formatting.
//!
//! Comparison is constant-time (`Mac::verify_slice`).

use std::fmt::Write as _;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Sha256, Sha512};

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is missing")]
    Missing,
    #[error("the signature is not valid hex")]
    NotHex,
    #[error("the signature does not match the body")]
    Mismatch,
    #[error("the body is not JSON")]
    NotJson,
}

fn decode(signature: Option<&str>) -> Result<Vec<u8>, SignatureError> {
    let signature = signature
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(SignatureError::Missing)?;
    hex::decode(signature).map_err(|_| SignatureError::NotHex)
}

/// Checks a LemonSqueezy `X-Signature` against the raw body.
pub fn verify_lemonsqueezy(
    secret: &[u8],
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    let expected = decode(signature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| SignatureError::Mismatch)?;
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// Checks a NOWPayments `x-nowpayments-sig` against the body's canonical form.
pub fn verify_nowpayments(
    secret: &[u8],
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    let expected = decode(signature)?;
    let value: Value = serde_json::from_slice(body).map_err(|_| SignatureError::NotJson)?;
    let mut mac = Hmac::<Sha512>::new_from_slice(secret).map_err(|_| SignatureError::Mismatch)?;
    mac.update(canonical_json(&value).as_bytes());
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// Lowercase hex HMAC-SHA512 of the canonical form (for fakes and tests).
pub fn sign_nowpayments(secret: &[u8], value: &Value) -> String {
    match Hmac::<Sha512>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(canonical_json(value).as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Lowercase hex HMAC-SHA256 of `body` (for fakes and tests).
pub fn sign_lemonsqueezy(secret: &[u8], body: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// `JSON.stringify` of `value` with object keys sorted at every level.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            // JavaScript compares UTF-16 code units.
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                if let Some(item) = map.get(key) {
                    write_value(out, item);
                }
            }
            out.push('}');
        }
    }
}

/// Numbers as JavaScript prints them: integral doubles without `.0`,
/// exponents with an explicit sign (`1e+21`).
fn write_number(out: &mut String, n: &serde_json::Number) {
    if n.is_i64() || n.is_u64() {
        out.push_str(&n.to_string());
        return;
    }
    let Some(f) = n.as_f64() else {
        out.push_str(&n.to_string());
        return;
    };
    if f.fract() == 0.0 && f.abs() < 1e21 {
        let _ = write!(out, "{f:.0}");
        return;
    }
    let text = n.to_string();
    match text.split_once('e') {
        Some((mantissa, exponent)) if !exponent.starts_with('-') && !exponent.starts_with('+') => {
            let _ = write!(out, "{mantissa}e+{exponent}");
        }
        _ => out.push_str(&text),
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from the research notes (reference/security-ecosystem.md §B),
    // computed with Python's hmac and Node's JSON.stringify.
    const LS_SECRET: &[u8] = b"ls_test_secret";
    const LS_BODY: &str = r#"{"meta":{"event_name":"order_created","custom_data":{"user_id":"42"}},"data":{"type":"orders","id":"1"}}"#;
    const LS_SIG: &str = "ce20044a719d97967186df1dd28ab285f819f3bf926841dd315c753b893d58eb";

    const NP_SECRET: &[u8] = b"np_ipn_secret";
    const NP_BODY: &str = r#"{"payment_status":"finished","payment_id":5077125051,"pay_amount":0.0001,"price_amount":3999.5,"order_id":"RGDBP-21314","fee":{"depositFee":0,"currency":"btc","withdrawalFee":0,"serviceFee":0}}"#;
    const NP_CANONICAL: &str = r#"{"fee":{"currency":"btc","depositFee":0,"serviceFee":0,"withdrawalFee":0},"order_id":"RGDBP-21314","pay_amount":0.0001,"payment_id":5077125051,"payment_status":"finished","price_amount":3999.5}"#;
    const NP_SIG: &str = "b2ac4844afc91876d4940aa488f89b8bb7199fc233cadc30ebd3a4c4ce46e9336347c1578812bb3251bac44d53ff7ac06e395ebc21a15c2bd9117f873e2c3939";

    #[test]
    fn lemonsqueezy_vector_verifies_and_tampering_fails() {
        assert_eq!(sign_lemonsqueezy(LS_SECRET, LS_BODY.as_bytes()), LS_SIG);
        assert_eq!(
            verify_lemonsqueezy(LS_SECRET, LS_BODY.as_bytes(), Some(LS_SIG)),
            Ok(())
        );
        assert_eq!(
            verify_lemonsqueezy(
                LS_SECRET,
                LS_BODY.replace("42", "43").as_bytes(),
                Some(LS_SIG)
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_lemonsqueezy(b"other", LS_BODY.as_bytes(), Some(LS_SIG)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_lemonsqueezy(LS_SECRET, LS_BODY.as_bytes(), None),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_lemonsqueezy(LS_SECRET, LS_BODY.as_bytes(), Some("zz")),
            Err(SignatureError::NotHex)
        );
    }

    #[test]
    fn nowpayments_vector_canonicalises_and_verifies() {
        let value: Value = serde_json::from_str(NP_BODY).unwrap();
        assert_eq!(canonical_json(&value), NP_CANONICAL);
        assert_eq!(sign_nowpayments(NP_SECRET, &value), NP_SIG);
        assert_eq!(
            verify_nowpayments(NP_SECRET, NP_BODY.as_bytes(), Some(NP_SIG)),
            Ok(())
        );
        // Key order and whitespace of the delivered body do not matter.
        let reordered = r#"{ "fee": {"serviceFee":0,"withdrawalFee":0,"currency":"btc","depositFee":0}, "order_id":"RGDBP-21314","price_amount":3999.5,"pay_amount":0.0001,"payment_id":5077125051,"payment_status":"finished"}"#;
        assert_eq!(
            verify_nowpayments(NP_SECRET, reordered.as_bytes(), Some(NP_SIG)),
            Ok(())
        );
        let tampered = NP_BODY.replace("finished", "confirmed");
        assert_eq!(
            verify_nowpayments(NP_SECRET, tampered.as_bytes(), Some(NP_SIG)),
            Err(SignatureError::Mismatch)
        );
        // A nested field is authenticated too (the legacy replacer form dropped it).
        let nested = NP_BODY.replace(r#""serviceFee":0"#, r#""serviceFee":1"#);
        assert_eq!(
            verify_nowpayments(NP_SECRET, nested.as_bytes(), Some(NP_SIG)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_nowpayments(NP_SECRET, b"not json", Some(NP_SIG)),
            Err(SignatureError::NotJson)
        );
    }

    #[test]
    fn numbers_print_as_javascript_does() {
        let value: Value = serde_json::from_str(
            r#"{"a":1.0,"b":-2.50,"c":1e21,"d":1.5e-7,"e":12345678901234567890}"#,
        )
        .unwrap();
        assert_eq!(
            canonical_json(&value),
            r#"{"a":1,"b":-2.5,"c":1e+21,"d":1.5e-7,"e":12345678901234567890}"#
        );
        let text: Value = serde_json::from_str(r#"{"s":"a/b \"q\" \u0001 é"}"#).unwrap();
        assert_eq!(canonical_json(&text), "{\"s\":\"a/b \\\"q\\\" \\u0001 é\"}");
    }
}
