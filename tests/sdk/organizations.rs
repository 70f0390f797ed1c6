//! AWS Organizations features asked of an iamd account, which is in no
//! organization: each operation authorizes its action first (a caller
//! without the permission gets `AccessDenied`), then answers AWS's error for
//! a standalone account, which the SDK maps to its modeled variant where
//! the model lists one (`OrganizationNotFoundException`, the shape's whole
//! name being its code).

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_sts::types::PolicyDescriptorType;
use iam_event_store::testing::TestDatabase;

use crate::harness::{failure, policy, service_error, Node, ACCOUNT};

const NO_ORGANIZATION: (&str, u16) = ("OrganizationNotFoundException", 400);
const ENTITY_PATH: &str = "o-a1b2c3d4e5/r-f6g7h8i9j0example";
const JOB_ID: &str = "examplea-1234-b567-cde8-f90g12345678";
const MEMBER: &str = "210987654321";

/// A user with an access key and, when `document` is given, that one inline
/// policy: an IAM and an STS client signing as them.
async fn user(
    node: &Node,
    name: &str,
    document: Option<&str>,
) -> (aws_sdk_iam::Client, aws_sdk_sts::Client) {
    let keys = node.user_keys(name, document).await;
    (node.iam(&keys), node.sts(&keys))
}

fn task_policy() -> PolicyDescriptorType {
    PolicyDescriptorType::builder()
        .arn("arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials")
        .build()
}

/// Every operation's answer for `iam`/`sts`, as (code, status), in one
/// order: ListOrganizationsFeatures, Enable/DisableOrganizationsRootCredentialsManagement,
/// Enable/DisableOrganizationsRootSessions, Generate/GetOrganizationsAccessReport, AssumeRoot.
async fn answers(iam: &aws_sdk_iam::Client, sts: &aws_sdk_sts::Client) -> Vec<(String, u16)> {
    vec![
        failure(iam.list_organizations_features().send().await),
        failure(
            iam.enable_organizations_root_credentials_management()
                .send()
                .await,
        ),
        failure(
            iam.disable_organizations_root_credentials_management()
                .send()
                .await,
        ),
        failure(iam.enable_organizations_root_sessions().send().await),
        failure(iam.disable_organizations_root_sessions().send().await),
        failure(
            iam.generate_organizations_access_report()
                .entity_path(ENTITY_PATH)
                .send()
                .await,
        ),
        failure(
            iam.get_organizations_access_report()
                .job_id(JOB_ID)
                .send()
                .await,
        ),
        failure(
            sts.assume_root()
                .target_principal(MEMBER)
                .task_policy_arn(task_policy())
                .send()
                .await,
        ),
    ]
}

fn expected(first: (&str, u16)) -> Vec<(String, u16)> {
    let mut all = vec![first; 8];
    if first == NO_ORGANIZATION {
        // No report was ever generated: the job id names none.
        all[6] = ("NoSuchEntity", 404);
    }
    all.into_iter().map(|(c, s)| (c.to_owned(), s)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_features_answer_that_the_account_is_in_no_organization() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let (iam, sts) = (node.root_iam(), node.root_sts());
    assert_eq!(answers(&iam, &sts).await, expected(NO_ORGANIZATION));

    // The SDK recognizes the error as the one the model lists.
    let e = service_error(iam.list_organizations_features().send().await);
    assert!(e.is_organization_not_found_exception(), "{e:?}");
    assert_eq!(
        e.message(),
        Some("The request was rejected because no organization is associated with your account.")
    );
    let e = service_error(iam.enable_organizations_root_sessions().send().await);
    assert!(e.is_organization_not_found_exception(), "{e:?}");
    let e = service_error(
        iam.disable_organizations_root_credentials_management()
            .send()
            .await,
    );
    assert!(e.is_organization_not_found_exception(), "{e:?}");
    let e = service_error(
        iam.get_organizations_access_report()
            .job_id(JOB_ID)
            .send()
            .await,
    );
    assert!(e.is_no_such_entity_exception(), "{e:?}");

    // A caller without the permission is refused first, whatever follows.
    let (iam, sts) = user(&node, "nobody", None).await;
    assert_eq!(answers(&iam, &sts).await, expected(("AccessDenied", 403)));

    // Each action is authorized on the resource AWS defines for it: `*`,
    // the entity path's access report, the member account's root.
    let (iam, sts) = user(
        &node,
        "org-admin",
        Some(&policy(&format!(
            r#"{{"Effect":"Allow","Action":["iam:*Organizations*"],"Resource":"*"}},
               {{"Effect":"Deny","Action":"iam:GenerateOrganizationsAccessReport",
                 "NotResource":"arn:aws:iam::{ACCOUNT}:access-report/o-a1b2c3d4e5/*"}},
               {{"Effect":"Allow","Action":"sts:AssumeRoot","Resource":"arn:aws:iam::{MEMBER}:root"}}"#
        ))),
    )
    .await;
    assert_eq!(answers(&iam, &sts).await, expected(NO_ORGANIZATION));
    assert_eq!(
        failure(
            iam.generate_organizations_access_report()
                .entity_path("o-zzzzzzzzzz/r-f6g7h8i9j0example")
                .send()
                .await
        ),
        ("AccessDenied".to_owned(), 403)
    );
    assert_eq!(
        failure(
            sts.assume_root()
                .target_principal(format!("arn:aws:iam::{MEMBER}:root"))
                .task_policy_arn(task_policy())
                .send()
                .await
        ),
        (NO_ORGANIZATION.0.to_owned(), NO_ORGANIZATION.1)
    );
    assert_eq!(
        failure(
            sts.assume_root()
                .target_principal("111122223333")
                .task_policy_arn(task_policy())
                .send()
                .await
        ),
        ("AccessDenied".to_owned(), 403)
    );
    node.stop().await;
}
