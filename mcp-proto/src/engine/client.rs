//! [`ClientEndpoint`]: the MCP client role on top of a [`Connection`], talking to servers of
//! either era.
//!
//! # Era selection
//! With [`EraPolicy::Auto`] (the default) [`ClientEndpoint::start`] probes with
//! `server/discover`. A `DiscoverResult` naming a modern version we share makes the connection
//! modern. A -32022 naming one makes us probe once more with that version. **Any other answer**
//! — another error, a malformed result, a timeout — falls back to the legacy `initialize`
//! handshake: the fallback is never keyed to one error code. [`EraPolicy::Modern`] and
//! [`EraPolicy::Legacy`] skip the fallback or the probe.
//!
//! # Requests
//! [`ClientEndpoint::request`] refuses, before anything is sent, a request that does not exist
//! in the negotiated era or that needs a server capability the server did not advertise. Modern
//! requests get their `_meta` (`protocolVersion`, `clientCapabilities`, `clientInfo`, and the
//! progress token when one is asked for). Answers arrive as [`ClientEvent::Response`]; a modern
//! result with an unrecognised `resultType` settles as [`RequestFailure::InvalidResult`], and an
//! absent one counts as `complete`.
//!
//! # Multi round-trip requests (MRTR)
//! When a modern server answers `resultType: "input_required"`, the request does not end: the
//! application gets [`ClientEvent::InputRequired`] with the server's input requests (sampling,
//! elicitation, roots), answers with [`ClientEndpoint::provide_input`], and the client re-sends
//! the same request under a new id with `inputResponses` and the exact `requestState`. The
//! caller keeps the id `request` returned: the one [`ClientEvent::Response`] for it comes when the
//! exchange ends, after at most [`ClientConfig::max_input_rounds`] rounds.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use serde::Deserialize;
use serde_json::Value;

use super::connection::{
    Connection, ConnectionConfig, Event, LocalError, RequestOptions, Transmit,
};
use super::lifecycle::State;
use super::pending::{Outcome, RequestFailure, Settled, TransportFailure, TransportScope};
use super::{CloseReport, capability};
use crate::jsonrpc::{DecodeError, ErrorCode, ErrorObject, Message, RawJson, RequestId};
use crate::types::errors::UnsupportedProtocolVersionData;
use crate::types::methods::{
    ClientNotification, ClientRequest, INITIALIZE, NOTIFICATION_CANCELLED,
    NOTIFICATION_INITIALIZED, SERVER_DISCOVER, ServerNotification, ServerRequest,
};
use crate::types::tasks::TASKS_EXTENSION_ID;
use crate::types::version::{self, Era, ProtocolVersion};
use crate::types::{
    CancelledNotificationParams, ClientCapabilities, DiscoverResult, Implementation,
    InitializeRequestParams, InitializeResult, InputRequests, InputRequiredResult, InputResponses,
    Meta, ResultType, ServerCapabilities, SubscriptionFilter, SubscriptionsListenRequestParams,
};

/// The default bound on `input_required` rounds for one request.
pub const DEFAULT_MAX_INPUT_ROUNDS: u32 = 8;

/// How the client chooses the protocol era.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EraPolicy {
    /// Probe with `server/discover`, fall back to `initialize` on anything but a modern answer.
    #[default]
    Auto,
    /// Probe with `server/discover`; no fallback.
    Modern,
    /// Go straight to `initialize`.
    Legacy,
}

/// Who the client is and how it connects.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// Name and version, sent as `clientInfo`.
    pub info: Implementation,
    /// The capabilities declared to servers.
    pub capabilities: ClientCapabilities,
    /// Protocol versions spoken, both eras (defaults to every version this crate implements).
    pub supported_versions: Vec<ProtocolVersion>,
    /// How the era is chosen.
    pub era: EraPolicy,
    /// How many `input_required` rounds one request may take before it fails.
    pub max_input_rounds: u32,
    /// The connection settings.
    pub connection: ConnectionConfig,
}

impl ClientConfig {
    /// A configuration with `info` and `capabilities` and defaults for the rest.
    #[must_use]
    pub fn new(info: Implementation, capabilities: ClientCapabilities) -> Self {
        Self {
            info,
            capabilities,
            supported_versions: version::SUPPORTED.to_vec(),
            era: EraPolicy::Auto,
            max_input_rounds: DEFAULT_MAX_INPUT_ROUNDS,
            // A client answers no garbage: modern clients send no responses at all.
            connection: ConnectionConfig {
                answer_invalid_messages: false,
                ..ConnectionConfig::default()
            },
        }
    }
}

/// What the handshake settled on.
#[derive(Debug, Clone, PartialEq)]
pub struct Negotiated {
    /// The era.
    pub era: Era,
    /// The protocol version.
    pub protocol_version: ProtocolVersion,
    /// The server's capabilities.
    pub server_capabilities: ServerCapabilities,
    /// The server software, when it said.
    pub server_info: Option<Implementation>,
    /// The server's guidance for the model.
    pub instructions: Option<String>,
}

/// Why the handshake failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The server speaks no version we support.
    #[error("no common protocol version (server offered {offered})")]
    NoCommonVersion {
        /// What the server offered.
        offered: String,
    },
    /// The transport failed during the handshake (kept as it came: an HTTP status, a refused
    /// connection, a process that exited…).
    #[error("the {method} handshake failed: {failure}")]
    Transport {
        /// `server/discover` or `initialize`.
        method: &'static str,
        /// What the transport reported.
        failure: TransportFailure,
    },
    /// The server refused or broke the handshake.
    #[error("the {method} handshake failed: {reason}")]
    Refused {
        /// `server/discover` or `initialize`.
        method: &'static str,
        /// What happened.
        reason: String,
    },
}

/// What the client side reports to the application.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// The handshake finished: requests may be sent.
    Ready(Negotiated),
    /// The handshake failed; the connection is closing.
    HandshakeFailed(HandshakeError),
    /// A tool was left out of a modern `tools/list` result because its `x-mcp-header`
    /// annotations are invalid (the spec requires excluding it); log it as a warning.
    ToolExcluded {
        /// The tool's name.
        tool: String,
        /// The rule its annotations break.
        reason: String,
    },
    /// One of our requests ended (exactly once per request).
    Response {
        /// Its id.
        id: RequestId,
        /// Its method.
        method: String,
        /// How it ended.
        outcome: Outcome,
    },
    /// A modern server needs input before it can answer request `id`: fulfil `requests` and
    /// call [`ClientEndpoint::provide_input`] (or [`ClientEndpoint::decline_input`]).
    InputRequired {
        /// The request, as returned by [`ClientEndpoint::request`].
        id: RequestId,
        /// Keyed input requests (sampling, elicitation, roots).
        requests: InputRequests,
        /// Which round this is (1 for the first).
        round: u32,
    },
    /// A legacy server asks something of us: answer with [`ClientEndpoint::respond`].
    Request {
        /// Its id.
        id: RequestId,
        /// The typed request.
        request: ServerRequest,
    },
    /// A server notification.
    Notification(ServerNotification),
    /// The server acknowledged subscription `id`, honouring `filter` (compare it with what was
    /// asked: types it does not support are left out).
    SubscriptionAcknowledged {
        /// The subscription (the id `subscribe` returned).
        id: RequestId,
        /// What the server will send.
        filter: SubscriptionFilter,
    },
    /// A notification delivered on subscription `id`.
    SubscriptionNotification {
        /// The subscription.
        id: RequestId,
        /// The notification.
        notification: ServerNotification,
    },
    /// The server cancelled one of its requests to us.
    Cancelled {
        /// The request.
        id: RequestId,
    },
    /// The server sent something that could not be decoded or attributed.
    InvalidMessage(DecodeError),
    /// The connection closed. Last event.
    Closed(CloseReport),
}

/// Why a client command was refused. Nothing was sent.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The handshake has not finished (or failed).
    #[error("the handshake has not completed")]
    NotReady,
    /// `start` was already called.
    #[error("the handshake was already started")]
    AlreadyStarted,
    /// The method does not exist in the negotiated era.
    #[error("{method} does not exist in the {era:?} protocol")]
    NotInEra {
        /// The method.
        method: String,
        /// The negotiated era.
        era: Era,
    },
    /// The server did not advertise the capability the method needs.
    #[error("the server does not offer the {capability} capability needed by {method}")]
    CapabilityNotOffered {
        /// The method.
        method: String,
        /// The capability.
        capability: &'static str,
    },
    /// The connection refused it.
    #[error(transparent)]
    Connection(#[from] LocalError),
    /// The params could not be serialized.
    #[error("params could not be serialized: {0}")]
    Serialize(String),
    /// No request with that id is waiting for input.
    #[error("request {0} is not waiting for input")]
    NotAwaitingInput(RequestId),
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Idle,
    Probing {
        id: RequestId,
        version: ProtocolVersion,
        retried: bool,
    },
    Initializing {
        id: RequestId,
    },
    Ready(Box<Negotiated>),
    Failed,
}

#[derive(Deserialize)]
struct ResultTypeOnly {
    #[serde(rename = "resultType", default)]
    result_type: Option<String>,
}

/// One logical modern request across its MRTR rounds.
#[derive(Debug, Clone)]
struct Exchange {
    /// The id the caller knows (the first round's wire id).
    logical_id: RequestId,
    method: &'static str,
    /// The params of the first round (with `_meta`), the base of every retry.
    params: RawJson,
    options: RequestOptions,
    round: u32,
}

/// The MCP client role. Drive it like a [`Connection`].
#[derive(Debug)]
pub struct ClientEndpoint {
    config: ClientConfig,
    conn: Connection,
    phase: Phase,
    events: VecDeque<ClientEvent>,
    /// Modern requests on the wire, by wire id.
    on_wire: HashMap<RequestId, Exchange>,
    /// Modern requests waiting for the application's input, by logical id.
    awaiting_input: HashMap<RequestId, (Exchange, Option<String>)>,
    /// Live subscriptions (listen requests not yet settled).
    subscriptions: HashSet<RequestId>,
}

impl ClientEndpoint {
    /// A client endpoint for one connection; call [`ClientEndpoint::start`] next.
    #[must_use]
    pub fn new(config: ClientConfig) -> Self {
        let conn = Connection::new(config.connection);
        Self {
            config,
            conn,
            phase: Phase::Idle,
            events: VecDeque::new(),
            on_wire: HashMap::new(),
            awaiting_input: HashMap::new(),
            subscriptions: HashSet::new(),
        }
    }

    /// What the handshake settled on, once ready.
    #[must_use]
    pub fn negotiated(&self) -> Option<&Negotiated> {
        match &self.phase {
            Phase::Ready(negotiated) => Some(negotiated),
            _ => None,
        }
    }

    /// Whether the request that went on the wire as `id` is still waiting for its answer.
    #[must_use]
    pub fn is_awaiting(&self, id: &RequestId) -> bool {
        self.conn.is_awaiting(id)
    }

    /// Starts the handshake (see the [module docs](self)).
    ///
    /// # Errors
    /// [`ClientError::AlreadyStarted`], or the connection's refusal.
    pub fn start(&mut self, now: Instant) -> Result<(), ClientError> {
        if self.phase != Phase::Idle {
            return Err(ClientError::AlreadyStarted);
        }
        match self.config.era {
            EraPolicy::Auto | EraPolicy::Modern => {
                let newest = version::select_modern_version(
                    &self.config.supported_versions,
                    &self.config.supported_versions,
                );
                match newest {
                    Some(version) => self.probe(now, version, false),
                    None => self.initialize(now),
                }
            }
            EraPolicy::Legacy => self.initialize(now),
        }
    }

    /// A decoded message arrived on `scope`.
    pub fn handle_message(&mut self, now: Instant, scope: TransportScope, message: Message) {
        self.conn.handle_message(now, scope, message);
        self.pump(now);
    }

    /// A frame on `scope` could not be decoded.
    pub fn handle_invalid_message(
        &mut self,
        now: Instant,
        scope: TransportScope,
        error: DecodeError,
    ) {
        self.conn.handle_invalid_message(now, scope, error);
        self.pump(now);
    }

    /// Time passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.conn.handle_timeout(now);
        self.pump(now);
    }

    /// A transport scope or the whole connection ended.
    pub fn handle_transport_closed(
        &mut self,
        now: Instant,
        scope: TransportScope,
        failure: TransportFailure,
    ) {
        self.conn.handle_transport_closed(now, scope, failure);
        self.pump(now);
    }

    /// Sends `request` (see the [module docs](self)); its end arrives as one
    /// [`ClientEvent::Response`].
    ///
    /// # Errors
    /// [`ClientError`]; nothing is sent.
    pub fn request(
        &mut self,
        now: Instant,
        request: &ClientRequest,
        options: RequestOptions,
    ) -> Result<RequestId, ClientError> {
        let Phase::Ready(negotiated) = &self.phase else {
            return Err(ClientError::NotReady);
        };
        let method = request.method();
        if !request.is_available_in(negotiated.era) {
            return Err(ClientError::NotInEra {
                method: method.to_owned(),
                era: negotiated.era,
            });
        }
        if let Some(capability) =
            capability::missing_server_capability(request, &negotiated.server_capabilities)
        {
            return Err(ClientError::CapabilityNotOffered {
                method: method.to_owned(),
                capability,
            });
        }
        let params = request
            .to_params()
            .map_err(|e| ClientError::Serialize(e.to_string()))?;
        match negotiated.era {
            Era::Modern => {
                let version = negotiated.protocol_version.clone();
                let params = self.with_modern_meta(&params, &version, &options)?;
                let id = self
                    .conn
                    .request(now, method, Some(params.clone()), options.clone())?;
                let exchange = Exchange {
                    logical_id: id.clone(),
                    method,
                    params,
                    options,
                    round: 0,
                };
                self.on_wire.insert(id.clone(), exchange);
                Ok(id)
            }
            Era::Legacy => {
                let params = with_progress_token(&params, &options)?;
                Ok(self.conn.request(now, method, Some(params), options)?)
            }
        }
    }

    /// Opens a `subscriptions/listen` stream for the notification types in `filter` (modern
    /// servers only). It has no deadline; its notifications arrive as
    /// [`ClientEvent::SubscriptionNotification`] after a [`ClientEvent::SubscriptionAcknowledged`],
    /// and it ends with one [`ClientEvent::Response`] (the server's completion result, a
    /// [`ClientEndpoint::cancel`], or the connection's end).
    ///
    /// # Errors
    /// As [`ClientEndpoint::request`]; legacy servers have no `subscriptions/listen`.
    pub fn subscribe(
        &mut self,
        now: Instant,
        filter: SubscriptionFilter,
    ) -> Result<RequestId, ClientError> {
        let request = ClientRequest::SubscriptionsListen(SubscriptionsListenRequestParams {
            meta: None,
            notifications: filter,
        });
        let options = RequestOptions {
            long_lived: true,
            ..RequestOptions::default()
        };
        let id = self.request(now, &request, options)?;
        self.subscriptions.insert(id.clone());
        Ok(id)
    }

    /// Answers the input a modern server asked for in [`ClientEvent::InputRequired`]: the
    /// request is re-sent under a new id with `responses` and the server's `requestState`.
    ///
    /// # Errors
    /// [`ClientError::NotAwaitingInput`] for an unknown id. If the retry cannot be sent (the
    /// connection is closing), the request settles as failed and the refusal is returned.
    pub fn provide_input(
        &mut self,
        now: Instant,
        id: &RequestId,
        responses: InputResponses,
    ) -> Result<(), ClientError> {
        let (mut exchange, request_state) = self
            .awaiting_input
            .remove(id)
            .ok_or_else(|| ClientError::NotAwaitingInput(id.clone()))?;
        let sent = retry_params(&exchange.params, &responses, request_state.as_deref()).and_then(
            |params| {
                self.conn
                    .request(now, exchange.method, Some(params), exchange.options.clone())
                    .map_err(ClientError::from)
            },
        );
        match sent {
            Ok(wire_id) => {
                exchange.round += 1;
                self.on_wire.insert(wire_id, exchange);
                Ok(())
            }
            Err(error) => {
                let failure = match &error {
                    ClientError::Connection(_) => RequestFailure::Closed,
                    other => RequestFailure::InvalidResult {
                        reason: other.to_string(),
                    },
                };
                self.respond_logical(&exchange, Outcome::Failed(failure));
                Err(error)
            }
        }
    }

    /// Gives up on a request that is waiting for input: it settles as cancelled.
    ///
    /// # Errors
    /// [`ClientError::NotAwaitingInput`] for an unknown id.
    pub fn decline_input(
        &mut self,
        id: &RequestId,
        reason: Option<String>,
    ) -> Result<(), ClientError> {
        let (exchange, _) = self
            .awaiting_input
            .remove(id)
            .ok_or_else(|| ClientError::NotAwaitingInput(id.clone()))?;
        self.respond_logical(
            &exchange,
            Outcome::Failed(RequestFailure::Cancelled { reason }),
        );
        Ok(())
    }

    /// Sends a notification (e.g. legacy `notifications/roots/list_changed`), refused before
    /// sending when it does not exist in the negotiated era.
    ///
    /// # Errors
    /// [`ClientError`]; nothing is sent.
    pub fn notify(&mut self, notification: &ClientNotification) -> Result<(), ClientError> {
        let Phase::Ready(negotiated) = &self.phase else {
            return Err(ClientError::NotReady);
        };
        let method = notification.method();
        if !notification.is_available_in(negotiated.era) {
            return Err(ClientError::NotInEra {
                method: method.to_owned(),
                era: negotiated.era,
            });
        }
        let params = notification
            .to_params()
            .map_err(|e| ClientError::Serialize(e.to_string()))?;
        Ok(self.conn.notify(method, Some(params))?)
    }

    /// Answers a legacy server's request to us.
    ///
    /// # Errors
    /// [`ClientError::Connection`] when it is not awaiting an answer.
    pub fn respond(
        &mut self,
        id: &RequestId,
        result: Result<RawJson, ErrorObject>,
    ) -> Result<(), ClientError> {
        Ok(self.conn.respond(id, result)?)
    }

    /// Gives up on request `id` (the server is told).
    pub fn cancel(&mut self, now: Instant, id: &RequestId, reason: Option<String>) -> bool {
        if self.awaiting_input.contains_key(id) {
            return self.decline_input(id, reason).is_ok();
        }
        // After an MRTR round the request travels under a new wire id.
        let wire_id = self.wire_id_of(id);
        let cancelled = self.conn.cancel(now, &wire_id, reason);
        self.pump(now);
        cancelled
    }

    /// Changes how cancels and timeouts reach the server (see
    /// [`Connection::set_cancellation_style`]).
    pub fn set_cancellation_style(&mut self, style: super::CancellationStyle) {
        self.conn.set_cancellation_style(style);
    }

    /// Starts a graceful close.
    pub fn close(&mut self, now: Instant) {
        self.conn.close(now);
        self.pump(now);
    }

    /// Closes at once.
    pub fn abort(&mut self, now: Instant) {
        self.conn.abort();
        self.pump(now);
    }

    /// The next thing to put on the wire.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.conn.poll_transmit()
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// When to call [`ClientEndpoint::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.conn.poll_timeout()
    }

    /// Where the connection is in its life.
    #[must_use]
    pub fn state(&self) -> &State {
        self.conn.state()
    }

    fn modern_meta(&self, version: &ProtocolVersion) -> Meta {
        let mut meta = Meta::for_modern_request(version, &self.config.capabilities);
        meta.set_client_info(&self.config.info);
        meta
    }

    fn with_modern_meta(
        &self,
        params: &RawJson,
        version: &ProtocolVersion,
        options: &RequestOptions,
    ) -> Result<RawJson, ClientError> {
        let mut value: Value = params
            .parse()
            .map_err(|e| ClientError::Serialize(e.to_string()))?;
        let Some(object) = value.as_object_mut() else {
            return Err(ClientError::Serialize(
                "params are not a JSON object".into(),
            ));
        };
        // Keep what the caller put in `_meta` (trace context, …); the protocol keys win.
        let mut meta: Meta = match object.remove("_meta") {
            Some(Value::Object(existing)) => existing.into(),
            _ => Meta::new(),
        };
        for (key, value) in self.modern_meta(version).into_map() {
            meta.insert(key, value);
        }
        if let Some(token) = &options.progress_token {
            meta.set_progress_token(token);
        }
        object.insert("_meta".into(), Value::Object(meta.into_map()));
        RawJson::from_serialize(&value).map_err(|e| ClientError::Serialize(e.to_string()))
    }

    fn probe(
        &mut self,
        now: Instant,
        version: ProtocolVersion,
        retried: bool,
    ) -> Result<(), ClientError> {
        let params =
            serde_json::json!({ "_meta": Value::Object(self.modern_meta(&version).into_map()) });
        let params =
            RawJson::from_serialize(&params).map_err(|e| ClientError::Serialize(e.to_string()))?;
        let id = self.conn.request(
            now,
            SERVER_DISCOVER,
            Some(params),
            RequestOptions::default(),
        )?;
        self.phase = Phase::Probing {
            id,
            version,
            retried,
        };
        Ok(())
    }

    fn initialize(&mut self, now: Instant) -> Result<(), ClientError> {
        let Some(newest_legacy) = self
            .config
            .supported_versions
            .iter()
            .filter(|v| v.is_legacy())
            .max_by(|a, b| a.as_str().cmp(b.as_str()))
        else {
            self.fail(
                now,
                HandshakeError::NoCommonVersion {
                    offered: "initialize (we speak no legacy version)".into(),
                },
            );
            return Ok(());
        };
        let mut params = InitializeRequestParams::new(
            self.config.info.clone(),
            self.config.capabilities.clone(),
        );
        params.protocol_version = newest_legacy.clone();
        let params =
            RawJson::from_serialize(&params).map_err(|e| ClientError::Serialize(e.to_string()))?;
        let id = self
            .conn
            .request(now, INITIALIZE, Some(params), RequestOptions::default())?;
        self.phase = Phase::Initializing { id };
        Ok(())
    }

    fn fail(&mut self, now: Instant, error: HandshakeError) {
        self.phase = Phase::Failed;
        self.events.push_back(ClientEvent::HandshakeFailed(error));
        self.conn.close(now);
    }

    fn pump(&mut self, now: Instant) {
        while let Some(event) = self.conn.poll_event() {
            match event {
                Event::Settled(settled) => self.settled(now, settled),
                Event::Request {
                    id, method, params, ..
                } => self.server_request(id, &method, params.as_ref()),
                Event::Notification { method, params } => {
                    self.notification(now, &method, params.as_ref());
                }
                Event::PeerCancelled { id, .. } => {
                    self.events.push_back(ClientEvent::Cancelled { id });
                }
                Event::InvalidMessage(error) => {
                    self.events.push_back(ClientEvent::InvalidMessage(error));
                }
                Event::Closed(report) => {
                    // Requests waiting for the application's input end with the connection.
                    let mut waiting: Vec<Exchange> = self
                        .awaiting_input
                        .drain()
                        .map(|(_, (exchange, _))| exchange)
                        .collect();
                    waiting.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
                    for exchange in waiting {
                        self.respond_logical(&exchange, Outcome::Failed(RequestFailure::Closed));
                    }
                    self.events.push_back(ClientEvent::Closed(report));
                }
                Event::PeerError(_) | Event::UnmatchedResponse(_) => {}
            }
        }
    }

    fn settled(&mut self, now: Instant, settled: Settled) {
        match self.phase.clone() {
            Phase::Probing {
                id,
                version,
                retried,
            } if id == settled.id => self.probe_answered(now, settled.outcome, &version, retried),
            Phase::Initializing { id } if id == settled.id => {
                self.initialize_answered(now, settled.outcome);
            }
            Phase::Ready(negotiated) if negotiated.era == Era::Modern => {
                match self.on_wire.remove(&settled.id) {
                    Some(exchange) => self.exchange_settled(exchange, settled.outcome),
                    None => {
                        let outcome = check_result_type(settled.outcome);
                        self.events.push_back(ClientEvent::Response {
                            id: settled.id,
                            method: settled.method,
                            outcome,
                        });
                    }
                }
            }
            _ => self.events.push_back(ClientEvent::Response {
                id: settled.id,
                method: settled.method,
                outcome: settled.outcome,
            }),
        }
    }

    fn probe_answered(
        &mut self,
        now: Instant,
        outcome: Outcome,
        probed: &ProtocolVersion,
        retried: bool,
    ) {
        let ours = self.config.supported_versions.clone();
        let modern = match &outcome {
            Outcome::Result(raw) => match raw.parse::<DiscoverResult>() {
                Ok(result) => {
                    match version::select_modern_version(&ours, &result.supported_versions) {
                        Some(version) if &version == probed => Some(Ok((version, result))),
                        // The server prefers another modern version we share: ask again in it.
                        Some(version) if !retried => Some(Err(version)),
                        _ => None,
                    }
                }
                Err(_) => None,
            },
            Outcome::Error(error)
                if error.code == ErrorCode::UNSUPPORTED_PROTOCOL_VERSION && !retried =>
            {
                error
                    .data
                    .as_ref()
                    .and_then(|data| data.parse::<UnsupportedProtocolVersionData>().ok())
                    .and_then(|data| version::select_modern_version(&ours, &data.supported))
                    .map(Err)
            }
            _ => None,
        };
        match modern {
            Some(Ok((protocol_version, result))) => {
                let negotiated = Negotiated {
                    era: Era::Modern,
                    protocol_version,
                    server_capabilities: result.capabilities,
                    server_info: result
                        .meta
                        .as_ref()
                        .and_then(|m| m.server_info().ok().flatten()),
                    instructions: result.instructions,
                };
                self.ready(negotiated);
            }
            Some(Err(version)) => {
                if let Err(error) = self.probe(now, version, true) {
                    self.fail(
                        now,
                        HandshakeError::Refused {
                            method: SERVER_DISCOVER,
                            reason: error.to_string(),
                        },
                    );
                }
            }
            // Anything that is not a recognised modern answer means a legacy server.
            None if self.config.era == EraPolicy::Auto && answer_means_legacy(&outcome) => {
                if let Err(error) = self.initialize(now) {
                    self.fail(
                        now,
                        HandshakeError::Refused {
                            method: INITIALIZE,
                            reason: error.to_string(),
                        },
                    );
                }
            }
            None => self.fail(now, refusal(SERVER_DISCOVER, &outcome)),
        }
    }

    fn initialize_answered(&mut self, now: Instant, outcome: Outcome) {
        let Outcome::Result(raw) = &outcome else {
            return self.fail(now, refusal(INITIALIZE, &outcome));
        };
        let result = match raw.parse::<InitializeResult>() {
            Ok(result) => result,
            Err(error) => {
                return self.fail(
                    now,
                    HandshakeError::Refused {
                        method: INITIALIZE,
                        reason: error.to_string(),
                    },
                );
            }
        };
        match version::negotiate_legacy_client(
            result.protocol_version.as_str(),
            &self.config.supported_versions,
        ) {
            Ok(protocol_version) => {
                if self.conn.notify(NOTIFICATION_INITIALIZED, None).is_ok() {
                    self.ready(Negotiated {
                        era: Era::Legacy,
                        protocol_version,
                        server_capabilities: result.capabilities,
                        server_info: Some(result.server_info),
                        instructions: result.instructions,
                    });
                }
            }
            // The client SHOULD disconnect from a server whose version it does not support.
            Err(_) => self.fail(
                now,
                HandshakeError::NoCommonVersion {
                    offered: result.protocol_version.as_str().to_owned(),
                },
            ),
        }
    }

    /// One round of a modern request ended: either the request ends, or the server needs input.
    fn exchange_settled(&mut self, exchange: Exchange, outcome: Outcome) {
        let outcome = check_result_type(outcome);
        let outcome = match outcome {
            Outcome::Result(raw)
                if is_task_result(&raw)
                    && self
                        .config
                        .capabilities
                        .extension(TASKS_EXTENSION_ID)
                        .is_none() =>
            {
                let reason =
                    "a task result, but this client did not declare the tasks extension".to_owned();
                Outcome::Failed(RequestFailure::InvalidResult { reason })
            }
            other => other,
        };
        let Outcome::Result(raw) = &outcome else {
            return self.respond_logical(&exchange, outcome);
        };
        let Ok(ResultTypeOnly {
            result_type: Some(kind),
        }) = raw.parse::<ResultTypeOnly>()
        else {
            return self.respond_logical(&exchange, outcome);
        };
        if ResultType::from_wire(&kind) != ResultType::InputRequired {
            return self.respond_logical(&exchange, outcome);
        }
        let input = match raw.parse::<InputRequiredResult>() {
            Ok(input) if input.is_well_formed() => input,
            _ => {
                let reason =
                    "an input_required result without input requests or request state".to_owned();
                return self.respond_logical(
                    &exchange,
                    Outcome::Failed(RequestFailure::InvalidResult { reason }),
                );
            }
        };
        let round = exchange.round + 1;
        if round > self.config.max_input_rounds {
            let reason = format!(
                "the server asked for input more than {} times",
                self.config.max_input_rounds
            );
            return self.respond_logical(
                &exchange,
                Outcome::Failed(RequestFailure::InvalidResult { reason }),
            );
        }
        let id = exchange.logical_id.clone();
        let requests = input.input_requests.unwrap_or_default();
        self.awaiting_input
            .insert(id.clone(), (exchange, input.request_state));
        self.events.push_back(ClientEvent::InputRequired {
            id,
            requests,
            round,
        });
    }

    /// The wire id a logical request currently travels under (they differ after MRTR rounds).
    fn wire_id_of(&self, id: &RequestId) -> RequestId {
        self.on_wire
            .iter()
            .find(|(_, exchange)| &exchange.logical_id == id)
            .map_or_else(|| id.clone(), |(wire_id, _)| wire_id.clone())
    }

    /// Routes a notification: to its subscription when it carries a live subscription id,
    /// otherwise to the application as is. Malformed or unknown notifications are dropped
    /// (notifications are never answered).
    fn notification(&mut self, now: Instant, method: &str, params: Option<&RawJson>) {
        if method == NOTIFICATION_CANCELLED {
            // A server may end one of our subscriptions this way (spec 2026-07-28 §10 leaves
            // cancel-notification and completion result both possible); any other cancel that
            // reached us is a race with an answer and means nothing.
            let cancel = params.and_then(|p| p.parse::<CancelledNotificationParams>().ok());
            if let Some(CancelledNotificationParams {
                request_id: Some(id),
                reason,
                ..
            }) = cancel
                && self.subscriptions.contains(&id)
            {
                let wire_id = self.wire_id_of(&id);
                self.conn.end_by_peer(now, &wire_id, reason);
            }
            return;
        }
        let subscription = params
            .and_then(Meta::from_params)
            .and_then(|meta| meta.subscription_id().ok().flatten())
            .filter(|id| self.subscriptions.contains(id));
        let Ok(notification) = ServerNotification::parse(method, params) else {
            return;
        };
        let event = match (subscription, notification) {
            (Some(id), ServerNotification::SubscriptionsAcknowledged(ack)) => {
                ClientEvent::SubscriptionAcknowledged {
                    id,
                    filter: ack.notifications,
                }
            }
            (Some(id), notification) => ClientEvent::SubscriptionNotification { id, notification },
            (None, notification) => ClientEvent::Notification(notification),
        };
        self.events.push_back(event);
    }

    fn respond_logical(&mut self, exchange: &Exchange, outcome: Outcome) {
        self.subscriptions.remove(&exchange.logical_id);
        self.events.push_back(ClientEvent::Response {
            id: exchange.logical_id.clone(),
            method: exchange.method.to_owned(),
            outcome,
        });
    }

    fn ready(&mut self, negotiated: Negotiated) {
        self.phase = Phase::Ready(Box::new(negotiated.clone()));
        self.events.push_back(ClientEvent::Ready(negotiated));
    }

    fn server_request(&mut self, id: RequestId, method: &str, params: Option<&RawJson>) {
        let refuse = |message: String| ErrorObject::new(ErrorCode::METHOD_NOT_FOUND, message);
        let request = match ServerRequest::parse(method, params) {
            Ok(request) => request,
            Err(error) => {
                let _ = self.conn.respond(&id, Err(error.to_error_object()));
                return;
            }
        };
        if let Some(capability) =
            capability::missing_client_capability(&request, &self.config.capabilities)
        {
            let _ = self.conn.respond(
                &id,
                Err(refuse(format!(
                    "this client did not declare the {capability} capability"
                ))),
            );
            return;
        }
        if matches!(request, ServerRequest::Ping(_)) {
            let _ = self.conn.respond(&id, Ok(RawJson::empty_object()));
            return;
        }
        self.events.push_back(ClientEvent::Request { id, request });
    }
}

/// Whether a result is a `CreateTaskResult` (`resultType: "task"`).
fn is_task_result(raw: &RawJson) -> bool {
    raw.parse::<ResultTypeOnly>()
        .ok()
        .and_then(|r| r.result_type)
        .is_some_and(|kind| ResultType::from_wire(&kind) == ResultType::Task)
}

/// A modern result must carry a recognised `resultType` (absent counts as `complete`).
fn check_result_type(outcome: Outcome) -> Outcome {
    let Outcome::Result(raw) = &outcome else {
        return outcome;
    };
    let Ok(ResultTypeOnly {
        result_type: Some(value),
    }) = raw.parse::<ResultTypeOnly>()
    else {
        return outcome;
    };
    if ResultType::from_wire(&value).is_recognized() {
        outcome
    } else {
        Outcome::Failed(RequestFailure::InvalidResult {
            reason: format!("unknown resultType {value:?}"),
        })
    }
}

/// The params of an MRTR retry: the first round's params with `inputResponses` and the exact
/// `requestState` (absent when the server sent none).
fn retry_params(
    base: &RawJson,
    responses: &InputResponses,
    request_state: Option<&str>,
) -> Result<RawJson, ClientError> {
    let mut value: Value = base
        .parse()
        .map_err(|e| ClientError::Serialize(e.to_string()))?;
    let Some(object) = value.as_object_mut() else {
        return Err(ClientError::Serialize(
            "params are not a JSON object".into(),
        ));
    };
    let responses =
        serde_json::to_value(responses).map_err(|e| ClientError::Serialize(e.to_string()))?;
    object.insert("inputResponses".into(), responses);
    match request_state {
        Some(state) => object.insert("requestState".into(), Value::from(state)),
        None => object.remove("requestState"),
    };
    RawJson::from_serialize(&value).map_err(|e| ClientError::Serialize(e.to_string()))
}

fn with_progress_token(params: &RawJson, options: &RequestOptions) -> Result<RawJson, ClientError> {
    let Some(token) = &options.progress_token else {
        return Ok(params.clone());
    };
    let mut value: Value = params
        .parse()
        .map_err(|e| ClientError::Serialize(e.to_string()))?;
    if let Some(object) = value.as_object_mut() {
        let meta = object
            .entry("_meta")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Some(meta) = meta.as_object_mut() {
            meta.insert(
                "progressToken".into(),
                serde_json::to_value(token).unwrap_or(Value::Null),
            );
        }
    }
    RawJson::from_serialize(&value).map_err(|e| ClientError::Serialize(e.to_string()))
}

/// Whether an unrecognised answer to the era probe means "legacy server, try `initialize`".
/// Any JSON-RPC answer or timeout does, and so does an HTTP 4xx (legacy servers answer an
/// unknown POST with 400/404/405) — except 401/403, which ask for authorization and must reach
/// the caller. A 5xx, a broken connection or a closed endpoint says nothing about the era: the
/// handshake fails with that cause instead of guessing.
fn answer_means_legacy(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Failed(RequestFailure::Transport(TransportFailure::HttpStatus {
            status, ..
        })) => (400..500).contains(status) && *status != 401 && *status != 403,
        Outcome::Failed(RequestFailure::Transport(_) | RequestFailure::Closed) => false,
        Outcome::Result(_) | Outcome::Error(_) | Outcome::Failed(_) => true,
    }
}

/// Why the handshake request `method` ended with `outcome`: the transport's own failure when
/// it was one, kept typed.
fn refusal(method: &'static str, outcome: &Outcome) -> HandshakeError {
    match outcome {
        Outcome::Failed(RequestFailure::Transport(failure)) => HandshakeError::Transport {
            method,
            failure: failure.clone(),
        },
        _ => HandshakeError::Refused {
            method,
            reason: describe(outcome),
        },
    }
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Result(raw) => format!("unexpected result {raw}"),
        Outcome::Error(error) => error.to_string(),
        Outcome::Failed(failure) => failure.to_string(),
    }
}
