//! Reading a shape out of a [`Node`] tree, checking the model's constraints
//! with AWS's own wording.
//!
//! AWS answers a request that breaks its model with one `ValidationError`
//! listing every violation: "2 validation errors detected: Value 'x' at
//! 'userName' failed to satisfy constraint: Member must satisfy regular
//! expression pattern: [\w+=,.@-]+; Value null at 'policyArn' failed to
//! satisfy constraint: Member must not be null". The decoder collects
//! violations as it reads and never stops at the first, so the caller gets
//! them all, in the order of the model's members.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use regex::Regex;

use crate::node::Node;
use crate::{Map, Secret};

/// A member's constraints, from its shape in the model.
#[derive(Debug)]
pub struct Constraint {
    /// Minimum length (strings, lists, maps) or value (integers).
    pub min: Option<i64>,
    /// Maximum length (strings, lists, maps) or value (integers).
    pub max: Option<i64>,
    pub pattern: Option<&'static Pattern>,
    /// Whether the value may be echoed in an error: never for passwords,
    /// secrets and private keys.
    pub sensitive: bool,
}

impl Constraint {
    pub const NONE: Constraint = Constraint {
        min: None,
        max: None,
        pattern: None,
        sensitive: false,
    };
}

/// A model's regular expression. AWS's patterns are Java regular
/// expressions matched against the whole value; the generator translates
/// each into the `regex` crate's dialect (anchored, `\w` and `\d` as ASCII as
/// in Java) and keeps AWS's text for the error message. A pattern the
/// translation cannot express (a lookahead) is `rust: None` and not
/// checked; the generated code says so beside it.
pub struct Pattern {
    aws: &'static str,
    rust: Option<&'static str>,
    compiled: OnceLock<Option<Regex>>,
}

impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.aws)
    }
}

impl Pattern {
    pub const fn new(aws: &'static str, rust: Option<&'static str>) -> Pattern {
        Pattern {
            aws,
            rust,
            compiled: OnceLock::new(),
        }
    }

    /// AWS's spelling of the pattern.
    pub fn aws(&self) -> &'static str {
        self.aws
    }

    /// The compiled pattern; `None` when it cannot be checked. A pattern
    /// that fails to compile is a generator bug, caught by the crate's test
    /// that compiles every pattern.
    pub fn regex(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| self.rust.and_then(|r| Regex::new(r).ok()))
            .as_ref()
    }

    pub fn is_checked(&self) -> bool {
        self.rust.is_some()
    }

    pub fn matches(&self, value: &str) -> bool {
        self.regex().is_none_or(|r| r.is_match(value))
    }
}

/// The violations found while reading one request: all are counted, the
/// first [`MAX_LISTED`] are worded (a hostile request can break a
/// constraint a million times; the answer must stay small).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Violations {
    listed: Vec<String>,
    count: usize,
}

/// How many violations a message words.
pub const MAX_LISTED: usize = 10;

impl Violations {
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Every violation found, worded or not.
    pub fn len(&self) -> usize {
        self.count
    }

    /// The worded violations.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.listed.iter().map(String::as_str)
    }

    fn record(&mut self, message: impl FnOnce() -> String) {
        self.count += 1;
        if self.listed.len() < MAX_LISTED {
            self.listed.push(message());
        }
    }

    /// Records that the value at `path` breaks `rule` ("Member must ...").
    /// `shown` is the value as the message shows it, `None` for a value
    /// that is absent (`null`), sensitive or too long to echo.
    pub fn push(&mut self, path: &str, shown: Option<&str>, rule: &str) {
        self.record(|| {
            let value = match shown {
                Some(v) => format!("Value '{v}' at"),
                None => "Value at".to_owned(),
            };
            format!("{value} '{path}' failed to satisfy constraint: {rule}")
        });
    }

    fn push_null(&mut self, path: &str) {
        self.record(|| {
            format!("Value null at '{path}' failed to satisfy constraint: Member must not be null")
        });
    }

    /// AWS's message: "1 validation error detected: …" or
    /// "N validation errors detected: …; …" (beyond [`MAX_LISTED`], the
    /// count and the first ones).
    pub fn message(&self) -> String {
        let n = self.count;
        let noun = if n == 1 { "error" } else { "errors" };
        let more = if n > self.listed.len() { "; …" } else { "" };
        format!(
            "{n} validation {noun} detected: {}{more}",
            self.listed.join("; ")
        )
    }
}

/// Values longer than this are not echoed in a validation message.
const MAX_SHOWN: usize = 256;

/// A value as a message may show it: control characters escaped (a message
/// must survive XML and logs), long and sensitive values withheld.
fn shown(value: &str, constraint: &Constraint) -> Option<String> {
    if constraint.sensitive || value.chars().count() > MAX_SHOWN {
        return None;
    }
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}') {
            out.push_str(&format!("\\u{:04X}", c as u32));
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// A shape that can be read from a node.
pub trait Decode: Sized + Default {
    /// Reads the value; a value that cannot be read records a violation and
    /// yields `None`.
    fn decode(node: &Node, path: &str, violations: &mut Violations) -> Option<Self>;

    /// Checks the member's constraints on a value that was read. Most
    /// shapes have none beyond their type.
    fn check(&self, _path: &str, _constraint: &Constraint, _violations: &mut Violations) {}
}

/// A scalar member's text: a Query value, a JSON string, or a JSON number
/// or boolean (what an integer, boolean or timestamp member expects).
fn text<'n>(
    node: &'n Node,
    path: &str,
    violations: &mut Violations,
    what: &str,
) -> Option<&'n str> {
    match node {
        Node::Text(t) | Node::Literal(t) => Some(t),
        _ => {
            violations.push(path, None, &format!("Member must be {what}"));
            None
        }
    }
}

/// A string member's text: a JSON number or boolean is not a string
/// (`{"UserName": 7}` is refused).
fn string<'n>(node: &'n Node, path: &str, violations: &mut Violations) -> Option<&'n str> {
    match node {
        Node::Text(t) => Some(t),
        _ => {
            violations.push(path, None, "Member must be a string");
            None
        }
    }
}

fn check_length(len: usize, path: &str, shown: Option<&str>, c: &Constraint, v: &mut Violations) {
    let len = len as i64;
    if let Some(min) = c.min.filter(|m| len < *m) {
        v.push(
            path,
            shown,
            &format!("Member must have length greater than or equal to {min}"),
        );
    }
    if let Some(max) = c.max.filter(|m| len > *m) {
        v.push(
            path,
            shown,
            &format!("Member must have length less than or equal to {max}"),
        );
    }
}

fn check_string(value: &str, path: &str, c: &Constraint, v: &mut Violations) {
    let shown = shown(value, c);
    check_length(value.chars().count(), path, shown.as_deref(), c, v);
    if let Some(p) = c.pattern {
        if !p.matches(value) {
            v.push(
                path,
                shown.as_deref(),
                &format!(
                    "Member must satisfy regular expression pattern: {}",
                    p.aws()
                ),
            );
        }
    }
}

impl Decode for String {
    fn decode(node: &Node, path: &str, v: &mut Violations) -> Option<Self> {
        string(node, path, v).map(str::to_owned)
    }

    fn check(&self, path: &str, c: &Constraint, v: &mut Violations) {
        check_string(self, path, c, v);
    }
}

impl Decode for Secret {
    fn decode(node: &Node, path: &str, v: &mut Violations) -> Option<Self> {
        string(node, path, v).map(|t| Secret(t.to_owned()))
    }

    fn check(&self, path: &str, c: &Constraint, v: &mut Violations) {
        let hidden = Constraint {
            sensitive: true,
            ..*c
        };
        check_string(&self.0, path, &hidden, v);
    }
}

/// An integer member's value, or the violation of not being one.
fn integer<T: std::str::FromStr>(node: &Node, path: &str, v: &mut Violations) -> Option<T> {
    let t = text(node, path, v, "an integer")?;
    match t.parse::<T>() {
        Ok(n) => Some(n),
        Err(_) => {
            v.push(
                path,
                shown(t, &Constraint::NONE).as_deref(),
                "Member must be an integer",
            );
            None
        }
    }
}

impl Decode for i32 {
    fn decode(node: &Node, path: &str, v: &mut Violations) -> Option<Self> {
        integer(node, path, v)
    }

    fn check(&self, path: &str, c: &Constraint, v: &mut Violations) {
        check_range(i64::from(*self), path, c, v);
    }
}

fn check_range(n: i64, path: &str, c: &Constraint, v: &mut Violations) {
    {
        let shown = n.to_string();
        if let Some(min) = c.min.filter(|m| n < *m) {
            v.push(
                path,
                Some(&shown),
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
        if let Some(max) = c.max.filter(|m| n > *m) {
            v.push(
                path,
                Some(&shown),
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }
}

impl Decode for i64 {
    fn decode(node: &Node, path: &str, v: &mut Violations) -> Option<Self> {
        integer(node, path, v)
    }

    fn check(&self, path: &str, c: &Constraint, v: &mut Violations) {
        check_range(*self, path, c, v);
    }
}

/// A document is whatever JSON the request holds there (from the Query
/// protocol: its text).
impl Decode for crate::Document {
    fn decode(node: &Node, _: &str, _: &mut Violations) -> Option<Self> {
        Some(crate::Document(node.to_json()))
    }
}

impl Decode for bool {
    fn decode(node: &Node, path: &str, v: &mut Violations) -> Option<Self> {
        match text(node, path, v, "a boolean")? {
            "true" => Some(true),
            "false" => Some(false),
            other => {
                v.push(
                    path,
                    shown(other, &Constraint::NONE).as_deref(),
                    "Member must be a boolean (true or false)",
                );
                None
            }
        }
    }
}

impl Decode for DateTime<Utc> {
    fn decode(node: &Node, path: &str, v: &mut Violations) -> Option<Self> {
        let t = text(node, path, v, "a timestamp")?;
        if let Ok(d) = DateTime::parse_from_rfc3339(t) {
            return Some(d.with_timezone(&Utc));
        }
        if let Some(d) = t
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite())
            .and_then(|s| DateTime::from_timestamp(s.trunc() as i64, 0))
        {
            return Some(d);
        }
        v.push(
            path,
            shown(t, &Constraint::NONE).as_deref(),
            "Member must be a timestamp (ISO 8601 or epoch seconds)",
        );
        None
    }
}

impl Decode for Vec<u8> {
    fn decode(node: &Node, path: &str, v: &mut Violations) -> Option<Self> {
        let t = text(node, path, v, "base64-encoded bytes")?;
        match crate::encode::base64_decode(t) {
            Some(bytes) => Some(bytes),
            None => {
                v.push(path, None, "Member must be base64-encoded bytes");
                None
            }
        }
    }

    fn check(&self, path: &str, c: &Constraint, v: &mut Violations) {
        check_length(self.len(), path, None, c, v);
    }
}

/// Reads the members of one structure.
pub struct Reader<'a> {
    node: &'a Node,
    path: &'a str,
    violations: &'a mut Violations,
}

impl<'a> Reader<'a> {
    pub fn new(node: &'a Node, path: &'a str, violations: &'a mut Violations) -> Reader<'a> {
        Reader {
            node,
            path,
            violations,
        }
    }

    /// AWS names a member in messages by its name with a lower-case first
    /// letter, nested as `tags.1.member.key`.
    fn path_of(&self, name: &str) -> String {
        let mut out = String::with_capacity(self.path.len() + name.len() + 1);
        if !self.path.is_empty() {
            out.push_str(self.path);
            out.push('.');
        }
        let mut chars = name.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_lowercase());
            out.push_str(chars.as_str());
        }
        out
    }

    /// An optional member.
    pub fn opt<T: Decode>(&mut self, name: &str, c: &Constraint) -> Option<T> {
        let node = self.node.member(name)?;
        let path = self.path_of(name);
        let value = T::decode(node, &path, self.violations)?;
        value.check(&path, c, self.violations);
        Some(value)
    }

    /// A required member: absent, it is a violation and the default.
    pub fn req<T: Decode>(&mut self, name: &str, c: &Constraint) -> T {
        if self.node.member(name).is_none() {
            let path = self.path_of(name);
            self.violations.push_null(&path);
            return T::default();
        }
        self.opt(name, c).unwrap_or_default()
    }

    /// An optional list member: `Name.member.N` in Query, an array in JSON.
    /// An empty Query value (`Name=`) is the empty list, as AWS reads it.
    pub fn opt_list<T: Decode>(
        &mut self,
        name: &str,
        c: &Constraint,
        item: &Constraint,
    ) -> Option<Vec<T>> {
        let node = self.node.member(name)?;
        let path = self.path_of(name);
        let items: &[Node] = match node {
            Node::List(items) => items,
            Node::Text(t) if t.is_empty() => &[],
            _ => {
                self.violations.push(&path, None, "Member must be a list");
                return None;
            }
        };
        // The list's own length first: a list far too long is refused as
        // such, without reading (and wording the faults of) every item.
        let before = self.violations.len();
        check_length(items.len(), &path, None, c, self.violations);
        if self.violations.len() > before {
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, node) in items.iter().enumerate() {
            let item_path = format!("{path}.{}.member", i + 1);
            if let Some(value) = T::decode(node, &item_path, self.violations) {
                value.check(&item_path, item, self.violations);
                out.push(value);
            }
        }
        Some(out)
    }

    pub fn req_list<T: Decode>(&mut self, name: &str, c: &Constraint, item: &Constraint) -> Vec<T> {
        if self.node.member(name).is_none() {
            let path = self.path_of(name);
            self.violations.push_null(&path);
            return Vec::new();
        }
        self.opt_list(name, c, item).unwrap_or_default()
    }

    /// An optional map member: `Name.entry.N.key`/`.value` in Query, an
    /// object in JSON.
    pub fn opt_map<K: Decode, V: Decode>(
        &mut self,
        name: &str,
        c: &Constraint,
        key: &Constraint,
        value: &Constraint,
    ) -> Option<Map<K, V>> {
        let node = self.node.member(name)?;
        let path = self.path_of(name);
        let entries: Vec<(&str, &Node)> = match node {
            Node::Entries(e) => e.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            Node::Struct(m) => m.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            Node::Text(t) if t.is_empty() => Vec::new(),
            _ => {
                self.violations.push(&path, None, "Member must be a map");
                return None;
            }
        };
        let before = self.violations.len();
        check_length(entries.len(), &path, None, c, self.violations);
        if self.violations.len() > before {
            return None;
        }
        let mut out = Vec::with_capacity(entries.len());
        for (k, node) in &entries {
            let key_path = format!("{path}.key");
            let value_path = format!("{path}.{k}");
            let k = K::decode(&Node::Text((*k).to_owned()), &key_path, self.violations);
            let v = V::decode(node, &value_path, self.violations);
            if let (Some(k), Some(v)) = (k, v) {
                k.check(&key_path, key, self.violations);
                v.check(&value_path, value, self.violations);
                out.push((k, v));
            }
        }
        Some(Map(out))
    }

    pub fn req_map<K: Decode, V: Decode>(
        &mut self,
        name: &str,
        c: &Constraint,
        key: &Constraint,
        value: &Constraint,
    ) -> Map<K, V> {
        if self.node.member(name).is_none() {
            let path = self.path_of(name);
            self.violations.push_null(&path);
            return Map::default();
        }
        self.opt_map(name, c, key, value).unwrap_or_default()
    }
}

/// Reads a whole input shape from a request's tree: the value, or every
/// violation found.
pub fn decode_input<T: Decode>(tree: &Node) -> Result<T, Violations> {
    let mut violations = Violations::default();
    let value = T::decode(tree, "", &mut violations);
    match (value, violations.is_empty()) {
        (Some(v), true) => Ok(v),
        _ => Err(violations),
    }
}

/// Enumerations: a generated enum reads its value set.
pub fn decode_enum<T>(
    node: &Node,
    path: &str,
    v: &mut Violations,
    values: &[&str],
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let t = string(node, path, v)?;
    match parse(t) {
        Some(value) => Some(value),
        None => {
            v.push(
                path,
                shown(t, &Constraint::NONE).as_deref(),
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    values.join(", ")
                ),
            );
            None
        }
    }
}

/// The unit input of an operation without parameters.
impl Decode for () {
    fn decode(_: &Node, _: &str, _: &mut Violations) -> Option<Self> {
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static NAME: Pattern = Pattern::new(r"[\w+=,.@-]+", Some(r"^(?:[0-9A-Za-z_+=,.@-]+)$"));
    static USER_NAME: Constraint = Constraint {
        min: Some(1),
        max: Some(64),
        pattern: Some(&NAME),
        sensitive: false,
    };

    #[derive(Default, Debug)]
    struct Input {
        user_name: String,
        max_items: Option<i32>,
    }

    impl Decode for Input {
        fn decode(node: &Node, path: &str, v: &mut Violations) -> Option<Self> {
            let mut r = Reader::new(node, path, v);
            Some(Input {
                user_name: r.req("UserName", &USER_NAME),
                max_items: r.opt(
                    "MaxItems",
                    &Constraint {
                        min: Some(1),
                        max: Some(1000),
                        ..Constraint::NONE
                    },
                ),
            })
        }
    }

    #[test]
    fn violations_are_all_reported_in_aws_words() {
        let tree = Node::from_query([("UserName", "a b"), ("MaxItems", "0")]);
        let err = decode_input::<Input>(&tree).unwrap_err();
        assert_eq!(
            err.message(),
            "2 validation errors detected: Value 'a b' at 'userName' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\w+=,.@-]+; Value '0' at 'maxItems' \
             failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
        let err = decode_input::<Input>(&Node::from_query([])).unwrap_err();
        assert_eq!(
            err.message(),
            "1 validation error detected: Value null at 'userName' failed to satisfy constraint: \
             Member must not be null"
        );
        let ok = decode_input::<Input>(&Node::from_query([("UserName", "alice")])).unwrap();
        assert_eq!(ok.user_name, "alice");
        assert_eq!(ok.max_items, None);
    }

    #[test]
    fn a_flood_of_violations_is_counted_but_only_the_first_are_worded() {
        static KEYS: Constraint = Constraint {
            min: Some(1),
            max: Some(128),
            pattern: None,
            sensitive: false,
        };
        #[derive(Default, Debug)]
        struct Many {
            _keys: Vec<String>,
        }
        impl Decode for Many {
            fn decode(node: &Node, path: &str, v: &mut Violations) -> Option<Self> {
                let mut r = Reader::new(node, path, v);
                Some(Many {
                    _keys: r.req_list("Keys", &Constraint::NONE, &KEYS),
                })
            }
        }
        let names: Vec<String> = (1..=1000).map(|i| format!("Keys.member.{i}")).collect();
        let tree = Node::from_query(names.iter().map(|n| (n.as_str(), "")));
        let err = decode_input::<Many>(&tree).unwrap_err();
        assert_eq!(err.len(), 1000);
        assert_eq!(err.iter().count(), MAX_LISTED);
        assert!(err
            .message()
            .starts_with("1000 validation errors detected: "));
        assert!(err.message().len() < 2_000, "{}", err.message().len());
    }

    #[test]
    fn sensitive_and_long_values_are_not_echoed() {
        let mut v = Violations::default();
        Secret("hunter2 x".into()).check("password", &USER_NAME, &mut v);
        assert!(!v.message().contains("hunter2"), "{}", v.message());
        let mut v = Violations::default();
        "x".repeat(300).check("userName", &USER_NAME, &mut v);
        assert!(v
            .message()
            .starts_with("1 validation error detected: Value at 'userName'"));
    }
}
