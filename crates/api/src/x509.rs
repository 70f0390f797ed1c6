//! X.509 certificates as `UploadSigningCertificate` and
//! `UploadServerCertificate` take them: PEM text, parsed and checked before
//! anything reaches the log.
//!
//! What is checked is what AWS documents: the certificate parses, it is
//! valid now (between `notBefore` and `notAfter`), a server certificate's
//! private key is unencrypted PEM and is the certificate's key, and a chain
//! is a sequence of PEM certificates. iamd does not build or verify the
//! chain to a trusted root (AWS does not either: it stores what it is
//! given).

use chrono::{DateTime, Utc};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};
use x509_cert::der::{DecodePem, Encode};
use x509_cert::Certificate;

use crate::query::ApiError;

/// AWS's limit on a certificate body and on a private key, in characters.
pub const MAX_BODY: usize = 16_384;
/// AWS's limit on a certificate chain, in characters.
pub const MAX_CHAIN: usize = 2_097_152;

/// Why a certificate or key was refused, each mapped to AWS's code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum X509Error {
    #[error("The certificate is not a PEM-encoded X.509 certificate.")]
    MalformedCertificate,
    #[error("The certificate chain is not a sequence of PEM-encoded X.509 certificates.")]
    MalformedChain,
    #[error("The certificate is not valid now: its validity period is {0} to {1}.")]
    OutsideValidity(DateTime<Utc>, DateTime<Utc>),
    #[error(
        "The private key is not an unencrypted PEM RSA (PKCS#1 or PKCS#8) or \
         EC P-256/P-384 (PKCS#8) key."
    )]
    MalformedPrivateKey,
    #[error("The RSA key has {0} bits; AWS accepts 1024 to 4096 bits.")]
    KeySize(usize),
    #[error("The private key does not match the certificate's public key.")]
    KeyPairMismatch,
}

impl From<X509Error> for ApiError {
    fn from(e: X509Error) -> ApiError {
        let code = match e {
            X509Error::KeyPairMismatch => "KeyPairMismatch",
            X509Error::OutsideValidity(..) => "InvalidCertificate",
            _ => "MalformedCertificate",
        };
        ApiError::new(400, code, e.to_string())
    }
}

/// A parsed certificate: what the operations report and check.
#[derive(Debug)]
pub struct ParsedCertificate {
    /// The PEM as given, without surrounding whitespace.
    pub pem: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// SHA-256 of the DER encoding.
    pub digest: [u8; 32],
    /// The subject public key's bits (an RSA `RSAPublicKey` or an EC point).
    public_key: Vec<u8>,
}

impl ParsedCertificate {
    /// Parses one PEM certificate (nothing else in the text).
    pub fn parse(text: &str) -> Result<ParsedCertificate, X509Error> {
        let pem = text.trim();
        if pem.len() > MAX_BODY || pem.matches("-----BEGIN").count() != 1 {
            return Err(X509Error::MalformedCertificate);
        }
        let cert = Certificate::from_pem(pem).map_err(|_| X509Error::MalformedCertificate)?;
        let der = cert.to_der().map_err(|_| X509Error::MalformedCertificate)?;
        let validity = &cert.tbs_certificate.validity;
        let time = |t: x509_cert::time::Time| {
            DateTime::<Utc>::from_timestamp(t.to_unix_duration().as_secs() as i64, 0)
                .ok_or(X509Error::MalformedCertificate)
        };
        Ok(ParsedCertificate {
            pem: pem.to_owned(),
            not_before: time(validity.not_before)?,
            not_after: time(validity.not_after)?,
            digest: Sha256::digest(&der).into(),
            public_key: cert
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes()
                .to_vec(),
        })
    }

    /// `InvalidCertificate` unless `now` is within the validity period.
    pub fn check_valid_at(&self, now: DateTime<Utc>) -> Result<(), X509Error> {
        if now < self.not_before || now > self.not_after {
            return Err(X509Error::OutsideValidity(self.not_before, self.not_after));
        }
        Ok(())
    }

    /// Checks that `key_pem`, an unencrypted private key, is this
    /// certificate's key.
    pub fn check_private_key(&self, key_pem: &str) -> Result<(), X509Error> {
        let key_pem = key_pem.trim();
        if key_pem.len() > MAX_BODY {
            return Err(X509Error::MalformedPrivateKey);
        }
        let public = private_key_public_part(key_pem)?;
        // Both sides are public values: no constant-time comparison needed.
        if public != self.public_key {
            return Err(X509Error::KeyPairMismatch);
        }
        Ok(())
    }

    /// An id derived from the certificate, as AWS's signing certificate ids
    /// are: 32 upper-case letters and digits.
    pub fn id(&self) -> String {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        self.digest[..20]
            .chunks(5)
            .flat_map(|c| {
                let n = c.iter().fold(0u64, |n, b| n << 8 | u64::from(*b));
                (0..8)
                    .rev()
                    .map(move |i| ALPHABET[(n >> (i * 5) & 31) as usize] as char)
            })
            .collect()
    }
}

/// The public key of an RSA (PKCS#1 or PKCS#8) or EC (PKCS#8) private key,
/// in the form a certificate's subject public key carries it.
fn private_key_public_part(pem: &str) -> Result<Vec<u8>, X509Error> {
    let rsa = if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
        Some(RsaPrivateKey::from_pkcs1_pem(pem).map_err(|_| X509Error::MalformedPrivateKey)?)
    } else if pem.starts_with("-----BEGIN PRIVATE KEY-----") {
        RsaPrivateKey::from_pkcs8_pem(pem).ok()
    } else {
        return Err(X509Error::MalformedPrivateKey);
    };
    if let Some(key) = rsa {
        let bits = key.n().bits();
        if !(1024..=4096).contains(&bits) {
            return Err(X509Error::KeySize(bits));
        }
        return key
            .to_public_key()
            .to_pkcs1_der()
            .map(|d| d.as_bytes().to_vec())
            .map_err(|_| X509Error::MalformedPrivateKey);
    }
    // A PKCS#8 key that is not RSA: P-256 or P-384.
    let der = pem_body(pem).ok_or(X509Error::MalformedPrivateKey)?;
    let rng = ring::rand::SystemRandom::new();
    for alg in [
        &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        &ring::signature::ECDSA_P384_SHA384_ASN1_SIGNING,
    ] {
        if let Ok(pair) = ring::signature::EcdsaKeyPair::from_pkcs8(alg, &der, &rng) {
            use ring::signature::KeyPair;
            return Ok(pair.public_key().as_ref().to_vec());
        }
    }
    Err(X509Error::MalformedPrivateKey)
}

/// The DER inside a single PEM block.
fn pem_body(pem: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let mut lines = pem.lines().map(str::trim).filter(|l| !l.is_empty());
    lines.next()?.starts_with("-----BEGIN ").then_some(())?;
    let mut b64 = String::new();
    for line in lines {
        if line.starts_with("-----END ") {
            return base64::engine::general_purpose::STANDARD.decode(b64).ok();
        }
        b64.push_str(line);
    }
    None
}

/// Checks a chain: one or more PEM certificates, each of which parses.
/// Returns it trimmed. (Split here rather than by x509-cert's
/// `load_pem_chain`, which panics on empty input.)
pub fn check_chain(text: &str) -> Result<String, X509Error> {
    const END: &str = "-----END CERTIFICATE-----";
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_CHAIN {
        return Err(X509Error::MalformedChain);
    }
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(END).ok_or(X509Error::MalformedChain)? + END.len();
        Certificate::from_pem(rest[..end].trim()).map_err(|_| X509Error::MalformedChain)?;
        rest = rest[end..].trim_start();
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA_CERT: &str = include_str!("../tests/data/x509/rsa-cert.pem");
    const RSA_PKCS8: &str = include_str!("../tests/data/x509/rsa-pkcs8.pem");
    const RSA_PKCS1: &str = include_str!("../tests/data/x509/rsa-pkcs1.pem");
    const EC_CERT: &str = include_str!("../tests/data/x509/ec-cert.pem");
    const EC_PKCS8: &str = include_str!("../tests/data/x509/ec-pkcs8.pem");

    #[test]
    fn each_key_matches_its_own_certificate_only() {
        let rsa = ParsedCertificate::parse(RSA_CERT).unwrap();
        let ec = ParsedCertificate::parse(EC_CERT).unwrap();
        rsa.check_private_key(RSA_PKCS8).unwrap();
        rsa.check_private_key(RSA_PKCS1).unwrap();
        ec.check_private_key(EC_PKCS8).unwrap();
        assert_eq!(
            rsa.check_private_key(EC_PKCS8),
            Err(X509Error::KeyPairMismatch)
        );
        assert_eq!(
            ec.check_private_key(RSA_PKCS1),
            Err(X509Error::KeyPairMismatch)
        );
        assert_eq!(
            ec.check_private_key(
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----"
            ),
            Err(X509Error::MalformedPrivateKey)
        );
    }

    #[test]
    fn validity_and_ids() {
        let rsa = ParsedCertificate::parse(RSA_CERT).unwrap();
        assert!(rsa.not_after.timestamp() - rsa.not_before.timestamp() > 36_000 * 86_400);
        rsa.check_valid_at(rsa.not_before).unwrap();
        assert!(matches!(
            rsa.check_valid_at(rsa.not_before - chrono::Duration::seconds(1)),
            Err(X509Error::OutsideValidity(..))
        ));
        let id = rsa.id();
        assert_eq!(id.len(), 32);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        assert_ne!(id, ParsedCertificate::parse(EC_CERT).unwrap().id());
        // Two certificates in one body are a chain, not a certificate.
        let two = format!("{RSA_CERT}\n{EC_CERT}");
        assert_eq!(
            ParsedCertificate::parse(&two).unwrap_err(),
            X509Error::MalformedCertificate
        );
        assert_eq!(check_chain(&two).unwrap(), two.trim());
    }

    #[test]
    fn garbage_is_malformed_never_a_panic() {
        for text in [
            "",
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            "not pem",
        ] {
            assert_eq!(
                ParsedCertificate::parse(text).unwrap_err(),
                X509Error::MalformedCertificate
            );
            assert!(check_chain(text).is_err());
            assert!(private_key_public_part(text).is_err());
        }
    }
}
