//! Fresh databases for tests (feature `testing`).
//!
//! Every test gets its own database: on PostgreSQL a new database named
//! `iamd_test_<uuid>` created through `DATABASE_URL` (dropped when the handle
//! is dropped), on SQLite a new file in a temporary directory. Tests never
//! share state and never skip: without `DATABASE_URL` a PostgreSQL test
//! fails and says how to run it (`cargo xtask test` provides one).

use std::path::PathBuf;

use sqlx::{Connection, Executor, PgConnection};

/// A database that exists for one test.
pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Postgres { admin_url: String, name: String },
    Sqlite { dir: PathBuf },
}

/// The PostgreSQL server tests run against.
pub fn postgres_admin_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => url,
        _ => panic!(
            "PostgreSQL tests need DATABASE_URL=postgres://... pointing at a server where databases \
             can be created; run them with `cargo xtask test`, which provides one"
        ),
    }
}

impl TestDatabase {
    /// A new, empty PostgreSQL database (not migrated).
    pub async fn postgres() -> TestDatabase {
        let admin_url = postgres_admin_url();
        let name = format!("iamd_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", crate::redact_url(&admin_url)));
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let mut url = url::Url::parse(&admin_url).expect("DATABASE_URL is a URL");
        url.set_path(&name);
        TestDatabase {
            url: url.to_string(),
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }

    /// A new SQLite database file in its own temporary directory.
    pub async fn sqlite() -> TestDatabase {
        let dir = std::env::temp_dir().join(format!("iamd-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create temporary directory");
        TestDatabase {
            url: format!("sqlite://{}", dir.join("events.db").display()),
            cleanup: Cleanup::Sqlite { dir },
        }
    }

    /// A new database on the backend named by `IAMD_TEST_BACKEND`
    /// (`postgres`, the default, or `sqlite`): the server and SDK suites run
    /// once on each, since SQLite is what a user gets by default. Any other
    /// value fails the test rather than silently picking one.
    pub async fn for_server() -> TestDatabase {
        match std::env::var("IAMD_TEST_BACKEND").as_deref() {
            Err(_) | Ok("postgres") => TestDatabase::postgres().await,
            Ok("sqlite") => TestDatabase::sqlite().await,
            Ok(other) => panic!("IAMD_TEST_BACKEND must be postgres or sqlite, not {other:?}"),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                // Drop from a plain thread with its own runtime: Drop cannot
                // await, and the test's runtime may be shutting down.
                let admin_url = admin_url.clone();
                let name = name.clone();
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async {
                        if let Ok(mut conn) = PgConnection::connect(&admin_url).await {
                            let _ = conn
                                .execute(
                                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                                )
                                .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}
