//! `iamd`: the iamd server and its operator commands. The work lives in
//! the library (`iam_api`); this file only maps outcomes to exit codes.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = iam_api::cli::Cli::parse();
    match iam_api::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("iamd: {}", iam_api::cli::describe_error(&error));
            ExitCode::from(2)
        }
    }
}
