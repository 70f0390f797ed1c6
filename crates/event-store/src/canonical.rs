//! RFC 8785 (JSON Canonicalization Scheme) encoding.
//!
//! The hash chain must give the same bytes for an event before and after a
//! round trip through the database. PostgreSQL's `jsonb` reorders object keys
//! and normalises number spelling, so the hash is taken over the canonical
//! form: keys sorted by UTF-16 code units, no insignificant white space,
//! strings with the minimal escapes, numbers in ECMAScript's shortest form.

use serde_json::Value;

/// The canonical bytes of a JSON value.
pub fn to_canonical_bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out);
    out
}

/// The canonical form as a string.
pub fn to_canonical_string(value: &Value) -> String {
    // The encoder only ever writes valid UTF-8.
    String::from_utf8(to_canonical_bytes(value)).unwrap_or_default()
}

pub(crate) fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_value(v, out);
            }
            out.push(b'}');
        }
    }
}

fn write_number(n: &serde_json::Number, out: &mut Vec<u8>) {
    if let Some(i) = n.as_i64() {
        out.extend_from_slice(i.to_string().as_bytes());
    } else if let Some(u) = n.as_u64() {
        out.extend_from_slice(u.to_string().as_bytes());
    } else if let Some(f) = n.as_f64() {
        write_f64(f, out);
    }
}

/// ECMAScript `Number.prototype.toString` for finite doubles (RFC 8785 §3.2.2.3).
fn write_f64(f: f64, out: &mut Vec<u8>) {
    if f == 0.0 {
        out.push(b'0');
        return;
    }
    if !f.is_finite() {
        // JSON cannot carry these; serde_json never produces them.
        out.extend_from_slice(b"null");
        return;
    }
    if f.fract() == 0.0 && f.abs() < 1e21 {
        // Integral and below 1e21: plain digits, no exponent.
        out.extend_from_slice(format!("{f:.0}").as_bytes());
        return;
    }
    // Shortest round-trip digits and exponent, from Rust's `{:e}` formatting.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    let n = exp + 1; // decimal point position relative to digits
    if f < 0.0 {
        out.push(b'-');
    }
    let s = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let sign = if e < 0 { '-' } else { '+' };
        if k == 1 {
            format!("{digits}e{sign}{}", e.abs())
        } else {
            format!("{}.{}e{sign}{}", &digits[..1], &digits[1..], e.abs())
        }
    };
    out.extend_from_slice(s.as_bytes());
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            0x08 => Some(b"\\b"),
            0x09 => Some(b"\\t"),
            0x0a => Some(b"\\n"),
            0x0c => Some(b"\\f"),
            0x0d => Some(b"\\r"),
            0x00..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match escape {
            Some(e) => out.extend_from_slice(e),
            None => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_by_utf16_and_drops_whitespace() {
        let v: Value = serde_json::from_str(
            r#"{ "b": 1, "a": [true, null, "x"], "\u20ac": 1, "\ud83d\ude00": 2 }"#,
        )
        .unwrap();
        // U+1F600 is a surrogate pair (0xD83D...) and sorts before U+20AC? No:
        // 0x20AC < 0xD83D, so the euro sign comes first.
        assert_eq!(
            to_canonical_string(&v),
            "{\"a\":[true,null,\"x\"],\"b\":1,\"\u{20ac}\":1,\"\u{1f600}\":2}"
        );
    }

    /// U+FF61 and U+1F600 sort one way by UTF-16 code units (0xFF61 >
    /// 0xD83D, the high surrogate of U+1F600) and the other way by code
    /// point or UTF-8 bytes, so a regression to either of those fails here.
    #[test]
    fn sorts_keys_by_utf16_where_code_point_order_differs() {
        let v: Value = serde_json::from_str(r#"{"\uff61": 1, "\ud83d\ude00": 2, "a": 3}"#).unwrap();
        assert!(
            '\u{ff61}' < '\u{1f600}',
            "code point order is the other way"
        );
        assert_eq!(
            to_canonical_string(&v),
            "{\"a\":3,\"\u{1f600}\":2,\"\u{ff61}\":1}"
        );
    }

    #[test]
    fn escapes_minimally() {
        let v = json!("a\"b\\c\n\u{1}\u{7f}é");
        assert_eq!(to_canonical_string(&v), "\"a\\\"b\\\\c\\n\\u0001\u{7f}é\"");
    }

    #[test]
    fn numbers_follow_ecmascript() {
        let cases: &[(&str, &str)] = &[
            ("0", "0"),
            ("-0.0", "0"),
            ("1.0", "1"),
            ("1e2", "100"),
            ("123456789012", "123456789012"),
            ("0.5", "0.5"),
            ("1.5e-7", "1.5e-7"),
            ("0.000001", "0.000001"),
            ("1e21", "1e+21"),
            ("1.25e30", "1.25e+30"),
            ("-3.75", "-3.75"),
            ("9007199254740993", "9007199254740993"),
        ];
        for (input, expected) in cases {
            let v: Value = serde_json::from_str(input).unwrap();
            assert_eq!(to_canonical_string(&v), *expected, "input {input}");
        }
    }
}
