//! Password hashing (Argon2id) and one-time password generation.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rand::Rng;

use crate::{AppError, AppResult};

/// Hash a password with Argon2id and a fresh random salt (PHC string).
pub fn hash_password(password: &str) -> AppResult<String> {
    let salt: [u8; 16] = rand::random();
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

/// Check a password against a stored PHC string; any malformed hash simply fails.
pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A hash that never verifies, used to spend the same time on unknown usernames.
pub fn dummy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$4Hd3HkDp5Y2ZkL0XoQyQ1bHc1rW1tR9n0Gm7uWqK8dE"
}

/// A random one-time password: 16 characters from all four classes, no look-alikes (0/O, 1/l).
pub fn random_password() -> String {
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"#%+=@";
    let mut rng = rand::rng();
    let sets = [LOWER, UPPER, DIGIT, SYMBOL];
    let mut out: Vec<u8> = sets
        .iter()
        .map(|s| s[rng.random_range(0..s.len())])
        .collect();
    let all: Vec<u8> = [LOWER, UPPER, DIGIT].concat();
    while out.len() < 16 {
        out.push(all[rng.random_range(0..all.len())]);
    }
    // Shuffle so the class order is not predictable.
    for i in (1..out.len()).rev() {
        let j = rng.random_range(0..=i);
        out.swap(i, j);
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
    }

    #[test]
    fn the_dummy_hash_never_verifies() {
        assert!(!verify_password("", dummy_hash()));
        assert!(!verify_password("anything", dummy_hash()));
    }

    #[test]
    fn random_passwords_have_all_four_classes_and_sixteen_characters() {
        for _ in 0..50 {
            let p = random_password();
            assert_eq!(p.chars().count(), 16);
            assert!(p.chars().any(|c| c.is_ascii_lowercase()));
            assert!(p.chars().any(|c| c.is_ascii_uppercase()));
            assert!(p.chars().any(|c| c.is_ascii_digit()));
            assert!(p.chars().any(|c| !c.is_ascii_alphanumeric()));
        }
    }
}
