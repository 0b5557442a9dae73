//! The client role against an arbitrary server: after `start`, each line of the input is one
//! frame from the server; a leading byte per frame may also make the client send a request,
//! provide MRTR input, let time pass or lose the transport. No panic; every request the client
//! issued gets exactly one Response; `Closed` comes once, last.
#![no_main]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use mcp_proto::engine::{ClientConfig, ClientEndpoint, ClientEvent, RequestOptions, TransportFailure, TransportScope};
use mcp_proto::jsonrpc::{decode_message, DecodeOptions, RawJson, RequestId};
use mcp_proto::types::methods::ClientRequest;
use mcp_proto::types::{ClientCapabilities, Implementation};

fuzz_target!(|data: &[u8]| {
    let mut client = ClientEndpoint::new(ClientConfig::new(Implementation::new("fuzz", "0"), ClientCapabilities::default()));
    let mut now = Instant::now();
    client.start(now).expect("start once");
    let mut issued: Vec<RequestId> = Vec::new();
    let mut responses: HashMap<RequestId, u32> = HashMap::new();
    let mut closed = false;
    let call = ClientRequest::parse("tools/call", Some(&RawJson::from_text(r#"{"name":"t"}"#).expect("json"))).expect("params");
    for frame in data.split(|&b| b == b'\n') {
        let Some((&op, frame)) = frame.split_first() else { continue };
        match op % 5 {
            0 => {
                if let Ok(id) = client.request(now, &call, RequestOptions::default()) {
                    issued.push(id);
                }
            }
            1 => {
                now += Duration::from_secs(u64::from(op / 5));
                client.handle_timeout(now);
            }
            2 if op == 2 => client.handle_transport_closed(now, TransportScope::CONNECTION, TransportFailure::StreamClosed),
            _ => {}
        }
        match decode_message(frame, &DecodeOptions::default()) {
            Ok(message) => client.handle_message(now, TransportScope::CONNECTION, message),
            Err(error) => client.handle_invalid_message(now, TransportScope::CONNECTION, error),
        }
        while client.poll_transmit().is_some() {}
        while let Some(event) = client.poll_event() {
            assert!(!closed, "event after Closed");
            match event {
                ClientEvent::Response { id, .. } => *responses.entry(id).or_default() += 1,
                ClientEvent::InputRequired { id, .. } => {
                    let _ = client.provide_input(now, &id, Default::default());
                }
                ClientEvent::Closed(_) => closed = true,
                _ => {}
            }
        }
        assert!(responses.values().all(|&n| n == 1), "a request answered twice");
    }
    client.abort(now);
    while let Some(event) = client.poll_event() {
        match event {
            ClientEvent::Response { id, .. } => *responses.entry(id).or_default() += 1,
            ClientEvent::Closed(_) => {
                assert!(!closed, "Closed twice");
                closed = true;
            }
            _ => {}
        }
    }
    assert!(closed);
    for id in &issued {
        assert_eq!(responses.get(id), Some(&1), "request {id} was not settled exactly once");
    }
});
