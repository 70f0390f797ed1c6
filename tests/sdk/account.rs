//! Account-wide reads: GetAccountSummary and GetAccountAuthorizationDetails.

use aws_sdk_iam::types::{EntityType, SummaryKeyType};
use iam_event_store::testing::TestDatabase;

use crate::harness::{decode_document, failure, policy, Keys, Node, Show};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_summary_and_authorization_details() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    let inline = policy(r#"{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}"#);
    for user in ["nia", "omar"] {
        iam.create_user()
            .user_name(user)
            .send()
            .await
            .must("CreateUser");
    }
    iam.put_user_policy()
        .user_name("nia")
        .policy_name("self")
        .policy_document(&inline)
        .send()
        .await
        .must("PutUserPolicy");
    iam.create_group()
        .group_name("crew")
        .send()
        .await
        .must("CreateGroup");
    iam.add_user_to_group()
        .group_name("crew")
        .user_name("nia")
        .send()
        .await
        .must("AddUserToGroup");
    iam.create_role()
        .role_name("svc")
        .assume_role_policy_document(policy(
            r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
        ))
        .send()
        .await
        .must("CreateRole");
    let managed = iam
        .create_policy()
        .policy_name("shared")
        .policy_document(&inline)
        .send()
        .await
        .must("CreatePolicy");
    let arn = managed.policy().unwrap().arn().unwrap().to_owned();
    iam.attach_role_policy()
        .role_name("svc")
        .policy_arn(&arn)
        .send()
        .await
        .must("AttachRolePolicy");

    let summary = iam
        .get_account_summary()
        .send()
        .await
        .must("GetAccountSummary");
    let map = summary.summary_map().expect("a SummaryMap");
    assert_eq!(map.get(&SummaryKeyType::Users), Some(&2));
    assert_eq!(map.get(&SummaryKeyType::Groups), Some(&1));
    assert_eq!(map.get(&SummaryKeyType::Roles), Some(&1));
    assert_eq!(map.get(&SummaryKeyType::Policies), Some(&1));
    assert_eq!(map.get(&SummaryKeyType::PolicyVersionsInUse), Some(&1));
    assert!(map.get(&SummaryKeyType::UsersQuota).is_some_and(|q| *q > 0));
    assert!(
        map.keys()
            .all(|k| SummaryKeyType::values().contains(&k.as_str())),
        "every key is one the SDK knows: {map:?}"
    );

    let details = iam
        .get_account_authorization_details()
        .send()
        .await
        .must("GetAccountAuthorizationDetails");
    let users: Vec<_> = details
        .user_detail_list()
        .iter()
        .map(|u| u.user_name().unwrap())
        .collect();
    assert_eq!(users, ["nia", "omar"]);
    let nia = &details.user_detail_list()[0];
    assert_eq!(nia.group_list(), ["crew"]);
    let nia_policies = nia.user_policy_list();
    assert_eq!(nia_policies.len(), 1);
    assert_eq!(nia_policies[0].policy_name(), Some("self"));
    assert_eq!(
        decode_document(nia_policies[0].policy_document().unwrap()),
        inline
    );
    assert_eq!(details.group_detail_list().len(), 1);
    let role = &details.role_detail_list()[0];
    assert_eq!(role.role_name(), Some("svc"));
    assert_eq!(
        role.attached_managed_policies()[0].policy_arn(),
        Some(arn.as_str())
    );
    let policies = details.policies();
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0].policy_name(), Some("shared"));
    assert_eq!(policies[0].policy_version_list().len(), 1);
    assert!(!details.is_truncated());

    // Filtered, and paged by the SDK's paginator.
    let roles_only = iam
        .get_account_authorization_details()
        .filter(EntityType::Role)
        .send()
        .await
        .must("GetAccountAuthorizationDetails Role");
    assert!(roles_only.user_detail_list().is_empty());
    assert_eq!(roles_only.role_detail_list().len(), 1);
    let pages = iam
        .get_account_authorization_details()
        .max_items(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .must("GetAccountAuthorizationDetails pages");
    assert_eq!(pages.len(), 3, "5 entities, 2 a page");
    assert_eq!(
        pages
            .iter()
            .map(|p| p.user_detail_list().len()
                + p.group_detail_list().len()
                + p.role_detail_list().len()
                + p.policies().len())
            .sum::<usize>(),
        5
    );

    // Both need permission like any other call.
    let key = iam
        .create_access_key()
        .user_name("omar")
        .send()
        .await
        .must("CreateAccessKey");
    let key = key.access_key().unwrap();
    let omar = node.iam(&Keys::new(key.access_key_id(), key.secret_access_key()));
    assert_eq!(
        failure(omar.get_account_summary().send().await),
        ("AccessDenied".to_owned(), 403)
    );
    assert_eq!(
        failure(omar.get_account_authorization_details().send().await),
        ("AccessDenied".to_owned(), 403)
    );
    node.stop().await;
}

/// The credential report: AWS's CSV columns, a row for root and each user,
/// keys with their state, base64 on the wire as AWS sends it (the SDK
/// decodes it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_credential_report_lists_every_users_credentials() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let root = node.root_iam();
    let missing = root.get_credential_report().send().await;
    assert!(missing.is_err(), "no report before one is generated");
    root.create_user()
        .user_name("plain")
        .send()
        .await
        .must("CreateUser");
    root.create_user()
        .user_name("keyholder")
        .send()
        .await
        .must("CreateUser");
    let key = root
        .create_access_key()
        .user_name("keyholder")
        .send()
        .await
        .must("CreateAccessKey");
    let key_id = key.access_key().unwrap().access_key_id().to_owned();
    root.update_access_key()
        .user_name("keyholder")
        .access_key_id(&key_id)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .must("UpdateAccessKey");
    let generated = root
        .generate_credential_report()
        .send()
        .await
        .must("GenerateCredentialReport");
    assert_eq!(
        generated.state(),
        Some(&aws_sdk_iam::types::ReportStateType::Complete)
    );
    let report = root
        .get_credential_report()
        .send()
        .await
        .must("GetCredentialReport");
    let csv = String::from_utf8(report.content().unwrap().as_ref().to_vec()).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("user,arn,user_creation_time,password_enabled,"),
        "{csv}"
    );
    assert_eq!(lines[0].split(',').count(), 22);
    assert!(lines[1].starts_with("<root_account>,"), "{csv}");
    let holder = lines.iter().find(|l| l.starts_with("keyholder,")).unwrap();
    let cells: Vec<&str> = holder.split(',').collect();
    assert_eq!(
        cells[1],
        format!("arn:aws:iam::{}:user/keyholder", crate::harness::ACCOUNT)
    );
    assert_eq!(cells[3], "false", "no password");
    assert_eq!(cells[8], "false", "the key is inactive");
    assert_ne!(cells[9], "N/A", "its rotation time");
    assert_eq!(cells[13], "false", "no second key");
    assert_eq!(lines.len(), 4, "root and two users: {csv}");

    // The report is the account as it was when generated: a later user is
    // not in it, and generating again within four hours keeps it.
    root.create_user()
        .user_name("later")
        .send()
        .await
        .must("CreateUser");
    root.generate_credential_report()
        .send()
        .await
        .must("GenerateCredentialReport");
    let again = root
        .get_credential_report()
        .send()
        .await
        .must("GetCredentialReport");
    assert_eq!(again.generated_time(), report.generated_time());
    assert_eq!(again.content().unwrap().as_ref(), csv.as_bytes());

    // Another node serves the very same report (it is in the log, not in
    // the generating node's memory), once it has followed the log.
    let other = Node::start(&db).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let from_other = loop {
        match other.root_iam().get_credential_report().send().await {
            Ok(r) => break r,
            Err(e) if std::time::Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the other node never served the report: {e:?}"),
        }
    };
    assert_eq!(from_other.generated_time(), report.generated_time());
    assert_eq!(from_other.content().unwrap().as_ref(), csv.as_bytes());
    other.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_alias_and_sts_preferences() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    let aliases = iam
        .list_account_aliases()
        .send()
        .await
        .must("ListAccountAliases");
    assert!(aliases.account_aliases().is_empty());
    for bad in ["ab", "-corp", "corp-", "co--rp", "Corp", "c_rp"] {
        let (code, status) = failure(iam.create_account_alias().account_alias(bad).send().await);
        assert_eq!((code.as_str(), status), ("ValidationError", 400), "{bad}");
    }
    iam.create_account_alias()
        .account_alias("example-corp")
        .send()
        .await
        .must("CreateAccountAlias");
    // One alias per account: a second replaces the first, as AWS does.
    iam.create_account_alias()
        .account_alias("example-2")
        .send()
        .await
        .must("CreateAccountAlias again");
    let aliases = iam
        .list_account_aliases()
        .send()
        .await
        .must("ListAccountAliases");
    assert_eq!(aliases.account_aliases(), ["example-2"]);
    let (code, status) = failure(
        iam.delete_account_alias()
            .account_alias("example-corp")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    iam.delete_account_alias()
        .account_alias("example-2")
        .send()
        .await
        .must("DeleteAccountAlias");
    assert!(iam
        .list_account_aliases()
        .send()
        .await
        .must("ListAccountAliases")
        .account_aliases()
        .is_empty());

    let summary =
        |s: &aws_sdk_iam::operation::get_account_summary::GetAccountSummaryOutput,
         k: SummaryKeyType| s.summary_map().and_then(|m| m.get(&k).copied());
    let before = iam
        .get_account_summary()
        .send()
        .await
        .must("GetAccountSummary");
    assert_eq!(
        before.summary_map().map(|m| m.len()),
        Some(34),
        "every key AWS returns"
    );
    assert_eq!(
        summary(&before, SummaryKeyType::GlobalEndpointTokenVersion),
        Some(1)
    );
    iam.set_security_token_service_preferences()
        .global_endpoint_token_version(aws_sdk_iam::types::GlobalEndpointTokenVersion::V2Token)
        .send()
        .await
        .must("SetSecurityTokenServicePreferences");
    iam.create_instance_profile()
        .instance_profile_name("counted")
        .send()
        .await
        .must("CreateInstanceProfile");
    let after = iam
        .get_account_summary()
        .send()
        .await
        .must("GetAccountSummary");
    assert_eq!(
        summary(&after, SummaryKeyType::GlobalEndpointTokenVersion),
        Some(2)
    );
    assert_eq!(summary(&after, SummaryKeyType::InstanceProfiles), Some(1));
    assert_eq!(
        summary(&after, SummaryKeyType::InstanceProfilesQuota),
        Some(1000)
    );

    // Account-wide settings are for whom policies allow them on `*`.
    let reader = node
        .user_with_policy(
            "reader",
            &policy(r#"{"Effect":"Allow","Action":"iam:ListAccountAliases","Resource":"*"}"#),
        )
        .await;
    reader
        .list_account_aliases()
        .send()
        .await
        .must("ListAccountAliases as reader");
    assert_eq!(
        failure(
            reader
                .create_account_alias()
                .account_alias("mine")
                .send()
                .await
        ),
        ("AccessDenied".to_owned(), 403)
    );
    node.stop().await;
}
