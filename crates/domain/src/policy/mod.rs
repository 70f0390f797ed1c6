//! Policy documents: parsing and validation of AWS's IAM policy grammar.
//!
//! [`PolicyDocument::parse`] turns JSON into a typed document and rejects what
//! AWS rejects: unknown elements, unknown condition operators, duplicate `Sid`s,
//! both (or neither) of `Action`/`NotAction`, duplicate JSON keys, and so on.
//! Every error names its location (`Statement[2].Condition: unknown operator
//! "StringEqual"`).
//!
//! Which elements a document may carry depends on where it is attached (an
//! identity policy must not name a `Principal`, a trust policy must), so that
//! check is separate: [`PolicyDocument::validate_for`] with a [`PolicyKind`], or
//! both at once with [`PolicyDocument::parse_for`].
//!
//! The semantics (what a statement matches, what a set of policies decides) live
//! in the `iam-evaluator` crate; this module only knows the shape.
//!
//! ```
//! use iam_domain::policy::{PolicyDocument, PolicyKind};
//! let doc = PolicyDocument::parse_for(
//!     r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
//!     PolicyKind::Identity,
//! ).unwrap();
//! assert_eq!(doc.statements().len(), 1);
//! let err = PolicyDocument::parse(
//!     r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqual":{"a":"b"}}}]}"#,
//! ).unwrap_err();
//! assert_eq!(err.to_string(), r#"Statement[0].Condition: unknown operator "StringEqual""#);
//! ```

pub mod condition;
mod error;
mod json;
mod parse;
mod serialize;
pub mod spans;
pub mod variables;

pub use condition::{BaseOperator, ConditionOperator, IpRange, SetQualifier, ValueType};
pub use error::PolicyError;
pub use spans::{statement_spans, StatementSpan, TextPosition};

/// Where a policy is attached; decides which elements it may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Attached to a user, group or role (managed or inline): no `Principal`.
    Identity,
    /// Attached to a resource (bucket, queue, key...): `Principal` required.
    Resource,
    /// A role's trust policy (a resource policy on the role for `sts:` actions):
    /// `Principal` required, `Resource` forbidden.
    Trust,
    /// A permissions boundary: no `Principal`.
    PermissionsBoundary,
    /// A session policy passed to `AssumeRole*`/`GetFederationToken`: no `Principal`.
    Session,
    /// A service or resource control policy of AWS Organizations: `Principal`,
    /// if present, may only be `"*"` (resource control policies).
    ControlPolicy,
}

/// The policy language version. It changes one thing: whether `${...}` is a
/// variable (`2012-10-17`) or literal text (`2008-10-17` or no version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    V2012_10_17,
    V2008_10_17,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2012_10_17 => "2012-10-17",
            Version::V2008_10_17 => "2008-10-17",
        }
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// A JSON string or array of strings; remembers which, to serialize back as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringList {
    pub values: Vec<String>,
    pub is_array: bool,
}

/// The principal types of the `Principal` element map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalType {
    Aws,
    Service,
    Federated,
    CanonicalUser,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Aws => "AWS",
            PrincipalType::Service => "Service",
            PrincipalType::Federated => "Federated",
            PrincipalType::CanonicalUser => "CanonicalUser",
        }
    }
}

/// The value of `Principal` / `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `"*"`: everyone, including anonymous callers.
    Any,
    /// `{"AWS": ..., "Service": ...}`, entries in document order.
    Map(Vec<(PrincipalType, StringList)>),
}

/// A `Principal`/`NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalElement {
    /// `true` for `NotPrincipal`.
    pub negated: bool,
    pub principals: Principals,
}

/// An `Action`/`NotAction` or `Resource`/`NotResource` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternElement {
    /// `true` for `NotAction`/`NotResource`.
    pub negated: bool,
    pub patterns: StringList,
}

/// A scalar condition value. Numbers and booleans are kept as written so the
/// document serializes back unchanged; operators compare their text.
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionValue {
    String(String),
    Number(serde_json::Number),
    Bool(bool),
}

impl ConditionValue {
    /// The value as the text operators compare.
    pub fn as_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            ConditionValue::String(s) => std::borrow::Cow::Borrowed(s),
            ConditionValue::Number(n) => std::borrow::Cow::Owned(n.to_string()),
            ConditionValue::Bool(b) => {
                std::borrow::Cow::Borrowed(if *b { "true" } else { "false" })
            }
        }
    }
}

/// One `"key": value-or-values` entry under an operator.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionEntry {
    /// The condition key as written (compared case-insensitively).
    pub key: String,
    pub values: Vec<ConditionValue>,
    /// Whether the values were written as a JSON array.
    pub is_array: bool,
}

/// One operator of a `Condition` element with its keys.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionBlock {
    pub operator: ConditionOperator,
    pub entries: Vec<ConditionEntry>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<PrincipalElement>,
    pub action: PatternElement,
    /// Absent only in trust policies.
    pub resource: Option<PatternElement>,
    /// Operators in document order; all must hold (AND).
    pub condition: Vec<ConditionBlock>,
}

/// A parsed, syntactically valid policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    version: Option<Version>,
    id: Option<String>,
    statements: Vec<Statement>,
    /// Whether `Statement` was written as an array (kept for serialization).
    statement_is_array: bool,
}

impl PolicyDocument {
    /// Parse and check the grammar. See [`PolicyDocument::validate_for`] for the
    /// checks that depend on where the policy is attached.
    pub fn parse(json: &str) -> Result<PolicyDocument, PolicyError> {
        parse::parse_document(json)
    }

    /// Check the elements allowed for `kind`: `Principal`/`NotPrincipal` is
    /// required in resource and trust policies and forbidden in identity
    /// policies, boundaries and session policies; `Resource` is forbidden in
    /// trust policies and required elsewhere.
    pub fn validate_for(&self, kind: PolicyKind) -> Result<(), PolicyError> {
        parse::validate_for(self, kind)
    }

    /// [`PolicyDocument::parse`] then [`PolicyDocument::validate_for`].
    pub fn parse_for(json: &str, kind: PolicyKind) -> Result<PolicyDocument, PolicyError> {
        let doc = Self::parse(json)?;
        doc.validate_for(kind)?;
        Ok(doc)
    }

    /// The `Version` element, if given.
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// Whether `${...}` policy variables are active (only under `2012-10-17`).
    pub fn variables_enabled(&self) -> bool {
        self.version == Some(Version::V2012_10_17)
    }

    /// The `Id` element, if given.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The statements in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// The document as AWS-style JSON (equivalent to the parsed input).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

impl serde::Serialize for PolicyDocument {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize::document_to_json(self).serialize(s)
    }
}

#[cfg(test)]
mod tests;
