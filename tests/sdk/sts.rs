//! STS through aws-sdk-sts: a role assumed through its trust policy, its
//! temporary credentials used by aws-sdk-iam, session tokens, and what a
//! key belongs to.

use aws_sdk_sts::types::Tag;
use iam_event_store::testing::TestDatabase;

use crate::harness::{failure, policy, Keys, Node, Show, ACCOUNT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_is_assumed_and_its_credentials_work_with_the_sdks() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    iam.create_user()
        .user_name("alice")
        .send()
        .await
        .must("CreateUser");
    let key = iam
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .must("CreateAccessKey");
    let key = key.access_key().expect("a key");
    let alice = Keys::new(key.access_key_id(), key.secret_access_key());
    let trust = policy(&format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/alice"}},"Action":["sts:AssumeRole","sts:TagSession"]}}"#
    ));
    iam.create_role()
        .role_name("reader")
        .assume_role_policy_document(trust)
        .send()
        .await
        .must("CreateRole");
    iam.put_role_policy()
        .role_name("reader")
        .policy_name("read")
        .policy_document(policy(
            r#"{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"red"}}}"#,
        ))
        .send()
        .await
        .must("PutRolePolicy");

    let sts = node.sts(&alice);
    let assumed = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/reader"))
        .role_session_name("alice-session")
        .duration_seconds(900)
        .tags(Tag::builder().key("team").value("red").build().unwrap())
        .send()
        .await
        .must("AssumeRole");
    let credentials = assumed.credentials().expect("credentials");
    assert!(credentials.access_key_id().starts_with("ASIA"));
    assert_eq!(
        assumed.assumed_role_user().map(|u| u.arn()),
        Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/reader/alice-session").as_str())
    );
    let session = Keys::temporary(credentials);
    let me = node
        .sts(&session)
        .get_caller_identity()
        .send()
        .await
        .must("GetCallerIdentity");
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/reader/alice-session").as_str())
    );
    node.iam(&session)
        .list_users()
        .send()
        .await
        .must("ListUsers as the role");
    let denied = node
        .iam(&session)
        .delete_user()
        .user_name("alice")
        .send()
        .await
        .expect_err("the role may not delete users");
    let message = aws_sdk_iam::error::ProvideErrorMetadata::message(&denied)
        .unwrap_or_default()
        .to_owned();
    let (_, encoded) = message
        .split_once("Encoded authorization failure message: ")
        .expect("an encoded authorization message");

    // alice may decode messages and federate users.
    iam.put_user_policy()
        .user_name("alice")
        .policy_name("broker")
        .policy_document(policy(
            r#"{"Effect":"Allow","Action":["sts:DecodeAuthorizationMessage","sts:GetFederationToken","iamd:GetView"],"Resource":"*"}"#,
        ))
        .send()
        .await
        .must("PutUserPolicy");
    let decoded = sts
        .decode_authorization_message()
        .encoded_message(encoded)
        .send()
        .await
        .must("DecodeAuthorizationMessage");
    assert!(decoded
        .decoded_message()
        .unwrap_or_default()
        .contains("iam:DeleteUser"));
    let federated = sts
        .get_federation_token()
        .name("bob")
        .policy(policy(
            r#"{"Effect":"Allow","Action":"iamd:GetView","Resource":"*"}"#,
        ))
        .send()
        .await
        .must("GetFederationToken");
    assert_eq!(
        federated.federated_user().map(|u| u.arn()),
        Some(format!("arn:aws:sts::{ACCOUNT}:federated-user/bob").as_str())
    );

    // A session token of alice's own, and which account a key is of.
    let token = sts.get_session_token().send().await.must("GetSessionToken");
    let own = Keys::temporary(token.credentials().expect("credentials"));
    let me = node
        .sts(&own)
        .get_caller_identity()
        .send()
        .await
        .must("GetCallerIdentity");
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{ACCOUNT}:user/alice").as_str())
    );
    let info = node
        .root_sts()
        .get_access_key_info()
        .access_key_id(&alice.id)
        .send()
        .await
        .must("GetAccessKeyInfo");
    assert_eq!(info.account(), Some(ACCOUNT));

    // Refusals as the SDK reports them.
    let (code, status) = failure(
        sts.assume_role()
            .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/missing"))
            .role_session_name("alice-session")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    let (code, status) = failure(
        sts.assume_role()
            .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/reader"))
            .role_session_name("alice-session")
            .policy("{not json")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("MalformedPolicyDocument", 400));
    let forged = Keys {
        token: Some("IQoJaWFtZAforged".into()),
        ..session.clone()
    };
    let (code, status) = failure(node.sts(&forged).get_caller_identity().send().await);
    assert_eq!((code.as_str(), status), ("InvalidClientTokenId", 403));
    node.stop().await;
}
