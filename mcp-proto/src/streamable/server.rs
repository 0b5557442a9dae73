//! [`HttpServer`]: the server side of Streamable HTTP as a Sans-IO state machine, on top of a
//! [`ServerEndpoint`].
//!
//! The adapter parses each HTTP request (e.g. with [`crate::h1`]) and calls
//! [`HttpServer::handle_post`], which returns the [`StreamId`] its response belongs to. It then
//! drains [`HttpServer::poll_output`]: a whole response ([`HttpOutput::Respond`]), or the head of
//! an SSE stream followed by its events and its end. When the client goes away before a stream
//! ends, [`HttpServer::handle_stream_closed`] tells the server: on the modern transport that is
//! the request's cancellation.
//!
//! Which body an answer gets is decided by what comes first on its stream: the final answer
//! alone becomes a JSON response (when the client accepts JSON); a notification first (progress,
//! a log message, a subscription acknowledgement) opens an SSE stream that the answer then ends.
//! A client that accepts only JSON gets no notifications.
//!
//! This covers the modern (2026-07-28) transport: `initialize` (legacy sessions) and batches
//! are refused with 400 until they are served here.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, StatusCode, request::Parts};

use super::validate::{HttpPolicy, HttpReject, status_for_answer, validate_post};
use crate::engine::{
    ServerConfig, ServerEndpoint, ServerEvent, Transmit, TransportFailure, TransportScope,
};
use crate::framing::sse::{SseEvent, encode_comment};
use crate::http::Acceptance;
use crate::jsonrpc::{self, Decoded, ErrorCode, ErrorObject, Message, RequestId};
use crate::types::Era;

/// The default interval between keep-alive comments on an idle SSE stream.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One HTTP exchange (a POST and its response) on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(pub u64);

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
    /// Bytes of one or more SSE events (or a keep-alive comment) to append to the stream.
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

/// Settings of an [`HttpServer`].
#[derive(Debug, Clone, PartialEq)]
pub struct HttpServerConfig {
    /// The HTTP rules (origins, hosts, body limit, versions).
    pub policy: HttpPolicy,
    /// The MCP server behind the endpoint.
    pub server: ServerConfig,
    /// Interval between keep-alive comments on idle SSE streams.
    pub keep_alive: Duration,
}

impl HttpServerConfig {
    /// The loopback policy and default keep-alive for `server`.
    #[must_use]
    pub fn new(server: ServerConfig) -> Self {
        Self {
            policy: HttpPolicy::loopback(),
            server,
            keep_alive: DEFAULT_KEEP_ALIVE,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Stream {
    /// Waiting for the first message of the answer to request `id`.
    Waiting {
        id: RequestId,
        acceptance: Acceptance,
    },
    /// An SSE stream is open; `last_write` drives keep-alives.
    Events { id: RequestId, last_write: Instant },
}

/// The Streamable HTTP server. See the [module docs](self).
#[derive(Debug)]
pub struct HttpServer {
    config: HttpServerConfig,
    modern: ServerEndpoint,
    streams: BTreeMap<StreamId, Stream>,
    outputs: VecDeque<HttpOutput>,
    next_stream: u64,
}

impl HttpServer {
    /// A server for one MCP endpoint.
    #[must_use]
    pub fn new(config: HttpServerConfig) -> Self {
        let modern = ServerEndpoint::new(config.server.clone());
        Self {
            config,
            modern,
            streams: BTreeMap::new(),
            outputs: VecDeque::new(),
            next_stream: 1,
        }
    }

    /// The MCP server role serving modern requests: take its events with
    /// [`HttpServer::poll_event`] and answer through it (`respond`, `progress`, `log`…); the
    /// answers reach the right HTTP exchange through [`HttpServer::poll_output`].
    pub fn endpoint(&mut self) -> &mut ServerEndpoint {
        &mut self.modern
    }

    /// The next application event (requests carry their stream in `context.scope`).
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.modern.poll_event()
    }

    /// A POST to the MCP endpoint arrived (head and complete body). Returns the exchange its
    /// response will belong to.
    pub fn handle_post(&mut self, now: Instant, parts: &Parts, body: &[u8]) -> StreamId {
        let stream = StreamId(self.next_stream);
        self.next_stream = self.next_stream.saturating_add(1);
        let validated = match validate_post(parts, body, &self.config.policy) {
            Ok(validated) => validated,
            Err(reject) => {
                self.outputs.push_back(HttpOutput::Respond {
                    stream,
                    response: reject.to_response(),
                });
                return stream;
            }
        };
        let opens_session = matches!(&validated.body, Decoded::Single(Message::Request(r)) if r.method == "initialize");
        if validated.era == Era::Legacy
            && (opens_session || matches!(validated.body, Decoded::Batch(_)))
        {
            // Legacy sessions (and 2025-03-26 batches) are not served by this endpoint; other
            // legacy-shaped requests reach the engine, which answers them as a modern server
            // must (a request without `_meta` gets -32602).
            let reject = HttpReject {
                status: StatusCode::BAD_REQUEST,
                error: Some(jsonrpc::ErrorResponse {
                    id: None,
                    error: ErrorObject::new(
                        ErrorCode::INVALID_REQUEST,
                        "this endpoint serves the 2026-07-28 protocol only",
                    ),
                }),
            };
            self.outputs.push_back(HttpOutput::Respond {
                stream,
                response: reject.to_response(),
            });
            return stream;
        }
        let Decoded::Single(message) = validated.body else {
            // validate_post never lets a batch through as modern.
            return stream;
        };
        let scope = TransportScope(stream.0);
        match &message {
            Message::Request(request) => {
                self.streams.insert(
                    stream,
                    Stream::Waiting {
                        id: request.id.clone(),
                        acceptance: validated.acceptance,
                    },
                );
                self.modern.handle_message(now, scope, message);
            }
            // Notifications (and responses, which modern clients do not send) get 202 at once.
            Message::Notification(_) | Message::Response(_) | Message::Error(_) => {
                self.modern.handle_message(now, scope, message);
                self.outputs.push_back(HttpOutput::Respond {
                    stream,
                    response: status_only(StatusCode::ACCEPTED),
                });
            }
        }
        self.route(now);
        stream
    }

    /// The client closed `stream` before it ended: its request is cancelled (modern rule).
    pub fn handle_stream_closed(&mut self, now: Instant, stream: StreamId) {
        if self.streams.remove(&stream).is_some() {
            self.modern.handle_transport_closed(
                now,
                TransportScope(stream.0),
                TransportFailure::StreamClosed,
            );
            self.route(now);
        }
    }

    /// Time passed: keep-alive comments on idle SSE streams.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.modern.handle_timeout(now);
        self.route(now);
        let keep_alive = self.config.keep_alive;
        for (stream, state) in &mut self.streams {
            if let Stream::Events { last_write, .. } = state
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
    /// [`HttpServer::endpoint`] (pass the current time: answers may open streams).
    pub fn poll_output(&mut self, now: Instant) -> Option<HttpOutput> {
        self.route(now);
        self.outputs.pop_front()
    }

    /// When to call [`HttpServer::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let keep_alive = self
            .streams
            .values()
            .filter_map(|s| match s {
                Stream::Events { last_write, .. } => last_write.checked_add(self.config.keep_alive),
                Stream::Waiting { .. } => None,
            })
            .min();
        match (keep_alive, self.modern.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Exchanges still open.
    #[must_use]
    pub fn open_streams(&self) -> usize {
        self.streams.len()
    }

    /// Moves the endpoint's messages onto their exchanges.
    fn route(&mut self, now: Instant) {
        while let Some(transmit) = self.modern.poll_transmit() {
            let Transmit::Send { scope, message } = transmit else {
                continue;
            };
            let stream = StreamId(scope.0);
            let Some(state) = self.streams.get(&stream).cloned() else {
                // Nothing waits on that stream (closed by the client, or a connection-wide
                // message, which the modern transport has no stream for): dropped.
                continue;
            };
            let is_answer = matches!(&message, Message::Response(_) | Message::Error(_));
            match state {
                Stream::Waiting { id, acceptance } => {
                    if is_answer
                        && (acceptance.accepts_json() || !acceptance.accepts_event_stream())
                    {
                        let status = status_for_answer(Era::Modern, &message);
                        self.outputs.push_back(HttpOutput::Respond {
                            stream,
                            response: json_response(status, &message),
                        });
                        self.streams.remove(&stream);
                    } else if acceptance.accepts_event_stream() {
                        self.outputs.push_back(HttpOutput::StartEvents {
                            stream,
                            head: event_stream_head(),
                        });
                        self.push_event(stream, &message);
                        if is_answer {
                            self.end(stream);
                        } else {
                            self.streams.insert(
                                stream,
                                Stream::Events {
                                    id,
                                    last_write: now,
                                },
                            );
                        }
                    }
                    // JSON-only clients cannot receive notifications before the answer: dropped.
                }
                Stream::Events { id, .. } => {
                    self.push_event(stream, &message);
                    if is_answer {
                        self.end(stream);
                    } else {
                        self.streams.insert(
                            stream,
                            Stream::Events {
                                id,
                                last_write: now,
                            },
                        );
                    }
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
}

fn status_only(status: StatusCode) -> http::Response<Vec<u8>> {
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
fn event_stream_head() -> http::Response<()> {
    let mut head = http::Response::new(());
    let headers = head.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    head
}
