//! The HTTP server as an OAuth 2.1 resource server, over real sockets: the 401 challenge and
//! the metadata it points to, audience and expiry checks, the principal in handlers, per-tool
//! scopes (403 `insufficient_scope`), legacy sessions bound to their subject, and a validator
//! that does not answer in time.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use mcp_async::api::{
    ClientOptions, HttpConnectOptions, HttpServeOptions, HttpServerHandle, Principal,
    ResourceServerAuth, Stack, StaticTokens, TokenCheckLimits, TokenRejection, TokenValidator,
};
use mcp_async::entropy::os_entropy;
use mcp_async::http_serve::spawn_http_server;
use mcp_async::programs::{protected_demo_auth, protected_demo_server};
use mcp_async::proto::auth::challenge::{BearerChallenge, parse_challenges};
use mcp_async::proto::auth::metadata::check_resource_metadata;
use mcp_async::proto::auth::{HttpUrl, ProtectedResourceMetadata, ScopeSet, Secret};
use mcp_async::proto::engine::EraPolicy;
use mcp_async::runtime::BoxFuture;
use serde_json::{Value, json};

use crate::http_server::{Reply, exchange_at};
use crate::{Harness, S, Scenario, scenario, within};

pub fn scenarios<H: Harness>() -> Vec<Scenario> {
    vec![
        scenario!(
            H,
            no_token_gets_401_naming_the_metadata_which_is_served_and_correct
        ),
        scenario!(
            H,
            unknown_expired_and_foreign_audience_tokens_get_401_invalid_token
        ),
        scenario!(
            H,
            a_valid_token_is_served_in_both_eras_and_handlers_see_its_principal
        ),
        scenario!(
            H,
            a_tool_needing_a_missing_scope_gets_403_listing_the_scopes
        ),
        scenario!(H, a_session_named_with_another_subjects_token_is_not_found),
        scenario!(H, a_validator_that_does_not_answer_in_time_gets_503),
    ]
}

const ISSUER: &str = "https://auth.example.com";
const ALICE: &str = "alice-token";
const BOB: &str = "bob-token";
const READER: &str = "reader-token";
const STALE: &str = "stale-token";
const FOREIGN: &str = "foreign-token";

fn scopes(list: &str) -> ScopeSet {
    ScopeSet::parse(list).unwrap()
}

/// The protected demo server on a fresh port, its resource URI being its `/mcp` URL: every
/// request needs `mcp:basic`; alice and bob hold `notes:write` too, the reader does not.
async fn protected<H: Harness>() -> (HttpServerHandle, String) {
    let (listener, addr) = S::<H>::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let resource = format!("http://{addr}/mcp");
    let mut tokens = StaticTokens::new(resource.clone());
    tokens
        .add(ALICE, "alice", scopes("mcp:basic notes:write"))
        .unwrap();
    tokens
        .add(BOB, "bob", scopes("mcp:basic notes:write"))
        .unwrap();
    tokens.add(READER, "reader", scopes("mcp:basic")).unwrap();
    let past = SystemTime::now() - Duration::from_secs(60);
    let stale = Principal::new("stale", scopes("mcp:basic notes:write"))
        .with_audience(resource.clone())
        .with_expiry(past);
    tokens.insert(STALE, stale).unwrap();
    let foreign = Principal::new("alice", scopes("mcp:basic notes:write"))
        .with_audience("https://another-server.example/mcp");
    tokens.insert(FOREIGN, foreign).unwrap();
    let auth = protected_demo_auth(&resource, ISSUER, tokens, scopes("mcp:basic")).unwrap();
    let handle = serve::<H>(listener, addr, auth);
    (handle, resource)
}

fn serve<H: Harness>(
    listener: <S<H> as Stack>::Listener,
    addr: SocketAddr,
    auth: ResourceServerAuth,
) -> HttpServerHandle {
    let runtime = S::<H>::runtime().unwrap();
    let options = HttpServeOptions {
        legacy_sse: Some(Default::default()),
        ..HttpServeOptions::default()
    }
    .bearer_auth(auth);
    spawn_http_server(
        &runtime,
        protected_demo_server(),
        listener,
        addr,
        options,
        os_entropy,
    )
}

const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");
const JSON: (&str, &str) = ("Content-Type", "application/json");

/// A modern (2026-07-28) request with `token`, when given.
async fn modern<H: Harness>(
    addr: SocketAddr,
    token: Option<&str>,
    method: &str,
    params: Value,
) -> Reply {
    let mut params = params;
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
    let bearer = token.map(|token| format!("Bearer {token}"));
    let mut headers = vec![
        ACCEPT,
        JSON,
        ("MCP-Protocol-Version", "2026-07-28"),
        ("Mcp-Method", method),
    ];
    if method == "tools/call" {
        headers.push(("Mcp-Name", params["name"].as_str().unwrap()));
    }
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer));
    }
    exchange_at::<H>(addr, "POST", "/mcp", &headers, &body.to_string()).await
}

fn challenge(reply: &Reply) -> BearerChallenge {
    let lines: Vec<&str> = reply
        .headers
        .get_all("www-authenticate")
        .iter()
        .map(|value| value.to_str().unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "one WWW-Authenticate");
    BearerChallenge::find(&parse_challenges(lines).unwrap()).expect("a Bearer challenge")
}

pub async fn no_token_gets_401_naming_the_metadata_which_is_served_and_correct<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let (handle, resource) = protected::<H>().await;
        let addr = handle.local_addr();
        let refused = modern::<H>(addr, None, "tools/list", json!({})).await;
        assert_eq!(refused.status, 401);
        let bearer = challenge(&refused);
        let metadata_url = format!("http://{addr}/.well-known/oauth-protected-resource/mcp");
        assert_eq!(
            bearer.resource_metadata.as_deref(),
            Some(metadata_url.as_str())
        );
        // No credentials, no error code (RFC 6750 §3.1); the required scope is named.
        assert_eq!(bearer.error, None);
        assert_eq!(bearer.scope, Some(scopes("mcp:basic")));
        // Another scheme is no bearer token either; a broken one is an invalid token.
        let basic = exchange_at::<H>(
            addr,
            "POST",
            "/mcp",
            &[ACCEPT, JSON, ("Authorization", "Basic YTpi")],
            "{}",
        )
        .await;
        assert_eq!((basic.status, challenge(&basic).error), (401, None));
        let broken = exchange_at::<H>(
            addr,
            "POST",
            "/mcp",
            &[ACCEPT, JSON, ("Authorization", "Bearer a b")],
            "{}",
        )
        .await;
        assert_eq!(broken.status, 401);
        assert_eq!(challenge(&broken).error.as_deref(), Some("invalid_token"));
        // The GET stream needs a token too.
        let get = exchange_at::<H>(addr, "GET", "/mcp", &[ACCEPT], "").await;
        assert_eq!(get.status, 401);
        // The HTTP+SSE endpoints as well.
        let sse =
            exchange_at::<H>(addr, "GET", "/sse", &[("Accept", "text/event-stream")], "").await;
        assert_eq!(sse.status, 401);

        // The metadata: at the resource's well-known path, and at the root one; no token.
        let server = HttpUrl::parse(&resource).unwrap();
        for path in [
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource",
        ] {
            let reply = exchange_at::<H>(addr, "GET", path, &[], "").await;
            assert_eq!(reply.status, 200, "{path}");
            assert_eq!(reply.headers["content-type"], "application/json");
            let metadata = ProtectedResourceMetadata::from_json(&reply.body, 64 * 1024).unwrap();
            assert_eq!(metadata.resource, resource);
            assert_eq!(metadata.authorization_servers, [ISSUER]);
            assert_eq!(
                metadata.scopes_supported.as_deref(),
                Some(&["mcp:basic".to_owned(), "notes:write".to_owned()][..])
            );
            // What a client checks before using it.
            check_resource_metadata(&metadata, &server).unwrap();
        }
        let post = exchange_at::<H>(
            addr,
            "POST",
            "/.well-known/oauth-protected-resource/mcp",
            &[JSON],
            "{}",
        )
        .await;
        assert_eq!(post.status, 405);
        handle.shutdown().await;
    })
    .await;
}

pub async fn unknown_expired_and_foreign_audience_tokens_get_401_invalid_token<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let (handle, _) = protected::<H>().await;
        let addr = handle.local_addr();
        for token in ["no-such-token", STALE, FOREIGN] {
            let reply = modern::<H>(addr, Some(token), "tools/list", json!({})).await;
            assert_eq!(reply.status, 401, "{token}");
            let bearer = challenge(&reply);
            assert_eq!(bearer.error.as_deref(), Some("invalid_token"), "{token}");
            assert!(bearer.resource_metadata.is_some());
        }
        // The same request with a valid token is served.
        let reply = modern::<H>(addr, Some(READER), "tools/list", json!({})).await;
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        handle.shutdown().await;
    })
    .await;
}

pub async fn a_valid_token_is_served_in_both_eras_and_handlers_see_its_principal<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let (handle, resource) = protected::<H>().await;
        for era in [EraPolicy::Auto, EraPolicy::Legacy] {
            let http = HttpConnectOptions::new(resource.parse().unwrap())
                .with_header("Authorization", &format!("Bearer {ALICE}"))
                .unwrap();
            let options = ClientOptions::new("protected-test", "1").era(era);
            let client = S::<H>::connect_http(http, options).await.unwrap();
            let whoami = client.call_tool("whoami", json!({})).await.unwrap();
            let text = serde_json::to_value(&whoami.content).unwrap();
            assert_eq!(text[0]["text"], "alice mcp:basic notes:write", "{era:?}");
            let note = client.call_tool("write-note", json!({})).await.unwrap();
            let text = serde_json::to_value(&note.content).unwrap();
            assert_eq!(text[0]["text"], "note written by alice", "{era:?}");
            client.shutdown().await;
        }
        handle.shutdown().await;
    })
    .await;
}

pub async fn a_tool_needing_a_missing_scope_gets_403_listing_the_scopes<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let (handle, _) = protected::<H>().await;
        let addr = handle.local_addr();
        let call = json!({"name": "write-note", "arguments": {}});
        let refused = modern::<H>(addr, Some(READER), "tools/call", call.clone()).await;
        assert_eq!(refused.status, 403);
        let bearer = challenge(&refused);
        assert!(bearer.is_insufficient_scope());
        // What the token holds and what the call needs: nothing lost by asking for it.
        assert_eq!(bearer.scope, Some(scopes("mcp:basic notes:write")));
        assert!(bearer.resource_metadata.is_some());
        // Another tool needs only the common scope.
        let whoami = json!({"name": "whoami", "arguments": {}});
        let served = modern::<H>(addr, Some(READER), "tools/call", whoami).await;
        assert_eq!(served.status, 200);
        let answer: Value = serde_json::from_slice(&served.body).unwrap();
        assert_eq!(answer["result"]["content"][0]["text"], "reader mcp:basic");
        // A token with the scope is served.
        let allowed = modern::<H>(addr, Some(BOB), "tools/call", call).await;
        assert_eq!(allowed.status, 200);
        let answer: Value = serde_json::from_slice(&allowed.body).unwrap();
        assert_eq!(
            answer["result"]["content"][0]["text"],
            "note written by bob"
        );
        handle.shutdown().await;
    })
    .await;
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;
const WHOAMI: &str =
    r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#;

pub async fn a_session_named_with_another_subjects_token_is_not_found<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let (handle, _) = protected::<H>().await;
        let addr = handle.local_addr();
        let alice = format!("Bearer {ALICE}");
        let bob = format!("Bearer {BOB}");
        let init = exchange_at::<H>(
            addr,
            "POST",
            "/mcp",
            &[ACCEPT, JSON, ("Authorization", &alice)],
            INITIALIZE,
        )
        .await;
        assert_eq!(init.status, 200);
        let session = init.headers["mcp-session-id"].to_str().unwrap().to_owned();
        let on_session = |bearer: &str| {
            [
                ACCEPT,
                JSON,
                ("Mcp-Session-Id", session.as_str()),
                ("MCP-Protocol-Version", "2025-11-25"),
                ("Authorization", bearer),
            ]
            .map(|(name, value)| (name, value.to_owned()))
        };
        let send = |headers: [(&'static str, String); 5],
                    method: &'static str,
                    body: &'static str| async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            exchange_at::<H>(addr, method, "/mcp", &headers, body).await
        };
        let initialized = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        assert_eq!(
            send(on_session(&alice), "POST", initialized).await.status,
            202
        );
        // Bob holds a valid token, and alice's session id: the session is not his.
        let hijack = send(on_session(&bob), "POST", WHOAMI).await;
        assert_eq!(hijack.status, 404);
        assert_eq!(send(on_session(&bob), "GET", "").await.status, 404);
        assert_eq!(send(on_session(&bob), "DELETE", "").await.status, 404);
        // Alice's session is untouched.
        let own = send(on_session(&alice), "POST", WHOAMI).await;
        assert_eq!(own.status, 200);
        let answer: Value = serde_json::from_slice(&own.body).unwrap();
        assert_eq!(
            answer["result"]["content"][0]["text"],
            "alice mcp:basic notes:write"
        );
        // A session id is no credential: without a token, 401.
        let bare = exchange_at::<H>(
            addr,
            "POST",
            "/mcp",
            &[
                ACCEPT,
                JSON,
                ("Mcp-Session-Id", session.as_str()),
                ("MCP-Protocol-Version", "2025-11-25"),
            ],
            WHOAMI,
        )
        .await;
        assert_eq!(bare.status, 401);
        handle.shutdown().await;
    })
    .await;
}

/// A validator whose back end never answers.
struct Stuck;

impl TokenValidator for Stuck {
    fn validate<'a>(
        &'a self,
        _token: &'a Secret,
    ) -> BoxFuture<'a, Result<Principal, TokenRejection>> {
        Box::pin(std::future::pending())
    }
}

pub async fn a_validator_that_does_not_answer_in_time_gets_503<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let (listener, addr) = S::<H>::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let limits = TokenCheckLimits {
            validation_timeout: Duration::from_millis(200),
            ..TokenCheckLimits::default()
        };
        let auth = ResourceServerAuth::new(&format!("http://{addr}/mcp"), [ISSUER], Stuck)
            .unwrap()
            .limits(limits);
        let handle = serve::<H>(listener, addr, auth);
        let reply = modern::<H>(addr, Some(ALICE), "tools/list", json!({})).await;
        assert_eq!(reply.status, 503);
        handle.shutdown().await;
    })
    .await;
}
