//! Customer managed policies: versions, tags, attachments to users, groups
//! and roles, and what uses them.

use aws_sdk_iam::operation::create_policy::CreatePolicyError;
use aws_sdk_iam::operation::delete_policy::DeletePolicyError;
use aws_sdk_iam::operation::delete_policy_version::DeletePolicyVersionError;
use aws_sdk_iam::operation::get_policy::GetPolicyError;
use aws_sdk_iam::types::{PolicyScopeType, Tag};
use iam_event_store::testing::TestDatabase;

use crate::harness::{decode_document, failure, policy, service_error, Keys, Node, Show, ACCOUNT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_policies_and_their_versions() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    let v1 = policy(r#"{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}"#);
    let v2 =
        policy(r#"{"Effect":"Allow","Action":["iam:ListUsers","iam:ListGroups"],"Resource":"*"}"#);

    let created = iam
        .create_policy()
        .policy_name("readers")
        .path("/team/")
        .policy_document(&v1)
        .description("read-only")
        .tags(Tag::builder().key("owner").value("sec").build().unwrap())
        .send()
        .await
        .must("CreatePolicy");
    let p = created.policy().expect("a Policy");
    let arn = format!("arn:aws:iam::{ACCOUNT}:policy/team/readers");
    assert_eq!(p.arn(), Some(arn.as_str()));
    assert_eq!(p.policy_name(), Some("readers"));
    assert_eq!(p.path(), Some("/team/"));
    assert_eq!(p.default_version_id(), Some("v1"));
    assert_eq!(p.attachment_count(), Some(0));
    assert!(p.is_attachable());
    assert_eq!(p.description(), Some("read-only"));
    assert!(p.policy_id().unwrap().starts_with("ANPA"));
    let dup = service_error(
        iam.create_policy()
            .policy_name("readers")
            .path("/team/")
            .policy_document(&v1)
            .send()
            .await,
    );
    assert!(
        matches!(dup, CreatePolicyError::EntityAlreadyExistsException(_)),
        "{dup:?}"
    );
    let malformed = service_error(
        iam.create_policy()
            .policy_name("broken")
            .policy_document(r#"{"Version":"2012-10-17"}"#)
            .send()
            .await,
    );
    assert!(
        matches!(
            malformed,
            CreatePolicyError::MalformedPolicyDocumentException(_)
        ),
        "{malformed:?}"
    );

    let got = iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .must("GetPolicy");
    let got = got.policy().unwrap();
    assert_eq!(got.policy_id(), p.policy_id());
    assert_eq!(got.tags().len(), 1);
    let missing = service_error(
        iam.get_policy()
            .policy_arn(format!("arn:aws:iam::{ACCOUNT}:policy/nope"))
            .send()
            .await,
    );
    assert!(
        matches!(missing, GetPolicyError::NoSuchEntityException(_)),
        "{missing:?}"
    );

    // Versions.
    let version = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(&v2)
        .set_as_default(true)
        .send()
        .await
        .must("CreatePolicyVersion");
    let version = version.policy_version().expect("a PolicyVersion");
    assert_eq!(version.version_id(), Some("v2"));
    assert!(version.is_default_version());
    let got = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .must("GetPolicyVersion");
    let got = got.policy_version().unwrap();
    assert!(!got.is_default_version());
    assert_eq!(decode_document(got.document().unwrap()), v1);
    let versions = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .must("ListPolicyVersions");
    let mut ids: Vec<_> = versions
        .versions()
        .iter()
        .map(|v| (v.version_id().unwrap(), v.is_default_version()))
        .collect();
    ids.sort();
    assert_eq!(ids, vec![("v1", false), ("v2", true)]);
    // The default version cannot be deleted; another can.
    let default = service_error(
        iam.delete_policy_version()
            .policy_arn(&arn)
            .version_id("v2")
            .send()
            .await,
    );
    assert!(
        matches!(
            default,
            DeletePolicyVersionError::DeleteConflictException(_)
        ),
        "{default:?}"
    );
    iam.set_default_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .must("SetDefaultPolicyVersion");
    let now = iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .must("GetPolicy after SetDefault");
    assert_eq!(now.policy().unwrap().default_version_id(), Some("v1"));
    iam.delete_policy_version()
        .policy_arn(&arn)
        .version_id("v2")
        .send()
        .await
        .must("DeletePolicyVersion");
    assert_eq!(
        failure(
            iam.get_policy_version()
                .policy_arn(&arn)
                .version_id("v2")
                .send()
                .await
        ),
        ("NoSuchEntity".to_owned(), 404)
    );

    // Tags.
    iam.tag_policy()
        .policy_arn(&arn)
        .tags(Tag::builder().key("tier").value("1").build().unwrap())
        .send()
        .await
        .must("TagPolicy");
    iam.untag_policy()
        .policy_arn(&arn)
        .tag_keys("owner")
        .send()
        .await
        .must("UntagPolicy");
    let tags = iam
        .list_policy_tags()
        .policy_arn(&arn)
        .send()
        .await
        .must("ListPolicyTags");
    assert_eq!(
        tags.tags()
            .iter()
            .map(|t| (t.key(), t.value()))
            .collect::<Vec<_>>(),
        vec![("tier", "1")]
    );
    assert!(!tags.is_truncated());

    // Listing: Local and All list it, AWS lists only AWS's.
    let local = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .send()
        .await
        .must("ListPolicies Local");
    assert_eq!(local.policies().len(), 1);
    let aws = iam
        .list_policies()
        .scope(PolicyScopeType::Aws)
        .send()
        .await
        .must("ListPolicies AWS");
    assert!(!aws.policies().is_empty());
    assert!(aws
        .policies()
        .iter()
        .all(|p| p.arn().unwrap().starts_with("arn:aws:iam::aws:policy/")));
    let attached = iam
        .list_policies()
        .only_attached(true)
        .send()
        .await
        .must("ListPolicies OnlyAttached");
    assert!(attached.policies().is_empty());
    iam.create_policy()
        .policy_name("other")
        .policy_document(&v1)
        .send()
        .await
        .must("CreatePolicy other");
    let pages = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .max_items(1)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .must("ListPolicies pages");
    assert_eq!(pages.len(), 2);

    iam.delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .must("DeletePolicy");
    assert!(matches!(
        service_error(iam.get_policy().policy_arn(&arn).send().await),
        GetPolicyError::NoSuchEntityException(_)
    ));
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attached_policies_grant_and_block_deletion() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    let created = iam
        .create_policy()
        .policy_name("list-users")
        .policy_document(policy(
            r#"{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}"#,
        ))
        .send()
        .await
        .must("CreatePolicy");
    let arn = created.policy().unwrap().arn().unwrap().to_owned();
    iam.create_user()
        .user_name("kim")
        .send()
        .await
        .must("CreateUser");
    iam.create_group()
        .group_name("staff")
        .send()
        .await
        .must("CreateGroup");
    iam.create_role()
        .role_name("auditor")
        .assume_role_policy_document(policy(
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}"#,
        ))
        .send()
        .await
        .must("CreateRole");
    let key = iam
        .create_access_key()
        .user_name("kim")
        .send()
        .await
        .must("CreateAccessKey");
    let key = key.access_key().unwrap();
    let kim = node.iam(&Keys::new(key.access_key_id(), key.secret_access_key()));
    assert_eq!(
        failure(kim.list_users().send().await),
        ("AccessDenied".to_owned(), 403)
    );

    iam.attach_user_policy()
        .user_name("kim")
        .policy_arn(&arn)
        .send()
        .await
        .must("AttachUserPolicy");
    kim.list_users()
        .send()
        .await
        .must("ListUsers through an attached policy");
    iam.attach_group_policy()
        .group_name("staff")
        .policy_arn(&arn)
        .send()
        .await
        .must("AttachGroupPolicy");
    iam.attach_role_policy()
        .role_name("auditor")
        .policy_arn(&arn)
        .send()
        .await
        .must("AttachRolePolicy");
    assert_eq!(
        failure(
            iam.attach_user_policy()
                .user_name("kim")
                .policy_arn(format!("arn:aws:iam::{ACCOUNT}:policy/nope"))
                .send()
                .await
        ),
        ("NoSuchEntity".to_owned(), 404)
    );

    let by_user = iam
        .list_attached_user_policies()
        .user_name("kim")
        .send()
        .await
        .must("ListAttachedUserPolicies");
    let names = |list: &[aws_sdk_iam::types::AttachedPolicy]| {
        list.iter()
            .map(|p| {
                (
                    p.policy_name().unwrap().to_owned(),
                    p.policy_arn().unwrap().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let expected = vec![("list-users".to_owned(), arn.clone())];
    assert_eq!(names(by_user.attached_policies()), expected);
    let by_group = iam
        .list_attached_group_policies()
        .group_name("staff")
        .send()
        .await
        .must("ListAttachedGroupPolicies");
    assert_eq!(names(by_group.attached_policies()), expected);
    let by_role = iam
        .list_attached_role_policies()
        .role_name("auditor")
        .send()
        .await
        .must("ListAttachedRolePolicies");
    assert_eq!(names(by_role.attached_policies()), expected);

    let entities = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .send()
        .await
        .must("ListEntitiesForPolicy");
    assert_eq!(
        entities
            .policy_users()
            .iter()
            .map(|u| u.user_name().unwrap())
            .collect::<Vec<_>>(),
        vec!["kim"]
    );
    assert_eq!(
        entities
            .policy_groups()
            .iter()
            .map(|g| g.group_name().unwrap())
            .collect::<Vec<_>>(),
        vec!["staff"]
    );
    assert_eq!(
        entities
            .policy_roles()
            .iter()
            .map(|r| r.role_name().unwrap())
            .collect::<Vec<_>>(),
        vec!["auditor"]
    );
    let got = iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .must("GetPolicy");
    assert_eq!(got.policy().unwrap().attachment_count(), Some(3));
    let in_use = iam
        .list_policies()
        .only_attached(true)
        .send()
        .await
        .must("ListPolicies OnlyAttached");
    assert_eq!(in_use.policies().len(), 1);

    // Attached somewhere: cannot be deleted, nor can its user.
    let conflict = service_error(iam.delete_policy().policy_arn(&arn).send().await);
    assert!(
        matches!(conflict, DeletePolicyError::DeleteConflictException(_)),
        "{conflict:?}"
    );
    iam.detach_user_policy()
        .user_name("kim")
        .policy_arn(&arn)
        .send()
        .await
        .must("DetachUserPolicy");
    assert_eq!(
        failure(kim.list_users().send().await),
        ("AccessDenied".to_owned(), 403)
    );
    iam.detach_group_policy()
        .group_name("staff")
        .policy_arn(&arn)
        .send()
        .await
        .must("DetachGroupPolicy");
    iam.detach_role_policy()
        .role_name("auditor")
        .policy_arn(&arn)
        .send()
        .await
        .must("DetachRolePolicy");
    assert_eq!(
        failure(
            iam.detach_role_policy()
                .role_name("auditor")
                .policy_arn(&arn)
                .send()
                .await
        ),
        ("NoSuchEntity".to_owned(), 404)
    );
    let none = iam
        .list_attached_role_policies()
        .role_name("auditor")
        .send()
        .await
        .must("ListAttachedRolePolicies");
    assert!(none.attached_policies().is_empty());
    iam.delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .must("DeletePolicy once detached");
    node.stop().await;
}
