//! Property test: for random command sequences over small name pools (with
//! names differing only in case) and small quotas, every invariant holds after
//! every step, rebuilding the state from the log gives the same state, and
//! every event survives its stored form (`to_payload` + `from_stored`).

use std::collections::BTreeSet;

use iam_domain::arn::Arn;
use iam_domain::ids::*;
use iam_domain::names::*;
use iam_domain::password_policy::PasswordPolicy;
use iam_domain::quotas::policy_size;
use iam_domain::state::{AccessKeyStatus, AccountState, CredentialOwner};
use iam_domain::{decide, evolve, Command, Event, Quotas, SCHEMA_VERSION};
use proptest::prelude::*;

use crate::common::*;

const USERS: [&str; 4] = ["alice", "ALICE", "bob", "carol"];
const GROUPS: [&str; 3] = ["g1", "G1", "g2"];
const ROLES: [&str; 3] = ["r1", "R1", "r2"];
const PROFILES: [&str; 3] = ["p1", "P1", "p2"];
const POLICIES: [&str; 3] = ["p1", "P1", "p2"];
const INLINE: [&str; 3] = ["i1", "I1", "i2"];
const DEVICES: [&str; 3] = ["d1", "D1", "d2"];
const TAG_KEYS: [&str; 4] = ["a", "A", "b", "c"];
const DOCS: [&str; 3] = [ALLOW, DENY, "{not json"];

fn quotas() -> Quotas {
    Quotas {
        users_per_account: 3,
        groups_per_account: 2,
        roles_per_account: 2,
        customer_managed_policies_per_account: 2,
        instance_profiles_per_account: 2,
        virtual_mfa_devices_per_account: Some(2),
        groups_per_user: 1,
        managed_policies_per_user: 1,
        managed_policies_per_group: 1,
        managed_policies_per_role: 1,
        access_keys_per_user: 2,
        access_keys_per_root: 1,
        mfa_devices_per_user: 1,
        versions_per_managed_policy: 3,
        tags_per_entity: 2,
        user_inline_policy_size: 200,
        group_inline_policy_size: 200,
        role_inline_policy_size: 200,
        managed_policy_size: 6144,
        role_trust_policy_size: 2048,
    }
}

fn pick<'a>(pool: &[&'a str], i: u8) -> &'a str {
    pool[i as usize % pool.len()]
}

fn owner(i: u8) -> CredentialOwner {
    if i % 5 == 4 {
        CredentialOwner::Root
    } else {
        user_owner(pick(&USERS, i))
    }
}

/// Builds command number `op` from small selector values. `n` is the step
/// number, used to give generated ids and times their uniqueness.
fn build(op: u8, a: u8, b: u8, c: u8, flag: bool, n: u32) -> Command {
    let user = || un(pick(&USERS, a));
    let group = || gn(pick(&GROUPS, b));
    let role = || rn(pick(&ROLES, a));
    let profile = || InstanceProfileName::parse(pick(&PROFILES, b)).unwrap();
    let policy = || parn(pick(&POLICIES, c));
    let inline = || ipn(pick(&INLINE, b));
    let doc = || DOCS[c as usize % DOCS.len()].to_owned();
    let tag_list = || {
        vec![
            Tag::new(pick(&TAG_KEYS, b), "v").unwrap(),
            Tag::new(pick(&TAG_KEYS, c), if flag { "x" } else { "y" }).unwrap(),
        ]
    };
    let keys = || vec![TagKey::parse(pick(&TAG_KEYS, b)).unwrap()];
    let t = at(n as i64);
    let version = || PolicyVersionId::new(1 + b as u32 % 4).unwrap();
    let path = || {
        if flag {
            Some(IamPath::parse("/eng/").unwrap())
        } else {
            None
        }
    };
    match op {
        0 => Command::CreateUser {
            user_name: user(),
            path: path(),
            user_id: UserId::parse(&uid("AIDA", n)).unwrap(),
            permissions_boundary: if c.is_multiple_of(3) {
                Some(policy())
            } else {
                None
            },
            tags: if flag { tag_list() } else { vec![] },
            now: t,
        },
        1 => Command::UpdateUser {
            user_name: user(),
            new_user_name: Some(un(pick(&USERS, b))),
            new_path: path(),
        },
        2 => Command::DeleteUser { user_name: user() },
        3 => Command::CreateGroup {
            group_name: group(),
            path: path(),
            group_id: GroupId::parse(&uid("AGPA", n)).unwrap(),
            now: t,
        },
        4 => Command::UpdateGroup {
            group_name: group(),
            new_group_name: Some(gn(pick(&GROUPS, c))),
            new_path: None,
        },
        5 => Command::DeleteGroup {
            group_name: group(),
        },
        6 => Command::AddUserToGroup {
            group_name: group(),
            user_name: user(),
        },
        7 => Command::RemoveUserFromGroup {
            group_name: group(),
            user_name: user(),
        },
        8 => Command::CreateRole {
            role_name: role(),
            path: path(),
            role_id: RoleId::parse(&uid("AROA", n)).unwrap(),
            assume_role_policy_document: if c % 4 == 3 {
                ALLOW.into()
            } else {
                TRUST.into()
            },
            description: None,
            max_session_duration: Some(3600 * (1 + b as u32 % 13)),
            permissions_boundary: None,
            tags: vec![],
            now: t,
        },
        9 => Command::UpdateRole {
            role_name: role(),
            description: Some(Description::parse("d").unwrap()),
            max_session_duration: Some(7200),
        },
        10 => Command::UpdateAssumeRolePolicy {
            role_name: role(),
            policy_document: TRUST.into(),
        },
        11 => Command::DeleteRole { role_name: role() },
        12 => Command::CreatePolicy {
            policy_name: pn(pick(&POLICIES, c)),
            path: None,
            policy_id: PolicyId::parse(&uid("ANPA", n)).unwrap(),
            policy_document: doc(),
            description: None,
            tags: vec![],
            now: t,
        },
        13 => Command::DeletePolicy {
            policy_arn: policy(),
        },
        14 => Command::CreatePolicyVersion {
            policy_arn: policy(),
            policy_document: DOCS[a as usize % 2].into(),
            set_as_default: flag,
            now: t,
        },
        15 => Command::DeletePolicyVersion {
            policy_arn: policy(),
            version_id: version(),
        },
        16 => Command::SetDefaultPolicyVersion {
            policy_arn: policy(),
            version_id: version(),
            now: t,
        },
        17 => Command::AttachUserPolicy {
            user_name: user(),
            policy_arn: policy(),
        },
        18 => Command::DetachUserPolicy {
            user_name: user(),
            policy_arn: policy(),
        },
        19 => Command::AttachGroupPolicy {
            group_name: group(),
            policy_arn: policy(),
        },
        20 => Command::DetachGroupPolicy {
            group_name: group(),
            policy_arn: policy(),
        },
        21 => Command::AttachRolePolicy {
            role_name: role(),
            policy_arn: policy(),
        },
        22 => Command::DetachRolePolicy {
            role_name: role(),
            policy_arn: policy(),
        },
        23 => Command::PutUserPolicy {
            user_name: user(),
            policy_name: inline(),
            policy_document: doc(),
        },
        24 => Command::DeleteUserPolicy {
            user_name: user(),
            policy_name: inline(),
        },
        25 => Command::PutGroupPolicy {
            group_name: group(),
            policy_name: inline(),
            policy_document: doc(),
        },
        26 => Command::DeleteGroupPolicy {
            group_name: group(),
            policy_name: inline(),
        },
        27 => Command::PutRolePolicy {
            role_name: role(),
            policy_name: inline(),
            policy_document: doc(),
        },
        28 => Command::DeleteRolePolicy {
            role_name: role(),
            policy_name: inline(),
        },
        29 => Command::PutUserPermissionsBoundary {
            user_name: user(),
            permissions_boundary: policy(),
        },
        30 => Command::DeleteUserPermissionsBoundary { user_name: user() },
        31 => Command::PutRolePermissionsBoundary {
            role_name: role(),
            permissions_boundary: policy(),
        },
        32 => Command::DeleteRolePermissionsBoundary { role_name: role() },
        33 => Command::TagUser {
            user_name: user(),
            tags: tag_list(),
        },
        34 => Command::UntagUser {
            user_name: user(),
            tag_keys: keys(),
        },
        35 => Command::TagRole {
            role_name: role(),
            tags: tag_list(),
        },
        36 => Command::TagPolicy {
            policy_arn: policy(),
            tags: tag_list(),
        },
        37 => Command::UntagPolicy {
            policy_arn: policy(),
            tag_keys: keys(),
        },
        38 => Command::CreateAccessKey {
            owner: owner(a),
            access_key_id: akid(n % 6),
            secret: sealed("k"),
            now: t,
        },
        39 => Command::UpdateAccessKey {
            owner: owner(a),
            access_key_id: akid(b as u32 % 6),
            status: if flag {
                AccessKeyStatus::Inactive
            } else {
                AccessKeyStatus::Active
            },
        },
        40 => Command::DeleteAccessKey {
            owner: owner(a),
            access_key_id: akid(b as u32 % 6),
        },
        41 => Command::RecordAccessKeyUse {
            access_key_id: akid(b as u32 % 6),
            used_at: t,
            service_name: "iam".into(),
            region: "us-east-1".into(),
        },
        42 => Command::CreateLoginProfile {
            user_name: user(),
            password_hash: phc(),
            password_reset_required: flag,
            now: t,
        },
        43 => Command::UpdateLoginProfile {
            user_name: user(),
            password_hash: None,
            password_reset_required: Some(flag),
            now: t,
        },
        44 => Command::DeleteLoginProfile { user_name: user() },
        45 => Command::CreateVirtualMfaDevice {
            device_name: MfaDeviceName::parse(pick(&DEVICES, b)).unwrap(),
            path: None,
            tags: vec![],
            seed: sealed("d"),
            now: t,
        },
        46 => Command::EnableMfaDevice {
            owner: owner(a),
            serial_number: mfa_arn(pick(&DEVICES, b)),
            now: t,
            counter: None,
        },
        47 => Command::DeactivateMfaDevice {
            owner: owner(a),
            serial_number: mfa_arn(pick(&DEVICES, b)),
        },
        48 => Command::DeleteVirtualMfaDevice {
            serial_number: mfa_arn(pick(&DEVICES, b)),
        },
        49 => Command::UpdateAccountPasswordPolicy {
            policy: PasswordPolicy {
                minimum_password_length: 6 + c % 100,
                require_symbols: flag,
                ..PasswordPolicy::aws_default()
            },
        },
        50 => Command::DeleteAccountPasswordPolicy,
        52 => Command::CreateInstanceProfile {
            instance_profile_name: profile(),
            path: path(),
            instance_profile_id: InstanceProfileId::parse(&uid("AIPA", n)).unwrap(),
            tags: if flag { tag_list() } else { vec![] },
            now: t,
        },
        53 => Command::AddRoleToInstanceProfile {
            instance_profile_name: profile(),
            role_name: role(),
        },
        54 => Command::RemoveRoleFromInstanceProfile {
            instance_profile_name: profile(),
            role_name: role(),
        },
        55 => Command::DeleteInstanceProfile {
            instance_profile_name: profile(),
        },
        _ => Command::UpdateRoleDescription {
            role_name: role(),
            description: Description::parse("x").unwrap(),
        },
    }
}

const OPS: u8 = 56;

/// Every invariant the domain promises about a state.
fn check_invariants(s: &AccountState, q: &Quotas) -> Result<(), String> {
    macro_rules! ensure {
        ($c:expr, $($m:tt)*) => { if !$c { return Err(format!($($m)*)); } };
    }
    ensure!(s.users.len() <= q.users_per_account, "too many users");
    ensure!(s.groups.len() <= q.groups_per_account, "too many groups");
    ensure!(
        s.instance_profiles.len() <= q.instance_profiles_per_account,
        "too many instance profiles"
    );
    for p in s.instance_profiles.values() {
        ensure!(
            p.roles.len() <= 1,
            "instance profile {} holds {} roles",
            p.name,
            p.roles.len()
        );
        for r in &p.roles {
            ensure!(
                s.roles.contains_key(r),
                "instance profile {} holds missing role {r:?}",
                p.name
            );
        }
    }
    ensure!(s.roles.len() <= q.roles_per_account, "too many roles");
    ensure!(
        s.policies.len() <= q.customer_managed_policies_per_account,
        "too many policies"
    );
    ensure!(
        s.mfa_devices.len() <= q.virtual_mfa_devices(),
        "too many devices"
    );
    let user_ids: BTreeSet<_> = s.users.values().map(|u| u.id.clone()).collect();
    ensure!(user_ids.len() == s.users.len(), "user ids not unique");
    let policy_ids: BTreeSet<_> = s.policies.values().map(|p| p.id.clone()).collect();
    ensure!(
        policy_ids.len() == s.policies.len(),
        "policy ids not unique"
    );
    let boundary_ok = |b: &Option<Arn>| b.as_ref().is_none_or(|arn| s.policy_by_arn(arn).is_some());

    for (k, u) in &s.users {
        ensure!(*k == u.name.key(), "user key {k} != name {}", u.name);
        ensure!(
            u.groups.len() <= q.groups_per_user,
            "user {k} in too many groups"
        );
        for g in &u.groups {
            ensure!(
                s.groups.get(g).is_some_and(|g| g.members.contains(k)),
                "membership {k}->{g} not mirrored"
            );
        }
        ensure!(
            u.attached_policies.len() <= q.managed_policies_per_user,
            "user {k} too many attachments"
        );
        for p in &u.attached_policies {
            ensure!(
                s.policies.contains_key(p),
                "user {k} attached to missing {p}"
            );
        }
        ensure!(
            boundary_ok(&u.permissions_boundary),
            "user {k} boundary dangles"
        );
        ensure!(u.tags.len() <= q.tags_per_entity, "user {k} too many tags");
        ensure!(
            u.tags.iter().all(|(tk, t)| *tk == t.key.key()),
            "user {k} tag key"
        );
        ensure!(
            u.inline_policies.iter().all(|(ik, p)| *ik == p.name.key()),
            "user {k} inline key"
        );
        let size: usize = u
            .inline_policies
            .values()
            .map(|p| policy_size(&p.document))
            .sum();
        ensure!(
            size <= q.user_inline_policy_size,
            "user {k} inline size {size}"
        );
        ensure!(
            u.mfa_devices.len() <= q.mfa_devices_per_user,
            "user {k} too many MFA"
        );
        for d in &u.mfa_devices {
            let assigned = s.mfa_devices.get(d).and_then(|d| d.assignment.as_ref());
            ensure!(
                matches!(assigned, Some(a) if a.owner == CredentialOwner::User { user_name: u.name.clone() }),
                "user {k} MFA {d} not assigned to them"
            );
        }
        let keys = s
            .access_keys_of(&CredentialOwner::User {
                user_name: u.name.clone(),
            })
            .count();
        ensure!(keys <= q.access_keys_per_user, "user {k} has {keys} keys");
    }
    for (k, g) in &s.groups {
        ensure!(*k == g.name.key(), "group key");
        for m in &g.members {
            ensure!(
                s.users.get(m).is_some_and(|u| u.groups.contains(k)),
                "member {m} of {k} not mirrored"
            );
        }
        ensure!(
            g.attached_policies.len() <= q.managed_policies_per_group,
            "group {k} attachments"
        );
        ensure!(
            g.attached_policies
                .iter()
                .all(|p| s.policies.contains_key(p)),
            "group {k} dangling attachment"
        );
        let size: usize = g
            .inline_policies
            .values()
            .map(|p| policy_size(&p.document))
            .sum();
        ensure!(size <= q.group_inline_policy_size, "group {k} inline size");
    }
    for (k, r) in &s.roles {
        ensure!(*k == r.name.key(), "role key");
        ensure!(
            (3600..=43200).contains(&r.max_session_duration),
            "role {k} session duration"
        );
        ensure!(
            r.attached_policies.len() <= q.managed_policies_per_role,
            "role {k} attachments"
        );
        ensure!(
            r.attached_policies
                .iter()
                .all(|p| s.policies.contains_key(p)),
            "role {k} dangling attachment"
        );
        ensure!(
            boundary_ok(&r.permissions_boundary),
            "role {k} boundary dangles"
        );
        ensure!(r.tags.len() <= q.tags_per_entity, "role {k} tags");
        let size: usize = r
            .inline_policies
            .values()
            .map(|p| policy_size(&p.document))
            .sum();
        ensure!(size <= q.role_inline_policy_size, "role {k} inline size");
    }
    for (k, p) in &s.policies {
        ensure!(*k == p.name.key(), "policy key");
        ensure!(
            p.versions.contains_key(&p.default_version),
            "policy {k} default version missing"
        );
        ensure!(
            !p.versions.is_empty() && p.versions.len() <= q.versions_per_managed_policy,
            "policy {k} versions"
        );
        ensure!(
            p.versions
                .iter()
                .all(|(v, pv)| *v == pv.id && v.number() < p.next_version),
            "policy {k} version numbering"
        );
        ensure!(p.tags.len() <= q.tags_per_entity, "policy {k} tags");
    }
    let mut owners = BTreeSet::new();
    for (id, key) in &s.access_keys {
        ensure!(*id == key.id, "access key map key");
        match &key.owner {
            CredentialOwner::Root => {}
            CredentialOwner::User { user_name } => {
                ensure!(
                    s.users
                        .get(&user_name.key())
                        .is_some_and(|u| u.name == *user_name),
                    "key {id} owner missing or misspelt"
                )
            }
        }
        owners.insert(key.owner.clone());
    }
    ensure!(
        s.access_keys_of(&CredentialOwner::Root).count() <= q.access_keys_per_root,
        "root keys"
    );
    for (k, d) in &s.mfa_devices {
        ensure!(*k == d.name.key(), "device key");
        if let Some(a) = &d.assignment {
            let held = match &a.owner {
                CredentialOwner::Root => s
                    .account
                    .as_ref()
                    .is_some_and(|acc| acc.root_mfa_devices.contains(k)),
                CredentialOwner::User { user_name } => s
                    .users
                    .get(&user_name.key())
                    .is_some_and(|u| u.mfa_devices.contains(k)),
            };
            ensure!(held, "device {k} assignment not mirrored");
        }
    }
    if let Some(acc) = &s.account {
        ensure!(
            acc.root_mfa_devices.len() <= q.mfa_devices_per_user,
            "root MFA quota"
        );
    }
    Ok(())
}

fn round_trip(e: &Event) -> Result<(), String> {
    let payload = e.to_payload();
    let text = serde_json::to_string(&payload).map_err(|x| x.to_string())?;
    let back: serde_json::Value = serde_json::from_str(&text).map_err(|x| x.to_string())?;
    let e2 =
        Event::from_stored(e.event_type(), SCHEMA_VERSION, &back).map_err(|x| x.to_string())?;
    if e2 != *e {
        return Err(format!("round trip changed {e:?} into {e2:?}"));
    }
    Ok(())
}

/// Creations are drawn more often than the uniform share, otherwise most
/// commands would only exercise `NoSuchEntity`.
fn step_strategy() -> impl Strategy<Value = (u8, u8, u8, u8, bool)> {
    let op = prop_oneof![
        2 => prop::sample::select(vec![0u8, 3, 6, 8, 12, 17, 19, 21, 38, 42, 45, 46, 52, 53]),
        3 => 0..OPS,
    ];
    (op, any::<u8>(), any::<u8>(), any::<u8>(), any::<bool>())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_and_replay_matches(steps in prop::collection::vec(step_strategy(), 1..120)) {
        let q = quotas();
        let mut state = AccountState::default();
        let mut log: Vec<Event> = vec![];
        for e in decide(&state, &create_account(), &q).unwrap() {
            evolve(&mut state, &e);
            log.push(e);
        }
        for (n, (op, a, b, c, flag)) in steps.into_iter().enumerate() {
            let cmd = build(op, a, b, c, flag, n as u32 + 1);
            let result = decide(&state, &cmd, &q);
            prop_assert_eq!(&result, &decide(&state, &cmd, &q), "decide is not deterministic");
            if let Ok(events) = result {
                for e in events {
                    prop_assert_eq!(e.account_id.as_str(), ACCOUNT);
                    round_trip(&e).map_err(TestCaseError::fail)?;
                    evolve(&mut state, &e);
                    log.push(e);
                }
            }
            check_invariants(&state, &q).map_err(|m| TestCaseError::fail(format!("after {cmd:?}: {m}")))?;
            let mut replay = AccountState::default();
            for e in &log {
                evolve(&mut replay, e);
            }
            prop_assert_eq!(&replay, &state, "replay differs after {:?}", cmd);
        }
    }

    /// `evolve` never panics, whatever order events arrive in: shuffle a
    /// valid log's events (dropping some) and apply them to a fresh state.
    #[test]
    fn evolve_never_panics_on_out_of_order_events(
        steps in prop::collection::vec(step_strategy(), 1..60),
        order in prop::collection::vec(any::<prop::sample::Index>(), 0..80),
    ) {
        let q = quotas();
        let mut state = AccountState::default();
        let mut log: Vec<Event> = vec![];
        for e in decide(&state, &create_account(), &q).unwrap() {
            evolve(&mut state, &e);
            log.push(e);
        }
        for (n, (op, a, b, c, flag)) in steps.into_iter().enumerate() {
            if let Ok(events) = decide(&state, &build(op, a, b, c, flag, n as u32 + 1), &q) {
                for e in events {
                    evolve(&mut state, &e);
                    log.push(e);
                }
            }
        }
        let mut scrambled = AccountState::default();
        evolve(&mut scrambled, &log[0]);
        for i in order {
            evolve(&mut scrambled, i.get(&log));
        }
    }
}
