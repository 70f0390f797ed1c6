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
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// Whether XML 1.0 can carry `c` in a response (its `Char` production:
/// tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD, U+10000 and above; Rust
/// strings hold no surrogates) and it is not a C1 control (U+0080–U+009F,
/// which XML 1.0 discourages). Every string the domain stores and later
/// returns satisfies this.
pub fn is_xml_safe(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (!c.is_control() && !matches!(c, '\u{fffe}' | '\u{ffff}'))
}

/// `s` as it may be quoted in an error message (which ends up in an XML
/// response): every control character, U+FFFE and U+FFFF as `\uXXXX`, the way
/// AWS prints them.
pub fn shown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}') {
            out.push_str(&format!("\\u{:04X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Free text that the domain stores without a pattern of its own (the
/// service and region of an access key's last use): 1 to `max` characters,
/// none of them a control character, U+FFFE or U+FFFF.
pub fn check_plain_text(s: &str, max: usize, field: &str) -> Result<(), DomainError> {
    let n = s.chars().count();
    if n == 0 || n > max || s.chars().any(|c| c.is_control() || !is_xml_safe(c)) {
        return Err(DomainError::validation(format!(
            "1 validation error detected: Value '{}' at '{field}' failed to satisfy constraint: \
             Member must be 1 to {max} characters without control characters",
            shown(s)
        )));
    }
    Ok(())
}

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
    /// An instance profile name: 1–128 characters of `[A-Za-z0-9+=,.@_-]`.
    InstanceProfileName,
    |s| check_name(s, 128, "instanceProfileName")
);
string_newtype!(
    /// A server certificate name: 1–128 characters of `[A-Za-z0-9+=,.@_-]`.
    ServerCertificateName,
    |s| check_name(s, 128, "serverCertificateName")
);
string_newtype!(
    /// A SAML provider name: 1–128 characters of `[A-Za-z0-9._-]` (the
    /// API's pattern `[\w._-]+`).
    SamlProviderName,
    |s| {
        let ok = (1..=128).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if ok {
            Ok(())
        } else {
            Err(DomainError::validation(format!(
                "The specified value for name is invalid. It must contain only alphanumeric characters and/or the following: ._- and be 1 to 128 characters long: {}",
                shown(s)
            )))
        }
    }
);
string_newtype!(
    /// An account alias: 3–63 lower-case letters, digits and hyphens, not
    /// starting or ending with a hyphen nor holding two in a row (the
    /// API's pattern `^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`).
    AccountAlias,
    |s| {
        let b = s.as_bytes();
        let ok = (3..=63).contains(&b.len())
            && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
            && !s.contains("--");
        if ok {
            Ok(())
        } else {
            Err(DomainError::validation(format!(
                "1 validation error detected: Value '{}' at 'accountAlias' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){{1,61}}[a-z0-9]$",
                shown(s)
            )))
        }
    }
);
string_newtype!(
    /// An OpenID Connect provider's URL, as its `iss` claim names it:
    /// `https://HOST[/PATH]`, at most 255 characters, no port, query,
    /// fragment, user or white space (AWS's rules). `http://` is
    /// representable only for a loopback host (`localhost`, `127.0.0.1`,
    /// `[::1]`), with a port: the server accepts it only when configured to
    /// (tests run a local issuer); it is never fetched from elsewhere.
    OidcProviderUrl,
    check_oidc_url
);

fn check_oidc_url(s: &str) -> Result<(), DomainError> {
    let invalid = || DomainError::validation("Invalid Open ID Connect Provider URL");
    if s.len() > 255 {
        return Err(invalid());
    }
    let (rest, loopback_only) = match (s.strip_prefix("https://"), s.strip_prefix("http://")) {
        (Some(rest), _) => (rest, false),
        (None, Some(rest)) => (rest, true),
        _ => return Err(invalid()),
    };
    let host_port = rest.split('/').next().unwrap_or_default();
    let ok_chars = rest
        .chars()
        .all(|c| c.is_ascii_graphic() && !"?#@\\\"<>{}|^`".contains(c));
    if host_port.is_empty() || !ok_chars || rest.ends_with('/') || rest.contains("//") {
        return Err(invalid());
    }
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if !h.ends_with(']') || host_port.starts_with('[') => {
            if !loopback_only || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            h
        }
        _ => host_port,
    };
    if loopback_only && !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        return Err(invalid());
    }
    Ok(())
}

impl OidcProviderUrl {
    /// The URL without its scheme: what the provider's ARN and its
    /// condition keys' prefix (`HOST/PATH:sub`) are made of, and what it is
    /// unique by.
    pub fn resource(&self) -> &str {
        let s = self.as_str();
        s.strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .unwrap_or(s)
    }

    /// Whether it is a plain-HTTP loopback issuer.
    pub fn is_loopback_http(&self) -> bool {
        self.as_str().starts_with("http://")
    }
}

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
                "The specified value for policyName '{}' is invalid. It must be 1 to 128 Basic Latin characters without \\ / * ? or white space.",
                shown(s)
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
                "The specified value for path '{}' is invalid. It must begin and end with / and contain only printable ASCII characters, at most 512.",
                shown(s)
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

/// A name unique case-insensitively under its [`NameKey`], so that code
/// applying one rule to several kinds of entity (renaming a user or a
/// group) is written once.
pub(crate) trait Keyed {
    /// The case-folded key this name is unique under.
    fn key(&self) -> NameKey;
}

macro_rules! keyed {
    ($($t:ty),*) => {$(
        impl $t {
            /// The case-folded key this name is unique under.
            pub fn key(&self) -> NameKey {
                NameKey::of(self.as_str())
            }
        }
        impl Keyed for $t {
            fn key(&self) -> NameKey {
                <$t>::key(self)
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
    MfaDeviceName,
    InstanceProfileName,
    ServerCertificateName,
    SamlProviderName
);

/// AWS's tag character class `[\p{L}\p{Z}\p{N}_.:/=+\-@]`: Unicode letters,
/// separators (spaces, U+2028, U+2029) and numbers, and `_.:/=+-@`. No
/// control character (tab, LF, VT, FF, CR, NEL) is one.
fn is_tag_char(c: char) -> bool {
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter
            | GeneralCategoryGroup::Separator
            | GeneralCategoryGroup::Number
    ) || "_.:/=+-@".contains(c)
}

/// The pattern AWS's API model gives tag keys and values, as its messages
/// quote it.
const TAG_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]";

/// AWS's wording for a tag key or value that breaks the API's constraints
/// (the value is quoted with control characters escaped).
fn tag_error(s: &str, field: &str, constraint: &str) -> DomainError {
    DomainError::validation(format!(
        "1 validation error detected: Value '{}' at '{field}' failed to satisfy constraint: \
         Member must {constraint}",
        shown(s)
    ))
}

string_newtype!(
    /// A tag key: 1–128 characters of `[\p{L}\p{Z}\p{N}_.:/=+\-@]`; the `aws:`
    /// prefix is reserved for AWS.
    TagKey,
    |s| {
        let n = s.chars().count();
        if n == 0 {
            return Err(tag_error(s, "tags.member.key", "have length greater than or equal to 1"));
        }
        if n > 128 {
            return Err(tag_error(s, "tags.member.key", "have length less than or equal to 128"));
        }
        if !s.chars().all(is_tag_char) {
            return Err(tag_error(
                s,
                "tags.member.key",
                &format!("satisfy regular expression pattern: {TAG_PATTERN}+"),
            ));
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
    /// A tag value: 0–256 characters of `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
    TagValue,
    |s| {
        if s.chars().count() > 256 {
            return Err(tag_error(s, "tags.member.value", "have length less than or equal to 256"));
        }
        if !s.chars().all(is_tag_char) {
            return Err(tag_error(
                s,
                "tags.member.value",
                &format!("satisfy regular expression pattern: {TAG_PATTERN}*"),
            ));
        }
        Ok(())
    }
);

/// The most tags (or tag keys to remove) one request may carry: AWS's
/// `tagListType` / `tagKeyListType` hold at most 50 members.
pub const MAX_TAGS_PER_REQUEST: usize = 50;

/// Refuses a request with more than [`MAX_TAGS_PER_REQUEST`] tags or tag
/// keys; `field` is the parameter (`tags` or `tagKeys`). Run before the
/// request is authorized, so a policy never sees more.
pub fn check_tag_count(n: usize, field: &str) -> Result<(), DomainError> {
    if n > MAX_TAGS_PER_REQUEST {
        return Err(DomainError::validation(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: \
             Member must have length less than or equal to {MAX_TAGS_PER_REQUEST}"
        )));
    }
    Ok(())
}

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

    /// AWS's class `[\p{L}\p{Z}\p{N}_.:/=+\-@]`: no control character, in
    /// particular none XML 1.0 forbids, and the message quotes it escaped.
    #[test]
    fn tag_characters_follow_aws_pattern() {
        let e = Tag::new("k", "a\x0bb").unwrap_err();
        assert_eq!(e.code(), "ValidationError");
        assert_eq!(
            e.message(),
            "1 validation error detected: Value 'a\\u000Bb' at 'tags.member.value' failed to \
             satisfy constraint: Member must satisfy regular expression pattern: \
             [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"
        );
        assert!(e.message().chars().all(|c| !c.is_control()));
        let e = Tag::new("a\u{0c}b", "v").unwrap_err();
        assert_eq!(e.code(), "ValidationError");
        assert!(
            e.message().contains("'a\\u000Cb' at 'tags.member.key'"),
            "{}",
            e.message()
        );
        for bad in [
            "\t", "\n", "\r", "\u{0}", "\u{7f}", "\u{85}", "\u{9f}", "\u{fffe}", "\u{ffff}",
            "\u{301}",
        ] {
            assert!(Tag::new("k", &format!("a{bad}")).is_err(), "value {bad:?}");
            assert!(Tag::new(&format!("a{bad}"), "v").is_err(), "key {bad:?}");
        }
        // Letters, numbers and separators of any script.
        for good in [
            "Ωμέγα",
            "日本",
            "٣٤",
            "½",
            "a\u{a0}b",
            "a\u{3000}b",
            "a\u{2028}b",
        ] {
            assert!(Tag::new(good, good).is_ok(), "{good:?}");
        }
        let e = Tag::new(&"k".repeat(129), "v").unwrap_err();
        assert!(e
            .message()
            .ends_with("Member must have length less than or equal to 128"));
        let e = Tag::new("k", &"v".repeat(257)).unwrap_err();
        assert!(e
            .message()
            .ends_with("Member must have length less than or equal to 256"));
    }

    #[test]
    fn at_most_fifty_tags_per_request() {
        assert!(check_tag_count(50, "tags").is_ok());
        let e = check_tag_count(51, "tags").unwrap_err();
        assert_eq!(e.code(), "ValidationError");
        assert_eq!(
            e.message(),
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: \
             Member must have length less than or equal to 50"
        );
    }

    /// Every validated string that is stored and returned in XML refuses
    /// XML-forbidden and control characters, and error messages quoting a
    /// refused value escape them.
    #[test]
    fn stored_strings_exclude_xml_forbidden_characters() {
        for c in [
            '\u{0}', '\u{b}', '\u{c}', '\u{1b}', '\u{7f}', '\u{85}', '\u{fffe}', '\u{ffff}',
        ] {
            let s = format!("a{c}b");
            assert!(UserName::parse(&s).is_err());
            assert!(GroupName::parse(&s).is_err());
            assert!(RoleName::parse(&s).is_err());
            assert!(PolicyName::parse(&s).is_err());
            assert!(MfaDeviceName::parse(&s).is_err());
            assert!(IamPath::parse(&format!("/{s}/")).is_err());
            assert!(Description::parse(&s).is_err(), "{c:?}");
            assert!(check_plain_text(&s, 128, "region").is_err());
            for e in [
                InlinePolicyName::parse(&s).unwrap_err(),
                IamPath::parse(&format!("/{s}/")).unwrap_err(),
                crate::arn::Arn::parse(&format!("arn:aws:iam::123456789012:user/{s}")).unwrap_err(),
                crate::ids::AccountId::parse(&s).unwrap_err(),
                check_plain_text(&s, 128, "region").unwrap_err(),
            ] {
                assert!(e.message().chars().all(is_xml_safe), "{:?}", e.message());
                assert!(!e.message().contains(c), "{:?}", e.message());
            }
        }
        assert!(Description::parse("tab\tnew line\ncr\r").is_ok());
        assert!(check_plain_text("us-east-1", 128, "region").is_ok());
        assert!(check_plain_text("", 128, "region").is_err());
        assert!(check_plain_text("a\tb", 128, "region").is_err());
        assert_eq!(shown("a\u{b}b\u{ffff}"), "a\\u000Bb\\uFFFF");
    }

    #[test]
    fn descriptions() {
        assert!(Description::parse("Role for the café\tteam").is_ok());
        assert!(Description::parse(&"d".repeat(1001)).is_err());
        assert!(Description::parse("emoji 🙂").is_err());
        assert!(Description::parse("form\u{c}feed").is_err());
        assert!(Description::parse("vertical\u{b}tab").is_err());
        assert!(Description::parse("c1 \u{85}").is_err());
    }
}
