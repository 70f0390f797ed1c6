//! A non-root user, allowed and denied by their own policies.

use aws_sdk_iam::types::StatusType;
use iam_event_store::testing::TestDatabase;

use crate::harness::{failure, policy, Keys, Node, Show, ACCOUNT};

/// Lets a user manage their own access keys and read themselves.
fn self_service() -> String {
    policy(&format!(
        r#"{{"Sid":"OwnKeys","Effect":"Allow","Action":["iam:CreateAccessKey","iam:ListAccessKeys","iam:UpdateAccessKey","iam:DeleteAccessKey","iam:GetUser"],"Resource":"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"}}"#
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_manages_only_their_own_keys() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let root = node.root_iam();
    for name in ["erin", "frank"] {
        root.create_user()
            .user_name(name)
            .send()
            .await
            .must("CreateUser");
    }
    root.put_user_policy()
        .user_name("erin")
        .policy_name("self-service")
        .policy_document(self_service())
        .send()
        .await
        .must("PutUserPolicy");
    let created = root
        .create_access_key()
        .user_name("erin")
        .send()
        .await
        .must("CreateAccessKey");
    let key = created.access_key().unwrap();
    let erin_keys = Keys::new(key.access_key_id(), key.secret_access_key());
    let erin = node.iam(&erin_keys);

    // Allowed: her own user and keys, named or implied.
    let me = erin.get_user().send().await.must("GetUser (self)");
    assert_eq!(me.user().unwrap().user_name(), "erin");
    erin.get_user()
        .user_name("erin")
        .send()
        .await
        .must("GetUser erin");
    let second = erin
        .create_access_key()
        .send()
        .await
        .must("CreateAccessKey (self)");
    let second = second.access_key().unwrap();
    assert_eq!(second.user_name(), "erin");
    let listed = erin
        .list_access_keys()
        .send()
        .await
        .must("ListAccessKeys (self)");
    assert_eq!(listed.access_key_metadata().len(), 2);
    erin.update_access_key()
        .user_name("erin")
        .access_key_id(second.access_key_id())
        .status(StatusType::Inactive)
        .send()
        .await
        .must("UpdateAccessKey (self)");
    erin.delete_access_key()
        .access_key_id(second.access_key_id())
        .send()
        .await
        .must("DeleteAccessKey (self)");

    // Denied: anyone else's keys, other users, anything not granted.
    assert_eq!(
        failure(erin.create_access_key().user_name("frank").send().await),
        ("AccessDenied".to_owned(), 403)
    );
    assert_eq!(
        failure(erin.list_access_keys().user_name("frank").send().await),
        ("AccessDenied".to_owned(), 403)
    );
    assert_eq!(
        failure(erin.get_user().user_name("frank").send().await),
        ("AccessDenied".to_owned(), 403)
    );
    assert_eq!(
        failure(erin.list_users().send().await),
        ("AccessDenied".to_owned(), 403)
    );
    // She cannot widen her own rights either.
    assert_eq!(
        failure(
            erin.put_user_policy()
                .user_name("erin")
                .policy_name("admin")
                .policy_document(policy(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#))
                .send()
                .await
        ),
        ("AccessDenied".to_owned(), 403)
    );
    // The message names caller, action and resource, as AWS words it.
    let denied = erin
        .create_user()
        .user_name("mallory")
        .send()
        .await
        .expect_err("CreateUser is not granted");
    let message = aws_sdk_iam::error::ProvideErrorMetadata::message(&denied)
        .unwrap_or_default()
        .to_owned();
    // Less the sealed authorization failure message it ends with.
    let (message, _) = message
        .split_once(" Encoded authorization failure message: ")
        .expect("an encoded authorization failure message");
    assert_eq!(
        message,
        format!(
            "User: arn:aws:iam::{ACCOUNT}:user/erin is not authorized to perform: iam:CreateUser on resource: \
             arn:aws:iam::{ACCOUNT}:user/mallory because no identity-based policy allows the iam:CreateUser action"
        )
    );
    // Nothing the denied calls asked for happened.
    let users = root.list_users().send().await.must("ListUsers");
    assert_eq!(
        users
            .users()
            .iter()
            .map(|u| u.user_name())
            .collect::<Vec<_>>(),
        vec!["erin", "frank"]
    );
    let franks = root
        .list_access_keys()
        .user_name("frank")
        .send()
        .await
        .must("ListAccessKeys frank");
    assert!(franks.access_key_metadata().is_empty());
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_deny_wins_and_a_user_without_policies_may_do_nothing() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let root = node.root_iam();
    root.create_user()
        .user_name("gus")
        .send()
        .await
        .must("CreateUser");
    let created = root
        .create_access_key()
        .user_name("gus")
        .send()
        .await
        .must("CreateAccessKey");
    let key = created.access_key().unwrap();
    let gus_keys = Keys::new(key.access_key_id(), key.secret_access_key());
    let gus = node.iam(&gus_keys);

    // No policies: every IAM call is denied, but STS still says who he is.
    assert_eq!(
        failure(gus.get_user().send().await),
        ("AccessDenied".to_owned(), 403)
    );
    node.sts(&gus_keys)
        .get_caller_identity()
        .send()
        .await
        .must("GetCallerIdentity needs no permission");

    // Allowed everything but deleting users.
    root.put_user_policy()
        .user_name("gus")
        .policy_name("admin-but")
        .policy_document(policy(
            r#"{"Effect":"Allow","Action":"iam:*","Resource":"*"},{"Effect":"Deny","Action":"iam:DeleteUser","Resource":"*"}"#,
        ))
        .send()
        .await
        .must("PutUserPolicy");
    gus.create_user()
        .user_name("temp")
        .send()
        .await
        .must("CreateUser by an admin");
    assert_eq!(
        failure(gus.delete_user().user_name("temp").send().await),
        ("AccessDenied".to_owned(), 403)
    );
    root.get_user()
        .user_name("temp")
        .send()
        .await
        .must("the user was not deleted");
    node.stop().await;
}

/// AWS's policy simulator through the SDK: a principal's stored policies
/// (and a boundary) decide each action and resource, and the condition keys
/// a policy names are listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_simulator_answers_as_the_evaluator_decides() {
    use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum, PolicyEvaluationDecisionType as D};
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let root = node.root_iam();
    root.create_user()
        .user_name("sim")
        .send()
        .await
        .must("CreateUser");
    root.put_user_policy()
        .user_name("sim")
        .policy_name("reads")
        .policy_document(policy(
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}"#,
        ))
        .send()
        .await
        .must("PutUserPolicy");
    let arn = format!("arn:aws:iam::{ACCOUNT}:user/sim");
    let entry = |ip: &str| {
        ContextEntry::builder()
            .context_key_name("aws:SourceIp")
            .context_key_type(ContextKeyTypeEnum::Ip)
            .context_key_values(ip)
            .build()
    };
    let simulated = root
        .simulate_principal_policy()
        .policy_source_arn(&arn)
        .action_names("s3:GetObject")
        .action_names("s3:PutObject")
        .context_entries(entry("10.1.2.3"))
        .send()
        .await
        .must("SimulatePrincipalPolicy");
    let decisions: Vec<(&str, &D)> = simulated
        .evaluation_results()
        .iter()
        .map(|r| (r.eval_action_name(), r.eval_decision()))
        .collect();
    assert_eq!(
        decisions,
        [
            ("s3:GetObject", &D::Allowed),
            ("s3:PutObject", &D::ImplicitDeny)
        ]
    );
    let statement = &simulated.evaluation_results()[0].matched_statements()[0];
    assert_eq!(statement.source_policy_id(), Some("reads"));
    // The document is one line; AWS places a statement just after its
    // braces: `{` is character 38 and `}` character 150 of 152.
    let at = |p: Option<&aws_sdk_iam::types::Position>| p.map(|p| (p.line(), p.column()));
    assert_eq!(at(statement.start_position()), Some((1, 39)));
    assert_eq!(at(statement.end_position()), Some((1, 151)));
    let missing: Vec<&[String]> = simulated
        .evaluation_results()
        .iter()
        .map(|r| r.missing_context_values())
        .collect();
    let none: &[String] = &[];
    assert_eq!(missing, [none, none], "aws:SourceIp was given");
    let outside = root
        .simulate_principal_policy()
        .policy_source_arn(&arn)
        .action_names("s3:GetObject")
        .context_entries(entry("192.0.2.1"))
        .send()
        .await
        .must("SimulatePrincipalPolicy");
    assert_eq!(
        outside.evaluation_results()[0].eval_decision(),
        &D::ImplicitDeny
    );

    // A multi-line stored policy with a single statement object: positions
    // are in the text as stored; the keys a statement in scope reads and
    // the request leaves without a value are missing, those iamd fills
    // (aws:username) are not.
    root.create_user()
        .user_name("multi")
        .send()
        .await
        .must("CreateUser");
    root.put_user_policy()
        .user_name("multi")
        .policy_name("lines")
        .policy_document(
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\n    \"Effect\": \"Deny\",\n    \"Action\": \"s3:DeleteObject\",\n    \"Resource\": \"*\",\n    \"Condition\": {\"StringNotEquals\": {\"aws:userid\": \"x\", \"aws:username\": \"someone-else\"}, \"StringEqualsIfExists\": {\"aws:PrincipalTag/team\": \"}{\"}}\n  }\n}",
        )
        .send()
        .await
        .must("PutUserPolicy");
    let lines = root
        .simulate_principal_policy()
        .policy_source_arn(format!("arn:aws:iam::{ACCOUNT}:user/multi"))
        .action_names("s3:DeleteObject")
        .action_names("s3:GetObject")
        .send()
        .await
        .must("SimulatePrincipalPolicy");
    let results = lines.evaluation_results();
    assert_eq!(results[0].eval_decision(), &D::ExplicitDeny);
    assert_eq!(
        results[0].missing_context_values(),
        ["aws:PrincipalTag/team", "aws:userid"]
    );
    let deny = &results[0].matched_statements()[0];
    assert_eq!(deny.source_policy_id(), Some("lines"));
    assert_eq!(at(deny.start_position()), Some((3, 17)));
    assert_eq!(at(deny.end_position()), Some((8, 4)));
    assert_eq!(results[1].eval_decision(), &D::ImplicitDeny);
    assert_eq!(
        results[1].missing_context_values(),
        none,
        "no statement is about s3:GetObject"
    );
    assert!(results[1].resource_specific_results().is_empty());

    let custom = root
        .simulate_custom_policy()
        .policy_input_list(policy(
            r#"{"Effect":"Deny","Action":"iam:*","Resource":"*"}"#,
        ))
        .policy_input_list(policy(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#))
        .action_names("iam:CreateUser")
        .action_names("sqs:SendMessage")
        .send()
        .await
        .must("SimulateCustomPolicy");
    let decisions: Vec<&D> = custom
        .evaluation_results()
        .iter()
        .map(|r| r.eval_decision())
        .collect();
    assert_eq!(decisions, [&D::ExplicitDeny, &D::Allowed]);

    let keys = root
        .get_context_keys_for_principal_policy()
        .policy_source_arn(&arn)
        .send()
        .await
        .must("GetContextKeysForPrincipalPolicy");
    assert_eq!(keys.context_key_names(), ["aws:SourceIp"]);
    let keys = root
        .get_context_keys_for_custom_policy()
        .policy_input_list(policy(
            r#"{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"a","aws:PrincipalTag/team":"b"}}}"#,
        ))
        .send()
        .await
        .must("GetContextKeysForCustomPolicy");
    assert_eq!(
        keys.context_key_names(),
        ["aws:PrincipalTag/team", "s3:prefix"]
    );
}

/// A group's policies are simulated as AWS simulates them: as though a
/// member of the group made the request (AWS: "the policies attached to
/// the group"), so a group that allows an action is `allowed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_simulates_a_groups_policies() {
    use aws_sdk_iam::types::PolicyEvaluationDecisionType as D;
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let root = node.root_iam();
    root.create_group()
        .group_name("readers")
        .send()
        .await
        .must("CreateGroup");
    root.put_group_policy()
        .group_name("readers")
        .policy_name("read")
        .policy_document(policy(
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#,
        ))
        .send()
        .await
        .must("PutGroupPolicy");
    let simulated = root
        .simulate_principal_policy()
        .policy_source_arn(format!("arn:aws:iam::{ACCOUNT}:group/readers"))
        .action_names("s3:GetObject")
        .action_names("s3:PutObject")
        .send()
        .await
        .must("SimulatePrincipalPolicy");
    let decisions: Vec<&D> = simulated
        .evaluation_results()
        .iter()
        .map(|r| r.eval_decision())
        .collect();
    assert_eq!(decisions, [&D::Allowed, &D::ImplicitDeny]);
    node.stop().await;
}
