//! The console's way to the API: every page is made of API calls, signed
//! with the signed-in person's credentials and sent through the same
//! router (`crate::app::router`) as any client's, in process. So the
//! console can do exactly what the person's policies allow, each call is
//! authorized, recorded and refused like any other, and a refusal carries
//! AWS's reason.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use serde_json::Value;
use tower::ServiceExt;

use crate::sigv4::{self, Credentials, HttpRequest, SigningParams, SigningSettings};

/// Credentials a console session signs with.
#[derive(Clone)]
pub struct Keys {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// An API error as the console shows it: AWS's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// One person's calls, from one browser request.
pub struct Api<'a> {
    pub router: &'a Router,
    pub keys: Keys,
    /// The browser's address and transport, passed on so that
    /// `aws:SourceIp` and `aws:SecureTransport` are the person's.
    pub peer: SocketAddr,
    pub tls: bool,
    /// `x-iamd-as-of` for reads of the AWS API (the time slider).
    pub as_of: Option<String>,
    pub now: chrono::DateTime<chrono::Utc>,
}

impl Api<'_> {
    /// An AWS operation in iamd's JSON encoding (`POST /iam/Action`),
    /// named by its generated operation type's spec.
    pub async fn aws(
        &self,
        spec: &iam_wire::OperationSpec,
        input: &Value,
    ) -> Result<Value, Refusal> {
        let (service, action) = (spec.service.name(), spec.name);
        let path = format!("/{service}/{action}");
        let as_of = self
            .as_of
            .as_deref()
            .filter(|_| action.starts_with("Get") || action.starts_with("List"));
        self.send("POST", &path, "", Some(input), service, as_of)
            .await
    }

    /// A `/v1` call (service `iamd`).
    pub async fn v1(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: Option<&Value>,
    ) -> Result<Value, Refusal> {
        self.send(method, path, query, body, "iamd", None).await
    }

    /// The log position of the node's current view, as any answer names
    /// it (`x-iamd-log-position`): the time slider's end. Asked with
    /// `sts:GetCallerIdentity`, which every caller may call and which reads
    /// nothing, rather than by verifying the whole log.
    pub async fn head(&self) -> u64 {
        use iam_wire::Operation;
        let spec = iam_wire::sts::ops::GetCallerIdentity::SPEC;
        let path = format!("/{}/{}", spec.service.name(), spec.name);
        self.exchange(
            "POST",
            &path,
            "",
            Some(&Value::Object(Default::default())),
            "sts",
            None,
        )
        .await
        .ok()
        .and_then(|(_, position)| position)
        .unwrap_or(0)
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: Option<&Value>,
        service: &str,
        as_of: Option<&str>,
    ) -> Result<Value, Refusal> {
        self.exchange(method, path, query, body, service, as_of)
            .await
            .map(|(value, _)| value)
    }

    /// One call: its answer, and the log position the answer names.
    async fn exchange(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: Option<&Value>,
        service: &str,
        as_of: Option<&str>,
    ) -> Result<(Value, Option<u64>), Refusal> {
        let body = body.map(Value::to_string).unwrap_or_default();
        let host = "console.iamd.internal";
        let mut headers: Vec<(&str, &[u8])> = vec![
            ("host", host.as_bytes()),
            ("content-type", b"application/json"),
        ];
        if let Some(moment) = as_of {
            headers.push(("x-iamd-as-of", moment.as_bytes()));
        }
        let signed = sigv4::sign(
            &HttpRequest {
                method,
                path,
                query,
                headers: &headers,
                body: body.as_bytes(),
            },
            &SigningParams {
                credentials: Credentials {
                    access_key_id: &self.keys.access_key_id,
                    secret_access_key: &self.keys.secret_access_key,
                    security_token: self.keys.session_token.as_deref(),
                },
                region: "us-east-1",
                service,
                time: self.now,
                settings: SigningSettings::default(),
            },
        );
        let uri = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        let mut request = axum::http::Request::builder().method(method).uri(uri);
        for (k, v) in &headers {
            request = request.header(*k, *v);
        }
        for (k, v) in &signed.headers {
            request = request.header(k.as_str(), v.as_str());
        }
        let mut request = request.body(Body::from(body)).map_err(|_| internal())?;
        request.extensions_mut().insert(ConnectInfo(self.peer));
        request
            .extensions_mut()
            .insert(crate::server::Transport { tls: self.tls });
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .map_err(|_| internal())?;
        let status = response.status().as_u16();
        let position = response
            .headers()
            .get(crate::app::POSITION_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024)
            .await
            .map_err(|_| internal())?;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status >= 400 {
            let error = &value["error"];
            return Err(Refusal {
                status,
                code: error["code"].as_str().unwrap_or("Error").to_owned(),
                message: error["message"]
                    .as_str()
                    .unwrap_or("The request failed.")
                    .to_owned(),
            });
        }
        Ok((value, position))
    }
}

fn internal() -> Refusal {
    Refusal {
        status: 500,
        code: "InternalFailure".into(),
        message: "The console could not reach the API.".into(),
    }
}
