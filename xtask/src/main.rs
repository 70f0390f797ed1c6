//! Project automation: `cargo xtask <task>`.
//!
//! - `test`: run every test in the workspace against a real PostgreSQL (and SQLite).
//! - `ci`: `cargo fmt --check`, `cargo clippy -D warnings`, then `test`.
//! - `bench event-store`: the event store's throughput beside PostgreSQL's own ceiling.

mod bench;
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
        Some("bench") => bench::run(&args[1..]),
        _ => bail!(
            "usage: cargo xtask <task>\n\n\
             tasks:\n  \
             test [ARGS...]         run the workspace's tests (ARGS go to cargo test)\n  \
             ci                     fmt --check, clippy -D warnings, then test\n  \
             bench event-store      event store throughput vs pgbench (BENCHMARKS.md)\n  \
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
    let mut cmd = cargo();
    cmd.args(["test", "--workspace"])
        .args(excluded_packages())
        .args(extra)
        .env("DATABASE_URL", &pg.url);
    let result = status(&mut cmd);
    drop(pg);
    result
}

fn ci() -> Result<()> {
    status(cargo().args(["fmt", "--all", "--check"]))?;
    status(
        cargo()
            .args(["clippy", "--workspace", "--all-targets"])
            .args(excluded_packages())
            .args(["--", "-D", "warnings"]),
    )?;
    test(&[])
}
