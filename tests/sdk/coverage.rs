//! Every operation the server registers is driven through the SDK by some
//! test of this binary.

/// The operations the tests of this binary call through the SDK.
const COVERED: &[&str] = &[
    "GetCallerIdentity",
    "CreateUser",
    "GetUser",
    "ListUsers",
    "UpdateUser",
    "DeleteUser",
    "CreateAccessKey",
    "ListAccessKeys",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "GetAccessKeyLastUsed",
    "PutUserPolicy",
    "GetUserPolicy",
    "ListUserPolicies",
    "DeleteUserPolicy",
];

#[test]
fn every_registered_operation_is_driven_through_the_sdk() {
    let missing: Vec<&str> = iam_api::ops::OPERATIONS
        .iter()
        .copied()
        .filter(|op| !COVERED.contains(op))
        .collect();
    assert!(
        missing.is_empty(),
        "operations the server answers but no SDK test calls: {missing:?}"
    );
    let unknown: Vec<&str> = COVERED
        .iter()
        .copied()
        .filter(|op| !iam_api::ops::OPERATIONS.contains(op))
        .collect();
    assert!(
        unknown.is_empty(),
        "listed as covered but not registered: {unknown:?}"
    );
}
