//! OAuth 2.1 for the HTTP client: [`OAuthOptions`] on
//! [`HttpConnectOptions::with_oauth`](crate::http_client::HttpConnectOptions::with_oauth)
//! makes the connection drive [`mcp_proto::auth::OAuthClient`] — every request carries the
//! current token (`Authorization: Bearer`, or `DPoP` with a proof); a 401 or 403 from the MCP endpoint runs the flow
//! (discovery, registration, the user's authorization, the token request) and the refused
//! request is sent again with the new token. A flow that fails settles every request waiting
//! for it with [`TransportFailure::Unauthorized`] (the flow's [`AuthError`] kept), never a hang.
//!
//! What is pluggable:
//!
//! - the user's step, an [`Authorizer`]: [`LoopbackAuthorizer`] (a redirect listener on
//!   `127.0.0.1`; a callback of yours opens the URL in a browser) or [`HeadlessAuthorizer`]
//!   (performs the `GET` itself and reads `Location`, for test servers that redirect at once);
//! - where tokens and registrations are kept, a [`TokenStore`] keyed by issuer
//!   ([`MemoryTokenStore`] by default);
//! - with the `tls` feature, [`Es256Signer`](crate::oauth_signer::Es256Signer) signs
//!   `private_key_jwt` client assertions, and DPoP proofs ([`OAuthOptions::with_dpop`]).
//!
//! DPoP (RFC 9449): with a key given to [`OAuthOptions::with_dpop`], token requests to an
//! authorization server that advertises the key's algorithm in
//! `dpop_signing_alg_values_supported` carry a proof, and a token issued as `DPoP` goes out
//! as `Authorization: DPoP` with a new proof made for each request as it is sent (its
//! method, URL, the time, the server's last nonce, the token's hash). A `use_dpop_nonce`
//! answer (from the token endpoint or the MCP server) is retried once with the nonce the
//! server supplied; nonces are kept per server.
//!
//! The flow's fetches go through the connection's own dialer (its proxy and TLS trust), on
//! fresh connections, bounded in size ([`OAuthOptions::max_fetch_bytes`]) and time
//! ([`OAuthOptions::fetch_timeout`]), never following redirects. Randomness (PKCE, `state`,
//! assertion and proof ids) comes from the OS. Tokens and proofs appear in no log, error or `Debug`
//! output.
//!
//! [`TransportFailure::Unauthorized`]: mcp_proto::engine::TransportFailure::Unauthorized
//! [`AuthError`]: mcp_proto::auth::AuthError

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use http::header::LOCATION;
use mcp_proto::auth::dpop::{DpopSigner, PublicJwk};
use mcp_proto::auth::{
    AssertionSigner, ClientRegistration, EntropySource, GrantConfig, OAuthClient,
    OAuthClientConfig, PreRegisteredClient, SignerError, TokenSet, UrlPolicy, WallClock,
};
use mcp_proto::h1::{self, Limits};

use crate::entropy::os_entropy;
use crate::http_serve::Listener;
use crate::runtime::BoxFuture;
use crate::stack::Stack;

/// The default longest time one fetch of the flow (metadata, registration, token) may take.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// The default largest response body a fetch of the flow reads.
pub const DEFAULT_MAX_FETCH_BYTES: usize = 256 * 1024;
/// The most requests held while a flow runs; beyond it, a request fails at once.
pub const MAX_HELD_REQUESTS: usize = 256;
/// The most issuers a [`MemoryTokenStore`] keeps (the oldest entry goes first).
pub const MEMORY_STORE_ISSUERS: usize = 16;
/// The most connections the loopback listener accepts while waiting for the callback.
const LOOPBACK_MAX_CONNECTIONS: usize = 64;

/// Performs one HTTP request of the flow (no redirects followed, bounded), with the
/// connection's dialer. Given to an [`Authorizer`] that must fetch the authorization URL.
#[derive(Clone)]
pub struct Fetcher(
    #[allow(clippy::type_complexity)]
    Arc<
        dyn Fn(
                http::Request<Vec<u8>>,
            ) -> BoxFuture<'static, Result<http::Response<Vec<u8>>, String>>
            + Send
            + Sync,
    >,
);

impl fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fetcher")
    }
}

impl Fetcher {
    /// A fetcher performing requests with `fetch`.
    pub fn new<F>(fetch: F) -> Self
    where
        F: Fn(
                http::Request<Vec<u8>>,
            ) -> BoxFuture<'static, Result<http::Response<Vec<u8>>, String>>
            + Send
            + Sync
            + 'static,
    {
        Self(Arc::new(fetch))
    }

    /// Performs `request` (absolute-form URI); `Err` describes a failure to get any response.
    pub fn fetch(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> BoxFuture<'static, Result<http::Response<Vec<u8>>, String>> {
        (self.0)(request)
    }
}

/// Why the user's authorization step failed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    /// The authorization URL could not be fetched (headless).
    #[error("fetching the authorization URL failed: {0}")]
    Fetch(String),
    /// The authorization server answered without a redirect (headless).
    #[error("the authorization server answered {status} without a redirect")]
    NoRedirect {
        /// Its status.
        status: u16,
    },
    /// The redirect listener failed.
    #[error("the redirect listener failed")]
    Listener(#[source] io::Error),
    /// The user's callback for opening the URL failed.
    #[error("opening the authorization URL failed: {0}")]
    Open(String),
}

/// The user's step of the authorization code flow: send the user to the authorization URL
/// and come back with the URL the authorization server redirected to.
pub trait Authorizer: Send + Sync + 'static {
    /// The redirect URI registered for this client (fixed for the authorizer's lifetime).
    fn redirect_uri(&self) -> String;

    /// Sends the user to `url`; resolves to the full callback URL (with its query).
    /// `fetcher` performs HTTP requests with the connection's dialer, if needed.
    fn authorize(
        &self,
        url: String,
        fetcher: Fetcher,
    ) -> BoxFuture<'static, Result<String, AuthorizeError>>;
}

/// Fetches the authorization URL itself without following the redirect, and takes the
/// `Location` it answers with as the callback: for authorization servers that redirect at
/// once (test servers, the conformance harness), not for a real user's login.
#[derive(Debug, Clone)]
pub struct HeadlessAuthorizer {
    redirect_uri: String,
}

impl HeadlessAuthorizer {
    /// An authorizer registering `redirect_uri`.
    pub fn new(redirect_uri: impl Into<String>) -> Self {
        Self {
            redirect_uri: redirect_uri.into(),
        }
    }
}

impl Authorizer for HeadlessAuthorizer {
    fn redirect_uri(&self) -> String {
        self.redirect_uri.clone()
    }

    fn authorize(
        &self,
        url: String,
        fetcher: Fetcher,
    ) -> BoxFuture<'static, Result<String, AuthorizeError>> {
        Box::pin(async move {
            let request = http::Request::get(url.as_str())
                .body(Vec::new())
                .map_err(|e| AuthorizeError::Fetch(e.to_string()))?;
            let response = fetcher
                .fetch(request)
                .await
                .map_err(AuthorizeError::Fetch)?;
            let status = response.status();
            match response
                .headers()
                .get(LOCATION)
                .map(http::HeaderValue::to_str)
            {
                Some(Ok(location)) if status.is_redirection() => Ok(location.to_owned()),
                _ => Err(AuthorizeError::NoRedirect {
                    status: status.as_u16(),
                }),
            }
        })
    }
}

/// Opens the authorization URL for the user (a platform API or just printing it; never a
/// shell command built from the URL).
pub type OpenUrl = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

type AcceptFn =
    Arc<dyn Fn() -> BoxFuture<'static, io::Result<Box<dyn LoopbackConnection>>> + Send + Sync>;

trait LoopbackConnection:
    futures_lite::io::AsyncRead + futures_lite::io::AsyncWrite + Unpin + Send
{
}
impl<T: futures_lite::io::AsyncRead + futures_lite::io::AsyncWrite + Unpin + Send>
    LoopbackConnection for T
{
}

/// The redirect URI as a listener on the loopback interface (RFC 8252 §7.3): the URL goes to
/// your `open` callback (which opens a browser, or shows the URL), then the first `GET` of
/// the callback path is the answer; the browser is told it may close the window. Prints
/// nothing.
#[derive(Clone)]
pub struct LoopbackAuthorizer {
    redirect_uri: String,
    path: String,
    accept: AcceptFn,
    open: OpenUrl,
}

impl fmt::Debug for LoopbackAuthorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopbackAuthorizer")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl LoopbackAuthorizer {
    /// Binds `127.0.0.1:port` (`0`: any free port) with `S`'s listener; the redirect URI is
    /// `http://127.0.0.1:PORT/callback`.
    ///
    /// # Errors
    /// The bind's.
    pub async fn bind<S: Stack>(
        port: u16,
        open: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static,
    ) -> io::Result<Self> {
        let (listener, addr) = S::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        // A listener need not be `Sync`; `accept` only starts a future that owns what it needs.
        let listener = Arc::new(Mutex::new(listener));
        let accept: AcceptFn = Arc::new(move || {
            let accepting = listener
                .lock()
                .map(|listener| listener.accept())
                .map_err(|_| io::Error::other("the redirect listener is poisoned"));
            Box::pin(async move {
                let (connection, _) = accepting?.await?;
                let connection: Box<dyn LoopbackConnection> = Box::new(connection);
                Ok(connection)
            })
        });
        Ok(Self {
            redirect_uri: format!("http://127.0.0.1:{}/callback", addr.port()),
            path: "/callback".to_owned(),
            accept,
            open: Arc::new(open),
        })
    }
}

impl Authorizer for LoopbackAuthorizer {
    fn redirect_uri(&self) -> String {
        self.redirect_uri.clone()
    }

    fn authorize(
        &self,
        url: String,
        _fetcher: Fetcher,
    ) -> BoxFuture<'static, Result<String, AuthorizeError>> {
        let this = self.clone();
        Box::pin(async move {
            (this.open)(&url).map_err(AuthorizeError::Open)?;
            for _ in 0..LOOPBACK_MAX_CONNECTIONS {
                let mut connection = (this.accept)().await.map_err(AuthorizeError::Listener)?;
                match read_callback(&mut connection, &this.path).await {
                    Ok(Some(target)) => {
                        let page = "<!doctype html><title>Authorized</title><p>Authorization complete: you may close this window.</p>";
                        let _ = respond(&mut connection, "200 OK", page).await;
                        let origin = this
                            .redirect_uri
                            .strip_suffix(this.path.as_str())
                            .unwrap_or(&this.redirect_uri);
                        return Ok(format!("{origin}{target}"));
                    }
                    Ok(None) => {
                        let _ = respond(&mut connection, "404 Not Found", "not found").await;
                    }
                    Err(error) => tracing::debug!(%error, "loopback redirect: unreadable request"),
                }
            }
            Err(AuthorizeError::Listener(io::Error::other(
                "too many connections without the authorization callback",
            )))
        })
    }
}

/// Reads one request head; `Some(target)` when it is a `GET` of `path` (with its query).
async fn read_callback(
    connection: &mut Box<dyn LoopbackConnection>,
    path: &str,
) -> io::Result<Option<String>> {
    let limits = Limits::default();
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 2048];
    loop {
        match h1::parse_request_head(&buffer, &limits) {
            Ok(Some((head, _))) => {
                let target = head.uri().to_string();
                let matches = head.method() == http::Method::GET && head.uri().path() == path;
                return Ok(matches.then_some(target));
            }
            Ok(None) => {}
            Err(error) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    error.to_string(),
                ));
            }
        }
        let n = connection.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

async fn respond(
    connection: &mut Box<dyn LoopbackConnection>,
    status: &str,
    body: &str,
) -> io::Result<()> {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}",
        body.len()
    );
    connection.write_all(response.as_bytes()).await?;
    connection.flush().await?;
    connection.close().await
}

/// What a [`TokenStore`] keeps per issuer.
#[derive(Debug, Clone, Default)]
pub struct StoredCredentials {
    /// The client's registration at that issuer.
    pub registration: Option<ClientRegistration>,
    /// The tokens it issued.
    pub tokens: Option<TokenSet>,
}

/// Where registrations and tokens are kept, per issuer, across connections.
pub trait TokenStore: Send + Sync + 'static {
    /// Everything kept (at most a few issuers), loaded into each new connection.
    fn load_all(&self) -> Vec<(String, StoredCredentials)>;
    /// Keeps `credentials` for `issuer`, replacing what was kept.
    fn save(&self, issuer: &str, credentials: StoredCredentials);
}

/// A [`TokenStore`] in memory, shared by the connections holding a clone; at most
/// [`MEMORY_STORE_ISSUERS`] issuers.
#[derive(Clone, Default)]
pub struct MemoryTokenStore {
    entries: Arc<Mutex<Vec<(String, StoredCredentials)>>>,
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let issuers: Vec<String> = self
            .load_all()
            .into_iter()
            .map(|(issuer, _)| issuer)
            .collect();
        f.debug_struct("MemoryTokenStore")
            .field("issuers", &issuers)
            .finish()
    }
}

impl MemoryTokenStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl TokenStore for MemoryTokenStore {
    fn load_all(&self) -> Vec<(String, StoredCredentials)> {
        self.entries
            .lock()
            .map(|entries| entries.clone())
            .unwrap_or_default()
    }

    fn save(&self, issuer: &str, credentials: StoredCredentials) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|(held, _)| held != issuer);
            if entries.len() >= MEMORY_STORE_ISSUERS {
                entries.remove(0);
            }
            entries.push((issuer.to_owned(), credentials));
        }
    }
}

/// A shareable [`AssertionSigner`].
pub type SharedSigner = Arc<dyn AssertionSigner + Sync>;

struct SignerRef(SharedSigner);

impl AssertionSigner for SignerRef {
    fn algorithm(&self) -> &str {
        self.0.algorithm()
    }

    fn key_id(&self) -> Option<&str> {
        self.0.key_id()
    }

    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.0.sign(signing_input)
    }
}

/// A shareable [`DpopSigner`]: one key for every connection that shares a token store (a
/// DPoP-bound token is only usable with the key it is bound to).
pub type SharedDpopSigner = Arc<dyn DpopSigner + Sync>;

struct DpopRef(SharedDpopSigner);

impl AssertionSigner for DpopRef {
    fn algorithm(&self) -> &str {
        self.0.algorithm()
    }

    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.0.sign(signing_input)
    }
}

impl DpopSigner for DpopRef {
    fn public_jwk(&self) -> &PublicJwk {
        self.0.public_jwk()
    }
}

/// OAuth for an HTTP connection (see the [module documentation](self)).
///
/// ```
/// use mcp_async::oauth::{HeadlessAuthorizer, OAuthOptions};
/// use mcp_async::http_client::HttpConnectOptions;
///
/// let oauth = OAuthOptions::new("my-client", HeadlessAuthorizer::new("http://127.0.0.1:1/cb"))
///     .with_client_id_metadata_url("https://client.example/metadata.json");
/// let http = HttpConnectOptions::new("https://mcp.example.com/mcp".parse()?).with_oauth(oauth);
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct OAuthOptions {
    /// The client's name (registration).
    pub client_name: String,
    /// The user's step of the authorization code flow.
    pub authorizer: Arc<dyn Authorizer>,
    /// Where registrations and tokens are kept.
    pub store: Arc<dyn TokenStore>,
    /// How the token is obtained.
    pub grant: GrantConfig,
    /// Credentials registered beforehand.
    pub pre_registered: Vec<PreRegisteredClient>,
    /// The client's Client ID Metadata Document URL.
    pub client_id_metadata_url: Option<String>,
    /// Signs `private_key_jwt` client assertions.
    pub signer: Option<SharedSigner>,
    /// Signs DPoP proofs: requests DPoP-bound tokens where the authorization server offers
    /// them (see the [module documentation](self)).
    pub dpop: Option<SharedDpopSigner>,
    /// Which URLs the flow may fetch and open.
    pub url_policy: UrlPolicy,
    /// Authorization attempts in a row before giving up (see
    /// [`OAuthClientConfig::max_authorization_attempts`]).
    pub max_authorization_attempts: u32,
    /// How long the user has for the authorization step.
    pub authorization_timeout: Duration,
    /// The longest one fetch of the flow may take.
    pub fetch_timeout: Duration,
    /// The largest response body a fetch of the flow reads.
    pub max_fetch_bytes: usize,
}

impl fmt::Debug for OAuthOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthOptions")
            .field("client_name", &self.client_name)
            .field("redirect_uri", &self.authorizer.redirect_uri())
            .field("grant", &grant_name(&self.grant))
            .field("pre_registered", &self.pre_registered.len())
            .field("client_id_metadata_url", &self.client_id_metadata_url)
            .field("signer", &self.signer.is_some())
            .field("dpop", &self.dpop.as_ref().map(|key| key.algorithm()))
            .field("url_policy", &self.url_policy)
            .finish_non_exhaustive()
    }
}

const fn grant_name(grant: &GrantConfig) -> &'static str {
    match grant {
        GrantConfig::AuthorizationCode => "authorization_code",
        GrantConfig::ClientCredentials => "client_credentials",
        GrantConfig::JwtBearer { .. } => "jwt_bearer",
        GrantConfig::EnterpriseManaged(_) => "enterprise_managed",
    }
}

impl OAuthOptions {
    /// The authorization code flow through `authorizer`, with an in-memory token store and
    /// the flow's defaults (https only).
    pub fn new(client_name: impl Into<String>, authorizer: impl Authorizer) -> Self {
        Self {
            client_name: client_name.into(),
            authorizer: Arc::new(authorizer),
            store: Arc::new(MemoryTokenStore::new()),
            grant: GrantConfig::AuthorizationCode,
            pre_registered: Vec::new(),
            client_id_metadata_url: None,
            signer: None,
            dpop: None,
            url_policy: UrlPolicy::default(),
            max_authorization_attempts: mcp_proto::auth::DEFAULT_MAX_AUTHORIZATION_ATTEMPTS,
            authorization_timeout: mcp_proto::auth::DEFAULT_AUTHORIZATION_TIMEOUT,
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
            max_fetch_bytes: DEFAULT_MAX_FETCH_BYTES,
        }
    }

    /// Obtains the token with `grant` instead of the authorization code flow.
    #[must_use]
    pub fn with_grant(mut self, grant: GrantConfig) -> Self {
        self.grant = grant;
        self
    }

    /// Adds credentials registered beforehand.
    #[must_use]
    pub fn with_pre_registered(mut self, client: PreRegisteredClient) -> Self {
        self.pre_registered.push(client);
        self
    }

    /// Uses this Client ID Metadata Document URL as `client_id` where supported.
    #[must_use]
    pub fn with_client_id_metadata_url(mut self, url: impl Into<String>) -> Self {
        self.client_id_metadata_url = Some(url.into());
        self
    }

    /// Signs `private_key_jwt` assertions with `signer`.
    #[must_use]
    pub fn with_signer(mut self, signer: SharedSigner) -> Self {
        self.signer = Some(signer);
        self
    }

    /// Proves possession of `key` (DPoP, RFC 9449) where the authorization server supports
    /// it: tokens are then bound to the key and each request carries a proof. With the `tls`
    /// feature, `Arc::new(Es256Signer::generate()?)` gives a fresh P-256 key.
    #[must_use]
    pub fn with_dpop(mut self, key: SharedDpopSigner) -> Self {
        self.dpop = Some(key);
        self
    }

    /// Keeps registrations and tokens in `store`.
    #[must_use]
    pub fn with_token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = store;
        self
    }

    /// Sets which URLs the flow may fetch (e.g. plain `http://` on loopback, for tests).
    #[must_use]
    pub const fn with_url_policy(mut self, policy: UrlPolicy) -> Self {
        self.url_policy = policy;
        self
    }

    /// The flow's state machine for the MCP server at `server_url`, with OS entropy, the
    /// wall clock read now, and what `store` kept.
    pub(crate) fn machine(&self, server_url: &str) -> Result<OAuthClient, String> {
        let mut config = OAuthClientConfig::new(
            server_url,
            &self.authorizer.redirect_uri(),
            &self.client_name,
        )
        .map_err(|e| format!("the server URL cannot be used for OAuth: {e}"))?;
        config.grant = self.grant.clone();
        config.pre_registered = self.pre_registered.clone();
        config.client_id_metadata_url = self.client_id_metadata_url.clone();
        config.assertion_signer = self
            .signer
            .clone()
            .map(|signer| -> Box<dyn AssertionSigner> { Box::new(SignerRef(signer)) });
        config.dpop_signer = self
            .dpop
            .clone()
            .map(|key| -> Box<dyn DpopSigner> { Box::new(DpopRef(key)) });
        config.wall_clock = Some(wall_clock());
        config.url_policy = self.url_policy;
        config.max_authorization_attempts = self.max_authorization_attempts;
        config.authorization_timeout = self.authorization_timeout;
        let mut machine = OAuthClient::new(config, Box::new(OsEntropy));
        for (issuer, stored) in self.store.load_all() {
            if let Some(registration) = stored.registration {
                machine.insert_registration(&issuer, registration);
            }
            if let Some(tokens) = stored.tokens {
                machine.insert_tokens(&issuer, tokens);
            }
        }
        Ok(machine)
    }
}

/// The OS's randomness, as the flow asks for it.
#[derive(Debug, Clone, Copy)]
struct OsEntropy;

impl EntropySource for OsEntropy {
    fn fill(&mut self, dest: &mut [u8]) {
        os_entropy(dest);
    }
}

/// The wall clock's reading now, anchored to `Instant::now()`.
fn wall_clock() -> WallClock {
    let at = Instant::now();
    let unix_seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    WallClock { at, unix_seconds }
}

/// The registration and tokens the machine holds for `issuer`, for the store.
pub(crate) fn credentials_of(machine: &OAuthClient, issuer: &str) -> StoredCredentials {
    StoredCredentials {
        registration: machine.registration(issuer).cloned(),
        tokens: machine.tokens(issuer).cloned(),
    }
}

/// A copy of `request` (to send again after authorization).
pub(crate) fn copy_request(request: &http::Request<Vec<u8>>) -> http::Request<Vec<u8>> {
    let mut copy = http::Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    copy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_is_bounded_and_replaces() {
        let store = MemoryTokenStore::new();
        for index in 0..MEMORY_STORE_ISSUERS + 3 {
            store.save(&format!("https://as{index}"), StoredCredentials::default());
        }
        store.save("https://as5", StoredCredentials::default());
        let all = store.load_all();
        assert_eq!(all.len(), MEMORY_STORE_ISSUERS);
        assert_eq!(
            all.last().map(|(issuer, _)| issuer.as_str()),
            Some("https://as5")
        );
        assert_eq!(
            all.iter()
                .filter(|(issuer, _)| issuer == "https://as5")
                .count(),
            1
        );
        assert!(!all.iter().any(|(issuer, _)| issuer == "https://as0"));
    }

    #[test]
    fn copies_keep_everything() {
        let request = http::Request::post("http://x/mcp")
            .header("a", "1")
            .body(b"body".to_vec())
            .unwrap();
        let copy = copy_request(&request);
        assert_eq!(copy.method(), request.method());
        assert_eq!(copy.uri(), request.uri());
        assert_eq!(copy.headers(), request.headers());
        assert_eq!(copy.body(), request.body());
    }

    #[test]
    fn headless_reads_location_without_following() {
        let fetcher = Fetcher::new(|request| {
            Box::pin(async move {
                assert_eq!(request.uri(), "https://as.example/authorize?x=1");
                Ok(http::Response::builder()
                    .status(302)
                    .header(LOCATION, "http://127.0.0.1:9/cb?code=c&state=s")
                    .body(Vec::new())
                    .unwrap())
            })
        });
        let authorizer = HeadlessAuthorizer::new("http://127.0.0.1:9/cb");
        let callback = futures_lite::future::block_on(
            authorizer.authorize("https://as.example/authorize?x=1".into(), fetcher),
        )
        .unwrap();
        assert_eq!(callback, "http://127.0.0.1:9/cb?code=c&state=s");
        let refusing = Fetcher::new(|_| {
            Box::pin(async {
                Ok(http::Response::builder()
                    .status(200)
                    .body(Vec::new())
                    .unwrap())
            })
        });
        let error = futures_lite::future::block_on(
            authorizer.authorize("https://as.example/authorize".into(), refusing),
        )
        .unwrap_err();
        assert!(matches!(error, AuthorizeError::NoRedirect { status: 200 }));
    }
}
