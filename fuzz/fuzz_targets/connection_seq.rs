//! The connection engine under arbitrary sequences of operations and arbitrary incoming bytes:
//! no panic, every request we sent is settled exactly once, `Closed` is reported once and
//! last, and the next deadline is never in the past.
#![no_main]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use mcp_proto::engine::{
    CancellationStyle, Connection, ConnectionConfig, Event, PendingLimits, RequestOptions, ScopePolicy,
    TransportFailure, TransportScope,
};
use mcp_proto::jsonrpc::{decode_message, DecodeOptions, Message, RawJson, RequestId, Response};

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Bytes(data);
    let Some(mode) = input.next() else { return };
    let config = ConnectionConfig {
        limits: PendingLimits { max_pending: 8, default_timeout: Duration::from_millis(500), max_lifetime: Duration::from_secs(2) },
        close_grace: Duration::from_millis(300),
        cancellation: if mode & 1 == 0 { CancellationStyle::Notify } else { CancellationStyle::CloseStream },
        scopes: if mode & 2 == 0 { ScopePolicy::Shared } else { ScopePolicy::PerRequest },
        answer_invalid_messages: mode & 4 == 0,
        max_progress_per_second: u32::from(mode >> 3),
    };
    let mut conn = Connection::new(config);
    let mut now = Instant::now();
    let mut ours: Vec<RequestId> = Vec::new();
    let mut theirs: Vec<RequestId> = Vec::new();
    let mut settled: HashMap<RequestId, u32> = HashMap::new();
    let mut closed = 0;

    while let Some(op) = input.next() {
        let arg = input.next().unwrap_or(0);
        match op % 9 {
            0 => {
                let timeout = Some(Duration::from_millis(u64::from(arg) * 5));
                if let Ok(id) = conn.request(now, "tools/call", None, RequestOptions { timeout, progress_token: None, long_lived: arg % 16 == 0 }) {
                    assert!(!ours.contains(&id), "id reused");
                    ours.push(id);
                }
            }
            1 => {
                let frame = input.take(usize::from(arg));
                let scope = TransportScope(u64::from(arg % 3));
                match decode_message(frame, &DecodeOptions::default()) {
                    Ok(message) => conn.handle_message(now, scope, message),
                    Err(error) => conn.handle_invalid_message(now, scope, error),
                }
            }
            2 => {
                now += Duration::from_millis(u64::from(arg) * 10);
                conn.handle_timeout(now);
                if let Some(deadline) = conn.poll_timeout() {
                    assert!(deadline > now, "a deadline at or before now survived handle_timeout");
                }
            }
            3 if !ours.is_empty() => {
                let id = ours[usize::from(arg) % ours.len()].clone();
                conn.cancel(now, &id, None);
            }
            4 if !theirs.is_empty() => {
                let id = theirs[usize::from(arg) % theirs.len()].clone();
                let _ = conn.respond(&id, Ok(RawJson::null()));
            }
            5 => {
                let failure = TransportFailure::HttpStatus { status: 500 + u16::from(arg % 4), www_authenticate: None, body_excerpt: String::new() };
                conn.handle_transport_closed(now, TransportScope(u64::from(arg % 3)), failure);
            }
            6 if !ours.is_empty() => {
                // A well-formed answer to one of our ids (possibly late or duplicated).
                let id = ours[usize::from(arg) % ours.len()].clone();
                conn.handle_message(now, TransportScope::CONNECTION, Message::Response(Response { id, result: RawJson::null() }));
            }
            7 => conn.close(now),
            8 if arg > 240 => conn.abort(),
            _ => {}
        }
        while conn.poll_transmit().is_some() {}
        while let Some(event) = conn.poll_event() {
            assert_eq!(closed, 0, "event after Closed");
            match event {
                Event::Settled(s) => {
                    assert!(ours.contains(&s.id), "settled an id we never sent");
                    *settled.entry(s.id).or_default() += 1;
                }
                Event::Request { id, .. } => theirs.push(id),
                Event::Closed(_) => closed += 1,
                _ => {}
            }
        }
        assert!(settled.values().all(|&n| n == 1), "settled twice");
    }
    conn.abort();
    while let Some(event) = conn.poll_event() {
        if let Event::Settled(s) = event {
            *settled.entry(s.id).or_default() += 1;
        } else if let Event::Closed(_) = event {
            closed += 1;
        }
    }
    assert_eq!(closed, 1);
    assert_eq!(settled.len(), ours.len(), "a request was never settled");
    assert!(settled.values().all(|&n| n == 1));
});
