//! The input tree both protocols decode into.
//!
//! The Query protocol flattens a request into names like
//! `Tags.member.2.Key` and `Attributes.entry.1.value`; JSON nests it. Both
//! become one [`Node`] tree, so the generated decoders are written once:
//! Query's `member.N` is a list item and `entry.N.key`/`entry.N.value` a map
//! entry; JSON's arrays and objects are the same.

use std::collections::BTreeMap;

use smol_str::SmolStr;

/// One value of a request, before it is read as a shape.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Node {
    /// A JSON `null`, or nothing.
    #[default]
    Null,
    /// A string (every Query value is one).
    Text(String),
    /// A JSON number or boolean, in its JSON spelling: read as an integer
    /// or boolean, never as a string (`{"UserName": 7}` is refused).
    Literal(String),
    /// A list, in order.
    List(Vec<Node>),
    /// A structure's members, or a JSON object read as a map. Member
    /// names are short: held inline, a member costs no allocation for its
    /// name (a batch of 10,000 questions has 40,000 of them).
    Struct(BTreeMap<SmolStr, Node>),
    /// A Query map's entries (`entry.N.key`, `entry.N.value`).
    Entries(Vec<(String, Node)>),
}

/// Query names nest no deeper than this many parts: IAM's deepest parameter,
/// `ContextEntries.member.1.ContextKeyValues.member.1`, has five. The bound
/// keeps a hostile name from building a deep tree; deeper names are ignored.
const MAX_DEPTH: usize = 8;

/// JSON values nest no deeper than this many levels: a batch of decisions
/// carries policy documents (`requests[i].resource_policy.Statement[j]
/// .Condition.op.key[k]` is nine levels) and context lists. Deeper values
/// are read as [`Node::Null`]; the number of values a body may hold is
/// bounded apart (`MAX_JSON_VALUES` at the edge), and serde_json refuses
/// nesting past 128 levels before any of this.
const MAX_JSON_DEPTH: usize = 32;

/// A list index above this is ignored: no IAM list is longer, and a sparse
/// index like `member.4000000000` must not cost anything.
const MAX_INDEX: u32 = 1_000;

impl Node {
    /// The tree of a Query request's parameters (`Action` and `Version`
    /// included; decoders ignore names they do not know).
    pub fn from_query<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> Node {
        let mut root = Builder::Struct(BTreeMap::new());
        for (name, value) in params {
            let segments: Vec<&str> = name.split('.').collect();
            if segments.len() > MAX_DEPTH {
                continue;
            }
            root.insert(&segments, value);
        }
        root.finish()
    }

    /// The tree of a JSON value, read as [`Node::from_json_slice`] reads
    /// text (the same visitor, so both readings agree).
    pub fn from_json(value: &serde_json::Value) -> Node {
        // A `serde_json::Value` always deserializes: the error is never met.
        serde::de::DeserializeSeed::deserialize(Depth(0), value).unwrap_or(Node::Null)
    }

    /// The tree of a JSON document, read straight from its text (no
    /// `serde_json::Value` in between: a batch of 10,000 questions is read
    /// once, not twice). Values nested deeper than `MAX_JSON_DEPTH` levels are
    /// skipped as [`Node::Null`].
    pub fn from_json_slice(bytes: &[u8]) -> Result<Node, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let node = serde::de::DeserializeSeed::deserialize(Depth(0), &mut de)?;
        de.end()?;
        Ok(node)
    }

    /// The node as JSON: text as strings, literals as the numbers and
    /// booleans they spell, lists as arrays, structures and entries as
    /// objects.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Null => Value::Null,
            Node::Text(t) => Value::String(t.clone()),
            Node::Literal(t) => {
                serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.clone()))
            }
            Node::List(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Node::Struct(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
            Node::Entries(e) => {
                Value::Object(e.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// A structure's member.
    pub fn member(&self, name: &str) -> Option<&Node> {
        match self {
            Node::Struct(members) => members.get(name).filter(|n| !matches!(n, Node::Null)),
            _ => None,
        }
    }
}

/// A tree under construction: list items and map entries are keyed by
/// their index until the end, so they come out in order whatever order the
/// parameters arrived in.
enum Builder {
    Text(String),
    Struct(BTreeMap<String, Builder>),
    List(BTreeMap<u32, Builder>),
    Entries(BTreeMap<u32, (Option<String>, Option<Box<Builder>>)>),
}

impl Builder {
    fn insert(&mut self, segments: &[&str], value: &str) {
        let Some((first, rest)) = segments.split_first() else {
            *self = Builder::Text(value.to_owned());
            return;
        };
        match (*first, rest) {
            ("member", [index, rest @ ..]) => {
                let Some(i) = list_index(index) else { return };
                if !matches!(self, Builder::List(_)) {
                    *self = Builder::List(BTreeMap::new());
                }
                if let Builder::List(items) = self {
                    items
                        .entry(i)
                        .or_insert_with(|| Builder::Text(String::new()))
                        .insert(rest, value);
                }
            }
            ("entry", [index, part, rest @ ..]) if *part == "key" || *part == "value" => {
                let Some(i) = list_index(index) else { return };
                if !matches!(self, Builder::Entries(_)) {
                    *self = Builder::Entries(BTreeMap::new());
                }
                if let Builder::Entries(entries) = self {
                    let entry = entries.entry(i).or_insert((None, None));
                    if *part == "key" {
                        if rest.is_empty() {
                            entry.0 = Some(value.to_owned());
                        }
                    } else {
                        entry
                            .1
                            .get_or_insert_with(|| Box::new(Builder::Text(String::new())))
                            .insert(rest, value);
                    }
                }
            }
            (name, rest) => {
                if !matches!(self, Builder::Struct(_)) {
                    *self = Builder::Struct(BTreeMap::new());
                }
                if let Builder::Struct(members) = self {
                    members
                        .entry(name.to_owned())
                        .or_insert_with(|| Builder::Text(String::new()))
                        .insert(rest, value);
                }
            }
        }
    }

    fn finish(self) -> Node {
        match self {
            Builder::Text(t) => Node::Text(t),
            Builder::Struct(m) => {
                Node::Struct(m.into_iter().map(|(k, v)| (k.into(), v.finish())).collect())
            }
            Builder::List(items) => Node::List(items.into_values().map(Builder::finish).collect()),
            Builder::Entries(entries) => Node::Entries(
                entries
                    .into_values()
                    .filter_map(|(k, v)| Some((k?, v.map(|b| b.finish()).unwrap_or_default())))
                    .collect(),
            ),
        }
    }
}

/// A list index: decimal digits without a leading zero, so that one item
/// has one name (`member.01` is not `member.1`: it is ignored).
fn list_index(text: &str) -> Option<u32> {
    if text.is_empty() || text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|i| (1..=MAX_INDEX).contains(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Node {
        Node::Text(s.to_owned())
    }

    #[test]
    fn query_lists_and_structures_nest_and_come_out_in_index_order() {
        let tree = Node::from_query([
            ("UserName", "alice"),
            ("Tags.member.2.Key", "b"),
            ("Tags.member.1.Key", "a"),
            ("Tags.member.1.Value", "1"),
        ]);
        let tags = tree.member("Tags").unwrap();
        let Node::List(items) = tags else {
            panic!("{tags:?}")
        };
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].member("Key"), Some(&text("a")));
        assert_eq!(items[0].member("Value"), Some(&text("1")));
        assert_eq!(items[1].member("Key"), Some(&text("b")));
        assert_eq!(tree.member("UserName"), Some(&text("alice")));
    }

    #[test]
    fn query_maps_are_entries_and_hostile_indexes_are_ignored() {
        let tree = Node::from_query([
            ("M.entry.1.key", "k"),
            ("M.entry.1.value", "v"),
            ("L.member.0", "zero"),
            ("L.member.01", "leading zero"),
            ("L.member.4000000000", "huge"),
            ("L.member.x", "nan"),
        ]);
        assert_eq!(
            tree.member("M"),
            Some(&Node::Entries(vec![("k".into(), text("v"))]))
        );
        assert_eq!(tree.member("L"), Some(&text("")));
    }

    #[test]
    fn json_becomes_the_same_tree() {
        let json = serde_json::json!({"UserName": "alice", "Tags": [{"Key": "a"}], "MaxItems": 5, "X": null});
        let tree = Node::from_json(&json);
        assert_eq!(tree.member("MaxItems"), Some(&Node::Literal("5".into())));
        assert_eq!(tree.member("X"), None);
        assert!(matches!(tree.member("Tags"), Some(Node::List(l)) if l.len() == 1));
    }
}

/// Reads one JSON value as a [`Node`] at a nesting depth.
#[derive(Clone, Copy)]
struct Depth(usize);

impl<'de> serde::de::DeserializeSeed<'de> for Depth {
    type Value = Node;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        if self.0 > MAX_JSON_DEPTH {
            serde::de::IgnoredAny::deserialize(d)?;
            return Ok(Node::Null);
        }
        d.deserialize_any(self)
    }
}

use serde::Deserialize as _;

impl<'de> serde::de::Visitor<'de> for Depth {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Node, E> {
        Ok(Node::Literal(b.to_string()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Node, E> {
        Ok(Node::Literal(n.to_string()))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Node, E> {
        Ok(Node::Literal(n.to_string()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Node, E> {
        // Spelled as `serde_json::Value` spells it, so both readings agree.
        Ok(Node::Literal(
            serde_json::Number::from_f64(n).map_or_else(|| n.to_string(), |n| n.to_string()),
        ))
    }

    fn visit_str<E>(self, s: &str) -> Result<Node, E> {
        Ok(Node::Text(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Node, E> {
        Ok(Node::Text(s))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(Depth(self.0 + 1))? {
            items.push(item);
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut members = BTreeMap::new();
        while let Some(key) = map.next_key::<SmolStr>()? {
            let value = map.next_value_seed(Depth(self.0 + 1))?;
            // The last of repeated keys wins, as in `serde_json::Value`.
            members.insert(key, value);
        }
        Ok(Node::Struct(members))
    }
}

#[cfg(test)]
mod from_json_slice {
    use super::*;

    /// Read from text, the tree is the one read through a
    /// `serde_json::Value`, for every kind of value, repeated keys and
    /// nesting beyond the depth bound included.
    #[test]
    fn agrees_with_reading_through_a_value() {
        let deep = (0..40).fold("\"bottom\"".to_owned(), |inner, _| format!("[{inner}]"));
        for text in [
            r#"{}"#,
            r#"{"a":"x","b":7,"c":-3,"d":1.5,"e":1e21,"f":true,"g":null,"h":[1,"two",{"k":"v"}]}"#,
            r#"{"a":"first","a":"last"}"#,
            r#"{"s":"\u00e9\n\"quoted\""}"#,
            &format!(r#"{{"deep":{deep}}}"#),
            r#"[{"x":{"y":{"z":[[[["deeper"]]]]}}}]"#,
        ] {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                Node::from_json_slice(text.as_bytes()).unwrap(),
                Node::from_json(&value),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_one_json_document() {
        for text in ["", "{", "{} {}", r#"{"a":}"#, "[1,]", "\u{feff}{}"] {
            assert!(Node::from_json_slice(text.as_bytes()).is_err(), "{text:?}");
        }
    }
}
