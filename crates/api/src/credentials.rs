//! Secrets the server holds outside the database: the root user's access
//! key and the master key that seals access-key secrets at rest. Each comes
//! from the environment or from a file in the data directory, created with
//! mode 0600 on first start.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use iam_domain::secrets::MasterKey;

/// Random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // getrandom fails only on exotic platforms without an entropy source;
    // running without one would be worse than stopping.
    getrandom::getrandom(&mut buf)
        .expect("the operating system's random number generator is unavailable");
    buf
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// An AWS-style identifier: a prefix (`AIDA`, `AKIA`, ...) and 16 random
/// base-32 characters.
pub fn unique_id(prefix: &str) -> String {
    let bytes: [u8; 16] = random_bytes();
    let mut s = String::with_capacity(prefix.len() + 16);
    s.push_str(prefix);
    for b in bytes {
        s.push(BASE32[(b % 32) as usize] as char);
    }
    s
}

/// A 40-character secret access key.
pub fn secret_access_key() -> String {
    let bytes: [u8; 40] = random_bytes();
    bytes
        .iter()
        .map(|b| SECRET_ALPHABET[(b % 64) as usize] as char)
        .collect()
}

/// The root user's long-term credentials.
#[derive(Clone)]
pub struct RootCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for RootCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .finish()
    }
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// `IAMD_ROOT_ACCESS_KEY_ID` and `IAMD_ROOT_SECRET_ACCESS_KEY` when set;
/// otherwise `<data-dir>/root-credentials`, generated on first start (its
/// path and the key id are printed, never the secret).
pub fn root_credentials(data_dir: &Path) -> Result<RootCredentials> {
    match (
        std::env::var("IAMD_ROOT_ACCESS_KEY_ID"),
        std::env::var("IAMD_ROOT_SECRET_ACCESS_KEY"),
    ) {
        (Ok(id), Ok(secret)) if !id.is_empty() && !secret.is_empty() => {
            return Ok(RootCredentials {
                access_key_id: id,
                secret_access_key: secret,
            });
        }
        (Ok(_), Err(_)) | (Err(_), Ok(_)) => {
            bail!("set both IAMD_ROOT_ACCESS_KEY_ID and IAMD_ROOT_SECRET_ACCESS_KEY, or neither")
        }
        _ => {}
    }
    let path = data_dir.join("root-credentials");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut id = None;
        let mut secret = None;
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("aws_access_key_id = ") {
                id = Some(v.trim().to_owned());
            } else if let Some(v) = line.strip_prefix("aws_secret_access_key = ") {
                secret = Some(v.trim().to_owned());
            }
        }
        return match (id, secret) {
            (Some(access_key_id), Some(secret_access_key)) => Ok(RootCredentials {
                access_key_id,
                secret_access_key,
            }),
            _ => bail!(
                "{} is not a credentials file written by iamd",
                path.display()
            ),
        };
    }
    std::fs::create_dir_all(data_dir)?;
    let creds = RootCredentials {
        access_key_id: unique_id("AKIA"),
        secret_access_key: secret_access_key(),
    };
    write_private(
        &path,
        &format!(
            "[iamd-root]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            creds.access_key_id, creds.secret_access_key
        ),
    )?;
    // The secret stays in the file: standard output usually ends up in logs.
    // A log line, so that `--log-format json` prints nothing but JSON.
    tracing::info!(
        access_key_id = %creds.access_key_id,
        file = %path.display(),
        "generated root credentials (mode 0600); read the secret from that file"
    );
    Ok(creds)
}

/// `IAMD_MASTER_KEY` (64 hex digits) when set; otherwise `<data-dir>/master.key`,
/// created on first start — only when `may_create`: a database already
/// sealed with a key makes a missing file an error, never a new key (every
/// secret sealed under the old one would become unreadable).
pub fn master_key(data_dir: &Path, may_create: bool) -> Result<MasterKey> {
    if let Some(key) = existing_master_key(data_dir)? {
        return Ok(key);
    }
    let path = data_dir.join("master.key");
    if !may_create {
        bail!(
            "{} is missing, but this database was sealed with a master key; restore {} or set \
             IAMD_MASTER_KEY (a new key would make every stored secret unreadable)",
            path.display(),
            path.display()
        );
    }
    std::fs::create_dir_all(data_dir)?;
    let key: [u8; 32] = random_bytes();
    write_private(&path, &hex::encode(key))?;
    tracing::info!(path = %path.display(), "generated a new master key");
    Ok(MasterKey::from_bytes(key))
}

/// `IAMD_MASTER_KEY` when set, else `<data-dir>/master.key` if it exists;
/// never creates one (for `iamd verify` and `iamd replay`).
pub fn existing_master_key(data_dir: &Path) -> Result<Option<MasterKey>> {
    if let Ok(hex) = std::env::var("IAMD_MASTER_KEY") {
        return MasterKey::from_hex(hex.trim())
            .map(Some)
            .map_err(|e| anyhow::anyhow!("IAMD_MASTER_KEY: {e}"));
    }
    let path = data_dir.join("master.key");
    if path.exists() {
        let hex = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return MasterKey::from_hex(hex.trim())
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    Ok(None)
}
