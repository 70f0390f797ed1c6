//! Project automation: `cargo xtask <task>`.
//!
//! - `test`: run every test in the workspace against a real PostgreSQL (and SQLite).
//! - `codegen [--check]`: the wire crate's generated code from AWS's models.
//! - `ci`: `codegen --check`, `cargo fmt --check`, `cargo clippy -D warnings`, then `test`.
//! - `bench event-store`: the event store's throughput beside PostgreSQL's own ceiling.
//! - `bench projection | server | history | console | evaluator`: the other benchmarks
//!   BENCHMARKS.md records.

mod bench;
mod codegen;
mod postgres;

use std::process::Command;

use anyhow::{bail, Context, Result};

fn main() {
    if let Err(error) = run() {
        eprintln!("xtask: {error:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("ci") => ci(),
        Some("codegen") => codegen::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        _ => bail!(
            "usage: cargo xtask <task>\n\n\
             tasks:\n  \
             test [ARGS...]         run the workspace's tests (ARGS go to cargo test)\n  \
             ci                     codegen --check, fmt --check, clippy -D warnings, then test\n  \
             codegen [--check]      write (or check) crates/wire/src/generated from AWS's models\n  \
             bench event-store      event store throughput vs pgbench (BENCHMARKS.md)\n  \
             bench projection       rebuild, catch-up and time travel on a 1,000,000-event log\n  \
             bench server [--seconds N]  requests/s over loopback beside a bare axum\n  \
             bench history          as-of decisions, trail pages, access history on 1,000,000 events\n  \
             bench console          the web console's page loads (server and chromium) on the same log\n  \
             bench evaluator        policy evaluation vs cedar (BENCHMARKS.md)"
        ),
    }
}

/// The workspace root, from xtask's own manifest directory.
pub fn project_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default()
}

pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(project_root());
    cmd
}

pub fn status(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// Packages the test command leaves out: benchmark-only crates with heavy
/// dependencies (cedar-policy, criterion).
fn excluded_packages() -> Vec<&'static str> {
    if project_root().join("crates/bench/Cargo.toml").exists() {
        vec!["--exclude", "iam-bench"]
    } else {
        vec![]
    }
}

fn test(extra: &[String]) -> Result<()> {
    let pg = postgres::acquire(postgres::Purpose::Tests)?;
    eprintln!("xtask: PostgreSQL for the tests: {}", pg.description);
    let mut totals = TestTotals::default();
    let mut failures = Vec::new();
    // Every test binary runs even when one fails, so one failure never
    // hides the rest of the suite.
    let mut all = cargo();
    all.args(["test", "--workspace", "--no-fail-fast"])
        .args(excluded_packages())
        .args(extra)
        .env("DATABASE_URL", &pg.url);
    if let Err(e) = run_and_count(&mut all, &mut totals) {
        failures.push(e);
    }
    // SQLite is what a user gets by default: the server and SDK suites run
    // again on it (`TestDatabase::for_server`). Only for the whole suite.
    if extra.is_empty() {
        eprintln!("xtask: the server and SDK suites again, on SQLite");
        let mut sqlite = cargo();
        // The same package selection as the first run (so the same feature
        // resolution, and nothing is rebuilt), narrowed to the server's and
        // the SDK's test binaries.
        sqlite
            .args(["test", "--workspace", "--no-fail-fast"])
            .args(excluded_packages())
            .args(
                server_test_targets()?
                    .iter()
                    .flat_map(|t| ["--test", t.as_str()]),
            )
            .env("DATABASE_URL", &pg.url)
            .env("IAMD_TEST_BACKEND", "sqlite");
        if let Err(e) = run_and_count(&mut sqlite, &mut totals) {
            failures.push(e);
        }
    }
    drop(pg);
    println!(
        "xtask: {} passed, {} failed, {} ignored ({} test binaries)",
        totals.passed, totals.failed, totals.ignored, totals.binaries
    );
    if let Some(first) = failures.into_iter().next() {
        return Err(first);
    }
    if totals.binaries == 0 {
        bail!("no test binary ran");
    }
    Ok(())
}

/// The test binaries that drive a running server: every integration test
/// of `crates/api` and the SDK suite (`tests/sdk.rs`).
fn server_test_targets() -> Result<Vec<String>> {
    let dir = project_root().join("crates/api/tests");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names.push("sdk".into());
    Ok(names)
}

/// Runs `cargo test`, passing its output through, and adds every binary's
/// `test result:` line to `totals`.
fn run_and_count(cmd: &mut Command, totals: &mut TestTotals) -> Result<()> {
    use std::io::{BufRead, BufReader, Write};
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if let Some(out) = child.stdout.take() {
        let stdout = std::io::stdout();
        for line in BufReader::new(out).lines() {
            let line = line?;
            totals.add(&line);
            let mut lock = stdout.lock();
            writeln!(lock, "{line}")?;
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// Sums of cargo test's `test result: ok. N passed; M failed; K ignored; …`.
#[derive(Default, Debug, PartialEq, Eq)]
struct TestTotals {
    passed: u64,
    failed: u64,
    ignored: u64,
    binaries: u64,
}

impl TestTotals {
    fn add(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        self.binaries += 1;
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(count)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = count.parse::<u64>() else {
                continue;
            };
            match label {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                "ignored" => self.ignored += n,
                _ => {}
            }
        }
    }
}

fn ci() -> Result<()> {
    codegen::run(&["--check".to_owned()])?;
    status(cargo().args(["fmt", "--all", "--check"]))?;
    status(
        cargo()
            .args(["clippy", "--workspace", "--all-targets"])
            .args(excluded_packages())
            .args(["--", "-D", "warnings"]),
    )?;
    test(&[])
}

#[cfg(test)]
mod tests {
    use super::TestTotals;

    #[test]
    fn totals_add_up_cargo_test_result_lines() {
        let mut t = TestTotals::default();
        for line in [
            "running 3 tests",
            "test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s",
            "test result: FAILED. 5 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.20s",
            "test a ... ok",
        ] {
            t.add(line);
        }
        assert_eq!(
            t,
            TestTotals {
                passed: 8,
                failed: 2,
                ignored: 1,
                binaries: 2
            }
        );
    }
}
