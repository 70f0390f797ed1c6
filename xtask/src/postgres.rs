//! Finding a PostgreSQL server for tests and benchmarks, in this order:
//! 1. `DATABASE_URL`, if set;
//! 2. the local PostgreSQL binaries (`initdb`, `pg_ctl` on PATH or under
//!    /usr/lib/postgresql/*/bin): a throwaway cluster in a temporary
//!    directory on a free port, run as the `postgres` user when we are root
//!    (initdb refuses root), removed afterwards;
//! 3. Docker through testcontainers (xtask re-runs itself with the `docker`
//!    feature, so the usual build doesn't compile it).
//!
//! If none works it fails and says how to get one; it never skips.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

pub struct Postgres {
    pub url: String,
    pub description: String,
    /// Where pgbench and psql live, when known.
    pub bin_dir: Option<PathBuf>,
    cluster: Option<Cluster>,
    #[cfg(feature = "docker")]
    _container: Option<
        testcontainers_modules::testcontainers::Container<
            testcontainers_modules::postgres::Postgres,
        >,
    >,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(cluster) = self.cluster.take() {
            cluster.stop();
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// fsync off: tests need speed, not durability.
    Tests,
    /// Durable settings, so figures mean something.
    Benchmarks,
}

pub fn acquire(purpose: Purpose) -> Result<Postgres> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        if url.starts_with("postgres") {
            return Ok(Postgres {
                description: format!("DATABASE_URL ({})", redact(&url)),
                url,
                bin_dir: find_bin_dir(),
                cluster: None,
                #[cfg(feature = "docker")]
                _container: None,
            });
        }
    }
    if let Some(bin_dir) = find_bin_dir() {
        return start_cluster(&bin_dir, purpose);
    }
    docker(purpose)
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].find(':') {
            Some(colon) => format!("{}:***{}", &url[..s + 3 + colon], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

fn find_bin_dir() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                // Follow links (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb)
                // so pgbench and psql are found beside the server binaries.
                return dir
                    .join("initdb")
                    .canonicalize()
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .or(Some(dir));
            }
        }
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    // The newest version first (directory names are major versions).
    candidates.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    candidates.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

struct Cluster {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    root_dir: PathBuf,
    as_postgres: bool,
}

impl Cluster {
    fn command(&self, program: &str) -> Command {
        let exe = self.bin_dir.join(program);
        if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(exe);
            cmd
        } else {
            Command::new(exe)
        }
    }

    fn stop(&self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D"])
            .arg(&self.data_dir)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.root_dir);
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(listener.local_addr()?.port())
}

fn start_cluster(bin_dir: &Path, purpose: Purpose) -> Result<Postgres> {
    let as_postgres = is_root();
    let root_dir =
        std::env::temp_dir().join(format!("iamd-pg-{}-{}", std::process::id(), free_port()?));
    let data_dir = root_dir.join("data");
    std::fs::create_dir_all(&root_dir)?;
    if as_postgres {
        status_quiet(
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&root_dir),
        )
        .context("cannot hand the temporary directory to the postgres user")?;
    }
    let cluster = Cluster {
        bin_dir: bin_dir.to_path_buf(),
        data_dir: data_dir.clone(),
        root_dir: root_dir.clone(),
        as_postgres,
    };
    let init = cluster
        .command("initdb")
        .arg("-D")
        .arg(&data_dir)
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
        .output()
        .context("cannot run initdb")?;
    if !init.status.success() {
        cluster.stop();
        bail!("initdb failed: {}", String::from_utf8_lossy(&init.stderr));
    }
    let port = free_port()?;
    let durability = match purpose {
        Purpose::Tests => "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        Purpose::Benchmarks => "",
    };
    let options = format!(
        "-p {port} -c listen_addresses=127.0.0.1 -k {} -c max_connections=300 {durability}",
        root_dir.display()
    );
    let log = root_dir.join("postgres.log");
    let start = cluster
        .command("pg_ctl")
        .arg("-D")
        .arg(&data_dir)
        .arg("-l")
        .arg(&log)
        .args(["-o", &options, "-w", "-t", "60", "start"])
        .output()
        .context("cannot run pg_ctl")?;
    if !start.status.success() {
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        cluster.stop();
        bail!(
            "pg_ctl start failed: {}\n{}",
            String::from_utf8_lossy(&start.stderr),
            log_text
        );
    }
    Ok(Postgres {
        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        description: format!(
            "throwaway cluster from {} on port {port} in {}{}",
            bin_dir.display(),
            root_dir.display(),
            if as_postgres {
                " (as user postgres)"
            } else {
                ""
            }
        ),
        bin_dir: Some(bin_dir.to_path_buf()),
        cluster: Some(cluster),
        #[cfg(feature = "docker")]
        _container: None,
    })
}

fn status_quiet(cmd: &mut Command) -> Result<()> {
    let out = cmd.output()?;
    if !out.status.success() {
        bail!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

const NO_POSTGRES: &str = "no PostgreSQL available for the tests. Any one of these works:\n  \
    - set DATABASE_URL=postgres://USER@HOST:PORT/DB (a server where databases can be created);\n  \
    - install PostgreSQL's server binaries (Debian: apt-get install postgresql), so initdb and pg_ctl exist;\n  \
    - run a Docker engine, so testcontainers can start postgres.";

#[cfg(not(feature = "docker"))]
fn docker(_purpose: Purpose) -> Result<Postgres> {
    let docker_works = Command::new("docker")
        .arg("info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !docker_works {
        bail!("{NO_POSTGRES}");
    }
    // Re-run this very command with Docker support compiled in.
    eprintln!(
        "xtask: no local PostgreSQL binaries; using Docker (building xtask with --features docker)"
    );
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = crate::cargo()
        .args([
            "run",
            "--quiet",
            "--package",
            "xtask",
            "--features",
            "docker",
            "--",
        ])
        .args(&args)
        .status()?;
    std::process::exit(status.code().unwrap_or(1));
}

#[cfg(feature = "docker")]
fn docker(_purpose: Purpose) -> Result<Postgres> {
    use testcontainers_modules::postgres::Postgres as PostgresImage;
    use testcontainers_modules::testcontainers::runners::SyncRunner;

    let container = PostgresImage::default()
        .start()
        .map_err(|e| anyhow::anyhow!("{NO_POSTGRES}\n(testcontainers: {e})"))?;
    let port = container.get_host_port_ipv4(5432)?;
    let host = container.get_host()?;
    // The container lives as long as the returned handle; testcontainers
    // removes it when the handle drops.
    let url = format!("postgres://postgres:postgres@{host}:{port}/postgres");
    Ok(Postgres {
        description: format!("Docker container via testcontainers at {host}:{port}"),
        url,
        bin_dir: None,
        cluster: None,
        _container: Some(container),
    })
}
