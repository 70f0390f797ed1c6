//! Rebuilds the crate when a migration is added or changed:
//! `sqlx::migrate!` embeds migrations/ at compile time but, on stable Rust,
//! only tracks the files that existed at the last build, so a new migration
//! would otherwise be missing from an incremental build.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations/postgres");
    println!("cargo:rerun-if-changed=../../migrations/sqlite");
}
