//! `decide`: check a command against an account's state and the quotas, and
//! return the events that record it, or the AWS error that rejects it.
//!
//! Pure: the same state, command and quotas always give the same answer.
//! Idempotent AWS operations that would change nothing (attaching an
//! already-attached policy, adding a member twice, setting the current default
//! version) succeed with **no** events, so the log holds only real changes.

use std::collections::BTreeSet;

use crate::arn::Arn;
use crate::command::Command;
use crate::error::DomainError;
use crate::event::{Event, EventData};
use crate::ids::{AccountId, PolicyVersionId};
use crate::names::{GroupName, IamPath, NameKey, PolicyName, RoleName, Tag, UserName};
use crate::policy::{PolicyDocument, PolicyKind};
use crate::quotas::{policy_size, Quotas};
use crate::state::*;

type Decision = Result<Vec<Event>, DomainError>;

/// Smallest and largest role maximum session duration, in seconds (1–12 h).
pub const MAX_SESSION_DURATION_RANGE: std::ops::RangeInclusive<u32> = 3600..=43200;
/// The maximum session duration a role gets when none is given.
pub const DEFAULT_MAX_SESSION_DURATION: u32 = 3600;

/// Decides whether `command` may be applied to `state` under `quotas`, and
/// returns the events recording it (possibly none, for a no-op).
pub fn decide(state: &AccountState, command: &Command, quotas: &Quotas) -> Decision {
    use Command::*;
    if let CreateAccount { account_id, now } = command {
        if let Some(a) = &state.account {
            return Err(DomainError::EntityAlreadyExists(format!(
                "Account {} already exists.",
                a.id
            )));
        }
        return Ok(vec![ev(
            account_id,
            EventData::AccountCreated { created_at: *now },
        )]);
    }
    let account = state
        .account_id()
        .ok_or_else(|| DomainError::NoSuchEntity("The account does not exist.".into()))?;
    let one = |data: EventData| Ok(vec![ev(account, data)]);

    match command {
        CreateAccount { .. } => unreachable!("handled above"),

        // ---- users ----
        CreateUser {
            user_name,
            path,
            user_id,
            permissions_boundary,
            tags,
            now,
        } => {
            if state.users.contains_key(&user_name.key()) {
                return Err(exists("User", user_name.as_str()));
            }
            if state.issued_ids.contains(user_id.as_str()) {
                return Err(id_taken(user_id.as_str()));
            }
            if state.users.len() >= quotas.users_per_account {
                return Err(limit("UsersPerAccount", quotas.users_per_account));
            }
            if let Some(b) = permissions_boundary {
                existing_policy(state, b)?;
            }
            check_new_tags(&Default::default(), tags, quotas)?;
            one(EventData::UserCreated {
                user_name: user_name.clone(),
                user_id: user_id.clone(),
                path: path.clone().unwrap_or_default(),
                permissions_boundary: permissions_boundary.clone(),
                tags: tags.clone(),
                created_at: *now,
            })
        }
        UpdateUser {
            user_name,
            new_user_name,
            new_path,
        } => {
            let user = user(state, user_name)?;
            let rename = new_user_name
                .as_ref()
                .filter(|n| n.as_str() != user.name.as_str());
            if let Some(n) = rename {
                if n.key() != user.name.key() && state.users.contains_key(&n.key()) {
                    return Err(exists("User", n.as_str()));
                }
            }
            let repath = new_path.as_ref().filter(|p| **p != user.path);
            if rename.is_none() && repath.is_none() {
                return Ok(vec![]);
            }
            one(EventData::UserUpdated {
                user_name: user.name.clone(),
                new_user_name: rename.cloned(),
                new_path: repath.cloned(),
            })
        }
        DeleteUser { user_name } => {
            let user = user(state, user_name)?;
            let owner = CredentialOwner::User {
                user_name: user.name.clone(),
            };
            let conflict = |what: &str| {
                Err(DomainError::DeleteConflict(format!(
                    "Cannot delete entity, must {what} first."
                )))
            };
            if user.login_profile.is_some() {
                return conflict("delete login profile");
            }
            if state.access_keys_of(&owner).next().is_some() {
                return conflict("delete access keys");
            }
            if !user.mfa_devices.is_empty() {
                return conflict("delete MFA device");
            }
            if !user.inline_policies.is_empty() {
                return conflict("delete policies");
            }
            if !user.attached_policies.is_empty() {
                return conflict("detach all policies");
            }
            if !user.groups.is_empty() {
                return conflict("remove user from all groups");
            }
            one(EventData::UserDeleted {
                user_name: user.name.clone(),
                user_id: user.id.clone(),
            })
        }

        // ---- groups ----
        CreateGroup {
            group_name,
            path,
            group_id,
            now,
        } => {
            if state.groups.contains_key(&group_name.key()) {
                return Err(exists("Group", group_name.as_str()));
            }
            if state.issued_ids.contains(group_id.as_str()) {
                return Err(id_taken(group_id.as_str()));
            }
            if state.groups.len() >= quotas.groups_per_account {
                return Err(limit("GroupsPerAccount", quotas.groups_per_account));
            }
            one(EventData::GroupCreated {
                group_name: group_name.clone(),
                group_id: group_id.clone(),
                path: path.clone().unwrap_or_default(),
                created_at: *now,
            })
        }
        UpdateGroup {
            group_name,
            new_group_name,
            new_path,
        } => {
            let group = group(state, group_name)?;
            let rename = new_group_name
                .as_ref()
                .filter(|n| n.as_str() != group.name.as_str());
            if let Some(n) = rename {
                if n.key() != group.name.key() && state.groups.contains_key(&n.key()) {
                    return Err(exists("Group", n.as_str()));
                }
            }
            let repath = new_path.as_ref().filter(|p| **p != group.path);
            if rename.is_none() && repath.is_none() {
                return Ok(vec![]);
            }
            one(EventData::GroupUpdated {
                group_name: group.name.clone(),
                new_group_name: rename.cloned(),
                new_path: repath.cloned(),
            })
        }
        DeleteGroup { group_name } => {
            let group = group(state, group_name)?;
            if !group.members.is_empty() {
                return Err(DomainError::DeleteConflict(
                    "Cannot delete entity, must remove users from group first.".into(),
                ));
            }
            if !group.inline_policies.is_empty() {
                return Err(DomainError::DeleteConflict(
                    "Cannot delete entity, must delete policies first.".into(),
                ));
            }
            if !group.attached_policies.is_empty() {
                return Err(DomainError::DeleteConflict(
                    "Cannot delete entity, must detach all policies first.".into(),
                ));
            }
            one(EventData::GroupDeleted {
                group_name: group.name.clone(),
                group_id: group.id.clone(),
            })
        }
        AddUserToGroup {
            group_name,
            user_name,
        } => {
            let group = group(state, group_name)?;
            let user = user(state, user_name)?;
            if user.groups.contains(&group.name.key()) {
                return Ok(vec![]);
            }
            if user.groups.len() >= quotas.groups_per_user {
                return Err(limit("GroupsPerUser", quotas.groups_per_user));
            }
            one(EventData::UserAddedToGroup {
                group_name: group.name.clone(),
                user_name: user.name.clone(),
            })
        }
        RemoveUserFromGroup {
            group_name,
            user_name,
        } => {
            let group = group(state, group_name)?;
            let user = user(state, user_name)?;
            if !user.groups.contains(&group.name.key()) {
                return Err(DomainError::NoSuchEntity(format!(
                    "The user with name {} is not a member of the group with name {}.",
                    user.name, group.name
                )));
            }
            one(EventData::UserRemovedFromGroup {
                group_name: group.name.clone(),
                user_name: user.name.clone(),
            })
        }

        // ---- roles ----
        CreateRole {
            role_name,
            path,
            role_id,
            assume_role_policy_document,
            description,
            max_session_duration,
            permissions_boundary,
            tags,
            now,
        } => {
            if state.roles.contains_key(&role_name.key()) {
                return Err(exists("Role", role_name.as_str()));
            }
            if state.issued_ids.contains(role_id.as_str()) {
                return Err(id_taken(role_id.as_str()));
            }
            if state.roles.len() >= quotas.roles_per_account {
                return Err(limit("RolesPerAccount", quotas.roles_per_account));
            }
            let max = max_session_duration.unwrap_or(DEFAULT_MAX_SESSION_DURATION);
            check_session_duration(max)?;
            check_trust_policy(
                assume_role_policy_document,
                quotas,
                "assumeRolePolicyDocument",
            )?;
            if let Some(b) = permissions_boundary {
                existing_policy(state, b)?;
            }
            check_new_tags(&Default::default(), tags, quotas)?;
            one(EventData::RoleCreated {
                role_name: role_name.clone(),
                role_id: role_id.clone(),
                path: path.clone().unwrap_or_default(),
                assume_role_policy_document: assume_role_policy_document.clone(),
                description: description.clone(),
                max_session_duration: max,
                permissions_boundary: permissions_boundary.clone(),
                tags: tags.clone(),
                created_at: *now,
            })
        }
        UpdateRole {
            role_name,
            description,
            max_session_duration,
        } => {
            let role = role(state, role_name)?;
            if let Some(m) = max_session_duration {
                check_session_duration(*m)?;
            }
            let description = description
                .as_ref()
                .filter(|d| role.description.as_ref() != Some(*d));
            let max = max_session_duration.filter(|m| *m != role.max_session_duration);
            if description.is_none() && max.is_none() {
                return Ok(vec![]);
            }
            one(EventData::RoleUpdated {
                role_name: role.name.clone(),
                description: description.cloned(),
                max_session_duration: max,
            })
        }
        UpdateAssumeRolePolicy {
            role_name,
            policy_document,
        } => {
            let role = role(state, role_name)?;
            check_trust_policy(policy_document, quotas, "policyDocument")?;
            one(EventData::RoleTrustPolicyUpdated {
                role_name: role.name.clone(),
                policy_document: policy_document.clone(),
            })
        }
        UpdateRoleDescription {
            role_name,
            description,
        } => {
            let role = role(state, role_name)?;
            one(EventData::RoleDescriptionUpdated {
                role_name: role.name.clone(),
                description: description.clone(),
            })
        }
        DeleteRole { role_name } => {
            let role = role(state, role_name)?;
            if !role.inline_policies.is_empty() {
                return Err(DomainError::DeleteConflict(
                    "Cannot delete entity, must delete policies first.".into(),
                ));
            }
            if !role.attached_policies.is_empty() {
                return Err(DomainError::DeleteConflict(
                    "Cannot delete entity, must detach all policies first.".into(),
                ));
            }
            one(EventData::RoleDeleted {
                role_name: role.name.clone(),
                role_id: role.id.clone(),
            })
        }

        // ---- managed policies ----
        CreatePolicy {
            policy_name,
            path,
            policy_id,
            policy_document,
            description,
            tags,
            now,
        } => {
            if state.policies.contains_key(&policy_name.key()) {
                return Err(DomainError::EntityAlreadyExists(format!(
                    "A policy called {policy_name} already exists. Duplicate names are not allowed."
                )));
            }
            if state.issued_ids.contains(policy_id.as_str()) {
                return Err(id_taken(policy_id.as_str()));
            }
            if state.policies.len() >= quotas.customer_managed_policies_per_account {
                return Err(limit(
                    "PoliciesPerAccount",
                    quotas.customer_managed_policies_per_account,
                ));
            }
            check_managed_document(policy_document, quotas)?;
            check_new_tags(&Default::default(), tags, quotas)?;
            one(EventData::PolicyCreated {
                policy_name: policy_name.clone(),
                policy_id: policy_id.clone(),
                path: path.clone().unwrap_or_default(),
                description: description.clone(),
                policy_document: policy_document.clone(),
                tags: tags.clone(),
                created_at: *now,
            })
        }
        DeletePolicy { policy_arn } => {
            let p = existing_policy(state, policy_arn)?;
            let key = p.name.key();
            if state.policy_attachment_count(&key) > 0 {
                return Err(DomainError::DeleteConflict(
                    "Cannot delete a policy attached to entities.".into(),
                ));
            }
            if state.policy_boundary_usage_count(&key) > 0 {
                return Err(DomainError::DeleteConflict(
                    "Cannot delete a policy used as a permissions boundary.".into(),
                ));
            }
            if p.versions.len() > 1 {
                return Err(DomainError::DeleteConflict(
                    "This policy has more than one version. Before you delete a policy, you must delete the policy's non-default versions.".into(),
                ));
            }
            one(EventData::PolicyDeleted {
                policy_name: p.name.clone(),
                policy_id: p.id.clone(),
            })
        }
        CreatePolicyVersion {
            policy_arn,
            policy_document,
            set_as_default,
            now,
        } => {
            let p = existing_policy(state, policy_arn)?;
            if p.versions.len() >= quotas.versions_per_managed_policy {
                return Err(DomainError::LimitExceeded(format!(
                    "A managed policy can have up to {} versions. Before you create a new version, you must delete an existing version.",
                    quotas.versions_per_managed_policy
                )));
            }
            check_managed_document(policy_document, quotas)?;
            let version_id = PolicyVersionId::new(p.next_version.max(1))?;
            one(EventData::PolicyVersionCreated {
                policy_name: p.name.clone(),
                version_id,
                policy_document: policy_document.clone(),
                set_as_default: *set_as_default,
                created_at: *now,
            })
        }
        DeletePolicyVersion {
            policy_arn,
            version_id,
        } => {
            let p = existing_policy(state, policy_arn)?;
            if !p.versions.contains_key(version_id) {
                return Err(no_version(policy_arn, *version_id));
            }
            if p.default_version == *version_id {
                return Err(DomainError::DeleteConflict(
                    "Cannot delete the default version of a policy.".into(),
                ));
            }
            one(EventData::PolicyVersionDeleted {
                policy_name: p.name.clone(),
                version_id: *version_id,
            })
        }
        SetDefaultPolicyVersion {
            policy_arn,
            version_id,
            now,
        } => {
            let p = existing_policy(state, policy_arn)?;
            if !p.versions.contains_key(version_id) {
                return Err(no_version(policy_arn, *version_id));
            }
            if p.default_version == *version_id {
                return Ok(vec![]);
            }
            one(EventData::PolicyDefaultVersionSet {
                policy_name: p.name.clone(),
                version_id: *version_id,
                updated_at: *now,
            })
        }

        // ---- attachments ----
        AttachUserPolicy {
            user_name,
            policy_arn,
        } => {
            let u = user(state, user_name)?;
            attach(
                state,
                account,
                user_ref(u),
                &u.attached_policies,
                policy_arn,
                quotas.managed_policies_per_user,
                "PolicyAttachmentsPerUser",
            )
        }
        AttachGroupPolicy {
            group_name,
            policy_arn,
        } => {
            let g = group(state, group_name)?;
            attach(
                state,
                account,
                group_ref(g),
                &g.attached_policies,
                policy_arn,
                quotas.managed_policies_per_group,
                "PolicyAttachmentsPerGroup",
            )
        }
        AttachRolePolicy {
            role_name,
            policy_arn,
        } => {
            let r = role(state, role_name)?;
            attach(
                state,
                account,
                role_ref(r),
                &r.attached_policies,
                policy_arn,
                quotas.managed_policies_per_role,
                "PolicyAttachmentsPerRole",
            )
        }
        DetachUserPolicy {
            user_name,
            policy_arn,
        } => {
            let u = user(state, user_name)?;
            detach(
                state,
                account,
                user_ref(u),
                &u.attached_policies,
                policy_arn,
            )
        }
        DetachGroupPolicy {
            group_name,
            policy_arn,
        } => {
            let g = group(state, group_name)?;
            detach(
                state,
                account,
                group_ref(g),
                &g.attached_policies,
                policy_arn,
            )
        }
        DetachRolePolicy {
            role_name,
            policy_arn,
        } => {
            let r = role(state, role_name)?;
            detach(
                state,
                account,
                role_ref(r),
                &r.attached_policies,
                policy_arn,
            )
        }

        // ---- inline policies ----
        PutUserPolicy {
            user_name,
            policy_name,
            policy_document,
        } => {
            let u = user(state, user_name)?;
            put_inline(
                account,
                user_ref(u),
                &u.inline_policies,
                policy_name,
                policy_document,
                quotas.user_inline_policy_size,
                "UserPolicySize",
            )
        }
        PutGroupPolicy {
            group_name,
            policy_name,
            policy_document,
        } => {
            let g = group(state, group_name)?;
            put_inline(
                account,
                group_ref(g),
                &g.inline_policies,
                policy_name,
                policy_document,
                quotas.group_inline_policy_size,
                "GroupPolicySize",
            )
        }
        PutRolePolicy {
            role_name,
            policy_name,
            policy_document,
        } => {
            let r = role(state, role_name)?;
            put_inline(
                account,
                role_ref(r),
                &r.inline_policies,
                policy_name,
                policy_document,
                quotas.role_inline_policy_size,
                "RolePolicySize",
            )
        }
        DeleteUserPolicy {
            user_name,
            policy_name,
        } => {
            let u = user(state, user_name)?;
            delete_inline(account, user_ref(u), &u.inline_policies, policy_name)
        }
        DeleteGroupPolicy {
            group_name,
            policy_name,
        } => {
            let g = group(state, group_name)?;
            delete_inline(account, group_ref(g), &g.inline_policies, policy_name)
        }
        DeleteRolePolicy {
            role_name,
            policy_name,
        } => {
            let r = role(state, role_name)?;
            delete_inline(account, role_ref(r), &r.inline_policies, policy_name)
        }

        // ---- permissions boundaries ----
        PutUserPermissionsBoundary {
            user_name,
            permissions_boundary,
        } => {
            let u = user(state, user_name)?;
            put_boundary(
                state,
                account,
                user_ref(u),
                &u.permissions_boundary,
                permissions_boundary,
            )
        }
        PutRolePermissionsBoundary {
            role_name,
            permissions_boundary,
        } => {
            let r = role(state, role_name)?;
            put_boundary(
                state,
                account,
                role_ref(r),
                &r.permissions_boundary,
                permissions_boundary,
            )
        }
        DeleteUserPermissionsBoundary { user_name } => {
            let u = user(state, user_name)?;
            delete_boundary(account, user_ref(u), &u.permissions_boundary)
        }
        DeleteRolePermissionsBoundary { role_name } => {
            let r = role(state, role_name)?;
            delete_boundary(account, role_ref(r), &r.permissions_boundary)
        }

        // ---- tags ----
        TagUser { user_name, tags } => {
            let u = user(state, user_name)?;
            tag(account, user_ref(u), &u.tags, tags, quotas)
        }
        TagRole { role_name, tags } => {
            let r = role(state, role_name)?;
            tag(account, role_ref(r), &r.tags, tags, quotas)
        }
        TagPolicy { policy_arn, tags } => {
            let p = existing_policy(state, policy_arn)?;
            tag(
                account,
                EntityRef::Policy {
                    policy_name: p.name.clone(),
                },
                &p.tags,
                tags,
                quotas,
            )
        }
        UntagUser {
            user_name,
            tag_keys,
        } => {
            let u = user(state, user_name)?;
            untag(account, user_ref(u), &u.tags, tag_keys)
        }
        UntagRole {
            role_name,
            tag_keys,
        } => {
            let r = role(state, role_name)?;
            untag(account, role_ref(r), &r.tags, tag_keys)
        }
        UntagPolicy {
            policy_arn,
            tag_keys,
        } => {
            let p = existing_policy(state, policy_arn)?;
            untag(
                account,
                EntityRef::Policy {
                    policy_name: p.name.clone(),
                },
                &p.tags,
                tag_keys,
            )
        }

        // ---- access keys ----
        CreateAccessKey {
            owner,
            access_key_id,
            secret,
            now,
        } => {
            let owner = resolve_owner(state, owner)?;
            if access_key_id.is_temporary() {
                return Err(DomainError::InvalidInput(format!(
                    "Access key id {access_key_id} is a temporary (ASIA) key id; long-term keys use AKIA."
                )));
            }
            if state.access_keys.contains_key(access_key_id) {
                return Err(DomainError::EntityAlreadyExists(format!(
                    "Access key {access_key_id} already exists."
                )));
            }
            let (max, quota) = match owner {
                CredentialOwner::Root => (quotas.access_keys_per_root, "AccessKeysPerRoot"),
                CredentialOwner::User { .. } => (quotas.access_keys_per_user, "AccessKeysPerUser"),
            };
            if state.access_keys_of(&owner).count() >= max {
                return Err(limit(quota, max));
            }
            one(EventData::AccessKeyCreated {
                owner,
                access_key_id: access_key_id.clone(),
                secret: secret.clone(),
                created_at: *now,
            })
        }
        UpdateAccessKey {
            owner,
            access_key_id,
            status,
        } => {
            let owner = resolve_owner(state, owner)?;
            let key = owned_key(state, &owner, access_key_id)?;
            if key.status == *status {
                return Ok(vec![]);
            }
            one(EventData::AccessKeyStatusUpdated {
                owner,
                access_key_id: access_key_id.clone(),
                status: *status,
            })
        }
        DeleteAccessKey {
            owner,
            access_key_id,
        } => {
            let owner = resolve_owner(state, owner)?;
            owned_key(state, &owner, access_key_id)?;
            one(EventData::AccessKeyDeleted {
                owner,
                access_key_id: access_key_id.clone(),
            })
        }
        RecordAccessKeyUse {
            access_key_id,
            used_at,
            service_name,
            region,
        } => {
            // From the request's signing scope: stored and returned by
            // GetAccessKeyLastUsed, so no control characters.
            crate::names::check_plain_text(service_name, 128, "serviceName")?;
            crate::names::check_plain_text(region, 128, "region")?;
            let key = state
                .access_keys
                .get(access_key_id)
                .ok_or_else(|| no_key(access_key_id))?;
            if key
                .last_used
                .as_ref()
                .is_some_and(|l| l.used_at >= *used_at)
            {
                // Uses recorded out of order (racing nodes) never move "last used" back.
                return Ok(vec![]);
            }
            one(EventData::AccessKeyUsed {
                access_key_id: access_key_id.clone(),
                used_at: *used_at,
                service_name: service_name.clone(),
                region: region.clone(),
            })
        }

        // ---- login profiles ----
        CreateLoginProfile {
            user_name,
            password_hash,
            password_reset_required,
            now,
        } => {
            let u = user(state, user_name)?;
            if u.login_profile.is_some() {
                return Err(DomainError::EntityAlreadyExists(format!(
                    "Login Profile for user {} already exists.",
                    u.name
                )));
            }
            one(EventData::LoginProfileCreated {
                user_name: u.name.clone(),
                password_hash: password_hash.clone(),
                password_reset_required: *password_reset_required,
                created_at: *now,
            })
        }
        UpdateLoginProfile {
            user_name,
            password_hash,
            password_reset_required,
        } => {
            let u = user(state, user_name)?;
            let lp = u
                .login_profile
                .as_ref()
                .ok_or_else(|| no_login_profile(&u.name))?;
            let reset = password_reset_required.filter(|r| *r != lp.password_reset_required);
            if password_hash.is_none() && reset.is_none() {
                return Ok(vec![]);
            }
            one(EventData::LoginProfileUpdated {
                user_name: u.name.clone(),
                password_hash: password_hash.clone(),
                password_reset_required: reset,
            })
        }
        DeleteLoginProfile { user_name } => {
            let u = user(state, user_name)?;
            if u.login_profile.is_none() {
                return Err(no_login_profile(&u.name));
            }
            one(EventData::LoginProfileDeleted {
                user_name: u.name.clone(),
            })
        }

        // ---- MFA ----
        CreateVirtualMfaDevice {
            device_name,
            path,
            seed,
            now,
        } => {
            if state.mfa_devices.contains_key(&device_name.key()) {
                return Err(DomainError::EntityAlreadyExists(format!(
                    "MFADevice entity at the same path and name already exists: {device_name}."
                )));
            }
            if state.mfa_devices.len() >= quotas.virtual_mfa_devices() {
                return Err(limit(
                    "VirtualMFADevicesPerAccount",
                    quotas.virtual_mfa_devices(),
                ));
            }
            let path = path.clone().unwrap_or_else(IamPath::root);
            one(EventData::VirtualMfaDeviceCreated {
                serial_number: Arn::mfa(account, &path, device_name),
                seed: seed.clone(),
                created_at: *now,
            })
        }
        EnableMfaDevice {
            owner,
            serial_number,
            now,
        } => {
            let owner = resolve_owner(state, owner)?;
            let dev = state
                .mfa_by_arn(serial_number)
                .ok_or_else(|| no_mfa(serial_number))?;
            if dev.assignment.is_some() {
                return Err(DomainError::EntityAlreadyExists(
                    "MFA device is already in use.".into(),
                ));
            }
            let in_use = match &owner {
                CredentialOwner::Root => state
                    .account
                    .as_ref()
                    .map_or(0, |a| a.root_mfa_devices.len()),
                CredentialOwner::User { user_name } => state
                    .users
                    .get(&user_name.key())
                    .map_or(0, |u| u.mfa_devices.len()),
            };
            if in_use >= quotas.mfa_devices_per_user {
                return Err(limit("MFADevicesPerUser", quotas.mfa_devices_per_user));
            }
            one(EventData::MfaDeviceEnabled {
                owner,
                serial_number: state.mfa_arn(dev).unwrap_or_else(|| serial_number.clone()),
                enabled_at: *now,
            })
        }
        DeactivateMfaDevice {
            owner,
            serial_number,
        } => {
            let owner = resolve_owner(state, owner)?;
            let dev = state
                .mfa_by_arn(serial_number)
                .ok_or_else(|| no_mfa(serial_number))?;
            if !dev
                .assignment
                .as_ref()
                .is_some_and(|a| owner_eq(&a.owner, &owner))
            {
                return Err(DomainError::NoSuchEntity(format!(
                    "MFA device {serial_number} is not enabled for this principal."
                )));
            }
            one(EventData::MfaDeviceDeactivated {
                owner,
                serial_number: state.mfa_arn(dev).unwrap_or_else(|| serial_number.clone()),
            })
        }
        DeleteVirtualMfaDevice { serial_number } => {
            let dev = state
                .mfa_by_arn(serial_number)
                .ok_or_else(|| no_mfa(serial_number))?;
            if dev.assignment.is_some() {
                return Err(DomainError::DeleteConflict(
                    "MFA device is still in use; deactivate it first.".into(),
                ));
            }
            one(EventData::VirtualMfaDeviceDeleted {
                serial_number: state.mfa_arn(dev).unwrap_or_else(|| serial_number.clone()),
            })
        }

        // ---- password policy ----
        UpdateAccountPasswordPolicy { policy } => {
            policy.validate()?;
            if state.password_policy.as_ref() == Some(policy) {
                return Ok(vec![]);
            }
            one(EventData::PasswordPolicyUpdated {
                policy: policy.clone(),
            })
        }
        DeleteAccountPasswordPolicy => {
            if state.password_policy.is_none() {
                return Err(DomainError::NoSuchEntity(format!(
                    "The Password Policy with domain name {account} cannot be found."
                )));
            }
            one(EventData::PasswordPolicyDeleted {})
        }
    }
}

fn ev(account: &AccountId, data: EventData) -> Event {
    Event {
        account_id: account.clone(),
        data,
    }
}

fn exists(kind: &str, name: &str) -> DomainError {
    DomainError::EntityAlreadyExists(format!("{kind} with name {name} already exists."))
}

/// A generated unique id that is already in use: a shell bug (ids are random
/// and never reused), refused so that ids stay unique among live entities.
fn id_taken(id: &str) -> DomainError {
    DomainError::EntityAlreadyExists(format!(
        "Unique id {id} has already been issued in this account."
    ))
}

fn limit(quota: &str, max: usize) -> DomainError {
    DomainError::LimitExceeded(format!("Cannot exceed quota for {quota}: {max}"))
}

fn user<'a>(state: &'a AccountState, name: &UserName) -> Result<&'a User, DomainError> {
    state.users.get(&name.key()).map(|e| &**e).ok_or_else(|| {
        DomainError::NoSuchEntity(format!("The user with name {name} cannot be found."))
    })
}

fn group<'a>(state: &'a AccountState, name: &GroupName) -> Result<&'a Group, DomainError> {
    state.groups.get(&name.key()).map(|e| &**e).ok_or_else(|| {
        DomainError::NoSuchEntity(format!("The group with name {name} cannot be found."))
    })
}

fn role<'a>(state: &'a AccountState, name: &RoleName) -> Result<&'a Role, DomainError> {
    state.roles.get(&name.key()).map(|e| &**e).ok_or_else(|| {
        DomainError::NoSuchEntity(format!("The role with name {name} cannot be found."))
    })
}

fn user_ref(u: &User) -> EntityRef {
    EntityRef::User {
        user_name: u.name.clone(),
    }
}
fn group_ref(g: &Group) -> EntityRef {
    EntityRef::Group {
        group_name: g.name.clone(),
    }
}
fn role_ref(r: &Role) -> EntityRef {
    EntityRef::Role {
        role_name: r.name.clone(),
    }
}

/// The managed policy `arn` names: `InvalidInput` if it is not a policy ARN,
/// `NoSuchEntity` if it is not an existing policy of this account.
fn existing_policy<'a>(
    state: &'a AccountState,
    arn: &Arn,
) -> Result<&'a ManagedPolicy, DomainError> {
    if !matches!(arn, Arn::Policy { .. }) {
        return Err(DomainError::InvalidInput(format!(
            "ARN {arn} is not valid."
        )));
    }
    state.policy_by_arn(arn).ok_or_else(|| {
        DomainError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
    })
}

fn no_version(arn: &Arn, v: PolicyVersionId) -> DomainError {
    DomainError::NoSuchEntity(format!("Policy {arn} version {v} does not exist."))
}
fn no_key(id: &crate::ids::AccessKeyId) -> DomainError {
    DomainError::NoSuchEntity(format!("The Access Key with id {id} cannot be found."))
}
fn no_login_profile(u: &UserName) -> DomainError {
    DomainError::NoSuchEntity(format!("Login Profile for User {u} cannot be found."))
}
fn no_mfa(arn: &Arn) -> DomainError {
    DomainError::NoSuchEntity(format!(
        "MFA device with serial number {arn} cannot be found."
    ))
}

fn check_session_duration(secs: u32) -> Result<(), DomainError> {
    if MAX_SESSION_DURATION_RANGE.contains(&secs) {
        Ok(())
    } else {
        Err(DomainError::validation(format!(
            "The specified value for maxSessionDuration {secs} is invalid. It must be between 3600 and 43200 seconds."
        )))
    }
}

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
fn check_document(doc: &str, kind: PolicyKind, field: &str) -> Result<(), DomainError> {
    check_document_length(doc, field)?;
    if let Some(c) = doc
        .chars()
        .find(|c| !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
    {
        return Err(DomainError::MalformedPolicyDocument(format!(
            "The policy document contains the character U+{:04X}, outside tab, LF, CR and U+0020-U+00FF.",
            c as u32
        )));
    }
    PolicyDocument::parse_for(doc, kind)
        .map(|_| ())
        .map_err(|e| DomainError::MalformedPolicyDocument(e.to_string()))
}

fn check_managed_document(doc: &str, quotas: &Quotas) -> Result<(), DomainError> {
    check_document(doc, PolicyKind::Identity, "policyDocument")?;
    if policy_size(doc) > quotas.managed_policy_size {
        return Err(limit("PolicySize", quotas.managed_policy_size));
    }
    Ok(())
}

/// `field` is the API parameter: `assumeRolePolicyDocument` (CreateRole) or
/// `policyDocument` (UpdateAssumeRolePolicy).
fn check_trust_policy(doc: &str, quotas: &Quotas, field: &str) -> Result<(), DomainError> {
    check_document(doc, PolicyKind::Trust, field)?;
    if policy_size(doc) > quotas.role_trust_policy_size {
        return Err(limit("ACLSizePerRole", quotas.role_trust_policy_size));
    }
    Ok(())
}

fn attach(
    state: &AccountState,
    account: &AccountId,
    target: EntityRef,
    attached: &BTreeSet<NameKey>,
    arn: &Arn,
    max: usize,
    quota: &str,
) -> Decision {
    let p = existing_policy(state, arn)?;
    if attached.contains(&p.name.key()) {
        return Ok(vec![]);
    }
    if attached.len() >= max {
        return Err(limit(quota, max));
    }
    let policy_arn = state.policy_arn(p).unwrap_or_else(|| arn.clone());
    Ok(vec![ev(
        account,
        EventData::ManagedPolicyAttached { target, policy_arn },
    )])
}

fn detach(
    state: &AccountState,
    account: &AccountId,
    target: EntityRef,
    attached: &BTreeSet<NameKey>,
    arn: &Arn,
) -> Decision {
    let p = existing_policy(state, arn)?;
    if !attached.contains(&p.name.key()) {
        return Err(DomainError::NoSuchEntity(format!(
            "Policy {arn} was not found."
        )));
    }
    let policy_arn = state.policy_arn(p).unwrap_or_else(|| arn.clone());
    Ok(vec![ev(
        account,
        EventData::ManagedPolicyDetached { target, policy_arn },
    )])
}

fn put_inline(
    account: &AccountId,
    target: EntityRef,
    existing: &std::collections::BTreeMap<NameKey, InlinePolicy>,
    name: &crate::names::InlinePolicyName,
    doc: &str,
    max: usize,
    quota: &str,
) -> Decision {
    check_document(doc, PolicyKind::Identity, "policyDocument")?;
    let others: usize = existing
        .iter()
        .filter(|(k, _)| **k != name.key())
        .map(|(_, p)| policy_size(&p.document))
        .sum();
    if others + policy_size(doc) > max {
        return Err(limit(quota, max));
    }
    // Re-putting under a different case keeps the stored spelling (case-insensitive names).
    let policy_name = existing
        .get(&name.key())
        .map_or_else(|| name.clone(), |p| p.name.clone());
    Ok(vec![ev(
        account,
        EventData::InlinePolicyPut {
            target,
            policy_name,
            policy_document: doc.to_owned(),
        },
    )])
}

fn delete_inline(
    account: &AccountId,
    target: EntityRef,
    existing: &std::collections::BTreeMap<NameKey, InlinePolicy>,
    name: &crate::names::InlinePolicyName,
) -> Decision {
    let p = existing.get(&name.key()).ok_or_else(|| {
        DomainError::NoSuchEntity(format!("The policy with name {name} cannot be found."))
    })?;
    Ok(vec![ev(
        account,
        EventData::InlinePolicyDeleted {
            target,
            policy_name: p.name.clone(),
        },
    )])
}

fn put_boundary(
    state: &AccountState,
    account: &AccountId,
    target: EntityRef,
    current: &Option<Arn>,
    arn: &Arn,
) -> Decision {
    let p = existing_policy(state, arn)?;
    let arn = state.policy_arn(p).unwrap_or_else(|| arn.clone());
    if current.as_ref() == Some(&arn) {
        return Ok(vec![]);
    }
    Ok(vec![ev(
        account,
        EventData::PermissionsBoundarySet {
            target,
            permissions_boundary: arn,
        },
    )])
}

fn delete_boundary(account: &AccountId, target: EntityRef, current: &Option<Arn>) -> Decision {
    if current.is_none() {
        return Err(DomainError::NoSuchEntity(
            "The entity has no permissions boundary.".into(),
        ));
    }
    Ok(vec![ev(
        account,
        EventData::PermissionsBoundaryDeleted { target },
    )])
}

/// Checks a tag set to add: no duplicate keys (case-insensitively) and the
/// merged count within the quota.
fn check_new_tags(
    existing: &std::collections::BTreeMap<NameKey, Tag>,
    tags: &[Tag],
    quotas: &Quotas,
) -> Result<(), DomainError> {
    crate::names::check_tag_count(tags.len(), "tags")?;
    let mut seen = BTreeSet::new();
    for t in tags {
        if !seen.insert(t.key.key()) {
            return Err(DomainError::InvalidInput(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.".into(),
            ));
        }
    }
    let merged = existing.len() + seen.iter().filter(|k| !existing.contains_key(*k)).count();
    if merged > quotas.tags_per_entity {
        return Err(limit("TagsPerEntity", quotas.tags_per_entity));
    }
    Ok(())
}

fn tag(
    account: &AccountId,
    target: EntityRef,
    existing: &std::collections::BTreeMap<NameKey, Tag>,
    tags: &[Tag],
    quotas: &Quotas,
) -> Decision {
    check_new_tags(existing, tags, quotas)?;
    if tags.iter().all(|t| existing.get(&t.key.key()) == Some(t)) {
        return Ok(vec![]);
    }
    Ok(vec![ev(
        account,
        EventData::EntityTagged {
            target,
            tags: tags.to_vec(),
        },
    )])
}

fn untag(
    account: &AccountId,
    target: EntityRef,
    existing: &std::collections::BTreeMap<NameKey, Tag>,
    keys: &[crate::names::TagKey],
) -> Decision {
    crate::names::check_tag_count(keys.len(), "tagKeys")?;
    let present: Vec<_> = keys
        .iter()
        .filter(|k| existing.contains_key(&k.key()))
        .cloned()
        .collect();
    if present.is_empty() {
        return Ok(vec![]);
    }
    Ok(vec![ev(
        account,
        EventData::EntityUntagged {
            target,
            tag_keys: present,
        },
    )])
}

/// The owner with the user's stored spelling; `NoSuchEntity` for a missing user.
fn resolve_owner(
    state: &AccountState,
    owner: &CredentialOwner,
) -> Result<CredentialOwner, DomainError> {
    match owner {
        CredentialOwner::Root => Ok(CredentialOwner::Root),
        CredentialOwner::User { user_name } => Ok(CredentialOwner::User {
            user_name: user(state, user_name)?.name.clone(),
        }),
    }
}

fn owned_key<'a>(
    state: &'a AccountState,
    owner: &CredentialOwner,
    id: &crate::ids::AccessKeyId,
) -> Result<&'a AccessKey, DomainError> {
    state
        .access_keys
        .get(id)
        .map(|k| &**k)
        .filter(|k| owner_eq(&k.owner, owner))
        .ok_or_else(|| no_key(id))
}

#[allow(dead_code)]
fn _policy_name_is_used(_: &PolicyName) {}
