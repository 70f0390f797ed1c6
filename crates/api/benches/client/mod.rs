//! A signed HTTP/1.1 client for the server's benchmarks: one keep-alive
//! connection, SigV4-signed requests, the answer's status and body.

#![allow(dead_code)]

use std::net::SocketAddr;

use chrono::Utc;
use iam_api::sigv4::{self, Credentials, HttpRequest, SigningParams, SigningSettings};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A keep-alive HTTP/1.1 connection that sends signed Query requests.
pub struct Conn {
    stream: BufReader<TcpStream>,
    addr: SocketAddr,
    key: String,
    secret: String,
    /// The session token of temporary credentials.
    token: Option<String>,
}

impl Conn {
    pub async fn open(addr: SocketAddr, key: &str, secret: &str) -> Conn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).ok();
        Conn {
            stream: BufReader::new(stream),
            addr,
            key: key.into(),
            secret: secret.into(),
            token: None,
        }
    }

    /// A connection signing with temporary credentials.
    pub async fn open_session(addr: SocketAddr, key: &str, secret: &str, token: &str) -> Conn {
        let mut conn = Conn::open(addr, key, secret).await;
        conn.token = Some(token.to_owned());
        conn
    }

    pub async fn call(&mut self, body: &str) -> (u16, String) {
        self.post("/", "application/x-www-form-urlencoded", "iam", body)
            .await
    }

    /// A signed POST of `body` to `path`, for `service`.
    pub async fn post(
        &mut self,
        path: &str,
        content_type: &str,
        service: &str,
        body: &str,
    ) -> (u16, String) {
        self.send("POST", path, "", content_type, service, body)
            .await
    }

    /// A signed GET of `path?query` (parameters in sorted order), for
    /// `service`.
    pub async fn get(&mut self, path: &str, query: &str, service: &str) -> (u16, String) {
        self.send("GET", path, query, "application/json", service, "")
            .await
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        query: &str,
        content_type: &str,
        service: &str,
        body: &str,
    ) -> (u16, String) {
        let host = self.addr.to_string();
        let headers: Vec<(&str, &[u8])> = vec![
            ("host", host.as_bytes()),
            ("content-type", content_type.as_bytes()),
        ];
        let req = HttpRequest {
            method,
            path,
            query,
            headers: &headers,
            body: body.as_bytes(),
        };
        let signed = sigv4::sign(
            &req,
            &SigningParams {
                credentials: Credentials {
                    access_key_id: &self.key,
                    secret_access_key: &self.secret,
                    security_token: self.token.as_deref(),
                },
                region: "us-east-1",
                service,
                time: Utc::now(),
                settings: SigningSettings::default(),
            },
        );
        let target = match query {
            "" => path.to_owned(),
            q => format!("{path}?{q}"),
        };
        let mut text = format!(
            "{method} {target} HTTP/1.1\r\nhost: {host}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (k, v) in &signed.headers {
            text.push_str(&format!("{k}: {v}\r\n"));
        }
        text.push_str("\r\n");
        text.push_str(body);
        self.stream
            .get_mut()
            .write_all(text.as_bytes())
            .await
            .expect("write");
        let mut status_line = String::new();
        self.stream.read_line(&mut status_line).await.expect("read");
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line).await.expect("read");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body).await.expect("read body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}

pub fn tag(body: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = body.find(&open).map(|i| i + open.len()).unwrap_or(0);
    let end = body[start..]
        .find(&format!("</{tag}>"))
        .map(|i| i + start)
        .unwrap_or(start);
    body[start..end].to_owned()
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}
