//! Sealing secrets the server must read back (access-key secrets for SigV4,
//! virtual MFA seeds) and hashing passwords, as pure functions.
//!
//! The shell supplies every random input (nonce, salt) and holds the
//! [`MasterKey`] outside the database; events only ever carry a
//! [`SealedSecret`] or a [`PasswordHash`], never plaintext. Sealing is
//! AES-256-GCM from the `aes-gcm` crate, with the access key id or MFA serial
//! number as associated data so a ciphertext cannot be moved to another key.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::password_hash::{
    PasswordHash as PhcHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::string_newtype;

/// The 256-bit key secrets are sealed under. Debug never prints it.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl MasterKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        MasterKey(bytes)
    }
    /// A key for another purpose, derived from this one and a label that
    /// names the purpose and its version (`b"iamd snapshot mac v1"`):
    /// HMAC-SHA256(master key, label). Keys for different labels are
    /// independent, and none of them reveals the master key, so one master
    /// key (the only secret an operator backs up) serves every purpose.
    pub fn derive(&self, label: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0)
            .expect("HMAC accepts a key of any length");
        mac.update(label);
        mac.finalize().into_bytes().into()
    }
    /// Parses 64 hex digits (how configuration carries the key).
    pub fn from_hex(s: &str) -> Result<Self, SecretError> {
        let v = hex::decode(s.trim()).map_err(|_| SecretError::BadKey)?;
        let bytes: [u8; 32] = v.try_into().map_err(|_| SecretError::BadKey)?;
        Ok(MasterKey(bytes))
    }
}
impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

/// AES-256-GCM ciphertext (with its tag) and the nonce it was sealed with,
/// hex-encoded in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedSecret {
    /// The 96-bit nonce, hex.
    #[serde(with = "hex_array")]
    pub nonce: [u8; 12],
    /// Ciphertext followed by the 16-byte tag, hex.
    #[serde(with = "hex_vec")]
    pub ciphertext: Vec<u8>,
}

/// Why opening or key parsing failed. Deliberately uninformative.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The ciphertext, nonce, associated data or key do not match.
    #[error("sealed secret could not be opened")]
    Open,
    /// The master key is not 32 bytes of hex.
    #[error("master key must be 64 hex digits")]
    BadKey,
    /// The plaintext is not UTF-8.
    #[error("sealed secret is not UTF-8")]
    NotUtf8,
}

/// Encrypts `plaintext` under `key` with `nonce` (which must never repeat for
/// one key: the shell draws it from a CSPRNG), binding it to `aad`.
pub fn seal(key: &MasterKey, nonce: [u8; 12], aad: &[u8], plaintext: &[u8]) -> SealedSecret {
    let cipher = Aes256Gcm::new((&key.0).into());
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        // INVARIANT: AES-GCM encryption fails only for messages over 64 GiB.
        .expect("AES-GCM encryption of a short secret cannot fail");
    SealedSecret { nonce, ciphertext }
}

/// Decrypts a [`SealedSecret`] sealed with the same key and `aad`.
pub fn open(key: &MasterKey, sealed: &SealedSecret, aad: &[u8]) -> Result<Vec<u8>, SecretError> {
    let cipher = Aes256Gcm::new((&key.0).into());
    cipher
        .decrypt(
            Nonce::from_slice(&sealed.nonce),
            Payload {
                msg: &sealed.ciphertext,
                aad,
            },
        )
        .map_err(|_| SecretError::Open)
}

/// [`open`] for text secrets (secret access keys, base32 MFA seeds).
pub fn open_string(
    key: &MasterKey,
    sealed: &SealedSecret,
    aad: &[u8],
) -> Result<String, SecretError> {
    String::from_utf8(open(key, sealed, aad)?).map_err(|_| SecretError::NotUtf8)
}

string_newtype!(
    /// An argon2id password hash in PHC string form
    /// (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`). Only this, never the
    /// password, reaches an event.
    PasswordHash,
    |s| {
        match PhcHash::new(s) {
            Ok(h) if h.algorithm.as_str() == "argon2id" && h.hash.is_some() => Ok(()),
            _ => Err(DomainError::validation("Password hash must be an argon2id PHC string.")),
        }
    }
);

/// Hashes `password` with argon2id (the crate's default parameters,
/// OWASP's minimum: m=19 MiB, t=2, p=1) and a salt the shell drew at random.
pub fn hash_password(password: &str, salt: &[u8; 16]) -> PasswordHash {
    let salt = SaltString::encode_b64(salt).expect("a 16-byte salt is always valid");
    let phc = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2id with default parameters and a valid salt cannot fail")
        .to_string();
    PasswordHash(phc)
}

/// Whether `password` matches `hash`.
pub fn verify_password(hash: &PasswordHash, password: &str) -> bool {
    match PhcHash::new(hash.as_str()) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

mod hex_array {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8; 12], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 12], D::Error> {
        let s = String::deserialize(d)?;
        let v = hex::decode(s).map_err(D::Error::custom)?;
        v.try_into()
            .map_err(|_| D::Error::custom("nonce must be 12 bytes"))
    }
}
mod hex_vec {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        hex::decode(String::deserialize(d)?).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_bytes([7; 32])
    }

    #[test]
    fn seal_open_round_trip() {
        let s = seal(
            &key(),
            [1; 12],
            b"AKIAIOSFODNN7EXAMPLE",
            b"wJalrXUtnFEMI/K7MDENG",
        );
        assert_ne!(s.ciphertext, b"wJalrXUtnFEMI/K7MDENG");
        assert_eq!(
            open_string(&key(), &s, b"AKIAIOSFODNN7EXAMPLE").unwrap(),
            "wJalrXUtnFEMI/K7MDENG"
        );
    }

    #[test]
    fn wrong_key_aad_or_tamper_fails() {
        let s = seal(&key(), [1; 12], b"a", b"secret");
        assert_eq!(
            open(&MasterKey::from_bytes([8; 32]), &s, b"a"),
            Err(SecretError::Open)
        );
        assert_eq!(open(&key(), &s, b"b"), Err(SecretError::Open));
        let mut t = s.clone();
        t.ciphertext[0] ^= 1;
        assert_eq!(open(&key(), &t, b"a"), Err(SecretError::Open));
    }

    #[test]
    fn sealed_secret_json_has_no_plaintext() {
        let s = seal(&key(), [2; 12], b"", b"plaintext-secret");
        let j = serde_json::to_string(&s).unwrap();
        assert!(!j.contains("plaintext-secret"));
        assert_eq!(serde_json::from_str::<SealedSecret>(&j).unwrap(), s);
    }

    #[test]
    fn master_key_hex() {
        assert!(MasterKey::from_hex(&"ab".repeat(32)).is_ok());
        assert_eq!(
            MasterKey::from_hex("abcd").unwrap_err(),
            SecretError::BadKey
        );
        assert_eq!(format!("{:?}", key()), "MasterKey(..)");
    }

    #[test]
    fn derived_keys_depend_on_the_label_and_the_key() {
        let a = key().derive(b"iamd snapshot mac v1");
        assert_eq!(a, key().derive(b"iamd snapshot mac v1"), "deterministic");
        assert_ne!(a, key().derive(b"iamd log digest v1"));
        assert_ne!(
            a,
            MasterKey::from_bytes([8; 32]).derive(b"iamd snapshot mac v1")
        );
        assert_ne!(a, [7; 32]);
    }

    #[test]
    fn passwords() {
        let h = hash_password("Correct-Horse-9", &[3; 16]);
        assert!(h.as_str().starts_with("$argon2id$"));
        assert!(verify_password(&h, "Correct-Horse-9"));
        assert!(!verify_password(&h, "correct-horse-9"));
        assert!(PasswordHash::parse(h.as_str()).is_ok());
        assert!(PasswordHash::parse("plaintext").is_err());
        assert!(
            PasswordHash::parse("$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo").is_err()
        );
    }
}
