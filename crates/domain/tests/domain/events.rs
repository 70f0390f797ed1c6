//! Event storage: stable JSON names, round trips through `from_stored`,
//! upcasting of schema version 1, and the absence of secrets.

use iam_domain::event::{Event, EventData, UpcastError, SCHEMA_VERSION};
use iam_domain::secrets::{hash_password, open_string, seal, MasterKey};
use iam_domain::state::CredentialOwner;
use iam_domain::Command;
use serde_json::json;

use crate::common::*;

#[test]
fn payload_shape_is_stable() {
    let mut w = World::new();
    w.ok(create_user("alice"));
    let e = w.log.last().unwrap();
    assert_eq!(e.event_type(), "UserCreated");
    assert_eq!(e.stream_name(), "account-123456789012");
    let p = e.to_payload();
    assert_eq!(
        p,
        json!({
            "account_id": "123456789012",
            "user_name": "alice",
            "user_id": uid_of("AIDA", "alice"),
            "path": "/",
            "permissions_boundary": null,
            "tags": [],
            "created_at": "2026-01-02T03:04:05Z"
        })
    );
    assert_eq!(
        Event::from_stored("UserCreated", SCHEMA_VERSION, &p).unwrap(),
        *e
    );
}

#[test]
fn attachment_payload_names_target_and_arn() {
    let mut w = World::new();
    w.ok(create_role("r"));
    w.ok(create_policy("p"));
    w.ok(Command::AttachRolePolicy {
        role_name: rn("r"),
        policy_arn: parn("p"),
    });
    let p = w.log.last().unwrap().to_payload();
    assert_eq!(p["target"], json!({"kind": "role", "role_name": "r"}));
    assert_eq!(p["policy_arn"], "arn:aws:iam::123456789012:policy/p");
}

#[test]
fn upcast_v1_role_created() {
    let v1 = json!({
        "account_id": "123456789012",
        "role_name": "r",
        "role_id": "AROA00000000000000001",
        "path": "/",
        "assume_role_policy_document": TRUST,
        "permissions_boundary": null,
        "tags": [],
        "created_at": "2026-01-02T03:04:05Z"
    });
    let e = Event::from_stored("RoleCreated", 1, &v1).unwrap();
    let EventData::RoleCreated {
        max_session_duration,
        description,
        ..
    } = &e.data
    else {
        panic!()
    };
    assert_eq!(*max_session_duration, 3600);
    assert_eq!(*description, None);
    // The same payload is not a valid v2 payload.
    assert!(matches!(
        Event::from_stored("RoleCreated", 2, &v1),
        Err(UpcastError::Malformed { .. })
    ));
}

#[test]
fn upcast_v1_access_key_owner() {
    let v1 = json!({
        "account_id": "123456789012",
        "user_name": "alice",
        "access_key_id": "AKIA0000000000000001",
        "secret": {"nonce": "000000000000000000000000", "ciphertext": "abcd"},
        "created_at": "2026-01-02T03:04:05Z"
    });
    let e = Event::from_stored("AccessKeyCreated", 1, &v1).unwrap();
    let EventData::AccessKeyCreated { owner, .. } = &e.data else {
        panic!()
    };
    assert_eq!(
        *owner,
        CredentialOwner::User {
            user_name: un("alice")
        }
    );
    let d = json!({"account_id": "123456789012", "user_name": "alice", "access_key_id": "AKIA0000000000000001"});
    assert!(Event::from_stored("AccessKeyDeleted", 1, &d).is_ok());
}

#[test]
fn unknown_versions_and_types_are_errors() {
    let p = json!({"account_id": "123456789012"});
    assert!(matches!(
        Event::from_stored("UserCreated", 0, &p),
        Err(UpcastError::UnsupportedVersion { .. })
    ));
    assert!(matches!(
        Event::from_stored("UserCreated", SCHEMA_VERSION + 1, &p),
        Err(UpcastError::UnsupportedVersion { .. })
    ));
    assert!(matches!(
        Event::from_stored("NoSuchEvent", SCHEMA_VERSION, &p),
        Err(UpcastError::Malformed { .. })
    ));
    assert!(matches!(
        Event::from_stored("UserCreated", SCHEMA_VERSION, &json!([])),
        Err(UpcastError::Malformed { .. })
    ));
    // Invalid names are rejected on the way in, not trusted.
    let bad = json!({"account_id": "123456789012", "user_name": "a b", "user_id": uid_of("AIDA", "alice"),
        "path": "/", "permissions_boundary": null, "tags": [], "created_at": "2026-01-02T03:04:05Z"});
    assert!(Event::from_stored("UserCreated", SCHEMA_VERSION, &bad).is_err());
}

#[test]
fn no_plaintext_secret_in_any_event() {
    let key = MasterKey::from_bytes([42; 32]);
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let seed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let password = "Correct-Horse-Battery-9";
    let mut w = World::new();
    w.ok(create_user("alice"));
    w.ok(Command::CreateAccessKey {
        owner: user_owner("alice"),
        access_key_id: akid(1),
        secret: seal(
            &key,
            [5; 12],
            akid(1).as_str().as_bytes(),
            secret.as_bytes(),
        ),
        now: now(),
    });
    w.ok(Command::CreateVirtualMfaDevice {
        device_name: iam_domain::names::MfaDeviceName::parse("alice-phone").unwrap(),
        path: None,
        tags: vec![],
        seed: seal(
            &key,
            [6; 12],
            mfa_arn("alice-phone").to_string().as_bytes(),
            seed.as_bytes(),
        ),
        now: now(),
    });
    w.ok(Command::CreateLoginProfile {
        user_name: un("alice"),
        password_hash: hash_password(password, &[1; 16]),
        password_reset_required: true,
        now: now(),
    });
    for e in &w.log {
        let text = e.to_payload().to_string();
        for s in [secret, seed, password] {
            assert!(!text.contains(s), "{} leaks a secret", e.event_type());
        }
    }
    // ...but the server can read back what it needs.
    let k = &w.state.access_keys[&akid(1)];
    assert_eq!(
        open_string(&key, &k.secret, akid(1).as_str().as_bytes()).unwrap(),
        secret
    );
}
