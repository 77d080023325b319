//! Cryptographic primitives (密码算法) behind one seam: SM3, HMAC-SM3, SHA-256, SM2 signatures.
//!
//! 密评 (GB/T 39786) assessors expect keys and crypto to live in a certified 密码模块 in
//! production, so callers go through [`CryptoProvider`] and [`Sm2Signer`]; [`SoftwareCrypto`]
//! and [`Sm2KeyPair`] are the RustCrypto-based defaults for development, tests and
//! deployments without an HSM. Nothing here touches the clock, the disk or an RNG: key
//! generation takes seed bytes that the caller draws from a CSPRNG.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use sm3::Sm3;
use subtle::ConstantTimeEq;

/// The default SM2 distinguishing identifier (用户可辨别标识) from GM/T 0009.
pub const SM2_DEFAULT_DISTID: &str = "1234567812345678";

/// Why a key or signature operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("密钥格式无效")]
    InvalidKey,
    #[error("随机种子过短（至少 32 字节）")]
    SeedTooShort,
    #[error("签名失败")]
    SigningFailed,
}

/// Hashes, MACs and signature verification; implemented in software by [`SoftwareCrypto`]
/// and, in a 密评 deployment, by an HSM/SDF (GM/T 0018) backend.
pub trait CryptoProvider {
    /// SM3 digest (GB/T 32905).
    fn sm3(&self, data: &[u8]) -> [u8; 32];
    /// HMAC-SM3.
    fn hmac_sm3(&self, key: &[u8], data: &[u8]) -> [u8; 32];
    /// SHA-256 digest.
    fn sha256(&self, data: &[u8]) -> [u8; 32];
    /// HMAC-SHA256.
    fn hmac_sha256(&self, key: &[u8], data: &[u8]) -> [u8; 32];
    /// Equality whose running time does not depend on where the inputs differ.
    fn ct_eq(&self, a: &[u8], b: &[u8]) -> bool {
        ct_eq(a, b)
    }
    /// Checks an SM2 signature (64-byte `r || s`) over `msg`.
    fn sm2_verify(&self, public_key: &Sm2PublicKey, msg: &[u8], signature: &[u8]) -> bool;
}

/// Something that holds an SM2 private key and signs with it (a key pair in memory, or an HSM).
pub trait Sm2Signer {
    /// Signs `msg` (SM2DSA with the key's distinguishing id); returns 64 bytes `r || s`.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, CryptoError>;
    /// The matching public key.
    fn public_key(&self) -> Sm2PublicKey;
}

/// The software provider (RustCrypto `sm3`, `sha2`, `hmac`, `sm2`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SoftwareCrypto;

impl CryptoProvider for SoftwareCrypto {
    fn sm3(&self, data: &[u8]) -> [u8; 32] {
        sm3(data)
    }
    fn hmac_sm3(&self, key: &[u8], data: &[u8]) -> [u8; 32] {
        hmac_sm3(key, data)
    }
    fn sha256(&self, data: &[u8]) -> [u8; 32] {
        sha256(data)
    }
    fn hmac_sha256(&self, key: &[u8], data: &[u8]) -> [u8; 32] {
        hmac_sha256(key, data)
    }
    fn sm2_verify(&self, public_key: &Sm2PublicKey, msg: &[u8], signature: &[u8]) -> bool {
        public_key.verify(msg, signature)
    }
}

/// SM3 digest (GB/T 32905).
pub fn sm3(data: &[u8]) -> [u8; 32] {
    Sm3::digest(data).into()
}

/// SHA-256 digest.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// HMAC-SM3 over the concatenation of `parts` (saves the caller a copy).
pub fn hmac_sm3_parts(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = new_hmac::<Hmac<Sm3>>(key);
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HMAC-SM3.
pub fn hmac_sm3(key: &[u8], data: &[u8]) -> [u8; 32] {
    hmac_sm3_parts(key, &[data])
}

/// HMAC-SHA256.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = new_hmac::<Hmac<Sha256>>(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// HMAC takes keys of any length (long keys are hashed, short ones padded), so the
/// `InvalidLength` branch of `new_from_slice` cannot happen.
pub(crate) fn new_hmac<M: Mac + KeyInit>(key: &[u8]) -> M {
    #[allow(clippy::expect_used)]
    <M as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// Constant-time equality (lengths are not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// An SM2 public key (SEC1 point plus the distinguishing id used in signatures).
#[derive(Clone)]
pub struct Sm2PublicKey(VerifyingKey);

impl PartialEq for Sm2PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_sec1_bytes() == other.0.to_sec1_bytes()
    }
}

impl Eq for Sm2PublicKey {}

impl std::fmt::Debug for Sm2PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sm2PublicKey({})", self.to_hex())
    }
}

impl Sm2PublicKey {
    /// Uncompressed SEC1 point (`04 || x || y`), hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_sec1_bytes())
    }

    /// Parses a hex SEC1 point (compressed or uncompressed).
    pub fn from_hex(s: &str) -> Result<Self, CryptoError> {
        let bytes = hex::decode(s.trim()).map_err(|_| CryptoError::InvalidKey)?;
        VerifyingKey::from_sec1_bytes(SM2_DEFAULT_DISTID, &bytes)
            .map(Self)
            .map_err(|_| CryptoError::InvalidKey)
    }

    /// SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn to_pem(&self) -> Result<String, CryptoError> {
        let pk: sm2::PublicKey = (&self.0).into();
        pk.to_public_key_pem(LineEnding::LF)
            .map_err(|_| CryptoError::InvalidKey)
    }

    /// Parses a SubjectPublicKeyInfo PEM.
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        let pk =
            sm2::PublicKey::from_public_key_pem(pem.trim()).map_err(|_| CryptoError::InvalidKey)?;
        VerifyingKey::new(SM2_DEFAULT_DISTID, pk)
            .map(Self)
            .map_err(|_| CryptoError::InvalidKey)
    }

    /// Checks a 64-byte `r || s` signature over `msg`; any malformed input is `false`.
    pub fn verify(&self, msg: &[u8], signature: &[u8]) -> bool {
        match Signature::from_slice(signature) {
            Ok(sig) => self.0.verify(msg, &sig).is_ok(),
            Err(_) => false,
        }
    }
}

/// An SM2 key pair held in memory (software default for checkpoint and record signatures).
#[derive(Clone)]
pub struct Sm2KeyPair(SigningKey);

impl std::fmt::Debug for Sm2KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Sm2KeyPair(public: {}, private: <redacted>)",
            self.public_key().to_hex()
        )
    }
}

impl Sm2KeyPair {
    /// Derives a key pair from at least 32 bytes drawn from a CSPRNG by the caller.
    ///
    /// The seed is hashed with SM3 and a counter until it yields a valid scalar in
    /// `[1, n-1]`; the same seed always gives the same key.
    pub fn from_seed(seed: &[u8]) -> Result<Self, CryptoError> {
        if seed.len() < 32 {
            return Err(CryptoError::SeedTooShort);
        }
        for counter in 0u32..64 {
            let candidate = sm3(&[
                b"taizhang-sm2-keygen".as_slice(),
                seed,
                &counter.to_be_bytes(),
            ]
            .concat());
            if let Ok(key) = SigningKey::from_slice(SM2_DEFAULT_DISTID, &candidate) {
                return Ok(Self(key));
            }
        }
        // 64 consecutive out-of-range SM3 outputs has probability below 2^-2000.
        Err(CryptoError::InvalidKey)
    }

    /// The private scalar as 64 hex digits (store it outside the database, 0600).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    /// Parses a private scalar from 64 hex digits.
    pub fn from_hex(s: &str) -> Result<Self, CryptoError> {
        let bytes = hex::decode(s.trim()).map_err(|_| CryptoError::InvalidKey)?;
        SigningKey::from_slice(SM2_DEFAULT_DISTID, &bytes)
            .map(Self)
            .map_err(|_| CryptoError::InvalidKey)
    }

    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn to_pem(&self) -> Result<String, CryptoError> {
        let sk =
            sm2::SecretKey::from_bytes(&self.0.to_bytes()).map_err(|_| CryptoError::InvalidKey)?;
        sk.to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.as_str().to_owned())
            .map_err(|_| CryptoError::InvalidKey)
    }

    /// Parses a PKCS#8 PEM private key.
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        let sk = sm2::SecretKey::from_pkcs8_pem(pem.trim()).map_err(|_| CryptoError::InvalidKey)?;
        SigningKey::new(SM2_DEFAULT_DISTID, &sk)
            .map(Self)
            .map_err(|_| CryptoError::InvalidKey)
    }
}

impl Sm2Signer for Sm2KeyPair {
    /// Deterministic (RFC 6979-style nonce), so no RNG is needed.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let sig: Signature = self
            .0
            .try_sign(msg)
            .map_err(|_| CryptoError::SigningFailed)?;
        Ok(sig.to_bytes().to_vec())
    }

    fn public_key(&self) -> Sm2PublicKey {
        Sm2PublicKey(self.0.verifying_key().clone())
    }
}

/// Checks an SM2 signature; malformed keys or signatures are simply `false`.
pub fn sm2_verify(public_key: &Sm2PublicKey, msg: &[u8], signature: &[u8]) -> bool {
    public_key.verify(msg, signature)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn key() -> Sm2KeyPair {
        Sm2KeyPair::from_seed(&[7u8; 32]).unwrap()
    }

    #[test]
    fn sm3_of_abc_matches_gbt_32905() {
        assert_eq!(
            hex::encode(SoftwareCrypto.sm3(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn sm3_of_the_512_bit_message_matches_gbt_32905() {
        let msg = b"abcd".repeat(16);
        assert_eq!(
            hex::encode(sm3(&msg)),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231_case_1() {
        let key = [0x0bu8; 20];
        assert_eq!(
            hex::encode(SoftwareCrypto.hmac_sha256(&key, b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    #[test]
    fn hmac_sm3_depends_on_the_key() {
        let a = hmac_sm3(b"key-a", b"data");
        assert_eq!(a, SoftwareCrypto.hmac_sm3(b"key-a", b"data"));
        assert_ne!(a, hmac_sm3(b"key-b", b"data"));
        assert_eq!(
            hmac_sm3_parts(b"k", &[b"da", b"ta"]),
            hmac_sm3(b"k", b"data")
        );
    }

    #[test]
    fn constant_time_equality_compares_content_and_length() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
        assert!(SoftwareCrypto.ct_eq(b"", b""));
    }

    #[test]
    fn sm2_signature_round_trips() {
        let kp = key();
        let sig = kp.sign(b"checkpoint 42").unwrap();
        assert_eq!(sig.len(), 64);
        assert!(sm2_verify(&kp.public_key(), b"checkpoint 42", &sig));
        assert!(SoftwareCrypto.sm2_verify(&kp.public_key(), b"checkpoint 42", &sig));
    }

    #[test]
    fn sm2_signature_over_a_tampered_message_fails() {
        let kp = key();
        let sig = kp.sign(b"checkpoint 42").unwrap();
        assert!(!kp.public_key().verify(b"checkpoint 43", &sig));
        let mut bad = sig.clone();
        bad[10] ^= 1;
        assert!(!kp.public_key().verify(b"checkpoint 42", &bad));
        assert!(!kp.public_key().verify(b"checkpoint 42", &sig[..63]));
    }

    #[test]
    fn sm2_signature_from_another_key_fails() {
        let other = Sm2KeyPair::from_seed(&[8u8; 32]).unwrap();
        let sig = other.sign(b"m").unwrap();
        assert!(!key().public_key().verify(b"m", &sig));
    }

    #[test]
    fn sm2_keys_survive_hex_and_pem_round_trips() {
        let kp = key();
        let from_hex = Sm2KeyPair::from_hex(&kp.to_hex()).unwrap();
        assert_eq!(from_hex.to_hex(), kp.to_hex());
        let pem = kp.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(Sm2KeyPair::from_pem(&pem).unwrap().to_hex(), kp.to_hex());

        let pk = kp.public_key();
        assert_eq!(Sm2PublicKey::from_hex(&pk.to_hex()).unwrap(), pk);
        let pk_pem = pk.to_pem().unwrap();
        assert!(pk_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        assert_eq!(Sm2PublicKey::from_pem(&pk_pem).unwrap(), pk);

        let sig = from_hex.sign(b"x").unwrap();
        assert!(Sm2PublicKey::from_pem(&pk_pem).unwrap().verify(b"x", &sig));
    }

    #[test]
    fn the_same_seed_gives_the_same_key_and_short_seeds_are_refused() {
        assert_eq!(key().to_hex(), key().to_hex());
        assert_eq!(
            Sm2KeyPair::from_seed(&[1u8; 31]).unwrap_err(),
            CryptoError::SeedTooShort
        );
        assert!(Sm2KeyPair::from_hex("00").is_err());
        assert!(Sm2PublicKey::from_hex("04deadbeef").is_err());
    }

    #[test]
    fn debug_output_does_not_reveal_the_private_key() {
        let kp = key();
        assert!(!format!("{kp:?}").contains(&kp.to_hex()));
    }
}
