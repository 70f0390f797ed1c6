//! Checks on policy documents (managed, inline and trust policies): length,
//! characters, grammar and size quota, in the order AWS applies them.

use super::errors::limit;
use crate::error::DomainError;
use crate::policy::{PolicyDocument, PolicyKind};
use crate::quotas::{policy_size, Quotas};

/// The longest policy document AWS's API accepts (`PolicyDocument` and
/// `AssumeRolePolicyDocument`: length 1–131,072 characters), whitespace
/// included, whatever the size quota (which leaves whitespace out).
pub const MAX_POLICY_DOCUMENT_LEN: usize = 131_072;

/// A document longer than [`MAX_POLICY_DOCUMENT_LEN`] characters is refused
/// with AWS's constraint message for parameter `field`, before anything
/// looks at its content.
fn check_document_length(doc: &str, field: &str) -> Result<(), DomainError> {
    // Bytes bound characters from above: count only when it might matter.
    if doc.len() > MAX_POLICY_DOCUMENT_LEN && doc.chars().count() > MAX_POLICY_DOCUMENT_LEN {
        return Err(DomainError::validation(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: \
             Member must have length less than or equal to {MAX_POLICY_DOCUMENT_LEN}"
        )));
    }
    Ok(())
}

/// Characters IAM accepts in a policy document: tab, LF, CR, U+0020–U+00FF.
/// The raw length is checked first (parameter `field`), then the characters,
/// and only then is the JSON parsed.
pub(super) fn check_document(doc: &str, kind: PolicyKind, field: &str) -> Result<(), DomainError> {
    check_document_length(doc, field)?;
    if let Some(c) = doc
        .chars()
        .find(|c| !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
    {
        return Err(DomainError::MalformedPolicyDocument {
            message: "Syntax errors in policy.".into(),
            detail: format!(
                "The policy document contains the character U+{:04X}, outside tab, LF, CR and U+0020-U+00FF.",
                c as u32
            ),
        });
    }
    PolicyDocument::parse_for(doc, kind)
        .map(|_| ())
        .map_err(|e| DomainError::MalformedPolicyDocument {
            message: e.aws_message().into(),
            detail: e.to_string(),
        })
}

/// A managed policy version's document: an identity policy within the
/// managed policy size quota.
pub(super) fn check_managed_document(doc: &str, quotas: &Quotas) -> Result<(), DomainError> {
    check_document(doc, PolicyKind::Identity, "policyDocument")?;
    if policy_size(doc) > quotas.managed_policy_size {
        return Err(limit("PolicySize", quotas.managed_policy_size));
    }
    Ok(())
}

/// `field` is the API parameter: `assumeRolePolicyDocument` (CreateRole) or
/// `policyDocument` (UpdateAssumeRolePolicy).
pub(super) fn check_trust_policy(
    doc: &str,
    quotas: &Quotas,
    field: &str,
) -> Result<(), DomainError> {
    check_document(doc, PolicyKind::Trust, field)?;
    if policy_size(doc) > quotas.role_trust_policy_size {
        return Err(limit("ACLSizePerRole", quotas.role_trust_policy_size));
    }
    Ok(())
}
