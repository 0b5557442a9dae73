//! DPoP (RFC 9449) through `OAuthClient`, against a scripted authorization server and MCP
//! server that check proofs the way the conformance harness's `auth/dpop` and
//! `auth/dpop-nonce` mocks do (typ, alg, public jwk, jti reuse, htm, htu, iat, ath, the key
//! thumbprint the token is bound to, nonces), with a stand-in signature the mock recomputes.

// The scripted servers are test scaffolding: a broken expectation there must stop the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_proto::auth::dpop::{DpopSigner, PublicJwk, access_token_hash};
use mcp_proto::auth::jwt::{AssertionSigner, SignerError, WallClock};
use mcp_proto::auth::pkce::s256_challenge;
use mcp_proto::auth::url::{HttpUrl, UrlPolicy, parse_form};
use mcp_proto::auth::{
    AuthAction, AuthError, Credentials, EntropySource, OAuthClient, OAuthClientConfig,
    ResourceVerdict, Secret, Sent, TokenSet,
};

const RS: &str = "http://localhost:3000";
const AS: &str = "http://localhost:4000";
const REDIRECT: &str = "http://localhost:8090/callback";
const UNIX_T0: u64 = 1_750_000_000;
const AS_NONCE: &str = "conformance-as-dpop-nonce";
const RS_NONCE: &str = "conformance-rs-dpop-nonce";

// ---- the key -----------------------------------------------------------------------------

/// A stand-in ES256 key: the "signature" is a digest of the signing input that the mock
/// recomputes, so a tampered proof fails.
struct TestKey(PublicJwk);

fn fake_signature(input: &[u8]) -> Vec<u8> {
    s256_challenge(&String::from_utf8_lossy(input)).into_bytes()
}

impl AssertionSigner for TestKey {
    fn algorithm(&self) -> &str {
        "ES256"
    }
    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, SignerError> {
        Ok(fake_signature(input))
    }
}

impl DpopSigner for TestKey {
    fn public_jwk(&self) -> &PublicJwk {
        &self.0
    }
}

fn key(seed: u8) -> TestKey {
    let mut point = vec![4_u8];
    point.extend((0..64_u8).map(|i| i.wrapping_mul(seed)));
    TestKey(PublicJwk::p256_uncompressed(&point).unwrap())
}

// ---- the scripted servers ----------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nonces {
    /// No nonce required.
    None,
    /// One fixed nonce required (the harness's mocks).
    Fixed,
    /// A new nonce demanded on every request: a server that is never satisfied.
    Endless,
}

#[derive(Debug, Clone)]
struct Setup {
    /// `dpop_signing_alg_values_supported` of the AS metadata.
    algs: Option<Vec<&'static str>>,
    as_nonces: Nonces,
    rs_nonces: Nonces,
    /// `token_type` of issued tokens when a valid proof came (`DPoP` or `Bearer`).
    token_type: &'static str,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            algs: Some(vec!["ES256"]),
            as_nonces: Nonces::None,
            rs_nonces: Nonces::None,
            token_type: "DPoP",
        }
    }
}

/// A decoded, checked proof.
#[derive(Debug, Clone)]
struct Proof {
    claims: serde_json::Value,
    jkt: String,
}

#[derive(Debug, Clone)]
struct TokenRequestSeen {
    proof: Option<Proof>,
    grant_type: String,
}

struct Mock {
    s: Setup,
    /// access token → thumbprint it is bound to (`None`: bearer).
    tokens: HashMap<String, Option<String>>,
    issued: u32,
    token_requests: Vec<TokenRequestSeen>,
    /// Proofs the MCP server accepted or challenged, in order.
    rs_proofs: Vec<Proof>,
    /// Every `Authorization` scheme the MCP server saw.
    schemes: Vec<String>,
    jtis: HashSet<String>,
    nonce_counter: u32,
    accepted: u32,
    /// The Unix time the servers' clocks read.
    unix_now: u64,
}

fn response(status: u16, body: &str) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .unwrap()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn decode(part: &str) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

impl Mock {
    fn new(s: Setup) -> Self {
        Self {
            s,
            tokens: HashMap::new(),
            issued: 0,
            token_requests: Vec::new(),
            rs_proofs: Vec::new(),
            schemes: Vec::new(),
            jtis: HashSet::new(),
            nonce_counter: 0,
            accepted: 0,
            unix_now: UNIX_T0,
        }
    }

    /// Checks a proof as RFC 9449 §4.3 says (and as the harness does); panics on a bad one.
    fn check_proof(&mut self, value: &str, method: &str, url: &str, token: Option<&str>) -> Proof {
        let parts: Vec<&str> = value.split('.').collect();
        assert_eq!(parts.len(), 3, "a compact JWS");
        let header = decode(parts[0]);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        let jwk = &header["jwk"];
        assert!(jwk.get("d").is_none(), "no private key in the jwk");
        assert_eq!(jwk["kty"], "EC");
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        assert_eq!(
            signature,
            fake_signature(format!("{}.{}", parts[0], parts[1]).as_bytes()),
            "the signature covers header and claims"
        );
        let claims = decode(parts[1]);
        let jti = claims["jti"].as_str().expect("jti").to_owned();
        assert!(self.jtis.insert(jti), "a jti used twice");
        assert_eq!(claims["htm"], method);
        assert_eq!(claims["htu"], url);
        let iat = claims["iat"].as_u64().expect("iat");
        assert!(iat.abs_diff(self.unix_now) < 300, "iat near the wall clock");
        match token {
            Some(token) => assert_eq!(claims["ath"], access_token_hash(token).as_str()),
            None => assert!(claims.get("ath").is_none(), "no ath without a token"),
        }
        let jwk = PublicJwk::Ec {
            crv: jwk["crv"].as_str().unwrap().to_owned(),
            x: jwk["x"].as_str().unwrap().to_owned(),
            y: jwk["y"].as_str().unwrap().to_owned(),
        };
        Proof {
            claims,
            jkt: jwk.thumbprint(),
        }
    }

    /// The nonce a server requires now, if any.
    fn required_nonce(&mut self, nonces: Nonces, fixed: &str) -> Option<String> {
        match nonces {
            Nonces::None => None,
            Nonces::Fixed => Some(fixed.to_owned()),
            Nonces::Endless => {
                self.nonce_counter += 1;
                Some(format!("{fixed}-{}", self.nonce_counter))
            }
        }
    }

    fn fetch(&mut self, request: &http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
        let url = request.uri().to_string();
        if request.method() == http::Method::GET {
            return match url.as_str() {
                "http://localhost:3000/.well-known/oauth-protected-resource/mcp" => response(
                    200,
                    &serde_json::json!({"resource": format!("{RS}/mcp"), "authorization_servers": [AS]})
                        .to_string(),
                ),
                "http://localhost:4000/.well-known/oauth-authorization-server" => {
                    let mut doc = serde_json::json!({
                        "issuer": AS,
                        "authorization_endpoint": format!("{AS}/authorize"),
                        "token_endpoint": format!("{AS}/token"),
                        "registration_endpoint": format!("{AS}/register"),
                        "response_types_supported": ["code"],
                        "grant_types_supported": ["authorization_code", "refresh_token"],
                        "code_challenge_methods_supported": ["S256"],
                        "token_endpoint_auth_methods_supported": ["none"],
                    });
                    if let Some(algs) = &self.s.algs {
                        doc["dpop_signing_alg_values_supported"] = algs.clone().into();
                    }
                    response(200, &doc.to_string())
                }
                _ => response(404, "not found"),
            };
        }
        let body = String::from_utf8(request.body().clone()).unwrap();
        if url == format!("{AS}/register") {
            return response(
                201,
                &serde_json::json!({"client_id": "dpop-client", "redirect_uris": [REDIRECT]})
                    .to_string(),
            );
        }
        assert_eq!(url, format!("{AS}/token"));
        let form = parse_form(&body).unwrap();
        let mut proofs = request.headers().get_all("dpop").iter();
        let proof = proofs
            .next()
            .map(|value| value.to_str().unwrap().to_owned());
        assert!(proofs.next().is_none(), "one DPoP header at most");
        let advertised = self.s.algs.is_some();
        let checked = proof
            .as_deref()
            .map(|proof| self.check_proof(proof, "POST", &format!("{AS}/token"), None));
        self.token_requests.push(TokenRequestSeen {
            proof: checked.clone(),
            grant_type: field(&form, "grant_type").unwrap_or_default().to_owned(),
        });
        if let Some(proof) = &checked {
            if let Some(nonce) = self.required_nonce(self.s.as_nonces, AS_NONCE) {
                if proof.claims["nonce"] != nonce.as_str() {
                    return http::Response::builder()
                        .status(400)
                        .header("DPoP-Nonce", nonce)
                        .body(
                            serde_json::json!({"error": "use_dpop_nonce", "error_description": "nonce required"})
                                .to_string()
                                .into_bytes(),
                        )
                        .unwrap();
                }
            }
        }
        self.issued += 1;
        let token = format!("token-{}", self.issued);
        let bound = checked.filter(|_| advertised && self.s.token_type == "DPoP");
        let token_type = if bound.is_some() { "DPoP" } else { "Bearer" };
        self.tokens
            .insert(token.clone(), bound.map(|proof| proof.jkt));
        response(
            200,
            &serde_json::json!({"access_token": token, "token_type": token_type, "expires_in": 3600, "refresh_token": format!("refresh-{}", self.issued)})
                .to_string(),
        )
    }

    fn authorize(url: &HttpUrl) -> String {
        let query = parse_form(url.query().unwrap_or_default()).unwrap();
        let state = field(&query, "state").unwrap();
        HttpUrl::parse(REDIRECT)
            .unwrap()
            .with_query_pairs([("code", "test-auth-code"), ("state", state)])
            .to_string()
    }

    /// The MCP server: the status and headers of its answer to a `POST /mcp` with `headers`.
    fn mcp(&mut self, headers: &http::HeaderMap) -> (u16, http::HeaderMap) {
        let mut answer = http::HeaderMap::new();
        let challenge = |value: String| http::HeaderValue::try_from(value).unwrap();
        let prm = format!("{RS}/.well-known/oauth-protected-resource/mcp");
        let Some(authorization) = headers.get(http::header::AUTHORIZATION) else {
            answer.insert(
                http::header::WWW_AUTHENTICATE,
                challenge(format!("DPoP resource_metadata=\"{prm}\"")),
            );
            return (401, answer);
        };
        let (scheme, token) = authorization.to_str().unwrap().split_once(' ').unwrap();
        self.schemes.push(scheme.to_owned());
        let bound = self
            .tokens
            .get(token)
            .cloned()
            .expect("a token this AS issued");
        let Some(jkt) = bound else {
            assert_eq!(scheme, "Bearer");
            assert!(headers.get("dpop").is_none());
            self.accepted += 1;
            return (200, answer);
        };
        assert_eq!(
            scheme, "DPoP",
            "a DPoP-bound token goes with the DPoP scheme"
        );
        let proof = headers.get("dpop").expect("a proof").to_str().unwrap();
        let proof = self.check_proof(proof, "POST", &format!("{RS}/mcp"), Some(token));
        assert_eq!(
            proof.jkt, jkt,
            "the proof key is the key the token is bound to"
        );
        self.rs_proofs.push(proof.clone());
        if let Some(nonce) = self.required_nonce(self.s.rs_nonces, RS_NONCE) {
            if proof.claims["nonce"] != nonce.as_str() {
                answer.insert(
                    http::header::WWW_AUTHENTICATE,
                    challenge(format!(
                        "DPoP error=\"use_dpop_nonce\", resource_metadata=\"{prm}\""
                    )),
                );
                answer.insert("dpop-nonce", challenge(nonce));
                return (401, answer);
            }
        }
        self.accepted += 1;
        (200, answer)
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

fn config(t0: Instant, seed: u8) -> OAuthClientConfig {
    let mut config = OAuthClientConfig::new(&format!("{RS}/mcp"), REDIRECT, "dpop-client").unwrap();
    config.url_policy = UrlPolicy {
        allow_insecure_loopback: true,
        ..UrlPolicy::default()
    };
    config.dpop_signer = Some(Box::new(key(seed)));
    config.wall_clock = Some(WallClock {
        at: t0,
        unix_seconds: UNIX_T0,
    });
    config
}

/// Performs every action until the flow settles: `Ok` on `Authorized`.
fn drive(client: &mut OAuthClient, mock: &mut Mock, now: Instant) -> Result<(), AuthError> {
    for _ in 0..32 {
        match client.poll_action() {
            Some(AuthAction::Fetch { id, request, .. }) => {
                let answer = mock.fetch(&request);
                client.handle_fetch_response(now, id, &answer);
            }
            Some(AuthAction::Authorize { url }) => {
                client.handle_redirect(now, &Mock::authorize(&url)).unwrap();
            }
            Some(AuthAction::Authorized { .. }) => return Ok(()),
            Some(AuthAction::Failed(error)) => return Err(error),
            None => panic!("the flow stalled"),
        }
    }
    panic!("the flow did not settle");
}

/// Sends one MCP request the way an adapter does.
fn call(client: &mut OAuthClient, mock: &mut Mock, now: Instant) -> Result<(), AuthError> {
    let target: http::Uri = format!("{RS}/mcp").parse().unwrap();
    let mut nonce_retry = false;
    for _ in 0..8 {
        let mut headers = http::HeaderMap::new();
        let mut sent = Sent::default();
        match client.authorize_request(now, &http::Method::POST, &target) {
            Credentials::Ready(credentials) => {
                credentials.apply(&mut headers).unwrap();
                sent = credentials.sent();
                assert!(!format!("{credentials:?}").contains("token-"));
            }
            Credentials::None => {}
            Credentials::Pending => {
                drive(client, mock, now)?;
                continue;
            }
            Credentials::Failed(error) => return Err(error),
        }
        sent.nonce_retry = nonce_retry;
        let (status, answer) = mock.mcp(&headers);
        match client.handle_resource_response(now, status, &answer, sent) {
            ResourceVerdict::Deliver => {
                return if status == 200 {
                    Ok(())
                } else {
                    panic!("{status} delivered")
                };
            }
            ResourceVerdict::Retry => nonce_retry = true,
            ResourceVerdict::Hold => {
                drive(client, mock, now)?;
                nonce_retry = false;
            }
            ResourceVerdict::Fail(error) => return Err(error),
        }
    }
    panic!("too many rounds");
}

fn tokens(client: &OAuthClient) -> &TokenSet {
    client.tokens(AS).expect("tokens for the AS")
}

// ---- the tests ---------------------------------------------------------------------------

#[test]
fn the_token_is_bound_and_every_request_carries_a_fresh_proof() {
    let t0 = Instant::now();
    let mut mock = Mock::new(Setup::default());
    let mut client = OAuthClient::new(config(t0, 3), Box::new(Counter(0)));
    for step in 0..3 {
        call(&mut client, &mut mock, t0 + Duration::from_secs(step)).unwrap();
    }
    assert_eq!(mock.accepted, 3);
    // sep-1932-client-token-request-proof: a valid proof without ath at the token endpoint.
    assert_eq!(mock.token_requests.len(), 1);
    let token_request = &mock.token_requests[0];
    assert_eq!(token_request.grant_type, "authorization_code");
    let proof = token_request
        .proof
        .as_ref()
        .expect("a proof at the token endpoint");
    assert!(proof.claims.get("nonce").is_none());
    let jkt = key(3).0.thumbprint();
    assert_eq!(proof.jkt, jkt);
    assert_eq!(tokens(&client).dpop_jkt.as_deref(), Some(jkt.as_str()));
    // sep-1932-client-dpop-auth-scheme and -fresh-proof: DPoP scheme, distinct jtis, iat moving.
    assert_eq!(mock.schemes, ["DPoP", "DPoP", "DPoP"]);
    let iats: Vec<u64> = mock
        .rs_proofs
        .iter()
        .map(|proof| proof.claims["iat"].as_u64().unwrap())
        .collect();
    assert_eq!(iats, [UNIX_T0, UNIX_T0 + 1, UNIX_T0 + 2]);
    assert!(
        mock.rs_proofs
            .iter()
            .all(|p| p.claims.get("nonce").is_none())
    );
}

#[test]
fn nonces_are_kept_per_server_and_each_challenge_is_answered_once() {
    let t0 = Instant::now();
    let mut mock = Mock::new(Setup {
        as_nonces: Nonces::Fixed,
        rs_nonces: Nonces::Fixed,
        ..Setup::default()
    });
    let mut client = OAuthClient::new(config(t0, 5), Box::new(Counter(0)));
    call(&mut client, &mut mock, t0).unwrap();
    call(&mut client, &mut mock, t0).unwrap();
    // RFC 9449 §8: the token request went again with the AS's nonce (and a fresh jti).
    let nonces: Vec<Option<&str>> = mock
        .token_requests
        .iter()
        .map(|seen| seen.proof.as_ref().unwrap().claims["nonce"].as_str())
        .collect();
    assert_eq!(nonces, [None, Some(AS_NONCE)]);
    // §9: the MCP request went again with the MCP server's nonce, which later requests carry
    // from the start; the AS's nonce never reaches the MCP server.
    let nonces: Vec<Option<&str>> = mock
        .rs_proofs
        .iter()
        .map(|proof| proof.claims["nonce"].as_str())
        .collect();
    assert_eq!(nonces, [None, Some(RS_NONCE), Some(RS_NONCE)]);
    assert_eq!(mock.accepted, 2);
}

#[test]
fn an_authorization_server_that_keeps_asking_for_nonces_ends_with_a_typed_error() {
    let t0 = Instant::now();
    let mut mock = Mock::new(Setup {
        as_nonces: Nonces::Endless,
        ..Setup::default()
    });
    let mut client = OAuthClient::new(config(t0, 7), Box::new(Counter(0)));
    let error = call(&mut client, &mut mock, t0).unwrap_err();
    assert_eq!(
        error,
        AuthError::DpopNonce {
            issuer: AS.to_owned()
        }
    );
    assert_eq!(error.fault(), mcp_proto::auth::Fault::AuthorizationServer);
    assert_eq!(mock.token_requests.len(), 2, "one retry, no loop");
    assert!(!client.is_busy());
}

#[test]
fn a_resource_server_that_keeps_asking_for_nonces_ends_with_a_typed_error() {
    let t0 = Instant::now();
    let mut mock = Mock::new(Setup {
        rs_nonces: Nonces::Endless,
        ..Setup::default()
    });
    let mut client = OAuthClient::new(config(t0, 9), Box::new(Counter(0)));
    let error = call(&mut client, &mut mock, t0).unwrap_err();
    assert_eq!(error, AuthError::ResourceDpopNonce);
    assert_eq!(error.fault(), mcp_proto::auth::Fault::ResourceServer);
    assert_eq!(mock.rs_proofs.len(), 2, "one retry, no loop");
    // The last nonce supplied is still the one held for the next request.
    let _ = call(&mut client, &mut mock, t0);
    assert_eq!(
        mock.rs_proofs[2].claims["nonce"],
        "conformance-rs-dpop-nonce-2"
    );
}

#[test]
fn a_nonce_challenge_without_a_nonce_is_not_retried() {
    let t0 = Instant::now();
    let mut client = OAuthClient::new(config(t0, 9), Box::new(Counter(0)));
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::WWW_AUTHENTICATE,
        http::HeaderValue::from_static("DPoP error=\"use_dpop_nonce\""),
    );
    let sent = Sent {
        authorized: true,
        proof: true,
        nonce_retry: false,
    };
    assert_eq!(
        client.handle_resource_response(t0, 401, &headers, sent),
        ResourceVerdict::Fail(AuthError::ResourceDpopNonce)
    );
    // Without a proof sent, the same challenge is an ordinary 401: the flow starts.
    assert_eq!(
        client.handle_resource_response(t0, 401, &headers, Sent::default()),
        ResourceVerdict::Hold
    );
    assert!(client.is_busy());
    assert_eq!(
        client.handle_resource_response(t0, 500, &headers, sent),
        ResourceVerdict::Deliver
    );
}

#[test]
fn without_dpop_in_the_metadata_tokens_stay_bearer() {
    let t0 = Instant::now();
    let mut mock = Mock::new(Setup {
        algs: None,
        ..Setup::default()
    });
    let mut client = OAuthClient::new(config(t0, 11), Box::new(Counter(0)));
    call(&mut client, &mut mock, t0).unwrap();
    assert!(
        mock.token_requests[0].proof.is_none(),
        "no proof for a non-DPoP AS"
    );
    assert_eq!(mock.schemes, ["Bearer"]);
    assert_eq!(tokens(&client).dpop_jkt, None);
}

#[test]
fn an_algorithm_the_server_does_not_list_sends_no_proof() {
    let t0 = Instant::now();
    for algs in [vec!["RS256"], vec![], vec!["none"]] {
        let mut mock = Mock::new(Setup {
            algs: Some(algs),
            ..Setup::default()
        });
        let mut client = OAuthClient::new(config(t0, 13), Box::new(Counter(0)));
        call(&mut client, &mut mock, t0).unwrap();
        assert!(mock.token_requests[0].proof.is_none());
        assert_eq!(mock.schemes, ["Bearer"]);
    }
}

#[test]
fn a_bearer_answer_to_a_proof_is_used_as_a_bearer_token() {
    let t0 = Instant::now();
    let mut mock = Mock::new(Setup {
        token_type: "Bearer",
        ..Setup::default()
    });
    let mut client = OAuthClient::new(config(t0, 15), Box::new(Counter(0)));
    call(&mut client, &mut mock, t0).unwrap();
    assert!(mock.token_requests[0].proof.is_some());
    assert_eq!(mock.schemes, ["Bearer"]);
    assert_eq!(tokens(&client).dpop_jkt, None);
}

#[test]
fn a_keyless_client_gets_bearer_tokens_and_refuses_a_dpop_one() {
    let t0 = Instant::now();
    let keyless = || {
        let mut config = config(t0, 17);
        config.dpop_signer = None;
        OAuthClient::new(config, Box::new(Counter(0)))
    };
    // No key: no proof; this AS then issues a bearer token, which is what such a client uses.
    let mut mock = Mock::new(Setup::default());
    let mut client = keyless();
    call(&mut client, &mut mock, t0).unwrap();
    assert!(mock.token_requests[0].proof.is_none());
    assert_eq!(mock.schemes, ["Bearer"]);
    // An AS answering `DPoP` to a request without a proof is refused.
    let mut client = keyless();
    let mut mock = Mock::new(Setup::default());
    let (status, headers) = mock.mcp(&http::HeaderMap::new());
    assert_eq!(
        client.handle_resource_response(t0, status, &headers, Sent::default()),
        ResourceVerdict::Hold
    );
    let mut outcome = None;
    for _ in 0..16 {
        match client.poll_action() {
            Some(AuthAction::Fetch { id, request, .. }) => {
                let answer = if request.uri().path() == "/token" {
                    response(
                        200,
                        r#"{"access_token":"x","token_type":"DPoP","expires_in":60}"#,
                    )
                } else {
                    mock.fetch(&request)
                };
                client.handle_fetch_response(t0, id, &answer);
            }
            Some(AuthAction::Authorize { url }) => {
                client.handle_redirect(t0, &Mock::authorize(&url)).unwrap();
            }
            Some(AuthAction::Failed(error)) => {
                outcome = Some(error);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        matches!(
            outcome,
            Some(AuthError::Token {
                source: mcp_proto::auth::token::TokenResponseError::NotBearer(_),
                ..
            })
        ),
        "{outcome:?}"
    );
}

#[test]
fn a_token_bound_to_another_key_is_never_presented() {
    let t0 = Instant::now();
    let target: http::Uri = format!("{RS}/mcp").parse().unwrap();
    let mut mock = Mock::new(Setup::default());
    let mut first = OAuthClient::new(config(t0, 19), Box::new(Counter(0)));
    call(&mut first, &mut mock, t0).unwrap();
    let foreign = tokens(&first).clone();
    assert!(foreign.dpop_jkt.is_some());
    let mut other = OAuthClient::new(config(t0, 21), Box::new(Counter(100)));
    call(&mut other, &mut mock, t0).unwrap();
    // A token bound to key 19 restored into the client holding key 21: dropped, not sent.
    other.insert_tokens(AS, foreign);
    assert_eq!(
        other.authorize_request(t0, &http::Method::POST, &target),
        Credentials::None
    );
    assert!(other.tokens(AS).is_none());
    // The next 401 authorizes again, with this client's key.
    call(&mut other, &mut mock, t0).unwrap();
    assert_eq!(
        tokens(&other).dpop_jkt.as_deref(),
        Some(key(21).0.thumbprint().as_str())
    );
}

#[test]
fn a_refresh_carries_a_proof_with_the_authorization_servers_nonce() {
    let t0 = Instant::now();
    let mut mock = Mock::new(Setup {
        as_nonces: Nonces::Fixed,
        ..Setup::default()
    });
    let mut client = OAuthClient::new(config(t0, 23), Box::new(Counter(0)));
    call(&mut client, &mut mock, t0).unwrap();
    // After expiry the refresh goes out with a proof already carrying the held nonce.
    let later = t0 + Duration::from_secs(3600);
    mock.unix_now = UNIX_T0 + 3600;
    call(&mut client, &mut mock, later).unwrap();
    let refresh: Vec<&TokenRequestSeen> = mock
        .token_requests
        .iter()
        .filter(|seen| seen.grant_type == "refresh_token")
        .collect();
    assert_eq!(refresh.len(), 1, "no nonce challenge the second time");
    assert_eq!(refresh[0].proof.as_ref().unwrap().claims["nonce"], AS_NONCE);
    assert_eq!(mock.schemes, ["DPoP", "DPoP"]);
}

#[test]
fn without_a_wall_clock_the_flow_fails_typed() {
    let t0 = Instant::now();
    let mut mock = Mock::new(Setup::default());
    let mut config = config(t0, 25);
    config.wall_clock = None;
    let mut client = OAuthClient::new(config, Box::new(Counter(0)));
    let error = call(&mut client, &mut mock, t0).unwrap_err();
    assert_eq!(
        error,
        AuthError::Config(mcp_proto::auth::ConfigError::MissingWallClock)
    );
}

#[test]
fn debug_output_carries_no_token_or_proof() {
    let t0 = Instant::now();
    let mut mock = Mock::new(Setup::default());
    let mut client = OAuthClient::new(config(t0, 27), Box::new(Counter(0)));
    call(&mut client, &mut mock, t0).unwrap();
    let target: http::Uri = format!("{RS}/mcp").parse().unwrap();
    let credentials = client.authorize_request(t0, &http::Method::POST, &target);
    let Credentials::Ready(headers) = &credentials else {
        panic!("no credentials")
    };
    let proof = headers.dpop.as_ref().unwrap().expose().to_owned();
    let printed = format!("{credentials:?} {client:?} {:?}", tokens(&client));
    assert!(!printed.contains("token-1"));
    assert!(!printed.contains(&proof));
    let mut map = http::HeaderMap::new();
    headers.apply(&mut map).unwrap();
    assert!(map.get("dpop").unwrap().is_sensitive());
    assert!(map.get("authorization").unwrap().is_sensitive());
    assert!(!format!("{map:?}").contains("token-1"));
    // A later bearer answer removes a DPoP field left in the map.
    let bearer = mcp_proto::auth::AuthorizationHeaders {
        authorization: Secret::new("Bearer b"),
        dpop: None,
    };
    bearer.apply(&mut map).unwrap();
    assert!(map.get("dpop").is_none());
}
