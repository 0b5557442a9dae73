//! The protected server mounted in an axum router (feature `tower`): the token check, the
//! metadata routes and the principal behave as on our own listener.
#![cfg(feature = "tower")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use mcp_async::programs::{protected_demo_auth, protected_demo_server};
use mcp_tokio::proto::auth::challenge::{BearerChallenge, parse_challenges};
use mcp_tokio::proto::auth::{ProtectedResourceMetadata, ScopeSet};
use mcp_tokio::proto::h1::{Limits, parse_response_head};
use mcp_tokio::{
    ClientOptions, HttpConnectOptions, HttpServeOptions, StaticTokens, connect_http, tower_service,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Reply {
    status: u16,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

async fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    stream.read_to_end(&mut received).await.unwrap();
    let (head, consumed) = parse_response_head(&received, &Limits::default())
        .unwrap()
        .unwrap();
    Reply {
        status: head.status().as_u16(),
        headers: head.headers().clone(),
        body: received[consumed..].to_vec(),
    }
}

fn scopes(list: &str) -> ScopeSet {
    ScopeSet::parse(list).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mounted_service_checks_tokens_serves_metadata_and_passes_the_principal() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let resource = format!("http://{addr}/mcp");
        let mut tokens = StaticTokens::new(resource.clone());
        tokens
            .add("writer", "wanda", scopes("notes:write"))
            .unwrap();
        tokens.add("reader", "rita", ScopeSet::new()).unwrap();
        let auth = protected_demo_auth(
            &resource,
            "https://auth.example.com",
            tokens,
            ScopeSet::new(),
        )
        .unwrap();
        let paths = auth.metadata_paths();
        let options = HttpServeOptions::default().bearer_auth(auth);
        let (mcp, handle) = tower_service(protected_demo_server(), options).unwrap();
        let mut router = Router::new().route_service("/mcp", mcp.clone());
        for path in &paths {
            router = router.route_service(path, mcp.clone());
        }
        let serving = tokio::spawn(axum::serve(listener, router).into_future());

        // No token: 401 naming the metadata, which the router serves.
        let accept = ("Accept", "application/json, text/event-stream");
        let json_body = ("Content-Type", "application/json");
        let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
        let refused = raw(addr, "POST", "/mcp", &[accept, json_body], list).await;
        assert_eq!(refused.status, 401);
        let line = refused.headers["www-authenticate"].to_str().unwrap();
        let bearer = BearerChallenge::find(&parse_challenges([line]).unwrap()).unwrap();
        let url = bearer.resource_metadata.unwrap();
        assert_eq!(
            url,
            format!("http://{addr}/.well-known/oauth-protected-resource/mcp")
        );
        let path = url.strip_prefix(&format!("http://{addr}")).unwrap();
        let document = raw(addr, "GET", path, &[], "").await;
        assert_eq!(document.status, 200);
        let metadata = ProtectedResourceMetadata::from_json(&document.body, 64 * 1024).unwrap();
        assert_eq!(metadata.resource, resource);

        // A modern call of a tool the token lacks the scope for: 403 insufficient_scope.
        let meta = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {}
        });
        let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "write-note", "arguments": {}, "_meta": meta}});
        let headers = [
            accept,
            json_body,
            ("MCP-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", "tools/call"),
            ("Mcp-Name", "write-note"),
            ("Authorization", "Bearer reader"),
        ];
        let forbidden = raw(addr, "POST", "/mcp", &headers, &call.to_string()).await;
        assert_eq!(forbidden.status, 403);
        let line = forbidden.headers["www-authenticate"].to_str().unwrap();
        let bearer = BearerChallenge::find(&parse_challenges([line]).unwrap()).unwrap();
        assert!(bearer.is_insufficient_scope());
        assert_eq!(bearer.scope, Some(scopes("notes:write")));
        let mut allowed = headers;
        allowed[5] = ("Authorization", "Bearer writer");
        let served = raw(addr, "POST", "/mcp", &allowed, &call.to_string()).await;
        assert_eq!(served.status, 200);
        let answer: Value = serde_json::from_slice(&served.body).unwrap();
        assert_eq!(
            answer["result"]["content"][0]["text"],
            "note written by wanda"
        );

        // Our client with the token: the handler sees the principal.
        let http = HttpConnectOptions::new(resource.parse().unwrap())
            .with_header("Authorization", "Bearer writer")
            .unwrap();
        let client = connect_http(http, ClientOptions::new("t", "1"))
            .await
            .unwrap();
        let whoami = client.call_tool("whoami", json!({})).await.unwrap();
        assert_eq!(
            serde_json::to_value(&whoami.content).unwrap()[0]["text"],
            "wanda notes:write"
        );
        client.shutdown().await;
        handle.shutdown().await;
        serving.abort();
    })
    .await
    .expect("within 60 s");
}
