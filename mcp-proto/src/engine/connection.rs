//! [`Connection`]: one JSON-RPC conversation with a peer, as a Sans-IO state machine.
//!
//! It knows nothing of MCP methods beyond the two notifications every connection needs
//! (`notifications/cancelled` and `notifications/progress`), and nothing of bytes: transports
//! decode frames into [`Message`]s and hand them in; the role layers (client, server) sit on top
//! and decide what requests mean.
//!
//! # The loop
//! After every input (`handle_*`) or command (`request`, `notify`, `respond`, `cancel`, `close`,
//! `abort`), drain [`Connection::poll_transmit`] and [`Connection::poll_event`] until they return
//! `None`, then wait until [`Connection::poll_timeout`] (or the next input) and call
//! [`Connection::handle_timeout`]. Time only ever comes in as an argument.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use mcp_proto::engine::{Connection, ConnectionConfig, Event, RequestOptions, Transmit};
//! use mcp_proto::jsonrpc::{Message, RawJson, Response};
//!
//! let t0 = Instant::now();
//! let mut conn = Connection::new(ConnectionConfig::default());
//! let id = conn.request(t0, "tools/list", None, RequestOptions::default()).unwrap();
//! let Some(Transmit::Send { message, .. }) = conn.poll_transmit() else { panic!() };
//! assert_eq!(message.method(), Some("tools/list"));
//!
//! // The peer answers; the request settles exactly once.
//! let answer = Message::Response(Response { id: id.clone(), result: RawJson::from_text("{}").unwrap() });
//! conn.handle_message(t0, Default::default(), answer.clone());
//! assert!(matches!(conn.poll_event(), Some(Event::Settled(s)) if s.id == id));
//! // A duplicate answer is reported and dropped.
//! conn.handle_message(t0, Default::default(), answer);
//! assert!(matches!(conn.poll_event(), Some(Event::UnmatchedResponse(_))));
//!
//! conn.close(t0);
//! assert!(matches!(conn.poll_event(), Some(Event::Closed(_))));
//! ```

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::lifecycle::{self, CloseReason, Input, State};
use super::pending::{
    InboundError, InboundRequests, OutboundRequests, Outcome, PendingLimits, RequestFailure,
    Settled, TransportFailure, TransportScope,
};
use crate::jsonrpc::{
    DecodeError, ErrorCode, ErrorObject, ErrorResponse, Message, Notification, RawJson, Request,
    RequestId, Response,
};
use crate::types::methods::{INITIALIZE, NOTIFICATION_CANCELLED, NOTIFICATION_PROGRESS};
use crate::types::{CancelledNotificationParams, ProgressNotificationParams, ProgressToken};

/// The default time a graceful close waits for requests in flight.
pub const DEFAULT_CLOSE_GRACE: Duration = Duration::from_secs(5);

/// How the peer learns that this side gave up on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CancellationStyle {
    /// Send `notifications/cancelled` (stdio, legacy HTTP).
    #[default]
    Notify,
    /// Close the request's stream: on modern Streamable HTTP closing the stream *is* the
    /// cancellation, so [`Transmit::CloseScope`] is emitted instead of a notification.
    CloseStream,
}

/// How outbound requests map to transport scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScopePolicy {
    /// Everything travels on [`TransportScope::CONNECTION`] (stdio, in-memory).
    #[default]
    Shared,
    /// Each outbound request gets a scope of its own (one HTTP POST each); the scope's number is
    /// the request's sequence number.
    PerRequest,
}

/// Settings of a [`Connection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// Bounds of the request tables.
    pub limits: PendingLimits,
    /// How long `close` waits for requests in flight.
    pub close_grace: Duration,
    /// How a cancel or timeout reaches the peer.
    pub cancellation: CancellationStyle,
    /// How outbound requests map to transport scopes.
    pub scopes: ScopePolicy,
    /// Whether a message that could not be decoded is answered with a JSON-RPC error response.
    /// True for sides that may send responses (servers, legacy clients); a modern client sends
    /// no responses at all.
    pub answer_invalid_messages: bool,
    /// Progress notifications accepted per second; beyond it they are dropped (no event, no
    /// deadline extension), so a peer cannot flood the application or keep a request alive.
    pub max_progress_per_second: u32,
}

/// The default bound on incoming progress notifications per second.
pub const DEFAULT_MAX_PROGRESS_PER_SECOND: u32 = 100;

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            limits: PendingLimits::default(),
            close_grace: DEFAULT_CLOSE_GRACE,
            cancellation: CancellationStyle::Notify,
            scopes: ScopePolicy::Shared,
            answer_invalid_messages: true,
            max_progress_per_second: DEFAULT_MAX_PROGRESS_PER_SECOND,
        }
    }
}

/// Per-request options for [`Connection::request`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestOptions {
    /// How long to wait; defaults to [`PendingLimits::default_timeout`].
    pub timeout: Option<Duration>,
    /// A progress token the caller put in the request's `_meta`; progress notifications carrying
    /// it extend the deadline.
    pub progress_token: Option<ProgressToken>,
    /// A long-lived request (`subscriptions/listen`): no deadline, no lifetime cap; `timeout`
    /// and `progress_token` are ignored for the deadline.
    pub long_lived: bool,
}

/// Something to put on the wire.
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transmit {
    /// Send `message` on `scope` (for an answer: the scope its request arrived on).
    Send {
        /// The transport scope.
        scope: TransportScope,
        /// The message.
        message: Message,
    },
    /// Close the stream of `scope` (modern HTTP cancellation).
    CloseScope(TransportScope),
}

/// What happened, for the role layer and the application.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The peer sent a request; answer it with [`Connection::respond`].
    Request {
        /// Its id (in the peer's id space).
        id: RequestId,
        /// Its method.
        method: String,
        /// Its parameters, unparsed.
        params: Option<RawJson>,
        /// The scope it arrived on.
        scope: TransportScope,
    },
    /// The peer sent a notification (progress notifications too, after they extended deadlines).
    Notification {
        /// Its method.
        method: String,
        /// Its parameters, unparsed.
        params: Option<RawJson>,
    },
    /// One of our requests ended. Exactly one per request.
    Settled(Settled),
    /// The peer cancelled one of its requests: do not answer it.
    PeerCancelled {
        /// The cancelled request.
        id: RequestId,
        /// The peer's reason, if any.
        reason: Option<String>,
    },
    /// The peer sent an error response without an id: it could not read something this side
    /// sent (no request can be settled by it).
    PeerError(ErrorObject),
    /// A response matched no request in flight (late or duplicated); it was dropped.
    UnmatchedResponse(RequestId),
    /// The peer sent something that is not a valid message and could not be attributed to a
    /// request of ours.
    InvalidMessage(DecodeError),
    /// The connection is closed. Emitted exactly once, last.
    Closed(CloseReport),
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReport {
    /// Why it closed.
    pub reason: CloseReason,
    /// Requests that got their answer while the connection was closing.
    pub completed_while_closing: usize,
    /// Requests that were still in flight and were abandoned: id and method.
    pub abandoned: Vec<(RequestId, String)>,
    /// Peer requests left unanswered.
    pub unanswered_peer_requests: usize,
}

/// Why a command was refused. The caller is at fault or too late.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalError {
    /// The connection is closing: no new requests.
    #[error("the connection is closing")]
    Closing,
    /// The connection is closed.
    #[error("the connection is closed")]
    Closed,
    /// The request could not be registered.
    #[error(transparent)]
    Begin(#[from] super::pending::BeginError),
    /// The answer was refused: the request was already answered, cancelled by the peer, or never
    /// received.
    #[error(transparent)]
    Inbound(#[from] InboundError),
    /// Parameters could not be serialized.
    #[error("parameters could not be serialized: {0}")]
    Serialize(String),
}

/// One JSON-RPC conversation. See the [module docs](self).
#[derive(Debug)]
pub struct Connection {
    config: ConnectionConfig,
    state: State,
    outbound: OutboundRequests,
    inbound: InboundRequests,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    next_scope: u64,
    completed_while_closing: usize,
    abandoned: Vec<(RequestId, String)>,
    closed_reported: bool,
    /// The latest `now` seen; earlier values are clamped to it so time never runs backwards.
    last_now: Option<Instant>,
    /// Start of the current one-second progress window and how many arrived in it.
    progress_window: Option<(Instant, u32)>,
    dropped_progress: u64,
}

impl Connection {
    /// A new, open connection.
    #[must_use]
    pub fn new(config: ConnectionConfig) -> Self {
        Self {
            config,
            state: State::Open,
            outbound: OutboundRequests::new(config.limits),
            inbound: InboundRequests::new(config.limits),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            next_scope: 1,
            completed_while_closing: 0,
            abandoned: Vec::new(),
            closed_reported: false,
            last_now: None,
            progress_window: None,
            dropped_progress: 0,
        }
    }

    /// Where the connection is in its life.
    #[must_use]
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Whether `close`/`abort` was called or the transport ended.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        !matches!(self.state, State::Open)
    }

    /// Outbound requests in flight.
    #[must_use]
    pub fn requests_in_flight(&self) -> usize {
        self.outbound.len()
    }

    /// Whether outbound request `id` is still waiting for its answer.
    #[must_use]
    pub fn is_awaiting(&self, id: &RequestId) -> bool {
        self.outbound.contains(id)
    }

    /// A message arrived on `scope`.
    pub fn handle_message(&mut self, now: Instant, scope: TransportScope, message: Message) {
        let now = self.observe(now);
        if matches!(self.state, State::Closed(_)) {
            return;
        }
        match message {
            Message::Response(Response { id, result }) => self.answer_arrived(&id, Ok(result)),
            Message::Error(ErrorResponse {
                id: Some(id),
                error,
            }) => self.answer_arrived(&id, Err(error)),
            Message::Error(ErrorResponse { id: None, error }) => {
                // The peer could not read something we sent: no request to settle by id.
                self.events.push_back(Event::PeerError(error));
            }
            Message::Request(Request { id, method, params }) => {
                self.request_arrived(id, method, params, scope);
            }
            Message::Notification(Notification { method, params }) => {
                self.notification_arrived(now, method, params);
            }
        }
        self.pump();
    }

    /// A frame on `scope` could not be decoded. If the decoder read the id of one of our
    /// requests, that request settles as malformed; otherwise the peer is told (when this side
    /// answers invalid messages) and an [`Event::InvalidMessage`] is emitted.
    pub fn handle_invalid_message(
        &mut self,
        now: Instant,
        scope: TransportScope,
        error: DecodeError,
    ) {
        self.observe(now);
        if matches!(self.state, State::Closed(_)) {
            return;
        }
        if let Some(id) = error.id.clone()
            && self
                .outbound
                .handle_malformed_response(&id, error.clone())
                .is_ok()
        {
            self.pump();
            return;
        }
        if self.config.answer_invalid_messages {
            self.transmits.push_back(Transmit::Send {
                scope,
                message: Message::Error(error.error_response()),
            });
        }
        self.events.push_back(Event::InvalidMessage(error));
        self.pump();
    }

    /// Time passed: settles requests whose deadline is due and ends a close whose grace ran out.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.observe(now);
        if matches!(self.state, State::Closed(_)) {
            return;
        }
        self.outbound.handle_timeout(now);
        self.pump();
        self.apply(Input::Timeout { now });
    }

    /// The transport part `scope` ended with `failure`. Every outbound request it carried
    /// settles with the failure (the cause kept); peer requests that arrived on it are treated as
    /// cancelled (nobody can receive their answer). [`TransportScope::CONNECTION`] means the
    /// whole connection: it closes.
    pub fn handle_transport_closed(
        &mut self,
        now: Instant,
        scope: TransportScope,
        failure: TransportFailure,
    ) {
        self.observe(now);
        if matches!(self.state, State::Closed(_)) {
            return;
        }
        if scope == TransportScope::CONNECTION {
            self.outbound
                .fail_all(&RequestFailure::Transport(failure.clone()));
            self.pump();
            self.apply(Input::TransportClosed(failure));
            return;
        }
        self.outbound.handle_transport_failure(scope, &failure);
        for id in self.inbound.on_scope(scope) {
            self.inbound.cancel(&id);
            self.events.push_back(Event::PeerCancelled {
                id,
                reason: Some(failure.to_string()),
            });
        }
        self.pump();
    }

    /// Sends a request and returns its id; its end arrives as exactly one [`Event::Settled`].
    ///
    /// # Errors
    /// [`LocalError`] when closing/closed or the table is full; nothing is sent.
    pub fn request(
        &mut self,
        now: Instant,
        method: &str,
        params: Option<RawJson>,
        options: RequestOptions,
    ) -> Result<RequestId, LocalError> {
        let scope = match self.config.scopes {
            ScopePolicy::Shared => TransportScope::CONNECTION,
            ScopePolicy::PerRequest => {
                let scope = TransportScope(self.next_scope);
                self.next_scope = self.next_scope.saturating_add(1);
                scope
            }
        };
        self.request_on(now, scope, method, params, options)
    }

    /// Sends a request on transport scope `scope` (e.g. the stream of the request it is
    /// about) and returns its id; its end arrives as exactly one [`Event::Settled`], also when
    /// that scope's transport closes first.
    ///
    /// # Errors
    /// [`LocalError`] when closing/closed or the table is full; nothing is sent.
    pub fn request_on(
        &mut self,
        now: Instant,
        scope: TransportScope,
        method: &str,
        params: Option<RawJson>,
        options: RequestOptions,
    ) -> Result<RequestId, LocalError> {
        self.check_open()?;
        let now = self.observe(now);
        let id = if options.long_lived {
            self.outbound.begin_long_lived(now, method, scope)?
        } else {
            self.outbound
                .begin(now, method, scope, options.timeout, options.progress_token)?
        };
        self.transmits.push_back(Transmit::Send {
            scope,
            message: Message::Request(Request {
                id: id.clone(),
                method: method.to_owned(),
                params,
            }),
        });
        Ok(id)
    }

    /// Sends a notification on the connection scope.
    ///
    /// # Errors
    /// [`LocalError::Closed`] once closed (notifications may still be sent while closing).
    pub fn notify(&mut self, method: &str, params: Option<RawJson>) -> Result<(), LocalError> {
        self.notify_on(TransportScope::CONNECTION, method, params)
    }

    /// Sends a notification on `scope`: on Streamable HTTP, the response stream of the request
    /// it belongs to (progress, log messages, subscription notifications).
    ///
    /// # Errors
    /// [`LocalError::Closed`] once closed.
    pub fn notify_on(
        &mut self,
        scope: TransportScope,
        method: &str,
        params: Option<RawJson>,
    ) -> Result<(), LocalError> {
        if matches!(self.state, State::Closed(_)) {
            return Err(LocalError::Closed);
        }
        self.transmits.push_back(Transmit::Send {
            scope,
            message: Message::Notification(Notification {
                method: method.to_owned(),
                params,
            }),
        });
        Ok(())
    }

    /// Answers the peer's request `id`, on the scope it arrived on.
    ///
    /// # Errors
    /// [`LocalError::Inbound`] when `id` is not awaiting an answer (answered already, cancelled
    /// by the peer, never received): nothing is sent. [`LocalError::Closed`] once closed.
    pub fn respond(
        &mut self,
        id: &RequestId,
        outcome: Result<RawJson, ErrorObject>,
    ) -> Result<(), LocalError> {
        if matches!(self.state, State::Closed(_)) {
            return Err(LocalError::Closed);
        }
        let request = self.inbound.finish(id)?;
        let message = match outcome {
            Ok(result) => Message::Response(Response {
                id: id.clone(),
                result,
            }),
            Err(error) => Message::Error(ErrorResponse {
                id: Some(id.clone()),
                error,
            }),
        };
        self.transmits.push_back(Transmit::Send {
            scope: request.scope,
            message,
        });
        Ok(())
    }

    /// Gives up on our request `id`: it settles as cancelled and the peer is told (except for
    /// `initialize`, which is never cancelled by notification). Returns whether it was in flight.
    pub fn cancel(&mut self, now: Instant, id: &RequestId, reason: Option<String>) -> bool {
        self.observe(now);
        let cancelled = self.outbound.cancel(id, reason);
        self.pump();
        cancelled
    }

    /// Ends our request `id` because the peer ended it (a server closing a subscription stream
    /// with `notifications/cancelled`): it settles as [`RequestFailure::EndedByPeer`] and nothing
    /// is sent back. Returns whether it was in flight.
    pub fn end_by_peer(&mut self, now: Instant, id: &RequestId, reason: Option<String>) -> bool {
        self.observe(now);
        let ended = self.outbound.end_by_peer(id, reason);
        self.pump();
        ended
    }

    /// Starts a graceful close: no new requests; those in flight may finish until the grace
    /// period ends, then they are abandoned (and cancelled at the peer).
    pub fn close(&mut self, now: Instant) {
        let now = self.observe(now);
        let grace_deadline = now.checked_add(self.config.close_grace).unwrap_or(now);
        let in_flight = !self.outbound.is_empty();
        self.apply(Input::Close {
            grace_deadline,
            in_flight,
        });
    }

    /// Closes at once: everything in flight is abandoned and nothing more is sent.
    pub fn abort(&mut self) {
        self.apply(Input::Abort);
    }

    /// The next thing to put on the wire.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When to call [`Connection::handle_timeout`] next: the earliest request deadline, or the
    /// end of the close grace period.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let grace = match self.state {
            State::Closing { deadline } => Some(deadline),
            State::Open | State::Closed(_) => None,
        };
        match (self.outbound.poll_timeout(), grace) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Changes how cancels and timeouts reach the peer from now on (e.g. once an HTTP client
    /// knows whether the server is modern, where closing the stream cancels, or legacy, where a
    /// notification does).
    pub fn set_cancellation_style(&mut self, style: CancellationStyle) {
        self.config.cancellation = style;
    }

    /// Progress notifications dropped by the rate limit so far.
    #[must_use]
    pub fn dropped_progress(&self) -> u64 {
        self.dropped_progress
    }

    /// Counts a progress notification against the one-second window; false past the limit.
    fn admit_progress(&mut self, now: Instant) -> bool {
        let (start, count) = match self.progress_window {
            Some((start, count))
                if now.saturating_duration_since(start) < Duration::from_secs(1) =>
            {
                (start, count)
            }
            _ => (now, 0),
        };
        let admitted = count < self.config.max_progress_per_second;
        self.progress_window = Some((start, count.saturating_add(1)));
        admitted
    }

    /// Clamps `now` so that time seen by the tables never goes backwards.
    fn observe(&mut self, now: Instant) -> Instant {
        let now = self.last_now.map_or(now, |last| last.max(now));
        self.last_now = Some(now);
        now
    }

    fn check_open(&self) -> Result<(), LocalError> {
        match self.state {
            State::Open => Ok(()),
            State::Closing { .. } => Err(LocalError::Closing),
            State::Closed(_) => Err(LocalError::Closed),
        }
    }

    fn answer_arrived(&mut self, id: &RequestId, outcome: Result<RawJson, ErrorObject>) {
        if self.outbound.handle_response(id, outcome).is_err() {
            self.events.push_back(Event::UnmatchedResponse(id.clone()));
        } else if matches!(self.state, State::Closing { .. }) {
            self.completed_while_closing += 1;
        }
    }

    fn request_arrived(
        &mut self,
        id: RequestId,
        method: String,
        params: Option<RawJson>,
        scope: TransportScope,
    ) {
        if !matches!(self.state, State::Open) {
            let error = ErrorObject::new(ErrorCode::INTERNAL_ERROR, "the connection is closing");
            self.transmits.push_back(Transmit::Send {
                scope,
                message: Message::Error(ErrorResponse {
                    id: Some(id),
                    error,
                }),
            });
            return;
        }
        match self.inbound.begin(&id, &method, scope) {
            Ok(()) => self.events.push_back(Event::Request {
                id,
                method,
                params,
                scope,
            }),
            Err(InboundError::DuplicateId(_)) => {
                // Answering with the duplicated id would look like the answer to the original;
                // JSON-RPC gives no better choice, and the original still gets its own answer.
                let error = ErrorObject::new(
                    ErrorCode::INVALID_REQUEST,
                    format!("request id {id} is already in flight"),
                );
                self.transmits.push_back(Transmit::Send {
                    scope,
                    message: Message::Error(ErrorResponse {
                        id: Some(id),
                        error,
                    }),
                });
            }
            Err(other) => {
                let error = ErrorObject::new(ErrorCode::INTERNAL_ERROR, other.to_string());
                self.transmits.push_back(Transmit::Send {
                    scope,
                    message: Message::Error(ErrorResponse {
                        id: Some(id),
                        error,
                    }),
                });
            }
        }
    }

    fn notification_arrived(&mut self, now: Instant, method: String, params: Option<RawJson>) {
        match method.as_str() {
            NOTIFICATION_CANCELLED => {
                if let Some(CancelledNotificationParams {
                    request_id: Some(id),
                    reason,
                    ..
                }) = params
                    .as_ref()
                    .and_then(|p| p.parse::<CancelledNotificationParams>().ok())
                    && self.inbound.cancel(&id)
                {
                    self.events.push_back(Event::PeerCancelled { id, reason });
                } else {
                    // Not one of the peer's requests in flight: usually a race with our answer,
                    // but a server may also end one of *our* subscription streams this way. The
                    // role layer decides (see `end_by_peer`).
                    self.events
                        .push_back(Event::Notification { method, params });
                }
            }
            NOTIFICATION_PROGRESS => {
                if !self.admit_progress(now) {
                    self.dropped_progress += 1;
                    return;
                }
                if let Some(progress) = params
                    .as_ref()
                    .and_then(|p| p.parse::<ProgressNotificationParams>().ok())
                {
                    self.outbound.handle_progress(now, &progress.progress_token);
                }
                self.events
                    .push_back(Event::Notification { method, params });
            }
            _ => self
                .events
                .push_back(Event::Notification { method, params }),
        }
    }

    /// Moves settled requests into events (and cancellations onto the wire), then lets the
    /// lifecycle know when the last request in flight has settled.
    fn pump(&mut self) {
        while let Some(settled) = self.outbound.poll_settled() {
            if settled.notify_peer
                && settled.method != INITIALIZE
                && !matches!(self.state, State::Closed(_))
            {
                self.tell_peer_we_gave_up(&settled);
            }
            self.events.push_back(Event::Settled(settled));
        }
        if self.outbound.is_empty() {
            self.apply(Input::Drained);
        }
    }

    fn tell_peer_we_gave_up(&mut self, settled: &Settled) {
        match self.config.cancellation {
            CancellationStyle::CloseStream => self
                .transmits
                .push_back(Transmit::CloseScope(settled.scope)),
            CancellationStyle::Notify => {
                let reason = match &settled.outcome {
                    Outcome::Failed(RequestFailure::TimedOut { .. }) => {
                        Some("timed out".to_owned())
                    }
                    Outcome::Failed(RequestFailure::Cancelled { reason }) => reason.clone(),
                    _ => None,
                };
                let cancel = CancelledNotificationParams {
                    meta: None,
                    request_id: Some(settled.id.clone()),
                    reason,
                };
                let params = RawJson::from_serialize(&cancel).ok();
                self.transmits.push_back(Transmit::Send {
                    scope: TransportScope::CONNECTION,
                    message: Message::Notification(Notification {
                        method: NOTIFICATION_CANCELLED.to_owned(),
                        params,
                    }),
                });
            }
        }
    }

    /// Runs the lifecycle table and performs what entering the new state requires.
    fn apply(&mut self, input: Input) {
        let next = lifecycle::transition(&self.state, input);
        if next == self.state {
            return;
        }
        self.state = next;
        let State::Closed(reason) = self.state.clone() else {
            return;
        };
        if self.closed_reported {
            return;
        }
        self.closed_reported = true;
        let failure = match &reason {
            CloseReason::Transport(failure) => RequestFailure::Transport(failure.clone()),
            CloseReason::Local | CloseReason::ShutdownTimeout | CloseReason::Aborted => {
                RequestFailure::Closed
            }
        };
        self.outbound.fail_all(&failure);
        while let Some(settled) = self.outbound.poll_settled() {
            self.abandoned
                .push((settled.id.clone(), settled.method.clone()));
            if reason == CloseReason::ShutdownTimeout && settled.method != INITIALIZE {
                // The transport still works: tell the peer to stop what we no longer wait for.
                self.tell_peer_we_gave_up(&settled);
            }
            self.events.push_back(Event::Settled(settled));
        }
        if matches!(reason, CloseReason::Aborted | CloseReason::Transport(_)) {
            self.transmits.clear();
        }
        let unanswered_peer_requests = self.inbound.clear();
        self.events.push_back(Event::Closed(CloseReport {
            reason,
            completed_while_closing: self.completed_while_closing,
            abandoned: std::mem::take(&mut self.abandoned),
            unanswered_peer_requests,
        }));
    }
}
