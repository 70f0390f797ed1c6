//! A small XML writer for AWS's response shapes. Text is always escaped.

use chrono::{DateTime, Utc};

/// AWS's timestamp format in XML.
pub fn iso8601(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[derive(Default)]
pub struct Xml {
    out: String,
}

impl Xml {
    pub fn new() -> Xml {
        Xml {
            out: String::with_capacity(512),
        }
    }

    pub fn open(&mut self, tag: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    pub fn open_ns(&mut self, tag: &str, namespace: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push_str(" xmlns=\"");
        escape_into(namespace, &mut self.out);
        self.out.push_str("\">");
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    /// `<tag>text</tag>`.
    pub fn elem(&mut self, tag: &str, text: &str) -> &mut Self {
        self.open(tag);
        escape_into(text, &mut self.out);
        self.close(tag)
    }

    /// `<tag>text</tag>` when there is a value.
    pub fn opt(&mut self, tag: &str, text: Option<&str>) -> &mut Self {
        if let Some(t) = text {
            self.elem(tag, t);
        }
        self
    }

    /// Continues writing after `text` (already XML).
    pub fn from_string(text: String) -> Xml {
        Xml { out: text }
    }

    /// Appends already-written XML.
    pub fn raw(&mut self, xml: &str) -> &mut Self {
        self.out.push_str(xml);
        self
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Whether XML 1.0 allows `c` in a document (the `Char` production:
/// `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`).
/// Surrogates cannot occur in a Rust `char`.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes text for element content and attribute values. A character XML
/// 1.0 forbids (control characters, U+FFFE, U+FFFF) cannot be written at
/// all, not even as a character reference, so it becomes U+FFFD: the
/// response stays well-formed whatever text (an echoed input) it carries.
fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if !is_xml_char(c) => out.push(char::REPLACEMENT_CHARACTER),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        let mut x = Xml::new();
        x.open_ns("R", "urn:x\"y")
            .elem("M", "a<b & 'c'>")
            .close("R");
        assert_eq!(
            x.finish(),
            "<R xmlns=\"urn:x&quot;y\"><M>a&lt;b &amp; &apos;c&apos;&gt;</M></R>"
        );
    }

    #[test]
    fn characters_xml_forbids_become_the_replacement_character() {
        let mut x = Xml::new();
        x.open_ns("R", "urn:\u{0}x\u{1b}")
            .elem("M", "a\u{0}b\u{8}c\u{b}\u{c}d\u{1f}e\u{fffe}\u{ffff}f")
            .close("R");
        assert_eq!(
            x.finish(),
            "<R xmlns=\"urn:\u{fffd}x\u{fffd}\"><M>a\u{fffd}b\u{fffd}c\u{fffd}\u{fffd}d\u{fffd}e\u{fffd}\u{fffd}f</M></R>"
        );
    }

    #[test]
    fn every_character_xml_allows_is_kept() {
        let allowed = "\t\n\r \u{7f}\u{85}\u{d7ff}\u{e000}\u{fffd}\u{10000}\u{10ffff}é漢😀";
        let mut x = Xml::new();
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
}
