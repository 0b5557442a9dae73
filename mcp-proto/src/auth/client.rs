//! [`OAuthClient`]: the flow state machine (see its documentation).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::challenge::{BearerChallenge, Challenge, ChallengeLimits, parse_challenges_with_limits};
use super::discovery::{
    authorization_server_metadata_urls, legacy_default_endpoints, legacy_metadata_url,
    resource_metadata_urls,
};
use super::dpop::{self, DpopProof, DpopSigner, USE_DPOP_NONCE, nonce_from_headers};
use super::error::{AuthError, ConfigError, FetchPurpose, RegistrationError, UsageError};
use super::jwt::{AssertionSigner, ClientAssertion, DEFAULT_ASSERTION_LIFETIME_SECS, WallClock};
use super::metadata::{
    AuthorizationServerMetadata, DEFAULT_MAX_METADATA_BYTES, Endpoints, IssuerCheck, MetadataError,
    ProtectedResourceMetadata, check_authorization_server_metadata, check_resource_metadata,
    parse_json,
};
use super::pkce::{AuthState, PkceVerifier, STATE_ENTROPY_BYTES, VERIFIER_ENTROPY_BYTES};
use super::registration::{
    ApplicationType, ClientIdentity, ClientRegistration, ClientRegistrationRequest,
    ClientRegistrationResponse, GRANT_JWT_BEARER, RegistrationSource, TokenEndpointAuthMethod,
    check_client_id_url, registration_auth_method,
};
use super::request::{
    AuthorizationRequest, ClientAuth, ExpectedResponse, Grant, RequestError, TOKEN_TYPE_ID_JAG,
    TOKEN_TYPE_ID_TOKEN, TokenRequest, check_authorization_response, metadata_request,
    registration_request,
};
use super::scope::{ScopeSet, select_scopes, step_up_scopes};
use super::secret::Secret;
use super::token::{DEFAULT_MAX_TOKEN_BYTES, TokenResponseError, TokenSet, read_token_response};
use super::url::{HttpUrl, UrlError, UrlPolicy};

/// The default number of authorization attempts in a row (see
/// [`OAuthClientConfig::max_authorization_attempts`]).
pub const DEFAULT_MAX_AUTHORIZATION_ATTEMPTS: u32 = 3;
/// The default time the user has to complete authorization in the browser.
pub const DEFAULT_AUTHORIZATION_TIMEOUT: Duration = Duration::from_secs(600);
/// The default margin before expiry at which a token counts as expired.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(30);
/// The default number of authorization servers whose registrations and tokens are kept.
pub const DEFAULT_MAX_ISSUERS: usize = 16;
/// The most pre-registered clients a configuration may list.
pub const MAX_PRE_REGISTERED: usize = 32;
/// The most `authorization_servers` entries of a PRM that are considered.
pub const MAX_AUTHORIZATION_SERVERS: usize = 8;
/// The most actions queued before the oldest is dropped (a caller that drains after every
/// input never gets near it).
pub const MAX_QUEUED_ACTIONS: usize = 16;

const JTI_ENTROPY_BYTES: usize = 16;

/// Cryptographic randomness, supplied by the adapter (the OS generator in production, a
/// deterministic source in tests). Used for PKCE verifiers, `state` values and assertion ids.
pub trait EntropySource: Send {
    /// Fills `dest` with random bytes.
    fn fill(&mut self, dest: &mut [u8]);
}

/// How the client obtains its access token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum GrantConfig {
    /// The authorization code flow with PKCE, through the user's browser.
    #[default]
    AuthorizationCode,
    /// `client_credentials` with a pre-registered client (machine to machine, SEP-1046).
    ClientCredentials,
    /// An RFC 7523 JWT bearer grant with a given assertion (e.g. a workload identity token).
    JwtBearer {
        /// The assertion.
        assertion: Secret,
    },
    /// Enterprise-managed authorization (SEP-990, "cross-app access"): an RFC 8693 exchange
    /// of an ID token at the identity provider for an ID-JAG, then a JWT bearer grant with it
    /// at the MCP authorization server.
    EnterpriseManaged(IdentityAssertionGrant),
}

/// The identity provider side of [`GrantConfig::EnterpriseManaged`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityAssertionGrant {
    /// The identity provider's token endpoint.
    pub idp_token_endpoint: HttpUrl,
    /// The user's ID token from the identity provider.
    pub id_token: Secret,
    /// The client's registration at the identity provider (a secret, when it has one, is sent
    /// with `client_secret_basic`).
    pub idp_client: ClientRegistration,
}

/// Credentials registered beforehand, for one issuer or for whichever issuer the MCP server
/// names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreRegisteredClient {
    /// The issuer they belong to; `None` applies them to whatever authorization server the
    /// MCP server uses (give one when known: credentials must not travel between servers).
    pub issuer: Option<String>,
    /// The credentials.
    pub registration: ClientRegistration,
}

/// Bounds on what the flow reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthLimits {
    /// The largest metadata or registration document.
    pub max_document_bytes: usize,
    /// The largest token response.
    pub max_token_bytes: usize,
    /// `WWW-Authenticate` bounds.
    pub challenge: ChallengeLimits,
    /// Authorization servers whose registrations and tokens are kept (the least recently
    /// used one is forgotten beyond this).
    pub max_issuers: usize,
}

impl Default for AuthLimits {
    fn default() -> Self {
        Self {
            max_document_bytes: DEFAULT_MAX_METADATA_BYTES,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            challenge: ChallengeLimits::default(),
            max_issuers: DEFAULT_MAX_ISSUERS,
        }
    }
}

/// Settings of an [`OAuthClient`].
#[derive(Debug)]
pub struct OAuthClientConfig {
    /// The MCP server's URL (the protected resource).
    pub server_url: HttpUrl,
    /// The client's name, redirect URI and application type.
    pub identity: ClientIdentity,
    /// How the token is obtained.
    pub grant: GrantConfig,
    /// Credentials registered beforehand (at most [`MAX_PRE_REGISTERED`]).
    pub pre_registered: Vec<PreRegisteredClient>,
    /// The client's Client ID Metadata Document URL, used as `client_id` where supported.
    pub client_id_metadata_url: Option<String>,
    /// Signs `private_key_jwt` client assertions.
    pub assertion_signer: Option<Box<dyn AssertionSigner>>,
    /// Signs DPoP proofs (RFC 9449): with it, token requests to an authorization server that
    /// lists its algorithm in `dpop_signing_alg_values_supported` carry a proof, and a token
    /// issued as `DPoP` is presented with a fresh proof on every request. `None`: bearer
    /// tokens only.
    pub dpop_signer: Option<Box<dyn DpopSigner>>,
    /// Maps instants to Unix time for assertion and DPoP proof `iat`/`exp`.
    pub wall_clock: Option<WallClock>,
    /// Which URLs may be fetched and opened.
    pub url_policy: UrlPolicy,
    /// Authorization attempts in a row, counting the first: each 401 or 403 that starts a flow
    /// is one, and [`OAuthClient::handle_accepted`] resets the count. The default, 3, allows
    /// the first authorization and two step-ups (the conformance `auth/scope-retry-limit`
    /// accepts at most 3 authorization requests).
    pub max_authorization_attempts: u32,
    /// Ask for `offline_access` when the authorization server lists it.
    pub request_offline_access: bool,
    /// Fall back to 2025-03-26 discovery (metadata at the server's origin, then default
    /// endpoints) when the server publishes no Protected Resource Metadata.
    pub allow_2025_03_26_fallback: bool,
    /// How long the user has to complete authorization.
    pub authorization_timeout: Duration,
    /// A token closer than this to its expiry is refreshed before use.
    pub refresh_margin: Duration,
    /// Bounds.
    pub limits: AuthLimits,
}

impl OAuthClientConfig {
    /// A configuration for the authorization code flow, with defaults: application type
    /// from the redirect URI, https only, offline access when offered, 2025-03-26 fallback.
    ///
    /// # Errors
    /// [`UrlError`] for a server URL that is not absolute http(s) without fragment.
    pub fn new(server_url: &str, redirect_uri: &str, client_name: &str) -> Result<Self, UrlError> {
        Ok(Self {
            server_url: HttpUrl::parse(server_url)?,
            identity: ClientIdentity {
                client_name: client_name.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                application_type: ApplicationType::for_redirect_uri(redirect_uri),
                client_uri: None,
                logo_uri: None,
                software_id: None,
                software_version: None,
            },
            grant: GrantConfig::AuthorizationCode,
            pre_registered: Vec::new(),
            client_id_metadata_url: None,
            assertion_signer: None,
            dpop_signer: None,
            wall_clock: None,
            url_policy: UrlPolicy::default(),
            max_authorization_attempts: DEFAULT_MAX_AUTHORIZATION_ATTEMPTS,
            request_offline_access: true,
            allow_2025_03_26_fallback: true,
            authorization_timeout: DEFAULT_AUTHORIZATION_TIMEOUT,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            limits: AuthLimits::default(),
        })
    }
}

/// Identifies one fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FetchId(pub u64);

/// What the adapter must do next. `Debug` shows no credential: a fetch shows its method,
/// target and body length only.
#[must_use]
pub enum AuthAction {
    /// Perform this HTTP request (do not follow redirects) and report the outcome with
    /// [`OAuthClient::handle_fetch_response`] or [`OAuthClient::handle_fetch_failed`].
    Fetch {
        /// The fetch.
        id: FetchId,
        /// What it is for (logs, diagnostics).
        purpose: FetchPurpose,
        /// The request, with an absolute-form target.
        request: http::Request<Vec<u8>>,
    },
    /// Send the user to this URL (a platform API, never a shell), or, headless, `GET` it
    /// without following the redirect; then report the redirect target with
    /// [`OAuthClient::handle_redirect`].
    Authorize {
        /// The authorization URL.
        url: HttpUrl,
    },
    /// A token was obtained; requests may go out with `Authorization: Bearer`.
    Authorized {
        /// The authorization server that issued it.
        issuer: String,
        /// The access token.
        access_token: Secret,
        /// When it expires, if known.
        expires_at: Option<Instant>,
        /// The scopes granted.
        scopes: ScopeSet,
    },
    /// The flow failed; the flow is idle again.
    Failed(AuthError),
}

impl fmt::Debug for AuthAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fetch {
                id,
                purpose,
                request,
            } => f
                .debug_struct("Fetch")
                .field("id", id)
                .field("purpose", purpose)
                .field("method", request.method())
                .field("uri", request.uri())
                .field("body_len", &request.body().len())
                .finish(),
            Self::Authorize { url } => f
                .debug_struct("Authorize")
                .field("endpoint", &format_args!("{}{}", url.origin(), url.path()))
                .finish_non_exhaustive(),
            Self::Authorized {
                issuer,
                access_token,
                expires_at,
                scopes,
            } => f
                .debug_struct("Authorized")
                .field("issuer", issuer)
                .field("access_token", access_token)
                .field("expires_at", expires_at)
                .field("scopes", scopes)
                .finish(),
            Self::Failed(error) => f.debug_tuple("Failed").field(error).finish(),
        }
    }
}

/// The answer of [`OAuthClient::bearer_for`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bearer {
    /// Send this token.
    Ready(Secret),
    /// A flow (or refresh) is under way: drain [`OAuthClient::poll_action`] and wait for
    /// `Authorized` or `Failed`.
    Pending,
    /// No token: send the request without one; a 401 then starts the flow.
    None,
}

/// The answer of [`OAuthClient::authorize_request`].
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Send the request with these header values.
    Ready(AuthorizationHeaders),
    /// A flow (or refresh) is under way: hold the request, drain
    /// [`OAuthClient::poll_action`] and wait for `Authorized` or `Failed`.
    Pending,
    /// No token: send the request without credentials; a 401 then starts the flow.
    None,
    /// The token cannot be presented (the DPoP proof could not be made): fail the request.
    Failed(AuthError),
}

/// The credentials of one request to the MCP server. `Debug` hides them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeaders {
    /// The `Authorization` value: `Bearer <token>`, or `DPoP <token>` for a DPoP-bound one.
    pub authorization: Secret,
    /// The `DPoP` header value (a proof for this request only), for a DPoP-bound token.
    pub dpop: Option<Secret>,
}

impl AuthorizationHeaders {
    /// Sets `Authorization` and `DPoP` in `headers`, marked sensitive; without a proof, a
    /// `DPoP` field left from an earlier attempt is removed.
    ///
    /// # Errors
    /// [`RequestError::Header`] for a token with characters a header cannot carry.
    pub fn apply(&self, headers: &mut http::HeaderMap) -> Result<(), RequestError> {
        let sensitive = |value: &Secret| {
            http::HeaderValue::try_from(value.expose())
                .map(|mut value| {
                    value.set_sensitive(true);
                    value
                })
                .map_err(|_| RequestError::Header)
        };
        let authorization = sensitive(&self.authorization)?;
        let proof = self.dpop.as_ref().map(sensitive).transpose()?;
        headers.insert(http::header::AUTHORIZATION, authorization);
        match proof {
            Some(proof) => {
                headers.insert(dpop::DPOP, proof);
            }
            None => {
                headers.remove(dpop::DPOP);
            }
        }
        Ok(())
    }

    /// How a request carrying these credentials was sent (for
    /// [`OAuthClient::handle_resource_response`]).
    pub const fn sent(&self) -> Sent {
        Sent {
            authorized: true,
            proof: self.dpop.is_some(),
            nonce_retry: false,
        }
    }
}

/// How a request to the MCP server went out, as [`OAuthClient::handle_resource_response`]
/// needs to know it. The default: without credentials, first attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sent {
    /// With credentials from [`Credentials::Ready`].
    pub authorized: bool,
    /// With a DPoP proof.
    pub proof: bool,
    /// As the one retry answering a `use_dpop_nonce` challenge.
    pub nonce_retry: bool,
}

/// What to do with a response of the MCP server (the answer of
/// [`OAuthClient::handle_resource_response`]).
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceVerdict {
    /// It is the request's answer: hand it on.
    Deliver,
    /// A `use_dpop_nonce` challenge (RFC 9449 §9) whose nonce is now held: send the request
    /// again at once with fresh credentials from [`OAuthClient::authorize_request`], marked
    /// [`Sent::nonce_retry`].
    Retry,
    /// A 401 or 403 the flow took: hold the request, drain [`OAuthClient::poll_action`], send
    /// it again on `Authorized` and fail it on `Failed`.
    Hold,
    /// Fail the request with this error (a server that keeps asking for DPoP nonces).
    Fail(AuthError),
}

/// What the client knows about the authorization server it uses for this MCP server.
#[derive(Debug, Clone)]
struct Authority {
    issuer: String,
    endpoints: Endpoints,
    /// `None` for the 2025-03-26 default endpoints.
    metadata: Option<AuthorizationServerMetadata>,
    /// The `resource` parameter: the PRM's `resource` exactly as published, or the server's
    /// canonical URI when there is no PRM.
    resource: String,
    resource_scopes: Option<Vec<String>>,
}

impl Authority {
    fn as_scopes(&self) -> Option<&[String]> {
        self.metadata
            .as_ref()
            .and_then(|metadata| metadata.scopes_supported.as_deref())
    }

    fn iss_required(&self) -> bool {
        self.metadata
            .as_ref()
            .and_then(|metadata| metadata.authorization_response_iss_parameter_supported)
            .unwrap_or(false)
    }

    /// Whether token requests here carry a DPoP proof signed with `alg`.
    fn accepts_dpop(&self, alg: &str) -> bool {
        self.metadata
            .as_ref()
            .is_some_and(|metadata| metadata.supports_dpop_alg(alg))
    }

    fn auth_methods(&self) -> Vec<String> {
        self.metadata.as_ref().map_or_else(
            || vec!["client_secret_basic".to_owned()],
            AuthorizationServerMetadata::token_auth_methods,
        )
    }
}

/// Which scopes the flow under way should ask for once the authorization server is known.
#[derive(Debug, Clone)]
enum ScopeHint {
    /// A first authorization: the challenge's scopes, if any.
    Initial(Option<ScopeSet>),
    /// A step-up from `previous`.
    StepUp {
        previous: ScopeSet,
        challenge: Option<ScopeSet>,
    },
}

/// What a discovery run carries along.
#[derive(Debug, Clone)]
struct Discovery {
    hint: ScopeHint,
    /// Whether a held refresh token may be used (a 401, not a step-up).
    allow_refresh: bool,
    tried: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Code,
    Refresh,
    ClientCredentials,
    JwtBearer,
}

#[derive(Debug)]
enum Phase {
    Idle,
    ResourceMetadata {
        fetch: FetchId,
        url: HttpUrl,
        rest: VecDeque<HttpUrl>,
        discovery: Discovery,
    },
    ServerMetadata {
        fetch: FetchId,
        rest: VecDeque<HttpUrl>,
        /// `None`: the 2025-03-26 fallback at the server's origin.
        issuer: Option<String>,
        resource: String,
        resource_scopes: Option<Vec<String>>,
        discovery: Discovery,
    },
    Registering {
        fetch: FetchId,
        authority: Authority,
        scopes: ScopeSet,
        requested: TokenEndpointAuthMethod,
    },
    AwaitingRedirect {
        authority: Authority,
        scopes: ScopeSet,
        verifier: PkceVerifier,
        state: AuthState,
        deadline: Instant,
    },
    Exchanging {
        fetch: FetchId,
        authority: Authority,
        scopes: ScopeSet,
    },
    Token {
        fetch: FetchId,
        attempt: TokenAttempt,
    },
}

/// A token request under way, with what sending it again needs.
#[derive(Debug)]
struct TokenAttempt {
    authority: Authority,
    scopes: ScopeSet,
    kind: TokenKind,
    /// The grant, to send again after a `use_dpop_nonce` answer.
    grant: Grant,
    /// The thumbprint of the key whose proof the request carried.
    proof: Option<String>,
    /// Whether this is the retry with the server's nonce.
    nonce_retry: bool,
}

impl Phase {
    const fn fetch(&self) -> Option<FetchId> {
        match self {
            Self::ResourceMetadata { fetch, .. }
            | Self::ServerMetadata { fetch, .. }
            | Self::Registering { fetch, .. }
            | Self::Exchanging { fetch, .. }
            | Self::Token { fetch, .. } => Some(*fetch),
            Self::Idle | Self::AwaitingRedirect { .. } => None,
        }
    }
}

/// A fetch's outcome as the flow sees it.
#[derive(Debug)]
enum FetchOutcome<'a> {
    Response {
        status: u16,
        body: &'a [u8],
        /// The `DPoP-Nonce` the server supplied.
        nonce: Option<String>,
    },
    Failed(String),
}

/// The inputs of the transition table.
#[derive(Debug)]
enum Input<'a> {
    Challenge {
        status: u16,
        bearer: Option<BearerChallenge>,
    },
    Fetched {
        id: FetchId,
        outcome: FetchOutcome<'a>,
    },
    Redirect(&'a str),
    Timeout,
    Refresh,
    Abandon,
}

#[derive(Debug, Default)]
struct IssuerEntry {
    registration: Option<ClientRegistration>,
    tokens: Option<TokenSet>,
    /// The last DPoP nonce its token endpoint supplied (RFC 9449 §8).
    dpop_nonce: Option<String>,
    /// When it was last used (a counter), for forgetting the least recently used issuer.
    used: u64,
}

/// The client side of MCP authorization as one Sans-IO state machine.
///
/// ```text
///              handle_unauthorized(401 | 403 insufficient_scope)
///   Idle ───────────────────────────────────────────────┐
///    ▲  │ 403 step-up (authorization server known)      ▼
///    │  │                                   ResourceMetadata ──(no PRM: 2025-03-26)──┐
///    │  │                                        │ PRM for this server               ▼
///    │  │                                        ▼                          ServerMetadata
///    │  │                                   ServerMetadata ──(none, 2025-03-26: defaults)─┐
///    │  │                                        │ metadata with the right issuer          │
///    │  ▼                                        ▼                                         ▼
///    │  begin_grant ◀────────────────────────────┴─────────────────────────────────────────┘
///    │    ├─ refresh token held (401) ──────────────▶ Token(refresh) ──fails──▶ begin_grant again
///    │    ├─ authorization code: registered? ──no, DCR──▶ Registering ──▶ AwaitingRedirect
///    │    │                       yes (pre-registered, stored, CIMD) ──▶ AwaitingRedirect
///    │    │         AwaitingRedirect ──handle_redirect: state, iss, code──▶ Token(code)
///    │    ├─ client credentials / JWT bearer ───────▶ Token(grant)
///    │    └─ enterprise (ID-JAG) ──▶ Exchanging (identity provider) ──▶ Token(jwt-bearer)
///    │                                              Token ──ok──▶ Authorized, Idle
///    │                  Token ──400 use_dpop_nonce (first time)──▶ Token (same grant, nonce)
///    └──────────────────── any failure: Failed(AuthError), Idle ◀────┘
/// ```
///
/// Every transition is one arm of the `match` in `OAuthClient::transition`. Only one fetch is
/// in flight at a time; the action queue is bounded; the number of authorization attempts in a
/// row is bounded ([`OAuthClientConfig::max_authorization_attempts`]), and so are DPoP nonce
/// retries (one per token request, one per MCP request); every input is accepted
/// in every state without panicking (a stale fetch id or an unexpected redirect changes
/// nothing).
///
/// Time arrives as the `now` of each input; randomness from the [`EntropySource`]; the
/// adapter performs every request. Decisions this type makes beyond the spec's letter:
/// a 2xx metadata answer that is not JSON counts as absent (a catch-all HTML page), while a
/// document that parses but fails a check (another resource, another issuer) ends the flow;
/// without Protected Resource Metadata the 2025-03-26 discovery runs (metadata at the MCP
/// origin, any issuer on that origin accepted; then the default endpoints when that
/// document is absent, but not when it cannot be fetched).
pub struct OAuthClient {
    config: OAuthClientConfig,
    entropy: Box<dyn EntropySource>,
    phase: Phase,
    /// Per issuer; at most `limits.max_issuers`.
    issuers: HashMap<String, IssuerEntry>,
    uses: u64,
    /// The authorization server and scopes of the last successful flow.
    current: Option<(Authority, ScopeSet)>,
    attempts: u32,
    actions: VecDeque<AuthAction>,
    next_fetch: u64,
    last_now: Option<Instant>,
    /// The last DPoP nonce the MCP server supplied (RFC 9449 §9).
    resource_nonce: Option<String>,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("server_url", &self.config.server_url)
            .field("phase", &self.phase)
            .field("issuers", &self.issuers.keys().collect::<Vec<_>>())
            .field("attempts", &self.attempts)
            .field("queued", &self.actions.len())
            .finish_non_exhaustive()
    }
}

impl OAuthClient {
    /// A client for the MCP server of `config`, drawing randomness from `entropy`.
    pub fn new(mut config: OAuthClientConfig, entropy: Box<dyn EntropySource>) -> Self {
        config.pre_registered.truncate(MAX_PRE_REGISTERED);
        config.limits.max_issuers = config.limits.max_issuers.max(1);
        Self {
            config,
            entropy,
            phase: Phase::Idle,
            issuers: HashMap::new(),
            uses: 0,
            current: None,
            attempts: 0,
            actions: VecDeque::new(),
            next_fetch: 0,
            last_now: None,
            resource_nonce: None,
        }
    }

    /// The configuration.
    pub const fn config(&self) -> &OAuthClientConfig {
        &self.config
    }

    /// Whether a flow is under way.
    pub const fn is_busy(&self) -> bool {
        !matches!(self.phase, Phase::Idle)
    }

    /// The issuer of the authorization server the last successful flow used.
    pub fn current_issuer(&self) -> Option<&str> {
        self.current
            .as_ref()
            .map(|(authority, _)| authority.issuer.as_str())
    }

    /// The registration held for `issuer` (for persisting it).
    pub fn registration(&self, issuer: &str) -> Option<&ClientRegistration> {
        self.entry(issuer)
            .and_then(|entry| entry.registration.as_ref())
    }

    /// Restores a registration for `issuer` (e.g. one persisted by an earlier run).
    pub fn insert_registration(&mut self, issuer: &str, registration: ClientRegistration) {
        self.entry_mut(issuer).registration = Some(registration);
    }

    /// Restores tokens for `issuer` (e.g. kept by a token store): a held refresh token is used
    /// on the next 401 from a server this issuer protects, before any new authorization.
    pub fn insert_tokens(&mut self, issuer: &str, tokens: TokenSet) {
        self.entry_mut(issuer).tokens = Some(tokens);
    }

    /// The tokens held for `issuer`.
    pub fn tokens(&self, issuer: &str) -> Option<&TokenSet> {
        self.entry(issuer).and_then(|entry| entry.tokens.as_ref())
    }

    /// Forgets everything held for `issuer` (registration and tokens).
    pub fn forget_issuer(&mut self, issuer: &str) {
        self.issuers.remove(issuer);
        if self.current_issuer() == Some(issuer) {
            self.current = None;
        }
    }

    /// Input: the MCP server answered 401 or 403 (`www_authenticate`: its `WWW-Authenticate`
    /// field lines). A 401 starts discovery (or a refresh); a 403 with `insufficient_scope`
    /// starts a step-up with the union of scopes; another 403 fails with
    /// [`AuthError::Forbidden`]. While a flow is under way, this joins it (several requests
    /// refused at once need one flow). Drain [`poll_action`](Self::poll_action) afterwards.
    ///
    /// # Errors
    /// [`UsageError::NotAnAuthorizationStatus`] for another status.
    pub fn handle_unauthorized<I>(
        &mut self,
        now: Instant,
        status: u16,
        www_authenticate: I,
    ) -> Result<(), UsageError>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        if status != 401 && status != 403 {
            return Err(UsageError::NotAnAuthorizationStatus(status));
        }
        // A malformed header is as good as none: discovery still works from well-known URLs.
        let challenges =
            parse_challenges_with_limits(www_authenticate, &self.config.limits.challenge)
                .unwrap_or_default();
        self.refused(now, status, &challenges);
        Ok(())
    }

    fn refused(&mut self, now: Instant, status: u16, challenges: &[Challenge]) {
        let bearer = BearerChallenge::find_oauth(challenges);
        self.transition(now, Input::Challenge { status, bearer });
    }

    /// Input: a response of the MCP server to a request sent as `sent` (any status; for a
    /// streamed answer, its head). Records a DPoP nonce the server supplies, counts an
    /// accepted request (see [`handle_accepted`](Self::handle_accepted)), answers a
    /// `use_dpop_nonce` challenge with one [`ResourceVerdict::Retry`] per request, and hands
    /// any other 401 or 403 to the flow as [`handle_unauthorized`](Self::handle_unauthorized)
    /// does. Drain [`poll_action`](Self::poll_action) afterwards.
    pub fn handle_resource_response(
        &mut self,
        now: Instant,
        status: u16,
        headers: &http::HeaderMap,
        sent: Sent,
    ) -> ResourceVerdict {
        let supplied = nonce_from_headers(headers).filter(|_| self.config.dpop_signer.is_some());
        let fresh = supplied.is_some();
        if let Some(nonce) = supplied {
            self.resource_nonce = Some(nonce);
        }
        if (200..300).contains(&status) {
            if sent.authorized {
                self.handle_accepted();
            }
            return ResourceVerdict::Deliver;
        }
        if status != 401 && status != 403 {
            return ResourceVerdict::Deliver;
        }
        let lines = headers.get_all(http::header::WWW_AUTHENTICATE);
        let challenges = parse_challenges_with_limits(
            lines.iter().map(http::HeaderValue::as_bytes),
            &self.config.limits.challenge,
        )
        .unwrap_or_default();
        if status == 401 && sent.proof && dpop::is_nonce_challenge(&challenges) {
            // One retry per request, and only with a nonce this answer supplied: a server
            // that keeps asking ends the request instead of looping.
            return if fresh && !sent.nonce_retry {
                ResourceVerdict::Retry
            } else {
                ResourceVerdict::Fail(AuthError::ResourceDpopNonce)
            };
        }
        self.refused(now, status, &challenges);
        ResourceVerdict::Hold
    }

    /// Input: the response to fetch `id` (any status; redirects are not followed). A stale
    /// id is ignored.
    pub fn handle_fetch_response(
        &mut self,
        now: Instant,
        id: FetchId,
        response: &http::Response<Vec<u8>>,
    ) {
        self.transition(
            now,
            Input::Fetched {
                id,
                outcome: FetchOutcome::Response {
                    status: response.status().as_u16(),
                    body: response.body(),
                    nonce: nonce_from_headers(response.headers()),
                },
            },
        );
    }

    /// Input: fetch `id` could not be completed (connection refused, timeout, TLS failure).
    pub fn handle_fetch_failed(&mut self, now: Instant, id: FetchId, reason: impl Into<String>) {
        self.transition(
            now,
            Input::Fetched {
                id,
                outcome: FetchOutcome::Failed(reason.into()),
            },
        );
    }

    /// Input: the user came back to the redirect URI (`callback`: the full URI, with its
    /// query). The response is checked (redirect URI, `state`, `iss`) before its code is
    /// redeemed; a failed check fails the flow.
    ///
    /// # Errors
    /// [`UsageError::NoAuthorizationPending`] when no authorization is waiting.
    pub fn handle_redirect(&mut self, now: Instant, callback: &str) -> Result<(), UsageError> {
        if !matches!(self.phase, Phase::AwaitingRedirect { .. }) {
            return Err(UsageError::NoAuthorizationPending);
        }
        self.transition(now, Input::Redirect(callback));
        Ok(())
    }

    /// Input: time passed (call at [`poll_timeout`](Self::poll_timeout)). Extra calls are
    /// harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.transition(now, Input::Timeout);
    }

    /// Input: a request carrying this client's token was accepted (2xx): the count of
    /// authorization attempts in a row starts again.
    pub fn handle_accepted(&mut self) {
        self.attempts = 0;
    }

    /// Input: the caller gives up on the flow under way (e.g. the user closed the browser).
    /// Queues [`AuthError::Abandoned`] if a flow was under way.
    pub fn abandon(&mut self, now: Instant) {
        self.transition(now, Input::Abandon);
    }

    /// The token to send at `now`. An expired token is refreshed when a refresh token is
    /// held (or re-obtained, for grants without a user), which answers [`Bearer::Pending`].
    /// This is the bare access token: a DPoP-bound one (see [`TokenSet::dpop_jkt`]) is only
    /// usable with a proof, so adapters send requests with
    /// [`authorize_request`](Self::authorize_request)'s credentials instead.
    pub fn bearer_for(&mut self, now: Instant) -> Bearer {
        let now = self.observe(now);
        let Some(issuer) = self.current_issuer().map(str::to_owned) else {
            return if self.is_busy() {
                Bearer::Pending
            } else {
                Bearer::None
            };
        };
        let margin = self.config.refresh_margin;
        if let Some(tokens) = self.tokens(&issuer) {
            if tokens.is_fresh(now, margin) {
                return Bearer::Ready(tokens.access_token.clone());
            }
        }
        if self.is_busy() {
            return Bearer::Pending;
        }
        self.transition(now, Input::Refresh);
        if self.is_busy() {
            Bearer::Pending
        } else {
            Bearer::None
        }
    }

    /// The credentials for a request `method target` to the MCP server at `now` (`target`:
    /// the absolute URI). A bearer token gives `Authorization: Bearer`; a DPoP-bound one gives
    /// `Authorization: DPoP` and a proof for this very request (fresh `jti`, `htm`, `htu`,
    /// `iat`, the server's last nonce, `ath`). Otherwise as [`bearer_for`](Self::bearer_for):
    /// an expired token is refreshed first ([`Credentials::Pending`]). A DPoP-bound token
    /// whose key this client does not hold (a restored token) is forgotten:
    /// [`Credentials::None`].
    pub fn authorize_request(
        &mut self,
        now: Instant,
        method: &http::Method,
        target: &http::Uri,
    ) -> Credentials {
        let now = self.observe(now);
        let token = match self.bearer_for(now) {
            Bearer::Ready(token) => token,
            Bearer::Pending => return Credentials::Pending,
            Bearer::None => return Credentials::None,
        };
        let issuer = self.current_issuer().map(str::to_owned).unwrap_or_default();
        let bound = self
            .tokens(&issuer)
            .and_then(|tokens| tokens.dpop_jkt.clone());
        let Some(jkt) = bound else {
            return Credentials::Ready(AuthorizationHeaders {
                authorization: Secret::new(format!("Bearer {}", token.expose())),
                dpop: None,
            });
        };
        let holds_key = self
            .config
            .dpop_signer
            .as_deref()
            .is_some_and(|signer| signer.public_jwk().thumbprint() == jkt);
        if !holds_key {
            if let Some(entry) = self.entry_mut_existing(&issuer) {
                entry.tokens = None;
            }
            return Credentials::None;
        }
        let target = target.to_string();
        match self.proof(
            now,
            method.as_str(),
            &target,
            self.resource_nonce.clone(),
            Some(&token),
        ) {
            Ok(Some(proof)) => Credentials::Ready(AuthorizationHeaders {
                authorization: Secret::new(format!("{} {}", dpop::DPOP, token.expose())),
                dpop: Some(proof),
            }),
            Ok(None) => Credentials::None,
            Err(error) => Credentials::Failed(error),
        }
    }

    /// A DPoP proof for `method target` with this client's key (`None` without one).
    fn proof(
        &mut self,
        now: Instant,
        method: &str,
        target: &str,
        nonce: Option<String>,
        access_token: Option<&Secret>,
    ) -> Result<Option<Secret>, AuthError> {
        if self.config.dpop_signer.is_none() {
            return Ok(None);
        }
        let clock = self
            .config
            .wall_clock
            .ok_or(AuthError::Config(ConfigError::MissingWallClock))?;
        let mut entropy = [0_u8; dpop::JTI_ENTROPY_BYTES];
        self.entropy.fill(&mut entropy);
        let jti = dpop::jti(&entropy);
        let Some(signer) = self.config.dpop_signer.as_deref() else {
            return Ok(None);
        };
        DpopProof {
            method,
            target,
            issued_at: clock.unix_at(now),
            jti: &jti,
            nonce: nonce.as_deref(),
            access_token,
        }
        .sign(signer)
        .map(Some)
        .map_err(AuthError::Signer)
    }

    /// Output: the next action, until `None`. Drain after every input.
    pub fn poll_action(&mut self) -> Option<AuthAction> {
        self.actions.pop_front()
    }

    /// Output: when [`handle_timeout`](Self::handle_timeout) must be called (the deadline of
    /// the user's authorization), if ever.
    pub const fn poll_timeout(&self) -> Option<Instant> {
        match &self.phase {
            Phase::AwaitingRedirect { deadline, .. } => Some(*deadline),
            _ => None,
        }
    }

    // ---- the transition table ------------------------------------------------------------

    fn transition(&mut self, now: Instant, input: Input<'_>) {
        let now = self.observe(now);
        let phase = std::mem::replace(&mut self.phase, Phase::Idle);
        self.phase = match (phase, input) {
            // A new challenge while idle starts a flow; while busy it joins the flow.
            (Phase::Idle, Input::Challenge { status, bearer }) => {
                self.on_challenge(now, status, bearer)
            }
            (busy, Input::Challenge { .. }) => busy,

            // Fetch results, matched to the fetch in flight; anything else is stale.
            (phase, Input::Fetched { id, .. }) if phase.fetch() != Some(id) => phase,
            (
                Phase::ResourceMetadata {
                    url,
                    rest,
                    discovery,
                    ..
                },
                Input::Fetched { outcome, .. },
            ) => self.on_resource_metadata(&url, rest, discovery, &outcome),
            (
                Phase::ServerMetadata {
                    rest,
                    issuer,
                    resource,
                    resource_scopes,
                    discovery,
                    ..
                },
                Input::Fetched { outcome, .. },
            ) => self.on_server_metadata(
                now,
                rest,
                issuer,
                resource,
                resource_scopes,
                discovery,
                &outcome,
            ),
            (
                Phase::Registering {
                    authority,
                    scopes,
                    requested,
                    ..
                },
                Input::Fetched { outcome, .. },
            ) => self.on_registration(now, authority, scopes, &requested, &outcome),
            (
                Phase::Exchanging {
                    authority, scopes, ..
                },
                Input::Fetched { outcome, .. },
            ) => self.on_exchange(now, authority, scopes, &outcome),
            (Phase::Token { attempt, .. }, Input::Fetched { outcome, .. }) => {
                self.on_token(now, attempt, &outcome)
            }
            (phase @ (Phase::Idle | Phase::AwaitingRedirect { .. }), Input::Fetched { .. }) => {
                phase
            }

            // The user's return (too late counts as no return).
            (Phase::AwaitingRedirect { deadline, .. }, Input::Redirect(_)) if now >= deadline => {
                self.fail(AuthError::TimedOut(self.config.authorization_timeout))
            }
            (
                Phase::AwaitingRedirect {
                    authority,
                    scopes,
                    verifier,
                    state,
                    ..
                },
                Input::Redirect(callback),
            ) => self.on_redirect(now, authority, scopes, verifier, &state, callback),
            (phase, Input::Redirect(_)) => phase,

            (Phase::AwaitingRedirect { deadline, .. }, Input::Timeout) if now >= deadline => {
                self.fail(AuthError::TimedOut(self.config.authorization_timeout))
            }
            (phase, Input::Timeout) => phase,

            // An expired token while idle.
            (Phase::Idle, Input::Refresh) => self.on_expired(now),
            (phase, Input::Refresh) => phase,

            (Phase::Idle, Input::Abandon) => Phase::Idle,
            (_, Input::Abandon) => self.fail(AuthError::Abandoned),
        };
    }

    /// Time never goes backwards inside the flow.
    fn observe(&mut self, now: Instant) -> Instant {
        let now = self.last_now.map_or(now, |last| last.max(now));
        self.last_now = Some(now);
        now
    }

    // ---- transitions ---------------------------------------------------------------------

    fn on_challenge(
        &mut self,
        now: Instant,
        status: u16,
        bearer: Option<BearerChallenge>,
    ) -> Phase {
        if status == 403
            && !bearer
                .as_ref()
                .is_some_and(BearerChallenge::is_insufficient_scope)
        {
            return self.fail(AuthError::Forbidden {
                challenge: bearer.map(Box::new),
            });
        }
        if self.attempts >= self.config.max_authorization_attempts {
            return self.fail(AuthError::AttemptsExhausted {
                attempts: self.config.max_authorization_attempts,
            });
        }
        self.attempts += 1;
        let challenge_scopes = bearer.as_ref().and_then(|bearer| bearer.scope.clone());
        if status == 403 {
            if let Some((authority, previous)) = self.current.clone() {
                let hint = ScopeHint::StepUp {
                    previous,
                    challenge: challenge_scopes,
                };
                let scopes = self.scopes_for(&hint, &authority);
                return self.begin_grant(now, authority, scopes, false);
            }
        }
        if let Err(error) = self
            .config
            .server_url
            .check(&self.config.url_policy, &self.config.server_url)
        {
            return self.fail(AuthError::Config(ConfigError::ServerUrl(error)));
        }
        let header = bearer
            .as_ref()
            .and_then(|bearer| bearer.resource_metadata.as_deref());
        let candidates: VecDeque<HttpUrl> = resource_metadata_urls(&self.config.server_url, header)
            .into_iter()
            .filter(|url| {
                url.check(&self.config.url_policy, &self.config.server_url)
                    .is_ok()
            })
            .collect();
        let discovery = Discovery {
            hint: ScopeHint::Initial(challenge_scopes),
            allow_refresh: status == 401,
            tried: 0,
        };
        self.next_resource_candidate(candidates, discovery)
    }

    fn next_resource_candidate(
        &mut self,
        mut candidates: VecDeque<HttpUrl>,
        mut discovery: Discovery,
    ) -> Phase {
        let Some(url) = candidates.pop_front() else {
            if !self.config.allow_2025_03_26_fallback {
                return self.fail(AuthError::NoResourceMetadata {
                    tried: discovery.tried,
                });
            }
            // 2025-03-26: RFC 8414 metadata at the MCP server's origin, issuer unknown.
            discovery.tried = 0;
            let resource = self.config.server_url.canonical_resource();
            let url = legacy_metadata_url(&self.config.server_url);
            return self.fetch_server_metadata(
                url,
                VecDeque::new(),
                None,
                resource,
                None,
                discovery,
            );
        };
        discovery.tried += 1;
        match metadata_request(&url) {
            Ok(request) => {
                let fetch = self.push_fetch(FetchPurpose::ResourceMetadata, request);
                Phase::ResourceMetadata {
                    fetch,
                    url,
                    rest: candidates,
                    discovery,
                }
            }
            Err(error) => self.fail(AuthError::Request(error)),
        }
    }

    fn on_resource_metadata(
        &mut self,
        url: &HttpUrl,
        rest: VecDeque<HttpUrl>,
        discovery: Discovery,
        outcome: &FetchOutcome<'_>,
    ) -> Phase {
        let FetchOutcome::Response {
            status: 200..=299,
            body,
            ..
        } = outcome
        else {
            return self.next_resource_candidate(rest, discovery);
        };
        // A 2xx that is not a metadata document (an HTML catch-all page) counts as absent.
        let Ok(metadata) =
            parse_json::<ProtectedResourceMetadata>(body, self.config.limits.max_document_bytes)
        else {
            return self.next_resource_candidate(rest, discovery);
        };
        if let Err(source) = check_resource_metadata(&metadata, &self.config.server_url) {
            return self.fail(AuthError::ResourceMetadata {
                url: url.to_string(),
                source,
            });
        }
        let issuer = self.choose_issuer(&metadata.authorization_servers);
        let urls = match authorization_server_metadata_urls(&issuer) {
            Ok(urls) => urls,
            Err(error) => return self.fail(AuthError::Issuer(error)),
        };
        let mut candidates = VecDeque::new();
        for candidate in urls {
            if let Err(error) = candidate.check(&self.config.url_policy, &self.config.server_url) {
                return self.fail(AuthError::UnsafeUrl(error));
            }
            candidates.push_back(candidate);
        }
        let Some(first) = candidates.pop_front() else {
            return self.fail(AuthError::NoServerMetadata { issuer, tried: 0 });
        };
        self.fetch_server_metadata(
            first,
            candidates,
            Some(issuer),
            metadata.resource,
            metadata.scopes_supported,
            Discovery {
                tried: 0,
                ..discovery
            },
        )
    }

    /// The authorization server to use among those the PRM lists: the first one the client
    /// already holds credentials or tokens for, else the first listed.
    fn choose_issuer(&self, listed: &[String]) -> String {
        let considered = listed
            .get(..listed.len().min(MAX_AUTHORIZATION_SERVERS))
            .unwrap_or_default();
        considered
            .iter()
            .find(|issuer| {
                self.entry(issuer)
                    .is_some_and(|entry| entry.registration.is_some() || entry.tokens.is_some())
            })
            .or_else(|| considered.first())
            .cloned()
            .unwrap_or_default()
    }

    fn fetch_server_metadata(
        &mut self,
        url: HttpUrl,
        rest: VecDeque<HttpUrl>,
        issuer: Option<String>,
        resource: String,
        resource_scopes: Option<Vec<String>>,
        mut discovery: Discovery,
    ) -> Phase {
        discovery.tried += 1;
        match metadata_request(&url) {
            Ok(request) => {
                let fetch = self.push_fetch(FetchPurpose::ServerMetadata, request);
                Phase::ServerMetadata {
                    fetch,
                    rest,
                    issuer,
                    resource,
                    resource_scopes,
                    discovery,
                }
            }
            Err(error) => self.fail(AuthError::Request(error)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_server_metadata(
        &mut self,
        now: Instant,
        mut rest: VecDeque<HttpUrl>,
        issuer: Option<String>,
        resource: String,
        resource_scopes: Option<Vec<String>>,
        discovery: Discovery,
        outcome: &FetchOutcome<'_>,
    ) -> Phase {
        let document = match outcome {
            FetchOutcome::Response {
                status: 200..=299,
                body,
                ..
            } => parse_json::<AuthorizationServerMetadata>(
                body,
                self.config.limits.max_document_bytes,
            )
            .ok(),
            FetchOutcome::Response { .. } => None,
            FetchOutcome::Failed(reason) if issuer.is_none() => {
                return self.fail(AuthError::Fetch {
                    purpose: FetchPurpose::ServerMetadata,
                    reason: reason.clone(),
                });
            }
            FetchOutcome::Failed(_) => None,
        };
        let Some(metadata) = document else {
            if let Some(next) = rest.pop_front() {
                return self.fetch_server_metadata(
                    next,
                    rest,
                    issuer,
                    resource,
                    resource_scopes,
                    discovery,
                );
            }
            return match issuer {
                Some(issuer) => self.fail(AuthError::NoServerMetadata {
                    issuer,
                    tried: discovery.tried,
                }),
                None => {
                    // 2025-03-26 without metadata: the default endpoints at the origin.
                    let server = &self.config.server_url;
                    let authority = Authority {
                        issuer: server.origin(),
                        endpoints: legacy_default_endpoints(server),
                        metadata: None,
                        resource,
                        resource_scopes,
                    };
                    let scopes = self.scopes_for(&discovery.hint, &authority);
                    self.begin_grant(now, authority, scopes, discovery.allow_refresh)
                }
            };
        };
        let server = self.config.server_url.clone();
        let check = match &issuer {
            Some(issuer) => IssuerCheck::Exact(issuer),
            None => IssuerCheck::SameOrigin(&server),
        };
        let endpoints = match check_authorization_server_metadata(&metadata, &check) {
            Ok(endpoints) => endpoints,
            Err(source) => {
                return self.fail(AuthError::ServerMetadata {
                    issuer: issuer.unwrap_or_else(|| server.origin()),
                    source,
                });
            }
        };
        let unsafe_endpoint = [
            endpoints.authorization.as_ref(),
            Some(&endpoints.token),
            endpoints.registration.as_ref(),
        ]
        .into_iter()
        .flatten()
        .find_map(|url| url.check(&self.config.url_policy, &server).err());
        if let Some(error) = unsafe_endpoint {
            return self.fail(AuthError::UnsafeUrl(error));
        }
        let authority = Authority {
            issuer: metadata.issuer.clone(),
            endpoints,
            metadata: Some(metadata),
            resource,
            resource_scopes,
        };
        let scopes = self.scopes_for(&discovery.hint, &authority);
        self.begin_grant(now, authority, scopes, discovery.allow_refresh)
    }

    fn scopes_for(&self, hint: &ScopeHint, authority: &Authority) -> ScopeSet {
        let want_offline = self.config.request_offline_access
            && matches!(self.config.grant, GrantConfig::AuthorizationCode);
        match hint {
            ScopeHint::Initial(challenge) => select_scopes(
                challenge.as_ref(),
                authority.resource_scopes.as_deref(),
                authority.as_scopes(),
                want_offline,
            ),
            ScopeHint::StepUp {
                previous,
                challenge,
            } => step_up_scopes(
                previous,
                challenge.as_ref(),
                authority.as_scopes(),
                want_offline,
            ),
        }
    }

    /// Obtains a token from a known authorization server: by refresh when allowed and
    /// possible, else by the configured grant.
    fn begin_grant(
        &mut self,
        now: Instant,
        authority: Authority,
        scopes: ScopeSet,
        allow_refresh: bool,
    ) -> Phase {
        if allow_refresh {
            let refresh = self
                .tokens(&authority.issuer)
                .and_then(|tokens| tokens.refresh_token.clone());
            if let Some(refresh_token) = refresh {
                return self.request_token(
                    now,
                    authority,
                    scopes,
                    TokenKind::Refresh,
                    Grant::RefreshToken { refresh_token },
                );
            }
        }
        match self.config.grant.clone() {
            GrantConfig::AuthorizationCode => self.begin_authorization(now, authority, scopes),
            GrantConfig::ClientCredentials => self.request_token(
                now,
                authority,
                scopes,
                TokenKind::ClientCredentials,
                Grant::ClientCredentials,
            ),
            GrantConfig::JwtBearer { assertion } => self.request_token(
                now,
                authority,
                scopes,
                TokenKind::JwtBearer,
                Grant::JwtBearer { assertion },
            ),
            GrantConfig::EnterpriseManaged(grant) => self.begin_exchange(authority, scopes, &grant),
        }
    }

    fn begin_authorization(
        &mut self,
        now: Instant,
        authority: Authority,
        scopes: ScopeSet,
    ) -> Phase {
        if let Some(metadata) = &authority.metadata {
            if let Err(source) = metadata.require_s256() {
                return self.fail(AuthError::ServerMetadata {
                    issuer: authority.issuer,
                    source,
                });
            }
        }
        if authority.endpoints.authorization.is_none() {
            return self.fail(AuthError::ServerMetadata {
                issuer: authority.issuer,
                source: MetadataError::MissingEndpoint("authorization_endpoint"),
            });
        }
        if self.resolve_registration(&authority).is_some() {
            return self.start_authorization(now, authority, scopes);
        }
        let cimd = authority
            .metadata
            .as_ref()
            .is_some_and(|metadata| metadata.client_id_metadata_document_supported == Some(true));
        if let Some(url) = self.config.client_id_metadata_url.clone().filter(|_| cimd) {
            if check_client_id_url(&url).is_ok() {
                self.entry_mut(&authority.issuer).registration =
                    Some(ClientRegistration::metadata_document(url));
                return self.start_authorization(now, authority, scopes);
            }
        }
        let Some(endpoint) = authority.endpoints.registration.clone() else {
            return self.fail(AuthError::RegistrationRequired {
                issuer: authority.issuer,
            });
        };
        let default_metadata = AuthorizationServerMetadata::default();
        let metadata = authority.metadata.as_ref().unwrap_or(&default_metadata);
        let body =
            ClientRegistrationRequest::for_authorization_code(&self.config.identity, metadata);
        let requested = registration_auth_method(self.config.identity.application_type, metadata);
        match registration_request(&endpoint, &body) {
            Ok(request) => {
                let fetch = self.push_fetch(FetchPurpose::Registration, request);
                Phase::Registering {
                    fetch,
                    authority,
                    scopes,
                    requested,
                }
            }
            Err(error) => self.fail(AuthError::Request(error)),
        }
    }

    /// The registration to use at `authority`: one held for its issuer, else a matching
    /// pre-registered client (which is then held for the issuer).
    fn resolve_registration(&mut self, authority: &Authority) -> Option<ClientRegistration> {
        if let Some(held) = self.registration(&authority.issuer) {
            return Some(held.clone());
        }
        let configured = self
            .config
            .pre_registered
            .iter()
            .find(|client| client.issuer.as_deref() == Some(authority.issuer.as_str()))
            .or_else(|| {
                self.config
                    .pre_registered
                    .iter()
                    .find(|client| client.issuer.is_none())
            })
            .map(|client| client.registration.clone())?;
        self.entry_mut(&authority.issuer).registration = Some(configured.clone());
        Some(configured)
    }

    fn start_authorization(
        &mut self,
        now: Instant,
        authority: Authority,
        scopes: ScopeSet,
    ) -> Phase {
        let Some(registration) = self.registration(&authority.issuer).cloned() else {
            return self.fail(AuthError::RegistrationRequired {
                issuer: authority.issuer,
            });
        };
        let Some(endpoint) = authority.endpoints.authorization.clone() else {
            return self.fail(AuthError::ServerMetadata {
                issuer: authority.issuer,
                source: MetadataError::MissingEndpoint("authorization_endpoint"),
            });
        };
        let mut verifier_entropy = [0_u8; VERIFIER_ENTROPY_BYTES];
        let mut state_entropy = [0_u8; STATE_ENTROPY_BYTES];
        self.entropy.fill(&mut verifier_entropy);
        self.entropy.fill(&mut state_entropy);
        let verifier = PkceVerifier::generate(&verifier_entropy);
        let state = AuthState::generate(&state_entropy);
        let url = AuthorizationRequest {
            endpoint: &endpoint,
            client_id: &registration.client_id,
            redirect_uri: &self.config.identity.redirect_uri,
            verifier: &verifier,
            state: &state,
            scopes: &scopes,
            resource: &authority.resource,
        }
        .to_url();
        self.push(AuthAction::Authorize { url });
        Phase::AwaitingRedirect {
            authority,
            scopes,
            verifier,
            state,
            deadline: now
                .checked_add(self.config.authorization_timeout)
                .unwrap_or(now),
        }
    }

    fn on_registration(
        &mut self,
        now: Instant,
        authority: Authority,
        scopes: ScopeSet,
        requested: &TokenEndpointAuthMethod,
        outcome: &FetchOutcome<'_>,
    ) -> Phase {
        let body = match outcome {
            FetchOutcome::Response {
                status: 200..=299,
                body,
                ..
            } => *body,
            FetchOutcome::Response { status, body, .. } => {
                let error = parse_json(body, self.config.limits.max_document_bytes).ok();
                return self.fail(AuthError::Registration {
                    issuer: authority.issuer,
                    source: RegistrationError::Refused {
                        status: *status,
                        error,
                    },
                });
            }
            FetchOutcome::Failed(reason) => {
                return self.fail(AuthError::Fetch {
                    purpose: FetchPurpose::Registration,
                    reason: reason.clone(),
                });
            }
        };
        match ClientRegistrationResponse::from_json(body) {
            Ok(response) => {
                let registration = response.into_registration(requested);
                self.entry_mut(&authority.issuer).registration = Some(registration);
                self.start_authorization(now, authority, scopes)
            }
            Err(source) => self.fail(AuthError::Registration {
                issuer: authority.issuer,
                source: RegistrationError::Invalid(source),
            }),
        }
    }

    fn on_redirect(
        &mut self,
        now: Instant,
        authority: Authority,
        scopes: ScopeSet,
        verifier: PkceVerifier,
        state: &AuthState,
        callback: &str,
    ) -> Phase {
        let expected = ExpectedResponse {
            redirect_uri: &self.config.identity.redirect_uri,
            state,
            issuer: &authority.issuer,
            iss_required: authority.iss_required(),
        };
        match check_authorization_response(callback, &expected) {
            Ok(code) => {
                let grant = Grant::AuthorizationCode {
                    code,
                    redirect_uri: self.config.identity.redirect_uri.clone(),
                    verifier,
                };
                self.request_token(now, authority, scopes, TokenKind::Code, grant)
            }
            Err(error) => self.fail(AuthError::AuthorizationResponse(error)),
        }
    }

    fn begin_exchange(
        &mut self,
        authority: Authority,
        scopes: ScopeSet,
        grant: &IdentityAssertionGrant,
    ) -> Phase {
        if let Err(error) = grant
            .idp_token_endpoint
            .check(&self.config.url_policy, &self.config.server_url)
        {
            return self.fail(AuthError::UnsafeUrl(error));
        }
        let auth = match &grant.idp_client.client_secret {
            Some(secret) => ClientAuth::ClientSecretBasic {
                client_id: grant.idp_client.client_id.clone(),
                client_secret: secret.clone(),
            },
            None => ClientAuth::None {
                client_id: grant.idp_client.client_id.clone(),
            },
        };
        let request = TokenRequest {
            grant: Grant::TokenExchange {
                subject_token: grant.id_token.clone(),
                subject_token_type: TOKEN_TYPE_ID_TOKEN.to_owned(),
                requested_token_type: TOKEN_TYPE_ID_JAG.to_owned(),
                audience: authority.issuer.clone(),
            },
            resource: Some(authority.resource.clone()),
            scopes: scopes.clone(),
            auth,
        };
        match request.to_request(&grant.idp_token_endpoint) {
            Ok(request) => {
                let fetch = self.push_fetch(FetchPurpose::TokenExchange, request);
                Phase::Exchanging {
                    fetch,
                    authority,
                    scopes,
                }
            }
            Err(error) => self.fail(AuthError::Request(error)),
        }
    }

    fn on_exchange(
        &mut self,
        now: Instant,
        authority: Authority,
        scopes: ScopeSet,
        outcome: &FetchOutcome<'_>,
    ) -> Phase {
        let idp = match &self.config.grant {
            GrantConfig::EnterpriseManaged(grant) => grant.idp_token_endpoint.to_string(),
            _ => String::new(),
        };
        let result = match outcome {
            FetchOutcome::Response { status, body, .. } => {
                read_token_response(*status, body, self.config.limits.max_token_bytes)
            }
            FetchOutcome::Failed(reason) => {
                return self.fail(AuthError::Fetch {
                    purpose: FetchPurpose::TokenExchange,
                    reason: reason.clone(),
                });
            }
        };
        match result {
            Ok(response) => self.request_token(
                now,
                authority,
                scopes,
                TokenKind::JwtBearer,
                Grant::JwtBearer {
                    assertion: response.access_token,
                },
            ),
            Err(source) => self.fail(AuthError::Token {
                issuer: idp,
                grant: super::registration::GRANT_TOKEN_EXCHANGE,
                source,
            }),
        }
    }

    fn request_token(
        &mut self,
        now: Instant,
        authority: Authority,
        scopes: ScopeSet,
        kind: TokenKind,
        grant: Grant,
    ) -> Phase {
        self.send_token_request(
            now,
            TokenAttempt {
                authority,
                scopes,
                kind,
                grant,
                proof: None,
                nonce_retry: false,
            },
        )
    }

    /// Sends the token request of `attempt` (its `proof` is set here), with a DPoP proof
    /// when the authorization server takes them and the client has a key.
    fn send_token_request(&mut self, now: Instant, mut attempt: TokenAttempt) -> Phase {
        let TokenAttempt {
            authority,
            scopes,
            kind,
            grant,
            ..
        } = &attempt;
        let kind = *kind;
        let registration = match kind {
            TokenKind::Code | TokenKind::Refresh => self.registration(&authority.issuer).cloned(),
            TokenKind::ClientCredentials | TokenKind::JwtBearer => {
                self.resolve_registration(authority)
            }
        };
        if registration.is_none() && kind == TokenKind::ClientCredentials {
            return self.fail(AuthError::RegistrationRequired {
                issuer: authority.issuer.clone(),
            });
        }
        let auth = match self.client_auth(now, registration.as_ref(), authority) {
            Ok(auth) => auth,
            Err(error) => return self.fail(error),
        };
        let request = TokenRequest {
            grant: grant.clone(),
            resource: Some(authority.resource.clone()),
            // The code was issued for the scopes of its authorization request, and a refresh
            // keeps the original grant's (RFC 6749 §4.1.3, §6): neither sends `scope`.
            scopes: if matches!(kind, TokenKind::Refresh | TokenKind::Code) {
                ScopeSet::new()
            } else {
                scopes.clone()
            },
            auth,
        };
        let mut request = match request.to_request(&authority.endpoints.token) {
            Ok(request) => request,
            Err(error) => return self.fail(AuthError::Request(error)),
        };
        let key = self
            .config
            .dpop_signer
            .as_deref()
            .filter(|signer| authority.accepts_dpop(signer.algorithm()))
            .map(|signer| signer.public_jwk().thumbprint());
        if key.is_some() {
            let nonce = self
                .entry(&authority.issuer)
                .and_then(|entry| entry.dpop_nonce.clone());
            let target = authority.endpoints.token.to_string();
            match self.proof(now, "POST", &target, nonce, None) {
                Ok(Some(proof)) => match http::HeaderValue::try_from(proof.expose()) {
                    Ok(mut value) => {
                        value.set_sensitive(true);
                        request.headers_mut().insert(dpop::DPOP, value);
                    }
                    Err(_) => return self.fail(AuthError::Request(RequestError::Header)),
                },
                Ok(None) => {}
                Err(error) => return self.fail(error),
            }
        }
        let fetch = self.push_fetch(FetchPurpose::Token, request);
        attempt.proof = key;
        Phase::Token { fetch, attempt }
    }

    /// How to authenticate at `authority`'s token endpoint with `registration`.
    fn client_auth(
        &mut self,
        now: Instant,
        registration: Option<&ClientRegistration>,
        authority: &Authority,
    ) -> Result<ClientAuth, AuthError> {
        let Some(registration) = registration else {
            return Ok(ClientAuth::Anonymous);
        };
        let supported = authority.auth_methods();
        let offers =
            |method: &TokenEndpointAuthMethod| supported.iter().any(|name| name == method.as_str());
        let method = registration.auth_method.clone().unwrap_or_else(|| {
            let signer = self.config.assertion_signer.is_some();
            if signer && offers(&TokenEndpointAuthMethod::PrivateKeyJwt) {
                TokenEndpointAuthMethod::PrivateKeyJwt
            } else if registration.client_secret.is_some() {
                if !offers(&TokenEndpointAuthMethod::ClientSecretBasic)
                    && offers(&TokenEndpointAuthMethod::ClientSecretPost)
                {
                    TokenEndpointAuthMethod::ClientSecretPost
                } else {
                    TokenEndpointAuthMethod::ClientSecretBasic
                }
            } else if signer {
                TokenEndpointAuthMethod::PrivateKeyJwt
            } else {
                TokenEndpointAuthMethod::None
            }
        });
        let client_id = registration.client_id.clone();
        let secret = || {
            registration.client_secret.clone().ok_or_else(|| {
                AuthError::Config(ConfigError::MissingSecret {
                    method: method.as_str().to_owned(),
                })
            })
        };
        match &method {
            TokenEndpointAuthMethod::None => Ok(ClientAuth::None { client_id }),
            TokenEndpointAuthMethod::ClientSecretBasic => Ok(ClientAuth::ClientSecretBasic {
                client_id,
                client_secret: secret()?,
            }),
            TokenEndpointAuthMethod::ClientSecretPost => Ok(ClientAuth::ClientSecretPost {
                client_id,
                client_secret: secret()?,
            }),
            TokenEndpointAuthMethod::PrivateKeyJwt => {
                let clock = self
                    .config
                    .wall_clock
                    .ok_or(AuthError::Config(ConfigError::MissingWallClock))?;
                let mut jti = [0_u8; JTI_ENTROPY_BYTES];
                self.entropy.fill(&mut jti);
                let jti = URL_SAFE_NO_PAD.encode(jti);
                let signer = self
                    .config
                    .assertion_signer
                    .as_deref()
                    .ok_or(AuthError::Config(ConfigError::MissingSigner))?;
                let assertion = ClientAssertion {
                    client_id: &client_id,
                    audience: &authority.issuer,
                    issued_at: clock.unix_at(now),
                    lifetime_secs: DEFAULT_ASSERTION_LIFETIME_SECS,
                    jti: &jti,
                }
                .sign(signer)
                .map_err(AuthError::Signer)?;
                Ok(ClientAuth::PrivateKeyJwt {
                    client_id,
                    assertion: Secret::new(assertion),
                })
            }
            TokenEndpointAuthMethod::Other(name) => Err(AuthError::Config(
                ConfigError::UnsupportedAuthMethod(name.clone()),
            )),
        }
    }

    fn on_token(
        &mut self,
        now: Instant,
        attempt: TokenAttempt,
        outcome: &FetchOutcome<'_>,
    ) -> Phase {
        let kind = attempt.kind;
        let grant = match kind {
            TokenKind::Code => "authorization_code",
            TokenKind::Refresh => "refresh_token",
            TokenKind::ClientCredentials => "client_credentials",
            TokenKind::JwtBearer => GRANT_JWT_BEARER,
        };
        let proof_sent = attempt.proof.is_some();
        let (result, supplied) = match outcome {
            FetchOutcome::Response {
                status,
                body,
                nonce,
            } => (
                read_token_response(*status, body, self.config.limits.max_token_bytes).and_then(
                    |response| {
                        // A proof may come back with a bearer token (a server that ignores
                        // it, RFC 9449 §5); a DPoP token only answers a proof.
                        if proof_sent && response.is_dpop() {
                            Ok(response)
                        } else {
                            response.require_bearer().map(|()| response)
                        }
                    },
                ),
                nonce.clone().filter(|_| proof_sent),
            ),
            FetchOutcome::Failed(reason) => {
                return self.fail(AuthError::Fetch {
                    purpose: FetchPurpose::Token,
                    reason: reason.clone(),
                });
            }
        };
        let fresh_nonce = supplied.is_some();
        if let Some(nonce) = supplied {
            self.entry_mut(&attempt.authority.issuer).dpop_nonce = Some(nonce);
        }
        let asks_nonce = matches!(
            &result,
            Err(TokenResponseError::Refused { status: 400..=499, error: Some(error) })
                if error.error == USE_DPOP_NONCE
        );
        if proof_sent && asks_nonce {
            // RFC 9449 §8: the same request again, with a new proof carrying the nonce, once.
            if attempt.nonce_retry {
                return self.fail(AuthError::DpopNonce {
                    issuer: attempt.authority.issuer,
                });
            }
            if fresh_nonce {
                return self.send_token_request(
                    now,
                    TokenAttempt {
                        nonce_retry: true,
                        ..attempt
                    },
                );
            }
        }
        let TokenAttempt {
            authority,
            scopes,
            proof,
            ..
        } = attempt;
        match result {
            Ok(response) => {
                let bound = if response.is_dpop() { proof } else { None };
                let previous_refresh = match kind {
                    TokenKind::Refresh => self
                        .tokens(&authority.issuer)
                        .and_then(|tokens| tokens.refresh_token.clone()),
                    _ => None,
                };
                let mut tokens = TokenSet::from_response(now, response, &scopes, previous_refresh);
                tokens.dpop_jkt = bound;
                self.push(AuthAction::Authorized {
                    issuer: authority.issuer.clone(),
                    access_token: tokens.access_token.clone(),
                    expires_at: tokens.expires_at,
                    scopes: tokens.scopes.clone(),
                });
                self.entry_mut(&authority.issuer).tokens = Some(tokens);
                self.current = Some((authority, scopes));
                Phase::Idle
            }
            Err(_) if kind == TokenKind::Refresh => {
                // The refresh token is dead: forget the tokens and obtain new ones.
                self.entry_mut(&authority.issuer).tokens = None;
                self.begin_grant(now, authority, scopes, false)
            }
            Err(source) => {
                // A dynamically registered client the server no longer knows is forgotten,
                // so the next attempt registers again.
                let unknown_client = matches!(
                    &source,
                    TokenResponseError::Refused { error: Some(error), .. } if error.error == "invalid_client"
                );
                let dynamic = self
                    .registration(&authority.issuer)
                    .is_some_and(|registration| registration.source == RegistrationSource::Dynamic);
                if unknown_client && dynamic {
                    if let Some(entry) = self.entry_mut_existing(&authority.issuer) {
                        entry.registration = None;
                    }
                }
                self.fail(AuthError::Token {
                    issuer: authority.issuer,
                    grant,
                    source,
                })
            }
        }
    }

    fn on_expired(&mut self, now: Instant) -> Phase {
        let Some((authority, scopes)) = self.current.clone() else {
            return Phase::Idle;
        };
        let has_refresh = self
            .tokens(&authority.issuer)
            .is_some_and(|tokens| tokens.refresh_token.is_some());
        let unattended = !matches!(self.config.grant, GrantConfig::AuthorizationCode);
        if has_refresh || unattended {
            return self.begin_grant(now, authority, scopes, true);
        }
        // Nothing to refresh with: drop the dead token; the next 401 starts a flow.
        if let Some(entry) = self.entry_mut_existing(&authority.issuer) {
            entry.tokens = None;
        }
        Phase::Idle
    }

    // ---- helpers -------------------------------------------------------------------------

    fn fail(&mut self, error: AuthError) -> Phase {
        self.push(AuthAction::Failed(error));
        Phase::Idle
    }

    fn push(&mut self, action: AuthAction) {
        if self.actions.len() >= MAX_QUEUED_ACTIONS {
            self.actions.pop_front();
        }
        self.actions.push_back(action);
    }

    fn push_fetch(&mut self, purpose: FetchPurpose, request: http::Request<Vec<u8>>) -> FetchId {
        let id = FetchId(self.next_fetch);
        self.next_fetch = self.next_fetch.wrapping_add(1);
        self.push(AuthAction::Fetch {
            id,
            purpose,
            request,
        });
        id
    }

    fn entry(&self, issuer: &str) -> Option<&IssuerEntry> {
        self.issuers.get(issuer)
    }

    fn entry_mut_existing(&mut self, issuer: &str) -> Option<&mut IssuerEntry> {
        self.issuers.get_mut(issuer)
    }

    /// The entry for `issuer`, created as needed and marked most recently used; beyond the
    /// limit, the least recently used other issuer is forgotten.
    fn entry_mut(&mut self, issuer: &str) -> &mut IssuerEntry {
        if !self.issuers.contains_key(issuer) {
            while self.issuers.len() >= self.config.limits.max_issuers {
                let oldest = self
                    .issuers
                    .iter()
                    .min_by_key(|(_, entry)| entry.used)
                    .map(|(held, _)| held.clone());
                match oldest {
                    Some(oldest) => {
                        self.issuers.remove(&oldest);
                    }
                    None => break,
                }
            }
        }
        self.uses = self.uses.wrapping_add(1);
        let entry = self.issuers.entry(issuer.to_owned()).or_default();
        entry.used = self.uses;
        entry
    }
}
