// The fuzz target's property, shared by `fuzz_targets/parse_policy.rs` and
// the ordinary test that replays the committed corpus
// (`crates/evaluator/tests/fuzz_corpus.rs`), so both check the same thing.
//
// No input may panic the parser; whatever parses must serialize to JSON
// that parses back to the same document, validate for every kind without
// panicking, and compile and evaluate without panicking.

/// Checks one fuzz input; panics when the property fails.
pub fn check_policy_input(data: &[u8]) {
    use iam_domain::policy::{PolicyDocument, PolicyKind};
    use iam_evaluator::{Authorizer, CompiledPolicy, Context, PolicySet, Principal, Request};

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
}
