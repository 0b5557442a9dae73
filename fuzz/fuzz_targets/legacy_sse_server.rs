//! The HTTP+SSE (2024-11-05) server fed arbitrary requests and network events.
//!
//! The input is read by `common::Input`: HTTP/1.1 requests (a GET goes to `handle_get`, any
//! other method to `handle_post`; the path is not looked at, as in the core), with `$S1` …
//! `$S9` standing for the session ids minted so far (`POST /messages?sessionId=$S1`), and
//! control lines:
//!
//! | line | action |
//! |---|---|
//! | `!c<n>` | the client leaves open exchange `n` (`handle_stream_closed`) |
//! | `!s<k>` | `tools/list_changed` from session `$S<k>` |
//! | `!p<k>` | a server→client `ping` from session `$S<k>` |
//! | `!x<k>` | the application closes session `$S<k>`'s endpoint (gracefully) |
//! | `!z<k>` | the application aborts it |
//! | `!t<s>` | `s` seconds pass (16 when absent: past the keep-alive interval) |
//!
//! The application answers every request as soon as it sees it.
//!
//! Invariants: no panic; every exchange ends exactly once (one `Respond`, or `StartEvents` …
//! `EndEvents`), nothing is written after its end or after the client left it, no output names
//! an exchange never handed out; a POST is answered at once and a GET at once either refused
//! or streaming; a session reports no event after `ServerEvent::Closed`. At the end time passes
//! beyond the idle timeout: then no session is left, every exchange has ended, and every
//! session that was created reported `Closed` exactly once.
#![no_main]

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{Exchanges, Input, Record, Seen, counter_entropy, session_id, tracing};
use libfuzzer_sys::fuzz_target;
use mcp_proto::engine::{RequestOptions, ServerConfig, ServerEvent};
use mcp_proto::http::SessionId;
use mcp_proto::streamable::sessions::SessionLimits;
use mcp_proto::streamable::{SseServer, SseServerConfig};
use mcp_proto::types::methods::{ServerNotification, ServerRequest};
use mcp_proto::types::{Implementation, ServerCapabilities};
use serde_json::json;

const IDLE: Duration = Duration::from_secs(120);

struct State {
    server: SseServer,
    now: Instant,
    exchanges: Exchanges,
    /// Per session id: how many sessions got it (more than one only if the 8-bit entropy
    /// counter wrapped around) and how many `Closed` events it reported.
    sessions: HashMap<SessionId, (u32, u32)>,
}

impl State {
    fn pump(&mut self) {
        loop {
            while let Some((session, event)) = self.server.poll_event() {
                let (minted, closed) = self.sessions.entry(session.clone()).or_default();
                assert!(*closed < *minted, "{event:?} from session {session:?} after its Closed (or never opened)");
                match event {
                    ServerEvent::Request { id, .. } => {
                        if let Some(endpoint) = self.server.endpoint(&session) {
                            let _ = endpoint.respond(&id, &json!({"ok": true}));
                        }
                    }
                    ServerEvent::Closed(_) => *closed += 1,
                    _ => {}
                }
            }
            let mut wrote = false;
            while let Some(output) = self.server.poll_output(self.now) {
                wrote = true;
                self.exchanges.output(&output);
            }
            if !wrote {
                return;
            }
        }
    }

    fn op(&mut self, op: u8, arg: u64) {
        let now = self.now;
        match op {
            b'c' => {
                let open = self.exchanges.open();
                if !open.is_empty() {
                    let stream = open[usize::try_from(arg).unwrap_or(0) % open.len()];
                    self.exchanges.closed(stream);
                    self.server.handle_stream_closed(now, stream);
                }
            }
            b's' | b'p' | b'x' | b'z' => {
                let session = session_id(u8::try_from(arg % 10).unwrap_or(1).max(1));
                if let Some(endpoint) = self.server.endpoint(&session) {
                    match op {
                        b's' => {
                            let _ = endpoint.notify(&ServerNotification::ToolListChanged(Default::default()));
                        }
                        b'p' => {
                            let _ = endpoint.request(now, &ServerRequest::Ping(Default::default()), RequestOptions::default());
                        }
                        b'x' => endpoint.close(now),
                        _ => endpoint.abort(),
                    }
                }
            }
            b't' => {
                self.now += Duration::from_secs(if arg == 0 { 16 } else { arg.min(1 << 20) });
                self.server.handle_timeout(self.now);
            }
            _ => {}
        }
        self.pump();
    }
}

fuzz_target!(|data: &[u8]| {
    let capabilities: ServerCapabilities = serde_json::from_value(json!({"tools": {"listChanged": true}})).expect("capabilities");
    let mut config = SseServerConfig::new(ServerConfig::new(Implementation::new("fuzz", "0"), capabilities));
    config.sessions = SessionLimits { max_sessions: 4, idle_timeout: IDLE };
    let mut state = State {
        server: SseServer::new(config, counter_entropy()),
        now: Instant::now(),
        exchanges: Exchanges::default(),
        sessions: HashMap::new(),
    };
    let mut input = Input::new(data);
    while let Some(record) = input.next_record() {
        if tracing() {
            match &record {
                Record::Op { op, arg } => eprintln!("!{}{arg}", char::from(*op)),
                Record::Request { parts, body } => eprintln!("{} {} {:?} {}", parts.method, parts.uri, parts.headers, String::from_utf8_lossy(body)),
            }
        }
        match record {
            Record::Op { op, arg } => state.op(op, arg),
            Record::Request { parts, body } => {
                let now = state.now;
                let get = parts.method == http::Method::GET;
                let stream = if get { state.server.handle_get(now, &parts) } else { state.server.handle_post(now, &parts, &body) };
                state.exchanges.opened(stream);
                // The session exists from the moment the stream starts.
                if let Some(session) = state.server.session_of(stream) {
                    assert!(get, "a POST opened a session");
                    state.sessions.entry(session.clone()).or_default().0 += 1;
                }
                state.pump();
                match state.exchanges.state(stream) {
                    Some(Seen::Ended) => {}
                    Some(Seen::Streaming) if get => {}
                    other => panic!("{} left {stream:?} as {other:?}", parts.method),
                }
                state.now += Duration::from_secs(1);
                state.server.handle_timeout(state.now);
                state.pump();
            }
        }
    }

    // Every session idles out (the server's own messages and keep-alives are no activity),
    // which ends every stream.
    state.now += IDLE + Duration::from_secs(1);
    state.server.handle_timeout(state.now);
    state.pump();
    assert_eq!(state.server.session_count(), 0, "a session outlived its idle timeout");
    assert_eq!(state.exchanges.open(), [], "exchanges outlived their sessions");
    for (session, (minted, closed)) in &state.sessions {
        assert_eq!(minted, closed, "session {session:?} opened {minted} times reported Closed {closed} times");
    }
});
