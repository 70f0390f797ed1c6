//! Users' SSH public keys (`UploadSSHPublicKey` and the rest), which AWS
//! keeps for CodeCommit: RSA keys of 2,048 to 16,384 bits, given in
//! OpenSSH (`ssh-rsa BASE64 [comment]`) or PEM (`BEGIN PUBLIC KEY`) form,
//! returned in either. Authorized on the owning user, as AWS does.

use base64::Engine;
use iam_domain::names::UserName;
use iam_domain::state::{AccountState, SshPublicKey};
use iam_domain::Command;
use iam_wire::iam;
use md5::{Digest, Md5};
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};

use super::shapes::Page;
use super::{OpContext, OpResult};
use crate::credentials::unique_id;
use crate::query::ApiError;

const MIN_BITS: usize = 2048;
const MAX_BITS: usize = 16384;

/// A parsed key: its OpenSSH form and fingerprint.
#[derive(Debug, PartialEq, Eq)]
pub struct ParsedKey {
    pub body: String,
    pub fingerprint: String,
}

fn invalid() -> ApiError {
    ApiError::new(
        400,
        "InvalidPublicKey",
        "The public key is not a valid RSA key of 2048 to 16384 bits in SSH or PEM format.",
    )
}

fn unrecognized() -> ApiError {
    ApiError::new(
        400,
        "UnrecognizedPublicKeyEncoding",
        "The public key encoding is not recognized: give an ssh-rsa key or a PEM public key.",
    )
}

/// Reads an OpenSSH or PEM RSA public key.
pub fn parse(text: &str) -> Result<ParsedKey, ApiError> {
    let text = text.trim();
    let key = if text.starts_with("-----BEGIN PUBLIC KEY-----") {
        RsaPublicKey::from_public_key_pem(text).map_err(|_| invalid())?
    } else if let Some(rest) = text.strip_prefix("ssh-rsa ") {
        let b64 = rest.split_whitespace().next().ok_or_else(invalid)?;
        let blob = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| invalid())?;
        from_blob(&blob).ok_or_else(invalid)?
    } else {
        return Err(unrecognized());
    };
    let bits = key.n().bits();
    if !(MIN_BITS..=MAX_BITS).contains(&bits) {
        return Err(invalid());
    }
    let blob = to_blob(&key);
    let digest = Md5::digest(&blob);
    let fingerprint = digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    Ok(ParsedKey {
        body: format!(
            "ssh-rsa {}",
            base64::engine::general_purpose::STANDARD.encode(&blob)
        ),
        fingerprint,
    })
}

/// The RFC 4253 `ssh-rsa` blob: string "ssh-rsa", mpint e, mpint n.
fn from_blob(blob: &[u8]) -> Option<RsaPublicKey> {
    let mut rest = blob;
    let mut field = || -> Option<&[u8]> {
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let value = rest.get(4..4 + len)?;
        rest = &rest[4 + len..];
        Some(value)
    };
    if field()? != b"ssh-rsa" {
        return None;
    }
    let e = BigUint::from_bytes_be(field()?);
    let n = BigUint::from_bytes_be(field()?);
    if !rest.is_empty() {
        return None;
    }
    RsaPublicKey::new(n, e).ok()
}

fn to_blob(key: &RsaPublicKey) -> Vec<u8> {
    fn put(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    fn mpint(n: &BigUint) -> Vec<u8> {
        let mut bytes = n.to_bytes_be();
        if bytes.first().is_some_and(|b| b & 0x80 != 0) {
            bytes.insert(0, 0);
        }
        bytes
    }
    let mut out = Vec::new();
    put(&mut out, b"ssh-rsa");
    put(&mut out, &mpint(key.e()));
    put(&mut out, &mpint(key.n()));
    out
}

/// The stored OpenSSH key as PEM.
fn pem(body: &str) -> Option<String> {
    let b64 = body.strip_prefix("ssh-rsa ")?;
    let blob = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    from_blob(&blob)?.to_public_key_pem(LineEnding::LF).ok()
}

fn shape(k: &SshPublicKey, body: String) -> iam::SSHPublicKey {
    iam::SSHPublicKey {
        user_name: k.user_name.as_str().to_owned(),
        ssh_public_key_id: k.id.clone(),
        fingerprint: k.fingerprint.clone(),
        ssh_public_key_body: body,
        status: super::shapes::status(k.status),
        upload_date: Some(k.uploaded_at),
    }
}

fn stored<'s>(
    state: &'s AccountState,
    user: &UserName,
    id: &str,
) -> Result<&'s SshPublicKey, ApiError> {
    state
        .ssh_public_keys
        .get(id)
        .map(|k| &**k)
        .filter(|k| k.user_name.key() == user.key())
        .ok_or_else(|| {
            ApiError::new(
                404,
                "NoSuchEntity",
                format!("The Public Key with id {id} cannot be found."),
            )
        })
}

pub async fn upload(
    ctx: &OpContext<'_>,
    input: iam::UploadSSHPublicKeyRequest,
) -> OpResult<iam::UploadSSHPublicKeyResponse> {
    let user_name = UserName::parse(&input.user_name)?;
    ctx.authorize(&ctx.user_target(&user_name))?;
    let parsed = parse(&input.ssh_public_key_body)?;
    let id = unique_id("APKA");
    ctx.execute(Command::UploadSshPublicKey {
        user_name: user_name.clone(),
        ssh_public_key_id: id.clone(),
        body: parsed.body.clone(),
        fingerprint: parsed.fingerprint,
        now: ctx.now,
    })
    .await?;
    let view = ctx.current().ok_or_else(ApiError::internal)?;
    let k = stored(&view.state, &user_name, &id)?;
    Ok(iam::UploadSSHPublicKeyResponse {
        ssh_public_key: Some(shape(k, k.body.clone())),
    })
}

pub async fn get(
    ctx: &OpContext<'_>,
    input: iam::GetSSHPublicKeyRequest,
) -> OpResult<iam::GetSSHPublicKeyResponse> {
    let user_name = UserName::parse(&input.user_name)?;
    ctx.authorize(&ctx.user_target(&user_name))?;
    let k = stored(ctx.state(), &user_name, &input.ssh_public_key_id)?;
    let body = match input.encoding {
        iam::EncodingType::Ssh => k.body.clone(),
        iam::EncodingType::Pem => pem(&k.body).ok_or_else(ApiError::internal)?,
    };
    Ok(iam::GetSSHPublicKeyResponse {
        ssh_public_key: Some(shape(k, body)),
    })
}

/// Without `UserName`, the caller's own keys (a user's; others must name
/// one).
pub async fn list(
    ctx: &OpContext<'_>,
    input: iam::ListSSHPublicKeysRequest,
) -> OpResult<iam::ListSSHPublicKeysResponse> {
    let user_name = super::login::user_name(ctx, input.user_name.as_deref())?;
    ctx.authorize(&ctx.user_target(&user_name))?;
    let state = ctx.state();
    if !state.users.contains_key(&user_name.key()) {
        return Err(super::entity::no_such("user", user_name.as_str()));
    }
    let page = Page::of(
        state
            .ssh_public_keys
            .iter()
            .filter(|(_, k)| k.user_name.key() == user_name.key())
            .map(|(id, k)| (id.as_str(), &**k)),
        input.max_items,
        input.marker.as_deref(),
    );
    Ok(iam::ListSSHPublicKeysResponse {
        ssh_public_keys: Some(
            page.items
                .iter()
                .map(|k| iam::SSHPublicKeyMetadata {
                    user_name: k.user_name.as_str().to_owned(),
                    ssh_public_key_id: k.id.clone(),
                    status: super::shapes::status(k.status),
                    upload_date: k.uploaded_at,
                })
                .collect(),
        ),
        is_truncated: page.is_truncated(),
        marker: page.next,
    })
}

pub async fn update(ctx: &OpContext<'_>, input: iam::UpdateSSHPublicKeyRequest) -> OpResult<()> {
    let user_name = UserName::parse(&input.user_name)?;
    ctx.authorize(&ctx.user_target(&user_name))?;
    ctx.execute(Command::UpdateSshPublicKey {
        user_name,
        ssh_public_key_id: input.ssh_public_key_id,
        status: super::shapes::requested_status(&input.status)?,
    })
    .await?;
    Ok(())
}

pub async fn delete(ctx: &OpContext<'_>, input: iam::DeleteSSHPublicKeyRequest) -> OpResult<()> {
    let user_name = UserName::parse(&input.user_name)?;
    ctx.authorize(&ctx.user_target(&user_name))?;
    ctx.execute(Command::DeleteSshPublicKey {
        user_name,
        ssh_public_key_id: input.ssh_public_key_id,
    })
    .await?;
    Ok(())
}
