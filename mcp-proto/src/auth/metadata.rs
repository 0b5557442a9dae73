//! Discovery documents: Protected Resource Metadata (RFC 9728) and Authorization Server
//! Metadata (RFC 8414, with the OpenID Connect Discovery fields MCP uses), their parsing within
//! a size bound, and the checks MCP requires before anything in them is used.
//!
//! * [`check_resource_metadata`]: the document's `resource` must name the MCP server (the
//!   same origin, and a path equal to the server's or a parent of it at a `/` boundary) and it
//!   must list at least one authorization server. A document for another resource is refused:
//!   the client must not go on to authorize (conformance `auth/resource-mismatch`).
//! * [`check_authorization_server_metadata`]: the `issuer` must be exactly the issuer the
//!   metadata URL was built from (RFC 8414 §3.3, no normalization), and the endpoints must be
//!   URLs without fragments.
//! * [`AuthorizationServerMetadata::require_s256`]: an authorization server that does not
//!   list `S256` in `code_challenge_methods_supported` is refused for the authorization-code
//!   flow (the spec: a missing list means the client "MUST refuse to proceed").

use serde::{Deserialize, Serialize};

use super::pkce::S256;
use super::url::{HttpUrl, UrlError};

/// The default largest metadata document accepted, in bytes.
pub const DEFAULT_MAX_METADATA_BYTES: usize = 64 * 1024;

/// A JSON document that could not be read, with serde's position and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at line {line}, column {column}: {message}")]
pub struct JsonError {
    /// The 1-based line.
    pub line: usize,
    /// The 1-based column.
    pub column: usize,
    /// serde_json's description.
    pub message: String,
}

impl From<serde_json::Error> for JsonError {
    fn from(error: serde_json::Error) -> Self {
        Self {
            line: error.line(),
            column: error.column(),
            message: error.to_string(),
        }
    }
}

/// Parses a JSON body of at most `max` bytes.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    body: &[u8],
    max: usize,
) -> Result<T, MetadataError> {
    if body.len() > max {
        return Err(MetadataError::TooLarge {
            len: body.len(),
            max,
        });
    }
    serde_json::from_slice(body).map_err(|error| MetadataError::Json(error.into()))
}

/// Why a metadata document was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// The body is larger than allowed.
    #[error("document of {len} bytes, more than {max}")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not the JSON object expected.
    #[error("not a metadata document")]
    Json(#[source] JsonError),
    /// The PRM `resource` is not an absolute http(s) URL without fragment.
    #[error("protected resource metadata has an invalid resource {resource:?}")]
    InvalidResource {
        /// The value.
        resource: String,
        /// Why.
        #[source]
        source: UrlError,
    },
    /// The PRM names another resource than the MCP server.
    #[error("protected resource metadata is for {published:?}, not for the MCP server {server:?}")]
    ResourceMismatch {
        /// The document's `resource`.
        published: String,
        /// The MCP server's URL.
        server: String,
    },
    /// The PRM lists no authorization server.
    #[error("protected resource metadata lists no authorization server")]
    NoAuthorizationServers,
    /// The AS metadata's `issuer` is not the issuer used to find it.
    #[error("authorization server metadata has issuer {published:?}, expected {expected:?}")]
    IssuerMismatch {
        /// The issuer the metadata URL was built from.
        expected: String,
        /// The document's `issuer`.
        published: String,
    },
    /// An endpoint the flow needs is absent.
    #[error("authorization server metadata has no {0}")]
    MissingEndpoint(&'static str),
    /// An endpoint is not an absolute http(s) URL without fragment.
    #[error("authorization server metadata has an invalid {name}")]
    InvalidEndpoint {
        /// The field.
        name: &'static str,
        /// Why.
        #[source]
        source: UrlError,
    },
    /// The authorization server does not advertise PKCE `S256`.
    #[error(
        "authorization server {issuer:?} does not advertise PKCE S256 (code_challenge_methods_supported: {methods:?})"
    )]
    PkceUnsupported {
        /// Its issuer.
        issuer: String,
        /// What it lists, if anything.
        methods: Option<Vec<String>>,
    },
}

/// OAuth 2.0 Protected Resource Metadata (RFC 9728 §2); unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProtectedResourceMetadata {
    /// The protected resource's identifier.
    pub resource: String,
    /// Issuer identifiers of the authorization servers that protect it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_servers: Vec<String>,
    /// Scopes the resource uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// How tokens may be presented (`header`, `body`, `query`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_methods_supported: Option<Vec<String>>,
    /// Where the resource's public keys are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// A human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Documentation for developers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_documentation: Option<String>,
}

impl ProtectedResourceMetadata {
    /// Parses a document of at most `max_bytes`.
    ///
    /// # Errors
    /// [`MetadataError::TooLarge`] or [`MetadataError::Json`].
    pub fn from_json(body: &[u8], max_bytes: usize) -> Result<Self, MetadataError> {
        parse_json(body, max_bytes)
    }
}

/// Whether a Protected Resource Metadata `resource` covers the MCP server at `server`: the
/// same scheme, host and port, and a path equal to the server's or a parent of it (compared at
/// `/` boundaries, ignoring one trailing `/`); a `resource` with a query must match the
/// server's query exactly.
///
/// RFC 9728 §3.3 ties `resource` to the URL the metadata was found from: the server's URL for
/// `/.well-known/oauth-protected-resource/mcp`, but only its origin for the root well-known
/// document. Accepting a parent path covers both without accepting another server.
pub fn resource_matches(resource: &HttpUrl, server: &HttpUrl) -> bool {
    if !resource.same_origin(server) {
        return false;
    }
    if resource.query().is_some() && resource.query() != server.query() {
        return false;
    }
    let parent = resource.path_without_trailing_slash();
    let child = server.path_without_trailing_slash();
    child == parent
        || child
            .strip_prefix(parent)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The PRM checks: `resource` names the server at `server`, and at least one authorization
/// server is listed. Returns the parsed `resource`.
///
/// # Errors
/// [`MetadataError::InvalidResource`], [`MetadataError::ResourceMismatch`] or
/// [`MetadataError::NoAuthorizationServers`].
pub fn check_resource_metadata(
    metadata: &ProtectedResourceMetadata,
    server: &HttpUrl,
) -> Result<HttpUrl, MetadataError> {
    let resource =
        HttpUrl::parse(&metadata.resource).map_err(|source| MetadataError::InvalidResource {
            resource: metadata.resource.clone(),
            source,
        })?;
    if !resource_matches(&resource, server) {
        return Err(MetadataError::ResourceMismatch {
            published: metadata.resource.clone(),
            server: server.to_string(),
        });
    }
    if metadata.authorization_servers.is_empty() {
        return Err(MetadataError::NoAuthorizationServers);
    }
    Ok(resource)
}

/// OAuth 2.0 Authorization Server Metadata (RFC 8414 §2) and the OpenID Connect Discovery
/// fields MCP relies on; unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuthorizationServerMetadata {
    /// The issuer identifier.
    pub issuer: String,
    /// The authorization endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// The token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// The dynamic client registration endpoint (RFC 7591).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    /// Scopes the server supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// `response_type` values supported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_types_supported: Vec<String>,
    /// Grant types supported (RFC 8414 default: `authorization_code`, `implicit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    /// PKCE methods supported (absent: PKCE support unknown, which MCP treats as none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// Client authentication methods at the token endpoint (RFC 8414 default:
    /// `client_secret_basic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// JWS algorithms for `private_key_jwt` / `client_secret_jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    /// Whether URL client ids with a Client ID Metadata Document are accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id_metadata_document_supported: Option<bool>,
    /// Whether authorization responses carry `iss` (RFC 9207).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
    /// The server's JWK set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Token revocation (RFC 7009).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// JWS algorithms the server accepts for DPoP proofs (RFC 9449 §5.1); its presence says
    /// the server issues DPoP-bound tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
}

impl AuthorizationServerMetadata {
    /// Parses a document of at most `max_bytes`.
    ///
    /// # Errors
    /// [`MetadataError::TooLarge`] or [`MetadataError::Json`].
    pub fn from_json(body: &[u8], max_bytes: usize) -> Result<Self, MetadataError> {
        parse_json(body, max_bytes)
    }

    /// Whether `scopes_supported` lists `scope`.
    pub fn lists_scope(&self, scope: &str) -> bool {
        self.scopes_supported
            .as_ref()
            .is_some_and(|scopes| scopes.iter().any(|listed| listed == scope))
    }

    /// Whether `grant_type` is supported (an absent list means RFC 8414's default,
    /// `authorization_code` and `implicit`).
    pub fn supports_grant(&self, grant_type: &str) -> bool {
        match &self.grant_types_supported {
            Some(grants) => grants.iter().any(|grant| grant == grant_type),
            None => matches!(grant_type, "authorization_code" | "implicit"),
        }
    }

    /// Whether DPoP proofs signed with `alg` are accepted (RFC 9449 §5.1): listed in
    /// `dpop_signing_alg_values_supported` (never `none`, nor a symmetric `HS*` algorithm).
    pub fn supports_dpop_alg(&self, alg: &str) -> bool {
        let asymmetric = alg != "none" && !alg.starts_with("HS");
        asymmetric
            && self
                .dpop_signing_alg_values_supported
                .as_ref()
                .is_some_and(|algs| algs.iter().any(|listed| listed == alg))
    }

    /// The token endpoint authentication methods, with RFC 8414's default when absent.
    pub fn token_auth_methods(&self) -> Vec<String> {
        self.token_endpoint_auth_methods_supported
            .clone()
            .unwrap_or_else(|| vec!["client_secret_basic".to_owned()])
    }

    /// Refuses an authorization server that does not advertise `S256`.
    ///
    /// # Errors
    /// [`MetadataError::PkceUnsupported`].
    pub fn require_s256(&self) -> Result<(), MetadataError> {
        let advertised = self
            .code_challenge_methods_supported
            .as_ref()
            .is_some_and(|methods| methods.iter().any(|method| method == S256));
        if advertised {
            Ok(())
        } else {
            Err(MetadataError::PkceUnsupported {
                issuer: self.issuer.clone(),
                methods: self.code_challenge_methods_supported.clone(),
            })
        }
    }
}

/// How the `issuer` of a metadata document is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerCheck<'a> {
    /// Exactly this string (RFC 8414 §3.3; MCP: the issuer named by the PRM).
    Exact(&'a str),
    /// Any issuer on the same origin as this URL: the 2025-03-26 fallback, where the metadata
    /// is fetched from the MCP server's origin without a known issuer. Harness 0.1.16 serves
    /// an issuer of `<origin>/oauth` there; the origin check still keeps a document from
    /// claiming another server's identity.
    SameOrigin(&'a HttpUrl),
}

/// The endpoints a flow uses, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The authorization endpoint (absent: only non-interactive grants are possible).
    pub authorization: Option<HttpUrl>,
    /// The token endpoint.
    pub token: HttpUrl,
    /// The registration endpoint.
    pub registration: Option<HttpUrl>,
}

fn endpoint(name: &'static str, value: Option<&String>) -> Result<Option<HttpUrl>, MetadataError> {
    value
        .map(|value| {
            HttpUrl::parse(value).map_err(|source| MetadataError::InvalidEndpoint { name, source })
        })
        .transpose()
}

/// The AS metadata checks: the issuer (per `check`) and the endpoints' syntax. Returns the
/// parsed endpoints.
///
/// # Errors
/// [`MetadataError::IssuerMismatch`], [`MetadataError::MissingEndpoint`] (no token endpoint)
/// or [`MetadataError::InvalidEndpoint`].
pub fn check_authorization_server_metadata(
    metadata: &AuthorizationServerMetadata,
    check: &IssuerCheck<'_>,
) -> Result<Endpoints, MetadataError> {
    let issuer_ok = match check {
        IssuerCheck::Exact(expected) => metadata.issuer == *expected,
        IssuerCheck::SameOrigin(origin) => {
            HttpUrl::parse(&metadata.issuer).is_ok_and(|issuer| issuer.same_origin(origin))
        }
    };
    if !issuer_ok {
        return Err(MetadataError::IssuerMismatch {
            expected: match check {
                IssuerCheck::Exact(expected) => (*expected).to_owned(),
                IssuerCheck::SameOrigin(origin) => origin.origin(),
            },
            published: metadata.issuer.clone(),
        });
    }
    let token = endpoint("token_endpoint", metadata.token_endpoint.as_ref())?
        .ok_or(MetadataError::MissingEndpoint("token_endpoint"))?;
    Ok(Endpoints {
        authorization: endpoint(
            "authorization_endpoint",
            metadata.authorization_endpoint.as_ref(),
        )?,
        token,
        registration: endpoint(
            "registration_endpoint",
            metadata.registration_endpoint.as_ref(),
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(value: &str) -> HttpUrl {
        HttpUrl::parse(value).unwrap()
    }

    #[test]
    fn resource_matching() {
        let server = url("http://localhost:3000/mcp");
        for good in [
            "http://localhost:3000/mcp",
            "http://LOCALHOST:3000/mcp/",
            "http://localhost:3000",
            "http://localhost:3000/",
        ] {
            assert!(resource_matches(&url(good), &server), "{good}");
        }
        for bad in [
            "https://evil.example.com/mcp",
            "https://localhost:3000/mcp",
            "http://localhost:3001/mcp",
            "http://localhost:3000/mc",
            "http://localhost:3000/mcp/sub",
            "http://localhost:3000/other",
            "http://localhost:3000/mcp?tenant=a",
        ] {
            assert!(!resource_matches(&url(bad), &server), "{bad}");
        }
        let with_query = url("https://a/mcp?tenant=a");
        assert!(resource_matches(
            &url("https://a/mcp?tenant=a"),
            &with_query
        ));
        assert!(resource_matches(&url("https://a/mcp"), &with_query));
        assert!(resource_matches(&url("https://a"), &url("https://a/x/y/z")));
        assert!(!resource_matches(
            &url("https://a/x/y"),
            &url("https://a/x/yz")
        ));
    }

    #[test]
    fn resource_metadata_checks() {
        let server = url("http://localhost:3000/mcp");
        let mut prm: ProtectedResourceMetadata = serde_json::from_str(
            r#"{"resource":"https://evil.example.com/mcp","authorization_servers":["http://localhost:4000"],"extra":1}"#,
        )
        .unwrap();
        assert!(matches!(
            check_resource_metadata(&prm, &server),
            Err(MetadataError::ResourceMismatch { .. })
        ));
        prm.resource = "http://localhost:3000/mcp#x".to_owned();
        assert!(matches!(
            check_resource_metadata(&prm, &server),
            Err(MetadataError::InvalidResource {
                source: UrlError::Fragment,
                ..
            })
        ));
        prm.resource = "http://localhost:3000".to_owned();
        assert_eq!(
            check_resource_metadata(&prm, &server).unwrap().to_string(),
            "http://localhost:3000"
        );
        prm.authorization_servers.clear();
        assert_eq!(
            check_resource_metadata(&prm, &server),
            Err(MetadataError::NoAuthorizationServers)
        );
    }

    #[test]
    fn documents_are_bounded_and_typed() {
        assert!(matches!(
            ProtectedResourceMetadata::from_json(&[b' '; 100], 10),
            Err(MetadataError::TooLarge { len: 100, max: 10 })
        ));
        let error = ProtectedResourceMetadata::from_json(b"{\"resource\": 3}", 100).unwrap_err();
        let MetadataError::Json(json) = &error else {
            panic!("{error:?}")
        };
        assert_eq!(json.line, 1);
        assert!(std::error::Error::source(&error).is_some());
        assert!(AuthorizationServerMetadata::from_json(b"<html>", 100).is_err());
    }

    #[test]
    fn issuer_is_compared_exactly() {
        let metadata = AuthorizationServerMetadata {
            issuer: "https://as.example.com/tenant1".to_owned(),
            authorization_endpoint: Some("https://as.example.com/tenant1/authorize".to_owned()),
            token_endpoint: Some("https://as.example.com/tenant1/token".to_owned()),
            ..AuthorizationServerMetadata::default()
        };
        let endpoints = check_authorization_server_metadata(
            &metadata,
            &IssuerCheck::Exact("https://as.example.com/tenant1"),
        )
        .unwrap();
        assert_eq!(endpoints.token.path(), "/tenant1/token");
        assert!(endpoints.registration.is_none());
        for other in [
            "https://as.example.com/tenant1/",
            "https://AS.example.com/tenant1",
            "https://as.example.com:443/tenant1",
            "https://as.example.com",
        ] {
            assert!(
                matches!(
                    check_authorization_server_metadata(&metadata, &IssuerCheck::Exact(other)),
                    Err(MetadataError::IssuerMismatch { .. })
                ),
                "{other}"
            );
        }
        let origin = url("https://as.example.com/mcp");
        assert!(
            check_authorization_server_metadata(&metadata, &IssuerCheck::SameOrigin(&origin))
                .is_ok()
        );
        let elsewhere = url("https://other.example.com/mcp");
        assert!(
            check_authorization_server_metadata(&metadata, &IssuerCheck::SameOrigin(&elsewhere))
                .is_err()
        );
    }

    #[test]
    fn endpoints_are_validated() {
        let mut metadata = AuthorizationServerMetadata {
            issuer: "https://as".to_owned(),
            ..AuthorizationServerMetadata::default()
        };
        let check = IssuerCheck::Exact("https://as");
        assert_eq!(
            check_authorization_server_metadata(&metadata, &check),
            Err(MetadataError::MissingEndpoint("token_endpoint"))
        );
        metadata.token_endpoint = Some("https://as/token".to_owned());
        metadata.authorization_endpoint = Some("javascript:alert(1)".to_owned());
        assert!(matches!(
            check_authorization_server_metadata(&metadata, &check),
            Err(MetadataError::InvalidEndpoint {
                name: "authorization_endpoint",
                ..
            })
        ));
    }

    #[test]
    fn pkce_and_defaults() {
        let mut metadata = AuthorizationServerMetadata::default();
        assert!(matches!(
            metadata.require_s256(),
            Err(MetadataError::PkceUnsupported { methods: None, .. })
        ));
        metadata.code_challenge_methods_supported = Some(vec!["plain".to_owned()]);
        assert!(metadata.require_s256().is_err());
        metadata.code_challenge_methods_supported =
            Some(vec!["plain".to_owned(), "S256".to_owned()]);
        assert_eq!(metadata.require_s256(), Ok(()));
        assert_eq!(metadata.token_auth_methods(), ["client_secret_basic"]);
        assert!(metadata.supports_grant("authorization_code"));
        assert!(!metadata.supports_grant("refresh_token"));
        metadata.grant_types_supported = Some(vec!["client_credentials".to_owned()]);
        assert!(!metadata.supports_grant("authorization_code"));
        assert!(!metadata.lists_scope("offline_access"));
        metadata.scopes_supported = Some(vec!["offline_access".to_owned()]);
        assert!(metadata.lists_scope("offline_access"));
    }
}
