//! Service-specific credentials: a password per service (CodeCommit,
//! Keyspaces) or an API key (Bedrock, CloudWatch Logs), two per user per
//! service, shown once, reset, deactivated, listed per user or for all
//! users, authorized on the owning user, and a user not deletable while it
//! has any.

use aws_sdk_iam::types::StatusType;
use iam_event_store::testing::TestDatabase;

use crate::harness::{failure, policy, Node, Show, ACCOUNT};

const CODECOMMIT: &str = "codecommit.amazonaws.com";
const BEDROCK: &str = "bedrock.amazonaws.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_specific_credentials_of_a_user() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let iam = node.root_iam();
    iam.create_user()
        .user_name("dev")
        .send()
        .await
        .must("CreateUser");
    let first = iam
        .create_service_specific_credential()
        .user_name("dev")
        .service_name(CODECOMMIT)
        .send()
        .await
        .must("CreateServiceSpecificCredential")
        .service_specific_credential
        .expect("a credential");
    assert!(first.service_specific_credential_id().starts_with("ACCA"));
    assert_eq!(first.service_user_name(), format!("dev-at-{ACCOUNT}"));
    let password = first.service_password().to_owned();
    assert_eq!(password.len(), 44);
    assert_eq!(first.status(), &StatusType::Active);
    assert_eq!(first.service_credential_secret(), None);
    assert_eq!(first.expiration_date(), None);
    // The second for the same service has its own user name; a third is
    // over AWS's quota.
    let second = iam
        .create_service_specific_credential()
        .user_name("dev")
        .service_name(CODECOMMIT)
        .send()
        .await
        .must("second credential")
        .service_specific_credential
        .expect("a credential");
    assert_eq!(second.service_user_name(), format!("dev+1-at-{ACCOUNT}"));
    let (code, status) = failure(
        iam.create_service_specific_credential()
            .user_name("dev")
            .service_name(CODECOMMIT)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("LimitExceeded", 409));
    let (code, status) = failure(
        iam.create_service_specific_credential()
            .user_name("dev")
            .service_name("s3.amazonaws.com")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NotSupportedService", 404));
    let (code, _) = failure(
        iam.create_service_specific_credential()
            .user_name("dev")
            .service_name("cassandra.amazonaws.com")
            .credential_age_days(30)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidInput", "only API keys expire");
    let (code, status) = failure(
        iam.create_service_specific_credential()
            .user_name("nobody")
            .service_name(CODECOMMIT)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));

    // An API key: an alias and a secret, expiring after CredentialAgeDays.
    let key = iam
        .create_service_specific_credential()
        .user_name("dev")
        .service_name(BEDROCK)
        .credential_age_days(30)
        .send()
        .await
        .must("Bedrock API key")
        .service_specific_credential
        .expect("a credential");
    // This SDK models the user name and password as required strings; an
    // API key has neither, so they read as empty.
    assert_eq!(key.service_password(), "");
    assert_eq!(key.service_user_name(), "");
    assert!(key
        .service_credential_alias()
        .unwrap()
        .starts_with(&format!("dev-at-{ACCOUNT}-")));
    assert_eq!(key.service_credential_secret().unwrap().len(), 64);
    let expires = key.expiration_date().expect("an expiry");
    assert_eq!(expires.secs() - key.create_date().secs(), 30 * 86_400);

    // Listed per user and per service, never with a secret.
    let listed = iam
        .list_service_specific_credentials()
        .user_name("dev")
        .send()
        .await
        .must("ListServiceSpecificCredentials");
    assert_eq!(listed.service_specific_credentials().len(), 3);
    let only_codecommit = iam
        .list_service_specific_credentials()
        .user_name("dev")
        .service_name(CODECOMMIT)
        .send()
        .await
        .must("List by service");
    assert_eq!(only_codecommit.service_specific_credentials().len(), 2);

    // Reset: a new password, shown once; the id and user name stay.
    let reset = iam
        .reset_service_specific_credential()
        .user_name("dev")
        .service_specific_credential_id(first.service_specific_credential_id())
        .send()
        .await
        .must("ResetServiceSpecificCredential")
        .service_specific_credential
        .expect("a credential");
    assert_ne!(reset.service_password(), password);
    assert_eq!(reset.service_password().len(), 44);
    assert_eq!(reset.service_user_name(), first.service_user_name());

    iam.update_service_specific_credential()
        .user_name("dev")
        .service_specific_credential_id(first.service_specific_credential_id())
        .status(StatusType::Inactive)
        .send()
        .await
        .must("UpdateServiceSpecificCredential");
    let listed = iam
        .list_service_specific_credentials()
        .user_name("dev")
        .service_name(CODECOMMIT)
        .send()
        .await
        .must("List after update");
    let statuses: Vec<_> = listed
        .service_specific_credentials()
        .iter()
        .map(|c| (c.service_specific_credential_id(), c.status().clone()))
        .collect();
    assert!(statuses.contains(&(first.service_specific_credential_id(), StatusType::Inactive)));

    // Another user's credential is not found under this one; AllUsers lists
    // everyone's, and cannot be combined with a user name.
    iam.create_user()
        .user_name("other")
        .send()
        .await
        .must("CreateUser other");
    iam.create_service_specific_credential()
        .user_name("other")
        .service_name(CODECOMMIT)
        .send()
        .await
        .must("other's credential");
    let (code, status) = failure(
        iam.delete_service_specific_credential()
            .user_name("other")
            .service_specific_credential_id(first.service_specific_credential_id())
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    let everyone = iam
        .list_service_specific_credentials()
        .all_users(true)
        .service_name(CODECOMMIT)
        .send()
        .await
        .must("AllUsers");
    assert_eq!(everyone.service_specific_credentials().len(), 3);
    let (code, _) = failure(
        iam.list_service_specific_credentials()
            .all_users(true)
            .user_name("dev")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidInput");

    // The credentials follow a renamed user, and keep it from being deleted.
    iam.update_user()
        .user_name("dev")
        .new_user_name("developer")
        .send()
        .await
        .must("UpdateUser");
    let (code, status) = failure(iam.delete_user().user_name("developer").send().await);
    assert_eq!((code.as_str(), status), ("DeleteConflict", 409));
    let mine = iam
        .list_service_specific_credentials()
        .user_name("developer")
        .send()
        .await
        .must("List after rename");
    assert_eq!(mine.service_specific_credentials().len(), 3);
    for c in mine.service_specific_credentials() {
        assert_eq!(c.user_name(), "developer");
        iam.delete_service_specific_credential()
            .user_name("developer")
            .service_specific_credential_id(c.service_specific_credential_id())
            .send()
            .await
            .must("DeleteServiceSpecificCredential");
    }
    iam.delete_user()
        .user_name("developer")
        .send()
        .await
        .must("DeleteUser once the credentials are gone");
    node.stop().await;
}

/// A user allowed the actions on their own user only manages their own
/// credentials: without `UserName` they act on themselves, another user is
/// refused, and so is every user at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_specific_credentials_are_authorized_on_the_owner() {
    let db = TestDatabase::for_server().await;
    let node = Node::start(&db).await;
    let root = node.root_iam();
    root.create_user()
        .user_name("victim")
        .send()
        .await
        .must("CreateUser victim");
    let victims = root
        .create_service_specific_credential()
        .user_name("victim")
        .service_name(CODECOMMIT)
        .send()
        .await
        .must("victim's credential")
        .service_specific_credential
        .expect("a credential");
    let me = node
        .user_with_policy(
            "me",
            &policy(
                r#"{"Effect":"Allow","Action":"iam:*ServiceSpecificCredential*",
                    "Resource":"arn:aws:iam::*:user/${aws:username}"}"#,
            ),
        )
        .await;
    me.create_service_specific_credential()
        .user_name("me")
        .service_name(CODECOMMIT)
        .send()
        .await
        .must("my own credential");
    let mine = me
        .list_service_specific_credentials()
        .send()
        .await
        .must("my credentials, no UserName");
    assert_eq!(mine.service_specific_credentials().len(), 1);
    assert_eq!(mine.service_specific_credentials()[0].user_name(), "me");
    for (what, result) in [
        (
            "create for another",
            failure(
                me.create_service_specific_credential()
                    .user_name("victim")
                    .service_name(CODECOMMIT)
                    .send()
                    .await,
            ),
        ),
        (
            "reset another's",
            failure(
                me.reset_service_specific_credential()
                    .user_name("victim")
                    .service_specific_credential_id(victims.service_specific_credential_id())
                    .send()
                    .await,
            ),
        ),
        (
            "list all users",
            failure(
                me.list_service_specific_credentials()
                    .all_users(true)
                    .send()
                    .await,
            ),
        ),
    ] {
        assert_eq!(result, ("AccessDenied".to_owned(), 403), "{what}");
    }
    // Naming another user's credential id under one's own name finds
    // nothing: ids do not reach across users.
    let (code, _) = failure(
        me.reset_service_specific_credential()
            .service_specific_credential_id(victims.service_specific_credential_id())
            .send()
            .await,
    );
    assert_eq!(code, "NoSuchEntity");
    node.stop().await;
}
