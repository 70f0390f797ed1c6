//! Friendly names, paths, descriptions and tags, each a newtype whose
//! constructor enforces AWS's length and character rules
//! (reference_iam-quotas.md, "IAM name requirements" and "character limits").
//!
//! Names keep the case the caller gave them (AWS echoes it back), while
//! [`NameKey`] is the case-folded form used as the map key, which is what makes
//! "unique case-insensitively within the account" hold by construction.

use std::fmt;

use serde::{Deserialize, Serialize};
use smol_str::{SmolStr, StrExt};

use crate::error::DomainError;
use crate::ids::string_newtype;

/// The characters AWS allows in user, group, role, managed policy and MFA
/// device names: ASCII letters and digits plus `+=,.@_-`.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

fn check_name(s: &str, max: usize, what: &str) -> Result<(), DomainError> {
    if s.is_empty() || s.chars().count() > max {
        return Err(DomainError::validation(format!(
            "The specified value for {what} is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_- and be 1 to {max} characters long."
        )));
    }
    if !s.chars().all(is_name_char) {
        return Err(DomainError::validation(format!(
            "The specified value for {what} is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-"
        )));
    }
    Ok(())
}

string_newtype!(
    /// An IAM user name: 1–64 characters of `[A-Za-z0-9+=,.@_-]`.
    UserName,
    |s| check_name(s, 64, "userName")
);
string_newtype!(
    /// An IAM group name: 1–128 characters of `[A-Za-z0-9+=,.@_-]`.
    GroupName,
    |s| check_name(s, 128, "groupName")
);
string_newtype!(
    /// An IAM role name: 1–64 characters of `[A-Za-z0-9+=,.@_-]`.
    RoleName,
    |s| check_name(s, 64, "roleName")
);
string_newtype!(
    /// A customer managed policy name: 1–128 characters of `[A-Za-z0-9+=,.@_-]`.
    PolicyName,
    |s| check_name(s, 128, "policyName")
);
string_newtype!(
    /// A virtual MFA device name: 1–226 characters of `[A-Za-z0-9+=,.@_-]`
    /// (the API's limit; the user guide gives none).
    MfaDeviceName,
    |s| check_name(s, 226, "virtualMFADeviceName")
);
string_newtype!(
    /// An inline policy name: 1–128 Basic Latin characters except the RFC 3986
    /// reserved `\ / * ?` and white space (reference_iam-quotas.md). Unique
    /// per embedding entity, case-insensitively (see docs/domain.md).
    InlinePolicyName,
    |s| {
        let ok = !s.is_empty()
            && s.chars().count() <= 128
            && s.chars().all(|c| c.is_ascii_graphic() && !"\\/*?".contains(c));
        if ok {
            Ok(())
        } else {
            Err(DomainError::validation(format!(
                "The specified value for policyName '{s}' is invalid. It must be 1 to 128 Basic Latin characters without \\ / * ? or white space."
            )))
        }
    }
);

string_newtype!(
    /// An IAM path: `/` alone, or `/seg/.../seg/` of printable ASCII
    /// (U+0021–U+007E), at most 512 characters. We also reject empty
    /// segments (`//`), which AWS's pattern would allow but which make ARNs
    /// ambiguous (docs/domain.md).
    IamPath,
    |s| {
        let ok = s.len() <= 512
            && s.starts_with('/')
            && s.ends_with('/')
            && s.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c))
            && (s == "/" || !s.contains("//"));
        if ok {
            Ok(())
        } else {
            Err(DomainError::validation(format!(
                "The specified value for path '{s}' is invalid. It must begin and end with / and contain only printable ASCII characters, at most 512."
            )))
        }
    }
);

impl IamPath {
    /// The root path `/`, AWS's default.
    pub fn root() -> Self {
        IamPath("/".to_owned())
    }
}
impl Default for IamPath {
    fn default() -> Self {
        IamPath::root()
    }
}

string_newtype!(
    /// A role or policy description: at most 1000 characters of tab, LF, CR,
    /// U+0020–U+007E and U+00A1–U+00FF (the API's pattern).
    Description,
    |s| {
        let ok = s.chars().count() <= 1000
            && s.chars().all(|c| {
                matches!(c, '\t' | '\n' | '\r')
                    || ('\u{20}'..='\u{7e}').contains(&c)
                    || ('\u{a1}'..='\u{ff}').contains(&c)
            });
        if ok {
            Ok(())
        } else {
            Err(DomainError::validation(
                "The specified value for description is invalid. It must be at most 1000 characters of printable Latin-1.",
            ))
        }
    }
);

/// The case-folded form of a name, used as the key of every name-indexed map,
/// so `ADMINS` and `admins` collide.
///
/// Keys are made on every lookup and copied into every membership and
/// attachment set, so they are small strings: up to 23 bytes are held
/// inline (no allocation to make, copy or free one), longer ones are shared.
/// Serialized as a plain string.
///
/// Ordered as its bytes are (the same order as `str`'s), compared inline
/// eight bytes at a time: replaying a log is mostly key comparisons in the
/// state's maps and sets, and keys share long prefixes (`user-1041`,
/// `user-1042`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NameKey(SmolStr);

impl Ord for NameKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        let common = a.len().min(b.len());
        let (mut a_words, mut b_words) = (a[..common].chunks_exact(8), b[..common].chunks_exact(8));
        for (x, y) in (&mut a_words).zip(&mut b_words) {
            let (x, y) = (word(x), word(y));
            if x != y {
                return x.cmp(&y);
            }
        }
        a_words
            .remainder()
            .cmp(b_words.remainder())
            .then(a.len().cmp(&b.len()))
    }
}

impl PartialOrd for NameKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Eight bytes as a big-endian number, so numbers order as the bytes do.
fn word(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(bytes);
    u64::from_be_bytes(w)
}

impl NameKey {
    /// Folds `s` to its key (lower case; IAM names are ASCII, tag keys may
    /// be any letters).
    pub fn of(s: &str) -> Self {
        if s.is_ascii() {
            NameKey(s.to_ascii_lowercase_smolstr())
        } else {
            // `str::to_lowercase`, exactly as keys were always folded (it
            // applies context rules, such as Greek final sigma, that a
            // character-by-character fold does not).
            NameKey(SmolStr::from(s.to_lowercase()))
        }
    }
    /// The folded text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for NameKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! keyed {
    ($($t:ty),*) => {$(
        impl $t {
            /// The case-folded key this name is unique under.
            pub fn key(&self) -> NameKey {
                NameKey::of(self.as_str())
            }
        }
    )*};
}
keyed!(
    UserName,
    GroupName,
    RoleName,
    PolicyName,
    InlinePolicyName,
    MfaDeviceName
);

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

string_newtype!(
    /// A tag key: 1–128 Unicode letters, digits, white space and `_.:/=+-@`;
    /// the `aws:` prefix is reserved for AWS.
    TagKey,
    |s| {
        let n = s.chars().count();
        if n == 0 || n > 128 || !s.chars().all(is_tag_char) {
            return Err(DomainError::validation(format!(
                "The specified value for tagKey '{s}' is invalid. It must be 1 to 128 letters, digits, spaces or _.:/=+-@"
            )));
        }
        if s.to_lowercase().starts_with("aws:") {
            return Err(DomainError::InvalidInput(
                "Tag keys beginning with 'aws:' are reserved for AWS use.".into(),
            ));
        }
        Ok(())
    }
);
impl TagKey {
    /// Tag keys of IAM users and roles are case-insensitive but case-preserving;
    /// we apply the same rule to every taggable entity (docs/domain.md).
    pub fn key(&self) -> NameKey {
        NameKey::of(self.as_str())
    }
}
string_newtype!(
    /// A tag value: 0–256 Unicode letters, digits, white space and `_.:/=+-@`.
    TagValue,
    |s| {
        if s.chars().count() > 256 || !s.chars().all(is_tag_char) {
            return Err(DomainError::validation(format!(
                "The specified value for tagValue '{s}' is invalid. It must be 0 to 256 letters, digits, spaces or _.:/=+-@"
            )));
        }
        Ok(())
    }
);

/// One tag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Tag {
    /// The key (case preserved).
    pub key: TagKey,
    /// The value (may be empty).
    pub value: TagValue,
}

impl Tag {
    /// Validates and builds a tag.
    pub fn new(key: &str, value: &str) -> Result<Self, DomainError> {
        Ok(Tag {
            key: TagKey::parse(key)?,
            value: TagValue::parse(value)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(UserName::parse("Bob").is_ok());
        assert!(UserName::parse("a+b=c,d.e@f_g-h").is_ok());
        assert!(UserName::parse(&"a".repeat(64)).is_ok());
        assert!(UserName::parse(&"a".repeat(65)).is_err());
        assert!(GroupName::parse(&"a".repeat(128)).is_ok());
        assert!(GroupName::parse(&"a".repeat(129)).is_err());
        assert!(RoleName::parse(&"a".repeat(65)).is_err());
        for bad in ["", "a b", "a/b", "a*b", "ä", "a:b"] {
            assert!(UserName::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            UserName::parse("ADMINS").unwrap().key(),
            UserName::parse("admins").unwrap().key()
        );
        // Non-ASCII keys (tag keys) fold as `str::to_lowercase` always did,
        // context rules included, short or long.
        assert_eq!(NameKey::of("ΟΔΟΣ").as_str(), "οδος");
        assert_eq!(
            NameKey::of(&"ΟΔΟΣ".repeat(4)).as_str(),
            "ΟΔΟΣ".repeat(4).to_lowercase()
        );
    }

    proptest::proptest! {
        /// Keys order exactly as their text does (listings, snapshots and
        /// equality of states depend on it), for short inline keys, long
        /// shared ones and non-ASCII tag keys alike.
        #[test]
        fn keys_order_as_their_text(
            a in "[a-zA-Z0-9_+=,.@-]{0,40}|[a-zéÉΣσς ]{0,30}",
            b in "[a-zA-Z0-9_+=,.@-]{0,40}|[a-zéÉΣσς ]{0,30}",
            shared_prefix in "[a-z-]{0,20}",
        ) {
            let (a, b) = (format!("{shared_prefix}{a}"), format!("{shared_prefix}{b}"));
            let (ka, kb) = (NameKey::of(&a), NameKey::of(&b));
            proptest::prop_assert_eq!(ka.cmp(&kb), ka.as_str().cmp(kb.as_str()));
            proptest::prop_assert_eq!(ka.cmp(&kb) == std::cmp::Ordering::Equal, ka == kb);
            proptest::prop_assert_eq!(ka.as_str(), a.to_lowercase());
        }
    }

    #[test]
    fn inline_policy_names() {
        assert!(InlinePolicyName::parse("Allow:S3[read]").is_ok());
        for bad in ["", "a b", "a/b", "a\\b", "a*", "a?", "é"] {
            assert!(InlinePolicyName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn paths() {
        for good in ["/", "/a/", "/division_abc/subdivision_xyz/", "/a!~/"] {
            assert!(IamPath::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "a", "/a", "a/", "//", "/a//b/", "/a b/", "/é/"] {
            assert!(IamPath::parse(bad).is_err(), "{bad:?}");
        }
        assert!(IamPath::parse(&format!("/{}/", "a".repeat(510))).is_ok());
        assert!(IamPath::parse(&format!("/{}/", "a".repeat(511))).is_err());
    }

    #[test]
    fn tags() {
        assert!(Tag::new("Cost Center", "").is_ok());
        assert!(Tag::new("team:é", "a/b@c").is_ok());
        assert!(Tag::new("", "x").is_err());
        assert!(Tag::new("a*", "x").is_err());
        assert!(Tag::new(&"k".repeat(129), "x").is_err());
        assert!(Tag::new("k", &"v".repeat(257)).is_err());
        assert_eq!(Tag::new("aws:foo", "x").unwrap_err().code(), "InvalidInput");
        assert_eq!(Tag::new("AWS:foo", "x").unwrap_err().code(), "InvalidInput");
    }

    #[test]
    fn descriptions() {
        assert!(Description::parse("Role for the café\tteam").is_ok());
        assert!(Description::parse(&"d".repeat(1001)).is_err());
        assert!(Description::parse("emoji 🙂").is_err());
    }
}
