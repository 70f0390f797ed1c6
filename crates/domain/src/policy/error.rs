//! Errors of policy parsing and validation.
//!
//! A [`PolicyError`] always says *where* the document is wrong (a JSON-path-like
//! location such as `Statement[2].Condition`) and *what* is wrong, because that is
//! what a user fixing a policy needs, and what AWS's `MalformedPolicyDocument`
//! message carries.

use std::fmt;

use super::TextPosition;

/// A malformed policy document. Maps to AWS's `MalformedPolicyDocument` error.
///
/// Displays as `<path>: <message>`, e.g.
/// `Statement[2].Condition: unknown operator "StringEqual"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    path: String,
    message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl PolicyError {
    /// The AWS error code this error maps to.
    pub const CODE: &'static str = "MalformedPolicyDocument";

    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        PolicyError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Where in the document the error is (`""` for the document as a whole).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong, without the location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What AWS says for this error, in its own words: clients and scripts
    /// match on them, so the answer carries AWS's sentence and iamd's
    /// precise [`PolicyError`] text goes to the log.
    pub fn aws_message(&self) -> &'static str {
        let m = self.message.as_str();
        let last = self.path.rsplit(['.', '[']).next().unwrap_or_default();
        if self.path == "Version" {
            "Policy document must be version 2012-10-17 or greater."
        } else if m.starts_with("action \"") {
            if m.matches(':').count() > 1 {
                "Actions/Condition can contain only one colon."
            } else {
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc"
            }
        } else if m.contains("is not allowed in")
            && (m.starts_with("Principal") || m.starts_with("NotPrincipal"))
        {
            "Policy document should not specify a principal."
        } else if m.starts_with("missing required element \"Principal\"") {
            "Missing required field Principal"
        } else if m.starts_with("missing required element \"Resource\"") {
            "Policy statement must contain resources."
        } else if m.starts_with("missing required element \"Action\"") {
            "Policy statement must contain actions."
        } else if m.starts_with("duplicate Sid") {
            "Statement IDs (SID) in a single policy must be unique."
        } else if last.starts_with("Principal")
            || last.starts_with("NotPrincipal")
            || m.contains("principal")
        {
            "Invalid principal in policy"
        } else {
            "Syntax errors in policy."
        }
    }

    /// The AWS error code: always `MalformedPolicyDocument`.
    pub fn code(&self) -> &'static str {
        Self::CODE
    }

    /// Where in `text` (the document this error came from) an editor should
    /// put the cursor: for a JSON syntax error, where the JSON parser
    /// stopped; for an error inside a statement, that statement's opening
    /// `{`; otherwise (a document-level error) nothing.
    pub fn locate(&self, text: &str) -> Option<TextPosition> {
        if self.path.is_empty() {
            return self.json_position(text);
        }
        let spans = super::statement_spans(text)?;
        let index = match self.path.strip_prefix("Statement") {
            Some(rest) if rest.starts_with('[') => rest[1..].split(']').next()?.parse().ok()?,
            Some(rest) if rest.is_empty() || rest.starts_with('.') => 0,
            _ => return None,
        };
        spans.get(index).map(|s| s.start)
    }

    /// serde_json's "at line L column C" (lines end at `\n` only, C counts
    /// bytes), as a position of the text's own convention (`spans`: a line
    /// also ends at a lone `\r`, and columns count characters).
    fn json_position(&self, text: &str) -> Option<TextPosition> {
        let at = self
            .message
            .strip_prefix("invalid JSON: ")?
            .rsplit(" at line ")
            .next()?;
        let (line, column) = at.split_once(" column ")?;
        let (line, column): (usize, usize) = (line.parse().ok()?, column.parse().ok()?);
        if line == 0 {
            return None;
        }
        let mut start = 0;
        for _ in 1..line {
            start += text.get(start..)?.find('\n')? + 1;
        }
        let text_line = text[start..].split('\n').next().unwrap_or_default();
        // A column past the line's end (an unexpected end of input) or
        // inside a character stays on the line: the character there, or
        // the line's last.
        let within = column
            .saturating_sub(1)
            .min(text_line.len().saturating_sub(1));
        let mut offset = start + within;
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        super::spans::positions(text, &[offset])?.pop()
    }
}
