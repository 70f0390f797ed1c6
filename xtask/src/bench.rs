//! Benchmarks (never timed tests): `cargo xtask bench <what>`.
//!
//! `event-store` measures the store on a durable throwaway PostgreSQL (or
//! `DATABASE_URL`) and, in the same run, PostgreSQL's own ceiling: pgbench
//! running the equivalent single-row locked-insert transaction. Figures are
//! printed as a Markdown table for BENCHMARKS.md, with ratios.

use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::postgres::{self, Purpose};

pub fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("event-store") => event_store(&args[1..]),
        Some("projection") => projection(),
        Some("server") => server(&args[1..]),
        Some("history") => history(),
        Some("console") => console(),
        Some("evaluator") => crate::status(
            crate::cargo()
                .args(["bench", "-p", "iam-bench"])
                .args(&args[1..]),
        ),
        _ => bail!("usage: cargo xtask bench (event-store [--seconds N] | projection | server [--seconds N] | history | console | evaluator)"),
    }
}

/// The transaction pgbench runs: lock the head row, insert one event-sized
/// row, move the head — what an append does, minus our hashing and checks.
/// The transaction pgbench runs: lock the head row, insert one event-sized
/// row into a table with the same columns, constraints and indexes as
/// `events`, move the head — what an append does, minus our hashing, checks
/// and client library.
const CEILING_SCRIPT: &str = r#"BEGIN;
SELECT position AS pos FROM ceiling_head WHERE id = 1 FOR UPDATE \gset
INSERT INTO ceiling_events (position, stream_id, stream_version, event_id, event_type, schema_version, payload, metadata, recorded_at, hash) VALUES (:pos + 1, 'bench-' || :client_id, :pos + 1, gen_random_uuid(), 'UserCreated', 1, '{"n": 1, "name": "user-000001", "path": "/engineering/", "tags": {"team": "platform"}}', '{"actor": "arn:aws:iam::123456789012:root", "request_id": "0b7a9c9e-1111-2222-3333-444455556666"}', clock_timestamp(), sha256('x'::bytea));
UPDATE ceiling_head SET position = :pos + 1 WHERE id = 1;
END;
"#;

const CEILING_SETUP: &str = "DROP TABLE IF EXISTS ceiling_head, ceiling_events; \
    CREATE TABLE ceiling_head (id int PRIMARY KEY, position bigint NOT NULL); \
    INSERT INTO ceiling_head VALUES (1, 0); \
    CREATE TABLE ceiling_events (position bigint PRIMARY KEY, stream_id text NOT NULL, \
      stream_version bigint NOT NULL, event_id uuid NOT NULL UNIQUE, event_type text NOT NULL, \
      schema_version int NOT NULL, payload json NOT NULL, metadata json NOT NULL, \
      recorded_at timestamptz NOT NULL, hash bytea NOT NULL, UNIQUE (stream_id, stream_version)); \
    CREATE INDEX ON ceiling_events (recorded_at, position);";

fn event_store(args: &[String]) -> Result<()> {
    let seconds = match args {
        [flag, n] if flag == "--seconds" => n.parse::<u64>().context("--seconds takes a number")?,
        [] => 10,
        _ => bail!("usage: cargo xtask bench event-store [--seconds N]"),
    };
    // Build first, so compilation doesn't overlap the measurements.
    crate::status(crate::cargo().args([
        "bench",
        "-p",
        "iam-event-store",
        "--bench",
        "throughput",
        "--no-run",
    ]))?;

    let pg = postgres::acquire(Purpose::Benchmarks)?;
    eprintln!("xtask: PostgreSQL for the benchmark: {}", pg.description);
    let bin = pg
        .bin_dir
        .clone()
        .context("pgbench not found (install PostgreSQL's client tools)")?;
    let psql = |sql: &str| -> Result<()> {
        let out = Command::new(bin.join("psql"))
            .args([pg.url.as_str(), "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()?;
        if !out.status.success() {
            bail!("psql: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    };
    let script = std::env::temp_dir().join(format!("iamd-ceiling-{}.sql", std::process::id()));
    std::fs::write(&script, CEILING_SCRIPT)?;
    let mut ceiling = Vec::new();
    for clients in [1u32, 16] {
        psql(CEILING_SETUP)?;
        let out = Command::new(bin.join("pgbench"))
            .args(["-n", "-f"])
            .arg(&script)
            .args([
                "-c",
                &clients.to_string(),
                "-j",
                "2",
                "-T",
                &seconds.to_string(),
                pg.url.as_str(),
            ])
            .output()
            .context("cannot run pgbench")?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            bail!(
                "pgbench failed: {}{}",
                text,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let tps = text
            .lines()
            .find(|l| l.starts_with("tps = "))
            .and_then(|l| l.split_whitespace().nth(2))
            .and_then(|v| v.parse::<f64>().ok())
            .context("pgbench printed no tps")?;
        eprintln!("xtask: pgbench ceiling with {clients} client(s): {tps:.0} tx/s");
        ceiling.push(tps);
    }
    psql("DROP TABLE IF EXISTS ceiling_head, ceiling_events")?;
    let _ = std::fs::remove_file(&script);

    let figures = run_bench(
        "iam-event-store",
        "throughput",
        &["--seconds", &seconds.to_string()],
        &pg.url,
    )?;
    let figure = |name: &str| figures.get(name);
    let single1 = figure("append_single_1_writer")?;
    let single16 = figure("append_single_16_writers")?;
    let batch = figure("append_batch_100")?;
    let replay = figure("replay")?;
    let verify = figure("verify")?;
    let events = figure("log_events")?;

    println!("| measurement | iamd | PostgreSQL ceiling (pgbench) | ratio | target |");
    println!("|---|---:|---:|---:|---|");
    println!(
        "| single-event appends, 1 writer | {single1:.0} events/s | {:.0} tx/s | {:.0}% | ≥ 70% |",
        ceiling[0],
        100.0 * single1 / ceiling[0]
    );
    println!(
        "| single-event appends, 16 writers | {single16:.0} events/s | {:.0} tx/s | {:.0}% | ≥ 70% |",
        ceiling[1],
        100.0 * single16 / ceiling[1]
    );
    println!("| 100-event batches, 1 writer | {batch:.0} events/s | | | ≥ 20,000 events/s |");
    println!(
        "| full-log replay ({events:.0} events) | {replay:.0} events/s | | | ≥ 200,000 events/s |"
    );
    println!("| verify ({events:.0} events) | {verify:.0} events/s | | | ≥ 100,000 events/s |");
    println!("\n{} s per measurement; {}", seconds, pg.description);
    Ok(())
}

/// Projection figures (issue 4): in-memory `evolve`, rebuilding a
/// 200,000-event account from PostgreSQL, time travel in a 1,000,000-event
/// log with snapshots, and the memory the account's view takes.
fn projection() -> Result<()> {
    crate::status(crate::cargo().args([
        "bench",
        "-p",
        "iam-projection",
        "--bench",
        "rebuild",
        "--no-run",
    ]))?;
    let pg = postgres::acquire(Purpose::Benchmarks)?;
    eprintln!("xtask: PostgreSQL for the benchmark: {}", pg.description);
    let figures = run_bench("iam-projection", "rebuild", &[], &pg.url)?;
    let figure = |name: &str| figures.get(name);
    println!("| measurement | figure | target |");
    println!("|---|---:|---|");
    println!(
        "| `evolve` in memory ({:.0} events) | {:.0} events/s | ≥ 1,000,000 events/s |",
        figure("account_events")?,
        figure("evolve_events_per_s")?
    );
    println!(
        "| decoding stored payloads into events | {:.0} events/s | |",
        figure("decode_events_per_s")?
    );
    println!(
        "| reading the account's stream from PostgreSQL (no decoding) | {:.2} s | |",
        figure("read_stream_s")?
    );
    println!(
        "| rebuild the account from PostgreSQL (no snapshot) | {:.2} s | < 2 s |",
        figure("rebuild_account_s")?
    );
    println!(
        "| projection catch-up over the whole log ({:.0} events) | {:.2} s | |",
        figure("log_events")?,
        figure("projection_catch_up_s")?
    );
    println!(
        "| a user's compiled policies (37 documents): first build / reuse after an unrelated write | {:.1} µs / {:.2} µs | |",
        figure("effective_build_us")?,
        figure("effective_reuse_us")?
    );
    println!(
        "| restart: newest checkpoint, then the {:.0} events after it | {:.2} s | |",
        figure("restart_replayed_events")?,
        figure("restart_from_checkpoint_s")?
    );
    println!(
        "| largest snapshot: size / load / decode | {:.1} MiB / {:.0} ms / {:.0} ms | |",
        figure("snapshot_mib")?,
        figure("snapshot_load_ms")?,
        figure("snapshot_decode_ms")?
    );
    println!(
        "| view as of an arbitrary time, p50 of 25 | {:.1} ms | < 100 ms |",
        figure("as_of_p50_ms")?
    );
    println!(
        "| view as of an arbitrary time, max of 25 | {:.1} ms | < 100 ms |",
        figure("as_of_max_ms")?
    );
    println!(
        "| memory of the account's view (live heap bytes) | {:.1} MiB | |",
        figure("view_memory_mib")?
    );
    println!("\n{}", pg.description);
    Ok(())
}

/// Server figures (issue 5): signed, authorized GetUser and CreateUser from 1
/// and 32 keep-alive clients over loopback, beside the store's own
/// single-event append rate on the same durable database.
fn server(args: &[String]) -> Result<()> {
    let seconds = match args {
        [flag, n] if flag == "--seconds" => n.parse::<u64>().context("--seconds takes a number")?,
        [] => 8,
        _ => bail!("usage: cargo xtask bench server [--seconds N]"),
    };
    crate::status(
        crate::cargo().args(["bench", "-p", "iam-api", "--bench", "server", "--no-run"]),
    )?;
    let pg = postgres::acquire(Purpose::Benchmarks)?;
    eprintln!("xtask: PostgreSQL for the benchmark: {}", pg.description);
    let figures = run_bench(
        "iam-api",
        "server",
        &["--seconds", &seconds.to_string()],
        &pg.url,
    )?;
    let figure = |name: &str| figures.get(name);
    println!("| request | clients | requests/s | p50 | p99 | target |");
    println!("|---|---:|---:|---:|---:|---|");
    if figures.has("getuser_1_per_s") {
        server_core(&figures)?;
    }
    if figures.has("getuser_session_1_per_s") {
        for clients in [1, 32] {
            let rate = figure(&format!("getuser_session_{clients}_per_s"))?;
            let base = figure(&format!("getuser_longterm_{clients}_per_s"))?;
            println!(
                "| GetUser with temporary credentials | {clients} | {rate:.0} ({:.0}% of {base:.0}/s with a long-term key) | {:.2} ms | | ≥ 80% of the long-term key |",
                100.0 * rate / base,
                figure(&format!("getuser_session_{clients}_p50_ms"))?
            );
        }
        for clients in [1, 32] {
            let rate = figure(&format!("assumerole_{clients}_per_s"))?;
            let base = figure(&format!("sts_createuser_{clients}_per_s"))?;
            println!(
                "| AssumeRole | {clients} | {rate:.0} ({:.0}% of CreateUser's {base:.0}/s) | {:.2} ms | | |",
                100.0 * rate / base,
                figure(&format!("assumerole_{clients}_p50_ms"))?
            );
        }
        let argon2 = figures
            .text
            .lines()
            .find(|l| l.starts_with("argon2id_verify_"))
            .map(str::to_owned)
            .unwrap_or_default();
        for clients in [1, 32] {
            let rate = figure(&format!("signin_{clients}_per_s"))?;
            println!(
                "| /v1/sign-in | {clients} | {rate:.0} ({:.0}% of argon2id alone: {argon2}) | {:.2} ms | | |",
                100.0 * figure(&format!("signin_{clients}_ratio"))?,
                figure(&format!("signin_{clients}_p50_ms"))?
            );
        }
    }
    if figures.has("webidentity_1_per_s") {
        for clients in [1, 32] {
            let rate = figure(&format!("webidentity_{clients}_per_s"))?;
            let base = figure(&format!("web_assumerole_{clients}_per_s"))?;
            println!(
                "| AssumeRoleWithWebIdentity (RS256, keys cached) | {clients} | {rate:.0} ({:.0}% of AssumeRole's {base:.0}/s) | {:.2} ms | | |",
                100.0 * rate / base,
                figure(&format!("webidentity_{clients}_p50_ms"))?
            );
        }
    }
    println!("\n{seconds} s per measurement; {}", pg.description);
    Ok(())
}

/// The core rows: GetUser against bare axum, CreateUser against the
/// store, decisions.
fn server_core(figures: &Figures) -> Result<()> {
    let figure = |name: &str| figures.get(name);
    for clients in [1, 32] {
        let rate = figure(&format!("getuser_{clients}_per_s"))?;
        let bare = figure(&format!("bare_axum_{clients}_per_s"))?;
        println!(
            "| GetUser | {clients} | {rate:.0} ({:.0}% of bare axum's {bare:.0}/s) | {:.2} ms | {:.2} ms | ≥ 70% of bare axum |",
            100.0 * rate / bare,
            figure(&format!("getuser_{clients}_p50_ms"))?,
            figure(&format!("getuser_{clients}_p99_ms"))?
        );
    }
    for clients in [1, 32] {
        let rate = figure(&format!("createuser_{clients}_per_s"))?;
        let store = figure(&format!("store_append_{clients}_per_s"))?;
        println!(
            "| CreateUser | {clients} | {rate:.0} ({:.0}% of the store's {store:.0} appends/s) | {:.2} ms | {:.2} ms | ≥ 70% of the store |",
            100.0 * rate / store,
            figure(&format!("createuser_{clients}_p50_ms"))?,
            figure(&format!("createuser_{clients}_p99_ms"))?
        );
    }
    for clients in [1, 32] {
        let one = figure(&format!("authorize_{clients}_per_s"))?;
        let getuser = figure(&format!("getuser_{clients}_per_s"))?;
        println!(
            "| /v1/authorize | {clients} | {one:.0} decisions/s ({:.0}% of GetUser's {getuser:.0}/s) | {:.2} ms | {:.2} ms | 32 clients: ≥ 20,000 decisions/s |",
            100.0 * one / getuser,
            figure(&format!("authorize_{clients}_p50_ms"))?,
            figure(&format!("authorize_{clients}_p99_ms"))?
        );
        println!(
            "| /v1/authorize/batch of 1,000 | {clients} | {:.0} decisions/s | {:.2} ms | | ≥ 500,000 decisions/s |",
            figure(&format!("batch_{clients}_decisions_per_s"))?,
            figure(&format!("batch_{clients}_p50_ms"))?
        );
        println!(
            "| /v1/authorize/batch of 10,000 | {clients} | {:.0} decisions/s | {:.2} ms | | |",
            figure(&format!("big_batch_{clients}_decisions_per_s"))?,
            figure(&format!("big_batch_{clients}_p50_ms"))?
        );
    }
    Ok(())
}

/// Audit and time-travel figures (issue 12): decisions as of past cuts,
/// trail pages by actor and target, and access history, over HTTP on a
/// 1,000,000-event log.
/// The web console's pages on the history benchmark's log (1,000,000
/// events; a user touched by 10,000 of them): server time over loopback
/// and, in Debian's chromium, the browser's own server time and first
/// contentful paint.
fn console() -> Result<()> {
    crate::status(
        crate::cargo().args(["bench", "-p", "iam-api", "--bench", "history", "--no-run"]),
    )?;
    let pg = postgres::acquire(Purpose::Benchmarks)?;
    eprintln!("xtask: PostgreSQL for the benchmark: {}", pg.description);
    let figures = run_bench_with(
        "iam-api",
        "history",
        &[],
        &pg.url,
        &[("IAMD_BENCH_ONLY", "console,access_history")],
    )?;
    let figure = |name: &str| figures.get(name);
    println!(
        "Log: {:.0} events, {:.0} of them the account's.\n",
        figure("log_events")?,
        figure("account_events")?
    );
    println!("| page | server, whole answer (p50 / max) | in chromium: server (p50) | in chromium: first contentful paint (p50 / max) | in chromium: the timeline in the page (p50 / max) | size |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, label) in [
        ("console_dashboard", "dashboard"),
        (
            "console_chain",
            "its chain verification (a fragment loaded after it)",
        ),
        (
            "console_access_hot",
            "access explorer, user touched by 10,000 events",
        ),
        (
            "console_history_hot",
            "its access history (a fragment loaded after it)",
        ),
        ("console_access_ordinary", "access explorer, ordinary user"),
        (
            "console_history_ordinary",
            "its access history (a fragment loaded after it)",
        ),
    ] {
        let in_browser = |what: &str| -> Result<String> {
            Ok(if figures.has(&format!("{name}_browser_{what}_p50_ms")) {
                format!(
                    "{:.0} / {:.0} ms",
                    figure(&format!("{name}_browser_{what}_p50_ms"))?,
                    figure(&format!("{name}_browser_{what}_max_ms"))?
                )
            } else {
                String::new()
            })
        };
        let server = if figures.has(&format!("{name}_browser_server_p50_ms")) {
            format!(
                "{:.0} ms",
                figure(&format!("{name}_browser_server_p50_ms"))?
            )
        } else {
            String::new()
        };
        println!(
            "| {label} | {:.1} / {:.1} ms | {server} | {} | {} | {:.0} KB |",
            figure(&format!("{name}_server_p50_ms"))?,
            figure(&format!("{name}_server_max_ms"))?,
            in_browser("paint")?,
            in_browser("timeline")?,
            figure(&format!("{name}_bytes"))? / 1024.0
        );
    }
    println!(
        "\nThe same run's `/v1/access-history` alone (the call the explorer makes), p50: {:.1} ms for the user touched by 10,000 events ({:.0} segments), {:.1} ms for an ordinary user.",
        figure("access_history_hot_p50_ms")?,
        figure("access_history_hot_segments")?,
        figure("access_history_ordinary_p50_ms")?
    );
    println!("\n{}", pg.description);
    Ok(())
}

fn history() -> Result<()> {
    crate::status(
        crate::cargo().args(["bench", "-p", "iam-api", "--bench", "history", "--no-run"]),
    )?;
    let pg = postgres::acquire(Purpose::Benchmarks)?;
    eprintln!("xtask: PostgreSQL for the benchmark: {}", pg.description);
    let figures = run_bench("iam-api", "history", &[], &pg.url)?;
    let figure = |name: &str| figures.get(name);
    println!(
        "Log: {:.0} events, {:.0} of them the account's.\n",
        figure("log_events")?,
        figure("account_events")?
    );
    println!("| query | p50 | p99 | max | n | target |");
    println!("|---|---:|---:|---:|---:|---|");
    for (name, label, target) in [
        (
            "as_of_first",
            "`/v1/authorize` as of a new cut (first decision)",
            "p50 ≤ 50 ms, p99 ≤ 100 ms",
        ),
        (
            "as_of_further",
            "`/v1/authorize` at a cut already asked about",
            "≤ 1 ms",
        ),
        (
            "events_by_actor",
            "`/v1/events?actor=` (page of 100)",
            "p99 ≤ 50 ms",
        ),
        (
            "events_by_hot_target",
            "`/v1/events?target=` hot user (page of 100)",
            "p99 ≤ 50 ms",
        ),
        (
            "events_by_target",
            "`/v1/events?target=` ordinary user",
            "p99 ≤ 50 ms",
        ),
        (
            "access_history_hot",
            "`/v1/access-history`, user touched by 10,000 events",
            "≤ 1 s",
        ),
        (
            "access_history_ordinary",
            "`/v1/access-history`, ordinary user",
            "",
        ),
    ] {
        println!(
            "| {label} | {:.2} ms | {:.2} ms | {:.2} ms | {:.0} | {target} |",
            figure(&format!("{name}_p50_ms"))?,
            figure(&format!("{name}_p99_ms"))?,
            figure(&format!("{name}_max_ms"))?,
            figure(&format!("{name}_count"))?,
        );
    }
    println!(
        "\nSegments: hot {:.0}, ordinary {:.0}; events a page: by actor {:.1}, hot target {:.1}, ordinary target {:.1}; {}",
        figure("access_history_hot_segments")?,
        figure("access_history_ordinary_segments")?,
        figure("events_by_actor_events_per_page")?,
        figure("events_by_hot_target_events_per_page")?,
        figure("events_by_target_events_per_page")?,
        pg.description
    );
    Ok(())
}

/// The `name value` lines a benchmark binary printed.
struct Figures {
    text: String,
}

impl Figures {
    /// Whether the benchmark printed `name` (a run limited by
    /// `IAMD_BENCH_ONLY` prints only its own figures).
    fn has(&self, name: &str) -> bool {
        self.get(name).is_ok()
    }

    fn get(&self, name: &str) -> Result<f64> {
        self.text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .with_context(|| format!("the benchmark printed no {name}:\n{}", self.text))
    }
}

/// Runs `cargo bench -p package --bench bench -- args` against `database_url`.
fn run_bench(package: &str, bench: &str, args: &[&str], database_url: &str) -> Result<Figures> {
    run_bench_with(package, bench, args, database_url, &[])
}

fn run_bench_with(
    package: &str,
    bench: &str,
    args: &[&str],
    database_url: &str,
    env: &[(&str, &str)],
) -> Result<Figures> {
    let out = crate::cargo()
        .args(["bench", "-p", package, "--bench", bench, "--"])
        .args(args)
        .env("DATABASE_URL", database_url)
        .envs(env.iter().copied())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "the benchmark failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(Figures { text })
}
