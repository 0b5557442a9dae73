//! MCP authorization (OAuth 2.1) for clients, as pure logic: the adapters do the HTTP.
//!
//! - [`challenge`]: `WWW-Authenticate` parsing (RFC 9110 §11.6.1) into typed challenges, the
//!   [`BearerChallenge`] view, and the encoder a resource server uses to emit one;
//! - [`pkce`]: PKCE verifiers and `S256` challenges (RFC 7636) and `state`, from caller entropy;
//! - [`discovery`]: which metadata URLs to try, in the spec's order, including the 2025-03-26
//!   fallbacks, and the canonical resource URI of an MCP server;
//! - [`metadata`]: Protected Resource Metadata (RFC 9728) and Authorization Server Metadata
//!   (RFC 8414 / OIDC) with the checks MCP requires (resource match, exact issuer, PKCE S256);
//! - [`registration`]: pre-registration, Client ID Metadata Documents and Dynamic Client
//!   Registration (RFC 7591) types and choices;
//! - [`scope`]: scope sets and the selection, step-up and `offline_access` rules;
//! - [`request`]: the authorization URL, token requests for every grant and client
//!   authentication method, and the authorization response check (`state`, RFC 9207 `iss`);
//! - [`jwt`]: `private_key_jwt` assertions assembled here, signed by the caller;
//! - [`dpop`]: DPoP (RFC 9449) proofs assembled here, signed by the caller's key, its public
//!   JWK and thumbprint, and server-supplied nonces;
//! - [`token`]: token responses and the tokens kept per authorization server;
//! - [`url`]: strict http(s) URLs, the transport-security policy, form encoding;
//! - [`OAuthClient`]: the flow tying it together as a Sans-IO state machine.
//!
//! # Driving [`OAuthClient`]
//!
//! The adapter sends each MCP request with [`OAuthClient::authorize_request`]'s credentials
//! (`Authorization: Bearer`, or `Authorization: DPoP` plus a `DPoP` proof made for that
//! request) and reports every answer with [`OAuthClient::handle_resource_response`]: a
//! [`ResourceVerdict::Retry`] (a DPoP nonce challenge) sends the request again at once; on
//! [`ResourceVerdict::Hold`] (a 401 or 403 that starts or joins the flow) it drains
//! [`OAuthClient::poll_action`]: it performs each [`AuthAction::Fetch`] (reporting with
//! `handle_fetch_response` / `handle_fetch_failed`, and draining again), opens each
//! [`AuthAction::Authorize`] URL (reporting the redirect with `handle_redirect`), and on
//! [`AuthAction::Authorized`] retries the MCP request with new credentials; on
//! [`AuthAction::Failed`] it fails that request with the typed error. (The narrower
//! [`OAuthClient::bearer_for`], [`OAuthClient::handle_unauthorized`] and
//! [`OAuthClient::handle_accepted`] serve bearer-only callers.)
//!
//! # DPoP
//!
//! With a [`DpopSigner`] in [`OAuthClientConfig::dpop_signer`] (and a [`WallClock`]), token
//! requests to an authorization server listing the key's algorithm in
//! `dpop_signing_alg_values_supported` carry a proof; a `DPoP` token then goes out with a
//! fresh proof per request. Nonces are kept per server (each authorization server's, and the
//! MCP server's); a `use_dpop_nonce` answer gets one retry with the new nonce, and a server
//! that keeps asking fails the request with [`AuthError::DpopNonce`] or
//! [`AuthError::ResourceDpopNonce`].
//!
//! ```
//! use std::time::Instant;
//! use mcp_proto::auth::{AuthAction, EntropySource, OAuthClient, OAuthClientConfig};
//!
//! struct Counter(u8);
//! impl EntropySource for Counter {
//!     fn fill(&mut self, dest: &mut [u8]) {
//!         for byte in dest { self.0 = self.0.wrapping_add(1); *byte = self.0; }
//!     }
//! }
//!
//! let config = OAuthClientConfig::new(
//!     "https://mcp.example.com/mcp", "http://127.0.0.1:8765/callback", "demo",
//! ).unwrap();
//! let mut client = OAuthClient::new(config, Box::new(Counter(0)));
//! let now = Instant::now();
//! client.handle_unauthorized(now, 401, [
//!     r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#,
//! ]).unwrap();
//! let Some(AuthAction::Fetch { request, .. }) = client.poll_action() else { panic!() };
//! assert_eq!(request.uri(), "https://mcp.example.com/.well-known/oauth-protected-resource/mcp");
//! ```

pub mod challenge;
mod client;
pub mod discovery;
pub mod dpop;
pub mod error;
pub mod jwt;
pub mod metadata;
pub mod pkce;
pub mod registration;
pub mod request;
pub mod scope;
mod secret;
pub mod token;
pub mod url;

pub use challenge::{BearerChallenge, Challenge, ChallengeData, ChallengeError, parse_challenges};
pub use client::{
    AuthAction, AuthLimits, AuthorizationHeaders, Bearer, Credentials,
    DEFAULT_AUTHORIZATION_TIMEOUT, DEFAULT_MAX_AUTHORIZATION_ATTEMPTS, DEFAULT_MAX_ISSUERS,
    DEFAULT_REFRESH_MARGIN, EntropySource, FetchId, GrantConfig, IdentityAssertionGrant,
    MAX_AUTHORIZATION_SERVERS, MAX_PRE_REGISTERED, MAX_QUEUED_ACTIONS, OAuthClient,
    OAuthClientConfig, PreRegisteredClient, ResourceVerdict, Sent,
};
pub use dpop::{DpopProof, DpopSigner, PublicJwk};
pub use error::{AuthError, ConfigError, Fault, FetchPurpose, RegistrationError, UsageError};
pub use jwt::{AssertionSigner, SignerError, WallClock};
pub use metadata::{AuthorizationServerMetadata, ProtectedResourceMetadata};
pub use pkce::{AuthState, PkceVerifier};
pub use registration::{
    ApplicationType, ClientIdMetadataDocument, ClientIdentity, ClientRegistration,
    ClientRegistrationRequest, ClientRegistrationResponse, TokenEndpointAuthMethod,
};
pub use scope::ScopeSet;
pub use secret::Secret;
pub use token::{TokenResponse, TokenSet};
pub use url::{HttpUrl, UrlPolicy};
