//! The stable `iamd` commands, run as the real binary.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use iam_event_store::testing::TestDatabase;
use iam_event_store::{ExpectedVersion, NewEvent};
use serde_json::json;
use sqlx::{Connection, Executor};

mod support;

/// The `iamd` binary under test: `IAMD_TEST_BIN` when set (a target dir
/// shared by several checkouts has one `target/debug/iamd`, which another
/// checkout's build may replace while these tests run), else Cargo's.
fn iamd_bin() -> String {
    std::env::var("IAMD_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_iamd").to_owned())
}

fn iamd(args: &[&str]) -> Output {
    Command::new(crate::iamd_bin())
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run iamd")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

async fn seed(url: &str, n: u64) {
    let store = iam_event_store::open(url).await.unwrap();
    let events = (0..n)
        .map(|i| NewEvent::new("UserCreated", 1, json!({"user": format!("u{i}")})))
        .collect();
    store
        .append("account-123456789012", ExpectedVersion::NoStream, events)
        .await
        .unwrap();
}

async fn migrate_and_verify(db: TestDatabase) {
    let first = iamd(&["migrate", "--database-url", db.url()]);
    assert!(first.status.success(), "{first:?}");
    let second = iamd(&["migrate", "--database-url", db.url()]);
    assert!(
        second.status.success(),
        "migrating twice is harmless: {second:?}"
    );

    let empty = iamd(&["verify", "--database-url", db.url()]);
    assert_eq!(empty.status.code(), Some(0));
    assert_eq!(
        stdout(&empty),
        format!("ok: 0 events, head {}\n", "0".repeat(64))
    );

    seed(db.url(), 5).await;
    let ok = iamd(&["verify", "--database-url", db.url()]);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    let store = iam_event_store::open(db.url()).await.unwrap();
    let head = store.head().await.unwrap();
    assert_eq!(stdout(&ok), format!("ok: 5 events, head {}\n", head.hash));
}

#[tokio::test]
async fn migrate_and_verify_on_postgres() {
    migrate_and_verify(TestDatabase::postgres().await).await;
}

#[tokio::test]
async fn migrate_and_verify_on_sqlite() {
    migrate_and_verify(TestDatabase::sqlite().await).await;
}

#[tokio::test]
async fn verify_names_the_first_tampered_position_and_exits_1() {
    let db = TestDatabase::postgres().await;
    seed(db.url(), 4).await;
    let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
    conn.execute("SET session_replication_role = replica")
        .await
        .unwrap();
    conn.execute("UPDATE events SET payload = '{\"user\": \"mallory\"}' WHERE position = 3")
        .await
        .unwrap();
    let out = iamd(&["verify", "--database-url", db.url()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stdout(&out).starts_with("broken at position 3:"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn database_url_falls_back_to_the_environment() {
    let dir = std::env::temp_dir().join(format!("iamd-cli-{}", std::process::id()));
    let url = format!("sqlite://{}/env.db", dir.display());
    let out = Command::new(crate::iamd_bin())
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(dir.join("env.db").exists());
    let _ = std::fs::remove_dir_all(dir);
}

/// Every command defaults to the server's data directory (`./iam-data`,
/// `--data-dir`), and `sqlite://DIR` naming a directory means the
/// `events.db` inside it.
#[test]
fn commands_default_to_the_servers_data_directory() {
    let work = std::env::temp_dir().join(format!("iamd-cli-dd-{}", uuid::Uuid::new_v4().simple()));
    let data = work.join("iam-data");
    std::fs::create_dir_all(&data).unwrap();
    let run = |args: &[&str]| {
        Command::new(crate::iamd_bin())
            .args(args)
            .current_dir(&work)
            .env_remove("DATABASE_URL")
            .env_remove("IAMD_MASTER_KEY")
            .output()
            .unwrap()
    };
    let migrated = run(&["migrate"]);
    assert!(migrated.status.success(), "{migrated:?}");
    assert!(
        data.join("events.db").exists(),
        "migrate used ./iam-data/events.db"
    );
    for args in [
        vec!["verify"],
        vec!["verify", "--data-dir", data.to_str().unwrap()],
        vec!["verify", "--database-url", "sqlite://./iam-data"],
    ] {
        let out = run(&args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        assert!(
            stdout(&out).starts_with("ok: 0 events"),
            "{args:?}: {out:?}"
        );
    }
    let _ = std::fs::remove_dir_all(work);
}

#[test]
fn an_unreachable_database_is_a_clear_error_not_a_panic() {
    let out = iamd(&[
        "verify",
        "--database-url",
        "postgres://iamd:hunter2@127.0.0.1:1/iam",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("127.0.0.1:1/iam") && !err.contains("hunter2") && !err.contains("panicked"),
        "{err}"
    );
    // The real cause, said once, rather than the pool's timeout.
    let lower = err.to_lowercase();
    assert_eq!(lower.matches("connection refused").count(), 1, "{err}");
    assert!(!lower.contains("timed out"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // A password in the query string is hidden too.
    let out = iamd(&[
        "verify",
        "--database-url",
        "postgres://iamd@127.0.0.1:1/iam?sslmode=disable&password=hunter3",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("127.0.0.1:1/iam") && err.contains("password=***") && !err.contains("hunter3"),
        "{err}"
    );
    let out = iamd(&["migrate", "--database-url", "mysql://x/y"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}

#[test]
fn eval_reads_stdin_and_prints_json() {
    let scenario = json!({
        "request": {"principal": "arn:aws:iam::123456789012:user/alice", "action": "s3:GetObject",
                    "resource": "arn:aws:s3:::bucket/key"},
        "identity_policies": [{"Version": "2012-10-17",
            "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}]
    });
    let mut child = Command::new(crate::iamd_bin())
        .args(["eval", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scenario.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["decision"], "Allow");
    assert_eq!(result["matched"][0]["sid"], "Read");
}

#[test]
fn eval_with_unreadable_input_exits_2() {
    let out = iamd(&["eval", "/nonexistent/scenario.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
    let mut child = Command::new(crate::iamd_bin())
        .args(["eval", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"{not json").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not JSON"));
}

mod replay {
    use super::*;
    use chrono::{TimeZone, Utc};
    use iam_domain::ids::{AccountId, GroupId, UserId};
    use iam_domain::metadata::{Actor, EventMetadata};
    use iam_domain::names::{GroupName, UserName};
    use iam_domain::Command;
    use iam_projection::{Projection, ProjectionConfig};

    pub(super) fn meta() -> EventMetadata {
        EventMetadata {
            actor: Actor {
                principal_arn: "arn:aws:iam::123456789012:root".into(),
                principal_id: None,
                access_key_id: None,
                session_name: None,
            },
            request_id: "r".into(),
            source_ip: None,
            user_agent: None,
            correlation_id: None,
            causation_id: None,
            action: None,
            target: None,
        }
    }

    #[tokio::test]
    async fn replay_prints_the_view_as_of_a_position_or_time() {
        let db = TestDatabase::postgres().await;
        let store = iam_event_store::open(db.url()).await.unwrap();
        let p = Projection::new(store.clone(), ProjectionConfig::default());
        let account = AccountId::parse("123456789012").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap();
        let mut positions = Vec::new();
        for c in [
            Command::CreateAccount {
                account_id: account.clone(),
                now,
            },
            Command::CreateUser {
                user_name: UserName::parse("alice").unwrap(),
                path: None,
                user_id: UserId::parse("AIDA0000000000000001").unwrap(),
                permissions_boundary: None,
                tags: vec![],
                now,
            },
            Command::CreateGroup {
                group_name: GroupName::parse("devs").unwrap(),
                path: None,
                group_id: GroupId::parse("AGPA0000000000000001").unwrap(),
                now,
            },
            Command::AddUserToGroup {
                group_name: GroupName::parse("devs").unwrap(),
                user_name: UserName::parse("alice").unwrap(),
            },
        ] {
            positions.push(p.execute(&account, &c, &meta()).await.unwrap().position);
        }

        let at = |args: &[&str]| {
            let mut all = vec![
                "replay",
                "--database-url",
                db.url(),
                "--account",
                "123456789012",
            ];
            all.extend_from_slice(args);
            let out = iamd(&all);
            assert!(out.status.success(), "{out:?}");
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
        };
        let before_membership = at(&["--position", &positions[2].0.to_string()]);
        assert_eq!(before_membership["users"][0]["user_name"], "alice");
        assert_eq!(
            before_membership["users"][0]["groups"],
            serde_json::json!([])
        );
        assert_eq!(before_membership["groups"][0]["group_name"], "devs");
        let now_view = at(&["--position", &positions[3].0.to_string()]);
        assert_eq!(now_view["users"][0]["groups"], serde_json::json!(["devs"]));
        assert_eq!(now_view["position"], positions[3].0);

        // By time: just after the last event is the whole history; long before, nothing.
        let last = store
            .read_all(iam_event_store::Position(positions[3].0 - 1), 1)
            .await
            .unwrap()[0]
            .recorded_at;
        let by_time = at(&["--as-of", &last.to_rfc3339()]);
        assert_eq!(by_time["users"][0]["groups"], serde_json::json!(["devs"]));

        // Before the account existed, for an account that never did, or
        // past the head: an error naming what is missing, exit 1.
        let refused = |args: &[&str], account: &str, needle: &str| {
            let mut all = vec!["replay", "--database-url", db.url(), "--account", account];
            all.extend_from_slice(args);
            let out = iamd(&all);
            assert_eq!(out.status.code(), Some(1), "{out:?}");
            assert!(out.stdout.is_empty(), "{out:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(needle), "{err}");
        };
        refused(
            &["--as-of", "2000-01-01T00:00:00Z"],
            "123456789012",
            "account 123456789012 does not exist as of 2000-01-01T00:00:00+00:00",
        );
        refused(
            &["--position", &positions[3].0.to_string()],
            "999999999999",
            "account 999999999999 does not exist at log position",
        );
        let past = (positions[3].0 + 10).to_string();
        refused(
            &["--position", &past],
            "123456789012",
            &format!(
                "position {past} is past the log's head ({})",
                positions[3].0
            ),
        );

        // Exactly one of --as-of and --position; a bad account id is a clear error.
        let neither = iamd(&[
            "replay",
            "--database-url",
            db.url(),
            "--account",
            "123456789012",
        ]);
        assert_eq!(neither.status.code(), Some(2));
        let bad = iamd(&[
            "replay",
            "--database-url",
            db.url(),
            "--account",
            "12",
            "--position",
            "1",
        ]);
        assert_eq!(bad.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("--account"));
    }
}

#[test]
fn verify_never_creates_a_missing_sqlite_database() {
    let dir = std::env::temp_dir().join(format!("iamd-missing-{}", std::process::id()));
    let path = dir.join("nothing.db");
    let out = iamd(&[
        "verify",
        "--database-url",
        &format!("sqlite://{}", path.display()),
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing.db"));
    assert!(!path.exists(), "verify created {}", path.display());
}

/// `iamd serve` as operators run it: first start generates the root
/// credentials and master key as 0600 files, SIGTERM stops it cleanly, and a
/// restart reuses both (the same root key still signs in).
mod serve {
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Command, Stdio};
    use std::sync::mpsc;
    use std::time::Duration;

    use iam_event_store::testing::TestDatabase;

    use crate::support;

    /// A running `iamd serve` and the lines it prints.
    pub(super) struct Served {
        child: Child,
        lines: mpsc::Receiver<String>,
        seen: Vec<String>,
    }

    impl Served {
        pub(super) fn start(db: &TestDatabase, data_dir: &std::path::Path) -> Served {
            Served::start_with(Some(db.url()), data_dir, &[])
        }

        /// `iamd serve` on `url` (the data dir's SQLite database when
        /// `None`) with extra environment variables; its standard output
        /// and error both land in `lines`.
        pub(super) fn start_with(
            url: Option<&str>,
            data_dir: &std::path::Path,
            env: &[(&str, &str)],
        ) -> Served {
            let mut child = serve_command(url, data_dir, env)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start iamd serve");
            let (tx, lines) = mpsc::channel();
            let stdout = child.stdout.take().unwrap();
            let stderr = child.stderr.take().unwrap();
            let err_tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    eprintln!("{line}");
                    if err_tx.send(line).is_err() {
                        break;
                    }
                }
            });
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            Served {
                child,
                lines,
                seen: Vec::new(),
            }
        }

        /// Waits (at most 30 s) for a printed line containing `needle`.
        pub(super) fn wait_for(&mut self, needle: &str) -> String {
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            loop {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                match self.lines.recv_timeout(left) {
                    Ok(line) => {
                        self.seen.push(line.clone());
                        if line.contains(needle) {
                            return line;
                        }
                    }
                    Err(_) => {
                        let _ = self.child.kill();
                        panic!("iamd never printed {needle:?}; it printed {:#?}", self.seen)
                    }
                }
            }
        }

        pub(super) fn address(&mut self) -> std::net::SocketAddr {
            let line = self.wait_for("iamd listening");
            assert!(
                !line.contains('\u{1b}'),
                "no colour codes in piped logs: {line:?}"
            );
            let addr = line.split("address=").nth(1).expect("an address field");
            addr.trim().parse().expect("a socket address")
        }

        /// Sends SIGTERM and waits (at most 30 s) for a clean exit.
        pub(super) fn terminate(mut self) -> Vec<String> {
            let pid = self.child.id().to_string();
            let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
            assert!(killed.success());
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            let status = loop {
                if let Some(status) = self.child.try_wait().unwrap() {
                    break status;
                }
                if std::time::Instant::now() > deadline {
                    let _ = self.child.kill();
                    panic!("iamd did not stop within 30 s of SIGTERM");
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            assert!(status.success(), "{status:?}");
            self.seen.extend(self.lines.try_iter());
            self.seen
        }
    }

    pub(super) fn serve_command(
        url: Option<&str>,
        data_dir: &std::path::Path,
        env: &[(&str, &str)],
    ) -> Command {
        let mut command = Command::new(crate::iamd_bin());
        command.args(["serve", "--listen", "127.0.0.1:0"]);
        if let Some(url) = url {
            command.args(["--database-url", url]);
        }
        command
            .arg("--data-dir")
            .arg(data_dir)
            .env_remove("DATABASE_URL")
            .env_remove("IAMD_ROOT_ACCESS_KEY_ID")
            .env_remove("IAMD_ROOT_SECRET_ACCESS_KEY")
            .env_remove("IAMD_MASTER_KEY")
            .env("RUST_LOG", "info");
        for (name, value) in env {
            command.env(name, value);
        }
        command
    }

    /// Runs `iamd serve` expecting it to refuse to start: its exit status
    /// and everything it printed (killed after 30 s if it serves instead).
    pub(super) fn refused(
        url: &str,
        data_dir: &std::path::Path,
        env: &[(&str, &str)],
    ) -> (i32, String) {
        let mut child = serve_command(Some(url), data_dir, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("iamd started instead of refusing");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    pub(super) fn mode(path: &std::path::Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    pub(super) fn root_key(data_dir: &std::path::Path) -> (String, String) {
        let text = std::fs::read_to_string(data_dir.join("root-credentials")).unwrap();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap_or_else(|| panic!("{name} in {text}"))
                .trim()
                .to_owned()
        };
        (
            field("aws_access_key_id = "),
            field("aws_secret_access_key = "),
        )
    }

    async fn list_users(addr: std::net::SocketAddr, key: &str, secret: &str) -> support::Reply {
        let client = support::Client {
            addr,
            key: key.into(),
            secret: secret.into(),
            skew: chrono::Duration::zero(),
            token: None,
        };
        client.call("ListUsers", &[]).await
    }

    #[tokio::test]
    async fn first_start_generates_private_secrets_and_sigterm_stops_it() {
        let db = TestDatabase::postgres().await;
        let data_dir =
            std::env::temp_dir().join(format!("iamd-serve-{}", uuid::Uuid::new_v4().simple()));

        let mut first = Served::start(&db, &data_dir);
        first.wait_for("generated root credentials");
        let addr = first.address();
        let credentials = data_dir.join("root-credentials");
        let master_key = data_dir.join("master.key");
        assert_eq!(mode(&credentials), 0o600);
        assert_eq!(mode(&master_key), 0o600);
        let key_hex = std::fs::read_to_string(&master_key).unwrap();
        assert_eq!(key_hex.trim().len(), 64, "a 256-bit key in hex");
        let (key, secret) = root_key(&data_dir);
        assert!(key.starts_with("AKIA"), "{key}");
        assert_eq!(secret.len(), 40);

        let reply = list_users(addr, &key, &secret).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let wrong = list_users(addr, &key, &"x".repeat(40)).await;
        assert_eq!(wrong.error_code().as_deref(), Some("SignatureDoesNotMatch"));
        let printed = first.terminate();
        assert!(
            printed.iter().any(|l| l.contains("iamd stopped")),
            "{printed:#?}"
        );
        // The secrets stay in their files: nothing printed shows them.
        assert!(
            printed
                .iter()
                .any(|l| l.contains(&credentials.display().to_string())),
            "the path is printed: {printed:#?}"
        );
        assert!(
            !printed
                .iter()
                .any(|l| l.contains(&secret) || l.contains(key_hex.trim())),
            "{printed:#?}"
        );

        // A restart reuses the files: nothing is generated, the key works.
        let mut second = Served::start(&db, &data_dir);
        let addr = second.address();
        assert_eq!(std::fs::read_to_string(&master_key).unwrap(), key_hex);
        assert_eq!(root_key(&data_dir), (key.clone(), secret.clone()));
        let reply = list_users(addr, &key, &secret).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let printed = second.terminate();
        assert!(
            !printed
                .iter()
                .any(|l| l.contains("generated root credentials")),
            "{printed:#?}"
        );
        std::fs::remove_dir_all(&data_dir).unwrap();
    }
}

/// The database remembers which master key sealed it: a node with another
/// key, or without its key file, refuses to start and says why, instead of
/// serving with secrets it cannot open (or generating a new key).
/// `iamd serve --log-format json`: one JSON object a line, and every line
/// logged while a request is served carries the request id the caller got.
#[test]
fn json_logs_carry_the_callers_request_id() {
    use std::io::{BufRead, BufReader, Read, Write};
    let data_dir =
        std::env::temp_dir().join(format!("iamd-json-logs-{}", uuid::Uuid::new_v4().simple()));
    let mut child = serve::serve_command(None, &data_dir, &[])
        .args(["--log-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next_json = || -> serde_json::Value {
        let line = lines.next().expect("a log line").unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    };
    let addr: std::net::SocketAddr = loop {
        let line = next_json();
        if line["fields"]["message"] == "iamd listening" {
            break line["fields"]["address"].as_str().unwrap().parse().unwrap();
        }
    };
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let body = "Action=GetUser&Version=2010-05-08";
    write!(
        stream,
        "POST / HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let id = reply
        .lines()
        .find_map(|l| l.strip_prefix("x-amzn-requestid: "))
        .expect("a request id")
        .trim()
        .to_owned();
    let logged = loop {
        let line = next_json();
        if line["fields"]["message"] == "authentication failed" {
            break line;
        }
    };
    assert_eq!(logged["span"]["request_id"], id, "{logged}");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&data_dir);
}

mod master_key {
    use super::serve::*;
    use iam_event_store::testing::TestDatabase;
    use std::process::Command;

    #[tokio::test]
    async fn another_or_a_missing_master_key_is_refused_at_start() {
        let db = TestDatabase::postgres().await;
        let data_dir =
            std::env::temp_dir().join(format!("iamd-key-{}", uuid::Uuid::new_v4().simple()));
        let mut first = Served::start(&db, &data_dir);
        first.address();
        first.terminate();
        let key_file = data_dir.join("master.key");
        let key_hex = std::fs::read_to_string(&key_file).unwrap();

        let other = "ab".repeat(32);
        let (code, printed) = refused(db.url(), &data_dir, &[("IAMD_MASTER_KEY", &other)]);
        assert_ne!(code, 0, "{printed}");
        assert!(
            printed.contains(
                "the master key does not match the one this database was sealed with; restore"
            ) && printed.contains("master.key or set IAMD_MASTER_KEY"),
            "{printed}"
        );

        std::fs::remove_file(&key_file).unwrap();
        let (code, printed) = refused(db.url(), &data_dir, &[]);
        assert_ne!(code, 0, "{printed}");
        assert!(
            printed.contains("master.key is missing, but this database was sealed"),
            "{printed}"
        );
        assert!(!key_file.exists(), "no new key was generated");

        // With the key back, it starts again.
        std::fs::write(&key_file, &key_hex).unwrap();
        let mut again = Served::start(&db, &data_dir);
        again.address();
        again.terminate();
        std::fs::remove_dir_all(&data_dir).unwrap();
    }

    /// A data directory serves the account it was created with: another
    /// `--account-id` is refused (and creates nothing) unless
    /// `--add-account` asks for a second account.
    #[tokio::test]
    async fn another_account_id_on_an_existing_log_needs_add_account() {
        use std::io::{BufRead, BufReader};
        use std::process::Stdio;
        let data_dir =
            std::env::temp_dir().join(format!("iamd-acct-{}", uuid::Uuid::new_v4().simple()));
        let mut first = Served::start_with(None, &data_dir, &[]);
        first.address();
        let printed = first.terminate();
        for needle in [
            "account=123456789012",
            "database=sqlite://",
            "stop with Ctrl-C or SIGTERM",
        ] {
            assert!(
                printed.iter().any(|l| l.contains(needle)),
                "first start logs {needle:?}: {printed:#?}"
            );
        }
        let run = |extra: &[&str]| {
            let mut cmd = Command::new(crate::iamd_bin());
            cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
                .arg(&data_dir)
                .args(["--account-id", "210987654321"])
                .args(extra)
                .env_remove("DATABASE_URL")
                .env_remove("IAMD_MASTER_KEY");
            cmd
        };
        let refused = run(&[]).output().unwrap();
        assert_ne!(refused.status.code(), Some(0), "{refused:?}");
        let err = format!(
            "{}{}",
            String::from_utf8_lossy(&refused.stdout),
            String::from_utf8_lossy(&refused.stderr)
        );
        assert!(
            err.contains("already holds account 123456789012") && err.contains("--add-account"),
            "{err}"
        );
        let replay = Command::new(crate::iamd_bin())
            .args([
                "replay",
                "--account",
                "210987654321",
                "--position",
                "1",
                "--data-dir",
            ])
            .arg(&data_dir)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert_eq!(
            replay.status.code(),
            Some(1),
            "nothing was created: {replay:?}"
        );
        // Asked for, the second account is created.
        let mut added = run(&["--add-account"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = added.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        assert!(
            lines.any(|l| l.contains("iamd listening")),
            "with --add-account it starts"
        );
        let _ = added.kill();
        let _ = added.wait();
        std::fs::remove_dir_all(&data_dir).unwrap();
    }

    /// The embedded default: the SQLite database is private (0600) like the
    /// key files, and nothing printed shows a secret.
    #[tokio::test]
    async fn the_default_sqlite_database_is_private() {
        let data_dir =
            std::env::temp_dir().join(format!("iamd-sqlite-{}", uuid::Uuid::new_v4().simple()));
        let mut served = Served::start_with(None, &data_dir, &[]);
        served.address();
        let printed = served.terminate();
        let events = data_dir.join("events.db");
        assert_eq!(mode(&events), 0o600);
        for side in ["events.db-wal", "events.db-shm"] {
            let path = data_dir.join(side);
            if path.exists() {
                assert_eq!(mode(&path), 0o600, "{side}");
            }
        }
        let (_, secret) = root_key(&data_dir);
        let key_hex = std::fs::read_to_string(data_dir.join("master.key")).unwrap();
        assert!(
            !printed
                .iter()
                .any(|l| l.contains(&secret) || l.contains(key_hex.trim())),
            "{printed:#?}"
        );
        // `iamd verify` finds the same database (and keys) from the data dir.
        let verified = Command::new(crate::iamd_bin())
            .arg("verify")
            .arg("--data-dir")
            .arg(&data_dir)
            .env_remove("DATABASE_URL")
            .env_remove("IAMD_MASTER_KEY")
            .output()
            .unwrap();
        assert_eq!(verified.status.code(), Some(0), "{verified:?}");
        let out = String::from_utf8_lossy(&verified.stdout);
        assert!(out.starts_with("ok: 1 events"), "{out}");
        assert!(out.contains("signed digests match the log"), "{out}");
        std::fs::remove_dir_all(&data_dir).unwrap();
    }
}

/// Signed digests anchor the log outside the database: `iamd verify`
/// checks them, and names where a tail rewritten with a recomputed hash
/// chain starts.
mod digests {
    use super::serve::*;
    use super::*;
    use crate::support;
    use iam_event_store::{HashInput, Position};

    async fn digest_positions(url: &str) -> Vec<u64> {
        let store = iam_event_store::open(url).await.unwrap();
        store
            .list_snapshots()
            .await
            .unwrap()
            .into_iter()
            .filter(|(name, _, _)| name == iam_api::integrity::DIGEST)
            .map(|(_, position, _)| position.0)
            .collect()
    }

    fn verify(url: &str, data_dir: &std::path::Path) -> Output {
        Command::new(crate::iamd_bin())
            .args(["verify", "--database-url", url])
            .arg("--data-dir")
            .arg(data_dir)
            .env_remove("DATABASE_URL")
            .env_remove("IAMD_MASTER_KEY")
            .output()
            .unwrap()
    }

    #[tokio::test]
    async fn verify_checks_digests_and_names_a_rewritten_tail() {
        let db = TestDatabase::postgres().await;
        let data_dir =
            std::env::temp_dir().join(format!("iamd-digest-{}", uuid::Uuid::new_v4().simple()));
        let mut served = Served::start_with(
            Some(db.url()),
            &data_dir,
            &[("IAMD_DIGEST_EVERY_EVENTS", "1")],
        );
        let addr = served.address();
        let (key, secret) = root_key(&data_dir);
        let root = support::Client {
            addr,
            key,
            secret,
            skew: chrono::Duration::zero(),
            token: None,
        };
        for name in ["alice", "bob", "carol"] {
            root.ok("CreateUser", &[("UserName", name)]).await;
            // The signer looks once a second.
            tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
        }
        served.terminate();
        assert!(data_dir.join("digest.pub").exists());
        let digests = digest_positions(db.url()).await;
        assert!(digests.len() >= 2, "{digests:?}");

        // Untampered: ok, with the digests checked (only the public key in
        // the data dir is needed).
        std::fs::remove_file(data_dir.join("master.key")).unwrap();
        let ok = verify(db.url(), &data_dir);
        assert_eq!(ok.status.code(), Some(0), "{ok:?}");
        let out = stdout(&ok);
        assert!(out.starts_with("ok: "), "{out}");
        assert!(
            out.contains(&format!(
                "signed digests match the log; the newest covers positions up to {}",
                digests.last().unwrap()
            )),
            "{out}"
        );

        // Events appended without a digest: still ok, but said honestly.
        seed_more(db.url()).await;
        let ok = verify(db.url(), &data_dir);
        assert_eq!(ok.status.code(), Some(0), "{ok:?}");
        assert!(
            String::from_utf8_lossy(&ok.stderr).contains(&format!(
                "no digest covers positions after {}",
                digests.last().unwrap()
            )),
            "{ok:?}"
        );

        // Rewrite the tail from the newest digest's position on, recomputing
        // the hash chain and the head, as a superuser with triggers off.
        let target = *digests.last().unwrap();
        let before = digests[digests.len() - 2];
        let store = iam_event_store::open(db.url()).await.unwrap();
        let mut events = store.read_all(Position(target - 2), 100_000).await.unwrap();
        let mut previous = events[0].hash;
        let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
        conn.execute("SET session_replication_role = replica")
            .await
            .unwrap();
        for event in events.iter_mut().skip(1) {
            if event.position.0 == target {
                event.payload = json!({"tampered": true});
            }
            event.hash = HashInput::from(&*event).chain(&previous);
            previous = event.hash;
            sqlx::query("UPDATE events SET payload = $1::json, hash = $2 WHERE position = $3")
                .bind(iam_event_store::to_canonical_string(&event.payload))
                .bind(event.hash.0.to_vec())
                .bind(event.position.0 as i64)
                .execute(&mut conn)
                .await
                .unwrap();
        }
        sqlx::query("UPDATE event_log_head SET hash = $1")
            .bind(previous.0.to_vec())
            .execute(&mut conn)
            .await
            .unwrap();
        // The chain alone no longer notices.
        assert!(matches!(
            iam_event_store::verify(store.as_ref()).await.unwrap(),
            iam_event_store::Verification::Intact { .. }
        ));
        let broken = verify(db.url(), &data_dir);
        assert_eq!(broken.status.code(), Some(1), "{broken:?}");
        assert!(
            stdout(&broken).starts_with(&format!(
                "broken at position {}: the log was rewritten after position {before}",
                before + 1
            )),
            "{}",
            stdout(&broken)
        );
        assert!(stdout(&broken).contains(&format!("digest for position {target}")));
        std::fs::remove_dir_all(&data_dir).unwrap();
    }

    async fn seed_more(url: &str) {
        let store = iam_event_store::open(url).await.unwrap();
        store
            .append(
                "other-stream",
                ExpectedVersion::Any,
                vec![NewEvent::new("Noise", 1, json!({"n": 1}))],
            )
            .await
            .unwrap();
    }

    /// A snapshot row changed in the database fails its MAC, and verify
    /// (given the master key) names it.
    #[tokio::test]
    async fn verify_reports_a_tampered_snapshot() {
        use iam_domain::ids::AccountId;
        use iam_domain::secrets::MasterKey;
        use iam_projection::{snapshot, Projection, ProjectionConfig};

        let db = TestDatabase::postgres().await;
        let store = iam_event_store::open(db.url()).await.unwrap();
        let master = MasterKey::from_bytes([3; 32]);
        let account = AccountId::parse("123456789012").unwrap();
        let projection = Projection::new(
            store.clone(),
            ProjectionConfig {
                snapshot_every: 1,
                snapshot_key: iam_api::integrity::snapshot_key(&master),
                ..ProjectionConfig::default()
            },
        );
        let meta = super::replay::meta();
        projection
            .execute(
                &account,
                &iam_domain::Command::CreateAccount {
                    account_id: account.clone(),
                    now: chrono::Utc::now(),
                },
                &meta,
            )
            .await
            .unwrap();
        let name = snapshot::name(&account);
        let mut saved = None;
        for _ in 0..200 {
            saved = store.load_snapshot(&name, Position(1)).await.unwrap();
            if saved.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        saved.expect("a snapshot");
        let run = || {
            Command::new(crate::iamd_bin())
                .args(["verify", "--database-url", db.url()])
                .env_remove("DATABASE_URL")
                .env("IAMD_MASTER_KEY", "03".repeat(32))
                .output()
                .unwrap()
        };
        let ok = run();
        assert_eq!(ok.status.code(), Some(0), "{ok:?}");
        assert!(
            stdout(&ok).contains("ok: 1 snapshots authenticated"),
            "{ok:?}"
        );

        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        sqlx::query(
            "UPDATE snapshots SET data = set_byte(data, length(data) - 1, get_byte(data, length(data) - 1) # 1) \
             WHERE name = $1",
        )
        .bind(&name)
        .execute(&pool)
        .await
        .unwrap();
        let bad = run();
        assert_eq!(bad.status.code(), Some(1), "{bad:?}");
        assert!(
            stdout(&bad).contains(&format!(
                "bad snapshot {name} at position 1: its MAC does not match"
            )),
            "{}",
            stdout(&bad)
        );
    }
}
