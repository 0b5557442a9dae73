//! The Streamable HTTP server fed arbitrary requests and application actions.
//!
//! The input is read by `common::Input`: HTTP/1.1 requests (head + body, parsed by the h1
//! codec), each going to `handle_post`, `handle_get` or `handle_delete` by its method, with the
//! placeholders `$S1` … `$S9` standing for the 1st … 9th legacy session id minted (so the
//! fuzzer can reach sessions, their GET streams and `Last-Event-ID` resumption; event ids are
//! plain `<stream>-<seq>` text), and control lines `!<op><n>` for the application and the
//! network:
//!
//! | line | action |
//! |---|---|
//! | `!a<n>` | answer pending request `n` (modulo their count; oldest first) |
//! | `!e<n>` | answer it with an error |
//! | `!n<n>` | a log message of `n` bytes and progress about it (opens an SSE stream if accepted) |
//! | `!d<n>` | `disconnect_request_stream` for it (2025-11-25 SSE polling) |
//! | `!c<n>` | the client closes open exchange `n` (`handle_stream_closed`) |
//! | `!s<k>` | `tools/list_changed` from session `$S<k>` (`k` = 0: the modern endpoint) |
//! | `!p<k>` | a server→client `ping` from session `$S<k>` |
//! | `!x<k>` | the application closes session `$S<k>`'s endpoint (`k` = 0: the modern one) |
//! | `!t<s>` | `s` seconds pass (16 when absent: past the keep-alive interval) |
//!
//! After every request time passes by one second. Requests are answered only by `!a`/`!e`
//! while the input lasts, then all at once. `FUZZ_TRACE=1` prints the conversation.
//!
//! Invariants: no panic; every exchange ends exactly once (one `Respond`, or `StartEvents` …
//! `EndEvents`), nothing is written after its end or after the client closed it, and no output
//! names an exchange that was never handed out; the legacy SSE event ids on each exchange run
//! without a gap (`<exchange>-0` first on a fresh stream, the one after `Last-Event-ID` first
//! on a resumption), so a resumption never silently skips an event. At the end, every pending
//! request is answered and time advances past the idle timeout: every session has ended
//! (`session_count()` is 0) and so has every exchange of a legacy session (the only ones left
//! open carried a modern request: cancelled ones are never answered). The client then closes
//! those, and **`open_streams()` is 0**: no stream outlives both its exchange and its session
//! (a resumable legacy stream without a connection waits for its session, which has expired).
#![no_main]

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::{Exchanges, Input, Record, counter_entropy, session_id, tracing};
use libfuzzer_sys::fuzz_target;
use mcp_proto::engine::{RequestOptions, ServerConfig, ServerEvent};
use mcp_proto::jsonrpc::{ErrorCode, ErrorObject, RequestId};
use mcp_proto::streamable::sessions::SessionLimits;
use mcp_proto::streamable::{
    EndpointRef, EventId, HttpOutput, HttpServer, HttpServerConfig, MemoryEventStore,
    MemoryEventStoreLimits, StreamId,
};
use mcp_proto::types::methods::{ServerNotification, ServerRequest};
use mcp_proto::types::{Implementation, LoggingLevel, ServerCapabilities, Tool};
use serde_json::json;

const IDLE: Duration = Duration::from_secs(120);

fn server() -> HttpServer {
    let capabilities: ServerCapabilities =
        serde_json::from_value(json!({"tools": {"listChanged": true}, "logging": {}})).expect("capabilities");
    let mut config = HttpServerConfig::new(ServerConfig::new(Implementation::new("fuzz", "0"), capabilities));
    // Small bounds, so that full tables, dropped backlogs, evicted events and events too large
    // to keep (a log message of 80 bytes or more) are reachable.
    config.sessions = SessionLimits { max_sessions: 4, idle_timeout: IDLE };
    config.max_backlog = 4;
    let store = MemoryEventStore::new(MemoryEventStoreLimits { events_per_session: 12, bytes_per_session: 160, total_bytes: 320 });
    let mut server = HttpServer::with_event_store(config, counter_entropy(), Box::new(store));
    let tool: Tool = serde_json::from_value(json!({
        "name": "t",
        "inputSchema": {"type": "object", "properties": {"region": {"type": "string", "x-mcp-header": "Region"}}}
    }))
    .expect("tool");
    assert!(server.set_tools(&[tool]).is_empty());
    server
}

struct State {
    server: HttpServer,
    now: Instant,
    exchanges: Exchanges,
    /// Requests the application has not answered, with the endpoint each came from.
    pending: Vec<(EndpointRef, RequestId)>,
    /// The exchange whose request is being handled, and the exchanges that carried a request
    /// of the modern endpoint.
    current: Option<StreamId>,
    modern: HashSet<StreamId>,
    /// The last SSE event id written on each exchange (a resuming GET starts from its
    /// `Last-Event-ID`).
    last_event: HashMap<StreamId, EventId>,
}

impl State {
    /// Takes the application events and checks every output.
    fn pump(&mut self) {
        loop {
            while let Some((origin, event)) = self.server.poll_event() {
                if origin == EndpointRef::Modern
                    && matches!(event, ServerEvent::Request { .. } | ServerEvent::Subscribed { .. })
                    && let Some(stream) = self.current
                {
                    self.modern.insert(stream);
                }
                match event {
                    ServerEvent::Request { id, .. } => self.pending.push((origin, id)),
                    ServerEvent::Cancelled { id } => self.pending.retain(|(o, i)| !(*o == origin && *i == id)),
                    _ => {}
                }
            }
            let mut wrote = false;
            while let Some(output) = self.server.poll_output(self.now) {
                wrote = true;
                self.exchanges.output(&output);
                if let HttpOutput::Events { stream, bytes } = &output {
                    self.check_event_ids(*stream, bytes);
                }
            }
            if !wrote {
                return;
            }
        }
    }

    /// Legacy SSE events are numbered `<stream>-<seq>`: on one exchange, a fresh stream starts
    /// with its priming event `<exchange>-0`, a resumption right after its `Last-Event-ID`, and
    /// every event follows the previous one on the same stream with no gap — a resumption
    /// that cannot replay everything the client missed must be refused, not skip events.
    fn check_event_ids(&mut self, stream: StreamId, bytes: &[u8]) {
        for line in bytes.split(|&b| b == b'\n') {
            let Some(id) = line.strip_prefix(b"id: ") else { continue };
            let id: EventId = std::str::from_utf8(id).ok().and_then(|id| id.parse().ok()).expect("event ids are <stream>-<seq>");
            let expected = match self.last_event.get(&stream) {
                Some(previous) => EventId { stream: previous.stream, seq: previous.seq.wrapping_add(1) },
                None => EventId { stream: stream.0, seq: 0 },
            };
            assert_eq!(id, expected, "event {id} on {stream:?}");
            self.last_event.insert(stream, id);
        }
    }

    fn take_pending(&mut self, n: u64) -> Option<(EndpointRef, RequestId)> {
        let len = self.pending.len();
        (len > 0).then(|| self.pending.remove(usize::try_from(n).unwrap_or(0) % len))
    }

    fn answer(&mut self, n: u64, error: bool) {
        let Some((origin, id)) = self.take_pending(n) else { return };
        if let Some(endpoint) = self.server.endpoint(&origin) {
            let _ = if error {
                endpoint.respond_error(&id, ErrorObject::new(ErrorCode::INTERNAL_ERROR, "fuzz"))
            } else {
                endpoint.respond(&id, &json!({"ok": true}))
            };
        }
    }

    fn session(k: u64) -> EndpointRef {
        match u8::try_from(k % 10).unwrap_or(0) {
            0 => EndpointRef::Modern,
            n => EndpointRef::Session(session_id(n)),
        }
    }

    fn op(&mut self, op: u8, arg: u64) {
        let now = self.now;
        match op {
            b'a' => self.answer(arg, false),
            b'e' => self.answer(arg, true),
            b'n' | b'd' => {
                let len = self.pending.len();
                if len == 0 {
                    return;
                }
                let (origin, id) = self.pending[usize::try_from(arg).unwrap_or(0) % len].clone();
                if op == b'd' {
                    self.server.disconnect_request_stream(now, &origin, &id);
                } else if let Some(endpoint) = self.server.endpoint(&origin) {
                    // `n` is also the size of the message, so that events too large for the
                    // event store are reachable.
                    let text = "w".repeat(usize::try_from(arg.min(8192)).unwrap_or(0));
                    let _ = endpoint.log(&id, LoggingLevel::Info, None, json!(text));
                    let _ = endpoint.progress(&id, 1.0, Some(2.0), None);
                }
            }
            b'c' => {
                let open = self.exchanges.open();
                if !open.is_empty() {
                    let stream = open[usize::try_from(arg).unwrap_or(0) % open.len()];
                    self.exchanges.closed(stream);
                    self.server.handle_stream_closed(now, stream);
                }
            }
            b's' | b'p' | b'x' => {
                let origin = Self::session(arg);
                if let Some(endpoint) = self.server.endpoint(&origin) {
                    match op {
                        b's' => {
                            let _ = endpoint.notify(&ServerNotification::ToolListChanged(Default::default()));
                        }
                        b'p' => {
                            let _ = endpoint.request(now, &ServerRequest::Ping(Default::default()), RequestOptions::default());
                        }
                        _ => endpoint.close(now),
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
    let mut state = State {
        server: server(),
        now: Instant::now(),
        exchanges: Exchanges::default(),
        pending: Vec::new(),
        current: None,
        modern: HashSet::new(),
        last_event: HashMap::new(),
    };
    let mut input = Input::new(data);
    while let Some(record) = input.next_record() {
        if tracing() {
            match &record {
                Record::Op { op, arg } => eprintln!("!{}{arg}", char::from(*op)),
                Record::Request { parts, body } => eprintln!("{} {:?} {}", parts.method, parts.headers, String::from_utf8_lossy(body)),
            }
        }
        match record {
            Record::Op { op, arg } => state.op(op, arg),
            Record::Request { parts, body } => {
                let now = state.now;
                let stream = match parts.method.as_str() {
                    "GET" => {
                        let stream = state.server.handle_get(now, &parts);
                        let resumes = parts.headers.get("last-event-id").and_then(|v| v.to_str().ok()?.parse::<EventId>().ok());
                        if let Some(after) = resumes {
                            state.last_event.insert(stream, after);
                        }
                        stream
                    }
                    "DELETE" => state.server.handle_delete(now, &parts),
                    _ => state.server.handle_post(now, &parts, &body),
                };
                state.exchanges.opened(stream);
                state.current = Some(stream);
                state.pump();
                state.current = None;
                state.now += Duration::from_secs(1);
                state.server.handle_timeout(state.now);
                state.pump();
            }
        }
    }

    // The application answers everything still pending.
    while !state.pending.is_empty() {
        state.answer(0, false);
        state.pump();
    }
    // Every session idles out: each legacy exchange still open ends with it.
    state.now += IDLE + Duration::from_secs(1);
    state.server.handle_timeout(state.now);
    state.pump();
    assert_eq!(state.server.session_count(), 0, "a session outlived its idle timeout");
    // What is left is modern requests the client cancelled (which are never answered) or
    // subscriptions; the client closes them.
    for stream in state.exchanges.open() {
        assert!(state.modern.contains(&stream), "{stream:?} is still open after its session ended");
        if state.exchanges.state(stream) == Some(common::Seen::Ended) {
            continue;
        }
        state.exchanges.closed(stream);
        state.server.handle_stream_closed(state.now, stream);
        state.pump();
    }
    assert_eq!(state.server.open_streams(), 0, "a stream outlived its exchange and its session");
});
