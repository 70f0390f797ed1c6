//! Passwords and virtual MFA through aws-sdk-iam and aws-sdk-sts: the
//! account password policy, login profiles, a user changing their own
//! password, and an MFA device enabled with codes computed here and used
//! for `GetSessionToken`.

use iam_event_store::testing::TestDatabase;

use crate::harness::{failure, Keys, Node, Show};

fn code(seed: &[u8], offset: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + offset * 30;
    format!("{:06}", iam_mfa::code_at(seed, iam_mfa::counter_at(now)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_and_mfa_through_the_sdks() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    iam.create_user()
        .user_name("alice")
        .send()
        .await
        .must("CreateUser");

    // The password policy.
    let (code_, status) = failure(iam.get_account_password_policy().send().await);
    assert_eq!((code_.as_str(), status), ("NoSuchEntity", 404));
    iam.update_account_password_policy()
        .minimum_password_length(10)
        .require_numbers(true)
        .allow_users_to_change_password(true)
        .password_reuse_prevention(1)
        .send()
        .await
        .must("UpdateAccountPasswordPolicy");
    let policy = iam
        .get_account_password_policy()
        .send()
        .await
        .must("GetAccountPasswordPolicy");
    let policy = policy.password_policy().expect("a policy");
    assert_eq!(policy.minimum_password_length(), Some(10));
    assert!(policy.require_numbers());

    // Login profiles.
    let (code_, status) = failure(
        iam.create_login_profile()
            .user_name("alice")
            .password("short1")
            .send()
            .await,
    );
    assert_eq!((code_.as_str(), status), ("PasswordPolicyViolation", 400));
    iam.create_login_profile()
        .user_name("alice")
        .password("long-enough-1")
        .send()
        .await
        .must("CreateLoginProfile");
    let profile = iam
        .get_login_profile()
        .user_name("alice")
        .send()
        .await
        .must("GetLoginProfile");
    assert_eq!(
        profile.login_profile().map(|p| p.user_name()),
        Some("alice")
    );
    iam.update_login_profile()
        .user_name("alice")
        .password_reset_required(false)
        .send()
        .await
        .must("UpdateLoginProfile");

    // alice changes her own password with her own key.
    let key = iam
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .must("CreateAccessKey");
    let key = key.access_key().expect("a key");
    let alice = Keys::new(key.access_key_id(), key.secret_access_key());
    node.iam(&alice)
        .change_password()
        .old_password("long-enough-1")
        .new_password("long-enough-2")
        .send()
        .await
        .must("ChangePassword");
    let (code_, status) = failure(
        node.iam(&alice)
            .change_password()
            .old_password("long-enough-2")
            .new_password("long-enough-2")
            .send()
            .await,
    );
    assert_eq!((code_.as_str(), status), ("PasswordPolicyViolation", 400));

    // A virtual MFA device: its seed, enabled with two consecutive codes.
    let created = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name("alice-phone")
        .send()
        .await
        .must("CreateVirtualMFADevice");
    let device = created.virtual_mfa_device().expect("a device");
    let serial = device.serial_number().to_owned();
    let base32 = device
        .base32_string_seed()
        .expect("a seed")
        .as_ref()
        .to_vec();
    let seed = iam_mfa::base32_decode(std::str::from_utf8(&base32).unwrap()).unwrap();
    assert!(device
        .qr_code_png()
        .expect("a QR code")
        .as_ref()
        .starts_with(b"\x89PNG"));
    let (code_, status) = failure(
        iam.enable_mfa_device()
            .user_name("alice")
            .serial_number(&serial)
            .authentication_code1("123456")
            .authentication_code2("654321")
            .send()
            .await,
    );
    assert_eq!((code_.as_str(), status), ("InvalidAuthenticationCode", 400));
    iam.enable_mfa_device()
        .user_name("alice")
        .serial_number(&serial)
        .authentication_code1(code(&seed, -1))
        .authentication_code2(code(&seed, 0))
        .send()
        .await
        .must("EnableMFADevice");
    let listed = iam
        .list_mfa_devices()
        .user_name("alice")
        .send()
        .await
        .must("ListMFADevices");
    assert_eq!(listed.mfa_devices().len(), 1);
    let virtual_devices = iam
        .list_virtual_mfa_devices()
        .send()
        .await
        .must("ListVirtualMFADevices");
    assert_eq!(virtual_devices.virtual_mfa_devices().len(), 1);
    let got = iam
        .get_mfa_device()
        .user_name("alice")
        .serial_number(&serial)
        .send()
        .await
        .must("GetMFADevice");
    assert_eq!(got.user_name(), Some("alice"));
    iam.resync_mfa_device()
        .user_name("alice")
        .serial_number(&serial)
        .authentication_code1(code(&seed, 1))
        .authentication_code2(code(&seed, 2))
        .send()
        .await
        .must("ResyncMFADevice");
    // The codes used are spent: an old one is refused.
    let (code_, status) = failure(
        node.sts(&alice)
            .get_session_token()
            .serial_number(&serial)
            .token_code(code(&seed, 0))
            .send()
            .await,
    );
    assert_eq!((code_.as_str(), status), ("AccessDenied", 403));
    iam.tag_mfa_device()
        .serial_number(&serial)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("owner")
                .value("alice")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .must("TagMFADevice");
    let tags = iam
        .list_mfa_device_tags()
        .serial_number(&serial)
        .send()
        .await
        .must("ListMFADeviceTags");
    assert_eq!(tags.tags().len(), 1);
    iam.untag_mfa_device()
        .serial_number(&serial)
        .tag_keys("owner")
        .send()
        .await
        .must("UntagMFADevice");
    iam.deactivate_mfa_device()
        .user_name("alice")
        .serial_number(&serial)
        .send()
        .await
        .must("DeactivateMFADevice");
    iam.delete_virtual_mfa_device()
        .serial_number(&serial)
        .send()
        .await
        .must("DeleteVirtualMFADevice");
    iam.delete_login_profile()
        .user_name("alice")
        .send()
        .await
        .must("DeleteLoginProfile");
    iam.delete_account_password_policy()
        .send()
        .await
        .must("DeleteAccountPasswordPolicy");
    node.stop().await;
}
