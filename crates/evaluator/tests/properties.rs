//! Property tests of the evaluator and the parser.

use chrono::{DateTime, Utc};
use iam_domain::policy::PolicyDocument;
use iam_evaluator::scenario::run_scenarios;
use proptest::prelude::*;
use serde_json::{json, Value};

fn now() -> DateTime<Utc> {
    "2026-01-15T12:00:00Z".parse().expect("time")
}

fn decide(s: &Value) -> String {
    let out = run_scenarios(s, now()).expect("scenario");
    out["decision"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no decision: {out}"))
}

fn identity(action: &str, resource: &str) -> Value {
    json!({
        "request": {"principal": "arn:aws:iam::111122223333:user/alice", "action": action, "resource": resource},
        "identity_policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]
    })
}

/// Text without wildcards or variable syntax.
fn plain() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9/._:-]{0,12}"
}

fn cfg(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cfg(128))]

    /// A resource pattern without wildcards matches exactly itself.
    #[test]
    fn plain_resource_matches_only_itself(a in plain(), b in plain()) {
        let mut s = identity("s3:GetObject", &format!("arn:aws:s3:::{b}"));
        s["identity_policies"][0]["Statement"][0]["Resource"] = json!(format!("arn:aws:s3:::{a}"));
        let expected = if a == b { "Allow" } else { "ImplicitDeny" };
        prop_assert_eq!(decide(&s), expected);
    }

    /// An action pattern without wildcards matches only itself, ignoring ASCII case.
    #[test]
    fn plain_action_matches_only_itself(a in "[a-zA-Z]{1,8}", b in "[a-zA-Z]{1,8}") {
        let mut s = identity(&format!("svc:{b}"), "arn:aws:s3:::x");
        s["identity_policies"][0]["Statement"][0]["Action"] = json!(format!("svc:{a}"));
        let expected = if a.eq_ignore_ascii_case(&b) { "Allow" } else { "ImplicitDeny" };
        prop_assert_eq!(decide(&s), expected);
    }

    /// `*` matches every action and every resource.
    #[test]
    fn star_matches_everything(action in "[a-z0-9-]{1,8}:[ -~]{0,16}", resource in "[ -~]{0,40}") {
        prop_assert_eq!(decide(&identity(&action, &resource)), "Allow");
    }

    /// Any string, any JSON: the parser answers without panicking.
    #[test]
    fn parser_never_panics_on_text(text in "\\PC{0,200}") {
        let _ = PolicyDocument::parse(&text);
    }

    #[test]
    fn parser_never_panics_on_policy_like_json(v in policy_like_json()) {
        let text = v.to_string();
        if let Ok(doc) = PolicyDocument::parse(&text) {
            // and what parses serializes back to an equal document
            let again = PolicyDocument::parse(&serde_json::to_string(&doc).expect("serialize")).expect("reparse");
            prop_assert_eq!(doc, again);
        }
    }
}

/// JSON built from the policy grammar's own vocabulary, so that the parser
/// gets deep into documents rather than failing on the first key.
fn policy_like_json() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "Version",
        "Id",
        "Statement",
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
        "AWS",
        "Service",
        "StringEquals",
        "ForAnyValue:StringLike",
        "NumericLessThanIfExists",
        "Null",
        "DateGreaterThan",
        "IpAddress",
        "aws:SourceIp",
        "Bool",
    ]);
    let scalar = prop_oneof![
        Just(json!(null)),
        any::<bool>().prop_map(|b| json!(b)),
        any::<i64>().prop_map(|n| json!(n)),
        prop::sample::select(vec![
            "2012-10-17",
            "2008-10-17",
            "Allow",
            "Deny",
            "*",
            "s3:*",
            "s3:Get?bject",
            "arn:aws:s3:::b/*",
            "arn:aws:s3:::${aws:username}/*",
            "10.0.0.0/8",
            "true",
            "2020-01-01T00:00:00Z",
            "${",
            "",
            "x",
        ])
        .prop_map(|s| json!(s)),
    ];
    scalar.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

/// A random statement from a small vocabulary, so that random policies
/// actually overlap with random requests.
fn statement(effect: &'static str) -> impl Strategy<Value = Value> {
    let action = prop::sample::select(vec![
        "*",
        "s3:*",
        "s3:Get*",
        "s3:GetObject",
        "ec2:*",
        "s3:Put*",
    ]);
    let resource = prop::sample::select(vec![
        "*",
        "arn:aws:s3:::b/*",
        "arn:aws:s3:::b/k",
        "arn:aws:s3:::other/*",
    ]);
    let cond = prop::sample::select(vec![
        None,
        Some(json!({"StringEquals": {"aws:PrincipalTag/team": "eng"}})),
        Some(json!({"StringNotEquals": {"aws:PrincipalTag/team": "eng"}})),
        Some(json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
        Some(json!({"Null": {"aws:TokenIssueTime": "true"}})),
        Some(json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}})),
    ]);
    let negate = any::<bool>();
    (action, resource, cond, negate).prop_map(move |(a, r, c, neg)| {
        let mut s = serde_json::Map::new();
        s.insert("Effect".into(), json!(effect));
        s.insert(if neg { "NotAction" } else { "Action" }.into(), json!(a));
        s.insert("Resource".into(), json!(r));
        if let Some(c) = c {
            s.insert("Condition".into(), c);
        }
        Value::Object(s)
    })
}

fn any_statement() -> impl Strategy<Value = Value> {
    prop_oneof![statement("Allow"), statement("Deny")]
}

fn policy(stmts: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": stmts})
}

fn with_principal(mut st: Value, p: &str) -> Value {
    st["Principal"] = json!(p);
    st
}

/// A random scenario across all layers.
fn scenario() -> impl Strategy<Value = Value> {
    let principal = prop::sample::select(vec![
        Some("arn:aws:iam::111122223333:user/alice"),
        Some("arn:aws:sts::111122223333:assumed-role/R/s"),
        Some("arn:aws:iam::444455556666:user/carol"),
        Some("arn:aws:sts::111122223333:federated-user/f"),
        None,
    ]);
    let action = prop::sample::select(vec!["s3:GetObject", "s3:PutObject", "ec2:RunInstances"]);
    let resource = prop::sample::select(vec!["arn:aws:s3:::b/k", "arn:aws:s3:::other/x"]);
    let ctx = prop::sample::select(vec![
        json!({}),
        json!({"aws:PrincipalTag/team": "eng", "aws:SourceIp": "10.1.1.1"}),
        json!({"aws:TagKeys": ["a", "b"], "aws:SourceIp": "192.168.0.1"}),
    ]);
    let stmts = || prop::collection::vec(any_statement(), 1..4);
    (
        principal,
        action,
        resource,
        ctx,
        prop::collection::vec(stmts(), 0..3),
        prop::option::of(stmts()),
        prop::option::of(stmts()),
        prop::option::of(stmts()),
        prop::option::of(stmts()),
    )
        .prop_map(|(p, a, r, c, ids, res, bound, sess, scp)| {
            let mut s = json!({
                "request": {"action": a, "resource": r, "resource_account": "111122223333", "context": c},
                "identity_policies": ids.into_iter().map(policy).collect::<Vec<_>>(),
            });
            if let Some(p) = p {
                s["request"]["principal"] = json!(p);
            }
            if let Some(res) = res {
                s["resource_policy"] = policy(res.into_iter().map(|st| with_principal(st, "*")).collect());
            }
            if let Some(b) = bound {
                s["permissions_boundary"] = policy(b);
            }
            if let Some(x) = sess {
                s["session_policy"] = policy(x);
            }
            if let Some(x) = scp {
                s["service_control_policies"] = json!([[policy(x)]]);
            }
            s
        })
}

/// Add `st` as a new statement of one layer chosen by `layer`.
fn add_statement(mut s: Value, st: Value, layer: usize) -> Value {
    match layer {
        0 => {
            s["identity_policies"]
                .as_array_mut()
                .expect("array")
                .push(policy(vec![st]));
        }
        1 => {
            let st = with_principal(st, "*");
            match s.get_mut("resource_policy") {
                Some(p) => p["Statement"].as_array_mut().expect("array").push(st),
                None => s["resource_policy"] = policy(vec![st]),
            }
        }
        2 => {
            if let Some(p) = s.get_mut("permissions_boundary") {
                p["Statement"].as_array_mut().expect("array").push(st);
            }
        }
        3 => {
            if let Some(p) = s.get_mut("session_policy") {
                p["Statement"].as_array_mut().expect("array").push(st);
            }
        }
        _ => {
            if let Some(p) = s.get_mut("service_control_policies") {
                p[0][0]["Statement"].as_array_mut().expect("array").push(st);
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(cfg(192))]

    /// Adding a Deny statement anywhere never turns a deny into an Allow.
    #[test]
    fn adding_deny_never_allows(s in scenario(), st in statement("Deny"), layer in 0usize..5) {
        let before = decide(&s);
        let after = decide(&add_statement(s, st, layer));
        if before != "Allow" {
            prop_assert_ne!(after.as_str(), "Allow");
        }
        if before == "ExplicitDeny" {
            prop_assert_eq!(after.as_str(), "ExplicitDeny");
        }
    }

    /// Adding an Allow statement anywhere never turns an Allow into a deny.
    #[test]
    fn adding_allow_never_denies(s in scenario(), st in statement("Allow"), layer in 0usize..5) {
        let before = decide(&s);
        let after = decide(&add_statement(s, st, layer));
        if before == "Allow" {
            prop_assert_eq!(after.as_str(), "Allow");
        }
    }
}
