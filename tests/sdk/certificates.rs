//! X.509 certificates: server certificates (upload with key and chain,
//! the key checked against the certificate and never returned, rename and
//! move, path listing, tags, AWS's quota) and signing certificates (per
//! user or the root user, each certificate once in the account, two per
//! user, status, the user not deletable while it has any).

use aws_sdk_iam::types::{StatusType, Tag};
use iam_event_store::testing::TestDatabase;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

use crate::harness::{failure, policy, Node, Show, ACCOUNT};

/// A certificate and its PKCS#8 P-256 key, both PEM.
struct Issued {
    cert: String,
    key: String,
}

/// A self-signed certificate for `name`, valid in the given years.
fn self_signed(name: &str, from: i32, to: i32) -> Issued {
    let key = KeyPair::generate().expect("a P-256 key");
    let mut params = CertificateParams::new(vec![name.to_owned()]).expect("params");
    params.not_before = rcgen::date_time_ymd(from, 1, 1);
    params.not_after = rcgen::date_time_ymd(to, 1, 1);
    let cert = params.self_signed(&key).expect("self-signed");
    Issued {
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

/// A leaf certificate signed by a new CA, and the CA's certificate as its
/// chain.
fn with_chain(name: &str) -> (Issued, String) {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.not_before = rcgen::date_time_ymd(2020, 1, 1);
    ca.not_after = rcgen::date_time_ymd(2100, 1, 1);
    let ca_cert = ca.self_signed(&ca_key).expect("CA");
    let key = KeyPair::generate().expect("leaf key");
    let mut leaf = CertificateParams::new(vec![name.to_owned()]).expect("leaf params");
    leaf.not_before = rcgen::date_time_ymd(2020, 1, 1);
    leaf.not_after = rcgen::date_time_ymd(2099, 1, 1);
    let cert = leaf.signed_by(&key, &ca_cert, &ca_key).expect("leaf");
    (
        Issued {
            cert: cert.pem(),
            key: key.serialize_pem(),
        },
        ca_cert.pem(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_certificates() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    let web = self_signed("www.example.com", 2020, 2090);
    let uploaded = iam
        .upload_server_certificate()
        .server_certificate_name("web")
        .certificate_body(&web.cert)
        .private_key(&web.key)
        .tags(Tag::builder().key("team").value("edge").build().unwrap())
        .send()
        .await
        .must("UploadServerCertificate");
    let meta = uploaded.server_certificate_metadata().expect("metadata");
    assert!(meta.server_certificate_id().starts_with("ASCA"));
    assert_eq!(
        meta.arn(),
        format!("arn:aws:iam::{ACCOUNT}:server-certificate/web")
    );
    assert_eq!(meta.path(), "/");
    assert_eq!(
        meta.expiration().expect("an expiration").secs(),
        chrono::NaiveDate::from_ymd_opt(2090, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp()
    );
    assert_eq!(uploaded.tags().len(), 1);

    // A certificate with its chain, under CloudFront's path.
    let (leaf, chain) = with_chain("cdn.example.com");
    iam.upload_server_certificate()
        .server_certificate_name("cdn")
        .path("/cloudfront/")
        .certificate_body(&leaf.cert)
        .private_key(&leaf.key)
        .certificate_chain(&chain)
        .send()
        .await
        .must("UploadServerCertificate with chain");
    let got = iam
        .get_server_certificate()
        .server_certificate_name("cdn")
        .send()
        .await
        .must("GetServerCertificate")
        .server_certificate
        .expect("a certificate");
    assert_eq!(got.certificate_body(), leaf.cert.trim());
    assert_eq!(got.certificate_chain(), Some(chain.trim()));
    let listed = iam
        .list_server_certificates()
        .path_prefix("/cloudfront/")
        .send()
        .await
        .must("ListServerCertificates");
    let names: Vec<_> = listed
        .server_certificate_metadata_list()
        .iter()
        .map(|m| m.server_certificate_name())
        .collect();
    assert_eq!(names, ["cdn"]);

    // What AWS refuses.
    let other = self_signed("other.example.com", 2020, 2090);
    let expired = self_signed("old.example.com", 2001, 2002);
    let not_yet = self_signed("new.example.com", 2090, 2095);
    for (name, cert, key, chain, expected) in [
        (
            "web",
            &web.cert,
            &web.key,
            None,
            ("EntityAlreadyExists", 409),
        ),
        (
            "mismatch",
            &web.cert,
            &other.key,
            None,
            ("KeyPairMismatch", 400),
        ),
        (
            "expired",
            &expired.cert,
            &expired.key,
            None,
            ("MalformedCertificate", 400),
        ),
        (
            "early",
            &not_yet.cert,
            &not_yet.key,
            None,
            ("MalformedCertificate", 400),
        ),
        (
            "garbage",
            &"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----".to_owned(),
            &web.key,
            None,
            ("MalformedCertificate", 400),
        ),
        (
            "badkey",
            &web.cert,
            &"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----".to_owned(),
            None,
            ("MalformedCertificate", 400),
        ),
        (
            "badchain",
            &web.cert,
            &web.key,
            Some("not a chain"),
            ("MalformedCertificate", 400),
        ),
    ] {
        let (code, status) = failure(
            iam.upload_server_certificate()
                .server_certificate_name(name)
                .certificate_body(cert)
                .private_key(key)
                .set_certificate_chain(chain.map(str::to_owned))
                .send()
                .await,
        );
        assert_eq!((code.as_str(), status), expected, "{name}");
    }

    // Rename and move: the old name is gone.
    iam.update_server_certificate()
        .server_certificate_name("web")
        .new_server_certificate_name("www")
        .new_path("/public/")
        .send()
        .await
        .must("UpdateServerCertificate");
    let (code, status) = failure(
        iam.get_server_certificate()
            .server_certificate_name("web")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    let www = iam
        .get_server_certificate()
        .server_certificate_name("www")
        .send()
        .await
        .must("Get renamed");
    let meta = www
        .server_certificate()
        .unwrap()
        .server_certificate_metadata()
        .unwrap();
    assert_eq!(
        meta.arn(),
        format!("arn:aws:iam::{ACCOUNT}:server-certificate/public/www")
    );
    let (code, _) = failure(
        iam.update_server_certificate()
            .server_certificate_name("www")
            .new_server_certificate_name("CDN")
            .send()
            .await,
    );
    assert_eq!(code, "EntityAlreadyExists", "names are case-insensitive");

    // Tags.
    iam.tag_server_certificate()
        .server_certificate_name("www")
        .tags(Tag::builder().key("env").value("prod").build().unwrap())
        .send()
        .await
        .must("TagServerCertificate");
    iam.untag_server_certificate()
        .server_certificate_name("www")
        .tag_keys("team")
        .send()
        .await
        .must("UntagServerCertificate");
    let tags = iam
        .list_server_certificate_tags()
        .server_certificate_name("www")
        .send()
        .await
        .must("ListServerCertificateTags");
    let keys: Vec<_> = tags.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["env"]);

    // AWS's quota: twenty per account.
    let spare = self_signed("spare.example.com", 2020, 2090);
    for i in 2..20 {
        iam.upload_server_certificate()
            .server_certificate_name(format!("spare{i}"))
            .certificate_body(&spare.cert)
            .private_key(&spare.key)
            .send()
            .await
            .must("upload up to the quota");
    }
    let (code, status) = failure(
        iam.upload_server_certificate()
            .server_certificate_name("one-too-many")
            .certificate_body(&spare.cert)
            .private_key(&spare.key)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("LimitExceeded", 409));
    iam.delete_server_certificate()
        .server_certificate_name("www")
        .send()
        .await
        .must("DeleteServerCertificate");
    let (code, _) = failure(
        iam.delete_server_certificate()
            .server_certificate_name("www")
            .send()
            .await,
    );
    assert_eq!(code, "NoSuchEntity");
    node.stop().await;
}

/// A rename needs the permission on the certificate as it will be: a user
/// allowed only under `/cloudfront/` cannot move a certificate out of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_certificate_rename_is_authorized_on_both_names() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let cdn = self_signed("cdn.example.com", 2020, 2090);
    node.root_iam()
        .upload_server_certificate()
        .server_certificate_name("cdn")
        .path("/cloudfront/")
        .certificate_body(&cdn.cert)
        .private_key(&cdn.key)
        .send()
        .await
        .must("upload");
    let ops = node
        .user_with_policy(
            "ops",
            &policy(
                r#"{"Effect":"Allow","Action":"iam:*ServerCertificate*",
                    "Resource":"arn:aws:iam::*:server-certificate/cloudfront/*"}"#,
            ),
        )
        .await;
    ops.update_server_certificate()
        .server_certificate_name("cdn")
        .new_server_certificate_name("cdn2")
        .send()
        .await
        .must("rename within /cloudfront/");
    let (code, status) = failure(
        ops.update_server_certificate()
            .server_certificate_name("cdn2")
            .new_path("/elsewhere/")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("AccessDenied", 403));
    let (code, _) = failure(
        ops.upload_server_certificate()
            .server_certificate_name("rogue")
            .certificate_body(&cdn.cert)
            .private_key(&cdn.key)
            .send()
            .await,
    );
    assert_eq!(code, "AccessDenied", "outside /cloudfront/");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_certificates() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    for user in ["dev", "other"] {
        iam.create_user()
            .user_name(user)
            .send()
            .await
            .must("CreateUser");
    }
    let first = self_signed("dev", 2020, 2090);
    let uploaded = iam
        .upload_signing_certificate()
        .user_name("dev")
        .certificate_body(&first.cert)
        .send()
        .await
        .must("UploadSigningCertificate")
        .certificate
        .expect("a certificate");
    let id = uploaded.certificate_id().to_owned();
    assert_eq!(id.len(), 32);
    assert_eq!(uploaded.user_name(), "dev");
    assert_eq!(uploaded.status(), &StatusType::Active);
    assert_eq!(uploaded.certificate_body(), first.cert.trim());
    // One certificate once per account, whoever holds it.
    for user in ["dev", "other"] {
        let (code, status) = failure(
            iam.upload_signing_certificate()
                .user_name(user)
                .certificate_body(&first.cert)
                .send()
                .await,
        );
        assert_eq!(
            (code.as_str(), status),
            ("DuplicateCertificate", 409),
            "{user}"
        );
    }
    let expired = self_signed("dev", 2001, 2002);
    let (code, status) = failure(
        iam.upload_signing_certificate()
            .user_name("dev")
            .certificate_body(&expired.cert)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("InvalidCertificate", 400));
    let (code, _) = failure(
        iam.upload_signing_certificate()
            .user_name("dev")
            .certificate_body("garbage")
            .send()
            .await,
    );
    assert_eq!(code, "MalformedCertificate");
    iam.upload_signing_certificate()
        .user_name("dev")
        .certificate_body(&self_signed("dev", 2020, 2090).cert)
        .send()
        .await
        .must("second certificate");
    let (code, status) = failure(
        iam.upload_signing_certificate()
            .user_name("dev")
            .certificate_body(&self_signed("dev", 2020, 2090).cert)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("LimitExceeded", 409));

    iam.update_signing_certificate()
        .user_name("dev")
        .certificate_id(&id)
        .status(StatusType::Inactive)
        .send()
        .await
        .must("UpdateSigningCertificate");
    let listed = iam
        .list_signing_certificates()
        .user_name("dev")
        .send()
        .await
        .must("ListSigningCertificates");
    assert_eq!(listed.certificates().len(), 2);
    assert!(listed
        .certificates()
        .iter()
        .any(|c| c.certificate_id() == id && c.status() == &StatusType::Inactive));
    let (code, _) = failure(
        iam.delete_signing_certificate()
            .user_name("other")
            .certificate_id(&id)
            .send()
            .await,
    );
    assert_eq!(code, "NoSuchEntity", "another user's certificate");

    // The root user's own, without a user name.
    let root_cert = iam
        .upload_signing_certificate()
        .certificate_body(&self_signed("root", 2020, 2090).cert)
        .send()
        .await
        .must("root's certificate")
        .certificate
        .expect("a certificate");
    assert_eq!(root_cert.user_name(), "");
    let roots = iam
        .list_signing_certificates()
        .send()
        .await
        .must("root's certificates");
    assert_eq!(roots.certificates().len(), 1);

    let (code, status) = failure(iam.delete_user().user_name("dev").send().await);
    assert_eq!((code.as_str(), status), ("DeleteConflict", 409));
    for c in listed.certificates() {
        iam.delete_signing_certificate()
            .user_name("dev")
            .certificate_id(c.certificate_id())
            .send()
            .await
            .must("DeleteSigningCertificate");
    }
    iam.delete_user()
        .user_name("dev")
        .send()
        .await
        .must("DeleteUser once the certificates are gone");
    node.stop().await;
}
