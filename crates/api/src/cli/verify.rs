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

use std::process::ExitCode;

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

    let mut master = crate::credentials::existing_master_key(&data_dir)?;
    if let Some(key) = &master {
        match integrity::key_check(store.as_ref(), key).await? {
            KeyCheck::Mismatch => {
                eprintln!(
                    "warning: the master key given does not match the one this database was sealed with; \
                     snapshots are not checked"
                );
                master = None;
            }
            KeyCheck::Absent if events > 0 => {
                eprintln!("warning: this database has no master key check");
            }
            _ => {}
        }
    }
    let mut lines = Vec::new();
    let mut failed = false;

    // Signed digests: the chain at each signed position must have the
    // signed hash.
    let public_key = match (&master, read_public_key(&data_dir)) {
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
    };
    let listed = store.list_snapshots().await?;
    let digests = load_digests(store.as_ref(), &listed).await?;
    let mut covered = Position::START;
    match (&public_key, digests.is_empty()) {
        (_, true) => {
            if events > 0 {
                eprintln!(
                    "warning: no signed digest in the database: no digest covers positions after 0 \
                     (the chain is consistent, but nothing outside the database vouches for it)"
                );
            }
        }
        (None, false) => eprintln!(
            "warning: {} signed digests not checked: no public key (set IAMD_MASTER_KEY, or give \
             --data-dir with master.key or {})",
            digests.len(),
            integrity::DIGEST_PUBLIC_KEY_FILE
        ),
        (Some(public_key), false) => {
            let mut good = 0;
            for digest in &digests {
                if !digest.is_signed_by(public_key) {
                    lines.push(format!(
                        "bad digest at position {}: its signature does not verify (forged or altered)",
                        digest.position
                    ));
                    failed = true;
                    continue;
                }
                let position = Position(digest.position);
                if digest.position > events {
                    println!(
                        "broken at position {}: the log ends at position {events}, but a signed digest \
                         covers position {position} (events after position {covered} were deleted or rewritten)",
                        covered.next()
                    );
                    return Ok(ExitCode::from(1));
                }
                let stored = store
                    .read_all(Position(digest.position - 1), 1)
                    .await?
                    .into_iter()
                    .next()
                    .filter(|e| e.position == position)
                    .map(|e| e.hash.to_hex());
                if stored.as_deref() != Some(digest.hash.as_str()) {
                    println!(
                        "broken at position {}: the log was rewritten after position {covered}: the signed \
                         digest for position {position} records hash {}, the log has {}",
                        covered.next(),
                        digest.hash,
                        stored.as_deref().unwrap_or("nothing"),
                    );
                    return Ok(ExitCode::from(1));
                }
                covered = position;
                good += 1;
            }
            lines.push(format!(
                "ok: {good} signed digests match the log; the newest covers positions up to {covered}"
            ));
            if covered.0 < events {
                eprintln!("warning: no digest covers positions after {covered}");
            }
        }
    }

    // Snapshots and checkpoints: their MACs.
    let mut authentic = 0;
    let mut unchecked = 0;
    let mut other_versions = 0;
    for (name, position, version) in &listed {
        if name != snapshot::CHECKPOINT && !name.starts_with("account-view/") {
            continue;
        }
        if *version != snapshot::schema_version() {
            other_versions += 1;
            continue;
        }
        let Some(key) = &master else {
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
            lines.push(format!(
                "bad snapshot {name} at position {position}: its MAC does not match \
                 (changed in the database, or saved under another master key)"
            ));
            failed = true;
        }
    }
    if authentic > 0 {
        lines.push(format!("ok: {authentic} snapshots authenticated"));
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

    println!("ok: {events} events, head {head}");
    for line in lines {
        println!("{line}");
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn read_public_key(data_dir: &std::path::Path) -> Option<ed25519_dalek::VerifyingKey> {
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
