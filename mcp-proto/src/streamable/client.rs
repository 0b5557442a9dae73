//! [`HttpClient`]: the client side of Streamable HTTP as a Sans-IO state machine, on top of a
//! [`ClientEndpoint`].
//!
//! Every message the client sends becomes one POST ([`HttpClientOutput::Send`]); the adapter
//! performs it and hands back what came: a complete response with
//! [`HttpClient::handle_response`], or an SSE response piece by piece with
//! [`HttpClient::handle_response_head`], [`HttpClient::handle_body`] and
//! [`HttpClient::handle_body_end`]; a connection that broke with
//! [`HttpClient::handle_exchange_failed`].
//!
//! **No request is left hanging.** An error status settles the request it carried in the same
//! call, as [`TransportFailure::HttpStatus`] with the status, the `WWW-Authenticate` challenge
//! and the start of the body — unless the body is the JSON-RPC error answering that request
//! (a modern server's 400/404 with -32602/-32601…), which is the server's own answer. An SSE
//! stream that ends before the answer settles it as [`TransportFailure::StreamClosed`] — on a
//! legacy session, once resuming it (`GET` + `Last-Event-ID` after the server's `retry`
//! interval) has failed a bounded number of times in a row. A 404 to a message that carried the
//! legacy session id means the server lost the session: the client starts a new one with the
//! same `initialize` and sends the message again, once.
//!
//! Each POST carries what the era needs: `Accept: application/json, text/event-stream`,
//! `Content-Type`, `MCP-Protocol-Version` once known, the legacy `Mcp-Session-Id`, the modern
//! `Mcp-Method` and `Mcp-Name` (base64-encoded when not plain ASCII), and the configured headers
//! (e.g. `Authorization`). A legacy session's standalone stream is opened with `GET` once the
//! handshake assigned a session (405 means there is none) and reopened after the `retry`
//! interval whenever the server closes it; closing the client sends `DELETE`.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use http::header::{ACCEPT, CONTENT_TYPE, HOST, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};

use super::legacy_sse::{SseClient, SseClientConfig};
use super::param_headers::ParamHeaderRegistry;
use super::validate::{
    METHOD_HEADER, NAME_HEADER, PROTOCOL_VERSION_HEADER, SESSION_ID_HEADER, name_in_body,
};
use crate::engine::{
    CancellationStyle, ClientConfig, ClientEndpoint, ClientEvent, Outcome, ScopePolicy, Transmit,
    TransportFailure, TransportScope,
};
use crate::framing::{SseDecoder, SseItem, SseStatus};
use crate::http::encode_header_value;
use crate::jsonrpc::{self, DecodeOptions, Message, Notification, RawJson, Request, RequestId};
use crate::types::Tool;
use crate::types::methods::{TOOLS_CALL, TOOLS_LIST};
use crate::types::{Era, Meta};

/// The default longest body excerpt kept in an HTTP error.
pub const DEFAULT_ERROR_EXCERPT: usize = 512;
/// The default wait before reconnecting an SSE stream when the server sent no `retry`.
pub const DEFAULT_RECONNECT: Duration = Duration::from_secs(1);
/// The default number of resumptions in a row that may bring no new event.
pub const DEFAULT_MAX_FRUITLESS_RESUMPTIONS: u32 = 3;
/// The default longest wait for a new legacy session's standalone GET stream to be answered
/// before the first requests go out anyway.
pub const DEFAULT_STANDALONE_WAIT: Duration = Duration::from_secs(1);

const LAST_EVENT_ID: &str = "last-event-id";

/// One HTTP exchange (a POST or DELETE and its response) of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExchangeId(pub u64);

/// What the adapter must do on the network.
// Outputs are drained as soon as they are produced; boxing the request would cost an
// allocation per request to save stack space in a short queue.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum HttpClientOutput {
    /// Perform this request and report its response for `exchange`.
    Send {
        /// The exchange.
        exchange: ExchangeId,
        /// The request (absolute-form target: scheme, authority and path from the endpoint URL).
        request: http::Request<Vec<u8>>,
    },
    /// Give up on `exchange`: close its connection or stream (a modern cancellation).
    Abort {
        /// The exchange.
        exchange: ExchangeId,
    },
}

/// Settings of an [`HttpClient`].
#[derive(Debug, Clone, PartialEq)]
pub struct HttpClientConfig {
    /// The MCP endpoint URL.
    pub endpoint: Uri,
    /// The MCP client behind it.
    pub client: ClientConfig,
    /// Headers added to every request (e.g. `Authorization: Bearer …`).
    pub headers: HeaderMap,
    /// Longest body excerpt kept in an HTTP error.
    pub max_error_excerpt: usize,
    /// How long to wait before reconnecting an SSE stream when the server gave no `retry`.
    pub default_reconnect: Duration,
    /// Resumptions in a row that may bring no new event before a stream's request fails.
    pub max_fruitless_resumptions: u32,
    /// Whether the deprecated HTTP+SSE transport (2024-11-05) may be used.
    pub legacy_sse: LegacySsePolicy,
    /// How long a new legacy session's first requests wait for its standalone GET stream to be
    /// answered (opened or refused). Requests sent at once could reach the server before the
    /// GET, and a server that sends what they cause (an elicitation, a log message) on the
    /// standalone stream would have no stream to send it on yet.
    pub standalone_wait: Duration,
}

/// Whether an [`HttpClient`] may use the deprecated HTTP+SSE transport (2024-11-05).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LegacySsePolicy {
    /// Fall back to it when the server answers the legacy `initialize` POST with 400, 404 or
    /// 405 and no JSON-RPC error (the spec's rule): `GET` the URL, expecting an `endpoint`
    /// event.
    #[default]
    Fallback,
    /// Never; such a server's handshake fails.
    Never,
    /// From the start: the URL is the SSE URL of a server known to speak only HTTP+SSE (e.g.
    /// remembered from [`HttpClient::uses_legacy_sse`] for this origin).
    Only,
}

impl HttpClientConfig {
    /// A configuration for `endpoint` with no extra headers.
    #[must_use]
    pub fn new(endpoint: Uri, client: ClientConfig) -> Self {
        Self {
            endpoint,
            client,
            headers: HeaderMap::new(),
            max_error_excerpt: DEFAULT_ERROR_EXCERPT,
            default_reconnect: DEFAULT_RECONNECT,
            max_fruitless_resumptions: DEFAULT_MAX_FRUITLESS_RESUMPTIONS,
            legacy_sse: LegacySsePolicy::Fallback,
            standalone_wait: DEFAULT_STANDALONE_WAIT,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExchangeKind {
    /// A POST carrying one message of the endpoint.
    Message,
    /// A legacy session's standalone GET stream (opened or reopened).
    Standalone,
    /// A GET + `Last-Event-ID` resuming a request's SSE stream.
    Resume,
    /// The `initialize` of a replacement session, after a 404.
    Reinitialize,
    /// The DELETE ending the session.
    Delete,
}

#[derive(Debug)]
struct Exchange {
    kind: ExchangeKind,
    /// The request's scope; `CONNECTION` for notifications, GET streams and DELETE, which
    /// settle nothing.
    scope: TransportScope,
    /// The request whose answer this exchange owes (a POSTed request, or the request of the
    /// stream a GET resumes).
    awaiting: Option<RequestId>,
    /// The message a legacy POST carried with a session id, kept to send it again on a new
    /// session if the server lost this one (404). `retried` once it is such a second try.
    request: Option<Message>,
    retried: bool,
    /// The SSE decoder and unconsumed bytes, once the response turned out to be a stream.
    events: Option<(SseDecoder, Vec<u8>)>,
    /// The last event id seen on this stream (carried over from the stream it resumes).
    last_event_id: String,
    /// Resumptions in a row that brought no new event, this one included.
    fruitless_resumptions: u32,
    /// Whether the POST carried `initialize` (its refusal may mean HTTP+SSE).
    carries_initialize: bool,
}

impl Exchange {
    /// Whether this exchange's answer can assign the session: only the successful answer to
    /// `initialize` does (the spec's "at initialization time"). An id on any other response,
    /// e.g. on a legacy server's refusal of the `server/discover` probe, is not adopted.
    fn answers_initialize(&self) -> bool {
        self.carries_initialize || self.kind == ExchangeKind::Reinitialize
    }
}

/// A stream to reconnect with `GET` once `at` is reached.
#[derive(Debug, Clone, PartialEq)]
struct Reconnect {
    at: Instant,
    kind: ExchangeKind,
    scope: TransportScope,
    /// The request whose answer the stream owes (resumptions only).
    awaiting: Option<RequestId>,
    last_event_id: String,
    fruitless_resumptions: u32,
}

/// A message held back while a replacement session is being set up.
#[derive(Debug)]
struct Held {
    scope: TransportScope,
    message: Message,
    /// Whether it already failed once with 404 (it is not retried a second time).
    retried: bool,
}

/// The Streamable HTTP client. See the [module docs](self).
#[derive(Debug)]
pub struct HttpClient {
    config: HttpClientConfig,
    client: ClientEndpoint,
    session_id: Option<HeaderValue>,
    /// The protocol version of the legacy session (sent in `MCP-Protocol-Version`).
    legacy_version: Option<String>,
    /// The parameters of the legacy `initialize`, to start a replacement session with.
    initialize_params: Option<RawJson>,
    /// The replacement session being set up, and the messages waiting for it.
    reinitializing: Option<ExchangeId>,
    held: Vec<Held>,
    /// A new legacy session's standalone GET, not answered yet, and until when requests wait
    /// for it; the messages waiting (in order: the first request and whatever follows it).
    standalone_opening: Option<(ExchangeId, Instant)>,
    awaiting_standalone: Vec<Held>,
    reinitializations: u64,
    reconnects: Vec<Reconnect>,
    exchanges: HashMap<ExchangeId, Exchange>,
    outputs: VecDeque<HttpClientOutput>,
    events: VecDeque<ClientEvent>,
    next_exchange: u64,
    deleted: bool,
    /// The latest time handed in, for settling requests whose HTTP request cannot be built.
    last_now: Option<Instant>,
    /// The server refused `initialize` the way an HTTP+SSE-only server does.
    sse_fallback_armed: bool,
    /// The HTTP+SSE client everything is handed to once the fallback happened.
    sse: Option<Box<SseClient>>,
    /// The `x-mcp-header` annotations of the tools listed so far (modern era).
    param_headers: ParamHeaderRegistry,
}

impl HttpClient {
    /// A client for one MCP endpoint; call [`HttpClient::start`] next.
    #[must_use]
    pub fn new(mut config: HttpClientConfig) -> Self {
        // One POST per request; until the era is known, a modern cancel is closing the stream.
        config.client.connection.scopes = ScopePolicy::PerRequest;
        config.client.connection.cancellation = CancellationStyle::CloseStream;
        let client = ClientEndpoint::new(config.client.clone());
        Self {
            config,
            client,
            session_id: None,
            legacy_version: None,
            initialize_params: None,
            reinitializing: None,
            held: Vec::new(),
            standalone_opening: None,
            awaiting_standalone: Vec::new(),
            reinitializations: 0,
            reconnects: Vec::new(),
            exchanges: HashMap::new(),
            outputs: VecDeque::new(),
            events: VecDeque::new(),
            next_exchange: 1,
            deleted: false,
            last_now: None,
            sse_fallback_armed: false,
            sse: None,
            param_headers: ParamHeaderRegistry::default(),
        }
    }

    /// The MCP client role: send requests through it; its events come from
    /// [`HttpClient::poll_event`].
    pub fn endpoint(&mut self) -> &mut ClientEndpoint {
        match &mut self.sse {
            Some(sse) => sse.endpoint(),
            None => &mut self.client,
        }
    }

    /// Whether the client talks to the server over the deprecated HTTP+SSE transport (after
    /// the fallback, or by [`LegacySsePolicy::Only`]).
    #[must_use]
    pub fn uses_legacy_sse(&self) -> bool {
        self.sse.is_some()
    }

    /// Starts the handshake (era probe, fallback to `initialize`).
    ///
    /// # Errors
    /// As [`ClientEndpoint::start`].
    pub fn start(&mut self, now: Instant) -> Result<(), crate::engine::ClientError> {
        self.last_now = Some(now);
        if self.config.legacy_sse == LegacySsePolicy::Only {
            let mut sse = self.sse_client();
            sse.start(now)?;
            self.sse = Some(Box::new(sse));
            return Ok(());
        }
        self.client.start(now)
    }

    /// The legacy session id, once the server assigned one.
    #[must_use]
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_ref().and_then(|v| v.to_str().ok())
    }

    /// How many times a lost legacy session (404) was replaced by a new one.
    #[must_use]
    pub fn reinitializations(&self) -> u64 {
        self.reinitializations
    }

    /// The next application event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.pump();
        match self.events.pop_front() {
            Some(event) => Some(event),
            None => self.sse.as_mut()?.poll_event(),
        }
    }

    /// The next network action. Call after every `handle_*` and after sending through
    /// [`HttpClient::endpoint`].
    pub fn poll_output(&mut self) -> Option<HttpClientOutput> {
        self.pump();
        match self.outputs.pop_front() {
            Some(output) => Some(output),
            None => self.sse.as_mut()?.poll_output(),
        }
    }

    /// When to call [`HttpClient::handle_timeout`] next: the endpoint's deadlines and the
    /// reconnections of SSE streams.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if let Some(sse) = &self.sse {
            return sse.poll_timeout();
        }
        self.reconnects
            .iter()
            .map(|r| r.at)
            .chain(self.standalone_opening.map(|(_, until)| until))
            .chain(self.client.poll_timeout())
            .min()
    }

    /// Time passed: deadlines, and SSE streams due to reconnect.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = Some(now);
        if let Some(sse) = &mut self.sse {
            return sse.handle_timeout(now);
        }
        self.client.handle_timeout(now);
        if self
            .standalone_opening
            .is_some_and(|(_, until)| until <= now)
        {
            self.release_awaiting_standalone();
        }
        let (due, later): (Vec<Reconnect>, Vec<Reconnect>) = std::mem::take(&mut self.reconnects)
            .into_iter()
            .partition(|r| r.at <= now);
        self.reconnects = later;
        for reconnect in due {
            self.reconnect(now, reconnect);
        }
        self.pump();
    }

    /// A complete (non-streaming) response arrived for `exchange`. An error status settles the
    /// request it carried before this returns (a 404 on a legacy session is first retried once
    /// on a new session).
    pub fn handle_response(
        &mut self,
        now: Instant,
        exchange: ExchangeId,
        response: http::Response<Vec<u8>>,
    ) {
        self.last_now = Some(now);
        if let Some(sse) = &mut self.sse {
            return sse.handle_response(now, exchange, response);
        }
        let Some(entry) = self.exchanges.remove(&exchange) else {
            return;
        };
        self.standalone_answered(exchange);
        let status = response.status();
        if status.is_success() && entry.answers_initialize() {
            self.capture_session(response.headers());
        }
        let decoded = is_content_type(response.headers(), "application/json")
            .then(|| jsonrpc::decode_message(response.body(), &DecodeOptions::default()));
        if entry.kind == ExchangeKind::Reinitialize {
            let answer = match decoded {
                Some(Ok(message)) if status.is_success() => Some(message),
                _ => None,
            };
            self.reinitialized(now, answer);
            self.pump();
            return;
        }
        if status == StatusCode::NOT_FOUND && self.retry_on_new_session(now, &entry) {
            self.pump();
            return;
        }
        let modern_error = matches!(decoded, Some(Ok(Message::Error(_))));
        if entry.carries_initialize
            && !modern_error
            && matches!(status.as_u16(), 400 | 404 | 405)
            && self.config.legacy_sse == LegacySsePolicy::Fallback
        {
            self.sse_fallback_armed = true;
        }
        if entry.scope == TransportScope::CONNECTION {
            // A notification's 202, a DELETE's answer, a GET stream refused (405 means the
            // server has none): nothing waits on them.
            return;
        }
        match decoded {
            // The server's own JSON-RPC error (on the modern transport it comes with a 4xx).
            Some(Ok(message @ Message::Error(_))) => {
                self.client.handle_message(now, entry.scope, message)
            }
            Some(Ok(message @ Message::Response(_))) if status.is_success() => {
                self.client.handle_message(now, entry.scope, message);
            }
            Some(Err(error)) if status.is_success() => {
                self.client.handle_invalid_message(now, entry.scope, error)
            }
            _ => {}
        }
        // One POST carries one request: once its response is complete, whatever it did not
        // answer (an error status, a 202, an HTML page, an answer to another id) fails now with
        // the HTTP details. An answered request is already settled and unaffected.
        let failure = self.http_failure(status, response.headers(), response.body());
        self.client
            .handle_transport_closed(now, entry.scope, failure);
        self.pump();
    }

    /// The head of a streaming response arrived. An SSE head opens the stream (its body comes
    /// through [`HttpClient::handle_body`]); any other head should be completed and passed to
    /// [`HttpClient::handle_response`] instead — it is treated as an empty response here.
    pub fn handle_response_head(
        &mut self,
        now: Instant,
        exchange: ExchangeId,
        head: &http::Response<()>,
    ) {
        self.last_now = Some(now);
        if let Some(sse) = &mut self.sse {
            return sse.handle_response_head(now, exchange, head);
        }
        let is_stream =
            head.status().is_success() && is_content_type(head.headers(), "text/event-stream");
        match self.exchanges.get_mut(&exchange) {
            Some(entry) if is_stream => {
                entry.events = Some((SseDecoder::new(), Vec::new()));
                if entry.answers_initialize() {
                    self.capture_session(head.headers());
                }
                self.standalone_answered(exchange);
                self.pump();
            }
            Some(_) => {
                let mut response = http::Response::new(Vec::new());
                *response.status_mut() = head.status();
                *response.headers_mut() = head.headers().clone();
                self.handle_response(now, exchange, response);
            }
            None => {}
        }
    }

    /// Bytes of an SSE response body.
    pub fn handle_body(&mut self, now: Instant, exchange: ExchangeId, bytes: &[u8]) {
        self.last_now = Some(now);
        if let Some(sse) = &mut self.sse {
            return sse.handle_body(now, exchange, bytes);
        }
        let Some(entry) = self.exchanges.get_mut(&exchange) else {
            return;
        };
        let scope = entry.scope;
        let kind = entry.kind;
        let Some((decoder, buffer)) = entry.events.as_mut() else {
            return;
        };
        buffer.extend_from_slice(bytes);
        let mut messages = Vec::new();
        loop {
            match decoder.decode(buffer) {
                Ok(SseStatus::Item { item, consumed }) => {
                    buffer.drain(..consumed);
                    if let SseItem::Event(event) = item
                        && !event.data.is_empty()
                    {
                        messages.push(jsonrpc::decode_message(
                            event.data.as_bytes(),
                            &DecodeOptions::default(),
                        ));
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
        if decoder.last_event_id() != entry.last_event_id {
            decoder.last_event_id().clone_into(&mut entry.last_event_id);
            entry.fruitless_resumptions = 0;
        }
        for message in messages {
            match (kind, message) {
                (ExchangeKind::Reinitialize, Ok(message)) => {
                    self.exchanges.remove(&exchange);
                    self.reinitialized(now, Some(message));
                    break;
                }
                (ExchangeKind::Reinitialize, Err(_)) => {}
                (_, Ok(message)) => self.client.handle_message(now, scope, message),
                (_, Err(error)) => self.client.handle_invalid_message(now, scope, error),
            }
        }
        self.pump();
    }

    /// The response body of `exchange` ended. A legacy SSE stream that ended before the answer
    /// it owes is resumed with `GET` + `Last-Event-ID` after the server's `retry` interval, a
    /// bounded number of times ([`HttpClientConfig::max_fruitless_resumptions`]); otherwise its
    /// request settles now as [`TransportFailure::StreamClosed`]. A legacy standalone stream is
    /// reopened after the `retry` interval.
    pub fn handle_body_end(&mut self, now: Instant, exchange: ExchangeId) {
        self.last_now = Some(now);
        if let Some(sse) = &mut self.sse {
            return sse.handle_body_end(now, exchange);
        }
        let Some(entry) = self.exchanges.remove(&exchange) else {
            self.pump();
            return;
        };
        self.standalone_answered(exchange);
        let delay = entry
            .events
            .as_ref()
            .and_then(|(decoder, _)| decoder.reconnection_time())
            .map_or(self.config.default_reconnect, Duration::from_millis);
        let at = now.checked_add(delay).unwrap_or(now);
        let legacy = self.legacy_version.is_some() && entry.events.is_some();
        match entry.kind {
            ExchangeKind::Reinitialize => self.reinitialized(now, None),
            ExchangeKind::Standalone if legacy && !self.deleted && self.session_id.is_some() => {
                self.reconnects.push(Reconnect {
                    at,
                    kind: ExchangeKind::Standalone,
                    scope: TransportScope::CONNECTION,
                    awaiting: None,
                    last_event_id: entry.last_event_id,
                    fruitless_resumptions: 0,
                });
            }
            ExchangeKind::Message | ExchangeKind::Resume
                if entry.scope != TransportScope::CONNECTION =>
            {
                let owed = entry
                    .awaiting
                    .as_ref()
                    .is_some_and(|id| self.client.is_awaiting(id));
                let resumable = legacy
                    && owed
                    && !entry.last_event_id.is_empty()
                    && entry.fruitless_resumptions < self.config.max_fruitless_resumptions;
                if resumable {
                    self.reconnects.push(Reconnect {
                        at,
                        kind: ExchangeKind::Resume,
                        scope: entry.scope,
                        awaiting: entry.awaiting,
                        last_event_id: entry.last_event_id,
                        fruitless_resumptions: entry.fruitless_resumptions,
                    });
                } else {
                    // Settles only what is still in flight on that scope: an answered request
                    // is gone.
                    self.client.handle_transport_closed(
                        now,
                        entry.scope,
                        TransportFailure::StreamClosed,
                    );
                }
            }
            _ => {}
        }
        self.pump();
    }

    /// The exchange failed at the network level (connection refused, reset, TLS…): its request
    /// settles with `reason`.
    pub fn handle_exchange_failed(&mut self, now: Instant, exchange: ExchangeId, reason: String) {
        self.fail_exchange(now, exchange, TransportFailure::ConnectionLost(reason));
    }

    /// The exchange ended without a response the machine should see, for `failure` (e.g.
    /// [`TransportFailure::Unauthorized`] when the adapter's authorization flow failed): its
    /// request settles with it. On the HTTP+SSE fallback the failure arrives as its text.
    pub fn fail_exchange(&mut self, now: Instant, exchange: ExchangeId, failure: TransportFailure) {
        self.last_now = Some(now);
        if let Some(sse) = &mut self.sse {
            let reason = match failure {
                TransportFailure::ConnectionLost(reason) => reason,
                other => other.to_string(),
            };
            return sse.handle_exchange_failed(now, exchange, reason);
        }
        if let Some(entry) = self.exchanges.remove(&exchange) {
            self.standalone_answered(exchange);
            if entry.kind == ExchangeKind::Reinitialize {
                self.reinitialized(now, None);
            } else if entry.scope != TransportScope::CONNECTION {
                self.client
                    .handle_transport_closed(now, entry.scope, failure);
            }
        }
        self.pump();
    }

    /// Starts a graceful close; a legacy session is ended with `DELETE` once the client closed.
    pub fn close(&mut self, now: Instant) {
        self.last_now = Some(now);
        if let Some(sse) = &mut self.sse {
            return sse.close(now);
        }
        self.client.close(now);
        self.pump();
    }

    fn http_failure(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> TransportFailure {
        http_status_failure(status, headers, body, self.config.max_error_excerpt)
    }

    /// Adopts the session the server assigned (see [`Exchange::answers_initialize`]).
    fn capture_session(&mut self, headers: &HeaderMap) {
        if let Some(id) = headers.get(SESSION_ID_HEADER) {
            self.session_id = Some(id.clone());
        }
    }

    /// Turns the endpoint's transmits into HTTP requests and its events into ours.
    fn pump(&mut self) {
        while let Some(event) = self.client.poll_event() {
            if self.sse_fallback_armed {
                match &event {
                    // The Streamable HTTP endpoint is done; HTTP+SSE takes over and its own
                    // handshake's outcome is what the application sees.
                    ClientEvent::HandshakeFailed(_)
                        if self.sse.is_none() && self.fall_back_to_sse() =>
                    {
                        continue;
                    }
                    ClientEvent::Closed(_) if self.sse.is_some() => continue,
                    _ => {}
                }
            }
            let event = self.screen_tools(event);
            match &event {
                ClientEvent::Ready(negotiated) if negotiated.era == Era::Legacy => {
                    self.legacy_version = Some(negotiated.protocol_version.as_str().to_owned());
                    self.client
                        .set_cancellation_style(CancellationStyle::Notify);
                    let opened = self.send_get(
                        ExchangeKind::Standalone,
                        TransportScope::CONNECTION,
                        None,
                        "",
                        0,
                    );
                    if let (Some(exchange), Some(now)) = (opened, self.last_now) {
                        let until = now.checked_add(self.config.standalone_wait).unwrap_or(now);
                        self.standalone_opening = Some((exchange, until));
                    }
                }
                ClientEvent::Closed(_) => {
                    self.release_awaiting_standalone();
                    self.reconnects.clear();
                    self.delete_session();
                }
                _ => {}
            }
            self.events.push_back(event);
        }
        while let Some(transmit) = self.client.poll_transmit() {
            match transmit {
                Transmit::Send { scope, message } => self.post(scope, message, false),
                Transmit::CloseScope(scope) => {
                    self.reconnects.retain(|r| r.scope != scope);
                    let exchange = self
                        .exchanges
                        .iter()
                        .find(|(_, e)| e.scope == scope)
                        .map(|(id, _)| *id);
                    if let Some(exchange) = exchange {
                        self.exchanges.remove(&exchange);
                        self.outputs.push_back(HttpClientOutput::Abort { exchange });
                    }
                }
            }
        }
    }

    fn new_exchange(&mut self, kind: ExchangeKind, scope: TransportScope) -> ExchangeId {
        let exchange = ExchangeId(self.next_exchange);
        self.next_exchange = self.next_exchange.saturating_add(1);
        self.exchanges.insert(
            exchange,
            Exchange {
                kind,
                scope,
                awaiting: None,
                request: None,
                retried: false,
                events: None,
                last_event_id: String::new(),
                fruitless_resumptions: 0,
                carries_initialize: false,
            },
        );
        exchange
    }

    fn base_request(&self, method: Method) -> http::request::Builder {
        let mut builder = http::Request::builder()
            .method(method)
            .uri(self.config.endpoint.clone());
        if let Some(host) = super::host_header(&self.config.endpoint) {
            builder = builder.header(HOST, host);
        }
        for (name, value) in &self.config.headers {
            builder = builder.header(name, value);
        }
        if let Some(session) = &self.session_id {
            builder = builder.header(SESSION_ID_HEADER, session.clone());
        }
        builder
    }

    /// POSTs one message of the endpoint (held back while a replacement session is set up).
    fn post(&mut self, scope: TransportScope, message: Message, retried: bool) {
        if self.reinitializing.is_some() {
            self.held.push(Held {
                scope,
                message,
                retried,
            });
            return;
        }
        // Notifications (`notifications/initialized` first) go at once; from the first request
        // on, everything waits, in order, for the standalone stream.
        let waits = self.standalone_opening.is_some()
            && (matches!(message, Message::Request(_)) || !self.awaiting_standalone.is_empty());
        if waits {
            self.awaiting_standalone.push(Held {
                scope,
                message,
                retried,
            });
            return;
        }
        let mut builder = self
            .base_request(Method::POST)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json, text/event-stream");
        let (method, params) = match &message {
            Message::Request(r) => (Some(r.method.as_str()), r.params.as_ref()),
            Message::Notification(n) => (Some(n.method.as_str()), n.params.as_ref()),
            Message::Response(_) | Message::Error(_) => (None, None),
        };
        if method == Some("initialize") {
            self.initialize_params = params.cloned();
        }
        let modern_version = params.and_then(Meta::from_params).and_then(|meta| {
            meta.get(crate::types::meta::PROTOCOL_VERSION_KEY)
                .and_then(|v| v.as_str().map(str::to_owned))
        });
        match (&modern_version, &self.legacy_version) {
            (Some(version), _) => {
                builder = builder.header(PROTOCOL_VERSION_HEADER, version.as_str());
                if let Some(method) = method {
                    builder = builder.header(METHOD_HEADER, encode_header_value(method).as_ref());
                    if let Some(name) = name_in_body(method, params) {
                        builder = builder.header(NAME_HEADER, encode_header_value(&name).as_ref());
                        if method == TOOLS_CALL {
                            for (header, value) in self.mirrored_params(&name, params) {
                                builder = builder.header(header, value);
                            }
                        }
                    }
                }
            }
            (None, Some(version)) => {
                builder = builder.header(PROTOCOL_VERSION_HEADER, version.as_str())
            }
            (None, None) => {}
        }
        let body = jsonrpc::encode(&message);
        let keep_for_retry = self.session_id.is_some() && self.legacy_version.is_some();
        // Only a request's POST has an answer anyone waits for. Our answer to a server's
        // request keeps the scope of the stream that request came on, yet its POST (answered
        // 202) must not end that stream's own request.
        let scope = match message {
            Message::Request(_) => scope,
            _ => TransportScope::CONNECTION,
        };
        let exchange = self.new_exchange(ExchangeKind::Message, scope);
        if let Some(entry) = self.exchanges.get_mut(&exchange) {
            entry.awaiting = match &message {
                Message::Request(r) => Some(r.id.clone()),
                _ => None,
            };
            entry.retried = retried;
            entry.carries_initialize = method == Some("initialize");
            entry.request = keep_for_retry.then_some(message);
        }
        match builder.body(body) {
            Ok(request) => self
                .outputs
                .push_back(HttpClientOutput::Send { exchange, request }),
            // Only an endpoint URL or configured header the http crate refuses gets here; the
            // request fails like a broken connection rather than hanging.
            Err(error) => {
                self.exchanges.remove(&exchange);
                self.fail_unsent(scope, &error.to_string());
            }
        }
    }

    /// A request that could not even be built fails like a broken connection.
    fn fail_unsent(&mut self, scope: TransportScope, reason: &str) {
        // `start` set `last_now`, and nothing is sent before it.
        if let (Some(now), true) = (self.last_now, scope != TransportScope::CONNECTION) {
            let failure = TransportFailure::ConnectionLost(format!(
                "cannot build the HTTP request: {reason}"
            ));
            self.client.handle_transport_closed(now, scope, failure);
        }
    }

    /// A stream whose reconnection time came: reopened, unless nothing waits for it any more.
    fn reconnect(&mut self, now: Instant, reconnect: Reconnect) {
        match reconnect.kind {
            ExchangeKind::Resume => {
                let owed = reconnect
                    .awaiting
                    .as_ref()
                    .is_some_and(|id| self.client.is_awaiting(id));
                if !owed {
                    return;
                }
            }
            _ => {
                if self.deleted || self.session_id.is_none() {
                    return;
                }
            }
        }
        self.last_now = Some(now);
        let _ = self.send_get(
            reconnect.kind,
            reconnect.scope,
            reconnect.awaiting,
            &reconnect.last_event_id,
            reconnect.fruitless_resumptions.saturating_add(1),
        );
    }

    /// A GET for an SSE stream: a legacy session's standalone stream (which carries the
    /// server's own requests and notifications; 405 means there is none, which is not an
    /// error), or with `Last-Event-ID` the resumption of a stream.
    fn send_get(
        &mut self,
        kind: ExchangeKind,
        scope: TransportScope,
        awaiting: Option<RequestId>,
        last_event_id: &str,
        fruitless_resumptions: u32,
    ) -> Option<ExchangeId> {
        if self.session_id.is_none() && kind == ExchangeKind::Standalone {
            return None;
        }
        let mut builder = self
            .base_request(Method::GET)
            .header(ACCEPT, "text/event-stream");
        if let Some(version) = &self.legacy_version {
            builder = builder.header(PROTOCOL_VERSION_HEADER, version.as_str());
        }
        if !last_event_id.is_empty() {
            builder = builder.header(LAST_EVENT_ID, last_event_id);
        }
        let exchange = self.new_exchange(kind, scope);
        if let Some(entry) = self.exchanges.get_mut(&exchange) {
            entry.awaiting = awaiting;
            last_event_id.clone_into(&mut entry.last_event_id);
            entry.fruitless_resumptions = fruitless_resumptions;
        }
        match builder.body(Vec::new()) {
            Ok(request) => {
                self.outputs
                    .push_back(HttpClientOutput::Send { exchange, request });
                Some(exchange)
            }
            // An event id no header can carry: the stream cannot be resumed.
            Err(error) => {
                self.exchanges.remove(&exchange);
                self.fail_unsent(scope, &error.to_string());
                None
            }
        }
    }

    /// `exchange` was answered, refused or failed: if it is the new session's standalone
    /// stream, the requests waiting for it go out now.
    fn standalone_answered(&mut self, exchange: ExchangeId) {
        if self
            .standalone_opening
            .is_some_and(|(opening, _)| opening == exchange)
        {
            self.release_awaiting_standalone();
        }
    }

    fn release_awaiting_standalone(&mut self) {
        self.standalone_opening = None;
        for Held {
            scope,
            message,
            retried,
        } in std::mem::take(&mut self.awaiting_standalone)
        {
            self.post(scope, message, retried);
        }
    }

    /// A 404 to a message that carried the session id: the server lost the session. The
    /// message is held and sent again (once) on a new session, which starts now unless one is
    /// already starting. Returns `false` when the 404 must be reported instead.
    fn retry_on_new_session(&mut self, now: Instant, entry: &Exchange) -> bool {
        let (false, Some(message), Some(_)) = (
            entry.retried,
            entry.request.clone(),
            self.initialize_params.as_ref(),
        ) else {
            return false;
        };
        self.held.push(Held {
            scope: entry.scope,
            message,
            retried: true,
        });
        if self.reinitializing.is_none() {
            self.session_id = None;
            self.reinitialize(now);
        }
        true
    }

    /// Sends `initialize` again, as the spec requires after a 404 on a session: a new session
    /// with the parameters of the first.
    fn reinitialize(&mut self, now: Instant) {
        self.last_now = Some(now);
        self.reinitializations = self.reinitializations.saturating_add(1);
        let message = Message::Request(Request {
            id: RequestId::String(format!("reinitialize-{}", self.reinitializations)),
            method: "initialize".to_owned(),
            params: self.initialize_params.clone(),
        });
        let exchange = self.new_exchange(ExchangeKind::Reinitialize, TransportScope::CONNECTION);
        let request = self
            .base_request(Method::POST)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json, text/event-stream")
            .body(jsonrpc::encode(&message));
        match request {
            Ok(request) => {
                self.reinitializing = Some(exchange);
                self.outputs
                    .push_back(HttpClientOutput::Send { exchange, request });
            }
            Err(_) => {
                self.exchanges.remove(&exchange);
                self.reinitialized(now, None);
            }
        }
    }

    /// The replacement session's `initialize` was answered (`None`: it failed). On success the
    /// held messages go out on the new session; otherwise the requests among them fail with the
    /// 404 that started it all.
    fn reinitialized(&mut self, now: Instant, answer: Option<Message>) {
        self.reinitializing = None;
        let held = std::mem::take(&mut self.held);
        let same_version = match &answer {
            Some(Message::Response(response)) => response
                .result
                .parse::<serde_json::Value>()
                .ok()
                .and_then(|v| v.get("protocolVersion")?.as_str().map(str::to_owned))
                .is_some_and(|v| Some(&v) == self.legacy_version.as_ref()),
            _ => false,
        };
        if same_version && self.session_id.is_some() {
            let initialized = Message::Notification(Notification {
                method: "notifications/initialized".to_owned(),
                params: None,
            });
            self.post(TransportScope::CONNECTION, initialized, true);
            for Held {
                scope,
                message,
                retried,
            } in held
            {
                self.post(scope, message, retried);
            }
            return;
        }
        self.session_id = None;
        let failure = TransportFailure::HttpStatus {
            status: StatusCode::NOT_FOUND.as_u16(),
            www_authenticate: None,
            body_excerpt: "the server ended the session and a new one could not be started"
                .to_owned(),
        };
        for item in held {
            if item.scope != TransportScope::CONNECTION {
                self.client
                    .handle_transport_closed(now, item.scope, failure.clone());
            }
        }
    }

    /// The `Mcp-Param-*` headers of a modern `tools/call` of `tool`.
    fn mirrored_params(
        &self,
        tool: &str,
        params: Option<&RawJson>,
    ) -> Vec<(http::HeaderName, HeaderValue)> {
        if self.param_headers.get(tool).is_none() {
            return Vec::new();
        }
        let arguments = params
            .and_then(|p| p.parse::<serde_json::Value>().ok())
            .and_then(
                |mut p| match p.get_mut("arguments").map(serde_json::Value::take) {
                    Some(serde_json::Value::Object(arguments)) => Some(arguments),
                    _ => None,
                },
            );
        self.param_headers
            .headers_for_call(tool, arguments.as_ref())
    }

    /// A modern `tools/list` result: the tools' `x-mcp-header` annotations are learnt, and a
    /// tool with invalid ones is taken out of the result (each reported as
    /// [`ClientEvent::ToolExcluded`] just before it).
    fn screen_tools(&mut self, event: ClientEvent) -> ClientEvent {
        let modern = self
            .client
            .negotiated()
            .is_some_and(|n| n.era == Era::Modern);
        let ClientEvent::Response {
            id,
            method,
            outcome: Outcome::Result(raw),
        } = event
        else {
            return event;
        };
        let parsed = (modern && method == TOOLS_LIST)
            .then(|| {
                raw.parse::<serde_json::Map<String, serde_json::Value>>()
                    .ok()
            })
            .flatten();
        let Some(mut result) = parsed else {
            return ClientEvent::Response {
                id,
                method,
                outcome: Outcome::Result(raw),
            };
        };
        let tools: Vec<Tool> = result
            .get("tools")
            .and_then(|t| serde_json::from_value(t.clone()).ok())
            .unwrap_or_default();
        let (kept, excluded) = self.param_headers.observe_tools(tools);
        if excluded.is_empty() {
            return ClientEvent::Response {
                id,
                method,
                outcome: Outcome::Result(raw),
            };
        }
        for invalid in &excluded {
            self.events.push_back(ClientEvent::ToolExcluded {
                tool: invalid.tool.clone(),
                reason: invalid.to_string(),
            });
        }
        let outcome = serde_json::to_value(kept)
            .ok()
            .and_then(|kept| {
                result.insert("tools".to_owned(), kept);
                RawJson::from_serialize(&result).ok()
            })
            .map_or(Outcome::Result(raw), Outcome::Result);
        ClientEvent::Response {
            id,
            method,
            outcome,
        }
    }

    fn sse_client(&self) -> SseClient {
        let mut config =
            SseClientConfig::new(self.config.endpoint.clone(), self.config.client.clone());
        config.headers = self.config.headers.clone();
        config.max_error_excerpt = self.config.max_error_excerpt;
        let mut sse = SseClient::new(config);
        sse.continue_numbering_from(self.next_exchange);
        sse
    }

    /// Switches to HTTP+SSE; `false` (the handshake failure stands) if it cannot start.
    fn fall_back_to_sse(&mut self) -> bool {
        let Some(now) = self.last_now else {
            return false;
        };
        let mut sse = self.sse_client();
        if sse.start(now).is_err() {
            return false;
        }
        self.sse = Some(Box::new(sse));
        true
    }

    fn delete_session(&mut self) {
        if self.deleted || self.session_id.is_none() {
            return;
        }
        self.deleted = true;
        let exchange = self.new_exchange(ExchangeKind::Delete, TransportScope::CONNECTION);
        if let Ok(request) = self.base_request(Method::DELETE).body(Vec::new()) {
            self.outputs
                .push_back(HttpClientOutput::Send { exchange, request });
        }
    }
}

/// The failure an HTTP error status causes: the status, the `WWW-Authenticate` challenge and
/// the first `max_excerpt` bytes of the body.
pub(crate) fn http_status_failure(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    max_excerpt: usize,
) -> TransportFailure {
    let excerpt = body.get(..body.len().min(max_excerpt)).unwrap_or_default();
    TransportFailure::HttpStatus {
        status: status.as_u16(),
        www_authenticate: joined_field(headers, &WWW_AUTHENTICATE),
        body_excerpt: String::from_utf8_lossy(excerpt).into_owned(),
    }
}

/// Every line of field `name` as one value, joined with `, ` (RFC 9110 §5.3: a list field's
/// lines are one comma-separated list; `WWW-Authenticate` challenges are such a list). Lines
/// that are not visible ASCII are skipped. `None` when the field is absent.
pub(crate) fn joined_field(headers: &HeaderMap, name: &http::header::HeaderName) -> Option<String> {
    let mut joined: Option<String> = None;
    for line in headers.get_all(name).iter().filter_map(|v| v.to_str().ok()) {
        match &mut joined {
            Some(joined) => {
                joined.push_str(", ");
                joined.push_str(line);
            }
            None => joined = Some(line.to_owned()),
        }
    }
    joined
}

pub(crate) fn is_content_type(headers: &HeaderMap, essence: &str) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(essence))
}

#[cfg(test)]
mod www_authenticate_tests {
    use super::*;

    #[test]
    fn every_challenge_line_is_kept() {
        let mut headers = HeaderMap::new();
        headers.append(WWW_AUTHENTICATE, "Basic realm=\"x\"".parse().unwrap());
        headers.append(
            WWW_AUTHENTICATE,
            "Bearer resource_metadata=\"https://rs/.well-known/oauth-protected-resource\""
                .parse()
                .unwrap(),
        );
        let failure = http_status_failure(StatusCode::UNAUTHORIZED, &headers, b"no", 16);
        let TransportFailure::HttpStatus {
            www_authenticate: Some(joined),
            ..
        } = failure
        else {
            panic!("{failure:?}");
        };
        assert_eq!(
            joined,
            "Basic realm=\"x\", Bearer resource_metadata=\"https://rs/.well-known/oauth-protected-resource\""
        );
        let challenges = crate::auth::parse_challenges([joined.as_bytes()]).unwrap();
        assert!(crate::auth::BearerChallenge::find(&challenges).is_some());
        assert_eq!(joined_field(&HeaderMap::new(), &WWW_AUTHENTICATE), None);
    }
}
