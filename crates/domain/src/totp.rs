//! Time-based one-time passwords (动态口令, RFC 6238): the second login factor.
//!
//! HMAC-SHA1, 6 digits, 30-second steps, accepting one step either side for clock drift.
//! A code is single-use: [`TotpSecret::verify`] refuses any step at or before the last one
//! the account used, so a shoulder-surfed code cannot be replayed. The time is a parameter;
//! the caller stores the returned step. Brute force of 6 digits needs its own lockout in
//! the application layer.

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::crypto::{ct_eq, new_hmac};

/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "台账";
/// Seconds per step.
pub const STEP_SECS: u64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of the current one.
pub const WINDOW: u64 = 1;

/// Why a stored or entered secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("动态口令密钥格式无效")]
    InvalidSecret,
}

/// A 160-bit TOTP shared secret (the size RFC 4226 recommends for HMAC-SHA1).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret([u8; 20]);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    /// Wraps 20 bytes the caller drew from a CSPRNG.
    pub fn generate_from_bytes(bytes: [u8; 20]) -> Self {
        Self(bytes)
    }

    /// The raw key.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Base32 without padding (what authenticator apps expect).
    pub fn to_base32(&self) -> String {
        BASE32_NOPAD.encode(&self.0)
    }

    /// Parses base32, ignoring case, spaces, hyphens and `=` padding; must decode to 20 bytes.
    pub fn from_base32(s: &str) -> Result<Self, TotpError> {
        let cleaned: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '='))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes = BASE32_NOPAD
            .decode(cleaned.as_bytes())
            .map_err(|_| TotpError::InvalidSecret)?;
        <[u8; 20]>::try_from(bytes.as_slice())
            .map(Self)
            .map_err(|_| TotpError::InvalidSecret)
    }

    /// `otpauth://totp/…` URI for the enrolment QR code.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let issuer = percent_encode(issuer);
        format!(
            "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
            account = percent_encode(account),
            secret = self.to_base32(),
        )
    }

    /// The 6-digit code for the step containing `unix_secs`.
    pub fn code_at(&self, unix_secs: u64) -> String {
        self.code_for_step(unix_secs / STEP_SECS, DIGITS)
    }

    /// The code for a step with `digits` digits (RFC 6238 vectors use 8).
    pub fn code_for_step(&self, step: u64, digits: u32) -> String {
        let truncated = hotp(&self.0, step);
        let modulus = 10u32.saturating_pow(digits.min(9));
        format!(
            "{:0width$}",
            truncated % modulus,
            width = digits.min(9) as usize
        )
    }

    /// Checks `code` at `unix_secs` within ±[`WINDOW`] steps; returns the matched step.
    ///
    /// A step at or before `last_used_step` is refused (replay), even if the code matches.
    pub fn verify(&self, code: &str, unix_secs: u64, last_used_step: Option<u64>) -> Option<u64> {
        let code = code.trim();
        if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let now = unix_secs / STEP_SECS;
        let mut matched = None;
        for step in now.saturating_sub(WINDOW)..=now.saturating_add(WINDOW) {
            if last_used_step.is_some_and(|used| step <= used) {
                continue;
            }
            // Check every candidate so the timing does not reveal which one matched.
            if ct_eq(self.code_for_step(step, DIGITS).as_bytes(), code.as_bytes())
                && matched.is_none()
            {
                matched = Some(step);
            }
        }
        matched
    }
}

/// RFC 4226 HOTP dynamic truncation (31-bit value).
fn hotp(key: &[u8], counter: u64) -> u32 {
    let mut mac = new_hmac::<Hmac<Sha1>>(key);
    mac.update(&counter.to_be_bytes());
    let digest: [u8; 20] = mac.finalize().into_bytes().into();
    let offset = usize::from(digest[19] & 0x0f);
    let word = [
        digest[offset],
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ];
    u32::from_be_bytes(word) & 0x7fff_ffff
}

/// Percent-encodes everything except RFC 3986 unreserved characters (UTF-8 bytes).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn rfc_secret() -> TotpSecret {
        TotpSecret::generate_from_bytes(*b"12345678901234567890")
    }

    #[test]
    fn rfc_6238_appendix_b_sha1_vectors_match() {
        let vectors = [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (t, expected) in vectors {
            assert_eq!(
                rfc_secret().code_for_step(t / STEP_SECS, 8),
                expected,
                "T = {t}"
            );
        }
    }

    #[test]
    fn six_digit_codes_are_the_last_six_digits_of_the_vectors() {
        assert_eq!(rfc_secret().code_at(59), "287082");
        assert_eq!(rfc_secret().code_at(1_111_111_109), "081804");
    }

    #[test]
    fn rfc_4226_hotp_vectors_match() {
        let expected = ["755224", "287082", "359152", "969429", "338314"];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(rfc_secret().code_for_step(counter as u64, 6), *code);
        }
    }

    #[test]
    fn a_code_from_the_previous_or_next_step_is_accepted() {
        let s = rfc_secret();
        let t = 1_234_567_890;
        let step = t / STEP_SECS;
        assert_eq!(s.verify(&s.code_at(t), t, None), Some(step));
        assert_eq!(s.verify(&s.code_at(t - 30), t, None), Some(step - 1));
        assert_eq!(s.verify(&s.code_at(t + 30), t, None), Some(step + 1));
    }

    #[test]
    fn a_code_two_steps_away_is_refused() {
        let s = rfc_secret();
        let t = 1_234_567_890;
        assert_eq!(s.verify(&s.code_at(t - 60), t, None), None);
        assert_eq!(s.verify(&s.code_at(t + 60), t, None), None);
    }

    #[test]
    fn a_replayed_code_is_refused() {
        let s = rfc_secret();
        let t = 1_234_567_890;
        let used = s.verify(&s.code_at(t), t, None).unwrap();
        assert_eq!(s.verify(&s.code_at(t), t + 5, Some(used)), None);
        // An older code inside the window is refused too.
        assert_eq!(s.verify(&s.code_at(t - 30), t, Some(used)), None);
        // The next step's code is still fine.
        assert_eq!(
            s.verify(&s.code_at(t + 30), t + 30, Some(used)),
            Some(used + 1)
        );
    }

    #[test]
    fn malformed_codes_are_refused() {
        let s = rfc_secret();
        for bad in ["", "12345", "1234567", "12a456", "１２３４５６"] {
            assert_eq!(s.verify(bad, 59, None), None, "{bad:?}");
        }
    }

    #[test]
    fn base32_round_trips_and_tolerates_formatting() {
        let s = TotpSecret::generate_from_bytes([0xAB; 20]);
        let b32 = s.to_base32();
        assert_eq!(b32.len(), 32);
        assert_eq!(TotpSecret::from_base32(&b32).unwrap(), s);
        let spaced = b32
            .to_lowercase()
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(TotpSecret::from_base32(&spaced).unwrap(), s);
        assert_eq!(
            TotpSecret::from_base32("GEZDGNBV"),
            Err(TotpError::InvalidSecret)
        );
        assert_eq!(
            TotpSecret::from_base32("!!!"),
            Err(TotpError::InvalidSecret)
        );
    }

    #[test]
    fn otpauth_uri_encodes_issuer_and_account() {
        let uri = rfc_secret().otpauth_uri(ISSUER, "zhang san");
        assert_eq!(
            uri,
            "otpauth://totp/%E5%8F%B0%E8%B4%A6:zhang%20san?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=%E5%8F%B0%E8%B4%A6&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn debug_output_hides_the_secret() {
        assert_eq!(format!("{:?}", rfc_secret()), "TotpSecret(<redacted>)");
    }
}
