//! [`HttpServer`]: the server side of Streamable HTTP as a Sans-IO state machine, serving both
//! eras on one MCP endpoint.
//!
//! The adapter parses each HTTP request (e.g. with [`crate::h1`]) and calls
//! [`HttpServer::handle_post`], [`HttpServer::handle_get`] or [`HttpServer::handle_delete`],
//! each returning the [`StreamId`] its response belongs to, then drains
//! [`HttpServer::poll_output`]: a whole response ([`HttpOutput::Respond`]), or the head of an
//! SSE stream followed by its events and its end. A client going away before a stream ends is
//! reported with [`HttpServer::handle_stream_closed`].
//!
//! - **Modern (2026-07-28)** requests are served statelessly by one shared
//!   [`ServerEndpoint`], each POST on its own stream. The body an answer gets depends on what
//!   comes first on its stream: the answer alone becomes a JSON response (status from
//!   [`status_for_answer`]); a notification first opens an SSE stream that the answer ends.
//!   Closing the stream cancels the request.
//! - **Legacy (2025-11-25 and older)**: `initialize` without a session creates one — its own
//!   [`ServerEndpoint`] — whose id, minted from the injected entropy, goes back in
//!   `Mcp-Session-Id`. Later requests need that id (400 without, 404 when unknown or expired);
//!   `GET` opens the session's one standalone SSE stream (409 for a second), which carries the
//!   server's own requests and notifications (queued, bounded, until it opens); `DELETE` ends
//!   the session. Closing a legacy stream is not a cancellation: every SSE stream of a session
//!   starts with a priming event (an id, empty data and `retry`), its events are numbered
//!   ([`EventId`]) and kept in an [`EventStore`], and `GET` + `Last-Event-ID` resumes the
//!   stream, replaying what the client missed. [`HttpServer::disconnect_request_stream`] closes
//!   a stream's connection on purpose (2025-11-25 "SSE polling"). A 2025-03-26 batch is
//!   answered as a whole: a JSON array, or one SSE stream carrying every answer.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header::{ACCEPT, ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode, request::Parts};

use super::event_store::{EventId, EventStore, MemoryEventStore};
use super::param_headers::{InvalidAnnotation, ParamHeaderRegistry, check_param_headers};
use super::sessions::{SessionError, SessionLimits, SessionTable};
use super::validate::{
    HttpPolicy, HttpReject, SESSION_ID_HEADER, check_origin_and_host, status_for_answer,
    validate_post,
};
use crate::engine::{
    ListChanged, RequestIdSpace, ServerConfig, ServerEndpoint, ServerEvent, Transmit,
    TransportFailure, TransportScope,
};
use crate::framing::sse::{SseEvent, encode_comment};
use crate::http::{Acceptance, SessionId, parse_accept};
use crate::jsonrpc::{
    self, Decoded, ErrorCode, ErrorObject, ErrorResponse, Message, Request, RequestId,
};
use crate::types::methods::TOOLS_CALL;
use crate::types::tasks::TaskNotificationParams;
use crate::types::{Era, Tool};

/// The default interval between keep-alive comments on an idle SSE stream.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The default number of server messages a legacy session keeps while it has no open stream.
pub const DEFAULT_MAX_BACKLOG: usize = 256;
/// The default reconnection time announced on legacy SSE streams (the `retry` field).
pub const DEFAULT_SSE_RETRY: Duration = Duration::from_secs(1);

/// The header a client resumes an SSE stream with.
const LAST_EVENT_ID: &str = "last-event-id";

/// One HTTP exchange (a request and its response) on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(pub u64);

/// Which MCP server role an event came from, and the one to answer it through.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EndpointRef {
    /// The shared stateless endpoint serving modern requests.
    Modern,
    /// The endpoint of one legacy session.
    Session(SessionId),
}

/// What to write to the client.
#[derive(Debug)]
pub enum HttpOutput {
    /// A complete response: write it and finish the exchange.
    Respond {
        /// The exchange.
        stream: StreamId,
        /// Status, headers and body.
        response: http::Response<Vec<u8>>,
    },
    /// Start an SSE response (status 200 and the SSE headers); events follow.
    StartEvents {
        /// The exchange.
        stream: StreamId,
        /// The head to write.
        head: http::Response<()>,
    },
    /// Bytes of SSE events (or a keep-alive comment) to append to the stream.
    Events {
        /// The exchange.
        stream: StreamId,
        /// Encoded SSE.
        bytes: Vec<u8>,
    },
    /// The SSE stream is complete: finish the response.
    EndEvents {
        /// The exchange.
        stream: StreamId,
    },
}

/// Fills a buffer with cryptographically secure random bytes. The core never reads an OS
/// random source; the adapter injects one (e.g. `getrandom::fill`).
pub type EntropySource = Box<dyn FnMut(&mut [u8]) + Send>;

/// Settings of an [`HttpServer`].
#[derive(Debug, Clone, PartialEq)]
pub struct HttpServerConfig {
    /// The HTTP rules (origins, hosts, body limit, versions).
    pub policy: HttpPolicy,
    /// The MCP server behind the endpoint (one per legacy session, one for modern requests).
    pub server: ServerConfig,
    /// Interval between keep-alive comments on idle SSE streams.
    pub keep_alive: Duration,
    /// Bounds of the legacy session table.
    pub sessions: SessionLimits,
    /// Server messages a legacy session keeps while it has no open stream.
    pub max_backlog: usize,
    /// The reconnection time announced in the priming event of legacy SSE streams.
    pub sse_retry: Duration,
}

impl HttpServerConfig {
    /// The loopback policy and defaults for `server`.
    #[must_use]
    pub fn new(server: ServerConfig) -> Self {
        Self {
            policy: HttpPolicy::loopback(),
            server,
            keep_alive: DEFAULT_KEEP_ALIVE,
            sessions: SessionLimits::default(),
            max_backlog: DEFAULT_MAX_BACKLOG,
            sse_retry: DEFAULT_SSE_RETRY,
        }
    }
}

#[derive(Debug)]
struct LegacySession {
    endpoint: ServerEndpoint,
    /// The session's standalone stream (its opening exchange), attached or awaiting resumption.
    standalone: Option<StreamId>,
    /// Server-initiated messages waiting for a stream (bounded by `max_backlog`).
    backlog: VecDeque<Message>,
    /// Listed in `Activity::unrouted`.
    unrouted: bool,
    /// Listed in `Activity::unpolled`.
    unpolled: bool,
    /// The endpoint's deadline as listed in `Activity::deadlines`.
    deadline: Option<Instant>,
}

impl LegacySession {
    fn new(endpoint: ServerEndpoint) -> Self {
        Self {
            endpoint,
            standalone: None,
            backlog: VecDeque::new(),
            unrouted: false,
            unpolled: false,
            deadline: None,
        }
    }
}

/// Which legacy sessions may have something to do, so that routing, events and timers visit
/// those instead of every session (a server holds thousands, most of them idle).
#[derive(Debug, Default)]
struct Activity {
    /// Sessions whose endpoint was used since `route` last drained it: only these can have
    /// messages to send or a new deadline.
    unrouted: Vec<SessionId>,
    /// Sessions that may have application events, in the order they were used.
    unpolled: VecDeque<SessionId>,
    /// The endpoints' deadlines, as of their last `route`.
    deadlines: BTreeSet<(Instant, SessionId)>,
}

impl Activity {
    /// `session`'s endpoint is about to be used.
    fn touch(&mut self, id: &SessionId, session: &mut LegacySession) {
        if !session.unrouted {
            session.unrouted = true;
            self.unrouted.push(id.clone());
        }
        if !session.unpolled {
            session.unpolled = true;
            self.unpolled.push_back(id.clone());
        }
    }

    /// Lists `session`'s current deadline.
    fn reschedule(&mut self, id: &SessionId, session: &mut LegacySession) {
        let deadline = session.endpoint.poll_timeout();
        if deadline == session.deadline {
            return;
        }
        if let Some(old) = session.deadline {
            self.deadlines.remove(&(old, id.clone()));
        }
        if let Some(new) = deadline {
            self.deadlines.insert((new, id.clone()));
        }
        session.deadline = deadline;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StreamKind {
    /// Answers the requests of one POST.
    Request,
    /// A legacy session's standalone GET stream.
    Standalone,
}

#[derive(Debug, Clone, PartialEq)]
enum StreamState {
    /// Nothing sent yet: waiting for the answers to `remaining`. Answers are `collected` for a
    /// JSON response (an array for a batch) while JSON is acceptable.
    Waiting {
        acceptance: Acceptance,
        collected: Vec<Message>,
    },
    /// An SSE stream is open.
    Events,
}

/// What a message does to the stream it is routed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Keep the answer for a JSON response.
    Collect,
    /// Open the SSE stream, then append.
    Open,
    /// Append to the open SSE stream.
    Append,
}

#[derive(Debug, Clone, PartialEq)]
struct StreamEntry {
    owner: EndpointRef,
    era: Era,
    kind: StreamKind,
    state: StreamState,
    /// The requests whose answers end the stream (one, or a batch's).
    remaining: Vec<RequestId>,
    batch: bool,
    /// Set on the exchange that created a session: its head carries `Mcp-Session-Id`.
    announces: Option<SessionId>,
    /// The exchange carrying the stream now: the opening one, a resuming `GET`, or none while
    /// a legacy stream waits to be resumed.
    carrier: Option<StreamId>,
    /// Legacy SSE streams number their events for resumption; the next sequence number.
    next_seq: Option<u64>,
    last_write: Instant,
}

/// The Streamable HTTP server. See the [module docs](self).
pub struct HttpServer {
    config: HttpServerConfig,
    /// `config.server`, shared by every endpoint.
    server_config: Arc<ServerConfig>,
    entropy: EntropySource,
    event_store: Box<dyn EventStore>,
    modern: ServerEndpoint,
    sessions: SessionTable<LegacySession>,
    activity: Activity,
    /// Streams by the exchange that opened them (which is also their transport scope).
    streams: BTreeMap<StreamId, StreamEntry>,
    /// Resuming exchanges and the stream each carries.
    resumed: HashMap<StreamId, StreamId>,
    outputs: VecDeque<HttpOutput>,
    /// Events of sessions that ended (deleted or expired), still to be reported.
    ended_events: VecDeque<(EndpointRef, ServerEvent)>,
    next_stream: u64,
    dropped_backlog: u64,
    /// The `x-mcp-header` annotations of the served tools, checked on modern `tools/call`.
    param_headers: ParamHeaderRegistry,
}

impl fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServer")
            .field("sessions", &self.sessions.len())
            .field("open_streams", &self.streams.len())
            .field("pending_outputs", &self.outputs.len())
            .finish_non_exhaustive()
    }
}

impl HttpServer {
    /// A server for one MCP endpoint; `entropy` mints legacy session ids. Legacy SSE events are
    /// kept for resumption in a [`MemoryEventStore`] with default bounds.
    #[must_use]
    pub fn new(config: HttpServerConfig, entropy: EntropySource) -> Self {
        Self::with_event_store(config, entropy, Box::new(MemoryEventStore::default()))
    }

    /// A server keeping legacy SSE events for resumption in `event_store`.
    #[must_use]
    pub fn with_event_store(
        config: HttpServerConfig,
        entropy: EntropySource,
        event_store: Box<dyn EventStore>,
    ) -> Self {
        // Legacy sessions share one copy of the configuration.
        let server_config = Arc::new(config.server.clone());
        // Stateless requests come from any number of independent clients, whose ids may
        // coincide.
        let modern = ServerEndpoint::new(ServerConfig {
            request_ids: RequestIdSpace::PerExchange,
            ..config.server.clone()
        });
        let sessions = SessionTable::new(config.sessions);
        Self {
            config,
            server_config,
            entropy,
            event_store,
            modern,
            sessions,
            activity: Activity::default(),
            streams: BTreeMap::new(),
            resumed: HashMap::new(),
            outputs: VecDeque::new(),
            ended_events: VecDeque::new(),
            next_stream: 1,
            dropped_backlog: 0,
            param_headers: ParamHeaderRegistry::default(),
        }
    }

    /// The MCP server role behind `origin`, to answer its events (`respond`, `progress`,
    /// `request`…); `None` once a legacy session has ended. The answers reach the right HTTP
    /// exchange through [`HttpServer::poll_output`].
    pub fn endpoint(&mut self, origin: &EndpointRef) -> Option<&mut ServerEndpoint> {
        match origin {
            EndpointRef::Modern => Some(&mut self.modern),
            EndpointRef::Session(id) => {
                let session = self.sessions.peek_mut(id)?;
                self.activity.touch(id, session);
                Some(&mut session.endpoint)
            }
        }
    }

    /// The next application event and the endpoint it came from.
    pub fn poll_event(&mut self) -> Option<(EndpointRef, ServerEvent)> {
        if let Some(ended) = self.ended_events.pop_front() {
            return Some(ended);
        }
        if let Some(event) = self.modern.poll_event() {
            return Some((EndpointRef::Modern, event));
        }
        while let Some(id) = self.activity.unpolled.front() {
            if let Some(session) = self.sessions.peek_mut(id) {
                if let Some(event) = session.endpoint.poll_event() {
                    return Some((EndpointRef::Session(id.clone()), event));
                }
                session.unpolled = false;
            }
            self.activity.unpolled.pop_front();
        }
        None
    }

    /// Tells every endpoint that a list changed: the modern `subscriptions/listen` streams
    /// that asked for it, and the legacy sessions when the server advertises `listChanged`
    /// (see [`ServerEndpoint::notify_list_changed`]). Returns how many were told; the
    /// notifications go out through [`HttpServer::poll_output`].
    pub fn notify_list_changed(&mut self, list: ListChanged) -> usize {
        let mut told = self.modern.notify_list_changed(list);
        for (id, session) in self.sessions.iter_mut() {
            self.activity.touch(id, session);
            told += session.endpoint.notify_list_changed(list);
        }
        told
    }

    /// Sends `notifications/tasks` for `task` (tasks extension) to the `subscriptions/listen`
    /// streams that listed its id (see [`ServerEndpoint::notify_task`]). Returns how many
    /// were told; the notifications go out through [`HttpServer::poll_output`].
    pub fn notify_task(&mut self, task: &TaskNotificationParams) -> usize {
        let mut told = self.modern.notify_task(task);
        for (id, session) in self.sessions.iter_mut() {
            self.activity.touch(id, session);
            told += session.endpoint.notify_task(task);
        }
        told
    }

    /// Declares the served tools, so that a modern `tools/call` is checked against their
    /// `x-mcp-header` annotations (400 + -32020 when the `Mcp-Param-*` headers disagree with
    /// the arguments). Returns the tools whose annotations are invalid: they are not checked,
    /// and clients will not list them, so fix or drop them.
    pub fn set_tools(&mut self, tools: &[Tool]) -> Vec<InvalidAnnotation> {
        self.param_headers.clear();
        self.param_headers.observe_tools(tools.to_vec()).1
    }

    /// Live legacy sessions.
    #[must_use]
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Server messages dropped because a legacy session's backlog was full.
    #[must_use]
    pub fn dropped_backlog(&self) -> u64 {
        self.dropped_backlog
    }

    /// A POST to the MCP endpoint arrived (head and complete body).
    pub fn handle_post(&mut self, now: Instant, parts: &Parts, body: &[u8]) -> StreamId {
        let stream = self.new_stream();
        let validated = match validate_post(parts, body, &self.config.policy) {
            Ok(validated) => validated,
            Err(reject) => return self.reject(stream, &reject),
        };
        // A batch (2025-03-26 only) is answered as a whole; its invalid elements get their own
        // error answers without spoiling the others.
        let (messages, invalid, batch) = match validated.body {
            Decoded::Single(message) => (vec![message], Vec::new(), false),
            Decoded::Batch(items) => {
                let mut messages = Vec::new();
                let mut invalid = Vec::new();
                for item in items {
                    match item {
                        Ok(message) => messages.push(message),
                        Err(error) => invalid.push(Message::Error(error.error_response())),
                    }
                }
                (messages, invalid, true)
            }
        };
        let requests: Vec<RequestId> = messages
            .iter()
            .filter_map(|m| match m {
                Message::Request(r) => Some(r.id.clone()),
                _ => None,
            })
            .collect();
        let first_id = requests.first().cloned();
        if let (Era::Modern, [Message::Request(request)]) = (validated.era, messages.as_slice())
            && let Err(mut reject) = self.check_param_headers(&parts.headers, request)
        {
            if let Some(error) = &mut reject.error {
                error.id = Some(request.id.clone());
            }
            return self.reject(stream, &reject);
        }
        if batch && let Err(reason) = check_batch(&messages, &requests) {
            return self.refuse(stream, StatusCode::BAD_REQUEST, None, reason);
        }
        let (owner, announces) = match (validated.era, messages.first()) {
            (Era::Modern, _) => (EndpointRef::Modern, None),
            (Era::Legacy, Some(first)) => {
                match self.legacy_owner(now, first, validated.session_id.as_ref()) {
                    Ok(owner) => owner,
                    Err((status, reason)) => {
                        return self.refuse(stream, status, first_id, &reason);
                    }
                }
            }
            // A batch of nothing but invalid elements: their errors are the whole answer.
            (Era::Legacy, None) => {
                let response = json_batch_response(StatusCode::OK, &invalid);
                self.outputs
                    .push_back(HttpOutput::Respond { stream, response });
                return stream;
            }
        };
        let expects_answers = !requests.is_empty();
        // Without requests, nothing is collected: the invalid elements' errors are the answer.
        let mut unanswered = Vec::new();
        if expects_answers {
            let entry = StreamEntry {
                owner: owner.clone(),
                era: validated.era,
                kind: StreamKind::Request,
                state: StreamState::Waiting {
                    acceptance: validated.acceptance,
                    collected: invalid,
                },
                remaining: requests,
                batch,
                announces,
                carrier: Some(stream),
                next_seq: None,
                last_write: now,
            };
            self.streams.insert(stream, entry);
        } else {
            unanswered = invalid;
        }
        let scope = TransportScope(stream.0);
        let Some(endpoint) = self.endpoint(&owner) else {
            // The session was looked up just above, so this does not happen; if it ever did,
            // the exchange must still end rather than wait forever.
            self.streams.remove(&stream);
            return self.refuse(stream, StatusCode::NOT_FOUND, first_id, "the session ended");
        };
        for message in messages {
            endpoint.handle_message(now, scope, message);
        }
        if !expects_answers {
            let response = if unanswered.is_empty() {
                status_only(StatusCode::ACCEPTED)
            } else {
                json_batch_response(StatusCode::OK, &unanswered)
            };
            self.outputs
                .push_back(HttpOutput::Respond { stream, response });
        }
        self.route(now);
        stream
    }

    /// A GET to the MCP endpoint: a legacy session's standalone SSE stream, or with
    /// `Last-Event-ID` the resumption of any SSE stream of that session.
    pub fn handle_get(&mut self, now: Instant, parts: &Parts) -> StreamId {
        let stream = self.new_stream();
        if let Err(reject) = check_origin_and_host(&parts.headers, &self.config.policy) {
            return self.reject(stream, &reject);
        }
        let acceptance = parse_accept(
            parts
                .headers
                .get_all(ACCEPT)
                .iter()
                .map(HeaderValue::as_bytes),
        )
        .unwrap_or(Acceptance::ANY);
        if !acceptance.accepts_event_stream() {
            return self.refuse(
                stream,
                StatusCode::NOT_ACCEPTABLE,
                None,
                "a GET stream is text/event-stream",
            );
        }
        let id = match session_header(&parts.headers) {
            Ok(Some(id)) => id,
            // Without a session there is no standalone stream (and nothing to resume): modern
            // servers answer 405 and ignore `Last-Event-ID`.
            Ok(None) => return self.method_not_allowed(stream),
            Err(reject) => return self.reject(stream, &reject),
        };
        let resume_from = match parts.headers.get(LAST_EVENT_ID) {
            None => None,
            Some(value) => match value.to_str().ok().map(str::parse::<EventId>) {
                Some(Ok(event)) => Some(event),
                _ => {
                    return self.refuse(
                        stream,
                        StatusCode::BAD_REQUEST,
                        None,
                        "Last-Event-ID is not an event id of this server",
                    );
                }
            },
        };
        if let Err(error) = self.sessions.get_mut(now, Some(&id)) {
            self.reap();
            return self.session_error(stream, &error, None);
        }
        match resume_from {
            Some(event) => self.resume(now, stream, id, event),
            None => self.open_standalone(now, stream, id),
        }
        self.reap();
        stream
    }

    /// A DELETE to the MCP endpoint: ends a legacy session.
    pub fn handle_delete(&mut self, now: Instant, parts: &Parts) -> StreamId {
        let stream = self.new_stream();
        if let Err(reject) = check_origin_and_host(&parts.headers, &self.config.policy) {
            return self.reject(stream, &reject);
        }
        let id = match session_header(&parts.headers) {
            Ok(Some(id)) => id,
            Ok(None) => return self.method_not_allowed(stream),
            Err(reject) => return self.reject(stream, &reject),
        };
        // An idle session is gone before it can be deleted: 404, like any unknown id.
        self.sessions.handle_timeout(now);
        self.reap();
        match self.sessions.remove(&id) {
            Ok(session) => {
                self.end_session(id, session);
                self.outputs.push_back(HttpOutput::Respond {
                    stream,
                    response: status_only(StatusCode::OK),
                });
            }
            Err(error) => {
                self.session_error(stream, &error, None);
            }
        }
        stream
    }

    /// The client closed `exchange` before its response ended. On the modern transport that
    /// cancels its request. A legacy SSE stream is not cancelled: it waits for the client to
    /// resume it with `GET` + `Last-Event-ID`, its events kept for replay.
    pub fn handle_stream_closed(&mut self, now: Instant, exchange: StreamId) {
        let origin = self.resumed.remove(&exchange).unwrap_or(exchange);
        let Some(entry) = self.streams.get_mut(&origin) else {
            return;
        };
        if entry.carrier != Some(exchange) {
            // An exchange another one already took over from.
            return;
        }
        entry.carrier = None;
        let resumable = entry.state == StreamState::Events && entry.next_seq.is_some();
        if !resumable {
            let owner = entry.owner.clone();
            self.streams.remove(&origin);
            if owner == EndpointRef::Modern {
                self.modern.handle_transport_closed(
                    now,
                    TransportScope(origin.0),
                    TransportFailure::StreamClosed,
                );
            }
        }
        self.route(now);
    }

    /// Closes the connection of the legacy SSE stream answering request `id` of `owner` without
    /// ending the stream (2025-11-25 "SSE polling"): the client reconnects after the `retry`
    /// interval with `GET` + `Last-Event-ID`, and gets what it missed, the answer included. A
    /// request still waiting for its first message gets its SSE stream (and priming event)
    /// first. Returns `false` when there is no such stream, or it cannot be resumed (modern
    /// streams, or a client that does not accept SSE).
    pub fn disconnect_request_stream(
        &mut self,
        now: Instant,
        owner: &EndpointRef,
        id: &RequestId,
    ) -> bool {
        self.route(now);
        let found = self.streams.iter().find_map(|(origin, entry)| {
            (entry.owner == *owner
                && entry.era == Era::Legacy
                && entry.kind == StreamKind::Request
                && entry.remaining.contains(id))
            .then_some(*origin)
        });
        let Some(origin) = found else {
            return false;
        };
        let Some(entry) = self.streams.get(&origin) else {
            return false;
        };
        if let StreamState::Waiting { acceptance, .. } = &entry.state {
            if !acceptance.accepts_event_stream() {
                return false;
            }
            self.start_events(now, origin);
        }
        let Some(entry) = self.streams.get_mut(&origin) else {
            return false;
        };
        if let Some(carrier) = entry.carrier.take() {
            self.resumed.remove(&carrier);
            self.outputs
                .push_back(HttpOutput::EndEvents { stream: carrier });
        }
        true
    }

    /// Time passed: request deadlines, idle sessions, keep-alive comments.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Deadlines of endpoints used since the last routing are listed first.
        self.route(now);
        self.modern.handle_timeout(now);
        while let Some((deadline, id)) = self.activity.deadlines.first().cloned() {
            if deadline > now {
                break;
            }
            self.activity.deadlines.remove(&(deadline, id.clone()));
            if let Some(session) = self.sessions.peek_mut(&id) {
                session.deadline = None;
                session.endpoint.handle_timeout(now);
                self.activity.touch(&id, session);
            }
        }
        self.sessions.handle_timeout(now);
        self.reap();
        self.route(now);
        let keep_alive = self.config.keep_alive;
        for entry in self.streams.values_mut() {
            if let (StreamState::Events, Some(carrier)) = (&entry.state, entry.carrier)
                && now.saturating_duration_since(entry.last_write) >= keep_alive
            {
                let mut bytes = Vec::new();
                if encode_comment("keep-alive", &mut bytes).is_ok() {
                    self.outputs.push_back(HttpOutput::Events {
                        stream: carrier,
                        bytes,
                    });
                }
                entry.last_write = now;
            }
        }
    }

    /// The next thing to write. Call after every `handle_*` and after answering through
    /// [`HttpServer::endpoint`] (answers may open streams, so pass the current time).
    pub fn poll_output(&mut self, now: Instant) -> Option<HttpOutput> {
        self.route(now);
        self.outputs.pop_front()
    }

    /// When to call [`HttpServer::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let keep_alive = self.streams.values().filter_map(|entry| {
            (entry.state == StreamState::Events && entry.carrier.is_some())
                .then(|| entry.last_write.checked_add(self.config.keep_alive))
                .flatten()
        });
        // Sessions used since the last routing may have deadlines not listed yet.
        let unlisted = self.activity.unrouted.iter().filter_map(|id| {
            self.sessions
                .peek(id)
                .and_then(|session| session.endpoint.poll_timeout())
        });
        let listed = self.activity.deadlines.first().map(|(at, _)| *at);
        keep_alive
            .chain(self.modern.poll_timeout())
            .chain(listed)
            .chain(unlisted)
            .chain(self.sessions.poll_timeout())
            .min()
    }

    /// Exchanges still open, and legacy streams waiting to be resumed.
    #[must_use]
    pub fn open_streams(&self) -> usize {
        self.streams.len()
    }

    /// The `Mcp-Param-*` headers of a modern `tools/call` against the tool's annotations.
    fn check_param_headers(
        &self,
        headers: &HeaderMap,
        request: &Request,
    ) -> Result<(), HttpReject> {
        if request.method != TOOLS_CALL || self.param_headers.is_empty() {
            return Ok(());
        }
        let Some(params) = request
            .params
            .as_ref()
            .and_then(|p| p.parse::<serde_json::Value>().ok())
        else {
            return Ok(());
        };
        let Some(tool) = params
            .get("name")
            .and_then(serde_json::Value::as_str)
            .and_then(|name| self.param_headers.get(name))
        else {
            return Ok(());
        };
        check_param_headers(
            headers,
            tool,
            params
                .get("arguments")
                .and_then(serde_json::Value::as_object),
        )
    }

    fn new_stream(&mut self) -> StreamId {
        let stream = StreamId(self.next_stream);
        self.next_stream = self.next_stream.saturating_add(1);
        stream
    }

    /// Opens `session`'s standalone stream on `stream`, replacing one that awaits resumption
    /// (a `GET` without `Last-Event-ID` starts afresh), and flushes the backlog onto it.
    fn open_standalone(&mut self, now: Instant, stream: StreamId, session: SessionId) {
        let previous = self.sessions.peek_mut(&session).and_then(|s| s.standalone);
        if let Some(previous) = previous {
            let connected = self
                .streams
                .get(&previous)
                .is_some_and(|entry| entry.carrier.is_some());
            if connected {
                self.refuse(
                    stream,
                    StatusCode::CONFLICT,
                    None,
                    "this session already has a GET stream",
                );
                return;
            }
            self.streams.remove(&previous);
        }
        let entry = StreamEntry {
            owner: EndpointRef::Session(session.clone()),
            era: Era::Legacy,
            kind: StreamKind::Standalone,
            state: StreamState::Waiting {
                acceptance: Acceptance::ANY,
                collected: Vec::new(),
            },
            remaining: Vec::new(),
            batch: false,
            announces: None,
            carrier: Some(stream),
            next_seq: None,
            last_write: now,
        };
        self.streams.insert(stream, entry);
        self.start_events(now, stream);
        self.flush_backlog(now, session, stream);
    }

    /// Attaches `stream` to the stream `after` belongs to, replaying what followed `after`.
    fn resume(&mut self, now: Instant, stream: StreamId, session: SessionId, after: EventId) {
        let Some(replay) = self.event_store.replay(&session, after) else {
            self.refuse(
                stream,
                StatusCode::BAD_REQUEST,
                None,
                "the events after Last-Event-ID are no longer available",
            );
            return;
        };
        let origin = StreamId(after.stream);
        let owner = EndpointRef::Session(session.clone());
        self.outputs.push_back(HttpOutput::StartEvents {
            stream,
            head: event_stream_head(None),
        });
        for event in &replay {
            if !event.data.is_empty() {
                let sse = SseEvent::new(event.data.clone()).with_id(event.id.to_string());
                self.write_event(stream, &sse);
            }
        }
        let live = self
            .streams
            .get_mut(&origin)
            .filter(|entry| entry.owner == owner && entry.next_seq.is_some());
        let Some(entry) = live else {
            // The stream already ended (its answer is in the replay): nothing more will come.
            self.outputs.push_back(HttpOutput::EndEvents { stream });
            return;
        };
        // A connection the client gave up on without the server noticing is superseded.
        if let Some(previous) = entry.carrier.replace(stream) {
            self.resumed.remove(&previous);
            self.outputs
                .push_back(HttpOutput::EndEvents { stream: previous });
        }
        entry.last_write = now;
        if origin != stream {
            self.resumed.insert(stream, origin);
        }
        if entry.kind == StreamKind::Standalone {
            self.flush_backlog(now, session, origin);
        }
    }

    fn flush_backlog(&mut self, now: Instant, session: SessionId, origin: StreamId) {
        let backlog: Vec<Message> = self
            .sessions
            .peek_mut(&session)
            .map(|s| {
                s.standalone = Some(origin);
                s.backlog.drain(..).collect()
            })
            .unwrap_or_default();
        for message in &backlog {
            self.push_event(now, origin, message);
        }
    }

    /// The endpoint a legacy message belongs to: a new session for `initialize`, else the
    /// session its header names.
    fn legacy_owner(
        &mut self,
        now: Instant,
        message: &Message,
        session: Option<&SessionId>,
    ) -> Result<(EndpointRef, Option<SessionId>), (StatusCode, String)> {
        let is_initialize = matches!(message, Message::Request(r) if r.method == "initialize");
        if is_initialize {
            if session.is_some() {
                return Err((
                    StatusCode::BAD_REQUEST,
                    "initialize starts a session; it must not carry Mcp-Session-Id".into(),
                ));
            }
            let mut entropy = [0u8; 16];
            (self.entropy)(&mut entropy);
            let state = LegacySession::new(ServerEndpoint::with_shared_config(Arc::clone(
                &self.server_config,
            )));
            let id = self
                .sessions
                .create(now, &entropy, state)
                .map_err(|e| (e.status(), e.to_string()))?;
            self.reap();
            return Ok((EndpointRef::Session(id.clone()), Some(id)));
        }
        let Some(id) = session else {
            return Err((
                SessionError::Missing.status(),
                SessionError::Missing.to_string(),
            ));
        };
        let result = self
            .sessions
            .get_mut(now, Some(id))
            .map(|_| ())
            .map_err(|e| (e.status(), e.to_string()));
        self.reap();
        result?;
        Ok((EndpointRef::Session(id.clone()), None))
    }

    /// Closes sessions that expired, keeping their last events for the application.
    fn reap(&mut self) {
        while let Some((id, session)) = self.sessions.poll_expired() {
            self.end_session(id, session);
        }
    }

    fn end_session(&mut self, id: SessionId, mut session: LegacySession) {
        if let Some(deadline) = session.deadline {
            self.activity.deadlines.remove(&(deadline, id.clone()));
        }
        session.endpoint.abort();
        while let Some(event) = session.endpoint.poll_event() {
            self.ended_events
                .push_back((EndpointRef::Session(id.clone()), event));
        }
        self.event_store.end_session(&id);
        let owner = EndpointRef::Session(id);
        let owned: Vec<StreamId> = self
            .streams
            .iter()
            .filter(|(_, entry)| entry.owner == owner)
            .map(|(stream, _)| *stream)
            .collect();
        for origin in owned {
            let Some(entry) = self.streams.remove(&origin) else {
                continue;
            };
            let Some(carrier) = entry.carrier else {
                continue;
            };
            self.resumed.remove(&carrier);
            match entry.state {
                StreamState::Events => self
                    .outputs
                    .push_back(HttpOutput::EndEvents { stream: carrier }),
                StreamState::Waiting { .. } => {
                    let response = HttpReject {
                        status: StatusCode::NOT_FOUND,
                        error: Some(ErrorResponse {
                            id: None,
                            error: ErrorObject::new(
                                ErrorCode::INVALID_REQUEST,
                                "the session ended",
                            ),
                        }),
                    }
                    .to_response();
                    self.outputs.push_back(HttpOutput::Respond {
                        stream: carrier,
                        response,
                    });
                }
            }
        }
    }

    /// Moves every endpoint's messages onto their exchanges.
    fn route(&mut self, now: Instant) {
        while let Some(transmit) = self.modern.poll_transmit() {
            self.route_transmit(now, None, transmit);
        }
        if self.activity.unrouted.is_empty() {
            return;
        }
        let mut unrouted = std::mem::take(&mut self.activity.unrouted);
        for id in &unrouted {
            while let Some(transmit) = self
                .sessions
                .peek_mut(id)
                .and_then(|session| session.endpoint.poll_transmit())
            {
                self.route_transmit(now, Some(id), transmit);
            }
            if let Some(session) = self.sessions.peek_mut(id) {
                session.unrouted = false;
                self.activity.reschedule(id, session);
            }
        }
        // Keep the list's allocation unless routing listed a session meanwhile.
        unrouted.clear();
        if self.activity.unrouted.is_empty() {
            self.activity.unrouted = unrouted;
        }
    }

    /// Moves one message of the modern endpoint (`session` `None`) or of a legacy session.
    fn route_transmit(&mut self, now: Instant, session: Option<&SessionId>, transmit: Transmit) {
        let Transmit::Send { scope, message } = transmit else {
            return;
        };
        if scope == TransportScope::CONNECTION {
            self.route_unscoped(now, session, message);
        } else {
            self.route_to_stream(now, StreamId(scope.0), message);
        }
    }

    /// A message for no particular exchange: a legacy session's standalone stream (or its
    /// backlog while none is connected); the modern transport has no such stream, so it is
    /// dropped there.
    fn route_unscoped(&mut self, now: Instant, session: Option<&SessionId>, message: Message) {
        let Some(id) = session else {
            return;
        };
        let Some(session) = self.sessions.peek_mut(id) else {
            return;
        };
        let connected = session.standalone.filter(|origin| {
            self.streams
                .get(origin)
                .is_some_and(|e| e.carrier.is_some())
        });
        match connected {
            Some(origin) => self.push_event(now, origin, &message),
            None if session.backlog.len() < self.config.max_backlog => {
                session.backlog.push_back(message);
            }
            None => self.dropped_backlog += 1,
        }
    }

    fn route_to_stream(&mut self, now: Instant, origin: StreamId, message: Message) {
        // Nothing waits on a stream the client closed: the message is dropped.
        let Some(entry) = self.streams.get_mut(&origin) else {
            return;
        };
        let answered = match &message {
            Message::Response(r) => Some(&r.id),
            Message::Error(e) => e.id.as_ref(),
            Message::Request(_) | Message::Notification(_) => None,
        };
        let is_answer = matches!(message, Message::Response(_) | Message::Error(_));
        if let Some(id) = answered {
            entry.remaining.retain(|r| r != id);
        }
        // One request per exchange unless it is a batch: its answer ends the stream whatever
        // its id says.
        let complete = is_answer && (!entry.batch || entry.remaining.is_empty());
        let ends_with_answer = entry.kind == StreamKind::Request;
        let step = match &entry.state {
            StreamState::Waiting { acceptance, .. }
                if is_answer
                    && (acceptance.accepts_json() || !acceptance.accepts_event_stream()) =>
            {
                Step::Collect
            }
            StreamState::Waiting { acceptance, .. } if acceptance.accepts_event_stream() => {
                Step::Open
            }
            // JSON-only clients cannot receive notifications before the answer: dropped.
            StreamState::Waiting { .. } => return,
            StreamState::Events => Step::Append,
        };
        match step {
            Step::Collect => {
                if let StreamState::Waiting { collected, .. } = &mut entry.state {
                    collected.push(message);
                }
                if complete {
                    self.respond_json(origin);
                }
            }
            Step::Open | Step::Append => {
                if step == Step::Open {
                    self.start_events(now, origin);
                }
                self.push_event(now, origin, &message);
                if complete && ends_with_answer {
                    self.end(origin);
                }
            }
        }
    }

    /// Answers a waiting exchange with the answers it collected.
    fn respond_json(&mut self, origin: StreamId) {
        let Some(entry) = self.streams.remove(&origin) else {
            return;
        };
        let StreamState::Waiting { collected, .. } = entry.state else {
            return;
        };
        let mut response = match (entry.batch, collected.as_slice()) {
            (false, [answer]) => json_response(status_for_answer(entry.era, answer), answer),
            _ => json_batch_response(StatusCode::OK, &collected),
        };
        announce(response.headers_mut(), entry.announces.as_ref());
        if let Some(carrier) = entry.carrier {
            self.resumed.remove(&carrier);
            self.outputs.push_back(HttpOutput::Respond {
                stream: carrier,
                response,
            });
        }
    }

    /// Turns a waiting exchange into an SSE stream: the head, and on a legacy session the
    /// priming event (an id and empty data) with the reconnection time, so the client can
    /// resume from the start. Answers collected so far go first.
    fn start_events(&mut self, now: Instant, origin: StreamId) {
        let Some(entry) = self.streams.get_mut(&origin) else {
            return;
        };
        let StreamState::Waiting { collected, .. } =
            std::mem::replace(&mut entry.state, StreamState::Events)
        else {
            return;
        };
        entry.last_write = now;
        let carrier = entry.carrier;
        let legacy_session = match &entry.owner {
            EndpointRef::Session(id) => {
                entry.next_seq = Some(1);
                Some(id.clone())
            }
            EndpointRef::Modern => None,
        };
        if let Some(carrier) = carrier {
            self.outputs.push_back(HttpOutput::StartEvents {
                stream: carrier,
                head: event_stream_head(entry.announces.as_ref()),
            });
        }
        if let Some(session) = legacy_session {
            let priming = EventId {
                stream: origin.0,
                seq: 0,
            };
            self.event_store.append(&session, priming, "");
            let retry = u64::try_from(self.config.sse_retry.as_millis()).unwrap_or(u64::MAX);
            let event = SseEvent::new("")
                .with_id(priming.to_string())
                .with_retry(retry);
            if let Some(carrier) = carrier {
                self.write_event(carrier, &event);
            }
        }
        for message in &collected {
            self.push_event(now, origin, message);
        }
    }

    /// Appends `message` to stream `origin`: numbered and kept for replay on a legacy
    /// session, written to the exchange carrying the stream if one does.
    fn push_event(&mut self, now: Instant, origin: StreamId, message: &Message) {
        let Some(entry) = self.streams.get_mut(&origin) else {
            return;
        };
        let data = String::from_utf8_lossy(&jsonrpc::encode(message)).into_owned();
        let mut event = SseEvent::new(data);
        if let (Some(seq), EndpointRef::Session(session)) = (entry.next_seq.as_mut(), &entry.owner)
        {
            let id = EventId {
                stream: origin.0,
                seq: *seq,
            };
            *seq = seq.saturating_add(1);
            self.event_store.append(session, id, &event.data);
            event = event.with_id(id.to_string());
        }
        let carrier = entry.carrier;
        if carrier.is_some() {
            entry.last_write = now;
        }
        if let Some(carrier) = carrier {
            self.write_event(carrier, &event);
        }
    }

    fn write_event(&mut self, carrier: StreamId, event: &SseEvent) {
        let mut bytes = Vec::new();
        if event.encode(&mut bytes).is_ok() {
            self.outputs.push_back(HttpOutput::Events {
                stream: carrier,
                bytes,
            });
        }
    }

    /// The stream is complete (its answers are written or kept for replay).
    fn end(&mut self, origin: StreamId) {
        if let Some(carrier) = self.streams.remove(&origin).and_then(|e| e.carrier) {
            self.resumed.remove(&carrier);
            self.outputs
                .push_back(HttpOutput::EndEvents { stream: carrier });
        }
    }

    fn reject(&mut self, stream: StreamId, reject: &HttpReject) -> StreamId {
        self.outputs.push_back(HttpOutput::Respond {
            stream,
            response: reject.to_response(),
        });
        stream
    }

    fn refuse(
        &mut self,
        stream: StreamId,
        status: StatusCode,
        id: Option<RequestId>,
        reason: &str,
    ) -> StreamId {
        let reject = HttpReject {
            status,
            error: Some(ErrorResponse {
                id,
                error: ErrorObject::new(ErrorCode::INVALID_REQUEST, reason),
            }),
        };
        self.reject(stream, &reject)
    }

    fn session_error(
        &mut self,
        stream: StreamId,
        error: &SessionError,
        id: Option<RequestId>,
    ) -> StreamId {
        self.refuse(stream, error.status(), id, &error.to_string())
    }

    fn method_not_allowed(&mut self, stream: StreamId) -> StreamId {
        let mut response = status_only(StatusCode::METHOD_NOT_ALLOWED);
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        self.outputs
            .push_back(HttpOutput::Respond { stream, response });
        stream
    }
}

/// The 2025-03-26 rules for a batch beyond its elements' own validity: `initialize` travels
/// alone, and request ids are distinct (each answer must find its request).
fn check_batch(messages: &[Message], requests: &[RequestId]) -> Result<(), &'static str> {
    if messages
        .iter()
        .any(|m| matches!(m, Message::Request(r) if r.method == "initialize"))
    {
        return Err("initialize must not be part of a JSON-RPC batch");
    }
    let distinct: HashSet<&RequestId> = requests.iter().collect();
    if distinct.len() != requests.len() {
        return Err("the requests of a batch need distinct ids");
    }
    Ok(())
}

/// The `Mcp-Session-Id` of a request, validated.
fn session_header(headers: &HeaderMap) -> Result<Option<SessionId>, HttpReject> {
    let Some(value) = headers.get(SESSION_ID_HEADER) else {
        return Ok(None);
    };
    SessionId::parse(value.as_bytes())
        .map(Some)
        .map_err(|e| HttpReject {
            status: StatusCode::BAD_REQUEST,
            error: Some(ErrorResponse {
                id: None,
                error: ErrorObject::new(
                    ErrorCode::INVALID_REQUEST,
                    format!("invalid Mcp-Session-Id: {e}"),
                ),
            }),
        })
}

fn announce(headers: &mut HeaderMap, session: Option<&SessionId>) {
    if let Some(value) = session.and_then(|id| HeaderValue::from_str(id.as_str()).ok()) {
        headers.insert(SESSION_ID_HEADER, value);
    }
}

pub(crate) fn status_only(status: StatusCode) -> http::Response<Vec<u8>> {
    let mut response = http::Response::new(Vec::new());
    *response.status_mut() = status;
    response
}

fn json_response(status: StatusCode, message: &Message) -> http::Response<Vec<u8>> {
    let mut response = http::Response::new(jsonrpc::encode(message));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn json_batch_response(status: StatusCode, answers: &[Message]) -> http::Response<Vec<u8>> {
    let mut body = Vec::new();
    jsonrpc::encode_batch_into(answers, &mut body);
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The head of an SSE response, with the headers that stop proxies from buffering it.
pub(crate) fn event_stream_head(session: Option<&SessionId>) -> http::Response<()> {
    let mut head = http::Response::new(());
    let headers = head.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    announce(headers, session);
    head
}
