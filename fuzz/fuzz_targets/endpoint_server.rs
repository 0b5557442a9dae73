//! The server role under arbitrary input: each line of the input is one frame from a client.
//! No panic; a request shown to the application can be answered exactly once (a second
//! answer is refused); `Closed` comes once, last.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use mcp_proto::engine::{ServerConfig, ServerEndpoint, ServerEvent, TransportScope};
use mcp_proto::jsonrpc::{decode_message, DecodeOptions};
use mcp_proto::types::{Implementation, ServerCapabilities};

fuzz_target!(|data: &[u8]| {
    let capabilities = ServerCapabilities { tools: Some(Default::default()), prompts: Some(Default::default()), ..Default::default() };
    let mut server = ServerEndpoint::new(ServerConfig::new(Implementation::new("fuzz", "0"), capabilities));
    let mut now = Instant::now();
    let mut closed = false;
    for (i, frame) in data.split(|&b| b == b'\n').enumerate() {
        let scope = TransportScope((i % 3) as u64);
        match decode_message(frame, &DecodeOptions::default()) {
            Ok(message) => server.handle_message(now, scope, message),
            Err(error) => server.handle_invalid_message(now, scope, error),
        }
        now += Duration::from_millis(10);
        server.handle_timeout(now);
        while let Some(event) = server.poll_event() {
            assert!(!closed, "event after Closed");
            match event {
                ServerEvent::Request { id, .. } => {
                    // Answer every other request; leave the rest pending until the end.
                    if i % 2 == 0 {
                        server.respond(&id, &serde_json::json!({"ok": true})).expect("a request shown to the application can be answered");
                        assert!(server.respond(&id, &serde_json::json!({})).is_err(), "answered twice");
                    }
                }
                ServerEvent::Closed(_) => closed = true,
                _ => {}
            }
        }
        while server.poll_transmit().is_some() {}
    }
    server.abort();
    while let Some(event) = server.poll_event() {
        if let ServerEvent::Closed(_) = event {
            assert!(!closed, "Closed twice");
            closed = true;
        }
    }
    assert!(closed);
});
