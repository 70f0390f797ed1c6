//! SAML federation: SAML providers (metadata parsed, tags, rollover by
//! update) and `sts:AssumeRoleWithSAML`, against a test identity provider
//! that signs its responses with a key it generated.

use aws_sdk_iam::types::Tag;
use chrono::Utc;
use iam_event_store::testing::TestDatabase;
use iam_federation::saml::testing::{tamper, TestIdp, TEST_PROVIDER_ARN, TEST_ROLE_ARN};
use iam_federation::saml::{
    name_qualifier, PRINCIPAL_TAG_ATTRIBUTE_PREFIX, SESSION_DURATION_ATTRIBUTE,
};

use crate::harness::{failure, policy, Keys, Node, Show, ACCOUNT};

const ENTITY_ID: &str = "https://idp.example.com/saml";
/// The eduPersonAffiliation attribute, `saml:edupersonaffiliation`.
const AFFILIATION: &str = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1";

/// The trust policy of the role the test IdP's responses name: staff of
/// this IdP, through AWS's sign-in endpoint.
fn trust(extra_actions: &str) -> String {
    policy(&format!(
        r#"{{"Effect":"Allow","Principal":{{"Federated":"{TEST_PROVIDER_ARN}"}},
            "Action":["sts:AssumeRoleWithSAML"{extra_actions}],
            "Condition":{{"StringEquals":{{"saml:aud":"https://signin.aws.amazon.com/saml",
                                          "saml:iss":"{ENTITY_ID}"}},
                         "ForAnyValue:StringEquals":{{"saml:edupersonaffiliation":"staff"}}}}}}"#
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saml_providers_and_assume_role_with_saml() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    let idp = TestIdp::new(ENTITY_ID);
    let provider_name = TEST_PROVIDER_ARN.rsplit('/').next().unwrap();
    let created = iam
        .create_saml_provider()
        .name(provider_name)
        .saml_metadata_document(idp.metadata_xml())
        .tags(Tag::builder().key("team").value("sso").build().unwrap())
        .send()
        .await
        .must("CreateSAMLProvider");
    assert_eq!(created.saml_provider_arn(), Some(TEST_PROVIDER_ARN));
    let (code, status) = failure(
        iam.create_saml_provider()
            .name(provider_name)
            .saml_metadata_document(idp.metadata_xml())
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("EntityAlreadyExists", 409));
    let (code, _) = failure(
        iam.create_saml_provider()
            .name("broken")
            .saml_metadata_document(format!("<x>{}</x>", "a".repeat(1000)))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidInput", "metadata that does not parse");
    let (code, _) = failure(
        iam.create_saml_provider()
            .name("encrypted")
            .saml_metadata_document(idp.metadata_xml())
            .assertion_encryption_mode(aws_sdk_iam::types::AssertionEncryptionModeType::Required)
            .send()
            .await,
    );
    assert_eq!(
        code, "InvalidInput",
        "encrypted assertions are not supported"
    );
    let got = iam
        .get_saml_provider()
        .saml_provider_arn(TEST_PROVIDER_ARN)
        .send()
        .await
        .must("GetSAMLProvider");
    assert_eq!(
        got.saml_metadata_document(),
        Some(idp.metadata_xml().as_str())
    );
    assert_eq!(got.saml_provider_uuid().map(str::len), Some(36));
    assert_eq!(got.tags().len(), 1);
    let listed = iam
        .list_saml_providers()
        .send()
        .await
        .must("ListSAMLProviders");
    assert_eq!(listed.saml_provider_list().len(), 1);
    iam.tag_saml_provider()
        .saml_provider_arn(TEST_PROVIDER_ARN)
        .tags(Tag::builder().key("env").value("prod").build().unwrap())
        .send()
        .await
        .must("TagSAMLProvider");
    iam.untag_saml_provider()
        .saml_provider_arn(TEST_PROVIDER_ARN)
        .tag_keys("team")
        .send()
        .await
        .must("UntagSAMLProvider");
    let tags = iam
        .list_saml_provider_tags()
        .saml_provider_arn(TEST_PROVIDER_ARN)
        .send()
        .await
        .must("ListSAMLProviderTags");
    assert_eq!(
        tags.tags().iter().map(|t| t.key()).collect::<Vec<_>>(),
        ["env"]
    );

    // The role the IdP's responses name, which may list users.
    iam.create_role()
        .role_name("SamlRole")
        .assume_role_policy_document(trust(""))
        .send()
        .await
        .must("CreateRole");
    iam.put_role_policy()
        .role_name("SamlRole")
        .policy_name("read")
        .policy_document(policy(
            r#"{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}"#,
        ))
        .send()
        .await
        .must("PutRolePolicy");
    let sts = node.anonymous_sts();
    let now = Utc::now();
    let staff = idp
        .response(now)
        .attribute(AFFILIATION, &["member", "staff"])
        .build();
    let assumed = sts
        .assume_role_with_saml()
        .role_arn(TEST_ROLE_ARN)
        .principal_arn(TEST_PROVIDER_ARN)
        .saml_assertion(&staff)
        .send()
        .await
        .must("AssumeRoleWithSAML");
    assert_eq!(assumed.subject(), Some("alice@example.com"));
    assert_eq!(assumed.subject_type(), Some("persistent"));
    assert_eq!(assumed.issuer(), Some(ENTITY_ID));
    assert_eq!(
        assumed.audience(),
        Some("https://signin.aws.amazon.com/saml")
    );
    assert_eq!(
        assumed.name_qualifier(),
        Some(name_qualifier(ENTITY_ID, ACCOUNT, provider_name).as_str())
    );
    let user = assumed.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/SamlRole/alice")
    );
    let session = Keys::temporary(assumed.credentials().unwrap());
    let me = node
        .sts(&session)
        .get_caller_identity()
        .send()
        .await
        .must("GetCallerIdentity as the SAML session");
    assert_eq!(me.arn(), Some(user.arn()));
    node.iam(&session)
        .list_users()
        .send()
        .await
        .must("ListUsers as the SAML session");

    // What is refused, and how.
    let student = idp
        .response(now)
        .attribute(AFFILIATION, &["student"])
        .build();
    let other_key = TestIdp::new(ENTITY_ID);
    let cases: Vec<(&str, String, &str, (&str, u16))> = vec![
        (
            "the trust policy's condition",
            student,
            TEST_PROVIDER_ARN,
            ("AccessDenied", 403),
        ),
        (
            "an attribute changed after signing",
            tamper(&staff, "alice@example.com", "admin@example.com"),
            TEST_PROVIDER_ARN,
            ("InvalidIdentityToken", 400),
        ),
        (
            "unsigned",
            idp.response(now)
                .sign_assertion(false)
                .attribute(AFFILIATION, &["staff"])
                .build(),
            TEST_PROVIDER_ARN,
            ("InvalidIdentityToken", 400),
        ),
        (
            "signed by another key",
            other_key
                .response(now)
                .attribute(AFFILIATION, &["staff"])
                .build(),
            TEST_PROVIDER_ARN,
            ("InvalidIdentityToken", 400),
        ),
        (
            "expired",
            idp.response(now - chrono::Duration::hours(2))
                .attribute(AFFILIATION, &["staff"])
                .build(),
            TEST_PROVIDER_ARN,
            ("ExpiredTokenException", 400),
        ),
        (
            "a provider the account does not have",
            idp.response(now).attribute(AFFILIATION, &["staff"]).build(),
            "arn:aws:iam::123456789012:saml-provider/Nobody",
            ("InvalidIdentityToken", 400),
        ),
        (
            "a provider of another account",
            idp.response(now).attribute(AFFILIATION, &["staff"]).build(),
            "arn:aws:iam::999999999999:saml-provider/TestIdp",
            ("InvalidIdentityToken", 400),
        ),
    ];
    for (what, assertion, provider, expected) in cases {
        let (code, status) = failure(
            sts.assume_role_with_saml()
                .role_arn(TEST_ROLE_ARN)
                .principal_arn(provider)
                .saml_assertion(assertion)
                .send()
                .await,
        );
        assert_eq!((code.as_str(), status), expected, "{what}");
    }
    // A role the assertion does not pair with this provider.
    iam.create_role()
        .role_name("Other")
        .assume_role_policy_document(trust(""))
        .send()
        .await
        .must("CreateRole Other");
    let (code, status) = failure(
        sts.assume_role_with_saml()
            .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/Other"))
            .principal_arn(TEST_PROVIDER_ARN)
            .saml_assertion(idp.response(now).attribute(AFFILIATION, &["staff"]).build())
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), status),
        ("AccessDenied", 403),
        "role not in the assertion"
    );

    // Session tags need sts:TagSession in the trust policy; the
    // SessionDuration attribute shortens the session.
    let tagged = idp
        .response(now)
        .attribute(AFFILIATION, &["staff"])
        .attribute(&format!("{PRINCIPAL_TAG_ATTRIBUTE_PREFIX}team"), &["red"])
        .attribute(SESSION_DURATION_ATTRIBUTE, &["900"])
        .build();
    let (code, _) = failure(
        sts.assume_role_with_saml()
            .role_arn(TEST_ROLE_ARN)
            .principal_arn(TEST_PROVIDER_ARN)
            .saml_assertion(&tagged)
            .send()
            .await,
    );
    assert_eq!(code, "AccessDenied", "tags without sts:TagSession");
    iam.update_assume_role_policy()
        .role_name("SamlRole")
        .policy_document(trust(r#","sts:TagSession""#))
        .send()
        .await
        .must("UpdateAssumeRolePolicy");
    let with_tags = sts
        .assume_role_with_saml()
        .role_arn(TEST_ROLE_ARN)
        .principal_arn(TEST_PROVIDER_ARN)
        .saml_assertion(&tagged)
        .send()
        .await
        .must("AssumeRoleWithSAML with session tags");
    let credentials = with_tags.credentials().unwrap();
    let lifetime = credentials.expiration().secs() - now.timestamp();
    assert!((895..=905).contains(&lifetime), "{lifetime}");

    // Rollover: the metadata is replaced; the old key no longer signs.
    let rolled = TestIdp::new(ENTITY_ID);
    iam.update_saml_provider()
        .saml_provider_arn(TEST_PROVIDER_ARN)
        .saml_metadata_document(rolled.metadata_xml())
        .send()
        .await
        .must("UpdateSAMLProvider");
    let (code, _) = failure(
        sts.assume_role_with_saml()
            .role_arn(TEST_ROLE_ARN)
            .principal_arn(TEST_PROVIDER_ARN)
            .saml_assertion(idp.response(now).attribute(AFFILIATION, &["staff"]).build())
            .send()
            .await,
    );
    assert_eq!(code, "InvalidIdentityToken", "the old key after rollover");
    sts.assume_role_with_saml()
        .role_arn(TEST_ROLE_ARN)
        .principal_arn(TEST_PROVIDER_ARN)
        .saml_assertion(
            rolled
                .response(now)
                .attribute(AFFILIATION, &["staff"])
                .build(),
        )
        .send()
        .await
        .must("the new key after rollover");

    iam.delete_saml_provider()
        .saml_provider_arn(TEST_PROVIDER_ARN)
        .send()
        .await
        .must("DeleteSAMLProvider");
    let (code, status) = failure(
        iam.get_saml_provider()
            .saml_provider_arn(TEST_PROVIDER_ARN)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    let (code, _) = failure(
        sts.assume_role_with_saml()
            .role_arn(TEST_ROLE_ARN)
            .principal_arn(TEST_PROVIDER_ARN)
            .saml_assertion(
                rolled
                    .response(now)
                    .attribute(AFFILIATION, &["staff"])
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(code, "InvalidIdentityToken", "a deleted provider");
    node.stop().await;
}
