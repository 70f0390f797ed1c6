//! AWS's patterns are Java regular expressions matched against a whole
//! value; this translates them into the `regex` crate's dialect.

/// The pattern for the `regex` crate, anchored; `None` when it uses what
/// the crate cannot express (lookaround), in which case it goes unchecked.
///
/// - `\w` and `\d` are ASCII in Java and Unicode in `regex`: they become
///   explicit ASCII classes.
/// - `\u10000-\u10FFFF` (STS) means the supplementary planes; Java would
///   read `\u1000` then `0`. It becomes `\x{10000}-\x{10FFFF}`, as meant.
pub fn translate(java: &str) -> Option<String> {
    if java.contains("(?!") || java.contains("(?=") || java.contains("(?<") {
        return None;
    }
    let java = java.replace(r"\u10000-\u10FFFF", r"\x{10000}-\x{10FFFF}");
    let mut out = String::with_capacity(java.len() + 16);
    let mut in_class = false;
    let mut chars = java.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                match (next, in_class) {
                    ('w', true) => out.push_str("0-9A-Za-z_"),
                    ('w', false) => out.push_str("[0-9A-Za-z_]"),
                    ('d', true) => out.push_str("0-9"),
                    ('d', false) => out.push_str("[0-9]"),
                    _ => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A `]` or `^]` right after `[` is a literal in Java.
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap_or('^'));
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            c => out.push(c),
        }
    }
    Some(format!("^(?:{out})$"))
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn java_classes_become_ascii_and_the_pattern_is_anchored() {
        assert_eq!(
            translate(r"[\w+=,.@-]+").as_deref(),
            Some(r"^(?:[0-9A-Za-z_+=,.@-]+)$")
        );
        assert_eq!(translate(r"\d{12}").as_deref(), Some(r"^(?:[0-9]{12})$"));
        assert_eq!(
            translate(r"^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$"),
            None
        );
        assert_eq!(
            translate(r"[\u0020-\u00FF\u10000-\u10FFFF]+").as_deref(),
            Some(r"^(?:[\u0020-\u00FF\x{10000}-\x{10FFFF}]+)$")
        );
    }
}
