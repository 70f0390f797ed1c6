//! The keys of OpenID Connect issuers, fetched and cached for
//! `sts:AssumeRoleWithWebIdentity` (the verification itself is the pure
//! `iam_federation` crate's).
//!
//! Only issuers the account registered as providers are ever fetched: an
//! unsigned caller can make iamd fetch nothing else. An issuer's discovery
//! document (`ISSUER/.well-known/openid-configuration`) names its key set
//! (`jwks_uri`); both must be HTTPS, verified against the system's trusted
//! roots (AWS's way for most providers; thumbprints are kept but not
//! used), or plain HTTP to a loopback host when the server allows it
//! (`iamd serve --allow-loopback-http-issuers`, for tests and local
//! issuers). Fetches time out after [`FETCH_TIMEOUT`], read at most
//! [`iam_federation::MAX_DOCUMENT_LEN`] bytes and follow no redirect. Keys
//! are kept [`KEYS_KEPT`]; a token naming a key id the cached set lacks
//! fetches again, at most once per [`REFETCH_AFTER`] per issuer, so that
//! tokens with invented key ids cannot make iamd hammer an issuer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use iam_federation::{Discovery, KeySet, MAX_DOCUMENT_LEN};

/// How long one fetch (discovery or key set) may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long fetched keys are used without fetching again.
pub const KEYS_KEPT: Duration = Duration::from_secs(3600);
/// The least time between two fetches of one issuer's keys.
pub const REFETCH_AFTER: Duration = Duration::from_secs(60);

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// Why an issuer's keys could not be had. Logged in full; callers are
/// told only that the keys could not be retrieved.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0} is not an HTTPS URL (or a loopback HTTP URL this server allows)")]
    NotAllowed(String),
    #[error("fetching {0} failed: {1}")]
    Failed(String, String),
    #[error("{0} answered {1}")]
    Status(String, u16),
    #[error("{0} timed out")]
    TimedOut(String),
    #[error("{0}: {1}")]
    Document(String, iam_federation::FederationError),
    #[error("the discovery document of {0} names another issuer")]
    IssuerMismatch(String),
}

/// The issuers' keys this node fetched.
pub struct Issuers {
    client: Option<HttpsClient>,
    allow_loopback_http: bool,
    cache: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Cached>>>>,
}

#[derive(Default)]
struct Cached {
    keys: Option<(Arc<KeySet>, Instant)>,
    /// When a fetch last started, and why it failed if it did: both are
    /// answered without fetching again until [`REFETCH_AFTER`] has passed.
    last_fetch: Option<Instant>,
    last_error: Option<String>,
}

impl Issuers {
    pub fn new(allow_loopback_http: bool) -> Issuers {
        // Without the system's roots (a minimal container), HTTPS issuers
        // cannot be verified: every fetch fails, and says so.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| tracing::warn!(error = %e, "no trusted root certificates: OIDC issuers cannot be fetched"))
            .ok()
            .map(|b| {
                let connector = b.https_or_http().enable_http1().build();
                Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector)
            });
        Issuers {
            client,
            allow_loopback_http,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a provider URL may be registered and fetched: HTTPS, or
    /// loopback HTTP when allowed.
    pub fn allows(&self, url: &iam_domain::names::OidcProviderUrl) -> bool {
        !url.is_loopback_http() || self.allow_loopback_http
    }

    /// The keys of `issuer` (a registered provider's URL), holding
    /// `key_id` if the token names one and the issuer publishes it.
    ///
    /// One fetch of an issuer runs at a time; requests that arrive during
    /// it wait for it (at most [`FETCH_TIMEOUT`] twice) and share its
    /// result, failure included: within [`REFETCH_AFTER`] of a fetch,
    /// nothing is fetched again, so a failing or hanging issuer costs one
    /// fetch a minute whatever anonymous callers send.
    pub async fn keys(
        &self,
        issuer: &str,
        key_id: Option<&str>,
    ) -> Result<Arc<KeySet>, FetchError> {
        let slot = {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            cache.entry(issuer.to_owned()).or_default().clone()
        };
        let mut cached = tokio::time::timeout(FETCH_TIMEOUT * 2, slot.lock())
            .await
            .map_err(|_| FetchError::TimedOut(issuer.to_owned()))?;
        let fresh = cached
            .keys
            .as_ref()
            .filter(|(_, at)| at.elapsed() < KEYS_KEPT)
            .map(|(keys, _)| keys.clone());
        if let Some(keys) = &fresh {
            if key_id.is_none_or(|k| keys.contains_key_id(k)) {
                return Ok(keys.clone());
            }
        }
        if cached
            .last_fetch
            .is_some_and(|t| t.elapsed() < REFETCH_AFTER)
        {
            // Fetched a moment ago: the key id is not the issuer's, or the
            // issuer failed and is not asked again yet.
            return match (fresh, &cached.last_error) {
                (Some(keys), _) => Ok(keys),
                (None, Some(e)) => Err(FetchError::Failed(issuer.to_owned(), e.clone())),
                (None, None) => Err(FetchError::Failed(issuer.to_owned(), "no keys".into())),
            };
        }
        cached.last_fetch = Some(Instant::now());
        match self.fetch_keys(issuer).await {
            Ok(keys) => {
                let keys = Arc::new(keys);
                cached.keys = Some((keys.clone(), Instant::now()));
                cached.last_error = None;
                Ok(keys)
            }
            Err(e) => {
                cached.last_error = Some(e.to_string());
                // Keys older than [`KEYS_KEPT`] are not used once the
                // issuer could not confirm them.
                match fresh {
                    Some(keys) => Ok(keys),
                    None => {
                        cached.keys = None;
                        Err(e)
                    }
                }
            }
        }
    }

    async fn fetch_keys(&self, issuer: &str) -> Result<KeySet, FetchError> {
        let discovery_url = format!("{issuer}/.well-known/openid-configuration");
        let body = self.get(&discovery_url).await?;
        let discovery =
            Discovery::parse(&body).map_err(|e| FetchError::Document(discovery_url.clone(), e))?;
        if discovery.issuer() != issuer {
            return Err(FetchError::IssuerMismatch(issuer.to_owned()));
        }
        let jwks_uri = discovery.jwks_uri().to_owned();
        let body = self.get(&jwks_uri).await?;
        KeySet::parse(&body).map_err(|e| FetchError::Document(jwks_uri, e))
    }

    /// GET `url`: HTTPS, or loopback HTTP when allowed; no redirects; the
    /// body at most [`MAX_DOCUMENT_LEN`] bytes.
    async fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let not_allowed = || FetchError::NotAllowed(url.to_owned());
        let parsed = url::Url::parse(url).map_err(|_| not_allowed())?;
        let loopback = matches!(
            parsed.host(),
            Some(url::Host::Domain("localhost"))
                | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
                | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
        );
        match parsed.scheme() {
            "https" => {}
            "http" if loopback && self.allow_loopback_http => {}
            _ => return Err(not_allowed()),
        }
        let failed = |e: &dyn std::fmt::Display| FetchError::Failed(url.to_owned(), e.to_string());
        let client = self
            .client
            .as_ref()
            .ok_or_else(|| failed(&"no trusted root certificates"))?;
        let uri: hyper::Uri = url.parse().map_err(|e| failed(&e))?;
        let fetch = async {
            let response = client.get(uri).await.map_err(|e| failed(&e))?;
            let status = response.status().as_u16();
            if status != 200 {
                return Err(FetchError::Status(url.to_owned(), status));
            }
            let body = Limited::new(response.into_body(), MAX_DOCUMENT_LEN)
                .collect()
                .await
                .map_err(|e| failed(&e))?;
            Ok(body.to_bytes().to_vec())
        };
        tokio::time::timeout(FETCH_TIMEOUT, fetch)
            .await
            .map_err(|_| FetchError::TimedOut(url.to_owned()))?
    }
}

/// SAML providers' metadata, parsed once per provider and revision: an
/// unsigned `AssumeRoleWithSAML` must not make the node parse a metadata
/// document (up to 10 MB) on every call.
#[derive(Default)]
pub struct SamlMetadataCache {
    parsed: Mutex<HashMap<(String, u64), Arc<iam_federation::saml::SamlMetadata>>>,
}

impl SamlMetadataCache {
    /// At most this many entries: an account has at most 100 providers;
    /// older revisions are dropped all at once beyond it.
    const MAX_ENTRIES: usize = 256;

    /// The provider's parsed metadata (`None` when the stored document no
    /// longer parses, which `CreateSAMLProvider` never lets happen).
    pub fn get(
        &self,
        provider: &iam_domain::state::SamlProvider,
    ) -> Option<Arc<iam_federation::saml::SamlMetadata>> {
        let key = (provider.uuid.clone(), provider.revision);
        if let Some(hit) = self.lock().get(&key) {
            return Some(hit.clone());
        }
        let parsed =
            Arc::new(iam_federation::saml::SamlMetadata::parse(&provider.metadata_document).ok()?);
        let mut cache = self.lock();
        if cache.len() >= Self::MAX_ENTRIES {
            cache.clear();
        }
        cache.insert(key, parsed.clone());
        Some(parsed)
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(String, u64), Arc<iam_federation::saml::SamlMetadata>>>
    {
        self.parsed.lock().unwrap_or_else(|p| p.into_inner())
    }
}
