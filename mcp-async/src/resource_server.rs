//! The OAuth 2.1 resource-server side of the HTTP server: bearer tokens checked before a
//! request reaches the engine, and the Protected Resource Metadata (RFC 9728) that tells
//! clients where to get them.
//!
//! Turn it on with [`HttpServeOptions::bearer_auth`](crate::http_serve::HttpServeOptions::bearer_auth);
//! the listener of [`serve_http`](crate::http_serve::serve_http) and the tower mount both
//! apply it. Every request to the MCP endpoint (and to the HTTP+SSE endpoints) then goes
//! through these steps, in order:
//!
//! 1. **Token** (RFC 6750 §2.1): exactly one `Authorization: Bearer <token68>` header of at
//!    most [`TokenCheckLimits::max_authorization_bytes`]. None, or another scheme: 401 with
//!    `WWW-Authenticate: Bearer resource_metadata="…"` (and `scope` when scopes are required),
//!    without an `error` (RFC 6750 §3.1). Tokens in the query string are never read.
//! 2. **Validation** by the [`TokenValidator`], at most
//!    [`TokenCheckLimits::max_concurrent_validations`] at once, each within
//!    [`TokenCheckLimits::validation_timeout`] (waiting for a turn included). A refused token
//!    (unknown, expired, another audience): 401 `error="invalid_token"`. A validator that
//!    cannot answer (its back end is down, or it timed out): 503, the cause logged.
//! 3. **Audience** (OAuth 2.1 §5.2, MCP "Token Handling"): the principal's audiences must name
//!    this resource (its canonical URI, one trailing `/` ignored) — on top of whatever the
//!    validator checked, unless [`ResourceServerAuth::audience_check`] turns it off for a
//!    validator that checks audience in its own terms. Otherwise 401 `invalid_token`.
//! 4. **Scopes**: the scopes required of every request ([`ResourceServerAuth::require_scopes`])
//!    and, for `tools/call`, those of the tool called ([`ResourceServerAuth::tool_scopes`];
//!    every element of a batch counts). Missing ones: 403 `error="insufficient_scope"` with
//!    `scope` listing what the token holds plus what this request needs, so a client that
//!    re-authorizes with it loses nothing it had (MCP "Scope Challenge Handling"). A body the
//!    front end cannot read as JSON-RPC requires the scopes of every tool (it fails closed;
//!    the engine refuses such a body anyway).
//! 5. **Sessions** (spec-checklist §9): a legacy session, Streamable HTTP or HTTP+SSE, belongs
//!    to the subject that created it. The same session id with another subject's valid token
//!    is answered 404, as an unknown session: the session is looked up by (subject, id), as the
//!    MCP security best practices suggest (`<user_id>:<session_id>`), so an id alone reveals
//!    nothing and authenticates nothing.
//!
//! The [`Principal`] the validator returned reaches the handlers as
//! [`Context::principal`](crate::server::Context::principal). The `Authorization` header
//! goes nowhere else: the engine never forwards a header, and the token is never logged
//! (the validator gets it as a [`Secret`], whose `Debug` shows only its length).
//!
//! The metadata document is served at `/.well-known/oauth-protected-resource` followed by the
//! resource's path (RFC 9728 §3.1: the well-known segment goes between the host and the path)
//! and, unless [`ResourceServerAuth::root_metadata`] turns it off, at
//! `/.well-known/oauth-protected-resource` too, the URL MCP clients try second (checklist §8);
//! the challenge's `resource_metadata` names the first. Behind a router (the tower mount)
//! mount the service on [`ResourceServerAuth::metadata_paths`] as well.

use std::collections::HashMap;
use std::error::Error;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use mcp_proto::auth::challenge::{BearerChallenge, INSUFFICIENT_SCOPE, INVALID_TOKEN};
use mcp_proto::auth::discovery::resource_metadata_urls;
use mcp_proto::auth::scope::OFFLINE_ACCESS;
use mcp_proto::auth::url::UrlError;
use mcp_proto::auth::{HttpUrl, ProtectedResourceMetadata, ScopeSet, Secret};
use mcp_proto::jsonrpc::{self, DecodeOptions, Decoded, Message};
use mcp_proto::streamable::validate::SESSION_ID_HEADER;
use mcp_proto::streamable::{HttpOutput, StreamId};
use mcp_proto::types::methods::ClientRequest;

use crate::runtime::{BoxFuture, Runtime};

/// The default longest `Authorization` header accepted, in bytes.
pub const DEFAULT_MAX_AUTHORIZATION_BYTES: usize = 8 * 1024;
/// The default most token validations running at once.
pub const DEFAULT_MAX_CONCURRENT_VALIDATIONS: usize = 64;
/// The default time a validation may take, waiting for a turn included.
pub const DEFAULT_VALIDATION_TIMEOUT: Duration = Duration::from_secs(10);
/// The most tools with scopes of their own.
pub const MAX_TOOL_SCOPE_ENTRIES: usize = 4096;
/// The most tokens a [`StaticTokens`] table holds.
pub const MAX_STATIC_TOKENS: usize = 4096;

/// Who made a request, as the [`TokenValidator`] established it from the token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Principal {
    /// The subject (`sub`): the user or client the token was issued for. Legacy sessions are
    /// bound to it.
    pub subject: String,
    /// The scopes the token grants.
    pub scopes: ScopeSet,
    /// The audiences (`aud`) the token was issued for; this resource must be among them.
    pub audiences: Vec<String>,
    /// The OAuth client the token was issued to, when known.
    pub client_id: Option<String>,
    /// When the token expires, when known.
    pub expires_at: Option<SystemTime>,
}

impl Principal {
    /// A principal with no audience, client or expiry yet.
    #[must_use]
    pub fn new(subject: impl Into<String>, scopes: ScopeSet) -> Self {
        Self {
            subject: subject.into(),
            scopes,
            audiences: Vec::new(),
            client_id: None,
            expires_at: None,
        }
    }

    /// Adds an audience.
    #[must_use]
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Sets the client id.
    #[must_use]
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Sets the expiry.
    #[must_use]
    pub fn with_expiry(mut self, expires_at: SystemTime) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// Whether the token grants `scope`.
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// Whether `resource` is among the audiences (compared exactly, but for one trailing `/`).
    #[must_use]
    pub fn is_for(&self, resource: &str) -> bool {
        audience_matches(&self.audiences, resource)
    }
}

/// Whether `audiences` names `resource`: exactly, or but for one trailing `/` on either side
/// (MCP clients send the canonical URI, preferably without one; RFC 8707 §2).
#[must_use]
pub fn audience_matches(audiences: &[String], resource: &str) -> bool {
    let trim = |value: &str| value.strip_suffix('/').unwrap_or(value).to_owned();
    let resource = trim(resource);
    audiences.iter().any(|audience| trim(audience) == resource)
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenRejection {
    /// Unknown, revoked, malformed or badly signed: 401 `invalid_token`.
    #[error("the token is not valid")]
    Invalid,
    /// Past its expiry: 401 `invalid_token`.
    #[error("the token has expired")]
    Expired,
    /// Issued for another resource (OAuth 2.1 §5.2): 401 `invalid_token`.
    #[error("the token was issued for another audience")]
    WrongAudience,
    /// The validator could not decide (its back end failed, or it took too long): 503.
    #[error("the token could not be checked")]
    Unavailable(#[source] Box<dyn Error + Send + Sync>),
}

/// A validation that did not finish within [`TokenCheckLimits::validation_timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("token validation took longer than {0:?}")]
pub struct ValidationTimedOut(pub Duration);

/// Checks bearer tokens (OAuth 2.1 §5.2): signature or introspection, expiry, audience.
///
/// Return the token's [`Principal`] — its audiences included, which the server checks
/// against its own resource URI unless told otherwise — or why it was refused. Never log the
/// token. The server bounds how many validations run at once and how long each may take.
pub trait TokenValidator: Send + Sync + 'static {
    /// Validates `token`.
    fn validate<'a>(
        &'a self,
        token: &'a Secret,
    ) -> BoxFuture<'a, Result<Principal, TokenRejection>>;
}

/// A fixed table of tokens, for tests, examples and development: each token maps to a
/// principal. Tokens are compared in constant time; an expired entry is refused as
/// [`TokenRejection::Expired`], an entry without this table's audience as
/// [`TokenRejection::WrongAudience`].
pub struct StaticTokens {
    audience: String,
    entries: Vec<(Secret, Principal)>,
}

impl fmt::Debug for StaticTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticTokens")
            .field("audience", &self.audience)
            .field("tokens", &self.entries.len())
            .finish()
    }
}

/// A [`StaticTokens`] table already holds [`MAX_STATIC_TOKENS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a static token table holds at most {MAX_STATIC_TOKENS} tokens")]
pub struct TooManyTokens;

impl StaticTokens {
    /// An empty table accepting tokens for `audience` (the server's canonical URI).
    #[must_use]
    pub fn new(audience: impl Into<String>) -> Self {
        Self {
            audience: audience.into(),
            entries: Vec::new(),
        }
    }

    /// The audience tokens must carry.
    #[must_use]
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Adds `token` for `subject` with `scopes`, issued for this table's audience.
    ///
    /// # Errors
    /// [`TooManyTokens`].
    pub fn add(
        &mut self,
        token: impl Into<String>,
        subject: impl Into<String>,
        scopes: ScopeSet,
    ) -> Result<(), TooManyTokens> {
        let principal = Principal::new(subject, scopes).with_audience(self.audience.clone());
        self.insert(token, principal)
    }

    /// Adds `token` with a principal of your own (another audience, an expiry…).
    ///
    /// # Errors
    /// [`TooManyTokens`].
    pub fn insert(
        &mut self,
        token: impl Into<String>,
        principal: Principal,
    ) -> Result<(), TooManyTokens> {
        if self.entries.len() >= MAX_STATIC_TOKENS {
            return Err(TooManyTokens);
        }
        self.entries.push((Secret::new(token), principal));
        Ok(())
    }

    fn lookup(&self, token: &Secret, now: SystemTime) -> Result<Principal, TokenRejection> {
        // Every entry is compared, so the time taken does not tell where a match was.
        let mut found = None;
        for (known, principal) in &self.entries {
            if known == token && found.is_none() {
                found = Some(principal);
            }
        }
        let principal = found.ok_or(TokenRejection::Invalid)?;
        if principal.expires_at.is_some_and(|expiry| expiry <= now) {
            return Err(TokenRejection::Expired);
        }
        if !principal.is_for(&self.audience) {
            return Err(TokenRejection::WrongAudience);
        }
        Ok(principal.clone())
    }
}

impl TokenValidator for StaticTokens {
    fn validate<'a>(
        &'a self,
        token: &'a Secret,
    ) -> BoxFuture<'a, Result<Principal, TokenRejection>> {
        let result = self.lookup(token, SystemTime::now());
        Box::pin(std::future::ready(result))
    }
}

/// Bounds on the token check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenCheckLimits {
    /// The longest `Authorization` header accepted (longer: 401 `invalid_token`).
    pub max_authorization_bytes: usize,
    /// Validations running at once; more wait for a turn.
    pub max_concurrent_validations: usize,
    /// The time a validation may take, waiting for a turn included (then 503).
    pub validation_timeout: Duration,
}

impl Default for TokenCheckLimits {
    fn default() -> Self {
        Self {
            max_authorization_bytes: DEFAULT_MAX_AUTHORIZATION_BYTES,
            max_concurrent_validations: DEFAULT_MAX_CONCURRENT_VALIDATIONS,
            validation_timeout: DEFAULT_VALIDATION_TIMEOUT,
        }
    }
}

/// Why a [`ResourceServerAuth`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceServerConfigError {
    /// The resource URI is not an absolute `http(s)` URL without fragment.
    #[error("invalid resource URI {uri:?}")]
    InvalidResource {
        /// What was given.
        uri: String,
        /// Why it was refused.
        #[source]
        source: UrlError,
    },
    /// An authorization server's issuer is not an absolute `http(s)` URL.
    #[error("invalid authorization server issuer {issuer:?}")]
    InvalidAuthorizationServer {
        /// What was given.
        issuer: String,
        /// Why it was refused.
        #[source]
        source: UrlError,
    },
    /// RFC 9728 metadata for MCP must name at least one authorization server.
    #[error("at least one authorization server is required")]
    NoAuthorizationServers,
    /// More tools with scopes than [`MAX_TOOL_SCOPE_ENTRIES`].
    #[error("at most {MAX_TOOL_SCOPE_ENTRIES} tools may have scopes of their own")]
    TooManyTools,
}

/// The resource-server settings of an HTTP server: its metadata, the token validator and the
/// scopes it requires. See the [module docs](self).
#[derive(Clone)]
pub struct ResourceServerAuth {
    resource: HttpUrl,
    metadata: ProtectedResourceMetadata,
    /// `scopes_supported` as set; `None` lists the required and tool scopes.
    scopes_supported: Option<ScopeSet>,
    validator: Arc<dyn TokenValidator>,
    required: ScopeSet,
    tools: Vec<(String, ScopeSet)>,
    check_audience: bool,
    root_metadata: bool,
    /// Bounds on the token check.
    pub limits: TokenCheckLimits,
}

impl fmt::Debug for ResourceServerAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceServerAuth")
            .field("resource", &self.metadata.resource)
            .field(
                "authorization_servers",
                &self.metadata.authorization_servers,
            )
            .field("required", &self.required)
            .field("tools", &self.tools.len())
            .field("check_audience", &self.check_audience)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl ResourceServerAuth {
    /// Protects the MCP server at `resource` (its URL as clients reach it, e.g.
    /// `https://mcp.example.com/mcp`; the canonical form goes in the metadata and is the
    /// audience tokens must carry), whose tokens come from `authorization_servers` (issuer
    /// identifiers) and are checked by `validator`.
    ///
    /// # Errors
    /// See [`ResourceServerConfigError`].
    pub fn new<I, A>(
        resource: &str,
        authorization_servers: I,
        validator: impl TokenValidator,
    ) -> Result<Self, ResourceServerConfigError>
    where
        I: IntoIterator<Item = A>,
        A: Into<String>,
    {
        let url = HttpUrl::parse(resource).map_err(|source| {
            ResourceServerConfigError::InvalidResource {
                uri: resource.to_owned(),
                source,
            }
        })?;
        let mut servers = Vec::new();
        for issuer in authorization_servers {
            let issuer = issuer.into();
            if let Err(source) = HttpUrl::parse(&issuer) {
                return Err(ResourceServerConfigError::InvalidAuthorizationServer {
                    issuer,
                    source,
                });
            }
            servers.push(issuer);
        }
        if servers.is_empty() {
            return Err(ResourceServerConfigError::NoAuthorizationServers);
        }
        let metadata = ProtectedResourceMetadata {
            resource: url.canonical_resource(),
            authorization_servers: servers,
            bearer_methods_supported: Some(vec!["header".to_owned()]),
            ..ProtectedResourceMetadata::default()
        };
        Ok(Self {
            resource: url,
            metadata,
            scopes_supported: None,
            validator: Arc::new(validator),
            required: ScopeSet::new(),
            tools: Vec::new(),
            check_audience: true,
            root_metadata: true,
            limits: TokenCheckLimits::default(),
        })
    }

    /// Scopes every request needs (`offline_access` is dropped: a resource server does not
    /// ask for it).
    #[must_use]
    pub fn require_scopes(mut self, scopes: ScopeSet) -> Self {
        self.required = without_offline_access(scopes);
        self
    }

    /// Scopes a `tools/call` of `tool` needs, on top of the required ones.
    ///
    /// # Errors
    /// [`ResourceServerConfigError::TooManyTools`].
    pub fn tool_scopes(
        mut self,
        tool: impl Into<String>,
        scopes: ScopeSet,
    ) -> Result<Self, ResourceServerConfigError> {
        let tool = tool.into();
        let scopes = without_offline_access(scopes);
        if let Some(entry) = self.tools.iter_mut().find(|(name, _)| *name == tool) {
            entry.1 = scopes;
        } else if self.tools.len() >= MAX_TOOL_SCOPE_ENTRIES {
            return Err(ResourceServerConfigError::TooManyTools);
        } else {
            self.tools.push((tool, scopes));
        }
        Ok(self)
    }

    /// The metadata's `scopes_supported` (by default: the required scopes and every tool's).
    #[must_use]
    pub fn scopes_supported(mut self, scopes: ScopeSet) -> Self {
        self.scopes_supported = Some(without_offline_access(scopes));
        self
    }

    /// The metadata's `resource_name`.
    #[must_use]
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.metadata.resource_name = Some(name.into());
        self
    }

    /// The metadata's `resource_documentation`.
    #[must_use]
    pub fn resource_documentation(mut self, url: impl Into<String>) -> Self {
        self.metadata.resource_documentation = Some(url.into());
        self
    }

    /// Whether the server itself checks that the principal's audiences name this resource
    /// (on by default). Turn it off only for a validator that checks audience itself in terms
    /// a [`Principal`] cannot carry.
    #[must_use]
    pub fn audience_check(mut self, on: bool) -> Self {
        self.check_audience = on;
        self
    }

    /// Whether the metadata is also served at the root well-known path (on by default). Turn
    /// it off when another resource on the same origin owns that path.
    #[must_use]
    pub fn root_metadata(mut self, on: bool) -> Self {
        self.root_metadata = on;
        self
    }

    /// Sets the bounds of the token check.
    #[must_use]
    pub fn limits(mut self, limits: TokenCheckLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The canonical resource URI: the metadata's `resource` and the audience tokens need.
    #[must_use]
    pub fn resource(&self) -> &str {
        &self.metadata.resource
    }

    /// The Protected Resource Metadata document as served.
    #[must_use]
    pub fn metadata(&self) -> ProtectedResourceMetadata {
        let mut metadata = self.metadata.clone();
        let supported = self.scopes_supported.clone().unwrap_or_else(|| {
            self.tools
                .iter()
                .fold(self.required.clone(), |all, (_, scopes)| all.union(scopes))
        });
        if !supported.is_empty() {
            metadata.scopes_supported = Some(supported.iter().map(str::to_owned).collect());
        }
        metadata
    }

    /// The URL of the metadata document that challenges name (`resource_metadata`).
    #[must_use]
    pub fn metadata_url(&self) -> String {
        self.metadata_urls()
            .first()
            .map_or_else(String::new, HttpUrl::canonical_resource)
    }

    /// The paths the metadata is served on: the resource's own well-known path, then the
    /// root one (unless turned off). Mount a tower service on these too.
    #[must_use]
    pub fn metadata_paths(&self) -> Vec<String> {
        self.metadata_urls()
            .iter()
            .map(|url| url.path().to_owned())
            .collect()
    }

    fn metadata_urls(&self) -> Vec<HttpUrl> {
        let mut urls = resource_metadata_urls(&self.resource, None);
        if !self.root_metadata {
            urls.truncate(1);
        }
        urls
    }

    /// The scopes a request with `body` needs: the required ones, plus those of each tool it
    /// calls. A body that does not decode needs every tool's (fail closed).
    fn scopes_needed(&self, body: &[u8]) -> ScopeSet {
        if self.tools.is_empty() {
            return self.required.clone();
        }
        let options = DecodeOptions {
            max_message_len: usize::MAX,
            allow_batches: true,
            ..DecodeOptions::default()
        };
        let messages = match jsonrpc::decode(body, &options) {
            Ok(Decoded::Single(message)) => vec![message],
            Ok(Decoded::Batch(items)) => items.into_iter().filter_map(Result::ok).collect(),
            Err(_) => return self.every_scope(),
        };
        let mut needed = self.required.clone();
        for message in messages {
            let Message::Request(request) = message else {
                continue;
            };
            if request.method != "tools/call" {
                continue;
            }
            match ClientRequest::parse(&request.method, request.params.as_ref()) {
                Ok(ClientRequest::CallTool(params)) => {
                    if let Some((_, scopes)) = self.tools.iter().find(|(n, _)| *n == params.name) {
                        needed = needed.union(scopes);
                    }
                }
                // The engine refuses these params; nothing runs. Still, fail closed.
                _ => return self.every_scope(),
            }
        }
        needed
    }

    fn every_scope(&self) -> ScopeSet {
        self.tools
            .iter()
            .fold(self.required.clone(), |all, (_, scopes)| all.union(scopes))
    }

    fn challenge(&self, error: Option<&str>, scope: ScopeSet) -> BearerChallenge {
        BearerChallenge {
            resource_metadata: Some(self.metadata_url()),
            scope: (!scope.is_empty()).then_some(scope),
            error: error.map(str::to_owned),
            ..BearerChallenge::default()
        }
    }
}

fn without_offline_access(mut scopes: ScopeSet) -> ScopeSet {
    if scopes.remove(OFFLINE_ACCESS) {
        tracing::warn!("offline_access is not a resource server's to ask for; dropped");
    }
    scopes
}

/// Why a request carried no usable bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NoToken {
    /// No `Authorization: Bearer` at all (RFC 6750 §3.1: no error code).
    Missing,
    /// One that cannot be a token (several headers, too long, bad characters).
    Malformed(&'static str),
}

/// The bearer token of `headers` (RFC 6750 §2.1: `Bearer` 1*SP token68).
fn bearer_token(headers: &HeaderMap, max_bytes: usize) -> Result<Secret, NoToken> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(NoToken::Missing);
    };
    if values.next().is_some() {
        return Err(NoToken::Malformed("several Authorization headers"));
    }
    if value.len() > max_bytes {
        return Err(NoToken::Malformed("Authorization header too long"));
    }
    let value = value
        .to_str()
        .map_err(|_| NoToken::Malformed("Authorization header not visible ASCII"))?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(NoToken::Missing);
    }
    let token = rest.trim_start_matches(' ');
    let body = token.trim_end_matches('=');
    let token68 = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if !token68 {
        return Err(NoToken::Malformed("not a token68"));
    }
    Ok(Secret::new(token))
}

/// Sleeps until a deadline on the server's runtime.
type Sleep = Arc<dyn Fn(Instant) -> BoxFuture<'static, ()> + Send + Sync>;

/// The token check of one server (shared by its connection tasks or service clones): the
/// settings, the validation turns and the runtime's timer.
#[derive(Clone)]
pub(crate) struct Gate {
    auth: Arc<ResourceServerAuth>,
    /// One message per free validation turn.
    turns: (crate::channel::Sender<()>, crate::channel::Receiver<()>),
    sleep: Sleep,
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("auth", &self.auth)
            .field("free_turns", &self.turns.1.len())
            .finish_non_exhaustive()
    }
}

/// A validation turn, given back when dropped.
struct Turn<'a>(&'a crate::channel::Sender<()>);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let _ = self.0.try_send(());
    }
}

/// A refusal to send instead of serving the request.
pub(crate) type Refusal = Box<http::Response<Vec<u8>>>;

impl Gate {
    pub(crate) fn new<R: Runtime>(runtime: &R, auth: Arc<ResourceServerAuth>) -> Self {
        let turns = auth.limits.max_concurrent_validations.max(1);
        let (give, take) = crate::channel::bounded(turns);
        for _ in 0..turns {
            let _ = give.try_send(());
        }
        let runtime = runtime.clone();
        Self {
            auth,
            turns: (give, take),
            sleep: Arc::new(move |deadline| runtime.sleep_until(deadline)),
        }
    }

    /// Whether `path` is where the metadata is served.
    pub(crate) fn is_metadata_path(&self, path: &str) -> bool {
        self.auth.metadata_paths().iter().any(|p| p == path)
    }

    /// The answer to a request for the metadata document, when `parts` is one.
    pub(crate) fn metadata_response(&self, parts: &Parts) -> Option<http::Response<Vec<u8>>> {
        if !self.is_metadata_path(parts.uri.path()) {
            return None;
        }
        let mut response = http::Response::new(Vec::new());
        if parts.method != Method::GET {
            *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET"));
            return Some(response);
        }
        match serde_json::to_vec(&self.auth.metadata()) {
            Ok(body) => *response.body_mut() = body,
            Err(error) => {
                tracing::error!(%error, "the resource metadata did not serialize");
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                return Some(response);
            }
        }
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=3600"),
        );
        Some(response)
    }

    /// Checks the request's bearer token (steps 1–3 of the [module docs](self)).
    pub(crate) async fn authenticate(
        &self,
        headers: &HeaderMap,
    ) -> Result<Arc<Principal>, Refusal> {
        let auth = &self.auth;
        let token = match bearer_token(headers, auth.limits.max_authorization_bytes) {
            Ok(token) => token,
            Err(NoToken::Missing) => {
                tracing::debug!("request without a bearer token");
                return Err(self.refusal(StatusCode::UNAUTHORIZED, None, auth.required.clone()));
            }
            Err(NoToken::Malformed(reason)) => {
                tracing::debug!(reason, "unusable Authorization header");
                let refusal = self.refusal(
                    StatusCode::UNAUTHORIZED,
                    Some(INVALID_TOKEN),
                    auth.required.clone(),
                );
                return Err(refusal);
            }
        };
        let timeout = auth.limits.validation_timeout;
        let deadline = Instant::now().checked_add(timeout);
        let validation = async {
            let Ok(()) = self.turns.1.recv().await else {
                // The sender lives in `self`: the channel cannot close.
                return Err(TokenRejection::Unavailable("no validation turns".into()));
            };
            let _turn = Turn(&self.turns.0);
            auth.validator.validate(&token).await
        };
        let timed_out = async {
            match deadline {
                Some(deadline) => (self.sleep)(deadline).await,
                None => std::future::pending().await,
            }
            Err(TokenRejection::Unavailable(Box::new(ValidationTimedOut(
                timeout,
            ))))
        };
        let outcome = futures_lite::future::or(validation, timed_out).await;
        let principal = match outcome {
            Ok(principal) if auth.check_audience && !principal.is_for(auth.resource()) => {
                tracing::debug!(subject = %principal.subject, "token for another audience");
                return Err(self.invalid_token());
            }
            Ok(principal) => principal,
            Err(TokenRejection::Unavailable(cause)) => {
                tracing::warn!(error = %cause, cause = ?cause.source(), "token validation failed");
                return Err(http_status(StatusCode::SERVICE_UNAVAILABLE));
            }
            Err(rejection) => {
                tracing::debug!(%rejection, "token refused");
                return Err(self.invalid_token());
            }
        };
        Ok(Arc::new(principal))
    }

    /// Checks that `principal` holds the scopes a request with `body` needs (step 4).
    pub(crate) fn authorize(
        &self,
        principal: &Principal,
        method: &Method,
        body: &[u8],
    ) -> Result<(), Refusal> {
        // Only a POST carries messages: a GET stream or a DELETE calls no tool.
        let needed = if *method == Method::POST {
            self.auth.scopes_needed(body)
        } else {
            self.auth.required.clone()
        };
        if principal.scopes.is_superset_of(&needed) {
            return Ok(());
        }
        tracing::debug!(subject = %principal.subject, %needed, "insufficient scope");
        let asked = without_offline_access(principal.scopes.union(&needed));
        Err(self.refusal(StatusCode::FORBIDDEN, Some(INSUFFICIENT_SCOPE), asked))
    }

    fn invalid_token(&self) -> Refusal {
        self.refusal(
            StatusCode::UNAUTHORIZED,
            Some(INVALID_TOKEN),
            self.auth.required.clone(),
        )
    }

    fn refusal(&self, status: StatusCode, error: Option<&str>, scope: ScopeSet) -> Refusal {
        let mut response = http_status(status);
        let challenge = self.auth.challenge(error, scope);
        match challenge
            .to_challenge()
            .map(|challenge| HeaderValue::try_from(challenge.to_string()))
        {
            Ok(Ok(value)) => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
            Ok(Err(error)) => tracing::error!(%error, "challenge is no header value"),
            Err(error) => tracing::error!(%error, "challenge did not encode"),
        }
        response
    }
}

/// The subject each legacy session belongs to, for a server that checks tokens: a session
/// is bound when the response creating it names its id, and a request naming it with
/// another subject's token is refused as if the session did not exist.
#[derive(Debug)]
pub(crate) struct SessionOwners<M> {
    owners: HashMap<(M, String), Arc<str>>,
    /// Exchanges that may create a session (a POST without a session id), and their subject.
    creating: HashMap<StreamId, Arc<str>>,
}

/// Exchanges awaiting their head past which [`SessionOwners`] forgets the ones it no longer
/// sees open.
const MAX_CREATING: usize = 4096;

impl<M: Copy + Eq + Hash> Default for SessionOwners<M> {
    fn default() -> Self {
        Self {
            owners: HashMap::new(),
            creating: HashMap::new(),
        }
    }
}

impl<M: Copy + Eq + Hash> SessionOwners<M> {
    /// Whether a request of `subject` naming session `id` must be refused.
    pub(crate) fn refuses(&self, machine: M, id: &str, subject: &str) -> bool {
        self.owners
            .get(&(machine, id.to_owned()))
            .is_some_and(|owner| **owner != *subject)
    }

    /// Notes that `stream`, opened by `subject`, may create a session; `open` tells which
    /// exchanges are still open when the table is full.
    pub(crate) fn creating(
        &mut self,
        stream: StreamId,
        subject: &str,
        open: impl Fn(StreamId) -> bool,
    ) {
        if self.creating.len() >= MAX_CREATING {
            self.creating.retain(|stream, _| open(*stream));
        }
        if self.creating.len() < MAX_CREATING {
            self.creating.insert(stream, Arc::from(subject));
        }
    }

    /// Looks at an output of `machine`'s engine: a response head naming a new session binds
    /// it to the subject of the exchange that created it.
    pub(crate) fn observe(&mut self, machine: M, output: &HttpOutput) {
        if self.creating.is_empty() {
            return;
        }
        let (stream, headers) = match output {
            HttpOutput::Respond { stream, response } => (*stream, Some(response.headers())),
            HttpOutput::StartEvents { stream, head } => (*stream, Some(head.headers())),
            HttpOutput::EndEvents { stream } => (*stream, None),
            HttpOutput::Events { .. } => return,
        };
        let Some(subject) = self.creating.remove(&stream) else {
            return;
        };
        let id = headers
            .and_then(|headers| headers.get(SESSION_ID_HEADER))
            .and_then(|value| value.to_str().ok());
        if let Some(id) = id {
            self.bind(machine, id, subject);
        }
    }

    /// Binds session `id` of `machine` to `subject`.
    pub(crate) fn bind(&mut self, machine: M, id: &str, subject: Arc<str>) {
        self.owners.insert((machine, id.to_owned()), subject);
    }

    /// Forgets exchanges that ended before their head.
    pub(crate) fn closed(&mut self, stream: StreamId) {
        self.creating.remove(&stream);
    }

    /// Forgets the sessions that no longer exist, once there are more than `alive` plus some.
    pub(crate) fn prune(&mut self, alive: usize, exists: impl FnMut(M, &str) -> bool) {
        let mut exists = exists;
        if self.owners.len() > alive.saturating_add(64) {
            self.owners.retain(|(machine, id), _| exists(*machine, id));
        }
    }
}

fn http_status(status: StatusCode) -> Refusal {
    let mut response = http::Response::new(Vec::new());
    *response.status_mut() = status;
    Box::new(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(value: &str) -> ScopeSet {
        ScopeSet::parse(value).unwrap()
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn bearer_tokens_are_read_by_rfc_6750_and_nothing_else() {
        let ok = |value: &str| bearer_token(&headers(&[value]), 64).map(|t| t.expose().to_owned());
        assert_eq!(ok("Bearer abc.DEF-1~+/=="), Ok("abc.DEF-1~+/==".to_owned()));
        assert_eq!(ok("bearer   x"), Ok("x".to_owned()));
        assert_eq!(ok("Basic dXNlcjpwdw=="), Err(NoToken::Missing));
        assert_eq!(
            bearer_token(&headers(&[]), 64).map(|_| ()),
            Err(NoToken::Missing)
        );
        for bad in [
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer =abc",
            "Bearer a\"b",
        ] {
            assert!(matches!(ok(bad), Err(NoToken::Malformed(_))), "{bad}");
        }
        let long = format!("Bearer {}", "a".repeat(64));
        assert!(matches!(ok(&long), Err(NoToken::Malformed(_))));
        let two = bearer_token(&headers(&["Bearer a", "Bearer b"]), 64);
        assert!(matches!(two, Err(NoToken::Malformed(_))));
    }

    #[test]
    fn static_tokens_check_expiry_and_audience() {
        let mut table = StaticTokens::new("https://mcp.example.com/mcp");
        table.add("good", "alice", scopes("read")).unwrap();
        let other = Principal::new("bob", scopes("read")).with_audience("https://other.example");
        table.insert("elsewhere", other).unwrap();
        let past = SystemTime::UNIX_EPOCH + Duration::from_secs(10);
        let old = Principal::new("carol", ScopeSet::new())
            .with_audience("https://mcp.example.com/mcp/")
            .with_expiry(past);
        table.insert("old", old).unwrap();
        let now = past + Duration::from_secs(1);
        let found = table.lookup(&Secret::new("good"), now).unwrap();
        assert_eq!(found.subject, "alice");
        assert!(matches!(
            table.lookup(&Secret::new("elsewhere"), now),
            Err(TokenRejection::WrongAudience)
        ));
        assert!(matches!(
            table.lookup(&Secret::new("old"), now),
            Err(TokenRejection::Expired)
        ));
        // Before its expiry (and with a trailing `/` on its audience) it is served.
        let before = past - Duration::from_secs(1);
        assert_eq!(
            table.lookup(&Secret::new("old"), before).unwrap().subject,
            "carol"
        );
        assert!(matches!(
            table.lookup(&Secret::new("goo"), now),
            Err(TokenRejection::Invalid)
        ));
        assert!(!format!("{table:?}").contains("good"));
    }

    fn auth() -> ResourceServerAuth {
        let table = StaticTokens::new("http://127.0.0.1:9/mcp");
        ResourceServerAuth::new("http://127.0.0.1:9/mcp", ["https://as.example"], table)
            .unwrap()
            .require_scopes(scopes("mcp:basic offline_access"))
            .tool_scopes("delete", scopes("files:write"))
            .unwrap()
            .tool_scopes("echo", ScopeSet::new())
            .unwrap()
    }

    #[test]
    fn metadata_lists_the_resource_its_servers_and_scopes() {
        let auth = auth();
        let metadata = auth.metadata();
        assert_eq!(metadata.resource, "http://127.0.0.1:9/mcp");
        assert_eq!(metadata.authorization_servers, ["https://as.example"]);
        assert_eq!(
            metadata.scopes_supported.as_deref(),
            Some(&["mcp:basic".to_owned(), "files:write".to_owned()][..])
        );
        assert_eq!(
            auth.metadata_url(),
            "http://127.0.0.1:9/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            auth.metadata_paths(),
            [
                "/.well-known/oauth-protected-resource/mcp",
                "/.well-known/oauth-protected-resource"
            ]
        );
        assert_eq!(
            auth.root_metadata(false).metadata_paths(),
            ["/.well-known/oauth-protected-resource/mcp"]
        );
        let none: [&str; 0] = [];
        assert!(matches!(
            ResourceServerAuth::new("http://h/mcp", none, StaticTokens::new("x")),
            Err(ResourceServerConfigError::NoAuthorizationServers)
        ));
        assert!(matches!(
            ResourceServerAuth::new("ftp://h/mcp", ["https://as"], StaticTokens::new("x")),
            Err(ResourceServerConfigError::InvalidResource { .. })
        ));
    }

    #[test]
    fn a_tool_call_needs_its_tools_scopes_and_an_unreadable_body_needs_all() {
        let auth = auth();
        let call = |name: &str| {
            format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{name}"}}}}"#
            )
        };
        assert_eq!(
            auth.scopes_needed(call("echo").as_bytes()),
            scopes("mcp:basic")
        );
        assert_eq!(
            auth.scopes_needed(call("delete").as_bytes()),
            scopes("mcp:basic files:write")
        );
        let list = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
        assert_eq!(auth.scopes_needed(list), scopes("mcp:basic"));
        let batch = format!("[{}, {}]", call("echo"), call("delete"));
        assert_eq!(
            auth.scopes_needed(batch.as_bytes()),
            scopes("mcp:basic files:write")
        );
        assert_eq!(
            auth.scopes_needed(b"{nope"),
            scopes("mcp:basic files:write")
        );
        let bad_params = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}"#;
        assert_eq!(
            auth.scopes_needed(bad_params),
            scopes("mcp:basic files:write")
        );
    }
}
