//! `iamd replay`: an account's view as of a past time or log position,
//! printed as JSON (users with their groups, policies, boundary and tags;
//! groups; roles; managed policies with versions and default version).

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use iam_domain::ids::AccountId;
use iam_event_store::{Position, Until};

#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("cut").required(true).args(["as_of", "position"])))]
pub struct ReplayArgs {
    #[command(flatten)]
    pub db: super::DatabaseArgs,
    /// The 12-digit account id.
    #[arg(long)]
    pub account: String,
    /// Every event recorded at or before this instant (RFC 3339).
    #[arg(long = "as-of")]
    pub as_of: Option<DateTime<Utc>>,
    /// Every event at or before this log position.
    #[arg(long)]
    pub position: Option<u64>,
}

pub async fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let account = match AccountId::parse(&args.account) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("iamd replay: --account: {}", e.message());
            return Ok(ExitCode::from(2));
        }
    };
    let until = match (args.as_of, args.position) {
        (Some(t), _) => Until::Time(t),
        (None, Some(p)) => Until::Position(Position(p)),
        (None, None) => {
            eprintln!("iamd replay: give --as-of TIME or --position N");
            return Ok(ExitCode::from(2));
        }
    };
    let store = iam_event_store::open_existing(&args.db.url()).await?;
    let head = store.head().await?.position;
    if let Until::Position(p) = until {
        if p > head {
            eprintln!(
                "iamd replay: position {} is past the log's head ({})",
                p.0, head.0
            );
            return Ok(ExitCode::from(1));
        }
    }
    // With the server's master key (from the data dir) the snapshots it
    // saved are used; without it no snapshot is trusted and the view is
    // rebuilt from the log alone.
    let key = match crate::credentials::existing_master_key(&args.db.data_dir)? {
        Some(master) => crate::integrity::snapshot_key(&master),
        None => iam_projection::snapshot::SnapshotKey::ephemeral(),
    };
    let view = iam_projection::history::account_as_of(&store, &key, &account, until).await?;
    if view.state.account.is_none() {
        let when = match until {
            Until::Time(t) => format!("as of {}", t.to_rfc3339()),
            Until::Position(p) => format!("at log position {}", p.0),
        };
        eprintln!("iamd replay: account {account} does not exist {when}");
        return Ok(ExitCode::from(1));
    }
    let report = iam_projection::report::account_report(&view);
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
