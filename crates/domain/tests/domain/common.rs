//! Builders shared by every test module: a fresh account, command helpers,
//! and a `World` that runs `decide` then `evolve` and checks that replaying
//! the log rebuilds the same state.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use iam_domain::arn::Arn;
use iam_domain::ids::*;
use iam_domain::names::*;
use iam_domain::secrets::{seal, MasterKey, PasswordHash, SealedSecret};
use iam_domain::state::CredentialOwner;
use iam_domain::{decide, evolve, AccountState, Command, DomainError, Event, Quotas};

pub const ACCOUNT: &str = "123456789012";
pub const ALLOW: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
pub const DENY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
pub const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

pub fn account() -> AccountId {
    AccountId::parse(ACCOUNT).unwrap()
}
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
}
pub fn at(secs: i64) -> DateTime<Utc> {
    now() + chrono::Duration::seconds(secs)
}
pub fn un(s: &str) -> UserName {
    UserName::parse(s).unwrap()
}
pub fn gn(s: &str) -> GroupName {
    GroupName::parse(s).unwrap()
}
pub fn rn(s: &str) -> RoleName {
    RoleName::parse(s).unwrap()
}
pub fn pn(s: &str) -> PolicyName {
    PolicyName::parse(s).unwrap()
}
pub fn ipn(s: &str) -> InlinePolicyName {
    InlinePolicyName::parse(s).unwrap()
}
pub fn path(s: &str) -> IamPath {
    IamPath::parse(s).unwrap()
}
pub fn parn(name: &str) -> Arn {
    Arn::parse(&format!("arn:aws:iam::{ACCOUNT}:policy/{name}")).unwrap()
}
pub fn mfa_arn(name: &str) -> Arn {
    Arn::parse(&format!("arn:aws:iam::{ACCOUNT}:mfa/{name}")).unwrap()
}
/// A deterministic unique id with the given prefix, distinct per `n`.
pub fn uid(prefix: &str, n: u32) -> String {
    format!("{prefix}{n:017}")
}
/// A deterministic unique id derived from a name (FNV-1a), so distinct names
/// get distinct ids.
pub fn uid_of(prefix: &str, name: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in name.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    format!("{prefix}{:017}", h % 100_000_000_000_000_000)
}
pub fn akid(n: u32) -> AccessKeyId {
    AccessKeyId::parse(&format!("AKIA{n:016}")).unwrap()
}
pub fn sealed(aad: &str) -> SealedSecret {
    seal(
        &MasterKey::from_bytes([9; 32]),
        [1; 12],
        aad.as_bytes(),
        b"not-a-real-secret-key",
    )
}
pub fn phc() -> PasswordHash {
    // A fixed, valid argon2id PHC string (hashing in every test would be slow).
    PasswordHash::parse("$argon2id$v=19$m=19456,t=2,p=1$AwMDAwMDAwMDAwMDAwMDAw$qbNs1C7WbnCMxH+UQK2kv0V1KF1Ts0hQ9K9j6TK5dG8").unwrap()
}
pub fn user_owner(name: &str) -> CredentialOwner {
    CredentialOwner::User {
        user_name: un(name),
    }
}

pub fn create_account() -> Command {
    Command::CreateAccount {
        account_id: account(),
        now: now(),
    }
}
pub fn create_user(name: &str) -> Command {
    Command::CreateUser {
        user_name: un(name),
        path: None,
        user_id: UserId::parse(&uid_of("AIDA", name)).unwrap(),
        permissions_boundary: None,
        tags: vec![],
        now: now(),
    }
}
pub fn create_group(name: &str) -> Command {
    Command::CreateGroup {
        group_name: gn(name),
        path: None,
        group_id: GroupId::parse(&uid_of("AGPA", name)).unwrap(),
        now: now(),
    }
}
pub fn create_role(name: &str) -> Command {
    Command::CreateRole {
        role_name: rn(name),
        path: None,
        role_id: RoleId::parse(&uid_of("AROA", name)).unwrap(),
        assume_role_policy_document: TRUST.into(),
        description: None,
        max_session_duration: None,
        permissions_boundary: None,
        tags: vec![],
        now: now(),
    }
}
pub fn create_policy(name: &str) -> Command {
    Command::CreatePolicy {
        policy_name: pn(name),
        path: None,
        policy_id: PolicyId::parse(&uid_of("ANPA", name)).unwrap(),
        policy_document: ALLOW.into(),
        description: None,
        tags: vec![],
        now: now(),
    }
}
pub fn create_key(user: &str, n: u32) -> Command {
    Command::CreateAccessKey {
        owner: user_owner(user),
        access_key_id: akid(n),
        secret: sealed("k"),
        now: now(),
    }
}
pub fn create_mfa(name: &str) -> Command {
    Command::CreateVirtualMfaDevice {
        device_name: MfaDeviceName::parse(name).unwrap(),
        path: None,
        tags: vec![],
        seed: sealed(name),
        now: now(),
    }
}

/// A state plus its log. `run` decides, appends and evolves, and after every
/// command checks that replaying the whole log from scratch gives the same state.
pub struct World {
    pub state: AccountState,
    pub quotas: Quotas,
    pub log: Vec<Event>,
}

impl World {
    pub fn new() -> Self {
        Self::with_quotas(Quotas::default())
    }
    pub fn with_quotas(quotas: Quotas) -> Self {
        let mut w = World {
            state: AccountState::default(),
            quotas,
            log: vec![],
        };
        w.ok(create_account());
        w
    }
    pub fn run(&mut self, c: Command) -> Result<Vec<Event>, DomainError> {
        let events = decide(&self.state, &c, &self.quotas)?;
        for e in &events {
            evolve(&mut self.state, e);
            self.log.push(e.clone());
        }
        let mut replay = AccountState::default();
        for e in &self.log {
            evolve(&mut replay, e);
        }
        assert_eq!(replay, self.state, "replay differs after {c:?}");
        Ok(events)
    }
    /// Runs a command that must succeed; returns the emitted event types.
    #[track_caller]
    pub fn ok(&mut self, c: Command) -> Vec<&'static str> {
        let dbg = format!("{c:?}");
        match self.run(c) {
            Ok(evs) => evs.iter().map(|e| e.event_type()).collect(),
            Err(e) => panic!("{dbg} failed: {} {}", e.code(), e.message()),
        }
    }
    /// Runs a command that must fail; returns the error code. The state must not change.
    #[track_caller]
    pub fn err(&mut self, c: Command) -> &'static str {
        let before = self.state.clone();
        let dbg = format!("{c:?}");
        match self.run(c) {
            Ok(evs) => panic!("{dbg} succeeded with {evs:?}"),
            Err(e) => {
                assert_eq!(before, self.state);
                assert!(!e.message().is_empty());
                e.code()
            }
        }
    }
}
