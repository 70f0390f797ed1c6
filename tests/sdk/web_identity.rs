//! Web identity federation: OpenID Connect providers and
//! `sts:AssumeRoleWithWebIdentity`, against a local issuer that signs its
//! tokens with keys it generated (RS256 and ES256).

use aws_sdk_iam::types::Tag;
use iam_event_store::testing::TestDatabase;
use iam_federation::testing::{assemble, replace_payload};
use iam_federation::Alg;
use serde_json::json;
use std::sync::atomic::Ordering;

use crate::harness::{failure, policy, Keys, LocalIssuer, Node, Show, ACCOUNT};

const THUMBPRINT: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_providers_are_managed_with_aws_rules() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    let created = iam
        .create_open_id_connect_provider()
        .url("https://token.actions.example.com")
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list(THUMBPRINT)
        .tags(Tag::builder().key("team").value("ci").build().unwrap())
        .send()
        .await
        .must("CreateOpenIDConnectProvider");
    let arn = created.open_id_connect_provider_arn().unwrap().to_owned();
    assert_eq!(
        arn,
        format!("arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.example.com")
    );
    let (code, status) = failure(
        iam.create_open_id_connect_provider()
            .url("https://token.actions.example.com")
            .thumbprint_list(THUMBPRINT)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("EntityAlreadyExists", 409));
    for bad in [
        "http://token.example.com",
        "https://example.com:8443",
        "https://example.com/a?b=c",
        "ftp://example.com",
    ] {
        let (code, status) = failure(
            iam.create_open_id_connect_provider()
                .url(bad)
                .thumbprint_list(THUMBPRINT)
                .send()
                .await,
        );
        assert_eq!((code.as_str(), status), ("ValidationError", 400), "{bad}");
    }
    let six: Vec<String> = (0..6).map(|i| format!("{i:040x}")).collect();
    let (code, _) = failure(
        iam.create_open_id_connect_provider()
            .url("https://six.example.com")
            .set_thumbprint_list(Some(six))
            .send()
            .await,
    );
    assert!(
        code == "InvalidInput" || code == "ValidationError",
        "{code}"
    );

    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .must("GetOpenIDConnectProvider");
    assert_eq!(got.url(), Some("token.actions.example.com"));
    assert_eq!(got.client_id_list(), ["sts.amazonaws.com"]);
    assert_eq!(got.thumbprint_list(), [THUMBPRINT]);
    iam.add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("my-app")
        .send()
        .await
        .must("AddClientIDToOpenIDConnectProvider");
    iam.remove_client_id_from_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("sts.amazonaws.com")
        .send()
        .await
        .must("RemoveClientIDFromOpenIDConnectProvider");
    iam.update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(&arn)
        .thumbprint_list("a".repeat(40))
        .send()
        .await
        .must("UpdateOpenIDConnectProviderThumbprint");
    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .must("GetOpenIDConnectProvider again");
    assert_eq!(got.client_id_list(), ["my-app"]);
    assert_eq!(got.thumbprint_list(), ["a".repeat(40)]);
    iam.tag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .tags(Tag::builder().key("env").value("prod").build().unwrap())
        .send()
        .await
        .must("TagOpenIDConnectProvider");
    iam.untag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .must("UntagOpenIDConnectProvider");
    let tags = iam
        .list_open_id_connect_provider_tags()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .must("ListOpenIDConnectProviderTags");
    assert_eq!(tags.tags().len(), 1);
    let listed = iam
        .list_open_id_connect_providers()
        .send()
        .await
        .must("ListOpenIDConnectProviders");
    assert_eq!(listed.open_id_connect_provider_list().len(), 1);
    iam.delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .must("DeleteOpenIDConnectProvider");
    let (code, status) = failure(
        iam.get_open_id_connect_provider()
            .open_id_connect_provider_arn(&arn)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_id_token_assumes_the_role_its_trust_policy_allows() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let idp = LocalIssuer::start().await;
    let iam = node.root_iam();
    let provider = iam
        .create_open_id_connect_provider()
        .url(idp.url())
        .client_id_list("my-app")
        .send()
        .await
        .must("CreateOpenIDConnectProvider (local issuer)");
    let provider_arn = provider.open_id_connect_provider_arn().unwrap().to_owned();
    let host = idp.url().trim_start_matches("http://").to_owned();
    iam.create_role()
        .role_name("ci")
        .assume_role_policy_document(policy(&format!(
            r#"{{"Effect":"Allow","Principal":{{"Federated":"{provider_arn}"}},"Action":"sts:AssumeRoleWithWebIdentity",
                "Condition":{{"StringEquals":{{"{host}:aud":"my-app","{host}:sub":"repo:acme/web"}}}}}}"#
        )))
        .send()
        .await
        .must("CreateRole");
    iam.attach_role_policy()
        .role_name("ci")
        .policy_arn("arn:aws:iam::aws:policy/IAMReadOnlyAccess")
        .send()
        .await
        .must("AttachRolePolicy");
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/ci");
    let sts = node.anonymous_sts();
    let now = chrono::Utc::now();
    let assume = |token: String| {
        sts.assume_role_with_web_identity()
            .role_arn(&role_arn)
            .role_session_name("build-42")
            .web_identity_token(token)
            .send()
    };

    // RS256 and ES256 tokens of the right subject and audience.
    for alg in [Alg::Rs256, Alg::Es256] {
        let token = idp
            .issuer
            .sign(idp.issuer.claims("repo:acme/web", "my-app", now), alg);
        let out = assume(token).await.must("AssumeRoleWithWebIdentity");
        assert_eq!(out.subject_from_web_identity_token(), Some("repo:acme/web"));
        assert_eq!(out.audience(), Some("my-app"));
        assert_eq!(out.provider(), Some(provider_arn.as_str()));
        let user = out.assumed_role_user().unwrap();
        assert_eq!(
            user.arn(),
            format!("arn:aws:sts::{ACCOUNT}:assumed-role/ci/build-42")
        );
        let keys = Keys::temporary(out.credentials().unwrap());
        let me = node
            .sts(&keys)
            .get_caller_identity()
            .send()
            .await
            .must("GetCallerIdentity as the web identity session");
        assert_eq!(me.arn(), Some(user.arn()));
        let session = node.iam(&keys);
        session
            .list_roles()
            .send()
            .await
            .must("ListRoles under IAMReadOnlyAccess");
        assert_eq!(
            failure(session.create_user().user_name("x").send().await),
            ("AccessDenied".to_owned(), 403)
        );
    }
    // The key set was fetched once for all of them.
    assert_eq!(idp.key_fetches.load(Ordering::Relaxed), 1);

    let code_of = |r: Result<_, _>| failure(r);
    // Another subject: the trust policy's condition refuses it.
    let other = idp.issuer.sign(
        idp.issuer.claims("repo:evil/web", "my-app", now),
        Alg::Rs256,
    );
    assert_eq!(
        code_of(assume(other).await),
        ("AccessDenied".to_owned(), 403)
    );
    // Another audience: not a client id of the provider.
    let aud = idp.issuer.sign(
        idp.issuer.claims("repo:acme/web", "other-app", now),
        Alg::Rs256,
    );
    assert_eq!(
        code_of(assume(aud).await),
        ("InvalidIdentityToken".to_owned(), 400)
    );
    // Expired.
    let mut claims = idp.issuer.claims("repo:acme/web", "my-app", now);
    claims["exp"] = json!((now - chrono::Duration::hours(1)).timestamp());
    let expired = idp.issuer.sign(claims, Alg::Rs256);
    assert_eq!(code_of(assume(expired).await).0, "ExpiredTokenException");
    // Tampered: the subject rewritten after signing.
    let good = idp.issuer.sign(
        idp.issuer.claims("repo:evil/web", "my-app", now),
        Alg::Rs256,
    );
    let forged = replace_payload(&good, &idp.issuer.claims("repo:acme/web", "my-app", now));
    assert_eq!(
        code_of(assume(forged).await),
        ("InvalidIdentityToken".to_owned(), 400)
    );
    // Unsigned (`alg: none`).
    let none = assemble(
        &json!({"alg": "none", "typ": "JWT"}),
        &idp.issuer.claims("repo:acme/web", "my-app", now),
        &[],
    );
    assert_eq!(
        code_of(assume(none).await),
        ("InvalidIdentityToken".to_owned(), 400)
    );
    // HS256 with the public key as the secret.
    let hs = idp
        .issuer
        .forge_hs256(idp.issuer.claims("repo:acme/web", "my-app", now));
    assert_eq!(
        code_of(assume(hs).await),
        ("InvalidIdentityToken".to_owned(), 400)
    );
    // An issuer the account does not trust.
    let stranger = iam_federation::testing::TestIssuer::new("https://stranger.example.com");
    let token = stranger.sign(stranger.claims("repo:acme/web", "my-app", now), Alg::Es256);
    assert_eq!(
        code_of(assume(token).await),
        ("InvalidIdentityToken".to_owned(), 400)
    );
    // Not a token at all.
    assert_eq!(
        code_of(assume("not-a-jwt".into()).await),
        ("InvalidIdentityToken".to_owned(), 400)
    );
    // Too long for the role.
    let token = idp.issuer.sign(
        idp.issuer.claims("repo:acme/web", "my-app", now),
        Alg::Rs256,
    );
    let (code, _) = failure(
        sts.assume_role_with_web_identity()
            .role_arn(&role_arn)
            .role_session_name("long")
            .web_identity_token(token)
            .duration_seconds(7200)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationError");
    // Invented key ids do not make iamd fetch the keys again and again.
    for i in 0..5 {
        let token = idp.issuer.sign_with_header(
            json!({"alg": "RS256", "typ": "JWT", "kid": format!("invented-{i}")}),
            idp.issuer.claims("repo:acme/web", "my-app", now),
            Alg::Rs256,
        );
        assert_eq!(code_of(assume(token).await).0, "InvalidIdentityToken");
    }
    assert!(idp.key_fetches.load(Ordering::Relaxed) <= 2);

    let summary = iam
        .get_account_summary()
        .send()
        .await
        .must("GetAccountSummary");
    assert_eq!(
        summary.summary_map().and_then(|m| m
            .get(&aws_sdk_iam::types::SummaryKeyType::Providers)
            .copied()),
        Some(1)
    );
    node.stop().await;
}
