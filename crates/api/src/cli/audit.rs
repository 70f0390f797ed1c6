//! The audit commands for whoever holds the database: `iamd events`,
//! `iamd authorize`, `iamd access-history`, `iamd diff`. Each runs the
//! matching `/v1` operation in this process (`edge::call_local`), so the
//! answers are the HTTP API's, as JSON on standard output.

use std::process::ExitCode;
use std::sync::Arc;

use iam_domain::ids::AccountId;
use serde_json::{json, Map, Value};

use iam_wire::iamd::ops;
use iam_wire::{Operation, OperationSpec};

use crate::app::AppState;

#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    #[command(flatten)]
    pub db: super::DatabaseArgs,
    /// The 12-digit account id (default: the log's only account).
    #[arg(long)]
    pub account: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub common: Common,
    #[arg(long)]
    pub actor: Option<String>,
    #[arg(long)]
    pub target: Option<String>,
    #[arg(long = "type")]
    pub event_type: Option<String>,
    /// `changed` or `denied`.
    #[arg(long)]
    pub outcome: Option<String>,
    /// RFC 3339.
    #[arg(long)]
    pub since: Option<String>,
    /// RFC 3339.
    #[arg(long)]
    pub until: Option<String>,
    #[arg(long)]
    pub after: Option<u64>,
    #[arg(long)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct AuthorizeArgs {
    #[command(flatten)]
    pub common: Common,
    /// The principal's ARN (user, role or root).
    #[arg(long, conflicts_with = "access_key_id")]
    pub principal: Option<String>,
    /// Evaluate the key's owner, as the key stood at that moment.
    #[arg(long = "access-key-id")]
    pub access_key_id: Option<String>,
    #[arg(long)]
    pub action: String,
    #[arg(long)]
    pub resource: String,
    /// The request's condition context, as a JSON object.
    #[arg(long)]
    pub context: Option<String>,
    /// An RFC 3339 time or a log position.
    #[arg(long = "as-of")]
    pub as_of: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub common: Common,
    #[arg(long)]
    pub principal: String,
    #[arg(long)]
    pub action: String,
    #[arg(long)]
    pub resource: String,
}

#[derive(Debug, Clone, clap::Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub common: Common,
    #[arg(long)]
    pub principal: String,
    /// An RFC 3339 time or a log position.
    #[arg(long)]
    pub from: String,
    /// An RFC 3339 time or a log position (default: now).
    #[arg(long)]
    pub to: Option<String>,
}

/// Puts each given option into the request body under its name.
fn body(pairs: &[(&str, Option<Value>)]) -> Value {
    let mut out = Map::new();
    for (k, v) in pairs {
        if let Some(v) = v {
            out.insert((*k).to_owned(), v.clone());
        }
    }
    Value::Object(out)
}

fn text(v: &Option<String>) -> Option<Value> {
    v.as_ref().map(|s| Value::String(s.clone()))
}

pub async fn events(args: EventsArgs) -> anyhow::Result<ExitCode> {
    let params = body(&[
        ("actor", text(&args.actor)),
        ("target", text(&args.target)),
        ("type", text(&args.event_type)),
        ("outcome", text(&args.outcome)),
        ("since", text(&args.since)),
        ("until", text(&args.until)),
        ("after", args.after.map(|n| json!(n))),
        ("limit", args.limit.map(|n| json!(n))),
    ]);
    run(&args.common, <ops::ListEvents as Operation>::SPEC, params).await
}

pub async fn authorize(args: AuthorizeArgs) -> anyhow::Result<ExitCode> {
    let context = match &args.context {
        Some(text) => Some(
            serde_json::from_str::<Value>(text).map_err(|e| anyhow::anyhow!("--context: {e}"))?,
        ),
        None => None,
    };
    let params = body(&[
        ("principal", text(&args.principal)),
        ("access_key_id", text(&args.access_key_id)),
        ("action", Some(json!(args.action))),
        ("resource", Some(json!(args.resource))),
        ("context", context),
        ("as_of", text(&args.as_of)),
    ]);
    run(&args.common, <ops::Authorize as Operation>::SPEC, params).await
}

pub async fn access_history(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let params =
        json!({"principal": args.principal, "action": args.action, "resource": args.resource});
    run(
        &args.common,
        <ops::GetAccessHistory as Operation>::SPEC,
        params,
    )
    .await
}

pub async fn diff(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let params = body(&[
        ("principal", Some(json!(args.principal))),
        ("from", Some(json!(args.from))),
        ("to", text(&args.to)),
    ]);
    run(
        &args.common,
        <ops::GetPermissionsDiff as Operation>::SPEC,
        params,
    )
    .await
}

/// Opens the log (never creating one), catches a projection up to its head,
/// and runs the operation as the account's root.
async fn run(
    common: &Common,
    operation: &'static OperationSpec,
    params: Value,
) -> anyhow::Result<ExitCode> {
    let store = iam_event_store::open_existing(&common.db.url()).await?;
    // The server's master key, when this is its data dir, lets the saved
    // snapshots be used; without it the views are rebuilt from the log.
    let master = crate::credentials::existing_master_key(&common.db.data_dir)?;
    let snapshot_key = match &master {
        Some(m) => crate::integrity::snapshot_key(m),
        None => iam_projection::snapshot::SnapshotKey::ephemeral(),
    };
    let projection = iam_projection::Projection::new(
        store.clone(),
        iam_projection::ProjectionConfig {
            snapshot_key,
            ..Default::default()
        },
    );
    projection.restore().await?;
    projection.catch_up().await?;
    let account = match &common.account {
        Some(a) => {
            AccountId::parse(a).map_err(|e| anyhow::anyhow!("--account: {}", e.message()))?
        }
        None => match projection.accounts().as_slice() {
            [only] => only.clone(),
            [] => anyhow::bail!("the event log holds no account"),
            many => anyhow::bail!(
                "the event log holds {} accounts: name one with --account",
                many.len()
            ),
        },
    };
    let state = AppState {
        store,
        projection,
        account_id: account,
        root: crate::credentials::RootCredentials {
            access_key_id: String::new(),
            secret_access_key: String::new(),
        },
        master_key: Arc::new(
            master.unwrap_or_else(|| iam_domain::secrets::MasterKey::from_bytes([0; 32])),
        ),
        key_use: Default::default(),
        denials: Default::default(),
        past_views: Default::default(),
        metrics: Default::default(),
        clock: Default::default(),
        sign_in_failures: Default::default(),
        sessions: Default::default(),
        verifications: Default::default(),
        log_verifications: Default::default(),
        issuers: Arc::new(crate::federation::Issuers::new(false)),
        saml_metadata: Arc::default(),
        service_use: Arc::default(),
    };
    match crate::edge::call_local(&state, operation, &params).await {
        Ok(answer) => {
            let value: Value = serde_json::from_str(&answer)?;
            println!("{}", serde_json::to_string_pretty(&value)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("iamd: {}: {}", e.code, e.message);
            Ok(ExitCode::from(1))
        }
    }
}
