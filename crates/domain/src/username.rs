//! Login names (用户名): one canonical form so `Admin`, `ａｄｍｉｎ` and `admin` are one account.
//!
//! 等保 三级 身份鉴别 a) asks for unique identities. Uniqueness is only real if the comparison
//! key is canonical, so [`Username::parse`] NFKC-normalizes, lowercases and then allows only
//! `[a-z0-9._-]`. Invisible characters (zero-width space, RTL override, …) are refused with
//! their own error so a look-alike such as `admin\u{200b}` can never be registered. Leading
//! or trailing spaces are refused, not trimmed: the login form may trim, the identity may not.

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// Longest allowed username, in characters after normalization.
pub const MAX_USERNAME_CHARS: usize = 32;

/// Raw input longer than this (bytes) is refused before normalization does any work.
const MAX_RAW_BYTES: usize = 256;

/// Why a username was refused; `Display` is the message shown in the UI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("用户名不能为空")]
    Empty,
    #[error("用户名最多 {MAX_USERNAME_CHARS} 个字符")]
    TooLong,
    /// 控制字符/格式字符/零宽字符 — never allowed, even where NFKC would keep them.
    #[error("用户名包含不可见字符或控制字符（U+{:04X}）", *.0 as u32)]
    InvisibleCharacter(char),
    #[error("用户名只能包含小写字母、数字、点、下划线和连字符（不允许“{0}”）")]
    InvalidCharacter(char),
    #[error("用户名必须以字母或数字开头")]
    MustStartWithLetterOrDigit,
}

/// 用户名 — a canonical login name: NFKC, lowercase, `[a-z0-9._-]{1,32}`, starting with a
/// letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    /// Canonicalizes and validates `input`.
    pub fn parse(input: &str) -> Result<Username, UsernameError> {
        if input.is_empty() {
            return Err(UsernameError::Empty);
        }
        if input.len() > MAX_RAW_BYTES {
            return Err(UsernameError::TooLong);
        }
        if let Some(c) = input.chars().find(|&c| is_invisible(c)) {
            return Err(UsernameError::InvisibleCharacter(c));
        }
        let canonical: String = input.nfkc().collect::<String>().to_lowercase();
        if let Some(c) = canonical.chars().find(|&c| is_invisible(c)) {
            return Err(UsernameError::InvisibleCharacter(c));
        }
        let count = canonical.chars().count();
        if count == 0 {
            return Err(UsernameError::Empty);
        }
        if count > MAX_USERNAME_CHARS {
            return Err(UsernameError::TooLong);
        }
        if let Some(c) = canonical.chars().find(|&c| !is_allowed(c)) {
            return Err(UsernameError::InvalidCharacter(c));
        }
        if !canonical.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(UsernameError::MustStartWithLetterOrDigit);
        }
        Ok(Username(canonical))
    }

    /// The canonical form (what the database's unique index holds).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_allowed(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
}

/// Control (Cc), format (Cf) and other invisible characters: zero-width, bidi controls,
/// BOM, tags, variation selectors.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = UsernameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Username::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn canonical(s: &str) -> String {
        Username::parse(s).unwrap().to_string()
    }

    #[test]
    fn plain_lowercase_name_is_accepted_unchanged() {
        assert_eq!(canonical("zhang.san_01-a"), "zhang.san_01-a");
        assert_eq!(Username::parse("admin").unwrap().as_str(), "admin");
    }

    #[test]
    fn uppercase_and_full_width_forms_collide_with_admin() {
        let admin = Username::parse("admin").unwrap();
        assert_eq!(Username::parse("Admin").unwrap(), admin);
        assert_eq!(Username::parse("ADMIN").unwrap(), admin);
        assert_eq!(Username::parse("ａｄｍｉｎ").unwrap(), admin);
        assert_eq!(Username::parse("ＡＤＭＩＮ").unwrap(), admin);
    }

    #[test]
    fn compatibility_characters_fold_to_their_ascii_form() {
        // KELVIN SIGN folds to k, CIRCLED DIGIT ONE to 1.
        assert_eq!(canonical("\u{212A}ing"), "king");
        assert_eq!(canonical("user①"), "user1");
    }

    #[test]
    fn zero_width_and_bidi_characters_are_refused() {
        for bad in [
            "admin\u{200b}",
            "ad\u{200d}min",
            "\u{202e}nimda",
            "admin\u{feff}",
            "adm\u{2066}in",
        ] {
            assert!(
                matches!(
                    Username::parse(bad),
                    Err(UsernameError::InvisibleCharacter(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn control_characters_and_log_injection_are_refused() {
        assert!(matches!(
            Username::parse("a\n2024-01-01 INFO login ok user=root"),
            Err(UsernameError::InvisibleCharacter('\n'))
        ));
        assert!(Username::parse("a\u{1b}[2J").is_err());
        assert!(Username::parse("a\0").is_err());
    }

    #[test]
    fn trailing_space_is_refused_rather_than_trimmed() {
        assert_eq!(
            Username::parse("admin "),
            Err(UsernameError::InvalidCharacter(' '))
        );
        assert!(Username::parse(" admin").is_err());
    }

    #[test]
    fn empty_and_overlong_names_are_refused() {
        assert_eq!(Username::parse(""), Err(UsernameError::Empty));
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        assert_eq!(
            Username::parse(&"a".repeat(33)),
            Err(UsernameError::TooLong)
        );
        assert_eq!(
            Username::parse(&"a".repeat(1_000_000)),
            Err(UsernameError::TooLong)
        );
    }

    #[test]
    fn chinese_and_other_non_ascii_letters_are_refused() {
        assert_eq!(
            Username::parse("张三"),
            Err(UsernameError::InvalidCharacter('张'))
        );
        assert!(Username::parse("аdmin").is_err()); // Cyrillic а
        assert!(Username::parse("𠀀").is_err());
    }

    #[test]
    fn names_must_start_with_a_letter_or_digit() {
        assert_eq!(
            Username::parse(".."),
            Err(UsernameError::MustStartWithLetterOrDigit)
        );
        assert_eq!(
            Username::parse("-rf"),
            Err(UsernameError::MustStartWithLetterOrDigit)
        );
        assert!(Username::parse("9lives").is_ok());
    }

    #[test]
    fn serde_goes_through_parse() {
        let u: Username = serde_json::from_str("\"Admin\"").unwrap();
        assert_eq!(u.as_str(), "admin");
        assert!(serde_json::from_str::<Username>("\"admin\\u200b\"").is_err());
        assert_eq!(serde_json::to_string(&u).unwrap(), "\"admin\"");
    }

    #[test]
    fn error_messages_are_in_chinese() {
        assert_eq!(UsernameError::Empty.to_string(), "用户名不能为空");
        assert!(
            UsernameError::InvisibleCharacter('\u{200b}')
                .to_string()
                .contains("U+200B")
        );
    }
}
