//! The serve loop: HTTP/1.1 connections on hyper with the limits a server
//! facing untrusted clients needs before any request is authenticated.
//!
//! * **Request header timeout** ([`ServerOptions::header_timeout`]): a
//!   client must send a complete request head within it, counted from the
//!   moment the connection is ready for a request — so it is also the
//!   keep-alive idle timeout: a connection with no request under way is
//!   closed after it. A half-sent header is closed after it. (hyper's
//!   `header_read_timeout`, which starts whenever the connection waits for a
//!   request head.) A TLS handshake must finish within it too.
//! * **Body timeout** ([`ServerOptions::body_timeout`]): the whole body must
//!   arrive within it, counted from the request head; otherwise the answer
//!   is 408 `RequestTimeout` and the connection is closed.
//! * **Connection cap** ([`ServerOptions::max_connections`]): each
//!   connection holds one slot from accept to close. When all are taken, a
//!   new connection is accepted and closed at once (with a plain-text 503
//!   when it is not TLS), so it costs no file descriptor beyond the moment
//!   and never queues behind the ones holding the slots. Because idle and
//!   stalled connections are closed by the timeouts above, slots free up
//!   and a new client (even `/healthz`) is served again within about one
//!   header timeout.
//! * **Body memory budget** ([`ServerOptions::body_budget`]): the bytes of
//!   request bodies beyond each body's first [`BODY_FLOOR`] (64 KiB) held by
//!   all requests at once, counted as they arrive. A body that would exceed
//!   it is refused with 503 `ServiceUnavailable` (retryable); the floor
//!   keeps ordinary requests served while large stalled bodies hold the
//!   budget. Each body is also capped at `app::MAX_BODY` (413). Request
//!   heads are bounded by hyper's read buffer, [`HEAD_BUFFER`] per
//!   connection. So the memory unauthenticated clients can hold is about
//!   `body_budget + max_connections × (HEAD_BUFFER + BODY_FLOOR)` (64 MiB +
//!   128 MiB by default).
//!
//! Only HTTP/1.1 is served (with TLS, ALPN offers `http/1.1`): every AWS SDK
//! speaks it to IAM and STS, and hyper's HTTP/2 server has no equivalent of
//! the header timeout.
//!
//! Shutdown: stop accepting, ask every connection to finish (an idle one
//! closes at once, one with a request under way closes after answering
//! it, one in the middle of a request head is dropped after about a
//! second), and wait for them, at most [`SHUTDOWN_GRACE`].

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{Extensions, Request};
use axum::Router;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

use crate::query::ApiError;

/// The read buffer of a connection, which bounds a request head (line and
/// headers). AWS SDK request heads are well under 8 KiB.
pub const HEAD_BUFFER: usize = 64 * 1024;
/// How long shutdown waits for connections to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The serve loop's limits, and TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// Connections served at once (`iamd serve --max-connections`).
    pub max_connections: usize,
    /// Time to send a complete request head; also the keep-alive idle
    /// timeout and the TLS handshake timeout.
    pub header_timeout: Duration,
    /// Time to send the whole body, from the end of the request head.
    pub body_timeout: Duration,
    /// Bytes of request bodies held at once by all requests.
    pub body_budget: usize,
    /// Serve HTTPS with this certificate chain and key (PEM files).
    pub tls: Option<TlsFiles>,
    /// Serve `/metrics` (Prometheus, unauthenticated) on this address, apart
    /// from the API: bind it where only the scraper reaches.
    pub metrics_listen: Option<std::net::SocketAddr>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_connections: 1024,
            header_timeout: Duration::from_secs(20),
            body_timeout: Duration::from_secs(10),
            body_budget: 64 << 20,
            tls: None,
            metrics_listen: None,
        }
    }
}

/// PEM files of a TLS certificate chain (leaf first) and its private key
/// (PKCS#8, PKCS#1 or SEC1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Reads the certificate chain and key into a rustls configuration (ring
/// provider, TLS 1.2 and 1.3, ALPN `http/1.1`).
pub fn load_tls(files: &TlsFiles) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("--tls-cert {}: {e}", files.cert.display()))?;
    if certs.is_empty() {
        anyhow::bail!(
            "--tls-cert {}: no certificate in the file",
            files.cert.display()
        );
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| anyhow::anyhow!("--tls-key {}: {e}", files.key.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| anyhow::anyhow!("--tls-cert/--tls-key: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Request extension: how the request arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transport {
    /// Over TLS (`aws:SecureTransport`).
    pub tls: bool,
}

/// Request extension: how a handler may read the body.
#[derive(Debug, Clone)]
pub struct BodyLimits {
    timeout: Duration,
    budget: Arc<BodyBudget>,
}

/// Bytes of request bodies held at once.
#[derive(Debug)]
struct BodyBudget {
    limit: usize,
    used: AtomicUsize,
}

/// Bytes of the budget held by one body; given back when dropped.
#[derive(Debug)]
pub struct BodyReservation {
    budget: Arc<BodyBudget>,
    bytes: usize,
}

/// The first bytes of every body, which do not count against the shared
/// budget: a signed IAM request is a few hundred bytes (a large policy
/// document a few tens of kilobytes), so clients holding the budget with
/// big, stalled bodies cannot starve ordinary requests. Bounded by the
/// connection cap: at most `max_connections × BODY_FLOOR` more.
pub const BODY_FLOOR: usize = 64 << 10;

impl BodyReservation {
    /// Accounts for a body growing by `bytes` to `total`; false when the
    /// part beyond [`BODY_FLOOR`] does not fit the budget.
    fn grow(&mut self, bytes: usize, total: usize) -> bool {
        let beyond_floor = total.saturating_sub(BODY_FLOOR);
        let bytes = beyond_floor.saturating_sub(self.bytes).min(bytes);
        if bytes == 0 {
            return true;
        }
        let before = self.budget.used.fetch_add(bytes, Ordering::AcqRel);
        if before.saturating_add(bytes) > self.budget.limit {
            self.budget.used.fetch_sub(bytes, Ordering::AcqRel);
            return false;
        }
        self.bytes += bytes;
        true
    }
}

impl Drop for BodyReservation {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// Reads a request body of at most `max` bytes, within the connection's
/// body timeout and the server's body budget (neither applies to a request
/// that did not come through [`serve`], e.g. the router driven directly).
/// The reservation must be kept as long as the bytes are.
pub async fn read_body(
    body: Body,
    extensions: &Extensions,
    max: usize,
) -> Result<(Bytes, Option<BodyReservation>), ApiError> {
    let Some(limits) = extensions.get::<BodyLimits>() else {
        return collect(body, max, None).await;
    };
    let reservation = BodyReservation {
        budget: limits.budget.clone(),
        bytes: 0,
    };
    match tokio::time::timeout(limits.timeout, collect(body, max, Some(reservation))).await {
        Ok(read) => read,
        Err(_) => Err(ApiError::new(
            408,
            "RequestTimeout",
            format!(
                "The request body was not received within {} ms.",
                limits.timeout.as_millis()
            ),
        )),
    }
}

async fn collect(
    mut body: Body,
    max: usize,
    mut reservation: Option<BodyReservation>,
) -> Result<(Bytes, Option<BodyReservation>), ApiError> {
    let too_large = || {
        ApiError::new(
            413,
            "RequestEntityTooLarge",
            format!("Request body exceeds {max} bytes"),
        )
    };
    if usize::try_from(hyper::body::Body::size_hint(&body).lower()).unwrap_or(usize::MAX) > max {
        return Err(too_large());
    }
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| {
            ApiError::new(400, "InvalidRequest", "The request body could not be read.")
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if out.len() + data.len() > max {
            return Err(too_large());
        }
        if let Some(r) = reservation.as_mut() {
            if !r.grow(data.len(), out.len() + data.len()) {
                return Err(ApiError::new(
                    503,
                    "ServiceUnavailable",
                    "The server is receiving too many request bodies at once; retry.",
                ));
            }
        }
        out.extend_from_slice(&data);
    }
    Ok((Bytes::from(out), reservation))
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets the
/// connections finish (see the module documentation).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: &ServerOptions,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let slots_total = u32::try_from(options.max_connections.max(1)).unwrap_or(u32::MAX);
    let slots = Arc::new(Semaphore::new(slots_total as usize));
    let (stop, stopped) = watch::channel(false);
    let limits = BodyLimits {
        timeout: options.body_timeout,
        budget: Arc::new(BodyBudget {
            limit: options.body_budget,
            used: AtomicUsize::new(0),
        }),
    };
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        .max_buf_size(HEAD_BUFFER);
    let mut last_refusal_logged: Option<std::time::Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    if !is_connection_error(&error) {
                        // Out of file descriptors, most likely: wait for
                        // some to be closed rather than spin.
                        tracing::warn!(%error, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            if last_refusal_logged.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                tracing::warn!(
                    max_connections = options.max_connections,
                    "connection limit reached; refusing new connections"
                );
                last_refusal_logged = Some(std::time::Instant::now());
            }
            refuse(stream, acceptor.is_some());
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            peer,
            http: http.clone(),
            router: router.clone(),
            limits: limits.clone(),
            handshake_timeout: options.header_timeout,
            stopped: stopped.clone(),
            _slot: permit,
        };
        let acceptor = acceptor.clone();
        tokio::spawn(connection.run(stream, acceptor));
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection holds a slot until it is closed.
    if tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(slots_total))
        .await
        .is_err()
    {
        tracing::warn!(
            "connections still open {} s after shutdown began; closing them",
            SHUTDOWN_GRACE.as_secs()
        );
    }
    Ok(())
}

/// Errors of one connection that `accept` reports, not the listener's.
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Closes a connection beyond the cap, telling a plain-HTTP client why if
/// its socket takes the answer without waiting.
fn refuse(stream: TcpStream, tls: bool) {
    if !tls {
        const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\
            retry-after: 1\r\ncontent-type: text/plain\r\ncontent-length: 34\r\n\r\n\
            server busy: too many connections\n";
        let _ = stream.try_write(BUSY);
    }
    drop(stream);
}

struct Connection {
    peer: SocketAddr,
    http: http1::Builder,
    router: Router,
    limits: BodyLimits,
    handshake_timeout: Duration,
    stopped: watch::Receiver<bool>,
    /// Given back when the connection is closed.
    _slot: OwnedSemaphorePermit,
}

impl Connection {
    async fn run(self, stream: TcpStream, acceptor: Option<tokio_rustls::TlsAcceptor>) {
        match acceptor {
            None => self.drive(TokioIo::new(stream), false).await,
            Some(acceptor) => {
                match tokio::time::timeout(self.handshake_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => self.drive(TokioIo::new(tls), true).await,
                    Ok(Err(error)) => {
                        tracing::debug!(peer = %self.peer, %error, "TLS handshake failed")
                    }
                    Err(_) => tracing::debug!(peer = %self.peer, "TLS handshake timed out"),
                }
            }
        }
    }

    async fn drive<I>(self, io: I, tls: bool)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let Connection {
            peer,
            http,
            router,
            limits,
            mut stopped,
            ..
        } = self;
        // Requests of this connection being handled or answered: from the
        // complete head until the response body has been handed to hyper.
        let in_flight = Arc::new(AtomicUsize::new(0));
        let counter = in_flight.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            let extensions = request.extensions_mut();
            extensions.insert(ConnectInfo(peer));
            extensions.insert(Transport { tls });
            extensions.insert(limits.clone());
            let guard = InFlight::new(counter.clone());
            let response = router.clone().oneshot(request);
            async move {
                let response = response.await?;
                Ok::<_, std::convert::Infallible>(response.map(|body| Tracked {
                    body,
                    _guard: guard,
                }))
            }
        });
        let connection = http.serve_connection(io, service);
        tokio::pin!(connection);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, %error, "connection closed with an error");
                }
                return;
            }
            () = async { let _ = stopped.wait_for(|stop| *stop).await; } => {}
        }
        // Shutting down: hyper closes an idle connection at once, and one
        // with a request under way once it is answered; a connection in the
        // middle of a request head (or with nothing under way that hyper
        // keeps open) is dropped after a short grace, not the header timeout.
        connection.as_mut().graceful_shutdown();
        let mut quiet = Duration::ZERO;
        let tick = Duration::from_millis(100);
        loop {
            tokio::select! {
                _ = connection.as_mut() => return,
                () = tokio::time::sleep(tick) => {}
            }
            if in_flight.load(Ordering::Acquire) == 0 {
                quiet += tick;
                if quiet >= SHUTDOWN_IDLE_GRACE {
                    return;
                }
            } else {
                quiet = Duration::ZERO;
            }
        }
    }
}

/// How long a connection with no request under way may take to close by
/// itself once shutdown has begun.
const SHUTDOWN_IDLE_GRACE: Duration = Duration::from_secs(1);

/// Counts one request of a connection while it is handled and answered.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn new(counter: Arc<AtomicUsize>) -> InFlight {
        counter.fetch_add(1, Ordering::AcqRel);
        InFlight(counter)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted until hyper drops it.
struct Tracked {
    body: Body,
    _guard: InFlight,
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, axum::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}
