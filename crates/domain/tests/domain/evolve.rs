//! `evolve` on events that do not fit the state: ignored or applied as far as
//! they make sense, never a panic.

use iam_domain::event::{Event, EventData};
use iam_domain::ids::*;
use iam_domain::state::{CredentialOwner, EntityRef};
use iam_domain::{evolve, AccountState, Command};

use crate::common::*;

fn event(data: EventData) -> Event {
    Event {
        account_id: account(),
        data,
    }
}

fn user_created(name: &str, id: u32) -> EventData {
    EventData::UserCreated {
        user_name: un(name),
        user_id: UserId::parse(&uid("AIDA", id)).unwrap(),
        path: path("/"),
        permissions_boundary: None,
        tags: vec![],
        created_at: now(),
    }
}

#[test]
fn nothing_before_the_account_exists() {
    let mut s = AccountState::default();
    evolve(&mut s, &event(user_created("alice", 1)));
    assert_eq!(s, AccountState::default());
}

#[test]
fn events_of_another_account_are_ignored() {
    let mut w = World::new();
    let before = w.state.clone();
    let other = Event {
        account_id: AccountId::parse("210987654321").unwrap(),
        data: user_created("alice", 1),
    };
    evolve(&mut w.state, &other);
    assert_eq!(w.state, before);
    // A second AccountCreated does not reset the account.
    evolve(
        &mut w.state,
        &Event {
            account_id: AccountId::parse("210987654321").unwrap(),
            data: EventData::AccountCreated { created_at: at(9) },
        },
    );
    assert_eq!(w.state, before);
}

#[test]
fn duplicate_creation_keeps_the_first() {
    let mut w = World::new();
    evolve(&mut w.state, &event(user_created("alice", 1)));
    evolve(&mut w.state, &event(user_created("ALICE", 2)));
    assert_eq!(w.state.users.len(), 1);
    assert_eq!(
        w.state.users[&un("alice").key()].id.as_str(),
        uid("AIDA", 1)
    );
}

#[test]
fn dangling_references_are_not_created() {
    let mut w = World::new();
    w.ok(create_user("u"));
    let before = w.state.clone();
    for data in [
        EventData::ManagedPolicyAttached {
            target: EntityRef::User { user_name: un("u") },
            policy_arn: parn("nope"),
        },
        EventData::PermissionsBoundarySet {
            target: EntityRef::User { user_name: un("u") },
            permissions_boundary: parn("nope"),
        },
        EventData::UserAddedToGroup {
            group_name: gn("nope"),
            user_name: un("u"),
        },
        EventData::AccessKeyCreated {
            owner: user_owner("ghost"),
            access_key_id: akid(1),
            secret: sealed("x"),
            created_at: now(),
        },
        EventData::MfaDeviceEnabled {
            owner: CredentialOwner::Root,
            serial_number: mfa_arn("nope"),
            enabled_at: now(),
            counter: None,
        },
        EventData::InlinePolicyPut {
            target: EntityRef::Policy {
                policy_name: pn("p"),
            },
            policy_name: ipn("i"),
            policy_document: ALLOW.into(),
        },
        EventData::UserDeleted {
            user_name: un("ghost"),
            user_id: UserId::parse(&uid("AIDA", 9)).unwrap(),
        },
        EventData::UserUpdated {
            user_name: un("ghost"),
            new_user_name: Some(un("x")),
            new_path: None,
        },
        EventData::AccessKeyUsed {
            access_key_id: akid(7),
            used_at: now(),
            service_name: "iam".into(),
            region: "r".into(),
        },
    ] {
        evolve(&mut w.state, &event(data));
        assert_eq!(w.state, before);
    }
}

#[test]
fn protected_things_are_not_removed() {
    let mut w = World::new();
    w.ok(create_user("u"));
    w.ok(create_policy("p"));
    w.ok(create_mfa("d"));
    w.ok(Command::EnableMfaDevice {
        owner: user_owner("u"),
        serial_number: mfa_arn("d"),
        now: now(),
        counter: None,
    });
    let before = w.state.clone();
    // The default version and an enabled device survive a stray delete event.
    evolve(
        &mut w.state,
        &event(EventData::PolicyVersionDeleted {
            policy_name: pn("p"),
            version_id: PolicyVersionId::parse("v1").unwrap(),
        }),
    );
    evolve(
        &mut w.state,
        &event(EventData::VirtualMfaDeviceDeleted {
            serial_number: mfa_arn("d"),
        }),
    );
    assert_eq!(w.state, before);
}

#[test]
fn deleting_a_user_cleans_up_after_it() {
    let mut w = World::new();
    w.ok(create_user("u"));
    w.ok(create_group("g"));
    w.ok(Command::AddUserToGroup {
        group_name: gn("g"),
        user_name: un("u"),
    });
    w.ok(create_key("u", 1));
    // A log that skipped the removals (not something decide emits).
    evolve(
        &mut w.state,
        &event(EventData::UserDeleted {
            user_name: un("u"),
            user_id: UserId::parse(&uid("AIDA", 1)).unwrap(),
        }),
    );
    assert!(w.state.groups[&gn("g").key()].members.is_empty());
    assert!(w.state.access_keys.is_empty());
}
