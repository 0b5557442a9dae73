//! A client over Streamable HTTP (and its HTTP+SSE fallback): the [`HttpClient`] machine in
//! the connection's task, each HTTP exchange in a task of its own on a pooled keep-alive
//! connection from the adapter's [`Connector`].
//!
//! Every exchange ends in exactly one report to the machine — a complete response, a
//! streamed one's end, or a failure — so every request settles, with the HTTP status kept.
//!
//! The adapter's [`Connector`] only opens TCP connections; the proxy tunnel
//! ([`crate::proxy`]) and TLS for `https://` URLs ([`crate::tls`], the `tls` feature) are
//! added here by a [`Dialer`], the same on every runtime. A connection that cannot be opened
//! — refused, a proxy's 407, a certificate that is not trusted — fails the request with the
//! cause's text, and so the connect with [`ConnectError::Transport`].
//!
//! [`ConnectError::Transport`]: crate::client::ConnectError::Transport

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use futures_lite::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use futures_lite::{FutureExt, Stream};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, Method, Uri};
use mcp_proto::auth::{AuthAction, Credentials, FetchId, OAuthClient, ResourceVerdict, Sent};
use mcp_proto::engine::{ClientEndpoint, ClientEvent, TransportFailure};
use mcp_proto::h1::{self, BodyDecoder, BodyFraming, BodyStatus, Limits};
use mcp_proto::streamable::{
    ExchangeId, HttpClient, HttpClientConfig, HttpClientOutput, LegacySsePolicy,
};

use crate::client::{
    Client, ClientOptions, ClientTask, ClientTransport, ConnectError, ShutdownReport,
    client_connection,
};
pub use crate::dial::{Dialer, HttpConnectError, MaybeTls};
use crate::oauth::{
    AuthorizeError, Authorizer, Fetcher, MAX_HELD_REQUESTS, OAuthOptions, TokenStore, copy_request,
    credentials_of,
};
use crate::proxy::ProxyConfig;
use crate::runtime::{BoxFuture, Runtime};
use crate::tls::TlsOptions;

/// The default most idle keep-alive connections kept for reuse.
pub const DEFAULT_IDLE_CONNECTIONS: usize = 8;
/// The default longest non-streamed response body.
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 8 * 1024 * 1024;
/// The default longest wait for a TCP (and TLS) connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the DELETE ending a legacy session may take after the client closed.
const DELETE_GRACE: Duration = Duration::from_secs(5);
/// Exchange reports queued for the connection task.
const REPORT_QUEUE: usize = 256;
/// Bytes read from a socket at a time.
const READ_CHUNK: usize = 16 * 1024;

/// Opens TCP connections for the HTTP client: the one thing an adapter supplies. Proxy
/// tunnels and TLS are layered on top by the shared [`Dialer`].
pub trait Connector: Send + Sync + 'static {
    /// A TCP connection (or anything that carries bytes like one).
    type Connection: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// A TCP connection to `host:port`; `host` is a name to resolve or an IP address (an
    /// IPv6 one without brackets).
    fn connect_tcp(
        &self,
        host: &str,
        port: u16,
    ) -> BoxFuture<'static, io::Result<Self::Connection>>;
}

/// How to reach an MCP server over HTTP: the URL (`http://` or `https://`), the headers sent
/// with every request, the proxy and the TLS trust.
///
/// Its `Debug` shows header names but no header values (they often hold tokens).
///
/// ```
/// use mcp_async::http_client::HttpConnectOptions;
/// use mcp_async::proxy::ProxyConfig;
///
/// let options = HttpConnectOptions::new("https://mcp.example.com/mcp".parse()?)
///     .with_header("Authorization", "Bearer secret-token")?
///     // Through this proxy, except for hosts under internal.example:
///     .with_proxy(ProxyConfig::fixed("http://user:pass@proxy.example:3128")?.with_no_proxy(".internal.example"));
/// assert!(!format!("{options:?}").contains("secret-token"));
/// assert!(!format!("{options:?}").contains("pass"));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
///
/// With the `tls` feature, [`HttpConnectOptions::with_root_certificates_pem`] trusts a
/// private certificate authority and [`HttpConnectOptions::with_tls_config`] takes a whole
/// rustls configuration.
#[derive(Clone)]
pub struct HttpConnectOptions {
    /// The MCP endpoint URL.
    pub url: Uri,
    /// Headers for every request (e.g. `Authorization: Bearer …`).
    pub headers: HeaderMap,
    /// Whether the deprecated HTTP+SSE transport may be used.
    pub legacy_sse: LegacySsePolicy,
    /// Idle keep-alive connections kept for reuse.
    pub idle_connections: usize,
    /// Longest non-streamed response body.
    pub max_response_body: usize,
    /// Longest wait for a connection (TCP, the proxy's tunnel and the TLS handshake).
    pub connect_timeout: Duration,
    /// The proxy per URL; [`ProxyConfig::from_env`] by default.
    pub proxy: ProxyConfig,
    /// The TLS trust for `https://` URLs (set with the `with_…` methods).
    pub tls: TlsOptions,
    /// OAuth: obtain and send bearer tokens as the server demands ([`crate::oauth`]).
    pub oauth: Option<OAuthOptions>,
}

impl fmt::Debug for HttpConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values often are credentials: names only.
        let header_names: Vec<&str> = self.headers.keys().map(http::HeaderName::as_str).collect();
        f.debug_struct("HttpConnectOptions")
            .field("url", &format_args!("{}", redacted(&self.url)))
            .field("headers", &header_names)
            .field("legacy_sse", &self.legacy_sse)
            .field("idle_connections", &self.idle_connections)
            .field("max_response_body", &self.max_response_body)
            .field("connect_timeout", &self.connect_timeout)
            .field("proxy", &self.proxy)
            .field("tls", &self.tls)
            .field("oauth", &self.oauth)
            .finish()
    }
}

impl HttpConnectOptions {
    /// Options for `url` with the defaults.
    #[must_use]
    pub fn new(url: Uri) -> Self {
        Self {
            url,
            headers: HeaderMap::new(),
            legacy_sse: LegacySsePolicy::default(),
            idle_connections: DEFAULT_IDLE_CONNECTIONS,
            max_response_body: DEFAULT_MAX_RESPONSE_BODY,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            proxy: ProxyConfig::from_env(),
            tls: TlsOptions::default(),
            oauth: None,
        }
    }

    /// Authorizes with OAuth as the server demands: every request carries the bearer token,
    /// a 401 or 403 runs the flow and the request goes again (see [`crate::oauth`]).
    #[must_use]
    pub fn with_oauth(mut self, oauth: OAuthOptions) -> Self {
        self.oauth = Some(oauth);
        self
    }

    /// Chooses the proxy (the default is [`ProxyConfig::from_env`]; [`ProxyConfig::none`]
    /// ignores the environment).
    #[must_use]
    pub fn with_proxy(mut self, proxy: ProxyConfig) -> Self {
        self.proxy = proxy;
        self
    }

    /// Trusts the certificates of `pem` (one or more `CERTIFICATE` sections) as roots for
    /// `https://` URLs, on top of Mozilla's (`webpki-roots`). Ignored once
    /// [`HttpConnectOptions::with_tls_config`] sets a whole configuration.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use mcp_async::http_client::HttpConnectOptions;
    /// use mcp_async::tls::rustls;
    /// use rustls::pki_types::{CertificateDer, pem::PemObject};
    ///
    /// # let ca_file = "../scenarios/fixtures/tls/ca.pem";
    /// let ca_pem = std::fs::read(ca_file)?; // e.g. your company's CA
    /// let options = HttpConnectOptions::new("https://mcp.corp.example/mcp".parse()?)
    ///     .with_root_certificates_pem(&ca_pem)?;
    ///
    /// // Or every rustls setting yourself (only that CA, a client certificate…):
    /// let mut roots = rustls::RootCertStore::empty();
    /// for certificate in CertificateDer::pem_slice_iter(&ca_pem) {
    ///     roots.add(certificate?)?;
    /// }
    /// let provider = Arc::new(rustls::crypto::ring::default_provider());
    /// let config = rustls::ClientConfig::builder_with_provider(provider)
    ///     .with_safe_default_protocol_versions()?
    ///     .with_root_certificates(roots)
    ///     .with_no_client_auth();
    /// let options = options.with_tls_config(Arc::new(config));
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`TlsError`](crate::tls::TlsError) when the PEM text holds no certificate or one that
    /// cannot be a trust anchor.
    #[cfg(feature = "tls")]
    pub fn with_root_certificates_pem(mut self, pem: &[u8]) -> Result<Self, crate::tls::TlsError> {
        self.tls.add_roots_pem(pem)?;
        Ok(self)
    }

    /// Uses `config` for `https://` URLs as it is (roots, client certificate, versions…;
    /// certificates are verified as it says). Set `alpn_protocols` to `http/1.1` or leave it
    /// empty: this client speaks HTTP/1.1 only.
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn with_tls_config(mut self, config: Arc<crate::tls::rustls::ClientConfig>) -> Self {
        self.tls.set_config(config);
        self
    }
}

impl HttpConnectOptions {
    /// Adds a header sent with every request (`Authorization: Bearer …`).
    ///
    /// # Errors
    /// A message when the name or value is not valid in HTTP.
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Self, String> {
        let header = http::HeaderName::try_from(name)
            .map_err(|e| format!("invalid header name {name:?}: {e}"))?;
        let value = http::HeaderValue::try_from(value)
            .map_err(|e| format!("invalid value for header {name}: {e}"))?;
        self.headers.append(header, value);
        Ok(self)
    }
}

/// What an exchange task reports.
#[derive(Debug)]
pub(crate) enum Report {
    Head(http::Response<()>),
    Body(Vec<u8>),
    End,
    Complete(http::Response<Vec<u8>>),
    Failed(String),
}

/// The sending side of the idle connection pool.
type Pooled<C> = crate::channel::Sender<MaybeTls<<C as Connector>::Connection>>;

struct Shared<C: Connector> {
    dialer: Dialer<C>,
    idle: (Pooled<C>, crate::channel::Receiver<MaybeTls<C::Connection>>),
    limits: Limits,
    max_response_body: usize,
    connect_timeout: Duration,
}

/// The HTTP transport of a client connection.
pub(crate) struct Http<R, C: Connector> {
    runtime: R,
    client: HttpClient,
    shared: Arc<Shared<C>>,
    reports: Pin<Box<crate::channel::Receiver<(ExchangeId, Report)>>>,
    report_sender: crate::channel::Sender<(ExchangeId, Report)>,
    /// Dropping an exchange's sender cancels it (a modern cancellation, or the end).
    cancels: HashMap<ExchangeId, crate::channel::Sender<()>>,
    /// The OAuth flow, when the options ask for one.
    auth: Option<Auth>,
}

/// What an OAuth task reports.
pub(crate) enum AuthWake {
    Fetched(FetchId, Result<http::Response<Vec<u8>>, String>),
    Redirected(Result<String, AuthorizeError>),
}

/// What woke the HTTP transport.
pub(crate) enum HttpWake {
    Exchange(ExchangeId, Report),
    Auth(AuthWake),
}

/// The OAuth side of an HTTP connection: the flow's machine, the tasks performing its
/// actions, and the requests waiting for a token.
struct Auth {
    /// `Err`: the flow cannot run for this server (every request fails with the reason).
    machine: Result<OAuthClient, String>,
    authorizer: Arc<dyn Authorizer>,
    store: Arc<dyn TokenStore>,
    fetcher: Fetcher,
    wakes: (
        crate::channel::Sender<AuthWake>,
        Pin<Box<crate::channel::Receiver<AuthWake>>>,
    ),
    /// Requests in flight, kept to be sent again on a 401/403 or a DPoP nonce challenge: a
    /// copy, and how it went out.
    sent: HashMap<ExchangeId, (http::Request<Vec<u8>>, Sent)>,
    /// Requests waiting for the flow, with the status that stopped them (0: not sent yet).
    held: Vec<(ExchangeId, http::Request<Vec<u8>>, u16)>,
}

impl ClientTask {
    /// Drives the connection over HTTP until it closes, opening connections with
    /// `connector`; returns the engine's close report.
    pub async fn run_http<R: Runtime, C: Connector>(
        self,
        runtime: R,
        connector: C,
        http: HttpConnectOptions,
    ) -> mcp_proto::engine::CloseReport {
        let transport = Http::new(runtime.clone(), connector, &self.options, http);
        self.drive(runtime, transport).await
    }
}

/// Connects to the MCP server at `http.url` over Streamable HTTP (either era, falling back to
/// HTTP+SSE per `http.legacy_sse`), with pooled keep-alive connections from `connector`; the
/// connection's task runs on `runtime`.
///
/// # Errors
/// [`ConnectError`]: the transport's failure as it happened (e.g. the HTTP status and
/// `WWW-Authenticate` of a 401), or the handshake's.
pub async fn connect_http<R: Runtime, C: Connector>(
    runtime: R,
    connector: C,
    http: HttpConnectOptions,
    options: ClientOptions,
) -> Result<Client, ConnectError> {
    let (connecting, task, report) = client_connection(options);
    let owner = runtime.clone();
    runtime.spawn(Box::pin(async move {
        let close = task.run_http(owner, connector, http).await;
        report.send(ShutdownReport {
            close: Some(close),
            child: None,
            transport_error: None,
        });
    }));
    connecting.ready().await
}

impl<R: Runtime, C: Connector> Http<R, C> {
    fn new(runtime: R, connector: C, options: &ClientOptions, http: HttpConnectOptions) -> Self {
        let dialer = Dialer::new(connector, &http);
        let server_url = http.url.to_string();
        let mut config = HttpClientConfig::new(http.url, options.config.clone());
        config.headers = http.headers;
        config.legacy_sse = http.legacy_sse;
        let (report_sender, reports) = crate::channel::bounded(REPORT_QUEUE);
        let shared = Arc::new(Shared {
            dialer,
            idle: crate::channel::bounded(http.idle_connections.max(1)),
            limits: Limits::default(),
            max_response_body: http.max_response_body,
            connect_timeout: http.connect_timeout,
        });
        let auth = http.oauth.map(|oauth| {
            let fetch_shared = Arc::clone(&shared);
            let fetch_runtime = runtime.clone();
            let (max_bytes, timeout) = (oauth.max_fetch_bytes, oauth.fetch_timeout);
            let fetcher = Fetcher::new(move |request| {
                let shared = Arc::clone(&fetch_shared);
                let runtime = fetch_runtime.clone();
                Box::pin(
                    async move { fetch_once(&shared, &runtime, request, max_bytes, timeout).await },
                )
            });
            // One action of the flow at a time, plus the user's step: a small queue.
            let (sender, receiver) = crate::channel::bounded(8);
            Auth {
                machine: oauth.machine(&server_url),
                authorizer: Arc::clone(&oauth.authorizer),
                store: Arc::clone(&oauth.store),
                fetcher,
                wakes: (sender, Box::pin(receiver)),
                sent: HashMap::new(),
                held: Vec::new(),
            }
        });
        Self {
            runtime,
            client: HttpClient::new(config),
            shared,
            reports: Box::pin(reports),
            report_sender,
            cancels: HashMap::new(),
            auth,
        }
    }

    /// Sends `request` as `exchange` (with the current credentials, under OAuth), or holds
    /// it while the flow runs.
    fn send(&mut self, exchange: ExchangeId, request: http::Request<Vec<u8>>) {
        self.send_attempt(exchange, request, false);
    }

    /// [`send`](Self::send); `nonce_retry`: this is the retry answering a DPoP nonce
    /// challenge. Credentials (and a DPoP proof) are made now, for this very request.
    fn send_attempt(
        &mut self,
        exchange: ExchangeId,
        mut request: http::Request<Vec<u8>>,
        nonce_retry: bool,
    ) {
        if let Some(auth) = &mut self.auth {
            let now = Instant::now();
            let machine = match &mut auth.machine {
                Ok(machine) => machine,
                Err(reason) => {
                    let failure = TransportFailure::ConnectionLost(reason.clone());
                    self.client.fail_exchange(now, exchange, failure);
                    return;
                }
            };
            let credentials = machine.authorize_request(now, request.method(), request.uri());
            self.drive_auth(now);
            let Some(auth) = &mut self.auth else { return };
            let sent = match credentials {
                Credentials::Ready(credentials) => {
                    if credentials.apply(request.headers_mut()).is_err() {
                        tracing::warn!("the access token is not a valid header value");
                    }
                    credentials.sent()
                }
                Credentials::Pending => {
                    if auth.held.len() >= MAX_HELD_REQUESTS {
                        let failure = TransportFailure::ConnectionLost(
                            "too many requests waiting for authorization".to_owned(),
                        );
                        self.client.fail_exchange(now, exchange, failure);
                    } else {
                        auth.held.push((exchange, request, 0));
                    }
                    return;
                }
                Credentials::None => Sent::default(),
                Credentials::Failed(error) => {
                    tracing::warn!(error = %error, "oauth: the request cannot be authorized");
                    let failure = TransportFailure::Unauthorized {
                        status: 401,
                        error: Box::new(error),
                    };
                    self.client.fail_exchange(now, exchange, failure);
                    return;
                }
            };
            let sent = Sent {
                nonce_retry,
                ..sent
            };
            auth.sent.insert(exchange, (copy_request(&request), sent));
        }
        self.spawn_exchange(exchange, request);
    }

    fn spawn_exchange(&mut self, exchange: ExchangeId, request: http::Request<Vec<u8>>) {
        let cancelled: BoxFuture<'static, ()> = if request.method() == Method::DELETE {
            // Ending a session must outlive the client's own end: it gets a bounded time
            // of its own instead of a cancellation.
            let deadline = Instant::now() + DELETE_GRACE;
            self.runtime.sleep_until(deadline)
        } else {
            let (cancel, cancelled) = crate::channel::bounded::<()>(1);
            self.cancels.insert(exchange, cancel);
            Box::pin(async move {
                let _ = cancelled.recv().await;
            })
        };
        let task = run_exchange(
            Arc::clone(&self.shared),
            self.runtime.clone(),
            request,
            exchange,
            self.report_sender.clone(),
            cancelled,
        );
        self.runtime.spawn(Box::pin(task));
    }

    /// A complete response under OAuth: `None` when the flow took it (a 401/403 that starts
    /// or joins a flow, a DPoP nonce challenge answered by sending the request again, or a
    /// request the flow fails); otherwise the response, for the machine.
    fn auth_response(
        &mut self,
        now: Instant,
        exchange: ExchangeId,
        response: http::Response<Vec<u8>>,
    ) -> Option<http::Response<Vec<u8>>> {
        let Some(auth) = self.auth.as_mut() else {
            return Some(response);
        };
        let Some((request, sent)) = auth.sent.remove(&exchange) else {
            return Some(response);
        };
        let Ok(machine) = &mut auth.machine else {
            return Some(response);
        };
        let status = response.status().as_u16();
        if matches!(status, 401 | 403) && auth.held.len() >= MAX_HELD_REQUESTS {
            return Some(response);
        }
        match machine.handle_resource_response(now, status, response.headers(), sent) {
            ResourceVerdict::Deliver => Some(response),
            ResourceVerdict::Retry => {
                tracing::debug!("the server asks for a DPoP nonce: sending again with it");
                self.send_attempt(exchange, request, true);
                None
            }
            ResourceVerdict::Hold => {
                tracing::debug!(status, "the server asks for authorization");
                auth.held.push((exchange, request, status));
                self.drive_auth(now);
                None
            }
            ResourceVerdict::Fail(error) => {
                tracing::warn!(error = %error, "oauth: the request is refused");
                let failure = TransportFailure::Unauthorized {
                    status,
                    error: Box::new(error),
                };
                self.client.fail_exchange(now, exchange, failure);
                None
            }
        }
    }

    /// Performs the flow's queued actions.
    fn drive_auth(&mut self, now: Instant) {
        loop {
            let Some(auth) = &mut self.auth else { return };
            let Ok(machine) = &mut auth.machine else {
                return;
            };
            let Some(action) = machine.poll_action() else {
                return;
            };
            match action {
                AuthAction::Fetch {
                    id,
                    purpose,
                    request,
                } => {
                    tracing::debug!(%purpose, method = %request.method(), "oauth fetch");
                    let fetch = auth.fetcher.fetch(request);
                    let wakes = auth.wakes.0.clone();
                    self.runtime.spawn(Box::pin(async move {
                        let outcome = fetch.await;
                        let _ = wakes.send(AuthWake::Fetched(id, outcome)).await;
                    }));
                }
                AuthAction::Authorize { url } => {
                    tracing::debug!("oauth: the user's authorization step");
                    let authorize = auth
                        .authorizer
                        .authorize(url.to_string(), auth.fetcher.clone());
                    let wakes = auth.wakes.0.clone();
                    self.runtime.spawn(Box::pin(async move {
                        let outcome = authorize.await;
                        let _ = wakes.send(AuthWake::Redirected(outcome)).await;
                    }));
                }
                AuthAction::Authorized { issuer, .. } => {
                    tracing::debug!(%issuer, "oauth: authorized");
                    auth.store.save(&issuer, credentials_of(machine, &issuer));
                    let held = std::mem::take(&mut auth.held);
                    for (exchange, mut request, _) in held {
                        request.headers_mut().remove(http::header::AUTHORIZATION);
                        request.headers_mut().remove(mcp_proto::auth::dpop::DPOP);
                        self.send(exchange, request);
                    }
                }
                AuthAction::Failed(error) => {
                    tracing::warn!(error = %error, "oauth: authorization failed");
                    let held = std::mem::take(&mut auth.held);
                    for (exchange, _, status) in held {
                        let failure = TransportFailure::Unauthorized {
                            status: if status == 0 { 401 } else { status },
                            error: Box::new(error.clone()),
                        };
                        self.client.fail_exchange(now, exchange, failure);
                    }
                }
            }
        }
    }

    fn handle_auth(&mut self, now: Instant, wake: AuthWake) {
        let Some(auth) = &mut self.auth else { return };
        let Ok(machine) = &mut auth.machine else {
            return;
        };
        match wake {
            AuthWake::Fetched(id, Ok(response)) => {
                machine.handle_fetch_response(now, id, &response)
            }
            AuthWake::Fetched(id, Err(reason)) => machine.handle_fetch_failed(now, id, reason),
            AuthWake::Redirected(Ok(callback)) => {
                if let Err(error) = machine.handle_redirect(now, &callback) {
                    tracing::debug!(%error, "oauth: a late redirect");
                }
            }
            AuthWake::Redirected(Err(error)) => {
                tracing::warn!(error = %error, "oauth: the authorization step failed");
                machine.abandon(now);
            }
        }
        self.drive_auth(now);
    }
}

impl<R: Runtime, C: Connector> ClientTransport for Http<R, C> {
    type Wake = HttpWake;

    fn start(&mut self, now: Instant) -> Result<(), mcp_proto::engine::ClientError> {
        self.client.start(now)
    }

    fn endpoint(&mut self) -> &mut ClientEndpoint {
        self.client.endpoint()
    }

    fn poll_event(&mut self) -> Option<ClientEvent> {
        self.client.poll_event()
    }

    fn flush(&mut self) {
        while let Some(output) = self.client.poll_output() {
            match output {
                HttpClientOutput::Send { exchange, request } => self.send(exchange, request),
                HttpClientOutput::Abort { exchange } => {
                    self.cancels.remove(&exchange);
                    if let Some(auth) = &mut self.auth {
                        auth.sent.remove(&exchange);
                        auth.held.retain(|(held, _, _)| *held != exchange);
                    }
                }
            }
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let auth = self
            .auth
            .as_ref()
            .and_then(|auth| auth.machine.as_ref().ok())
            .and_then(OAuthClient::poll_timeout);
        match (self.client.poll_timeout(), auth) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if let Some(Ok(machine)) = self.auth.as_mut().map(|auth| &mut auth.machine) {
            machine.handle_timeout(now);
            self.drive_auth(now);
        }
        self.client.handle_timeout(now);
    }

    fn is_congested(&self) -> bool {
        false
    }

    fn poll_wire(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Self::Wake> {
        if let Some(auth) = &mut self.auth
            && let Poll::Ready(Some(wake)) = auth.wakes.1.as_mut().poll_next(cx)
        {
            return Poll::Ready(HttpWake::Auth(wake));
        }
        match self.reports.as_mut().poll_next(cx) {
            Poll::Ready(Some((exchange, report))) => {
                Poll::Ready(HttpWake::Exchange(exchange, report))
            }
            // The task holds a sender itself, so the queue never closes while it runs.
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }

    fn handle_wire(&mut self, now: Instant, wake: Self::Wake) {
        let (exchange, report) = match wake {
            HttpWake::Exchange(exchange, report) => (exchange, report),
            HttpWake::Auth(wake) => return self.handle_auth(now, wake),
        };
        if let (Some(auth), Report::Head(_) | Report::Failed(_)) = (&mut self.auth, &report) {
            // A stream (only 2xx responses stream) or a failure: nothing to send again.
            if let (Some((_, sent)), Report::Head(head), Ok(machine)) =
                (auth.sent.remove(&exchange), &report, &mut auth.machine)
            {
                let status = head.status().as_u16();
                let verdict = machine.handle_resource_response(now, status, head.headers(), sent);
                if verdict != ResourceVerdict::Deliver {
                    tracing::debug!(status, "a streamed answer the flow cannot take back");
                }
            }
        }
        let report = match report {
            Report::Complete(response) => {
                // The exchange is over whatever happens next (a retry is a new one).
                self.cancels.remove(&exchange);
                match self.auth_response(now, exchange, response) {
                    Some(response) => Report::Complete(response),
                    None => return,
                }
            }
            other => other,
        };
        match report {
            Report::Head(head) => self.client.handle_response_head(now, exchange, &head),
            Report::Body(bytes) => self.client.handle_body(now, exchange, &bytes),
            Report::End => {
                self.cancels.remove(&exchange);
                self.client.handle_body_end(now, exchange);
            }
            Report::Complete(response) => {
                self.cancels.remove(&exchange);
                self.client.handle_response(now, exchange, response);
            }
            Report::Failed(reason) => {
                self.cancels.remove(&exchange);
                self.client.handle_exchange_failed(now, exchange, reason);
            }
        }
    }

    fn close(&mut self, now: Instant) {
        self.client.close(now);
    }

    fn abort(&mut self, now: Instant) {
        self.client.endpoint().abort(now);
    }

    async fn finish(&mut self) {
        // The DELETE of a legacy session (queued by the close) gets a moment to go out;
        // every other exchange is cancelled by dropping its sender.
        self.flush();
        self.cancels.clear();
    }
}

/// One HTTP exchange, reported back exactly once (streamed ones: head, bodies, then the end
/// or a failure).
async fn run_exchange<R: Runtime, C: Connector>(
    shared: Arc<Shared<C>>,
    runtime: R,
    request: http::Request<Vec<u8>>,
    exchange: ExchangeId,
    reports: crate::channel::Sender<(ExchangeId, Report)>,
    cancelled: BoxFuture<'static, ()>,
) {
    let cancel = async {
        cancelled.await;
        Ok(())
    };
    let outcome = perform(&shared, &runtime, request, exchange, &reports)
        .or(cancel)
        .await;
    if let Err(reason) = outcome {
        let _ = reports.send((exchange, Report::Failed(reason))).await;
    }
}

/// Performs the exchange; `Err` is a failure still to report (nothing final was reported).
async fn perform<R: Runtime, C: Connector>(
    shared: &Shared<C>,
    runtime: &R,
    request: http::Request<Vec<u8>>,
    exchange: ExchangeId,
    reports: &crate::channel::Sender<(ExchangeId, Report)>,
) -> Result<(), String> {
    let (parts, body) = request.into_parts();
    let uri = parts.uri.clone();
    let method = parts.method.clone();
    // Origin-form on the wire: the connection already goes to the URL's origin.
    let mut head = http::Request::from_parts(parts, ());
    *head.uri_mut() = uri
        .path_and_query()
        .map_or_else(|| Uri::from_static("/"), |pq| Uri::from(pq.clone()));
    let mut bytes = Vec::with_capacity(body.len() + 512);
    let framing = if body.is_empty() && method == Method::GET {
        BodyFraming::Empty
    } else {
        BodyFraming::Length(u64::try_from(body.len()).unwrap_or(u64::MAX))
    };
    h1::encode_request_head(&head, framing, &mut bytes).map_err(|e| e.to_string())?;
    bytes.extend_from_slice(&body);

    // A pooled connection may have been closed by the server meanwhile: if it fails before
    // any byte of the response, the request goes again on a fresh one.
    let mut reused = shared.idle.1.try_recv().ok();
    loop {
        let fresh = reused.is_none();
        let mut connection = match reused.take() {
            Some(connection) => connection,
            None => connect(shared, runtime, &uri).await?,
        };
        let answer = exchange_on(
            shared,
            &mut connection,
            &bytes,
            &method,
            exchange,
            reports,
            shared.max_response_body,
        );
        match answer.await {
            Ok(Some(reusable)) => {
                if reusable {
                    let _ = shared.idle.0.try_send(connection);
                }
                return Ok(());
            }
            Ok(None) if !fresh => {}
            Ok(None) => return Err("the server closed the connection without answering".into()),
            Err(error) => return Err(error),
        }
    }
}

async fn connect<R: Runtime, C: Connector>(
    shared: &Shared<C>,
    runtime: &R,
    uri: &Uri,
) -> Result<MaybeTls<C::Connection>, String> {
    let deadline = Instant::now().checked_add(shared.connect_timeout);
    let timeout = async {
        match deadline {
            Some(deadline) => runtime.sleep_until(deadline).await,
            None => std::future::pending().await,
        }
        Err(format!(
            "connecting timed out after {:?}",
            shared.connect_timeout
        ))
    };
    let connect = async {
        shared.dialer.connect(uri).await.map_err(|error| {
            tracing::debug!(error = %error.with_causes(), "connection failed");
            error.with_causes()
        })
    };
    connect
        .or(timeout)
        .await
        .map_err(|reason| format!("cannot connect to {}: {reason}", authority(uri)))
}

/// The URL's `host[:port]`, without any `user:password@`.
fn authority(uri: &Uri) -> String {
    uri.authority()
        .map_or_else(String::new, |authority| authority_of(authority).to_owned())
}

/// `uri` with any `user:password@` replaced, for `Debug`.
fn redacted(uri: &Uri) -> String {
    match uri.authority() {
        Some(authority) if authority.as_str().contains('@') => format!(
            "{}://<redacted>@{}{}",
            uri.scheme_str().unwrap_or_default(),
            authority_of(authority),
            uri.path_and_query()
                .map_or("", http::uri::PathAndQuery::as_str)
        ),
        _ => uri.to_string(),
    }
}

fn authority_of(authority: &http::uri::Authority) -> &str {
    let text = authority.as_str();
    text.rsplit_once('@').map_or(text, |(_, host)| host)
}

/// Writes the request and reads its response on `connection`; a complete (non-event-stream)
/// body may have at most `max_body` bytes. `Ok(None)`: the connection closed before any byte
/// of the response (safe to retry); `Ok(Some(reusable))`: reported.
async fn exchange_on<C: AsyncRead + AsyncWrite + Unpin>(
    shared: &Shared<impl Connector>,
    connection: &mut C,
    request: &[u8],
    method: &Method,
    exchange: ExchangeId,
    reports: &crate::channel::Sender<(ExchangeId, Report)>,
    max_body: usize,
) -> Result<Option<bool>, String> {
    let io_error = |e: io::Error| format!("connection lost: {e}");
    if connection.write_all(request).await.is_err() || connection.flush().await.is_err() {
        return Ok(None);
    }
    let mut buffer = Vec::new();
    let mut chunk = vec![0u8; READ_CHUNK];
    let (head, consumed) = loop {
        match h1::parse_response_head(&buffer, &shared.limits) {
            Ok(Some(parsed)) => break parsed,
            Ok(None) => {}
            Err(error) => return Err(format!("invalid response: {error}")),
        }
        let n = connection.read(&mut chunk).await;
        match n {
            Ok(0) | Err(_) if buffer.is_empty() => return Ok(None),
            Ok(0) => return Err("the server closed the connection mid-response".into()),
            Ok(n) => buffer.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) => return Err(io_error(e)),
        }
    };
    buffer.drain(..consumed);
    let framing = h1::response_body_framing(method, &head).map_err(|e| e.to_string())?;
    let reusable =
        framing != BodyFraming::UntilClose && h1::keep_alive(head.version(), head.headers());
    let streaming = head.status().is_success()
        && head
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("text/event-stream")
            });
    let mut limits = shared.limits;
    let mut head = Some(head);
    if streaming {
        // An event stream may last as long as the session.
        limits.max_body_bytes = u64::MAX;
        if let Some(head) = head.take() {
            send(reports, exchange, Report::Head(head)).await?;
        }
    }
    let mut decoder = BodyDecoder::new(framing, &limits);
    let mut body = Vec::new();
    loop {
        let status = decoder
            .decode(&buffer)
            .map_err(|e| format!("invalid response body: {e}"))?;
        let consumed = status.consumed();
        match status {
            BodyStatus::Data { data, .. } => {
                if streaming {
                    send(reports, exchange, Report::Body(data.to_vec())).await?;
                } else if body.len() + data.len() > max_body {
                    return Err(format!("the response body exceeds {max_body} bytes"));
                } else {
                    body.extend_from_slice(data);
                }
                buffer.drain(..consumed);
            }
            BodyStatus::End { .. } => {
                buffer.drain(..consumed);
                break;
            }
            BodyStatus::NeedMore { .. } => {
                buffer.drain(..consumed);
                match connection.read(&mut chunk).await {
                    Ok(0) => {
                        decoder
                            .finish()
                            .map_err(|_| "the server closed the connection mid-body".to_owned())?;
                        break;
                    }
                    Ok(n) => buffer.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                    Err(e) => return Err(io_error(e)),
                }
            }
        }
    }
    match head {
        Some(head) => {
            let (parts, ()) = head.into_parts();
            let response = http::Response::from_parts(parts, body);
            send(reports, exchange, Report::Complete(response)).await?;
        }
        None => send(reports, exchange, Report::End).await?,
    }
    Ok(Some(reusable && buffer.is_empty()))
}

/// One request of the OAuth flow on a fresh connection (never the MCP server's pool):
/// redirects are not followed, the body is at most `max_bytes`, the whole at most `timeout`.
async fn fetch_once<R: Runtime, C: Connector>(
    shared: &Shared<C>,
    runtime: &R,
    request: http::Request<Vec<u8>>,
    max_bytes: usize,
    timeout: Duration,
) -> Result<http::Response<Vec<u8>>, String> {
    let deadline = Instant::now().checked_add(timeout);
    let expired = async {
        match deadline {
            Some(deadline) => runtime.sleep_until(deadline).await,
            None => std::future::pending().await,
        }
        Err(format!("no response within {timeout:?}"))
    };
    async {
        let (mut parts, body) = request.into_parts();
        let uri = parts.uri.clone();
        let host = uri
            .authority()
            .map(|authority| authority_of(authority).to_owned())
            .ok_or_else(|| format!("{uri} has no host"))?;
        if !parts.headers.contains_key(http::header::HOST) {
            let value = http::HeaderValue::try_from(host).map_err(|e| e.to_string())?;
            parts.headers.insert(http::header::HOST, value);
        }
        parts.headers.insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
        let method = parts.method.clone();
        let mut head = http::Request::from_parts(parts, ());
        *head.uri_mut() = uri
            .path_and_query()
            .map_or_else(|| Uri::from_static("/"), |pq| Uri::from(pq.clone()));
        let framing = if body.is_empty() && method == Method::GET {
            BodyFraming::Empty
        } else {
            BodyFraming::Length(u64::try_from(body.len()).unwrap_or(u64::MAX))
        };
        let mut bytes = Vec::with_capacity(body.len() + 512);
        h1::encode_request_head(&head, framing, &mut bytes).map_err(|e| e.to_string())?;
        bytes.extend_from_slice(&body);
        let mut connection = connect(shared, runtime, &uri).await?;
        // The MCP exchanges' reader, its reports collected here (an event stream too, within
        // the same bound).
        let (reports, answers) = crate::channel::bounded(4);
        let exchanging = async {
            let outcome = exchange_on(
                shared,
                &mut connection,
                &bytes,
                &method,
                ExchangeId(0),
                &reports,
                max_bytes,
            )
            .await;
            drop(reports);
            outcome
        };
        // Owns the receiver: when it gives up (too large), the reader's next report fails and
        // the reader stops too.
        let collecting = async move {
            let mut head = None;
            let mut body = Vec::new();
            while let Ok((_, report)) = answers.recv().await {
                match report {
                    Report::Complete(response) => return Ok(Some(response)),
                    Report::Head(streaming) => head = Some(streaming),
                    Report::Body(bytes) if body.len() + bytes.len() > max_bytes => {
                        return Err(format!("the response body exceeds {max_bytes} bytes"));
                    }
                    Report::Body(bytes) => body.extend_from_slice(&bytes),
                    Report::End => break,
                    Report::Failed(reason) => return Err(reason),
                }
            }
            Ok(head.map(|head| {
                let (parts, ()) = head.into_parts();
                http::Response::from_parts(parts, body)
            }))
        };
        match futures_lite::future::zip(exchanging, collecting).await {
            (_, Err(reason)) | (Err(reason), Ok(_)) => Err(reason),
            (Ok(Some(_)), Ok(Some(response))) => Ok(response),
            (Ok(_), Ok(_)) => Err("the server closed the connection without answering".into()),
        }
    }
    .or(expired)
    .await
}

async fn send(
    reports: &crate::channel::Sender<(ExchangeId, Report)>,
    exchange: ExchangeId,
    report: Report,
) -> Result<(), String> {
    // The connection task is gone: nobody waits for this exchange any more.
    reports
        .send((exchange, report))
        .await
        .map_err(|_| "the client closed".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_checked() {
        let options = HttpConnectOptions::new(Uri::from_static("http://x/mcp"));
        let options = options.with_header("Authorization", "Bearer t").unwrap();
        assert_eq!(options.headers["authorization"], "Bearer t");
        assert!(options.clone().with_header("bad name", "v").is_err());
        assert!(options.with_header("X", "line\nbreak").is_err());
    }

    #[test]
    fn debug_output_shows_no_secrets() {
        let options = HttpConnectOptions::new(Uri::from_static("https://u:url-secret@x:1/mcp?q"))
            .with_header("Authorization", "Bearer top-secret")
            .unwrap()
            .with_proxy(ProxyConfig::fixed("http://user:hunter2@proxy:1").unwrap());
        let shown = format!("{options:?}");
        assert!(
            shown.contains("authorization") && shown.contains("host: \"proxy\""),
            "{shown}"
        );
        assert!(shown.contains("https://<redacted>@x:1/mcp?q"), "{shown}");
        for secret in ["top-secret", "hunter2", "url-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert_eq!(
            authority(&Uri::from_static("https://u:url-secret@x:1/mcp")),
            "x:1"
        );
    }
}
