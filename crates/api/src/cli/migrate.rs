//! `iamd migrate`: bring the database schema up to date.

use std::process::ExitCode;

pub async fn run(url: &str) -> anyhow::Result<ExitCode> {
    iam_event_store::migrate(url).await?;
    println!("ok: {} is migrated", iam_event_store::redact_url(url));
    Ok(ExitCode::SUCCESS)
}
