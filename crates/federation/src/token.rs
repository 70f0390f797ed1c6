//! Compact JWS ID tokens: peeking before verification, and verification.

use std::fmt;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use crate::json::{parse_object, JsonError};
use crate::jwks::{KeySet, Verification};

/// The longest token accepted, in bytes: the length limit AWS documents for
/// `AssumeRoleWithWebIdentity`'s `WebIdentityToken` (20,000 characters; a
/// well-formed token is ASCII, so characters and bytes agree).
pub const MAX_TOKEN_LEN: usize = 20_000;

/// A signature algorithm this crate verifies.
///
/// The list is closed on purpose: see the crate documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, verified with an RSA key.
    Rs256,
    /// ECDSA on P-256 with SHA-256, the signature being the 64-byte `r || s`
    /// JWS uses (not DER), verified with an EC P-256 key.
    Es256,
}

impl Alg {
    /// The JWS `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }

    /// The algorithm a JWS `alg` names, matched exactly (names are
    /// case-sensitive), or `None` for any algorithm not supported.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            _ => None,
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a token was refused.
///
/// The api answers [`TokenError::Expired`] with `ExpiredTokenException` and
/// everything else with `InvalidIdentityToken`. Messages are short and never
/// quote the token or its claims, so they are safe to return and to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a compact JWS of base64url-encoded JSON objects, or a header this
    /// crate cannot honour.
    #[error("the token is malformed: {0}")]
    Malformed(&'static str),
    /// Longer than [`MAX_TOKEN_LEN`] bytes.
    #[error("the token is too large")]
    TooLarge,
    /// The header's `alg` is not RS256 or ES256. The name is shortened and
    /// reduced to safe characters before it is kept.
    #[error("the token's signing algorithm `{0}` is not supported")]
    UnsupportedAlgorithm(String),
    /// No key of the provider has the token's `kid` and the type its `alg`
    /// needs (or, without a `kid`, no key has that type).
    #[error("no key of the provider can verify the token")]
    UnknownKey,
    /// Eligible keys exist but none verifies the signature.
    #[error("the token's signature is not valid")]
    BadSignature,
    /// `iss` differs from the provider's issuer.
    #[error("the token's issuer does not match the provider")]
    WrongIssuer,
    /// `exp`, plus the leeway, is not after the current time.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is later than the current time plus the leeway.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// A required claim is absent.
    #[error("the token has no `{0}` claim")]
    MissingClaim(&'static str),
    /// A claim has the wrong type or an impossible value.
    #[error("the token's `{0}` claim is not valid")]
    InvalidClaim(&'static str),
}

/// A token decoded but not verified: enough to choose the provider whose keys
/// will verify it, and nothing that may be trusted.
///
/// Every accessor returns what the sender wrote. Use [`UnverifiedToken::issuer`]
/// only to look the provider up among those the account registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedToken {
    algorithm: String,
    key_id: Option<String>,
    issuer: Option<String>,
}

impl UnverifiedToken {
    /// Decodes a compact JWS (`header.payload.signature`) without verifying it.
    ///
    /// # Errors
    ///
    /// [`TokenError::TooLarge`] past [`MAX_TOKEN_LEN`] bytes, and
    /// [`TokenError::Malformed`] unless the token is exactly three unpadded
    /// base64url parts whose first two are JSON objects nesting at most
    /// [`MAX_JSON_DEPTH`](crate::MAX_JSON_DEPTH) deep, the header naming its
    /// `alg` as a string and its `kid`, if any, as a string, and listing no
    /// `crit` parameters.
    pub fn peek(token: &str) -> Result<Self, TokenError> {
        let parts = Parts::split(token)?;
        Ok(Self {
            algorithm: parts.header.algorithm,
            key_id: parts.header.key_id,
            issuer: parts
                .claims
                .get("iss")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    /// The `iss` claim, if it is a string.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The header's `kid`, if any.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// The header's `alg`, whatever it is (`"none"` included).
    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }
}

/// A token whose signature, issuer and validity period have been checked.
///
/// The audience is *not* checked: which audiences are acceptable is the
/// provider's client ID list, which the caller holds. Use
/// [`VerifiedToken::has_audience`].
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    algorithm: Alg,
    key_id: Option<String>,
    issuer: String,
    subject: String,
    audiences: Vec<String>,
    authorized_party: Option<String>,
    amr: Vec<String>,
    issued_at: Option<DateTime<Utc>>,
    not_before: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    claims: Map<String, Value>,
}

impl VerifiedToken {
    /// The algorithm the signature was verified with.
    pub fn algorithm(&self) -> Alg {
        self.algorithm
    }

    /// The `kid` of the key that signed it, if the header named one.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// `iss`: equal to the expected issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `sub`: the provider's identifier for the user or workload, AWS's
    /// `<provider>:sub` condition key and `SubjectFromWebIdentityToken`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// `aud`, as a list whether the token carried a string or an array; never
    /// empty.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// Whether `audience` is one of [`VerifiedToken::audiences`], compared
    /// exactly.
    pub fn has_audience(&self, audience: &str) -> bool {
        self.audiences.iter().any(|aud| aud == audience)
    }

    /// `azp`, the client the token was issued to, when the provider says.
    pub fn authorized_party(&self) -> Option<&str> {
        self.authorized_party.as_deref()
    }

    /// `amr`, the authentication methods, as a list whether the token
    /// carried a string or an array; empty when absent.
    pub fn amr(&self) -> &[String] {
        &self.amr
    }

    /// `iat`, when present.
    pub fn issued_at(&self) -> Option<DateTime<Utc>> {
        self.issued_at
    }

    /// `nbf`, when present.
    pub fn not_before(&self) -> Option<DateTime<Utc>> {
        self.not_before
    }

    /// `exp`.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }

    /// Every claim of the payload, for condition keys beyond the ones above.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// Every claim of the payload, by value.
    pub fn into_claims(self) -> Map<String, Value> {
        self.claims
    }
}

/// Verifies `token` against `keys` and the provider's issuer at time `now`.
///
/// In order: the header's `alg` must be RS256 or ES256; a key of `keys` of
/// the matching type (and, if the header has a `kid`, with that `kid`) must
/// verify the signature; `iss` must equal `expected_issuer` exactly; `exp`,
/// `sub` and `aud` must be present and well typed, as must `nbf`, `iat`,
/// `azp` and `amr` when present; and `now` must be before `exp` and not
/// before `nbf`, each widened by `leeway` to absorb clock skew between the
/// provider and the service.
///
/// Any `jku`, `x5u`, `jwk` or `x5c` in the header is ignored: the keys come
/// only from the provider's published set.
///
/// # Errors
///
/// The first check that fails, as a [`TokenError`].
pub fn verify(
    token: &str,
    keys: &KeySet,
    expected_issuer: &str,
    now: DateTime<Utc>,
    leeway: Duration,
) -> Result<VerifiedToken, TokenError> {
    let parts = Parts::split(token)?;
    let algorithm = Alg::from_name(&parts.header.algorithm)
        .ok_or_else(|| TokenError::UnsupportedAlgorithm(printable_name(&parts.header.algorithm)))?;
    match keys.verify(
        algorithm,
        parts.header.key_id.as_deref(),
        parts.signing_input.as_bytes(),
        &parts.signature,
    ) {
        Verification::Verified => {}
        Verification::BadSignature => return Err(TokenError::BadSignature),
        Verification::NoKey => return Err(TokenError::UnknownKey),
    }

    let claims = parts.claims;
    let issuer = match claims.get("iss") {
        None => return Err(TokenError::MissingClaim("iss")),
        Some(Value::String(issuer)) if issuer == expected_issuer => issuer.clone(),
        Some(Value::String(_)) => return Err(TokenError::WrongIssuer),
        Some(_) => return Err(TokenError::InvalidClaim("iss")),
    };
    let expires_at = numeric_date(&claims, "exp")?.ok_or(TokenError::MissingClaim("exp"))?;
    let not_before = numeric_date(&claims, "nbf")?;
    let issued_at = numeric_date(&claims, "iat")?;
    let subject = match claims.get("sub") {
        None => return Err(TokenError::MissingClaim("sub")),
        Some(Value::String(subject)) if !subject.is_empty() => subject.clone(),
        Some(_) => return Err(TokenError::InvalidClaim("sub")),
    };
    let audiences = match claims.get("aud") {
        None => return Err(TokenError::MissingClaim("aud")),
        Some(aud) => match string_or_strings(aud) {
            Some(audiences) if !audiences.is_empty() => audiences,
            _ => return Err(TokenError::InvalidClaim("aud")),
        },
    };
    let authorized_party = match claims.get("azp") {
        None => None,
        Some(Value::String(azp)) => Some(azp.clone()),
        Some(_) => return Err(TokenError::InvalidClaim("azp")),
    };
    let amr = match claims.get("amr") {
        None => Vec::new(),
        Some(amr) => string_or_strings(amr).ok_or(TokenError::InvalidClaim("amr"))?,
    };

    // A leeway too large for chrono is as good as infinite; so is a bound
    // pushed past the end of chrono's calendar.
    let leeway = TimeDelta::from_std(leeway).unwrap_or(TimeDelta::MAX);
    let expiry = expires_at
        .checked_add_signed(leeway)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    if now >= expiry {
        return Err(TokenError::Expired);
    }
    if let Some(not_before) = not_before {
        let latest = now
            .checked_add_signed(leeway)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if not_before > latest {
            return Err(TokenError::NotYetValid);
        }
    }

    Ok(VerifiedToken {
        algorithm,
        key_id: parts.header.key_id,
        issuer,
        subject,
        audiences,
        authorized_party,
        amr,
        issued_at,
        not_before,
        expires_at,
        claims,
    })
}

/// A compact JWS taken apart: what both [`UnverifiedToken::peek`] and
/// [`verify`] start from.
struct Parts<'a> {
    header: Header,
    claims: Map<String, Value>,
    /// `header.payload` exactly as sent: what the signature covers.
    signing_input: &'a str,
    signature: Vec<u8>,
}

struct Header {
    algorithm: String,
    key_id: Option<String>,
}

impl<'a> Parts<'a> {
    fn split(token: &'a str) -> Result<Self, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLarge);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed("not three dot-separated parts"));
        };
        let signing_input = &token[..header.len() + 1 + payload.len()];

        let header = decode_object(header, "header is not a base64url JSON object")?;
        let claims = decode_object(payload, "payload is not a base64url JSON object")?;
        // The signature may be empty here (an `alg: none` token has one);
        // `verify` refuses such tokens for their algorithm.
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed("signature is not base64url"))?;

        let algorithm = match header.get("alg") {
            Some(Value::String(alg)) => alg.clone(),
            _ => return Err(TokenError::Malformed("header has no algorithm")),
        };
        let key_id = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(TokenError::Malformed("header key ID is not a string")),
        };
        // RFC 7515 section 4.1.11: a recipient must refuse a token whose
        // `crit` names extensions it does not implement, and this crate
        // implements none.
        if header.contains_key("crit") {
            return Err(TokenError::Malformed("critical header extensions"));
        }
        Ok(Self {
            header: Header { algorithm, key_id },
            claims,
            signing_input,
            signature,
        })
    }
}

fn decode_object(part: &str, malformed: &'static str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed(malformed))?;
    parse_object(&bytes).map_err(|error| match error {
        JsonError::TooDeep => TokenError::Malformed("JSON nests too deeply"),
        JsonError::NotAnObject => TokenError::Malformed(malformed),
    })
}

/// An RFC 7519 NumericDate claim: seconds since the epoch, possibly
/// fractional. `None` when absent.
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<DateTime<Utc>>, TokenError> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    let Value::Number(number) = value else {
        return Err(TokenError::InvalidClaim(name));
    };
    let date = if let Some(seconds) = number.as_i64() {
        DateTime::from_timestamp(seconds, 0)
    } else {
        number
            .as_f64()
            .filter(|seconds| seconds.is_finite() && seconds.abs() < 1e15)
            .and_then(|seconds| {
                let whole = seconds.floor();
                // Both casts are exact or in range: |whole| < 1e15, and the
                // fraction is in [0, 1).
                let nanos = ((seconds - whole) * 1e9) as u32;
                DateTime::from_timestamp(whole as i64, nanos.min(999_999_999))
            })
    };
    date.map(Some).ok_or(TokenError::InvalidClaim(name))
}

/// A claim that may be one string or an array of strings, as a list; `None`
/// when it is neither.
fn string_or_strings(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(one) => Some(vec![one.clone()]),
        Value::Array(many) => many
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

/// The sender's `alg`, cut to 16 characters of `[A-Za-z0-9+_-]` (others shown
/// as `?`) so that an error message cannot carry arbitrary text into a log.
fn printable_name(name: &str) -> String {
    name.chars()
        .take(16)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '+' | '_' | '-') {
                c
            } else {
                '?'
            }
        })
        .collect()
}
