//! SSH public keys of users: upload in OpenSSH form, read back in either
//! encoding, the per-user quota and duplicates, status, deletion, and the
//! user not deletable while keys remain.

use aws_sdk_iam::types::{EncodingType, StatusType};
use base64::Engine;
use iam_event_store::testing::TestDatabase;
use iam_federation::Alg;

use crate::harness::{failure, Node, Show};

/// An `ssh-rsa` public key built from a freshly generated RSA key (the
/// test issuer's), in OpenSSH form.
fn ssh_rsa_key(comment: &str) -> String {
    let issuer = iam_federation::testing::TestIssuer::new("https://unused.example.com");
    let jwk = issuer.jwk(Alg::Rs256);
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let n = url.decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = url.decode(jwk["e"].as_str().unwrap()).unwrap();
    let mut blob = Vec::new();
    let mut put = |bytes: &[u8]| {
        blob.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        blob.extend_from_slice(bytes);
    };
    let mpint = |b: &[u8]| {
        let mut v = b.to_vec();
        if v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        v
    };
    put(b"ssh-rsa");
    put(&mpint(&e));
    put(&mpint(&n));
    format!(
        "ssh-rsa {} {comment}",
        base64::engine::general_purpose::STANDARD.encode(&blob)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_public_keys_of_a_user() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    iam.create_user()
        .user_name("dev")
        .send()
        .await
        .must("CreateUser");
    let key = ssh_rsa_key("dev@laptop");
    let uploaded = iam
        .upload_ssh_public_key()
        .user_name("dev")
        .ssh_public_key_body(&key)
        .send()
        .await
        .must("UploadSSHPublicKey");
    let k = uploaded.ssh_public_key().unwrap();
    assert!(k.ssh_public_key_id().starts_with("APKA"));
    assert_eq!(k.fingerprint().len(), 47, "{}", k.fingerprint());
    assert_eq!(k.status(), &StatusType::Active);
    let id = k.ssh_public_key_id().to_owned();
    let (code, status) = failure(
        iam.upload_ssh_public_key()
            .user_name("dev")
            .ssh_public_key_body(&key)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("DuplicateSSHPublicKey", 400));
    for (bad, expected) in [
        ("ssh-rsa AAAA", "InvalidPublicKey"),
        (
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG",
            "UnrecognizedPublicKeyEncoding",
        ),
        ("not a key", "UnrecognizedPublicKeyEncoding"),
    ] {
        let (code, _) = failure(
            iam.upload_ssh_public_key()
                .user_name("dev")
                .ssh_public_key_body(bad)
                .send()
                .await,
        );
        assert_eq!(code, expected, "{bad}");
    }
    let pem = iam
        .get_ssh_public_key()
        .user_name("dev")
        .ssh_public_key_id(&id)
        .encoding(EncodingType::Pem)
        .send()
        .await
        .must("GetSSHPublicKey PEM");
    let pem_body = pem
        .ssh_public_key()
        .unwrap()
        .ssh_public_key_body()
        .to_owned();
    assert!(
        pem_body.starts_with("-----BEGIN PUBLIC KEY-----"),
        "{pem_body}"
    );
    // The PEM form is the same key: uploading it is a duplicate.
    iam.create_user()
        .user_name("other")
        .send()
        .await
        .must("CreateUser other");
    let same = iam
        .upload_ssh_public_key()
        .user_name("other")
        .ssh_public_key_body(&pem_body)
        .send()
        .await
        .must("UploadSSHPublicKey PEM");
    assert_eq!(
        same.ssh_public_key().unwrap().fingerprint(),
        k.fingerprint()
    );
    let ssh = iam
        .get_ssh_public_key()
        .user_name("dev")
        .ssh_public_key_id(&id)
        .encoding(EncodingType::Ssh)
        .send()
        .await
        .must("GetSSHPublicKey SSH");
    assert!(key.starts_with(ssh.ssh_public_key().unwrap().ssh_public_key_body()));
    // Another user's key is not found under this one.
    let (code, status) = failure(
        iam.get_ssh_public_key()
            .user_name("other")
            .ssh_public_key_id(&id)
            .encoding(EncodingType::Ssh)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));

    iam.update_ssh_public_key()
        .user_name("dev")
        .ssh_public_key_id(&id)
        .status(StatusType::Inactive)
        .send()
        .await
        .must("UpdateSSHPublicKey");
    let listed = iam
        .list_ssh_public_keys()
        .user_name("dev")
        .send()
        .await
        .must("ListSSHPublicKeys");
    assert_eq!(listed.ssh_public_keys().len(), 1);
    assert_eq!(listed.ssh_public_keys()[0].status(), &StatusType::Inactive);
    // Five per user.
    for i in 0..4 {
        iam.upload_ssh_public_key()
            .user_name("dev")
            .ssh_public_key_body(ssh_rsa_key(&format!("k{i}")))
            .send()
            .await
            .must("UploadSSHPublicKey more");
    }
    let (code, status) = failure(
        iam.upload_ssh_public_key()
            .user_name("dev")
            .ssh_public_key_body(ssh_rsa_key("sixth"))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("LimitExceeded", 409));
    let (code, status) = failure(iam.delete_user().user_name("dev").send().await);
    assert_eq!((code.as_str(), status), ("DeleteConflict", 409));
    let all = iam
        .list_ssh_public_keys()
        .user_name("dev")
        .send()
        .await
        .must("ListSSHPublicKeys all");
    for k in all.ssh_public_keys() {
        iam.delete_ssh_public_key()
            .user_name("dev")
            .ssh_public_key_id(k.ssh_public_key_id())
            .send()
            .await
            .must("DeleteSSHPublicKey");
    }
    iam.delete_user()
        .user_name("dev")
        .send()
        .await
        .must("DeleteUser");
    node.stop().await;
}
