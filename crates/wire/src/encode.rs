//! Writing shapes: one [`Encode`] per shape, two [`Writer`]s (Query XML and
//! JSON). A generated structure writes each member with [`field`] or
//! [`opt_field`]; the writer decides what that looks like on the wire.

use chrono::{DateTime, Utc};

use crate::{Map, Secret};

/// What a value is, as a writer needs to know it (JSON quotes text but not
/// numbers, and opens `{` or `[` for containers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Struct,
    List,
    Map,
    Text,
    Number,
    Bool,
    /// JSON text written as it is (a document): raw in JSON, text in XML.
    Json,
}

/// A wire format's way of writing a tree of members.
pub trait Writer {
    /// A structure's member starts.
    fn begin(&mut self, name: &str, kind: Kind);
    fn end(&mut self, name: &str, kind: Kind);
    /// A list's item starts.
    fn begin_item(&mut self, kind: Kind);
    fn end_item(&mut self, kind: Kind);
    /// A map's entry starts.
    fn begin_entry(&mut self, key: &str, kind: Kind);
    fn end_entry(&mut self, kind: Kind);
    /// A scalar's text.
    fn scalar(&mut self, text: &str, kind: Kind);
}

/// A shape that can be written.
pub trait Encode {
    const KIND: Kind;
    fn encode(&self, w: &mut dyn Writer);
}

/// Writes a member.
pub fn field<T: Encode + ?Sized>(w: &mut dyn Writer, name: &str, value: &T) {
    w.begin(name, T::KIND);
    value.encode(w);
    w.end(name, T::KIND);
}

/// Writes a member when it has a value.
pub fn opt_field<T: Encode>(w: &mut dyn Writer, name: &str, value: &Option<T>) {
    if let Some(v) = value {
        field(w, name, v);
    }
}

/// AWS's timestamp format (ISO 8601, UTC, seconds).
pub fn timestamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Encode for String {
    const KIND: Kind = Kind::Text;
    fn encode(&self, w: &mut dyn Writer) {
        w.scalar(self, Kind::Text);
    }
}

impl Encode for str {
    const KIND: Kind = Kind::Text;
    fn encode(&self, w: &mut dyn Writer) {
        w.scalar(self, Kind::Text);
    }
}

impl Encode for Secret {
    const KIND: Kind = Kind::Text;
    fn encode(&self, w: &mut dyn Writer) {
        w.scalar(&self.0, Kind::Text);
    }
}

impl Encode for i32 {
    const KIND: Kind = Kind::Number;
    fn encode(&self, w: &mut dyn Writer) {
        w.scalar(&self.to_string(), Kind::Number);
    }
}

impl Encode for i64 {
    const KIND: Kind = Kind::Number;
    fn encode(&self, w: &mut dyn Writer) {
        w.scalar(&self.to_string(), Kind::Number);
    }
}

impl Encode for crate::Document {
    const KIND: Kind = Kind::Json;
    fn encode(&self, w: &mut dyn Writer) {
        w.scalar(&self.0.to_string(), Kind::Json);
    }
}

impl Encode for bool {
    const KIND: Kind = Kind::Bool;
    fn encode(&self, w: &mut dyn Writer) {
        w.scalar(if *self { "true" } else { "false" }, Kind::Bool);
    }
}

impl Encode for DateTime<Utc> {
    const KIND: Kind = Kind::Text;
    fn encode(&self, w: &mut dyn Writer) {
        w.scalar(&timestamp(self), Kind::Text);
    }
}

impl Encode for Vec<u8> {
    const KIND: Kind = Kind::Text;
    fn encode(&self, w: &mut dyn Writer) {
        w.scalar(&base64_encode(self), Kind::Text);
    }
}

impl<T: Encode> Encode for Vec<T>
where
    T: ListItem,
{
    const KIND: Kind = Kind::List;
    fn encode(&self, w: &mut dyn Writer) {
        for item in self {
            w.begin_item(T::KIND);
            item.encode(w);
            w.end_item(T::KIND);
        }
    }
}

/// Shapes that may be a list's items: every shape but a byte (a `Vec<u8>`
/// is a blob, not a list).
pub trait ListItem {}
impl ListItem for String {}
impl ListItem for Secret {}
impl ListItem for i32 {}
impl ListItem for i64 {}
impl ListItem for crate::Document {}
impl ListItem for bool {}
impl ListItem for DateTime<Utc> {}
impl<T: ListItem> ListItem for Vec<T> {}

impl<K: AsRef<str>, V: Encode> Encode for Map<K, V> {
    const KIND: Kind = Kind::Map;
    fn encode(&self, w: &mut dyn Writer) {
        for (k, v) in &self.0 {
            w.begin_entry(k.as_ref(), V::KIND);
            v.encode(w);
            w.end_entry(V::KIND);
        }
    }
}

impl Encode for () {
    const KIND: Kind = Kind::Struct;
    fn encode(&self, _: &mut dyn Writer) {}
}

/// The Query protocol's XML. Text is escaped, and characters XML 1.0
/// cannot carry become U+FFFD, so every response is a well-formed document.
#[derive(Default)]
pub struct XmlWriter {
    out: String,
}

impl XmlWriter {
    pub fn new() -> XmlWriter {
        XmlWriter {
            out: String::with_capacity(512),
        }
    }

    pub fn open(&mut self, tag: &str) {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
    }

    pub fn open_ns(&mut self, tag: &str, namespace: &str) {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push_str(" xmlns=\"");
        escape_xml_into(namespace, &mut self.out);
        self.out.push_str("\">");
    }

    pub fn close(&mut self, tag: &str) {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
    }

    /// `<tag>text</tag>`.
    pub fn elem(&mut self, tag: &str, text: &str) {
        self.open(tag);
        escape_xml_into(text, &mut self.out);
        self.close(tag);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

impl Writer for XmlWriter {
    fn begin(&mut self, name: &str, _: Kind) {
        self.open(name);
    }
    fn end(&mut self, name: &str, _: Kind) {
        self.close(name);
    }
    fn begin_item(&mut self, _: Kind) {
        self.open("member");
    }
    fn end_item(&mut self, _: Kind) {
        self.close("member");
    }
    fn begin_entry(&mut self, key: &str, _: Kind) {
        self.open("entry");
        self.elem("key", key);
        self.open("value");
    }
    fn end_entry(&mut self, _: Kind) {
        self.close("value");
        self.close("entry");
    }
    fn scalar(&mut self, text: &str, _: Kind) {
        escape_xml_into(text, &mut self.out);
    }
}

/// Whether XML 1.0 allows `c` in a document (the `Char` production).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes `text` for XML content or attribute values.
pub fn escape_xml_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

/// The JSON encoding: a structure is an object keyed by the model's member
/// names, a list an array, a map an object, a timestamp an ISO 8601 string
/// and a blob a base64 string.
pub struct JsonWriter {
    out: String,
    /// Whether the container being written already has an element.
    started: Vec<bool>,
}

impl Default for JsonWriter {
    fn default() -> Self {
        JsonWriter::new()
    }
}

impl JsonWriter {
    /// A writer positioned inside the top-level object.
    pub fn new() -> JsonWriter {
        JsonWriter {
            out: String::from("{"),
            started: vec![false],
        }
    }

    fn separate(&mut self) {
        if let Some(started) = self.started.last_mut() {
            if *started {
                self.out.push(',');
            }
            *started = true;
        }
    }

    fn open(&mut self, kind: Kind) {
        match kind {
            Kind::Struct | Kind::Map => {
                self.out.push('{');
                self.started.push(false);
            }
            Kind::List => {
                self.out.push('[');
                self.started.push(false);
            }
            _ => {}
        }
    }

    fn close(&mut self, kind: Kind) {
        match kind {
            Kind::Struct | Kind::Map => {
                self.started.pop();
                self.out.push('}');
            }
            Kind::List => {
                self.started.pop();
                self.out.push(']');
            }
            _ => {}
        }
    }

    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

impl Writer for JsonWriter {
    fn begin(&mut self, name: &str, kind: Kind) {
        self.separate();
        escape_json_into(name, &mut self.out);
        self.out.push(':');
        self.open(kind);
    }
    fn end(&mut self, _: &str, kind: Kind) {
        self.close(kind);
    }
    fn begin_item(&mut self, kind: Kind) {
        self.separate();
        self.open(kind);
    }
    fn end_item(&mut self, kind: Kind) {
        self.close(kind);
    }
    fn begin_entry(&mut self, key: &str, kind: Kind) {
        self.begin(key, kind);
    }
    fn end_entry(&mut self, kind: Kind) {
        self.close(kind);
    }
    fn scalar(&mut self, text: &str, kind: Kind) {
        match kind {
            Kind::Number | Kind::Bool | Kind::Json => self.out.push_str(text),
            _ => escape_json_into(text, &mut self.out),
        }
    }
}

/// A JSON string literal.
pub fn escape_json_into(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, as AWS writes blobs.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64, padding optional; `None` for anything else.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = BASE64.iter().position(|&b| b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Tag {
        key: String,
        value: String,
    }
    impl ListItem for Tag {}
    impl Encode for Tag {
        const KIND: Kind = Kind::Struct;
        fn encode(&self, w: &mut dyn Writer) {
            field(w, "Key", &self.key);
            field(w, "Value", &self.value);
        }
    }

    fn write(w: &mut dyn Writer) {
        field(w, "UserName", &"a<b".to_owned());
        field(w, "MaxItems", &5);
        field(
            w,
            "Tags",
            &vec![Tag {
                key: "k".into(),
                value: "v\u{b}".into(),
            }],
        );
        opt_field::<String>(w, "Marker", &None);
    }

    #[test]
    fn xml_and_json_write_the_same_tree() {
        let mut x = XmlWriter::new();
        write(&mut x);
        assert_eq!(
            x.finish(),
            "<UserName>a&lt;b</UserName><MaxItems>5</MaxItems>\
             <Tags><member><Key>k</Key><Value>v\u{FFFD}</Value></member></Tags>"
        );
        let mut j = JsonWriter::new();
        write(&mut j);
        let json: serde_json::Value = serde_json::from_str(&j.finish()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"UserName": "a<b", "MaxItems": 5, "Tags": [{"Key": "k", "Value": "v\u{b}"}]})
        );
    }

    #[test]
    fn escapes_text_and_attributes() {
        let mut x = XmlWriter::new();
        x.open_ns("R", "urn:x\"y");
        x.elem("M", "a<b & 'c'>");
        x.close("R");
        assert_eq!(
            x.finish(),
            "<R xmlns=\"urn:x&quot;y\"><M>a&lt;b &amp; &apos;c&apos;&gt;</M></R>"
        );
    }

    /// A character XML 1.0 forbids (control characters, U+FFFE, U+FFFF)
    /// cannot be written at all, not even as a character reference, so it
    /// becomes U+FFFD: a response stays well-formed whatever text (an
    /// echoed input) it carries.
    #[test]
    fn characters_xml_forbids_become_the_replacement_character() {
        let mut x = XmlWriter::new();
        x.open_ns("R", "urn:\u{0}x\u{1b}");
        x.elem("M", "a\u{0}b\u{8}c\u{b}\u{c}d\u{1f}e\u{fffe}\u{ffff}f");
        x.close("R");
        assert_eq!(
            x.finish(),
            "<R xmlns=\"urn:\u{fffd}x\u{fffd}\"><M>a\u{fffd}b\u{fffd}c\u{fffd}\u{fffd}d\u{fffd}e\u{fffd}\u{fffd}f</M></R>"
        );
    }

    #[test]
    fn every_character_xml_allows_is_kept() {
        let allowed = "\t\n\r \u{7f}\u{85}\u{d7ff}\u{e000}\u{fffd}\u{10000}\u{10ffff}é漢😀";
        let mut x = XmlWriter::new();
        x.elem("M", allowed);
        assert_eq!(x.finish(), format!("<M>{allowed}</M>"));
    }

    #[test]
    fn the_char_production_boundaries() {
        for c in [
            '\u{0}', '\u{8}', '\u{b}', '\u{c}', '\u{e}', '\u{1f}', '\u{fffe}', '\u{ffff}',
        ] {
            assert!(!is_xml_char(c), "{:?}", c);
        }
        for c in [
            '\u{9}',
            '\u{a}',
            '\u{d}',
            '\u{20}',
            '\u{d7ff}',
            '\u{e000}',
            '\u{fffd}',
            '\u{10000}',
            '\u{10ffff}',
        ] {
            assert!(is_xml_char(c), "{:?}", c);
        }
    }

    #[test]
    fn base64_round_trips() {
        for bytes in [&b""[..], b"f", b"fo", b"foo", b"foob", &[0, 255, 128, 7]] {
            let text = base64_encode(bytes);
            assert_eq!(base64_decode(&text).as_deref(), Some(bytes), "{text}");
        }
        assert_eq!(base64_encode(b"foob"), "Zm9vYg==");
        assert_eq!(base64_decode("not base64!"), None);
    }
}
