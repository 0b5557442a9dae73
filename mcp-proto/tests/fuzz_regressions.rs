#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Bugs found by the fuzz targets (`fuzz/`), each reduced to a minimal test.

use std::time::Instant;

use http::StatusCode;
use mcp_proto::engine::{ServerConfig, ServerEvent};
use mcp_proto::http::SessionId;
use mcp_proto::streamable::{
    EventId, EventStore, HttpOutput, HttpServer, HttpServerConfig, MemoryEventStore,
    MemoryEventStoreLimits,
};
use mcp_proto::types::{Implementation, LoggingLevel, ServerCapabilities};
use serde_json::json;

fn id(stream: u64, seq: u64) -> EventId {
    EventId { stream, seq }
}

/// `http_server`: an event too large for the `MemoryEventStore` was not kept, but the events
/// before it on its stream were, so a resumption from one of them replayed what came after
/// and silently skipped it. Such a resumption must be refused instead.
#[test]
fn a_replay_never_skips_an_event_the_store_could_not_keep() {
    let limits = MemoryEventStoreLimits {
        events_per_session: 16,
        bytes_per_session: 10,
        total_bytes: 100,
    };
    let mut store = MemoryEventStore::new(limits);
    let session = SessionId::from_entropy(&[1; 16]).unwrap();
    store.append(&session, id(1, 0), "");
    store.append(&session, id(2, 0), "");
    store.append(&session, id(1, 1), "this is far too long");
    store.append(&session, id(1, 2), "b");
    store.append(&session, id(2, 1), "x");
    assert_eq!(
        store.replay(&session, id(1, 0)),
        None,
        "replaying after 1-0 would skip 1-1"
    );
    // After the gap, and on other streams, resumption still works.
    let after_gap = store.replay(&session, id(1, 2)).unwrap();
    assert!(after_gap.is_empty());
    let other = store.replay(&session, id(2, 0)).unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].data, "x");
}

/// The same, end to end (reduced from the fuzzer's input): a legacy SSE stream carries a log
/// message too large for the event store, then the answer; a client resuming from the priming
/// event must be refused, not handed the answer without the message.
#[test]
fn a_legacy_stream_is_not_resumed_across_an_event_the_store_could_not_keep() {
    let capabilities: ServerCapabilities =
        serde_json::from_value(json!({"tools": {}, "logging": {}})).unwrap();
    let mut counter = 0u8;
    let entropy = Box::new(move |buf: &mut [u8]| {
        counter = counter.wrapping_add(1);
        buf.fill(counter);
    });
    let store = MemoryEventStore::new(MemoryEventStoreLimits {
        events_per_session: 16,
        bytes_per_session: 160,
        total_bytes: 320,
    });
    let mut server = HttpServer::with_event_store(
        HttpServerConfig::new(ServerConfig::new(
            Implementation::new("srv", "1"),
            capabilities,
        )),
        entropy,
        Box::new(store),
    );
    let now = Instant::now();
    let post = |session: Option<&str>| {
        let mut builder = http::Request::post("/mcp")
            .header("host", "localhost")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        if let Some(session) = session {
            builder = builder
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-11-25");
        }
        builder.body(()).unwrap().into_parts().0
    };
    server.handle_post(
        now,
        &post(None),
        br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#,
    );
    let session = match server.poll_output(now) {
        Some(HttpOutput::Respond { response, .. }) => response.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned(),
        other => panic!("{other:?}"),
    };
    let stream = server.handle_post(
        now,
        &post(Some(&session)),
        br#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#,
    );
    let Some((origin, ServerEvent::Request { id: request, .. })) = server.poll_event() else {
        panic!("tools/list reaches the application")
    };
    let endpoint = server.endpoint(&origin).unwrap();
    // Written live as event 1, but more than the store keeps.
    assert!(
        endpoint
            .log(&request, LoggingLevel::Info, None, json!("w".repeat(100)))
            .unwrap()
    );
    endpoint.respond(&request, &json!({"tools": []})).unwrap();
    while server.poll_output(now).is_some() {}

    // The client saw only the priming event, and resumes from it.
    let (get, ()) = http::Request::get("/mcp")
        .header("host", "localhost")
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-11-25")
        .header("last-event-id", format!("{}-0", stream.0))
        .body(())
        .unwrap()
        .into_parts();
    server.handle_get(now, &get);
    let outputs: Vec<HttpOutput> = std::iter::from_fn(|| server.poll_output(now)).collect();
    match &outputs[..] {
        [HttpOutput::Respond { response, .. }] => {
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        }
        other => panic!("the resumption skipped the log message: {other:?}"),
    }
}
