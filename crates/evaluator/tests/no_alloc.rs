//! The evaluation hot path does not allocate: `Authorizer::evaluate_into` with
//! a reused buffer, over requests that exercise conditions, variables, the
//! indexes and every layer, makes no heap allocation.

use std::alloc::System;

use chrono::DateTime;
use iam_domain::policy::PolicyDocument;
use iam_evaluator::{Authorizer, CompiledPolicy, Context, PolicySet, Principal, Request};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn compile(json: &str) -> CompiledPolicy {
    CompiledPolicy::compile(&PolicyDocument::parse(json).expect("valid policy"))
}

#[test]
fn evaluate_into_does_not_allocate() {
    let identity = compile(
        r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::home/${aws:username}/*",
         "Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},
                      "DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},
                      "ForAllValues:StringLike":{"aws:TagKeys":["a*","b*"]},
                      "StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"${aws:PrincipalTag/team, 'none'}"},
                      "NumericLessThanIfExists":{"s3:max-keys":"100"},
                      "ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"},
                      "Null":{"aws:TokenIssueTime":"true"}}},
        {"Effect":"Allow","NotAction":"iam:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
        {"Effect":"Deny","Action":"s3:Delete*","Resource":"*"}]}"#,
    );
    let resource = compile(
        r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/bob"]},"Action":"s3:*","Resource":"arn:aws:s3:::home/*"},
        {"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/alice","111122223333"]},"Action":"s3:*","Resource":"*"}]}"#,
    );
    let boundary = compile(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
    let scp = compile(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
    let auth = Authorizer::new(PolicySet::new(vec![identity]))
        .with_resource_policy(resource)
        .with_permissions_boundary(boundary)
        .with_service_control_policies(vec![PolicySet::new(vec![scp])]);

    let mut ctx = Context::new();
    ctx.insert("aws:SourceIp", "10.1.2.3");
    ctx.insert("aws:SecureTransport", "true");
    ctx.insert("aws:PrincipalTag/team", "Eng");
    ctx.insert_many("aws:TagKeys", vec!["a1".into(), "b2".into()]);
    let now = DateTime::from_timestamp(1_768_478_400, 0).unwrap_or_default();
    let requests: Vec<Request> = [
        ("s3:GetObject", "arn:aws:s3:::home/alice/notes.txt"),
        ("s3:DeleteObject", "arn:aws:s3:::home/alice/notes.txt"),
        (
            "ec2:RunInstances",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
        ),
        ("iam:CreateUser", "arn:aws:iam::111122223333:user/x"),
    ]
    .iter()
    .map(|(a, r)| {
        Request::new(
            Principal::parse("arn:aws:iam::111122223333:user/alice"),
            a,
            r,
            None,
            ctx.clone(),
            now,
        )
    })
    .collect();

    let mut buf = Vec::with_capacity(64);
    let mut outcomes = Vec::with_capacity(requests.len() * 100);
    // Warm up (first use of any lazily initialised state).
    for r in &requests {
        auth.evaluate_into(r, &mut buf);
    }
    // The allocator counts every thread of the test process, and the test
    // harness may allocate meanwhile; so measure a few times and keep the
    // quietest run. A hot path that allocated would show at least one
    // allocation per evaluation (400) in every run.
    let mut quietest = None;
    for _ in 0..5 {
        outcomes.clear();
        let region = Region::new(GLOBAL);
        for _ in 0..100 {
            for r in &requests {
                outcomes.push(auth.evaluate_into(r, &mut buf));
            }
        }
        let stats = region.change();
        let n = stats.allocations + stats.reallocations;
        quietest = Some(quietest.map_or(n, |q: usize| q.min(n)));
        if n == 0 {
            break;
        }
    }
    assert_eq!(quietest, Some(0), "evaluate_into allocated");
    // The instrumentation itself works: building a decision with a fresh
    // buffer does allocate.
    let region = Region::new(GLOBAL);
    let d = auth.evaluate(&requests[0]);
    assert!(region.change().allocations > 0);
    assert_eq!(d.matched.len(), 5); // two identity statements, resource, boundary, SCP
    assert_eq!(
        outcomes[..4].iter().map(|o| o.as_str()).collect::<Vec<_>>(),
        ["Allow", "ExplicitDeny", "Allow", "ImplicitDeny"]
    );
}
