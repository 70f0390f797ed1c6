//! Test helpers: an OpenID Connect provider that generates its own keys and
//! signs tokens, so tests need no fixtures and no network.
//!
//! Available with the `testing` feature (and in this crate's own tests). The
//! keys live only in memory and are new for every [`TestIssuer`]; nothing here
//! belongs in a build that serves requests.
//!
//! ```
//! use std::time::Duration;
//!
//! use iam_federation::testing::TestIssuer;
//! use iam_federation::{verify, Alg, KeySet};
//!
//! let issuer = TestIssuer::new("https://oidc.example.com");
//! let keys = KeySet::parse(issuer.jwks_json().as_bytes()).unwrap();
//! let now = chrono::Utc::now();
//! let token = issuer.sign(issuer.claims("user-1", "sts.amazonaws.com", now), Alg::Es256);
//! let verified = verify(&token, &keys, issuer.issuer(), now, Duration::ZERO).unwrap();
//! assert_eq!(verified.subject(), "user-1");
//! ```

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use ring::digest::{digest, SHA256};
use ring::hmac;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs1v15::SigningKey;
use rsa::rand_core::OsRng;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::Alg;

/// Bits of the generated RSA key: the smallest [`KeySet`](crate::KeySet)
/// accepts, and the quickest to generate.
const RSA_BITS: usize = 2048;

/// How long [`TestIssuer::claims`] makes a token valid: an hour, like most
/// providers' ID tokens.
const LIFETIME_SECONDS: i64 = 3600;

/// An identity provider for tests, with one RS256 and one ES256 key.
///
/// Construction generates both keys; the RSA one takes a noticeable fraction
/// of a second, so share one issuer between tests where possible. Each key's
/// `kid` is its RFC 7638 thumbprint, so two issuers never share a `kid`.
pub struct TestIssuer {
    issuer: String,
    rng: SystemRandom,
    ec: EcdsaKeyPair,
    ec_jwk: Value,
    rsa: SigningKey<Sha256>,
    rsa_public: RsaPublicKey,
    rsa_jwk: Value,
}

impl TestIssuer {
    /// A provider whose tokens carry `iss: issuer_url`, with freshly
    /// generated keys.
    ///
    /// # Panics
    ///
    /// When the operating system's random number generator fails.
    pub fn new(issuer_url: impl Into<String>) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("generate a P-256 key");
        let ec = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("load the generated P-256 key");
        // The public key is the uncompressed point 0x04 || x || y.
        let point = ec.public_key().as_ref();
        let (x, y) = point[1..].split_at(32);
        let ec_jwk = with_thumbprint(
            json!({"crv": "P-256", "kty": "EC", "x": b64(x), "y": b64(y)}),
            "ES256",
        );

        let private = RsaPrivateKey::new(&mut OsRng, RSA_BITS).expect("generate an RSA key");
        let rsa_public = private.to_public_key();
        let rsa_jwk = with_thumbprint(
            json!({
                "e": b64(&rsa_public.e().to_bytes_be()),
                "kty": "RSA",
                "n": b64(&rsa_public.n().to_bytes_be()),
            }),
            "RS256",
        );

        Self {
            issuer: issuer_url.into(),
            rng,
            ec,
            ec_jwk,
            rsa: SigningKey::new(private),
            rsa_public,
            rsa_jwk,
        }
    }

    /// The issuer URL given to [`TestIssuer::new`].
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `kid` of the key that signs `alg`.
    pub fn key_id(&self, alg: Alg) -> &str {
        self.jwk(alg)["kid"].as_str().unwrap_or_default()
    }

    /// The key for `alg` as a public JWK (with `kid`, `use` and `alg`).
    pub fn jwk(&self, alg: Alg) -> &Value {
        match alg {
            Alg::Rs256 => &self.rsa_jwk,
            Alg::Es256 => &self.ec_jwk,
        }
    }

    /// The JWKS document publishing both public keys.
    pub fn jwks_json(&self) -> String {
        json!({"keys": [self.rsa_jwk, self.ec_jwk]}).to_string()
    }

    /// A discovery document naming this issuer and `jwks_uri`.
    pub fn discovery_json(&self, jwks_uri: &str) -> String {
        json!({
            "issuer": self.issuer,
            "jwks_uri": jwks_uri,
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        })
        .to_string()
    }

    /// Typical ID token claims: this issuer, `sub`, `aud`, issued at `now`
    /// and expiring an hour later. Edit the returned object for other cases.
    pub fn claims(&self, subject: &str, audience: &str, now: DateTime<Utc>) -> Value {
        json!({
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "iat": now.timestamp(),
            "exp": (now + TimeDelta::seconds(LIFETIME_SECONDS)).timestamp(),
        })
    }

    /// A token for `claims` signed with the key for `alg`, whose header names
    /// `alg`, the key's `kid` and `typ: JWT`.
    pub fn sign(&self, claims: Value, alg: Alg) -> String {
        let header = json!({"alg": alg.as_str(), "typ": "JWT", "kid": self.key_id(alg)});
        self.sign_with_header(header, claims, alg)
    }

    /// A token with exactly `header`, signed with the key for `alg` whatever
    /// the header says: for tokens that lie about their algorithm or key.
    pub fn sign_with_header(&self, header: Value, claims: Value, alg: Alg) -> String {
        let signing_input = signing_input(&header, &claims);
        let signature = match alg {
            Alg::Rs256 => self.rsa.sign(signing_input.as_bytes()).to_vec(),
            Alg::Es256 => self
                .ec
                .sign(&self.rng, signing_input.as_bytes())
                .expect("sign with the P-256 key")
                .as_ref()
                .to_vec(),
        };
        format!("{signing_input}.{}", b64(&signature))
    }

    /// The classic algorithm-confusion forgery: an HS256 token naming the
    /// RSA key's `kid`, "signed" with HMAC-SHA256 keyed by that public key
    /// (its PKCS#1 DER). A verifier that let the header pick the algorithm
    /// and used the key's bytes as the secret would accept it.
    pub fn forge_hs256(&self, claims: Value) -> String {
        let header = json!({"alg": "HS256", "typ": "JWT", "kid": self.key_id(Alg::Rs256)});
        let secret = self
            .rsa_public
            .to_pkcs1_der()
            .expect("encode the RSA public key");
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let signing_input = signing_input(&header, &claims);
        let tag = hmac::sign(&key, signing_input.as_bytes());
        format!("{signing_input}.{}", b64(tag.as_ref()))
    }
}

impl fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestIssuer")
            .field("issuer", &self.issuer)
            .field("rs256_kid", &self.key_id(Alg::Rs256))
            .field("es256_kid", &self.key_id(Alg::Es256))
            .finish_non_exhaustive()
    }
}

/// A compact JWS from any header, claims and signature bytes, e.g. an
/// `alg: none` token with an empty signature.
pub fn assemble(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!("{}.{}", signing_input(header, claims), b64(signature))
}

/// `token` with its payload replaced by `claims` and its signature kept, as
/// an attacker editing a genuine token would make it.
pub fn replace_payload(token: &str, claims: &Value) -> String {
    let mut parts = token.split('.');
    let header = parts.next().unwrap_or_default();
    let _payload = parts.next();
    let signature = parts.next().unwrap_or_default();
    format!(
        "{header}.{}.{signature}",
        b64(claims.to_string().as_bytes())
    )
}

fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Adds `kid` (the RFC 7638 thumbprint), `use` and `alg` to a JWK holding
/// only its required members.
///
/// The thumbprint hashes the required members, sorted, without whitespace.
/// `serde_json` serialises members sorted, or in insertion order with its
/// `preserve_order` feature; callers write them sorted, so either way works.
fn with_thumbprint(mut jwk: Value, alg: &str) -> Value {
    let thumbprint = b64(digest(&SHA256, jwk.to_string().as_bytes()).as_ref());
    if let Value::Object(members) = &mut jwk {
        members.insert("kid".to_owned(), Value::String(thumbprint));
        members.insert("use".to_owned(), Value::String("sig".to_owned()));
        members.insert("alg".to_owned(), Value::String(alg.to_owned()));
    }
    jwk
}
