//! The stable `iamd` commands, run as the real binary.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use iam_event_store::testing::TestDatabase;
use iam_event_store::{ExpectedVersion, NewEvent};
use serde_json::json;
use sqlx::{Connection, Executor};

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
    store.append("account-123456789012", ExpectedVersion::NoStream, events).await.unwrap();
}

async fn migrate_and_verify(db: TestDatabase) {
    let first = iamd(&["migrate", "--database-url", db.url()]);
    assert!(first.status.success(), "{first:?}");
    let second = iamd(&["migrate", "--database-url", db.url()]);
    assert!(second.status.success(), "migrating twice is harmless: {second:?}");

    let empty = iamd(&["verify", "--database-url", db.url()]);
    assert_eq!(empty.status.code(), Some(0));
    assert_eq!(stdout(&empty), format!("ok: 0 events, head {}\n", "0".repeat(64)));

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
    conn.execute("SET session_replication_role = replica").await.unwrap();
    conn.execute("UPDATE events SET payload = '{\"user\": \"mallory\"}' WHERE position = 3")
        .await
        .unwrap();
    let out = iamd(&["verify", "--database-url", db.url()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stdout(&out).starts_with("broken at position 3:"), "{}", stdout(&out));
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
    let out = iamd(&["verify", "--database-url", "postgres://iamd:hunter2@127.0.0.1:1/iam"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("127.0.0.1:1/iam") && !err.contains("hunter2") && !err.contains("panicked"), "{err}");
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
    child.stdin.take().unwrap().write_all(scenario.to_string().as_bytes()).unwrap();
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
