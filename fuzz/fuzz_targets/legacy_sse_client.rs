//! The HTTP+SSE (2024-11-05) client against an arbitrary server: `SseClient` itself, or
//! `HttpClient` reaching it through its fallback (`LegacySsePolicy::Fallback`, era probe first
//! or legacy `initialize` first) or directly (`LegacySsePolicy::Only`); the first input byte
//! picks which.
//!
//! The rest is lines (split on `\n`; SSE bodies can still end their lines with `\r`), each
//! `[op, arg, rest…]`. `op % 8` is the action and `op / 8` picks the exchange it applies to
//! among those the client opened and that are still open (oldest first):
//!
//! | `op % 8` | action |
//! |---|---|
//! | 0 | `endpoint().request(...)`: `tools/call`, or `ping` when `arg` is odd |
//! | 1 | a complete response: status from `arg`, `Content-Type` JSON, SSE or none, body `rest` |
//! | 2 | a response head (200 `text/event-stream` unless `arg` says otherwise), then `rest` as body |
//! | 3 | body bytes `rest` |
//! | 4 | the body ends |
//! | 5 | the exchange fails at the network level |
//! | 6 | `arg << (op / 8 % 8)` seconds pass |
//! | 7 | `close` (`arg` even) or cancel an issued request |
//!
//! Invariants: no panic; no event after `ClientEvent::Closed`; no request settles twice; no
//! exchange id is used twice (across the fallback too). At
//! the end the client is closed, every exchange still open fails, and time advances far
//! (repeatedly, failing whatever new exchange appears): then every request that
//! `endpoint().request(...)` accepted has settled exactly once (one `ClientEvent::Response` per
//! id) and `Closed` came exactly once.
#![no_main]

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use mcp_proto::engine::{ClientConfig, ClientEndpoint, ClientEvent, EraPolicy, RequestOptions};
use mcp_proto::jsonrpc::{RawJson, RequestId};
use mcp_proto::streamable::{
    ExchangeId, HttpClient, HttpClientConfig, HttpClientOutput, LegacySsePolicy, SseClient,
    SseClientConfig,
};
use mcp_proto::types::methods::ClientRequest;
use mcp_proto::types::{ClientCapabilities, Implementation};

enum Client {
    Sse(SseClient),
    Http(HttpClient),
}

/// The calls both clients share.
macro_rules! both {
    ($client:expr, $c:ident => $call:expr) => {
        match $client {
            Client::Sse($c) => $call,
            Client::Http($c) => $call,
        }
    };
}

impl Client {
    fn new(mode: u8) -> Self {
        let url = "http://127.0.0.1:9/sse".parse().expect("static URL");
        let capabilities: ClientCapabilities = serde_json::from_value(serde_json::json!({"roots": {}})).expect("capabilities");
        let mut client = ClientConfig::new(Implementation::new("fuzz", "0"), capabilities);
        match mode % 4 {
            0 => Self::Sse(SseClient::new(SseClientConfig::new(url, client))),
            mode => {
                if mode == 2 {
                    client.era = EraPolicy::Legacy;
                }
                let mut config = HttpClientConfig::new(url, client);
                config.legacy_sse = if mode == 3 { LegacySsePolicy::Only } else { LegacySsePolicy::Fallback };
                Self::Http(HttpClient::new(config))
            }
        }
    }

    fn endpoint(&mut self) -> &mut ClientEndpoint {
        both!(self, c => c.endpoint())
    }
}

const STATUSES: [u16; 10] = [200, 202, 400, 401, 404, 405, 500, 204, 307, 503];

#[derive(Default)]
struct Tally {
    sent: HashSet<ExchangeId>,
    issued: Vec<RequestId>,
    settled: HashMap<RequestId, u32>,
    closed: u32,
}

impl Tally {
    fn drain(&mut self, client: &mut Client, open: &mut Vec<ExchangeId>) {
        loop {
            let mut moved = false;
            while let Some(output) = both!(client, c => c.poll_output()) {
                moved = true;
                if common::tracing() {
                    match &output {
                        HttpClientOutput::Send { exchange, request } => eprintln!(
                            "  {exchange:?} -> {} {} {:?} {}",
                            request.method(),
                            request.uri(),
                            request.headers(),
                            String::from_utf8_lossy(request.body())
                        ),
                        HttpClientOutput::Abort { exchange } => eprintln!("  {exchange:?} -> abort"),
                    }
                }
                match output {
                    HttpClientOutput::Send { exchange, .. } => {
                        assert!(self.sent.insert(exchange), "{exchange:?} sent twice");
                        open.push(exchange);
                    }
                    HttpClientOutput::Abort { exchange } => open.retain(|e| *e != exchange),
                }
            }
            while let Some(event) = both!(client, c => c.poll_event()) {
                moved = true;
                if common::tracing() {
                    eprintln!("  event {event:?}");
                }
                assert_eq!(self.closed, 0, "{event:?} after Closed");
                match event {
                    ClientEvent::Response { id, .. } => {
                        let count = self.settled.entry(id.clone()).or_default();
                        *count += 1;
                        assert_eq!(*count, 1, "request {id} settled twice");
                    }
                    ClientEvent::Closed(_) => self.closed += 1,
                    _ => {}
                }
            }
            if !moved {
                return;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else { return };
    let mut client = Client::new(mode);
    let mut now = Instant::now();
    both!(&mut client, c => c.start(now)).expect("start once");
    let call = ClientRequest::parse("tools/call", Some(&RawJson::from_text(r#"{"name":"t"}"#).expect("json"))).expect("params");
    let ping = ClientRequest::parse("ping", None).expect("ping");
    let mut open: Vec<ExchangeId> = Vec::new();
    let mut tally = Tally::default();
    for line in data.split(|&b| b == b'\n') {
        tally.drain(&mut client, &mut open);
        let Some((&op, rest)) = line.split_first() else { continue };
        let (arg, rest) = rest.split_first().map_or((0, rest), |(&arg, rest)| (arg, rest));
        let pick = usize::from(op / 8);
        let target = (!open.is_empty()).then(|| open[pick % open.len()]);
        if common::tracing() {
            eprintln!("op {} arg {arg} on {target:?}: {:?}", op % 8, String::from_utf8_lossy(rest));
        }
        match op % 8 {
            0 => {
                let request = if arg % 2 == 1 { &ping } else { &call };
                if let Ok(id) = client.endpoint().request(now, request, RequestOptions::default()) {
                    assert!(!tally.issued.contains(&id), "request id {id} issued twice");
                    tally.issued.push(id);
                }
            }
            1 => {
                if let Some(exchange) = target {
                    open.retain(|e| *e != exchange);
                    let mut response = http::Response::new(rest.to_vec());
                    *response.status_mut() = http::StatusCode::from_u16(STATUSES[usize::from(arg) % STATUSES.len()]).expect("valid");
                    let content_type = match arg / 16 % 3 {
                        0 => Some("application/json"),
                        1 => Some("text/event-stream"),
                        _ => None,
                    };
                    if let Some(value) = content_type {
                        response.headers_mut().insert("content-type", http::HeaderValue::from_static(value));
                    }
                    if arg & 0x80 != 0 {
                        response.headers_mut().insert("mcp-session-id", http::HeaderValue::from_static("s-1"));
                    }
                    both!(&mut client, c => c.handle_response(now, exchange, response));
                }
            }
            2 => {
                if let Some(exchange) = target {
                    let mut head = http::Response::new(());
                    if arg & 0x80 != 0 {
                        *head.status_mut() = http::StatusCode::from_u16(STATUSES[usize::from(arg) % STATUSES.len()]).expect("valid");
                    }
                    let value = if arg & 0x40 == 0 { "text/event-stream" } else { "application/json" };
                    head.headers_mut().insert("content-type", http::HeaderValue::from_static(value));
                    both!(&mut client, c => c.handle_response_head(now, exchange, &head));
                    both!(&mut client, c => c.handle_body(now, exchange, rest));
                }
            }
            3 => {
                if let Some(exchange) = target {
                    both!(&mut client, c => c.handle_body(now, exchange, rest));
                }
            }
            4 => {
                if let Some(exchange) = target {
                    open.retain(|e| *e != exchange);
                    both!(&mut client, c => c.handle_body_end(now, exchange));
                }
            }
            5 => {
                if let Some(exchange) = target {
                    open.retain(|e| *e != exchange);
                    both!(&mut client, c => c.handle_exchange_failed(now, exchange, "reset".into()));
                }
            }
            6 => {
                now += Duration::from_secs(u64::from(arg) << (pick % 8));
                both!(&mut client, c => c.handle_timeout(now));
            }
            _ => {
                if arg % 2 == 0 {
                    both!(&mut client, c => c.close(now));
                } else if !tally.issued.is_empty() {
                    let id = tally.issued[usize::from(arg / 2) % tally.issued.len()].clone();
                    client.endpoint().cancel(now, &id, None);
                }
            }
        }
    }

    // The end: close, fail whatever is still open, let time pass; repeat while the client
    // keeps opening exchanges (a DELETE, a reconnection…).
    tally.drain(&mut client, &mut open);
    both!(&mut client, c => c.close(now));
    for _ in 0..16 {
        tally.drain(&mut client, &mut open);
        for exchange in std::mem::take(&mut open) {
            both!(&mut client, c => c.handle_exchange_failed(now, exchange, "gone".into()));
            tally.drain(&mut client, &mut open);
        }
        now += Duration::from_secs(3600);
        both!(&mut client, c => c.handle_timeout(now));
        tally.drain(&mut client, &mut open);
        if open.is_empty() && both!(&client, c => c.poll_timeout()).is_none() {
            break;
        }
    }
    assert!(open.is_empty(), "the client keeps opening exchanges after closing: {open:?}");
    for id in &tally.issued {
        assert_eq!(tally.settled.get(id), Some(&1), "request {id} was not settled exactly once");
    }
    assert_eq!(tally.closed, 1, "Closed exactly once");
});
