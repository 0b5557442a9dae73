//! The HTTP client over real sockets: against our own server in both eras, and against a
//! canned server that fails `tools/call` with 401, 403, 404, 500, 502 or a cut SSE stream —
//! each call must settle with a typed error carrying the status (fastmcp PR #2803: a client
//! that hung forever on HTTP errors), and the client must stay usable.

use std::net::SocketAddr;
use std::time::Duration;

use futures_lite::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use mcp_async::api::{
    CallError, ClientOptions, HttpConnectOptions, HttpServeOptions, ProxyConfig, Stack,
};
use mcp_async::demo::demo_server;
use mcp_async::http_serve::Listener;
use mcp_async::proto::engine::{EraPolicy, RequestFailure, TransportFailure};
use mcp_async::proto::h1::{Limits, parse_request_head};
use mcp_async::proto::types::Era;
use mcp_async::runtime::Runtime;
use serde_json::{Value, json};

use crate::{Harness, S, Scenario, scenario, text, within};

pub fn scenarios<H: Harness>() -> Vec<Scenario> {
    vec![
        scenario!(H, our_client_talks_to_our_server_in_both_eras),
        scenario!(
            H,
            every_http_failure_of_a_call_settles_it_fast_with_the_status
        ),
        scenario!(H, an_unreachable_server_is_reported_as_such),
    ]
}

fn runtime<H: Harness>() -> <S<H> as Stack>::Runtime {
    S::<H>::runtime().expect("the adapter's runtime")
}

/// `url` on loopback, whatever proxy the environment names.
fn direct(url: http::Uri) -> HttpConnectOptions {
    HttpConnectOptions::new(url).with_proxy(ProxyConfig::none())
}

/// An address nobody listens on: bound, read, closed.
pub(crate) async fn closed_addr<H: Harness>() -> SocketAddr {
    let (listener, addr) = S::<H>::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    drop(listener);
    addr
}

/// Also in memory: the same client options negotiate the same era without HTTP.
pub async fn our_client_talks_to_our_server_in_both_eras<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let handle = S::<H>::serve_http(
            demo_server(runtime::<H>()),
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
            let options = ClientOptions::new("t", "1").era(policy);
            let in_memory = S::<H>::connect_in_memory(demo_server(runtime::<H>()), options.clone())
                .await
                .unwrap();
            assert_eq!(in_memory.negotiated().era, era);
            let echoed = in_memory
                .call_tool("echo", json!({"message": "in memory"}))
                .await
                .unwrap();
            assert_eq!(text(&echoed.content), "in memory");
            assert!(in_memory.shutdown().await.close.is_some());

            crate::exercise_demo::<H>(direct(url.clone()), policy, era).await;
        }
        handle.shutdown().await;
    })
    .await;
}

/// What the canned server does with `tools/call`.
#[derive(Clone, Copy, Debug)]
enum Failure {
    Status(u16),
    CutStream,
}

/// A legacy server written by hand: `initialize` works, `tools/list` works, `tools/call`
/// fails as told. One request per connection. It stops accepting when the returned sender
/// is dropped.
async fn canned_server<H: Harness>(failure: Failure) -> (SocketAddr, async_channel::Sender<()>) {
    let (listener, addr) = S::<H>::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (stop, stopped) = async_channel::bounded::<()>(1);
    let runtime = runtime::<H>();
    let spawner = runtime.clone();
    runtime.spawn(Box::pin(async move {
        loop {
            // The accept future owns what it needs (the listener is not `Sync`).
            let accepting = listener.accept();
            let accepted = futures_lite::future::or(async { Some(accepting.await) }, async {
                let _ = stopped.recv().await;
                None
            })
            .await;
            let Some(Ok((stream, _))) = accepted else {
                return;
            };
            spawner.spawn(Box::pin(answer(stream, failure)));
        }
    }));
    (addr, stop)
}

async fn answer(mut stream: impl AsyncRead + AsyncWrite + Unpin, failure: Failure) {
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
        ("POST", "server/discover") => {
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned()
        }
        ("POST", _) => "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n".to_owned(),
        _ => "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n".to_owned(),
    };
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.flush().await;
}

fn json_reply(status: u16, body: &Value, extra: &str) -> String {
    let body = body.to_string();
    format!(
        "HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The seed (fastmcp PR #2803) hung forever here: nothing times the calls out (no call
/// timeout is set), so each must settle on the HTTP failure itself. The per-call limit is only
/// a hang guard — a call that settles takes a round trip or two on loopback (404 on a session
/// request first starts a new session, the spec's rule).
pub async fn every_http_failure_of_a_call_settles_it_fast_with_the_status<H: Harness>() {
    within::<H, _>(Duration::from_secs(120), async {
        for failure in [
            Failure::Status(401),
            Failure::Status(403),
            Failure::Status(404),
            Failure::Status(500),
            Failure::Status(502),
            Failure::CutStream,
        ] {
            let (addr, _stop) = canned_server::<H>(failure).await;
            let url = format!("http://{addr}/mcp").parse().unwrap();
            let options = ClientOptions::new("t", "1");
            assert_eq!(options.call_timeout, None);
            let client = S::<H>::connect_http(direct(url), options).await.unwrap();
            assert_eq!(client.negotiated().era, Era::Legacy);
            let call = client.call_tool("anything", json!({}));
            let settled = futures_lite::future::or(async { Some(call.await) }, async {
                crate::sleep::<H>(Duration::from_secs(15)).await;
                None
            })
            .await;
            let Some(result) = settled else {
                panic!("{failure:?}: the call hangs (the seed)")
            };
            let error = result.unwrap_err();
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
            // The client stays usable.
            client.list_tools().await.unwrap();
            client.shutdown().await;
        }
    })
    .await;
}

pub async fn an_unreachable_server_is_reported_as_such<H: Harness>() {
    within::<H, _>(Duration::from_secs(30), async {
        let addr = closed_addr::<H>().await;
        let url = format!("http://{addr}/mcp").parse().unwrap();
        let error = S::<H>::connect_http(direct(url), ClientOptions::new("t", "1"))
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("cannot connect") && text.contains("refused"),
            "the connection error itself is reported: {text}"
        );
    })
    .await;
}
