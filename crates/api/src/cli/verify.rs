//! `iamd verify`: walk the hash chain. Prints `ok: N events, head <hex>` and
//! exits 0, or names the first position that does not check out and exits 1.

use std::process::ExitCode;

use iam_event_store::Verification;

pub async fn run(url: &str) -> anyhow::Result<ExitCode> {
    // Verification reads; it never migrates the database it inspects.
    let store = iam_event_store::open_existing(url).await?;
    match iam_event_store::verify(store.as_ref()).await? {
        Verification::Intact { events, head } => {
            println!("ok: {events} events, head {head}");
            Ok(ExitCode::SUCCESS)
        }
        Verification::Broken { position, reason } => {
            println!("broken at position {position}: {reason}");
            Ok(ExitCode::from(1))
        }
    }
}
