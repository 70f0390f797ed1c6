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

use std::fmt::{self, Display, Write as _};
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

/// Where a value sits in the request, as AWS names it in messages: member
/// names with a lower-case first letter, nested with dots (`tags.1.member.key`,
/// list items as `name.N.member` counted from 1, a map's keys as `name.key`
/// and its values as `name.<key>`).
///
/// A path is a chain of borrowed links built on the stack as the decoder
/// descends; it is only formatted (by [`Display`]) when a violation is
/// worded, so reading a valid request builds no text at all.
#[derive(Debug, Clone, Copy)]
pub enum Path<'a> {
    /// The input itself: prints nothing.
    Root,
    /// A structure's member, by its wire name (`UserName`, printed
    /// `userName`).
    Member(&'a Path<'a>, &'a str),
    /// A list's item, by its position counted from 1 (`name.N.member`).
    Item(&'a Path<'a>, usize),
    /// A map's key (`name.key`).
    MapKey(&'a Path<'a>),
    /// A map's value, by its key as given (`name.<key>`).
    MapValue(&'a Path<'a>, &'a str),
}

impl Path<'_> {
    /// Whether the path prints nothing (the root): its children then take
    /// no leading dot.
    fn is_empty(&self) -> bool {
        match *self {
            Path::Root => true,
            Path::Member(parent, name) | Path::MapValue(parent, name) => {
                name.is_empty() && parent.is_empty()
            }
            Path::Item(..) | Path::MapKey(_) => false,
        }
    }

    /// Writes the path of a child's parent: the parent and a dot, or
    /// nothing at the root.
    fn write_prefix(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        Display::fmt(self, f)?;
        f.write_char('.')
    }
}

impl Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Path::Root => Ok(()),
            Path::Member(parent, name) => {
                parent.write_prefix(f)?;
                let mut chars = name.chars();
                if let Some(first) = chars.next() {
                    for c in first.to_lowercase() {
                        f.write_char(c)?;
                    }
                    f.write_str(chars.as_str())?;
                }
                Ok(())
            }
            Path::Item(parent, n) => {
                parent.write_prefix(f)?;
                write!(f, "{n}.member")
            }
            Path::MapKey(parent) => {
                parent.write_prefix(f)?;
                f.write_str("key")
            }
            Path::MapValue(parent, key) => {
                parent.write_prefix(f)?;
                f.write_str(key)
            }
        }
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
    pub fn push(&mut self, path: &Path<'_>, shown: Option<&str>, rule: &str) {
        self.violate(path, || shown.map(str::to_owned), format_args!("{rule}"));
    }

    /// [`Violations::push`] with the shown value and the path worded only
    /// if the violation is listed.
    fn violate(
        &mut self,
        path: &Path<'_>,
        shown: impl FnOnce() -> Option<String>,
        rule: fmt::Arguments<'_>,
    ) {
        self.record(|| match shown() {
            Some(v) => format!("Value '{v}' at '{path}' failed to satisfy constraint: {rule}"),
            None => format!("Value at '{path}' failed to satisfy constraint: {rule}"),
        });
    }

    fn push_null(&mut self, path: &Path<'_>) {
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

/// Whether `value` has fewer than `n` characters, counting no further than
/// needed: a string has at most as many characters as bytes.
fn fewer_chars_than(value: &str, n: usize) -> bool {
    value.len() < n || value.chars().take(n).count() < n
}

/// Whether `value` has more than `n` characters, counting no further than
/// needed: a string has at most as many characters as bytes.
fn more_chars_than(value: &str, n: usize) -> bool {
    value.len() > n && value.chars().nth(n).is_some()
}

/// A value as a message may show it: control characters escaped (a message
/// must survive XML and logs), long and sensitive values withheld. Only
/// called to word a violation.
fn shown(value: &str, constraint: &Constraint) -> Option<String> {
    if constraint.sensitive || more_chars_than(value, MAX_SHOWN) {
        return None;
    }
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}') {
            let _ = write!(out, "\\u{:04X}", c as u32);
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
    fn decode(node: &Node, path: &Path<'_>, violations: &mut Violations) -> Option<Self>;

    /// Checks the member's constraints on a value that was read. Most
    /// shapes have none beyond their type.
    fn check(&self, _path: &Path<'_>, _constraint: &Constraint, _violations: &mut Violations) {}
}

/// A scalar member's text: a Query value, a JSON string, or a JSON number
/// or boolean (what an integer, boolean or timestamp member expects).
fn text<'n>(
    node: &'n Node,
    path: &Path<'_>,
    violations: &mut Violations,
    what: &str,
) -> Option<&'n str> {
    match node {
        Node::Text(t) | Node::Literal(t) => Some(t),
        _ => {
            violations.violate(path, || None, format_args!("Member must be {what}"));
            None
        }
    }
}

/// A string member's text: a JSON number or boolean is not a string
/// (`{"UserName": 7}` is refused).
fn string<'n>(node: &'n Node, path: &Path<'_>, violations: &mut Violations) -> Option<&'n str> {
    match node {
        Node::Text(t) => Some(t),
        _ => {
            violations.push(path, None, "Member must be a string");
            None
        }
    }
}

/// Checks a length against the constraint's bounds. `shorter_than(n)` and
/// `longer_than(n)` tell whether the length is below or above `n` (a
/// string's character count is only counted as far as a bound needs);
/// `shown` words the value, and is only called for a violation.
fn check_length(
    path: &Path<'_>,
    c: &Constraint,
    v: &mut Violations,
    shown: impl Fn() -> Option<String>,
    shorter_than: impl Fn(usize) -> bool,
    longer_than: impl Fn(usize) -> bool,
) {
    // A length is never negative: a bound below zero is always kept by a
    // minimum and always broken by a maximum; one beyond `usize` is the
    // reverse.
    let bound = |m: i64| usize::try_from(m).unwrap_or(usize::MAX);
    if let Some(min) = c.min.filter(|&m| m > 0 && shorter_than(bound(m))) {
        v.violate(
            path,
            &shown,
            format_args!("Member must have length greater than or equal to {min}"),
        );
    }
    if let Some(max) = c.max.filter(|&m| m < 0 || longer_than(bound(m))) {
        v.violate(
            path,
            &shown,
            format_args!("Member must have length less than or equal to {max}"),
        );
    }
}

/// Checks the length of a list, a map or bytes: such values are never
/// shown.
fn check_count(len: usize, path: &Path<'_>, c: &Constraint, v: &mut Violations) {
    check_length(path, c, v, || None, |n| len < n, |n| len > n);
}

fn check_string(value: &str, path: &Path<'_>, c: &Constraint, v: &mut Violations) {
    check_length(
        path,
        c,
        v,
        || shown(value, c),
        |n| fewer_chars_than(value, n),
        |n| more_chars_than(value, n),
    );
    if let Some(p) = c.pattern {
        if !p.matches(value) {
            v.violate(
                path,
                || shown(value, c),
                format_args!(
                    "Member must satisfy regular expression pattern: {}",
                    p.aws()
                ),
            );
        }
    }
}

impl Decode for String {
    fn decode(node: &Node, path: &Path<'_>, v: &mut Violations) -> Option<Self> {
        string(node, path, v).map(str::to_owned)
    }

    fn check(&self, path: &Path<'_>, c: &Constraint, v: &mut Violations) {
        check_string(self, path, c, v);
    }
}

impl Decode for Secret {
    fn decode(node: &Node, path: &Path<'_>, v: &mut Violations) -> Option<Self> {
        string(node, path, v).map(|t| Secret(t.to_owned()))
    }

    fn check(&self, path: &Path<'_>, c: &Constraint, v: &mut Violations) {
        let hidden = Constraint {
            sensitive: true,
            ..*c
        };
        check_string(&self.0, path, &hidden, v);
    }
}

/// An integer member's value, or the violation of not being one.
fn integer<T: std::str::FromStr>(node: &Node, path: &Path<'_>, v: &mut Violations) -> Option<T> {
    let t = text(node, path, v, "an integer")?;
    match t.parse::<T>() {
        Ok(n) => Some(n),
        Err(_) => {
            v.violate(
                path,
                || shown(t, &Constraint::NONE),
                format_args!("Member must be an integer"),
            );
            None
        }
    }
}

impl Decode for i32 {
    fn decode(node: &Node, path: &Path<'_>, v: &mut Violations) -> Option<Self> {
        integer(node, path, v)
    }

    fn check(&self, path: &Path<'_>, c: &Constraint, v: &mut Violations) {
        check_range(i64::from(*self), path, c, v);
    }
}

fn check_range(n: i64, path: &Path<'_>, c: &Constraint, v: &mut Violations) {
    if let Some(min) = c.min.filter(|m| n < *m) {
        v.violate(
            path,
            || Some(n.to_string()),
            format_args!("Member must have value greater than or equal to {min}"),
        );
    }
    if let Some(max) = c.max.filter(|m| n > *m) {
        v.violate(
            path,
            || Some(n.to_string()),
            format_args!("Member must have value less than or equal to {max}"),
        );
    }
}

impl Decode for i64 {
    fn decode(node: &Node, path: &Path<'_>, v: &mut Violations) -> Option<Self> {
        integer(node, path, v)
    }

    fn check(&self, path: &Path<'_>, c: &Constraint, v: &mut Violations) {
        check_range(*self, path, c, v);
    }
}

/// A document is whatever JSON the request holds there (from the Query
/// protocol: its text).
impl Decode for crate::Document {
    fn decode(node: &Node, _: &Path<'_>, _: &mut Violations) -> Option<Self> {
        Some(crate::Document(node.to_json()))
    }
}

impl Decode for bool {
    fn decode(node: &Node, path: &Path<'_>, v: &mut Violations) -> Option<Self> {
        match text(node, path, v, "a boolean")? {
            "true" => Some(true),
            "false" => Some(false),
            other => {
                v.violate(
                    path,
                    || shown(other, &Constraint::NONE),
                    format_args!("Member must be a boolean (true or false)"),
                );
                None
            }
        }
    }
}

impl Decode for DateTime<Utc> {
    fn decode(node: &Node, path: &Path<'_>, v: &mut Violations) -> Option<Self> {
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
        v.violate(
            path,
            || shown(t, &Constraint::NONE),
            format_args!("Member must be a timestamp (ISO 8601 or epoch seconds)"),
        );
        None
    }
}

impl Decode for Vec<u8> {
    fn decode(node: &Node, path: &Path<'_>, v: &mut Violations) -> Option<Self> {
        let t = text(node, path, v, "base64-encoded bytes")?;
        match crate::encode::base64_decode(t) {
            Some(bytes) => Some(bytes),
            None => {
                v.push(path, None, "Member must be base64-encoded bytes");
                None
            }
        }
    }

    fn check(&self, path: &Path<'_>, c: &Constraint, v: &mut Violations) {
        check_count(self.len(), path, c, v);
    }
}

/// A map's entries as the tree holds them, read in place.
enum Entries<'n> {
    Query(std::slice::Iter<'n, (String, Node)>),
    Json(std::collections::btree_map::Iter<'n, smol_str::SmolStr, Node>),
    Empty,
}

impl<'n> Iterator for Entries<'n> {
    type Item = (&'n str, &'n Node);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Entries::Query(e) => e.next().map(|(k, v)| (k.as_str(), v)),
            Entries::Json(m) => m.next().map(|(k, v)| (k.as_str(), v)),
            Entries::Empty => None,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.len();
        (n, Some(n))
    }
}

impl ExactSizeIterator for Entries<'_> {
    fn len(&self) -> usize {
        match self {
            Entries::Query(e) => e.len(),
            Entries::Json(m) => m.len(),
            Entries::Empty => 0,
        }
    }
}

/// Reads the members of one structure.
pub struct Reader<'a> {
    node: &'a Node,
    path: &'a Path<'a>,
    violations: &'a mut Violations,
}

impl<'a> Reader<'a> {
    pub fn new(node: &'a Node, path: &'a Path<'a>, violations: &'a mut Violations) -> Reader<'a> {
        Reader {
            node,
            path,
            violations,
        }
    }

    /// An optional member.
    pub fn opt<T: Decode>(&mut self, name: &str, c: &Constraint) -> Option<T> {
        let node = self.node.member(name)?;
        let path = Path::Member(self.path, name);
        let value = T::decode(node, &path, self.violations)?;
        value.check(&path, c, self.violations);
        Some(value)
    }

    /// A required member: absent, it is a violation and the default.
    pub fn req<T: Decode>(&mut self, name: &str, c: &Constraint) -> T {
        if self.node.member(name).is_none() {
            self.violations.push_null(&Path::Member(self.path, name));
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
        let path = Path::Member(self.path, name);
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
        check_count(items.len(), &path, c, self.violations);
        if self.violations.len() > before {
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, node) in items.iter().enumerate() {
            let item_path = Path::Item(&path, i + 1);
            if let Some(value) = T::decode(node, &item_path, self.violations) {
                value.check(&item_path, item, self.violations);
                out.push(value);
            }
        }
        Some(out)
    }

    pub fn req_list<T: Decode>(&mut self, name: &str, c: &Constraint, item: &Constraint) -> Vec<T> {
        if self.node.member(name).is_none() {
            self.violations.push_null(&Path::Member(self.path, name));
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
        let path = Path::Member(self.path, name);
        let entries = match node {
            Node::Entries(e) => Entries::Query(e.iter()),
            Node::Struct(m) => Entries::Json(m.iter()),
            Node::Text(t) if t.is_empty() => Entries::Empty,
            _ => {
                self.violations.push(&path, None, "Member must be a map");
                return None;
            }
        };
        let before = self.violations.len();
        check_count(entries.len(), &path, c, self.violations);
        if self.violations.len() > before {
            return None;
        }
        let mut out = Vec::with_capacity(entries.len());
        let key_path = Path::MapKey(&path);
        for (k, node) in entries {
            let value_path = Path::MapValue(&path, k);
            let k = K::decode(&Node::Text(k.to_owned()), &key_path, self.violations);
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
            self.violations.push_null(&Path::Member(self.path, name));
            return Map::default();
        }
        self.opt_map(name, c, key, value).unwrap_or_default()
    }
}

/// Reads a whole input shape from a request's tree: the value, or every
/// violation found.
pub fn decode_input<T: Decode>(tree: &Node) -> Result<T, Violations> {
    let mut violations = Violations::default();
    let value = T::decode(tree, &Path::Root, &mut violations);
    match (value, violations.is_empty()) {
        (Some(v), true) => Ok(v),
        _ => Err(violations),
    }
}

/// Enumerations: a generated enum reads its value set.
pub fn decode_enum<T>(
    node: &Node,
    path: &Path<'_>,
    v: &mut Violations,
    values: &[&str],
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let t = string(node, path, v)?;
    match parse(t) {
        Some(value) => Some(value),
        None => {
            v.violate(
                path,
                || shown(t, &Constraint::NONE),
                format_args!(
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
    fn decode(_: &Node, _: &Path<'_>, _: &mut Violations) -> Option<Self> {
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
        fn decode(node: &Node, path: &Path<'_>, v: &mut Violations) -> Option<Self> {
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
            fn decode(node: &Node, path: &Path<'_>, v: &mut Violations) -> Option<Self> {
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
        Secret("hunter2 x".into()).check(
            &Path::Member(&Path::Root, "Password"),
            &USER_NAME,
            &mut v,
        );
        assert!(!v.message().contains("hunter2"), "{}", v.message());
        let mut v = Violations::default();
        "x".repeat(300)
            .check(&Path::Member(&Path::Root, "UserName"), &USER_NAME, &mut v);
        assert!(v
            .message()
            .starts_with("1 validation error detected: Value at 'userName'"));
    }

    /// The paths the decoder built as text before [`Path`]: `path_of` for
    /// a member, `{path}.{n}.member` for a list item, `{path}.key` and
    /// `{path}.{key}` for a map's key and value.
    mod old {
        pub fn member(path: &str, name: &str) -> String {
            let mut out = String::with_capacity(path.len() + name.len() + 1);
            if !path.is_empty() {
                out.push_str(path);
                out.push('.');
            }
            let mut chars = name.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_lowercase());
                out.push_str(chars.as_str());
            }
            out
        }
        pub fn item(path: &str, n: usize) -> String {
            format!("{path}.{n}.member")
        }
        pub fn key(path: &str) -> String {
            format!("{path}.key")
        }
        pub fn value(path: &str, key: &str) -> String {
            format!("{path}.{key}")
        }
    }

    #[test]
    fn paths_print_as_the_text_the_decoder_used_to_build() {
        let root = Path::Root;
        assert_eq!(root.to_string(), "");
        let user = Path::Member(&root, "UserName");
        assert_eq!(user.to_string(), "userName");
        assert_eq!(user.to_string(), old::member("", "UserName"));

        // A member of a list item: `tags.2.member.key`.
        let tags = Path::Member(&root, "Tags");
        let second = Path::Item(&tags, 2);
        let key = Path::Member(&second, "Key");
        assert_eq!(key.to_string(), "tags.2.member.key");
        assert_eq!(
            key.to_string(),
            old::member(&old::item(&old::member("", "Tags"), 2), "Key")
        );

        // A member of a list item in a map's value, beside the map's key.
        let context = Path::Member(&root, "ContextEntries");
        let entry = Path::Item(&context, 1);
        let values = Path::Member(&entry, "ContextKeyValues");
        let value = Path::MapValue(&values, "aws:SourceIp");
        let third = Path::Item(&value, 3);
        let leaf = Path::Member(&third, "ContextKeyName");
        assert_eq!(
            leaf.to_string(),
            "contextEntries.1.member.contextKeyValues.aws:SourceIp.3.member.contextKeyName"
        );
        let values_text = old::member(
            &old::item(&old::member("", "ContextEntries"), 1),
            "ContextKeyValues",
        );
        let text = old::member(
            &old::item(&old::value(&values_text, "aws:SourceIp"), 3),
            "ContextKeyName",
        );
        assert_eq!(leaf.to_string(), text);
        let map_key = Path::MapKey(&values);
        assert_eq!(
            map_key.to_string(),
            "contextEntries.1.member.contextKeyValues.key"
        );
        assert_eq!(map_key.to_string(), old::key(&values_text));

        // Keys are printed as given, names lower-cased by their first
        // character only (not only ASCII), empty names and keys kept.
        let odd = Path::MapValue(&tags, "Key.With.Dots");
        assert_eq!(odd.to_string(), old::value("tags", "Key.With.Dots"));
        let unicode = Path::Member(&odd, "ÉtatX");
        assert_eq!(unicode.to_string(), "tags.Key.With.Dots.étatX");
        assert_eq!(
            unicode.to_string(),
            old::member(&old::value("tags", "Key.With.Dots"), "ÉtatX")
        );
        let empty_key = Path::MapValue(&tags, "");
        assert_eq!(empty_key.to_string(), old::value("tags", ""));
        let under_empty = Path::Member(&empty_key, "A");
        assert_eq!(
            under_empty.to_string(),
            old::member(&old::value("tags", ""), "A")
        );
        let empty = Path::Member(&root, "");
        let under = Path::Member(&empty, "Name");
        assert_eq!(under.to_string(), old::member(&old::member("", ""), "Name"));
    }

    #[test]
    fn nested_violations_name_their_paths_in_aws_words() {
        static KEY: Constraint = Constraint {
            min: Some(1),
            max: Some(3),
            pattern: None,
            sensitive: false,
        };
        #[derive(Default, Debug)]
        struct Tag {
            _key: String,
        }
        impl Decode for Tag {
            fn decode(node: &Node, path: &Path<'_>, v: &mut Violations) -> Option<Self> {
                let mut r = Reader::new(node, path, v);
                Some(Tag {
                    _key: r.req("Key", &KEY),
                })
            }
        }
        /// A list held in a map's value, its items named as a list
        /// member's are.
        #[derive(Default, Debug)]
        struct Tags {
            _items: Vec<Tag>,
        }
        impl Decode for Tags {
            fn decode(node: &Node, path: &Path<'_>, v: &mut Violations) -> Option<Self> {
                let Node::List(items) = node else {
                    return None;
                };
                let mut out = Vec::new();
                for (i, node) in items.iter().enumerate() {
                    out.extend(Tag::decode(node, &Path::Item(path, i + 1), v));
                }
                Some(Tags { _items: out })
            }
        }
        #[derive(Default, Debug)]
        struct Outer {
            _groups: Option<Map<String, Tags>>,
        }
        impl Decode for Outer {
            fn decode(node: &Node, path: &Path<'_>, v: &mut Violations) -> Option<Self> {
                let mut r = Reader::new(node, path, v);
                Some(Outer {
                    _groups: r.opt_map("Groups", &Constraint::NONE, &KEY, &Constraint::NONE),
                })
            }
        }
        let tree = Node::from_json(&serde_json::json!({
            "Groups": {"Red": [{"Key": "ok"}, {"Key": "lon\u{7}"}, {}], "Toolong": []}
        }));
        let err = decode_input::<Outer>(&tree).unwrap_err();
        assert_eq!(
            err.message(),
            "3 validation errors detected: Value 'lon\\u0007' at 'groups.Red.2.member.key' \
             failed to satisfy constraint: Member must have length less than or equal to 3; \
             Value null at 'groups.Red.3.member.key' failed to satisfy constraint: Member must \
             not be null; Value 'Toolong' at 'groups.key' failed to satisfy constraint: Member \
             must have length less than or equal to 3"
        );
    }

    #[test]
    fn lengths_are_counted_in_characters_only_as_far_as_needed() {
        // The bounded counts agree with a full count, in characters of one
        // to four bytes, around every bound.
        for c in ["a", "é", "€", "𝄞"] {
            for n in 0..8 {
                let value = c.repeat(n);
                for bound in 0..10 {
                    assert_eq!(
                        fewer_chars_than(&value, bound),
                        n < bound,
                        "{value} {bound}"
                    );
                    assert_eq!(more_chars_than(&value, bound), n > bound, "{value} {bound}");
                }
            }
        }
        // And the messages are AWS's, bounds given in characters.
        static TWO_TO_THREE: Constraint = Constraint {
            min: Some(2),
            max: Some(3),
            pattern: None,
            sensitive: false,
        };
        let path = Path::Member(&Path::Root, "Name");
        for (value, broken) in [
            ("é", Some("greater than or equal to 2")),
            ("éé", None),
            ("𝄞𝄞𝄞", None),
            ("𝄞𝄞𝄞𝄞", Some("less than or equal to 3")),
            ("", Some("greater than or equal to 2")),
        ] {
            let mut v = Violations::default();
            value.to_owned().check(&path, &TWO_TO_THREE, &mut v);
            match broken {
                None => assert!(v.is_empty(), "{value}: {}", v.message()),
                Some(rule) => assert_eq!(
                    v.message(),
                    format!(
                        "1 validation error detected: Value '{value}' at 'name' failed to \
                         satisfy constraint: Member must have length {rule}"
                    )
                ),
            }
        }
        // Bounds below zero or beyond any length.
        let loose = Constraint {
            min: Some(-1),
            max: Some(i64::MAX),
            ..Constraint::NONE
        };
        let mut v = Violations::default();
        String::new().check(&path, &loose, &mut v);
        assert!(v.is_empty());
        let negative = Constraint {
            max: Some(-1),
            ..Constraint::NONE
        };
        String::new().check(&path, &negative, &mut v);
        assert_eq!(
            v.message(),
            "1 validation error detected: Value '' at 'name' failed to satisfy constraint: \
             Member must have length less than or equal to -1"
        );
    }
}
