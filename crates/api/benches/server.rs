//! Server throughput over loopback (`cargo xtask bench server`): signed,
//! authenticated and authorized GetUser and CreateUser from 1 and 32
//! concurrent keep-alive clients, beside the event store's own single-event
//! append rate on the same database. Prints `name value` lines.
//!
//! The caller is an IAM user (not root), so every request goes through the
//! evaluator with the user's compiled policies.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iam_api::app::{Application, Config};
use iam_api::credentials::RootCredentials;
use iam_domain::secrets::MasterKey;
use iam_event_store::{EventStore, ExpectedVersion, NewEvent};
use sqlx::{Connection, Executor};

mod client;
use client::{form, tag, Conn};

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:CreateUser","iamd:Authorize"],"Resource":"arn:aws:iam::123456789012:user/*"},{"Effect":"Deny","Action":"iam:DeleteUser","Resource":"*"}]}"#;

/// The root user's access key, as the benchmark's server is given it.
const ROOT: (&str, &str) = (
    "AKIAROOTROOTROOT0001",
    "rootsecretrootsecretrootsecretrootsecret",
);

struct Figures {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn run(
    addr: SocketAddr,
    key: &str,
    secret: &str,
    clients: usize,
    seconds: u64,
    body: impl Fn(usize, u64) -> String + Send + Sync + 'static,
) -> Figures {
    run_as(
        addr,
        Signer {
            key,
            secret,
            token: None,
            service: "iam",
            path: "/",
        },
        clients,
        seconds,
        body,
    )
    .await
}

/// Whom requests are signed as, for which service, to which path.
#[derive(Clone, Copy)]
struct Signer<'a> {
    key: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
    service: &'static str,
    path: &'static str,
}

/// [`run`] with temporary credentials, another service or path.
async fn run_as(
    addr: SocketAddr,
    signer: Signer<'_>,
    clients: usize,
    seconds: u64,
    body: impl Fn(usize, u64) -> String + Send + Sync + 'static,
) -> Figures {
    let body = Arc::new(body);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let body = body.clone();
        let (key, secret) = (signer.key.to_owned(), signer.secret.to_owned());
        let token = signer.token.map(str::to_owned);
        let (service, path) = (signer.service, signer.path);
        tasks.push(tokio::spawn(async move {
            let mut conn = match &token {
                Some(t) => Conn::open_session(addr, &key, &secret, t).await,
                None => Conn::open(addr, &key, &secret).await,
            };
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let b = body(c, n);
                let t = Instant::now();
                let content_type = if path == "/" {
                    "application/x-www-form-urlencoded"
                } else {
                    "application/json"
                };
                let (status, text) = conn.post(path, content_type, service, &b).await;
                if status == 503 {
                    // Sign-in's bound on verifications at once: try again
                    // a little later (sooner than its Retry-After, to keep
                    // the cores busy).
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                assert_eq!(status, 200, "{text}");
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                n += 1;
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Figures {
        per_second: all.len() as f64 / elapsed,
        p50_ms: all[all.len() / 2],
        p99_ms: all[(all.len() * 99 / 100).min(all.len() - 1)],
    }
}

/// Like [`run`], for `/v1/authorize` or `/v1/authorize/batch` (JSON,
/// signed for `iamd`), counting `per_request` decisions per answer.
async fn run_v1(
    addr: SocketAddr,
    key: &str,
    secret: &str,
    clients: usize,
    seconds: u64,
    path: &'static str,
    body: String,
) -> Figures {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (key, secret, body) = (key.to_owned(), secret.to_owned(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr, &key, &secret).await;
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let (status, text) = conn.post(path, "application/json", "iamd", &body).await;
                assert_eq!(status, 200, "{text}");
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Figures {
        per_second: all.len() as f64 / elapsed,
        p50_ms: all[all.len() / 2],
        p99_ms: all[(all.len() * 99 / 100).min(all.len() - 1)],
    }
}

/// A bare axum server on a free port that answers every `POST /` with
/// `body`, as `text/xml`: what serving the request costs without iamd.
async fn bare_axum(body: String) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body: &'static str = Box::leak(body.into_boxed_str());
    let router = axum::Router::new().route(
        "/",
        axum::routing::post(move || async move { ([("content-type", "text/xml")], body) }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

async fn store_appends(store: Arc<dyn EventStore>, writers: usize, seconds: u64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                let e = NewEvent::new(
                    "Baseline",
                    1,
                    serde_json::json!({"n": n, "user_name": format!("u{w}-{n}")}),
                );
                store
                    .append(
                        &format!("baseline-{writers}-{w}"),
                        ExpectedVersion::Any,
                        vec![e],
                    )
                    .await
                    .unwrap();
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(8u64);
    let admin_url = std::env::var("DATABASE_URL").expect("DATABASE_URL=postgres://...");
    let name = "iamd_bench_server";
    let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .unwrap();
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(name);

    let root = RootCredentials {
        access_key_id: ROOT.0.into(),
        secret_access_key: ROOT.1.into(),
    };
    // AWS's default of 5,000 users per account is below what the CreateUser
    // runs create.
    let quotas = iam_domain::Quotas {
        users_per_account: 1_000_000,
        ..iam_domain::Quotas::default()
    };
    let app = Application::build_with_quotas(
        Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: url.to_string(),
            account_id: "123456789012".into(),
            data_dir: std::env::temp_dir().join("iamd-bench-server"),
            root_credentials: Some(root.clone()),
            master_key: Some(MasterKey::from_bytes([3; 32])),
            add_account: false,
            // The web identity benchmark's issuer is on loopback.
            allow_loopback_http_issuers: true,
            server: Default::default(),
        },
        quotas,
    )
    .await
    .unwrap();
    let addr = app.local_addr();
    let store = app.state().store.clone();
    tokio::spawn(app.run_until_stopped(std::future::pending()));

    // The benchmark's caller: a user with an inline policy and an access key.
    let mut admin = Conn::open(addr, &root.access_key_id, &root.secret_access_key).await;
    let v = ("Version", "2010-05-08");
    admin
        .call(&form(&[("Action", "CreateUser"), v, ("UserName", "bench")]))
        .await;
    admin
        .call(&form(&[
            ("Action", "PutUserPolicy"),
            v,
            ("UserName", "bench"),
            ("PolicyName", "p"),
            ("PolicyDocument", POLICY),
        ]))
        .await;
    let (_, key) = admin
        .call(&form(&[
            ("Action", "CreateAccessKey"),
            v,
            ("UserName", "bench"),
        ]))
        .await;
    let (id, secret) = (tag(&key, "AccessKeyId"), tag(&key, "SecretAccessKey"));
    admin
        .call(&form(&[
            ("Action", "CreateUser"),
            v,
            ("UserName", "target"),
        ]))
        .await;

    // The ceiling for reads: a bare axum server answering the same signed
    // request with the same response body, without authentication,
    // authorization or any iamd code, over the same keep-alive client.
    let get_user = || {
        form(&[
            ("Action", "GetUser"),
            ("Version", "2010-05-08"),
            ("UserName", "target"),
        ])
    };
    // iamd as a decision point: one decision per request, and batches of
    // 1,000 and of 10,000, asked by the same user (allowed `iamd:Authorize`
    // on users).
    let one = r#"{"principal":"arn:aws:iam::123456789012:user/target","action":"s3:GetObject","resource":"arn:aws:s3:::bucket/key","context":{"aws:SourceIp":"10.0.0.1"}}"#;
    let batch = format!(r#"{{"requests":[{}]}}"#, vec![one; 1000].join(","));
    let big_batch = format!(r#"{{"requests":[{}]}}"#, vec![one; 10_000].join(","));
    // `IAMD_BENCH_ONLY=web-identity`: AssumeRoleWithWebIdentity beside
    // AssumeRole.
    if std::env::var("IAMD_BENCH_ONLY").as_deref() == Ok("web-identity") {
        web_identity(addr, &mut admin, (&id, &secret), seconds).await;
        return;
    }
    // `IAMD_BENCH_ONLY=sts`: temporary credentials and sign-ins alone.
    if std::env::var("IAMD_BENCH_ONLY").as_deref() == Ok("sts") {
        sts(addr, &mut admin, (&id, &secret), seconds).await;
        return;
    }
    // `IAMD_BENCH_ONLY=batch`: the batches alone, one client (for profiling).
    if std::env::var("IAMD_BENCH_ONLY").as_deref() == Ok("batch") {
        for (size, body) in [(1000, &batch), (10_000, &big_batch)] {
            let f = run_v1(
                addr,
                &id,
                &secret,
                1,
                seconds,
                "/v1/authorize/batch",
                body.clone(),
            )
            .await;
            println!(
                "batch_{size}_decisions_per_s {:.1}",
                f.per_second * size as f64
            );
        }
        return;
    }
    let (_, answer) = Conn::open(addr, &id, &secret).await.call(&get_user()).await;
    let bare = bare_axum(answer).await;
    for clients in [1usize, 32] {
        let before = run(bare, &id, &secret, clients, seconds, move |_, _| get_user()).await;
        let f = run(addr, &id, &secret, clients, seconds, move |_, _| get_user()).await;
        let after = run(bare, &id, &secret, clients, seconds, move |_, _| get_user()).await;
        println!(
            "bare_axum_{clients}_per_s {:.1}",
            (before.per_second + after.per_second) / 2.0
        );
        eprintln!(
            "bare axum with {clients} clients: {:.0}/s before, {:.0}/s after",
            before.per_second, after.per_second
        );
        println!("getuser_{clients}_per_s {:.1}", f.per_second);
        println!("getuser_{clients}_p50_ms {:.3}", f.p50_ms);
        println!("getuser_{clients}_p99_ms {:.3}", f.p99_ms);
    }
    for clients in [1usize, 32] {
        let f = run_v1(
            addr,
            &id,
            &secret,
            clients,
            seconds,
            "/v1/authorize",
            one.to_owned(),
        )
        .await;
        println!("authorize_{clients}_per_s {:.1}", f.per_second);
        println!("authorize_{clients}_p50_ms {:.3}", f.p50_ms);
        println!("authorize_{clients}_p99_ms {:.3}", f.p99_ms);
        for (name, size, body) in [
            ("batch", 1000.0, &batch),
            ("big_batch", 10_000.0, &big_batch),
        ] {
            let f = run_v1(
                addr,
                &id,
                &secret,
                clients,
                seconds,
                "/v1/authorize/batch",
                body.clone(),
            )
            .await;
            println!(
                "{name}_{clients}_decisions_per_s {:.1}",
                f.per_second * size
            );
            println!("{name}_{clients}_p50_ms {:.3}", f.p50_ms);
        }
    }
    sts(addr, &mut admin, (&id, &secret), seconds).await;
    // Each CreateUser run sits between two runs of its baseline (the store's
    // own single-event appends with as many writers as clients), and the
    // baseline is their mean: the disk's flush time drifts during a run
    // (checkpoints after the write floods), and a baseline measured only
    // before or only after would lean with it.
    for clients in [1usize, 32] {
        let before = store_appends(store.clone(), clients, seconds).await;
        let f = run(addr, &id, &secret, clients, seconds, move |c, n| {
            form(&[
                ("Action", "CreateUser"),
                ("Version", "2010-05-08"),
                ("UserName", &format!("u{clients}-{c}-{n}")),
            ])
        })
        .await;
        let after = store_appends(store.clone(), clients, seconds).await;
        println!("createuser_{clients}_per_s {:.1}", f.per_second);
        println!("createuser_{clients}_p50_ms {:.3}", f.p50_ms);
        println!("createuser_{clients}_p99_ms {:.3}", f.p99_ms);
        println!("store_append_{clients}_per_s {:.1}", (before + after) / 2.0);
        eprintln!("store appends with {clients} writers: {before:.0}/s before, {after:.0}/s after");
    }
}

/// Temporary credentials and sign-ins, each beside its baseline in the
/// same run: GetUser signed with a role session's temporary credentials
/// between two runs with the user's long-term key; AssumeRole between two
/// runs of CreateUser (both append one event); sign-ins beside argon2id
/// verifications alone on as many threads as the server's blocking pool
/// gets (the cores).
async fn sts(addr: SocketAddr, admin: &mut Conn, (id, secret): (&str, &str), seconds: u64) {
    let v = ("Version", "2010-05-08");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/bench"},"Action":"sts:AssumeRole"}]}"#;
    admin
        .call(&form(&[
            ("Action", "CreateRole"),
            v,
            ("RoleName", "bench-role"),
            ("AssumeRolePolicyDocument", trust),
        ]))
        .await;
    admin
        .call(&form(&[
            ("Action", "PutRolePolicy"),
            v,
            ("RoleName", "bench-role"),
            ("PolicyName", "p"),
            ("PolicyDocument", POLICY),
        ]))
        .await;
    let assume = |c: usize, n: u64| {
        form(&[
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", "arn:aws:iam::123456789012:role/bench-role"),
            ("RoleSessionName", &format!("s{c}-{n}")),
        ])
    };
    let (status, assumed) = Conn::open(addr, id, secret)
        .await
        .post(
            "/",
            "application/x-www-form-urlencoded",
            "sts",
            &assume(0, 0),
        )
        .await;
    assert_eq!(status, 200, "{assumed}");
    let (session_key, session_secret, token) = (
        tag(&assumed, "AccessKeyId"),
        tag(&assumed, "SecretAccessKey"),
        tag(&assumed, "SessionToken"),
    );
    let get_user = |_, _| {
        form(&[
            ("Action", "GetUser"),
            ("Version", "2010-05-08"),
            ("UserName", "target"),
        ])
    };
    let long_term = Signer {
        key: id,
        secret,
        token: None,
        service: "iam",
        path: "/",
    };
    let session = Signer {
        key: &session_key,
        secret: &session_secret,
        token: Some(&token),
        ..long_term
    };
    for clients in [1usize, 32] {
        let before = run_as(addr, long_term, clients, seconds, get_user).await;
        let f = run_as(addr, session, clients, seconds, get_user).await;
        let after = run_as(addr, long_term, clients, seconds, get_user).await;
        let baseline = (before.per_second + after.per_second) / 2.0;
        println!("getuser_longterm_{clients}_per_s {baseline:.1}");
        println!("getuser_session_{clients}_per_s {:.1}", f.per_second);
        println!("getuser_session_{clients}_p50_ms {:.3}", f.p50_ms);
        println!(
            "getuser_session_{clients}_ratio {:.3}",
            f.per_second / baseline
        );
    }
    for clients in [1usize, 32] {
        let create = move |c: usize, n: u64| {
            form(&[
                ("Action", "CreateUser"),
                ("Version", "2010-05-08"),
                ("UserName", &format!("sts{clients}-{c}-{n}")),
            ])
        };
        let before = run(addr, id, secret, clients, seconds, create).await;
        let f = run_as(
            addr,
            Signer {
                service: "sts",
                ..long_term
            },
            clients,
            seconds,
            assume,
        )
        .await;
        let after = run(
            addr,
            id,
            secret,
            clients,
            seconds,
            move |c: usize, n: u64| {
                form(&[
                    ("Action", "CreateUser"),
                    ("Version", "2010-05-08"),
                    ("UserName", &format!("sts{clients}-after-{c}-{n}")),
                ])
            },
        )
        .await;
        let baseline = (before.per_second + after.per_second) / 2.0;
        println!("sts_createuser_{clients}_per_s {baseline:.1}");
        println!("assumerole_{clients}_per_s {:.1}", f.per_second);
        println!("assumerole_{clients}_p50_ms {:.3}", f.p50_ms);
        println!("assumerole_{clients}_ratio {:.3}", f.per_second / baseline);
    }
    // Sign-ins: a user with a password; argon2id verifications alone on
    // every core as the baseline.
    // A fresh connection: the first one may have idled past the server's
    // keep-alive timeout during the runs above.
    let (root_key, root_secret) = ROOT;
    let (status, body) = Conn::open(addr, root_key, root_secret)
        .await
        .call(&form(&[
            ("Action", "CreateLoginProfile"),
            v,
            ("UserName", "bench"),
            ("Password", "Bench-Password-1"),
        ]))
        .await;
    assert_eq!(status, 200, "{body}");
    let hash = iam_domain::secrets::hash_password("Bench-Password-1", &[1; 16]);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let verify_deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let threads: Vec<_> = (0..cores)
        .map(|_| {
            let hash = hash.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while Instant::now() < verify_deadline {
                    assert!(iam_domain::secrets::verify_password(
                        &hash,
                        "Bench-Password-1"
                    ));
                    n += 1;
                }
                n
            })
        })
        .collect();
    let verified: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let argon2_per_s = verified as f64 / start.elapsed().as_secs_f64();
    println!("argon2id_verify_{cores}_threads_per_s {argon2_per_s:.1}");
    let sign_in = |_, _| {
        r#"{"account_id":"123456789012","user_name":"bench","password":"Bench-Password-1"}"#
            .to_owned()
    };
    for clients in [1usize, 32] {
        let f = run_as(
            addr,
            Signer {
                service: "iamd",
                path: "/v1/sign-in",
                ..long_term
            },
            clients,
            seconds,
            sign_in,
        )
        .await;
        println!("signin_{clients}_per_s {:.1}", f.per_second);
        println!("signin_{clients}_p50_ms {:.3}", f.p50_ms);
        println!("signin_{clients}_ratio {:.3}", f.per_second / argon2_per_s);
    }
}

/// `AssumeRoleWithWebIdentity` (an RS256 ID token of a local issuer, its
/// keys cached after the first request) beside `AssumeRole` by an IAM
/// user, alternating: both signed and both appending their issuance, so
/// the ratio is what verifying a token costs against verifying a caller.
async fn web_identity(
    addr: SocketAddr,
    admin: &mut Conn,
    (id, secret): (&str, &str),
    seconds: u64,
) {
    let v = ("Version", "2010-05-08");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let issuer = iam_federation::testing::TestIssuer::new(url.clone());
    let discovery = issuer.discovery_json(&format!("{url}/keys"));
    let jwks = issuer.jwks_json();
    let app = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            axum::routing::get(move || {
                let d = discovery.clone();
                async move { d }
            }),
        )
        .route(
            "/keys",
            axum::routing::get(move || {
                let k = jwks.clone();
                async move { k }
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let (status, body) = admin
        .call(&form(&[
            ("Action", "CreateOpenIDConnectProvider"),
            v,
            ("Url", &url),
            ("ClientIDList.member.1", "bench-app"),
        ]))
        .await;
    assert_eq!(status, 200, "{body}");
    let provider_arn = tag(&body, "OpenIDConnectProviderArn");
    let both = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::123456789012:user/bench"}},"Action":"sts:AssumeRole"}},{{"Effect":"Allow","Principal":{{"Federated":"{provider_arn}"}},"Action":"sts:AssumeRoleWithWebIdentity"}}]}}"#
    );
    for (action, extra) in [
        ("CreateRole", ("AssumeRolePolicyDocument", both.as_str())),
        ("PutRolePolicy", ("PolicyDocument", POLICY)),
    ] {
        let (status, body) = admin
            .call(&form(&[
                ("Action", action),
                v,
                ("RoleName", "web-role"),
                ("PolicyName", "p"),
                extra,
            ]))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let token = issuer.sign(
        issuer.claims("bench-subject", "bench-app", chrono::Utc::now()),
        iam_federation::Alg::Rs256,
    );
    let signer = Signer {
        key: id,
        secret,
        token: None,
        service: "sts",
        path: "/",
    };
    let assume = |c: usize, n: u64| {
        form(&[
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", "arn:aws:iam::123456789012:role/web-role"),
            ("RoleSessionName", &format!("s{c}-{n}")),
        ])
    };
    let web = move |c: usize, n: u64| {
        form(&[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", "arn:aws:iam::123456789012:role/web-role"),
            ("RoleSessionName", &format!("w{c}-{n}")),
            ("WebIdentityToken", &token),
        ])
    };
    for clients in [1usize, 32] {
        let before = run_as(addr, signer, clients, seconds, assume).await;
        let f = run_as(addr, signer, clients, seconds, web.clone()).await;
        let after = run_as(addr, signer, clients, seconds, assume).await;
        let baseline = (before.per_second + after.per_second) / 2.0;
        println!("web_assumerole_{clients}_per_s {baseline:.1}");
        println!("webidentity_{clients}_per_s {:.1}", f.per_second);
        println!("webidentity_{clients}_p50_ms {:.3}", f.p50_ms);
        println!("webidentity_{clients}_ratio {:.3}", f.per_second / baseline);
    }
}
