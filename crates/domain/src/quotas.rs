//! IAM quotas, with AWS's defaults (reference_iam-quotas.md) and overridable
//! per deployment from configuration.
//!
//! The user guide's page elides the policy-size table ("See the AWS
//! documentation website"); the sizes below are the values AWS publishes
//! there (user inline 2,048, group inline 5,120, role inline 10,240, managed
//! 6,144 characters), recorded in docs/domain.md.

use serde::{Deserialize, Serialize};

/// The limits `decide` enforces. `Default` is AWS's defaults; deserialize a
/// partial table to override some (missing fields keep the default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quotas {
    /// IAM users in an account (5,000).
    pub users_per_account: usize,
    /// Groups in an account (300).
    pub groups_per_account: usize,
    /// Roles in an account (1,000).
    pub roles_per_account: usize,
    /// Customer managed policies in an account (1,500).
    pub customer_managed_policies_per_account: usize,
    /// Instance profiles in an account (1,000).
    pub instance_profiles_per_account: usize,
    /// Virtual MFA devices, assigned or not; `None` means "equal to the user
    /// quota", as AWS defines it.
    pub virtual_mfa_devices_per_account: Option<usize>,
    /// Groups a user can be a member of (10).
    pub groups_per_user: usize,
    /// Managed policies attached to a user (10).
    pub managed_policies_per_user: usize,
    /// Managed policies attached to a group (10).
    pub managed_policies_per_group: usize,
    /// Managed policies attached to a role (10).
    pub managed_policies_per_role: usize,
    /// Access keys of an IAM user, active or not (2).
    pub access_keys_per_user: usize,
    /// Access keys of the root user (2).
    pub access_keys_per_root: usize,
    /// MFA devices in use by a user or the root user (8).
    pub mfa_devices_per_user: usize,
    /// Stored versions of one managed policy (5).
    pub versions_per_managed_policy: usize,
    /// Tags on one user, role or managed policy (50).
    pub tags_per_entity: usize,
    /// Sum of a user's inline policy sizes, white space not counted (2,048).
    pub user_inline_policy_size: usize,
    /// Sum of a group's inline policy sizes (5,120).
    pub group_inline_policy_size: usize,
    /// Sum of a role's inline policy sizes (10,240).
    pub role_inline_policy_size: usize,
    /// One managed policy version's size (6,144).
    pub managed_policy_size: usize,
    /// A role trust policy's size (2,048).
    pub role_trust_policy_size: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            users_per_account: 5000,
            groups_per_account: 300,
            roles_per_account: 1000,
            instance_profiles_per_account: 1000,
            customer_managed_policies_per_account: 1500,
            virtual_mfa_devices_per_account: None,
            groups_per_user: 10,
            managed_policies_per_user: 10,
            managed_policies_per_group: 10,
            managed_policies_per_role: 10,
            access_keys_per_user: 2,
            access_keys_per_root: 2,
            mfa_devices_per_user: 8,
            versions_per_managed_policy: 5,
            tags_per_entity: 50,
            user_inline_policy_size: 2048,
            group_inline_policy_size: 5120,
            role_inline_policy_size: 10240,
            managed_policy_size: 6144,
            role_trust_policy_size: 2048,
        }
    }
}

impl Quotas {
    /// The virtual MFA device quota, resolving "equal to the user quota".
    pub fn virtual_mfa_devices(&self) -> usize {
        self.virtual_mfa_devices_per_account
            .unwrap_or(self.users_per_account)
    }
}

/// A policy document's size as IAM counts it against the quotas: characters,
/// not counting white space (we drop every space, tab, CR and LF, also inside
/// strings; docs/domain.md).
pub fn policy_size(document: &str) -> usize {
    document
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_aws() {
        let q = Quotas::default();
        assert_eq!(q.versions_per_managed_policy, 5);
        assert_eq!(q.tags_per_entity, 50);
        assert_eq!(q.virtual_mfa_devices(), 5000);
    }

    #[test]
    fn partial_override() {
        let q: Quotas = serde_json::from_str(r#"{"groups_per_user": 3}"#).unwrap();
        assert_eq!(q.groups_per_user, 3);
        assert_eq!(q.users_per_account, 5000);
        assert!(serde_json::from_str::<Quotas>(r#"{"nope": 1}"#).is_err());
    }

    #[test]
    fn size_ignores_white_space() {
        assert_eq!(policy_size("{ \"a\" :\n\t\"b c\" }"), 10);
    }
}
