//! The JSON shape of an account view, as `iamd replay` prints it: users
//! (with groups, attached and inline policy names, boundary, tags), groups,
//! roles, and managed policies with their versions and default version.
//! Names are shown as the user wrote them; lists are sorted by name.

use std::collections::BTreeMap;

use iam_domain::names::{NameKey, Tag};
use iam_domain::AccountState;
use serde_json::{json, Value};

use crate::view::AccountView;

fn tags(tags: &BTreeMap<NameKey, Tag>) -> Value {
    let map: serde_json::Map<String, Value> = tags
        .values()
        .map(|t| {
            (
                t.key.as_str().to_owned(),
                Value::String(t.value.as_str().to_owned()),
            )
        })
        .collect();
    Value::Object(map)
}

fn policy_arns<'a>(
    state: &AccountState,
    keys: impl IntoIterator<Item = &'a NameKey>,
) -> Vec<String> {
    keys.into_iter()
        .filter_map(|k| state.policies.get(k))
        .filter_map(|p| state.policy_arn(p))
        .map(|a| a.to_string())
        .collect()
}

pub fn account_report(view: &AccountView) -> Value {
    let s = &view.state;
    let users: Vec<Value> = s
        .users
        .values()
        .map(|u| {
            json!({
                "user_name": u.name.as_str(),
                "user_id": u.id.as_str(),
                "path": u.path.as_str(),
                "arn": s.user_arn(u).map(|a| a.to_string()),
                "created_at": u.created_at,
                "groups": u.groups.iter().filter_map(|g| s.groups.get(g)).map(|g| g.name.as_str()).collect::<Vec<_>>(),
                "attached_policies": policy_arns(s, &u.attached_policies),
                "inline_policies": u.inline_policies.values().map(|p| p.name.as_str()).collect::<Vec<_>>(),
                "permissions_boundary": u.permissions_boundary.as_ref().map(|a| a.to_string()),
                "tags": tags(&u.tags),
                "access_keys": s.access_keys.values()
                    .filter(|k| matches!(&k.owner, iam_domain::state::CredentialOwner::User { user_name } if user_name.key() == u.name.key()))
                    .map(|k| json!({"access_key_id": k.id.as_str(), "status": format!("{:?}", k.status)}))
                    .collect::<Vec<_>>(),
                "login_profile": u.login_profile.is_some(),
            })
        })
        .collect();
    let groups: Vec<Value> = s
        .groups
        .values()
        .map(|g| {
            json!({
                "group_name": g.name.as_str(),
                "group_id": g.id.as_str(),
                "path": g.path.as_str(),
                "arn": s.group_arn(g).map(|a| a.to_string()),
                "created_at": g.created_at,
                "members": g.members.iter().filter_map(|m| s.users.get(m)).map(|u| u.name.as_str()).collect::<Vec<_>>(),
                "attached_policies": policy_arns(s, &g.attached_policies),
                "inline_policies": g.inline_policies.values().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let roles: Vec<Value> = s
        .roles
        .values()
        .map(|r| {
            json!({
                "role_name": r.name.as_str(),
                "role_id": r.id.as_str(),
                "path": r.path.as_str(),
                "arn": s.role_arn(r).map(|a| a.to_string()),
                "created_at": r.created_at,
                "description": r.description.as_ref().map(|d| d.as_str()),
                "max_session_duration": r.max_session_duration,
                "assume_role_policy_document": serde_json::from_str::<Value>(&r.assume_role_policy_document)
                    .unwrap_or_else(|_| Value::String(r.assume_role_policy_document.clone())),
                "attached_policies": policy_arns(s, &r.attached_policies),
                "inline_policies": r.inline_policies.values().map(|p| p.name.as_str()).collect::<Vec<_>>(),
                "permissions_boundary": r.permissions_boundary.as_ref().map(|a| a.to_string()),
                "tags": tags(&r.tags),
            })
        })
        .collect();
    let policies: Vec<Value> = s
        .policies
        .values()
        .map(|p| {
            json!({
                "policy_name": p.name.as_str(),
                "policy_id": p.id.as_str(),
                "path": p.path.as_str(),
                "arn": s.policy_arn(p).map(|a| a.to_string()),
                "default_version": p.default_version.to_string(),
                "attachment_count": s.policy_attachment_count(&p.name.key()),
                "versions": p.versions.values().map(|v| json!({
                    "version_id": v.id.to_string(),
                    "is_default": v.id == p.default_version,
                    "created_at": v.created_at,
                    "document": serde_json::from_str::<Value>(&v.document).unwrap_or_else(|_| Value::String(v.document.clone())),
                })).collect::<Vec<_>>(),
                "tags": tags(&p.tags),
            })
        })
        .collect();
    json!({
        "account_id": view.account_id.as_ref().map(|a| a.as_str()),
        "position": view.position.0,
        "stream_version": view.stream_version,
        "users": users,
        "groups": groups,
        "roles": roles,
        "policies": policies,
    })
}
