//! Which condition keys each IAM action sets, and where each value comes
//! from.
//!
//! AWS sets an action-specific key only on the actions that define it (the
//! Service Authorization Reference for IAM), and for some of them it takes
//! the value from stored state rather than from the request: for
//! `PutUserPolicy`, `iam:PermissionsBoundary` is the target user's *current*
//! boundary, so a caller cannot satisfy "allow iam:PutUserPolicy when
//! iam:PermissionsBoundary is policy/Boundary" by adding a
//! `PermissionsBoundary` parameter to the request. This table is the one
//! place that decides it; nothing else copies request parameters into the
//! evaluation context.
//!
//! Keys that belong to the resource type rather than the action
//! (`aws:ResourceTag/*`, `iam:ResourceTag/*` on users, roles and policies)
//! come from the stored entity: see [`super::Target`].

/// Where one of an action's condition keys gets its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// `aws:RequestTag/<key>` and `aws:TagKeys` from the request's `Tags`
    /// (validated first).
    RequestTags,
    /// `aws:TagKeys` from the request's `TagKeys` (the tags being removed).
    RemovedTagKeys,
    /// `iam:PermissionsBoundary` from the request's `PermissionsBoundary`
    /// parameter: the boundary being set.
    RequestedBoundary,
    /// `iam:PermissionsBoundary`: the target user's or role's boundary as
    /// stored, whatever the request carries.
    StoredBoundary,
    /// `iam:PolicyARN` from the request's `PolicyArn`, spelled as the stored
    /// policy's ARN when it exists.
    RequestedPolicyArn,
}

impl KeySource {
    /// The request parameter naming the managed policy this key's value
    /// is read from, for the keys that name one.
    pub fn policy_param(self) -> Option<&'static str> {
        match self {
            KeySource::RequestedBoundary => Some("PermissionsBoundary"),
            KeySource::RequestedPolicyArn => Some("PolicyArn"),
            _ => None,
        }
    }
}

/// The sources of `action`'s own condition keys (`action` without the
/// service prefix); empty for actions that define none. The operation table
/// (`crate::edge::registry`) states them beside each operation.
pub fn sources(action: &str) -> &'static [KeySource] {
    iam_wire::Service::Iam
        .operation(action)
        .map(crate::edge::registry::condition_keys)
        .unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::KeySource::*;
    use super::*;

    fn with_keys() -> impl Iterator<Item = (&'static str, &'static [KeySource])> {
        crate::edge::registry::IMPLEMENTED
            .iter()
            .map(|s| (s.name, sources(s.name)))
            .filter(|(_, k)| !k.is_empty())
    }

    #[test]
    fn a_boundary_is_read_from_the_request_only_where_it_is_being_set() {
        assert_eq!(with_keys().count(), 38);
        for (action, keys) in with_keys() {
            if keys.contains(&RequestedBoundary) {
                assert!(
                    action.starts_with("Create") || action.ends_with("PermissionsBoundary"),
                    "{action}"
                );
                assert!(!action.starts_with("Delete"), "{action}");
            }
        }
        assert_eq!(sources("PutUserPolicy"), &[StoredBoundary]);
        assert_eq!(sources("DeleteUserPermissionsBoundary"), &[StoredBoundary]);
        assert!(sources("GetUser").is_empty());
        assert!(sources("NoSuchAction").is_empty());
    }
}
