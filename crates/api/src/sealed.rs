//! Opaque values iamd hands out and later reads back: session tokens and
//! authorization failure messages. Each is sealed with AES-256-GCM under a
//! key derived from the master key for its purpose (so a value of one kind
//! never opens as another), with the account id as associated data, and
//! written as base64 of nonce and ciphertext. Every node holds the master
//! key, so any node opens what another sealed.
//!
//! Nonces are random (96 bits): AES-GCM stays safe for far more values than
//! a master key will ever seal (NIST's bound is 2^32 messages per key).

use base64::Engine as _;
use iam_domain::secrets::{self, MasterKey, SealedSecret};

use crate::credentials::random_bytes;

/// What a sealed value is for: its key is derived from the master key
/// with this label.
#[derive(Debug, Clone, Copy)]
pub struct Purpose(pub &'static [u8]);

pub const SESSION_TOKEN: Purpose = Purpose(b"iamd/session-token/v1");
pub const AUTHORIZATION_MESSAGE: Purpose = Purpose(b"iamd/authorization-message/v1");

/// Seals `plaintext` for `account_id`, as base64 text.
pub fn seal(master: &MasterKey, purpose: Purpose, account_id: &str, plaintext: &[u8]) -> String {
    let key = MasterKey::from_bytes(master.derive(purpose.0));
    let sealed = secrets::seal(&key, random_bytes(), account_id.as_bytes(), plaintext);
    let mut raw = Vec::with_capacity(12 + sealed.ciphertext.len());
    raw.extend_from_slice(&sealed.nonce);
    raw.extend_from_slice(&sealed.ciphertext);
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// Opens what [`seal`] sealed for `account_id` and `purpose`; `None` for
/// anything else (forged, altered, truncated, another account's, another
/// purpose's or another master key's).
pub fn open(master: &MasterKey, purpose: Purpose, account_id: &str, text: &str) -> Option<Vec<u8>> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    if raw.len() < 12 + 16 {
        return None;
    }
    let (nonce, ciphertext) = raw.split_at(12);
    let sealed = SealedSecret {
        nonce: nonce.try_into().ok()?,
        ciphertext: ciphertext.to_vec(),
    };
    let key = MasterKey::from_bytes(master.derive(purpose.0));
    secrets::open(&key, &sealed, account_id.as_bytes()).ok()
}
