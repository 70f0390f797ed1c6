//! `iamd eval FILE`: evaluate one scenario or an array of them.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

pub fn run(file: &Path) -> anyhow::Result<ExitCode> {
    let text = if file.as_os_str() == "-" {
        let mut text = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut text) {
            eprintln!("iamd eval: cannot read standard input: {e}");
            return Ok(ExitCode::from(2));
        }
        text
    } else {
        match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("iamd eval: cannot read {}: {e}", file.display());
                return Ok(ExitCode::from(2));
            }
        }
    };
    let input: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("iamd eval: {} is not JSON: {e}", file.display());
            return Ok(ExitCode::from(2));
        }
    };
    match iam_evaluator::scenario::run_scenarios(&input, chrono::Utc::now()) {
        Ok(output) => {
            println!("{}", serde_json::to_string_pretty(&output)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("iamd eval: {e}");
            Ok(ExitCode::from(2))
        }
    }
}
