//! Instance profiles: lifecycle, the one role each holds, tags, the
//! conflicts AWS reports, and `iam:PassRole` for adding a role.

use aws_sdk_iam::types::Tag;
use iam_event_store::testing::TestDatabase;

use crate::harness::{failure, policy, Node, Show, ACCOUNT};

fn ec2_trust() -> String {
    policy(
        r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_profiles_hold_one_role() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    for role in ["web", "batch"] {
        iam.create_role()
            .role_name(role)
            .assume_role_policy_document(ec2_trust())
            .send()
            .await
            .must("CreateRole");
    }

    let created = iam
        .create_instance_profile()
        .instance_profile_name("web-servers")
        .path("/fleet/")
        .tags(Tag::builder().key("team").value("web").build().unwrap())
        .send()
        .await
        .must("CreateInstanceProfile");
    let p = created.instance_profile().unwrap();
    assert_eq!(
        p.arn(),
        format!("arn:aws:iam::{ACCOUNT}:instance-profile/fleet/web-servers")
    );
    assert!(
        p.instance_profile_id().starts_with("AIPA"),
        "{}",
        p.instance_profile_id()
    );
    assert!(p.roles().is_empty());
    assert_eq!(p.tags().len(), 1);
    assert_eq!(
        failure(
            iam.create_instance_profile()
                .instance_profile_name("WEB-SERVERS")
                .send()
                .await
        ),
        ("EntityAlreadyExists".to_owned(), 409)
    );

    iam.add_role_to_instance_profile()
        .instance_profile_name("web-servers")
        .role_name("web")
        .send()
        .await
        .must("AddRoleToInstanceProfile");
    // One role per profile, as AWS's quota says; the same role again too.
    for role in ["batch", "web"] {
        let err = iam
            .add_role_to_instance_profile()
            .instance_profile_name("web-servers")
            .role_name(role)
            .send()
            .await
            .expect_err("a second role");
        let e = err.into_service_error();
        assert!(e.is_limit_exceeded_exception(), "{e:?}");
        assert_eq!(
            aws_sdk_iam::error::ProvideErrorMetadata::message(&e),
            Some("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
        );
    }
    let got = iam
        .get_instance_profile()
        .instance_profile_name("web-servers")
        .send()
        .await
        .must("GetInstanceProfile");
    let roles = got.instance_profile().unwrap().roles();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].role_name(), "web");
    assert_eq!(roles[0].arn(), format!("arn:aws:iam::{ACCOUNT}:role/web"));

    let for_role = iam
        .list_instance_profiles_for_role()
        .role_name("web")
        .send()
        .await
        .must("ListInstanceProfilesForRole");
    assert_eq!(for_role.instance_profiles().len(), 1);
    let none = iam
        .list_instance_profiles_for_role()
        .role_name("batch")
        .send()
        .await
        .must("ListInstanceProfilesForRole batch");
    assert!(none.instance_profiles().is_empty());
    assert_eq!(
        failure(
            iam.list_instance_profiles_for_role()
                .role_name("nobody")
                .send()
                .await
        ),
        ("NoSuchEntity".to_owned(), 404)
    );

    // Neither the role nor the profile can go while they are joined.
    let (code, status) = failure(iam.delete_role().role_name("web").send().await);
    assert_eq!((code.as_str(), status), ("DeleteConflict", 409));
    let (code, status) = failure(
        iam.delete_instance_profile()
            .instance_profile_name("web-servers")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("DeleteConflict", 409));
    // Account authorization details show the profile under its role.
    let details = iam
        .get_account_authorization_details()
        .send()
        .await
        .must("GetAccountAuthorizationDetails");
    let web = details
        .role_detail_list()
        .iter()
        .find(|r| r.role_name() == Some("web"))
        .unwrap();
    assert_eq!(web.instance_profile_list().len(), 1);

    // Tags.
    iam.tag_instance_profile()
        .instance_profile_name("web-servers")
        .tags(Tag::builder().key("env").value("prod").build().unwrap())
        .send()
        .await
        .must("TagInstanceProfile");
    iam.untag_instance_profile()
        .instance_profile_name("web-servers")
        .tag_keys("team")
        .send()
        .await
        .must("UntagInstanceProfile");
    let tags = iam
        .list_instance_profile_tags()
        .instance_profile_name("web-servers")
        .send()
        .await
        .must("ListInstanceProfileTags");
    let keys: Vec<&str> = tags.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["env"]);
    let too_many: Vec<Tag> = (0..51)
        .map(|i| {
            Tag::builder()
                .key(format!("k{i}"))
                .value("v")
                .build()
                .unwrap()
        })
        .collect();
    let (code, _) = failure(
        iam.tag_instance_profile()
            .instance_profile_name("web-servers")
            .set_tags(Some(too_many))
            .send()
            .await,
    );
    assert!(
        code == "ValidationError" || code == "LimitExceeded",
        "{code}"
    );

    // Lists, by path prefix.
    iam.create_instance_profile()
        .instance_profile_name("loose")
        .send()
        .await
        .must("CreateInstanceProfile loose");
    let listed = iam
        .list_instance_profiles()
        .path_prefix("/fleet/")
        .send()
        .await
        .must("ListInstanceProfiles");
    let names: Vec<&str> = listed
        .instance_profiles()
        .iter()
        .map(|p| p.instance_profile_name())
        .collect();
    assert_eq!(names, ["web-servers"]);

    // Taken apart in order, everything goes.
    let (code, status) = failure(
        iam.remove_role_from_instance_profile()
            .instance_profile_name("web-servers")
            .role_name("batch")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    iam.remove_role_from_instance_profile()
        .instance_profile_name("web-servers")
        .role_name("web")
        .send()
        .await
        .must("RemoveRoleFromInstanceProfile");
    iam.delete_instance_profile()
        .instance_profile_name("web-servers")
        .send()
        .await
        .must("DeleteInstanceProfile");
    iam.delete_role()
        .role_name("web")
        .send()
        .await
        .must("DeleteRole after removal");
    assert_eq!(
        failure(
            iam.get_instance_profile()
                .instance_profile_name("web-servers")
                .send()
                .await
        ),
        ("NoSuchEntity".to_owned(), 404)
    );
    node.stop().await;
}

/// Adding a role to a profile hands the role's permissions to whatever
/// runs with the profile: AWS requires `iam:PassRole` on the role too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_a_role_needs_pass_role_on_it() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let root = node.root_iam();
    for role in ["admin", "app"] {
        root.create_role()
            .role_name(role)
            .assume_role_policy_document(ec2_trust())
            .send()
            .await
            .must("CreateRole");
    }
    let ops = node
        .user_with_policy(
            "ops",
            &policy(&format!(
                r#"{{"Effect":"Allow","Action":["iam:CreateInstanceProfile","iam:AddRoleToInstanceProfile"],"Resource":"*"}},
                   {{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::{ACCOUNT}:role/app"}}"#
            )),
        )
        .await;
    for name in ["p1", "p2"] {
        ops.create_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .must("CreateInstanceProfile");
    }
    assert_eq!(
        failure(
            ops.add_role_to_instance_profile()
                .instance_profile_name("p1")
                .role_name("admin")
                .send()
                .await
        ),
        ("AccessDenied".to_owned(), 403)
    );
    ops.add_role_to_instance_profile()
        .instance_profile_name("p2")
        .role_name("app")
        .send()
        .await
        .must("AddRoleToInstanceProfile with PassRole");
    // Nothing else was granted.
    assert_eq!(
        failure(
            ops.delete_instance_profile()
                .instance_profile_name("p1")
                .send()
                .await
        ),
        ("AccessDenied".to_owned(), 403)
    );
    node.stop().await;
}
