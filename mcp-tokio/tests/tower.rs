//! The MCP endpoint mounted in an axum router (feature `tower`), over real sockets: our own
//! client in both eras and over HTTP+SSE, SSE progress streamed through the tower body, the
//! endpoint's checks through the router, stopping, and the owner task's end.
#![cfg(feature = "tower")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use mcp_async::demo::demo_server;
use mcp_tokio::proto::engine::EraPolicy;
use mcp_tokio::proto::h1::{Limits, parse_response_head};
use mcp_tokio::proto::streamable::LegacySsePolicy;
use mcp_tokio::proto::types::{CallToolResult, Era, Tool};
use mcp_tokio::tower::McpServiceHandle;
use mcp_tokio::{
    CallOptions, ClientOptions, HandlerError, HttpConnectOptions, HttpServeOptions, LegacySsePaths,
    ProxyConfig, Server, TokioRuntime, connect_http, tower_service,
};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

fn within<T>(limit: Duration, test: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(async { tokio::time::timeout(limit, test).await })
        .unwrap_or_else(|_| panic!("the test did not finish within {limit:?}"))
}

/// axum serving the MCP service at `/mcp` (and the HTTP+SSE paths when configured) next to
/// `GET /health`.
struct Mounted {
    addr: SocketAddr,
    handle: McpServiceHandle,
    stop_axum: oneshot::Sender<()>,
    axum: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn mount(server: Server, options: HttpServeOptions) -> Mounted {
    let (mcp, handle) = tower_service(server, options.clone()).unwrap();
    let mut router = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route_service("/mcp", mcp.clone());
    if let Some(paths) = &options.legacy_sse {
        router = router
            .route_service(&paths.sse, mcp.clone())
            .route_service(&paths.messages, mcp);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_axum, stopped) = oneshot::channel::<()>();
    let serving = axum::serve(listener, router).with_graceful_shutdown(async {
        let _ = stopped.await;
    });
    let axum = tokio::spawn(serving.into_future());
    Mounted {
        addr,
        handle,
        stop_axum,
        axum,
    }
}

impl Mounted {
    fn url(&self, path: &str) -> http::Uri {
        format!("http://{}{path}", self.addr).parse().unwrap()
    }

    /// Stops axum and the MCP service together, as the example does: axum's graceful stop
    /// waits for open responses, which the service's shutdown ends.
    async fn stop(self) -> mcp_tokio::HttpServeReport {
        let _ = self.stop_axum.send(());
        let report = self.handle.shutdown().await;
        tokio::time::timeout(Duration::from_secs(10), self.axum)
            .await
            .expect("axum drains once the MCP service stopped")
            .unwrap()
            .unwrap();
        report
    }
}

/// Calls `slow` with a progress callback; returns the progress values seen before the answer.
async fn slow_with_progress(client: &mcp_tokio::Client) -> Vec<f64> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let options = CallOptions::default()
        .on_progress(move |update| sink.lock().unwrap().push(update.progress));
    let result = client
        .call_tool_with("slow", json!({"millis": 100}), options)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&result.content).unwrap()[0]["text"],
        "waited 100 ms"
    );
    seen.lock().unwrap().clone()
}

async fn echo(client: &mcp_tokio::Client, message: &str) {
    let echoed = client
        .call_tool("echo", json!({"message": message}))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&echoed.content).unwrap()[0]["text"],
        message
    );
}

#[test]
fn our_client_in_both_eras_through_an_axum_route() {
    within(Duration::from_secs(60), async {
        let demo = demo_server(TokioRuntime::current().unwrap());
        let mounted = mount(demo, HttpServeOptions::default()).await;
        for (policy, era) in [
            (EraPolicy::Auto, Era::Modern),
            (EraPolicy::Legacy, Era::Legacy),
        ] {
            let http = HttpConnectOptions::new(mounted.url("/mcp")).with_proxy(ProxyConfig::none());
            let client = connect_http(http, ClientOptions::new("t", "1").era(policy))
                .await
                .unwrap();
            assert_eq!(client.negotiated().era, era);
            assert_eq!(client.list_tools().await.unwrap().len(), 2);
            echo(&client, "through axum").await;
            // Progress before the answer: the answer went out as an SSE stream.
            let progress = slow_with_progress(&client).await;
            assert_eq!(
                progress,
                (1..=10).map(f64::from).collect::<Vec<_>>(),
                "{era:?}"
            );
            client.shutdown().await;
        }
        let report = mounted.stop().await;
        // Every exchange had ended (or been closed by its client leaving) before the stop.
        assert_eq!(report.cut_exchanges, 0, "{report:?}");
    });
}

#[test]
fn the_deprecated_http_sse_transport_on_routes_of_its_own() {
    within(Duration::from_secs(60), async {
        let options = HttpServeOptions {
            legacy_sse: Some(LegacySsePaths::default()),
            ..HttpServeOptions::default()
        };
        let demo = demo_server(TokioRuntime::current().unwrap());
        let mounted = mount(demo, options).await;
        let mut http = HttpConnectOptions::new(mounted.url("/sse")).with_proxy(ProxyConfig::none());
        http.legacy_sse = LegacySsePolicy::Only;
        let client = connect_http(http, ClientOptions::new("t", "1"))
            .await
            .unwrap();
        assert_eq!(client.negotiated().era, Era::Legacy);
        echo(&client, "over HTTP+SSE").await;
        let progress = slow_with_progress(&client).await;
        assert_eq!(progress.len(), 10);
        client.shutdown().await;
        // Nothing is left open to cut: the GET stream closed with the client.
        let report = mounted.stop().await;
        assert_eq!(report.cut_exchanges, 0, "{report:?}");
    });
}

struct Reply {
    status: u16,
    allow: Option<String>,
    body: Vec<u8>,
}

/// Writes `head` (and `body`) on a fresh connection and reads until the server closes it.
async fn raw(addr: SocketAddr, head: &str, body: &[u8]) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut received = Vec::new();
    stream.read_to_end(&mut received).await.unwrap();
    let (response, consumed) = parse_response_head(&received, &Limits::default())
        .unwrap()
        .unwrap();
    Reply {
        status: response.status().as_u16(),
        allow: response
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned()),
        body: received[consumed..].to_vec(),
    }
}

/// A POST to `path` with `headers` and a JSON body of its own length.
async fn post(addr: SocketAddr, path: &str, headers: &[&str], body: &str) -> Reply {
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for header in headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    raw(addr, &head, body.as_bytes()).await
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

#[test]
fn the_endpoints_checks_and_limits_apply_through_the_router() {
    within(Duration::from_secs(60), async {
        let mut options = HttpServeOptions::default();
        options.limits.max_body_bytes = 1024;
        let demo = demo_server(TokioRuntime::current().unwrap());
        let mounted = mount(demo, options).await;
        let addr = mounted.addr;
        let accept = "Accept: application/json, text/event-stream";

        let fine = post(addr, "/mcp", &[accept], INITIALIZE).await;
        assert_eq!(fine.status, 200, "{}", String::from_utf8_lossy(&fine.body));
        let foreign = post(
            addr,
            "/mcp",
            &[accept, "Origin: https://evil.example"],
            INITIALIZE,
        )
        .await;
        assert_eq!(foreign.status, 403);
        let html_only = post(addr, "/mcp", &["Accept: text/html"], INITIALIZE).await;
        assert_eq!(html_only.status, 406);
        let put = raw(
            addr,
            &format!("PUT /mcp HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
            b"",
        )
        .await;
        assert_eq!(put.status, 405);
        assert_eq!(put.allow.as_deref(), Some("GET, POST, DELETE"));

        // Over the body limit, declared: refused before the body is sent (none is).
        let declared = raw(
            addr,
            &format!(
                "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 1025\r\n\r\n"
            ),
            b"",
        )
        .await;
        assert_eq!(declared.status, 413);
        // Over the limit as it arrives: one chunk of 1025 bytes, the body left unfinished.
        let chunk = vec![b' '; 1025];
        let streamed = raw(
            addr,
            &format!(
                "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
                chunk.len()
            ),
            &chunk,
        )
        .await;
        assert_eq!(streamed.status, 413);

        // The router's other routes are untouched.
        let health = raw(
            addr,
            &format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
            b"",
        )
        .await;
        assert_eq!((health.status, health.body.as_slice()), (200, &b"ok"[..]));
        let elsewhere = post(addr, "/elsewhere", &[accept], INITIALIZE).await;
        assert_eq!(elsewhere.status, 404);
        mounted.stop().await;
    });
}

#[test]
fn stopping_cuts_an_open_event_stream_so_axum_can_drain() {
    within(Duration::from_secs(60), async {
        let options = HttpServeOptions {
            legacy_sse: Some(LegacySsePaths::default()),
            stop_grace: Duration::from_millis(200),
            ..HttpServeOptions::default()
        };
        let demo = demo_server(TokioRuntime::current().unwrap());
        let mounted = mount(demo, options).await;
        let mut stream = tokio::net::TcpStream::connect(mounted.addr).await.unwrap();
        let get = format!(
            "GET /sse HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
            mounted.addr
        );
        stream.write_all(get.as_bytes()).await.unwrap();
        let mut received = Vec::new();
        let mut buffer = [0u8; 1024];
        while !String::from_utf8_lossy(&received).contains("event: endpoint") {
            let n = stream.read(&mut buffer).await.unwrap();
            assert!(n > 0, "the stream ended before its endpoint event");
            received.extend_from_slice(&buffer[..n]);
        }
        let report = mounted.stop().await;
        assert_eq!(report.cut_exchanges, 1, "{report:?}");
        // Cut, not ended: the connection closes without the last chunk.
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
        received.extend_from_slice(&rest);
        assert!(!received.ends_with(b"0\r\n\r\n"), "{received:?}");
    });
}

/// A server whose `hang` tool reports progress once, then waits until it is cancelled, which
/// drops its guard and sets `cancelled`.
fn hanging_server(cancelled: Arc<AtomicBool>) -> Server {
    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let tool: Tool = serde_json::from_value(json!({
        "name": "hang", "inputSchema": {"type": "object"}
    }))
    .unwrap();
    Server::builder("hanging", "1")
        .tool(tool, move |ctx, _args| {
            let guard = SetOnDrop(Arc::clone(&cancelled));
            async move {
                let _guard = guard;
                ctx.progress(1.0, None, None);
                std::future::pending::<()>().await;
                Ok::<_, HandlerError>(CallToolResult::text("never"))
            }
        })
        .build()
}

/// Sends `request` on a fresh connection, reads until `seen` appears, then leaves.
async fn read_until_then_leave(addr: SocketAddr, request: &str, seen: &str) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    while !String::from_utf8_lossy(&received).contains(seen) {
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(n > 0, "the stream ended before {seen:?}");
        received.extend_from_slice(&buffer[..n]);
    }
}

#[test]
fn a_client_leaving_an_event_stream_closes_its_exchange() {
    within(Duration::from_secs(60), async {
        let cancelled = Arc::new(AtomicBool::new(false));
        let options = HttpServeOptions {
            legacy_sse: Some(LegacySsePaths::default()),
            // Long enough to fail the test on an exchange left open.
            stop_grace: Duration::from_secs(10),
            ..HttpServeOptions::default()
        };
        let mounted = mount(hanging_server(Arc::clone(&cancelled)), options).await;
        let addr = mounted.addr;

        // A modern call answered as an SSE stream (progress came first), left mid-way: the
        // dropped body closes the exchange, which cancels the call. Nothing else would: the
        // tool sends nothing more.
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "hang", "arguments": {}, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {},
            "progressToken": "p"
        }}})
        .to_string();
        let call = format!(
            "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: hang\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        read_until_then_leave(addr, &call, "notifications/progress").await;
        for _ in 0..500 {
            if cancelled.load(Ordering::SeqCst) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            cancelled.load(Ordering::SeqCst),
            "the call was not cancelled"
        );

        // A legacy HTTP+SSE session's stream, left: its exchange closes, so the stop finds
        // nothing open (else it would wait out the grace and cut it).
        let get = format!("GET /sse HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
        read_until_then_leave(addr, &get, "event: endpoint").await;
        let report = mounted.stop().await;
        assert_eq!(report.cut_exchanges, 0, "{report:?}");
    });
}

/// A server whose one tool holds `alive` while the server exists.
fn counted_server(alive: Arc<()>) -> Server {
    let tool: Tool = serde_json::from_value(json!({
        "name": "count", "inputSchema": {"type": "object"}
    }))
    .unwrap();
    Server::builder("counted", "1")
        .tool(tool, move |_ctx, _args| {
            let alive = Arc::clone(&alive);
            async move {
                let count = Arc::strong_count(&alive);
                Ok::<_, HandlerError>(CallToolResult::text(count.to_string()))
            }
        })
        .build()
}

#[test]
fn the_owner_task_ends_once_the_service_and_the_handle_are_gone() {
    within(Duration::from_secs(30), async {
        let alive = Arc::new(());
        let (service, handle) = tower_service(
            counted_server(Arc::clone(&alive)),
            HttpServeOptions::default(),
        )
        .unwrap();
        // Without its handle the service keeps serving.
        drop(handle);
        let router = Router::new().route_service("/mcp", service);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let axum = tokio::spawn(axum::serve(listener, router).into_future());
        let url: http::Uri = format!("http://{addr}/mcp").parse().unwrap();
        let http = HttpConnectOptions::new(url).with_proxy(ProxyConfig::none());
        let client = connect_http(http, ClientOptions::new("t", "1"))
            .await
            .unwrap();
        let counted = client.call_tool("count", json!({})).await.unwrap();
        assert!(counted.is_error.is_none());
        client.shutdown().await;
        assert!(Arc::strong_count(&alive) > 1);
        // Dropping the router drops the last clone of the service: the owner ends and with it
        // the server.
        axum.abort();
        let _ = axum.await;
        while Arc::strong_count(&alive) > 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
}

#[test]
fn outside_a_runtime_mounting_is_an_error_not_a_panic() {
    let error = tower_service(
        Server::builder("s", "1").build(),
        HttpServeOptions::default(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("tokio runtime"), "{error}");
}
