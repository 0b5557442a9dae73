//! Request building, as pure functions returning `http::Request<Vec<u8>>` (absolute-form
//! targets, like the rest of the crate) or URLs, and the check of the authorization response.
//!
//! * [`AuthorizationRequest::to_url`]: `response_type=code`, `client_id`, `redirect_uri`,
//!   `code_challenge`, `code_challenge_method=S256`, `state`, `scope` (omitted when empty) and
//!   `resource` (RFC 8707), appended to the authorization endpoint's own query.
//! * [`TokenRequest`]: a token endpoint POST for any [`Grant`] (authorization code with
//!   `code_verifier`, refresh token, client credentials, RFC 8693 token exchange, RFC 7523 JWT
//!   bearer), with `resource`, `scope`, and the [`ClientAuth`] (none, `client_secret_basic`
//!   with RFC 6749 §2.3.1 form-encoding of id and secret before base64, `client_secret_post`,
//!   `private_key_jwt`).
//! * [`check_authorization_response`]: the redirect back from the authorization server, checked
//!   in the order that keeps an attacker's response from being acted on: the redirect URI,
//!   then `state`, then `iss` (RFC 9207, exact string comparison; required when the server
//!   advertises `authorization_response_iss_parameter_supported`), and only then an `error`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method, Request};

use super::jwt::CLIENT_ASSERTION_TYPE;
use super::pkce::{AuthState, PkceVerifier, S256};
use super::registration::{
    ClientRegistrationRequest, GRANT_AUTHORIZATION_CODE, GRANT_CLIENT_CREDENTIALS,
    GRANT_JWT_BEARER, GRANT_REFRESH_TOKEN, GRANT_TOKEN_EXCHANGE,
};
use super::scope::ScopeSet;
use super::secret::Secret;
use super::token::OAuthErrorResponse;
use super::url::{FormError, HttpUrl, UrlError, encode_component, form_encode, parse_form};

/// The RFC 8693 token type of an OpenID Connect ID token.
pub const TOKEN_TYPE_ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
/// The token type of an Identity Assertion JWT Authorization Grant (enterprise-managed
/// authorization, SEP-990).
pub const TOKEN_TYPE_ID_JAG: &str = "urn:ietf:params:oauth:token-type:id-jag";

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

/// Why a request could not be built.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The target URL could not become a request target.
    #[error("invalid request URL")]
    Url(#[from] UrlError),
    /// `http` refused a header value (a credential with characters a header cannot carry).
    #[error("a header value cannot be encoded")]
    Header,
}

fn request(
    method: Method,
    url: &HttpUrl,
    content_type: Option<&str>,
) -> Result<http::request::Builder, RequestError> {
    let mut builder = Request::builder()
        .method(method)
        .uri(url.to_uri()?)
        .header(ACCEPT, JSON);
    if let Some(content_type) = content_type {
        builder = builder.header(CONTENT_TYPE, content_type);
    }
    Ok(builder)
}

/// A `GET` for a metadata document, accepting JSON.
///
/// # Errors
/// [`RequestError::Url`] (not expected for a parsed URL).
pub fn metadata_request(url: &HttpUrl) -> Result<Request<Vec<u8>>, RequestError> {
    request(Method::GET, url, None)?
        .body(Vec::new())
        .map_err(|_| RequestError::Header)
}

/// A Dynamic Client Registration `POST` (RFC 7591 §3.1).
///
/// # Errors
/// [`RequestError`] (not expected).
pub fn registration_request(
    endpoint: &HttpUrl,
    registration: &ClientRegistrationRequest,
) -> Result<Request<Vec<u8>>, RequestError> {
    let body = serde_json::to_vec(registration).map_err(|_| RequestError::Header)?;
    request(Method::POST, endpoint, Some(JSON))?
        .body(body)
        .map_err(|_| RequestError::Header)
}

/// The parameters of an authorization request (authorization code + PKCE).
#[derive(Debug, Clone, Copy)]
pub struct AuthorizationRequest<'a> {
    /// The authorization endpoint.
    pub endpoint: &'a HttpUrl,
    /// The `client_id`.
    pub client_id: &'a str,
    /// The `redirect_uri`.
    pub redirect_uri: &'a str,
    /// The PKCE verifier (its `S256` challenge is sent).
    pub verifier: &'a PkceVerifier,
    /// The `state`.
    pub state: &'a AuthState,
    /// The scopes (`scope` is omitted when empty).
    pub scopes: &'a ScopeSet,
    /// The `resource` (RFC 8707).
    pub resource: &'a str,
}

impl AuthorizationRequest<'_> {
    /// The URL to open in the browser (or to `GET` without following the redirect).
    pub fn to_url(&self) -> HttpUrl {
        let challenge = self.verifier.s256_challenge();
        let scope = self.scopes.to_param();
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", self.client_id),
            ("redirect_uri", self.redirect_uri),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", S256),
            ("state", self.state.as_str()),
        ];
        if let Some(scope) = scope.as_deref() {
            pairs.push(("scope", scope));
        }
        pairs.push(("resource", self.resource));
        self.endpoint.with_query_pairs(pairs)
    }
}

/// A token endpoint grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// `authorization_code` with PKCE.
    AuthorizationCode {
        /// The code from the redirect.
        code: Secret,
        /// The same `redirect_uri` as in the authorization request.
        redirect_uri: String,
        /// The PKCE verifier.
        verifier: PkceVerifier,
    },
    /// `refresh_token`.
    RefreshToken {
        /// The refresh token.
        refresh_token: Secret,
    },
    /// `client_credentials` (machine-to-machine; the client's own authorization).
    ClientCredentials,
    /// RFC 8693 token exchange.
    TokenExchange {
        /// The token being exchanged.
        subject_token: Secret,
        /// Its type, e.g. [`TOKEN_TYPE_ID_TOKEN`].
        subject_token_type: String,
        /// The type wanted, e.g. [`TOKEN_TYPE_ID_JAG`].
        requested_token_type: String,
        /// Who the new token is for (for an ID-JAG: the MCP authorization server's issuer).
        audience: String,
    },
    /// RFC 7523 JWT bearer grant.
    JwtBearer {
        /// The JWT (an ID-JAG, or a workload identity token).
        assertion: Secret,
    },
}

impl Grant {
    /// The `grant_type` value.
    pub const fn grant_type(&self) -> &'static str {
        match self {
            Self::AuthorizationCode { .. } => GRANT_AUTHORIZATION_CODE,
            Self::RefreshToken { .. } => GRANT_REFRESH_TOKEN,
            Self::ClientCredentials => GRANT_CLIENT_CREDENTIALS,
            Self::TokenExchange { .. } => GRANT_TOKEN_EXCHANGE,
            Self::JwtBearer { .. } => GRANT_JWT_BEARER,
        }
    }
}

/// How the client authenticates a token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// No authentication, `client_id` in the body (a public client).
    None {
        /// The client id.
        client_id: String,
    },
    /// No client identification at all (e.g. a token exchange where the subject token is
    /// the only credential).
    Anonymous,
    /// `Authorization: Basic` over the form-encoded id and secret.
    ClientSecretBasic {
        /// The client id.
        client_id: String,
        /// The secret.
        client_secret: Secret,
    },
    /// `client_id` and `client_secret` in the body.
    ClientSecretPost {
        /// The client id.
        client_id: String,
        /// The secret.
        client_secret: Secret,
    },
    /// `client_assertion` (a signed JWT) in the body.
    PrivateKeyJwt {
        /// The client id (sent in the body too, as RFC 7523 §2.2 permits).
        client_id: String,
        /// The signed assertion.
        assertion: Secret,
    },
}

/// The `Authorization: Basic` value of RFC 6749 §2.3.1: the client id and secret are each
/// form-urlencoded, joined by `:`, and base64-encoded.
pub fn basic_authorization(client_id: &str, client_secret: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!(
            "{}:{}",
            encode_component(client_id),
            encode_component(client_secret)
        ))
    )
}

/// A token endpoint request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The grant.
    pub grant: Grant,
    /// The `resource` (RFC 8707), sent with every grant that mints an MCP access token.
    pub resource: Option<String>,
    /// The scopes (`scope` is omitted when empty).
    pub scopes: ScopeSet,
    /// Client authentication.
    pub auth: ClientAuth,
}

impl TokenRequest {
    /// The form fields, in order.
    pub fn form_pairs(&self) -> Vec<(&str, &str)> {
        let mut pairs = vec![("grant_type", self.grant.grant_type())];
        match &self.grant {
            Grant::AuthorizationCode {
                code,
                redirect_uri,
                verifier,
            } => {
                pairs.push(("code", code.expose()));
                pairs.push(("redirect_uri", redirect_uri));
                pairs.push(("code_verifier", verifier.as_str()));
            }
            Grant::RefreshToken { refresh_token } => {
                pairs.push(("refresh_token", refresh_token.expose()));
            }
            Grant::ClientCredentials => {}
            Grant::TokenExchange {
                subject_token,
                subject_token_type,
                requested_token_type,
                audience,
            } => {
                pairs.push(("requested_token_type", requested_token_type));
                pairs.push(("audience", audience));
                pairs.push(("subject_token", subject_token.expose()));
                pairs.push(("subject_token_type", subject_token_type));
            }
            Grant::JwtBearer { assertion } => pairs.push(("assertion", assertion.expose())),
        }
        if let Some(resource) = &self.resource {
            pairs.push(("resource", resource));
        }
        match &self.auth {
            ClientAuth::None { client_id } => pairs.push(("client_id", client_id)),
            ClientAuth::ClientSecretPost {
                client_id,
                client_secret,
            } => {
                pairs.push(("client_id", client_id));
                pairs.push(("client_secret", client_secret.expose()));
            }
            ClientAuth::PrivateKeyJwt {
                client_id,
                assertion,
            } => {
                pairs.push(("client_id", client_id));
                pairs.push(("client_assertion_type", CLIENT_ASSERTION_TYPE));
                pairs.push(("client_assertion", assertion.expose()));
            }
            ClientAuth::Anonymous | ClientAuth::ClientSecretBasic { .. } => {}
        }
        pairs
    }

    /// The `POST` to `endpoint`.
    ///
    /// # Errors
    /// [`RequestError`] (not expected).
    pub fn to_request(&self, endpoint: &HttpUrl) -> Result<Request<Vec<u8>>, RequestError> {
        let scope = self.scopes.to_param();
        let mut pairs = self.form_pairs();
        if let Some(scope) = scope.as_deref() {
            pairs.push(("scope", scope));
        }
        let body = form_encode(pairs).into_bytes();
        let mut builder = request(Method::POST, endpoint, Some(FORM))?;
        if let ClientAuth::ClientSecretBasic {
            client_id,
            client_secret,
        } = &self.auth
        {
            let mut value =
                HeaderValue::try_from(basic_authorization(client_id, client_secret.expose()))
                    .map_err(|_| RequestError::Header)?;
            // `Debug` of the request then shows `Sensitive` instead of the credentials.
            value.set_sensitive(true);
            builder = builder.header(AUTHORIZATION, value);
        }
        builder.body(body).map_err(|_| RequestError::Header)
    }
}

/// What the authorization response must match.
#[derive(Debug, Clone, Copy)]
pub struct ExpectedResponse<'a> {
    /// The `redirect_uri` of the request (the callback must be this URI plus a query).
    pub redirect_uri: &'a str,
    /// The `state` sent.
    pub state: &'a AuthState,
    /// The issuer the request went to.
    pub issuer: &'a str,
    /// Whether the server advertised `authorization_response_iss_parameter_supported`.
    pub iss_required: bool,
}

/// Why an authorization response was refused, or what it said instead of a code.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationResponseError {
    /// The callback is not the registered redirect URI.
    #[error("the callback {0:?} is not the redirect URI")]
    WrongRedirectUri(String),
    /// The query is not valid form encoding.
    #[error("the callback query is malformed")]
    Malformed(#[source] FormError),
    /// `state` is missing or differs (a forged or stale response).
    #[error("the callback's state does not match the request")]
    StateMismatch,
    /// `iss` differs from the issuer the request went to (a mix-up attack).
    #[error("the callback's iss {received:?} is not the issuer {expected:?}")]
    IssuerMismatch {
        /// The recorded issuer.
        expected: String,
        /// The `iss` received.
        received: String,
    },
    /// The server advertised `iss` in responses but this one has none.
    #[error("the callback has no iss although the authorization server advertises it")]
    IssuerMissing,
    /// The authorization server refused (e.g. `access_denied`).
    #[error("authorization refused: {0}")]
    Denied(OAuthErrorResponse),
    /// Neither a code nor an error.
    #[error("the callback carries no authorization code")]
    MissingCode,
}

/// Checks the redirect back from the authorization server and returns the code.
///
/// # Errors
/// See [`AuthorizationResponseError`]; [`AuthorizationResponseError::Denied`] is returned
/// only for a response whose `state` and `iss` passed.
pub fn check_authorization_response(
    callback: &str,
    expected: &ExpectedResponse<'_>,
) -> Result<Secret, AuthorizationResponseError> {
    let without_fragment = callback.split_once('#').map_or(callback, |(head, _)| head);
    let (base, query) = without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""));
    let expected_base = expected
        .redirect_uri
        .split_once('?')
        .map_or(expected.redirect_uri, |(head, _)| head);
    if !same_redirect_base(base, expected_base) {
        return Err(AuthorizationResponseError::WrongRedirectUri(
            base.to_owned(),
        ));
    }
    let pairs = parse_form(query).map_err(AuthorizationResponseError::Malformed)?;
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    match field("state") {
        Some(state) if expected.state.matches(state) => {}
        _ => return Err(AuthorizationResponseError::StateMismatch),
    }
    match field("iss") {
        Some(iss) if iss == expected.issuer => {}
        Some(iss) => {
            return Err(AuthorizationResponseError::IssuerMismatch {
                expected: expected.issuer.to_owned(),
                received: iss.to_owned(),
            });
        }
        None if expected.iss_required => return Err(AuthorizationResponseError::IssuerMissing),
        None => {}
    }
    if let Some(error) = field("error") {
        return Err(AuthorizationResponseError::Denied(OAuthErrorResponse {
            error: error.to_owned(),
            error_description: field("error_description").map(str::to_owned),
            error_uri: field("error_uri").map(str::to_owned),
        }));
    }
    field("code")
        .filter(|code| !code.is_empty())
        .map(Secret::from)
        .ok_or(AuthorizationResponseError::MissingCode)
}

/// Whether a callback's scheme/authority/path is the redirect URI's: exactly, or, for http(s),
/// after the same normalization of scheme and host case and default ports.
fn same_redirect_base(callback: &str, redirect_uri: &str) -> bool {
    if callback == redirect_uri {
        return true;
    }
    match (HttpUrl::parse(callback), HttpUrl::parse(redirect_uri)) {
        (Ok(callback), Ok(redirect)) => {
            callback.same_origin(&redirect) && callback.path() == redirect.path()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(request: &Request<Vec<u8>>) -> Vec<(String, String)> {
        parse_form(std::str::from_utf8(request.body()).unwrap()).unwrap()
    }

    fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn verifier() -> PkceVerifier {
        PkceVerifier::from_entropy(&[7; 32]).unwrap()
    }

    #[test]
    fn authorization_url_has_every_parameter() {
        let endpoint = HttpUrl::parse("http://localhost:4000/authorize").unwrap();
        let state = AuthState::from_entropy(&[1; 16]).unwrap();
        let verifier = verifier();
        let scopes = ScopeSet::parse("mcp:basic mcp:write").unwrap();
        let url = AuthorizationRequest {
            endpoint: &endpoint,
            client_id: "https://conformance-test.local/client-metadata.json",
            redirect_uri: "http://localhost:8090/callback",
            verifier: &verifier,
            state: &state,
            scopes: &scopes,
            resource: "http://localhost:3000/mcp",
        }
        .to_url();
        assert_eq!(url.path(), "/authorize");
        let pairs = parse_form(url.query().unwrap()).unwrap();
        let names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "response_type",
                "client_id",
                "redirect_uri",
                "code_challenge",
                "code_challenge_method",
                "state",
                "scope",
                "resource"
            ]
        );
        assert_eq!(field(&pairs, "response_type"), Some("code"));
        assert_eq!(
            field(&pairs, "code_challenge"),
            Some(verifier.s256_challenge().as_str())
        );
        assert_eq!(field(&pairs, "code_challenge_method"), Some("S256"));
        assert_eq!(field(&pairs, "scope"), Some("mcp:basic mcp:write"));
        assert_eq!(field(&pairs, "resource"), Some("http://localhost:3000/mcp"));
        assert_eq!(
            field(&pairs, "client_id"),
            Some("https://conformance-test.local/client-metadata.json")
        );
        let no_scope = AuthorizationRequest {
            endpoint: &endpoint,
            client_id: "c",
            redirect_uri: "http://localhost/cb",
            verifier: &verifier,
            state: &state,
            scopes: &ScopeSet::new(),
            resource: "http://localhost:3000/mcp",
        }
        .to_url();
        assert!(field(&parse_form(no_scope.query().unwrap()).unwrap(), "scope").is_none());
    }

    #[test]
    fn basic_auth_form_encodes_before_base64() {
        // RFC 6749 §2.3.1: reserved characters are form-encoded first.
        let header = basic_authorization("my client:1", "p@ss/w:rd+%");
        let decoded = String::from_utf8(
            STANDARD
                .decode(header.strip_prefix("Basic ").unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(decoded, "my%20client%3A1:p%40ss%2Fw%3Ard%2B%25");
        let (id, secret) = decoded.split_once(':').unwrap();
        assert_eq!(parse_form(&format!("a={id}")).unwrap()[0].1, "my client:1");
        assert_eq!(
            parse_form(&format!("a={secret}")).unwrap()[0].1,
            "p@ss/w:rd+%"
        );
        assert_eq!(
            basic_authorization("conformance-test-client", "conformance-test-secret"),
            format!(
                "Basic {}",
                STANDARD.encode("conformance-test-client:conformance-test-secret")
            )
        );
    }

    #[test]
    fn token_requests_per_auth_method() {
        let endpoint = HttpUrl::parse("https://as.example.com/token").unwrap();
        let grant = Grant::AuthorizationCode {
            code: Secret::from("test-auth-code"),
            redirect_uri: "http://localhost:8090/callback".to_owned(),
            verifier: verifier(),
        };
        let make = |auth| TokenRequest {
            grant: grant.clone(),
            resource: Some("https://mcp.example.com/mcp".to_owned()),
            scopes: ScopeSet::new(),
            auth,
        };
        let basic = make(ClientAuth::ClientSecretBasic {
            client_id: "id".to_owned(),
            client_secret: Secret::from("secret"),
        })
        .to_request(&endpoint)
        .unwrap();
        assert_eq!(basic.method(), Method::POST);
        assert_eq!(basic.uri(), "https://as.example.com/token");
        assert_eq!(basic.headers()[CONTENT_TYPE], FORM);
        assert_eq!(
            basic.headers()[AUTHORIZATION],
            basic_authorization("id", "secret").as_str()
        );
        assert!(basic.headers()[AUTHORIZATION].is_sensitive());
        assert!(!format!("{basic:?}").contains(&basic_authorization("id", "secret")));
        let pairs = body(&basic);
        assert_eq!(field(&pairs, "grant_type"), Some("authorization_code"));
        assert_eq!(field(&pairs, "code"), Some("test-auth-code"));
        assert_eq!(field(&pairs, "code_verifier"), Some(verifier().as_str()));
        assert_eq!(
            field(&pairs, "redirect_uri"),
            Some("http://localhost:8090/callback")
        );
        assert_eq!(
            field(&pairs, "resource"),
            Some("https://mcp.example.com/mcp")
        );
        assert_eq!(field(&pairs, "client_id"), None);
        assert_eq!(field(&pairs, "client_secret"), None);

        let post = make(ClientAuth::ClientSecretPost {
            client_id: "id".to_owned(),
            client_secret: Secret::from("s e"),
        })
        .to_request(&endpoint)
        .unwrap();
        assert!(post.headers().get(AUTHORIZATION).is_none());
        let pairs = body(&post);
        assert_eq!(field(&pairs, "client_id"), Some("id"));
        assert_eq!(field(&pairs, "client_secret"), Some("s e"));

        let none = make(ClientAuth::None {
            client_id: "public".to_owned(),
        })
        .to_request(&endpoint)
        .unwrap();
        assert!(none.headers().get(AUTHORIZATION).is_none());
        let pairs = body(&none);
        assert_eq!(field(&pairs, "client_id"), Some("public"));
        assert_eq!(field(&pairs, "client_secret"), None);

        let jwt = make(ClientAuth::PrivateKeyJwt {
            client_id: "c".to_owned(),
            assertion: Secret::from("a.b.c"),
        })
        .to_request(&endpoint)
        .unwrap();
        let pairs = body(&jwt);
        assert_eq!(
            field(&pairs, "client_assertion_type"),
            Some(CLIENT_ASSERTION_TYPE)
        );
        assert_eq!(field(&pairs, "client_assertion"), Some("a.b.c"));
    }

    #[test]
    fn other_grants() {
        let endpoint = HttpUrl::parse("https://idp.example.com/token").unwrap();
        let exchange = TokenRequest {
            grant: Grant::TokenExchange {
                subject_token: Secret::from("id-token"),
                subject_token_type: TOKEN_TYPE_ID_TOKEN.to_owned(),
                requested_token_type: TOKEN_TYPE_ID_JAG.to_owned(),
                audience: "https://as.example.com".to_owned(),
            },
            resource: Some("https://mcp.example.com/mcp".to_owned()),
            scopes: ScopeSet::parse("mcp").unwrap(),
            auth: ClientAuth::None {
                client_id: "idp-client".to_owned(),
            },
        };
        let pairs = body(&exchange.to_request(&endpoint).unwrap());
        assert_eq!(field(&pairs, "grant_type"), Some(GRANT_TOKEN_EXCHANGE));
        assert_eq!(field(&pairs, "subject_token"), Some("id-token"));
        assert_eq!(
            field(&pairs, "subject_token_type"),
            Some(TOKEN_TYPE_ID_TOKEN)
        );
        assert_eq!(
            field(&pairs, "requested_token_type"),
            Some(TOKEN_TYPE_ID_JAG)
        );
        assert_eq!(field(&pairs, "audience"), Some("https://as.example.com"));
        assert_eq!(
            field(&pairs, "resource"),
            Some("https://mcp.example.com/mcp")
        );
        assert_eq!(field(&pairs, "scope"), Some("mcp"));
        assert_eq!(field(&pairs, "client_id"), Some("idp-client"));

        for (grant, name, value) in [
            (
                Grant::JwtBearer {
                    assertion: Secret::from("jag"),
                },
                "assertion",
                "jag",
            ),
            (
                Grant::RefreshToken {
                    refresh_token: Secret::from("rt"),
                },
                "refresh_token",
                "rt",
            ),
            (
                Grant::ClientCredentials,
                "grant_type",
                GRANT_CLIENT_CREDENTIALS,
            ),
        ] {
            let request = TokenRequest {
                grant,
                resource: None,
                scopes: ScopeSet::new(),
                auth: ClientAuth::Anonymous,
            };
            let pairs = body(&request.to_request(&endpoint).unwrap());
            assert_eq!(field(&pairs, name), Some(value));
            assert_eq!(field(&pairs, "resource"), None);
            assert_eq!(field(&pairs, "client_id"), None);
        }
    }

    #[test]
    fn registration_and_metadata_requests() {
        let url = HttpUrl::parse("https://as.example.com/.well-known/oauth-authorization-server")
            .unwrap();
        let get = metadata_request(&url).unwrap();
        assert_eq!(get.method(), Method::GET);
        assert_eq!(get.headers()[ACCEPT], JSON);
        assert!(get.body().is_empty());
    }

    fn expected<'a>(state: &'a AuthState, iss_required: bool) -> ExpectedResponse<'a> {
        ExpectedResponse {
            redirect_uri: "http://localhost:8090/callback",
            state,
            issuer: "http://localhost:4000",
            iss_required,
        }
    }

    #[test]
    fn authorization_response_rules() {
        let state = AuthState::from_entropy(&[9; 16]).unwrap();
        let s = state.as_str();
        let ok = format!("http://localhost:8090/callback?code=test-auth-code&state={s}");
        assert_eq!(
            check_authorization_response(&ok, &expected(&state, false))
                .unwrap()
                .expose(),
            "test-auth-code"
        );
        // iss present: exact match only.
        let with_iss = format!("{ok}&iss=http%3A%2F%2Flocalhost%3A4000");
        assert!(check_authorization_response(&with_iss, &expected(&state, true)).is_ok());
        for wrong in [
            "https%3A%2F%2Fevil.example.com",
            "http%3A%2F%2Flocalhost%3A4000%2F",
            "HTTP%3A%2F%2Flocalhost%3A4000",
        ] {
            assert!(matches!(
                check_authorization_response(
                    &format!("{ok}&iss={wrong}"),
                    &expected(&state, false)
                ),
                Err(AuthorizationResponseError::IssuerMismatch { .. })
            ));
        }
        // iss advertised but missing.
        assert_eq!(
            check_authorization_response(&ok, &expected(&state, true)),
            Err(AuthorizationResponseError::IssuerMissing)
        );
        // state checked first.
        let forged = "http://localhost:8090/callback?code=x&state=other&iss=https%3A%2F%2Fevil";
        assert_eq!(
            check_authorization_response(forged, &expected(&state, false)),
            Err(AuthorizationResponseError::StateMismatch)
        );
        assert_eq!(
            check_authorization_response(
                "http://localhost:8090/callback?code=x",
                &expected(&state, false)
            ),
            Err(AuthorizationResponseError::StateMismatch)
        );
        // An error with a wrong iss is not acted on as an error.
        let mixed = format!(
            "http://localhost:8090/callback?error=access_denied&state={s}&iss=https%3A%2F%2Fevil"
        );
        assert!(matches!(
            check_authorization_response(&mixed, &expected(&state, false)),
            Err(AuthorizationResponseError::IssuerMismatch { .. })
        ));
        let denied = format!(
            "http://localhost:8090/callback?error=access_denied&error_description=no+thanks&state={s}"
        );
        assert_eq!(
            check_authorization_response(&denied, &expected(&state, false)),
            Err(AuthorizationResponseError::Denied(OAuthErrorResponse {
                error: "access_denied".to_owned(),
                error_description: Some("no thanks".to_owned()),
                error_uri: None,
            }))
        );
        assert_eq!(
            check_authorization_response(
                &format!("http://localhost:8090/callback?state={s}"),
                &expected(&state, false)
            ),
            Err(AuthorizationResponseError::MissingCode)
        );
        assert!(matches!(
            check_authorization_response(
                &format!("http://localhost:9999/callback?code=x&state={s}"),
                &expected(&state, false)
            ),
            Err(AuthorizationResponseError::WrongRedirectUri(_))
        ));
        assert!(matches!(
            check_authorization_response(
                "http://localhost:8090/callback?code=%zz",
                &expected(&state, false)
            ),
            Err(AuthorizationResponseError::Malformed(_))
        ));
        // Case and default-port spellings of the same redirect URI are the same URI.
        let spelled = format!("HTTP://LOCALHOST:8090/callback?code=c&state={s}#ignored");
        assert!(check_authorization_response(&spelled, &expected(&state, false)).is_ok());
        // Private-use schemes compare exactly.
        let native = ExpectedResponse {
            redirect_uri: "com.example.app:/oauth",
            ..expected(&state, false)
        };
        assert!(
            check_authorization_response(
                &format!("com.example.app:/oauth?code=c&state={s}"),
                &native
            )
            .is_ok()
        );
        assert!(
            check_authorization_response(
                &format!("com.example.evil:/oauth?code=c&state={s}"),
                &native
            )
            .is_err()
        );
    }
}
