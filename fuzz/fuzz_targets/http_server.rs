//! The Streamable HTTP server fed arbitrary requests: the input is split into HTTP/1.1
//! requests (head + body, parsed by the h1 codec); each goes to `handle_post`, `handle_get` or
//! `handle_delete` by its method, and every request the application sees is answered. No panic; every exchange ends exactly once
//! (one `Respond`, or `StartEvents` … `EndEvents`) and nothing is written after its end.
#![no_main]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use mcp_proto::engine::{ServerConfig, ServerEvent};
use mcp_proto::h1::{parse_request_head, Limits};
use mcp_proto::streamable::{HttpOutput, HttpServer, HttpServerConfig, StreamId};
use mcp_proto::types::{Implementation, ServerCapabilities};

#[derive(Debug, PartialEq, Clone, Copy)]
enum Seen {
    Streaming,
    Ended,
}

fuzz_target!(|data: &[u8]| {
    let capabilities = ServerCapabilities { tools: Some(Default::default()), ..Default::default() };
    let mut counter = 0u8;
    let entropy = Box::new(move |buf: &mut [u8]| {
        counter = counter.wrapping_add(1);
        buf.fill(counter);
    });
    let config = HttpServerConfig::new(ServerConfig::new(Implementation::new("fuzz", "0"), capabilities));
    let mut server = HttpServer::new(config, entropy);
    let mut now = Instant::now();
    let mut seen: HashMap<StreamId, Seen> = HashMap::new();
    let mut rest = data;
    let limits = Limits::default();
    while !rest.is_empty() {
        let Ok(Some((request, consumed))) = parse_request_head(rest, &limits) else { break };
        let (parts, ()) = request.into_parts();
        let after = &rest[consumed..];
        // The body is whatever follows up to the next blank line (a crude splitter is fine).
        let end = after.windows(2).position(|w| w == b"\n\n").unwrap_or(after.len());
        let body = &after[..end];
        rest = after.get(end + 2..).unwrap_or(&[]);
        match parts.method.as_str() {
            "GET" => server.handle_get(now, &parts),
            "DELETE" => server.handle_delete(now, &parts),
            _ => server.handle_post(now, &parts, body),
        };
        while let Some((origin, event)) = server.poll_event() {
            if let ServerEvent::Request { id, .. } = event
                && let Some(endpoint) = server.endpoint(&origin)
            {
                let _ = endpoint.respond(&id, &serde_json::json!({"ok": true}));
            }
        }
        now += Duration::from_secs(1);
        server.handle_timeout(now);
        while let Some(output) = server.poll_output(now) {
            match output {
                HttpOutput::Respond { stream, .. } => {
                    assert!(seen.insert(stream, Seen::Ended).is_none(), "a second response on {stream:?}");
                }
                HttpOutput::StartEvents { stream, .. } => {
                    assert!(seen.insert(stream, Seen::Streaming).is_none(), "a stream started twice");
                }
                HttpOutput::Events { stream, .. } => {
                    assert_eq!(seen.get(&stream), Some(&Seen::Streaming), "events outside an open stream");
                }
                HttpOutput::EndEvents { stream } => {
                    assert_eq!(seen.insert(stream, Seen::Ended), Some(Seen::Streaming), "an end without a stream");
                }
            }
        }
    }
});
