//! AWS Signature Version 4: verification of signed requests, and a signer.
//!
//! # Design
//!
//! This module is pure: no I/O, no clock, no HTTP framework types. A request
//! is an [`HttpRequest`] — method, raw path, raw query string (without `?`),
//! headers as `(name, value bytes)` pairs in arrival order, and the raw body —
//! and the current time is a parameter. The server adapts its own request
//! type to [`HttpRequest`] and turns a [`SigV4Error`] into an AWS error
//! response with [`SigV4Error::code`], [`SigV4Error::http_status`] and the
//! error's `Display` message.
//!
//! Verification is split in two so that the secret can be looked up
//! asynchronously (in a database) between the halves:
//!
//! 1. [`prepare`] parses the `Authorization` header or the presigned query
//!    parameters, checks the credential scope (allowed service, terminator,
//!    date equal to `X-Amz-Date`'s), the clock (±[`VerifyConfig::max_clock_skew`],
//!    or the `X-Amz-Expires` window of a presigned request) and the declared
//!    payload hash against the body. It yields a [`PendingVerification`]
//!    naming the access key id.
//! 2. [`PendingVerification::complete`] takes the secret found for that key
//!    (or `None`: [`SigV4Error::InvalidClientTokenId`]), rebuilds the
//!    canonical request, the string to sign and the signature, and compares
//!    the signature in constant time.
//!
//! [`verify`] does both with a synchronous lookup.
//!
//! The canonical request follows AWS's rules for every service but S3, as
//! AWS's signing test suite pins them down (`crates/api/tests/sigv4_suite.rs`
//! runs every case of it):
//!
//! * **URI**: the path as received, with `.`/`..` segments and repeated
//!   slashes removed ([`VerifyConfig::normalize_path`]), then URI-encoded
//!   with `/` kept. The received path is normally already percent-encoded,
//!   so `%` becomes `%25`: the "double encoding" of the AWS SDKs for non-S3
//!   services.
//! * **Query**: every parameter (but `X-Amz-Signature` when presigned)
//!   percent-decoded, then each name and value URI-encoded (unreserved
//!   characters only), sorted by name then value.
//! * **Headers**: the headers named in `SignedHeaders`, lower-cased; each
//!   value trimmed with runs of whitespace collapsed to one space; repeated
//!   headers joined with `,` in arrival order.
//! * **Payload**: hex SHA-256 of the raw body; an `x-amz-content-sha256`
//!   header, if present, must equal it (or be `UNSIGNED-PAYLOAD`, accepted
//!   for presigned requests only).
//!
//! The `host` header must be signed. A security token
//! (`X-Amz-Security-Token`, header or query parameter) is returned in
//! [`VerifiedCaller::security_token`]; checking it is the server's job.
//!
//! [`sign`] and [`presign`] produce signatures the same way SDKs do; tests
//! use them, and so can the server's own test clients.
//!
//! The decisions this design makes where AWS's behaviour is not pinned down
//! are recorded in `docs/sigv4.md`.

mod canonical;
mod error;
mod sign;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use subtle::ConstantTimeEq;

pub use canonical::{
    canonical_header_value, canonical_query, canonical_request, canonical_uri, normalize_path,
    parse_query, sha256_hex, signature, signing_key, string_to_sign, uri_encode, QueryParam,
    ALGORITHM, EMPTY_SHA256, TERMINATOR,
};
pub use error::{SigV4Error, SIGNATURE_DOES_NOT_MATCH_MESSAGE};
pub use sign::{presign, sign, Credentials, SigningOutput, SigningParams, SigningSettings};

/// A request as the verifier and the signer see it.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The path as received (percent-encoded as on the wire), e.g. `/`.
    pub path: &'a str,
    /// The raw query string without the `?`; empty when there is none.
    pub query: &'a str,
    /// Every header in arrival order, names in any case. With HTTP/2 the
    /// server must supply `host` from the `:authority` pseudo-header.
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The raw body.
    pub body: &'a [u8],
}

/// A secret access key, as the lookup returns it. Its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret_access_key: impl Into<String>) -> Self {
        Secret(secret_access_key.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What verification accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyConfig {
    /// Services accepted in the credential scope (`iam`, `sts`).
    pub allowed_services: Vec<String>,
    /// How far `X-Amz-Date` may be from `now`, either way (15 minutes).
    pub max_clock_skew: Duration,
    /// The largest `X-Amz-Expires` of a presigned request, in seconds (7 days).
    pub max_presign_expires_seconds: u64,
    /// Normalize the path (`.`/`..` segments, repeated slashes) before
    /// encoding it, as AWS does for every service but S3.
    pub normalize_path: bool,
    /// Accept an `X-Amz-Security-Token` that is not covered by the
    /// signature (added after signing; AWS's `post-sts-header-after`
    /// test case). The token is returned either way, and the server must
    /// check that it belongs to the access key.
    pub accept_unsigned_security_token: bool,
}

impl VerifyConfig {
    /// The configuration of iamd: services `iam` and `sts`.
    pub fn iam_and_sts() -> Self {
        Self::for_services(&["iam", "sts"])
    }

    /// Defaults with the given allowed services.
    pub fn for_services(services: &[&str]) -> Self {
        VerifyConfig {
            allowed_services: services.iter().map(|s| (*s).to_owned()).collect(),
            max_clock_skew: Duration::minutes(15),
            max_presign_expires_seconds: 7 * 24 * 3600,
            normalize_path: true,
            accept_unsigned_security_token: true,
        }
    }
}

impl Default for VerifyConfig {
    fn default() -> Self {
        Self::iam_and_sts()
    }
}

/// How the request carried its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// `Authorization: AWS4-HMAC-SHA256 ...` header.
    Header,
    /// `X-Amz-*` query parameters (a presigned URL).
    Presigned,
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCaller {
    pub access_key_id: String,
    /// The region of the credential scope (any region is accepted).
    pub region: String,
    /// The service of the credential scope (one of the allowed services).
    pub service: String,
    /// `X-Amz-Security-Token`, for the server to check.
    pub security_token: Option<String>,
    /// Whether the security token was covered by the signature (false when
    /// there is none, or it was added after signing and
    /// [`VerifyConfig::accept_unsigned_security_token`] let it through).
    pub security_token_signed: bool,
    /// `X-Amz-Date`.
    pub signed_at: DateTime<Utc>,
    pub kind: AuthKind,
    /// For a presigned request: `signed_at + X-Amz-Expires`.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Verifies a request: [`prepare`], look the secret up, [`PendingVerification::complete`].
pub fn verify(
    req: &HttpRequest<'_>,
    config: &VerifyConfig,
    lookup_secret: impl FnOnce(&str) -> Option<Secret>,
    now: DateTime<Utc>,
) -> Result<VerifiedCaller, SigV4Error> {
    let pending = prepare(req, config, now)?;
    let secret = lookup_secret(pending.access_key_id());
    pending.complete(secret.as_ref())
}

/// A request whose authentication parameters are well-formed and current,
/// waiting for the secret of [`PendingVerification::access_key_id`].
#[derive(Debug, Clone)]
pub struct PendingVerification<'a> {
    req: HttpRequest<'a>,
    normalize_path: bool,
    accept_unsigned_security_token: bool,
    kind: AuthKind,
    access_key_id: String,
    scope_date: String,
    region: String,
    service: String,
    signed_headers: Vec<String>,
    signature: String,
    amz_date: String,
    signed_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    security_token: Option<String>,
    /// The token came as an unsigned header (not in `SignedHeaders`).
    token_unsigned_header: bool,
    /// The token came as a query parameter of a presigned request.
    token_in_presigned_query: bool,
    params: Vec<QueryParam>,
    payload_hash: String,
}

const X_AMZ_ALGORITHM: &[u8] = b"X-Amz-Algorithm";
const X_AMZ_CREDENTIAL: &[u8] = b"X-Amz-Credential";
const X_AMZ_DATE: &[u8] = b"X-Amz-Date";
const X_AMZ_SIGNED_HEADERS: &[u8] = b"X-Amz-SignedHeaders";
const X_AMZ_SIGNATURE: &[u8] = b"X-Amz-Signature";
const X_AMZ_EXPIRES: &[u8] = b"X-Amz-Expires";
const X_AMZ_SECURITY_TOKEN: &[u8] = b"X-Amz-Security-Token";

fn header_values<'h>(
    headers: &'h [(&'h str, &'h [u8])],
    name: &'h str,
) -> impl Iterator<Item = &'h [u8]> + 'h {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// At most one header of that name, as trimmed UTF-8.
fn single_header(headers: &[(&str, &[u8])], name: &str) -> Result<Option<String>, SigV4Error> {
    let mut values = header_values(headers, name);
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(SigV4Error::incomplete(format!(
            "The request must not contain more than one '{name}' header."
        )));
    }
    let text = std::str::from_utf8(first)
        .map_err(|_| SigV4Error::incomplete(format!("The '{name}' header is not valid UTF-8.")))?;
    Ok(Some(text.trim().to_owned()))
}

/// At most one query parameter of that name, as UTF-8.
fn single_param(params: &[QueryParam], name: &[u8]) -> Result<Option<String>, SigV4Error> {
    let display = String::from_utf8_lossy(name);
    let mut values = params.iter().filter(|p| p.name == name);
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(SigV4Error::incomplete(format!(
            "The query string must not contain more than one '{display}' parameter."
        )));
    }
    String::from_utf8(first.value.clone())
        .map(Some)
        .map_err(|_| {
            SigV4Error::incomplete(format!("The '{display}' parameter is not valid UTF-8."))
        })
}

/// `Credential=AKID/YYYYMMDD/REGION/SERVICE/aws4_request`.
struct CredentialScope {
    access_key_id: String,
    date: String,
    region: String,
    service: String,
    terminator: String,
}

fn parse_credential(credential: &str) -> Result<CredentialScope, SigV4Error> {
    let malformed = || {
        SigV4Error::incomplete(format!(
            "Credential is malformed; expecting \"<ACCESS-KEY-ID>/YYYYMMDD/REGION/SERVICE/aws4_request\", got '{credential}'."
        ))
    };
    let parts: Vec<&str> = credential.split('/').collect();
    if parts.len() != 5 || parts.iter().any(|p| p.is_empty()) {
        return Err(malformed());
    }
    Ok(CredentialScope {
        access_key_id: parts[0].to_owned(),
        date: parts[1].to_owned(),
        region: parts[2].to_owned(),
        service: parts[3].to_owned(),
        terminator: parts[4].to_owned(),
    })
}

fn parse_signed_headers(list: &str) -> Result<Vec<String>, SigV4Error> {
    let names: Vec<String> = list
        .split(';')
        .map(|n| n.trim().to_ascii_lowercase())
        .collect();
    let valid = |n: &String| !n.is_empty() && n.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    if !names.iter().all(valid) {
        return Err(SigV4Error::incomplete(format!(
            "SignedHeaders '{list}' is malformed."
        )));
    }
    if !names.iter().any(|n| n == "host") {
        return Err(SigV4Error::incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    Ok(names)
}

/// `YYYYMMDDTHHMMSSZ`.
fn parse_amz_date(value: &str) -> Result<DateTime<Utc>, SigV4Error> {
    let b = value.as_bytes();
    let shape_ok = b.len() == 16
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'Z';
    let parsed = if shape_ok {
        NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%SZ").ok()
    } else {
        None
    };
    parsed.map(|t| t.and_utc()).ok_or_else(|| {
        SigV4Error::incomplete(format!(
            "X-Amz-Date must be in the ISO8601 basic format \"yyyyMMdd'T'HHmmss'Z'\", got '{value}'."
        ))
    })
}

fn fmt_amz(t: &DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn fmt_span(d: Duration) -> String {
    let secs = d.num_seconds();
    if secs % 60 == 0 {
        format!("{} min.", secs / 60)
    } else {
        format!("{secs} sec.")
    }
}

/// The parsed `Authorization` header.
struct AuthorizationHeader {
    credential: String,
    signed_headers: String,
    signature: String,
}

fn parse_authorization(value: &[u8]) -> Result<AuthorizationHeader, SigV4Error> {
    let value = std::str::from_utf8(value)
        .map_err(|_| SigV4Error::incomplete("The Authorization header is not valid UTF-8."))?
        .trim();
    let (algorithm, rest) = match value.split_once(|c: char| c.is_ascii_whitespace()) {
        Some((a, r)) => (a, r),
        None => (value, ""),
    };
    if algorithm != ALGORITHM {
        return Err(SigV4Error::incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'; only '{ALGORITHM}' is supported."
        )));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, val)) = part.split_once('=') else {
            return Err(SigV4Error::incomplete(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header."
            )));
        };
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_some() {
            return Err(SigV4Error::incomplete(format!(
                "Authorization header contains '{key}' more than once."
            )));
        }
        *slot = Some(val.trim().to_owned());
    }
    let mut missing = String::new();
    for (present, name) in [
        (credential.is_some(), "Credential"),
        (signature.is_some(), "Signature"),
        (signed_headers.is_some(), "SignedHeaders"),
    ] {
        if !present {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    match (credential, signed_headers, signature) {
        (Some(credential), Some(signed_headers), Some(signature)) if missing.is_empty() => {
            Ok(AuthorizationHeader {
                credential,
                signed_headers,
                signature,
            })
        }
        _ => Err(SigV4Error::incomplete(missing.trim_end().to_owned())),
    }
}

/// Whether a raw query string carries query-string (presigned)
/// authentication: an `X-Amz-Algorithm`, `X-Amz-Credential` or
/// `X-Amz-Signature` parameter. The one definition [`prepare`] uses too.
pub fn is_presigned(query: &str) -> bool {
    presigned_params(&canonical::parse_query(query))
}

fn presigned_params(params: &[QueryParam]) -> bool {
    params.iter().any(|p| {
        p.name == X_AMZ_ALGORITHM || p.name == X_AMZ_SIGNATURE || p.name == X_AMZ_CREDENTIAL
    })
}

/// Parses and checks everything that does not need the secret, in this
/// order (so that a request with several faults gets the error AWS gives):
/// the security token's place, the authentication parameters, the
/// credential scope, the clock, the payload hash, the security token's
/// signing.
pub fn prepare<'a>(
    req: &HttpRequest<'a>,
    config: &VerifyConfig,
    now: DateTime<Utc>,
) -> Result<PendingVerification<'a>, SigV4Error> {
    let params = canonical::parse_query(req.query);
    let (header_token, query_token) = security_tokens(req, &params)?;
    let AuthParams {
        kind,
        credential,
        signed_headers,
        signature,
        amz_date,
        expires,
    } = auth_params(req, &params, config)?;

    let scope = parse_credential(&credential)?;
    let signed_headers = parse_signed_headers(&signed_headers)?;
    if kind == AuthKind::Header && signature.is_empty() {
        return Err(SigV4Error::incomplete(
            "Authorization header requires 'Signature' parameter.",
        ));
    }
    let signed_at = parse_amz_date(&amz_date)?;
    check_scope(&scope, config, &amz_date)?;
    let expires_at = check_clock(signed_at, &amz_date, expires, config.max_clock_skew, now)?;
    let payload_hash = payload_hash(req, kind)?;

    // The security token.
    let token_unsigned_header =
        header_token.is_some() && !signed_headers.iter().any(|h| h == "x-amz-security-token");
    if token_unsigned_header && !config.accept_unsigned_security_token {
        return Err(SigV4Error::incomplete(
            "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let token_in_presigned_query = kind == AuthKind::Presigned && query_token.is_some();
    let security_token = header_token.or(query_token);

    Ok(PendingVerification {
        req: *req,
        normalize_path: config.normalize_path,
        accept_unsigned_security_token: config.accept_unsigned_security_token,
        kind,
        access_key_id: scope.access_key_id,
        scope_date: scope.date,
        region: scope.region,
        service: scope.service,
        signed_headers,
        signature,
        amz_date,
        signed_at,
        expires_at,
        security_token,
        token_unsigned_header,
        token_in_presigned_query,
        params,
        payload_hash,
    })
}

/// The security token as a header and as a query parameter: at most one of
/// each, and not both.
fn security_tokens(
    req: &HttpRequest<'_>,
    params: &[QueryParam],
) -> Result<(Option<String>, Option<String>), SigV4Error> {
    let header_token = single_header(req.headers, "x-amz-security-token")?;
    let query_token = single_param(params, X_AMZ_SECURITY_TOKEN)?;
    if header_token.is_some() && query_token.is_some() {
        return Err(SigV4Error::incomplete(
            "X-Amz-Security-Token must be given either as a header or as a query parameter, not both.",
        ));
    }
    Ok((header_token, query_token))
}

/// The authentication parameters, as the `Authorization` header or the
/// presigned query parameters carry them, before they are parsed.
struct AuthParams {
    kind: AuthKind,
    credential: String,
    signed_headers: String,
    signature: String,
    amz_date: String,
    /// `X-Amz-Expires` of a presigned request, in seconds.
    expires: Option<u64>,
}

/// The request's authentication parameters, from exactly one of the two
/// mechanisms.
fn auth_params(
    req: &HttpRequest<'_>,
    params: &[QueryParam],
    config: &VerifyConfig,
) -> Result<AuthParams, SigV4Error> {
    let presigned = presigned_params(params);
    let has_header = header_values(req.headers, "authorization").next().is_some();
    match (has_header, presigned) {
        (false, false) => Err(SigV4Error::MissingAuthenticationToken),
        (true, true) => Err(SigV4Error::incomplete(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.",
        )),
        (true, false) => header_auth_params(req),
        (false, true) => presigned_auth_params(params, config),
    }
}

/// From the one `Authorization` header, with the `X-Amz-Date` header.
fn header_auth_params(req: &HttpRequest<'_>) -> Result<AuthParams, SigV4Error> {
    let mut values = header_values(req.headers, "authorization");
    let value = values.next().unwrap_or_default();
    if values.next().is_some() {
        return Err(SigV4Error::incomplete(
            "The request must not contain more than one 'Authorization' header.",
        ));
    }
    let auth = parse_authorization(value)?;
    let Some(amz_date) = single_header(req.headers, "x-amz-date")? else {
        return Err(SigV4Error::incomplete(
            "Authorization header requires existence of a 'X-Amz-Date' header (the 'Date' header is not supported).",
        ));
    };
    Ok(AuthParams {
        kind: AuthKind::Header,
        credential: auth.credential,
        signed_headers: auth.signed_headers,
        signature: auth.signature,
        amz_date,
        expires: None,
    })
}

/// From the `X-Amz-*` query parameters of a presigned request: all six
/// present, the algorithm supported, the expiry within the configured maximum.
fn presigned_auth_params(
    params: &[QueryParam],
    config: &VerifyConfig,
) -> Result<AuthParams, SigV4Error> {
    let algorithm = single_param(params, X_AMZ_ALGORITHM)?;
    let credential = single_param(params, X_AMZ_CREDENTIAL)?;
    let signature = single_param(params, X_AMZ_SIGNATURE)?;
    let amz_date = single_param(params, X_AMZ_DATE)?;
    let signed_headers = single_param(params, X_AMZ_SIGNED_HEADERS)?;
    let expires = single_param(params, X_AMZ_EXPIRES)?;
    let (
        Some(algorithm),
        Some(credential),
        Some(signature),
        Some(amz_date),
        Some(signed_headers),
        Some(expires),
    ) = (
        algorithm,
        credential,
        signature,
        amz_date,
        signed_headers,
        expires,
    )
    else {
        return Err(SigV4Error::incomplete(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
        ));
    };
    if algorithm != ALGORITHM {
        return Err(SigV4Error::incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'; only '{ALGORITHM}' is supported."
        )));
    }
    let max = config.max_presign_expires_seconds;
    let expires = match expires.parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => n,
        _ => {
            return Err(SigV4Error::incomplete(format!(
                "X-Amz-Expires must be a whole number of seconds from 1 to {max}, got '{expires}'."
            )))
        }
    };
    Ok(AuthParams {
        kind: AuthKind::Presigned,
        credential,
        signed_headers,
        signature,
        amz_date,
        expires: Some(expires),
    })
}

/// The credential scope: the terminator, an allowed service, and the date
/// of `X-Amz-Date` (already checked to be well-formed).
fn check_scope(
    scope: &CredentialScope,
    config: &VerifyConfig,
    amz_date: &str,
) -> Result<(), SigV4Error> {
    if scope.terminator != TERMINATOR {
        return Err(SigV4Error::SignatureDoesNotMatch(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{}'.",
            scope.terminator
        )));
    }
    if !config.allowed_services.contains(&scope.service) {
        let expected: Vec<String> = config
            .allowed_services
            .iter()
            .map(|s| format!("'{s}'"))
            .collect();
        return Err(SigV4Error::SignatureDoesNotMatch(format!(
            "Credential should be scoped to correct service: {}.",
            expected.join(" or ")
        )));
    }
    if scope.date != amz_date[..8] {
        return Err(SigV4Error::SignatureDoesNotMatch(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            scope.date,
            &amz_date[..8]
        )));
    }
    Ok(())
}

/// The clock: the request is not signed later than `now` plus the allowed
/// skew, and not earlier than `now` minus the skew or, when presigned,
/// than its expiry window allows. Returns when a presigned request expires.
fn check_clock(
    signed_at: DateTime<Utc>,
    amz_date: &str,
    expires: Option<u64>,
    skew: Duration,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, SigV4Error> {
    let now_s = fmt_amz(&now);
    if let Some(latest) = now.checked_add_signed(skew) {
        if signed_at > latest {
            return Err(SigV4Error::RequestExpired(format!(
                "Signature not yet current: {amz_date} is still later than {} ({now_s} + {})",
                fmt_amz(&latest),
                fmt_span(skew)
            )));
        }
    }
    let Some(expires) = expires else {
        if let Some(earliest) = now.checked_sub_signed(skew) {
            if signed_at < earliest {
                return Err(SigV4Error::RequestExpired(format!(
                    "Signature expired: {amz_date} is now earlier than {} ({now_s} - {})",
                    fmt_amz(&earliest),
                    fmt_span(skew)
                )));
            }
        }
        return Ok(None);
    };
    // `expires` is at most `max_presign_expires_seconds`; keep the
    // arithmetic checked anyway.
    let window =
        Duration::try_seconds(i64::try_from(expires).unwrap_or(i64::MAX)).unwrap_or(Duration::MAX);
    let expires_at = signed_at.checked_add_signed(window);
    if let Some(expires_at) = expires_at {
        if now > expires_at {
            let earliest = now
                .checked_sub_signed(window)
                .map(|t| fmt_amz(&t))
                .unwrap_or_default();
            return Err(SigV4Error::RequestExpired(format!(
                "Signature expired: {amz_date} is now earlier than {earliest} ({now_s} - {expires} sec.)"
            )));
        }
    }
    Ok(expires_at)
}

/// The payload hash the canonical request uses: the body's, unless an
/// `x-amz-content-sha256` header declares it, which must then match the
/// body (or be `UNSIGNED-PAYLOAD`, for presigned requests only).
fn payload_hash(req: &HttpRequest<'_>, kind: AuthKind) -> Result<String, SigV4Error> {
    let body_hash = canonical::sha256_hex(req.body);
    match single_header(req.headers, "x-amz-content-sha256")? {
        None => Ok(body_hash),
        Some(declared) if declared == "UNSIGNED-PAYLOAD" => {
            if kind != AuthKind::Presigned {
                return Err(SigV4Error::incomplete(
                    "UNSIGNED-PAYLOAD is accepted only for presigned requests.",
                ));
            }
            Ok(declared)
        }
        Some(declared)
            if declared.len() == 64 && declared.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            if !declared.eq_ignore_ascii_case(&body_hash) {
                return Err(SigV4Error::SignatureDoesNotMatch(
                    "The provided 'x-amz-content-sha256' header does not match what was computed."
                        .to_owned(),
                ));
            }
            Ok(declared)
        }
        Some(declared) => Err(SigV4Error::incomplete(format!(
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a hex SHA-256, got '{declared}'."
        ))),
    }
}

impl<'a> PendingVerification<'a> {
    /// The access key id whose secret [`PendingVerification::complete`] needs.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The security token of the request, if any.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }

    /// The canonical request this verifier builds for the request
    /// (lossy UTF-8 if a header value was not UTF-8); for diagnostics.
    pub fn canonical_request(&self) -> String {
        String::from_utf8_lossy(&self.canonical_request_bytes(false)).into_owned()
    }

    /// The string to sign for the request; for diagnostics.
    pub fn string_to_sign(&self) -> String {
        canonical::string_to_sign(
            &self.amz_date,
            &self.scope(),
            &self.canonical_request_bytes(false),
        )
    }

    fn scope(&self) -> String {
        format!(
            "{}/{}/{}/{TERMINATOR}",
            self.scope_date, self.region, self.service
        )
    }

    fn canonical_request_bytes(&self, leave_out_token: bool) -> Vec<u8> {
        let presigned = self.kind == AuthKind::Presigned;
        let uri = canonical::canonical_uri(self.req.path, self.normalize_path);
        let query = canonical::canonical_query(&self.params, |p| {
            (presigned && p.name == X_AMZ_SIGNATURE)
                || (leave_out_token && p.name == X_AMZ_SECURITY_TOKEN)
        });
        canonical::canonical_request(
            self.req.method,
            &uri,
            &query,
            &self.signed_headers,
            self.req.headers,
            &self.payload_hash,
        )
    }

    /// Finishes verification with the secret of the access key (`None` when
    /// the key is unknown).
    pub fn complete(self, secret: Option<&Secret>) -> Result<VerifiedCaller, SigV4Error> {
        let Some(secret) = secret else {
            return Err(SigV4Error::InvalidClientTokenId);
        };
        let key = canonical::signing_key(
            secret.expose(),
            &self.scope_date,
            &self.region,
            &self.service,
        );
        let scope = self.scope();
        let provided: Option<[u8; 32]> = {
            let mut out = [0u8; 32];
            hex::decode_to_slice(self.signature.as_bytes(), &mut out)
                .ok()
                .map(|()| out)
        };
        let matches = |leave_out_token: bool| -> bool {
            let sts = canonical::string_to_sign(
                &self.amz_date,
                &scope,
                &self.canonical_request_bytes(leave_out_token),
            );
            let expected = canonical::signature(&key, &sts);
            match &provided {
                Some(provided) => bool::from(expected.ct_eq(provided)),
                None => false,
            }
        };
        let mut ok = matches(false);
        let mut ok_without_token = false;
        if !ok && self.token_in_presigned_query && self.accept_unsigned_security_token {
            // A token appended to a presigned URL after signing.
            ok_without_token = matches(true);
            ok = ok_without_token;
        }
        if !ok {
            return Err(SigV4Error::signature_does_not_match());
        }
        let token_signed = !ok_without_token && !self.token_unsigned_header;
        Ok(VerifiedCaller {
            access_key_id: self.access_key_id,
            region: self.region,
            service: self.service,
            security_token_signed: self.security_token.is_some() && token_signed,
            security_token: self.security_token,
            signed_at: self.signed_at,
            kind: self.kind,
            expires_at: self.expires_at,
        })
    }
}
