//! [`ServerEndpoint`]: the MCP server role on top of a [`Connection`], serving both eras.
//!
//! Each request is classified on arrival:
//! - `initialize` selects **legacy** semantics for this connection: the version is negotiated
//!   (a supported legacy version is echoed, anything else gets the newest legacy version — a
//!   dual-era server never answers `initialize` with a modern version);
//! - a request whose `params._meta` names a protocol version is **modern** and is validated on
//!   its own, never relying on earlier requests: missing or malformed `_meta` fields answer
//!   -32602, an unsupported version -32022 with `{supported, requested}`;
//! - anything else belongs to the legacy session, if there is one, and is refused with -32602
//!   (missing `_meta`) if there is not.
//!
//! The endpoint answers by itself what needs no application: `server/discover`, `initialize`,
//! `ping`, unknown methods and methods of the other era (-32601), methods behind a capability
//! the server did not advertise (-32601), and invalid params (-32602). Everything else reaches
//! the application as a typed [`ServerEvent::Request`] with the [`RequestContext`] it needs.
//! Answers to modern requests get `resultType: "complete"` when the application left it out.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::CloseReport;
use super::connection::{
    Connection, ConnectionConfig, Event, LocalError, RequestOptions, Transmit,
};
use super::lifecycle::State;
use super::pending::{Settled, TransportFailure, TransportScope};
use super::result_shape::{Edits, Shaped, shape};
use crate::jsonrpc::{DecodeError, ErrorCode, ErrorObject, Message, RawJson, RequestId};
use crate::types::errors::{MissingRequiredClientCapabilityData, tasks_extension_required};
use crate::types::meta::PROTOCOL_VERSION_KEY;
use crate::types::meta::SUBSCRIPTION_ID_KEY;
use crate::types::methods::{
    ClientNotification, ClientRequest, INITIALIZE, ServerNotification, ServerRequest,
};
use crate::types::methods::{
    NOTIFICATION_MESSAGE, NOTIFICATION_PROGRESS, NOTIFICATION_PROMPTS_LIST_CHANGED,
    NOTIFICATION_RESOURCES_LIST_CHANGED, NOTIFICATION_RESOURCES_UPDATED,
    NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED, NOTIFICATION_TASKS, NOTIFICATION_TOOLS_LIST_CHANGED,
};
use crate::types::tasks::{TASKS_EXTENSION_ID, TaskNotificationParams};
use crate::types::version::{self, Era, ProtocolVersion};
use crate::types::{
    CacheScope, ClientCapabilities, DiscoverResult, Implementation, InitializeResult,
    InputRequests, InputRequiredResult, LoggingLevel, LoggingMessageNotificationParams, Meta,
    ModernRequestMeta, ProgressNotificationParams, ProgressToken, ServerCapabilities,
    SubscriptionFilter,
};

/// The default cache lifetime announced by `server/discover`.
pub const DEFAULT_DISCOVER_TTL_MS: u64 = 60_000;
/// The default number of live `subscriptions/listen` streams per connection.
pub const DEFAULT_MAX_SUBSCRIPTIONS: usize = 32;
/// The most task ids one `subscriptions/listen` stream follows (tasks extension); the
/// acknowledgement lists the ones honoured.
pub const MAX_TASK_IDS_PER_SUBSCRIPTION: usize = 1024;

/// Which list changed, for [`ServerEndpoint::notify_list_changed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListChanged {
    /// `notifications/tools/list_changed`.
    Tools,
    /// `notifications/prompts/list_changed`.
    Prompts,
    /// `notifications/resources/list_changed`.
    Resources,
}

/// Whose requests share one JSON-RPC id space on a [`ServerEndpoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestIdSpace {
    /// One client owns the connection (stdio, a legacy session): an id still in flight may
    /// not be reused (-32600), and `notifications/cancelled` names requests by their ids.
    #[default]
    PerConnection,
    /// Every transport scope is an independent client's exchange (the shared endpoint behind
    /// stateless 2026-07-28 Streamable HTTP): two clients may use the same id at once. The
    /// endpoint then knows each request by an id it assigns (the `id` of
    /// [`ServerEvent::Request`], used to answer it) and puts the client's own id
    /// ([`RequestContext::wire_id`]) back on everything it sends about the request.
    PerExchange,
}

/// A live `subscriptions/listen` stream: what it honours and where it is carried.
#[derive(Debug, Clone, PartialEq)]
struct Subscription {
    filter: SubscriptionFilter,
    scope: TransportScope,
}

/// What a server is and says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Name and version, sent as `serverInfo`.
    pub info: Implementation,
    /// The capabilities advertised; methods behind capabilities not listed here answer -32601.
    pub capabilities: ServerCapabilities,
    /// Guidance for the model.
    pub instructions: Option<String>,
    /// Protocol versions served, both eras (defaults to every version this crate implements).
    pub supported_versions: Vec<ProtocolVersion>,
    /// `ttlMs` of the `server/discover` result.
    pub discover_ttl_ms: u64,
    /// Live `subscriptions/listen` streams allowed on this connection.
    pub max_subscriptions: usize,
    /// The connection settings (limits, grace, cancellation style).
    pub connection: ConnectionConfig,
    /// Whether requests of different transport scopes may share ids.
    pub request_ids: RequestIdSpace,
}

impl ServerConfig {
    /// A configuration with `info` and `capabilities` and defaults for the rest.
    #[must_use]
    pub fn new(info: Implementation, capabilities: ServerCapabilities) -> Self {
        Self {
            info,
            capabilities,
            instructions: None,
            supported_versions: version::SUPPORTED.to_vec(),
            discover_ttl_ms: DEFAULT_DISCOVER_TTL_MS,
            max_subscriptions: DEFAULT_MAX_SUBSCRIPTIONS,
            connection: ConnectionConfig::default(),
            request_ids: RequestIdSpace::PerConnection,
        }
    }
}

/// What the application needs to know about the client that sent a request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestContext {
    /// The era the request belongs to.
    pub era: Era,
    /// The protocol version it speaks (per request when modern, per session when legacy).
    pub protocol_version: ProtocolVersion,
    /// The client's capabilities (from `_meta` when modern, from `initialize` when legacy).
    pub client_capabilities: ClientCapabilities,
    /// The client software, when it said.
    pub client_info: Option<Implementation>,
    /// The log level the request opted into (modern `_meta.logLevel`), if any.
    pub log_level: Option<LoggingLevel>,
    /// The progress token of the request, if it asked for progress.
    pub progress_token: Option<ProgressToken>,
    /// The transport scope the request arrived on.
    pub scope: TransportScope,
    /// The request's id as the client sent it. The same as the event's `id`, except on a
    /// [`RequestIdSpace::PerExchange`] endpoint, which assigns its own.
    pub wire_id: RequestId,
}

/// What the server side reports to the application.
// Events are drained as soon as they are produced; boxing the request would cost an allocation
// per request to save stack space in a short-lived queue.
#[allow(clippy::large_enum_variant)]
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum ServerEvent {
    /// A request to answer with [`ServerEndpoint::respond`] (or `respond_error`).
    Request {
        /// Its id.
        id: RequestId,
        /// The typed request.
        request: ClientRequest,
        /// Who asked, and in which era.
        context: RequestContext,
    },
    /// A client notification (cancellations and `notifications/initialized` are handled).
    Notification(ClientNotification),
    /// A `subscriptions/listen` stream opened and was acknowledged with `filter` (what this
    /// server honours of what was asked). It lives until [`ServerEndpoint::end_subscription`],
    /// the client's cancel, or the connection's end.
    Subscribed {
        /// The subscription (the listen request's id).
        id: RequestId,
        /// The honoured notification types.
        filter: SubscriptionFilter,
    },
    /// A legacy client finished `initialize`: requests of its session may now flow both ways.
    Initialized {
        /// The negotiated version.
        protocol_version: ProtocolVersion,
    },
    /// The client cancelled a request (or its stream closed): do not answer it.
    Cancelled {
        /// The cancelled request.
        id: RequestId,
    },
    /// One of our (legacy, server→client) requests ended.
    Settled(Settled),
    /// The client sent something that is not a valid message (it has been answered).
    InvalidMessage(DecodeError),
    /// The connection closed. Last event.
    Closed(CloseReport),
}

/// Why a server command was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerError {
    /// The connection refused it.
    #[error(transparent)]
    Connection(#[from] LocalError),
    /// Server→client requests exist only in a legacy session, after `initialize`.
    #[error("{method} needs a legacy session; modern servers ask through input_required results")]
    NoLegacySession {
        /// The method.
        method: String,
    },
    /// The client did not declare the capability this request needs.
    #[error("the client did not declare the {capability} capability needed by {method}")]
    CapabilityNotDeclared {
        /// The method.
        method: String,
        /// The missing capability.
        capability: &'static str,
    },
    /// The result could not be serialized.
    #[error("the result could not be serialized: {0}")]
    Serialize(String),
    /// Only a modern (2026-07-28) request can be answered this way.
    #[error("{what} exists only in the 2026-07-28 protocol")]
    ModernOnly {
        /// What was attempted.
        what: &'static str,
    },
    /// The request did not declare the tasks extension, so it must not get a task result
    /// (answer it directly, or refuse with -32021).
    #[error("request {0} did not declare the tasks extension; a task result is not allowed")]
    TaskResultNotAccepted(RequestId),
    /// No request with that id is awaiting an answer.
    #[error("request {0} is not awaiting an answer")]
    NotAnswering(RequestId),
}

#[derive(Debug, Clone, PartialEq)]
struct LegacySession {
    version: ProtocolVersion,
    client_capabilities: ClientCapabilities,
    client_info: Implementation,
    initialized: bool,
    /// Set by `logging/setLevel`; until then every level is sent.
    log_level: Option<LoggingLevel>,
    /// URIs subscribed with `resources/subscribe` (bounded by `max_subscriptions`).
    resource_subscriptions: BTreeSet<String>,
}

/// A request the application owes an answer to, and where its notifications go.
#[derive(Debug, Clone, PartialEq)]
struct Answering {
    era: Era,
    scope: TransportScope,
    progress_token: Option<ProgressToken>,
    /// Modern `_meta.logLevel`: log messages for this request only at or above it.
    log_level: Option<LoggingLevel>,
    /// Whether the request may get a task result (legacy: the 2025-11-25 tasks; modern: the
    /// extension declared).
    accepts_tasks: bool,
    /// Whether the client declared the tasks extension, whose results carry `resultType` in
    /// either era.
    tasks_extension: bool,
    /// Whether a modern result must carry `ttlMs` and `cacheScope`.
    cacheable: bool,
}

impl Answering {
    /// What [`ServerEndpoint::respond`] changes at the top level of this request's result.
    fn edits(&self) -> Edits {
        let modern = self.era == Era::Modern;
        Edits {
            add_complete: modern,
            cacheable: modern && self.cacheable,
            strip_complete: self.era == Era::Legacy && !self.tasks_extension,
            refuse_task: !self.accepts_tasks,
        }
    }
}

/// Methods whose modern results must carry `ttlMs` and `cacheScope`.
const CACHEABLE_METHODS: [&str; 5] = [
    "tools/list",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
];

/// The MCP server role. Drive it like a [`Connection`]: every `handle_*` and command, then
/// drain `poll_transmit` and `poll_event`, then wait for `poll_timeout`.
#[derive(Debug)]
pub struct ServerEndpoint {
    /// Shared by the endpoints of one server (an HTTP server's sessions): never copied.
    config: Arc<ServerConfig>,
    conn: Connection,
    legacy: Option<LegacySession>,
    /// The era of each request awaiting our answer (removed when answered or cancelled).
    answering: HashMap<RequestId, Answering>,
    /// Live subscriptions, ordered so fan-out is deterministic.
    subscriptions: BTreeMap<RequestId, Subscription>,
    events: EventQueue,
    /// [`RequestIdSpace::PerExchange`] only: the client's id and scope of each request in
    /// flight, by the id this endpoint assigned it.
    wire_ids: HashMap<RequestId, (RequestId, TransportScope)>,
    /// The next id to assign (never reused: an `i64` counter does not wrap in practice).
    next_assigned_id: i64,
}

/// Events for the application, each boxed: an event is large (a request with its context), and
/// a queue keeps the room it once took, so an idle endpoint keeps room for pointers only.
#[derive(Debug, Default)]
struct EventQueue(VecDeque<Box<ServerEvent>>);

impl EventQueue {
    fn push_back(&mut self, event: ServerEvent) {
        self.0.push_back(Box::new(event));
    }

    fn pop_front(&mut self) -> Option<ServerEvent> {
        self.0.pop_front().map(|event| *event)
    }
}

impl ServerEndpoint {
    /// A server endpoint for one connection.
    #[must_use]
    pub fn new(config: ServerConfig) -> Self {
        Self::with_shared_config(Arc::new(config))
    }

    /// A server endpoint for one connection whose configuration other endpoints share (one
    /// per session of a server: the configuration is kept once).
    #[must_use]
    pub fn with_shared_config(config: Arc<ServerConfig>) -> Self {
        let conn = Connection::new(config.connection);
        Self {
            config,
            conn,
            legacy: None,
            answering: HashMap::new(),
            subscriptions: BTreeMap::new(),
            events: EventQueue::default(),
            wire_ids: HashMap::new(),
            next_assigned_id: 1,
        }
    }

    /// The negotiated legacy version, once `initialize` was answered.
    #[must_use]
    pub fn legacy_version(&self) -> Option<&ProtocolVersion> {
        self.legacy.as_ref().map(|s| &s.version)
    }

    /// A decoded message arrived on `scope`.
    pub fn handle_message(&mut self, now: Instant, scope: TransportScope, mut message: Message) {
        if self.config.request_ids == RequestIdSpace::PerExchange
            && let Message::Request(request) = &mut message
        {
            let assigned = RequestId::Number(self.next_assigned_id);
            self.next_assigned_id = self.next_assigned_id.saturating_add(1);
            let wire = std::mem::replace(&mut request.id, assigned.clone());
            self.wire_ids.insert(assigned, (wire, scope));
        }
        self.conn.handle_message(now, scope, message);
        self.pump();
    }

    /// A frame on `scope` could not be decoded (it is answered with the JSON-RPC error owed).
    pub fn handle_invalid_message(
        &mut self,
        now: Instant,
        scope: TransportScope,
        error: DecodeError,
    ) {
        self.conn.handle_invalid_message(now, scope, error);
        self.pump();
    }

    /// Time passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.conn.handle_timeout(now);
        self.pump();
    }

    /// A transport scope (a request stream) or the whole connection ended.
    pub fn handle_transport_closed(
        &mut self,
        now: Instant,
        scope: TransportScope,
        failure: TransportFailure,
    ) {
        self.conn.handle_transport_closed(now, scope, failure);
        self.pump();
    }

    /// Answers request `id` with `result`. For a modern request, `resultType: "complete"` is
    /// added when `result` is an object without one; for a legacy request it is removed
    /// (unless the client declared the tasks extension, which uses it on legacy sessions too).
    ///
    /// # Errors
    /// [`ServerError`] when the request is not awaiting an answer or the result does not
    /// serialize; nothing is sent.
    pub fn respond<R: Serialize>(&mut self, id: &RequestId, result: &R) -> Result<(), ServerError> {
        // Taken out at once (one lookup instead of a look and a removal); put back when the
        // answer is refused, so a refusal changes nothing.
        let answering = self.answering.remove(id);
        let sent = self.send_result(id, result, answering.as_ref());
        if sent.is_err()
            && let Some(answering) = answering
        {
            self.answering.insert(id.clone(), answering);
        }
        sent
    }

    fn send_result<R: Serialize>(
        &mut self,
        id: &RequestId,
        result: &R,
        answering: Option<&Answering>,
    ) -> Result<(), ServerError> {
        let serialize_error = |e: serde_json::Error| ServerError::Serialize(e.to_string());
        let raw = match answering {
            // Not awaiting an answer: the connection refuses it below, after the same
            // serialization check as any answer.
            None => RawJson::from_serialize(result).map_err(serialize_error)?,
            Some(answering) => match shape(result, answering.edits()).map_err(serialize_error)? {
                Shaped::Done(raw) => raw,
                Shaped::TaskRefused => return Err(ServerError::TaskResultNotAccepted(id.clone())),
            },
        };
        self.conn.respond(id, Ok(raw))?;
        Ok(())
    }

    /// Answers request `id` with an error.
    ///
    /// # Errors
    /// [`ServerError::Connection`] when the request is not awaiting an answer.
    pub fn respond_error(&mut self, id: &RequestId, error: ErrorObject) -> Result<(), ServerError> {
        self.conn.respond(id, Err(error))?;
        self.answering.remove(id);
        Ok(())
    }

    /// Reports progress on request `id`, on its own stream, when the client asked for progress
    /// (a progress token in the request's `_meta`). Returns whether a notification was sent.
    ///
    /// # Errors
    /// [`ServerError::NotAnswering`] for an unknown id; [`ServerError::Serialize`] for a
    /// non-finite number.
    pub fn progress(
        &mut self,
        id: &RequestId,
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
    ) -> Result<bool, ServerError> {
        let answering = self
            .answering
            .get(id)
            .ok_or_else(|| ServerError::NotAnswering(id.clone()))?;
        let Some(token) = answering.progress_token.clone() else {
            return Ok(false);
        };
        let number = |n: f64| {
            serde_json::Number::from_f64(n)
                .ok_or_else(|| ServerError::Serialize(format!("{n} is not a JSON number")))
        };
        let params = ProgressNotificationParams {
            meta: None,
            progress_token: token,
            progress: number(progress)?,
            total: total.map(number).transpose()?,
            message,
        };
        let scope = answering.scope;
        let raw =
            RawJson::from_serialize(&params).map_err(|e| ServerError::Serialize(e.to_string()))?;
        self.conn
            .notify_on(scope, NOTIFICATION_PROGRESS, Some(raw))?;
        Ok(true)
    }

    /// Sends a log message about request `id` when the client wants it: for a modern request,
    /// only if its `_meta.logLevel` asked for this level or a lower one, on the request's own
    /// stream; for a legacy request, at or above the session's `logging/setLevel` (everything
    /// before one was set). Returns whether a notification was sent.
    ///
    /// # Errors
    /// [`ServerError::NotAnswering`] for an unknown id.
    pub fn log(
        &mut self,
        id: &RequestId,
        level: LoggingLevel,
        logger: Option<String>,
        data: serde_json::Value,
    ) -> Result<bool, ServerError> {
        let answering = self
            .answering
            .get(id)
            .ok_or_else(|| ServerError::NotAnswering(id.clone()))?;
        let wanted = match answering.era {
            Era::Modern => answering
                .log_level
                .is_some_and(|threshold| level >= threshold),
            Era::Legacy => self
                .legacy
                .as_ref()
                .and_then(|s| s.log_level)
                .is_none_or(|threshold| level >= threshold),
        };
        if !wanted {
            return Ok(false);
        }
        let scope = answering.scope;
        let params = LoggingMessageNotificationParams {
            meta: None,
            level,
            logger,
            data,
        };
        let raw =
            RawJson::from_serialize(&params).map_err(|e| ServerError::Serialize(e.to_string()))?;
        self.conn
            .notify_on(scope, NOTIFICATION_MESSAGE, Some(raw))?;
        Ok(true)
    }

    /// Answers modern request `id` with `input_required`: the client fulfils `requests` and
    /// retries with `inputResponses` and `request_state` echoed exactly (MRTR). The retry
    /// arrives as a new request whose params carry both.
    ///
    /// # Errors
    /// [`ServerError::ModernOnly`] for a legacy request (legacy servers send requests
    /// instead), [`ServerError::NotAnswering`] for an unknown id.
    pub fn respond_input_required(
        &mut self,
        id: &RequestId,
        requests: InputRequests,
        request_state: Option<String>,
    ) -> Result<(), ServerError> {
        let answering = self
            .answering
            .get(id)
            .ok_or_else(|| ServerError::NotAnswering(id.clone()))?;
        if answering.era != Era::Modern {
            return Err(ServerError::ModernOnly {
                what: "input_required",
            });
        }
        let result = InputRequiredResult {
            input_requests: (!requests.is_empty()).then_some(requests),
            request_state,
            ..InputRequiredResult::default()
        };
        self.respond(id, &result)
    }

    /// Refuses request `id` because it needs client capabilities the client did not declare
    /// (-32021 with `requiredCapabilities`).
    ///
    /// # Errors
    /// [`ServerError::NotAnswering`] for an unknown id.
    pub fn respond_missing_client_capability(
        &mut self,
        id: &RequestId,
        required: ClientCapabilities,
    ) -> Result<(), ServerError> {
        let error = MissingRequiredClientCapabilityData {
            required_capabilities: required,
        }
        .into_error("Missing required client capability");
        if !self.answering.contains_key(id) {
            return Err(ServerError::NotAnswering(id.clone()));
        }
        self.respond_error(id, error)
    }

    /// Sends a notification (progress, log message, list changed…).
    ///
    /// # Errors
    /// [`ServerError`] when closed or the params do not serialize.
    pub fn notify(&mut self, notification: &ServerNotification) -> Result<(), ServerError> {
        let params = notification
            .to_params()
            .map_err(|e| ServerError::Serialize(e.to_string()))?;
        self.conn.notify(notification.method(), Some(params))?;
        Ok(())
    }

    /// Sends a server→client request (legacy sessions only), refused before it is sent when the
    /// client did not declare the capability it needs. Its end arrives as
    /// [`ServerEvent::Settled`].
    ///
    /// # Errors
    /// [`ServerError`]; nothing is sent.
    pub fn request(
        &mut self,
        now: Instant,
        request: &ServerRequest,
        options: RequestOptions,
    ) -> Result<RequestId, ServerError> {
        self.request_on(now, TransportScope::CONNECTION, request, options)
    }

    /// Sends a server→client request about client request `related` (which this endpoint is
    /// still answering): on Streamable HTTP it travels on that request's own stream, as the
    /// spec recommends, instead of the session's standalone stream. When `related` is not
    /// being answered any more it goes where [`ServerEndpoint::request`] sends it.
    ///
    /// # Errors
    /// As [`ServerEndpoint::request`].
    pub fn request_related(
        &mut self,
        now: Instant,
        request: &ServerRequest,
        options: RequestOptions,
        related: &RequestId,
    ) -> Result<RequestId, ServerError> {
        let scope = self
            .answering
            .get(related)
            .map_or(TransportScope::CONNECTION, |answering| answering.scope);
        self.request_on(now, scope, request, options)
    }

    fn request_on(
        &mut self,
        now: Instant,
        scope: TransportScope,
        request: &ServerRequest,
        options: RequestOptions,
    ) -> Result<RequestId, ServerError> {
        let method = request.method();
        let Some(session) = self.legacy.as_ref() else {
            return Err(ServerError::NoLegacySession {
                method: method.to_owned(),
            });
        };
        let missing =
            super::capability::missing_client_capability(request, &session.client_capabilities);
        if let Some(capability) = missing {
            return Err(ServerError::CapabilityNotDeclared {
                method: method.to_owned(),
                capability,
            });
        }
        let params = request
            .to_params()
            .map_err(|e| ServerError::Serialize(e.to_string()))?;
        Ok(self
            .conn
            .request_on(now, scope, method, Some(params), options)?)
    }

    /// Tells every subscription that opted in that a list changed, and an initialized legacy
    /// session when the server advertises `listChanged` for that list. Returns how many were
    /// told.
    pub fn notify_list_changed(&mut self, list: ListChanged) -> usize {
        let method = match list {
            ListChanged::Tools => NOTIFICATION_TOOLS_LIST_CHANGED,
            ListChanged::Prompts => NOTIFICATION_PROMPTS_LIST_CHANGED,
            ListChanged::Resources => NOTIFICATION_RESOURCES_LIST_CHANGED,
        };
        let targets: Vec<(RequestId, TransportScope)> = self
            .subscriptions
            .iter()
            .filter(|(_, sub)| {
                let flag = match list {
                    ListChanged::Tools => sub.filter.tools_list_changed,
                    ListChanged::Prompts => sub.filter.prompts_list_changed,
                    ListChanged::Resources => sub.filter.resources_list_changed,
                };
                flag == Some(true)
            })
            .map(|(id, sub)| (id.clone(), sub.scope))
            .collect();
        let caps = &self.config.capabilities;
        let advertised = match list {
            ListChanged::Tools => caps
                .tools
                .as_ref()
                .is_some_and(|c| c.list_changed == Some(true)),
            ListChanged::Prompts => caps
                .prompts
                .as_ref()
                .is_some_and(|c| c.list_changed == Some(true)),
            ListChanged::Resources => caps
                .resources
                .as_ref()
                .is_some_and(|c| c.list_changed == Some(true)),
        };
        let legacy = usize::from(
            advertised
                && self
                    .legacy
                    .as_ref()
                    .is_some_and(|session| session.initialized)
                && self.conn.notify(method, None).is_ok(),
        );
        self.send_to_subscriptions(&targets, method, serde_json::Map::new()) + legacy
    }

    /// Tells every subscription that listed `uri` (or a resource `uri` lies under) that it
    /// changed. Returns how many were told.
    pub fn notify_resource_updated(&mut self, uri: &str) -> usize {
        let targets: Vec<(RequestId, TransportScope)> = self
            .subscriptions
            .iter()
            .filter(|(_, sub)| {
                sub.filter
                    .resource_subscriptions
                    .as_ref()
                    .is_some_and(|uris| {
                        uris.iter()
                            .any(|subscribed| is_same_or_under(uri, subscribed))
                    })
            })
            .map(|(id, sub)| (id.clone(), sub.scope))
            .collect();
        let mut params = serde_json::Map::new();
        params.insert("uri".into(), serde_json::Value::from(uri));
        let legacy_subscribed = self.legacy.as_ref().is_some_and(|session| {
            session
                .resource_subscriptions
                .iter()
                .any(|subscribed| is_same_or_under(uri, subscribed))
        });
        let legacy = match RawJson::from_serialize(&params) {
            Ok(raw) if legacy_subscribed => usize::from(
                self.conn
                    .notify(NOTIFICATION_RESOURCES_UPDATED, Some(raw))
                    .is_ok(),
            ),
            _ => 0,
        };
        self.send_to_subscriptions(&targets, NOTIFICATION_RESOURCES_UPDATED, params) + legacy
    }

    /// Sends `notifications/tasks` (tasks extension, SEP-2663) with `task` — the task as
    /// `tasks/get` would return it now — to every subscription that listed its id in
    /// `taskIds`. Returns how many were told.
    pub fn notify_task(&mut self, task: &TaskNotificationParams) -> usize {
        let task_id = task.task.task_id.as_str();
        let targets: Vec<(RequestId, TransportScope)> = self
            .subscriptions
            .iter()
            .filter(|(_, sub)| {
                sub.filter
                    .task_ids
                    .as_ref()
                    .is_some_and(|ids| ids.iter().any(|id| id == task_id))
            })
            .map(|(id, sub)| (id.clone(), sub.scope))
            .collect();
        if targets.is_empty() {
            return 0;
        }
        let Ok(serde_json::Value::Object(params)) = serde_json::to_value(task) else {
            return 0;
        };
        self.send_to_subscriptions(&targets, NOTIFICATION_TASKS, params)
    }

    /// Whether this server declares the tasks extension.
    fn offers_tasks(&self) -> bool {
        self.config
            .capabilities
            .extensions
            .as_ref()
            .is_some_and(|extensions| extensions.contains_key(TASKS_EXTENSION_ID))
    }

    /// Ends subscription `id` with its completion result (`resultType: "complete"` and the
    /// subscription id in `_meta`). Returns whether it was live.
    pub fn end_subscription(&mut self, id: &RequestId) -> bool {
        if self.subscriptions.remove(id).is_none() {
            return false;
        }
        let result = serde_json::json!({ "resultType": "complete", "_meta": subscription_meta(self.wire_id(id)) });
        RawJson::from_serialize(&result).is_ok_and(|raw| self.conn.respond(id, Ok(raw)).is_ok())
    }

    /// Live subscriptions.
    #[must_use]
    pub fn subscription_count(&self) -> usize {
        self.subscriptions.len()
    }

    fn send_to_subscriptions(
        &mut self,
        targets: &[(RequestId, TransportScope)],
        method: &str,
        params: serde_json::Map<String, serde_json::Value>,
    ) -> usize {
        let mut sent = 0;
        for (id, scope) in targets {
            let mut params = params.clone();
            params.insert("_meta".into(), subscription_meta(self.wire_id(id)));
            let Ok(raw) = RawJson::from_serialize(&params) else {
                continue;
            };
            if self.conn.notify_on(*scope, method, Some(raw)).is_ok() {
                sent += 1;
            }
        }
        sent
    }

    /// Opens a subscription: acknowledge first (on its own stream), then remember it.
    fn listen(&mut self, id: RequestId, requested: &SubscriptionFilter, scope: TransportScope) {
        if self.subscriptions.len() >= self.config.max_subscriptions {
            let message = format!(
                "at most {} subscriptions per connection",
                self.config.max_subscriptions
            );
            return self.refuse(&id, ErrorObject::new(ErrorCode::INTERNAL_ERROR, message));
        }
        let filter = self.honoured(requested);
        let ack = serde_json::json!({
            "_meta": subscription_meta(self.wire_id(&id)),
            "notifications": filter,
        });
        let sent = RawJson::from_serialize(&ack).is_ok_and(|raw| {
            self.conn
                .notify_on(scope, NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED, Some(raw))
                .is_ok()
        });
        if !sent {
            return self.refuse(&id, ErrorObject::from_code(ErrorCode::INTERNAL_ERROR));
        }
        self.subscriptions.insert(
            id.clone(),
            Subscription {
                filter: filter.clone(),
                scope,
            },
        );
        self.events
            .push_back(ServerEvent::Subscribed { id, filter });
    }

    /// Legacy `resources/subscribe` / `unsubscribe`: needs `resources.subscribe`, bounded.
    fn legacy_subscribe(&mut self, id: &RequestId, uri: String, subscribe: bool) {
        let offered = self
            .config
            .capabilities
            .resources
            .as_ref()
            .is_some_and(|r| r.subscribe == Some(true));
        let max = self.config.max_subscriptions;
        let refusal = match self.legacy.as_mut() {
            _ if !offered => Some(ErrorObject::new(
                ErrorCode::METHOD_NOT_FOUND,
                "this server does not offer resource subscriptions",
            )),
            Some(session)
                if subscribe
                    && session.resource_subscriptions.len() >= max
                    && !session.resource_subscriptions.contains(&uri) =>
            {
                Some(ErrorObject::new(
                    ErrorCode::INTERNAL_ERROR,
                    format!("at most {max} resource subscriptions"),
                ))
            }
            Some(session) => {
                if subscribe {
                    session.resource_subscriptions.insert(uri);
                } else {
                    session.resource_subscriptions.remove(&uri);
                }
                None
            }
            None => Some(ErrorObject::from_code(ErrorCode::INTERNAL_ERROR)),
        };
        match refusal {
            Some(error) => self.refuse(id, error),
            None => {
                let _ = self.conn.respond(id, Ok(RawJson::empty_object()));
            }
        }
    }

    /// What this server honours of `requested`: only types it advertises (the server MUST NOT
    /// send notification types the client did not ask for, and cannot send ones it lacks).
    fn honoured(&self, requested: &SubscriptionFilter) -> SubscriptionFilter {
        let caps = &self.config.capabilities;
        let asked =
            |flag: Option<bool>, offered: bool| (flag == Some(true) && offered).then_some(true);
        let tools = caps
            .tools
            .as_ref()
            .is_some_and(|t| t.list_changed == Some(true));
        let prompts = caps
            .prompts
            .as_ref()
            .is_some_and(|p| p.list_changed == Some(true));
        let resources = caps.resources.as_ref();
        SubscriptionFilter {
            tools_list_changed: asked(requested.tools_list_changed, tools),
            prompts_list_changed: asked(requested.prompts_list_changed, prompts),
            resources_list_changed: asked(
                requested.resources_list_changed,
                resources.is_some_and(|r| r.list_changed == Some(true)),
            ),
            resource_subscriptions: requested
                .resource_subscriptions
                .clone()
                .filter(|_| resources.is_some_and(|r| r.subscribe == Some(true))),
            // Any id (task ids are unguessable: knowing one is the right to follow it), at
            // most MAX_TASK_IDS_PER_SUBSCRIPTION distinct ones.
            task_ids: requested
                .task_ids
                .as_ref()
                .filter(|_| self.offers_tasks())
                .map(|ids| {
                    let mut seen = BTreeSet::new();
                    ids.iter()
                        .filter(|id| seen.insert(id.as_str()))
                        .take(MAX_TASK_IDS_PER_SUBSCRIPTION)
                        .cloned()
                        .collect()
                }),
        }
    }

    /// Starts a graceful close (see [`Connection::close`]).
    pub fn close(&mut self, now: Instant) {
        self.conn.close(now);
        self.pump();
    }

    /// Closes at once.
    pub fn abort(&mut self) {
        self.conn.abort();
        self.pump();
    }

    /// The next thing to put on the wire.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let mut transmit = self.conn.poll_transmit()?;
        if !self.wire_ids.is_empty()
            && let Transmit::Send { scope, message } = &mut transmit
        {
            let answered = match message {
                Message::Response(response) => Some(&mut response.id),
                Message::Error(error) => error.id.as_mut(),
                Message::Request(_) | Message::Notification(_) => None,
            };
            // An answer ends the request: its assigned id is forgotten as the client's id goes
            // back on the wire. The scope check keeps an answer this endpoint wrote with a
            // client's id (to an undecodable message) from being taken for an assigned one.
            if let Some(id) = answered
                && self
                    .wire_ids
                    .get(id)
                    .is_some_and(|(_, origin)| origin == scope)
                && let Some((wire, _)) = self.wire_ids.remove(id)
            {
                *id = wire;
            }
        }
        Some(transmit)
    }

    /// The id the client gave request `id` (they differ on a [`RequestIdSpace::PerExchange`]
    /// endpoint).
    fn wire_id<'a>(&'a self, id: &'a RequestId) -> &'a RequestId {
        self.wire_ids.get(id).map_or(id, |(wire, _)| wire)
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When to call [`ServerEndpoint::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.conn.poll_timeout()
    }

    /// Where the connection is in its life.
    #[must_use]
    pub fn state(&self) -> &State {
        self.conn.state()
    }

    fn pump(&mut self) {
        while let Some(event) = self.conn.poll_event() {
            match event {
                Event::Request {
                    id,
                    method,
                    params,
                    scope,
                } => self.request_arrived(id, &method, params, scope),
                Event::Notification { method, params } => {
                    self.notification_arrived(&method, params.as_ref());
                }
                Event::PeerCancelled { id, .. } => {
                    self.wire_ids.remove(&id);
                    self.answering.remove(&id);
                    self.subscriptions.remove(&id);
                    self.events.push_back(ServerEvent::Cancelled { id });
                }
                Event::Settled(settled) => self.events.push_back(ServerEvent::Settled(settled)),
                Event::InvalidMessage(error) => {
                    self.events.push_back(ServerEvent::InvalidMessage(error));
                }
                Event::Closed(report) => {
                    self.answering.clear();
                    self.subscriptions.clear();
                    self.events.push_back(ServerEvent::Closed(report));
                }
                // Id-less peer errors and late answers concern only our own (legacy) requests and
                // need no action here.
                Event::PeerError(_) | Event::UnmatchedResponse(_) => {}
            }
        }
    }

    fn refuse(&mut self, id: &RequestId, error: ErrorObject) {
        // The request is in the connection's table (it was just announced), so this succeeds.
        let _ = self.conn.respond(id, Err(error));
    }

    fn request_arrived(
        &mut self,
        id: RequestId,
        method: &str,
        params: Option<RawJson>,
        scope: TransportScope,
    ) {
        let Some(availability) = ClientRequest::method_availability(method) else {
            return self.refuse(
                &id,
                ErrorObject::new(
                    ErrorCode::METHOD_NOT_FOUND,
                    format!("method not found: {method}"),
                ),
            );
        };
        // One parse of the params serves everything: when it succeeds, its `_meta` is exactly
        // what `Meta::from_params` reads (the same derived `Option<Meta>` member); when it
        // fails, `_meta` is read on its own so that its errors still come first.
        let parsed = ClientRequest::parse(method, params.as_ref());
        let meta_alone;
        let meta = match &parsed {
            Ok(request) => request.meta(),
            Err(_) => {
                meta_alone = params.as_ref().and_then(Meta::from_params);
                meta_alone.as_ref()
            }
        };
        let declares_modern = meta.is_some_and(|m| m.get(PROTOCOL_VERSION_KEY).is_some());
        // Era first: a method that does not exist in the request's era is -32601 whatever its
        // params, and modern `_meta` is validated before the params (which it belongs to).
        // `initialize` selects a legacy session, unless its `_meta` declares a modern version:
        // that is a 2026-07-28 request for a method the era removed (-32601 below).
        let context = if method == INITIALIZE && !declares_modern {
            None
        } else if declares_modern || self.legacy.is_none() {
            match self.modern_context(meta, scope, &id) {
                Ok(context) => Some(context),
                Err(error) => return self.refuse(&id, error),
            }
        } else {
            self.legacy.as_ref().map(|session| RequestContext {
                era: Era::Legacy,
                protocol_version: session.version.clone(),
                client_capabilities: session.client_capabilities.clone(),
                client_info: Some(session.client_info.clone()),
                log_level: None,
                progress_token: meta.and_then(|m| m.progress_token().ok().flatten()),
                scope,
                wire_id: self.wire_id(&id).clone(),
            })
        };
        let era = context.as_ref().map_or(Era::Legacy, |c| c.era);
        if !availability.includes(era) {
            let era = match era {
                Era::Modern => "2026-07-28",
                Era::Legacy => "legacy",
            };
            let message = format!("{method} is not part of the {era} protocol");
            return self.refuse(&id, ErrorObject::new(ErrorCode::METHOD_NOT_FOUND, message));
        }
        let request = match parsed {
            Ok(request) => request,
            Err(error) => return self.refuse(&id, error.to_error_object()),
        };
        let context = match (context, &request) {
            (Some(context), _) => context,
            (None, ClientRequest::Initialize(init)) => {
                let (version, capabilities, info) = (
                    init.protocol_version.as_str().to_owned(),
                    init.capabilities.clone(),
                    init.client_info.clone(),
                );
                return self.initialize(&id, &version, capabilities, info);
            }
            // The context is absent only for `initialize`; answer anyway so nothing is left pending.
            (None, _) => {
                return self.refuse(&id, ErrorObject::from_code(ErrorCode::INTERNAL_ERROR));
            }
        };
        if let Some(capability) =
            super::capability::missing_server_capability(&request, &self.config.capabilities)
        {
            return self.refuse(
                &id,
                ErrorObject::new(ErrorCode::METHOD_NOT_FOUND, format!("{method} needs the {capability} capability, which this server does not offer")),
            );
        }
        // The tasks extension's methods serve only clients that declare it on the request
        // (SEP-2663, SEP-2575 "Missing Required Capabilities").
        if context.era == Era::Modern
            && matches!(
                request,
                ClientRequest::GetTask(_)
                    | ClientRequest::UpdateTask(_)
                    | ClientRequest::CancelTask(_)
            )
            && context
                .client_capabilities
                .extension(TASKS_EXTENSION_ID)
                .is_none()
        {
            let message =
                format!("{method} needs the client to declare the {TASKS_EXTENSION_ID} extension");
            return self.refuse(&id, tasks_extension_required(message));
        }
        match request {
            ClientRequest::Discover(_) => self.answer_discover(&id),
            ClientRequest::SubscriptionsListen(listen) => {
                // Task notifications go only to clients declaring the extension (SEP-2663).
                let asks_for_tasks = listen
                    .notifications
                    .task_ids
                    .as_ref()
                    .is_some_and(|ids| !ids.is_empty());
                if asks_for_tasks
                    && self.offers_tasks()
                    && context
                        .client_capabilities
                        .extension(TASKS_EXTENSION_ID)
                        .is_none()
                {
                    let message = format!(
                        "taskIds needs the client to declare the {TASKS_EXTENSION_ID} extension"
                    );
                    return self.refuse(&id, tasks_extension_required(message));
                }
                self.listen(id, &listen.notifications, context.scope);
            }
            ClientRequest::Ping(_) => {
                let _ = self.conn.respond(&id, Ok(RawJson::empty_object()));
            }
            ClientRequest::Subscribe(subscribe) => self.legacy_subscribe(&id, subscribe.uri, true),
            ClientRequest::Unsubscribe(unsubscribe) => {
                self.legacy_subscribe(&id, unsubscribe.uri, false)
            }
            ClientRequest::SetLevel(set) => {
                if let Some(session) = self.legacy.as_mut() {
                    session.log_level = Some(set.level);
                }
                let _ = self.conn.respond(&id, Ok(RawJson::empty_object()));
            }
            request => {
                let tasks_extension = context
                    .client_capabilities
                    .extension(TASKS_EXTENSION_ID)
                    .is_some();
                let answering = Answering {
                    era: context.era,
                    scope: context.scope,
                    progress_token: context.progress_token.clone(),
                    log_level: context.log_level,
                    accepts_tasks: context.era == Era::Legacy || tasks_extension,
                    tasks_extension,
                    cacheable: CACHEABLE_METHODS.contains(&request.method()),
                };
                self.answering.insert(id.clone(), answering);
                self.events.push_back(ServerEvent::Request {
                    id,
                    request,
                    context,
                });
            }
        }
    }

    fn modern_context(
        &self,
        meta: Option<&Meta>,
        scope: TransportScope,
        id: &RequestId,
    ) -> Result<RequestContext, ErrorObject> {
        let fields = ModernRequestMeta::from_params_meta(meta)
            .map_err(|e| ErrorObject::new(ErrorCode::INVALID_PARAMS, e.to_string()))?;
        let version = version::check_modern_version(
            fields.protocol_version.as_str(),
            &self.config.supported_versions,
        )
        .map_err(|data| {
            let error = ErrorObject::from_code(ErrorCode::UNSUPPORTED_PROTOCOL_VERSION);
            error.clone().with_data(&data).unwrap_or(error)
        })?;
        Ok(RequestContext {
            era: Era::Modern,
            protocol_version: version,
            client_capabilities: fields.client_capabilities,
            client_info: fields.client_info,
            log_level: fields.log_level,
            progress_token: fields.progress_token,
            scope,
            wire_id: self.wire_id(id).clone(),
        })
    }

    fn initialize(
        &mut self,
        id: &RequestId,
        requested: &str,
        capabilities: ClientCapabilities,
        client_info: Implementation,
    ) {
        let Some(version) =
            version::negotiate_legacy_server(requested, &self.config.supported_versions)
        else {
            // A modern-only server names what it supports in its refusal.
            let data = crate::types::errors::UnsupportedProtocolVersionData {
                supported: self.config.supported_versions.clone(),
                requested: requested.to_owned(),
            };
            let error = ErrorObject::new(
                ErrorCode::INVALID_PARAMS,
                "this server speaks no legacy protocol version",
            );
            let error = error.clone().with_data(&data).unwrap_or(error);
            return self.refuse(id, error);
        };
        let result = InitializeResult {
            meta: None,
            protocol_version: version.clone(),
            capabilities: self.config.capabilities.clone(),
            server_info: self.config.info.clone(),
            instructions: self.config.instructions.clone(),
        };
        let answered = RawJson::from_serialize(&result)
            .is_ok_and(|raw| self.conn.respond(id, Ok(raw)).is_ok());
        if answered {
            self.legacy = Some(LegacySession {
                version,
                client_capabilities: capabilities,
                client_info,
                initialized: false,
                log_level: None,
                resource_subscriptions: BTreeSet::new(),
            });
        }
    }

    fn answer_discover(&mut self, id: &RequestId) {
        let mut meta = Meta::new();
        meta.set_server_info(&self.config.info);
        let result = DiscoverResult {
            meta: Some(meta),
            result_type: Some(crate::types::ResultType::Complete),
            supported_versions: self.config.supported_versions.clone(),
            capabilities: self.config.capabilities.clone(),
            instructions: self.config.instructions.clone(),
            ttl_ms: self.config.discover_ttl_ms,
            cache_scope: CacheScope::Public,
        };
        if let Ok(raw) = RawJson::from_serialize(&result) {
            let _ = self.conn.respond(id, Ok(raw));
        }
    }

    fn notification_arrived(&mut self, method: &str, params: Option<&RawJson>) {
        match ClientNotification::parse(method, params) {
            Ok(ClientNotification::Initialized(_)) => {
                if let Some(session) = self.legacy.as_mut()
                    && !session.initialized
                {
                    session.initialized = true;
                    let protocol_version = session.version.clone();
                    self.events
                        .push_back(ServerEvent::Initialized { protocol_version });
                }
            }
            // Cancellation and progress were already applied by the connection.
            Ok(ClientNotification::Cancelled(_) | ClientNotification::Progress(_)) => {}
            Ok(notification) => self
                .events
                .push_back(ServerEvent::Notification(notification)),
            // Notifications are never answered; an unknown or malformed one is dropped.
            Err(_) => {}
        }
    }
}

/// `_meta` carrying a subscription's id.
fn subscription_meta(id: &RequestId) -> serde_json::Value {
    let mut meta = serde_json::Map::new();
    meta.insert(
        SUBSCRIPTION_ID_KEY.into(),
        serde_json::to_value(id).unwrap_or(serde_json::Value::Null),
    );
    serde_json::Value::Object(meta)
}

/// Whether `uri` is `subscribed` or a sub-resource of it (the next character after the prefix
/// is a path, query or fragment separator, so `file:///a` does not cover `file:///ab`).
fn is_same_or_under(uri: &str, subscribed: &str) -> bool {
    uri.strip_prefix(subscribed).is_some_and(|rest| {
        rest.is_empty() || subscribed.ends_with('/') || rest.starts_with(['/', '?', '#'])
    })
}
