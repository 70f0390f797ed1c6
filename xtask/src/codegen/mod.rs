//! `cargo xtask codegen [--check]`: writes `crates/wire/src/generated/` from
//! AWS's IAM and STS service models.
//!
//! The models are botocore's `service-2.json` files, fetched from PyPI at
//! codegen time (a pinned wheel, checked by SHA-256) and never committed;
//! what they generate is committed, so a build needs neither network nor
//! Python. `--check` regenerates in memory and fails if the committed files
//! differ, which CI runs.

mod emit;
mod openapi;
mod order;
mod pattern;

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// The botocore release the generated code comes from.
pub const BOTOCORE_VERSION: &str = "1.44.8";
const BOTOCORE_SHA256: &str = "76342a76c338701db80dcb8afe1c9bd079283d6fffbb9d881442abb02a215043";

/// The services generated, with the model file each comes from.
const SERVICES: [(&str, &str); 2] = [
    ("iam", "data/iam/2010-05-08/service-2.json"),
    ("sts", "data/sts/2011-06-15/service-2.json"),
];

pub fn run(args: &[String]) -> Result<()> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => bail!("usage: cargo xtask codegen [--check]"),
    };
    let models = fetch_models()?;
    let out_dir = crate::project_root().join("crates/wire/src/generated");
    let mut stale = Vec::new();
    // AWS's services from botocore, and iamd's own API from its model in
    // the repository (written in the same format).
    let own = crate::project_root().join("crates/wire/model");
    let services = SERVICES
        .iter()
        .map(|(service, source)| {
            (
                *service,
                models.join(format!("{service}.json")),
                format!("botocore {BOTOCORE_VERSION} {source}"),
            )
        })
        .chain([(
            "iamd",
            own.join("iamd.json"),
            "crates/wire/model/iamd.json".to_owned(),
        )]);
    for (service, path, source) in services {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let model: Value = serde_json::from_str(&text).context("parsing the model")?;
        let order = order::MemberOrder::parse(&text)?;
        let mut outputs = vec![(
            out_dir.join(format!("{service}.rs")),
            emit::service(service, &source, &model, &order)?,
        )];
        if service == "iamd" {
            outputs.push((
                out_dir.join("iamd.openapi.json"),
                openapi::document(&model)?,
            ));
        }
        for (target, code) in outputs {
            if check {
                let committed = std::fs::read_to_string(&target).unwrap_or_default();
                if committed != code {
                    stale.push(target);
                }
            } else {
                std::fs::create_dir_all(&out_dir)?;
                std::fs::write(&target, code)?;
                eprintln!("xtask: wrote {}", target.display());
            }
        }
    }
    if !stale.is_empty() {
        bail!(
            "generated code is out of date: {}; run `cargo xtask codegen`",
            stale
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if check {
        eprintln!("xtask: generated code is up to date (botocore {BOTOCORE_VERSION})");
    }
    Ok(())
}

/// The directory holding `iam.json` and `sts.json` of the pinned botocore,
/// downloading them on first use.
fn fetch_models() -> Result<PathBuf> {
    let dir = crate::project_root()
        .join("target/codegen")
        .join(format!("botocore-{BOTOCORE_VERSION}"));
    if SERVICES
        .iter()
        .all(|(s, _)| dir.join(format!("{s}.json")).exists())
    {
        return Ok(dir);
    }
    let script = crate::project_root().join("xtask/src/codegen/fetch_models.py");
    crate::status(
        Command::new("python3")
            .arg(&script)
            .arg(BOTOCORE_VERSION)
            .arg(BOTOCORE_SHA256)
            .arg(&dir),
    )
    .context("fetching botocore's service models from PyPI (needs python3, pip and the network)")?;
    Ok(dir)
}

/// A model's HTML documentation as plain text (tags dropped, whitespace
/// runs made one space).
pub(crate) fn plain_text(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Used by emit: the model's shapes.
pub(crate) fn shapes(model: &Value) -> Result<&serde_json::Map<String, Value>> {
    model["shapes"].as_object().context("model has no shapes")
}
