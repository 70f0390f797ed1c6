//! Every case of AWS's Signature V4 test suite (a copy in
//! `tests/data/aws-signing-test-suite/v4/`, Apache-2.0, with its LICENSE and
//! NOTICE beside it), for header signing and for query (presigned) signing:
//!
//! * the signer's canonical request, string to sign and signature equal the
//!   expected files, and so do its `Authorization` header and presigned
//!   query string (against `*-signed-request.txt`);
//! * the verifier accepts the expected signed request as given in
//!   `*-signed-request.txt`, builds the same canonical request and string to
//!   sign from it, and rejects it with one character of the signature changed.
//!
//! No case is excluded: the suite's `normalize: false` cases (S3-style paths)
//! run with `normalize_path: false` on both sides, and `post-sts-header-after`
//! (token added after signing) with `omit_session_token` on the signer and the
//! default `accept_unsigned_security_token` on the verifier. The test fails
//! if the directory is missing or holds no case.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use iam_api::sigv4::{
    self, prepare, presign, sign, AuthKind, Credentials, HttpRequest, Secret, SigV4Error,
    SigningParams, SigningSettings, VerifyConfig,
};

/// Cases deliberately not run, with the reason. Empty: every case applies.
const EXCLUDED: &[(&str, &str)] = &[];

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/aws-signing-test-suite/v4")
}

/// A request as in `request.txt` / `*-signed-request.txt`.
#[derive(Debug)]
struct RawRequest {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl RawRequest {
    fn parse(text: &str) -> RawRequest {
        let (head, body) = match text.split_once("\n\n") {
            Some((h, b)) => (h, b),
            None => (text.trim_end_matches('\n'), ""),
        };
        let mut lines = head.lines();
        let request_line = lines.next().expect("request line");
        let (method, rest) = request_line.split_once(' ').expect("method");
        let target = rest
            .strip_suffix(" HTTP/1.1")
            .expect("HTTP/1.1 request line");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
        for line in lines {
            if line.starts_with(' ') || line.starts_with('\t') {
                // An obsolete folded continuation line of the previous header.
                let last = headers.last_mut().expect("continuation after a header");
                last.1.push(b'\n');
                last.1.extend_from_slice(line.as_bytes());
            } else {
                let (name, value) = line.split_once(':').expect("header line");
                headers.push((name.to_owned(), value.as_bytes().to_vec()));
            }
        }
        RawRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    fn header_refs(&self) -> Vec<(&str, &[u8])> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect()
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8(v.clone()).unwrap())
    }
}

struct Context {
    access_key_id: String,
    secret: String,
    token: Option<String>,
    region: String,
    service: String,
    time: DateTime<Utc>,
    expires: u64,
    normalize: bool,
    sign_body: bool,
    omit_session_token: bool,
}

fn load_context(dir: &Path) -> Context {
    let json: serde_json::Value = serde_json::from_str(&read(dir, "context.json")).unwrap();
    let s = |v: &serde_json::Value| v.as_str().unwrap().to_owned();
    Context {
        access_key_id: s(&json["credentials"]["access_key_id"]),
        secret: s(&json["credentials"]["secret_access_key"]),
        token: json["credentials"]["token"].as_str().map(str::to_owned),
        region: s(&json["region"]),
        service: s(&json["service"]),
        time: DateTime::parse_from_rfc3339(json["timestamp"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc),
        expires: json["expiration_in_seconds"].as_u64().unwrap(),
        normalize: json["normalize"].as_bool().unwrap(),
        sign_body: json["sign_body"].as_bool().unwrap(),
        omit_session_token: json["omit_session_token"].as_bool().unwrap_or(false),
    }
}

fn read(dir: &Path, file: &str) -> String {
    let path = dir.join(file);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn expected(dir: &Path, file: &str) -> String {
    read(dir, file).trim_end_matches('\n').to_owned()
}

fn case_dirs() -> Vec<PathBuf> {
    let dir = suite_dir();
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "the AWS signing test suite must be at {} (committed with the tests): {e}",
            dir.display()
        )
    });
    let mut dirs: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no test case in {}", dir.display());
    dirs
}

fn verify_config(ctx: &Context) -> VerifyConfig {
    let mut config = VerifyConfig::for_services(&[ctx.service.as_str()]);
    config.normalize_path = ctx.normalize;
    config
}

/// Changes one hex digit of the signature in a query string or header value.
fn corrupt_signature(s: &str) -> String {
    let at = s.find("Signature=").expect("Signature=") + "Signature=".len();
    let mut bytes = s.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    String::from_utf8(bytes).unwrap()
}

#[derive(Default)]
struct Tally {
    header: usize,
    query: usize,
    failures: BTreeMap<String, Vec<String>>,
}

impl Tally {
    fn check(&mut self, case: &str, what: &str, ok: bool, detail: impl FnOnce() -> String) {
        if !ok {
            self.failures
                .entry(case.to_owned())
                .or_default()
                .push(format!("{what}: {}", detail()));
        }
    }
}

fn eq_check(tally: &mut Tally, case: &str, what: &str, got: &str, want: &str) -> bool {
    let ok = got == want;
    tally.check(case, what, ok, || {
        format!("\n--- got\n{got}\n--- want\n{want}")
    });
    ok
}

fn run_header_case(tally: &mut Tally, case: &str, dir: &Path, ctx: &Context) -> bool {
    let mut ok = true;
    let request = RawRequest::parse(&read(dir, "request.txt"));
    let headers = request.header_refs();
    let req = HttpRequest {
        method: &request.method,
        path: &request.path,
        query: &request.query,
        headers: &headers,
        body: &request.body,
    };
    let params = SigningParams {
        credentials: Credentials {
            access_key_id: &ctx.access_key_id,
            secret_access_key: &ctx.secret,
            security_token: ctx.token.as_deref(),
        },
        region: &ctx.region,
        service: &ctx.service,
        time: ctx.time,
        settings: SigningSettings {
            normalize_path: ctx.normalize,
            sign_content_sha256: ctx.sign_body,
            omit_session_token: ctx.omit_session_token,
        },
    };

    // The signer.
    let out = sign(&req, &params);
    ok &= eq_check(
        tally,
        case,
        "header: sign canonical request",
        &out.canonical_request,
        &expected(dir, "header-canonical-request.txt"),
    );
    ok &= eq_check(
        tally,
        case,
        "header: sign string to sign",
        &out.string_to_sign,
        &expected(dir, "header-string-to-sign.txt"),
    );
    ok &= eq_check(
        tally,
        case,
        "header: sign signature",
        &out.signature,
        &expected(dir, "header-signature.txt"),
    );

    // The verifier, on the expected signed request.
    let signed = RawRequest::parse(&read(dir, "header-signed-request.txt"));
    let auth = signed.header("authorization").unwrap_or_default();
    let produced_auth = out
        .headers
        .iter()
        .find(|(n, _)| n == "Authorization")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    ok &= eq_check(
        tally,
        case,
        "header: sign Authorization header",
        &produced_auth,
        &auth,
    );

    let signed_headers = signed.header_refs();
    let sreq = HttpRequest {
        method: &signed.method,
        path: &signed.path,
        query: &signed.query,
        headers: &signed_headers,
        body: &signed.body,
    };
    let config = verify_config(ctx);
    match prepare(&sreq, &config, ctx.time) {
        Ok(pending) => {
            ok &= eq_check(
                tally,
                case,
                "header: verify canonical request",
                &pending.canonical_request(),
                &expected(dir, "header-canonical-request.txt"),
            );
            ok &= eq_check(
                tally,
                case,
                "header: verify string to sign",
                &pending.string_to_sign(),
                &expected(dir, "header-string-to-sign.txt"),
            );
            match pending.complete(Some(&Secret::new(ctx.secret.clone()))) {
                Ok(caller) => {
                    let good = caller.access_key_id == ctx.access_key_id
                        && caller.region == ctx.region
                        && caller.service == ctx.service
                        && caller.security_token == ctx.token
                        && caller.security_token_signed
                            == (ctx.token.is_some() && !ctx.omit_session_token)
                        && caller.signed_at == ctx.time
                        && caller.kind == AuthKind::Header
                        && caller.expires_at.is_none();
                    ok &= good;
                    tally.check(case, "header: verified caller", good, || {
                        format!("{caller:?}")
                    });
                }
                Err(e) => {
                    ok = false;
                    tally.check(case, "header: verify", false, || format!("{e:?}"));
                }
            }
        }
        Err(e) => {
            ok = false;
            tally.check(case, "header: verify prepare", false, || format!("{e:?}"));
        }
    }

    // One character of the signature changed.
    let bad_auth = corrupt_signature(&auth);
    let bad_headers: Vec<(&str, &[u8])> = signed_headers
        .iter()
        .map(|(n, v)| {
            if n.eq_ignore_ascii_case("authorization") {
                (*n, bad_auth.as_bytes())
            } else {
                (*n, *v)
            }
        })
        .collect();
    let bad = HttpRequest {
        headers: &bad_headers,
        ..sreq
    };
    let result = sigv4::verify(
        &bad,
        &config,
        |_| Some(Secret::new(ctx.secret.clone())),
        ctx.time,
    );
    let rejected = matches!(&result, Err(e @ SigV4Error::SignatureDoesNotMatch(_)) if e.code() == "SignatureDoesNotMatch");
    ok &= rejected;
    tally.check(
        case,
        "header: corrupted signature rejected",
        rejected,
        || format!("{result:?}"),
    );
    ok
}

fn run_query_case(tally: &mut Tally, case: &str, dir: &Path, ctx: &Context) -> bool {
    let mut ok = true;
    let request = RawRequest::parse(&read(dir, "request.txt"));
    let headers = request.header_refs();
    let req = HttpRequest {
        method: &request.method,
        path: &request.path,
        query: &request.query,
        headers: &headers,
        body: &request.body,
    };
    let params = SigningParams {
        credentials: Credentials {
            access_key_id: &ctx.access_key_id,
            secret_access_key: &ctx.secret,
            security_token: ctx.token.as_deref(),
        },
        region: &ctx.region,
        service: &ctx.service,
        time: ctx.time,
        settings: SigningSettings {
            normalize_path: ctx.normalize,
            sign_content_sha256: false,
            omit_session_token: ctx.omit_session_token,
        },
    };

    let out = presign(&req, &params, ctx.expires);
    ok &= eq_check(
        tally,
        case,
        "query: sign canonical request",
        &out.canonical_request,
        &expected(dir, "query-canonical-request.txt"),
    );
    ok &= eq_check(
        tally,
        case,
        "query: sign string to sign",
        &out.string_to_sign,
        &expected(dir, "query-string-to-sign.txt"),
    );
    ok &= eq_check(
        tally,
        case,
        "query: sign signature",
        &out.signature,
        &expected(dir, "query-signature.txt"),
    );

    let signed = RawRequest::parse(&read(dir, "query-signed-request.txt"));
    ok &= eq_check(
        tally,
        case,
        "query: sign query string",
        &out.query,
        &signed.query,
    );

    let signed_headers = signed.header_refs();
    let sreq = HttpRequest {
        method: &signed.method,
        path: &signed.path,
        query: &signed.query,
        headers: &signed_headers,
        body: &signed.body,
    };
    let config = verify_config(ctx);
    match prepare(&sreq, &config, ctx.time) {
        Ok(pending) => {
            if !ctx.omit_session_token {
                // With the token left out of the signature, the verifier's
                // first attempt includes it; only the retry matches.
                ok &= eq_check(
                    tally,
                    case,
                    "query: verify canonical request",
                    &pending.canonical_request(),
                    &expected(dir, "query-canonical-request.txt"),
                );
                ok &= eq_check(
                    tally,
                    case,
                    "query: verify string to sign",
                    &pending.string_to_sign(),
                    &expected(dir, "query-string-to-sign.txt"),
                );
            }
            match pending.complete(Some(&Secret::new(ctx.secret.clone()))) {
                Ok(caller) => {
                    let expires_at = ctx.time + chrono::Duration::seconds(ctx.expires as i64);
                    let good = caller.access_key_id == ctx.access_key_id
                        && caller.region == ctx.region
                        && caller.service == ctx.service
                        && caller.security_token == ctx.token
                        && caller.security_token_signed
                            == (ctx.token.is_some() && !ctx.omit_session_token)
                        && caller.signed_at == ctx.time
                        && caller.kind == AuthKind::Presigned
                        && caller.expires_at == Some(expires_at);
                    ok &= good;
                    tally.check(case, "query: verified caller", good, || {
                        format!("{caller:?}")
                    });
                }
                Err(e) => {
                    ok = false;
                    tally.check(case, "query: verify", false, || format!("{e:?}"));
                }
            }
        }
        Err(e) => {
            ok = false;
            tally.check(case, "query: verify prepare", false, || format!("{e:?}"));
        }
    }

    // Still valid at the last second of the window, expired one second later.
    let last = ctx.time + chrono::Duration::seconds(ctx.expires as i64);
    let still = sigv4::verify(
        &sreq,
        &config,
        |_| Some(Secret::new(ctx.secret.clone())),
        last,
    );
    ok &= still.is_ok();
    tally.check(
        case,
        "query: valid until X-Amz-Expires",
        still.is_ok(),
        || format!("{still:?}"),
    );
    let late = sigv4::verify(
        &sreq,
        &config,
        |_| Some(Secret::new(ctx.secret.clone())),
        last + chrono::Duration::seconds(1),
    );
    let expired = matches!(late, Err(SigV4Error::RequestExpired(_)));
    ok &= expired;
    tally.check(case, "query: expired after X-Amz-Expires", expired, || {
        format!("{late:?}")
    });

    let bad_query = corrupt_signature(&signed.query);
    let bad = HttpRequest {
        query: &bad_query,
        ..sreq
    };
    let result = sigv4::verify(
        &bad,
        &config,
        |_| Some(Secret::new(ctx.secret.clone())),
        ctx.time,
    );
    let rejected = matches!(result, Err(SigV4Error::SignatureDoesNotMatch(_)));
    ok &= rejected;
    tally.check(
        case,
        "query: corrupted signature rejected",
        rejected,
        || format!("{result:?}"),
    );
    ok
}

#[test]
fn aws_signing_test_suite_v4() {
    let dirs = case_dirs();
    let mut tally = Tally::default();
    let mut ran = 0;
    for dir in &dirs {
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        if let Some((_, reason)) = EXCLUDED.iter().find(|(name, _)| *name == case) {
            eprintln!("excluded {case}: {reason}");
            continue;
        }
        ran += 1;
        let ctx = load_context(dir);
        if run_header_case(&mut tally, &case, dir, &ctx) {
            tally.header += 1;
        }
        if run_query_case(&mut tally, &case, dir, &ctx) {
            tally.query += 1;
        }
    }
    eprintln!(
        "AWS SigV4 suite: {} cases, {} excluded; header signing passed {}/{ran}, query signing passed {}/{ran}",
        dirs.len(),
        EXCLUDED.len(),
        tally.header,
        tally.query
    );
    if !tally.failures.is_empty() {
        let mut report = String::new();
        for (case, failures) in &tally.failures {
            for f in failures {
                report.push_str(&format!("\n[{case}] {f}"));
            }
        }
        panic!("{} case(s) failed:{report}", tally.failures.len());
    }
    assert_eq!(ran + EXCLUDED.len(), dirs.len());
    // Guard against the suite silently shrinking.
    assert!(
        ran >= 38,
        "expected the 38 cases of the v4 suite, ran {ran}"
    );
}

#[test]
fn excluded_cases_exist() {
    let dirs = case_dirs();
    for (name, _) in EXCLUDED {
        assert!(
            dirs.iter().any(|d| d.file_name().unwrap() == *name),
            "excluded case {name} is not in the suite"
        );
    }
}
