//! The HTTP server over real sockets, spoken to by a raw HTTP/1.1 client: the Accept table,
//! both eras on one URL, sessions, and the status codes of the spec.

use std::net::SocketAddr;
use std::time::Duration;

use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use mcp_async::api::{HttpServeOptions, HttpServerHandle, Stack};
use mcp_async::demo::demo_server;
use mcp_async::http_client::Connector;
use mcp_async::proto::h1::{Limits, parse_response_head};
use mcp_async::proto::http::ACCEPT_TABLE;
use serde_json::{Value, json};

use crate::{Harness, S, Scenario, scenario, within};

pub fn scenarios<H: Harness>() -> Vec<Scenario> {
    vec![
        scenario!(H, every_accept_row_gets_200_or_406_as_the_table_says),
        scenario!(
            H,
            a_legacy_session_and_a_modern_request_on_one_url_with_the_spec_statuses
        ),
        scenario!(H, connections_beyond_the_limit_are_closed_at_once),
        scenario!(H, stateless_clients_may_use_the_same_request_id_at_once),
    ]
}

async fn demo_http<H: Harness>(options: HttpServeOptions) -> HttpServerHandle {
    let runtime = S::<H>::runtime().expect("the adapter's runtime");
    S::<H>::serve_http(
        demo_server(runtime),
        "127.0.0.1:0".parse().unwrap(),
        options,
    )
    .await
    .unwrap()
}

/// A TCP connection to `addr` from the adapter's connector.
async fn dial<H: Harness>(
    addr: SocketAddr,
) -> <<S<H> as Stack>::Connector as Connector>::Connection {
    S::<H>::connector()
        .connect_tcp(&addr.ip().to_string(), addr.port())
        .await
        .unwrap()
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// Sends one request to `/mcp` on a fresh connection (`Connection: close`) and reads the
/// whole reply.
async fn exchange<H: Harness>(
    addr: SocketAddr,
    method: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    exchange_at::<H>(addr, method, "/mcp", headers, body).await
}

/// [`exchange`] with another path.
pub(crate) async fn exchange_at<H: Harness>(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut stream = dial::<H>(addr).await;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
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

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

pub async fn every_accept_row_gets_200_or_406_as_the_table_says<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let handle = demo_http::<H>(HttpServeOptions::default()).await;
        for row in ACCEPT_TABLE {
            let mut headers = vec![("Content-Type", "application/json")];
            headers.extend(row.lines.iter().map(|line| ("Accept", *line)));
            let reply = exchange::<H>(handle.local_addr(), "POST", &headers, INITIALIZE).await;
            let expected = if row.json || row.event_stream {
                200
            } else {
                406
            };
            assert_eq!(reply.status, expected, "{}: {:?}", row.name, row.lines);
            if expected == 200 {
                let content_type = reply.headers["content-type"].to_str().unwrap();
                let wanted = if row.json {
                    "application/json"
                } else {
                    "text/event-stream"
                };
                assert_eq!(content_type, wanted, "{}", row.name);
            }
        }
        let report = handle.shutdown().await;
        assert_eq!(report.connections, ACCEPT_TABLE.len() as u64);
    })
    .await;
}

pub async fn a_legacy_session_and_a_modern_request_on_one_url_with_the_spec_statuses<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let handle = demo_http::<H>(HttpServeOptions::default()).await;
        let addr = handle.local_addr();
        let accept = ("Accept", "application/json, text/event-stream");
        let json_body = ("Content-Type", "application/json");
        let init = exchange::<H>(addr, "POST", &[accept, json_body], INITIALIZE).await;
        assert_eq!(init.status, 200);
        let session = init.headers["mcp-session-id"].to_str().unwrap().to_owned();
        let with_session = [
            accept,
            json_body,
            ("Mcp-Session-Id", session.as_str()),
            ("MCP-Protocol-Version", "2025-11-25"),
        ];
        let initialized = exchange::<H>(
            addr,
            "POST",
            &with_session,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        )
        .await;
        assert_eq!(initialized.status, 202);
        assert!(initialized.body.is_empty());
        let call = exchange::<H>(
            addr,
            "POST",
            &with_session,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}"#,
        )
        .await;
        assert_eq!(call.status, 200);
        let answer: Value = serde_json::from_slice(&call.body).unwrap();
        assert_eq!(answer["result"]["content"][0]["text"], "hi");
        // Without the session: 400; an unknown one: 404.
        let missing = exchange::<H>(
            addr,
            "POST",
            &[accept, json_body, ("MCP-Protocol-Version", "2025-11-25")],
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#,
        )
        .await;
        assert_eq!(missing.status, 400);
        // DELETE ends it; then it is unknown.
        let deleted = exchange::<H>(addr, "DELETE", &with_session[2..], "").await;
        assert_eq!(deleted.status, 200);
        let gone = exchange::<H>(
            addr,
            "POST",
            &with_session,
            r#"{"jsonrpc":"2.0","id":4,"method":"tools/list"}"#,
        )
        .await;
        assert_eq!(gone.status, 404);

        // A modern request on the same URL, no session involved.
        let meta = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {}
        });
        let discover = json!({"jsonrpc": "2.0", "id": 5, "method": "server/discover", "params": {"_meta": meta}});
        let modern = exchange::<H>(
            addr,
            "POST",
            &[
                accept,
                json_body,
                ("MCP-Protocol-Version", "2026-07-28"),
                ("Mcp-Method", "server/discover"),
            ],
            &discover.to_string(),
        )
        .await;
        assert_eq!(
            modern.status,
            200,
            "{}",
            String::from_utf8_lossy(&modern.body)
        );
        assert!(!modern.headers.contains_key("mcp-session-id"));

        // A foreign Origin: 403. Text: 415. PUT: 405. Another path: 404.
        let foreign = exchange::<H>(
            addr,
            "POST",
            &[accept, json_body, ("Origin", "https://evil.example")],
            INITIALIZE,
        )
        .await;
        assert_eq!(foreign.status, 403);
        let text = exchange::<H>(
            addr,
            "POST",
            &[accept, ("Content-Type", "text/plain")],
            INITIALIZE,
        )
        .await;
        assert_eq!(text.status, 415);
        let put = exchange::<H>(addr, "PUT", &[accept, json_body], INITIALIZE).await;
        assert_eq!(put.status, 405);
        assert_eq!(put.headers["allow"], "GET, POST, DELETE", "RFC 9110 §15.5.6");
        let elsewhere =
            exchange_at::<H>(addr, "POST", "/elsewhere", &[accept, json_body], INITIALIZE).await;
        assert_eq!(elsewhere.status, 404);
        handle.shutdown().await;
    })
    .await;
}

pub async fn connections_beyond_the_limit_are_closed_at_once<H: Harness>() {
    within::<H, _>(Duration::from_secs(30), async {
        let handle = demo_http::<H>(HttpServeOptions {
            max_connections: 1,
            ..HttpServeOptions::default()
        })
        .await;
        // The first connection stays open (idle, keep-alive)… It is connected before the
        // second is dialled, so the server, accepting in order, takes it first: no wait needed.
        let mut held = dial::<H>(handle.local_addr()).await;
        // …so the second is closed without an answer.
        let mut refused = dial::<H>(handle.local_addr()).await;
        let mut received = Vec::new();
        let _ = refused.read_to_end(&mut received).await;
        assert!(received.is_empty());
        let report = handle.shutdown().await;
        assert_eq!((report.connections, report.refused_connections), (1, 1));
        // Stopping the server also ends connections idling between requests.
        let mut rest = Vec::new();
        held.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    })
    .await;
}

/// Two independent 2026-07-28 clients, each sending `tools/call` with id 1 at the same time:
/// both are served (each request is its own exchange; a shared id table once refused one of
/// them with -32600 "already in flight"), and each answer carries id 1 and its own result.
pub async fn stateless_clients_may_use_the_same_request_id_at_once<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let handle = demo_http::<H>(HttpServeOptions::default()).await;
        let addr = handle.local_addr();
        let call = |millis: u64| {
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                "name": "slow", "arguments": {"millis": millis},
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {},
                }
            }})
            .to_string()
        };
        let headers = [
            ("Accept", "application/json, text/event-stream"),
            ("Content-Type", "application/json"),
            ("MCP-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", "tools/call"),
            ("Mcp-Name", "slow"),
        ];
        // Long enough that both are in flight together whatever the scheduling.
        let (first, second) = futures_lite::future::zip(
            exchange::<H>(addr, "POST", &headers, &call(300)),
            exchange::<H>(addr, "POST", &headers, &call(301)),
        )
        .await;
        for (reply, millis) in [(first, 300), (second, 301)] {
            let body = String::from_utf8_lossy(&reply.body).into_owned();
            assert_eq!(reply.status, 200, "{body}");
            let answer: Value = if body.starts_with('{') {
                serde_json::from_str(&body).unwrap()
            } else {
                // An SSE stream: the answer is the last data line.
                let data = body.lines().rev().find_map(|l| l.strip_prefix("data:"));
                serde_json::from_str(data.unwrap().trim()).unwrap()
            };
            assert_eq!(answer["id"], 1, "{body}");
            assert_eq!(
                answer["result"]["content"][0]["text"],
                format!("waited {millis} ms"),
                "{body}"
            );
        }
        handle.shutdown().await;
    })
    .await;
}
