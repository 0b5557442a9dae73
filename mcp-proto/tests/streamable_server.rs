//! The Streamable HTTP server state machine: JSON or SSE per exchange, statuses of engine
//! answers, 202 for notifications, keep-alives, a closed stream as cancellation,
//! subscriptions as long-lived streams.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use http::StatusCode;
use mcp_proto::engine::{ListChanged, ServerConfig, ServerEvent};
use mcp_proto::framing::{SseDecoder, SseItem, SseStatus};
use mcp_proto::streamable::{EndpointRef, HttpOutput, HttpServer, HttpServerConfig, StreamId};
use mcp_proto::types::{Implementation, ServerCapabilities};
use serde_json::{Value, json};

fn server() -> HttpServer {
    let capabilities: ServerCapabilities =
        serde_json::from_value(json!({"tools": {"listChanged": true}})).unwrap();
    let mut counter = 0u8;
    // Deterministic entropy for tests: distinct 16-byte values (an adapter injects the OS RNG).
    let entropy = Box::new(move |buf: &mut [u8]| {
        counter = counter.wrapping_add(1);
        buf.fill(counter);
    });
    HttpServer::new(
        HttpServerConfig::new(ServerConfig::new(
            Implementation::new("srv", "1"),
            capabilities,
        )),
        entropy,
    )
}

fn meta(extra: Value) -> Value {
    let mut meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    meta.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    meta
}

fn post(server: &mut HttpServer, now: Instant, accept: &str, body: &Value) -> StreamId {
    let method = body["method"].as_str().unwrap_or("");
    let mut builder = http::Request::post("/mcp")
        .header("host", "127.0.0.1:8080")
        .header("content-type", "application/json")
        .header("accept", accept)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method);
    let params = &body["params"];
    if let Some(name) = params["name"].as_str().or(params["taskId"].as_str()) {
        builder = builder.header("mcp-name", name);
    }
    let (parts, ()) = builder.body(()).unwrap().into_parts();
    server.handle_post(now, &parts, &serde_json::to_vec(body).unwrap())
}

fn outputs(server: &mut HttpServer, now: Instant) -> Vec<HttpOutput> {
    std::iter::from_fn(|| server.poll_output(now)).collect()
}

/// The JSON-RPC messages in encoded SSE bytes.
fn sse_messages(bytes: &[u8]) -> Vec<Value> {
    let mut decoder = SseDecoder::new();
    let mut offset = 0;
    let mut messages = Vec::new();
    while let Ok(SseStatus::Item { item, consumed }) = decoder.decode(&bytes[offset..]) {
        offset += consumed;
        // The priming event of a legacy stream carries an id and no message.
        if let SseItem::Event(event) = item
            && !event.data.is_empty()
        {
            messages.push(serde_json::from_str(&event.data).unwrap());
        }
    }
    messages
}

fn answer_request(server: &mut HttpServer) -> mcp_proto::jsonrpc::RequestId {
    match server.poll_event() {
        Some((EndpointRef::Modern, ServerEvent::Request { id, .. })) => id,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_plain_answer_is_a_json_response() {
    let now = Instant::now();
    let mut server = server();
    let stream = post(
        &mut server,
        now,
        "application/json, text/event-stream",
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta(json!({}))}}),
    );
    assert!(
        outputs(&mut server, now).is_empty(),
        "nothing until the application answers"
    );
    let id = answer_request(&mut server);
    server
        .endpoint(&EndpointRef::Modern)
        .unwrap()
        .respond(&id, &json!({"tools": []}))
        .unwrap();
    let [
        HttpOutput::Respond {
            stream: s,
            response,
        },
    ] = &outputs(&mut server, now)[..]
    else {
        panic!()
    };
    assert_eq!((*s, response.status()), (stream, StatusCode::OK));
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(
        (body["id"].clone(), body["result"]["resultType"].clone()),
        (json!(1), json!("complete"))
    );
    assert_eq!(server.open_streams(), 0);
}

#[test]
fn notifications_first_open_an_sse_stream_that_the_answer_ends() {
    let now = Instant::now();
    let mut server = server();
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "slow", "_meta": meta(json!({"progressToken": "p"}))}});
    let stream = post(
        &mut server,
        now,
        "application/json, text/event-stream",
        &body,
    );
    let id = answer_request(&mut server);
    assert!(
        server
            .endpoint(&EndpointRef::Modern)
            .unwrap()
            .progress(&id, 1.0, Some(2.0), None)
            .unwrap()
    );
    server
        .endpoint(&EndpointRef::Modern)
        .unwrap()
        .respond(&id, &json!({"content": []}))
        .unwrap();
    let out = outputs(&mut server, now);
    let HttpOutput::StartEvents { stream: s, head } = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(*s, stream);
    assert_eq!(head.headers()["content-type"], "text/event-stream");
    assert_eq!(head.headers()["cache-control"], "no-cache");
    assert_eq!(head.headers()["x-accel-buffering"], "no");
    let bytes: Vec<u8> = out
        .iter()
        .filter_map(|o| match o {
            HttpOutput::Events { bytes, .. } => Some(bytes.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let messages = sse_messages(&bytes);
    assert_eq!(messages[0]["method"], "notifications/progress");
    assert_eq!(messages[1]["id"], 7);
    assert!(matches!(out.last(), Some(HttpOutput::EndEvents { stream: s }) if *s == stream));
}

#[test]
fn json_only_clients_get_the_answer_without_notifications_and_sse_only_clients_get_a_stream() {
    let now = Instant::now();
    let mut server = server();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "t", "_meta": meta(json!({"progressToken": "p"}))}});
    post(&mut server, now, "application/json", &body);
    let id = answer_request(&mut server);
    server
        .endpoint(&EndpointRef::Modern)
        .unwrap()
        .progress(&id, 1.0, None, None)
        .unwrap();
    server
        .endpoint(&EndpointRef::Modern)
        .unwrap()
        .respond(&id, &json!({"content": []}))
        .unwrap();
    assert!(
        matches!(&outputs(&mut server, now)[..], [HttpOutput::Respond { response, .. }] if response.status() == StatusCode::OK)
    );

    post(
        &mut server,
        now,
        "text/event-stream",
        &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": meta(json!({}))}}),
    );
    let id = answer_request(&mut server);
    server
        .endpoint(&EndpointRef::Modern)
        .unwrap()
        .respond(&id, &json!({"tools": []}))
        .unwrap();
    assert!(matches!(
        &outputs(&mut server, now)[..],
        [
            HttpOutput::StartEvents { .. },
            HttpOutput::Events { .. },
            HttpOutput::EndEvents { .. }
        ]
    ));
}

#[test]
fn statuses_for_notifications_errors_and_refusals() {
    let now = Instant::now();
    let mut server = server();
    post(
        &mut server,
        now,
        "*/*",
        &json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 5, "_meta": meta(json!({}))}}),
    );
    assert!(
        matches!(&outputs(&mut server, now)[..], [HttpOutput::Respond { response, .. }] if response.status() == StatusCode::ACCEPTED && response.body().is_empty())
    );
    post(
        &mut server,
        now,
        "*/*",
        &json!({"jsonrpc": "2.0", "id": 1, "method": "no/such", "params": {"_meta": meta(json!({}))}}),
    );
    let [HttpOutput::Respond { response, .. }] = &outputs(&mut server, now)[..] else {
        panic!()
    };
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        serde_json::from_slice::<Value>(response.body()).unwrap()["error"]["code"],
        -32601
    );
    // `initialize` as a 2026-07-28 request (modern `_meta`): a removed method, 404 + -32601,
    // answering its id; it starts no session.
    post(
        &mut server,
        now,
        "*/*",
        &json!({"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {"_meta": meta(json!({}))}}),
    );
    let [HttpOutput::Respond { response, .. }] = &outputs(&mut server, now)[..] else {
        panic!()
    };
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = serde_json::from_slice::<Value>(response.body()).unwrap();
    assert_eq!(body["error"]["code"], -32601, "{body}");
    assert_eq!(body["id"], 2);
    assert_eq!(server.session_count(), 0);
    // The tasks extension's methods without the extension declared: 400 + -32021 naming it.
    post(
        &mut server,
        now,
        "*/*",
        &json!({"jsonrpc": "2.0", "id": 9, "method": "tasks/get", "params": {"taskId": "x", "_meta": meta(json!({}))}}),
    );
    let [HttpOutput::Respond { response, .. }] = &outputs(&mut server, now)[..] else {
        panic!()
    };
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = serde_json::from_slice::<Value>(response.body()).unwrap();
    assert_eq!(body["error"]["code"], -32021, "{body}");
    assert!(
        body["error"]["data"]["requiredCapabilities"]["extensions"]["io.modelcontextprotocol/tasks"]
            .is_object(),
        "{body}"
    );
    assert!(server.poll_event().is_none(), "refused by the core");
    // A modern version header without _meta in the body: a modern request missing _meta.
    let (parts, ()) = http::Request::post("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "*/*")
        .header("mcp-protocol-version", "2026-07-28")
        .body(())
        .unwrap()
        .into_parts();
    server.handle_post(
        now,
        &parts,
        br#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#,
    );
    let [HttpOutput::Respond { response, .. }] = &outputs(&mut server, now)[..] else {
        panic!()
    };
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::from_slice::<Value>(response.body()).unwrap()["error"]["code"],
        -32602
    );
    // Without any version header it is a legacy request, and it has no session: 400 too.
    let (parts, ()) = http::Request::post("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "*/*")
        .body(())
        .unwrap()
        .into_parts();
    server.handle_post(
        now,
        &parts,
        br#"{"jsonrpc":"2.0","id":4,"method":"tools/list"}"#,
    );
    let [HttpOutput::Respond { response, .. }] = &outputs(&mut server, now)[..] else {
        panic!()
    };
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // Validation refusals never reach the application.
    let (parts, ()) = http::Request::post("/mcp")
        .header("host", "evil.example")
        .header("content-type", "application/json")
        .body(())
        .unwrap()
        .into_parts();
    server.handle_post(now, &parts, b"{}");
    assert!(
        matches!(&outputs(&mut server, now)[..], [HttpOutput::Respond { response, .. }] if response.status() == StatusCode::FORBIDDEN)
    );
    assert!(server.poll_event().is_none());
}

#[test]
fn a_closed_stream_cancels_its_request() {
    let now = Instant::now();
    let mut server = server();
    let stream = post(
        &mut server,
        now,
        "*/*",
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta(json!({}))}}),
    );
    let id = answer_request(&mut server);
    server.handle_stream_closed(now, stream);
    assert!(matches!(server.poll_event(), Some((_, ServerEvent::Cancelled { id: c })) if c == id));
    assert!(
        server
            .endpoint(&EndpointRef::Modern)
            .unwrap()
            .respond(&id, &json!({"tools": []}))
            .is_err(),
        "no answer after the client left"
    );
    assert!(outputs(&mut server, now).is_empty());
}

#[test]
fn idle_streams_get_keep_alives_and_subscriptions_live_on_their_stream() {
    let now = Instant::now();
    let mut server = server();
    let stream = post(
        &mut server,
        now,
        "*/*",
        &json!({"jsonrpc": "2.0", "id": 9, "method": "subscriptions/listen", "params": {"notifications": {"toolsListChanged": true}, "_meta": meta(json!({}))}}),
    );
    let Some((
        _,
        ServerEvent::Subscribed {
            id: subscription, ..
        },
    )) = server.poll_event()
    else {
        panic!("not subscribed")
    };
    let out = outputs(&mut server, now);
    assert!(
        matches!(
            &out[..],
            [HttpOutput::StartEvents { .. }, HttpOutput::Events { .. }]
        ),
        "the acknowledgement opens the stream"
    );
    assert_eq!(server.poll_timeout(), Some(now + Duration::from_secs(15)));
    server.handle_timeout(now + Duration::from_secs(15));
    let [HttpOutput::Events { stream: s, bytes }] =
        &outputs(&mut server, now + Duration::from_secs(15))[..]
    else {
        panic!()
    };
    assert_eq!((*s, bytes.as_slice()), (stream, &b": keep-alive\n\n"[..]));
    server
        .endpoint(&EndpointRef::Modern)
        .unwrap()
        .notify_list_changed(ListChanged::Tools);
    let later = now + Duration::from_secs(20);
    let out = outputs(&mut server, later);
    let [HttpOutput::Events { bytes, .. }] = &out[..] else {
        panic!("{out:?}")
    };
    let messages = sse_messages(bytes);
    assert_eq!(messages[0]["method"], "notifications/tools/list_changed");
    assert_eq!(
        messages[0]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        9
    );
    assert!(
        server
            .endpoint(&EndpointRef::Modern)
            .unwrap()
            .end_subscription(&subscription)
    );
    assert!(matches!(
        &outputs(&mut server, later)[..],
        [HttpOutput::Events { .. }, HttpOutput::EndEvents { .. }]
    ));
    assert_eq!(server.open_streams(), 0);
}

fn legacy(server: &mut HttpServer, now: Instant, session: Option<&str>, body: &Value) -> StreamId {
    let mut builder = http::Request::post("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(session) = session {
        builder = builder
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-11-25");
    }
    let (parts, ()) = builder.body(()).unwrap().into_parts();
    server.handle_post(now, &parts, &serde_json::to_vec(body).unwrap())
}

fn get_or_delete(
    server: &mut HttpServer,
    now: Instant,
    method: &str,
    session: Option<&str>,
) -> StreamId {
    let mut builder = http::Request::builder()
        .method(method)
        .uri("/mcp")
        .header("host", "localhost")
        .header("accept", "text/event-stream");
    if let Some(session) = session {
        builder = builder.header("mcp-session-id", session);
    }
    let (parts, ()) = builder.body(()).unwrap().into_parts();
    if method == "GET" {
        server.handle_get(now, &parts)
    } else {
        server.handle_delete(now, &parts)
    }
}

fn status_of(outputs: &[HttpOutput]) -> StatusCode {
    match outputs.first() {
        Some(HttpOutput::Respond { response, .. }) => response.status(),
        Some(HttpOutput::StartEvents { .. }) => StatusCode::OK,
        other => panic!("{other:?}"),
    }
}

/// Opens a legacy session and returns its id.
fn initialize(server: &mut HttpServer, now: Instant) -> String {
    legacy(
        server,
        now,
        None,
        &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {"sampling": {}}, "clientInfo": {"name": "old", "version": "1"}}}),
    );
    let out = outputs(server, now);
    let [HttpOutput::Respond { response, .. }] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body["result"]["protocolVersion"], "2025-11-25");
    response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn legacy_sessions_are_created_required_and_served() {
    let now = Instant::now();
    let mut server = server();
    let session = initialize(&mut server, now);
    assert_eq!(server.session_count(), 1);
    legacy(
        &mut server,
        now,
        Some(&session),
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    assert_eq!(status_of(&outputs(&mut server, now)), StatusCode::ACCEPTED);
    assert!(matches!(
        server.poll_event(),
        Some((EndpointRef::Session(_), ServerEvent::Initialized { .. }))
    ));

    // Requests need the session: 400 without, 404 for an unknown one.
    legacy(
        &mut server,
        now,
        None,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    );
    assert_eq!(
        status_of(&outputs(&mut server, now)),
        StatusCode::BAD_REQUEST
    );
    legacy(
        &mut server,
        now,
        Some("no-such-session"),
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    );
    assert_eq!(status_of(&outputs(&mut server, now)), StatusCode::NOT_FOUND);

    legacy(
        &mut server,
        now,
        Some(&session),
        &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    );
    let Some((origin @ EndpointRef::Session(_), ServerEvent::Request { id, context, .. })) =
        server.poll_event()
    else {
        panic!()
    };
    assert_eq!(context.era, mcp_proto::types::Era::Legacy);
    server
        .endpoint(&origin)
        .unwrap()
        .respond(&id, &json!({"tools": []}))
        .unwrap();
    let [HttpOutput::Respond { response, .. }] = &outputs(&mut server, now)[..] else {
        panic!()
    };
    assert_eq!(
        serde_json::from_slice::<Value>(response.body()).unwrap()["result"],
        json!({"tools": []}),
        "legacy answers are not rewritten"
    );
}

#[test]
fn the_get_stream_carries_server_requests_one_per_session() {
    let now = Instant::now();
    let mut server = server();
    let session = initialize(&mut server, now);
    assert!(
        server.poll_event().is_none(),
        "initialize is answered by the endpoint"
    );
    let origin =
        EndpointRef::Session(mcp_proto::http::SessionId::parse(session.as_bytes()).unwrap());
    // A server request before any stream is open waits in the backlog…
    let sampling = mcp_proto::types::methods::ServerRequest::parse(
        "sampling/createMessage",
        Some(&mcp_proto::jsonrpc::RawJson::from_text(r#"{"messages":[],"maxTokens":5}"#).unwrap()),
    )
    .unwrap();
    server
        .endpoint(&origin)
        .unwrap()
        .request(now, &sampling, Default::default())
        .unwrap();
    assert!(outputs(&mut server, now).is_empty());
    // …and goes out when the GET stream opens.
    let get = get_or_delete(&mut server, now, "GET", Some(&session));
    let out = outputs(&mut server, now);
    assert!(matches!(&out[0], HttpOutput::StartEvents { stream, .. } if *stream == get));
    let HttpOutput::Events { bytes, .. } = &out[1] else {
        panic!("{out:?}")
    };
    assert!(
        String::from_utf8_lossy(bytes).starts_with(&format!("id: {}-0\nretry: 1000\n", get.0)),
        "the stream opens with a priming event: {:?}",
        String::from_utf8_lossy(bytes)
    );
    let HttpOutput::Events { bytes, .. } = &out[2] else {
        panic!("{out:?}")
    };
    assert_eq!(sse_messages(bytes)[0]["method"], "sampling/createMessage");
    // One GET stream per session; none without a session.
    get_or_delete(&mut server, now, "GET", Some(&session));
    assert_eq!(status_of(&outputs(&mut server, now)), StatusCode::CONFLICT);
    get_or_delete(&mut server, now, "GET", None);
    let out = outputs(&mut server, now);
    assert_eq!(status_of(&out), StatusCode::METHOD_NOT_ALLOWED);
}

#[test]
fn delete_and_idle_expiry_end_sessions() {
    let now = Instant::now();
    let mut server = server();
    let session = initialize(&mut server, now);
    get_or_delete(&mut server, now, "DELETE", Some(&session));
    assert_eq!(status_of(&outputs(&mut server, now)), StatusCode::OK);
    assert_eq!(server.session_count(), 0);
    assert!(
        matches!(server.poll_event(), Some((_, ServerEvent::Closed(_)))),
        "the session's engine closes"
    );
    get_or_delete(&mut server, now, "DELETE", Some(&session));
    assert_eq!(status_of(&outputs(&mut server, now)), StatusCode::NOT_FOUND);
    legacy(
        &mut server,
        now,
        Some(&session),
        &json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
    );
    assert_eq!(
        status_of(&outputs(&mut server, now)),
        StatusCode::NOT_FOUND,
        "a deleted session is unknown"
    );

    // Idle expiry (30 minutes by default) on virtual time.
    let session = initialize(&mut server, now);
    let later = now + Duration::from_secs(31 * 60);
    server.handle_timeout(later);
    assert_eq!(server.session_count(), 0);
    legacy(
        &mut server,
        later,
        Some(&session),
        &json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
    );
    assert_eq!(
        status_of(&outputs(&mut server, later)),
        StatusCode::NOT_FOUND
    );
}

#[test]
fn a_closed_legacy_stream_is_not_a_cancellation() {
    let now = Instant::now();
    let mut server = server();
    let session = initialize(&mut server, now);
    let stream = legacy(
        &mut server,
        now,
        Some(&session),
        &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    );
    let Some((origin, ServerEvent::Request { id, .. })) = server.poll_event() else {
        panic!()
    };
    server.handle_stream_closed(now, stream);
    assert!(
        server.poll_event().is_none(),
        "no cancel event on the legacy transport"
    );
    assert!(
        server
            .endpoint(&origin)
            .unwrap()
            .respond(&id, &json!({"tools": []}))
            .is_ok()
    );
    assert!(
        outputs(&mut server, now).is_empty(),
        "the answer has nowhere to go"
    );
}

#[test]
fn a_sessions_backlog_is_bounded() {
    let now = Instant::now();
    let capabilities: ServerCapabilities = serde_json::from_value(json!({"tools": {}})).unwrap();
    let mut config = HttpServerConfig::new(ServerConfig::new(
        Implementation::new("srv", "1"),
        capabilities,
    ));
    config.max_backlog = 1;
    let mut server = HttpServer::new(config, Box::new(|buf: &mut [u8]| buf.fill(7)));
    let session = initialize(&mut server, now);
    let origin =
        EndpointRef::Session(mcp_proto::http::SessionId::parse(session.as_bytes()).unwrap());
    let ping = mcp_proto::types::methods::ServerRequest::parse("ping", None).unwrap();
    for _ in 0..3 {
        server
            .endpoint(&origin)
            .unwrap()
            .request(now, &ping, Default::default())
            .unwrap();
    }
    assert!(outputs(&mut server, now).is_empty());
    assert_eq!(server.dropped_backlog(), 2, "one kept, two dropped");
    get_or_delete(&mut server, now, "GET", Some(&session));
    let bytes: Vec<u8> = outputs(&mut server, now)
        .into_iter()
        .filter_map(|o| match o {
            HttpOutput::Events { bytes, .. } => Some(bytes),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(
        sse_messages(&bytes).len(),
        1,
        "only the kept message is delivered when the stream opens"
    );
}

fn resume(server: &mut HttpServer, now: Instant, session: &str, last_event_id: &str) -> StreamId {
    let (parts, ()) = http::Request::get("/mcp")
        .header("host", "localhost")
        .header("accept", "text/event-stream")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-11-25")
        .header("last-event-id", last_event_id)
        .body(())
        .unwrap()
        .into_parts();
    server.handle_get(now, &parts)
}

/// The SSE events (id, data) written to `stream`, and whether it ended.
fn events_on(outputs: &[HttpOutput], stream: StreamId) -> (Vec<(String, String)>, bool) {
    let mut bytes = Vec::new();
    let mut ended = false;
    for output in outputs {
        match output {
            HttpOutput::Events {
                stream: s,
                bytes: b,
            } if *s == stream => bytes.extend(b),
            HttpOutput::EndEvents { stream: s } if *s == stream => ended = true,
            _ => {}
        }
    }
    let mut decoder = SseDecoder::new();
    let mut offset = 0;
    let mut events = Vec::new();
    while let Ok(SseStatus::Item { item, consumed }) = decoder.decode(&bytes[offset..]) {
        offset += consumed;
        if let SseItem::Event(event) = item {
            events.push((event.id.unwrap_or_default(), event.data));
        }
    }
    (events, ended)
}

#[test]
fn a_legacy_stream_closed_by_the_server_is_resumed_with_last_event_id() {
    let now = Instant::now();
    let mut server = server();
    let session = initialize(&mut server, now);
    let post = legacy(
        &mut server,
        now,
        Some(&session),
        &json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list"}),
    );
    let Some((origin, ServerEvent::Request { id, .. })) = server.poll_event() else {
        panic!()
    };
    // SSE polling: the server closes the connection before answering.
    assert!(server.disconnect_request_stream(now, &origin, &id));
    let out = outputs(&mut server, now);
    assert!(matches!(&out[0], HttpOutput::StartEvents { stream, .. } if *stream == post));
    let (events, ended) = events_on(&out, post);
    assert_eq!(events, [(format!("{}-0", post.0), String::new())]);
    assert!(ended, "the connection is closed after the priming event");
    assert!(
        String::from_utf8_lossy(match &out[1] {
            HttpOutput::Events { bytes, .. } => bytes,
            other => panic!("{other:?}"),
        })
        .contains("retry: 1000\n"),
        "the priming event tells the client when to come back"
    );

    // The answer comes while no connection carries the stream: it is kept.
    server
        .endpoint(&origin)
        .unwrap()
        .respond(&id, &json!({"tools": []}))
        .unwrap();
    assert!(outputs(&mut server, now).is_empty());
    assert_eq!(server.open_streams(), 0, "the stream is complete");

    // GET + Last-Event-ID replays it on the new exchange, which then ends.
    let get = resume(&mut server, now, &session, &format!("{}-0", post.0));
    let out = outputs(&mut server, now);
    assert!(matches!(&out[0], HttpOutput::StartEvents { stream, .. } if *stream == get));
    let (events, ended) = events_on(&out, get);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].0, format!("{}-1", post.0));
    let answer: Value = serde_json::from_str(&events[0].1).unwrap();
    assert_eq!(answer["id"], 7);
    assert_eq!(answer["result"], json!({"tools": []}));
    assert!(ended);

    // Resuming after the last event replays nothing and ends.
    let again = resume(&mut server, now, &session, &format!("{}-1", post.0));
    let out = outputs(&mut server, now);
    let (events, ended) = events_on(&out, again);
    assert!(events.is_empty() && ended, "{out:?}");
}

#[test]
fn a_legacy_stream_closed_by_the_client_continues_on_the_resuming_get() {
    let now = Instant::now();
    let mut server = server();
    let session = initialize(&mut server, now);
    let post = legacy(
        &mut server,
        now,
        Some(&session),
        &json!({"jsonrpc": "2.0", "id": 8, "method": "tools/list",
                "params": {"_meta": {"progressToken": "p"}}}),
    );
    let Some((origin, ServerEvent::Request { id, .. })) = server.poll_event() else {
        panic!()
    };
    let endpoint = server.endpoint(&origin).unwrap();
    assert!(endpoint.progress(&id, 1.0, None, None).unwrap());
    let out = outputs(&mut server, now);
    let (events, _) = events_on(&out, post);
    assert_eq!(
        events.len(),
        2,
        "priming and the first progress: {events:?}"
    );
    let last_seen = events[1].0.clone();
    assert_eq!(last_seen, format!("{}-1", post.0));

    // The connection breaks; a second progress is sent into the void, then kept.
    server.handle_stream_closed(now, post);
    assert!(
        server.poll_event().is_none(),
        "a legacy disconnect is not a cancellation"
    );
    let endpoint = server.endpoint(&origin).unwrap();
    assert!(endpoint.progress(&id, 2.0, None, None).unwrap());
    assert!(outputs(&mut server, now).is_empty());

    let get = resume(&mut server, now, &session, &last_seen);
    let out = outputs(&mut server, now);
    let (events, ended) = events_on(&out, get);
    assert_eq!(events.len(), 1, "only what was missed is replayed");
    assert_eq!(
        serde_json::from_str::<Value>(&events[0].1).unwrap()["params"]["progress"],
        2.0
    );
    assert!(!ended, "the request is still running");

    // The answer now goes to the resuming GET, which ends with it.
    server
        .endpoint(&origin)
        .unwrap()
        .respond(&id, &json!({"tools": []}))
        .unwrap();
    let out = outputs(&mut server, now);
    let (events, ended) = events_on(&out, get);
    assert_eq!(events[0].0, format!("{}-3", post.0), "numbering continues");
    assert!(ended);
    assert!(
        events_on(&out, post).0.is_empty(),
        "nothing on the dead exchange"
    );
    server.handle_stream_closed(now, get);
    assert_eq!(server.open_streams(), 0);
}

#[test]
fn resumption_is_refused_for_unknown_foreign_or_lost_events() {
    let now = Instant::now();
    let mut server = server();
    let mine = initialize(&mut server, now);
    let theirs = initialize(&mut server, now);
    let post = legacy(
        &mut server,
        now,
        Some(&theirs),
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    );
    let Some((origin, ServerEvent::Request { id, .. })) = server.poll_event() else {
        panic!()
    };
    assert!(server.disconnect_request_stream(now, &origin, &id));
    outputs(&mut server, now);
    let their_event = format!("{}-0", post.0);
    for (session, last_event_id) in [
        (mine.as_str(), their_event.as_str()),
        (mine.as_str(), "999-0"),
        (mine.as_str(), "not-an-id"),
        (theirs.as_str(), "999-0"),
    ] {
        resume(&mut server, now, session, last_event_id);
        assert_eq!(
            status_of(&outputs(&mut server, now)),
            StatusCode::BAD_REQUEST,
            "{last_event_id} from {session}"
        );
    }
    // Their own resumption works; an unknown session is 404 as always.
    resume(&mut server, now, &theirs, &their_event);
    assert_eq!(status_of(&outputs(&mut server, now)), StatusCode::OK);
    resume(&mut server, now, "unknown-session-id-xyz", &their_event);
    assert_eq!(status_of(&outputs(&mut server, now)), StatusCode::NOT_FOUND);
}

#[test]
fn a_standalone_stream_resumes_with_the_backlog_after_the_replay() {
    let now = Instant::now();
    let mut server = server();
    let session = initialize(&mut server, now);
    let origin =
        EndpointRef::Session(mcp_proto::http::SessionId::parse(session.as_bytes()).unwrap());
    let get = get_or_delete(&mut server, now, "GET", Some(&session));
    let ping = mcp_proto::types::methods::ServerRequest::parse("ping", None).unwrap();
    server
        .endpoint(&origin)
        .unwrap()
        .request(now, &ping, Default::default())
        .unwrap();
    let out = outputs(&mut server, now);
    let (events, _) = events_on(&out, get);
    assert_eq!(events.len(), 2);
    server.handle_stream_closed(now, get);
    // While no connection carries it, a server request waits in the backlog.
    server
        .endpoint(&origin)
        .unwrap()
        .request(now, &ping, Default::default())
        .unwrap();
    assert!(outputs(&mut server, now).is_empty());
    let resumed = resume(&mut server, now, &session, &events[0].0);
    let out = outputs(&mut server, now);
    let (events, ended) = events_on(&out, resumed);
    assert_eq!(events.len(), 2, "the replayed ping, then the waiting one");
    assert!(!ended);
    assert_eq!(events[1].0, format!("{}-2", get.0));
    // A second standalone stream is refused while this one is connected.
    get_or_delete(&mut server, now, "GET", Some(&session));
    assert_eq!(status_of(&outputs(&mut server, now)), StatusCode::CONFLICT);
}

fn legacy_2025_03_26(
    server: &mut HttpServer,
    now: Instant,
    session: &str,
    accept: &str,
    body: &Value,
) -> StreamId {
    let (parts, ()) = http::Request::post("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", accept)
        .header("mcp-session-id", session)
        .body(())
        .unwrap()
        .into_parts();
    server.handle_post(now, &parts, &serde_json::to_vec(body).unwrap())
}

#[test]
fn a_2025_03_26_batch_is_answered_as_a_whole() {
    let now = Instant::now();
    let mut server = server();
    let session = initialize(&mut server, now);
    let both = "application/json, text/event-stream";
    let stream = legacy_2025_03_26(
        &mut server,
        now,
        &session,
        both,
        &json!([
            {"jsonrpc": "2.0", "id": "a", "method": "tools/list"},
            {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"},
            {"jsonrpc": "1.0", "id": "bad", "method": "tools/list"},
            {"jsonrpc": "2.0", "id": "b", "method": "tools/list"},
        ]),
    );
    let mut ids = Vec::new();
    while let Some((origin, event)) = server.poll_event() {
        if let ServerEvent::Request { id, .. } = event {
            ids.push((origin, id));
        }
    }
    assert_eq!(ids.len(), 2);
    let (origin, first) = &ids[0];
    server
        .endpoint(origin)
        .unwrap()
        .respond(first, &json!({"tools": []}))
        .unwrap();
    assert!(
        outputs(&mut server, now).is_empty(),
        "one answer is missing"
    );
    let (origin, second) = &ids[1];
    server
        .endpoint(origin)
        .unwrap()
        .respond(second, &json!({"tools": []}))
        .unwrap();
    let out = outputs(&mut server, now);
    let [
        HttpOutput::Respond {
            stream: s,
            response,
        },
    ] = &out[..]
    else {
        panic!("{out:?}")
    };
    assert_eq!(*s, stream);
    assert_eq!(response.status(), StatusCode::OK);
    let answers: Vec<Value> = serde_json::from_slice(response.body()).unwrap();
    let mut answered: Vec<String> = answers.iter().map(|a| a["id"].to_string()).collect();
    answered.sort();
    assert_eq!(answered, ["\"a\"", "\"b\"", "\"bad\""]);
    assert_eq!(
        answers.iter().filter(|a| a.get("error").is_some()).count(),
        1
    );

    // Only notifications: 202. `initialize` in a batch, or repeated ids: 400.
    legacy_2025_03_26(
        &mut server,
        now,
        &session,
        both,
        &json!([{"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}]),
    );
    assert_eq!(status_of(&outputs(&mut server, now)), StatusCode::ACCEPTED);
    for batch in [
        json!([{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}]),
        json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"jsonrpc": "2.0", "id": 1, "method": "ping"}]),
    ] {
        legacy_2025_03_26(&mut server, now, &session, both, &batch);
        assert_eq!(
            status_of(&outputs(&mut server, now)),
            StatusCode::BAD_REQUEST,
            "{batch}"
        );
    }
}

#[test]
fn a_batch_for_an_sse_only_client_is_one_stream() {
    let now = Instant::now();
    let mut server = server();
    let session = initialize(&mut server, now);
    let stream = legacy_2025_03_26(
        &mut server,
        now,
        &session,
        "text/event-stream",
        &json!([
            {"jsonrpc": "2.0", "id": 1, "method": "ping"},
            {"jsonrpc": "2.0", "id": 2, "method": "ping"},
        ]),
    );
    let out = outputs(&mut server, now);
    let (events, ended) = events_on(&out, stream);
    let answers: Vec<Value> = events
        .iter()
        .filter(|(_, data)| !data.is_empty())
        .map(|(_, data)| serde_json::from_str(data).unwrap())
        .collect();
    assert_eq!(answers.len(), 2, "pings are answered by the endpoint");
    assert!(ended);
}

#[test]
fn a_legacy_sessions_own_request_deadline_wakes_the_server() {
    let now = Instant::now();
    let mut server = server();
    let session = initialize(&mut server, now);
    let origin =
        EndpointRef::Session(mcp_proto::http::SessionId::parse(session.as_bytes()).unwrap());
    let ping = mcp_proto::types::methods::ServerRequest::parse("ping", None).unwrap();
    let options = mcp_proto::engine::RequestOptions {
        timeout: Some(Duration::from_secs(5)),
        ..Default::default()
    };
    server
        .endpoint(&origin)
        .unwrap()
        .request(now, &ping, options)
        .unwrap();
    assert_eq!(server.poll_timeout(), Some(now + Duration::from_secs(5)));
    server.handle_timeout(now + Duration::from_secs(5));
    assert!(
        std::iter::from_fn(|| server.poll_event())
            .any(|(_, e)| matches!(e, ServerEvent::Settled(_))),
        "the unanswered ping times out"
    );
}

/// The server visits only the sessions that have something to do; their deadlines, events and
/// messages must still all come out, each in its own session.
#[test]
fn many_sessions_keep_their_own_deadlines_and_events() {
    let now = Instant::now();
    let mut server = server();
    let sessions: Vec<EndpointRef> = (0..5)
        .map(|_| {
            let id = initialize(&mut server, now);
            EndpointRef::Session(mcp_proto::http::SessionId::parse(id.as_bytes()).unwrap())
        })
        .collect();
    let ping = mcp_proto::types::methods::ServerRequest::parse("ping", None).unwrap();
    // Sessions 1 and 3 ask the client something, with 7 s and 3 s to answer.
    for (index, seconds) in [(1, 7), (3, 3)] {
        let options = mcp_proto::engine::RequestOptions {
            timeout: Some(Duration::from_secs(seconds)),
            ..Default::default()
        };
        server
            .endpoint(&sessions[index])
            .unwrap()
            .request(now, &ping, options)
            .unwrap();
    }
    // Routed (the pings wait in their sessions' backlogs) and listed.
    assert!(outputs(&mut server, now).is_empty());
    assert_eq!(server.poll_timeout(), Some(now + Duration::from_secs(3)));
    assert!(server.poll_event().is_none());
    server.handle_timeout(now + Duration::from_secs(3));
    let settled: Vec<EndpointRef> = std::iter::from_fn(|| server.poll_event())
        .filter(|(_, e)| matches!(e, ServerEvent::Settled(_)))
        .map(|(origin, _)| origin)
        .collect();
    assert_eq!(settled, vec![sessions[3].clone()]);
    assert_eq!(server.poll_timeout(), Some(now + Duration::from_secs(7)));
    server.handle_timeout(now + Duration::from_secs(7));
    let settled: Vec<EndpointRef> = std::iter::from_fn(|| server.poll_event())
        .filter(|(_, e)| matches!(e, ServerEvent::Settled(_)))
        .map(|(origin, _)| origin)
        .collect();
    assert_eq!(settled, vec![sessions[1].clone()]);
    // Only the sessions' idle expiry is left.
    assert!(server.poll_timeout() > Some(now + Duration::from_secs(60)));
    // Requests on every session are answered by their own endpoint, in any order.
    let streams: Vec<StreamId> = [4, 0, 2]
        .into_iter()
        .map(|index| {
            let EndpointRef::Session(id) = &sessions[index] else {
                unreachable!()
            };
            legacy(
                &mut server,
                now,
                Some(id.as_str()),
                &json!({"jsonrpc": "2.0", "id": 40 + index, "method": "tools/list"}),
            )
        })
        .collect();
    let mut events = Vec::new();
    while let Some((origin, event)) = server.poll_event() {
        if let ServerEvent::Request { id, .. } = event {
            events.push((origin, id));
        }
    }
    assert_eq!(
        events
            .iter()
            .map(|(origin, _)| origin.clone())
            .collect::<Vec<_>>(),
        vec![
            sessions[4].clone(),
            sessions[0].clone(),
            sessions[2].clone()
        ]
    );
    for (origin, id) in &events {
        server
            .endpoint(origin)
            .unwrap()
            .respond(id, &json!({"tools": []}))
            .unwrap();
    }
    let answered: Vec<StreamId> = outputs(&mut server, now)
        .iter()
        .filter_map(|output| match output {
            HttpOutput::Respond { stream, response } if response.status() == StatusCode::OK => {
                Some(*stream)
            }
            _ => None,
        })
        .collect();
    assert_eq!(answered, streams);
}

/// Stateless requests come from independent clients, who may well use the same ids at the same
/// time: each is served, and each answer and subscription notification carries its client's id.
#[test]
fn independent_clients_may_use_the_same_request_id_at_once() {
    let now = Instant::now();
    let mut server = server();
    let call = |n: u32| json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo", "arguments": {"n": n}, "_meta": meta(json!({}))}});
    let first = post(
        &mut server,
        now,
        "application/json, text/event-stream",
        &call(1),
    );
    let second = post(
        &mut server,
        now,
        "application/json, text/event-stream",
        &call(2),
    );
    let listen = json!({"jsonrpc": "2.0", "id": 1, "method": "subscriptions/listen", "params": {"notifications": {"toolsListChanged": true}, "_meta": meta(json!({}))}});
    let listening = [
        post(&mut server, now, "text/event-stream", &listen),
        post(&mut server, now, "text/event-stream", &listen),
    ];
    let mut calls = Vec::new();
    let mut subscribed = Vec::new();
    while let Some((owner, event)) = server.poll_event() {
        assert_eq!(owner, EndpointRef::Modern);
        match event {
            ServerEvent::Request {
                id,
                request,
                context,
            } => {
                assert_eq!(context.wire_id, 1.into(), "the client's own id is kept");
                let arguments = match request {
                    mcp_proto::types::methods::ClientRequest::CallTool(call) => call.arguments,
                    other => panic!("{other:?}"),
                };
                calls.push((id, arguments));
            }
            ServerEvent::Subscribed { id, .. } => subscribed.push(id),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(calls.len(), 2, "neither request is refused as a duplicate");
    assert_ne!(calls[0].0, calls[1].0, "the endpoint tells them apart");
    assert_eq!(subscribed.len(), 2);
    let acks = outputs(&mut server, now);
    for stream in listening {
        let acked = acks.iter().any(|out| {
            matches!(out, HttpOutput::Events { stream: s, bytes } if *s == stream
                && sse_messages(bytes)[0]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == 1)
        });
        assert!(
            acked,
            "each acknowledgement names its client's id: {acks:?}"
        );
    }
    // Answer in the opposite order: each answer goes to its own exchange with the client's id.
    for (id, arguments) in calls.iter().rev() {
        server
            .endpoint(&EndpointRef::Modern)
            .unwrap()
            .respond(id, &json!({"content": [], "structuredContent": arguments}))
            .unwrap();
    }
    let answers: Vec<(StreamId, Value)> = outputs(&mut server, now)
        .into_iter()
        .map(|out| match out {
            HttpOutput::Respond { stream, response } => {
                (stream, serde_json::from_slice(response.body()).unwrap())
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(answers.len(), 2);
    for (stream, body) in answers {
        let n = if stream == first { 1 } else { 2 };
        assert!(stream == first || stream == second);
        assert_eq!(body["id"], 1);
        assert_eq!(body["result"]["structuredContent"]["n"], n);
    }
    // Notifications reach both subscriptions, each under its client's id.
    server
        .endpoint(&EndpointRef::Modern)
        .unwrap()
        .notify_list_changed(ListChanged::Tools);
    let notified: Vec<Value> = outputs(&mut server, now)
        .iter()
        .flat_map(|out| match out {
            HttpOutput::Events { bytes, .. } => sse_messages(bytes),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(notified.len(), 2);
    for message in notified {
        assert_eq!(
            message["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
            1
        );
    }
    // Ending one subscription completes it with its client's id, and only it.
    let endpoint = server.endpoint(&EndpointRef::Modern).unwrap();
    assert!(endpoint.end_subscription(&subscribed[0]));
    assert_eq!(endpoint.subscription_count(), 1);
    let ended: Vec<Value> = outputs(&mut server, now)
        .iter()
        .flat_map(|out| match out {
            HttpOutput::Events { bytes, .. } => sse_messages(bytes),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0]["id"], 1);
    assert_eq!(
        ended[0]["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        1
    );
}
