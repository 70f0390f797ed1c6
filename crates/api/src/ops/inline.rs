//! Inline policies look the same on users, groups and roles: these render
//! one (`Get*Policy`) and page their names (`List*Policies`).

use std::collections::BTreeMap;

use iam_domain::names::{InlinePolicyName, NameKey};
use iam_domain::state::InlinePolicy;

use super::{encode_document, page, paging_tail, OpContext, OpResult};
use crate::query::{ApiError, Xml};

/// `Get{User,Group,Role}Policy`'s result: the owner (`owner_element` is
/// `UserName`, `GroupName` or `RoleName`), the policy name and the
/// URL-encoded document; `kind` words the NoSuchEntity message.
pub(super) fn get(
    owner_element: &str,
    owner: &str,
    kind: &str,
    policies: &BTreeMap<NameKey, InlinePolicy>,
    name: &InlinePolicyName,
) -> OpResult {
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
    let mut x = Xml::new();
    x.elem(owner_element, owner)
        .elem("PolicyName", policy.name.as_str())
        .elem("PolicyDocument", &encode_document(&policy.document));
    Ok((x.finish(), None))
}

/// `List{User,Group,Role}Policies`' result: a page of policy names.
pub(super) fn list(ctx: &OpContext<'_>, policies: &BTreeMap<NameKey, InlinePolicy>) -> OpResult {
    let (names, next) = page(
        policies.iter().map(|(k, p)| (k.as_str(), p.name.as_str())),
        ctx.params,
    )?;
    let mut x = Xml::new();
    x.open("PolicyNames");
    for n in names {
        x.elem("member", n);
    }
    x.close("PolicyNames");
    paging_tail(&mut x, next);
    Ok((x.finish(), None))
}
