//! `POST /v1/policies/validate`: a policy document checked as IAM checks it
//! when it is stored, without storing anything — what the console's policy
//! editor asks as you type.
//!
//! The answer carries AWS's `MalformedPolicyDocument` message (what
//! `CreatePolicy` would say), iamd's precise reason and path
//! (`Statement[1].Action`), and where in the text to look: the JSON
//! parser's stop for a syntax error, the statement's opening `{` for an
//! error inside a statement (`PolicyError::locate`).

use iam_domain::policy::{PolicyDocument, PolicyError, PolicyKind};
use iam_wire::iamd;

use super::{OpContext, OpResult};

pub async fn validate_policy(
    ctx: &OpContext<'_>,
    input: iamd::ValidatePolicyRequest,
) -> OpResult<iamd::ValidatePolicyResponse> {
    ctx.authorize_arn("*".into())?;
    let kind = match input.policy_type.unwrap_or_default() {
        iamd::PolicyType::Identity => PolicyKind::Identity,
        iamd::PolicyType::Resource => PolicyKind::Resource,
        iamd::PolicyType::Trust => PolicyKind::Trust,
        iamd::PolicyType::PermissionsBoundary => PolicyKind::PermissionsBoundary,
        iamd::PolicyType::Session => PolicyKind::Session,
    };
    Ok(answer(&input.document, kind))
}

fn answer(text: &str, kind: PolicyKind) -> iamd::ValidatePolicyResponse {
    match PolicyDocument::parse_for(text, kind) {
        Ok(_) => iamd::ValidatePolicyResponse {
            valid: true,
            findings: Vec::new(),
        },
        Err(error) => iamd::ValidatePolicyResponse {
            valid: false,
            findings: vec![finding(&error, text)],
        },
    }
}

fn finding(error: &PolicyError, text: &str) -> iamd::PolicyFinding {
    let at = error.locate(text);
    iamd::PolicyFinding {
        code: PolicyError::CODE.to_owned(),
        message: error.aws_message().to_owned(),
        detail: error.to_string(),
        path: Some(error.path().to_owned()).filter(|p| !p.is_empty()),
        line: at.and_then(|p| i64::try_from(p.line).ok()),
        column: at.and_then(|p| i64::try_from(p.column).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_error_names_aws_message_the_reason_and_the_place() {
        let text = "{\"Version\":\"2012-10-17\",\"Statement\":[\n {\"Effect\":\"Allow\",\"Action\":\"s3\",\"Resource\":\"*\"}]}";
        let got = answer(text, PolicyKind::Identity);
        assert!(!got.valid);
        let f = &got.findings[0];
        assert_eq!(f.code, "MalformedPolicyDocument");
        assert_eq!(
            f.message,
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc"
        );
        assert!(f.detail.starts_with("Statement[0].Action"), "{}", f.detail);
        assert_eq!((f.line, f.column), (Some(2), Some(2)));
    }

    #[test]
    fn the_use_decides_which_elements_are_allowed() {
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert!(answer(trust, PolicyKind::Trust).valid);
        let identity = answer(trust, PolicyKind::Identity);
        assert!(!identity.valid);
        assert_eq!(
            identity.findings[0].message,
            "Policy document should not specify a principal."
        );
    }
}
