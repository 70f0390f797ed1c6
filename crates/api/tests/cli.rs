//! The stable `iamd` commands, run as the real binary.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use iam_event_store::testing::TestDatabase;
use iam_event_store::{ExpectedVersion, NewEvent};
use serde_json::json;
use sqlx::{Connection, Executor};

mod support;

fn iamd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iamd"))
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
    let out = Command::new(env!("CARGO_BIN_EXE_iamd"))
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(dir.join("env.db").exists());
    let _ = std::fs::remove_dir_all(dir);
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamd"))
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamd"))
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

    fn meta() -> EventMetadata {
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
    struct Served {
        child: Child,
        lines: mpsc::Receiver<String>,
        seen: Vec<String>,
    }

    impl Served {
        fn start(db: &TestDatabase, data_dir: &std::path::Path) -> Served {
            let mut child = Command::new(env!("CARGO_BIN_EXE_iamd"))
                .args([
                    "serve",
                    "--listen",
                    "127.0.0.1:0",
                    "--database-url",
                    db.url(),
                ])
                .arg("--data-dir")
                .arg(data_dir)
                .env_remove("DATABASE_URL")
                .env_remove("IAMD_ROOT_ACCESS_KEY_ID")
                .env_remove("IAMD_ROOT_SECRET_ACCESS_KEY")
                .env_remove("IAMD_MASTER_KEY")
                .env("RUST_LOG", "info")
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start iamd serve");
            let stdout = child.stdout.take().unwrap();
            let (tx, lines) = mpsc::channel();
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
        fn wait_for(&mut self, needle: &str) -> String {
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

        fn address(&mut self) -> std::net::SocketAddr {
            let line = self.wait_for("iamd listening");
            assert!(
                !line.contains('\u{1b}'),
                "no colour codes in piped logs: {line:?}"
            );
            let addr = line.split("address=").nth(1).expect("an address field");
            addr.trim().parse().expect("a socket address")
        }

        /// Sends SIGTERM and waits (at most 30 s) for a clean exit.
        fn terminate(mut self) -> Vec<String> {
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

    fn mode(path: &std::path::Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn root_key(data_dir: &std::path::Path) -> (String, String) {
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
