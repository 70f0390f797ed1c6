//! Audit and time-travel queries over HTTP on a 1,000,000-event log
//! (`cargo xtask bench history`). Prints `name value` lines.
//!
//! The log: a running `iamd` (account 123456789012) whose account stream
//! gets the projection benchmark's account (184,500 events: 10,000 users,
//! 500 groups, 2,000 roles, 1,500 policies) plus a user `hot` touched by
//! 10,000 events (a policy attached, then detached, 5,000 times, spread
//! over the stream), every event carrying an actor (one of 20 admins) and
//! its target as iamd records them; the account's events come in chunks of
//! 1,000 between chunks of 4,200 events of other streams, 1,000,000 events
//! in all. The server follows the log as it is written (snapshots every
//! 1,000 account events, its default).
//!
//! Measured, each as root over loopback:
//! - `/v1/authorize` as of 60 cuts spread over the log: the first decision
//!   at each cut, then 100 more at that cut;
//! - `/v1/events` pages (100 events) by actor, by the hot target and by an
//!   ordinary user's target, from 100 random starting positions each;
//! - `/v1/access-history` of `hot` (10,000 events, 10,001 segments) and of
//!   an ordinary user;
//! - the web console (`IAMD_BENCH_ONLY=console`, `cargo xtask bench
//!   console`): the dashboard, the chain's verification the dashboard
//!   loads after it, and the access explorer with the access history of
//!   `hot` and of an ordinary user, as server time (over loopback, the
//!   whole answer) and, in Debian's chromium, the server time and the
//!   first contentful paint the browser measured.

use std::time::Instant;

use iam_api::app::{Application, Config};
use iam_api::credentials::RootCredentials;
use iam_domain::ids::UserId;
use iam_domain::names::{IamPath, PolicyName, UserName};
use iam_domain::{Arn, Command, SCHEMA_VERSION};
use iam_event_store::{ExpectedVersion, NewEvent};
use sqlx::{Connection, Executor};

#[path = "../tests/browser/mod.rs"]
mod browser;
mod client;
#[path = "../../projection/benches/workload.rs"]
mod workload;

use client::Conn;

const ACCOUNT: &str = "123456789012";
const HOT: &str = "arn:aws:iam::123456789012:user/hot";
const ORDINARY: &str = "arn:aws:iam::123456789012:user/user-4321";
const ADMINS: usize = 20;

/// The account's commands with `hot` created once the policies exist and
/// its 10,000 attach/detach commands spread evenly over the rest.
fn commands() -> Vec<Command> {
    let all = workload::commands();
    let hot = UserName::parse("hot").unwrap();
    let policy = |i: usize| {
        Arn::policy(
            &workload::account(),
            &IamPath::root(),
            &PolicyName::parse(&format!("policy-{}", i % 1500)).unwrap(),
        )
    };
    // The policies (and their versions) come first in the workload.
    let policies_end = all
        .iter()
        .position(|c| matches!(c, Command::CreateGroup { .. }))
        .unwrap();
    let mut hot_commands = (0..10_000usize).map(|i| match i % 2 {
        0 => Command::AttachUserPolicy {
            user_name: hot.clone(),
            policy_arn: policy(i / 2),
        },
        _ => Command::DetachUserPolicy {
            user_name: hot.clone(),
            policy_arn: policy(i / 2),
        },
    });
    let rest = all.len() - policies_end;
    let mut out = Vec::with_capacity(all.len() + 10_001);
    for (i, c) in all.into_iter().enumerate() {
        out.push(c);
        if i + 1 == policies_end {
            out.push(Command::CreateUser {
                user_name: hot.clone(),
                path: None,
                user_id: UserId::parse("AIDAHOTHOTHOTHOTHOT0").unwrap(),
                permissions_boundary: None,
                tags: vec![],
                now: chrono::Utc::now(),
            });
        }
        if i >= policies_end && (i - policies_end) % (rest / 10_000) == 0 {
            out.extend(hot_commands.next());
        }
    }
    out.extend(hot_commands);
    out
}

fn percentile(sorted: &[f64], p: usize) -> f64 {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn figures(name: &str, mut times: Vec<f64>) {
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("{name}_p50_ms {:.2}", percentile(&times, 50));
    println!("{name}_p99_ms {:.2}", percentile(&times, 99));
    println!("{name}_max_ms {:.2}", times[times.len() - 1]);
    println!("{name}_count {}", times.len());
}

/// A small deterministic generator: the same positions every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::main]
async fn main() {
    let admin_url = std::env::var("DATABASE_URL").expect("DATABASE_URL=postgres://...");
    let name = "iamd_bench_history";
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(name);
    // `IAMD_BENCH_REUSE_LOG=1`: the log a previous run wrote, as it is (for
    // iterating on the read side).
    let reuse = std::env::var("IAMD_BENCH_REUSE_LOG").as_deref() == Ok("1")
        && sqlx::PgConnection::connect(url.as_str()).await.is_ok();
    if !reuse {
        let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await
            .unwrap();
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
    }
    // `IAMD_BENCH_ONLY=as_of|events|access_history|console`: one part alone
    // (the console, which needs chromium, only when named)
    let only = std::env::var("IAMD_BENCH_ONLY").ok();
    // (or several: `IAMD_BENCH_ONLY=console,access_history`)
    let part_named = |name: &str| {
        only.as_deref()
            .is_some_and(|o| o.split(',').any(|p| p == name))
    };
    let part = |name: &str| only.is_none() || part_named(name);

    let root = RootCredentials {
        access_key_id: "AKIAROOTROOTROOT0001".into(),
        secret_access_key: "rootsecretrootsecretrootsecretrootsecret".into(),
    };
    let app = Application::build(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: url.to_string(),
        account_id: ACCOUNT.into(),
        data_dir: std::env::temp_dir().join("iamd-bench-history"),
        root_credentials: Some(root.clone()),
        master_key: Some(iam_domain::secrets::MasterKey::from_bytes([3; 32])),
        add_account: false,
        allow_loopback_http_issuers: false,
        server: Default::default(),
    })
    .await
    .unwrap();
    let addr = app.local_addr();
    let state = app.state().clone();
    let store = state.store.clone();
    tokio::spawn(app.run_until_stopped(std::future::pending()));

    // The log, written behind the server's back as another node would.
    let start = Instant::now();
    let decided = workload::decided(commands());
    let stream = state.account_id.stream_name();
    let filler_per_chunk = 4200usize;
    let mut n = 0usize;
    // The server created the account already: its own creation is skipped.
    let events: Vec<_> = decided
        .into_iter()
        .filter(|(e, _)| e.event_type() != "AccountCreated")
        .collect();
    println!("account_events {}", events.len());
    for (chunk_no, chunk) in events.chunks(1000).enumerate().filter(|_| !reuse) {
        let batch = chunk
            .iter()
            .map(|(e, target)| {
                n += 1;
                NewEvent::new(e.event_type(), SCHEMA_VERSION, e.to_payload()).with_metadata(
                    serde_json::json!({
                        "actor": {"principal_arn": format!("arn:aws:iam::{ACCOUNT}:user/admin-{}", n % ADMINS)},
                        "request_id": format!("bench-{n}"),
                        "target": target,
                    }),
                )
            })
            .collect();
        store
            .append(&stream, ExpectedVersion::Any, batch)
            .await
            .unwrap();
        let filler = (0..filler_per_chunk)
            .map(|i| {
                NewEvent::new(
                    "Filler",
                    1,
                    serde_json::json!({"i": i, "note": "another tenant's change"}),
                )
                .with_metadata(serde_json::json!({
                    "actor": {"principal_arn": format!("arn:aws:iam::210987654321:user/other-{}", i % 50)},
                    "target": format!("arn:aws:iam::210987654321:user/u-{i}"),
                }))
            })
            .collect();
        store
            .append(
                &format!("other-{chunk_no}"),
                ExpectedVersion::NoStream,
                filler,
            )
            .await
            .unwrap();
    }
    let head = store.head().await.unwrap().position;
    println!("log_events {}", head.0);
    eprintln!("log written in {:.1} s", start.elapsed().as_secs_f64());
    // Wait for the server to have followed it.
    let start = Instant::now();
    while state.projection.position() < head {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // ... and for the snapshots and checkpoints it writes behind, so the
    // queries below meet a server at rest: until none was written for 3 s.
    let written = || {
        let stats = state.projection.stats();
        stats.snapshots.count() + stats.checkpoints.count()
    };
    let mut last = (written(), Instant::now());
    while last.1.elapsed() < std::time::Duration::from_secs(3) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if written() != last.0 {
            last = (written(), Instant::now());
        }
    }
    eprintln!(
        "server caught up, snapshots written, in {:.1} s ({} snapshots and checkpoints)",
        start.elapsed().as_secs_f64(),
        last.0
    );
    let mut pg = sqlx::PgConnection::connect(url.as_str()).await.unwrap();
    pg.execute("ANALYZE events").await.unwrap();
    for (what, sql) in [
        ("actor", format!("EXPLAIN SELECT position FROM events WHERE (metadata -> 'actor' ->> 'principal_arn') = 'arn:aws:iam::{ACCOUNT}:user/admin-3' AND stream_id = '{stream}' AND position > 500000 ORDER BY position LIMIT 100")),
        ("target", format!("EXPLAIN SELECT position FROM events WHERE (metadata ->> 'target') = '{HOT}' AND stream_id = '{stream}' AND position > 500000 ORDER BY position LIMIT 100")),
    ] {
        let plan: Vec<(String,)> = sqlx::query_as(&sql).fetch_all(&mut pg).await.unwrap();
        eprintln!("plan by {what}: {}", plan.iter().map(|r| r.0.trim()).collect::<Vec<_>>().join(" / "));
    }

    let mut client = Conn::open(addr, &root.access_key_id, &root.secret_access_key).await;
    let mut rng = Lcg(42);

    // Decisions at past moments.
    if part("as_of") {
        let first_hot = store
            .read_indexed(
                &stream,
                iam_event_store::MetadataIndex::Target,
                HOT,
                iam_event_store::Position::START,
                1,
            )
            .await
            .unwrap()[0]
            .position
            .0;
        let mut first = Vec::new();
        let mut further = Vec::new();
        let mut allowed = 0;
        for k in 0..60u64 {
            let cut = first_hot + (head.0 - first_hot) * k / 60 + rng.below(1000);
            let body = serde_json::json!({
                "principal": HOT,
                "action": "s3:GetObject",
                "resource": "arn:aws:s3:::bucket/hot/report.csv",
                "as_of": cut,
            })
            .to_string();
            let t = Instant::now();
            let (status, text) = client
                .post("/v1/authorize", "application/json", "iamd", &body)
                .await;
            first.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(status, 200, "cut {cut}: {text}");
            allowed += text.contains("\"Allow\"") as usize;
            for _ in 0..100 {
                let t = Instant::now();
                let (status, text) = client
                    .post("/v1/authorize", "application/json", "iamd", &body)
                    .await;
                further.push(t.elapsed().as_secs_f64() * 1000.0);
                assert_eq!(status, 200, "{text}");
            }
        }
        eprintln!("as-of first decisions in cut order (ms): {first:.1?}");
        eprintln!("{allowed} of 60 cuts allowed hot");
        figures("as_of_first", first);
        figures("as_of_further", further);
    }

    // The trail by actor and by target.
    for (label, query) in [
        (
            "events_by_actor",
            format!(
                "actor={}",
                escape(&format!("arn:aws:iam::{ACCOUNT}:user/admin-3"))
            ),
        ),
        ("events_by_hot_target", format!("target={}", escape(HOT))),
        ("events_by_target", format!("target={}", escape(ORDINARY))),
    ]
    .into_iter()
    .filter(|_| part("events"))
    {
        let mut times = Vec::new();
        let mut returned = 0;
        for _ in 0..100 {
            let after = rng.below(head.0);
            // Parameters in sorted order: `after` < `actor`/`target`.
            let q = format!("after={after}&{query}");
            let t = Instant::now();
            let (status, text) = client.get("/v1/events", &q, "iamd").await;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(status, 200, "{text}");
            let page: serde_json::Value = serde_json::from_str(&text).unwrap();
            returned += page["events"].as_array().unwrap().len();
        }
        println!("{label}_events_per_page {:.1}", returned as f64 / 100.0);
        figures(label, times);
    }

    if part_named("console") {
        console(addr, &root).await;
    }

    // Access history (on a new connection: the console's part may have
    // outlasted the old one's keep-alive).
    let mut client = Conn::open(addr, &root.access_key_id, &root.secret_access_key).await;
    for (label, principal) in [("hot", HOT), ("ordinary", ORDINARY)]
        .into_iter()
        .filter(|_| part("access_history"))
    {
        let resource = if label == "hot" {
            "arn:aws:s3:::bucket/hot/report.csv"
        } else {
            "arn:aws:s3:::bucket/user-4321/report.csv"
        };
        let query = format!(
            "action=s3%3AGetObject&principal={}&resource={}",
            escape(principal),
            escape(resource)
        );
        let mut times = Vec::new();
        let mut segments = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let (status, text) = client.get("/v1/access-history", &query, "iamd").await;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(status, 200, "{text}");
            let history: serde_json::Value = serde_json::from_str(&text).unwrap();
            segments = history["segments"].as_array().unwrap().len();
        }
        println!("access_history_{label}_segments {segments}");
        figures(&format!("access_history_{label}"), times);
    }
}

/// A whole GET over a new loopback connection with the console's cookie:
/// status, body, milliseconds to the last byte.
async fn console_get(
    addr: std::net::SocketAddr,
    path: &str,
    cookie: &str,
    extra: &str,
) -> (u16, String, f64) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!(
                "GET {path} HTTP/1.1\r\nhost: {addr}\r\ncookie: {cookie}\r\n{extra}connection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text, ms)
}

/// The console's pages on the big account, signed in as root with its
/// key pair through the sign-in form.
async fn console(addr: std::net::SocketAddr, root: &RootCredentials) {
    use fantoccini::Locator;
    let (b, _driver) = browser::browser().await;
    let base = format!("http://{addr}");
    b.goto(&format!("{base}/console/sign-in")).await.unwrap();
    for (id, value) in [
        ("access_key_id", root.access_key_id.as_str()),
        ("secret_access_key", root.secret_access_key.as_str()),
    ] {
        b.find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    b.find(Locator::Id("sign-in-keys"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .at_most(std::time::Duration::from_secs(120))
        .for_element(Locator::Id("count-Users"))
        .await
        .unwrap();
    let cookie = b
        .get_named_cookie(iam_api::console::session::COOKIE)
        .await
        .unwrap();
    let cookie = format!("{}={}", cookie.name(), cookie.value());
    let access = |principal: &str, resource: &str| {
        format!(
            "/console/access?action=s3%3AGetObject&principal={}&resource={}",
            escape(principal),
            escape(resource)
        )
    };
    let pages = [
        ("console_dashboard", "/console/".to_owned(), "", 10),
        (
            "console_chain",
            "/console/chain".to_owned(),
            "hx-request: true\r\n",
            3,
        ),
        (
            "console_access_hot",
            access(HOT, "arn:aws:s3:::bucket/hot/report.csv"),
            "",
            5,
        ),
        (
            "console_history_hot",
            access(HOT, "arn:aws:s3:::bucket/hot/report.csv") + "&part=history",
            "hx-request: true\r\n",
            5,
        ),
        (
            "console_access_ordinary",
            access(ORDINARY, "arn:aws:s3:::bucket/user-4321/report.csv"),
            "",
            5,
        ),
        (
            "console_history_ordinary",
            access(ORDINARY, "arn:aws:s3:::bucket/user-4321/report.csv") + "&part=history",
            "hx-request: true\r\n",
            5,
        ),
    ];
    for (label, path, extra, n) in &pages {
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..*n {
            let (status, text, ms) = console_get(addr, path, &cookie, extra).await;
            assert_eq!(status, 200, "{label}: {text}");
            assert!(!text.contains("class=\"error\""), "{label}: {text}");
            bytes = text.len();
            times.push(ms);
        }
        println!("{label}_bytes {bytes}");
        figures(&format!("{label}_server"), times);
    }
    // In the browser: each page loaded anew, five times.
    for (label, path, extra, _) in &pages {
        if !extra.is_empty() {
            continue;
        }
        let (mut server, mut paint) = (Vec::new(), Vec::new());
        let mut complete = Vec::new();
        for _ in 0..5 {
            b.goto(&format!("{base}{path}")).await.unwrap();
            let (s, p) = browser::load_times(&b).await;
            assert!(p >= 0.0, "{label}: no first contentful paint");
            server.push(s);
            paint.push(p);
            // The access history arrives after the page: the time from
            // the navigation's start until the timeline is in the page.
            if path.contains("/access") {
                let ms: serde_json::Value = b
                    .execute_async(
                        "const done = arguments[arguments.length - 1];
                         const check = () => document.querySelector('svg.timeline')
                           ? done(performance.now()) : setTimeout(check, 5);
                         check();",
                        vec![],
                    )
                    .await
                    .unwrap();
                complete.push(ms.as_f64().unwrap());
            }
        }
        figures(&format!("{label}_browser_server"), server);
        figures(&format!("{label}_browser_paint"), paint);
        if !complete.is_empty() {
            figures(&format!("{label}_browser_timeline"), complete);
        }
    }
    b.close().await.unwrap();
}
