//! Bounded JSON parsing shared by tokens and provider documents.

use serde_json::{Map, Value};

use crate::MAX_JSON_DEPTH;

/// Why [`parse_object`] refused its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonError {
    /// Arrays and objects nest deeper than [`MAX_JSON_DEPTH`].
    TooDeep,
    /// Not JSON, or JSON whose top level is not an object.
    NotAnObject,
}

/// Parses `bytes` as a JSON object, refusing deep nesting first.
///
/// `serde_json` recurses once per level and stops itself at 128, but a token
/// or key set never needs more than a handful of levels, so a cheap scan
/// refuses anything deeper than [`MAX_JSON_DEPTH`] before any parsing.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    if !nesting_within(bytes, MAX_JSON_DEPTH) {
        return Err(JsonError::TooDeep);
    }
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JsonError::NotAnObject),
    }
}

/// Whether the brackets and braces outside string literals in `bytes` nest at
/// most `max` deep.
///
/// This does not validate the JSON (the parser does that); it only has to be
/// right for valid JSON and never underestimate the depth the parser would
/// reach, which holds because the parser opens a level exactly where this
/// counts one.
fn nesting_within(bytes: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_nesting_outside_strings_only() {
        assert!(nesting_within(br#"{"a":[{"b":"[[[[[[[[[["}]}"#, 3));
        assert!(!nesting_within(br#"{"a":[{"b":[]}]}"#, 3));
        assert!(nesting_within(br#"{"a":"\"[[[[","b":{}}"#, 2));
    }

    #[test]
    fn refuses_deep_and_non_object_json() {
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH + 1),
            "]".repeat(MAX_JSON_DEPTH + 1)
        );
        assert_eq!(parse_object(deep.as_bytes()), Err(JsonError::TooDeep));
        assert_eq!(parse_object(b"[1]"), Err(JsonError::NotAnObject));
        assert_eq!(parse_object(b"{"), Err(JsonError::NotAnObject));
        assert!(parse_object(br#"{"a":{"b":[1,2]}}"#).is_ok());
    }
}
