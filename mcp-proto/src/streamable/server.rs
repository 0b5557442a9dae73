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
//!   the session. Closing a legacy stream is not a cancellation.
//!
//! Not yet served: 2025-03-26 batches and SSE resumption (`Last-Event-ID`): both get 400.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use http::header::{ACCEPT, ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode, request::Parts};

use super::sessions::{SessionError, SessionLimits, SessionTable};
use super::validate::{
    HttpPolicy, HttpReject, SESSION_ID_HEADER, check_origin_and_host, status_for_answer,
    validate_post,
};
use crate::engine::{
    ServerConfig, ServerEndpoint, ServerEvent, Transmit, TransportFailure, TransportScope,
};
use crate::framing::sse::{SseEvent, encode_comment};
use crate::http::{Acceptance, SessionId, parse_accept};
use crate::jsonrpc::{self, Decoded, ErrorCode, ErrorObject, ErrorResponse, Message, RequestId};
use crate::types::Era;

/// The default interval between keep-alive comments on an idle SSE stream.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The default number of server messages a legacy session keeps while it has no open stream.
pub const DEFAULT_MAX_BACKLOG: usize = 256;

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
        }
    }
}

#[derive(Debug)]
struct LegacySession {
    endpoint: ServerEndpoint,
    get_stream: Option<StreamId>,
    /// Server-initiated messages waiting for a stream (bounded by `max_backlog`).
    backlog: VecDeque<Message>,
}

#[derive(Debug, Clone, PartialEq)]
enum StreamState {
    /// Waiting for the first message of the answer to request `id`.
    Waiting {
        id: RequestId,
        acceptance: Acceptance,
    },
    /// An SSE stream is open; `answers` is the request it ends with (`None` for a GET stream).
    Events {
        answers: Option<RequestId>,
        last_write: Instant,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct StreamEntry {
    owner: EndpointRef,
    era: Era,
    state: StreamState,
    /// Set on the exchange that created a session: its head carries `Mcp-Session-Id`.
    announces: Option<SessionId>,
}

/// The Streamable HTTP server. See the [module docs](self).
pub struct HttpServer {
    config: HttpServerConfig,
    entropy: EntropySource,
    modern: ServerEndpoint,
    sessions: SessionTable<LegacySession>,
    streams: BTreeMap<StreamId, StreamEntry>,
    outputs: VecDeque<HttpOutput>,
    /// Events of sessions that ended (deleted or expired), still to be reported.
    ended_events: VecDeque<(EndpointRef, ServerEvent)>,
    next_stream: u64,
    dropped_backlog: u64,
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
    /// A server for one MCP endpoint; `entropy` mints legacy session ids.
    #[must_use]
    pub fn new(config: HttpServerConfig, entropy: EntropySource) -> Self {
        let modern = ServerEndpoint::new(config.server.clone());
        let sessions = SessionTable::new(config.sessions);
        Self {
            config,
            entropy,
            modern,
            sessions,
            streams: BTreeMap::new(),
            outputs: VecDeque::new(),
            ended_events: VecDeque::new(),
            next_stream: 1,
            dropped_backlog: 0,
        }
    }

    /// The MCP server role behind `origin`, to answer its events (`respond`, `progress`,
    /// `request`…); `None` once a legacy session has ended. The answers reach the right HTTP
    /// exchange through [`HttpServer::poll_output`].
    pub fn endpoint(&mut self, origin: &EndpointRef) -> Option<&mut ServerEndpoint> {
        match origin {
            EndpointRef::Modern => Some(&mut self.modern),
            EndpointRef::Session(id) => self.sessions.peek_mut(id).map(|s| &mut s.endpoint),
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
        self.sessions.iter_mut().find_map(|(id, session)| {
            session
                .endpoint
                .poll_event()
                .map(|e| (EndpointRef::Session(id.clone()), e))
        })
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
        let Decoded::Single(message) = validated.body else {
            return self.refuse(
                stream,
                StatusCode::BAD_REQUEST,
                None,
                "JSON-RPC batches are not served by this endpoint",
            );
        };
        let (owner, announces) = match validated.era {
            Era::Modern => (EndpointRef::Modern, None),
            Era::Legacy => match self.legacy_owner(now, &message, validated.session_id.as_ref()) {
                Ok(owner) => owner,
                Err((status, reason)) => {
                    return self.refuse(stream, status, message.id().cloned(), &reason);
                }
            },
        };
        let scope = TransportScope(stream.0);
        let expects_answer = matches!(message, Message::Request(_));
        if let Message::Request(request) = &message {
            let state = StreamState::Waiting {
                id: request.id.clone(),
                acceptance: validated.acceptance,
            };
            self.streams.insert(
                stream,
                StreamEntry {
                    owner: owner.clone(),
                    era: validated.era,
                    state,
                    announces,
                },
            );
        }
        let id = message.id().cloned();
        let Some(endpoint) = self.endpoint(&owner) else {
            // The session was looked up just above, so this does not happen; if it ever did,
            // the exchange must still end rather than wait forever.
            self.streams.remove(&stream);
            return self.refuse(stream, StatusCode::NOT_FOUND, id, "the session ended");
        };
        endpoint.handle_message(now, scope, message);
        if !expects_answer {
            self.outputs.push_back(HttpOutput::Respond {
                stream,
                response: status_only(StatusCode::ACCEPTED),
            });
        }
        self.route(now);
        stream
    }

    /// A GET to the MCP endpoint: a legacy session's standalone SSE stream.
    pub fn handle_get(&mut self, now: Instant, parts: &Parts) -> StreamId {
        let stream = self.new_stream();
        if let Err(reject) = check_origin_and_host(&parts.headers, &self.config.policy) {
            return self.reject(stream, &reject);
        }
        if parts.headers.contains_key("last-event-id") {
            return self.refuse(
                stream,
                StatusCode::BAD_REQUEST,
                None,
                "stream resumption is not supported",
            );
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
            // Without a session there is no standalone stream: modern servers answer 405.
            Ok(None) => return self.method_not_allowed(stream),
            Err(reject) => return self.reject(stream, &reject),
        };
        let session = match self.sessions.get_mut(now, Some(&id)) {
            Ok(session) => session,
            Err(error) => return self.session_error(stream, &error, None),
        };
        if session.get_stream.is_some() {
            return self.refuse(
                stream,
                StatusCode::CONFLICT,
                None,
                "this session already has a GET stream",
            );
        }
        session.get_stream = Some(stream);
        let backlog: Vec<Message> = session.backlog.drain(..).collect();
        let state = StreamState::Events {
            answers: None,
            last_write: now,
        };
        self.streams.insert(
            stream,
            StreamEntry {
                owner: EndpointRef::Session(id),
                era: Era::Legacy,
                state,
                announces: None,
            },
        );
        self.outputs.push_back(HttpOutput::StartEvents {
            stream,
            head: event_stream_head(None),
        });
        for message in &backlog {
            self.push_event(stream, message);
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

    /// The client closed `stream` before it ended. On the modern transport that cancels its
    /// request; a legacy stream closing is not a cancellation (its answer is dropped).
    pub fn handle_stream_closed(&mut self, now: Instant, stream: StreamId) {
        let Some(entry) = self.streams.remove(&stream) else {
            return;
        };
        match entry.owner {
            EndpointRef::Modern => {
                self.modern.handle_transport_closed(
                    now,
                    TransportScope(stream.0),
                    TransportFailure::StreamClosed,
                );
            }
            EndpointRef::Session(id) => {
                if let Some(session) = self.sessions.peek_mut(&id)
                    && session.get_stream == Some(stream)
                {
                    session.get_stream = None;
                }
            }
        }
        self.route(now);
    }

    /// Time passed: request deadlines, idle sessions, keep-alive comments.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.modern.handle_timeout(now);
        for (_, session) in self.sessions.iter_mut() {
            session.endpoint.handle_timeout(now);
        }
        self.sessions.handle_timeout(now);
        self.reap();
        self.route(now);
        let keep_alive = self.config.keep_alive;
        for (stream, entry) in &mut self.streams {
            if let StreamState::Events { last_write, .. } = &mut entry.state
                && now.saturating_duration_since(*last_write) >= keep_alive
            {
                let mut bytes = Vec::new();
                if encode_comment("keep-alive", &mut bytes).is_ok() {
                    self.outputs.push_back(HttpOutput::Events {
                        stream: *stream,
                        bytes,
                    });
                }
                *last_write = now;
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
        let keep_alive = self.streams.values().filter_map(|entry| match entry.state {
            StreamState::Events { last_write, .. } => {
                last_write.checked_add(self.config.keep_alive)
            }
            StreamState::Waiting { .. } => None,
        });
        keep_alive
            .chain(self.modern.poll_timeout())
            .chain(self.sessions.poll_timeout())
            .min()
    }

    /// Exchanges still open.
    #[must_use]
    pub fn open_streams(&self) -> usize {
        self.streams.len()
    }

    fn new_stream(&mut self) -> StreamId {
        let stream = StreamId(self.next_stream);
        self.next_stream = self.next_stream.saturating_add(1);
        stream
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
            let state = LegacySession {
                endpoint: ServerEndpoint::new(self.config.server.clone()),
                get_stream: None,
                backlog: VecDeque::new(),
            };
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
        session.endpoint.abort();
        while let Some(event) = session.endpoint.poll_event() {
            self.ended_events
                .push_back((EndpointRef::Session(id.clone()), event));
        }
        let owned: Vec<StreamId> = self
            .streams
            .iter()
            .filter(|(_, entry)| entry.owner == EndpointRef::Session(id.clone()))
            .map(|(stream, _)| *stream)
            .collect();
        for stream in owned {
            if let Some(entry) = self.streams.remove(&stream) {
                match entry.state {
                    StreamState::Events { .. } => {
                        self.outputs.push_back(HttpOutput::EndEvents { stream })
                    }
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
                        self.outputs
                            .push_back(HttpOutput::Respond { stream, response });
                    }
                }
            }
        }
    }

    /// Moves every endpoint's messages onto their exchanges.
    fn route(&mut self, now: Instant) {
        let mut batch: Vec<(EndpointRef, Transmit)> = Vec::new();
        while let Some(transmit) = self.modern.poll_transmit() {
            batch.push((EndpointRef::Modern, transmit));
        }
        for (id, session) in self.sessions.iter_mut() {
            while let Some(transmit) = session.endpoint.poll_transmit() {
                batch.push((EndpointRef::Session(id.clone()), transmit));
            }
        }
        for (owner, transmit) in batch {
            let Transmit::Send { scope, message } = transmit else {
                continue;
            };
            if scope == TransportScope::CONNECTION {
                self.route_unscoped(&owner, message);
            } else {
                self.route_to_exchange(now, StreamId(scope.0), &message);
            }
        }
    }

    /// A message for no particular exchange: a legacy session's GET stream (or its backlog);
    /// the modern transport has no such stream, so it is dropped there.
    fn route_unscoped(&mut self, owner: &EndpointRef, message: Message) {
        let EndpointRef::Session(id) = owner else {
            return;
        };
        let Some(session) = self.sessions.peek_mut(id) else {
            return;
        };
        match session.get_stream {
            Some(stream) => self.push_event(stream, &message),
            None if session.backlog.len() < self.config.max_backlog => {
                session.backlog.push_back(message)
            }
            None => self.dropped_backlog += 1,
        }
    }

    fn route_to_exchange(&mut self, now: Instant, stream: StreamId, message: &Message) {
        // Nothing waits on a stream the client closed: the message is dropped.
        let Some(entry) = self.streams.get(&stream).cloned() else {
            return;
        };
        let is_answer = matches!(message, Message::Response(_) | Message::Error(_));
        match entry.state {
            StreamState::Waiting { id, acceptance } => {
                if is_answer && (acceptance.accepts_json() || !acceptance.accepts_event_stream()) {
                    let mut response =
                        json_response(status_for_answer(entry.era, message), message);
                    announce(response.headers_mut(), entry.announces.as_ref());
                    self.outputs
                        .push_back(HttpOutput::Respond { stream, response });
                    self.streams.remove(&stream);
                } else if acceptance.accepts_event_stream() {
                    self.outputs.push_back(HttpOutput::StartEvents {
                        stream,
                        head: event_stream_head(entry.announces.as_ref()),
                    });
                    self.push_event(stream, message);
                    if is_answer {
                        self.end(stream);
                    } else {
                        let state = StreamState::Events {
                            answers: Some(id),
                            last_write: now,
                        };
                        self.streams.insert(stream, StreamEntry { state, ..entry });
                    }
                }
                // JSON-only clients cannot receive notifications before the answer: dropped.
            }
            StreamState::Events { answers, .. } => {
                self.push_event(stream, message);
                if is_answer && answers.is_some() {
                    self.end(stream);
                } else {
                    let state = StreamState::Events {
                        answers,
                        last_write: now,
                    };
                    self.streams.insert(stream, StreamEntry { state, ..entry });
                }
            }
        }
    }

    fn push_event(&mut self, stream: StreamId, message: &Message) {
        let data = String::from_utf8_lossy(&jsonrpc::encode(message)).into_owned();
        let mut bytes = Vec::new();
        if SseEvent::new(data).encode(&mut bytes).is_ok() {
            self.outputs.push_back(HttpOutput::Events { stream, bytes });
        }
    }

    fn end(&mut self, stream: StreamId) {
        self.streams.remove(&stream);
        self.outputs.push_back(HttpOutput::EndEvents { stream });
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
