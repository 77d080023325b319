//! Webhook signatures: DingTalk (钉钉加签), Feishu (飞书签名校验) and our generic HMAC-SHA256 header.
//!
//! The recipes are the vendors' published ones; the tests recompute them with an independent
//! HMAC-SHA256 (built from SHA-256 by hand) so a mix-up of key and message would show.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use taizhang_domain::crypto::hmac_sha256;

/// DingTalk robot 加签.
///
/// `timestamp` is unix time in **milliseconds**; the string to sign is `timestamp + "\n" + secret`;
/// the key is the secret; the result is `base64(HMAC-SHA256(key = secret, msg = string_to_sign))`.
/// The robot URL then gets `&timestamp=<ms>&sign=<urlencode(base64)>`; DingTalk refuses a
/// timestamp more than one hour from its clock.
pub fn dingtalk_sign(timestamp_ms: i64, secret: &str) -> String {
    let string_to_sign = format!("{timestamp_ms}\n{secret}");
    STANDARD.encode(hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()))
}

/// Feishu bot 签名校验.
///
/// `timestamp` is unix time in **seconds**; `timestamp + "\n" + secret` is used as the HMAC **key**
/// over an **empty** message: `base64(HMAC-SHA256(key = string_to_sign, msg = ""))`. The body then
/// carries `"timestamp": "<s>"` and `"sign": "<base64>"`; Feishu refuses a timestamp more than one
/// hour away (error 19021).
pub fn feishu_sign(timestamp_s: i64, secret: &str) -> String {
    let string_to_sign = format!("{timestamp_s}\n{secret}");
    STANDARD.encode(hmac_sha256(string_to_sign.as_bytes(), b""))
}

/// Header carrying the generic webhook signature.
pub const SIGNATURE_HEADER: &str = "X-Taizhang-Signature";
/// Header carrying the send time (unix seconds); the same value is the body's `timestamp` field.
pub const TIMESTAMP_HEADER: &str = "X-Taizhang-Timestamp";
/// Header carrying the event code (`assigned`, `overdue`, …).
pub const EVENT_HEADER: &str = "X-Taizhang-Event";
/// Header carrying the delivery key; the same key is resent on every retry, so receivers can dedupe.
pub const DELIVERY_HEADER: &str = "X-Taizhang-Delivery";

/// Generic webhook signature: `sha256=` + lowercase hex of `HMAC-SHA256(key = secret, msg = raw body)`.
///
/// The body contains `timestamp` (unix seconds, equal to [`TIMESTAMP_HEADER`]), so the signature
/// covers the time too and receivers can refuse stale replays.
pub fn generic_signature(secret: &str, raw_body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), raw_body))
    )
}

/// Checks a generic signature in constant time (for receivers, and for our own tests).
pub fn verify_generic_signature(secret: &str, raw_body: &[u8], header_value: &str) -> bool {
    let expected = generic_signature(secret, raw_body);
    taizhang_domain::crypto::ct_eq(expected.as_bytes(), header_value.trim().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use taizhang_domain::crypto::sha256;

    /// HMAC-SHA256 written out from RFC 2104, independent of the `hmac` crate.
    fn reference_hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
        let mut k = [0u8; 64];
        if key.len() > 64 {
            k[..32].copy_from_slice(&sha256(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        inner.extend_from_slice(msg);
        let mut outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        outer.extend_from_slice(&sha256(&inner));
        sha256(&outer)
    }

    #[test]
    fn reference_hmac_matches_rfc_4231_case_2() {
        let mac = reference_hmac(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn dingtalk_signature_keys_the_hmac_with_the_secret_over_timestamp_newline_secret() {
        let (ts, secret) = (1_700_000_000_123_i64, "SECabc123");
        let expected = STANDARD.encode(reference_hmac(
            secret.as_bytes(),
            b"1700000000123\nSECabc123",
        ));
        assert_eq!(dingtalk_sign(ts, secret), expected);
        // The Feishu recipe (key and message swapped) must give something else.
        assert_ne!(dingtalk_sign(ts, secret), feishu_sign(ts, secret));
    }

    #[test]
    fn feishu_signature_keys_the_hmac_with_timestamp_newline_secret_over_nothing() {
        let expected = STANDARD.encode(reference_hmac(b"1599360473\ntest-secret", b""));
        assert_eq!(feishu_sign(1_599_360_473, "test-secret"), expected);
    }

    #[test]
    fn generic_signature_is_hex_hmac_of_the_raw_body_and_verifies() {
        let body = br#"{"event":"assigned","title":"\u4ea4\u529e"}"#;
        let sig = generic_signature("s3cret", body);
        assert_eq!(
            sig,
            format!("sha256={}", hex::encode(reference_hmac(b"s3cret", body)))
        );
        assert!(verify_generic_signature("s3cret", body, &sig));
        assert!(!verify_generic_signature("other", body, &sig));
        assert!(!verify_generic_signature("s3cret", b"{}", &sig));
    }
}
