//! Unit tests: sign/verify round trips, every error code, the canonical
//! pieces the AWS suite does not reach, and garbage input (no panics).

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2015, 8, 30, 12, 36, 0).unwrap()
}

fn lookup(akid: &str) -> Option<Secret> {
    (akid == AKID).then(|| Secret::new(SECRET))
}

/// An owned request, for building variants in tests.
#[derive(Debug, Clone)]
struct Req {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Req {
    fn new(method: &str, path: &str, query: &str, body: &[u8]) -> Req {
        Req {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: vec![("Host".into(), b"iam.amazonaws.com".to_vec())],
            body: body.to_vec(),
        }
    }

    fn iam_post() -> Req {
        let mut r = Req::new("POST", "/", "", b"Action=GetUser&Version=2010-05-08");
        r.headers.push((
            "Content-Type".into(),
            b"application/x-www-form-urlencoded; charset=utf-8".to_vec(),
        ));
        r
    }

    fn with<R>(&self, f: impl FnOnce(&HttpRequest<'_>) -> R) -> R {
        let headers: Vec<(&str, &[u8])> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        let req = HttpRequest {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &headers,
            body: &self.body,
        };
        f(&req)
    }

    fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.as_bytes().to_vec()));
    }

    fn header(&self, name: &str) -> String {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default()
    }

    fn verify_at(
        &self,
        config: &VerifyConfig,
        now: DateTime<Utc>,
    ) -> Result<VerifiedCaller, SigV4Error> {
        self.with(|r| verify(r, config, lookup, now))
    }

    fn verify(&self) -> Result<VerifiedCaller, SigV4Error> {
        self.verify_at(&VerifyConfig::iam_and_sts(), t0())
    }
}

fn params<'a>(region: &'a str, service: &'a str, token: Option<&'a str>) -> SigningParams<'a> {
    SigningParams {
        credentials: Credentials {
            access_key_id: AKID,
            secret_access_key: SECRET,
            security_token: token,
        },
        region,
        service,
        time: t0(),
        settings: SigningSettings::default(),
    }
}

fn signed_with(mut req: Req, p: &SigningParams<'_>) -> Req {
    let out = req.with(|r| sign(r, p));
    for (name, value) in out.headers {
        req.set_header(&name, &value);
    }
    req
}

fn signed(req: Req) -> Req {
    signed_with(req, &params("us-east-1", "iam", None))
}

fn presigned_with(mut req: Req, p: &SigningParams<'_>, expires: u64) -> Req {
    let out = req.with(|r| presign(r, p, expires));
    req.query = out.query;
    req
}

fn presigned(req: Req) -> Req {
    presigned_with(req, &params("us-east-1", "sts", None), 900)
}

fn code(result: Result<VerifiedCaller, SigV4Error>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

fn err(result: Result<VerifiedCaller, SigV4Error>) -> SigV4Error {
    result.expect_err("expected an error")
}

// ---- round trips ----------------------------------------------------------

#[test]
fn header_round_trip() {
    let req = signed(Req::iam_post());
    let caller = req.verify().unwrap();
    assert_eq!(
        caller,
        VerifiedCaller {
            access_key_id: AKID.into(),
            region: "us-east-1".into(),
            service: "iam".into(),
            security_token: None,
            security_token_signed: false,
            signed_at: t0(),
            kind: AuthKind::Header,
            expires_at: None,
        }
    );
}

#[test]
fn header_round_trip_with_token_query_and_content_sha256() {
    let mut p = params("eu-west-3", "sts", Some("session-token/+=="));
    p.settings.sign_content_sha256 = true;
    let mut req = Req::iam_post();
    req.query = "Action=GetCallerIdentity&Version=2011-06-15&Note=a%20b+c".into();
    let req = signed_with(req, &p);
    assert!(req.header("authorization").contains("x-amz-content-sha256"));
    let caller = req.verify().unwrap();
    assert_eq!(caller.region, "eu-west-3");
    assert_eq!(caller.service, "sts");
    assert_eq!(caller.security_token.as_deref(), Some("session-token/+=="));
    assert!(caller.security_token_signed);
}

#[test]
fn presigned_round_trip() {
    let mut req = Req::new(
        "GET",
        "/",
        "Action=GetCallerIdentity&Version=2011-06-15",
        b"",
    );
    req = presigned_with(req, &params("us-west-2", "sts", Some("tok")), 900);
    let caller = req.verify().unwrap();
    assert_eq!(caller.kind, AuthKind::Presigned);
    assert_eq!(caller.expires_at, Some(t0() + Duration::seconds(900)));
    assert_eq!(caller.security_token.as_deref(), Some("tok"));
    assert!(caller.security_token_signed);
}

#[test]
fn presigned_accepts_unsigned_payload_and_the_max_window() {
    let mut req = presigned_with(
        Req::new("GET", "/", "", b""),
        &params("us-east-1", "iam", None),
        604_800,
    );
    req.set_header("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    // The signer hashed the (empty) body, so the signature no longer matches
    // with UNSIGNED-PAYLOAD in place of the hash: the header is honoured.
    assert_eq!(code(req.verify()), "SignatureDoesNotMatch");
    let req = presigned_with(
        Req::new("GET", "/", "", b""),
        &params("us-east-1", "iam", None),
        604_800,
    );
    assert!(req
        .verify_at(&VerifyConfig::default(), t0() + Duration::days(7))
        .is_ok());
    assert_eq!(
        code(req.verify_at(
            &VerifyConfig::default(),
            t0() + Duration::days(7) + Duration::seconds(1)
        )),
        "RequestExpired"
    );
}

#[test]
fn verification_in_two_halves_for_an_async_lookup() {
    let req = signed(Req::iam_post());
    req.with(|r| {
        let pending = prepare(r, &VerifyConfig::default(), t0()).unwrap();
        assert_eq!(pending.access_key_id(), AKID);
        assert_eq!(pending.security_token(), None);
        assert!(pending.string_to_sign().starts_with(
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
        ));
        let caller = pending.complete(Some(&Secret::new(SECRET))).unwrap();
        assert_eq!(caller.access_key_id, AKID);
    });
}

#[test]
fn lookup_is_asked_for_the_access_key_of_the_credential() {
    let req = signed(Req::iam_post());
    let mut asked = None;
    let result = req.with(|r| {
        verify(
            r,
            &VerifyConfig::default(),
            |k| {
                asked = Some(k.to_owned());
                Some(Secret::new(SECRET))
            },
            t0(),
        )
    });
    assert!(result.is_ok());
    assert_eq!(asked.as_deref(), Some(AKID));
}

#[test]
fn signature_hex_case_does_not_matter_but_its_value_does() {
    let mut req = signed(Req::iam_post());
    let auth = req.header("authorization");
    let (head, sig) = auth.split_once("Signature=").unwrap();
    req.set_header(
        "Authorization",
        &format!("{head}Signature={}", sig.to_uppercase()),
    );
    assert!(req.verify().is_ok());
    req.set_header("Authorization", &format!("{head}Signature={}", &sig[..63]));
    assert_eq!(code(req.verify()), "SignatureDoesNotMatch");
    req.set_header("Authorization", &format!("{head}Signature={sig}00"));
    assert_eq!(code(req.verify()), "SignatureDoesNotMatch");
    req.set_header("Authorization", &format!("{head}Signature=zz{}", &sig[2..]));
    assert_eq!(code(req.verify()), "SignatureDoesNotMatch");
}

// ---- MissingAuthenticationToken -------------------------------------------

#[test]
fn missing_authentication_token() {
    let req = Req::iam_post();
    let e = err(req.verify());
    assert_eq!(e, SigV4Error::MissingAuthenticationToken);
    assert_eq!(
        (e.code(), e.http_status()),
        ("MissingAuthenticationToken", 403)
    );
    assert_eq!(e.message(), "Request is missing Authentication Token");
    // X-Amz-Date alone, or a security token alone, is not authentication.
    let mut req = Req::iam_post();
    req.set_header("X-Amz-Date", "20150830T123600Z");
    req.set_header("X-Amz-Security-Token", "t");
    assert_eq!(code(req.verify()), "MissingAuthenticationToken");
}

// ---- IncompleteSignature --------------------------------------------------

fn with_authorization(value: &str) -> Req {
    let mut req = signed(Req::iam_post());
    req.set_header("Authorization", value);
    req
}

#[test]
fn incomplete_signature_for_missing_parts_of_the_authorization_header() {
    let e = err(with_authorization("AWS4-HMAC-SHA256").verify());
    assert_eq!((e.code(), e.http_status()), ("IncompleteSignature", 400));
    assert_eq!(
        e.message(),
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."
    );
    let e = err(with_authorization("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host").verify());
    assert_eq!(
        e.message(),
        "Authorization header requires 'Signature' parameter."
    );
    let e = err(with_authorization(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, Signature=00",
    )
    .verify());
    assert_eq!(
        e.message(),
        "Authorization header requires 'SignedHeaders' parameter."
    );
    for bad in [
        "",
        "   ",
        "AWS4-HMAC-SHA256 Credential",
        "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, Credential=a/b/c/d/e, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE//20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;;x-amz-date, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=",
        "AWS4-HMAC-SHA512 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00",
        "AWS AKIDEXAMPLE:c2lnbmF0dXJl",
        "Bearer abc",
    ] {
        assert_eq!(code(with_authorization(bad).verify()), "IncompleteSignature", "{bad:?}");
    }
}

#[test]
fn incomplete_signature_when_host_is_not_signed() {
    let e = err(with_authorization(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;x-amz-date, Signature=00",
    )
    .verify());
    assert_eq!(e.code(), "IncompleteSignature");
    assert_eq!(
        e.message(),
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    );
}

#[test]
fn incomplete_signature_for_a_missing_or_malformed_date() {
    let mut req = signed(Req::iam_post());
    req.headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case("x-amz-date"));
    assert_eq!(code(req.verify()), "IncompleteSignature");
    for bad in [
        "2015-08-30T12:36:00Z",
        "20150830T123600",
        "20151330T123600Z",
        "20150830T250000Z",
        "",
        "2015083０T123600Z",
    ] {
        let mut req = signed(Req::iam_post());
        req.set_header("X-Amz-Date", bad);
        assert_eq!(code(req.verify()), "IncompleteSignature", "{bad:?}");
    }
}

#[test]
fn incomplete_signature_for_repeated_or_non_utf8_auth_headers() {
    let mut req = signed(Req::iam_post());
    let auth = req.header("authorization");
    req.headers
        .push(("authorization".into(), auth.into_bytes()));
    assert_eq!(code(req.verify()), "IncompleteSignature");

    let mut req = signed(Req::iam_post());
    req.headers
        .push(("X-Amz-Date".into(), b"20150830T123600Z".to_vec()));
    assert_eq!(code(req.verify()), "IncompleteSignature");

    let mut req = signed(Req::iam_post());
    req.headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
    req.headers
        .push(("Authorization".into(), vec![0xff, 0xfe, b' ', 0x80]));
    assert_eq!(code(req.verify()), "IncompleteSignature");
}

#[test]
fn incomplete_signature_for_header_and_query_auth_together() {
    let mut req = presigned(Req::new("GET", "/", "", b""));
    let auth = signed(Req::new("GET", "/", "", b"")).header("authorization");
    req.set_header("Authorization", &auth);
    assert_eq!(code(req.verify()), "IncompleteSignature");
}

#[test]
fn incomplete_signature_for_missing_or_bad_presigned_parameters() {
    let base = presigned(Req::new("GET", "/", "Action=GetCallerIdentity", b""));
    for drop in [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-SignedHeaders",
        "X-Amz-Expires",
        "X-Amz-Signature",
    ] {
        let mut req = base.clone();
        req.query = req
            .query
            .split('&')
            .filter(|p| !p.starts_with(&format!("{drop}=")))
            .collect::<Vec<_>>()
            .join("&");
        let e = err(req.verify());
        assert_eq!(e.code(), "IncompleteSignature", "without {drop}");
    }
    for (name, bad) in [
        ("X-Amz-Expires", "0"),
        ("X-Amz-Expires", "604801"),
        ("X-Amz-Expires", "-5"),
        ("X-Amz-Expires", "ten"),
        ("X-Amz-Expires", "99999999999999999999999"),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA1"),
        ("X-Amz-Date", "yesterday"),
        ("X-Amz-Credential", "AKIDEXAMPLE"),
        ("X-Amz-SignedHeaders", "x-amz-date"),
    ] {
        let mut req = base.clone();
        req.query = req
            .query
            .split('&')
            .map(|p| {
                if p.starts_with(&format!("{name}=")) {
                    format!("{name}={bad}")
                } else {
                    p.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("&");
        assert_eq!(code(req.verify()), "IncompleteSignature", "{name}={bad}");
    }
    // A parameter given twice.
    let mut req = base.clone();
    req.query.push_str("&X-Amz-Date=20150830T123600Z");
    assert_eq!(code(req.verify()), "IncompleteSignature");
    // Non-UTF-8 after decoding.
    let mut req = base.clone();
    req.query.push_str("&X-Amz-Security-Token=%FF");
    assert_eq!(code(req.verify()), "IncompleteSignature");
}

#[test]
fn incomplete_signature_for_bad_content_sha256() {
    let mut req = signed(Req::iam_post());
    req.set_header("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    assert_eq!(
        code(req.verify()),
        "IncompleteSignature",
        "UNSIGNED-PAYLOAD only for presigned"
    );
    req.set_header("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    assert_eq!(code(req.verify()), "IncompleteSignature");
}

#[test]
fn incomplete_signature_for_an_unsigned_token_when_not_accepted() {
    let mut req = signed(Req::iam_post());
    req.set_header("X-Amz-Security-Token", "added-later");
    let caller = req.verify().unwrap();
    assert_eq!(caller.security_token.as_deref(), Some("added-later"));
    assert!(!caller.security_token_signed);
    let config = VerifyConfig {
        accept_unsigned_security_token: false,
        ..VerifyConfig::default()
    };
    assert_eq!(code(req.verify_at(&config, t0())), "IncompleteSignature");

    let mut p = params("us-east-1", "sts", Some("tok"));
    p.settings.omit_session_token = true;
    let req = presigned_with(Req::new("GET", "/", "", b""), &p, 60);
    let caller = req.verify().unwrap();
    assert_eq!(caller.security_token.as_deref(), Some("tok"));
    assert!(!caller.security_token_signed);
    assert_eq!(code(req.verify_at(&config, t0())), "SignatureDoesNotMatch");
}

#[test]
fn incomplete_signature_for_a_token_in_both_places() {
    let mut req = signed(Req::iam_post());
    req.query = "X-Amz-Security-Token=a".into();
    req.set_header("X-Amz-Security-Token", "a");
    assert_eq!(code(req.verify()), "IncompleteSignature");
}

// ---- InvalidClientTokenId -------------------------------------------------

#[test]
fn invalid_client_token_id() {
    let req = signed_with(
        Req::iam_post(),
        &SigningParams {
            credentials: Credentials {
                access_key_id: "AKIAUNKNOWN",
                secret_access_key: SECRET,
                security_token: None,
            },
            ..params("us-east-1", "iam", None)
        },
    );
    let e = err(req.verify());
    assert_eq!(e, SigV4Error::InvalidClientTokenId);
    assert_eq!((e.code(), e.http_status()), ("InvalidClientTokenId", 403));
    assert_eq!(
        e.message(),
        "The security token included in the request is invalid."
    );
    req.with(|r| {
        let pending = prepare(r, &VerifyConfig::default(), t0()).unwrap();
        assert_eq!(pending.access_key_id(), "AKIAUNKNOWN");
        assert_eq!(
            pending.complete(None),
            Err(SigV4Error::InvalidClientTokenId)
        );
    });
}

// ---- SignatureDoesNotMatch ------------------------------------------------

#[test]
fn signature_does_not_match_for_a_wrong_secret() {
    let req = signed(Req::iam_post());
    let result = req.with(|r| {
        verify(
            r,
            &VerifyConfig::default(),
            |_| Some(Secret::new("not-the-secret")),
            t0(),
        )
    });
    let e = err(result);
    assert_eq!((e.code(), e.http_status()), ("SignatureDoesNotMatch", 403));
    assert_eq!(
        e.message(),
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    );
}

#[test]
fn signature_does_not_match_for_tampering() {
    let base = signed(Req::iam_post());
    let mut body = base.clone();
    body.body = b"Action=DeleteUser&Version=2010-05-08".to_vec();
    assert_eq!(code(body.verify()), "SignatureDoesNotMatch");
    let mut query = base.clone();
    query.query = "x=1".into();
    assert_eq!(code(query.verify()), "SignatureDoesNotMatch");
    let mut method = base.clone();
    method.method = "PUT".into();
    assert_eq!(code(method.verify()), "SignatureDoesNotMatch");
    let mut path = base.clone();
    path.path = "/other".into();
    assert_eq!(code(path.verify()), "SignatureDoesNotMatch");
    let mut host = base.clone();
    host.set_header("Host", "evil.example.com");
    assert_eq!(code(host.verify()), "SignatureDoesNotMatch");
    let mut ctype = base.clone();
    ctype.set_header("Content-Type", "text/plain");
    assert_eq!(code(ctype.verify()), "SignatureDoesNotMatch");
    // An unsigned header may change.
    let mut extra = base.clone();
    extra.set_header("User-Agent", "anything");
    assert!(extra.verify().is_ok());
    // A signed header that is missing.
    let mut gone = base.clone();
    gone.headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
    assert_eq!(code(gone.verify()), "SignatureDoesNotMatch");
    // The presigned query string.
    let pre = presigned(Req::new("GET", "/", "Action=GetCallerIdentity", b""));
    let mut q = pre.clone();
    q.query = q
        .query
        .replace("Action=GetCallerIdentity", "Action=AssumeRole");
    assert_eq!(code(q.verify()), "SignatureDoesNotMatch");
    let mut q = pre.clone();
    q.query = q.query.replace("X-Amz-Expires=900", "X-Amz-Expires=901");
    assert_eq!(code(q.verify()), "SignatureDoesNotMatch");
}

#[test]
fn signature_does_not_match_for_a_body_that_differs_from_its_declared_hash() {
    let mut p = params("us-east-1", "iam", None);
    p.settings.sign_content_sha256 = true;
    let mut req = signed_with(Req::iam_post(), &p);
    assert!(req.verify().is_ok());
    req.body = b"Action=DeleteUser".to_vec();
    let e = err(req.verify());
    assert_eq!(e.code(), "SignatureDoesNotMatch");
    assert_eq!(
        e.message(),
        "The provided 'x-amz-content-sha256' header does not match what was computed."
    );
}

#[test]
fn signature_does_not_match_for_a_wrong_scope() {
    let e = err(signed_with(Req::iam_post(), &params("us-east-1", "ec2", None)).verify());
    assert_eq!(e.code(), "SignatureDoesNotMatch");
    assert_eq!(
        e.message(),
        "Credential should be scoped to correct service: 'iam' or 'sts'."
    );
    // The allowed services are a parameter.
    let ec2 = VerifyConfig::for_services(&["ec2"]);
    assert!(
        signed_with(Req::iam_post(), &params("us-east-1", "ec2", None))
            .verify_at(&ec2, t0())
            .is_ok()
    );
    assert_eq!(
        code(signed(Req::iam_post()).verify_at(&ec2, t0())),
        "SignatureDoesNotMatch"
    );

    let auth = signed(Req::iam_post()).header("authorization");
    let e = err(with_authorization(&auth.replace("/aws4_request", "/aws5_request")).verify());
    assert_eq!(e.code(), "SignatureDoesNotMatch");
    assert_eq!(
        e.message(),
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."
    );

    let e = err(with_authorization(&auth.replace("/20150830/", "/20150829/")).verify());
    assert_eq!(e.code(), "SignatureDoesNotMatch");
    assert_eq!(
        e.message(),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150829' != '20150830', from '20150830T123600Z'."
    );
}

#[test]
fn any_region_is_accepted() {
    for region in ["us-east-1", "eu-central-1", "ap-southeast-2", "local", "x"] {
        let caller = signed_with(Req::iam_post(), &params(region, "iam", None))
            .verify()
            .unwrap();
        assert_eq!(caller.region, region);
    }
}

// ---- RequestExpired -------------------------------------------------------

#[test]
fn request_expired_outside_the_clock_skew() {
    let req = signed(Req::iam_post());
    let config = VerifyConfig::default();
    assert!(req.verify_at(&config, t0() + Duration::minutes(15)).is_ok());
    assert!(req.verify_at(&config, t0() - Duration::minutes(15)).is_ok());

    let e = err(req.verify_at(&config, t0() + Duration::minutes(15) + Duration::seconds(1)));
    assert_eq!((e.code(), e.http_status()), ("RequestExpired", 400));
    assert_eq!(
        e.message(),
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)"
    );
    let e = err(req.verify_at(&config, t0() - Duration::minutes(15) - Duration::seconds(1)));
    assert_eq!(e.code(), "RequestExpired");
    assert_eq!(
        e.message(),
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T122059Z + 15 min.)"
    );
    let five = VerifyConfig {
        max_clock_skew: Duration::minutes(5),
        ..VerifyConfig::default()
    };
    assert_eq!(
        code(req.verify_at(&five, t0() + Duration::minutes(6))),
        "RequestExpired"
    );
}

#[test]
fn request_expired_for_a_presigned_request() {
    let req = presigned(Req::new("GET", "/", "", b""));
    let config = VerifyConfig::default();
    assert!(req
        .verify_at(&config, t0() + Duration::seconds(900))
        .is_ok());
    let e = err(req.verify_at(&config, t0() + Duration::seconds(901)));
    assert_eq!(e.code(), "RequestExpired");
    assert_eq!(
        e.message(),
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 900 sec.)"
    );
    // Signed in the future, beyond the skew.
    assert_eq!(
        code(req.verify_at(&config, t0() - Duration::minutes(16))),
        "RequestExpired"
    );
}

#[test]
fn extreme_clocks_do_not_panic() {
    let req = signed(Req::iam_post());
    let pre = presigned(Req::new("GET", "/", "", b""));
    for now in [
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MAX_UTC,
        DateTime::<Utc>::UNIX_EPOCH,
    ] {
        assert_eq!(
            code(req.verify_at(&VerifyConfig::default(), now)),
            "RequestExpired"
        );
        assert_eq!(
            code(pre.verify_at(&VerifyConfig::default(), now)),
            "RequestExpired"
        );
    }
    let huge = VerifyConfig {
        max_clock_skew: Duration::MAX,
        ..VerifyConfig::default()
    };
    assert!(req.verify_at(&huge, DateTime::<Utc>::MAX_UTC).is_ok());
    let huge = VerifyConfig {
        max_presign_expires_seconds: u64::MAX,
        ..VerifyConfig::default()
    };
    let mut far = pre.clone();
    far.query = far
        .query
        .replace("X-Amz-Expires=900", &format!("X-Amz-Expires={}", u64::MAX));
    assert_eq!(code(far.verify_at(&huge, t0())), "SignatureDoesNotMatch");
}

// ---- canonical pieces -----------------------------------------------------

#[test]
fn path_normalization() {
    for (path, want) in [
        ("", "/"),
        ("/", "/"),
        ("//", "/"),
        ("/a/b/../c/./d//", "/a/c/d/"),
        ("/a/b/..", "/a"),
        ("/../../a", "/a"),
        ("a/b", "/a/b"),
        ("/./", "/"),
    ] {
        assert_eq!(normalize_path(path), want, "{path:?}");
    }
}

#[test]
fn canonical_uri_encodes_the_wire_path_again() {
    // A path percent-encoded on the wire is encoded once more (non-S3 SDKs'
    // double encoding): `%` becomes `%25`.
    assert_eq!(
        canonical_uri("/a%20b/%E1%88%B4", true),
        "/a%2520b/%25E1%2588%25B4"
    );
    assert_eq!(canonical_uri("/a b/ሴ", true), "/a%20b/%E1%88%B4");
    assert_eq!(canonical_uri("/a//b/../c", false), "/a//b/../c");
    assert_eq!(canonical_uri("/-._~!*'()", true), "/-._~%21%2A%27%28%29");
}

#[test]
fn canonical_query_string() {
    let q = |s: &str| canonical_query(&parse_query(s), |_| false);
    assert_eq!(q(""), "");
    assert_eq!(q("b=2&a=1"), "a=1&b=2");
    assert_eq!(q("a=2&a=1&a=10"), "a=1&a=10&a=2");
    assert_eq!(q("flag&x="), "flag=&x=");
    assert_eq!(q("a=1&&b=2&"), "a=1&b=2");
    assert_eq!(q("k=a+b"), "k=a%2Bb");
    assert_eq!(q("k=a%20b&k2=%7e%2f"), "k=a%20b&k2=~%2F");
    assert_eq!(q("bad=%zz%4"), "bad=%25zz%254");
    assert_eq!(q("p=a=b"), "p=a%3Db");
    // Sorted by the encoded names (byte order: upper case before lower case).
    assert_eq!(q("b=1&B=1&_=1&~=1"), "B=1&_=1&b=1&~=1");
}

#[test]
fn canonical_header_values() {
    let c = |v: &str| {
        let mut out = Vec::new();
        canonical_header_value(v.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    };
    assert_eq!(c("  a   b  "), "a b");
    assert_eq!(c("\"a   b   c\""), "\"a b c\"");
    assert_eq!(c("value1\n  value2\n     value3"), "value1 value2 value3");
    assert_eq!(c("\t x \t y \t"), "x y");
    assert_eq!(c(""), "");
    assert_eq!(c("   "), "");
}

#[test]
fn repeated_headers_are_joined_in_order() {
    let mut req = Req::iam_post();
    req.headers.push(("X-Custom".into(), b"b".to_vec()));
    req.headers.push(("x-custom".into(), b" a ".to_vec()));
    let req = signed(req);
    let creq = req.with(|r| {
        prepare(r, &VerifyConfig::default(), t0())
            .unwrap()
            .canonical_request()
    });
    assert!(creq.contains("\nx-custom:b,a\n"), "{creq}");
    assert!(req.verify().is_ok());
    let mut swapped = req.clone();
    let n = swapped.headers.len();
    let a = swapped
        .headers
        .iter()
        .position(|(h, _)| h == "X-Custom")
        .unwrap();
    let b = swapped
        .headers
        .iter()
        .position(|(h, _)| h == "x-custom")
        .unwrap();
    swapped.headers.swap(a, b);
    assert_eq!(swapped.headers.len(), n);
    assert_eq!(code(swapped.verify()), "SignatureDoesNotMatch");
}

#[test]
fn header_names_match_case_insensitively() {
    let mut req = signed(Req::iam_post());
    for (name, _) in req.headers.iter_mut() {
        *name = name.to_ascii_uppercase();
    }
    assert!(req.verify().is_ok());
}

#[test]
fn non_utf8_header_values_are_signed_as_bytes() {
    let mut req = Req::iam_post();
    req.headers
        .push(("X-Bytes".into(), vec![0xff, b' ', b' ', 0x80]));
    let req = signed(req);
    assert!(req.verify().is_ok());
}

#[test]
fn secrets_do_not_leak_into_debug_output() {
    assert_eq!(format!("{:?}", Secret::new(SECRET)), "Secret(***)");
    let creds = Credentials {
        access_key_id: AKID,
        secret_access_key: SECRET,
        security_token: Some("SESSION-TOKEN-123"),
    };
    let shown = format!("{creds:?}");
    assert!(
        !shown.contains(SECRET) && !shown.contains("SESSION-TOKEN-123"),
        "{shown}"
    );
}

// ---- garbage in, an error out (no panics) ---------------------------------

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        const INTERESTING: &[u8] = b"/=&,; %\t\n\r.:?+~AWS4-HMAC-SHA256Credential=SignedHeaders=Signature=aws4_requestX-Amz-0123456789TZ\xff\xc3\xa9\xe1\x88\xb4";
        let len = self.below(max + 1);
        (0..len)
            .map(|_| {
                if self.below(3) == 0 {
                    self.next() as u8
                } else {
                    INTERESTING[self.below(INTERESTING.len())]
                }
            })
            .collect()
    }

    fn text(&mut self, max: usize) -> String {
        String::from_utf8_lossy(&self.bytes(max)).into_owned()
    }
}

#[test]
fn garbage_requests_yield_errors_not_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let config = VerifyConfig::default();
    for _ in 0..5_000 {
        let mut req = Req::new(&rng.text(8), &rng.text(40), &rng.text(120), &rng.bytes(40));
        for _ in 0..rng.below(6) {
            let name = [
                "Authorization",
                "X-Amz-Date",
                "X-Amz-Security-Token",
                "x-amz-content-sha256",
                "Host",
                "X-Other",
            ][rng.below(6)];
            req.headers.push((name.into(), rng.bytes(120)));
        }
        if rng.below(2) == 0 {
            req.headers.push((
                "Authorization".into(),
                format!(
                    "AWS4-HMAC-SHA256 Credential={}, SignedHeaders={}, Signature={}",
                    rng.text(60),
                    rng.text(30),
                    rng.text(70)
                )
                .into_bytes(),
            ));
            req.headers.push(("X-Amz-Date".into(), rng.bytes(18)));
        }
        if rng.below(3) == 0 {
            req.query = format!(
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Date={}&X-Amz-SignedHeaders={}&X-Amz-Expires={}&X-Amz-Signature={}",
                rng.text(50),
                rng.text(18),
                rng.text(20),
                rng.text(8),
                rng.text(64)
            );
        }
        let result = req.with(|r| verify(r, &config, |_| Some(Secret::new(SECRET)), t0()));
        // Whatever the outcome, errors carry a known code and status.
        if let Err(e) = result {
            assert!(matches!(e.http_status(), 400 | 403));
            assert!(!e.code().is_empty());
        }
    }
}

#[test]
fn every_corruption_of_a_signed_request_is_rejected() {
    let base = signed(Req::iam_post());
    let auth = base.header("authorization");
    let date = base.header("x-amz-date");
    let mut rng = Rng(42);
    // Every truncation of the Authorization header.
    for cut in 0..auth.len() {
        let mut req = base.clone();
        req.set_header("Authorization", &auth[..cut]);
        assert!(
            req.verify().is_err(),
            "truncated at {cut}: {:?}",
            &auth[..cut]
        );
    }
    // Every single-byte substitution of the Authorization header and X-Amz-Date.
    for (name, value) in [("Authorization", &auth), ("X-Amz-Date", &date)] {
        for at in 0..value.len() {
            for _ in 0..4 {
                let mut bytes = value.as_bytes().to_vec();
                let replacement = [
                    b'0',
                    b'a',
                    b'Z',
                    b'/',
                    b',',
                    b' ',
                    b'=',
                    0xff,
                    rng.next() as u8,
                ][rng.below(9)];
                if bytes[at] == replacement {
                    continue;
                }
                bytes[at] = replacement;
                let mut req = base.clone();
                req.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                req.headers.push((name.into(), bytes.clone()));
                let result = req.verify();
                // Changing the case of a header name in SignedHeaders, or the
                // spacing and empty items around separators, is harmless;
                // anything else fails.
                let lossy = String::from_utf8_lossy(&bytes).into_owned();
                let squeeze = |s: &str| s.replace([' ', ','], "");
                let harmless =
                    lossy.eq_ignore_ascii_case(value) || squeeze(&lossy) == squeeze(value);
                if !harmless {
                    assert!(result.is_err(), "{name} = {lossy:?} was accepted");
                }
            }
        }
    }
}

#[test]
fn garbage_presigned_queries_yield_errors_not_panics() {
    let base = presigned(Req::new("GET", "/", "Action=GetCallerIdentity", b""));
    let mut rng = Rng(7);
    for _ in 0..3_000 {
        let mut q = base.query.clone().into_bytes();
        for _ in 0..1 + rng.below(3) {
            if q.is_empty() {
                break;
            }
            let at = rng.below(q.len());
            match rng.below(3) {
                0 => q[at] = rng.next() as u8,
                1 => {
                    q.remove(at);
                }
                _ => q.insert(at, [b'&', b'=', b'%', b'+', 0xe1][rng.below(5)]),
            }
        }
        let mut req = base.clone();
        req.query = String::from_utf8_lossy(&q).into_owned();
        if req.query != base.query {
            let _ = req.verify();
        }
    }
}

// ---- interoperability -----------------------------------------------------

/// Requests signed by botocore 1.43 (the signer of aws-cli and boto3) with
/// the clock fixed at 2015-08-30T12:36:00Z; generated once, kept verbatim.
#[test]
fn botocore_signed_requests_verify() {
    let form = "application/x-www-form-urlencoded; charset=utf-8";
    // IAM over POST, as aws-cli sends it (User-Agent is not signed).
    let mut req = Req::new("POST", "/", "", b"Action=ListUsers&Version=2010-05-08");
    req.set_header("Content-Type", form);
    req.set_header("User-Agent", "aws-cli/2");
    req.set_header("X-Amz-Date", "20150830T123600Z");
    req.set_header(
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d76d0de3e0ffe5a7a23cfce21b99d6f4e5060aad86bd9dc7c617f224e5b492a",
    );
    assert_eq!(req.verify().unwrap().service, "iam");

    // STS in another region, with a session token.
    let mut req = Req::new(
        "POST",
        "/",
        "",
        b"Action=GetCallerIdentity&Version=2011-06-15",
    );
    req.set_header("Host", "sts.eu-west-1.amazonaws.com");
    req.set_header("Content-Type", form);
    req.set_header("X-Amz-Date", "20150830T123600Z");
    req.set_header("X-Amz-Security-Token", "FQoGZXIvYXdzE//token+with/special=");
    req.set_header(
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=d9dd08c9f19d06dfd98dd51f320e1d98aa92a75e2f1099cb9b4efe4635d44dd1",
    );
    let caller = req.verify().unwrap();
    assert_eq!(
        (caller.region.as_str(), caller.service.as_str()),
        ("eu-west-1", "sts")
    );
    assert_eq!(
        caller.security_token.as_deref(),
        Some("FQoGZXIvYXdzE//token+with/special=")
    );
    assert!(caller.security_token_signed);

    // A percent-encoded, unnormalized path: botocore normalizes it and
    // encodes it a second time, as the verifier does.
    let mut req = Req::new("GET", "/a%20b/./c//d%2Fe", "x=1&y=a%20b", b"");
    req.set_header("Host", "example.amazonaws.com");
    req.set_header("X-Amz-Date", "20150830T123600Z");
    req.set_header(
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=c07fe8c1147e4c89f8f94aa949bc5d2ceae02023628ca3f3d69127f81897fe6b",
    );
    assert!(req.verify().is_ok());

    // A presigned STS GetCallerIdentity URL with a session token.
    let mut req = Req::new(
        "GET",
        "/",
        "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Security-Token=FQoGZXIvYXdzE%2F%2Ftoken%2Bwith%2Fspecial%3D&X-Amz-Signature=1a43e2bbecf7bb4782ea1822ff34560837f36249b4bb3084baa29319e746aaad",
        b"",
    );
    req.set_header("Host", "sts.amazonaws.com");
    let caller = req.verify().unwrap();
    assert_eq!(caller.kind, AuthKind::Presigned);
    assert_eq!(
        caller.security_token.as_deref(),
        Some("FQoGZXIvYXdzE//token+with/special=")
    );
    assert!(caller.security_token_signed);
}

/// The signer produces botocore's signatures for the same requests.
#[test]
fn signer_matches_botocore() {
    let form = "application/x-www-form-urlencoded; charset=utf-8";
    let mut req = Req::new("POST", "/", "", b"Action=ListUsers&Version=2010-05-08");
    req.set_header("Content-Type", form);
    req.set_header("User-Agent", "aws-cli/2");
    let signed = signed_with(req, &params("us-east-1", "iam", None));
    assert_eq!(
        signed.header("authorization"),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d76d0de3e0ffe5a7a23cfce21b99d6f4e5060aad86bd9dc7c617f224e5b492a"
    );

    let mut req = Req::new(
        "POST",
        "/",
        "",
        b"Action=GetCallerIdentity&Version=2011-06-15",
    );
    req.set_header("Host", "sts.eu-west-1.amazonaws.com");
    req.set_header("Content-Type", form);
    let signed = signed_with(
        req,
        &params(
            "eu-west-1",
            "sts",
            Some("FQoGZXIvYXdzE//token+with/special="),
        ),
    );
    assert_eq!(
        signed.header("authorization"),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=d9dd08c9f19d06dfd98dd51f320e1d98aa92a75e2f1099cb9b4efe4635d44dd1"
    );

    let mut req = Req::new(
        "GET",
        "/",
        "Action=GetCallerIdentity&Version=2011-06-15",
        b"",
    );
    req.set_header("Host", "sts.amazonaws.com");
    let out = req.with(|r| {
        presign(
            r,
            &params(
                "us-east-1",
                "sts",
                Some("FQoGZXIvYXdzE//token+with/special="),
            ),
            900,
        )
    });
    assert_eq!(
        out.signature,
        "1a43e2bbecf7bb4782ea1822ff34560837f36249b4bb3084baa29319e746aaad"
    );
}
