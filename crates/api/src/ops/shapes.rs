//! The domain's entities as AWS's wire shapes, written once for every
//! operation that returns them, and the pieces of input every family
//! shares: paths, path prefixes, tags, paging.

use std::collections::BTreeMap;

use iam_domain::names::{IamPath, NameKey, Tag};
use iam_domain::state::{Group, ManagedPolicy, Role, User};
use iam_domain::{AccountState, Arn};
use iam_wire::iam;

use crate::query::ApiError;

/// A stored entity's ARN as text (empty only for a state without an
/// account, which a served request never has).
fn text(arn: Option<Arn>) -> String {
    arn.map(|a| a.to_string()).unwrap_or_default()
}

/// An entity's tags; `None` when it has none, as AWS leaves the element out.
pub fn tags(tags: &BTreeMap<NameKey, Tag>) -> Option<Vec<iam::Tag>> {
    (!tags.is_empty()).then(|| tag_list(tags.values()))
}

pub fn tag_list<'a>(tags: impl Iterator<Item = &'a Tag>) -> Vec<iam::Tag> {
    tags.map(|t| iam::Tag {
        key: t.key.as_str().to_owned(),
        value: t.value.as_str().to_owned(),
    })
    .collect()
}

pub fn boundary(arn: Option<&Arn>) -> Option<iam::AttachedPermissionsBoundary> {
    arn.map(|b| iam::AttachedPermissionsBoundary {
        permissions_boundary_arn: Some(b.to_string()),
        permissions_boundary_type: Some(
            iam::PermissionsBoundaryAttachmentType::PermissionsBoundaryPolicy,
        ),
    })
}

/// A user as `GetUser` and `CreateUser` return it.
pub fn user(state: &AccountState, u: &User) -> iam::User {
    iam::User {
        arn: text(state.user_arn(u)),
        create_date: u.created_at,
        password_last_used: None,
        path: u.path.as_str().to_owned(),
        permissions_boundary: boundary(u.permissions_boundary.as_ref()),
        tags: tags(&u.tags),
        user_id: u.id.as_str().to_owned(),
        user_name: u.name.as_str().to_owned(),
    }
}

/// A user as `ListUsers` returns it: AWS documents that lists leave out
/// tags and the permissions boundary (`GetUser` has them).
pub fn listed_user(state: &AccountState, u: &User) -> iam::User {
    iam::User {
        permissions_boundary: None,
        tags: None,
        ..user(state, u)
    }
}

pub fn group(state: &AccountState, g: &Group) -> iam::Group {
    iam::Group {
        arn: text(state.group_arn(g)),
        create_date: g.created_at,
        group_id: g.id.as_str().to_owned(),
        group_name: g.name.as_str().to_owned(),
        path: g.path.as_str().to_owned(),
    }
}

pub fn role_arn(state: &AccountState, r: &Role) -> String {
    text(state.role_arn(r))
}

pub fn policy_arn(state: &AccountState, p: &ManagedPolicy) -> String {
    text(state.policy_arn(p))
}

/// An optional path (`Path`, `NewPath`), validated by the domain's rules.
pub fn path(value: Option<&str>) -> Result<Option<IamPath>, ApiError> {
    value
        .map(|p| IamPath::parse(p).map_err(ApiError::from))
        .transpose()
}

/// A list's `PathPrefix`, `/` when absent (the model's pattern has
/// already checked it).
pub fn path_prefix(value: Option<&str>) -> &str {
    value.unwrap_or("/")
}

/// One page of a list: the items, and the marker of the next page.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// `Marker`/`MaxItems` paging over items sorted by key.
    pub fn of<'a>(
        items: impl Iterator<Item = (&'a str, T)>,
        max_items: Option<i32>,
        marker: Option<&str>,
    ) -> Page<T> {
        let (items, next) = super::page(items, max_items, marker);
        Page { items, next }
    }

    /// `IsTruncated`, always written.
    pub fn is_truncated(&self) -> Option<bool> {
        Some(self.next.is_some())
    }
}

/// A managed policy as attachments name it: the account's own, or one of
/// the catalogue's (`iam_domain::aws_policies`).
#[derive(Clone, Copy)]
pub enum Managed<'a> {
    Local(&'a ManagedPolicy),
    Aws(&'static iam_domain::aws_policies::AwsManagedPolicy),
}

impl<'a> Managed<'a> {
    /// The policy attached under `key`, if it exists.
    pub fn by_key(state: &'a AccountState, key: &NameKey) -> Option<Managed<'a>> {
        iam_domain::aws_policies::by_attachment_key(key)
            .map(Managed::Aws)
            .or_else(|| state.policies.get(key).map(|p| Managed::Local(p)))
    }

    /// The policy `arn` names, if it exists.
    pub fn by_arn(state: &'a AccountState, arn: &Arn) -> Option<Managed<'a>> {
        match arn {
            Arn::AwsPolicy { path, name } => {
                iam_domain::aws_policies::find(path, name).map(Managed::Aws)
            }
            _ => state.policy_by_arn(arn).map(Managed::Local),
        }
    }

    /// The key attachments hold it under.
    pub fn key(&self) -> NameKey {
        match self {
            Managed::Local(p) => p.name.key(),
            Managed::Aws(p) => p.attachment_key(),
        }
    }

    pub fn name(&self) -> &'a str {
        match self {
            Managed::Local(p) => p.name.as_str(),
            Managed::Aws(p) => p.name.as_str(),
        }
    }

    pub fn path(&self) -> &'a IamPath {
        match self {
            Managed::Local(p) => &p.path,
            Managed::Aws(p) => &p.path,
        }
    }

    pub fn arn(&self, state: &AccountState) -> String {
        match self {
            Managed::Local(p) => policy_arn(state, p),
            Managed::Aws(p) => p.arn(),
        }
    }

    /// The default version's document.
    pub fn document(&self) -> Option<&'a str> {
        match self {
            Managed::Local(p) => p
                .versions
                .get(&p.default_version)
                .map(|v| v.document.as_str()),
            Managed::Aws(p) => Some(p.document.as_str()),
        }
    }

    pub fn attached(&self, state: &AccountState) -> iam::AttachedPolicy {
        iam::AttachedPolicy {
            policy_arn: Some(self.arn(state)),
            policy_name: Some(self.name().to_owned()),
        }
    }
}

/// A credential's status (access keys, SSH keys, certificates,
/// service-specific credentials) as AWS's shapes spell it.
pub fn status(s: iam_domain::state::AccessKeyStatus) -> iam::StatusType {
    match s {
        iam_domain::state::AccessKeyStatus::Active => iam::StatusType::Active,
        iam_domain::state::AccessKeyStatus::Inactive => iam::StatusType::Inactive,
    }
}

/// The status a request asks for. `Expired` is in the model's enumeration
/// (an API key that expired is reported so) but is not a state a request
/// can put a credential in.
pub fn requested_status(
    s: &iam::StatusType,
) -> Result<iam_domain::state::AccessKeyStatus, ApiError> {
    match s {
        iam::StatusType::Active => Ok(iam_domain::state::AccessKeyStatus::Active),
        iam::StatusType::Inactive => Ok(iam_domain::state::AccessKeyStatus::Inactive),
        iam::StatusType::Expired => Err(ApiError::validation(
            "1 validation error detected: Value 'Expired' at 'status' failed to satisfy \
             constraint: Member must satisfy enum value set: [Active, Inactive]",
        )),
    }
}
