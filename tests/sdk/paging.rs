//! Every list operation pages through the SDK's paginator, one item a page,
//! and the pages add up to the whole list.

use aws_sdk_iam::types::Tag;
use iam_event_store::testing::TestDatabase;

use crate::harness::{policy, Node, Show};

/// All pages of a list request, `MaxItems=1` each.
macro_rules! pages {
    ($request:expr) => {
        $request
            .max_items(1)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .must(stringify!($request))
    };
}

fn tag(key: &str) -> Tag {
    Tag::builder().key(key).value("v").build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_pages() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    let doc = policy(r#"{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}"#);
    let trust = policy(
        r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
    );

    iam.create_user()
        .user_name("u")
        .tags(tag("a"))
        .tags(tag("b"))
        .send()
        .await
        .must("CreateUser");
    iam.create_role()
        .role_name("r")
        .assume_role_policy_document(&trust)
        .tags(tag("a"))
        .tags(tag("b"))
        .send()
        .await
        .must("CreateRole");
    let mut arns = Vec::new();
    for name in ["p1", "p2"] {
        let p = iam
            .create_policy()
            .policy_name(name)
            .policy_document(&doc)
            .tags(tag("a"))
            .tags(tag("b"))
            .send()
            .await
            .must("CreatePolicy");
        arns.push(p.policy().unwrap().arn().unwrap().to_owned());
    }
    iam.create_policy_version()
        .policy_arn(&arns[0])
        .policy_document(&doc)
        .send()
        .await
        .must("CreatePolicyVersion");
    for group in ["g1", "g2"] {
        iam.create_group()
            .group_name(group)
            .send()
            .await
            .must("CreateGroup");
        iam.add_user_to_group()
            .group_name(group)
            .user_name("u")
            .send()
            .await
            .must("AddUserToGroup");
    }
    for name in ["i1", "i2"] {
        iam.put_group_policy()
            .group_name("g1")
            .policy_name(name)
            .policy_document(&doc)
            .send()
            .await
            .must("PutGroupPolicy");
        iam.put_role_policy()
            .role_name("r")
            .policy_name(name)
            .policy_document(&doc)
            .send()
            .await
            .must("PutRolePolicy");
    }
    for arn in &arns {
        iam.attach_user_policy()
            .user_name("u")
            .policy_arn(arn)
            .send()
            .await
            .must("AttachUserPolicy");
        iam.attach_group_policy()
            .group_name("g1")
            .policy_arn(arn)
            .send()
            .await
            .must("AttachGroupPolicy");
        iam.attach_role_policy()
            .role_name("r")
            .policy_arn(arn)
            .send()
            .await
            .must("AttachRolePolicy");
    }

    let p = pages!(iam.list_groups_for_user().user_name("u"));
    let names: Vec<_> = p
        .iter()
        .flat_map(|o| o.groups())
        .map(|g| g.group_name())
        .collect();
    assert_eq!((p.len(), names), (2, vec!["g1", "g2"]));

    let p = pages!(iam.list_user_tags().user_name("u"));
    let keys: Vec<_> = p.iter().flat_map(|o| o.tags()).map(|t| t.key()).collect();
    assert_eq!((p.len(), keys), (2, vec!["a", "b"]));

    let p = pages!(iam.list_role_tags().role_name("r"));
    let keys: Vec<_> = p.iter().flat_map(|o| o.tags()).map(|t| t.key()).collect();
    assert_eq!((p.len(), keys), (2, vec!["a", "b"]));

    let p = pages!(iam.list_policy_tags().policy_arn(&arns[0]));
    let keys: Vec<_> = p.iter().flat_map(|o| o.tags()).map(|t| t.key()).collect();
    assert_eq!((p.len(), keys), (2, vec!["a", "b"]));

    let p = pages!(iam.list_group_policies().group_name("g1"));
    let names: Vec<_> = p
        .iter()
        .flat_map(|o| o.policy_names())
        .map(String::as_str)
        .collect();
    assert_eq!((p.len(), names), (2, vec!["i1", "i2"]));

    let p = pages!(iam.list_role_policies().role_name("r"));
    let names: Vec<_> = p
        .iter()
        .flat_map(|o| o.policy_names())
        .map(String::as_str)
        .collect();
    assert_eq!((p.len(), names), (2, vec!["i1", "i2"]));

    let attached = |list: &[aws_sdk_iam::types::AttachedPolicy]| {
        list.iter()
            .map(|a| a.policy_name().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let p = pages!(iam.list_attached_user_policies().user_name("u"));
    let names: Vec<_> = p
        .iter()
        .flat_map(|o| attached(o.attached_policies()))
        .collect();
    assert_eq!(
        (p.len(), names),
        (2, vec!["p1".to_owned(), "p2".to_owned()])
    );
    let p = pages!(iam.list_attached_group_policies().group_name("g1"));
    let names: Vec<_> = p
        .iter()
        .flat_map(|o| attached(o.attached_policies()))
        .collect();
    assert_eq!(
        (p.len(), names),
        (2, vec!["p1".to_owned(), "p2".to_owned()])
    );
    let p = pages!(iam.list_attached_role_policies().role_name("r"));
    let names: Vec<_> = p
        .iter()
        .flat_map(|o| attached(o.attached_policies()))
        .collect();
    assert_eq!(
        (p.len(), names),
        (2, vec!["p1".to_owned(), "p2".to_owned()])
    );

    let p = pages!(iam.list_policy_versions().policy_arn(&arns[0]));
    let mut ids: Vec<_> = p
        .iter()
        .flat_map(|o| o.versions())
        .map(|v| v.version_id().unwrap())
        .collect();
    ids.sort();
    assert_eq!((p.len(), ids), (2, vec!["v1", "v2"]));

    let p = pages!(iam.list_entities_for_policy().policy_arn(&arns[1]));
    assert_eq!(p.len(), 3, "a user, a group and a role");
    let users: usize = p.iter().map(|o| o.policy_users().len()).sum();
    let groups: usize = p.iter().map(|o| o.policy_groups().len()).sum();
    let roles: usize = p.iter().map(|o| o.policy_roles().len()).sum();
    assert_eq!((users, groups, roles), (1, 1, 1));

    let p = pages!(iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local));
    assert_eq!(p.len(), 2);
    let p = pages!(iam.list_instance_profiles_for_role().role_name("r"));
    assert_eq!(p.len(), 1);
    assert!(p[0].instance_profiles().is_empty());
    node.stop().await;
}
