//! The bench account, shared by the projection benchmark and the server's
//! history benchmark (`crates/api/benches/history.rs` includes this file):
//! 10,000 users, 500 groups, 2,000 roles and 1,500 managed policies with
//! memberships, attachments, inline policies, tags and policy versions —
//! 184,501 events, all produced by `decide` — and, for each command, the
//! ARN iamd records as its target.

#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use iam_domain::ids::{AccountId, GroupId, PolicyId, RoleId, UserId};
use iam_domain::names::{
    GroupName, IamPath, InlinePolicyName, PolicyName, RoleName, Tag, UserName,
};
use iam_domain::{decide, evolve, AccountState, Arn, Command, Event, Quotas};

pub const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::bucket/${aws:username}/*"}]}"#;
pub const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

pub fn account() -> AccountId {
    AccountId::parse("123456789012").unwrap()
}

pub fn commands() -> Vec<Command> {
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let policy_arn = |i: u32| {
        Arn::policy(
            &account(),
            &IamPath::root(),
            &PolicyName::parse(&format!("policy-{i}")).unwrap(),
        )
    };
    let mut c = vec![Command::CreateAccount {
        account_id: account(),
        now,
    }];
    for i in 0..1500u32 {
        c.push(Command::CreatePolicy {
            policy_name: PolicyName::parse(&format!("policy-{i}")).unwrap(),
            path: None,
            policy_id: PolicyId::parse(&format!("ANPA{i:016}")).unwrap(),
            policy_document: DOC.into(),
            description: None,
            tags: vec![],
            now,
        });
        for _ in 0..4 {
            c.push(Command::CreatePolicyVersion {
                policy_arn: policy_arn(i),
                policy_document: DOC.into(),
                set_as_default: true,
                now,
            });
        }
    }
    for g in 0..500u32 {
        let group_name = GroupName::parse(&format!("group-{g}")).unwrap();
        c.push(Command::CreateGroup {
            group_name: group_name.clone(),
            path: None,
            group_id: GroupId::parse(&format!("AGPA{g:016}")).unwrap(),
            now,
        });
        for k in 0..5 {
            c.push(Command::AttachGroupPolicy {
                group_name: group_name.clone(),
                policy_arn: policy_arn((g * 3 + k) % 1500),
            });
        }
    }
    for u in 0..10_000u32 {
        let user_name = UserName::parse(&format!("user-{u}")).unwrap();
        c.push(Command::CreateUser {
            user_name: user_name.clone(),
            path: None,
            user_id: UserId::parse(&format!("AIDA{u:016}")).unwrap(),
            permissions_boundary: None,
            tags: vec![],
            now,
        });
        for k in 0..6 {
            c.push(Command::AddUserToGroup {
                group_name: GroupName::parse(&format!("group-{}", (u * 7 + k * 13) % 500)).unwrap(),
                user_name: user_name.clone(),
            });
        }
        for k in 0..5 {
            c.push(Command::AttachUserPolicy {
                user_name: user_name.clone(),
                policy_arn: policy_arn((u * 5 + k) % 1500),
            });
        }
        for k in 0..2 {
            c.push(Command::PutUserPolicy {
                user_name: user_name.clone(),
                policy_name: InlinePolicyName::parse(&format!("inline-{k}")).unwrap(),
                policy_document: DOC.into(),
            });
        }
        for k in 0..2 {
            c.push(Command::TagUser {
                user_name: user_name.clone(),
                tags: vec![Tag::new(&format!("tag{k}"), "value").unwrap()],
            });
        }
    }
    for r in 0..2000u32 {
        let role_name = RoleName::parse(&format!("role-{r}")).unwrap();
        c.push(Command::CreateRole {
            role_name: role_name.clone(),
            path: None,
            role_id: RoleId::parse(&format!("AROA{r:016}")).unwrap(),
            assume_role_policy_document: TRUST.into(),
            description: None,
            max_session_duration: None,
            permissions_boundary: None,
            tags: vec![],
            now,
        });
        for k in 0..5 {
            c.push(Command::AttachRolePolicy {
                role_name: role_name.clone(),
                policy_arn: policy_arn((r * 11 + k) % 1500),
            });
        }
        c.push(Command::PutRolePolicy {
            role_name: role_name.clone(),
            policy_name: InlinePolicyName::parse("inline").unwrap(),
            policy_document: DOC.into(),
        });
    }
    c
}

/// AWS's default account quotas (5,000 users, 300 groups, 1,000 roles) are
/// below this account's size; deployments raise them, and so does the bench.
pub fn quotas() -> Quotas {
    Quotas {
        users_per_account: 20_000,
        groups_per_account: 1_000,
        roles_per_account: 5_000,
        customer_managed_policies_per_account: 5_000,
        ..Quotas::default()
    }
}

pub fn events() -> Vec<Event> {
    decided(commands()).into_iter().map(|(e, _)| e).collect()
}

/// The ARN a command's request is authorized on, as iamd records it in
/// the event's metadata (`target`).
pub fn target(command: &Command) -> String {
    let account = account();
    let root = IamPath::root();
    match command {
        Command::CreateAccount { .. } => format!("arn:aws:iam::{account}:root"),
        Command::CreatePolicy { policy_name, .. } => {
            Arn::policy(&account, &root, policy_name).to_string()
        }
        Command::CreatePolicyVersion { policy_arn, .. } => policy_arn.to_string(),
        Command::CreateGroup { group_name, .. } | Command::AttachGroupPolicy { group_name, .. } => {
            format!("arn:aws:iam::{account}:group/{}", group_name.as_str())
        }
        Command::CreateUser { user_name, .. }
        | Command::AttachUserPolicy { user_name, .. }
        | Command::DetachUserPolicy { user_name, .. }
        | Command::PutUserPolicy { user_name, .. }
        | Command::TagUser { user_name, .. } => {
            format!("arn:aws:iam::{account}:user/{}", user_name.as_str())
        }
        // AddUserToGroup is authorized on the group.
        Command::AddUserToGroup { group_name, .. } => {
            format!("arn:aws:iam::{account}:group/{}", group_name.as_str())
        }
        Command::CreateRole { role_name, .. }
        | Command::AttachRolePolicy { role_name, .. }
        | Command::PutRolePolicy { role_name, .. } => {
            format!("arn:aws:iam::{account}:role/{}", role_name.as_str())
        }
        other => panic!(
            "the bench workload has no target for {}",
            other.variant_name()
        ),
    }
}

/// Runs `commands` through `decide` and `evolve` from an empty account,
/// returning each event with its command's target.
pub fn decided(commands: Vec<Command>) -> Vec<(Event, String)> {
    let quotas = quotas();
    let mut state = AccountState::default();
    let mut out = Vec::new();
    for command in commands {
        let events =
            decide(&state, &command, &quotas).unwrap_or_else(|e| panic!("{command:?}: {e}"));
        let target = target(&command);
        for e in events {
            evolve(&mut state, &e);
            out.push((e, target.clone()));
        }
    }
    out
}
