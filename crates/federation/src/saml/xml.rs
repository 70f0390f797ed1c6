//! Hardened XML parsing and the few DOM helpers SAML reading needs.

use chrono::{DateTime, NaiveDateTime, Utc};
use uppsala::{Document, NodeId, NodeKind, Parser};

use super::SamlError;

/// SAML 2.0 assertions (`saml:`).
pub(crate) const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// SAML 2.0 protocol messages (`samlp:`).
pub(crate) const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// SAML 2.0 metadata (`md:`).
pub(crate) const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML-DSig (`ds:`).
pub(crate) const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// How deeply elements may nest. A SAML response nests about eight levels
/// and metadata about seven; the bound keeps hostile input from costing the
/// parser (or anything walking the tree) a deep recursion.
const MAX_DEPTH: u32 = 64;

/// How many attributes (namespace declarations included) one element may
/// have. SAML elements have a handful. The parser checks each attribute
/// against every earlier one of its element, so ten thousand attributes on
/// one element of a 75 KB response cost a quarter of a second of CPU, for
/// an unsigned caller; a megabyte of metadata, minutes.
const MAX_ATTRIBUTES: usize = 64;

/// Parses `text` as XML, refusing any DTD or entity declaration first.
///
/// The scan is deliberately blunt: `<!DOCTYPE` or `<!ENTITY` anywhere, even
/// inside a comment or CDATA section, refuses the document. Neither can occur
/// in a legitimate SAML message or metadata, and a blunt rule cannot be
/// argued with by clever input. The parser is told to refuse them as well.
pub(crate) fn parse(text: &str) -> Result<Document<'_>, SamlError> {
    if declares_dtd(text) {
        return Err(SamlError::DtdForbidden);
    }
    if too_many_attributes(text) {
        return Err(SamlError::NotXml);
    }
    Parser::new()
        .with_forbid_dtd(true)
        .with_forbid_entities(true)
        .with_max_depth(MAX_DEPTH)
        .parse(text)
        .map_err(|_| SamlError::NotXml)
}

fn declares_dtd(text: &str) -> bool {
    let bytes = text.as_bytes();
    (0..bytes.len()).any(|at| {
        let rest = &bytes[at..];
        starts_with_ignore_case(rest, b"<!DOCTYPE") || starts_with_ignore_case(rest, b"<!ENTITY")
    })
}

/// Whether a start tag of `text` has more than [`MAX_ATTRIBUTES`]
/// attributes, counted as the `=` outside quoted values. Comments, CDATA
/// sections and processing instructions are skipped as the parser skips
/// them, so that a quote in one cannot hide the attributes that follow.
fn too_many_attributes(text: &str) -> bool {
    let bytes = text.as_bytes();
    let skip_to = |from: usize, end: &str| {
        text.get(from..)
            .and_then(|rest| rest.find(end))
            .map_or(bytes.len(), |at| from + at + end.len())
    };
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.starts_with(b"<!--") {
            at = skip_to(at + 4, "-->");
        } else if rest.starts_with(b"<![CDATA[") {
            at = skip_to(at + 9, "]]>");
        } else if rest.starts_with(b"<?") {
            at = skip_to(at + 2, "?>");
        } else if rest.starts_with(b"<") && !matches!(rest.get(1), Some(b'/' | b'!')) {
            // A start tag: up to the first `>` outside a quoted value.
            let mut quote = None;
            let mut attributes = 0;
            at += 1;
            while let Some(&byte) = bytes.get(at) {
                at += 1;
                match (quote, byte) {
                    (Some(open), _) if byte == open => quote = None,
                    (Some(_), _) => {}
                    (None, b'"' | b'\'') => quote = Some(byte),
                    (None, b'>') => break,
                    (None, b'=') => {
                        attributes += 1;
                        if attributes > MAX_ATTRIBUTES {
                            return true;
                        }
                    }
                    (None, _) => {}
                }
            }
        } else {
            at += 1;
        }
    }
    false
}

fn starts_with_ignore_case(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Whether `node` is the element `{namespace}local`.
pub(crate) fn is(doc: &Document<'_>, node: NodeId, namespace: &str, local: &str) -> bool {
    doc.element(node)
        .is_some_and(|element| element.matches_name_ns(namespace, local))
}

/// The element children of `node` named `{namespace}local`, in order.
pub(crate) fn children<'d>(
    doc: &'d Document<'_>,
    node: NodeId,
    namespace: &'d str,
    local: &'d str,
) -> impl Iterator<Item = NodeId> + 'd {
    doc.children_iter(node)
        .filter(move |&child| is(doc, child, namespace, local))
}

/// The first element child of `node` named `{namespace}local`.
pub(crate) fn child(
    doc: &Document<'_>,
    node: NodeId,
    namespace: &str,
    local: &str,
) -> Option<NodeId> {
    children(doc, node, namespace, local).next()
}

/// Every element below `node` (not `node` itself) named `{namespace}local`,
/// in document order.
pub(crate) fn descendants(
    doc: &Document<'_>,
    node: NodeId,
    namespace: &str,
    local: &str,
) -> Vec<NodeId> {
    doc.descendants(node)
        .into_iter()
        .filter(|&descendant| descendant != node && is(doc, descendant, namespace, local))
        .collect()
}

/// An attribute of `node` without a namespace, by local name.
///
/// Only unqualified attributes count: SAML's own attributes (`ID`,
/// `NotOnOrAfter`, `Recipient`...) never have a namespace, and ignoring
/// qualified ones keeps `foo:ID` from standing in for `ID`.
pub(crate) fn attribute<'d>(doc: &'d Document<'_>, node: NodeId, name: &str) -> Option<&'d str> {
    doc.element(node)?
        .attributes
        .iter()
        .find(|attribute| {
            attribute.name.namespace_uri.is_none() && *attribute.name.local_name == *name
        })
        .map(|attribute| &*attribute.value)
}

/// The text of a simple-content element: all its text and CDATA children
/// joined, with leading and trailing XML whitespace removed.
///
/// Joining matters: a comment splits text into two nodes, and exclusive
/// canonicalisation drops comments, so `alice@example.com<!---->.evil.com`
/// carries the same signature as `alice@example.com.evil.com`. Reading only
/// the first text node (the 2018 "comment injection" bug in several SAML
/// libraries) would turn the second into the first. Returns `None` when the
/// element has element children: no value this module reads may have them.
pub(crate) fn text(doc: &Document<'_>, node: NodeId) -> Option<String> {
    let mut value = String::new();
    for child in doc.children_iter(node) {
        match doc.node_kind(child) {
            Some(NodeKind::Text(text) | NodeKind::CData(text)) => value.push_str(text),
            Some(NodeKind::Element(_)) => return None,
            _ => {}
        }
    }
    Some(trim(&value).to_owned())
}

/// `value` without leading and trailing XML whitespace.
pub(crate) fn trim(value: &str) -> &str {
    value.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

/// An `xs:dateTime` as SAML uses it: UTC, normally with a `Z`. An explicit
/// offset is honoured; no zone at all is read as UTC, which SAML requires
/// anyway.
pub(crate) fn instant(value: &str) -> Option<DateTime<Utc>> {
    let value = trim(value);
    if let Ok(instant) = DateTime::parse_from_rfc3339(value) {
        return Some(instant.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc())
}
