//! Every operation the server registers is driven through the SDK by some
//! test of this binary: each entry of the operation table must appear as an SDK call
//! (`.create_user()`, `.get_caller_identity()`, ...) in these sources.

const SOURCES: &[&str] = &[
    include_str!("access_advisor.rs"),
    include_str!("access_keys.rs"),
    include_str!("account.rs"),
    include_str!("authorization.rs"),
    include_str!("aws_managed_policies.rs"),
    include_str!("groups.rs"),
    include_str!("identity.rs"),
    include_str!("instance_profiles.rs"),
    include_str!("managed_policies.rs"),
    include_str!("nodes.rs"),
    include_str!("organizations.rs"),
    include_str!("paging.rs"),
    include_str!("roles.rs"),
    include_str!("saml.rs"),
    include_str!("service_credentials.rs"),
    include_str!("certificates.rs"),
    include_str!("ssh_keys.rs"),
    include_str!("sts.rs"),
    include_str!("passwords_mfa.rs"),
    include_str!("tags_and_boundaries.rs"),
    include_str!("user_policies.rs"),
    include_str!("users.rs"),
    include_str!("web_identity.rs"),
];

/// `CreateUser` -> `create_user`, `GetMFADevice` -> `get_mfa_device`, as
/// the SDK names its fluent builders (an acronym is one word).
fn snake_case(operation: &str) -> String {
    let chars: Vec<char> = operation.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let after_lower = chars[i - 1].is_ascii_lowercase();
            let acronym_ends = chars[i - 1].is_ascii_uppercase()
                && chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if after_lower || acronym_ends {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[test]
fn every_registered_operation_is_driven_through_the_sdk() {
    assert_eq!(snake_case("GetCallerIdentity"), "get_caller_identity");
    assert_eq!(
        snake_case("CreateVirtualMFADevice"),
        "create_virtual_mfa_device"
    );
    assert_eq!(snake_case("ListMFADevices"), "list_mfa_devices");
    // iamd's own `/v1` API has no AWS SDK; its operations are driven over
    // HTTP by `crates/api/tests/v1.rs`.
    let missing: Vec<&str> = iam_api::edge::registry::IMPLEMENTED
        .iter()
        .filter(|s| s.service != iam_wire::Service::Iamd)
        .map(|s| s.name)
        .filter(|op| {
            let call = format!(".{}()", snake_case(op));
            !SOURCES.iter().any(|s| s.contains(&call))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "operations the server answers but no SDK test calls: {missing:?}"
    );
}
