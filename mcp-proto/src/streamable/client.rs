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
//! stream that ends before the answer settles it as [`TransportFailure::StreamClosed`].
//!
//! Each POST carries what the era needs: `Accept: application/json, text/event-stream`,
//! `Content-Type`, `MCP-Protocol-Version` once known, the legacy `Mcp-Session-Id`, the modern
//! `Mcp-Method` and `Mcp-Name` (base64-encoded when not plain ASCII), and the configured headers
//! (e.g. `Authorization`). A legacy session's standalone stream is opened with `GET` once the
//! handshake assigned a session (405 means there is none), and closing it sends `DELETE`.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use http::header::{ACCEPT, CONTENT_TYPE, HOST, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};

use super::validate::{
    METHOD_HEADER, NAME_HEADER, PROTOCOL_VERSION_HEADER, SESSION_ID_HEADER, name_in_body,
};
use crate::engine::{
    CancellationStyle, ClientConfig, ClientEndpoint, ClientEvent, ScopePolicy, Transmit,
    TransportFailure, TransportScope,
};
use crate::framing::{SseDecoder, SseItem, SseStatus};
use crate::http::encode_header_value;
use crate::jsonrpc::{self, DecodeOptions, Message};
use crate::types::{Era, Meta};

/// The default longest body excerpt kept in an HTTP error.
pub const DEFAULT_ERROR_EXCERPT: usize = 512;

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
        }
    }
}

#[derive(Debug)]
struct Exchange {
    /// The request's scope; `CONNECTION` for notifications and DELETE, which settle nothing.
    scope: TransportScope,
    /// The SSE decoder and unconsumed bytes, once the response turned out to be a stream.
    events: Option<(SseDecoder, Vec<u8>)>,
}

/// The Streamable HTTP client. See the [module docs](self).
#[derive(Debug)]
pub struct HttpClient {
    config: HttpClientConfig,
    client: ClientEndpoint,
    session_id: Option<HeaderValue>,
    /// The protocol version of the legacy session (sent in `MCP-Protocol-Version`).
    legacy_version: Option<String>,
    exchanges: HashMap<ExchangeId, Exchange>,
    outputs: VecDeque<HttpClientOutput>,
    events: VecDeque<ClientEvent>,
    next_exchange: u64,
    deleted: bool,
    /// The latest time handed in, for settling requests whose HTTP request cannot be built.
    last_now: Option<Instant>,
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
            exchanges: HashMap::new(),
            outputs: VecDeque::new(),
            events: VecDeque::new(),
            next_exchange: 1,
            deleted: false,
            last_now: None,
        }
    }

    /// The MCP client role: send requests through it; its events come from
    /// [`HttpClient::poll_event`].
    pub fn endpoint(&mut self) -> &mut ClientEndpoint {
        &mut self.client
    }

    /// Starts the handshake (era probe, fallback to `initialize`).
    ///
    /// # Errors
    /// As [`ClientEndpoint::start`].
    pub fn start(&mut self, now: Instant) -> Result<(), crate::engine::ClientError> {
        self.last_now = Some(now);
        self.client.start(now)
    }

    /// The legacy session id, once the server assigned one.
    #[must_use]
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_ref().and_then(|v| v.to_str().ok())
    }

    /// The next application event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.pump();
        self.events.pop_front()
    }

    /// The next network action. Call after every `handle_*` and after sending through
    /// [`HttpClient::endpoint`].
    pub fn poll_output(&mut self) -> Option<HttpClientOutput> {
        self.pump();
        self.outputs.pop_front()
    }

    /// When to call [`HttpClient::handle_timeout`] next.
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

    /// A complete (non-streaming) response arrived for `exchange`. An error status settles the
    /// request it carried before this returns.
    pub fn handle_response(
        &mut self,
        now: Instant,
        exchange: ExchangeId,
        response: http::Response<Vec<u8>>,
    ) {
        self.last_now = Some(now);
        let Some(entry) = self.exchanges.remove(&exchange) else {
            return;
        };
        self.capture_session(response.headers());
        if entry.scope == TransportScope::CONNECTION {
            // A notification's 202, a DELETE's answer: nothing waits on them.
            return;
        }
        let status = response.status();
        let decoded = is_content_type(response.headers(), "application/json")
            .then(|| jsonrpc::decode_message(response.body(), &DecodeOptions::default()));
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
        self.capture_session(head.headers());
        let is_stream =
            head.status().is_success() && is_content_type(head.headers(), "text/event-stream");
        match self.exchanges.get_mut(&exchange) {
            Some(entry) if is_stream => entry.events = Some((SseDecoder::new(), Vec::new())),
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
        let Some(entry) = self.exchanges.get_mut(&exchange) else {
            return;
        };
        let scope = entry.scope;
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
        for message in messages {
            match message {
                Ok(message) => self.client.handle_message(now, scope, message),
                Err(error) => self.client.handle_invalid_message(now, scope, error),
            }
        }
        self.pump();
    }

    /// The response body of `exchange` ended. If its request has not been answered, it settles
    /// now as [`TransportFailure::StreamClosed`].
    pub fn handle_body_end(&mut self, now: Instant, exchange: ExchangeId) {
        self.last_now = Some(now);
        if let Some(entry) = self.exchanges.remove(&exchange)
            && entry.scope != TransportScope::CONNECTION
        {
            // Settles only what is still in flight on that scope: an answered request is gone.
            self.client
                .handle_transport_closed(now, entry.scope, TransportFailure::StreamClosed);
        }
        self.pump();
    }

    /// The exchange failed at the network level (connection refused, reset, TLS…): its request
    /// settles with `reason`.
    pub fn handle_exchange_failed(&mut self, now: Instant, exchange: ExchangeId, reason: String) {
        self.last_now = Some(now);
        if let Some(entry) = self.exchanges.remove(&exchange)
            && entry.scope != TransportScope::CONNECTION
        {
            self.client.handle_transport_closed(
                now,
                entry.scope,
                TransportFailure::ConnectionLost(reason),
            );
        }
        self.pump();
    }

    /// Starts a graceful close; a legacy session is ended with `DELETE` once the client closed.
    pub fn close(&mut self, now: Instant) {
        self.last_now = Some(now);
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

    fn capture_session(&mut self, headers: &HeaderMap) {
        if let Some(id) = headers.get(SESSION_ID_HEADER) {
            self.session_id = Some(id.clone());
        }
    }

    /// Turns the endpoint's transmits into HTTP requests and its events into ours.
    fn pump(&mut self) {
        while let Some(event) = self.client.poll_event() {
            match &event {
                ClientEvent::Ready(negotiated) if negotiated.era == Era::Legacy => {
                    self.legacy_version = Some(negotiated.protocol_version.as_str().to_owned());
                    self.client
                        .set_cancellation_style(CancellationStyle::Notify);
                    self.open_standalone_stream();
                }
                ClientEvent::Closed(_) => self.delete_session(),
                _ => {}
            }
            self.events.push_back(event);
        }
        while let Some(transmit) = self.client.poll_transmit() {
            match transmit {
                Transmit::Send { scope, message } => self.post(scope, &message),
                Transmit::CloseScope(scope) => {
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

    fn new_exchange(&mut self, scope: TransportScope) -> ExchangeId {
        let exchange = ExchangeId(self.next_exchange);
        self.next_exchange = self.next_exchange.saturating_add(1);
        self.exchanges.insert(
            exchange,
            Exchange {
                scope,
                events: None,
            },
        );
        exchange
    }

    fn base_request(&self, method: Method) -> http::request::Builder {
        let mut builder = http::Request::builder()
            .method(method)
            .uri(self.config.endpoint.clone());
        if let Some(authority) = self.config.endpoint.authority()
            && let Ok(host) = HeaderValue::from_str(authority.as_str())
        {
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

    fn post(&mut self, scope: TransportScope, message: &Message) {
        let mut builder = self
            .base_request(Method::POST)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json, text/event-stream");
        let (method, params) = match message {
            Message::Request(r) => (Some(r.method.as_str()), r.params.as_ref()),
            Message::Notification(n) => (Some(n.method.as_str()), n.params.as_ref()),
            Message::Response(_) | Message::Error(_) => (None, None),
        };
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
                    }
                }
            }
            (None, Some(version)) => {
                builder = builder.header(PROTOCOL_VERSION_HEADER, version.as_str())
            }
            (None, None) => {}
        }
        let exchange = self.new_exchange(scope);
        match builder.body(jsonrpc::encode(message)) {
            Ok(request) => self
                .outputs
                .push_back(HttpClientOutput::Send { exchange, request }),
            // Only an endpoint URL or configured header the http crate refuses gets here; the
            // request fails like a broken connection rather than hanging.
            Err(error) => {
                self.exchanges.remove(&exchange);
                // `start` set `last_now`, and nothing is sent before it.
                if let (Some(now), true) = (self.last_now, scope != TransportScope::CONNECTION) {
                    let failure = TransportFailure::ConnectionLost(format!(
                        "cannot build the HTTP request: {error}"
                    ));
                    self.client.handle_transport_closed(now, scope, failure);
                }
            }
        }
    }

    /// Opens a legacy session's standalone SSE stream (GET), which carries the server's own
    /// requests and notifications. A server without one answers 405, which is not an error:
    /// the response is simply dropped. (When the stream ends it is not reopened; resumption
    /// with `Last-Event-ID` is not implemented yet.)
    fn open_standalone_stream(&mut self) {
        if self.session_id.is_none() {
            return;
        }
        let mut builder = self
            .base_request(Method::GET)
            .header(ACCEPT, "text/event-stream");
        if let Some(version) = &self.legacy_version {
            builder = builder.header(PROTOCOL_VERSION_HEADER, version.as_str());
        }
        let exchange = self.new_exchange(TransportScope::CONNECTION);
        if let Ok(request) = builder.body(Vec::new()) {
            self.outputs
                .push_back(HttpClientOutput::Send { exchange, request });
        }
    }

    fn delete_session(&mut self) {
        if self.deleted || self.session_id.is_none() {
            return;
        }
        self.deleted = true;
        let exchange = self.new_exchange(TransportScope::CONNECTION);
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
        www_authenticate: headers
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body_excerpt: String::from_utf8_lossy(excerpt).into_owned(),
    }
}

pub(crate) fn is_content_type(headers: &HeaderMap, essence: &str) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(essence))
}
