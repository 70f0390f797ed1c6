//! The access advisor: which services a user's or group's policies allow,
//! and when the users they apply to were last seen using each, from what
//! iamd recorded of their calls; the policies granting each service.

use aws_sdk_iam::types::{AccessAdvisorUsageGranularityType, JobStatusType, PolicyType};
use iam_event_store::testing::TestDatabase;

use crate::harness::{failure, policy, Node, Show, ACCOUNT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_advisor_reports_what_iamd_saw() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let root = node.root_iam();
    let dev_keys = node
        .user_keys(
            "dev",
            Some(&policy(
                r#"{"Effect":"Allow","Action":["iam:ListUsers","iam:GetServiceLastAccessedDetails","sts:GetCallerIdentity","s3:GetObject"],"Resource":"*"}"#,
            )),
        )
        .await;
    root.create_user()
        .user_name("idle")
        .send()
        .await
        .must("CreateUser idle");
    root.create_group()
        .group_name("devs")
        .send()
        .await
        .must("CreateGroup");
    for user in ["dev", "idle"] {
        root.add_user_to_group()
            .group_name("devs")
            .user_name(user)
            .send()
            .await
            .must("AddUserToGroup");
    }
    root.attach_group_policy()
        .group_name("devs")
        .policy_arn("arn:aws:iam::aws:policy/IAMReadOnlyAccess")
        .send()
        .await
        .must("AttachGroupPolicy");

    // dev uses IAM (allowed and refused: both are attempts) and STS.
    let dev = node.iam(&dev_keys);
    dev.list_users().send().await.must("ListUsers as dev");
    let (code, _) = failure(dev.create_user().user_name("x").send().await);
    assert_eq!(code, "AccessDenied");
    node.sts(&dev_keys)
        .get_caller_identity()
        .send()
        .await
        .must("GetCallerIdentity as dev");

    let dev_arn = format!("arn:aws:iam::{ACCOUNT}:user/dev");
    let job = root
        .generate_service_last_accessed_details()
        .arn(&dev_arn)
        .granularity(AccessAdvisorUsageGranularityType::ActionLevel)
        .send()
        .await
        .must("GenerateServiceLastAccessedDetails")
        .job_id
        .expect("a job id");
    let report = root
        .get_service_last_accessed_details()
        .job_id(&job)
        .send()
        .await
        .must("GetServiceLastAccessedDetails");
    assert_eq!(report.job_status(), &JobStatusType::Completed);
    let namespaces: Vec<_> = report
        .services_last_accessed()
        .iter()
        .map(|s| s.service_namespace())
        .collect();
    // The user's own policy and its group's (IAMReadOnlyAccess: iam only).
    assert_eq!(namespaces, ["iam", "s3", "sts"]);
    let iam_use = &report.services_last_accessed()[0];
    assert_eq!(iam_use.service_name(), "AWS Identity and Access Management");
    assert_eq!(iam_use.last_authenticated_entity(), Some(dev_arn.as_str()));
    assert_eq!(iam_use.total_authenticated_entities(), Some(1));
    assert_eq!(iam_use.last_authenticated_region(), Some("us-east-1"));
    let actions: Vec<_> = iam_use
        .tracked_actions_last_accessed()
        .iter()
        .filter_map(|a| a.action_name())
        .collect();
    assert_eq!(actions, ["CreateUser", "ListUsers"]);
    let s3 = &report.services_last_accessed()[1];
    assert_eq!(s3.last_authenticated(), None, "iamd never saw dev use S3");
    assert_eq!(s3.total_authenticated_entities(), Some(0));
    assert!(report.services_last_accessed()[2]
        .last_authenticated()
        .is_some());

    // The group's report: its members, the one that used IAM first.
    let group_job = root
        .generate_service_last_accessed_details()
        .arn(format!("arn:aws:iam::{ACCOUNT}:group/devs"))
        .send()
        .await
        .must("Generate for the group")
        .job_id
        .expect("a job id");
    let entities = root
        .get_service_last_accessed_details_with_entities()
        .job_id(&group_job)
        .service_namespace("iam")
        .send()
        .await
        .must("GetServiceLastAccessedDetailsWithEntities");
    let listed: Vec<_> = entities
        .entity_details_list()
        .iter()
        .map(|e| {
            (
                e.entity_info().unwrap().name(),
                e.last_authenticated().is_some(),
            )
        })
        .collect();
    assert_eq!(listed, [("dev", true), ("idle", false)]);

    // Which policies give dev each service.
    let granting = root
        .list_policies_granting_service_access()
        .arn(&dev_arn)
        .service_namespaces("iam")
        .service_namespaces("s3")
        .service_namespaces("ec2")
        .send()
        .await
        .must("ListPoliciesGrantingServiceAccess");
    let by_service: Vec<(String, Vec<(String, PolicyType)>)> = granting
        .policies_granting_service_access()
        .iter()
        .map(|e| {
            (
                e.service_namespace().unwrap().to_owned(),
                e.policies()
                    .iter()
                    .map(|p| (p.policy_name().to_owned(), p.policy_type().clone()))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        by_service,
        [
            (
                "iam".to_owned(),
                vec![
                    ("granted".to_owned(), PolicyType::Inline),
                    ("IAMReadOnlyAccess".to_owned(), PolicyType::Managed)
                ]
            ),
            (
                "s3".to_owned(),
                vec![("granted".to_owned(), PolicyType::Inline)]
            ),
            ("ec2".to_owned(), vec![]),
        ]
    );

    // A report is its requester's: dev may call the action, yet does not
    // see root's job.
    let (code, status) = failure(
        dev.get_service_last_accessed_details()
            .job_id(&job)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    let (code, _) = failure(
        root.generate_service_last_accessed_details()
            .arn(format!("arn:aws:iam::{ACCOUNT}:user/nobody"))
            .send()
            .await,
    );
    assert_eq!(code, "NoSuchEntity");
    let (code, _) = failure(
        root.generate_service_last_accessed_details()
            .arn(format!("arn:aws:iam::{ACCOUNT}:instance-profile/p"))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidInput");
    node.stop().await;
}
