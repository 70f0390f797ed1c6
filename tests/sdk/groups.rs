//! Groups: lifecycle, membership, inline policies, and a member acting with
//! the group's permissions.

use aws_sdk_iam::operation::create_group::CreateGroupError;
use aws_sdk_iam::operation::delete_group::DeleteGroupError;
use aws_sdk_iam::operation::get_group::GetGroupError;
use aws_sdk_iam::operation::get_group_policy::GetGroupPolicyError;
use aws_sdk_iam::operation::put_group_policy::PutGroupPolicyError;
use iam_event_store::testing::TestDatabase;

use crate::harness::{decode_document, failure, policy, service_error, Keys, Node, Show, ACCOUNT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_members_and_group_policies() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();

    let created = iam
        .create_group()
        .group_name("devs")
        .path("/eng/")
        .send()
        .await
        .must("CreateGroup");
    let group = created.group().expect("a Group");
    assert_eq!(group.group_name(), "devs");
    assert_eq!(group.path(), "/eng/");
    assert_eq!(
        group.arn(),
        format!("arn:aws:iam::{ACCOUNT}:group/eng/devs")
    );
    assert!(group.group_id().starts_with("AGPA"), "{}", group.group_id());
    let dup = service_error(iam.create_group().group_name("DEVS").send().await);
    assert!(
        matches!(dup, CreateGroupError::EntityAlreadyExistsException(_)),
        "{dup:?}"
    );
    iam.create_group()
        .group_name("ops")
        .send()
        .await
        .must("CreateGroup ops");

    let listed = iam.list_groups().send().await.must("ListGroups");
    assert_eq!(
        listed
            .groups()
            .iter()
            .map(|g| g.group_name())
            .collect::<Vec<_>>(),
        vec!["devs", "ops"]
    );
    let eng = iam
        .list_groups()
        .path_prefix("/eng/")
        .send()
        .await
        .must("ListGroups /eng/");
    assert_eq!(eng.groups().len(), 1);
    let pages = iam
        .list_groups()
        .max_items(1)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .must("ListGroups pages");
    assert_eq!(pages.len(), 2);

    // Membership.
    for user in ["hana", "ivan", "jo"] {
        iam.create_user()
            .user_name(user)
            .send()
            .await
            .must("CreateUser");
        iam.add_user_to_group()
            .group_name("devs")
            .user_name(user)
            .send()
            .await
            .must("AddUserToGroup");
    }
    iam.add_user_to_group()
        .group_name("ops")
        .user_name("hana")
        .send()
        .await
        .must("AddUserToGroup ops");
    let got = iam
        .get_group()
        .group_name("devs")
        .send()
        .await
        .must("GetGroup");
    assert_eq!(got.group().unwrap().group_name(), "devs");
    assert_eq!(
        got.users()
            .iter()
            .map(|u| u.user_name())
            .collect::<Vec<_>>(),
        vec!["hana", "ivan", "jo"]
    );
    let members: Vec<String> = iam
        .get_group()
        .group_name("devs")
        .max_items(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .must("GetGroup pages")
        .into_iter()
        .map(|u| u.user_name().to_owned())
        .collect();
    assert_eq!(members, ["hana", "ivan", "jo"]);
    let hanas = iam
        .list_groups_for_user()
        .user_name("hana")
        .send()
        .await
        .must("ListGroupsForUser");
    assert_eq!(
        hanas
            .groups()
            .iter()
            .map(|g| g.group_name())
            .collect::<Vec<_>>(),
        vec!["devs", "ops"]
    );
    iam.remove_user_from_group()
        .group_name("devs")
        .user_name("jo")
        .send()
        .await
        .must("RemoveUserFromGroup");
    let jos = iam
        .list_groups_for_user()
        .user_name("jo")
        .send()
        .await
        .must("ListGroupsForUser jo");
    assert!(jos.groups().is_empty());
    let missing = service_error(iam.get_group().group_name("nope").send().await);
    assert!(
        matches!(missing, GetGroupError::NoSuchEntityException(_)),
        "{missing:?}"
    );
    assert_eq!(
        failure(
            iam.add_user_to_group()
                .group_name("devs")
                .user_name("nobody")
                .send()
                .await
        ),
        ("NoSuchEntity".to_owned(), 404)
    );

    // Inline group policies, and a member acting with them.
    let document =
        policy(r#"{"Effect":"Allow","Action":["iam:ListUsers","iam:GetGroup"],"Resource":"*"}"#);
    iam.put_group_policy()
        .group_name("devs")
        .policy_name("read")
        .policy_document(&document)
        .send()
        .await
        .must("PutGroupPolicy");
    let got = iam
        .get_group_policy()
        .group_name("devs")
        .policy_name("read")
        .send()
        .await
        .must("GetGroupPolicy");
    assert_eq!(got.group_name(), "devs");
    assert_eq!(got.policy_name(), "read");
    assert_eq!(decode_document(got.policy_document()), document);
    let names = iam
        .list_group_policies()
        .group_name("devs")
        .send()
        .await
        .must("ListGroupPolicies");
    assert_eq!(names.policy_names(), ["read"]);
    let bad = service_error(
        iam.put_group_policy()
            .group_name("devs")
            .policy_name("bad")
            .policy_document("not json")
            .send()
            .await,
    );
    assert!(
        matches!(
            bad,
            PutGroupPolicyError::MalformedPolicyDocumentException(_)
        ),
        "{bad:?}"
    );

    let key = iam
        .create_access_key()
        .user_name("ivan")
        .send()
        .await
        .must("CreateAccessKey");
    let key = key.access_key().unwrap();
    let ivan = node.iam(&Keys::new(key.access_key_id(), key.secret_access_key()));
    ivan.list_users()
        .send()
        .await
        .must("ListUsers through the group's policy");
    assert_eq!(
        failure(ivan.create_group().group_name("mine").send().await),
        ("AccessDenied".to_owned(), 403)
    );
    // Out of the group, out of its permissions.
    iam.remove_user_from_group()
        .group_name("devs")
        .user_name("ivan")
        .send()
        .await
        .must("RemoveUserFromGroup ivan");
    assert_eq!(
        failure(ivan.list_users().send().await),
        ("AccessDenied".to_owned(), 403)
    );

    // A group with members or policies cannot be deleted.
    let conflict = service_error(iam.delete_group().group_name("devs").send().await);
    assert!(
        matches!(conflict, DeleteGroupError::DeleteConflictException(_)),
        "{conflict:?}"
    );
    iam.remove_user_from_group()
        .group_name("devs")
        .user_name("hana")
        .send()
        .await
        .must("RemoveUserFromGroup hana");
    iam.delete_group_policy()
        .group_name("devs")
        .policy_name("read")
        .send()
        .await
        .must("DeleteGroupPolicy");
    let gone = service_error(
        iam.get_group_policy()
            .group_name("devs")
            .policy_name("read")
            .send()
            .await,
    );
    assert!(
        matches!(gone, GetGroupPolicyError::NoSuchEntityException(_)),
        "{gone:?}"
    );

    // Rename and move, then delete.
    iam.update_group()
        .group_name("devs")
        .new_group_name("developers")
        .new_path("/")
        .send()
        .await
        .must("UpdateGroup");
    let renamed = iam
        .get_group()
        .group_name("developers")
        .send()
        .await
        .must("GetGroup after rename");
    assert_eq!(
        renamed.group().unwrap().arn(),
        format!("arn:aws:iam::{ACCOUNT}:group/developers")
    );
    iam.delete_group()
        .group_name("developers")
        .send()
        .await
        .must("DeleteGroup");
    assert_eq!(
        failure(iam.delete_group().group_name("developers").send().await),
        ("NoSuchEntity".to_owned(), 404)
    );
    node.stop().await;
}
