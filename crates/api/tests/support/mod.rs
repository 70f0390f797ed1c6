//! The harness the raw-HTTP end-to-end tests share: `iamd` on a free port
//! against a fresh database, and a client that signs Query requests with our
//! SigV4 signer over a plain TCP connection.

// Each test binary uses a different part of the harness.
#![allow(dead_code)]

use std::net::SocketAddr;

use chrono::Utc;
use iam_api::app::{AppState, Application, Config};
use iam_api::credentials::RootCredentials;
use iam_api::server::ServerOptions;
use iam_api::sigv4::{self, Credentials, HttpRequest, SigningParams, SigningSettings};
use iam_domain::secrets::MasterKey;
use iam_event_store::testing::TestDatabase;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const ACCOUNT: &str = "123456789012";

pub struct TestApp {
    pub addr: SocketAddr,
    /// `/metrics`, when the options asked for it.
    pub metrics_addr: Option<SocketAddr>,
    pub root: RootCredentials,
    /// The server's own state, to create managed policies directly through
    /// its projection (the policy operations are not under test here).
    pub state: AppState,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(database_url: &str) -> TestApp {
        Self::spawn_with(database_url, ServerOptions::default()).await
    }

    /// With the serve loop's own limits (short timeouts, a small connection
    /// cap, TLS).
    pub async fn spawn_with(database_url: &str, server: ServerOptions) -> TestApp {
        Self::spawn_configured(database_url, |c| c.server = server).await
    }

    /// With its configuration adjusted by `tweak` (limits, flags).
    pub async fn spawn_configured(database_url: &str, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let root = RootCredentials {
            access_key_id: "AKIAROOTROOTROOT0001".into(),
            secret_access_key: "rootsecretrootsecretrootsecretrootsecret".into(),
        };
        let data_dir =
            std::env::temp_dir().join(format!("iamd-server-{}", uuid::Uuid::new_v4().simple()));
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: database_url.to_owned(),
            account_id: ACCOUNT.into(),
            data_dir,
            root_credentials: Some(root.clone()),
            master_key: Some(MasterKey::from_bytes([7; 32])),
            add_account: false,
            allow_loopback_http_issuers: true,
            server: ServerOptions::default(),
        };
        tweak(&mut config);
        let app = Application::build(config).await.expect("the server starts");
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr();
        let state = app.state().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        TestApp {
            addr,
            metrics_addr,
            root,
            state,
            stop: Some(tx),
            server: Some(server),
        }
    }

    pub fn root(&self) -> Client {
        Client {
            addr: self.addr,
            key: self.root.access_key_id.clone(),
            secret: self.root.secret_access_key.clone(),
            skew: chrono::Duration::zero(),
            token: None,
        }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }
}

#[derive(Clone)]
pub struct Client {
    pub addr: SocketAddr,
    pub key: String,
    pub secret: String,
    pub skew: chrono::Duration,
    /// The session token of temporary credentials.
    pub token: Option<String>,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The error message without the sealed authorization failure message
    /// an `AccessDenied` ends with (opaque, and different every time).
    pub fn plain_message(&self) -> Option<String> {
        let text = self.tag("Message")?;
        Some(
            match text.split_once(" Encoded authorization failure message: ") {
                Some((plain, _)) => plain.to_owned(),
                None => text,
            },
        )
    }

    /// The text of the first `<tag>`.
    pub fn tag(&self, tag: &str) -> Option<String> {
        let open = format!("<{tag}>");
        let start = self.body.find(&open)? + open.len();
        let end = self.body[start..].find(&format!("</{tag}>"))? + start;
        Some(self.body[start..end].to_owned())
    }

    pub fn all(&self, tag: &str) -> Vec<String> {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        let mut out = Vec::new();
        let mut rest = self.body.as_str();
        while let Some(i) = rest.find(&open) {
            rest = &rest[i + open.len()..];
            if let Some(j) = rest.find(&close) {
                out.push(rest[..j].to_owned());
                rest = &rest[j..];
            }
        }
        out
    }

    pub fn error_code(&self) -> Option<String> {
        self.tag("Code")
    }
}

pub fn form(params: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Sends `request` on a new connection and reads the response. The
/// response is read while the request is still being written: a server
/// may answer early (413 for an oversized body) and close, and a client
/// that only reads after writing everything would see the connection reset
/// instead of the answer. A write the server cut short is not an error.
pub async fn send_raw(addr: SocketAddr, request: Vec<u8>) -> Reply {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let read = tokio::spawn(async move {
        let mut raw = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
            }
        }
        raw
    });
    let _ = writer.write_all(&request).await;
    parse_reply(&read.await.unwrap())
}

/// An HTTP/1.1 response as read off the wire (status 0 when there was none).
pub fn parse_reply(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

impl Client {
    pub fn with_key(&self, key: &str, secret: &str) -> Client {
        Client {
            key: key.into(),
            secret: secret.into(),
            token: None,
            ..self.clone()
        }
    }

    /// A client signing with the temporary credentials of an STS reply
    /// (`AssumeRole`, `GetSessionToken`).
    pub fn with_credentials_of(&self, reply: &Reply) -> Client {
        Client {
            key: reply.tag("AccessKeyId").expect("an AccessKeyId"),
            secret: reply.tag("SecretAccessKey").expect("a SecretAccessKey"),
            token: Some(reply.tag("SessionToken").expect("a SessionToken")),
            ..self.clone()
        }
    }

    /// A signed POST of `body`, with extra headers.
    pub fn signed(&self, body: &str, service: &str, extra: &[(&str, &str)]) -> Vec<u8> {
        self.signed_post(
            "/",
            "application/x-www-form-urlencoded; charset=utf-8",
            body,
            service,
            extra,
        )
    }

    /// A signed POST of `body` to `path`.
    pub fn signed_post(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
        service: &str,
        extra: &[(&str, &str)],
    ) -> Vec<u8> {
        let host = self.addr.to_string();
        let mut headers: Vec<(&str, &[u8])> = vec![
            ("host", host.as_bytes()),
            ("content-type", content_type.as_bytes()),
        ];
        for (k, v) in extra {
            headers.push((k, v.as_bytes()));
        }
        let req = HttpRequest {
            method: "POST",
            path,
            query: "",
            headers: &headers,
            body: body.as_bytes(),
        };
        let out = sigv4::sign(
            &req,
            &SigningParams {
                credentials: Credentials {
                    access_key_id: &self.key,
                    secret_access_key: &self.secret,
                    security_token: self.token.as_deref(),
                },
                region: "us-east-1",
                service,
                time: Utc::now() + self.skew,
                settings: SigningSettings::default(),
            },
        );
        let mut text = format!(
            "POST {path} HTTP/1.1\r\nconnection: close\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (k, v) in &headers {
            text.push_str(&format!("{k}: {}\r\n", String::from_utf8_lossy(v)));
        }
        for (k, v) in &out.headers {
            text.push_str(&format!("{k}: {v}\r\n"));
        }
        text.push_str("\r\n");
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        bytes
    }

    pub async fn call(&self, action: &str, params: &[(&str, &str)]) -> Reply {
        self.call_with(action, params, &[]).await
    }

    pub async fn call_with(
        &self,
        action: &str,
        params: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> Reply {
        const STS: &[&str] = &[
            "GetCallerIdentity",
            "AssumeRole",
            "GetSessionToken",
            "GetAccessKeyInfo",
            "GetFederationToken",
            "DecodeAuthorizationMessage",
        ];
        let (service, version) = if STS.contains(&action) {
            ("sts", "2011-06-15")
        } else {
            ("iam", "2010-05-08")
        };
        let mut all = vec![("Action", action), ("Version", version)];
        all.extend_from_slice(params);
        send_raw(self.addr, self.signed(&form(&all), service, extra)).await
    }

    /// A call of iamd's own API: `GET` with `query`, or `POST` with a JSON
    /// body, signed for service `iamd`.
    pub async fn v1(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: Option<&serde_json::Value>,
    ) -> Reply {
        let host = self.addr.to_string();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let headers: Vec<(&str, &[u8])> = vec![
            ("host", host.as_bytes()),
            ("content-type", b"application/json"),
        ];
        let req = HttpRequest {
            method,
            path,
            query,
            headers: &headers,
            body: body.as_bytes(),
        };
        let out = sigv4::sign(
            &req,
            &SigningParams {
                credentials: Credentials {
                    access_key_id: &self.key,
                    secret_access_key: &self.secret,
                    security_token: self.token.as_deref(),
                },
                region: "us-east-1",
                service: "iamd",
                time: Utc::now() + self.skew,
                settings: SigningSettings::default(),
            },
        );
        let target = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        let mut text = format!(
            "{method} {target} HTTP/1.1\r\nconnection: close\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (k, v) in &headers {
            text.push_str(&format!("{k}: {}\r\n", String::from_utf8_lossy(v)));
        }
        for (k, v) in &out.headers {
            text.push_str(&format!("{k}: {v}\r\n"));
        }
        text.push_str("\r\n");
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        send_raw(self.addr, bytes).await
    }

    /// An operation in iamd's JSON encoding: `POST /{service}/{action}`.
    pub async fn json(&self, service: &str, action: &str, body: &serde_json::Value) -> Reply {
        let path = format!("/{service}/{action}");
        let request = self.signed_post(&path, "application/json", &body.to_string(), service, &[]);
        send_raw(self.addr, request).await
    }

    pub async fn ok(&self, action: &str, params: &[(&str, &str)]) -> Reply {
        let reply = self.call(action, params).await;
        assert_eq!(reply.status, 200, "{action}: {}", reply.body);
        assert!(
            reply.body.contains(&format!("<{action}Response xmlns=")),
            "{}",
            reply.body
        );
        assert!(reply.tag("RequestId").is_some());
        reply
    }
}

/// A user named `name` whose only policy is the inline `policy` (named
/// `granted`), created by `root`, and a client signing as them.
pub async fn user_with_policy(root: &Client, name: &str, policy: &str) -> Client {
    root.ok("CreateUser", &[("UserName", name)]).await;
    root.ok(
        "PutUserPolicy",
        &[
            ("UserName", name),
            ("PolicyName", "granted"),
            ("PolicyDocument", policy),
        ],
    )
    .await;
    let key = root.ok("CreateAccessKey", &[("UserName", name)]).await;
    root.with_key(
        &key.tag("AccessKeyId").unwrap(),
        &key.tag("SecretAccessKey").unwrap(),
    )
}

/// The log's head position, read straight from the database.
pub async fn head(db: &TestDatabase) -> u64 {
    iam_event_store::open(db.url())
        .await
        .unwrap()
        .head()
        .await
        .unwrap()
        .position
        .0
}

/// The types of the events after `before` that change state: everything
/// but the trail's records of refused requests (`AccessDenied`) and the
/// access advisor's records of attempts (`ServiceAccessed`), which grant
/// or change nothing.
pub async fn changes_since(db: &TestDatabase, before: u64) -> Vec<String> {
    let store = iam_event_store::open(db.url()).await.unwrap();
    store
        .read_all(iam_event_store::Position(before), 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .filter(|t| t != "AccessDenied" && t != "ServiceAccessed")
        .collect()
}

/// A URL-encoded policy document as the server returns it, decoded.
pub fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

/// Asserts a refusal's HTTP status and AWS error code.
#[track_caller]
pub fn refused(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.error_code().as_deref(), Some(code), "{}", reply.body);
}

/// A trust policy allowing `sts:AssumeRole` (and `extra_actions`) to the
/// user `user` of the test account, with `condition` (`,"Condition":{…}`
/// or empty) after its actions.
pub fn trust_user(user: &str, extra_actions: &[&str], condition: &str) -> String {
    let mut actions = vec!["\"sts:AssumeRole\"".to_owned()];
    actions.extend(extra_actions.iter().map(|a| format!("\"{a}\"")));
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/{user}"}},"Action":[{}]{condition}}}]}}"#,
        actions.join(",")
    )
}

/// A role with trust policy `trust` and the inline policy `policy` (named
/// `granted`), created by `root`; returns its ARN.
pub async fn role(root: &Client, name: &str, trust: &str, policy: &str) -> String {
    root.ok(
        "CreateRole",
        &[("RoleName", name), ("AssumeRolePolicyDocument", trust)],
    )
    .await;
    root.ok(
        "PutRolePolicy",
        &[
            ("RoleName", name),
            ("PolicyName", "granted"),
            ("PolicyDocument", policy),
        ],
    )
    .await;
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

/// `POST /v1/sign-in` with `user`'s `password` (and an MFA code).
pub async fn sign_in(app: &TestApp, user: &str, password: &str, mfa: Option<&str>) -> Reply {
    let mut body = serde_json::json!({
        "account_id": ACCOUNT,
        "user_name": user,
        "password": password,
    });
    if let Some(code) = mfa {
        body["mfa_code"] = code.into();
    }
    let body = body.to_string();
    let request = format!(
        "POST /v1/sign-in HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        app.addr,
        body.len()
    );
    send_raw(app.addr, request.into_bytes()).await
}

/// A client signing with the credentials a sign-in returned, at the
/// server's clock.
pub fn signed_in(app: &TestApp, reply: &Reply) -> Client {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let v: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    let c = &v["credentials"];
    Client {
        key: c["access_key_id"].as_str().unwrap().into(),
        secret: c["secret_access_key"].as_str().unwrap().into(),
        token: Some(c["session_token"].as_str().unwrap().into()),
        skew: app.state.clock.offset(),
        ..app.root()
    }
}

/// An MFA device's code for the step `offset` steps from the server's now.
pub fn mfa_code(seed: &[u8], app: &TestApp, offset: i64) -> String {
    let now = app.state.clock.now().timestamp() + offset * 30;
    format!("{:06}", iam_mfa::code_at(seed, iam_mfa::counter_at(now)))
}
