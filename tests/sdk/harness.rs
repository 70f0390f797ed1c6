//! `iamd` on a free port against a fresh PostgreSQL database, and SDK
//! clients pointed at it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use aws_sdk_iam::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
};
use aws_sdk_iam::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents, SharedHttpClient,
};
use aws_sdk_iam::error::{BoxError, ProvideErrorMetadata, SdkError};
use iam_api::app::{Application, Config, POSITION_HEADER};
use iam_api::credentials::RootCredentials;
use iam_domain::secrets::MasterKey;
use iam_event_store::testing::TestDatabase;

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// A key pair the SDK signs with.
#[derive(Debug, Clone)]
pub struct Keys {
    pub id: String,
    pub secret: String,
    /// The session token of temporary credentials.
    pub token: Option<String>,
}

impl Keys {
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> Keys {
        Keys {
            id: id.into(),
            secret: secret.into(),
            token: None,
        }
    }

    /// The temporary credentials an STS operation returned.
    pub fn temporary(credentials: &aws_sdk_sts::types::Credentials) -> Keys {
        Keys {
            id: credentials.access_key_id().to_owned(),
            secret: credentials.secret_access_key().to_owned(),
            token: Some(credentials.session_token().to_owned()),
        }
    }

    pub fn root() -> Keys {
        Keys::new(
            "AKIAROOTROOTROOT0001",
            "rootsecretrootsecretrootsecretrootsecret",
        )
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(&self.id, &self.secret, self.token.clone(), None, "iam-e2e")
    }
}

/// One running `iamd`.
pub struct Node {
    pub addr: SocketAddr,
    http: SharedHttpClient,
    data_dir: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

static NODES: AtomicUsize = AtomicUsize::new(0);

impl Node {
    /// Starts a node on `127.0.0.1:0` against `db`, with the root keys of
    /// [`Keys::root`].
    pub async fn start(db: &TestDatabase) -> Node {
        let root = Keys::root();
        let data_dir = std::env::temp_dir().join(format!(
            "iamd-e2e-{}-{}",
            std::process::id(),
            NODES.fetch_add(1, Ordering::Relaxed)
        ));
        let app = Application::build(Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: db.url().to_owned(),
            account_id: ACCOUNT.into(),
            data_dir: data_dir.clone(),
            root_credentials: Some(RootCredentials {
                access_key_id: root.id,
                secret_access_key: root.secret,
            }),
            master_key: Some(MasterKey::from_bytes([7; 32])),
            add_account: false,
            allow_loopback_http_issuers: true,
            server: Default::default(),
        })
        .await
        .expect("iamd starts");
        let addr = app.local_addr();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        Node {
            addr,
            // Plain HTTP: no TLS stack is compiled in.
            http: aws_smithy_http_client::Builder::new().build_http(),
            data_dir,
            stop: Some(tx),
            server: Some(server),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An IAM client signing with `keys`.
    pub fn iam(&self, keys: &Keys) -> aws_sdk_iam::Client {
        self.iam_tracking(keys).0
    }

    /// An IAM client signing with `keys`, and the log position its last
    /// response reported in `x-iamd-log-position`.
    pub fn iam_tracking(&self, keys: &Keys) -> (aws_sdk_iam::Client, LogPosition) {
        let position = LogPosition::default();
        let config = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(self.endpoint())
            .credentials_provider(keys.credentials())
            .http_client(self.http.clone())
            .interceptor(position.clone())
            .build();
        (aws_sdk_iam::Client::from_conf(config), position)
    }

    /// An STS client signing with `keys`.
    pub fn sts(&self, keys: &Keys) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::from_conf(self.sts_config(keys).build())
    }

    /// The configuration of [`Node::sts`], to adjust.
    pub fn sts_config(&self, keys: &Keys) -> aws_sdk_sts::config::Builder {
        aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new(REGION))
            .endpoint_url(self.endpoint())
            .credentials_provider(keys.credentials())
            .http_client(self.http.clone())
    }

    /// An STS client without credentials: its requests are unsigned, as
    /// the SDK sends `AssumeRoleWithWebIdentity` when it has none.
    pub fn anonymous_sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::Config::builder()
                .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
                .region(aws_sdk_sts::config::Region::new(REGION))
                .endpoint_url(self.endpoint())
                .http_client(self.http.clone())
                .build(),
        )
    }

    pub fn root_iam(&self) -> aws_sdk_iam::Client {
        self.iam(&Keys::root())
    }

    pub fn root_sts(&self) -> aws_sdk_sts::Client {
        self.sts(&Keys::root())
    }

    /// Stops the server, waiting for in-flight requests.
    /// A new user `name` with an access key and, when `document` is
    /// given, that one inline policy: their keys.
    pub async fn user_keys(&self, name: &str, document: Option<&str>) -> Keys {
        let root = self.root_iam();
        root.create_user()
            .user_name(name)
            .send()
            .await
            .must("CreateUser");
        if let Some(document) = document {
            root.put_user_policy()
                .user_name(name)
                .policy_name("granted")
                .policy_document(document)
                .send()
                .await
                .must("PutUserPolicy");
        }
        let created = root
            .create_access_key()
            .user_name(name)
            .send()
            .await
            .must("CreateAccessKey");
        let key = created.access_key().expect("a key");
        Keys::new(key.access_key_id(), key.secret_access_key())
    }

    /// A new user `name` whose one inline policy is `document`: a client
    /// signing as them.
    pub async fn user_with_policy(&self, name: &str, document: &str) -> aws_sdk_iam::Client {
        self.iam(&self.user_keys(name, Some(document)).await)
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("the server task")
                .expect("the server stops cleanly");
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// The `x-iamd-log-position` of the last response a client received.
#[derive(Debug, Clone, Default)]
pub struct LogPosition(Arc<AtomicU64>);

impl LogPosition {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl Intercept for LogPosition {
    fn name(&self) -> &'static str {
        "LogPosition"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(p) = context
            .response()
            .headers()
            .get(POSITION_HEADER)
            .and_then(|v| v.parse::<u64>().ok())
        {
            self.0.store(p, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// Rewrites the headers of a request after the SDK has signed it.
#[derive(Debug)]
pub struct AfterSigning(pub fn(&mut aws_sdk_iam::config::http::HttpRequest));

impl Intercept for AfterSigning {
    fn name(&self) -> &'static str {
        "AfterSigning"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        (self.0)(context.request_mut());
        Ok(())
    }
}

/// The AWS error code and HTTP status of a failed call; panics if it
/// succeeded or never reached the server.
pub fn failure<T: std::fmt::Debug, E>(result: Result<T, SdkError<E>>) -> (String, u16)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(SdkError::ServiceError(e)) => (
            e.err().code().unwrap_or("<no code>").to_owned(),
            e.raw().status().as_u16(),
        ),
        Err(other) => panic!(
            "expected a service error, got {}",
            aws_sdk_iam::error::DisplayErrorContext(&other)
        ),
    }
}

/// The service error of a failed call, for matching on modeled variants.
pub fn service_error<T: std::fmt::Debug, E>(result: Result<T, SdkError<E>>) -> E
where
    E: std::error::Error + 'static,
{
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(SdkError::ServiceError(e)) => e.into_err(),
        Err(other) => panic!(
            "expected a service error, got {}",
            aws_sdk_iam::error::DisplayErrorContext(&other)
        ),
    }
}

/// Unwraps a call, printing the whole error chain on failure.
pub trait Show<T> {
    fn must(self, what: &str) -> T;
}

impl<T, E: std::error::Error + 'static> Show<T> for Result<T, SdkError<E>> {
    fn must(self, what: &str) -> T {
        match self {
            Ok(v) => v,
            Err(e) => panic!("{what}: {}", aws_sdk_iam::error::DisplayErrorContext(&e)),
        }
    }
}

/// A policy document as a JSON string.
pub fn policy(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

/// Decodes a policy document as IAM returns it (URL-encoded).
pub fn decode_document(encoded: &str) -> String {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("an ASCII escape");
            out.push(u8::from_str_radix(hex, 16).expect("a hex escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

/// An OpenID Connect issuer on `http://127.0.0.1:PORT`: its discovery
/// document and key set (keys it generated itself), counting how often
/// the key set is fetched.
pub struct LocalIssuer {
    pub issuer: iam_federation::testing::TestIssuer,
    pub key_fetches: Arc<AtomicU64>,
    server: tokio::task::JoinHandle<()>,
}

impl LocalIssuer {
    pub async fn start() -> LocalIssuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let issuer = iam_federation::testing::TestIssuer::new(url.clone());
        let discovery = issuer.discovery_json(&format!("{url}/keys"));
        let jwks = issuer.jwks_json();
        let key_fetches = Arc::new(AtomicU64::new(0));
        let fetches = key_fetches.clone();
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
                    fetches.fetch_add(1, Ordering::Relaxed);
                    let k = jwks.clone();
                    async move { k }
                }),
            );
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        LocalIssuer {
            issuer,
            key_fetches,
            server,
        }
    }

    pub fn url(&self) -> &str {
        self.issuer.issuer()
    }
}

impl Drop for LocalIssuer {
    fn drop(&mut self) {
        self.server.abort();
    }
}
