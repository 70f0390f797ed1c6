//! `run_scenarios`: the library side of `iamd eval`.

use iam_evaluator::scenario::run_scenarios;
use serde_json::json;

fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-01-15T12:00:00Z".parse().expect("time")
}

fn allow_scenario() -> serde_json::Value {
    json!({
        "request": {
            "principal": "arn:aws:iam::123456789012:user/alice",
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::bucket/key",
            "resource_account": "123456789012",
            "context": {"aws:SourceIp": "10.1.2.3", "aws:TagKeys": ["a", "b"]}
        },
        "identity_policies": [{"Version": "2012-10-17", "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "*",
             "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
        ]}],
        "resource_policy": {},
        "permissions_boundary": {},
        "session_policy": {},
        "service_control_policies": [[]],
        "resource_control_policies": [[]]
    })
}

#[test]
fn object_in_object_out() {
    let out = run_scenarios(&allow_scenario(), now()).unwrap();
    assert_eq!(
        out,
        json!({"decision": "Allow",
            "principal": "arn:aws:iam::123456789012:user/alice", "principal_type": "User",
            "matched": [
            {"policy": "identity_policies[0]", "statement": 0, "sid": "Read", "effect": "Allow"}
        ]})
    );
}

#[test]
fn array_in_array_out_same_order_with_errors_in_place() {
    let bad = json!({
        "request": {"action": "s3:GetObject", "resource": "*"},
        "identity_policies": [{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {"StringEqual": {"a": "b"}}}]}]
    });
    let anon = json!({"request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}});
    let out = run_scenarios(&json!([allow_scenario(), bad, anon]), now()).unwrap();
    let arr = out.as_array().unwrap();
    assert_eq!(arr.len(), 3);
    assert_eq!(arr[0]["decision"], "Allow");
    assert_eq!(arr[1]["error"]["code"], "MalformedPolicyDocument");
    assert_eq!(
        arr[1]["error"]["message"],
        r#"identity_policies[0]: Statement[0].Condition: unknown operator "StringEqual""#
    );
    assert_eq!(
        arr[2],
        json!({"decision": "ImplicitDeny", "principal": "anonymous",
               "principal_type": "Anonymous", "matched": []})
    );
}

#[test]
fn not_a_scenario_is_an_input_error() {
    assert!(run_scenarios(&json!("hello"), now()).is_err());
    assert!(run_scenarios(&json!({"request": {"action": "s3:GetObject"}}), now()).is_err());
    assert!(run_scenarios(
        &json!({"request": {"action": "a:b", "resource": "*"}, "identity_policy": []}),
        now()
    )
    .is_err());
    assert!(run_scenarios(
        &json!({"request": {"action": "a:b", "resource": "*", "context": {"k": {"x": 1}}}}),
        now()
    )
    .is_err());
    let e = run_scenarios(&json!([allow_scenario(), 5]), now()).unwrap_err();
    assert!(e.to_string().starts_with("scenario [1]:"), "{e}");
}

#[test]
fn explicit_deny_lists_the_deny() {
    let mut s = allow_scenario();
    s["service_control_policies"] = json!([[{"Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "NoS3", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}
    ]}]]);
    let out = run_scenarios(&s, now()).unwrap();
    assert_eq!(
        out,
        json!({"decision": "ExplicitDeny",
            "principal": "arn:aws:iam::123456789012:user/alice", "principal_type": "User",
            "matched": [
            {"policy": "service_control_policies[0][0]", "statement": 1, "sid": "NoS3", "effect": "Deny"}
        ]})
    );
}

/// `sts:GetCallerIdentity` needs no permission: AWS lets every authenticated
/// caller perform it even when a policy explicitly denies it (User Guide,
/// "Requesting temporary security credentials", note 4). `iamd eval` says
/// so rather than reporting the deny.
#[test]
fn get_caller_identity_is_allowed_despite_an_explicit_deny() {
    let deny_all = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "*", "Resource": "*"}
    ]});
    let deny_it = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "sts:GetCallerIdentity", "Resource": "*"}
    ]});
    let session = json!({
        "request": {
            "principal": "arn:aws:sts::123456789012:assumed-role/R/s1",
            "action": "sts:GetCallerIdentity",
            "resource": "*"
        },
        "identity_policies": [deny_it],
        "session_policy": deny_all,
        "permissions_boundary": deny_all,
        "service_control_policies": [[deny_all]]
    });
    let out = run_scenarios(&session, now()).unwrap();
    assert_eq!(out["decision"], "Allow", "{out}");
    assert_eq!(out["matched"], json!([]), "{out}");
    let reason = out["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("sts:GetCallerIdentity") && reason.contains("explicitly denies"),
        "{out}"
    );

    // Any spelling of the action, any caller with credentials.
    for principal in [
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:iam::123456789012:root",
        "arn:aws:sts::123456789012:federated-user/fred",
    ] {
        let s = json!({
            "request": {"principal": principal, "action": "STS:getcalleridentity", "resource": "*"},
            "identity_policies": [deny_all]
        });
        let out = run_scenarios(&s, now()).unwrap();
        assert_eq!(out["decision"], "Allow", "{principal}: {out}");
    }

    // A caller without credentials cannot call it at all; other STS actions
    // and other requests are decided as usual and carry no reason.
    let anonymous = json!({"request": {"action": "sts:GetCallerIdentity", "resource": "*"}});
    let out = run_scenarios(&anonymous, now()).unwrap();
    assert_eq!(out["decision"], "ImplicitDeny", "{out}");
    assert!(out.get("reason").is_none(), "{out}");
    let mut other = session.clone();
    other["request"]["action"] = json!("sts:GetSessionToken");
    let out = run_scenarios(&other, now()).unwrap();
    assert_eq!(out["decision"], "ExplicitDeny", "{out}");
    assert!(out.get("reason").is_none(), "{out}");
}
