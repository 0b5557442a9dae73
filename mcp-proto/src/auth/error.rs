//! The flow's errors, typed by who is at fault ([`Fault`]).

use std::fmt;
use std::time::Duration;

use super::challenge::BearerChallenge;
use super::discovery::IssuerError;
use super::jwt::SignerError;
use super::metadata::MetadataError;
use super::request::{AuthorizationResponseError, RequestError};
use super::token::{OAuthErrorResponse, TokenResponseError};
use super::url::UrlError;

/// What a [`Fetch`](super::AuthAction::Fetch) is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FetchPurpose {
    /// A Protected Resource Metadata candidate.
    ResourceMetadata,
    /// An authorization server metadata candidate.
    ServerMetadata,
    /// Dynamic Client Registration.
    Registration,
    /// A token request at the MCP authorization server.
    Token,
    /// An RFC 8693 token exchange at the enterprise identity provider.
    TokenExchange,
}

impl fmt::Display for FetchPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ResourceMetadata => "protected resource metadata",
            Self::ServerMetadata => "authorization server metadata",
            Self::Registration => "client registration",
            Self::Token => "token",
            Self::TokenExchange => "token exchange",
        })
    }
}

/// Who is at fault for an [`AuthError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The MCP server (the OAuth resource server): bad metadata, a refusal no token can fix.
    ResourceServer,
    /// The authorization server (or the enterprise identity provider): bad metadata, refused
    /// registration or grant, a response that fails the security checks.
    AuthorizationServer,
    /// The user or the situation: authorization denied, not completed in time, abandoned, no
    /// way to register without the user's credentials, or too many attempts in a row.
    User,
    /// This client's configuration (a missing secret, signer or clock).
    Client,
    /// The network: a fetch the adapter could not complete.
    Network,
}

/// Why a registration failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    /// A non-2xx answer, with the OAuth error object when there was one.
    #[error("registration endpoint answered {status}{}", error.as_ref().map(|error| format!(": {error}")).unwrap_or_default())]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The error object.
        error: Option<OAuthErrorResponse>,
    },
    /// A 2xx whose body is not a registration response.
    #[error("registration endpoint answered with an invalid body")]
    Invalid(#[source] MetadataError),
}

/// A configuration problem found when the flow needed the missing piece.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The token endpoint wants a client secret and the registration has none.
    #[error("the {method} token endpoint authentication needs a client secret")]
    MissingSecret {
        /// The method.
        method: String,
    },
    /// `private_key_jwt` without an [`AssertionSigner`](super::jwt::AssertionSigner).
    #[error("private_key_jwt needs an assertion signer")]
    MissingSigner,
    /// `private_key_jwt` or DPoP without a [`WallClock`](super::jwt::WallClock) for `iat`/`exp`.
    #[error("private_key_jwt and DPoP need a wall clock anchor")]
    MissingWallClock,
    /// A token endpoint authentication method this crate does not implement.
    #[error("token endpoint authentication method {0:?} is not supported")]
    UnsupportedAuthMethod(String),
    /// The MCP server URL itself is refused by the URL policy.
    #[error("the MCP server URL is refused")]
    ServerUrl(#[source] UrlError),
}

/// Why an authorization flow failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The Protected Resource Metadata at `url` was refused (another resource, no
    /// authorization server, an invalid `resource`).
    #[error("protected resource metadata at {url} refused")]
    ResourceMetadata {
        /// Where it came from.
        url: String,
        /// Why.
        #[source]
        source: MetadataError,
    },
    /// No Protected Resource Metadata was found and the 2025-03-26 fallback is disabled.
    #[error("no protected resource metadata found at {tried} URLs")]
    NoResourceMetadata {
        /// How many URLs were tried.
        tried: usize,
    },
    /// A 403 that asks for no more scope: a refusal no new token can fix.
    #[error("the MCP server refused access (403){}", challenge.as_ref().and_then(|c| c.error.as_deref()).map(|e| format!(": {e}")).unwrap_or_default())]
    Forbidden {
        /// The Bearer challenge, if the response had one.
        challenge: Option<Box<BearerChallenge>>,
    },
    /// The PRM named an issuer that cannot be used for discovery.
    #[error("unusable authorization server issuer")]
    Issuer(#[source] IssuerError),
    /// The authorization server metadata was refused (issuer mismatch, no PKCE S256, bad
    /// endpoints).
    #[error("authorization server metadata for {issuer} refused")]
    ServerMetadata {
        /// The issuer.
        issuer: String,
        /// Why.
        #[source]
        source: MetadataError,
    },
    /// No metadata document was found for the issuer.
    #[error("no authorization server metadata found for {issuer} ({tried} URLs tried)")]
    NoServerMetadata {
        /// The issuer.
        issuer: String,
        /// How many URLs were tried.
        tried: usize,
    },
    /// Dynamic Client Registration failed.
    #[error("client registration at {issuer} failed")]
    Registration {
        /// The issuer.
        issuer: String,
        /// Why.
        #[source]
        source: RegistrationError,
    },
    /// A token request failed.
    #[error("{grant} request at {issuer} failed")]
    Token {
        /// The server asked (the issuer, or the identity provider's token endpoint).
        issuer: String,
        /// The `grant_type`.
        grant: &'static str,
        /// Why.
        #[source]
        source: TokenResponseError,
    },
    /// The authorization response failed a check, or carried an error (e.g. the user denied).
    #[error("authorization response refused")]
    AuthorizationResponse(#[source] AuthorizationResponseError),
    /// A URL from discovery is refused by the URL policy (plain http, private address).
    #[error("refusing an unsafe URL")]
    UnsafeUrl(#[source] UrlError),
    /// The authorization server has no way for this client to register: the user must
    /// provide client credentials for this issuer.
    #[error(
        "no client credentials for {issuer}, and it supports neither client ID metadata documents nor dynamic registration"
    )]
    RegistrationRequired {
        /// The issuer.
        issuer: String,
    },
    /// Too many authorization attempts in a row without an accepted request (a resource
    /// server that keeps refusing, e.g. endless `insufficient_scope`).
    #[error("gave up after {attempts} authorization attempts in a row")]
    AttemptsExhausted {
        /// The limit reached.
        attempts: u32,
    },
    /// The user did not come back from the authorization server in time.
    #[error("authorization not completed within {0:?}")]
    TimedOut(Duration),
    /// The caller abandoned the flow.
    #[error("authorization abandoned")]
    Abandoned,
    /// The configuration lacks what the flow needed.
    #[error("client configuration")]
    Config(#[source] ConfigError),
    /// The caller's assertion or DPoP signer failed.
    #[error("signing a client assertion or DPoP proof failed")]
    Signer(#[source] SignerError),
    /// The authorization server answered `use_dpop_nonce` again to a token request that
    /// already carried the nonce it had just supplied (RFC 9449 §8): the client gives up
    /// instead of looping.
    #[error("{issuer} kept asking for a new DPoP nonce")]
    DpopNonce {
        /// The issuer.
        issuer: String,
    },
    /// The MCP server answered `use_dpop_nonce` again to a request already sent again with
    /// the nonce it had supplied, or asked for a nonce without supplying one (RFC 9449 §9).
    #[error("the MCP server kept asking for a new DPoP nonce")]
    ResourceDpopNonce,
    /// A request could not be built.
    #[error("request could not be built")]
    Request(#[source] RequestError),
    /// The adapter could not complete a fetch.
    #[error("{purpose} request failed: {reason}")]
    Fetch {
        /// What the fetch was for.
        purpose: FetchPurpose,
        /// The adapter's description.
        reason: String,
    },
}

impl AuthError {
    /// Who is at fault.
    pub const fn fault(&self) -> Fault {
        match self {
            Self::ResourceMetadata { .. }
            | Self::NoResourceMetadata { .. }
            | Self::Forbidden { .. }
            | Self::ResourceDpopNonce => Fault::ResourceServer,
            Self::AuthorizationResponse(AuthorizationResponseError::Denied(_))
            | Self::RegistrationRequired { .. }
            | Self::AttemptsExhausted { .. }
            | Self::TimedOut(_)
            | Self::Abandoned => Fault::User,
            Self::Issuer(_)
            | Self::ServerMetadata { .. }
            | Self::NoServerMetadata { .. }
            | Self::Registration { .. }
            | Self::Token { .. }
            | Self::DpopNonce { .. }
            | Self::AuthorizationResponse(_)
            | Self::UnsafeUrl(_) => Fault::AuthorizationServer,
            Self::Config(_) | Self::Signer(_) | Self::Request(_) => Fault::Client,
            Self::Fetch { .. } => Fault::Network,
        }
    }
}

/// A call the flow cannot take in its current state (the caller's mistake, reported at once;
/// the flow itself is unaffected).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// `handle_unauthorized` with a status other than 401 or 403.
    #[error("status {0} is not 401 or 403")]
    NotAnAuthorizationStatus(u16),
    /// `handle_redirect` while no authorization is waiting for one.
    #[error("no authorization is waiting for a redirect")]
    NoAuthorizationPending,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_and_causes() {
        let error = AuthError::ResourceMetadata {
            url: "https://x/.well-known/oauth-protected-resource".to_owned(),
            source: MetadataError::NoAuthorizationServers,
        };
        assert_eq!(error.fault(), Fault::ResourceServer);
        assert!(std::error::Error::source(&error).is_some());
        let denied = AuthError::AuthorizationResponse(AuthorizationResponseError::Denied(
            OAuthErrorResponse {
                error: "access_denied".to_owned(),
                ..OAuthErrorResponse::default()
            },
        ));
        assert_eq!(denied.fault(), Fault::User);
        let forged = AuthError::AuthorizationResponse(AuthorizationResponseError::StateMismatch);
        assert_eq!(forged.fault(), Fault::AuthorizationServer);
        let forbidden = AuthError::Forbidden {
            challenge: Some(Box::new(BearerChallenge {
                error: Some("forbidden".to_owned()),
                ..BearerChallenge::default()
            })),
        };
        assert_eq!(
            forbidden.to_string(),
            "the MCP server refused access (403): forbidden"
        );
        assert_eq!(
            AuthError::Fetch {
                purpose: FetchPurpose::Token,
                reason: "connection refused".to_owned()
            }
            .to_string(),
            "token request failed: connection refused"
        );
        assert_eq!(
            AuthError::Config(ConfigError::MissingSigner).fault(),
            Fault::Client
        );
        let refused = RegistrationError::Refused {
            status: 400,
            error: Some(OAuthErrorResponse {
                error: "invalid_redirect_uri".to_owned(),
                ..OAuthErrorResponse::default()
            }),
        };
        assert_eq!(
            refused.to_string(),
            "registration endpoint answered 400: invalid_redirect_uri"
        );
    }
}
