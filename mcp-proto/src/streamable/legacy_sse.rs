//! The deprecated HTTP+SSE transport of protocol 2024-11-05, as two Sans-IO state machines:
//! [`SseServer`] and [`SseClient`].
//!
//! The transport predates Streamable HTTP. The client opens a long-lived `GET` on the SSE URL;
//! the server answers with an SSE stream whose first event, `endpoint`, carries the URI to POST
//! messages to (here the configured message path with `?sessionId=<id>`). Every client message
//! is one POST to that URI and is accepted with `202`; every server message — answers to the
//! client's requests included — travels as an SSE `message` event on the GET stream. The stream
//! *is* the session: it begins with the GET and ends when the stream closes (or the session
//! idles out), and a new GET is a new session.
//!
//! # Server
//!
//! The adapter routes a GET on its SSE path to [`SseServer::handle_get`] and a POST on the
//! message path to [`SseServer::handle_post`] (the core does not look at the path; it reads
//! only the `sessionId` query parameter), reports a GET stream the client left with
//! [`SseServer::handle_stream_closed`], and drains [`SseServer::poll_output`], which speaks the
//! same [`HttpOutput`] as [`super::HttpServer`]. The checks, in the order they run:
//!
//! | request | check | refusal |
//! |---|---|---|
//! | both | `Origin` present and not allowed, `Host` not allowed | 403 (400 without `Host`) |
//! | GET | `Accept` names types and excludes `text/event-stream` | 406 |
//! | GET | the session table is full | 503 (no live session is evicted) |
//! | POST | `Content-Type` not `application/json` | 415 |
//! | POST | body over [`HttpPolicy::max_body`] | 413 |
//! | POST | no `sessionId` (or a malformed or repeated one) | 400 |
//! | POST | unknown, expired or ended session | 404 |
//! | POST | body not one JSON-RPC message (batches included) | 400 with the -32700/-32600 error |
//! | POST | accepted | 202, empty body; the answer follows on the stream |
//!
//! Each session has its own [`ServerEndpoint`]; whatever it sends goes out in order as
//! `event: message` on the session's GET stream. Because the stream lives exactly as long as
//! the session, a message always has a stream to go to: there is no backlog to bound.
//!
//! The session ends when:
//! - its GET stream closes ([`SseServer::handle_stream_closed`]): the endpoint sees the whole
//!   transport fail with [`TransportFailure::StreamClosed`], so every request the server sent the
//!   client settles with it, and it reports [`ServerEvent::Closed`];
//! - the application closed its endpoint ([`ServerEndpoint::close`] once the close completes,
//!   or [`ServerEndpoint::abort`]): the stream is ended ([`HttpOutput::EndEvents`]);
//! - the client has been idle for [`SessionLimits::idle_timeout`]: the GET and each POST to the
//!   session count as activity, the server's own messages and keep-alives do not (a half-open
//!   connection would otherwise hold a slot forever). The stream is ended
//!   ([`HttpOutput::EndEvents`]) and the endpoint aborted, settling what it had in flight. A
//!   client that wants to stay silent for longer should `ping`.
//!
//! Idle streams get a keep-alive comment every [`SseServerConfig::keep_alive`].
//! [`HttpPolicy::supported_versions`] is not consulted (2024-11-05 has no version header): the
//! versions served are those of [`ServerConfig::supported_versions`], negotiated by
//! `initialize`.
//!
//! # Client
//!
//! [`SseClient::start`] emits the GET ([`HttpClientOutput::Send`]) and starts the
//! [`ClientEndpoint`] with `initialize` (the era is forced to [`EraPolicy::Legacy`]); the
//! `initialize` POST is held back until the `endpoint` event says where to send it. The
//! event's data is resolved against the SSE URL as a URI reference (RFC 3986 §5.2: an absolute
//! path, a relative path, a query, or an absolute URL). **The result must have the SSE URL's
//! origin** — same scheme, host (case-insensitively) and port (the scheme's default when
//! absent) — or the handshake fails with [`SseHandshakeError::ForeignOrigin`]: a server that
//! could redirect the client's messages (and its `Authorization` header) to another host would
//! be an exfiltration channel. An accepted absolute URL contributes only its path and query;
//! the SSE URL's authority is kept. Later `endpoint` events are ignored.
//!
//! Every outgoing message is then one POST (`Content-Type: application/json`, the configured
//! headers, `MCP-Protocol-Version` once negotiated); `message` events on the stream are fed to
//! the endpoint. Events with other names are ignored.
//!
//! **No request is left hanging:**
//! - a POST answered with an error status settles the request it carried, in that call, with
//!   [`TransportFailure::HttpStatus`] (status, `WWW-Authenticate`, body excerpt). On this
//!   transport answers never travel in a POST's response, so its body is never taken as one;
//! - a POST that fails at the network level settles its request with
//!   [`TransportFailure::ConnectionLost`];
//! - the GET failing before the `endpoint` event (an error status, a body that is not
//!   `text/event-stream`, a first event that is not `endpoint`, an unusable or foreign endpoint,
//!   the stream or connection ending) fails the handshake: the typed error is kept
//!   ([`SseClient::handshake_error`]), `initialize` settles with
//!   [`SseHandshakeError::to_transport_failure`], and the endpoint reports
//!   [`ClientEvent::HandshakeFailed`] then [`ClientEvent::Closed`]. No `endpoint` event before
//!   `initialize`'s deadline fails the handshake as a timeout;
//! - the SSE stream ending after the handshake settles every pending request with
//!   [`TransportFailure::StreamClosed`] (or [`TransportFailure::ConnectionLost`] when the
//!   exchange failed) and closes the client.
//!
//! Once the client has closed, for whatever reason, a GET still open is given up with
//! [`HttpClientOutput::Abort`].

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, HOST};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, request::Parts};

use super::client::{
    DEFAULT_ERROR_EXCERPT, ExchangeId, HttpClientOutput, http_status_failure, is_content_type,
};
use super::server::{
    DEFAULT_KEEP_ALIVE, EntropySource, HttpOutput, StreamId, event_stream_head, status_only,
};
use super::sessions::{SessionError, SessionLimits, SessionTable};
use super::validate::{
    HttpPolicy, HttpReject, PROTOCOL_VERSION_HEADER, check_origin_and_host, too_large,
};
use crate::engine::{
    CancellationStyle, ClientConfig, ClientEndpoint, ClientError, ClientEvent, EraPolicy,
    ListChanged, ScopePolicy, ServerConfig, ServerEndpoint, ServerEvent, State, Transmit,
    TransportFailure, TransportScope,
};
use crate::framing::{SseDecoder, SseEvent, SseItem, SseStatus, encode_comment};
use crate::http::{Acceptance, SessionId, check_json_content_type_lines, parse_accept};
use crate::jsonrpc::{self, DecodeOptions, Decoded, ErrorCode, Message};

/// The path advertised in the `endpoint` event by default.
pub const DEFAULT_MESSAGE_PATH: &str = "/messages";
/// The query parameter naming the session in the message URI.
pub const SESSION_QUERY_PARAM: &str = "sessionId";
/// The name of the first SSE event, whose data is the message URI.
pub const ENDPOINT_EVENT: &str = "endpoint";
/// The name of the SSE events carrying JSON-RPC messages.
pub const MESSAGE_EVENT: &str = "message";

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

/// Settings of an [`SseServer`].
#[derive(Debug, Clone, PartialEq)]
pub struct SseServerConfig {
    /// Origin and host rules and the body limit (its `supported_versions` is not used).
    pub policy: HttpPolicy,
    /// The MCP server behind each session.
    pub server: ServerConfig,
    /// The path (optionally with a query) advertised in the `endpoint` event; `sessionId` is
    /// appended to it.
    pub message_path: String,
    /// Bounds of the session table: how many streams may be open at once, and the idle time
    /// after which a session ends.
    pub sessions: SessionLimits,
    /// Interval between keep-alive comments on an idle stream.
    pub keep_alive: Duration,
}

impl SseServerConfig {
    /// The loopback policy, [`DEFAULT_MESSAGE_PATH`] and defaults for `server`.
    #[must_use]
    pub fn new(server: ServerConfig) -> Self {
        Self {
            policy: HttpPolicy::loopback(),
            server,
            message_path: DEFAULT_MESSAGE_PATH.to_owned(),
            sessions: SessionLimits::default(),
            keep_alive: DEFAULT_KEEP_ALIVE,
        }
    }
}

#[derive(Debug)]
struct SseSession {
    endpoint: ServerEndpoint,
    /// The session's GET stream (open for as long as the session lives).
    stream: StreamId,
}

#[derive(Debug, Clone)]
struct OpenStream {
    session: SessionId,
    last_write: Instant,
}

/// The HTTP+SSE server. See the [module docs](self).
pub struct SseServer {
    config: SseServerConfig,
    /// `config.server`, shared by every session's endpoint.
    server_config: Arc<ServerConfig>,
    entropy: EntropySource,
    sessions: SessionTable<SseSession>,
    streams: BTreeMap<StreamId, OpenStream>,
    outputs: VecDeque<HttpOutput>,
    /// Events of sessions that ended, still to be reported.
    ended_events: VecDeque<(SessionId, ServerEvent)>,
    next_stream: u64,
}

impl fmt::Debug for SseServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseServer")
            .field("sessions", &self.sessions.len())
            .field("open_streams", &self.streams.len())
            .field("pending_outputs", &self.outputs.len())
            .finish_non_exhaustive()
    }
}

impl SseServer {
    /// A server; `entropy` mints session ids (16 bytes each).
    #[must_use]
    pub fn new(config: SseServerConfig, entropy: EntropySource) -> Self {
        let sessions = SessionTable::new(config.sessions);
        Self {
            server_config: Arc::new(config.server.clone()),
            config,
            entropy,
            sessions,
            streams: BTreeMap::new(),
            outputs: VecDeque::new(),
            ended_events: VecDeque::new(),
            next_stream: 1,
        }
    }

    /// The MCP server role of session `id`, to answer its events; `None` once it ended. The
    /// answers reach the session's stream through [`SseServer::poll_output`].
    pub fn endpoint(&mut self, id: &SessionId) -> Option<&mut ServerEndpoint> {
        self.sessions.peek_mut(id).map(|s| &mut s.endpoint)
    }

    /// Tells every session that a list changed, when the server advertises `listChanged`
    /// for it (see [`ServerEndpoint::notify_list_changed`]). Returns how many were told.
    pub fn notify_list_changed(&mut self, list: ListChanged) -> usize {
        self.sessions
            .iter_mut()
            .map(|(_, session)| session.endpoint.notify_list_changed(list))
            .sum()
    }

    /// The next application event and the session it came from.
    pub fn poll_event(&mut self) -> Option<(SessionId, ServerEvent)> {
        if let Some(ended) = self.ended_events.pop_front() {
            return Some(ended);
        }
        self.sessions
            .iter_mut()
            .find_map(|(id, session)| session.endpoint.poll_event().map(|e| (id.clone(), e)))
    }

    /// Live sessions (one per open GET stream).
    #[must_use]
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// The session a GET stream belongs to, while it is open.
    #[must_use]
    pub fn session_of(&self, stream: StreamId) -> Option<&SessionId> {
        self.streams.get(&stream).map(|open| &open.session)
    }

    /// A GET on the SSE path: opens a session and its event stream, whose first event is
    /// `endpoint`.
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
                "the SSE endpoint answers with text/event-stream",
            );
        }
        let mut entropy = [0u8; 16];
        (self.entropy)(&mut entropy);
        let state = SseSession {
            endpoint: ServerEndpoint::with_shared_config(Arc::clone(&self.server_config)),
            stream,
        };
        let created = self.sessions.create(now, &entropy, state);
        // Creating expires idle sessions first: close them whatever the outcome.
        self.reap();
        let id = match created {
            Ok(id) => id,
            Err(error) => return self.session_error(stream, &error),
        };
        let separator = if self.config.message_path.contains('?') {
            '&'
        } else {
            '?'
        };
        let uri = format!(
            "{}{separator}{SESSION_QUERY_PARAM}={}",
            self.config.message_path,
            id.as_str()
        );
        self.streams.insert(
            stream,
            OpenStream {
                session: id,
                last_write: now,
            },
        );
        self.outputs.push_back(HttpOutput::StartEvents {
            stream,
            head: event_stream_head(None),
        });
        let mut bytes = Vec::new();
        if SseEvent::new(uri)
            .with_event(ENDPOINT_EVENT)
            .encode(&mut bytes)
            .is_ok()
        {
            self.outputs.push_back(HttpOutput::Events { stream, bytes });
        }
        stream
    }

    /// A POST on the message path (head and complete body): one JSON-RPC message for the
    /// session its `sessionId` names, answered `202` at once when accepted.
    pub fn handle_post(&mut self, now: Instant, parts: &Parts, body: &[u8]) -> StreamId {
        let stream = self.new_stream();
        if let Err(reject) = check_origin_and_host(&parts.headers, &self.config.policy) {
            return self.reject(stream, &reject);
        }
        let content_type = check_json_content_type_lines(
            parts
                .headers
                .get_all(CONTENT_TYPE)
                .iter()
                .map(HeaderValue::as_bytes),
        );
        if let Err(error) = content_type {
            return self.refuse(
                stream,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &error.to_string(),
            );
        }
        if body.len() > self.config.policy.max_body {
            let reject = too_large(&self.config.policy);
            return self.reject(stream, &reject);
        }
        let id = match session_in_query(parts.uri.query()) {
            Ok(Some(id)) => id,
            Ok(None) => return self.session_error(stream, &SessionError::Missing),
            Err(reason) => return self.refuse(stream, StatusCode::BAD_REQUEST, &reason),
        };
        let found = self.sessions.get_mut(now, Some(&id)).map(|_| ());
        self.reap();
        if let Err(error) = found {
            return self.session_error(stream, &error);
        }
        let options = DecodeOptions {
            max_message_len: self.config.policy.max_body,
            ..DecodeOptions::default()
        };
        let message = match jsonrpc::decode(body, &options) {
            Ok(Decoded::Single(message)) => message,
            Ok(Decoded::Batch(_)) => {
                return self.refuse(
                    stream,
                    StatusCode::BAD_REQUEST,
                    "JSON-RPC batches are not served by this endpoint",
                );
            }
            Err(error) => {
                let reject = HttpReject {
                    status: StatusCode::BAD_REQUEST,
                    error: Some(error.error_response()),
                };
                return self.reject(stream, &reject);
            }
        };
        if let Some(session) = self.sessions.peek_mut(&id) {
            session
                .endpoint
                .handle_message(now, TransportScope::CONNECTION, message);
        }
        self.outputs.push_back(HttpOutput::Respond {
            stream,
            response: status_only(StatusCode::ACCEPTED),
        });
        self.route(now);
        stream
    }

    /// The client left `stream`. For a GET stream this ends its session: the endpoint sees the
    /// transport fail with [`TransportFailure::StreamClosed`], so every request it sent
    /// settles, and it reports [`ServerEvent::Closed`]. Other streams are ignored.
    pub fn handle_stream_closed(&mut self, now: Instant, stream: StreamId) {
        let Some(open) = self.streams.remove(&stream) else {
            return;
        };
        if let Ok(mut session) = self.sessions.remove(&open.session) {
            session.endpoint.handle_transport_closed(
                now,
                TransportScope::CONNECTION,
                TransportFailure::StreamClosed,
            );
            self.collect_ended(&open.session, &mut session);
        }
    }

    /// Time passed: request deadlines, idle sessions, keep-alive comments.
    pub fn handle_timeout(&mut self, now: Instant) {
        for (_, session) in self.sessions.iter_mut() {
            session.endpoint.handle_timeout(now);
        }
        self.sessions.handle_timeout(now);
        self.reap();
        self.route(now);
        let keep_alive = self.config.keep_alive;
        for (stream, open) in &mut self.streams {
            if now.saturating_duration_since(open.last_write) >= keep_alive {
                let mut bytes = Vec::new();
                if encode_comment("keep-alive", &mut bytes).is_ok() {
                    self.outputs.push_back(HttpOutput::Events {
                        stream: *stream,
                        bytes,
                    });
                }
                open.last_write = now;
            }
        }
    }

    /// The next thing to write. Call after every `handle_*` and after answering through
    /// [`SseServer::endpoint`].
    pub fn poll_output(&mut self, now: Instant) -> Option<HttpOutput> {
        self.route(now);
        self.outputs.pop_front()
    }

    /// When to call [`SseServer::handle_timeout`] next: the next keep-alive, idle expiry or
    /// endpoint deadline (a request the server sent a client, a close grace period).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let keep_alive = self
            .streams
            .values()
            .filter_map(|open| open.last_write.checked_add(self.config.keep_alive));
        let endpoints = self
            .sessions
            .iter()
            .filter_map(|(_, session)| session.endpoint.poll_timeout());
        keep_alive
            .chain(endpoints)
            .chain(self.sessions.poll_timeout())
            .min()
    }

    fn new_stream(&mut self) -> StreamId {
        let stream = StreamId(self.next_stream);
        self.next_stream = self.next_stream.saturating_add(1);
        stream
    }

    /// Ends the sessions that idled out: their streams end and their endpoints abort.
    fn reap(&mut self) {
        while let Some((id, mut session)) = self.sessions.poll_expired() {
            session.endpoint.abort();
            if self.streams.remove(&session.stream).is_some() {
                self.outputs.push_back(HttpOutput::EndEvents {
                    stream: session.stream,
                });
            }
            self.collect_ended(&id, &mut session);
        }
    }

    /// Keeps the last events of a session that ended, for [`SseServer::poll_event`].
    fn collect_ended(&mut self, id: &SessionId, session: &mut SseSession) {
        while let Some(event) = session.endpoint.poll_event() {
            self.ended_events.push_back((id.clone(), event));
        }
    }

    /// Moves every endpoint's messages onto its session's stream, as `message` events, and
    /// ends the sessions whose endpoint the application closed.
    fn route(&mut self, now: Instant) {
        let mut closed = Vec::new();
        for (id, session) in self.sessions.iter_mut() {
            while let Some(transmit) = session.endpoint.poll_transmit() {
                // Legacy sessions never close scopes; everything is a message for the stream.
                let Transmit::Send { message, .. } = transmit else {
                    continue;
                };
                let data = String::from_utf8_lossy(&jsonrpc::encode(&message)).into_owned();
                let mut bytes = Vec::new();
                if SseEvent::new(data)
                    .with_event(MESSAGE_EVENT)
                    .encode(&mut bytes)
                    .is_ok()
                {
                    self.outputs.push_back(HttpOutput::Events {
                        stream: session.stream,
                        bytes,
                    });
                }
                if let Some(open) = self.streams.get_mut(&session.stream) {
                    open.last_write = now;
                }
            }
            if matches!(session.endpoint.state(), State::Closed(_)) {
                closed.push(id.clone());
            }
        }
        for id in closed {
            if let Ok(mut session) = self.sessions.remove(&id) {
                if self.streams.remove(&session.stream).is_some() {
                    self.outputs.push_back(HttpOutput::EndEvents {
                        stream: session.stream,
                    });
                }
                self.collect_ended(&id, &mut session);
            }
        }
    }

    fn reject(&mut self, stream: StreamId, reject: &HttpReject) -> StreamId {
        self.outputs.push_back(HttpOutput::Respond {
            stream,
            response: reject.to_response(),
        });
        stream
    }

    fn refuse(&mut self, stream: StreamId, status: StatusCode, reason: &str) -> StreamId {
        let reject = HttpReject::bare(status, reason, ErrorCode::INVALID_REQUEST);
        self.reject(stream, &reject)
    }

    fn session_error(&mut self, stream: StreamId, error: &SessionError) -> StreamId {
        self.refuse(stream, error.status(), &error.to_string())
    }
}

/// The session a message URI's query names: `Ok(None)` without `sessionId`, `Err` for a
/// malformed or repeated one. Values are percent-decoded.
fn session_in_query(query: Option<&str>) -> Result<Option<SessionId>, String> {
    let mut found = None;
    for pair in query.unwrap_or_default().split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != SESSION_QUERY_PARAM {
            continue;
        }
        if found.is_some() {
            return Err(format!("{SESSION_QUERY_PARAM} appears more than once"));
        }
        let bytes = percent_decode(value)
            .ok_or_else(|| format!("{SESSION_QUERY_PARAM} has an invalid percent-escape"))?;
        let id =
            SessionId::parse(&bytes).map_err(|e| format!("invalid {SESSION_QUERY_PARAM}: {e}"))?;
        found = Some(id);
    }
    Ok(found)
}

/// `%XX` escapes decoded; `None` for a broken escape.
fn percent_decode(value: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len());
    let mut bytes = value.bytes();
    while let Some(byte) = bytes.next() {
        if byte == b'%' {
            let high = hex_digit(bytes.next()?)?;
            let low = hex_digit(bytes.next()?)?;
            out.push((high << 4) | low);
        } else {
            out.push(byte);
        }
    }
    Some(out)
}

fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

/// Why the SSE handshake (the GET up to its `endpoint` event) failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseHandshakeError {
    /// The GET was answered with an error status.
    #[error("the SSE request was answered with HTTP status {status}")]
    HttpStatus {
        /// The status code.
        status: u16,
        /// The `WWW-Authenticate` challenge, when there was one.
        www_authenticate: Option<String>,
        /// The start of the response body.
        body_excerpt: String,
    },
    /// The GET was answered with something other than `text/event-stream`.
    #[error("the SSE request was answered with {}, not text/event-stream", content_type.as_deref().unwrap_or("no Content-Type"))]
    NotEventStream {
        /// The `Content-Type` received.
        content_type: Option<String>,
    },
    /// The stream's first event was not `endpoint`.
    #[error("the SSE stream's first event was `{event}`, not `endpoint`")]
    UnexpectedEvent {
        /// The name of the event received.
        event: String,
    },
    /// The stream ended before the `endpoint` event.
    #[error("the SSE stream ended before the endpoint event")]
    StreamEnded,
    /// The `endpoint` event's data is not a usable URI reference.
    #[error("the endpoint event's URI {data:?} is unusable: {reason}")]
    InvalidEndpoint {
        /// The event's data.
        data: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The `endpoint` event names a URI on another origin than the SSE URL's.
    #[error("the endpoint {endpoint} is not on the SSE URL's origin {expected}")]
    ForeignOrigin {
        /// The endpoint URI, as sent.
        endpoint: String,
        /// The SSE URL's origin.
        expected: String,
    },
    /// The GET could not be built (the SSE URL is not absolute, or a configured header is
    /// refused by the `http` crate).
    #[error("the SSE request cannot be built: {0}")]
    InvalidRequest(String),
    /// The GET failed at the network level.
    #[error("the SSE request failed: {0}")]
    ConnectionLost(String),
}

impl SseHandshakeError {
    /// The transport failure `initialize` (and anything else pending) settles with: the HTTP
    /// status for [`Self::HttpStatus`], [`TransportFailure::StreamClosed`] for
    /// [`Self::StreamEnded`], [`TransportFailure::ConnectionLost`] with this error's text for
    /// the rest.
    #[must_use]
    pub fn to_transport_failure(&self) -> TransportFailure {
        match self {
            Self::HttpStatus {
                status,
                www_authenticate,
                body_excerpt,
            } => TransportFailure::HttpStatus {
                status: *status,
                www_authenticate: www_authenticate.clone(),
                body_excerpt: body_excerpt.clone(),
            },
            Self::StreamEnded => TransportFailure::StreamClosed,
            Self::ConnectionLost(reason) => TransportFailure::ConnectionLost(reason.clone()),
            other => TransportFailure::ConnectionLost(other.to_string()),
        }
    }
}

/// Settings of an [`SseClient`].
#[derive(Debug, Clone, PartialEq)]
pub struct SseClientConfig {
    /// The SSE URL (absolute: scheme, authority, path).
    pub url: Uri,
    /// The MCP client behind it (its era is forced to [`EraPolicy::Legacy`]).
    pub client: ClientConfig,
    /// Headers added to the GET and every POST (e.g. `Authorization: Bearer …`).
    pub headers: HeaderMap,
    /// Longest body excerpt kept in an HTTP error.
    pub max_error_excerpt: usize,
}

impl SseClientConfig {
    /// A configuration for `url` with no extra headers.
    #[must_use]
    pub fn new(url: Uri, client: ClientConfig) -> Self {
        Self {
            url,
            client,
            headers: HeaderMap::new(),
            max_error_excerpt: DEFAULT_ERROR_EXCERPT,
        }
    }
}

/// The HTTP+SSE client. See the [module docs](self).
#[derive(Debug)]
pub struct SseClient {
    config: SseClientConfig,
    client: ClientEndpoint,
    /// The GET exchange, while it is open at the network level.
    get: Option<ExchangeId>,
    /// The SSE decoder and unconsumed bytes, once the GET's head said `text/event-stream`.
    stream: Option<(SseDecoder, Vec<u8>)>,
    /// Where messages are POSTed, once the `endpoint` event arrived.
    post_url: Option<Uri>,
    /// POSTs in flight and the scope each carried (`CONNECTION` for notifications and
    /// responses, which settle nothing).
    posts: HashMap<ExchangeId, TransportScope>,
    handshake_error: Option<SseHandshakeError>,
    legacy_version: Option<String>,
    outputs: VecDeque<HttpClientOutput>,
    events: VecDeque<ClientEvent>,
    next_exchange: u64,
    /// The latest time handed in, for settling requests whose POST cannot be built.
    last_now: Option<Instant>,
}

impl SseClient {
    /// A client for one SSE URL; call [`SseClient::start`] next.
    #[must_use]
    pub fn new(mut config: SseClientConfig) -> Self {
        config.client.era = EraPolicy::Legacy;
        // One POST per request, so a POST's failure settles exactly the request it carried.
        config.client.connection.scopes = ScopePolicy::PerRequest;
        config.client.connection.cancellation = CancellationStyle::Notify;
        let client = ClientEndpoint::new(config.client.clone());
        Self {
            config,
            client,
            get: None,
            stream: None,
            post_url: None,
            posts: HashMap::new(),
            handshake_error: None,
            legacy_version: None,
            outputs: VecDeque::new(),
            events: VecDeque::new(),
            next_exchange: 1,
            last_now: None,
        }
    }

    /// Numbers this client's exchanges from `next` on, so that a client taking over from
    /// another (the HTTP+SSE fallback of [`super::HttpClient`]) never reuses an id the adapter
    /// may still hold. Call before [`SseClient::start`].
    pub(crate) fn continue_numbering_from(&mut self, next: u64) {
        self.next_exchange = self.next_exchange.max(next);
    }

    /// The MCP client role: send requests through it; its events come from
    /// [`SseClient::poll_event`].
    pub fn endpoint(&mut self) -> &mut ClientEndpoint {
        &mut self.client
    }

    /// Opens the SSE stream (GET) and starts `initialize`, which is POSTed once the `endpoint`
    /// event arrives.
    ///
    /// # Errors
    /// As [`ClientEndpoint::start`]; nothing is sent then.
    pub fn start(&mut self, now: Instant) -> Result<(), ClientError> {
        self.last_now = Some(now);
        self.client.start(now)?;
        let exchange = self.new_exchange();
        match self.get_request() {
            Ok(request) => {
                self.get = Some(exchange);
                self.outputs
                    .push_back(HttpClientOutput::Send { exchange, request });
            }
            Err(reason) => self.fail_handshake(now, SseHandshakeError::InvalidRequest(reason)),
        }
        self.pump();
        Ok(())
    }

    /// The URI messages are POSTed to, once the `endpoint` event gave it.
    #[must_use]
    pub fn message_url(&self) -> Option<&Uri> {
        self.post_url.as_ref()
    }

    /// Why the SSE handshake failed, if it did.
    #[must_use]
    pub fn handshake_error(&self) -> Option<&SseHandshakeError> {
        self.handshake_error.as_ref()
    }

    /// The next application event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.pump();
        self.events.pop_front()
    }

    /// The next network action. Call after every `handle_*` and after sending through
    /// [`SseClient::endpoint`].
    pub fn poll_output(&mut self) -> Option<HttpClientOutput> {
        self.pump();
        self.outputs.pop_front()
    }

    /// When to call [`SseClient::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.client.poll_timeout()
    }

    /// Time passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = Some(now);
        self.client.handle_timeout(now);
        self.pump();
    }

    /// A complete response arrived for `exchange`. For a POST an error status settles the
    /// request it carried before this returns (a success says nothing more: the answer comes
    /// on the stream). For the GET anything but a `text/event-stream` success fails the
    /// handshake; an SSE body handed over whole is read, then treated as a stream that ended.
    pub fn handle_response(
        &mut self,
        now: Instant,
        exchange: ExchangeId,
        response: http::Response<Vec<u8>>,
    ) {
        self.last_now = Some(now);
        let status = response.status();
        if self.get == Some(exchange) {
            if !status.is_success() {
                self.get = None;
                let failure = http_status_failure(
                    status,
                    response.headers(),
                    response.body(),
                    self.config.max_error_excerpt,
                );
                if let TransportFailure::HttpStatus {
                    status,
                    www_authenticate,
                    body_excerpt,
                } = failure
                {
                    let error = SseHandshakeError::HttpStatus {
                        status,
                        www_authenticate,
                        body_excerpt,
                    };
                    self.fail_handshake(now, error);
                }
            } else if !is_content_type(response.headers(), "text/event-stream") {
                self.get = None;
                let content_type = response
                    .headers()
                    .get(CONTENT_TYPE)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
                self.fail_handshake(now, SseHandshakeError::NotEventStream { content_type });
            } else {
                if self.stream.is_none() {
                    self.stream = Some((SseDecoder::new(), Vec::new()));
                }
                self.handle_body(now, exchange, response.body());
                self.handle_body_end(now, exchange);
            }
        } else if let Some(scope) = self.posts.remove(&exchange)
            && !status.is_success()
            && scope != TransportScope::CONNECTION
        {
            let failure = http_status_failure(
                status,
                response.headers(),
                response.body(),
                self.config.max_error_excerpt,
            );
            self.client.handle_transport_closed(now, scope, failure);
        }
        self.pump();
    }

    /// The head of a streaming response arrived. The GET's `text/event-stream` success opens
    /// the stream (its body comes through [`SseClient::handle_body`]); any other head should
    /// be completed and passed to [`SseClient::handle_response`] instead — it is treated as an
    /// empty response here.
    pub fn handle_response_head(
        &mut self,
        now: Instant,
        exchange: ExchangeId,
        head: &http::Response<()>,
    ) {
        self.last_now = Some(now);
        let is_get = self.get == Some(exchange);
        if is_get
            && head.status().is_success()
            && is_content_type(head.headers(), "text/event-stream")
        {
            self.stream = Some((SseDecoder::new(), Vec::new()));
        } else if is_get || self.posts.contains_key(&exchange) {
            let mut response = http::Response::new(Vec::new());
            *response.status_mut() = head.status();
            *response.headers_mut() = head.headers().clone();
            self.handle_response(now, exchange, response);
        }
    }

    /// Bytes of the SSE stream.
    pub fn handle_body(&mut self, now: Instant, exchange: ExchangeId, bytes: &[u8]) {
        self.last_now = Some(now);
        if self.get != Some(exchange) {
            return;
        }
        let Some((decoder, buffer)) = self.stream.as_mut() else {
            return;
        };
        buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        loop {
            match decoder.decode(buffer) {
                Ok(SseStatus::Item { item, consumed }) => {
                    buffer.drain(..consumed);
                    if let SseItem::Event(event) = item {
                        events.push(event);
                    }
                }
                Ok(SseStatus::NeedMore { consumed }) => {
                    buffer.drain(..consumed);
                    break;
                }
                // An oversized or broken event is skipped; the decoder resynchronises.
                Err(_) => {}
            }
        }
        for event in events {
            // A failed handshake gives the stream up: nothing after it counts.
            if self.get.is_none() {
                break;
            }
            self.handle_event(now, event);
        }
        self.pump();
    }

    /// The SSE stream ended: before the `endpoint` event the handshake fails, after it every
    /// pending request settles with [`TransportFailure::StreamClosed`] and the client closes.
    pub fn handle_body_end(&mut self, now: Instant, exchange: ExchangeId) {
        self.last_now = Some(now);
        if self.get == Some(exchange) {
            self.get = None;
            if self.post_url.is_none() {
                self.fail_handshake(now, SseHandshakeError::StreamEnded);
            } else {
                self.end_stream(now, TransportFailure::StreamClosed);
            }
        }
        self.pump();
    }

    /// `exchange` failed at the network level (connection refused, reset, TLS…): a POST's
    /// request settles with `reason`; the GET failing fails the handshake, or after it settles
    /// every pending request and closes the client.
    pub fn handle_exchange_failed(&mut self, now: Instant, exchange: ExchangeId, reason: String) {
        self.last_now = Some(now);
        if self.get == Some(exchange) {
            self.get = None;
            if self.post_url.is_none() {
                self.fail_handshake(now, SseHandshakeError::ConnectionLost(reason));
            } else {
                self.end_stream(now, TransportFailure::ConnectionLost(reason));
            }
        } else if let Some(scope) = self.posts.remove(&exchange)
            && scope != TransportScope::CONNECTION
        {
            self.client.handle_transport_closed(
                now,
                scope,
                TransportFailure::ConnectionLost(reason),
            );
        }
        self.pump();
    }

    /// Starts a graceful close; the SSE stream is given up once the client closed.
    pub fn close(&mut self, now: Instant) {
        self.last_now = Some(now);
        self.client.close(now);
        self.pump();
    }

    fn handle_event(&mut self, now: Instant, event: SseEvent) {
        let name = match event.event.as_deref() {
            None | Some("") => MESSAGE_EVENT,
            Some(name) => name,
        };
        if self.post_url.is_none() {
            if name != ENDPOINT_EVENT {
                let error = SseHandshakeError::UnexpectedEvent {
                    event: name.to_owned(),
                };
                return self.fail_handshake(now, error);
            }
            match resolve_endpoint(&self.config.url, &event.data) {
                // The held-back `initialize` goes out with the next pump.
                Ok(url) => self.post_url = Some(url),
                Err(error) => self.fail_handshake(now, error),
            }
            return;
        }
        // A later `endpoint` event (and any other name) is ignored.
        if name != MESSAGE_EVENT || event.data.is_empty() {
            return;
        }
        match jsonrpc::decode_message(event.data.as_bytes(), &DecodeOptions::default()) {
            Ok(message) => self
                .client
                .handle_message(now, TransportScope::CONNECTION, message),
            Err(error) => {
                self.client
                    .handle_invalid_message(now, TransportScope::CONNECTION, error);
            }
        }
    }

    fn fail_handshake(&mut self, now: Instant, error: SseHandshakeError) {
        let failure = error.to_transport_failure();
        self.handshake_error = Some(error);
        self.end_stream(now, failure);
    }

    /// The stream is over (or given up): every pending request settles with `failure` and the
    /// client closes; a GET still open is aborted.
    fn end_stream(&mut self, now: Instant, failure: TransportFailure) {
        self.stream = None;
        if let Some(exchange) = self.get.take() {
            self.outputs.push_back(HttpClientOutput::Abort { exchange });
        }
        self.client
            .handle_transport_closed(now, TransportScope::CONNECTION, failure);
    }

    /// Turns the endpoint's events into ours and, once the message URI is known, its transmits
    /// into POSTs.
    fn pump(&mut self) {
        while let Some(event) = self.client.poll_event() {
            match &event {
                ClientEvent::Ready(negotiated) => {
                    self.legacy_version = Some(negotiated.protocol_version.as_str().to_owned());
                }
                ClientEvent::Closed(_) => {
                    self.stream = None;
                    if let Some(exchange) = self.get.take() {
                        self.outputs.push_back(HttpClientOutput::Abort { exchange });
                    }
                }
                _ => {}
            }
            self.events.push_back(event);
        }
        if self.post_url.is_none() {
            return;
        }
        while let Some(transmit) = self.client.poll_transmit() {
            // With notification-style cancellation no scope is ever closed.
            if let Transmit::Send { scope, message } = transmit {
                self.post(scope, &message);
            }
        }
    }

    fn new_exchange(&mut self) -> ExchangeId {
        let exchange = ExchangeId(self.next_exchange);
        self.next_exchange = self.next_exchange.saturating_add(1);
        exchange
    }

    fn with_common_headers(
        &self,
        mut builder: http::request::Builder,
        url: &Uri,
    ) -> http::request::Builder {
        if let Some(host) = super::host_header(url) {
            builder = builder.header(HOST, host);
        }
        for (name, value) in &self.config.headers {
            builder = builder.header(name, value);
        }
        builder
    }

    fn get_request(&self) -> Result<http::Request<Vec<u8>>, String> {
        let url = &self.config.url;
        if url.scheme().is_none() || url.authority().is_none() {
            return Err(format!("the SSE URL {url} is not absolute"));
        }
        let builder = http::Request::builder()
            .method(Method::GET)
            .uri(url.clone())
            .header(ACCEPT, "text/event-stream")
            .header(CACHE_CONTROL, "no-cache");
        self.with_common_headers(builder, url)
            .body(Vec::new())
            .map_err(|e| e.to_string())
    }

    fn post(&mut self, scope: TransportScope, message: &Message) {
        let Some(url) = self.post_url.clone() else {
            return;
        };
        let mut builder = http::Request::builder()
            .method(Method::POST)
            .uri(url.clone())
            .header(CONTENT_TYPE, "application/json");
        if let Some(version) = &self.legacy_version {
            builder = builder.header(PROTOCOL_VERSION_HEADER, version.as_str());
        }
        let exchange = self.new_exchange();
        match self
            .with_common_headers(builder, &url)
            .body(jsonrpc::encode(message))
        {
            Ok(request) => {
                self.posts.insert(exchange, scope);
                self.outputs
                    .push_back(HttpClientOutput::Send { exchange, request });
            }
            // Only a configured header the http crate refuses gets here; the request fails
            // like a broken connection rather than hanging.
            Err(error) => {
                if let (Some(now), true) = (self.last_now, scope != TransportScope::CONNECTION) {
                    let failure = TransportFailure::ConnectionLost(format!(
                        "cannot build the HTTP request: {error}"
                    ));
                    self.client.handle_transport_closed(now, scope, failure);
                }
            }
        }
    }
}

/// Resolves the `endpoint` event's data against the SSE URL (RFC 3986 §5.2) and checks it stays
/// on the SSE URL's origin. The result keeps the SSE URL's scheme and authority.
fn resolve_endpoint(base: &Uri, data: &str) -> Result<Uri, SseHandshakeError> {
    let invalid = |reason: &str| SseHandshakeError::InvalidEndpoint {
        data: data.to_owned(),
        reason: reason.to_owned(),
    };
    let (Some(scheme), Some(authority)) = (base.scheme(), base.authority()) else {
        return Err(invalid("the SSE URL is not absolute"));
    };
    let trimmed = data.trim();
    // The fragment never reaches the server.
    let reference = trimmed.split('#').next().unwrap_or_default();
    if reference.is_empty() {
        return Err(invalid("empty URI"));
    }
    let path_and_query = if has_scheme(reference) || reference.starts_with("//") {
        let absolute = if reference.starts_with("//") {
            format!("{}:{reference}", scheme.as_str())
        } else {
            reference.to_owned()
        };
        let uri: Uri = absolute
            .parse()
            .map_err(|e: http::uri::InvalidUri| invalid(&e.to_string()))?;
        if !same_origin(base, &uri) {
            return Err(SseHandshakeError::ForeignOrigin {
                endpoint: trimmed.to_owned(),
                expected: origin_of(scheme, authority),
            });
        }
        let path = remove_dot_segments(match uri.path() {
            "" => "/",
            path => path,
        });
        join_query(&path, uri.query())
    } else {
        let (path, query) = match reference.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (reference, None),
        };
        if path.is_empty() {
            // A query alone keeps the base path.
            join_query(base.path(), query)
        } else if path.starts_with('/') {
            join_query(&remove_dot_segments(path), query)
        } else {
            // Merge: the base path up to its last `/`, then the reference.
            let base_path = base.path();
            let directory = base_path
                .rfind('/')
                .and_then(|at| base_path.get(..=at))
                .unwrap_or("/");
            join_query(&remove_dot_segments(&format!("{directory}{path}")), query)
        }
    };
    let path_and_query =
        PathAndQuery::try_from(path_and_query).map_err(|e| invalid(&e.to_string()))?;
    Uri::builder()
        .scheme(scheme.clone())
        .authority(authority.clone())
        .path_and_query(path_and_query)
        .build()
        .map_err(|e| invalid(&e.to_string()))
}

fn join_query(path: &str, query: Option<&str>) -> String {
    match query {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    }
}

/// Whether a URI reference starts with a scheme (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`
/// then `:`, before any `/`, `?` or `#`).
fn has_scheme(reference: &str) -> bool {
    let Some(colon) = reference.find(':') else {
        return false;
    };
    let candidate = reference.get(..colon).unwrap_or_default();
    let mut chars = candidate.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Same scheme, host (case-insensitive) and port (the scheme's default when absent).
fn same_origin(a: &Uri, b: &Uri) -> bool {
    let scheme_matches = match (a.scheme_str(), b.scheme_str()) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => false,
    };
    let host_matches = match (a.host(), b.host()) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => false,
    };
    scheme_matches && host_matches && effective_port(a) == effective_port(b)
}

fn effective_port(uri: &Uri) -> Option<u16> {
    uri.port_u16().or_else(|| {
        let scheme = uri.scheme_str()?;
        if scheme.eq_ignore_ascii_case("http") {
            Some(80)
        } else if scheme.eq_ignore_ascii_case("https") {
            Some(443)
        } else {
            None
        }
    })
}

fn origin_of(scheme: &Scheme, authority: &Authority) -> String {
    format!("{}://{}", scheme.as_str(), authority.as_str())
}

/// RFC 3986 §5.2.4 for an absolute path: `.` and `..` segments removed.
fn remove_dot_segments(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len().saturating_sub(1);
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    for (index, segment) in segments.iter().enumerate() {
        match *segment {
            "." | ".." => {
                // Never pop the empty segment before the leading `/`.
                if *segment == ".." && out.len() > 1 {
                    out.pop();
                }
                if index == last {
                    out.push("");
                }
            }
            other => out.push(other),
        }
    }
    let joined = out.join("/");
    if joined.starts_with('/') {
        joined
    } else {
        format!("/{joined}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_are_removed() {
        for (input, expected) in [
            ("/a/b/../c/./d", "/a/c/d"),
            ("/a/b/..", "/a/"),
            ("/a/.", "/a/"),
            ("/..", "/"),
            ("/../../x", "/x"),
            ("/messages", "/messages"),
            ("/", "/"),
        ] {
            assert_eq!(remove_dot_segments(input), expected, "{input}");
        }
    }

    #[test]
    fn session_query_parsing() {
        assert_eq!(session_in_query(None), Ok(None));
        assert_eq!(session_in_query(Some("a=1&b")), Ok(None));
        assert_eq!(
            session_in_query(Some("x=1&sessionId=abc%2D1"))
                .map(|id| id.map(SessionId::into_string)),
            Ok(Some("abc-1".to_owned()))
        );
        assert!(session_in_query(Some("sessionId=a&sessionId=b")).is_err());
        assert!(session_in_query(Some("sessionId=")).is_err());
        assert!(session_in_query(Some("sessionId=%zz")).is_err());
        assert!(session_in_query(Some("sessionId=a%20b")).is_err());
    }

    #[test]
    fn schemes_are_recognised() {
        assert!(has_scheme("http://x/y"));
        assert!(has_scheme("a+b.c-d:rest"));
        assert!(!has_scheme("/messages?at=1:2"));
        assert!(!has_scheme("messages"));
        assert!(!has_scheme("1http://x"));
    }
}
