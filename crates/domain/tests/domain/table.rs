//! Table tests: each command's success and failure cases, calling `decide`
//! through `World` (which also checks replay after every step).

use iam_domain::arn::Arn;
use iam_domain::ids::*;
use iam_domain::names::*;
use iam_domain::password_policy::PasswordPolicy;
use iam_domain::state::{AccessKeyStatus, CredentialOwner};
use iam_domain::{decide, AccountState, Command, Quotas};

use crate::common::*;

/// One row: commands to set up (must succeed), the command under test, and
/// the expected outcome: `Ok(event types)` or `Err(code)`.
struct Case {
    name: &'static str,
    setup: Vec<Command>,
    cmd: Command,
    expect: Result<Vec<&'static str>, &'static str>,
}

fn run_table(quotas: Quotas, cases: Vec<Case>) {
    for case in cases {
        let mut w = World::with_quotas(quotas.clone());
        for c in case.setup {
            w.ok(c);
        }
        let got = match w.run(case.cmd) {
            Ok(evs) => Ok(evs.iter().map(|e| e.event_type()).collect::<Vec<_>>()),
            Err(e) => Err(e.code()),
        };
        assert_eq!(got, case.expect, "case: {}", case.name);
    }
}

macro_rules! case {
    ($name:expr, [$($s:expr),* $(,)?], $cmd:expr, ok [$($ev:expr),* $(,)?]) => {
        Case { name: $name, setup: vec![$($s),*], cmd: $cmd, expect: Ok(vec![$($ev),*]) }
    };
    ($name:expr, [$($s:expr),* $(,)?], $cmd:expr, err $code:expr) => {
        Case { name: $name, setup: vec![$($s),*], cmd: $cmd, expect: Err($code) }
    };
}

fn add(g: &str, u: &str) -> Command {
    Command::AddUserToGroup {
        group_name: gn(g),
        user_name: un(u),
    }
}
fn attach_user(u: &str, p: &str) -> Command {
    Command::AttachUserPolicy {
        user_name: un(u),
        policy_arn: parn(p),
    }
}
fn put_user_policy(u: &str, p: &str, doc: &str) -> Command {
    Command::PutUserPolicy {
        user_name: un(u),
        policy_name: ipn(p),
        policy_document: doc.into(),
    }
}
fn login(u: &str) -> Command {
    Command::CreateLoginProfile {
        user_name: un(u),
        password_hash: phc(),
        password_reset_required: false,
        now: now(),
    }
}
fn enable_mfa(u: &str, dev: &str) -> Command {
    Command::EnableMfaDevice {
        owner: user_owner(u),
        serial_number: mfa_arn(dev),
        now: now(),
        counter: None,
    }
}
fn version(p: &str, default: bool) -> Command {
    Command::CreatePolicyVersion {
        policy_arn: parn(p),
        policy_document: DENY.into(),
        set_as_default: default,
        now: now(),
    }
}
fn tags(pairs: &[(&str, &str)]) -> Vec<Tag> {
    pairs.iter().map(|(k, v)| Tag::new(k, v).unwrap()).collect()
}

#[test]
fn generated_ids_must_be_unused() {
    let mut w = World::new();
    w.ok(create_user("alice"));
    let Command::CreateUser { user_id, .. } = create_user("alice") else {
        unreachable!()
    };
    let bob = Command::CreateUser {
        user_name: un("bob"),
        path: None,
        user_id,
        permissions_boundary: None,
        tags: vec![],
        now: now(),
    };
    assert_eq!(w.err(bob), "EntityAlreadyExists");
    w.ok(create_policy("p"));
    let Command::CreatePolicy { policy_id, .. } = create_policy("p") else {
        unreachable!()
    };
    let q = Command::CreatePolicy {
        policy_name: pn("q"),
        path: None,
        policy_id,
        policy_document: ALLOW.into(),
        description: None,
        tags: vec![],
        now: now(),
    };
    assert_eq!(w.err(q), "EntityAlreadyExists");

    // Deleted entities keep their ids: AWS never issues one twice.
    w.ok(Command::DeleteUser {
        user_name: un("alice"),
    });
    let carol = Command::CreateUser {
        user_name: un("carol"),
        path: None,
        user_id: match create_user("alice") {
            Command::CreateUser { user_id, .. } => user_id,
            _ => unreachable!(),
        },
        permissions_boundary: None,
        tags: vec![],
        now: now(),
    };
    assert_eq!(w.err(carol), "EntityAlreadyExists");
}

#[test]
fn no_account_yet() {
    let e = decide(
        &AccountState::default(),
        &create_user("alice"),
        &Quotas::default(),
    )
    .unwrap_err();
    assert_eq!(e.code(), "NoSuchEntity");
    let mut w = World::new();
    assert_eq!(w.err(create_account()), "EntityAlreadyExists");
}

#[test]
fn users() {
    run_table(
        Quotas {
            users_per_account: 2,
            ..Quotas::default()
        },
        vec![
            case!("create", [], create_user("alice"), ok["UserCreated"]),
            case!("duplicate, other case", [create_user("alice")], create_user("ALICE"), err "EntityAlreadyExists"),
            case!("user quota", [create_user("a"), create_user("b")], create_user("c"), err "LimitExceeded"),
            case!("boundary must exist", [], Command::CreateUser {
            user_name: un("bob"), path: None, user_id: UserId::parse(&uid("AIDA", 1)).unwrap(),
            permissions_boundary: Some(parn("nope")), tags: vec![], now: now() }, err "NoSuchEntity"),
            case!("boundary must be a policy ARN", [], Command::CreateUser {
            user_name: un("bob"), path: None, user_id: UserId::parse(&uid("AIDA", 1)).unwrap(),
            permissions_boundary: Some(Arn::parse("arn:aws:iam::123456789012:user/x").unwrap()), tags: vec![], now: now() }, err "InvalidInput"),
            case!("duplicate tag keys", [], Command::CreateUser {
            user_name: un("bob"), path: None, user_id: UserId::parse(&uid("AIDA", 1)).unwrap(),
            permissions_boundary: None, tags: tags(&[("Team", "a"), ("team", "b")]), now: now() }, err "InvalidInput"),
            case!(
                "rename",
                [create_user("alice")],
                Command::UpdateUser {
                    user_name: un("alice"),
                    new_user_name: Some(un("alicia")),
                    new_path: None
                },
                ok["UserUpdated"]
            ),
            case!(
                "rename case only",
                [create_user("alice")],
                Command::UpdateUser {
                    user_name: un("ALICE"),
                    new_user_name: Some(un("Alice")),
                    new_path: None
                },
                ok["UserUpdated"]
            ),
            case!("rename onto other", [create_user("alice"), create_user("bob")], Command::UpdateUser { user_name: un("alice"), new_user_name: Some(un("BOB")), new_path: None }, err "EntityAlreadyExists"),
            case!("update missing", [], Command::UpdateUser { user_name: un("x"), new_user_name: None, new_path: None }, err "NoSuchEntity"),
            case!("update no-op", [create_user("alice")], Command::UpdateUser { user_name: un("alice"), new_user_name: None, new_path: Some(path("/")) }, ok []),
            case!(
                "move",
                [create_user("alice")],
                Command::UpdateUser {
                    user_name: un("alice"),
                    new_user_name: None,
                    new_path: Some(path("/eng/"))
                },
                ok["UserUpdated"]
            ),
            case!(
                "delete",
                [create_user("alice")],
                Command::DeleteUser {
                    user_name: un("Alice")
                },
                ok["UserDeleted"]
            ),
            case!("delete missing", [], Command::DeleteUser { user_name: un("x") }, err "NoSuchEntity"),
            case!("delete with key", [create_user("alice"), create_key("alice", 1)], Command::DeleteUser { user_name: un("alice") }, err "DeleteConflict"),
            case!("delete with login profile", [create_user("alice"), login("alice")], Command::DeleteUser { user_name: un("alice") }, err "DeleteConflict"),
            case!("delete with inline policy", [create_user("alice"), put_user_policy("alice", "p", ALLOW)], Command::DeleteUser { user_name: un("alice") }, err "DeleteConflict"),
            case!("delete with attached policy", [create_user("alice"), create_policy("p"), attach_user("alice", "p")], Command::DeleteUser { user_name: un("alice") }, err "DeleteConflict"),
            case!("delete with group", [create_user("alice"), create_group("g"), add("g", "alice")], Command::DeleteUser { user_name: un("alice") }, err "DeleteConflict"),
            case!("delete with mfa", [create_user("alice"), create_mfa("d"), enable_mfa("alice", "d")], Command::DeleteUser { user_name: un("alice") }, err "DeleteConflict"),
        ],
    );
}

#[test]
fn groups() {
    run_table(
        Quotas {
            groups_per_account: 2,
            groups_per_user: 1,
            ..Quotas::default()
        },
        vec![
            case!("create", [], create_group("devs"), ok["GroupCreated"]),
            case!("duplicate", [create_group("devs")], create_group("DEVS"), err "EntityAlreadyExists"),
            case!("quota", [create_group("a"), create_group("b")], create_group("c"), err "LimitExceeded"),
            case!(
                "rename",
                [create_group("a")],
                Command::UpdateGroup {
                    group_name: gn("a"),
                    new_group_name: Some(gn("b")),
                    new_path: None
                },
                ok["GroupUpdated"]
            ),
            case!("rename onto other", [create_group("a"), create_group("b")], Command::UpdateGroup { group_name: gn("a"), new_group_name: Some(gn("B")), new_path: None }, err "EntityAlreadyExists"),
            case!(
                "add",
                [create_group("g"), create_user("u")],
                add("g", "u"),
                ok["UserAddedToGroup"]
            ),
            case!("add twice is a no-op", [create_group("g"), create_user("u"), add("g", "u")], add("G", "U"), ok []),
            case!("add missing user", [create_group("g")], add("g", "u"), err "NoSuchEntity"),
            case!("add missing group", [create_user("u")], add("g", "u"), err "NoSuchEntity"),
            case!("groups per user", [create_group("g"), create_group("h"), create_user("u"), add("g", "u")], add("h", "u"), err "LimitExceeded"),
            case!(
                "remove",
                [create_group("g"), create_user("u"), add("g", "u")],
                Command::RemoveUserFromGroup {
                    group_name: gn("g"),
                    user_name: un("u")
                },
                ok["UserRemovedFromGroup"]
            ),
            case!("remove non-member", [create_group("g"), create_user("u")], Command::RemoveUserFromGroup { group_name: gn("g"), user_name: un("u") }, err "NoSuchEntity"),
            case!(
                "delete",
                [create_group("g")],
                Command::DeleteGroup {
                    group_name: gn("g")
                },
                ok["GroupDeleted"]
            ),
            case!("delete with member", [create_group("g"), create_user("u"), add("g", "u")], Command::DeleteGroup { group_name: gn("g") }, err "DeleteConflict"),
            case!("delete with inline", [create_group("g"), Command::PutGroupPolicy { group_name: gn("g"), policy_name: ipn("i"), policy_document: ALLOW.into() }], Command::DeleteGroup { group_name: gn("g") }, err "DeleteConflict"),
            case!("delete with attached", [create_group("g"), create_policy("p"), Command::AttachGroupPolicy { group_name: gn("g"), policy_arn: parn("p") }], Command::DeleteGroup { group_name: gn("g") }, err "DeleteConflict"),
            case!("delete missing", [], Command::DeleteGroup { group_name: gn("g") }, err "NoSuchEntity"),
        ],
    );
}

#[test]
fn rename_keeps_references() {
    let mut w = World::new();
    w.ok(create_user("alice"));
    w.ok(create_group("g"));
    w.ok(add("g", "alice"));
    w.ok(create_key("alice", 1));
    w.ok(create_mfa("d"));
    w.ok(enable_mfa("alice", "d"));
    w.ok(Command::UpdateUser {
        user_name: un("alice"),
        new_user_name: Some(un("alicia")),
        new_path: None,
    });
    w.ok(Command::UpdateGroup {
        group_name: gn("g"),
        new_group_name: Some(gn("h")),
        new_path: None,
    });
    let g = &w.state.groups[&gn("h").key()];
    assert!(g.members.contains(&un("alicia").key()));
    let u = &w.state.users[&un("alicia").key()];
    assert!(u.groups.contains(&gn("h").key()));
    assert_eq!(w.state.access_keys[&akid(1)].owner, user_owner("alicia"));
    // The renamed user keeps its unique id, so reusing it is refused...
    assert_eq!(w.err(create_user("alice")), "EntityAlreadyExists");
    // ...but the old name is free again with a new id, and the key follows the renamed user.
    w.ok(Command::CreateUser {
        user_name: un("alice"),
        path: None,
        user_id: UserId::parse(&uid_of("AIDA", "alice-2")).unwrap(),
        permissions_boundary: None,
        tags: vec![],
        now: now(),
    });
    assert_eq!(
        w.err(Command::DeleteAccessKey {
            owner: user_owner("alice"),
            access_key_id: akid(1)
        }),
        "NoSuchEntity"
    );
    w.ok(Command::DeleteAccessKey {
        owner: user_owner("ALICIA"),
        access_key_id: akid(1),
    });
}

#[test]
fn roles() {
    let role_with = |max: Option<u32>, trust: &str| Command::CreateRole {
        role_name: rn("r"),
        path: None,
        role_id: RoleId::parse(&uid("AROA", 1)).unwrap(),
        assume_role_policy_document: trust.into(),
        description: None,
        max_session_duration: max,
        permissions_boundary: None,
        tags: vec![],
        now: now(),
    };
    run_table(
        Quotas {
            roles_per_account: 1,
            ..Quotas::default()
        },
        vec![
            case!("create", [], create_role("r"), ok["RoleCreated"]),
            case!("duplicate", [create_role("r")], create_role("R"), err "EntityAlreadyExists"),
            case!("quota", [create_role("a")], create_role("b"), err "LimitExceeded"),
            case!(
                "max session 1h",
                [],
                role_with(Some(3600), TRUST),
                ok["RoleCreated"]
            ),
            case!(
                "max session 12h",
                [],
                role_with(Some(43200), TRUST),
                ok["RoleCreated"]
            ),
            case!("max session too short", [], role_with(Some(3599), TRUST), err "ValidationError"),
            case!("max session too long", [], role_with(Some(43201), TRUST), err "ValidationError"),
            case!("trust policy must have a principal", [], role_with(None, ALLOW), err "MalformedPolicyDocument"),
            case!("trust policy must be JSON", [], role_with(None, "{"), err "MalformedPolicyDocument"),
            case!(
                "update",
                [create_role("r")],
                Command::UpdateRole {
                    role_name: rn("r"),
                    description: Some(Description::parse("d").unwrap()),
                    max_session_duration: Some(7200)
                },
                ok["RoleUpdated"]
            ),
            case!("update no-op", [create_role("r")], Command::UpdateRole { role_name: rn("r"), description: None, max_session_duration: Some(3600) }, ok []),
            case!("update bad duration", [create_role("r")], Command::UpdateRole { role_name: rn("r"), description: None, max_session_duration: Some(60) }, err "ValidationError"),
            case!("update missing", [], Command::UpdateRole { role_name: rn("r"), description: None, max_session_duration: None }, err "NoSuchEntity"),
            case!(
                "trust update",
                [create_role("r")],
                Command::UpdateAssumeRolePolicy {
                    role_name: rn("r"),
                    policy_document: TRUST.into()
                },
                ok["RoleTrustPolicyUpdated"]
            ),
            case!("trust update malformed", [create_role("r")], Command::UpdateAssumeRolePolicy { role_name: rn("r"), policy_document: ALLOW.into() }, err "MalformedPolicyDocument"),
            case!(
                "description",
                [create_role("r")],
                Command::UpdateRoleDescription {
                    role_name: rn("r"),
                    description: Description::parse("x").unwrap()
                },
                ok["RoleDescriptionUpdated"]
            ),
            case!(
                "delete",
                [create_role("r")],
                Command::DeleteRole { role_name: rn("r") },
                ok["RoleDeleted"]
            ),
            case!("delete with inline", [create_role("r"), Command::PutRolePolicy { role_name: rn("r"), policy_name: ipn("i"), policy_document: ALLOW.into() }], Command::DeleteRole { role_name: rn("r") }, err "DeleteConflict"),
            case!("delete with attached", [create_role("r"), create_policy("p"), Command::AttachRolePolicy { role_name: rn("r"), policy_arn: parn("p") }], Command::DeleteRole { role_name: rn("r") }, err "DeleteConflict"),
            case!("delete missing", [], Command::DeleteRole { role_name: rn("r") }, err "NoSuchEntity"),
        ],
    );
}

#[test]
fn trust_policy_size() {
    let mut w = World::with_quotas(Quotas {
        role_trust_policy_size: 50,
        ..Quotas::default()
    });
    assert_eq!(w.err(create_role("r")), "LimitExceeded");
}

#[test]
fn managed_policies() {
    run_table(
        Quotas {
            customer_managed_policies_per_account: 1,
            versions_per_managed_policy: 3,
            ..Quotas::default()
        },
        vec![
            case!("create", [], create_policy("p"), ok["PolicyCreated"]),
            case!("duplicate", [create_policy("p")], create_policy("P"), err "EntityAlreadyExists"),
            case!("quota", [create_policy("p")], create_policy("q"), err "LimitExceeded"),
            case!("malformed", [], Command::CreatePolicy { policy_name: pn("p"), path: None, policy_id: PolicyId::parse(&uid("ANPA", 1)).unwrap(), policy_document: TRUST.into(), description: None, tags: vec![], now: now() }, err "MalformedPolicyDocument"),
            case!("non-Latin-1 character", [], Command::CreatePolicy { policy_name: pn("p"), path: None, policy_id: PolicyId::parse(&uid("ANPA", 1)).unwrap(), policy_document: ALLOW.replace("s3:GetObject", "s3:Get\u{0100}"), description: None, tags: vec![], now: now() }, err "MalformedPolicyDocument"),
            case!(
                "version",
                [create_policy("p")],
                version("p", true),
                ok["PolicyVersionCreated"]
            ),
            case!("version quota", [create_policy("p"), version("p", false), version("p", false)], version("p", false), err "LimitExceeded"),
            case!("version of missing", [], version("p", false), err "NoSuchEntity"),
            case!("version with wrong path", [create_policy("p")], Command::CreatePolicyVersion { policy_arn: Arn::parse("arn:aws:iam::123456789012:policy/x/p").unwrap(), policy_document: DENY.into(), set_as_default: false, now: now() }, err "NoSuchEntity"),
            case!("version of other account", [create_policy("p")], Command::CreatePolicyVersion { policy_arn: Arn::parse("arn:aws:iam::210987654321:policy/p").unwrap(), policy_document: DENY.into(), set_as_default: false, now: now() }, err "NoSuchEntity"),
            case!(
                "delete version",
                [create_policy("p"), version("p", false)],
                Command::DeletePolicyVersion {
                    policy_arn: parn("p"),
                    version_id: PolicyVersionId::parse("v2").unwrap()
                },
                ok["PolicyVersionDeleted"]
            ),
            case!("delete default version", [create_policy("p"), version("p", false)], Command::DeletePolicyVersion { policy_arn: parn("p"), version_id: PolicyVersionId::parse("v1").unwrap() }, err "DeleteConflict"),
            case!("delete missing version", [create_policy("p")], Command::DeletePolicyVersion { policy_arn: parn("p"), version_id: PolicyVersionId::parse("v9").unwrap() }, err "NoSuchEntity"),
            case!(
                "set default",
                [create_policy("p"), version("p", false)],
                Command::SetDefaultPolicyVersion {
                    policy_arn: parn("p"),
                    version_id: PolicyVersionId::parse("v2").unwrap(),
                    now: now()
                },
                ok["PolicyDefaultVersionSet"]
            ),
            case!("set default no-op", [create_policy("p")], Command::SetDefaultPolicyVersion { policy_arn: parn("p"), version_id: PolicyVersionId::parse("v1").unwrap(), now: now() }, ok []),
            case!("set default missing", [create_policy("p")], Command::SetDefaultPolicyVersion { policy_arn: parn("p"), version_id: PolicyVersionId::parse("v3").unwrap(), now: now() }, err "NoSuchEntity"),
            case!(
                "delete",
                [create_policy("p")],
                Command::DeletePolicy {
                    policy_arn: parn("p")
                },
                ok["PolicyDeleted"]
            ),
            case!("delete attached", [create_policy("p"), create_user("u"), attach_user("u", "p")], Command::DeletePolicy { policy_arn: parn("p") }, err "DeleteConflict"),
            case!("delete boundary", [create_policy("p"), create_user("u"), Command::PutUserPermissionsBoundary { user_name: un("u"), permissions_boundary: parn("p") }], Command::DeletePolicy { policy_arn: parn("p") }, err "DeleteConflict"),
            case!("delete with versions", [create_policy("p"), version("p", false)], Command::DeletePolicy { policy_arn: parn("p") }, err "DeleteConflict"),
            case!("delete missing", [], Command::DeletePolicy { policy_arn: parn("p") }, err "NoSuchEntity"),
            case!("delete non-policy ARN", [], Command::DeletePolicy { policy_arn: Arn::parse("arn:aws:iam::123456789012:role/r").unwrap() }, err "InvalidInput"),
        ],
    );
}

#[test]
fn versions_are_never_reused() {
    let mut w = World::new();
    w.ok(create_policy("p"));
    w.ok(version("p", false));
    w.ok(version("p", true));
    w.ok(Command::DeletePolicyVersion {
        policy_arn: parn("p"),
        version_id: PolicyVersionId::parse("v2").unwrap(),
    });
    w.ok(version("p", false));
    let p = &w.state.policies[&pn("p").key()];
    let ids: Vec<String> = p.versions.keys().map(|v| v.to_string()).collect();
    assert_eq!(ids, ["v1", "v3", "v4"]);
    assert_eq!(p.default_version.to_string(), "v3");
}

#[test]
fn attachments() {
    let q = Quotas {
        managed_policies_per_user: 1,
        managed_policies_per_group: 1,
        managed_policies_per_role: 1,
        ..Quotas::default()
    };
    run_table(
        q,
        vec![
            case!(
                "attach user",
                [create_user("u"), create_policy("p")],
                attach_user("u", "p"),
                ok["ManagedPolicyAttached"]
            ),
            case!("attach twice no-op", [create_user("u"), create_policy("p"), attach_user("u", "p")], attach_user("U", "P"), ok []),
            case!("attach missing policy", [create_user("u")], attach_user("u", "p"), err "NoSuchEntity"),
            case!("attach missing user", [create_policy("p")], attach_user("u", "p"), err "NoSuchEntity"),
            case!("attach quota user", [create_user("u"), create_policy("p"), create_policy("q"), attach_user("u", "p")], attach_user("u", "q"), err "LimitExceeded"),
            case!("attach quota group", [create_group("g"), create_policy("p"), create_policy("q"), Command::AttachGroupPolicy { group_name: gn("g"), policy_arn: parn("p") }], Command::AttachGroupPolicy { group_name: gn("g"), policy_arn: parn("q") }, err "LimitExceeded"),
            case!("attach quota role", [create_role("r"), create_policy("p"), create_policy("q"), Command::AttachRolePolicy { role_name: rn("r"), policy_arn: parn("p") }], Command::AttachRolePolicy { role_name: rn("r"), policy_arn: parn("q") }, err "LimitExceeded"),
            case!(
                "detach user",
                [create_user("u"), create_policy("p"), attach_user("u", "p")],
                Command::DetachUserPolicy {
                    user_name: un("u"),
                    policy_arn: parn("p")
                },
                ok["ManagedPolicyDetached"]
            ),
            case!("detach not attached", [create_user("u"), create_policy("p")], Command::DetachUserPolicy { user_name: un("u"), policy_arn: parn("p") }, err "NoSuchEntity"),
            case!(
                "detach group",
                [
                    create_group("g"),
                    create_policy("p"),
                    Command::AttachGroupPolicy {
                        group_name: gn("g"),
                        policy_arn: parn("p")
                    }
                ],
                Command::DetachGroupPolicy {
                    group_name: gn("g"),
                    policy_arn: parn("p")
                },
                ok["ManagedPolicyDetached"]
            ),
            case!(
                "detach role",
                [
                    create_role("r"),
                    create_policy("p"),
                    Command::AttachRolePolicy {
                        role_name: rn("r"),
                        policy_arn: parn("p")
                    }
                ],
                Command::DetachRolePolicy {
                    role_name: rn("r"),
                    policy_arn: parn("p")
                },
                ok["ManagedPolicyDetached"]
            ),
        ],
    );
}

#[test]
fn inline_policies() {
    let q = Quotas {
        user_inline_policy_size: 150,
        ..Quotas::default()
    };
    run_table(
        q,
        vec![
            case!(
                "put",
                [create_user("u")],
                put_user_policy("u", "a", ALLOW),
                ok["InlinePolicyPut"]
            ),
            case!(
                "replace same name, other case",
                [create_user("u"), put_user_policy("u", "a", ALLOW)],
                put_user_policy("u", "A", DENY),
                ok["InlinePolicyPut"]
            ),
            case!("aggregate size", [create_user("u"), put_user_policy("u", "a", ALLOW)], put_user_policy("u", "b", ALLOW), err "LimitExceeded"),
            case!("malformed", [create_user("u")], put_user_policy("u", "a", TRUST), err "MalformedPolicyDocument"),
            case!("missing user", [], put_user_policy("u", "a", ALLOW), err "NoSuchEntity"),
            case!(
                "delete",
                [create_user("u"), put_user_policy("u", "a", ALLOW)],
                Command::DeleteUserPolicy {
                    user_name: un("u"),
                    policy_name: ipn("A")
                },
                ok["InlinePolicyDeleted"]
            ),
            case!("delete missing", [create_user("u")], Command::DeleteUserPolicy { user_name: un("u"), policy_name: ipn("a") }, err "NoSuchEntity"),
            case!(
                "group put",
                [create_group("g")],
                Command::PutGroupPolicy {
                    group_name: gn("g"),
                    policy_name: ipn("a"),
                    policy_document: ALLOW.into()
                },
                ok["InlinePolicyPut"]
            ),
            case!("group delete missing", [create_group("g")], Command::DeleteGroupPolicy { group_name: gn("g"), policy_name: ipn("a") }, err "NoSuchEntity"),
            case!(
                "role put",
                [create_role("r")],
                Command::PutRolePolicy {
                    role_name: rn("r"),
                    policy_name: ipn("a"),
                    policy_document: ALLOW.into()
                },
                ok["InlinePolicyPut"]
            ),
            case!(
                "role delete",
                [
                    create_role("r"),
                    Command::PutRolePolicy {
                        role_name: rn("r"),
                        policy_name: ipn("a"),
                        policy_document: ALLOW.into()
                    }
                ],
                Command::DeleteRolePolicy {
                    role_name: rn("r"),
                    policy_name: ipn("a")
                },
                ok["InlinePolicyDeleted"]
            ),
        ],
    );
}

#[test]
fn boundaries() {
    run_table(
        Quotas::default(),
        vec![
            case!(
                "put user",
                [create_user("u"), create_policy("p")],
                Command::PutUserPermissionsBoundary {
                    user_name: un("u"),
                    permissions_boundary: parn("p")
                },
                ok["PermissionsBoundarySet"]
            ),
            case!("put missing policy", [create_user("u")], Command::PutUserPermissionsBoundary { user_name: un("u"), permissions_boundary: parn("p") }, err "NoSuchEntity"),
            case!("put same no-op", [create_user("u"), create_policy("p"), Command::PutUserPermissionsBoundary { user_name: un("u"), permissions_boundary: parn("p") }], Command::PutUserPermissionsBoundary { user_name: un("u"), permissions_boundary: parn("p") }, ok []),
            case!(
                "delete user",
                [
                    create_user("u"),
                    create_policy("p"),
                    Command::PutUserPermissionsBoundary {
                        user_name: un("u"),
                        permissions_boundary: parn("p")
                    }
                ],
                Command::DeleteUserPermissionsBoundary { user_name: un("u") },
                ok["PermissionsBoundaryDeleted"]
            ),
            case!("delete none", [create_user("u")], Command::DeleteUserPermissionsBoundary { user_name: un("u") }, err "NoSuchEntity"),
            case!(
                "put role",
                [create_role("r"), create_policy("p")],
                Command::PutRolePermissionsBoundary {
                    role_name: rn("r"),
                    permissions_boundary: parn("p")
                },
                ok["PermissionsBoundarySet"]
            ),
            case!("delete role none", [create_role("r")], Command::DeleteRolePermissionsBoundary { role_name: rn("r") }, err "NoSuchEntity"),
        ],
    );
}

#[test]
fn tagging() {
    let q = Quotas {
        tags_per_entity: 2,
        ..Quotas::default()
    };
    let tag_user = |t: &[(&str, &str)]| Command::TagUser {
        user_name: un("u"),
        tags: tags(t),
    };
    run_table(
        q,
        vec![
            case!(
                "tag",
                [create_user("u")],
                tag_user(&[("a", "1")]),
                ok["EntityTagged"]
            ),
            case!("retag same no-op", [create_user("u"), tag_user(&[("a", "1")])], tag_user(&[("a", "1")]), ok []),
            case!(
                "overwrite other case",
                [create_user("u"), tag_user(&[("a", "1"), ("b", "2")])],
                tag_user(&[("A", "3")]),
                ok["EntityTagged"]
            ),
            case!("quota", [create_user("u"), tag_user(&[("a", "1"), ("b", "2")])], tag_user(&[("c", "3")]), err "LimitExceeded"),
            case!("duplicate keys", [create_user("u")], tag_user(&[("a", "1"), ("A", "2")]), err "InvalidInput"),
            case!(
                "untag",
                [create_user("u"), tag_user(&[("a", "1")])],
                Command::UntagUser {
                    user_name: un("u"),
                    tag_keys: vec![TagKey::parse("A").unwrap()]
                },
                ok["EntityUntagged"]
            ),
            case!("untag absent no-op", [create_user("u")], Command::UntagUser { user_name: un("u"), tag_keys: vec![TagKey::parse("a").unwrap()] }, ok []),
            case!(
                "tag role",
                [create_role("r")],
                Command::TagRole {
                    role_name: rn("r"),
                    tags: tags(&[("a", "")])
                },
                ok["EntityTagged"]
            ),
            case!(
                "untag role",
                [
                    create_role("r"),
                    Command::TagRole {
                        role_name: rn("r"),
                        tags: tags(&[("a", "")])
                    }
                ],
                Command::UntagRole {
                    role_name: rn("r"),
                    tag_keys: vec![TagKey::parse("a").unwrap()]
                },
                ok["EntityUntagged"]
            ),
            case!(
                "tag policy",
                [create_policy("p")],
                Command::TagPolicy {
                    policy_arn: parn("p"),
                    tags: tags(&[("a", "")])
                },
                ok["EntityTagged"]
            ),
            case!("tag missing policy", [], Command::TagPolicy { policy_arn: parn("p"), tags: tags(&[("a", "")]) }, err "NoSuchEntity"),
            case!(
                "untag policy",
                [
                    create_policy("p"),
                    Command::TagPolicy {
                        policy_arn: parn("p"),
                        tags: tags(&[("a", "")])
                    }
                ],
                Command::UntagPolicy {
                    policy_arn: parn("p"),
                    tag_keys: vec![TagKey::parse("a").unwrap()]
                },
                ok["EntityUntagged"]
            ),
        ],
    );
}

#[test]
fn tag_case_is_replaced_by_the_latest() {
    let mut w = World::new();
    w.ok(create_user("u"));
    w.ok(Command::TagUser {
        user_name: un("u"),
        tags: tags(&[("Team", "a")]),
    });
    w.ok(Command::TagUser {
        user_name: un("u"),
        tags: tags(&[("TEAM", "b")]),
    });
    let t: Vec<_> = w.state.users[&un("u").key()]
        .tags
        .values()
        .map(|t| (t.key.as_str().to_owned(), t.value.as_str().to_owned()))
        .collect();
    assert_eq!(t, [("TEAM".to_owned(), "b".to_owned())]);
}

#[test]
fn access_keys() {
    let q = Quotas {
        access_keys_per_user: 2,
        access_keys_per_root: 1,
        ..Quotas::default()
    };
    let root_key = |n| Command::CreateAccessKey {
        owner: CredentialOwner::Root,
        access_key_id: akid(n),
        secret: sealed("r"),
        now: now(),
    };
    let update = |u: &str, n, s| Command::UpdateAccessKey {
        owner: user_owner(u),
        access_key_id: akid(n),
        status: s,
    };
    run_table(
        q,
        vec![
            case!(
                "create",
                [create_user("u")],
                create_key("u", 1),
                ok["AccessKeyCreated"]
            ),
            case!("missing user", [], create_key("u", 1), err "NoSuchEntity"),
            case!("quota (inactive keys count)", [create_user("u"), create_key("u", 1), create_key("u", 2), update("u", 1, AccessKeyStatus::Inactive)], create_key("u", 3), err "LimitExceeded"),
            case!("id collision", [create_user("u"), create_user("v"), create_key("u", 1)], create_key("v", 1), err "EntityAlreadyExists"),
            case!("temporary id", [create_user("u")], Command::CreateAccessKey { owner: user_owner("u"), access_key_id: AccessKeyId::parse("ASIAIOSFODNN7EXAMPLE").unwrap(), secret: sealed("x"), now: now() }, err "InvalidInput"),
            case!("root key", [], root_key(1), ok["AccessKeyCreated"]),
            case!("root quota", [root_key(1)], root_key(2), err "LimitExceeded"),
            case!(
                "deactivate",
                [create_user("u"), create_key("u", 1)],
                update("u", 1, AccessKeyStatus::Inactive),
                ok["AccessKeyStatusUpdated"]
            ),
            case!("deactivate twice no-op", [create_user("u"), create_key("u", 1), update("u", 1, AccessKeyStatus::Inactive)], update("u", 1, AccessKeyStatus::Inactive), ok []),
            case!("update someone else's key", [create_user("u"), create_user("v"), create_key("u", 1)], update("v", 1, AccessKeyStatus::Inactive), err "NoSuchEntity"),
            case!(
                "delete",
                [create_user("u"), create_key("u", 1)],
                Command::DeleteAccessKey {
                    owner: user_owner("u"),
                    access_key_id: akid(1)
                },
                ok["AccessKeyDeleted"]
            ),
            case!("delete missing", [create_user("u")], Command::DeleteAccessKey { owner: user_owner("u"), access_key_id: akid(1) }, err "NoSuchEntity"),
            case!(
                "record use",
                [create_user("u"), create_key("u", 1)],
                Command::RecordAccessKeyUse {
                    access_key_id: akid(1),
                    used_at: at(5),
                    service_name: "iam".into(),
                    region: "us-east-1".into()
                },
                ok["AccessKeyUsed"]
            ),
            case!("record older use no-op", [create_user("u"), create_key("u", 1), Command::RecordAccessKeyUse { access_key_id: akid(1), used_at: at(5), service_name: "iam".into(), region: "us-east-1".into() }], Command::RecordAccessKeyUse { access_key_id: akid(1), used_at: at(4), service_name: "iam".into(), region: "us-east-1".into() }, ok []),
            case!("record use missing", [], Command::RecordAccessKeyUse { access_key_id: akid(1), used_at: at(5), service_name: "iam".into(), region: "us-east-1".into() }, err "NoSuchEntity"),
        ],
    );
}

#[test]
fn login_profiles() {
    run_table(
        Quotas::default(),
        vec![
            case!(
                "create",
                [create_user("u")],
                login("u"),
                ok["LoginProfileCreated"]
            ),
            case!("create twice", [create_user("u"), login("u")], login("u"), err "EntityAlreadyExists"),
            case!("create missing user", [], login("u"), err "NoSuchEntity"),
            case!(
                "update",
                [create_user("u"), login("u")],
                Command::UpdateLoginProfile {
                    user_name: un("u"),
                    password_hash: Some(phc()),
                    password_reset_required: Some(true),
                    now: now()
                },
                ok["LoginProfileUpdated"]
            ),
            case!("update no-op", [create_user("u"), login("u")], Command::UpdateLoginProfile { user_name: un("u"), password_hash: None, password_reset_required: Some(false), now: now() }, ok []),
            case!("update missing", [create_user("u")], Command::UpdateLoginProfile { user_name: un("u"), password_hash: Some(phc()), password_reset_required: None, now: now() }, err "NoSuchEntity"),
            case!(
                "delete",
                [create_user("u"), login("u")],
                Command::DeleteLoginProfile { user_name: un("u") },
                ok["LoginProfileDeleted"]
            ),
            case!("delete missing", [create_user("u")], Command::DeleteLoginProfile { user_name: un("u") }, err "NoSuchEntity"),
        ],
    );
}

#[test]
fn mfa_devices() {
    let q = Quotas {
        mfa_devices_per_user: 1,
        virtual_mfa_devices_per_account: Some(2),
        ..Quotas::default()
    };
    run_table(
        q,
        vec![
            case!("create", [], create_mfa("d"), ok["VirtualMfaDeviceCreated"]),
            case!("duplicate", [create_mfa("d")], create_mfa("D"), err "EntityAlreadyExists"),
            case!("quota", [create_mfa("a"), create_mfa("b")], create_mfa("c"), err "LimitExceeded"),
            case!(
                "enable",
                [create_user("u"), create_mfa("d")],
                enable_mfa("u", "d"),
                ok["MfaDeviceEnabled"]
            ),
            case!(
                "enable for root",
                [create_mfa("d")],
                Command::EnableMfaDevice {
                    owner: CredentialOwner::Root,
                    serial_number: mfa_arn("d"),
                    now: now(),
                    counter: None,
                },
                ok["MfaDeviceEnabled"]
            ),
            case!("enable in use", [create_user("u"), create_user("v"), create_mfa("d"), enable_mfa("u", "d")], enable_mfa("v", "d"), err "EntityAlreadyExists"),
            case!("enable over quota", [create_user("u"), create_mfa("d"), create_mfa("e"), enable_mfa("u", "d")], enable_mfa("u", "e"), err "LimitExceeded"),
            case!("enable missing device", [create_user("u")], enable_mfa("u", "d"), err "NoSuchEntity"),
            case!("enable missing user", [create_mfa("d")], enable_mfa("u", "d"), err "NoSuchEntity"),
            case!(
                "deactivate",
                [create_user("u"), create_mfa("d"), enable_mfa("u", "d")],
                Command::DeactivateMfaDevice {
                    owner: user_owner("u"),
                    serial_number: mfa_arn("d")
                },
                ok["MfaDeviceDeactivated"]
            ),
            case!("deactivate not enabled", [create_user("u"), create_mfa("d")], Command::DeactivateMfaDevice { owner: user_owner("u"), serial_number: mfa_arn("d") }, err "NoSuchEntity"),
            case!(
                "delete",
                [create_mfa("d")],
                Command::DeleteVirtualMfaDevice {
                    serial_number: mfa_arn("d")
                },
                ok["VirtualMfaDeviceDeleted"]
            ),
            case!("delete in use", [create_user("u"), create_mfa("d"), enable_mfa("u", "d")], Command::DeleteVirtualMfaDevice { serial_number: mfa_arn("d") }, err "DeleteConflict"),
            case!("delete missing", [], Command::DeleteVirtualMfaDevice { serial_number: mfa_arn("d") }, err "NoSuchEntity"),
        ],
    );
}

#[test]
fn password_policy() {
    let good = PasswordPolicy {
        minimum_password_length: 12,
        require_symbols: true,
        ..PasswordPolicy::aws_default()
    };
    let bad = PasswordPolicy {
        minimum_password_length: 200,
        ..PasswordPolicy::aws_default()
    };
    run_table(
        Quotas::default(),
        vec![
            case!(
                "set",
                [],
                Command::UpdateAccountPasswordPolicy {
                    policy: good.clone()
                },
                ok["PasswordPolicyUpdated"]
            ),
            case!("set same no-op", [Command::UpdateAccountPasswordPolicy { policy: good.clone() }], Command::UpdateAccountPasswordPolicy { policy: good.clone() }, ok []),
            case!("invalid", [], Command::UpdateAccountPasswordPolicy { policy: bad }, err "ValidationError"),
            case!(
                "delete",
                [Command::UpdateAccountPasswordPolicy { policy: good }],
                Command::DeleteAccountPasswordPolicy,
                ok["PasswordPolicyDeleted"]
            ),
            case!("delete none", [], Command::DeleteAccountPasswordPolicy, err "NoSuchEntity"),
        ],
    );
}

#[test]
fn credential_reports() {
    let hours = |h: i64| at(h * 3600);
    let generate = |h: i64, position: u64| Command::GenerateCredentialReport {
        now: hours(h),
        log_position: position,
    };
    run_table(
        Quotas::default(),
        vec![
            case!("first", [], generate(0, 7), ok["CredentialReportGenerated"]),
            // AWS serves a report for four hours; generating within them keeps it.
            case!("within four hours", [generate(0, 7)], generate(3, 9), ok[]),
            case!(
                "after four hours",
                [generate(0, 7)],
                generate(5, 9),
                ok["CredentialReportGenerated"]
            ),
        ],
    );
    let mut w = World::new();
    w.ok(generate(0, 7));
    w.ok(generate(5, 42));
    let kept = w.state.credential_report.clone().unwrap();
    assert_eq!((kept.generated_at, kept.log_position), (hours(5), 42));
}

#[test]
fn error_codes_and_messages() {
    let mut w = World::new();
    w.ok(create_user("alice"));
    let e = decide(&w.state, &create_user("Alice"), &w.quotas).unwrap_err();
    assert_eq!(e.code(), "EntityAlreadyExists");
    assert_eq!(e.message(), "User with name Alice already exists.");
    assert_eq!(e.http_status(), 409);
    let e = decide(
        &w.state,
        &Command::DeleteUser {
            user_name: un("bob"),
        },
        &w.quotas,
    )
    .unwrap_err();
    assert_eq!(e.message(), "The user with name bob cannot be found.");
    assert_eq!(e.http_status(), 404);
}

/// `doc` padded with spaces after its closing brace to `len` characters.
fn padded(doc: &str, len: usize) -> String {
    format!("{doc}{}", " ".repeat(len - doc.len()))
}

/// A whitespace-padded document within every size quota but over AWS's raw
/// limit of 131,072 characters is refused, before parsing, at every place a
/// document enters, with AWS's constraint message; one at the limit is not.
#[test]
fn policy_documents_have_a_raw_length_cap() {
    use iam_domain::decide::MAX_POLICY_DOCUMENT_LEN;
    let field_of = |c: &Command| match c {
        Command::CreateRole { .. } => "assumeRolePolicyDocument",
        _ => "policyDocument",
    };
    let commands = |len: usize| -> Vec<(Vec<Command>, Command)> {
        let allow = padded(ALLOW, len);
        let trust = padded(TRUST, len);
        let mut role = create_role("r2");
        if let Command::CreateRole {
            assume_role_policy_document,
            ..
        } = &mut role
        {
            *assume_role_policy_document = trust.clone();
        }
        let mut policy = create_policy("p2");
        if let Command::CreatePolicy {
            policy_document, ..
        } = &mut policy
        {
            *policy_document = allow.clone();
        }
        vec![
            (vec![create_user("u")], put_user_policy("u", "i", &allow)),
            (
                vec![create_group("g")],
                Command::PutGroupPolicy {
                    group_name: gn("g"),
                    policy_name: ipn("i"),
                    policy_document: allow.clone(),
                },
            ),
            (
                vec![create_role("r")],
                Command::PutRolePolicy {
                    role_name: rn("r"),
                    policy_name: ipn("i"),
                    policy_document: allow.clone(),
                },
            ),
            (vec![], policy),
            (
                vec![create_policy("p")],
                Command::CreatePolicyVersion {
                    policy_arn: parn("p"),
                    policy_document: allow.clone(),
                    set_as_default: false,
                    now: now(),
                },
            ),
            (vec![], role),
            (
                vec![create_role("r")],
                Command::UpdateAssumeRolePolicy {
                    role_name: rn("r"),
                    policy_document: trust.clone(),
                },
            ),
        ]
    };
    for (setup, cmd) in commands(MAX_POLICY_DOCUMENT_LEN + 1) {
        let mut w = World::new();
        for c in setup {
            w.ok(c);
        }
        let name = cmd.variant_name();
        let name = name.as_str();
        let field = field_of(&cmd);
        let e = w.run(cmd).expect_err(name);
        assert_eq!(e.code(), "ValidationError", "{name}");
        assert_eq!(
            e.message(),
            format!(
                "1 validation error detected: Value at '{field}' failed to satisfy constraint: \
                 Member must have length less than or equal to 131072"
            ),
            "{name}"
        );
    }
    for (setup, cmd) in commands(MAX_POLICY_DOCUMENT_LEN) {
        let mut w = World::new();
        for c in setup {
            w.ok(c);
        }
        let name = cmd.variant_name();
        let name = name.as_str();
        assert!(w.run(cmd).is_ok(), "{name} at the limit");
    }
    // Checked before the JSON: an over-long document that is not JSON at all
    // is a length error, not a malformed document.
    let mut w = World::new();
    w.ok(create_user("u"));
    let junk = "{".repeat(MAX_POLICY_DOCUMENT_LEN + 1);
    assert_eq!(w.err(put_user_policy("u", "i", &junk)), "ValidationError");
    // Characters, not bytes: 131,072 two-byte characters are within the cap
    // (and then refused as a document, not for their length).
    let latin = "é".repeat(MAX_POLICY_DOCUMENT_LEN);
    assert_eq!(
        w.err(put_user_policy("u", "i", &latin)),
        "MalformedPolicyDocument"
    );
}

/// At most 50 tags (or tag keys) per command, whatever the entity's quota
/// (AWS's list limit, checked before the per-entity quota).
#[test]
fn at_most_fifty_tags_per_command() {
    let many = |n: usize| -> Vec<Tag> {
        (0..n)
            .map(|i| Tag::new(&format!("k{i}"), "v").unwrap())
            .collect()
    };
    let quotas = Quotas {
        tags_per_entity: 1000,
        ..Quotas::default()
    };
    let mut w = World::with_quotas(quotas);
    w.ok(create_user("u"));
    let tag_user = |n| Command::TagUser {
        user_name: un("u"),
        tags: many(n),
    };
    let e = w.run(tag_user(51)).unwrap_err();
    assert_eq!(e.code(), "ValidationError");
    assert!(e.message().contains("Value at 'tags'"), "{}", e.message());
    w.ok(tag_user(50));
    let mut create = create_user("v");
    if let Command::CreateUser { tags, .. } = &mut create {
        *tags = many(51);
    }
    assert_eq!(w.err(create), "ValidationError");
    let untag = |n: usize| Command::UntagUser {
        user_name: un("u"),
        tag_keys: (0..n)
            .map(|i| TagKey::parse(&format!("k{i}")).unwrap())
            .collect(),
    };
    let e = w.run(untag(51)).unwrap_err();
    assert!(
        e.message().contains("Value at 'tagKeys'"),
        "{}",
        e.message()
    );
    w.ok(untag(50));
}

/// The service and region of a key's last use come from the request's
/// signing scope and are returned in XML: no control characters.
#[test]
fn access_key_use_refuses_control_characters() {
    let mut w = World::new();
    w.ok(create_user("u"));
    w.ok(create_key("u", 1));
    let record = |service: &str, region: &str| Command::RecordAccessKeyUse {
        access_key_id: akid(1),
        used_at: now(),
        service_name: service.into(),
        region: region.into(),
    };
    assert_eq!(w.err(record("iam", "us-east-1\u{b}")), "ValidationError");
    assert_eq!(w.err(record("i\u{c}am", "us-east-1")), "ValidationError");
    assert_eq!(w.err(record("", "us-east-1")), "ValidationError");
    w.ok(record("iam", "us-east-1"));
}
