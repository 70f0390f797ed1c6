//! Errors of policy parsing and validation.
//!
//! A [`PolicyError`] always says *where* the document is wrong (a JSON-path-like
//! location such as `Statement[2].Condition`) and *what* is wrong, because that is
//! what a user fixing a policy needs, and what AWS's `MalformedPolicyDocument`
//! message carries.

use std::fmt;

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

    /// The AWS error code: always `MalformedPolicyDocument`.
    pub fn code(&self) -> &'static str {
        Self::CODE
    }
}
