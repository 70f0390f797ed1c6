//! The pieces of the canonical request: URI encoding, path normalization,
//! canonical query string, canonical headers, and the key derivation and
//! HMAC that turn a string to sign into a signature.
//!
//! Everything works on bytes: paths, query strings and header values are
//! taken as they arrive, and nothing here can panic on malformed input.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name of Signature Version 4 with HMAC-SHA256.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The last part of every credential scope.
pub const TERMINATOR: &str = "aws4_request";

/// Hex SHA-256 of the empty string (the payload hash of a request without body).
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// AWS's `UriEncode`: every byte but the unreserved characters
/// `A-Z a-z 0-9 - . _ ~` becomes `%XX` (upper-case hex); `/` is kept
/// when `keep_slash`.
pub fn uri_encode(input: &[u8], keep_slash: bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in input {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        }
    }
}

/// Decodes `%XX` sequences; a `%` not followed by two hex digits is kept as
/// is. `+` is *not* turned into a space (SigV4 clients encode spaces as `%20`).
pub fn percent_decode(input: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(input).collect()
}

/// Removes `.` and `..` segments and empty segments (repeated slashes) from a
/// path, the way AWS SDKs normalize paths for every service but S3. The
/// result starts with `/`, and ends with `/` when the input did (and is not
/// just `/`).
pub fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    out.push_str(&segments.join("/"));
    if path.ends_with('/') && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// The canonical URI: the path as received (already percent-encoded on the
/// wire, or raw as in AWS's test suite), optionally normalized, then
/// URI-encoded (keeping `/`). For a wire path this is the "double encoding"
/// AWS SDKs apply for every service but S3: `%` becomes `%25`.
pub fn canonical_uri(path: &str, normalize: bool) -> String {
    let path = if path.is_empty() { "/" } else { path };
    let mut out = String::with_capacity(path.len() * 2);
    if normalize {
        uri_encode(normalize_path(path).as_bytes(), true, &mut out);
    } else {
        uri_encode(path.as_bytes(), true, &mut out);
    }
    out
}

/// One query parameter: its decoded name and value (raw bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParam {
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

/// Splits a raw query string (without `?`) into decoded parameters, in order.
/// Empty pieces (`a=1&&b=2`) are skipped; a piece without `=` has an empty value.
pub fn parse_query(query: &str) -> Vec<QueryParam> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            QueryParam {
                name: percent_decode(name),
                value: percent_decode(value),
            }
        })
        .collect()
}

/// The canonical query string of `params`, leaving out those for which
/// `skip` returns true: each name and value URI-encoded, sorted by encoded
/// name then encoded value, joined as `name=value&...`.
pub fn canonical_query<'a>(
    params: impl IntoIterator<Item = &'a QueryParam>,
    skip: impl Fn(&QueryParam) -> bool,
) -> String {
    let mut encoded: Vec<(String, String)> = params
        .into_iter()
        .filter(|p| !skip(p))
        .map(|p| {
            let mut name = String::new();
            uri_encode(&p.name, false, &mut name);
            let mut value = String::new();
            uri_encode(&p.value, false, &mut value);
            (name, value)
        })
        .collect();
    encoded.sort();
    let mut out = String::new();
    for (i, (name, value)) in encoded.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A header value as it goes in the canonical headers: leading and trailing
/// whitespace removed, every run of whitespace (spaces, tabs, and the line
/// breaks of obsolete folded headers) collapsed to one space.
pub fn canonical_header_value(value: &[u8], out: &mut Vec<u8>) {
    let mut pending_space = false;
    let mut started = false;
    for &b in value {
        if is_space(b) {
            pending_space = started;
        } else {
            if pending_space {
                out.push(b' ');
                pending_space = false;
            }
            out.push(b);
            started = true;
        }
    }
}

/// The canonical headers block (each `name:value\n`) for the given signed
/// header names (lower-case), taking every request header of that name
/// (compared case-insensitively) in order and joining their canonical values
/// with `,`. A signed header absent from the request gets an empty value
/// (the signature then cannot match unless the signer did the same).
pub fn canonical_headers(signed: &[String], headers: &[(&str, &[u8])], out: &mut Vec<u8>) {
    for name in signed {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        let mut first = true;
        for (n, v) in headers {
            if n.eq_ignore_ascii_case(name) {
                if !first {
                    out.push(b',');
                }
                canonical_header_value(v, out);
                first = false;
            }
        }
        out.push(b'\n');
    }
}

/// Assembles the canonical request.
pub fn canonical_request(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    signed_headers: &[String],
    headers: &[(&str, &[u8])],
    payload_hash: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query.as_bytes());
    out.push(b'\n');
    canonical_headers(signed_headers, headers, &mut out);
    out.push(b'\n');
    out.extend_from_slice(signed_headers.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

/// Hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The string to sign: algorithm, timestamp (`YYYYMMDDTHHMMSSZ`), scope and
/// the hex SHA-256 of the canonical request.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request)
    )
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The signing key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut k = Vec::with_capacity(4 + secret.len());
    k.extend_from_slice(b"AWS4");
    k.extend_from_slice(secret.as_bytes());
    let k_date = hmac(&k, date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, TERMINATOR.as_bytes())
}

/// The raw signature of a string to sign.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> [u8; 32] {
    hmac(signing_key, string_to_sign.as_bytes())
}
