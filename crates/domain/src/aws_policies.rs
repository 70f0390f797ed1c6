//! Managed policies that belong to no account: AWS's own (under
//! `arn:aws:iam::aws:policy/…`) with their published documents, and iamd's
//! policies for its `/v1` API (under `arn:aws:iam::aws:policy/iamd/…`).
//!
//! They are part of the build, not of the log: every account sees the same
//! catalogue, they can be attached (and used as permissions boundaries) but
//! never changed, and attaching one records only its ARN. The documents
//! are embedded from `crates/domain/data/` (see `SOURCE.md` there), so this
//! module stays free of I/O.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::ids::{PolicyId, PolicyVersionId};
use crate::names::{Description, IamPath, NameKey, PolicyName};

/// One policy of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsManagedPolicy {
    pub name: PolicyName,
    pub id: PolicyId,
    pub path: IamPath,
    pub description: Description,
    /// The one version iamd carries: the default, as AWS publishes it.
    pub default_version: PolicyVersionId,
    /// The document as compact JSON.
    pub document: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AwsManagedPolicy {
    /// `arn:aws:iam::aws:policy{path}{name}`.
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::aws:policy{}{}", self.path, self.name)
    }

    /// The key attachments hold it under: distinct from every customer
    /// managed policy's (a policy name cannot contain `:`).
    pub fn attachment_key(&self) -> NameKey {
        aws_attachment_key(&self.name)
    }
}

/// The attachment key of the AWS managed policy named `name`.
pub fn aws_attachment_key(name: &PolicyName) -> NameKey {
    NameKey::of(&format!("{AWS_KEY_PREFIX}{}", name.as_str()))
}

/// What marks an attachment key as an AWS managed policy's.
pub const AWS_KEY_PREFIX: &str = "aws:";

const SOURCES: &[&str] = &[
    include_str!("../data/aws-managed-policies/AdministratorAccess.json"),
    include_str!("../data/aws-managed-policies/PowerUserAccess.json"),
    include_str!("../data/aws-managed-policies/ReadOnlyAccess.json"),
    include_str!("../data/aws-managed-policies/IAMFullAccess.json"),
    include_str!("../data/aws-managed-policies/IAMReadOnlyAccess.json"),
    include_str!("../data/aws-managed-policies/IAMUserChangePassword.json"),
    include_str!("../data/aws-managed-policies/SecurityAudit.json"),
    include_str!("../data/iamd-managed-policies/IamdAuditorAccess.json"),
    include_str!("../data/iamd-managed-policies/IamdDecisionPointAccess.json"),
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Source {
    policy_name: String,
    policy_id: String,
    arn: String,
    path: String,
    description: String,
    default_version_id: String,
    create_date: DateTime<Utc>,
    update_date: DateTime<Utc>,
    document: serde_json::Value,
}

/// Every policy of the catalogue, in name order.
pub fn catalogue() -> &'static [AwsManagedPolicy] {
    static CATALOGUE: OnceLock<Vec<AwsManagedPolicy>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let mut all: Vec<AwsManagedPolicy> = SOURCES.iter().map(|s| load(s)).collect();
        all.sort_by_key(|p| p.name.key());
        all
    })
}

/// The embedded files are part of the build and checked by this module's
/// tests: one that does not load is a build defect, so this panics.
fn load(text: &str) -> AwsManagedPolicy {
    let s: Source = serde_json::from_str(text).expect("an embedded managed policy parses");
    let p = AwsManagedPolicy {
        name: PolicyName::parse(&s.policy_name).expect("its name"),
        id: PolicyId::parse(&s.policy_id).expect("its id"),
        path: IamPath::parse(&s.path).expect("its path"),
        description: Description::parse(&s.description).expect("its description"),
        default_version: s.default_version_id.parse().expect("its version"),
        document: s.document.to_string(),
        created_at: s.create_date,
        updated_at: s.update_date,
    };
    assert_eq!(p.arn(), s.arn, "an embedded managed policy's ARN");
    p
}

/// The policy of the catalogue with this path and name (the name matched
/// case-insensitively, as IAM names are; the path exactly).
pub fn find(path: &IamPath, name: &PolicyName) -> Option<&'static AwsManagedPolicy> {
    catalogue()
        .iter()
        .find(|p| p.name.key() == name.key() && &p.path == path)
}

/// The policy an attachment key names, if it is one of the catalogue's.
pub fn by_attachment_key(key: &NameKey) -> Option<&'static AwsManagedPolicy> {
    if !key.as_str().starts_with(AWS_KEY_PREFIX) {
        return None;
    }
    catalogue().iter().find(|p| &p.attachment_key() == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_policy_loads_and_is_a_valid_document() {
        let all = catalogue();
        assert_eq!(all.len(), SOURCES.len());
        for p in all {
            crate::policy::PolicyDocument::parse(&p.document)
                .unwrap_or_else(|e| panic!("{}: {e}", p.name));
            assert!(by_attachment_key(&p.attachment_key()).is_some());
        }
        let admin = find(
            &IamPath::root(),
            &PolicyName::parse("administratoraccess").unwrap(),
        )
        .expect("AdministratorAccess");
        assert_eq!(admin.arn(), "arn:aws:iam::aws:policy/AdministratorAccess");
        assert!(
            by_attachment_key(&PolicyName::parse("AdministratorAccess").unwrap().key()).is_none()
        );
    }
}
