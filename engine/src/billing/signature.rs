//! `Stripe-Signature` verification.
//!
//! Done here rather than with `async-stripe-webhook`: that crate keeps only the *last* `v1`
//! entry of the header (so verification fails while a signing secret is being rolled, when
//! Stripe sends one `v1` per secret) and parses the body into its typed event enum, which would
//! reject events of types we do not subscribe to. The check is HMAC-SHA256 over
//! `"{t}.{raw body}"`, compared in constant time, with a tolerance on `t`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Stripe's SDKs accept signatures up to five minutes old (or early).
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing or malformed")]
    Malformed,
    #[error("the Stripe-Signature timestamp is outside the tolerance")]
    Stale,
    #[error("no v1 signature matches")]
    Mismatch,
}

/// Hex HMAC-SHA256 of `"{timestamp}.{body}"` with `secret`: what Stripe puts in `v1=`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length; this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// Checks `header` (`t=…,v1=…[,v1=…]`) against `body`. `now_secs` is the receiver's wall-clock
/// time: Stripe signs with its own wall clock, so this is not the injectable app clock.
pub fn verify(
    header: &str,
    body: &[u8],
    secret: &str,
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => candidates.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now_secs - timestamp).abs() > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    let matches = candidates.iter().any(|candidate| {
        let Some(expected) = decode_hex(candidate) else {
            return false;
        };
        let mut mac = mac(secret);
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    });
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"evt_test","object":"event","type":"invoice.paid"}"#;

    #[test]
    fn matches_the_reference_vector() {
        // ../shared/reference/stripe-billing.md §4
        let expected = "02b5890a3376a18a176fde670ba47bc920bc30c6ae0deb7adf58049a4ead9aff";
        assert_eq!(sign("whsec_test_secret", 1_700_000_000, BODY), expected);
        let header = format!("t=1700000000,v1={expected}");
        assert_eq!(
            verify(&header, BODY, "whsec_test_secret", 1_700_000_100, 300),
            Ok(())
        );
    }

    #[test]
    fn any_v1_may_match_while_a_secret_rolls() {
        let good = sign("whsec_new", 1_700_000_000, BODY);
        let header = format!("t=1700000000,v1={},v1={good},v0=abc", "00".repeat(32));
        assert_eq!(
            verify(&header, BODY, "whsec_new", 1_700_000_000, 300),
            Ok(())
        );
    }

    #[test]
    fn forged_stale_and_malformed_are_refused() {
        let good = sign("whsec_a", 1_700_000_000, BODY);
        let header = format!("t=1700000000,v1={good}");
        assert_eq!(
            verify(&header, BODY, "whsec_b", 1_700_000_000, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&header, b"{}", "whsec_a", 1_700_000_000, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&header, BODY, "whsec_a", 1_700_000_301, 300),
            Err(SignatureError::Stale)
        );
        for bad in ["", "t=1700000000", &format!("v1={good}"), "t=x,v1=zz"] {
            assert_eq!(
                verify(bad, BODY, "whsec_a", 1_700_000_000, 300),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }
}
