//! The HTTP server over real sockets, spoken to by a raw HTTP/1.1 client: the Accept table,
//! both eras on one URL, sessions, and the status codes of the spec.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use mcp_async::demo::demo_server;
use mcp_smol::proto::h1::{Limits, parse_response_head};
use mcp_smol::proto::http::ACCEPT_TABLE;
use mcp_smol::{HttpServeOptions, SmolRuntime, serve_http};
use serde_json::{Value, json};
use smol::io::{AsyncReadExt, AsyncWriteExt};

fn within<T>(limit: Duration, test: impl Future<Output = T>) -> T {
    smol::block_on(smol::future::or(async { Some(test.await) }, async {
        smol::Timer::after(limit).await;
        None
    }))
    .unwrap_or_else(|| panic!("the test did not finish within {limit:?}"))
}

struct Reply {
    status: u16,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

/// Sends one request on a fresh connection (`Connection: close`) and reads the whole reply.
async fn exchange(addr: SocketAddr, method: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut stream = smol::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!("{method} /mcp HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
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

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

#[test]
fn every_accept_row_gets_200_or_406_as_the_table_says() {
    within(Duration::from_secs(60), async {
        let handle = serve_http(
            demo_server(SmolRuntime),
            "127.0.0.1:0".parse().unwrap(),
            HttpServeOptions::default(),
        )
        .await
        .unwrap();
        for row in ACCEPT_TABLE {
            let mut headers = vec![("Content-Type", "application/json")];
            headers.extend(row.lines.iter().map(|line| ("Accept", *line)));
            let reply = exchange(handle.local_addr(), "POST", &headers, INITIALIZE).await;
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
    });
}

#[test]
fn a_legacy_session_and_a_modern_request_on_one_url_with_the_spec_statuses() {
    within(Duration::from_secs(60), async {
        let handle = serve_http(
            demo_server(SmolRuntime),
            "127.0.0.1:0".parse().unwrap(),
            HttpServeOptions::default(),
        )
        .await
        .unwrap();
        let addr = handle.local_addr();
        let accept = ("Accept", "application/json, text/event-stream");
        let json_body = ("Content-Type", "application/json");
        let init = exchange(addr, "POST", &[accept, json_body], INITIALIZE).await;
        assert_eq!(init.status, 200);
        let session = init.headers["mcp-session-id"].to_str().unwrap().to_owned();
        let with_session = [
            accept,
            json_body,
            ("Mcp-Session-Id", session.as_str()),
            ("MCP-Protocol-Version", "2025-11-25"),
        ];
        let initialized = exchange(
            addr,
            "POST",
            &with_session,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        )
        .await;
        assert_eq!(initialized.status, 202);
        assert!(initialized.body.is_empty());
        let call = exchange(
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
        let missing = exchange(
            addr,
            "POST",
            &[accept, json_body, ("MCP-Protocol-Version", "2025-11-25")],
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#,
        )
        .await;
        assert_eq!(missing.status, 400);
        // DELETE ends it; then it is unknown.
        let deleted = exchange(addr, "DELETE", &with_session[2..], "").await;
        assert_eq!(deleted.status, 200);
        let gone = exchange(
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
        let modern = exchange(
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

        // A foreign Origin: 403. Text: 415. Unknown path: 404. PUT: 405.
        let foreign = exchange(
            addr,
            "POST",
            &[accept, json_body, ("Origin", "https://evil.example")],
            INITIALIZE,
        )
        .await;
        assert_eq!(foreign.status, 403);
        let text = exchange(
            addr,
            "POST",
            &[accept, ("Content-Type", "text/plain")],
            INITIALIZE,
        )
        .await;
        assert_eq!(text.status, 415);
        let put = exchange(addr, "PUT", &[accept, json_body], INITIALIZE).await;
        assert_eq!(put.status, 405);
        handle.shutdown().await;
    });
}

#[test]
fn connections_beyond_the_limit_are_closed_at_once() {
    within(Duration::from_secs(30), async {
        let options = HttpServeOptions {
            max_connections: 1,
            ..HttpServeOptions::default()
        };
        let handle = serve_http(
            demo_server(SmolRuntime),
            "127.0.0.1:0".parse().unwrap(),
            options,
        )
        .await
        .unwrap();
        // The first connection stays open (idle, keep-alive)…
        let mut held = smol::net::TcpStream::connect(handle.local_addr())
            .await
            .unwrap();
        smol::Timer::after(Duration::from_millis(50)).await;
        // …so the second is closed without an answer.
        let mut refused = smol::net::TcpStream::connect(handle.local_addr())
            .await
            .unwrap();
        let mut received = Vec::new();
        let _ = refused.read_to_end(&mut received).await;
        assert!(received.is_empty());
        let report = handle.shutdown().await;
        assert_eq!((report.connections, report.refused_connections), (1, 1));
        // Stopping the server also ends connections idling between requests.
        let mut rest = Vec::new();
        held.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    });
}
