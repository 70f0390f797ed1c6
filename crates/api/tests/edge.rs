//! The server's edge against misbehaving clients, through real sockets:
//! timeouts, the connection cap, the body memory budget, TLS, presigned
//! requests with a body, the credential scope's service, the log-position
//! header before authentication, and `+` in a signed query string. Each
//! attack is refused, and the legitimate use beside it still works.
//!
//! Timeouts are short here (hundreds of milliseconds to a few seconds), and
//! every assertion about one is "within a generous bound", never exact.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iam_api::app::{MIN_POSITION_HEADER, POSITION_HEADER};
use iam_api::server::{ServerOptions, TlsFiles};
use iam_api::sigv4;
use iam_event_store::testing::TestDatabase;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod support;
use support::*;

/// Far beyond every timeout a test configures.
const BOUND: Duration = Duration::from_secs(15);

fn quick(header: u64, body: u64) -> ServerOptions {
    ServerOptions {
        header_timeout: Duration::from_millis(header),
        body_timeout: Duration::from_millis(body),
        ..ServerOptions::default()
    }
}

/// Reads until the server closes the connection (or resets it); `None` if
/// it is still open after `bound`.
async fn read_until_closed(stream: &mut TcpStream, bound: Duration) -> Option<Vec<u8>> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
            }
        }
    };
    match tokio::time::timeout(bound, read).await {
        Ok(()) => Some(raw),
        Err(_) => None,
    }
}

/// Reads one response with a `content-length` off a kept-alive connection.
async fn read_one_response(stream: &mut TcpStream) -> Reply {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&raw).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                return parse_reply(&raw);
            }
        }
        let n = tokio::time::timeout(BOUND, stream.read(&mut buf))
            .await
            .expect("a response within the bound")
            .expect("read");
        assert!(n > 0, "closed before a whole response");
        raw.extend_from_slice(&buf[..n]);
    }
}

fn healthz(addr: std::net::SocketAddr) -> Vec<u8> {
    format!("GET /healthz HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n").into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_head_is_closed_after_the_header_timeout() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn_with(db.url(), quick(300, 10_000)).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nhost: iam\r\ncontent-ty")
        .await
        .unwrap();
    let raw = read_until_closed(&mut stream, BOUND)
        .await
        .expect("the half-sent head is closed within the bound");
    let reply = parse_reply(&raw);
    assert!(
        reply.status == 0 || reply.status == 408,
        "no request was served: {reply:?}"
    );
    // A whole request is served.
    let ok = send_raw(app.addr, healthz(app.addr)).await;
    assert_eq!((ok.status, ok.body.as_str()), (200, "ok"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_too_slowly_gets_408_and_the_connection_is_closed() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn_with(db.url(), quick(10_000, 1_000)).await;
    let root = app.root();
    let request = root.signed(
        &form(&[("Action", "ListUsers"), ("Version", "2010-05-08")]),
        "iam",
        &[],
    );
    // All but the last bytes of the body, then nothing.
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(&request[..request.len() - 5])
        .await
        .unwrap();
    let raw = read_until_closed(&mut stream, BOUND)
        .await
        .expect("the slow body is answered and closed within the bound");
    let reply = parse_reply(&raw);
    assert_eq!(
        (reply.status, reply.error_code().as_deref()),
        (408, Some("RequestTimeout")),
        "{reply:?}"
    );
    // A body in two parts well within the timeout is served.
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let split = request.len() - 5;
    stream.write_all(&request[..split]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    stream.write_all(&request[split..]).await.unwrap();
    let raw = read_until_closed(&mut stream, BOUND).await.unwrap();
    let reply = parse_reply(&raw);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("<ListUsersResponse"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_are_refused_until_idle_ones_are_closed() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn_with(
        db.url(),
        ServerOptions {
            max_connections: 4,
            ..quick(3_000, 10_000)
        },
    )
    .await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(app.addr).await.unwrap());
    }
    // The fifth is accepted after the four (in order) and closed at once.
    let mut extra = TcpStream::connect(app.addr).await.unwrap();
    let _ = extra.write_all(&healthz(app.addr)).await;
    let raw = read_until_closed(&mut extra, BOUND)
        .await
        .expect("a connection beyond the cap is closed");
    let refused = parse_reply(&raw);
    assert!(
        refused.status == 503 || refused.status == 0,
        "refused, not served: {refused:?}"
    );
    // The idle ones are closed by the header timeout, freeing their slots…
    for mut stream in idle {
        read_until_closed(&mut stream, BOUND)
            .await
            .expect("an idle connection is closed within the bound");
    }
    // …so a new client is served (a slot is given back just after its
    // connection closes, hence a few tries).
    let deadline = Instant::now() + BOUND;
    loop {
        let reply = send_raw(app.addr, healthz(app.addr)).await;
        if reply.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "never served again: {reply:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn_with(db.url(), quick(2_000, 10_000)).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let request = format!("GET /healthz HTTP/1.1\r\nhost: {}\r\n\r\n", app.addr);
    // Keep-alive works: two requests on one connection.
    for _ in 0..2 {
        stream.write_all(request.as_bytes()).await.unwrap();
        let reply = read_one_response(&mut stream).await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "ok"));
    }
    // Then, idle, it is closed.
    let rest = read_until_closed(&mut stream, BOUND)
        .await
        .expect("the idle connection is closed within the bound");
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_beyond_the_memory_budget_are_refused() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn_with(
        db.url(),
        ServerOptions {
            body_budget: 4096,
            ..ServerOptions::default()
        },
    )
    .await;
    let root = app.root();
    // Beyond the floor every body has (64 KiB) and the 4 KiB budget.
    let padding = "x".repeat(80_000);
    let big = send_raw(
        app.addr,
        root.signed(
            &form(&[
                ("Action", "ListUsers"),
                ("Version", "2010-05-08"),
                ("Padding", &padding),
            ]),
            "iam",
            &[],
        ),
    )
    .await;
    assert_eq!(
        (big.status, big.error_code().as_deref()),
        (503, Some("ServiceUnavailable")),
        "{}",
        big.body
    );
    // The budget is given back: small requests keep working.
    for _ in 0..3 {
        root.ok("ListUsers", &[]).await;
    }
    app.stop().await;
}

/// Clients that hold the whole body budget with large stalled bodies do not
/// starve ordinary requests: each body's first 64 KiB is outside the
/// budget, so a signed request of a few hundred bytes is still served while
/// another large body is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_large_bodies_do_not_starve_small_requests() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn_with(
        db.url(),
        ServerOptions {
            body_budget: 100_000,
            ..ServerOptions::default()
        },
    )
    .await;
    let root = app.root();
    // 160,000 bytes of a 200,000-byte body, then nothing: it holds about
    // 94,000 bytes of the budget until the body timeout.
    let mut stalled = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
         content-length: 200000\r\n\r\n",
        app.addr
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    stalled.write_all(&vec![b'x'; 160_000]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let padding = "x".repeat(100_000);
    let big = send_raw(
        app.addr,
        root.signed(
            &form(&[
                ("Action", "ListUsers"),
                ("Version", "2010-05-08"),
                ("Padding", &padding),
            ]),
            "iam",
            &[],
        ),
    )
    .await;
    assert_eq!(big.status, 503, "{}", big.body);
    root.ok("ListUsers", &[]).await;
    drop(stalled);
    app.stop().await;
}

/// A URL presigned with `UNSIGNED-PAYLOAD` (as S3-style presigners do): the
/// signature covers the query string and the host only.
fn presign_unsigned_payload(app: &TestApp, method: &str, query: &str) -> String {
    let now = chrono::Utc::now();
    let date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let scope = format!("{}/us-east-1/iam/aws4_request", &date[..8]);
    let credential = format!("{}/{scope}", app.root.access_key_id);
    let mut encoded_credential = String::new();
    sigv4::uri_encode(credential.as_bytes(), false, &mut encoded_credential);
    let query = format!(
        "{query}&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={encoded_credential}\
         &X-Amz-Date={date}&X-Amz-Expires=300&X-Amz-SignedHeaders=host"
    );
    let host = app.addr.to_string();
    let headers: Vec<(&str, &[u8])> = vec![("host", host.as_bytes())];
    let canonical = sigv4::canonical_request(
        method,
        "/",
        &sigv4::canonical_query(&sigv4::parse_query(&query), |_| false),
        &["host".to_owned()],
        &headers,
        "UNSIGNED-PAYLOAD",
    );
    let to_sign = sigv4::string_to_sign(&date, &scope, &canonical);
    let key = sigv4::signing_key(&app.root.secret_access_key, &date[..8], "us-east-1", "iam");
    let signature = hex::encode(sigv4::signature(&key, &to_sign));
    format!("{query}&X-Amz-Signature={signature}")
}

fn with_body(method: &str, query: &str, host: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} /?{query} HTTP/1.1\r\nhost: {host}\r\n{extra}\
         content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_presigned_request_cannot_carry_unsigned_body_parameters() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let host = app.addr.to_string();
    let unsigned = "x-amz-content-sha256: UNSIGNED-PAYLOAD\r\n";
    let attack = "Action=CreateUser&Version=2010-05-08&UserName=mallory";

    // A URL presigned for ListUsers, POSTed with a CreateUser body.
    let url = presign_unsigned_payload(&app, "POST", "Action=ListUsers&Version=2010-05-08");
    let reply = send_raw(app.addr, with_body("POST", &url, &host, unsigned, attack)).await;
    assert_eq!(
        (reply.status, reply.error_code().as_deref()),
        (400, Some("InvalidRequest")),
        "{}",
        reply.body
    );
    // A URL presigned over an empty body, likewise.
    let req_headers: Vec<(&str, &[u8])> = vec![("host", host.as_bytes())];
    let signed = sigv4::presign(
        &sigv4::HttpRequest {
            method: "POST",
            path: "/",
            query: "Action=ListUsers&Version=2010-05-08",
            headers: &req_headers,
            body: b"",
        },
        &sigv4::SigningParams {
            credentials: sigv4::Credentials {
                access_key_id: &app.root.access_key_id,
                secret_access_key: &app.root.secret_access_key,
                security_token: None,
            },
            region: "us-east-1",
            service: "iam",
            time: chrono::Utc::now(),
            settings: sigv4::SigningSettings::default(),
        },
        300,
    );
    let reply = send_raw(
        app.addr,
        with_body("POST", &signed.query, &host, "", attack),
    )
    .await;
    assert_eq!(reply.error_code().as_deref(), Some("InvalidRequest"));
    let root = app.root();
    let gone = root.call("GetUser", &[("UserName", "mallory")]).await;
    assert_eq!(
        gone.error_code().as_deref(),
        Some("NoSuchEntity"),
        "{}",
        gone.body
    );

    // The presigned URLs themselves work, without a body.
    for method in ["GET", "POST"] {
        let url = presign_unsigned_payload(&app, method, "Action=ListUsers&Version=2010-05-08");
        let reply = send_raw(app.addr, with_body(method, &url, &host, unsigned, "")).await;
        assert_eq!(reply.status, 200, "{method}: {}", reply.body);
        assert!(reply.body.contains("<ListUsersResponse"));
    }
    let reply = send_raw(app.addr, with_body("POST", &signed.query, &host, "", "")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_credential_scope_must_name_the_actions_service() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let iam_signed_for_sts = send_raw(
        app.addr,
        root.signed(
            &form(&[
                ("Action", "CreateUser"),
                ("Version", "2010-05-08"),
                ("UserName", "x"),
            ]),
            "sts",
            &[],
        ),
    )
    .await;
    assert_eq!(
        (
            iam_signed_for_sts.status,
            iam_signed_for_sts.error_code().as_deref()
        ),
        (403, Some("SignatureDoesNotMatch")),
        "{}",
        iam_signed_for_sts.body
    );
    assert!(iam_signed_for_sts
        .body
        .contains("Credential should be scoped to correct service: &apos;iam&apos;."));
    let sts_signed_for_iam = send_raw(
        app.addr,
        root.signed(
            &form(&[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")]),
            "iam",
            &[],
        ),
    )
    .await;
    assert_eq!(
        (
            sts_signed_for_iam.status,
            sts_signed_for_iam.error_code().as_deref()
        ),
        (403, Some("SignatureDoesNotMatch")),
        "{}",
        sts_signed_for_iam.body
    );
    assert!(sts_signed_for_iam
        .body
        .contains("Credential should be scoped to correct service: &apos;sts&apos;."));
    assert_eq!(
        root.call("GetUser", &[("UserName", "x")])
            .await
            .error_code()
            .as_deref(),
        Some("NoSuchEntity"),
        "nothing was created"
    );
    // Each action with its own service's scope.
    root.ok("CreateUser", &[("UserName", "x")]).await;
    root.ok("GetCallerIdentity", &[]).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_position_header_is_honoured_only_after_authentication() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let far = "1000000000";
    let body = form(&[("Action", "ListUsers"), ("Version", "2010-05-08")]);
    let unsigned = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
         {MIN_POSITION_HEADER}: {far}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        app.addr,
        body.len()
    );
    // The wait is 5 s: an answer well before it did not wait.
    let quick_answer = Duration::from_secs(4);
    let started = Instant::now();
    let reply = send_raw(app.addr, unsigned.into_bytes()).await;
    assert!(started.elapsed() < quick_answer, "{:?}", started.elapsed());
    assert_eq!(
        (reply.status, reply.error_code().as_deref()),
        (403, Some("MissingAuthenticationToken")),
        "{}",
        reply.body
    );
    assert!(reply.header(POSITION_HEADER).is_none());

    let root = app.root();
    let wait = [(MIN_POSITION_HEADER, far)];
    for (client, code) in [
        (
            root.with_key(&app.root.access_key_id, "not-the-secret"),
            "SignatureDoesNotMatch",
        ),
        (
            root.with_key("AKIAUNKNOWNUNKNOWN00", "whatever"),
            "InvalidClientTokenId",
        ),
    ] {
        let started = Instant::now();
        let reply = client.call_with("ListUsers", &[], &wait).await;
        assert!(started.elapsed() < quick_answer, "{:?}", started.elapsed());
        assert_eq!(reply.error_code().as_deref(), Some(code), "{}", reply.body);
    }

    // An authenticated caller still gets the wait: at a reached position it
    // is served, beyond the log it is told to retry.
    let made = root.ok("CreateUser", &[("UserName", "w")]).await;
    let at = made.header(POSITION_HEADER).unwrap().to_owned();
    let read = root
        .call_with(
            "GetUser",
            &[("UserName", "w")],
            &[(MIN_POSITION_HEADER, &at)],
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    let beyond = root.call_with("ListUsers", &[], &wait).await;
    assert_eq!(
        (beyond.status, beyond.error_code().as_deref()),
        (503, Some("ServiceUnavailable")),
        "{}",
        beyond.body
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plus_in_a_signed_query_string_is_read_as_signed() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let host = app.addr.to_string();
    let req_headers: Vec<(&str, &[u8])> = vec![("host", host.as_bytes())];
    // `+` raw and `%2B` both mean a plus; `%20` is a space.
    let query = "Action=CreateUser&Version=2010-05-08&UserName=a+b\
                 &Tags.member.1.Key=k&Tags.member.1.Value=x%20y+z%2Bw";
    let signed = sigv4::presign(
        &sigv4::HttpRequest {
            method: "GET",
            path: "/",
            query,
            headers: &req_headers,
            body: b"",
        },
        &sigv4::SigningParams {
            credentials: sigv4::Credentials {
                access_key_id: &app.root.access_key_id,
                secret_access_key: &app.root.secret_access_key,
                security_token: None,
            },
            region: "us-east-1",
            service: "iam",
            time: chrono::Utc::now(),
            settings: sigv4::SigningSettings::default(),
        },
        300,
    );
    let created = send_raw(
        app.addr,
        format!(
            "GET /?{} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n",
            signed.query
        )
        .into_bytes(),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.tag("UserName").as_deref(), Some("a+b"));
    // In a form body (covered by the payload hash) `+` is a space, as the
    // form encoding says; the test client encodes a plus as `%2B`.
    let root = app.root();
    root.ok(
        "TagUser",
        &[
            ("UserName", "a+b"),
            ("Tags.member.1.Key", "k2"),
            ("Tags.member.1.Value", "p q+r"),
        ],
    )
    .await;
    let tags = root.ok("ListUserTags", &[("UserName", "a+b")]).await;
    let values = tags.all("Value");
    assert!(values.contains(&"x y+z+w".to_owned()), "{values:?}");
    assert!(values.contains(&"p q+r".to_owned()), "{values:?}");
    app.stop().await;
}

fn test_data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

async fn send_tls(addr: std::net::SocketAddr, request: Vec<u8>) -> Reply {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in
        rustls::pki_types::CertificateDer::pem_file_iter(test_data("test-cert.pem")).unwrap()
    {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.expect("TLS handshake");
    tls.write_all(&request).await.unwrap();
    let mut raw = Vec::new();
    // A peer that closes without close_notify is an error here, not a problem.
    let _ = tls.read_to_end(&mut raw).await;
    parse_reply(&raw)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_signed_requests_and_sets_secure_transport() {
    let db = TestDatabase::for_server().await;
    let secure = TestApp::spawn_with(
        db.url(),
        ServerOptions {
            tls: Some(TlsFiles {
                cert: test_data("test-cert.pem"),
                key: test_data("test-key.pem"),
            }),
            ..ServerOptions::default()
        },
    )
    .await;
    let plain = TestApp::spawn(db.url()).await;

    let me = send_tls(
        secure.addr,
        secure.root().signed(
            &form(&[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")]),
            "sts",
            &[],
        ),
    )
    .await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.tag("Account").as_deref(), Some(ACCOUNT));

    // A user allowed to list users over TLS only.
    let root = plain.root();
    root.ok("CreateUser", &[("UserName", "tls-only")]).await;
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", "tls-only"),
            ("PolicyName", "tls"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#,
            ),
        ],
    )
    .await;
    let key = root
        .ok("CreateAccessKey", &[("UserName", "tls-only")])
        .await;
    let (id, secret) = (
        key.tag("AccessKeyId").unwrap(),
        key.tag("SecretAccessKey").unwrap(),
    );
    let at = key.header(POSITION_HEADER).unwrap().to_owned();
    let over_tls = send_tls(
        secure.addr,
        secure.root().with_key(&id, &secret).signed(
            &form(&[("Action", "ListUsers"), ("Version", "2010-05-08")]),
            "iam",
            &[(MIN_POSITION_HEADER, &at)],
        ),
    )
    .await;
    assert_eq!(over_tls.status, 200, "{}", over_tls.body);
    assert!(over_tls.body.contains("<ListUsersResponse"));
    let over_plain = plain
        .root()
        .with_key(&id, &secret)
        .call("ListUsers", &[])
        .await;
    assert_eq!(
        (over_plain.status, over_plain.error_code().as_deref()),
        (403, Some("AccessDenied")),
        "{}",
        over_plain.body
    );

    // Plain HTTP to the TLS port gets no HTTP answer.
    let mut stream = TcpStream::connect(secure.addr).await.unwrap();
    let _ = stream.write_all(&healthz(secure.addr)).await;
    let raw = read_until_closed(&mut stream, BOUND)
        .await
        .expect("closed within the bound");
    assert_eq!(
        parse_reply(&raw).status,
        0,
        "{}",
        String::from_utf8_lossy(&raw)
    );

    secure.stop().await;
    plain.stop().await;
}

/// `iamd serve --tls-cert --tls-key` as operators run it; a key that does
/// not match the certificate is refused at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iamd_serve_takes_tls_files_and_limits_from_its_flags() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let db = TestDatabase::for_server().await;
    let data_dir =
        std::env::temp_dir().join(format!("iamd-edge-{}", uuid::Uuid::new_v4().simple()));
    let serve = |cert: PathBuf, key: PathBuf| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_iamd"));
        command
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                db.url(),
            ])
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["--max-connections", "16", "--header-timeout", "5"])
            .arg("--tls-cert")
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            .env_remove("DATABASE_URL")
            .env_remove("IAMD_ROOT_ACCESS_KEY_ID")
            .env_remove("IAMD_ROOT_SECRET_ACCESS_KEY")
            .env_remove("IAMD_MASTER_KEY")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    };

    // The certificate given as the key: refused with a message naming it.
    let wrong = serve(test_data("test-cert.pem"), test_data("test-cert.pem"))
        .output()
        .expect("run iamd serve");
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(stderr.contains("--tls-key"), "{stderr}");

    let mut child = serve(test_data("test-cert.pem"), test_data("test-key.pem"))
        .spawn()
        .expect("start iamd serve");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr: std::net::SocketAddr = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("iamd listening") => {
                assert!(line.contains("tls=true"), "{line}");
                break line
                    .split("address=")
                    .nth(1)
                    .and_then(|a| a.split_whitespace().next())
                    .and_then(|a| a.parse().ok())
                    .expect("an address");
            }
            Ok(_) => {}
            Err(_) => {
                let _ = child.kill();
                panic!("iamd serve never listened");
            }
        }
    };
    let reply = send_tls(addr, healthz(addr)).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "ok"));
    let mut plain = TcpStream::connect(addr).await.unwrap();
    let _ = plain.write_all(&healthz(addr)).await;
    let raw = read_until_closed(&mut plain, BOUND).await.expect("closed");
    assert_eq!(parse_reply(&raw).status, 0);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("iamd did not stop within 30 s of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// Shutdown still finishes a request under way, and neither an idle
/// keep-alive connection nor a half-sent head holds it up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_answers_requests_under_way_and_closes_idle_connections() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    // Idle: one request answered, the connection kept alive.
    let mut idle = TcpStream::connect(app.addr).await.unwrap();
    idle.write_all(format!("GET /healthz HTTP/1.1\r\nhost: {}\r\n\r\n", app.addr).as_bytes())
        .await
        .unwrap();
    assert_eq!(read_one_response(&mut idle).await.status, 200);
    let mut half = TcpStream::connect(app.addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nhos")
        .await
        .unwrap();
    // Under way: a request waiting (5 s) for a log position never reached.
    let waiting = tokio::spawn(async move {
        root.call_with("ListUsers", &[], &[(MIN_POSITION_HEADER, "1000000000")])
            .await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    app.stop().await;
    assert!(started.elapsed() < BOUND, "{:?}", started.elapsed());
    let answered = waiting.await.unwrap();
    assert_eq!(
        answered.error_code().as_deref(),
        Some("ServiceUnavailable"),
        "{}",
        answered.body
    );
    for stream in [&mut idle, &mut half] {
        read_until_closed(stream, BOUND)
            .await
            .expect("closed by the shutdown");
    }
}

/// Parameters are parsed only once the caller is authenticated, and no
/// request may carry more than the edge's bounds: an anonymous body of
/// thousands of deep names is refused by authentication (it was never
/// built into a tree), a signed one by the bound, and a JSON body with too
/// many values before it is parsed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_parsed_after_authentication_and_within_bounds() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let names: Vec<String> = (0..5_000)
        .map(|i| format!("{i}a.a.a.a.a.a.a.a.a.a.a.a.a.a.a=x"))
        .collect();
    let body = format!("Action=GetUser&Version=2010-05-08&{}", names.join("&"));
    let anonymous = send_raw(
        app.addr,
        format!(
            "POST / HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
            app.addr,
            body.len()
        )
        .into_bytes(),
    )
    .await;
    assert_eq!(anonymous.status, 403, "{}", anonymous.body);
    assert_eq!(
        anonymous.error_code().as_deref(),
        Some("MissingAuthenticationToken")
    );

    let signed = send_raw(app.addr, root.signed(&body, "iam", &[])).await;
    assert_eq!(signed.status, 400, "{}", signed.body);
    assert!(
        signed.body.contains("more than 1000 parameters"),
        "{}",
        signed.body
    );

    let values = format!(
        "{{\"UserName\":\"a\",\"X\":[{}]}}",
        vec!["{}"; 20_000].join(",")
    );
    let json = send_raw(
        app.addr,
        root.signed_post("/iam/GetUser", "application/json", &values, "iam", &[]),
    )
    .await;
    assert_eq!(json.status, 400, "{}", json.body);
    assert!(
        json.body.contains("SerializationException"),
        "{}",
        json.body
    );
    app.stop().await;
}

/// A caller allowed nothing cannot make the server write (or hold, for a
/// client that does not read) a huge error: a list far over its length
/// limit is refused as such, and a message words ten violations at most.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_invalid_items_gets_a_small_answer() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    let deny_all =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
    let nobody = user_with_policy(&root, "nobody", deny_all).await;
    let keys = format!("[{}]", vec!["\"\""; 9_000].join(","));
    let reply = nobody
        .json(
            "iam",
            "UntagUser",
            &serde_json::from_str(&format!("{{\"UserName\":\"victim\",\"TagKeys\":{keys}}}"))
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.len() < 1_000, "{} bytes", reply.body.len());
    assert!(reply
        .body
        .contains("Member must have length less than or equal to 50"));
    // Within the list's limit, every item invalid: counted, ten worded.
    let names: Vec<String> = (1..=50).map(|i| format!("TagKeys.member.{i}=")).collect();
    let body = format!(
        "Action=UntagUser&Version=2010-05-08&UserName=victim&{}",
        names.join("&")
    );
    let reply = send_raw(app.addr, nobody.signed(&body, "iam", &[])).await;
    // Two faults each (length and pattern).
    assert!(
        reply.body.contains("100 validation errors detected"),
        "{}",
        reply.body
    );
    assert!(reply.body.len() < 3_000, "{} bytes", reply.body.len());
    app.stop().await;
}

/// One request means one thing, however its parameters are ordered or
/// spelled: `member.01` is not another name for `member.1` (it is ignored),
/// so a denied tag key cannot be slipped in beside an allowed one and win
/// some of the time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_read_the_same_way_every_time() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn(db.url()).await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "victim")]).await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":"iam:TagUser","Resource":"arn:aws:iam::{ACCOUNT}:user/victim"}},
            {{"Effect":"Deny","Action":"iam:TagUser","Resource":"*","Condition":{{"ForAnyValue:StringEquals":{{"aws:TagKeys":"admin"}}}}}}]}}"#
    );
    let alice = user_with_policy(&root, "alice", &policy).await;
    let mut outcomes = std::collections::BTreeSet::new();
    for _ in 0..8 {
        let reply = alice
            .call(
                "TagUser",
                &[
                    ("UserName", "victim"),
                    ("Tags.member.01.Key", "admin"),
                    ("Tags.member.01.Value", "1"),
                    ("Tags.member.1.Key", "ok"),
                    ("Tags.member.1.Value", "1"),
                ],
            )
            .await;
        outcomes.insert(reply.status);
    }
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    let tags = root.ok("ListUserTags", &[("UserName", "victim")]).await;
    assert!(!tags.body.contains("admin"), "{}", tags.body);
    app.stop().await;
}

/// `--metrics-listen`: Prometheus metrics on their own listener, counting
/// requests by operation and status (a name no model has is `unknown`:
/// callers cannot grow the series), decisions, the log's position, appends,
/// and snapshot and checkpoint writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_and_decisions_on_their_own_listener() {
    let db = TestDatabase::for_server().await;
    let app = TestApp::spawn_with(
        db.url(),
        ServerOptions {
            metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
            ..ServerOptions::default()
        },
    )
    .await;
    let root = app.root();
    root.ok("CreateUser", &[("UserName", "m")]).await;
    root.ok("GetUser", &[("UserName", "m")]).await;
    root.call("GetUser", &[("UserName", "nobody")]).await;
    root.call("NoSuchOperation1", &[]).await;
    root.call("NoSuchOperation2", &[]).await;
    let ask = serde_json::json!({"principal": format!("arn:aws:iam::{ACCOUNT}:user/m"), "action": "s3:GetObject", "resource": "*"});
    root.v1("POST", "/v1/authorize", "", Some(&ask)).await;
    let metrics = app.metrics_addr.expect("a metrics listener");
    let reply = send_raw(
        metrics,
        format!("GET /metrics HTTP/1.1\r\nhost: {metrics}\r\nconnection: close\r\n\r\n")
            .into_bytes(),
    )
    .await;
    assert_eq!(reply.status, 200);
    let text = reply.body;
    for line in [
        "iamd_requests_total{operation=\"GetUser\",status=\"200\"} 1",
        "iamd_requests_total{operation=\"GetUser\",status=\"404\"} 1",
        "iamd_requests_total{operation=\"CreateUser\",status=\"200\"} 1",
        "iamd_requests_total{operation=\"unknown\",status=\"400\"} 2",
        "iamd_requests_total{operation=\"Authorize\",status=\"200\"} 1",
        "iamd_decisions_total{decision=\"ImplicitDeny\"} 1",
        "iamd_request_seconds_count{operation=\"GetUser\"} 2",
        "iamd_view_lag_positions 0",
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
    assert!(text.contains("iamd_log_head_position "));
    // What the projection counted: this node's appends (the account's
    // creation at start, the CreateUser, the keys' use) and their latency;
    // snapshot and checkpoint writes (none is due this early: the series
    // are there, at zero).
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{series} in:\n{text}"))
            .parse()
            .unwrap()
    };
    let appends = value("iamd_appends_total{outcome=\"appended\"}");
    assert!(appends >= 2.0, "{text}");
    assert_eq!(value("iamd_appends_total{outcome=\"error\"}"), 0.0);
    value("iamd_appends_total{outcome=\"conflict\"}");
    value("iamd_appends_total{outcome=\"duplicate\"}");
    assert!(value("iamd_appended_events_total") >= appends);
    assert!(value("iamd_appended_events_total") <= value("iamd_log_head_position"));
    assert!(value("iamd_append_duration_seconds_count") >= appends);
    assert!(value("iamd_append_duration_seconds_sum") > 0.0);
    assert_eq!(
        value("iamd_append_duration_seconds_bucket{le=\"+Inf\"}"),
        value("iamd_append_duration_seconds_count")
    );
    for what in ["snapshot", "checkpoint"] {
        assert_eq!(
            value(&format!("iamd_{what}_write_duration_seconds_count")),
            0.0
        );
        assert_eq!(value(&format!("iamd_{what}_write_failures_total")), 0.0);
        for series in [
            format!("iamd_{what}_write_duration_seconds_bucket{{le=\"0.001\"}}"),
            format!("iamd_{what}_write_duration_seconds_sum"),
            format!("iamd_{what}_last_write_duration_seconds"),
            format!("iamd_{what}_last_size_bytes"),
            format!("iamd_{what}_last_write_timestamp_seconds"),
        ] {
            value(&series);
        }
        for line in [
            format!("# TYPE iamd_{what}_write_duration_seconds histogram"),
            format!("# TYPE iamd_{what}_last_size_bytes gauge"),
        ] {
            assert!(text.contains(&line), "{line} in:\n{text}");
        }
    }
    // Not on the API's listener.
    let api = send_raw(
        app.addr,
        format!(
            "GET /metrics HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
            app.addr
        )
        .into_bytes(),
    )
    .await;
    assert_eq!(api.status, 404);
    app.stop().await;
}
