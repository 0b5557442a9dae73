//! End-to-end tests of `OAuthClient` against a scripted in-memory authorization server and MCP
//! server that behave like the conformance harness's `auth/*` mocks (0.1.16 and 0.2.0-alpha.12):
//! the same URLs, documents, traps and checks, one knob per scenario difference.

// The scripted servers and strategies are test scaffolding: a broken expectation there must
// stop the test, exactly as inside a #[test] function.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use mcp_proto::auth::error::{AuthError, Fault, FetchPurpose};
use mcp_proto::auth::jwt::{AssertionSigner, SignerError, WallClock};
use mcp_proto::auth::metadata::MetadataError;
use mcp_proto::auth::pkce::s256_challenge;
use mcp_proto::auth::request::AuthorizationResponseError;
use mcp_proto::auth::url::{HttpUrl, UrlPolicy, parse_form};
use mcp_proto::auth::{
    AuthAction, Bearer, ClientRegistration, EntropySource, GrantConfig, IdentityAssertionGrant,
    OAuthClient, OAuthClientConfig, PreRegisteredClient, Secret, UsageError,
};

const RS: &str = "http://localhost:3000";
const AS: &str = "http://localhost:4000";
const AS2: &str = "http://localhost:4001";
const IDP: &str = "http://localhost:5000";
const REDIRECT: &str = "http://localhost:8090/callback";
const CIMD_URL: &str = "https://conformance-test.local/client-metadata.json";
const PRM_PATH: &str = "/.well-known/oauth-protected-resource/mcp";
const PRM_ROOT: &str = "/.well-known/oauth-protected-resource";

// ---- the scripted servers ----------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Iss {
    Omit,
    Correct,
    Wrong,
    TrailingSlash,
}

#[derive(Debug, Clone)]
struct Scenario {
    /// Where the PRM is served (`None`: no PRM, a 2025-03-26 server).
    prm_path: Option<&'static str>,
    prm_in_header: bool,
    prm_resource: Option<String>,
    prm_scopes: Option<Vec<&'static str>>,
    /// A failure check when the root PRM is requested.
    trap_root_prm: bool,
    /// The AS lives on the MCP server's origin (2025-03-26 scenarios).
    as_on_rs_origin: bool,
    /// Path prefix of the AS endpoints (and of the issuer unless overridden).
    as_prefix: &'static str,
    /// Where the AS metadata is served (`None`: nowhere).
    as_metadata_path: Option<&'static str>,
    issuer_override: Option<String>,
    as_scopes: Option<Vec<&'static str>>,
    auth_methods: Vec<&'static str>,
    grant_types: Vec<&'static str>,
    pkce_methods: Option<Vec<&'static str>>,
    cimd_supported: Option<bool>,
    dcr: bool,
    /// `client_secret` and `token_endpoint_auth_method` of the DCR answer.
    dcr_answer: (Option<&'static str>, Option<&'static str>),
    iss_supported: Option<bool>,
    iss_in_redirect: Iss,
    /// `scope` of the 401 challenge.
    challenge_scope: Option<&'static str>,
    /// Scopes each MCP method needs (403 `insufficient_scope` otherwise).
    required: fn(&str) -> Vec<&'static str>,
    /// Every request with a token gets 403 (`auth/scope-retry-limit`).
    always_insufficient: Option<&'static str>,
    /// After the first accepted token, the PRM names AS2 and AS1 tokens are refused.
    migrate: bool,
    /// Credentials the token endpoint insists on (Basic or body), when set.
    expect_client: Option<(&'static str, &'static str)>,
    /// `expires_in` of issued tokens, and whether refresh tokens are issued.
    expires_in: u64,
    refresh_tokens: bool,
}

fn no_requirements(_: &str) -> Vec<&'static str> {
    Vec::new()
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            prm_path: Some(PRM_PATH),
            prm_in_header: true,
            prm_resource: None,
            prm_scopes: None,
            trap_root_prm: false,
            as_on_rs_origin: false,
            as_prefix: "",
            as_metadata_path: Some("/.well-known/oauth-authorization-server"),
            issuer_override: None,
            as_scopes: None,
            auth_methods: vec!["none"],
            grant_types: vec!["authorization_code", "refresh_token"],
            pkce_methods: Some(vec!["S256"]),
            cimd_supported: None,
            dcr: true,
            dcr_answer: (Some("test-client-secret"), None),
            iss_supported: None,
            iss_in_redirect: Iss::Omit,
            challenge_scope: None,
            required: no_requirements,
            always_insufficient: None,
            migrate: false,
            expect_client: None,
            expires_in: 3600,
            refresh_tokens: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Get(String),
    Authorize(Vec<(String, String)>),
    Token {
        url: String,
        form: Vec<(String, String)>,
        basic: Option<(String, String)>,
    },
    Register {
        url: String,
        body: serde_json::Value,
    },
    Trap(&'static str),
}

/// A token request as seen: URL, form fields, decoded Basic credentials.
type TokenSeen<'a> = (
    &'a str,
    &'a Vec<(String, String)>,
    &'a Option<(String, String)>,
);

struct Mock {
    s: Scenario,
    seen: Vec<Seen>,
    /// token → (scopes, issuing AS origin)
    tokens: HashMap<String, (Vec<String>, String)>,
    refresh: HashMap<String, Vec<String>>,
    issued: u32,
    code_challenge: Option<String>,
    authorized_scope: Vec<String>,
    as_origin: String,
    migrated: bool,
    accepted_with_token: u32,
    registered_clients: Vec<String>,
    /// Client ids the token endpoint no longer knows (`invalid_client`).
    forgotten: Vec<String>,
    /// The ID-JAG the identity provider issued.
    id_jag: Option<String>,
}

fn response(status: u16, body: &str) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .unwrap()
}

fn json_response(status: u16, value: &serde_json::Value) -> http::Response<Vec<u8>> {
    response(status, &value.to_string())
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Decodes `Authorization: Basic` the way the harness's mocks do (`decodeURIComponent`).
fn decode_basic(header: &str) -> Option<(String, String)> {
    let decoded = String::from_utf8(STANDARD.decode(header.strip_prefix("Basic ")?).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |value: &str| {
        parse_form(&format!("v={}", value.replace('+', "%2B")))
            .ok()?
            .pop()
            .map(|(_, v)| v)
    };
    Some((unescape(id)?, unescape(secret)?))
}

impl Mock {
    fn new(s: Scenario) -> Self {
        Self {
            s,
            seen: Vec::new(),
            tokens: HashMap::new(),
            refresh: HashMap::new(),
            issued: 0,
            code_challenge: None,
            authorized_scope: Vec::new(),
            as_origin: AS.to_owned(),
            migrated: false,
            accepted_with_token: 0,
            registered_clients: Vec::new(),
            forgotten: Vec::new(),
            id_jag: None,
        }
    }

    fn as_origin(&self) -> &str {
        if self.s.as_on_rs_origin {
            RS
        } else {
            &self.as_origin
        }
    }

    fn as_base(&self) -> String {
        format!("{}{}", self.as_origin(), self.s.as_prefix)
    }

    fn issuer(&self) -> String {
        self.s
            .issuer_override
            .clone()
            .unwrap_or_else(|| self.as_base())
    }

    fn prm_url(&self) -> Option<String> {
        self.s.prm_path.map(|path| format!("{RS}{path}"))
    }

    fn challenge(&self, error: Option<&str>, scope: Option<&str>) -> String {
        let mut parts = Vec::new();
        if let Some(scope) = scope {
            parts.push(format!("scope=\"{scope}\""));
        }
        if self.s.prm_in_header {
            if let Some(url) = self.prm_url() {
                parts.push(format!("resource_metadata=\"{url}\""));
            }
        }
        if let Some(error) = error {
            parts.push(format!("error=\"{error}\""));
        }
        if parts.is_empty() {
            "Bearer".to_owned()
        } else {
            format!("Bearer {}", parts.join(", "))
        }
    }

    /// The MCP server: `(status, WWW-Authenticate)` for `method` sent with `bearer`.
    fn mcp(&mut self, method: &str, bearer: Option<&str>) -> (u16, Option<String>) {
        let Some(token) = bearer else {
            return (
                401,
                Some(self.challenge(Some("invalid_token"), self.s.challenge_scope)),
            );
        };
        let Some((scopes, origin)) = self.tokens.get(token).cloned() else {
            return (
                401,
                Some(self.challenge(Some("invalid_token"), self.s.challenge_scope)),
            );
        };
        if self.migrated && origin != AS2 {
            return (
                401,
                Some(self.challenge(Some("invalid_token"), self.s.challenge_scope)),
            );
        }
        if let Some(scope) = self.s.always_insufficient {
            return (
                403,
                Some(self.challenge(Some("insufficient_scope"), Some(scope))),
            );
        }
        let required = (self.s.required)(method);
        if !required
            .iter()
            .all(|scope| scopes.iter().any(|held| held == scope))
        {
            return (
                403,
                Some(self.challenge(Some("insufficient_scope"), Some(&required.join(" ")))),
            );
        }
        self.accepted_with_token += 1;
        if self.s.migrate && !self.migrated {
            self.migrated = true;
            self.as_origin = AS2.to_owned();
        }
        (200, None)
    }

    fn fetch(&mut self, request: &http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
        let url = request.uri().to_string();
        if request.method() == http::Method::GET {
            self.seen.push(Seen::Get(url.clone()));
            return self.get(&url);
        }
        let body = String::from_utf8(request.body().clone()).unwrap();
        let basic = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|value| decode_basic(value.to_str().unwrap()));
        if url == format!("{IDP}/token") {
            let form = parse_form(&body).unwrap();
            self.seen.push(Seen::Token {
                url,
                form: form.clone(),
                basic,
            });
            return self.exchange(&form);
        }
        if url == format!("{}/register", self.as_base()) && self.s.dcr {
            let body: serde_json::Value = serde_json::from_str(&body).unwrap();
            self.seen.push(Seen::Register { url, body });
            let origin = self.as_origin().to_owned();
            let before = self
                .registered_clients
                .iter()
                .filter(|id| id.contains(origin.as_str()))
                .count();
            let client_id = if before == 0 {
                format!("client-at-{origin}")
            } else {
                format!("client-at-{origin}-{}", before + 1)
            };
            self.registered_clients.push(client_id.clone());
            let mut answer = serde_json::json!({"client_id": client_id, "client_name": "x", "redirect_uris": [REDIRECT]});
            if let Some(secret) = self.s.dcr_answer.0 {
                answer["client_secret"] = secret.into();
            }
            if let Some(method) = self.s.dcr_answer.1 {
                answer["token_endpoint_auth_method"] = method.into();
            }
            return json_response(201, &answer);
        }
        if url == format!("{}/token", self.as_base()) {
            let form = parse_form(&body).unwrap();
            self.seen.push(Seen::Token {
                url,
                form: form.clone(),
                basic: basic.clone(),
            });
            return self.token(&form, basic);
        }
        response(404, "not found")
    }

    fn get(&mut self, url: &str) -> http::Response<Vec<u8>> {
        if Some(url) == self.prm_url().as_deref() {
            let resource = self.s.prm_resource.clone().unwrap_or_else(|| {
                if self.s.prm_path == Some(PRM_ROOT) {
                    RS.to_owned()
                } else {
                    format!("{RS}/mcp")
                }
            });
            let mut prm =
                serde_json::json!({"resource": resource, "authorization_servers": [self.issuer()]});
            if let Some(scopes) = &self.s.prm_scopes {
                prm["scopes_supported"] = scopes.clone().into();
            }
            return json_response(200, &prm);
        }
        if self.s.trap_root_prm && url == format!("{RS}{PRM_ROOT}") {
            self.seen.push(Seen::Trap("prm-priority-order"));
        }
        if let Some(path) = self.s.as_metadata_path {
            if url == format!("{}{path}", self.as_origin()) {
                return json_response(200, &self.as_metadata());
            }
        }
        if !self.s.as_prefix.is_empty()
            && !self.s.as_on_rs_origin
            && url
                == format!(
                    "{}/.well-known/oauth-authorization-server",
                    self.as_origin()
                )
        {
            self.seen
                .push(Seen::Trap("authorization-server-metadata-wrong-path"));
        }
        response(404, "Not Found")
    }

    fn as_metadata(&self) -> serde_json::Value {
        let base = self.as_base();
        let mut doc = serde_json::json!({
            "issuer": self.issuer(),
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "response_types_supported": ["code"],
            "grant_types_supported": self.s.grant_types,
            "token_endpoint_auth_methods_supported": self.s.auth_methods,
        });
        if self.s.dcr {
            doc["registration_endpoint"] = format!("{base}/register").into();
        }
        if let Some(methods) = &self.s.pkce_methods {
            doc["code_challenge_methods_supported"] = methods.clone().into();
        }
        if let Some(scopes) = &self.s.as_scopes {
            doc["scopes_supported"] = scopes.clone().into();
        }
        if let Some(cimd) = self.s.cimd_supported {
            doc["client_id_metadata_document_supported"] = cimd.into();
        }
        if let Some(iss) = self.s.iss_supported {
            doc["authorization_response_iss_parameter_supported"] = iss.into();
        }
        doc
    }

    /// The browser (or a headless GET): the authorization endpoint's redirect target.
    fn authorize(&mut self, url: &HttpUrl) -> String {
        assert_eq!(
            format!("{}{}", url.origin(), url.path()),
            format!("{}/authorize", self.as_base()),
            "authorization request to the wrong endpoint"
        );
        let query = parse_form(url.query().unwrap_or_default()).unwrap();
        self.seen.push(Seen::Authorize(query.clone()));
        self.code_challenge = field(&query, "code_challenge").map(str::to_owned);
        self.authorized_scope = field(&query, "scope")
            .map(|scope| scope.split(' ').map(str::to_owned).collect())
            .unwrap_or_default();
        let redirect = field(&query, "redirect_uri").unwrap();
        let mut target = HttpUrl::parse(redirect)
            .unwrap()
            .with_query_pairs([("code", "test-auth-code")]);
        if let Some(state) = field(&query, "state") {
            target = target.with_query_pairs([("state", state)]);
        }
        let iss = match self.s.iss_in_redirect {
            Iss::Omit => None,
            Iss::Correct => Some(self.issuer()),
            Iss::Wrong => Some("https://evil.example.com".to_owned()),
            Iss::TrailingSlash => Some(format!("{}/", self.issuer())),
        };
        if let Some(iss) = iss {
            target = target.with_query_pairs([("iss", iss.as_str())]);
        }
        target.to_string()
    }

    fn token(
        &mut self,
        form: &[(String, String)],
        basic: Option<(String, String)>,
    ) -> http::Response<Vec<u8>> {
        let grant = field(form, "grant_type").unwrap_or_default().to_owned();
        let client_id = field(form, "client_id")
            .map(str::to_owned)
            .or_else(|| basic.as_ref().map(|(id, _)| id.clone()));
        if client_id.is_some_and(|id| self.forgotten.contains(&id)) {
            return json_response(401, &serde_json::json!({"error": "invalid_client"}));
        }
        if !self.s.grant_types.iter().any(|listed| *listed == grant)
            && grant != "authorization_code"
        {
            return json_response(400, &serde_json::json!({"error": "unsupported_grant_type"}));
        }
        if let Some((id, secret)) = self.s.expect_client {
            let body_creds = field(form, "client_id").zip(field(form, "client_secret"));
            let ok = basic.as_ref().is_some_and(|(i, s)| i == id && s == secret)
                || body_creds.is_some_and(|(i, s)| i == id && s == secret);
            if !ok {
                return json_response(401, &serde_json::json!({"error": "invalid_client"}));
            }
        }
        let scopes: Vec<String> = match grant.as_str() {
            "authorization_code" => {
                let verifier = field(form, "code_verifier").unwrap_or_default();
                let matches =
                    self.code_challenge.as_deref() == Some(s256_challenge(verifier).as_str());
                assert!(matches, "pkce-verifier-matches-challenge");
                assert_eq!(field(form, "code"), Some("test-auth-code"));
                self.authorized_scope.clone()
            }
            "refresh_token" => match self
                .refresh
                .remove(field(form, "refresh_token").unwrap_or_default())
            {
                Some(scopes) => scopes,
                None => return json_response(400, &serde_json::json!({"error": "invalid_grant"})),
            },
            "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
                if let Some(expected) = &self.id_jag {
                    if field(form, "assertion") != Some(expected.as_str()) {
                        return json_response(400, &serde_json::json!({"error": "invalid_grant"}));
                    }
                }
                field(form, "scope")
                    .map(|s| s.split(' ').map(str::to_owned).collect())
                    .unwrap_or_default()
            }
            _ => field(form, "scope")
                .map(|s| s.split(' ').map(str::to_owned).collect())
                .unwrap_or_default(),
        };
        self.issued += 1;
        let token = format!("test-token-{}", self.issued);
        self.tokens
            .insert(token.clone(), (scopes.clone(), self.as_origin().to_owned()));
        let mut answer = serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": self.s.expires_in});
        if !scopes.is_empty() {
            answer["scope"] = scopes.join(" ").into();
        }
        if self.s.refresh_tokens {
            let refresh = format!("refresh-{}", self.issued);
            self.refresh.insert(refresh.clone(), scopes);
            answer["refresh_token"] = refresh.into();
        }
        json_response(200, &answer)
    }

    /// The enterprise identity provider's RFC 8693 endpoint (`auth/cross-app-access-*`).
    fn exchange(&mut self, form: &[(String, String)]) -> http::Response<Vec<u8>> {
        let ok = field(form, "grant_type")
            == Some("urn:ietf:params:oauth:grant-type:token-exchange")
            && field(form, "subject_token") == Some("idp-id-token")
            && field(form, "subject_token_type")
                == Some("urn:ietf:params:oauth:token-type:id_token")
            && field(form, "requested_token_type")
                == Some("urn:ietf:params:oauth:token-type:id-jag")
            && field(form, "audience") == Some(self.issuer().as_str())
            && field(form, "resource") == Some(format!("{RS}/mcp").as_str());
        if !ok {
            return json_response(400, &serde_json::json!({"error": "invalid_request"}));
        }
        let jag = format!("id-jag-for-{}", self.issuer());
        self.id_jag = Some(jag.clone());
        json_response(
            200,
            &serde_json::json!({"access_token": jag, "issued_token_type": "urn:ietf:params:oauth:token-type:id-jag", "token_type": "N_A"}),
        )
    }

    fn authorize_requests(&self) -> Vec<&Vec<(String, String)>> {
        self.seen
            .iter()
            .filter_map(|seen| match seen {
                Seen::Authorize(query) => Some(query),
                _ => None,
            })
            .collect()
    }

    fn token_requests(&self) -> Vec<TokenSeen<'_>> {
        self.seen
            .iter()
            .filter_map(|seen| match seen {
                Seen::Token { url, form, basic } => Some((url.as_str(), form, basic)),
                _ => None,
            })
            .collect()
    }

    fn gets(&self) -> Vec<&str> {
        self.seen
            .iter()
            .filter_map(|seen| match seen {
                Seen::Get(url) => Some(url.as_str()),
                _ => None,
            })
            .collect()
    }

    fn registrations(&self) -> Vec<&serde_json::Value> {
        self.seen
            .iter()
            .filter_map(|seen| match seen {
                Seen::Register { body, .. } => Some(body),
                _ => None,
            })
            .collect()
    }

    fn traps(&self) -> Vec<&'static str> {
        self.seen
            .iter()
            .filter_map(|seen| match seen {
                Seen::Trap(name) => Some(*name),
                _ => None,
            })
            .collect()
    }
}

// ---- the client side ---------------------------------------------------------------------

struct Counter(u8);

impl EntropySource for Counter {
    fn fill(&mut self, dest: &mut [u8]) {
        for byte in dest {
            self.0 = self.0.wrapping_add(1);
            *byte = self.0;
        }
    }
}

/// A stand-in ES256 signer: the "signature" is a digest-like function of the input that the
/// mock recomputes, so a tampered or unsigned assertion fails.
struct TestSigner;

fn fake_signature(input: &[u8]) -> Vec<u8> {
    s256_challenge(&String::from_utf8_lossy(input)).into_bytes()
}

impl AssertionSigner for TestSigner {
    fn algorithm(&self) -> &str {
        "ES256"
    }
    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, SignerError> {
        Ok(fake_signature(input))
    }
}

fn config() -> OAuthClientConfig {
    let mut config =
        OAuthClientConfig::new(&format!("{RS}/mcp"), REDIRECT, "conformance-client").unwrap();
    config.url_policy = UrlPolicy {
        allow_insecure_loopback: true,
        ..UrlPolicy::default()
    };
    config
}

#[derive(Debug)]
enum Ended {
    Authorized,
    Failed(AuthError),
    Nothing,
}

/// Performs every action until the flow settles.
fn drive(client: &mut OAuthClient, mock: &mut Mock, now: Instant) -> Ended {
    for _ in 0..64 {
        match client.poll_action() {
            Some(AuthAction::Fetch {
                id,
                request,
                purpose,
            }) => {
                assert!(
                    request.uri().scheme().is_some(),
                    "absolute-form target for {purpose}"
                );
                let answer = mock.fetch(&request);
                client.handle_fetch_response(now, id, &answer);
            }
            Some(AuthAction::Authorize { url }) => {
                let callback = mock.authorize(&url);
                client.handle_redirect(now, &callback).unwrap();
            }
            Some(AuthAction::Authorized { .. }) => return Ended::Authorized,
            Some(AuthAction::Failed(error)) => return Ended::Failed(error),
            None => return Ended::Nothing,
        }
    }
    panic!("the flow did not settle");
}

/// Sends one MCP request the way an adapter would: with the current token, through as many
/// authorization flows as the client agrees to run.
fn call(
    client: &mut OAuthClient,
    mock: &mut Mock,
    now: Instant,
    method: &str,
) -> Result<(), AuthError> {
    for _ in 0..16 {
        let bearer = match client.bearer_for(now) {
            Bearer::Ready(token) => Some(token),
            Bearer::None => None,
            Bearer::Pending => match drive(client, mock, now) {
                Ended::Failed(error) => return Err(error),
                _ => continue,
            },
        };
        let (status, header) = mock.mcp(method, bearer.as_ref().map(Secret::expose));
        if status == 200 {
            client.handle_accepted();
            return Ok(());
        }
        client
            .handle_unauthorized(now, status, header.iter().map(String::as_str))
            .unwrap();
        match drive(client, mock, now) {
            Ended::Authorized => {}
            Ended::Failed(error) => return Err(error),
            Ended::Nothing => panic!("no outcome after {status}"),
        }
    }
    panic!("too many rounds");
}

fn run(
    scenario: Scenario,
    config: OAuthClientConfig,
) -> (Mock, OAuthClient, Result<(), AuthError>) {
    let mut mock = Mock::new(scenario);
    let mut client = OAuthClient::new(config, Box::new(Counter(0)));
    let now = Instant::now();
    let mut result = call(&mut client, &mut mock, now, "tools/list");
    if result.is_ok() {
        result = call(&mut client, &mut mock, now, "tools/call");
    }
    (mock, client, result)
}

/// The checks most harness scenarios collect, on one authorization.
fn assert_standard_checks(mock: &Mock) {
    let authorizations = mock.authorize_requests();
    assert!(!authorizations.is_empty(), "authorization-request");
    let query = authorizations[0];
    assert_eq!(field(query, "response_type"), Some("code"));
    assert_eq!(
        field(query, "code_challenge_method"),
        Some("S256"),
        "pkce-s256-method-used"
    );
    assert!(
        field(query, "code_challenge").is_some(),
        "pkce-code-challenge-sent"
    );
    assert!(field(query, "state").is_some_and(|state| state.len() >= 22));
    assert_eq!(field(query, "redirect_uri"), Some(REDIRECT));
    let tokens = mock.token_requests();
    let (_, form, _) = tokens.first().expect("token-request");
    assert_eq!(field(form, "grant_type"), Some("authorization_code"));
    assert!(
        field(form, "code_verifier").is_some(),
        "pkce-code-verifier-sent"
    );
    assert_eq!(field(form, "redirect_uri"), Some(REDIRECT));
    assert_eq!(field(form, "scope"), None, "the code carries its scopes");
    // resource-parameter-in-authorization / -in-token / -consistency / -matches-prm.
    let resource = field(query, "resource").expect("resource in the authorization request");
    assert_eq!(field(form, "resource"), Some(resource));
    assert!(!resource.contains('#'));
    assert!(mock.traps().is_empty(), "traps: {:?}", mock.traps());
}

// ---- metadata discovery ----------------------------------------------------------------------

#[test]
fn metadata_default_uses_the_header_and_never_the_root_prm() {
    let scenario = Scenario {
        trap_root_prm: true,
        ..Scenario::default()
    };
    let (mock, _, result) = run(scenario, config());
    result.unwrap();
    assert_standard_checks(&mock);
    assert_eq!(
        mock.gets(),
        [
            format!("{RS}{PRM_PATH}"),
            format!("{AS}/.well-known/oauth-authorization-server")
        ]
    );
    assert_eq!(mock.registrations().len(), 1, "client-registration");
    assert_eq!(
        field(mock.authorize_requests()[0], "resource"),
        Some(format!("{RS}/mcp").as_str())
    );
}

#[test]
fn metadata_var1_probes_the_path_prm_and_falls_back_to_oidc() {
    let scenario = Scenario {
        prm_in_header: false,
        as_metadata_path: Some("/.well-known/openid-configuration"),
        ..Scenario::default()
    };
    let (mock, _, result) = run(scenario, config());
    result.unwrap();
    assert_standard_checks(&mock);
    assert_eq!(
        mock.gets(),
        [
            format!("{RS}{PRM_PATH}"),
            format!("{AS}/.well-known/oauth-authorization-server"),
            format!("{AS}/.well-known/openid-configuration"),
        ]
    );
}

#[test]
fn metadata_var2_root_prm_and_path_aware_issuer() {
    let scenario = Scenario {
        prm_path: Some(PRM_ROOT),
        prm_in_header: false,
        as_prefix: "/tenant1",
        as_metadata_path: Some("/.well-known/oauth-authorization-server/tenant1"),
        ..Scenario::default()
    };
    let (mock, _, result) = run(scenario, config());
    result.unwrap();
    assert_standard_checks(&mock);
    assert_eq!(
        mock.gets(),
        [
            format!("{RS}{PRM_PATH}"),
            format!("{RS}{PRM_ROOT}"),
            format!("{AS}/.well-known/oauth-authorization-server/tenant1"),
        ]
    );
    // resource-parameter-matches-prm: the PRM's `resource` exactly, no slash added.
    assert_eq!(field(mock.authorize_requests()[0], "resource"), Some(RS));
}

#[test]
fn metadata_var3_custom_prm_url_and_oidc_under_the_issuer_path() {
    let scenario = Scenario {
        prm_path: Some("/custom/metadata/location.json"),
        as_prefix: "/tenant1",
        as_metadata_path: Some("/tenant1/.well-known/openid-configuration"),
        ..Scenario::default()
    };
    let (mock, _, result) = run(scenario, config());
    result.unwrap();
    assert_standard_checks(&mock);
    assert_eq!(
        mock.gets(),
        [
            format!("{RS}/custom/metadata/location.json"),
            format!("{AS}/.well-known/oauth-authorization-server/tenant1"),
            format!("{AS}/.well-known/openid-configuration/tenant1"),
            format!("{AS}/tenant1/.well-known/openid-configuration"),
        ]
    );
}

#[test]
fn backcompat_2025_03_26_metadata_at_the_origin_with_the_0_1_16_issuer() {
    // No PRM; metadata at the MCP origin; endpoints and issuer under /oauth (0.1.16's mock).
    let scenario = Scenario {
        prm_path: None,
        as_on_rs_origin: true,
        as_prefix: "/oauth",
        ..Scenario::default()
    };
    let (mock, client, result) = run(scenario.clone(), config());
    result.unwrap();
    assert_standard_checks(&mock);
    assert_eq!(
        mock.gets(),
        [
            format!("{RS}{PRM_PATH}"),
            format!("{RS}{PRM_ROOT}"),
            format!("{RS}/.well-known/oauth-authorization-server"),
        ]
    );
    assert_eq!(
        client.current_issuer(),
        Some(format!("{RS}/oauth").as_str())
    );
    // Without a PRM, the resource is the server's canonical URI.
    assert_eq!(
        field(mock.authorize_requests()[0], "resource"),
        Some(format!("{RS}/mcp").as_str())
    );
    // alpha.12's mock: the issuer is the origin itself.
    let fixed = Scenario {
        issuer_override: Some(RS.to_owned()),
        ..scenario.clone()
    };
    let (_, client, result) = run(fixed, config());
    result.unwrap();
    assert_eq!(client.current_issuer(), Some(RS));
    // An issuer on another origin is still refused.
    let foreign = Scenario {
        issuer_override: Some("https://attacker.example.com".to_owned()),
        ..scenario
    };
    let (mock, _, result) = run(foreign, config());
    assert!(matches!(
        result,
        Err(AuthError::ServerMetadata {
            source: MetadataError::IssuerMismatch { .. },
            ..
        })
    ));
    assert!(mock.authorize_requests().is_empty());
}

#[test]
fn backcompat_2025_03_26_default_endpoints() {
    let scenario = Scenario {
        prm_path: None,
        as_on_rs_origin: true,
        as_metadata_path: None,
        ..Scenario::default()
    };
    let (mock, client, result) = run(scenario, config());
    result.unwrap();
    assert_eq!(mock.registrations().len(), 1);
    assert_eq!(mock.token_requests()[0].0, format!("{RS}/token"));
    assert_standard_checks(&mock);
    assert_eq!(client.current_issuer(), Some(RS));
    // The fallback can be switched off.
    let mut strict = config();
    strict.allow_2025_03_26_fallback = false;
    let (_, _, result) = run(
        Scenario {
            prm_path: None,
            as_on_rs_origin: true,
            as_metadata_path: None,
            ..Scenario::default()
        },
        strict,
    );
    assert_eq!(result, Err(AuthError::NoResourceMetadata { tried: 2 }));
}

#[test]
fn resource_mismatch_is_refused_before_authorization() {
    let scenario = Scenario {
        prm_resource: Some("https://evil.example.com/mcp".to_owned()),
        ..Scenario::default()
    };
    let (mock, _, result) = run(scenario, config());
    let error = result.unwrap_err();
    assert!(matches!(
        &error,
        AuthError::ResourceMetadata {
            source: MetadataError::ResourceMismatch { .. },
            ..
        }
    ));
    assert_eq!(error.fault(), Fault::ResourceServer);
    assert!(
        mock.authorize_requests().is_empty(),
        "resource-mismatch-rejected"
    );
    assert!(mock.registrations().is_empty());
}

#[test]
fn metadata_issuer_mismatch_is_never_used() {
    let scenario = Scenario {
        issuer_override: Some("https://attacker.example.com".to_owned()),
        ..Scenario::default()
    };
    // The PRM names the attacker issuer, whose metadata is not served: nothing is used.
    let (mock, _, result) = run(scenario, config());
    assert!(result.is_err());
    assert!(mock.authorize_requests().is_empty() && mock.registrations().is_empty());

    // alpha.12 `auth/metadata-issuer-mismatch`: the PRM names the real AS, whose document
    // claims another issuer.
    let mut mock = Mock::new(Scenario::default());
    mock.s.as_prefix = "/mismatched-as";
    mock.s.as_metadata_path = Some("/.well-known/oauth-authorization-server/mismatched-as");
    let mut client = OAuthClient::new(config(), Box::new(Counter(0)));
    let now = Instant::now();
    let (status, header) = mock.mcp("tools/list", None);
    client
        .handle_unauthorized(now, status, header.iter().map(String::as_str))
        .unwrap();
    // Serve a poisoned document by hand for the first AS metadata fetch.
    let mut outcome = None;
    while let Some(action) = client.poll_action() {
        match action {
            AuthAction::Fetch {
                id,
                request,
                purpose,
            } => {
                let answer = if purpose == FetchPurpose::ServerMetadata {
                    let mut doc = mock.as_metadata();
                    doc["issuer"] = "https://attacker.example.com".into();
                    json_response(200, &doc)
                } else {
                    mock.fetch(&request)
                };
                client.handle_fetch_response(now, id, &answer);
            }
            AuthAction::Failed(error) => outcome = Some(error),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(matches!(
        outcome,
        Some(AuthError::ServerMetadata {
            source: MetadataError::IssuerMismatch { .. },
            ..
        })
    ));
    assert!(mock.registrations().is_empty());
}

#[test]
fn pkce_is_required() {
    for methods in [None, Some(vec!["plain"])] {
        let scenario = Scenario {
            pkce_methods: methods,
            ..Scenario::default()
        };
        let (mock, _, result) = run(scenario, config());
        assert!(matches!(
            result,
            Err(AuthError::ServerMetadata {
                source: MetadataError::PkceUnsupported { .. },
                ..
            })
        ));
        assert!(mock.authorize_requests().is_empty());
    }
}

// ---- registration ------------------------------------------------------------------------

#[test]
fn basic_cimd_uses_the_url_client_id() {
    let scenario = Scenario {
        cimd_supported: Some(true),
        ..Scenario::default()
    };
    let mut config = config();
    config.client_id_metadata_url = Some(CIMD_URL.to_owned());
    let (mock, client, result) = run(scenario, config);
    result.unwrap();
    assert!(
        mock.registrations().is_empty(),
        "no DCR when CIMD is supported"
    );
    assert_eq!(
        field(mock.authorize_requests()[0], "client_id"),
        Some(CIMD_URL)
    );
    let (_, form, basic) = mock.token_requests()[0];
    assert_eq!(field(form, "client_id"), Some(CIMD_URL));
    assert!(basic.is_none() && field(form, "client_secret").is_none());
    assert_eq!(client.registration(AS).unwrap().client_id, CIMD_URL);
}

#[test]
fn dcr_request_has_application_type_grant_types_and_redirect() {
    let (mock, client, result) = run(Scenario::default(), config());
    result.unwrap();
    let registration = mock.registrations()[0];
    assert_eq!(registration["application_type"], "native");
    assert_eq!(registration["redirect_uris"], serde_json::json!([REDIRECT]));
    assert_eq!(
        registration["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(registration["token_endpoint_auth_method"], "none");
    assert_eq!(registration["client_name"], "conformance-client");
    // The AS accepts only `none`: the secret it handed out anyway is not used.
    let (_, form, basic) = mock.token_requests()[0];
    assert!(basic.is_none());
    assert_eq!(
        field(form, "client_id"),
        Some(format!("client-at-{AS}").as_str())
    );
    assert_eq!(
        client.registration(AS).unwrap().client_id,
        format!("client-at-{AS}")
    );
}

#[test]
fn token_endpoint_auth_methods() {
    for (method, answer) in [
        (
            "client_secret_basic",
            (Some("test-secret"), Some("client_secret_basic")),
        ),
        (
            "client_secret_post",
            (Some("test-secret"), Some("client_secret_post")),
        ),
        ("none", (None, Some("none"))),
    ] {
        let scenario = Scenario {
            auth_methods: vec![method],
            dcr_answer: answer,
            ..Scenario::default()
        };
        let (mock, _, result) = run(scenario, config());
        result.unwrap();
        assert_eq!(
            mock.registrations()[0]["token_endpoint_auth_method"],
            method
        );
        let (_, form, basic) = mock.token_requests()[0];
        let client_id = format!("client-at-{AS}");
        match method {
            "client_secret_basic" => {
                assert_eq!(basic, &Some((client_id, "test-secret".to_owned())));
                assert!(field(form, "client_secret").is_none());
            }
            "client_secret_post" => {
                assert!(basic.is_none());
                assert_eq!(field(form, "client_id"), Some(client_id.as_str()));
                assert_eq!(field(form, "client_secret"), Some("test-secret"));
            }
            _ => {
                assert!(basic.is_none() && field(form, "client_secret").is_none());
                assert_eq!(field(form, "client_id"), Some(client_id.as_str()));
            }
        }
        assert_standard_checks(&mock);
    }
}

#[test]
fn pre_registration_without_dcr_uses_basic() {
    let scenario = Scenario {
        dcr: false,
        auth_methods: vec!["client_secret_basic"],
        expect_client: Some(("pre-registered-client", "pre-registered-secret")),
        ..Scenario::default()
    };
    let mut config = config();
    config.pre_registered.push(PreRegisteredClient {
        issuer: None,
        registration: ClientRegistration::pre_registered(
            "pre-registered-client",
            Some(Secret::from("pre-registered-secret")),
        ),
    });
    let (mock, _, result) = run(scenario.clone(), config);
    result.unwrap();
    assert!(mock.registrations().is_empty());
    assert_eq!(
        mock.token_requests()[0].2,
        &Some((
            "pre-registered-client".to_owned(),
            "pre-registered-secret".to_owned()
        ))
    );
    // Without credentials or any registration mechanism the user must be asked.
    let (_, _, result) = run(scenario, self::config());
    let error = result.unwrap_err();
    assert_eq!(
        error,
        AuthError::RegistrationRequired {
            issuer: AS.to_owned()
        }
    );
    assert_eq!(error.fault(), Fault::User);
}

#[test]
fn pre_registration_for_another_issuer_is_not_used() {
    let scenario = Scenario {
        dcr: false,
        auth_methods: vec!["client_secret_basic"],
        ..Scenario::default()
    };
    let mut config = config();
    config.pre_registered.push(PreRegisteredClient {
        issuer: Some("https://other-as.example.com".to_owned()),
        registration: ClientRegistration::pre_registered("elsewhere", Some(Secret::from("s"))),
    });
    let (mock, _, result) = run(scenario, config);
    assert_eq!(
        result,
        Err(AuthError::RegistrationRequired {
            issuer: AS.to_owned()
        })
    );
    assert!(mock.token_requests().is_empty());
}

#[test]
fn authorization_server_migration_registers_again_and_never_reuses_credentials() {
    let scenario = Scenario {
        migrate: true,
        ..Scenario::default()
    };
    let (mock, client, result) = run(scenario, config());
    result.unwrap();
    assert_eq!(
        mock.registered_clients,
        [format!("client-at-{AS}"), format!("client-at-{AS2}")]
    );
    // sep-2352-no-reuse-on-as-change: AS1's client id never reaches AS2.
    for (url, form, _) in mock.token_requests() {
        if url.starts_with(AS2) {
            assert_ne!(
                field(form, "client_id"),
                Some(format!("client-at-{AS}").as_str())
            );
        }
    }
    let at_as2 = mock.authorize_requests().last().copied().unwrap();
    assert_eq!(
        field(at_as2, "client_id"),
        Some(format!("client-at-{AS2}").as_str())
    );
    assert_eq!(client.current_issuer(), Some(AS2));
}

#[test]
fn a_forgotten_dynamic_client_registers_again() {
    let mut mock = Mock::new(Scenario::default());
    let mut client = OAuthClient::new(config(), Box::new(Counter(0)));
    let now = Instant::now();
    call(&mut client, &mut mock, now, "tools/list").unwrap();
    mock.tokens.clear();
    mock.forgotten.push(format!("client-at-{AS}"));
    let error = call(&mut client, &mut mock, now, "tools/list").unwrap_err();
    assert!(matches!(error, AuthError::Token { .. }), "{error:?}");
    assert_eq!(error.fault(), Fault::AuthorizationServer);
    assert!(client.registration(AS).is_none());
    call(&mut client, &mut mock, now, "tools/list").unwrap();
    assert_eq!(
        mock.registered_clients,
        [format!("client-at-{AS}"), format!("client-at-{AS}-2")]
    );
}

// ---- scopes --------------------------------------------------------------------------------

fn scope_of(query: &[(String, String)]) -> Option<&str> {
    field(query, "scope")
}

#[test]
fn scope_from_www_authenticate() {
    let scenario = Scenario {
        challenge_scope: Some("mcp:basic"),
        prm_scopes: Some(vec!["mcp:basic", "mcp:read"]),
        ..Scenario::default()
    };
    let (mock, _, result) = run(scenario, config());
    result.unwrap();
    assert_eq!(scope_of(mock.authorize_requests()[0]), Some("mcp:basic"));
}

#[test]
fn scope_from_scopes_supported() {
    let scenario = Scenario {
        prm_scopes: Some(vec!["mcp:basic", "mcp:read", "mcp:write"]),
        ..Scenario::default()
    };
    let (mock, _, result) = run(scenario, config());
    result.unwrap();
    assert_eq!(
        scope_of(mock.authorize_requests()[0]),
        Some("mcp:basic mcp:read mcp:write")
    );
}

#[test]
fn scope_omitted_when_undefined() {
    let (mock, _, result) = run(Scenario::default(), config());
    result.unwrap();
    assert_eq!(scope_of(mock.authorize_requests()[0]), None);
    assert_eq!(field(&mock.token_requests()[0].1.clone(), "scope"), None);
}

fn step_up_requirements(method: &str) -> Vec<&'static str> {
    if method == "tools/call" {
        vec!["mcp:basic", "mcp:write"]
    } else {
        vec!["mcp:basic"]
    }
}

#[test]
fn scope_step_up_asks_for_the_union() {
    let scenario = Scenario {
        challenge_scope: Some("mcp:basic"),
        prm_scopes: Some(vec!["mcp:basic"]),
        required: step_up_requirements,
        ..Scenario::default()
    };
    let (mock, _, result) = run(scenario, config());
    result.unwrap();
    let authorizations = mock.authorize_requests();
    assert_eq!(authorizations.len(), 2);
    assert_eq!(
        scope_of(authorizations[0]),
        Some("mcp:basic"),
        "scope-step-up-initial"
    );
    assert_eq!(
        scope_of(authorizations[1]),
        Some("mcp:basic mcp:write"),
        "scope-step-up-escalation"
    );
    // The step-up reuses discovery and registration.
    assert_eq!(mock.gets().len(), 2);
    assert_eq!(mock.registrations().len(), 1);
}

#[test]
fn step_up_keeps_the_scopes_already_held() {
    // The 403 names only the missing scope; the union keeps what tools/list needs.
    fn disjoint(method: &str) -> Vec<&'static str> {
        if method == "tools/call" {
            vec!["mcp:write"]
        } else {
            vec!["mcp:basic"]
        }
    }
    let mut mock = Mock::new(Scenario {
        challenge_scope: Some("mcp:basic"),
        required: disjoint,
        ..Scenario::default()
    });
    let mut client = OAuthClient::new(config(), Box::new(Counter(0)));
    let now = Instant::now();
    for method in ["tools/list", "tools/call", "tools/list", "tools/call"] {
        call(&mut client, &mut mock, now, method).unwrap();
    }
    let scopes: Vec<_> = mock
        .authorize_requests()
        .iter()
        .map(|query| scope_of(query).unwrap().to_owned())
        .collect();
    assert_eq!(scopes, ["mcp:basic", "mcp:basic mcp:write"]);
}

#[test]
fn scope_retry_limit_stops_after_three_attempts() {
    let scenario = Scenario {
        challenge_scope: Some("mcp:admin"),
        prm_scopes: Some(vec!["mcp:admin"]),
        always_insufficient: Some("mcp:admin"),
        ..Scenario::default()
    };
    let (mock, _, result) = run(scenario, config());
    assert_eq!(result, Err(AuthError::AttemptsExhausted { attempts: 3 }));
    assert_eq!(mock.authorize_requests().len(), 3);
    // A stricter limit.
    let mut strict = config();
    strict.max_authorization_attempts = 1;
    let (mock, _, result) = run(
        Scenario {
            always_insufficient: Some("mcp:admin"),
            ..Scenario::default()
        },
        strict,
    );
    assert_eq!(result, Err(AuthError::AttemptsExhausted { attempts: 1 }));
    assert_eq!(mock.authorize_requests().len(), 1);
}

#[test]
fn accepted_requests_reset_the_attempt_count() {
    // Three step-ups spread over accepted requests are all allowed.
    fn escalating(method: &str) -> Vec<&'static str> {
        match method {
            "a" => vec!["s1"],
            "b" => vec!["s1", "s2"],
            "c" => vec!["s1", "s2", "s3"],
            _ => vec!["s1", "s2", "s3", "s4"],
        }
    }
    let mut mock = Mock::new(Scenario {
        required: escalating,
        ..Scenario::default()
    });
    let mut client = OAuthClient::new(config(), Box::new(Counter(0)));
    let now = Instant::now();
    for method in ["a", "b", "c", "d"] {
        call(&mut client, &mut mock, now, method).unwrap();
    }
    let scopes: Vec<_> = mock
        .authorize_requests()
        .iter()
        .map(|query| scope_of(query).map(str::to_owned))
        .collect();
    assert_eq!(
        scopes,
        [
            None,
            Some("s1".to_owned()),
            Some("s1 s2".to_owned()),
            Some("s1 s2 s3".to_owned()),
            Some("s1 s2 s3 s4".to_owned())
        ]
    );
}

#[test]
fn forbidden_without_insufficient_scope_is_not_retried() {
    let mut client = OAuthClient::new(config(), Box::new(Counter(0)));
    let now = Instant::now();
    client
        .handle_unauthorized(
            now,
            403,
            [r#"Bearer error="forbidden", error_description="no""#],
        )
        .unwrap();
    let Some(AuthAction::Failed(error)) = client.poll_action() else {
        panic!()
    };
    assert_eq!(error.fault(), Fault::ResourceServer);
    assert!(matches!(error, AuthError::Forbidden { challenge: Some(_) }));
    assert!(client.poll_action().is_none());
    assert!(!client.is_busy());
}

#[test]
fn offline_access_scope_only_when_the_authorization_server_lists_it() {
    let scenario = Scenario {
        prm_scopes: Some(vec!["mcp:basic"]),
        as_scopes: Some(vec!["mcp:basic", "offline_access"]),
        cimd_supported: Some(true),
        refresh_tokens: true,
        ..Scenario::default()
    };
    // DCR (no CIMD URL configured): refresh_token registered, offline_access requested.
    let (mock, _, result) = run(scenario.clone(), config());
    result.unwrap();
    assert_eq!(
        mock.registrations()[0]["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        scope_of(mock.authorize_requests()[0]),
        Some("mcp:basic offline_access")
    );
    // The client may choose not to.
    let mut quiet = config();
    quiet.request_offline_access = false;
    let (mock, _, result) = run(scenario, quiet);
    result.unwrap();
    assert_eq!(scope_of(mock.authorize_requests()[0]), Some("mcp:basic"));
    // Not listed: never requested, even when the server's challenge names it.
    let scenario = Scenario {
        challenge_scope: Some("mcp:basic mcp:read offline_access"),
        prm_scopes: Some(vec!["mcp:basic", "mcp:read"]),
        as_scopes: Some(vec!["mcp:basic", "mcp:read"]),
        ..Scenario::default()
    };
    let (mock, _, result) = run(scenario, config());
    result.unwrap();
    assert_eq!(
        scope_of(mock.authorize_requests()[0]),
        Some("mcp:basic mcp:read")
    );
}

// ---- RFC 9207 iss ---------------------------------------------------------------------------

fn iss_scenario(supported: Option<bool>, sent: Iss) -> (Mock, Result<(), AuthError>) {
    let scenario = Scenario {
        iss_supported: supported,
        iss_in_redirect: sent,
        ..Scenario::default()
    };
    let (mock, _, result) = run(scenario, config());
    (mock, result)
}

#[test]
fn iss_rules() {
    // iss-supported and iss-not-advertised: proceed.
    let (mock, result) = iss_scenario(Some(true), Iss::Correct);
    result.unwrap();
    assert_eq!(mock.token_requests().len(), 1);
    let (mock, result) = iss_scenario(None, Iss::Omit);
    result.unwrap();
    assert_eq!(mock.token_requests().len(), 1);
    // iss-supported-missing, iss-wrong-issuer, iss-unexpected, iss-normalized: refuse
    // before the token request.
    for (supported, sent, expected) in [
        (Some(true), Iss::Omit, "missing"),
        (Some(true), Iss::Wrong, "mismatch"),
        (None, Iss::Wrong, "mismatch"),
        (Some(true), Iss::TrailingSlash, "mismatch"),
    ] {
        let (mock, result) = iss_scenario(supported, sent);
        let error = result.unwrap_err();
        match (expected, &error) {
            (
                "missing",
                AuthError::AuthorizationResponse(AuthorizationResponseError::IssuerMissing),
            )
            | (
                "mismatch",
                AuthError::AuthorizationResponse(AuthorizationResponseError::IssuerMismatch {
                    ..
                }),
            ) => {}
            _ => panic!("{supported:?} {sent:?}: {error:?}"),
        }
        assert_eq!(error.fault(), Fault::AuthorizationServer);
        assert!(
            mock.token_requests().is_empty(),
            "{supported:?} {sent:?} transmitted the code"
        );
    }
}

// ---- grants without a user ------------------------------------------------------------------

#[test]
fn client_credentials_with_basic() {
    let scenario = Scenario {
        grant_types: vec!["client_credentials"],
        auth_methods: vec!["client_secret_basic"],
        expect_client: Some(("conformance-test-client", "conformance-test-secret")),
        ..Scenario::default()
    };
    let mut config = config();
    config.grant = GrantConfig::ClientCredentials;
    config.pre_registered.push(PreRegisteredClient {
        issuer: None,
        registration: ClientRegistration::pre_registered(
            "conformance-test-client",
            Some(Secret::from("conformance-test-secret")),
        ),
    });
    let (mock, _, result) = run(scenario, config);
    result.unwrap();
    assert!(mock.authorize_requests().is_empty() && mock.registrations().is_empty());
    let (_, form, basic) = mock.token_requests()[0];
    assert_eq!(field(form, "grant_type"), Some("client_credentials"));
    assert_eq!(field(form, "resource"), Some(format!("{RS}/mcp").as_str()));
    assert!(basic.is_some());
}

#[test]
fn client_credentials_with_private_key_jwt() {
    let scenario = Scenario {
        grant_types: vec!["client_credentials"],
        auth_methods: vec!["private_key_jwt"],
        ..Scenario::default()
    };
    let now = Instant::now();
    let mut config = config();
    config.grant = GrantConfig::ClientCredentials;
    config.assertion_signer = Some(Box::new(TestSigner));
    config.wall_clock = Some(WallClock {
        at: now,
        unix_seconds: 1_800_000_000,
    });
    config.pre_registered.push(PreRegisteredClient {
        issuer: None,
        registration: ClientRegistration::pre_registered("conformance-test-client", None),
    });
    let (mock, _, result) = run(scenario.clone(), config);
    result.unwrap();
    let (_, form, basic) = mock.token_requests()[0];
    assert!(basic.is_none());
    assert_eq!(
        field(form, "client_assertion_type"),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    let jwt = field(form, "client_assertion").unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    // client-credentials-jwt-iss / -sub, audience = the issuer.
    assert_eq!(claims["iss"], "conformance-test-client");
    assert_eq!(claims["sub"], "conformance-test-client");
    assert_eq!(claims["aud"], AS);
    let iat = claims["iat"].as_u64().unwrap();
    assert!((1_800_000_000..1_800_000_010).contains(&iat));
    assert_eq!(claims["exp"].as_u64().unwrap(), iat + 300);
    assert!(claims["jti"].as_str().is_some_and(|jti| !jti.is_empty()));
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    assert_eq!(
        signature,
        fake_signature(format!("{}.{}", parts[0], parts[1]).as_bytes())
    );

    // Without a signer the configuration is at fault, before any token request.
    let mut unsigned = self::config();
    unsigned.grant = GrantConfig::ClientCredentials;
    unsigned.pre_registered.push(PreRegisteredClient {
        issuer: None,
        registration: ClientRegistration {
            auth_method: Some(mcp_proto::auth::TokenEndpointAuthMethod::PrivateKeyJwt),
            ..ClientRegistration::pre_registered("conformance-test-client", None)
        },
    });
    let (mock, _, result) = run(scenario, unsigned);
    let error = result.unwrap_err();
    assert_eq!(error.fault(), Fault::Client);
    assert!(mock.token_requests().is_empty());
}

#[test]
fn cross_app_access_exchanges_the_id_token_then_uses_jwt_bearer() {
    let scenario = Scenario {
        grant_types: vec!["urn:ietf:params:oauth:grant-type:jwt-bearer"],
        auth_methods: vec!["client_secret_basic"],
        expect_client: Some(("conformance-test-xaa-client", "conformance-test-xaa-secret")),
        ..Scenario::default()
    };
    let mut config = config();
    config.grant = GrantConfig::EnterpriseManaged(IdentityAssertionGrant {
        idp_token_endpoint: HttpUrl::parse(&format!("{IDP}/token")).unwrap(),
        id_token: Secret::from("idp-id-token"),
        idp_client: ClientRegistration::pre_registered("conformance-test-idp-client", None),
    });
    config.pre_registered.push(PreRegisteredClient {
        issuer: None,
        registration: ClientRegistration::pre_registered(
            "conformance-test-xaa-client",
            Some(Secret::from("conformance-test-xaa-secret")),
        ),
    });
    let (mock, _, result) = run(scenario, config);
    result.unwrap();
    let tokens = mock.token_requests();
    assert_eq!(tokens.len(), 2);
    let (url, exchange, _) = tokens[0];
    assert_eq!(url, format!("{IDP}/token"));
    assert_eq!(
        field(exchange, "client_id"),
        Some("conformance-test-idp-client")
    );
    let (url, bearer, basic) = tokens[1];
    assert_eq!(url, format!("{AS}/token"));
    assert_eq!(
        field(bearer, "grant_type"),
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    );
    assert_eq!(
        field(bearer, "assertion"),
        Some(format!("id-jag-for-{AS}").as_str())
    );
    assert_eq!(
        basic,
        &Some((
            "conformance-test-xaa-client".to_owned(),
            "conformance-test-xaa-secret".to_owned()
        ))
    );
}

#[test]
fn workload_identity_jwt_bearer_does_not_retry() {
    let scenario = Scenario {
        grant_types: vec!["urn:ietf:params:oauth:grant-type:jwt-bearer"],
        dcr: false,
        ..Scenario::default()
    };
    let mut config = config();
    config.grant = GrantConfig::JwtBearer {
        assertion: Secret::from("workload.jwt.sig"),
    };
    config.pre_registered.push(PreRegisteredClient {
        issuer: None,
        registration: ClientRegistration::pre_registered("conformance-wif-workload", None),
    });
    let (mock, _, result) = run(scenario.clone(), config);
    result.unwrap();
    let (_, form, _) = mock.token_requests()[0];
    assert_eq!(field(form, "assertion"), Some("workload.jwt.sig"));
    assert_eq!(field(form, "client_id"), Some("conformance-wif-workload"));
    // A refused grant is surfaced once, without another grant type or retry.
    let refusing = Scenario {
        grant_types: vec!["client_credentials"],
        ..scenario
    };
    let mut config = self::config();
    config.grant = GrantConfig::JwtBearer {
        assertion: Secret::from("workload.jwt.sig"),
    };
    let (mock, _, result) = run(refusing, config);
    assert!(matches!(result, Err(AuthError::Token { .. })));
    assert_eq!(mock.token_requests().len(), 1);
}

// ---- tokens over time ---------------------------------------------------------------------

#[test]
fn expired_tokens_are_refreshed_and_refresh_failure_reauthorizes() {
    let mut mock = Mock::new(Scenario {
        refresh_tokens: true,
        expires_in: 60,
        ..Scenario::default()
    });
    let mut client = OAuthClient::new(config(), Box::new(Counter(0)));
    let t0 = Instant::now();
    call(&mut client, &mut mock, t0, "tools/list").unwrap();
    let first = client.tokens(AS).unwrap().clone();
    assert_eq!(first.expires_at, Some(t0 + Duration::from_secs(60)));
    // Within the margin: still fresh at +29 s, refreshed at +31 s (30 s margin).
    assert_eq!(
        client.bearer_for(t0 + Duration::from_secs(29)),
        Bearer::Ready(first.access_token.clone())
    );
    let later = t0 + Duration::from_secs(31);
    assert_eq!(client.bearer_for(later), Bearer::Pending);
    let Some(AuthAction::Fetch {
        id,
        request,
        purpose: FetchPurpose::Token,
    }) = client.poll_action()
    else {
        panic!()
    };
    let form = parse_form(std::str::from_utf8(request.body()).unwrap()).unwrap();
    assert_eq!(field(&form, "grant_type"), Some("refresh_token"));
    assert_eq!(field(&form, "refresh_token"), Some("refresh-1"));
    assert_eq!(field(&form, "resource"), Some(format!("{RS}/mcp").as_str()));
    client.handle_fetch_response(later, id, &mock.fetch(&request));
    assert!(matches!(
        client.poll_action(),
        Some(AuthAction::Authorized { .. })
    ));
    let second = client.tokens(AS).unwrap().clone();
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(second.expires_at, Some(later + Duration::from_secs(60)));
    call(&mut client, &mut mock, later, "tools/list").unwrap();
    assert_eq!(mock.authorize_requests().len(), 1);

    // The server forgets the refresh token: a refresh fails, so the client authorizes again.
    mock.refresh.clear();
    let much_later = later + Duration::from_secs(120);
    call(&mut client, &mut mock, much_later, "tools/list").unwrap();
    assert_eq!(mock.authorize_requests().len(), 2);
}

#[test]
fn a_401_with_a_refresh_token_refreshes_instead_of_reauthorizing() {
    let mut mock = Mock::new(Scenario {
        refresh_tokens: true,
        ..Scenario::default()
    });
    let mut client = OAuthClient::new(config(), Box::new(Counter(0)));
    let now = Instant::now();
    call(&mut client, &mut mock, now, "tools/list").unwrap();
    // The server revokes the access token.
    mock.tokens.clear();
    call(&mut client, &mut mock, now, "tools/list").unwrap();
    assert_eq!(mock.authorize_requests().len(), 1);
    let grants: Vec<_> = mock
        .token_requests()
        .iter()
        .map(|(_, form, _)| field(form, "grant_type").unwrap().to_owned())
        .collect();
    assert_eq!(grants, ["authorization_code", "refresh_token"]);
}

// ---- the state machine's contract -------------------------------------------------------------

#[test]
fn concurrent_401s_join_one_flow_and_stale_inputs_change_nothing() {
    let mut mock = Mock::new(Scenario::default());
    let mut client = OAuthClient::new(config(), Box::new(Counter(0)));
    let now = Instant::now();
    let (status, header) = mock.mcp("tools/list", None);
    client
        .handle_unauthorized(now, status, header.iter().map(String::as_str))
        .unwrap();
    client
        .handle_unauthorized(now, status, header.iter().map(String::as_str))
        .unwrap();
    let Some(AuthAction::Fetch { id, request, .. }) = client.poll_action() else {
        panic!()
    };
    assert!(
        client.poll_action().is_none(),
        "the second 401 joined the first flow"
    );
    assert!(client.is_busy());
    assert_eq!(client.bearer_for(now), Bearer::Pending);
    // A stale id and an unexpected redirect are ignored or refused without harm.
    client.handle_fetch_failed(now, mcp_proto::auth::FetchId(id.0 + 100), "late");
    assert_eq!(
        client.handle_redirect(now, REDIRECT),
        Err(UsageError::NoAuthorizationPending)
    );
    assert!(client.poll_action().is_none());
    client.handle_fetch_response(now, id, &mock.fetch(&request));
    assert!(matches!(
        drive(&mut client, &mut mock, now),
        Ended::Authorized
    ));
    assert_eq!(
        client.handle_unauthorized(now, 500, [""]),
        Err(UsageError::NotAnAuthorizationStatus(500))
    );
}

#[test]
fn the_user_has_a_deadline_and_may_abandon() {
    let mut mock = Mock::new(Scenario::default());
    let mut client = OAuthClient::new(config(), Box::new(Counter(0)));
    let t0 = Instant::now();
    let (status, header) = mock.mcp("tools/list", None);
    client
        .handle_unauthorized(t0, status, header.iter().map(String::as_str))
        .unwrap();
    let mut deadline = None;
    while let Some(action) = client.poll_action() {
        match action {
            AuthAction::Fetch { id, request, .. } => {
                client.handle_fetch_response(t0, id, &mock.fetch(&request))
            }
            AuthAction::Authorize { .. } => deadline = client.poll_timeout(),
            other => panic!("{other:?}"),
        }
    }
    let deadline = deadline.unwrap();
    assert_eq!(deadline, t0 + Duration::from_secs(600));
    client.handle_timeout(deadline - Duration::from_secs(1));
    assert!(client.poll_action().is_none() && client.is_busy());
    client.handle_timeout(deadline);
    let Some(AuthAction::Failed(error)) = client.poll_action() else {
        panic!()
    };
    assert_eq!(error, AuthError::TimedOut(Duration::from_secs(600)));
    assert_eq!(error.fault(), Fault::User);
    assert!(!client.is_busy() && client.poll_timeout().is_none());

    client
        .handle_unauthorized(t0, status, header.iter().map(String::as_str))
        .unwrap();
    client.abandon(t0);
    let mut last = None;
    while let Some(action) = client.poll_action() {
        last = Some(action);
    }
    assert!(matches!(
        last,
        Some(AuthAction::Failed(AuthError::Abandoned))
    ));
}

#[test]
fn debug_output_carries_no_credentials() {
    let mut mock = Mock::new(Scenario {
        auth_methods: vec!["client_secret_post"],
        dcr_answer: (Some("very-secret-value"), Some("client_secret_post")),
        ..Scenario::default()
    });
    let mut client = OAuthClient::new(config(), Box::new(Counter(0)));
    let now = Instant::now();
    let (status, header) = mock.mcp("tools/list", None);
    client
        .handle_unauthorized(now, status, header.iter().map(String::as_str))
        .unwrap();
    let mut printed = String::new();
    for _ in 0..16 {
        let Some(action) = client.poll_action() else {
            break;
        };
        printed.push_str(&format!("{action:?}\n{client:?}\n"));
        match action {
            AuthAction::Fetch { id, request, .. } => {
                client.handle_fetch_response(now, id, &mock.fetch(&request))
            }
            AuthAction::Authorize { url } => {
                let callback = mock.authorize(&url);
                client.handle_redirect(now, &callback).unwrap();
            }
            _ => {}
        }
    }
    assert!(printed.contains("Authorized"), "{printed}");
    for secret in ["very-secret-value", "test-token-1", "test-auth-code"] {
        assert!(!printed.contains(secret), "{secret} leaked: {printed}");
    }
    let verifier = mock.token_requests()[0]
        .1
        .iter()
        .find(|(k, _)| k == "code_verifier")
        .unwrap()
        .1
        .clone();
    assert!(!printed.contains(&verifier));
}

#[test]
fn a_late_redirect_is_refused() {
    let mut mock = Mock::new(Scenario::default());
    let mut client = OAuthClient::new(config(), Box::new(Counter(0)));
    let t0 = Instant::now();
    let (status, header) = mock.mcp("tools/list", None);
    client
        .handle_unauthorized(t0, status, header.iter().map(String::as_str))
        .unwrap();
    let mut callback = None;
    while let Some(action) = client.poll_action() {
        match action {
            AuthAction::Fetch { id, request, .. } => {
                client.handle_fetch_response(t0, id, &mock.fetch(&request))
            }
            AuthAction::Authorize { url } => callback = Some(mock.authorize(&url)),
            other => panic!("{other:?}"),
        }
    }
    client
        .handle_redirect(t0 + Duration::from_secs(601), &callback.unwrap())
        .unwrap();
    assert!(matches!(
        client.poll_action(),
        Some(AuthAction::Failed(AuthError::TimedOut(_)))
    ));
    assert!(mock.token_requests().is_empty());
}

#[test]
fn registrations_persist_per_issuer_and_old_issuers_are_forgotten() {
    // A registration restored from an earlier run is used instead of registering.
    let mut mock = Mock::new(Scenario::default());
    let mut client = OAuthClient::new(config(), Box::new(Counter(0)));
    client.insert_registration(AS, ClientRegistration::pre_registered("restored", None));
    call(&mut client, &mut mock, Instant::now(), "tools/list").unwrap();
    assert!(mock.registrations().is_empty());
    assert_eq!(
        field(mock.authorize_requests()[0], "client_id"),
        Some("restored")
    );
    // With room for one issuer, moving to AS2 forgets AS1.
    let mut config = config();
    config.limits.max_issuers = 1;
    let (_, client, result) = run(
        Scenario {
            migrate: true,
            ..Scenario::default()
        },
        config,
    );
    result.unwrap();
    assert!(client.registration(AS).is_none() && client.tokens(AS).is_none());
    assert!(client.registration(AS2).is_some() && client.tokens(AS2).is_some());
    let mut client = client;
    client.forget_issuer(AS2);
    assert!(client.registration(AS2).is_none() && client.current_issuer().is_none());
}

#[test]
fn network_failures_during_discovery_fall_through_then_fail_typed() {
    let mut client = OAuthClient::new(config(), Box::new(Counter(0)));
    let now = Instant::now();
    client
        .handle_unauthorized(
            now,
            401,
            [format!("Bearer resource_metadata=\"{RS}{PRM_PATH}\"")],
        )
        .unwrap();
    let mut purposes = Vec::new();
    let mut outcome = None;
    while let Some(action) = client.poll_action() {
        match action {
            AuthAction::Fetch { id, purpose, .. } => {
                purposes.push(purpose);
                client.handle_fetch_failed(now, id, "connection refused");
            }
            AuthAction::Failed(error) => outcome = Some(error),
            other => panic!("{other:?}"),
        }
    }
    // Both PRM candidates, then the 2025-03-26 metadata at the origin, whose failure is final.
    assert_eq!(
        purposes,
        [
            FetchPurpose::ResourceMetadata,
            FetchPurpose::ResourceMetadata,
            FetchPurpose::ServerMetadata
        ]
    );
    let error = outcome.unwrap();
    assert_eq!(error.fault(), Fault::Network);
}

#[test]
fn plain_http_is_refused_unless_loopback_is_allowed() {
    let mut strict = config();
    strict.url_policy = UrlPolicy::default();
    let mut client = OAuthClient::new(strict, Box::new(Counter(0)));
    client
        .handle_unauthorized(Instant::now(), 401, ["Bearer"])
        .unwrap();
    let Some(AuthAction::Failed(error)) = client.poll_action() else {
        panic!()
    };
    assert_eq!(error.fault(), Fault::Client);
    // An https server whose PRM points at a plain-http authorization server.
    let mut config = OAuthClientConfig::new("https://mcp.example.com/mcp", REDIRECT, "c").unwrap();
    config.url_policy = UrlPolicy::default();
    let mut client = OAuthClient::new(config, Box::new(Counter(0)));
    let now = Instant::now();
    client.handle_unauthorized(now, 401, ["Bearer"]).unwrap();
    let Some(AuthAction::Fetch { id, .. }) = client.poll_action() else {
        panic!()
    };
    let prm = serde_json::json!({"resource": "https://mcp.example.com/mcp", "authorization_servers": ["http://as.example.com"]});
    client.handle_fetch_response(now, id, &json_response(200, &prm));
    let Some(AuthAction::Failed(error)) = client.poll_action() else {
        panic!()
    };
    assert!(matches!(error, AuthError::UnsafeUrl(_)), "{error:?}");
}

#[test]
fn garbage_responses_never_panic() {
    let bodies: [&[u8]; 6] = [
        b"",
        b"{",
        b"null",
        b"[1,2]",
        b"\xff\xfe",
        b"{\"resource\":null}",
    ];
    for status in [200, 201, 302, 400, 401, 404, 500] {
        for body in bodies {
            let mut client = OAuthClient::new(config(), Box::new(Counter(0)));
            let now = Instant::now();
            client
                .handle_unauthorized(now, 401, [&b"Bearer \xff garbage"[..]])
                .unwrap();
            let mut steps = 0;
            while let Some(action) = client.poll_action() {
                steps += 1;
                assert!(steps < 32);
                match action {
                    AuthAction::Fetch { id, .. } => {
                        client.handle_fetch_response(
                            now,
                            id,
                            &http::Response::builder()
                                .status(status)
                                .body(body.to_vec())
                                .unwrap(),
                        );
                    }
                    AuthAction::Authorize { .. } => {
                        client
                            .handle_redirect(now, "http://localhost:8090/callback?code=x")
                            .unwrap();
                    }
                    AuthAction::Authorized { .. } => panic!("authorized on garbage"),
                    AuthAction::Failed(_) => {}
                }
            }
            assert!(!client.is_busy());
        }
    }
}
