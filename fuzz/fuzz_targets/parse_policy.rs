//! Fuzz the policy parser: no input may panic it; whatever parses must
//! serialize to JSON that parses back to the same document, validate for every
//! kind without panicking, and compile and evaluate without panicking.
#![no_main]

use iam_domain::policy::{PolicyDocument, PolicyKind};
use iam_evaluator::{Authorizer, CompiledPolicy, Context, PolicySet, Principal, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = PolicyDocument::parse(text) else {
        return;
    };
    let again = serde_json::to_string(&doc).expect("a parsed policy serializes");
    let reparsed = PolicyDocument::parse(&again).expect("a serialized policy parses");
    assert_eq!(doc, reparsed);
    for kind in [
        PolicyKind::Identity,
        PolicyKind::Resource,
        PolicyKind::Trust,
        PolicyKind::PermissionsBoundary,
        PolicyKind::Session,
        PolicyKind::ControlPolicy,
    ] {
        let _ = doc.validate_for(kind);
    }
    let compiled = CompiledPolicy::compile(&doc);
    let auth =
        Authorizer::new(PolicySet::new(vec![compiled.clone()])).with_resource_policy(compiled);
    let mut ctx = Context::new();
    ctx.insert("aws:SourceIp", "10.0.0.1");
    ctx.insert_many("aws:TagKeys", vec!["a".into(), "b".into()]);
    let req = Request::new(
        Principal::parse("arn:aws:iam::111122223333:user/alice"),
        "s3:GetObject",
        "arn:aws:s3:::bucket/key",
        None,
        ctx,
        chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
    );
    let _ = auth.evaluate(&req);
});
