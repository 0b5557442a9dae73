//! The Streamable HTTP client against an arbitrary server: each input line picks an action —
//! send a request, answer the oldest open exchange with an arbitrary status / content type /
//! body, open an SSE response and feed it bytes, end a body, fail the exchange, let time pass.
//! No panic; after the final abort every request the client sent was settled exactly once and
//! `Closed` came once.
#![no_main]

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use mcp_proto::engine::{ClientConfig, ClientEvent, RequestOptions};
use mcp_proto::jsonrpc::{RawJson, RequestId};
use mcp_proto::streamable::{ExchangeId, HttpClient, HttpClientConfig, HttpClientOutput};
use mcp_proto::types::methods::ClientRequest;
use mcp_proto::types::{ClientCapabilities, Implementation};

fuzz_target!(|data: &[u8]| {
    let endpoint = "http://127.0.0.1:9/mcp".parse().expect("static URL");
    let mut client = HttpClient::new(HttpClientConfig::new(endpoint, ClientConfig::new(Implementation::new("fuzz", "0"), ClientCapabilities::default())));
    let mut now = Instant::now();
    client.start(now).expect("start once");
    let call = ClientRequest::parse("tools/call", Some(&RawJson::from_text(r#"{"name":"t"}"#).expect("json"))).expect("params");
    let mut open: VecDeque<ExchangeId> = VecDeque::new();
    let mut issued: Vec<RequestId> = Vec::new();
    let mut settled: HashMap<RequestId, u32> = HashMap::new();
    let mut closed = 0;
    let statuses = [200u16, 202, 400, 401, 403, 404, 405, 500, 502];
    for line in data.split(|&b| b == b'\n') {
        while let Some(output) = client.poll_output() {
            match output {
                HttpClientOutput::Send { exchange, .. } => open.push_back(exchange),
                HttpClientOutput::Abort { exchange } => open.retain(|e| *e != exchange),
            }
        }
        let Some((&op, rest)) = line.split_first() else { continue };
        match op % 6 {
            0 => {
                if let Ok(id) = client.endpoint().request(now, &call, RequestOptions::default()) {
                    issued.push(id);
                }
            }
            1 => {
                if let Some(exchange) = open.pop_front() {
                    let mut response = http::Response::new(rest.to_vec());
                    *response.status_mut() = http::StatusCode::from_u16(statuses[usize::from(op / 6) % statuses.len()]).expect("valid");
                    if op & 0x40 == 0 {
                        response.headers_mut().insert("content-type", http::HeaderValue::from_static("application/json"));
                    }
                    client.handle_response(now, exchange, response);
                }
            }
            2 => {
                if let Some(&exchange) = open.front() {
                    let mut head = http::Response::new(());
                    head.headers_mut().insert("content-type", http::HeaderValue::from_static("text/event-stream"));
                    client.handle_response_head(now, exchange, &head);
                    client.handle_body(now, exchange, rest);
                }
            }
            3 => {
                if let Some(exchange) = open.pop_front() {
                    client.handle_body_end(now, exchange);
                }
            }
            4 => {
                if let Some(exchange) = open.pop_front() {
                    client.handle_exchange_failed(now, exchange, "reset".into());
                }
            }
            _ => {
                now += Duration::from_secs(u64::from(op));
                client.handle_timeout(now);
            }
        }
        while let Some(event) = client.poll_event() {
            assert_eq!(closed, 0, "event after Closed");
            match event {
                ClientEvent::Response { id, .. } => *settled.entry(id).or_default() += 1,
                ClientEvent::Closed(_) => closed += 1,
                _ => {}
            }
        }
        assert!(settled.values().all(|&n| n == 1), "settled twice");
    }
    client.endpoint().abort(now);
    while let Some(event) = client.poll_event() {
        match event {
            ClientEvent::Response { id, .. } => *settled.entry(id).or_default() += 1,
            ClientEvent::Closed(_) => closed += 1,
            _ => {}
        }
    }
    assert_eq!(closed, 1, "Closed exactly once");
    for id in &issued {
        assert_eq!(settled.get(id), Some(&1), "request {id} was not settled exactly once");
    }
});
