//! Roles: lifecycle, trust policy, description, inline policies.

use aws_sdk_iam::operation::create_role::CreateRoleError;
use aws_sdk_iam::operation::delete_role::DeleteRoleError;
use aws_sdk_iam::operation::get_role::GetRoleError;
use aws_sdk_iam::operation::get_role_policy::GetRolePolicyError;
use aws_sdk_iam::operation::put_role_policy::PutRolePolicyError;
use aws_sdk_iam::types::Tag;
use iam_event_store::testing::TestDatabase;

use crate::harness::{decode_document, failure, policy, service_error, Node, Show, ACCOUNT};

fn trust(service: &str) -> String {
    policy(&format!(
        r#"{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}"#
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_role_policies() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();

    let created = iam
        .create_role()
        .role_name("builder")
        .path("/ci/")
        .assume_role_policy_document(trust("ec2.amazonaws.com"))
        .description("builds things")
        .max_session_duration(7200)
        .tags(Tag::builder().key("env").value("test").build().unwrap())
        .send()
        .await
        .must("CreateRole");
    let role = created.role().expect("a Role");
    assert_eq!(role.role_name(), "builder");
    assert_eq!(role.path(), "/ci/");
    assert_eq!(
        role.arn(),
        format!("arn:aws:iam::{ACCOUNT}:role/ci/builder")
    );
    assert!(role.role_id().starts_with("AROA"), "{}", role.role_id());
    assert_eq!(role.description(), Some("builds things"));
    assert_eq!(role.max_session_duration(), Some(7200));
    assert_eq!(
        decode_document(
            role.assume_role_policy_document()
                .expect("the trust policy")
        ),
        trust("ec2.amazonaws.com")
    );
    let dup = service_error(
        iam.create_role()
            .role_name("BUILDER")
            .assume_role_policy_document(trust("ec2.amazonaws.com"))
            .send()
            .await,
    );
    assert!(
        matches!(dup, CreateRoleError::EntityAlreadyExistsException(_)),
        "{dup:?}"
    );
    let bad_trust = service_error(
        iam.create_role()
            .role_name("broken")
            .assume_role_policy_document("{")
            .send()
            .await,
    );
    assert!(
        matches!(
            bad_trust,
            CreateRoleError::MalformedPolicyDocumentException(_)
        ),
        "{bad_trust:?}"
    );
    iam.create_role()
        .role_name("deployer")
        .assume_role_policy_document(trust("lambda.amazonaws.com"))
        .send()
        .await
        .must("CreateRole deployer");

    let got = iam
        .get_role()
        .role_name("builder")
        .send()
        .await
        .must("GetRole");
    let got = got.role().unwrap();
    assert_eq!(got.role_id(), role.role_id());
    assert_eq!(
        got.tags()
            .iter()
            .map(|t| (t.key(), t.value()))
            .collect::<Vec<_>>(),
        vec![("env", "test")]
    );
    let missing = service_error(iam.get_role().role_name("nope").send().await);
    assert!(
        matches!(missing, GetRoleError::NoSuchEntityException(_)),
        "{missing:?}"
    );
    let listed = iam.list_roles().send().await.must("ListRoles");
    assert_eq!(
        listed
            .roles()
            .iter()
            .map(|r| r.role_name())
            .collect::<Vec<_>>(),
        vec!["builder", "deployer"]
    );
    let ci = iam
        .list_roles()
        .path_prefix("/ci/")
        .send()
        .await
        .must("ListRoles /ci/");
    assert_eq!(ci.roles().len(), 1);
    let pages = iam
        .list_roles()
        .max_items(1)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .must("ListRoles pages");
    assert_eq!(pages.len(), 2);

    // Updates.
    iam.update_role()
        .role_name("builder")
        .description("builds more")
        .max_session_duration(3600)
        .send()
        .await
        .must("UpdateRole");
    let described = iam
        .update_role_description()
        .role_name("builder")
        .description("builds everything")
        .send()
        .await
        .must("UpdateRoleDescription");
    let described = described.role().expect("the updated Role");
    assert_eq!(described.description(), Some("builds everything"));
    assert_eq!(described.max_session_duration(), Some(3600));
    iam.update_assume_role_policy()
        .role_name("builder")
        .policy_document(trust("codebuild.amazonaws.com"))
        .send()
        .await
        .must("UpdateAssumeRolePolicy");
    let got = iam
        .get_role()
        .role_name("builder")
        .send()
        .await
        .must("GetRole after updates");
    assert_eq!(
        decode_document(got.role().unwrap().assume_role_policy_document().unwrap()),
        trust("codebuild.amazonaws.com")
    );
    assert_eq!(
        failure(
            iam.update_role()
                .role_name("builder")
                .max_session_duration(60)
                .send()
                .await
        ),
        ("ValidationError".to_owned(), 400)
    );

    // Inline role policies.
    let document = policy(r#"{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}"#);
    iam.put_role_policy()
        .role_name("builder")
        .policy_name("list")
        .policy_document(&document)
        .send()
        .await
        .must("PutRolePolicy");
    let got = iam
        .get_role_policy()
        .role_name("builder")
        .policy_name("list")
        .send()
        .await
        .must("GetRolePolicy");
    assert_eq!(got.role_name(), "builder");
    assert_eq!(got.policy_name(), "list");
    assert_eq!(decode_document(got.policy_document()), document);
    let names = iam
        .list_role_policies()
        .role_name("builder")
        .send()
        .await
        .must("ListRolePolicies");
    assert_eq!(names.policy_names(), ["list"]);
    let bad = service_error(
        iam.put_role_policy()
            .role_name("builder")
            .policy_name("bad")
            .policy_document("[]")
            .send()
            .await,
    );
    assert!(
        matches!(bad, PutRolePolicyError::MalformedPolicyDocumentException(_)),
        "{bad:?}"
    );
    let profiles = iam
        .list_instance_profiles_for_role()
        .role_name("builder")
        .send()
        .await
        .must("ListInstanceProfilesForRole");
    assert!(profiles.instance_profiles().is_empty());
    assert!(!profiles.is_truncated());
    assert_eq!(
        failure(
            iam.list_instance_profiles_for_role()
                .role_name("nope")
                .send()
                .await
        ),
        ("NoSuchEntity".to_owned(), 404)
    );

    // A role with policies cannot be deleted.
    let conflict = service_error(iam.delete_role().role_name("builder").send().await);
    assert!(
        matches!(conflict, DeleteRoleError::DeleteConflictException(_)),
        "{conflict:?}"
    );
    iam.delete_role_policy()
        .role_name("builder")
        .policy_name("list")
        .send()
        .await
        .must("DeleteRolePolicy");
    let gone = service_error(
        iam.get_role_policy()
            .role_name("builder")
            .policy_name("list")
            .send()
            .await,
    );
    assert!(
        matches!(gone, GetRolePolicyError::NoSuchEntityException(_)),
        "{gone:?}"
    );
    iam.delete_role()
        .role_name("builder")
        .send()
        .await
        .must("DeleteRole");
    let twice = service_error(iam.delete_role().role_name("builder").send().await);
    assert!(
        matches!(twice, DeleteRoleError::NoSuchEntityException(_)),
        "{twice:?}"
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_linked_roles_are_protected() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    let created = iam
        .create_service_linked_role()
        .aws_service_name("elasticloadbalancing.amazonaws.com")
        .send()
        .await
        .must("CreateServiceLinkedRole");
    let role = created.role().unwrap();
    assert_eq!(role.role_name(), "AWSServiceRoleForElasticLoadBalancing");
    assert_eq!(
        role.path(),
        "/aws-service-role/elasticloadbalancing.amazonaws.com/"
    );
    assert_eq!(
        role.arn(),
        format!("arn:aws:iam::{ACCOUNT}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing")
    );
    assert!(decode_document(role.assume_role_policy_document().unwrap())
        .contains("elasticloadbalancing.amazonaws.com"));
    // Once per account; a suffix only where the service allows one.
    let (code, status) = failure(
        iam.create_service_linked_role()
            .aws_service_name("elasticloadbalancing.amazonaws.com")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("InvalidInput", 400));
    let (code, _) = failure(
        iam.create_service_linked_role()
            .aws_service_name("es.amazonaws.com")
            .custom_suffix("mine")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidInput");
    let suffixed = iam
        .create_service_linked_role()
        .aws_service_name("autoscaling.amazonaws.com")
        .custom_suffix("fleet")
        .send()
        .await
        .must("CreateServiceLinkedRole with a suffix");
    assert_eq!(
        suffixed.role().unwrap().role_name(),
        "AWSServiceRoleForAutoScaling_fleet"
    );
    let (code, _) = failure(
        iam.create_service_linked_role()
            .aws_service_name("nonsense.example.com")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidInput");
    // Ordinary role operations may not touch it, nor create under its path.
    let slr = "AWSServiceRoleForElasticLoadBalancing";
    let refusals = [
        failure(iam.delete_role().role_name(slr).send().await),
        failure(
            iam.attach_role_policy()
                .role_name(slr)
                .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
                .send()
                .await,
        ),
        failure(
            iam.put_role_policy()
                .role_name(slr)
                .policy_name("p")
                .policy_document(policy(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#))
                .send()
                .await,
        ),
        failure(
            iam.update_assume_role_policy()
                .role_name(slr)
                .policy_document(trust("ec2.amazonaws.com"))
                .send()
                .await,
        ),
    ];
    for r in refusals {
        assert_eq!(r, ("UnmodifiableEntity".to_owned(), 400));
    }
    let (code, _) = failure(
        iam.create_role()
            .role_name("sneaky")
            .path("/aws-service-role/elasticloadbalancing.amazonaws.com/")
            .assume_role_policy_document(trust("ec2.amazonaws.com"))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidInput");
    // Deleted through its own operation; the task has succeeded.
    let deleted = iam
        .delete_service_linked_role()
        .role_name(slr)
        .send()
        .await
        .must("DeleteServiceLinkedRole");
    let task = deleted.deletion_task_id().to_owned();
    assert!(
        task.starts_with("task/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing/"),
        "{task}"
    );
    let status = iam
        .get_service_linked_role_deletion_status()
        .deletion_task_id(&task)
        .send()
        .await
        .must("GetServiceLinkedRoleDeletionStatus");
    assert_eq!(
        status.status(),
        &aws_sdk_iam::types::DeletionTaskStatusType::Succeeded
    );
    assert_eq!(
        failure(iam.get_role().role_name(slr).send().await),
        ("NoSuchEntity".to_owned(), 404)
    );
    let (code, _) = failure(
        iam.delete_service_linked_role()
            .role_name("AWSServiceRoleForAutoScaling_fleet_nope")
            .send()
            .await,
    );
    assert_eq!(code, "NoSuchEntity");
    node.stop().await;
}
