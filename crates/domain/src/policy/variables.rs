//! Policy variables: the `${...}` placeholders of `Resource` and of string and
//! ARN condition values.
//!
//! Variables exist only under `"Version": "2012-10-17"`; under `2008-10-17` or
//! without a `Version` the text `${aws:username}` is literal, which is why the
//! parser takes the version as an argument rather than always expanding.
//!
//! A template is split into parts once, at compile time, so that the evaluator
//! only substitutes values and never re-parses text on the hot path.

/// One piece of a policy string that may contain variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Raw policy text; in pattern contexts its `*` and `?` are wildcards.
    Text(String),
    /// `${*}`, `${?}` or `${$}`: one literal character that is never a wildcard.
    Literal(char),
    /// `${key}` or `${key, 'default'}`: the single value of a context key.
    /// `key` keeps the policy author's case; keys compare case-insensitively.
    Variable {
        /// The condition key named, e.g. `aws:PrincipalTag/team`.
        key: String,
        /// The value used when the key is absent from the request.
        default: Option<String>,
    },
}

/// Split `text` into parts. With `variables == false` (policy version
/// `2008-10-17` or none) the whole text is one [`TemplatePart::Text`].
///
/// An unterminated `${` or an empty `${}` is kept as literal text: AWS does not
/// document either, and treating them as text is the reading that never
/// silently widens what a statement matches (see docs/policy-semantics.md).
pub fn parse_template(text: &str, variables: bool) -> Vec<TemplatePart> {
    if !variables || !text.contains("${") {
        return vec![TemplatePart::Text(text.to_owned())];
    }
    let mut parts = Vec::new();
    let mut buf = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            break;
        };
        let inner = &after[..end];
        let part = match inner {
            "*" => Some(TemplatePart::Literal('*')),
            "?" => Some(TemplatePart::Literal('?')),
            "$" => Some(TemplatePart::Literal('$')),
            _ => parse_variable(inner),
        };
        match part {
            Some(part) => {
                buf.push_str(&rest[..start]);
                if !buf.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut buf)));
                }
                parts.push(part);
            }
            None => buf.push_str(&rest[..start + 2 + end + 1]),
        }
        rest = &after[end + 1..];
    }
    buf.push_str(rest);
    if !buf.is_empty() || parts.is_empty() {
        parts.push(TemplatePart::Text(buf));
    }
    parts
}

/// Parse the inside of `${...}`: `key` or `key, 'default'`.
fn parse_variable(inner: &str) -> Option<TemplatePart> {
    let (key, default) = match inner.find(',') {
        Some(comma) => {
            let key = &inner[..comma];
            let def = inner[comma + 1..].trim();
            let def = def.strip_prefix('\'')?.strip_suffix('\'')?;
            (key, Some(def.to_owned()))
        }
        None => (inner, None),
    };
    let key = key.trim();
    if key.is_empty() || key.contains(char::is_whitespace) {
        return None;
    }
    Some(TemplatePart::Variable {
        key: key.to_owned(),
        default,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_variables_under_old_version() {
        assert_eq!(
            parse_template("a${aws:username}", false),
            vec![TemplatePart::Text("a${aws:username}".into())]
        );
    }

    #[test]
    fn splits_variables_and_specials() {
        assert_eq!(
            parse_template("x/${aws:username}/${*}${aws:PrincipalTag/t, 'd v'}", true),
            vec![
                TemplatePart::Text("x/".into()),
                TemplatePart::Variable {
                    key: "aws:username".into(),
                    default: None
                },
                TemplatePart::Text("/".into()),
                TemplatePart::Literal('*'),
                TemplatePart::Variable {
                    key: "aws:PrincipalTag/t".into(),
                    default: Some("d v".into())
                },
            ]
        );
    }

    #[test]
    fn unterminated_is_text() {
        assert_eq!(
            parse_template("a${b", true),
            vec![TemplatePart::Text("a${b".into())]
        );
        assert_eq!(
            parse_template("a${}b", true),
            vec![TemplatePart::Text("a${}b".into())]
        );
    }
}
