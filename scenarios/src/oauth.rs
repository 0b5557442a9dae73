//! OAuth over real sockets: our demo server behind a gate that demands a bearer token (a
//! protected resource with its metadata), and a scripted authorization server — both plain
//! HTTP handlers on the adapter's listeners. The client completes the flow (discovery,
//! dynamic registration, the user's step through the loopback redirect listener, the token
//! request), then calls; an authorization server that refuses every token settles the call
//! with a typed error instead of a hang; no request target ever carries the token. With DPoP
//! (RFC 9449) both servers demand proofs and nonces: the token request and each MCP request
//! go again once with the nonce supplied, and the token goes out with the DPoP scheme.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use mcp_async::api::{ClientOptions, ConnectError, HttpConnectOptions, HttpServeOptions, Stack};
use mcp_async::demo::demo_server;
use mcp_async::oauth::{LoopbackAuthorizer, OAuthOptions};
use mcp_async::oauth_signer::Es256Signer;
use mcp_async::proto::auth::{AuthError, UrlPolicy};
use mcp_async::proto::engine::TransportFailure;
use mcp_async::proto::h1::{self, Limits};
use mcp_async::runtime::Runtime;
use serde_json::json;

use crate::tls_proxy::{Stop, accept_loop, dial, pump};
use crate::{Harness, S, Scenario, scenario, within};

pub fn scenarios<H: Harness>() -> Vec<Scenario> {
    vec![
        scenario!(
            H,
            the_flow_completes_through_the_loopback_listener_and_the_call_succeeds
        ),
        scenario!(
            H,
            a_refused_token_request_settles_the_connect_with_a_typed_error
        ),
        scenario!(H, the_oauth_client_example_completes_the_flow),
        scenario!(H, a_metadata_document_over_the_fetch_limit_fails_the_flow),
        scenario!(H, dpop_binds_the_token_and_answers_each_servers_nonce_once),
    ]
}

const TOKEN: &str = "scenario-access-token-1f2e3d";
const LIMIT: Duration = Duration::from_secs(20);

/// Every request line and `Authorization` value either server saw.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// With DPoP: each proof either server saw, as `(server, method, header, claims)`.
type Proofs = Arc<Mutex<Vec<(&'static str, String, serde_json::Value, serde_json::Value)>>>;

const AS_NONCE: &str = "scenario-as-nonce";
const RS_NONCE: &str = "scenario-rs-nonce";

/// The header and claims of the request's `DPoP` proof, recorded; `None` without one.
fn record_proof(
    server: &'static str,
    head: &http::Request<()>,
    proofs: &Proofs,
) -> Option<serde_json::Value> {
    let proof = head.headers().get("dpop")?.to_str().ok()?;
    let mut parts = proof.split('.').map(|part| {
        URL_SAFE_NO_PAD
            .decode(part)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
    });
    let (Some(Some(header)), Some(Some(claims))) = (parts.next(), parts.next()) else {
        return None;
    };
    proofs
        .lock()
        .unwrap()
        .push((server, head.method().to_string(), header, claims.clone()));
    Some(claims)
}

/// A request read off a connection: its head and its body (by `Content-Length`).
async fn read_request(
    stream: &mut (impl futures_lite::io::AsyncRead + Unpin),
) -> Option<(http::Request<()>, Vec<u8>, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        if raw.len() > 16 * 1024 || stream.read_exact(&mut byte).await.is_err() {
            return None;
        }
        raw.push(byte[0]);
    }
    let (head, _) = h1::parse_request_head(&raw, &Limits::default()).ok()??;
    let length: usize = head
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    Some((head, raw, body))
}

fn response(status: &str, headers: &[(&str, String)], body: &str) -> Vec<u8> {
    let mut text = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text.into_bytes()
}

/// The protected resource at `http://ADDR/mcp`: a request with the right token goes to the
/// demo server; any other gets 401 naming its metadata, served here too.
async fn protected_resource<H: Harness>(
    backend: SocketAddr,
    issuer: Arc<Mutex<String>>,
    seen: Seen,
    dpop: Option<Proofs>,
) -> (SocketAddr, Stop) {
    let own = Arc::new(Mutex::new(String::new()));
    let own_for_loop = Arc::clone(&own);
    let (addr, stop) = accept_loop::<H, _, _>(move |mut stream| {
        let (issuer, seen, own) = (Arc::clone(&issuer), Arc::clone(&seen), Arc::clone(&own_for_loop));
        let dpop = dpop.clone();
        async move {
            let Some((head, raw, body)) = read_request(&mut stream).await else { return };
            let bearer = head
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            seen.lock().unwrap().push((head.uri().to_string(), bearer.clone()));
            let origin = own.lock().unwrap().clone();
            // With DPoP, the token goes with the DPoP scheme and a proof naming the server's
            // nonce (the proof's other claims are checked once the scenario ends).
            let expected = match &dpop {
                Some(proofs) => {
                    let nonce = record_proof("rs", &head, proofs)
                        .and_then(|claims| claims.get("nonce").cloned());
                    if nonce.is_some_and(|nonce| nonce == RS_NONCE) {
                        format!("DPoP {TOKEN}")
                    } else if bearer.as_deref() == Some(&format!("DPoP {TOKEN}")) {
                        let challenge = format!(
                            "DPoP error=\"use_dpop_nonce\", resource_metadata=\"{origin}/.well-known/oauth-protected-resource/mcp\""
                        );
                        let answer = response(
                            "401 Unauthorized",
                            &[("WWW-Authenticate", challenge), ("DPoP-Nonce", RS_NONCE.into())],
                            "",
                        );
                        let _ = stream.write_all(&answer).await;
                        let _ = stream.close().await;
                        return;
                    } else {
                        String::new()
                    }
                }
                None => format!("Bearer {TOKEN}"),
            };
            let answer = if head.uri().path() == "/.well-known/oauth-protected-resource/mcp" {
                let document = json!({
                    "resource": format!("{origin}/mcp"),
                    "authorization_servers": [issuer.lock().unwrap().clone()],
                });
                response("200 OK", &[("Content-Type", "application/json".into())], &document.to_string())
            } else if !expected.is_empty() && bearer.as_deref() == Some(expected.as_str()) {
                // Forwarded as it came, asking the backend to close after its answer so a
                // next request on this connection cannot skip the gate.
                let Ok(mut upstream) = dial::<H>(backend).await else { return };
                let mut forwarded = raw[..raw.len() - 2].to_vec();
                forwarded.extend_from_slice(b"Connection: close\r\n\r\n");
                forwarded.extend_from_slice(&body);
                if upstream.write_all(&forwarded).await.is_err() {
                    return;
                }
                pump(stream, upstream).await;
                return;
            } else {
                let scheme = if dpop.is_some() { "DPoP" } else { "Bearer" };
                let challenge = format!(
                    "{scheme} error=\"invalid_token\", resource_metadata=\"{origin}/.well-known/oauth-protected-resource/mcp\""
                );
                response("401 Unauthorized", &[("WWW-Authenticate", challenge)], "")
            };
            let _ = stream.write_all(&answer).await;
            let _ = stream.close().await;
        }
    })
    .await;
    *own.lock().unwrap() = format!("http://{addr}");
    (addr, stop)
}

/// The authorization server: metadata, dynamic registration, an authorization endpoint that
/// redirects at once with a code, and a token endpoint (refusing every request unless
/// `grants`).
async fn authorization_server<H: Harness>(
    grants: bool,
    seen: Seen,
    dpop: Option<Proofs>,
) -> (String, Stop) {
    let own = Arc::new(Mutex::new(String::new()));
    let own_for_loop = Arc::clone(&own);
    let (addr, stop) = accept_loop::<H, _, _>(move |mut stream| {
        let (seen, own) = (Arc::clone(&seen), Arc::clone(&own_for_loop));
        let dpop = dpop.clone();
        async move {
            let Some((head, _, body)) = read_request(&mut stream).await else {
                return;
            };
            let target = head.uri().to_string();
            seen.lock().unwrap().push((target.clone(), None));
            let issuer = own.lock().unwrap().clone();
            let json = |status: &str, value: serde_json::Value| {
                response(
                    status,
                    &[("Content-Type", "application/json".into())],
                    &value.to_string(),
                )
            };
            let answer = match head.uri().path() {
                "/.well-known/oauth-authorization-server" => {
                    let mut document = json!({
                        "issuer": issuer,
                        "authorization_endpoint": format!("{issuer}/authorize"),
                        "token_endpoint": format!("{issuer}/token"),
                        "registration_endpoint": format!("{issuer}/register"),
                        "response_types_supported": ["code"],
                        "grant_types_supported": ["authorization_code"],
                        "code_challenge_methods_supported": ["S256"],
                        "token_endpoint_auth_methods_supported": ["none"],
                    });
                    if dpop.is_some() {
                        document["dpop_signing_alg_values_supported"] = json!(["ES256"]);
                    }
                    json("200 OK", document)
                }
                "/register" => json(
                    "201 Created",
                    json!({
                        "client_id": "scenario-client",
                        "token_endpoint_auth_method": "none",
                        "redirect_uris": serde_json::from_slice::<serde_json::Value>(&body)
                            .ok()
                            .and_then(|v| v.get("redirect_uris").cloned()),
                    }),
                ),
                "/authorize" => {
                    let query = head.uri().query().unwrap_or_default().to_owned();
                    let pairs: Vec<(String, String)> =
                        mcp_async::proto::auth::url::parse_form(&query).unwrap_or_default();
                    let get = |name: &str| {
                        pairs
                            .iter()
                            .find(|(k, _)| k == name)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default()
                    };
                    let location = format!(
                        "{}?code=scenario-code&state={}",
                        get("redirect_uri"),
                        mcp_async::proto::auth::url::encode_component(&get("state"))
                    );
                    response("302 Found", &[("Location", location)], "")
                }
                "/token" if grants => match &dpop {
                    None => json(
                        "200 OK",
                        json!({
                            "access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600,
                        }),
                    ),
                    Some(proofs) => match record_proof("as", &head, proofs) {
                        Some(claims) if claims.get("nonce").is_some_and(|n| n == AS_NONCE) => json(
                            "200 OK",
                            json!({
                                "access_token": TOKEN, "token_type": "DPoP", "expires_in": 3600,
                            }),
                        ),
                        Some(_) => {
                            let body = json!({"error": "use_dpop_nonce"}).to_string();
                            response(
                                "400 Bad Request",
                                &[
                                    ("Content-Type", "application/json".into()),
                                    ("DPoP-Nonce", AS_NONCE.into()),
                                ],
                                &body,
                            )
                        }
                        None => json("400 Bad Request", json!({"error": "invalid_dpop_proof"})),
                    },
                },
                "/token" => json("400 Bad Request", json!({"error": "invalid_grant"})),
                _ => response("404 Not Found", &[], ""),
            };
            let _ = stream.write_all(&answer).await;
            let _ = stream.close().await;
        }
    })
    .await;
    let issuer = format!("http://{addr}");
    *own.lock().unwrap() = issuer.clone();
    (issuer, stop)
}

/// A "browser": GETs `url` (no redirect followed) and returns the response head's text.
async fn browser_get<H: Harness>(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = dial::<H>(authority.parse().unwrap()).await.unwrap();
    let request =
        format!("GET {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn location(head: &str) -> String {
    head.lines()
        .find_map(|line| line.strip_prefix("Location: "))
        .expect("a redirect")
        .trim()
        .to_owned()
}

async fn setup<H: Harness>(
    grants: bool,
    dpop: Option<Proofs>,
) -> (String, Seen, Vec<Stop>, mcp_async::api::HttpServerHandle) {
    let runtime = S::<H>::runtime().unwrap();
    let backend = S::<H>::serve_http(
        demo_server(runtime),
        "127.0.0.1:0".parse().unwrap(),
        HttpServeOptions::default(),
    )
    .await
    .unwrap();
    let seen = Seen::default();
    let (issuer, as_stop) =
        authorization_server::<H>(grants, Arc::clone(&seen), dpop.clone()).await;
    let (rs, rs_stop) = protected_resource::<H>(
        backend.local_addr(),
        Arc::new(Mutex::new(issuer)),
        Arc::clone(&seen),
        dpop,
    )
    .await;
    (
        format!("http://{rs}/mcp"),
        seen,
        vec![as_stop, rs_stop],
        backend,
    )
}

/// OAuth through the loopback listener, whose "browser" (the open callback) follows the
/// authorization server's redirect to it.
async fn oauth<H: Harness>() -> OAuthOptions {
    let runtime = S::<H>::runtime().unwrap();
    let authorizer = LoopbackAuthorizer::bind::<S<H>>(0, move |url| {
        let url = url.to_owned();
        runtime.spawn(Box::pin(async move {
            let redirect = location(&browser_get::<H>(&url).await);
            let page = browser_get::<H>(&redirect).await;
            assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        }));
        Ok(())
    })
    .await
    .unwrap();
    OAuthOptions::new("scenario-client", authorizer).with_url_policy(UrlPolicy {
        allow_insecure_loopback: true,
        allow_private_addresses: false,
    })
}

fn assert_no_token_in_targets(seen: &Seen) {
    for (target, _) in seen.lock().unwrap().iter() {
        assert!(!target.contains(TOKEN), "the token is in a URL: {target}");
    }
}

async fn the_flow_completes_through_the_loopback_listener_and_the_call_succeeds<H: Harness>() {
    within::<H, _>(LIMIT, async {
        let (url, seen, _stops, backend) = setup::<H>(true, None).await;
        let http = HttpConnectOptions::new(url.parse().unwrap()).with_oauth(oauth::<H>().await);
        let client = S::<H>::connect_http(http, ClientOptions::new("oauth-scenario", "1.0"))
            .await
            .unwrap();
        let result = client
            .call_tool("echo", json!({"message": "authorized"}))
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_value(&result.content).unwrap()[0]["text"],
            "authorized"
        );
        client.shutdown().await;
        let seen = Arc::clone(&seen);
        assert_no_token_in_targets(&seen);
        let requests = seen.lock().unwrap().clone();
        // Refused first, then discovery, registration, authorization and the token; then
        // every MCP request carried the token.
        assert_eq!(requests[0].0, "/mcp");
        assert_eq!(requests[0].1, None);
        for step in [
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-authorization-server",
            "/register",
            "/token",
        ] {
            assert!(
                requests.iter().any(|(target, _)| target == step),
                "{step} missing: {requests:?}"
            );
        }
        assert!(
            requests
                .iter()
                .any(|(target, _)| target.starts_with("/authorize?"))
        );
        let authorized = requests
            .iter()
            .filter(|(target, bearer)| {
                target == "/mcp" && bearer.as_deref() == Some(&format!("Bearer {TOKEN}"))
            })
            .count();
        assert!(authorized >= 2, "{requests:?}");
        backend.shutdown().await;
    })
    .await;
}

async fn a_refused_token_request_settles_the_connect_with_a_typed_error<H: Harness>() {
    within::<H, _>(LIMIT, async {
        let (url, seen, _stops, backend) = setup::<H>(false, None).await;
        let http = HttpConnectOptions::new(url.parse().unwrap()).with_oauth(oauth::<H>().await);
        let Err(error) =
            S::<H>::connect_http(http, ClientOptions::new("oauth-scenario", "1.0")).await
        else {
            panic!("no token, no connection");
        };
        match &error {
            ConnectError::Transport(TransportFailure::Unauthorized { status: 401, error }) => {
                assert!(matches!(**error, AuthError::Token { .. }), "{error:?}");
            }
            other => panic!("not the typed authorization failure: {other:?}"),
        }
        assert!(error.to_string().contains("invalid_grant"), "{error}");
        assert_no_token_in_targets(&seen);
        backend.shutdown().await;
    })
    .await;
}

async fn a_metadata_document_over_the_fetch_limit_fails_the_flow<H: Harness>() {
    within::<H, _>(LIMIT, async {
        let (url, _seen, _stops, backend) = setup::<H>(true, None).await;
        let mut oauth = oauth::<H>().await;
        // Smaller than every document the servers serve: each discovery step fails (the flow
        // moves on to the next candidate, then gives up), where without the limit it succeeds.
        oauth.max_fetch_bytes = 16;
        let http = HttpConnectOptions::new(url.parse().unwrap()).with_oauth(oauth);
        let Err(error) =
            S::<H>::connect_http(http, ClientOptions::new("oauth-scenario", "1.0")).await
        else {
            panic!("the discovery document is over the limit: no token, no connection");
        };
        assert!(
            matches!(
                &error,
                ConnectError::Transport(TransportFailure::Unauthorized { status: 401, .. })
            ),
            "{error:?}"
        );
        backend.shutdown().await;
    })
    .await;
}

/// The `log` of the `oauth_client` program as a user reads it: the authorization URL it shows
/// is opened in a "browser", which follows the redirect back to the program's listener.
struct UserReadingTheLog<H: Harness> {
    text: String,
    opened: bool,
    harness: std::marker::PhantomData<H>,
}

impl<H: Harness> std::io::Write for UserReadingTheLog<H> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.text.push_str(&String::from_utf8_lossy(bytes));
        let shown = self
            .text
            .lines()
            .find(|line| line.starts_with("http://"))
            .map(str::to_owned);
        if let (Some(url), false) = (shown, self.opened) {
            self.opened = true;
            let runtime = S::<H>::runtime().map_err(std::io::Error::other)?;
            runtime.spawn(Box::pin(async move {
                let redirect = location(&browser_get::<H>(&url).await);
                let page = browser_get::<H>(&redirect).await;
                assert!(page.starts_with("HTTP/1.1 200"), "{page}");
            }));
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn the_oauth_client_example_completes_the_flow<H: Harness>() {
    within::<H, _>(LIMIT, async {
        let (url, seen, _stops, backend) = setup::<H>(true, None).await;
        let args: Vec<String> = [
            "--allow-http-loopback",
            &url,
            "echo",
            r#"{"message":"from the example"}"#,
        ]
        .map(str::to_owned)
        .into();
        let mut out = Vec::new();
        let mut log = UserReadingTheLog::<H> {
            text: String::new(),
            opened: false,
            harness: std::marker::PhantomData,
        };
        let status = mcp_async::programs::oauth_client::<S<H>>(&args, &mut out, &mut log).await;
        assert_eq!(status, 0, "{}", log.text);
        assert!(
            log.text.contains("open this URL to authorize"),
            "{}",
            log.text
        );
        let result: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(result["content"][0]["text"], "from the example");
        assert_no_token_in_targets(&seen);
        backend.shutdown().await;
    })
    .await;
}

async fn dpop_binds_the_token_and_answers_each_servers_nonce_once<H: Harness>() {
    within::<H, _>(LIMIT, async {
        let proofs = Proofs::default();
        let (url, seen, _stops, backend) = setup::<H>(true, Some(Arc::clone(&proofs))).await;
        let key = Arc::new(Es256Signer::generate().unwrap());
        let oauth = oauth::<H>().await.with_dpop(key.clone());
        let http = HttpConnectOptions::new(url.parse().unwrap()).with_oauth(oauth);
        let client = S::<H>::connect_http(http, ClientOptions::new("oauth-scenario", "1.0"))
            .await
            .unwrap();
        let result = client
            .call_tool("echo", json!({"message": "bound"}))
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_value(&result.content).unwrap()[0]["text"],
            "bound"
        );
        client.shutdown().await;
        assert_no_token_in_targets(&seen);
        let proofs = proofs.lock().unwrap().clone();
        let jwk = serde_json::to_value(mcp_async::proto::auth::dpop::DpopSigner::public_jwk(&*key))
            .unwrap();
        let mut jtis = std::collections::HashSet::new();
        for (server, method, header, claims) in &proofs {
            assert_eq!(header["typ"], "dpop+jwt");
            assert_eq!(header["alg"], "ES256");
            assert_eq!(header["jwk"], jwk, "one key throughout");
            assert!(jtis.insert(claims["jti"].to_string()), "a jti reused");
            assert_eq!(&claims["htm"], method.as_str());
            let htu = claims["htu"].as_str().unwrap();
            match *server {
                "as" => {
                    assert!(htu.ends_with("/token"));
                    assert!(claims.get("ath").is_none());
                }
                _ => {
                    assert_eq!(htu, url);
                    assert_eq!(
                        claims["ath"],
                        mcp_async::proto::auth::dpop::access_token_hash(TOKEN)
                    );
                }
            }
        }
        // The token request went twice (the second with the AS's nonce); the first MCP
        // request with the token went twice (the second with the MCP server's nonce); every
        // later one carried the nonce at once.
        let nonces = |server: &str| -> Vec<Option<String>> {
            proofs
                .iter()
                .filter(|(at, ..)| *at == server)
                .map(|(.., claims)| {
                    claims
                        .get("nonce")
                        .and_then(|n| n.as_str())
                        .map(str::to_owned)
                })
                .collect()
        };
        assert_eq!(nonces("as"), [None, Some(AS_NONCE.to_owned())]);
        let rs = nonces("rs");
        assert!(rs.len() >= 3, "{rs:?}");
        assert_eq!(rs[0], None);
        assert!(
            rs[1..].iter().all(|n| n.as_deref() == Some(RS_NONCE)),
            "{rs:?}"
        );
        let requests = seen.lock().unwrap().clone();
        assert!(
            requests
                .iter()
                .filter_map(|(_, authorization)| authorization.as_deref())
                .all(|value| value == format!("DPoP {TOKEN}")),
            "{requests:?}"
        );
        backend.shutdown().await;
    })
    .await;
}
