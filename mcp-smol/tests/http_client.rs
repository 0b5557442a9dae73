//! The HTTP client over real sockets: against our own server in both eras, and against a
//! canned server that fails `tools/call` with 401, 403, 404, 500, 502 or a cut SSE stream —
//! each call must fail fast with a typed error carrying the status (fastmcp PR #2803: a client
//! that hung forever on HTTP errors), and the client must stay usable.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mcp_async::demo::demo_server;
use mcp_smol::proto::engine::{EraPolicy, RequestFailure, TransportFailure};
use mcp_smol::proto::h1::{Limits, parse_request_head};
use mcp_smol::proto::types::{ContentBlock, Era};
use mcp_smol::{
    CallError, ClientOptions, HttpConnectOptions, HttpServeOptions, SmolRuntime, connect_http,
    serve_http,
};
use serde_json::{Value, json};
use smol::io::{AsyncReadExt, AsyncWriteExt};

fn within<T>(limit: Duration, test: impl Future<Output = T>) -> T {
    smol::block_on(smol::future::or(async { Some(test.await) }, async {
        smol::Timer::after(limit).await;
        None
    }))
    .unwrap_or_else(|| panic!("the test did not finish within {limit:?}"))
}

fn text(content: &[ContentBlock]) -> String {
    match content.first() {
        Some(ContentBlock::Text(text)) => text.text.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn our_client_talks_to_our_server_in_both_eras() {
    within(Duration::from_secs(60), async {
        let handle = serve_http(
            demo_server(SmolRuntime),
            "127.0.0.1:0".parse().unwrap(),
            HttpServeOptions::default(),
        )
        .await
        .unwrap();
        let url: http::Uri = handle.url("/mcp").parse().unwrap();
        for (policy, era) in [
            (EraPolicy::Auto, Era::Modern),
            (EraPolicy::Legacy, Era::Legacy),
        ] {
            let client = connect_http(
                HttpConnectOptions::new(url.clone()),
                ClientOptions::new("t", "1").era(policy),
            )
            .await
            .unwrap();
            assert_eq!(client.negotiated().era, era);
            let tools = client.list_tools().await.unwrap();
            assert_eq!(tools.len(), 2);
            for n in 0..20 {
                let message = format!("call {n}");
                let echoed = client
                    .call_tool("echo", json!({"message": message}))
                    .await
                    .unwrap();
                assert_eq!(text(&echoed.content), message);
            }
            // Progress notifications come first, so this answer travels as an SSE stream.
            let slow = client
                .call_tool("slow", json!({"millis": 20}))
                .await
                .unwrap();
            assert_eq!(text(&slow.content), "waited 20 ms");
            let report = client.shutdown().await;
            assert!(report.close.unwrap().abandoned.is_empty());
        }
        handle.shutdown().await;
    });
}

/// What the canned server does with `tools/call`.
#[derive(Clone, Copy, Debug)]
enum Failure {
    Status(u16),
    CutStream,
}

/// A legacy server written by hand: `initialize` works, `tools/list` works, `tools/call`
/// fails as told. One request per connection.
async fn canned_server(failure: Failure) -> SocketAddr {
    let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    smol::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            smol::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                let (request, consumed) = loop {
                    if let Ok(Some(parsed)) = parse_request_head(&buffer, &Limits::default()) {
                        break parsed;
                    }
                    let n = stream.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                };
                let length: usize = request
                    .headers()
                    .get("content-length")
                    .map_or(0, |v| v.to_str().unwrap().parse().unwrap());
                while buffer.len() < consumed + length {
                    let n = stream.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                }
                let body: Value =
                    serde_json::from_slice(&buffer[consumed..consumed + length]).unwrap_or(Value::Null);
                let method = body["method"].as_str().unwrap_or("");
                let id = body["id"].clone();
                let reply = match (request.method().as_str(), method) {
                    ("POST", "initialize") => json_reply(
                        200,
                        &json!({"jsonrpc": "2.0", "id": id, "result": {
                            "protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                            "serverInfo": {"name": "canned", "version": "1"}}}),
                        "Mcp-Session-Id: canned-session-0001\r\n",
                    ),
                    ("POST", "tools/list") => json_reply(
                        200,
                        &json!({"jsonrpc": "2.0", "id": id, "result": {"tools": []}}),
                        "",
                    ),
                    ("POST", "tools/call") => match failure {
                        Failure::Status(status) => format!(
                            "HTTP/1.1 {status} Failure\r\nContent-Type: text/plain\r\n\
                             WWW-Authenticate: Bearer realm=\"canned\"\r\nContent-Length: 11\r\n\r\nnot today\r\n"
                        ),
                        // An SSE stream that ends before the answer, without event ids.
                        Failure::CutStream => "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
                             Content-Length: 0\r\n\r\n"
                            .to_owned(),
                    },
                    ("POST", "server/discover") => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned(),
                    ("POST", _) => "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n".to_owned(),
                    _ => "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n".to_owned(),
                };
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.flush().await;
            })
            .detach();
        }
    })
    .detach();
    addr
}

fn json_reply(status: u16, body: &Value, extra: &str) -> String {
    let body = body.to_string();
    format!(
        "HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn every_http_failure_of_a_call_settles_it_fast_with_the_status() {
    within(Duration::from_secs(60), async {
        for failure in [
            Failure::Status(401),
            Failure::Status(403),
            Failure::Status(404),
            Failure::Status(500),
            Failure::Status(502),
            Failure::CutStream,
        ] {
            let addr = canned_server(failure).await;
            let url = format!("http://{addr}/mcp").parse().unwrap();
            let client = connect_http(HttpConnectOptions::new(url), ClientOptions::new("t", "1"))
                .await
                .unwrap();
            assert_eq!(client.negotiated().era, Era::Legacy);
            let started = Instant::now();
            let error = client.call_tool("anything", json!({})).await.unwrap_err();
            let elapsed = started.elapsed();
            match (failure, &error) {
                (
                    Failure::Status(expected),
                    CallError::Failed(RequestFailure::Transport(TransportFailure::HttpStatus {
                        status,
                        body_excerpt,
                        www_authenticate,
                    })),
                ) => {
                    assert_eq!(*status, expected);
                    assert!(body_excerpt.contains("not today"));
                    assert!(www_authenticate.is_some());
                }
                (
                    Failure::CutStream,
                    CallError::Failed(RequestFailure::Transport(TransportFailure::StreamClosed)),
                ) => {}
                _ => panic!("{failure:?} gave {error:?}"),
            }
            // 404 on a session request first starts a new session (the spec's rule), which
            // costs one more round trip on loopback; every case stays far below a hang.
            assert!(
                elapsed < Duration::from_secs(1),
                "{failure:?} took {elapsed:?}"
            );
            // The client stays usable.
            client.list_tools().await.unwrap();
            client.shutdown().await;
        }
    });
}

#[test]
fn an_unreachable_server_is_reported_as_such() {
    within(Duration::from_secs(30), async {
        // A port nobody listens on: bind, read the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/mcp").parse().unwrap();
        let error = connect_http(HttpConnectOptions::new(url), ClientOptions::new("t", "1"))
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("cannot connect") && text.contains("refused"),
            "the connection error itself is reported: {text}"
        );
    });
}
