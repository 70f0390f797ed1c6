//! Conformance cases: data files in `tests/conformance/*.json`, each case a
//! scenario (the `iamd eval` format), the expected decision (or
//! `MalformedPolicyDocument`), optionally the deciding statements, and the AWS
//! documentation page and passage the expectation comes from.
//!
//! The runner is a trait so that a peer implementation (for example a client
//! calling a live endpoint) can answer the same files.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    description: String,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    /// The User Guide page (and anchor) the expectation is taken from.
    source: String,
    /// The passage of that page the case exercises.
    passage: String,
    scenario: Value,
    /// `Allow`, `ExplicitDeny`, `ImplicitDeny` or `MalformedPolicyDocument`.
    expected: String,
    /// The deciding statements as `[policy, statement]` pairs, when checked.
    #[serde(default)]
    matched: Option<Vec<(String, usize)>>,
    /// The evaluation time; defaults to 2026-01-15T12:00:00Z.
    #[serde(default)]
    now: Option<DateTime<Utc>>,
}

/// Something that answers scenarios in the `iamd eval` format.
trait Runner {
    fn run(&self, scenario: &Value, now: DateTime<Utc>) -> Value;
}

struct Library;

impl Runner for Library {
    fn run(&self, scenario: &Value, now: DateTime<Utc>) -> Value {
        iam_evaluator::scenario::run_scenarios(scenario, now)
            .unwrap_or_else(|e| serde_json::json!({ "input_error": e.to_string() }))
    }
}

fn default_now() -> DateTime<Utc> {
    "2026-01-15T12:00:00Z".parse().expect("valid time")
}

/// How many cases there are, and how many also check the deciding
/// statements (`matched`).
struct Counts {
    cases: usize,
    with_matched: usize,
}

fn check_all(runner: &dyn Runner) -> (Counts, Vec<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("conformance dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut count = 0;
    let mut with_matched = 0;
    let mut failures = Vec::new();
    let mut names = std::collections::HashSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        let cf: CaseFile =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!cf.description.is_empty());
        for case in cf.cases {
            count += 1;
            let fname = file
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            assert!(
                names.insert(format!("{fname}/{}", case.name)),
                "duplicate case name {}",
                case.name
            );
            assert!(
                !case.source.is_empty() && !case.passage.is_empty(),
                "{}: source and passage required",
                case.name
            );
            let out = runner.run(&case.scenario, case.now.unwrap_or_else(default_now));
            let got = out
                .get("decision")
                .and_then(Value::as_str)
                .or_else(|| out.pointer("/error/code").and_then(Value::as_str))
                .unwrap_or("?")
                .to_owned();
            if got != case.expected {
                failures.push(format!(
                    "{fname} :: {}: expected {}, got {} ({out})",
                    case.name, case.expected, got
                ));
                continue;
            }
            if let Some(want) = &case.matched {
                with_matched += 1;
                let have: Vec<(String, usize)> = out["matched"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|m| {
                                (
                                    m["policy"].as_str().unwrap_or("").to_owned(),
                                    m["statement"].as_u64().unwrap_or(0) as usize,
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                if &have != want {
                    failures.push(format!(
                        "{fname} :: {}: expected matched {want:?}, got {have:?}",
                        case.name
                    ));
                }
            }
        }
    }
    (
        Counts {
            cases: count,
            with_matched,
        },
        failures,
    )
}

#[test]
fn conformance_cases() {
    let (counts, failures) = check_all(&Library);
    let count = counts.cases;
    // Pinned: a case file that lost cases (or a generator change that
    // dropped some) fails here; adding cases means updating the number.
    assert_eq!(count, 554, "conformance cases");
    assert!(
        counts.with_matched >= 340,
        "only {} cases check the deciding statements",
        counts.with_matched
    );
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{count} conformance cases passed");
}
