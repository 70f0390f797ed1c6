//! The signer: produces the `Authorization` header (or the presigned query
//! string) for a request, exactly as AWS SDKs do. Used by tests, and by the
//! server's own test clients.

use chrono::{DateTime, Utc};

use super::canonical::{self, QueryParam, ALGORITHM, TERMINATOR};
use super::HttpRequest;

/// Credentials to sign with.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    /// The session token of temporary credentials, sent as `X-Amz-Security-Token`.
    pub security_token: Option<&'a str>,
}

impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("security_token", &self.security_token.map(|_| "***"))
            .finish()
    }
}

/// Knobs of the signer. The defaults are what AWS SDKs do for IAM and STS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigningSettings {
    /// Remove `.`/`..` segments and repeated slashes from the path before
    /// encoding it (every service but S3).
    pub normalize_path: bool,
    /// Header signing: add and sign an `x-amz-content-sha256` header with the
    /// payload hash (the suite's `sign_body`).
    pub sign_content_sha256: bool,
    /// Add the security token *after* signing, leaving it out of the
    /// signature (the legacy behaviour of the suite's `post-sts-header-after`).
    pub omit_session_token: bool,
}

impl Default for SigningSettings {
    fn default() -> Self {
        SigningSettings {
            normalize_path: true,
            sign_content_sha256: false,
            omit_session_token: false,
        }
    }
}

/// What to sign with.
#[derive(Debug, Clone, Copy)]
pub struct SigningParams<'a> {
    pub credentials: Credentials<'a>,
    pub region: &'a str,
    pub service: &'a str,
    pub time: DateTime<Utc>,
    pub settings: SigningSettings,
}

/// The result of signing, with the intermediate strings for inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningOutput {
    /// The canonical request (lossy UTF-8 if a header value was not UTF-8).
    pub canonical_request: String,
    pub string_to_sign: String,
    /// Lower-case hex signature.
    pub signature: String,
    /// Headers to add to the request. Header signing: `X-Amz-Date`, then
    /// `X-Amz-Security-Token` and `x-amz-content-sha256` when used, then
    /// `Authorization`. Presigning: `X-Amz-Security-Token` never goes here.
    pub headers: Vec<(String, String)>,
    /// The query string to send (without `?`): for header signing the
    /// request's own; for presigning the request's own followed by the
    /// `X-Amz-*` parameters.
    pub query: String,
}

/// Headers the signer never signs: the authorization itself, and headers
/// that proxies and HTTP stacks commonly add or rewrite.
const UNSIGNED_HEADERS: &[&str] = &["authorization", "user-agent", "x-amzn-trace-id", "expect"];
/// Headers the signer sets itself (a value already in the request is replaced).
const SIGNER_HEADERS: &[&str] = &["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"];

fn amz_date(time: &DateTime<Utc>) -> String {
    time.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The request headers the signer signs, lower-cased, sorted, de-duplicated.
fn request_header_names(req: &HttpRequest<'_>) -> Vec<String> {
    let mut names: Vec<String> = req
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .filter(|n| {
            !UNSIGNED_HEADERS.contains(&n.as_str()) && !SIGNER_HEADERS.contains(&n.as_str())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

fn finish(
    req: &HttpRequest<'_>,
    params: &SigningParams<'_>,
    canonical_query: &str,
    signed_headers: &[String],
    headers: &[(&str, &[u8])],
    payload_hash: &str,
) -> (String, String, String, String) {
    let date = amz_date(&params.time);
    let scope = format!(
        "{}/{}/{}/{TERMINATOR}",
        &date[..8],
        params.region,
        params.service
    );
    let uri = canonical::canonical_uri(req.path, params.settings.normalize_path);
    let creq = canonical::canonical_request(
        req.method,
        &uri,
        canonical_query,
        signed_headers,
        headers,
        payload_hash,
    );
    let sts = canonical::string_to_sign(&date, &scope, &creq);
    let key = canonical::signing_key(
        params.credentials.secret_access_key,
        &date[..8],
        params.region,
        params.service,
    );
    let signature = hex::encode(canonical::signature(&key, &sts));
    (
        String::from_utf8_lossy(&creq).into_owned(),
        sts,
        signature,
        scope,
    )
}

/// Signs `req` with an `Authorization` header.
pub fn sign(req: &HttpRequest<'_>, params: &SigningParams<'_>) -> SigningOutput {
    let date = amz_date(&params.time);
    let payload_hash = canonical::sha256_hex(req.body);
    let token = params.credentials.security_token;

    let mut added: Vec<(String, String)> = vec![("X-Amz-Date".into(), date.clone())];
    if let Some(token) = token {
        added.push(("X-Amz-Security-Token".into(), token.to_owned()));
    }
    if params.settings.sign_content_sha256 {
        added.push(("x-amz-content-sha256".into(), payload_hash.clone()));
    }

    let mut signed = request_header_names(req);
    signed.push("x-amz-date".into());
    if token.is_some() && !params.settings.omit_session_token {
        signed.push("x-amz-security-token".into());
    }
    if params.settings.sign_content_sha256 {
        signed.push("x-amz-content-sha256".into());
    }
    signed.sort();

    let mut headers: Vec<(&str, &[u8])> = req
        .headers
        .iter()
        .filter(|(n, _)| !SIGNER_HEADERS.iter().any(|s| n.eq_ignore_ascii_case(s)))
        .copied()
        .collect();
    headers.extend(added.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));

    let query_params = canonical::parse_query(req.query);
    let cquery = canonical::canonical_query(&query_params, |_| false);
    let (canonical_request, string_to_sign, signature, scope) =
        finish(req, params, &cquery, &signed, &headers, &payload_hash);

    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
        params.credentials.access_key_id,
        signed.join(";")
    );
    added.push(("Authorization".into(), authorization));
    SigningOutput {
        canonical_request,
        string_to_sign,
        signature,
        headers: added,
        query: req.query.to_owned(),
    }
}

fn encode_component(value: &str) -> String {
    let mut out = String::new();
    canonical::uri_encode(value.as_bytes(), false, &mut out);
    out
}

/// Presigns `req`: the signature travels in the query string
/// (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
/// `X-Amz-SignedHeaders`, `X-Amz-Expires`, `X-Amz-Security-Token`,
/// `X-Amz-Signature`). The payload hash is that of the body, as AWS's
/// suite does for non-S3 services.
pub fn presign(
    req: &HttpRequest<'_>,
    params: &SigningParams<'_>,
    expires_in_seconds: u64,
) -> SigningOutput {
    let date = amz_date(&params.time);
    let payload_hash = canonical::sha256_hex(req.body);
    let signed = request_header_names(req);
    let scope = format!(
        "{}/{}/{}/{TERMINATOR}",
        &date[..8],
        params.region,
        params.service
    );
    let credential = format!("{}/{scope}", params.credentials.access_key_id);
    let signed_joined = signed.join(";");
    let expires = expires_in_seconds.to_string();

    let mut auth_params: Vec<(&str, &str)> = vec![
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", &credential),
        ("X-Amz-Date", &date),
        ("X-Amz-SignedHeaders", &signed_joined),
        ("X-Amz-Expires", &expires),
    ];
    if let Some(token) = params.credentials.security_token {
        auth_params.push(("X-Amz-Security-Token", token));
    }

    let mut query_params = canonical::parse_query(req.query);
    for (name, value) in &auth_params {
        if *name == "X-Amz-Security-Token" && params.settings.omit_session_token {
            continue;
        }
        query_params.push(QueryParam {
            name: name.as_bytes().to_vec(),
            value: value.as_bytes().to_vec(),
        });
    }
    let cquery = canonical::canonical_query(&query_params, |_| false);
    let headers: Vec<(&str, &[u8])> = req.headers.to_vec();
    let (canonical_request, string_to_sign, signature, _) =
        finish(req, params, &cquery, &signed, &headers, &payload_hash);

    let mut query = req.query.to_owned();
    for (name, value) in auth_params
        .iter()
        .copied()
        .chain(std::iter::once(("X-Amz-Signature", signature.as_str())))
    {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        query.push_str(&encode_component(value));
    }
    SigningOutput {
        canonical_request,
        string_to_sign,
        signature,
        headers: Vec::new(),
        query,
    }
}
