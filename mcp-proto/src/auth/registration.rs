//! Client registration: how the client gets a `client_id` at an authorization server, and how
//! it authenticates at the token endpoint.
//!
//! The spec's priority (spec-checklist §8): (1) credentials registered beforehand, (2) a Client
//! ID Metadata Document URL as `client_id` when the server sets
//! `client_id_metadata_document_supported`, (3) Dynamic Client Registration (RFC 7591) when it
//! has a `registration_endpoint`, (4) otherwise the user must supply credentials. Credentials
//! belong to one issuer and are never presented to another.
//!
//! A DCR request names the `application_type` (`native` for desktop, CLI and loopback
//! redirects, `web` otherwise), the `redirect_uris`, the `grant_types` (with `refresh_token`
//! when the server offers refresh tokens) and the token endpoint authentication method the
//! client picked from the server's list.

use serde::{Deserialize, Serialize};

use super::metadata::{AuthorizationServerMetadata, MetadataError, parse_json};
use super::scope::OFFLINE_ACCESS;
use super::secret::Secret;
use super::url::HttpUrl;

/// The `authorization_code` grant type.
pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
/// The `refresh_token` grant type.
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";
/// The `client_credentials` grant type.
pub const GRANT_CLIENT_CREDENTIALS: &str = "client_credentials";
/// The RFC 8693 token exchange grant type.
pub const GRANT_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// The RFC 7523 JWT bearer grant type.
pub const GRANT_JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The largest registration response accepted, in bytes.
pub const MAX_REGISTRATION_BYTES: usize = 64 * 1024;

/// The OAuth client's kind (OpenID Connect Dynamic Registration `application_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplicationType {
    /// Desktop, mobile and command-line clients; loopback or private-scheme redirects.
    Native,
    /// Clients running on a web server with an https redirect.
    Web,
}

impl ApplicationType {
    /// The type a redirect URI implies: `web` for an `https` redirect to a non-loopback host,
    /// `native` otherwise (loopback `http`, private-use schemes).
    pub fn for_redirect_uri(redirect_uri: &str) -> Self {
        match HttpUrl::parse(redirect_uri) {
            Ok(url) if url.is_https() && !url.is_loopback() => Self::Web,
            _ => Self::Native,
        }
    }

    /// `native` or `web`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::Web => "web",
        }
    }
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TokenEndpointAuthMethod {
    /// A public client: `client_id` in the body, no secret.
    None,
    /// HTTP Basic with the form-encoded id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the body.
    ClientSecretPost,
    /// A signed JWT assertion (RFC 7523 §2.2), signed by the caller's
    /// [`AssertionSigner`](super::jwt::AssertionSigner).
    PrivateKeyJwt,
    /// A method this crate does not implement.
    Other(String),
}

impl TokenEndpointAuthMethod {
    /// Reads a method name.
    pub fn parse(name: &str) -> Self {
        match name {
            "none" => Self::None,
            "client_secret_basic" => Self::ClientSecretBasic,
            "client_secret_post" => Self::ClientSecretPost,
            "private_key_jwt" => Self::PrivateKeyJwt,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The method's name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::None => "none",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::Other(name) => name,
        }
    }
}

/// How a [`ClientRegistration`] came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistrationSource {
    /// Configured by the user or the application.
    PreRegistered,
    /// A Client ID Metadata Document URL used as `client_id`.
    MetadataDocument,
    /// Dynamic Client Registration.
    Dynamic,
}

/// The client's credentials at one authorization server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRegistration {
    /// The `client_id`.
    pub client_id: String,
    /// The `client_secret`, for confidential clients.
    pub client_secret: Option<Secret>,
    /// The token endpoint authentication method agreed on, when known.
    pub auth_method: Option<TokenEndpointAuthMethod>,
    /// When the secret expires (seconds since the Unix epoch; `0` or absent: never).
    pub secret_expires_at: Option<u64>,
    /// Where it came from.
    pub source: RegistrationSource,
}

impl ClientRegistration {
    /// Credentials registered beforehand.
    pub fn pre_registered(client_id: impl Into<String>, client_secret: Option<Secret>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            auth_method: None,
            secret_expires_at: None,
            source: RegistrationSource::PreRegistered,
        }
    }

    /// A URL client id (Client ID Metadata Document): a public client.
    pub fn metadata_document(client_id_url: impl Into<String>) -> Self {
        Self {
            client_id: client_id_url.into(),
            client_secret: None,
            auth_method: Some(TokenEndpointAuthMethod::None),
            secret_expires_at: None,
            source: RegistrationSource::MetadataDocument,
        }
    }
}

/// An RFC 7591 client registration request (with OIDC's `application_type`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRegistrationRequest {
    /// Where the authorization server may send the user back.
    pub redirect_uris: Vec<String>,
    /// The token endpoint authentication method asked for.
    pub token_endpoint_auth_method: String,
    /// The grant types the client will use.
    pub grant_types: Vec<String>,
    /// The response types the client will use.
    pub response_types: Vec<String>,
    /// The client's name, shown on consent screens.
    pub client_name: String,
    /// `native` or `web`.
    pub application_type: ApplicationType,
    /// Scopes the client may ask for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client's home page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    /// The client's logo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    /// An identifier of the client software (stable across instances).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    /// The client software's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
}

/// What a client says about itself, for a registration request or a metadata document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// `client_name`.
    pub client_name: String,
    /// The redirect URI (authorization-code flows).
    pub redirect_uri: String,
    /// `native` or `web`.
    pub application_type: ApplicationType,
    /// `client_uri`.
    pub client_uri: Option<String>,
    /// `logo_uri`.
    pub logo_uri: Option<String>,
    /// `software_id`.
    pub software_id: Option<String>,
    /// `software_version`.
    pub software_version: Option<String>,
}

/// The token endpoint authentication method to register with: for a native client, `none`
/// when the server accepts public clients, otherwise a secret (`client_secret_basic`, then
/// `client_secret_post`); for a web client, a secret first. With none of these offered,
/// `client_secret_basic` (RFC 7591's default) is asked for and the server decides.
pub fn registration_auth_method(
    application_type: ApplicationType,
    metadata: &AuthorizationServerMetadata,
) -> TokenEndpointAuthMethod {
    let supported = metadata.token_auth_methods();
    let preference: &[TokenEndpointAuthMethod] = match application_type {
        ApplicationType::Native => &[
            TokenEndpointAuthMethod::None,
            TokenEndpointAuthMethod::ClientSecretBasic,
            TokenEndpointAuthMethod::ClientSecretPost,
        ],
        ApplicationType::Web => &[
            TokenEndpointAuthMethod::ClientSecretBasic,
            TokenEndpointAuthMethod::ClientSecretPost,
            TokenEndpointAuthMethod::None,
        ],
    };
    preference
        .iter()
        .find(|method| supported.iter().any(|name| name == method.as_str()))
        .cloned()
        .unwrap_or(TokenEndpointAuthMethod::ClientSecretBasic)
}

/// Whether the client should register for (and may hope for) refresh tokens: the server lists
/// the `refresh_token` grant or the `offline_access` scope.
pub fn offers_refresh_tokens(metadata: &AuthorizationServerMetadata) -> bool {
    metadata
        .grant_types_supported
        .as_ref()
        .is_some_and(|grants| grants.iter().any(|grant| grant == GRANT_REFRESH_TOKEN))
        || metadata.lists_scope(OFFLINE_ACCESS)
}

/// The grant types an authorization-code client registers or publishes.
fn code_grant_types(metadata: &AuthorizationServerMetadata) -> Vec<String> {
    let mut grants = vec![GRANT_AUTHORIZATION_CODE.to_owned()];
    if offers_refresh_tokens(metadata) {
        grants.push(GRANT_REFRESH_TOKEN.to_owned());
    }
    grants
}

impl ClientRegistrationRequest {
    /// The DCR request of an authorization-code client at the server described by `metadata`.
    pub fn for_authorization_code(
        identity: &ClientIdentity,
        metadata: &AuthorizationServerMetadata,
    ) -> Self {
        Self {
            redirect_uris: vec![identity.redirect_uri.clone()],
            token_endpoint_auth_method: registration_auth_method(
                identity.application_type,
                metadata,
            )
            .as_str()
            .to_owned(),
            grant_types: code_grant_types(metadata),
            response_types: vec!["code".to_owned()],
            client_name: identity.client_name.clone(),
            application_type: identity.application_type,
            scope: None,
            client_uri: identity.client_uri.clone(),
            logo_uri: identity.logo_uri.clone(),
            software_id: identity.software_id.clone(),
            software_version: identity.software_version.clone(),
        }
    }
}

/// An RFC 7591 registration response (unknown fields are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRegistrationResponse {
    /// The issued `client_id`.
    pub client_id: String,
    /// The issued secret, for confidential clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// When the id was issued (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id_issued_at: Option<u64>,
    /// When the secret expires (Unix seconds; 0: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<u64>,
    /// The method the server registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
}

impl ClientRegistrationResponse {
    /// Parses a response body.
    ///
    /// # Errors
    /// [`MetadataError::TooLarge`] or [`MetadataError::Json`].
    pub fn from_json(body: &[u8]) -> Result<Self, MetadataError> {
        parse_json(body, MAX_REGISTRATION_BYTES)
    }

    /// The credentials it grants. When the response leaves out the method, the one requested
    /// stands (RFC 7591 §3.2.1: the response repeats the registered metadata).
    pub fn into_registration(self, requested: &TokenEndpointAuthMethod) -> ClientRegistration {
        let auth_method = match self.token_endpoint_auth_method.as_deref() {
            Some(method) => TokenEndpointAuthMethod::parse(method),
            None if self.client_secret.is_none() => TokenEndpointAuthMethod::None,
            None => requested.clone(),
        };
        ClientRegistration {
            client_id: self.client_id,
            client_secret: self.client_secret.map(Secret::new),
            auth_method: Some(auth_method),
            secret_expires_at: self.client_secret_expires_at,
            source: RegistrationSource::Dynamic,
        }
    }
}

/// A Client ID Metadata Document: what the client publishes at its URL `client_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientIdMetadataDocument {
    /// Exactly the URL the document is served at.
    pub client_id: String,
    /// The client's name.
    pub client_name: String,
    /// Its redirect URIs (the authorization server checks redirects against them).
    pub redirect_uris: Vec<String>,
    /// Grant types.
    pub grant_types: Vec<String>,
    /// Response types.
    pub response_types: Vec<String>,
    /// `none`: a metadata-document client is public.
    pub token_endpoint_auth_method: String,
    /// `native` or `web`.
    pub application_type: ApplicationType,
    /// The client's home page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    /// The client's logo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
}

/// Why a Client ID Metadata Document (or its URL) is not acceptable.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientIdDocumentError {
    /// The `client_id` URL is not https, or has no path.
    #[error("client id metadata URL {0:?} must be an https URL with a path")]
    InvalidUrl(String),
    /// The document's `client_id` is not exactly its URL.
    #[error("document client_id {published:?} is not its URL {url:?}")]
    ClientIdMismatch {
        /// The URL.
        url: String,
        /// The document's `client_id`.
        published: String,
    },
    /// No redirect URI.
    #[error("document lists no redirect URI")]
    NoRedirectUri,
}

/// Checks a `client_id` URL: https, with a path other than `/`.
///
/// # Errors
/// [`ClientIdDocumentError::InvalidUrl`].
pub fn check_client_id_url(url: &str) -> Result<HttpUrl, ClientIdDocumentError> {
    match HttpUrl::parse(url) {
        Ok(parsed) if parsed.is_https() && !parsed.path_without_trailing_slash().is_empty() => {
            Ok(parsed)
        }
        _ => Err(ClientIdDocumentError::InvalidUrl(url.to_owned())),
    }
}

impl ClientIdMetadataDocument {
    /// The document a client publishes at `client_id_url` (grant types as for DCR against a
    /// server that offers refresh tokens when `refresh_tokens` is set).
    ///
    /// # Errors
    /// [`ClientIdDocumentError::InvalidUrl`].
    pub fn new(
        client_id_url: &str,
        identity: &ClientIdentity,
        refresh_tokens: bool,
    ) -> Result<Self, ClientIdDocumentError> {
        check_client_id_url(client_id_url)?;
        let mut grant_types = vec![GRANT_AUTHORIZATION_CODE.to_owned()];
        if refresh_tokens {
            grant_types.push(GRANT_REFRESH_TOKEN.to_owned());
        }
        Ok(Self {
            client_id: client_id_url.to_owned(),
            client_name: identity.client_name.clone(),
            redirect_uris: vec![identity.redirect_uri.clone()],
            grant_types,
            response_types: vec!["code".to_owned()],
            token_endpoint_auth_method: TokenEndpointAuthMethod::None.as_str().to_owned(),
            application_type: identity.application_type,
            client_uri: identity.client_uri.clone(),
            logo_uri: identity.logo_uri.clone(),
        })
    }

    /// The checks an authorization server applies to a fetched document served at `url`.
    ///
    /// # Errors
    /// See [`ClientIdDocumentError`].
    pub fn check(&self, url: &str) -> Result<(), ClientIdDocumentError> {
        check_client_id_url(url)?;
        if self.client_id != url {
            return Err(ClientIdDocumentError::ClientIdMismatch {
                url: url.to_owned(),
                published: self.client_id.clone(),
            });
        }
        if self.redirect_uris.is_empty() {
            return Err(ClientIdDocumentError::NoRedirectUri);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(redirect_uri: &str) -> ClientIdentity {
        ClientIdentity {
            client_name: "demo".to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            application_type: ApplicationType::for_redirect_uri(redirect_uri),
            client_uri: None,
            logo_uri: None,
            software_id: None,
            software_version: None,
        }
    }

    fn metadata(
        methods: &[&str],
        grants: Option<&[&str]>,
        scopes: Option<&[&str]>,
    ) -> AuthorizationServerMetadata {
        let owned = |list: &[&str]| {
            list.iter()
                .map(|item| (*item).to_owned())
                .collect::<Vec<_>>()
        };
        AuthorizationServerMetadata {
            issuer: "https://as".to_owned(),
            token_endpoint_auth_methods_supported: Some(owned(methods)),
            grant_types_supported: grants.map(owned),
            scopes_supported: scopes.map(owned),
            ..AuthorizationServerMetadata::default()
        }
    }

    #[test]
    fn application_type_follows_the_redirect() {
        assert_eq!(
            ApplicationType::for_redirect_uri("http://localhost:8090/callback"),
            ApplicationType::Native
        );
        assert_eq!(
            ApplicationType::for_redirect_uri("http://127.0.0.1/cb"),
            ApplicationType::Native
        );
        assert_eq!(
            ApplicationType::for_redirect_uri("com.example.app:/oauth"),
            ApplicationType::Native
        );
        assert_eq!(
            ApplicationType::for_redirect_uri("https://app.example.com/cb"),
            ApplicationType::Web
        );
        assert_eq!(
            serde_json::to_string(&ApplicationType::Native).unwrap(),
            "\"native\""
        );
    }

    #[test]
    fn auth_method_choice() {
        let native = ApplicationType::Native;
        assert_eq!(
            registration_auth_method(native, &metadata(&["none"], None, None)),
            TokenEndpointAuthMethod::None
        );
        assert_eq!(
            registration_auth_method(
                native,
                &metadata(&["client_secret_post", "client_secret_basic"], None, None)
            ),
            TokenEndpointAuthMethod::ClientSecretBasic
        );
        assert_eq!(
            registration_auth_method(native, &metadata(&["client_secret_post"], None, None)),
            TokenEndpointAuthMethod::ClientSecretPost
        );
        assert_eq!(
            registration_auth_method(
                ApplicationType::Web,
                &metadata(&["none", "client_secret_post"], None, None)
            ),
            TokenEndpointAuthMethod::ClientSecretPost
        );
        assert_eq!(
            registration_auth_method(native, &metadata(&["private_key_jwt"], None, None)),
            TokenEndpointAuthMethod::ClientSecretBasic
        );
        assert_eq!(
            registration_auth_method(native, &AuthorizationServerMetadata::default()),
            TokenEndpointAuthMethod::ClientSecretBasic
        );
        for name in [
            "none",
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "tls_client_auth",
        ] {
            assert_eq!(TokenEndpointAuthMethod::parse(name).as_str(), name);
        }
    }

    #[test]
    fn dcr_request_carries_what_the_harness_checks() {
        let request = ClientRegistrationRequest::for_authorization_code(
            &identity("http://localhost:8090/callback"),
            &metadata(
                &["none"],
                Some(&["authorization_code", "refresh_token"]),
                None,
            ),
        );
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "redirect_uris": ["http://localhost:8090/callback"],
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "client_name": "demo",
                "application_type": "native",
            })
        );
        // offline_access listed: refresh_token registered even without the grant list.
        let request = ClientRegistrationRequest::for_authorization_code(
            &identity("https://app.example.com/cb"),
            &metadata(
                &["client_secret_basic"],
                Some(&["authorization_code"]),
                Some(&["mcp", "offline_access"]),
            ),
        );
        assert_eq!(request.grant_types, ["authorization_code", "refresh_token"]);
        assert_eq!(request.application_type, ApplicationType::Web);
        let request = ClientRegistrationRequest::for_authorization_code(
            &identity("http://localhost/cb"),
            &metadata(&["none"], Some(&["authorization_code"]), Some(&["mcp"])),
        );
        assert_eq!(request.grant_types, ["authorization_code"]);
    }

    #[test]
    fn registration_response_to_credentials() {
        let response = ClientRegistrationResponse::from_json(
            br#"{"client_id":"test-client-id","client_secret":"test-client-secret","client_name":"x","redirect_uris":[]}"#,
        )
        .unwrap();
        let registration = response.into_registration(&TokenEndpointAuthMethod::ClientSecretBasic);
        assert_eq!(registration.client_id, "test-client-id");
        assert_eq!(
            registration.auth_method,
            Some(TokenEndpointAuthMethod::ClientSecretBasic)
        );
        assert_eq!(registration.source, RegistrationSource::Dynamic);
        let public = ClientRegistrationResponse::from_json(br#"{"client_id":"p"}"#)
            .unwrap()
            .into_registration(&TokenEndpointAuthMethod::ClientSecretBasic);
        assert_eq!(public.auth_method, Some(TokenEndpointAuthMethod::None));
        let explicit = ClientRegistrationResponse::from_json(
            br#"{"client_id":"p","client_secret":"s","token_endpoint_auth_method":"client_secret_post"}"#,
        )
        .unwrap()
        .into_registration(&TokenEndpointAuthMethod::None);
        assert_eq!(
            explicit.auth_method,
            Some(TokenEndpointAuthMethod::ClientSecretPost)
        );
        assert!(ClientRegistrationResponse::from_json(br#"{"client_secret":"s"}"#).is_err());
    }

    #[test]
    fn client_id_metadata_documents() {
        let url = "https://conformance-test.local/client-metadata.json";
        let document =
            ClientIdMetadataDocument::new(url, &identity("http://localhost:8090/callback"), true)
                .unwrap();
        assert_eq!(document.check(url), Ok(()));
        assert_eq!(
            document.grant_types,
            ["authorization_code", "refresh_token"]
        );
        assert_eq!(document.token_endpoint_auth_method, "none");
        assert!(matches!(
            document.check("https://conformance-test.local/other.json"),
            Err(ClientIdDocumentError::ClientIdMismatch { .. })
        ));
        for bad in [
            "http://example.com/client.json",
            "https://example.com",
            "https://example.com/",
            "not a url",
        ] {
            assert!(check_client_id_url(bad).is_err(), "{bad}");
        }
        let mut empty = document;
        empty.redirect_uris.clear();
        assert_eq!(empty.check(url), Err(ClientIdDocumentError::NoRedirectUri));
    }
}
