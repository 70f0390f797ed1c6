//! `iamd verify`: walk the hash chain, check the signed digests of the log
//! against it, and check every stored snapshot's MAC. Prints `ok: N events,
//! head <hex>` (then a line per kind of thing checked) and exits 0, or names
//! the first position that does not check out (`broken at position N: ...`)
//! or each bad snapshot or digest (`bad ...`) and exits 1. Warnings (what
//! could not be checked, positions no digest covers) go to standard error.
//!
//! The keys come from outside the database, as `iamd serve` reads them:
//! `IAMD_MASTER_KEY` or `<data-dir>/master.key` (never created here) for the
//! snapshot MACs, and the digests' public key derived from it or read from
//! `<data-dir>/digest.pub`.

use std::path::Path;
use std::process::ExitCode;

use ed25519_dalek::VerifyingKey;
use iam_domain::secrets::MasterKey;
use iam_event_store::{EventStore, Position, Verification};
use iam_projection::snapshot;

use crate::integrity::{self, Digest, KeyCheck};

#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub db: super::DatabaseArgs,
}

pub async fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let url = args.db.url();
    let data_dir = args.db.data_dir.clone();
    // Verification reads; it never migrates the database it inspects.
    let store = iam_event_store::open_existing(&url).await?;
    let (events, head) = match iam_event_store::verify(store.as_ref()).await? {
        Verification::Intact { events, head } => (events, head),
        Verification::Broken { position, reason } => {
            println!("broken at position {position}: {reason}");
            return Ok(ExitCode::from(1));
        }
    };

    let master = checked_master_key(store.as_ref(), &data_dir, events).await?;
    let mut report = Report::default();
    let public_key = digest_public_key(master.as_ref(), &data_dir);
    let listed = store.list_snapshots().await?;
    let digests = load_digests(store.as_ref(), &listed).await?;
    let check = check_digests(
        store.as_ref(),
        &digests,
        public_key.as_ref(),
        events,
        &mut report,
    );
    if let DigestCheck::Broken(line) = check.await? {
        println!("{line}");
        return Ok(ExitCode::from(1));
    }
    check_snapshots(store.as_ref(), &listed, master.as_ref(), &mut report).await?;

    println!("ok: {events} events, head {head}");
    for line in report.lines {
        println!("{line}");
    }
    Ok(if report.failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The lines printed after the summary (`ok: ...` and `bad ...`), and
/// whether any of them reports a failure (exit status 1).
#[derive(Default)]
struct Report {
    lines: Vec<String>,
    failed: bool,
}

impl Report {
    fn ok(&mut self, line: String) {
        self.lines.push(line);
    }

    fn bad(&mut self, line: String) {
        self.lines.push(line);
        self.failed = true;
    }
}

/// The master key given from outside the database, if any and if the
/// database was sealed with it: with another key the snapshots cannot be
/// checked, which is a warning, not a failure.
async fn checked_master_key(
    store: &dyn EventStore,
    data_dir: &Path,
    events: u64,
) -> anyhow::Result<Option<MasterKey>> {
    let master = crate::credentials::existing_master_key(data_dir)?;
    if let Some(key) = &master {
        match integrity::key_check(store, key).await? {
            KeyCheck::Mismatch => {
                eprintln!(
                    "warning: the master key given does not match the one this database was sealed with; \
                     snapshots are not checked"
                );
                return Ok(None);
            }
            KeyCheck::Absent if events > 0 => {
                eprintln!("warning: this database has no master key check");
            }
            _ => {}
        }
    }
    Ok(master)
}

/// The key the digests' signatures are checked with: the one derived from
/// the master key when there is one (it is what signed them; a different
/// `digest.pub` is a warning), else the one in `<data-dir>/digest.pub`.
fn digest_public_key(master: Option<&MasterKey>, data_dir: &Path) -> Option<VerifyingKey> {
    match (master, read_public_key(data_dir)) {
        (Some(key), file) => {
            let derived = integrity::digest_signing_key(key).verifying_key();
            if file.is_some_and(|f| f != derived) {
                eprintln!(
                    "warning: {} holds another key than the master key's; using the master key's",
                    data_dir.join(integrity::DIGEST_PUBLIC_KEY_FILE).display()
                );
            }
            Some(derived)
        }
        (None, file) => file,
    }
}

/// What the signed digests say about the log.
enum DigestCheck {
    /// Nothing contradicts the log (or nothing could be checked: warned).
    Consistent,
    /// The log was cut or rewritten after a signed position: the
    /// `broken at position N: ...` line to print.
    Broken(String),
}

/// Signed digests: the chain at each signed position must have the signed
/// hash. Without digests, or without a key to check them, only warns.
async fn check_digests(
    store: &dyn EventStore,
    digests: &[Digest],
    public_key: Option<&VerifyingKey>,
    events: u64,
    report: &mut Report,
) -> anyhow::Result<DigestCheck> {
    match (public_key, digests.is_empty()) {
        (_, true) => {
            if events > 0 {
                eprintln!(
                    "warning: no signed digest in the database: no digest covers positions after 0 \
                     (the chain is consistent, but nothing outside the database vouches for it)"
                );
            }
            Ok(DigestCheck::Consistent)
        }
        (None, false) => {
            eprintln!(
                "warning: {} signed digests not checked: no public key (set IAMD_MASTER_KEY, or give \
                 --data-dir with master.key or {})",
                digests.len(),
                integrity::DIGEST_PUBLIC_KEY_FILE
            );
            Ok(DigestCheck::Consistent)
        }
        (Some(public_key), false) => {
            check_signed_digests(store, digests, public_key, events, report).await
        }
    }
}

/// Checks the digests, oldest first, against the log: one whose signature
/// does not verify is reported bad and skipped; a genuine one the log does
/// not match means the log is broken.
async fn check_signed_digests(
    store: &dyn EventStore,
    digests: &[Digest],
    public_key: &VerifyingKey,
    events: u64,
    report: &mut Report,
) -> anyhow::Result<DigestCheck> {
    let mut covered = Position::START;
    let mut good = 0;
    for digest in digests {
        if !digest.is_signed_by(public_key) {
            report.bad(format!(
                "bad digest at position {}: its signature does not verify (forged or altered)",
                digest.position
            ));
            continue;
        }
        let position = Position(digest.position);
        if digest.position > events {
            return Ok(DigestCheck::Broken(format!(
                "broken at position {}: the log ends at position {events}, but a signed digest \
                 covers position {position} (events after position {covered} were deleted or rewritten)",
                covered.next()
            )));
        }
        let stored = store.event_at(position).await?.map(|e| e.hash.to_hex());
        if stored.as_deref() != Some(digest.hash.as_str()) {
            return Ok(DigestCheck::Broken(format!(
                "broken at position {}: the log was rewritten after position {covered}: the signed \
                 digest for position {position} records hash {}, the log has {}",
                covered.next(),
                digest.hash,
                stored.as_deref().unwrap_or("nothing"),
            )));
        }
        covered = position;
        good += 1;
    }
    report.ok(format!(
        "ok: {good} signed digests match the log; the newest covers positions up to {covered}"
    ));
    if covered.0 < events {
        eprintln!("warning: no digest covers positions after {covered}");
    }
    Ok(DigestCheck::Consistent)
}

/// Snapshots and checkpoints: their MACs, under the key derived from the
/// master key. Without the master key they are counted as unchecked (a
/// warning); those of another schema version this build ignores anyway.
async fn check_snapshots(
    store: &dyn EventStore,
    listed: &[(String, Position, u32)],
    master: Option<&MasterKey>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut authentic = 0;
    let mut unchecked = 0;
    let mut other_versions = 0;
    for (name, position, version) in listed {
        if name != snapshot::CHECKPOINT && !name.starts_with("account-view/") {
            continue;
        }
        if *version != snapshot::schema_version() {
            other_versions += 1;
            continue;
        }
        let Some(key) = master else {
            unchecked += 1;
            continue;
        };
        let Some(saved) = store
            .load_snapshot(name, *position)
            .await?
            .filter(|s| s.position == *position)
        else {
            continue;
        };
        if snapshot::is_authentic(&integrity::snapshot_key(key), &saved) {
            authentic += 1;
        } else {
            report.bad(format!(
                "bad snapshot {name} at position {position}: its MAC does not match \
                 (changed in the database, or saved under another master key)"
            ));
        }
    }
    if authentic > 0 {
        report.ok(format!("ok: {authentic} snapshots authenticated"));
    }
    if unchecked > 0 {
        eprintln!(
            "warning: {unchecked} snapshots not checked: no master key (set IAMD_MASTER_KEY or give --data-dir)"
        );
    }
    if other_versions > 0 {
        eprintln!(
            "note: {other_versions} snapshots of another schema version not checked (this build ignores them)"
        );
    }
    Ok(())
}

fn read_public_key(data_dir: &Path) -> Option<VerifyingKey> {
    let text = std::fs::read_to_string(data_dir.join(integrity::DIGEST_PUBLIC_KEY_FILE)).ok()?;
    integrity::parse_public_key(&text)
}

/// The stored digests, oldest first (rows that do not parse are reported
/// as digests with no valid signature).
async fn load_digests(
    store: &dyn EventStore,
    listed: &[(String, Position, u32)],
) -> anyhow::Result<Vec<Digest>> {
    let mut digests = Vec::new();
    for (name, position, _) in listed {
        if name != integrity::DIGEST {
            continue;
        }
        let Some(saved) = store.load_snapshot(name, *position).await? else {
            continue;
        };
        digests.push(Digest::from_snapshot(&saved).unwrap_or(Digest {
            position: position.0,
            hash: String::new(),
            recorded_at: String::new(),
            public_key: String::new(),
            signature: String::new(),
        }));
    }
    digests.sort_by_key(|d| d.position);
    Ok(digests)
}
