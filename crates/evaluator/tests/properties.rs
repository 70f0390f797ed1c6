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

    /// A resource pattern without wildcards matches itself...
    #[test]
    fn plain_resource_matches_itself(a in plain()) {
        let mut s = identity("s3:GetObject", &format!("arn:aws:s3:::{a}"));
        s["identity_policies"][0]["Statement"][0]["Resource"] = json!(format!("arn:aws:s3:::{a}"));
        prop_assert_eq!(decide(&s), "Allow");
    }

    /// ...and nothing else (case included: resources are case-sensitive).
    #[test]
    fn plain_resource_matches_nothing_else(a in plain(), b in plain()) {
        prop_assume!(a != b);
        let mut s = identity("s3:GetObject", &format!("arn:aws:s3:::{b}"));
        s["identity_policies"][0]["Statement"][0]["Resource"] = json!(format!("arn:aws:s3:::{a}"));
        prop_assert_eq!(decide(&s), "ImplicitDeny");
    }

    /// An action pattern without wildcards matches itself in any ASCII case...
    #[test]
    fn plain_action_matches_itself_in_any_case(a in "[a-zA-Z]{1,8}", flips in prop::collection::vec(any::<bool>(), 8)) {
        let b: String = a
            .chars()
            .zip(flips.iter().cycle())
            .map(|(c, &f)| if f { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
            .collect();
        let mut s = identity(&format!("svc:{b}"), "arn:aws:s3:::x");
        s["identity_policies"][0]["Statement"][0]["Action"] = json!(format!("svc:{a}"));
        prop_assert_eq!(decide(&s), "Allow");
    }

    /// ...and no other action.
    #[test]
    fn plain_action_matches_no_other_action(a in "[a-zA-Z]{1,8}", b in "[a-zA-Z]{1,8}") {
        prop_assume!(!a.eq_ignore_ascii_case(&b));
        let mut s = identity(&format!("svc:{b}"), "arn:aws:s3:::x");
        s["identity_policies"][0]["Statement"][0]["Action"] = json!(format!("svc:{a}"));
        prop_assert_eq!(decide(&s), "ImplicitDeny");
    }

    /// `*` matches every action and every resource. KMS actions are left
    /// out: a key policy must allow them (docs/policy-semantics.md), so an
    /// identity policy alone never does, whatever it says.
    #[test]
    fn star_matches_everything(action in "[a-z0-9-]{1,8}:[ -~]{0,16}", resource in "[ -~]{0,40}") {
        prop_assume!(!action.to_ascii_lowercase().starts_with("kms:"));
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

/// The layers of `s` a statement can be added to without adding a layer:
/// identity and resource policies always (a new one only adds grants),
/// a boundary, session policy or SCP only where the scenario has one (a new
/// boundary would restrict, not add).
fn present_layers(s: &Value) -> Vec<usize> {
    let mut layers = vec![0, 1];
    for (i, key) in [
        (2, "permissions_boundary"),
        (3, "session_policy"),
        (4, "service_control_policies"),
    ] {
        if s.get(key).is_some() {
            layers.push(i);
        }
    }
    layers
}

/// Add `st` as a new statement of the layer `present_layers(s)[pick % n]`.
fn add_statement(s: Value, st: Value, pick: usize) -> Value {
    let layers = present_layers(&s);
    let layer = layers[pick % layers.len()];
    add_statement_to(s, st, layer)
}

/// Add `st` to `layer` (0 identity, 1 resource, 2 boundary, 3 session,
/// 4 SCP); the layer must be present unless it is 0 or 1.
fn add_statement_to(mut s: Value, st: Value, layer: usize) -> Value {
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
        2 => s["permissions_boundary"]["Statement"]
            .as_array_mut()
            .expect("array")
            .push(st),
        3 => s["session_policy"]["Statement"]
            .as_array_mut()
            .expect("array")
            .push(st),
        _ => s["service_control_policies"][0][0]["Statement"]
            .as_array_mut()
            .expect("array")
            .push(st),
    }
    s
}

/// `s` with an allow-everything statement added to every layer it has, so
/// that it starts from an Allow unless one of its random statements denies
/// or the principal is one the layers do not cover (anonymous, another
/// account): the allow property then bites on most cases, not on the few
/// random scenarios that happen to allow.
fn mostly_allowing(mut s: Value) -> Value {
    let all = || json!({"Effect": "Allow", "Action": "*", "Resource": "*"});
    s["identity_policies"]
        .as_array_mut()
        .expect("array")
        .push(policy(vec![all()]));
    for layer in 1..5 {
        if layer == 1 || present_layers(&s).contains(&layer) {
            s = add_statement_to(s, all(), layer);
        }
    }
    s
}

/// Runs `cases` cases of a monotonicity property (deterministically, so the
/// floor below is stable) and returns how many had the premise that makes
/// the property bite, so a test can fail when its inputs rarely reach it.
fn monotonic(
    cases: u32,
    effect: &'static str,
    start: fn(Value) -> Value,
    check: impl Fn(&str, &str) -> Result<bool, TestCaseError>,
) -> usize {
    use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
    let bit = std::cell::Cell::new(0usize);
    let mut runner =
        TestRunner::new_with_rng(cfg(cases), TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    runner
        .run(
            &(scenario().prop_map(start), statement(effect), 0usize..5),
            |(s, st, pick)| {
                let before = decide(&s);
                let after = decide(&add_statement(s, st, pick));
                if check(&before, &after)? {
                    bit.set(bit.get() + 1);
                }
                Ok(())
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    bit.get()
}

/// Adding a Deny statement anywhere never turns a deny into an Allow, and
/// an explicit deny stays one.
#[test]
fn adding_deny_never_allows() {
    let cases = 256;
    let bit = monotonic(
        cases,
        "Deny",
        |s| s,
        |before, after| {
            if before != "Allow" {
                prop_assert_ne!(after, "Allow");
            }
            if before == "ExplicitDeny" {
                prop_assert_eq!(after, "ExplicitDeny");
            }
            Ok(before != "Allow")
        },
    );
    eprintln!("adding_deny_never_allows: {bit} of {cases} cases started from a deny");
    assert!(bit >= 64, "only {bit} of {cases} cases started from a deny");
}

/// Adding an Allow statement anywhere never turns an Allow into a deny.
#[test]
fn adding_allow_never_denies() {
    let cases = 256;
    let bit = monotonic(cases, "Allow", mostly_allowing, |before, after| {
        if before == "Allow" {
            prop_assert_eq!(after, "Allow");
        }
        Ok(before == "Allow")
    });
    eprintln!("adding_allow_never_denies: {bit} of {cases} cases started from an Allow");
    assert!(
        bit >= 64,
        "only {bit} of {cases} cases started from an Allow"
    );
}
