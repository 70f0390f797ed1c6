//! Identity federation for STS: OpenID Connect ID token verification for
//! `sts:AssumeRoleWithWebIdentity`, and SAML 2.0 response verification for
//! `sts:AssumeRoleWithSAML` (in [`saml`]).
//!
//! `AssumeRoleWithWebIdentity` trades an ID token from an external identity
//! provider (an IAM OIDC provider: GitHub Actions, a Kubernetes cluster,
//! Google, Cognito...) for temporary credentials. The token is a JWT signed by
//! the provider; the service must prove it was signed by a key the provider
//! publishes, and that it is meant for now and for this provider, before any
//! of its claims reach the role's trust policy.
//!
//! This crate is the pure part of that:
//!
//! * [`Discovery`]: the provider's `/.well-known/openid-configuration`
//!   document, for its `issuer` and `jwks_uri`.
//! * [`KeySet`]: the JSON Web Key Set at `jwks_uri`, keeping only keys that can
//!   verify RS256 or ES256 signatures.
//! * [`UnverifiedToken::peek`]: the token's `iss`, `kid` and `alg` before
//!   verification, so the caller can pick the provider and its keys.
//! * [`verify`]: the signature, issuer, expiry and not-before checks, giving a
//!   [`VerifiedToken`] whose claims feed the trust policy's condition keys.
//!
//! Nothing here does I/O, reads a clock or keeps state: the caller fetches and
//! caches the two documents, passes the current time, and decides what to do
//! with the audience (AWS checks it against the provider's client ID list).
//!
//! Only RS256 and ES256 are accepted: they are what OIDC providers sign ID
//! tokens with, and refusing everything else (`none`, the HMAC family whose
//! "secret" an attacker could set to a public key, RSASSA-PSS) removes the
//! algorithm-confusion attacks JWT libraries are known for. A key only ever
//! verifies the one algorithm its type allows.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use iam_federation::{verify, Discovery, KeySet, UnverifiedToken};
//!
//! /// `fetch` stands for the api's cached HTTPS client.
//! fn check(token: &str, fetch: impl Fn(&str) -> Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
//!     // Pick the provider by `iss`. A real caller looks `iss` up among the
//!     // OIDC providers the account registered and never fetches an arbitrary
//!     // issuer's URL.
//!     let peeked = UnverifiedToken::peek(token)?;
//!     let issuer = peeked.issuer().ok_or("token has no issuer")?;
//!
//!     let discovery = Discovery::parse(&fetch(&format!("{issuer}/.well-known/openid-configuration")))?;
//!     let keys = KeySet::parse(&fetch(discovery.jwks_uri()))?;
//!
//!     let token = verify(token, &keys, discovery.issuer(), chrono::Utc::now(), Duration::from_secs(60))?;
//!     if !token.has_audience("sts.amazonaws.com") {
//!         return Err("token is not meant for this service".into());
//!     }
//!     println!("{} from {}", token.subject(), token.issuer());
//!     Ok(())
//! }
//! ```
//!
//! [`saml`] does the same for `AssumeRoleWithSAML`: it parses an identity
//! provider's SAML metadata (its entity ID and signing certificates, as
//! `CreateSAMLProvider` stores them) and verifies a base64 SAML response
//! against it, giving the subject, the `Role` pairs, the session name and
//! tags, and the other attributes. XML signatures are verified by the pure
//! Rust `bergshamra` crate, with this crate enforcing the SAML profile around
//! it (signatures only on the response or its one assertion, referencing
//! their parent, exclusive c14n and SHA-2, keys only from the metadata), so
//! that the assertion read is always the one that was signed. It is as pure
//! as the OIDC part: no I/O, no clock, no state.

mod discovery;
mod json;
mod jwks;
pub mod saml;
mod token;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(test)]
mod tests;

pub use discovery::Discovery;
pub use jwks::{KeySet, MAX_KEYS};
pub use token::{verify, Alg, TokenError, UnverifiedToken, VerifiedToken, MAX_TOKEN_LEN};

/// The largest discovery or JWKS document accepted, in bytes.
///
/// Real documents are a few kilobytes; a JWKS of [`MAX_KEYS`] keys that each
/// carry an `x5c` certificate chain stays well below this. The bound keeps a
/// hostile or broken provider from making the service parse megabytes.
pub const MAX_DOCUMENT_LEN: usize = 512 * 1024;

/// How deeply JSON may nest in a token or a document.
///
/// ID tokens and key sets nest three or four levels deep; the bound refuses
/// pathological input before `serde_json` recurses into it.
pub const MAX_JSON_DEPTH: usize = 32;

/// Why a discovery or JWKS document was refused.
///
/// These are the provider's fault, not the caller's: the api reports them as
/// an invalid identity token (the provider cannot vouch for it) and may retry
/// the fetch later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FederationError {
    /// The document is longer than [`MAX_DOCUMENT_LEN`] bytes or nests deeper
    /// than [`MAX_JSON_DEPTH`] levels.
    #[error("the provider document is too large")]
    TooLarge,
    /// The document is not a JSON object of the expected shape.
    #[error("the provider document is malformed: {0}")]
    Malformed(&'static str),
    /// A required member is absent, empty or not a string.
    #[error("the provider document has no valid `{0}`")]
    MissingField(&'static str),
    /// The key set lists more than [`MAX_KEYS`] keys.
    #[error("the provider key set has too many keys")]
    TooManyKeys,
}
