//! Inline policies look the same on users, groups and roles: these find
//! one (`Get*Policy`) and page their names (`List*Policies`).

use std::collections::BTreeMap;

use iam_domain::names::{InlinePolicyName, NameKey};
use iam_domain::state::InlinePolicy;

use super::encode_document;
use super::shapes::Page;
use crate::query::ApiError;

/// The inline policy `name` of an entity, and its URL-encoded document;
/// `kind` words the NoSuchEntity message.
pub(super) fn get<'p>(
    kind: &str,
    policies: &'p BTreeMap<NameKey, InlinePolicy>,
    name: &InlinePolicyName,
) -> Result<(&'p InlinePolicy, String), ApiError> {
    let policy = policies.get(&name.key()).ok_or_else(|| {
        ApiError::new(
            404,
            "NoSuchEntity",
            format!(
                "The {kind} policy with name {} cannot be found.",
                name.as_str()
            ),
        )
    })?;
    Ok((policy, encode_document(&policy.document)))
}

/// A page of an entity's inline policy names.
pub(super) fn list(
    policies: &BTreeMap<NameKey, InlinePolicy>,
    max_items: Option<i32>,
    marker: Option<&str>,
) -> Page<String> {
    Page::of(
        policies
            .iter()
            .map(|(k, p)| (k.as_str(), p.name.as_str().to_owned())),
        max_items,
        marker,
    )
}
