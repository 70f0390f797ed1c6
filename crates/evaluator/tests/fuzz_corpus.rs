//! Replays the policy parser's committed fuzz corpus
//! (`fuzz/corpus/parse_policy/`) through the fuzz target's own property, so
//! CI runs it on every change without a nightly toolchain. New inputs that
//! `cargo +nightly fuzz run parse_policy` finds belong in that folder.

include!("../../../fuzz/check_policy.rs");

#[test]
fn every_committed_fuzz_input_holds_the_property() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/parse_policy");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    let mut parsed = 0;
    for path in &inputs {
        let data = std::fs::read(path).unwrap();
        let result = std::panic::catch_unwind(|| check_policy_input(&data));
        assert!(result.is_ok(), "{} fails the fuzz property", path.display());
        if std::str::from_utf8(&data)
            .ok()
            .is_some_and(|t| iam_domain::policy::PolicyDocument::parse(t).is_ok())
        {
            parsed += 1;
        }
    }
    // The corpus has both documents that parse (and so reach compilation
    // and evaluation) and ones the parser refuses.
    assert!(
        inputs.len() >= 58,
        "the corpus lost inputs: {}",
        inputs.len()
    );
    assert!(parsed >= 30, "only {parsed} corpus inputs parse");
    assert!(inputs.len() - parsed >= 10, "too few malformed inputs");
}
