//! Benchmark fixtures: equivalent policy sets for iamd's evaluator and for
//! the `cedar-policy` crate.
//!
//! This crate exists only so that `cedar-policy` (a heavy dependency) is built
//! by `cargo bench -p iam-bench` and never by the workspace's test command.
//!
//! Each of the N identity policies holds IAM-style statements with action and
//! resource wildcards, some with conditions; policy 0 also holds the one
//! explicit deny. The Cedar translation turns each statement into one
//! `permit`/`forbid` whose `when` clause uses `like` on the (lowercased) action
//! and on the resource, and Cedar's `ip` extension for `IpAddress`, so both
//! engines answer the same question with the same amount of work to do.
//!
//! ```
//! let f = iam_bench::Fixture::new(10);
//! assert_eq!(f.iamd_decide(true), "Allow");
//! assert_eq!(f.iamd_decide(false), "ExplicitDeny");
//! assert_eq!(f.cedar_decide(true), "Allow");
//! assert_eq!(f.cedar_decide(false), "Deny");
//! let w = iam_bench::Fixture::with_shape(10, iam_bench::Shape::Wildcard);
//! assert_eq!(w.iamd_decide(true), "Allow");
//! assert_eq!(w.cedar_decide(true), "Allow");
//! ```

use chrono::{DateTime, Utc};
use iam_domain::policy::{PolicyDocument, PolicyKind};
use iam_evaluator::{
    Authorizer, CompiledPolicy, Context, Matched, Outcome, PolicySet, Principal, Request,
};
use serde_json::json;

/// The fixed evaluation time of the benchmarks.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_768_478_400, 0).unwrap_or_default()
}

/// The shape of the resource patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `arn:aws:s3:::bucket-7/*`: every policy names its own bucket, which
    /// iamd's resource-prefix index exploits.
    Distinct,
    /// `arn:aws:s3:::*bucket-7/*`: a wildcard right after the common
    /// `arn:aws:s3:::` defeats the resource index, so iamd scans every `s3`
    /// statement (the worst case of the index).
    Wildcard,
}

impl Shape {
    fn bucket(self, i: usize) -> String {
        match self {
            Shape::Distinct => format!("bucket-{i}"),
            Shape::Wildcard => format!("*bucket-{i}"),
        }
    }
}

/// The IAM JSON of identity policy `i`.
pub fn iam_policy(i: usize, shape: Shape) -> serde_json::Value {
    let b = shape.bucket(i);
    let mut statements = vec![
        json!({"Sid": format!("Read{i}"), "Effect": "Allow", "Action": ["s3:Get*", "s3:List*"],
               "Resource": [format!("arn:aws:s3:::{b}"), format!("arn:aws:s3:::{b}/*")]}),
        json!({"Sid": format!("Table{i}"), "Effect": "Allow", "Action": "dynamodb:*",
               "Resource": format!("arn:aws:dynamodb:*:*:table/t{i}"),
               "Condition": {"StringEquals": {"aws:PrincipalTag/team": format!("team{}", i % 10)}}}),
        json!({"Sid": format!("Describe{i}"), "Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*",
               "Condition": {"IpAddress": {"aws:SourceIp": format!("10.{}.0.0/16", i % 256)}}}),
        json!({"Sid": format!("Put{i}"), "Effect": "Allow", "Action": "s3:Put*",
               "Resource": format!("arn:aws:s3:::{b}/uploads/*")}),
    ];
    if i == 0 {
        statements.push(json!({"Sid": "DenyDeletes", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"}));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The Cedar text equivalent to [`iam_policy`].
pub fn cedar_policy(i: usize, shape: Shape) -> String {
    let b = shape.bucket(i);
    let exact = match shape {
        Shape::Distinct => format!(r#"context.resource == "arn:aws:s3:::{b}""#),
        Shape::Wildcard => format!(r#"context.resource like "arn:aws:s3:::{b}""#),
    };
    let mut s = format!(
        r#"permit(principal, action, resource) when {{ (context.action like "s3:get*" || context.action like "s3:list*") && ({exact} || context.resource like "arn:aws:s3:::{b}/*") }};
permit(principal, action, resource) when {{ context.action like "dynamodb:*" && context.resource like "arn:aws:dynamodb:*:*:table/t{i}" && context has team && context.team == "team{team}" }};
permit(principal, action, resource) when {{ context.action like "ec2:describe*" && ip(context.source_ip).isInRange(ip("10.{oct}.0.0/16")) }};
permit(principal, action, resource) when {{ context.action like "s3:put*" && context.resource like "arn:aws:s3:::{b}/uploads/*" }};
"#,
        team = i % 10,
        oct = i % 256
    );
    if i == 0 {
        s.push_str(
            "forbid(principal, action, resource) when { context.action like \"s3:delete*\" };\n",
        );
    }
    s
}

/// Both engines' inputs for one N.
pub struct Fixture {
    pub authorizer: Authorizer,
    pub allowed: Request,
    pub denied: Request,
    pub cedar_policies: cedar_policy::PolicySet,
    pub cedar_entities: cedar_policy::Entities,
    pub cedar_allowed: cedar_policy::Request,
    pub cedar_denied: cedar_policy::Request,
}

/// The allowed request reads from the *last* policy's bucket, so the whole
/// set is relevant; the denied request deletes, hitting the explicit deny.
fn request_parts(n: usize, allowed: bool) -> (&'static str, String) {
    if allowed {
        (
            "s3:GetObject",
            format!("arn:aws:s3:::bucket-{}/reports/2026.csv", n - 1),
        )
    } else {
        (
            "s3:DeleteObject",
            format!("arn:aws:s3:::bucket-{}/reports/2026.csv", n - 1),
        )
    }
}

impl Fixture {
    /// Build N policies of the [`Shape::Distinct`] shape (N ≥ 1).
    pub fn new(n: usize) -> Fixture {
        Fixture::with_shape(n, Shape::Distinct)
    }

    /// Build N policies of the given shape for both engines (N ≥ 1).
    pub fn with_shape(n: usize, shape: Shape) -> Fixture {
        let n = n.max(1);
        let compiled: Vec<CompiledPolicy> = (0..n)
            .map(|i| {
                let doc = PolicyDocument::parse_for(
                    &iam_policy(i, shape).to_string(),
                    PolicyKind::Identity,
                )
                .unwrap_or_else(|e| panic!("fixture policy {i}: {e}"));
                CompiledPolicy::compile(&doc)
            })
            .collect();
        let authorizer = Authorizer::new(PolicySet::new(compiled));
        let iam_req = |allowed: bool| {
            let (action, resource) = request_parts(n, allowed);
            let mut ctx = Context::new();
            ctx.insert("aws:SourceIp", "192.0.2.10");
            ctx.insert("aws:PrincipalTag/team", "team3");
            Request::new(
                Principal::parse("arn:aws:iam::111122223333:user/alice"),
                action,
                &resource,
                None,
                ctx,
                now(),
            )
        };
        let text: String = (0..n).map(|i| cedar_policy(i, shape)).collect();
        let cedar_policies: cedar_policy::PolicySet = text
            .parse()
            .unwrap_or_else(|e| panic!("cedar policies: {e:?}"));
        let cedar_req = |allowed: bool| {
            let (action, resource) = request_parts(n, allowed);
            let ctx = cedar_policy::Context::from_json_value(
                json!({"action": action.to_ascii_lowercase(), "resource": resource, "source_ip": "192.0.2.10", "team": "team3"}),
                None,
            )
            .unwrap_or_else(|e| panic!("cedar context: {e:?}"));
            let uid = |t: &str, id: &str| -> cedar_policy::EntityUid {
                format!(r#"{t}::"{id}""#)
                    .parse()
                    .unwrap_or_else(|e| panic!("uid: {e:?}"))
            };
            cedar_policy::Request::new(
                uid("User", "alice"),
                uid("Action", &action.to_ascii_lowercase()),
                uid("Resource", &resource),
                ctx,
                None,
            )
            .unwrap_or_else(|e| panic!("cedar request: {e:?}"))
        };
        Fixture {
            authorizer,
            allowed: iam_req(true),
            denied: iam_req(false),
            cedar_policies,
            cedar_entities: cedar_policy::Entities::empty(),
            cedar_allowed: cedar_req(true),
            cedar_denied: cedar_req(false),
        }
    }

    /// iamd's decision (allocation-free with a reused buffer).
    pub fn iamd(&self, allowed: bool, buf: &mut Vec<Matched>) -> Outcome {
        let req = if allowed { &self.allowed } else { &self.denied };
        self.authorizer.evaluate_into(req, buf)
    }

    /// iamd's decision as text.
    pub fn iamd_decide(&self, allowed: bool) -> &'static str {
        self.iamd(allowed, &mut Vec::new()).as_str()
    }

    /// Cedar's decision.
    pub fn cedar(&self, allowed: bool) -> cedar_policy::Response {
        let req = if allowed {
            &self.cedar_allowed
        } else {
            &self.cedar_denied
        };
        cedar_policy::Authorizer::new().is_authorized(
            req,
            &self.cedar_policies,
            &self.cedar_entities,
        )
    }

    /// Cedar's decision as text.
    pub fn cedar_decide(&self, allowed: bool) -> &'static str {
        match self.cedar(allowed).decision() {
            cedar_policy::Decision::Allow => "Allow",
            cedar_policy::Decision::Deny => "Deny",
        }
    }
}
