//! Groups: created, renamed or moved, deleted, and their members.

use std::collections::{BTreeMap, BTreeSet};

use super::entities::accepted_rename;
use crate::event::EventData;
use crate::names::{GroupName, IamPath};
use crate::state::{AccountState, Group, Shared};

pub(super) fn evolve(state: &mut AccountState, data: &EventData) {
    match data {
        EventData::GroupCreated {
            group_name,
            group_id,
            path,
            created_at,
        } => {
            state.issued_ids.insert(group_id.as_str().into());
            state.groups.entry(group_name.key()).or_insert_with(|| {
                Shared::new(Group {
                    name: group_name.clone(),
                    id: group_id.clone(),
                    path: path.clone(),
                    created_at: *created_at,
                    members: BTreeSet::new(),
                    inline_policies: BTreeMap::new(),
                    attached_policies: BTreeSet::new(),
                })
            });
        }
        EventData::GroupUpdated {
            group_name,
            new_group_name,
            new_path,
        } => update(
            state,
            group_name,
            new_group_name.as_ref(),
            new_path.as_ref(),
        ),
        EventData::GroupDeleted { group_name, .. } => {
            let key = group_name.key();
            if let Some(group) = state.groups.remove(&key) {
                for m in &group.members {
                    if let Some(user) = state.users.get_mut(m) {
                        user.groups.remove(&key);
                    }
                }
            }
        }
        EventData::UserAddedToGroup {
            group_name,
            user_name,
        } => {
            let (g, u) = (group_name.key(), user_name.key());
            if let (Some(group), Some(user)) = (state.groups.get_mut(&g), state.users.get_mut(&u)) {
                group.members.insert(u);
                user.groups.insert(g);
            }
        }
        EventData::UserRemovedFromGroup {
            group_name,
            user_name,
        } => {
            let (g, u) = (group_name.key(), user_name.key());
            if let Some(group) = state.groups.get_mut(&g) {
                group.members.remove(&u);
            }
            if let Some(user) = state.users.get_mut(&u) {
                user.groups.remove(&g);
            }
        }
        _ => {}
    }
}

/// Renames and/or moves a group; its members' group lists follow the new name.
fn update(
    state: &mut AccountState,
    group_name: &GroupName,
    new_group_name: Option<&GroupName>,
    new_path: Option<&IamPath>,
) {
    let old = group_name.key();
    let Some(mut group) = state.groups.remove(&old) else {
        return;
    };
    if let Some(p) = new_path {
        group.path = p.clone();
    }
    let new_key = match accepted_rename(&old, new_group_name, |k| state.groups.contains_key(k)) {
        Some(n) => {
            group.name = n.clone();
            n.key()
        }
        None => old.clone(),
    };
    if new_key != old {
        for m in &group.members {
            if let Some(user) = state.users.get_mut(m) {
                user.groups.remove(&old);
                user.groups.insert(new_key.clone());
            }
        }
    }
    state.groups.insert(new_key, group);
}
