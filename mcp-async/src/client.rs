//! The high-level client: a cheap [`Client`] handle talking by message to the one task that
//! owns the connection's [`ClientEndpoint`].
//!
//! - Typed calls with automatic pagination, a per-call timeout and cancel-on-drop: dropping a
//!   call's future cancels the request the way its era and transport require.
//! - [`Client::shutdown`] closes gracefully and returns a [`ShutdownReport`]. Dropping the
//!   last handle aborts instead: the task notices the closed channel and ends the connection;
//!   `Drop` itself never spawns, blocks or panics.

use std::collections::HashMap;
use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use futures_lite::Stream;
use futures_lite::io::{AsyncRead, AsyncWrite};
use mcp_proto::engine::{
    ClientConfig, ClientEndpoint, ClientEvent, CloseReason, CloseReport, EraPolicy, HandshakeError,
    Negotiated, Outcome, RequestFailure, RequestOptions, Transmit, TransportFailure,
};
use mcp_proto::jsonrpc::{ErrorCode, ErrorObject, RawJson, RequestId};
use mcp_proto::types::methods::{ClientRequest, ServerNotification};
use mcp_proto::types::{
    CallToolResult, ClientCapabilities, CompleteResult, GetPromptResult, Implementation,
    InputRequest, InputResponse, InputResponses, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, ProgressToken, Prompt, ReadResourceResult, Resource,
    ResourceTemplate, SubscriptionFilter, Tool,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::handlers::ClientHandlers;
use crate::lines::{IoWake, LineIo};
use crate::process::ChildExit;
use crate::runtime::{BoxFuture, Runtime};
use crate::timer::Timer;

/// Commands queued from handles to the connection task.
const COMMAND_QUEUE: usize = 1024;
/// The most pages a listing follows before giving up (a server whose cursors never end).
pub const MAX_PAGES: usize = 1000;

/// Notifications queued for a [`Subscription`] that is not read; more are dropped (and
/// logged) rather than stalling the connection.
pub const SUBSCRIPTION_QUEUE: usize = 256;

/// A progress report on one of our calls.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressUpdate {
    /// Progress so far (increases with each report).
    pub progress: f64,
    /// The total, if the server knows it.
    pub total: Option<f64>,
    /// A human-readable message.
    pub message: Option<String>,
}

type ProgressFn = Arc<dyn Fn(ProgressUpdate) + Send + Sync>;
type NotificationFn = Arc<dyn Fn(ServerNotification) + Send + Sync>;

/// Per-call options.
#[derive(Clone, Default)]
pub struct CallOptions {
    /// The call's timeout (`None`: the client's `call_timeout`, else the engine's default).
    /// Progress reports extend it.
    pub timeout: Option<Duration>,
    progress: Option<ProgressFn>,
}

impl fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallOptions")
            .field("timeout", &self.timeout)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl CallOptions {
    /// Sets the call's timeout.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Asks the server for progress reports and hands each to `callback` (called in the
    /// connection's task: keep it short, e.g. send to a channel).
    #[must_use]
    pub fn on_progress(
        mut self,
        callback: impl Fn(ProgressUpdate) + Send + Sync + 'static,
    ) -> Self {
        self.progress = Some(Arc::new(callback));
        self
    }
}

/// What a [`Subscription`] delivers.
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionEvent {
    /// The server acknowledged it, honouring this filter (types it does not support are
    /// left out).
    Acknowledged(SubscriptionFilter),
    /// A notification.
    Notification(ServerNotification),
    /// It ended: the server completed it (`Ok`), or it failed or was refused.
    Ended(Result<(), CallError>),
}

/// An open `subscriptions/listen` stream; dropping it cancels it on the server.
#[derive(Debug)]
pub struct Subscription {
    call: u64,
    commands: crate::channel::Sender<Command>,
    events: crate::channel::Receiver<SubscriptionEvent>,
}

impl Subscription {
    /// The next event; `None` after [`SubscriptionEvent::Ended`] or when the connection is
    /// gone.
    pub async fn next(&self) -> Option<SubscriptionEvent> {
        self.events.recv().await.ok()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Never blocks: a full or closed queue means the connection is going away anyway.
        let _ = self.commands.try_send(Command::Cancel { call: self.call });
    }
}

/// How to connect.
#[derive(Clone)]
pub struct ClientOptions {
    /// The core client configuration (identity, capabilities, era policy, limits).
    pub config: ClientConfig,
    /// The longest the handshake may take.
    pub connect_timeout: Duration,
    /// The timeout of calls that do not set their own (`None`: the engine's default).
    pub call_timeout: Option<Duration>,
    /// Answers to the server's input requests (set with `on_roots`, `on_sampling`,
    /// `on_elicitation`, which also declare the capabilities).
    pub handlers: ClientHandlers,
    notifications: Option<NotificationFn>,
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("config", &self.config)
            .field("connect_timeout", &self.connect_timeout)
            .field("call_timeout", &self.call_timeout)
            .field("handlers", &self.handlers)
            .field("notifications", &self.notifications.is_some())
            .finish()
    }
}

impl ClientOptions {
    /// Options for a client called `name` at `version`, declaring no capabilities.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            config: ClientConfig::new(
                Implementation::new(name, version),
                ClientCapabilities::default(),
            ),
            connect_timeout: Duration::from_secs(30),
            call_timeout: None,
            handlers: ClientHandlers::default(),
            notifications: None,
        }
    }

    /// Hands every server notification that is not about one of our calls or
    /// subscriptions (logs, list changes, resource updates of a legacy session…) to
    /// `callback`, called in the connection's task: keep it short.
    #[must_use]
    pub fn on_notification(
        mut self,
        callback: impl Fn(ServerNotification) + Send + Sync + 'static,
    ) -> Self {
        self.notifications = Some(Arc::new(callback));
        self
    }

    /// Chooses how the era is picked.
    #[must_use]
    pub fn era(mut self, era: EraPolicy) -> Self {
        self.config.era = era;
        self
    }
}

/// Why a call failed. The transport's own error is kept as it came (e.g. an HTTP status).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The server answered with a JSON-RPC error.
    #[error("the server answered with error {}: {}", .0.code.0, .0.message)]
    Server(ErrorObject),
    /// No answer: timeout, cancellation, transport failure, closed connection…
    #[error(transparent)]
    Failed(RequestFailure),
    /// The request was refused before it was sent (e.g. a method the era does not have).
    #[error("the request was refused: {0}")]
    Refused(String),
    /// The answer did not have the expected shape.
    #[error("unexpected result: {0}")]
    InvalidResult(String),
    /// The connection's task is gone.
    #[error("the connection is closed")]
    Disconnected,
}

/// Why connecting failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConnectError {
    /// The handshake was refused or broken.
    #[error(transparent)]
    Handshake(HandshakeError),
    /// The transport failed before the handshake completed (kept as it came).
    #[error("the connection failed during the handshake: {0}")]
    Transport(TransportFailure),
    /// The handshake did not complete in time.
    #[error("the handshake did not complete within {0:?}")]
    Timeout(Duration),
    /// The transport could not be set up (spawn, connect, TLS…).
    #[error("cannot connect: {0}")]
    Io(String),
    /// The server process ended before the handshake completed.
    #[error("the server process {0}; its stderr ended with: {tail}", tail = .0.stderr_tail.trim_end())]
    ProcessExited(ChildExit),
}

/// How a connection ended, as [`Client::shutdown`] reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShutdownReport {
    /// The engine's account, when the connection task ran to its end.
    pub close: Option<CloseReport>,
    /// How the server process ended, for a child-process connection.
    pub child: Option<ChildExit>,
    /// A transport problem met while closing, if any.
    pub transport_error: Option<String>,
}

/// A request made through a [`Client`].
enum Command {
    Request {
        call: u64,
        // Boxed: requests are the large variant of a queue of mostly small commands.
        request: Box<ClientRequest>,
        options: RequestOptions,
        progress: Option<ProgressFn>,
        reply: crate::channel::Sender<Result<RawJson, CallError>>,
    },
    Listen {
        call: u64,
        filter: SubscriptionFilter,
        events: crate::channel::Sender<SubscriptionEvent>,
    },
    Cancel {
        call: u64,
    },
    Close,
}

#[derive(Debug)]
struct Shared {
    commands: crate::channel::Sender<Command>,
    negotiated: Negotiated,
    call_timeout: Option<Duration>,
    next_call: AtomicU64,
    finished: crate::channel::Receiver<ShutdownReport>,
}

/// A connected MCP client. Clones share the connection.
#[derive(Debug, Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

/// Cancels an unfinished call when its future is dropped.
struct CancelOnDrop<'a> {
    call: u64,
    commands: &'a crate::channel::Sender<Command>,
    done: bool,
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if !self.done {
            // Never blocks: a full or closed queue means the connection is going away anyway.
            let _ = self.commands.try_send(Command::Cancel { call: self.call });
        }
    }
}

impl Client {
    /// What the handshake settled on (era, version, server info and capabilities).
    #[must_use]
    pub fn negotiated(&self) -> &Negotiated {
        &self.shared.negotiated
    }

    /// Sends `request` and waits for its result.
    ///
    /// # Errors
    /// [`CallError`], each failure as it happened.
    pub async fn request(
        &self,
        request: ClientRequest,
        timeout: Option<Duration>,
    ) -> Result<RawJson, CallError> {
        let options = CallOptions {
            timeout,
            progress: None,
        };
        self.request_with(request, options).await
    }

    /// Sends `request` with per-call `options` (timeout, progress callback) and waits for
    /// its result.
    ///
    /// # Errors
    /// [`CallError`], each failure as it happened.
    pub async fn request_with(
        &self,
        request: ClientRequest,
        options: CallOptions,
    ) -> Result<RawJson, CallError> {
        let call = self.shared.next_call.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = crate::channel::bounded(1);
        let request_options = RequestOptions {
            timeout: options.timeout.or(self.shared.call_timeout),
            progress_token: options
                .progress
                .is_some()
                .then(|| ProgressToken::String(format!("call-{call}"))),
            ..RequestOptions::default()
        };
        let command = Command::Request {
            call,
            request: Box::new(request),
            options: request_options,
            progress: options.progress,
            reply,
        };
        self.shared
            .commands
            .send(command)
            .await
            .map_err(|_| CallError::Disconnected)?;
        let mut guard = CancelOnDrop {
            call,
            commands: &self.shared.commands,
            done: false,
        };
        let result = answer.recv().await.unwrap_or(Err(CallError::Disconnected));
        guard.done = true;
        result
    }

    pub(crate) async fn typed<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<T, CallError> {
        self.typed_with(method, params, CallOptions::default())
            .await
    }

    async fn typed_with<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
        options: CallOptions,
    ) -> Result<T, CallError> {
        let raw =
            RawJson::from_serialize(&params).map_err(|e| CallError::Refused(e.to_string()))?;
        let request = ClientRequest::parse(method, Some(&raw))
            .map_err(|e| CallError::Refused(e.to_string()))?;
        let result = self.request_with(request, options).await?;
        result
            .parse()
            .map_err(|e| CallError::InvalidResult(e.to_string()))
    }

    /// Follows `nextCursor` through every page of a listing.
    pub(crate) async fn all_pages<T: DeserializeOwned, I>(
        &self,
        method: &str,
        mut items: impl FnMut(T) -> (Vec<I>, Option<String>),
    ) -> Result<Vec<I>, CallError> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = match &cursor {
                Some(cursor) => json!({ "cursor": cursor }),
                None => json!({}),
            };
            let (page, next) = items(self.typed(method, params).await?);
            all.extend(page);
            match next {
                Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
                _ => return Ok(all),
            }
        }
        Err(CallError::InvalidResult(format!(
            "{method} did not end after {MAX_PAGES} pages"
        )))
    }

    /// Every tool of the server (all pages).
    ///
    /// # Errors
    /// [`CallError`].
    pub async fn list_tools(&self) -> Result<Vec<Tool>, CallError> {
        self.all_pages("tools/list", |page: ListToolsResult| {
            (page.tools, page.next_cursor)
        })
        .await
    }

    /// Calls tool `name` with `arguments` (a JSON object).
    ///
    /// # Errors
    /// [`CallError`]; a tool that ran and failed is an `Ok` result with `is_error`.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<CallToolResult, CallError> {
        self.typed(
            "tools/call",
            json!({ "name": name, "arguments": arguments }),
        )
        .await
    }

    /// Calls tool `name` with `arguments` and per-call `options` (timeout, progress
    /// callback).
    ///
    /// # Errors
    /// As [`Client::call_tool`].
    pub async fn call_tool_with(
        &self,
        name: &str,
        arguments: Value,
        options: CallOptions,
    ) -> Result<CallToolResult, CallError> {
        self.typed_with(
            "tools/call",
            json!({ "name": name, "arguments": arguments }),
            options,
        )
        .await
    }

    /// Every resource template of the server (all pages).
    ///
    /// # Errors
    /// [`CallError`].
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>, CallError> {
        self.all_pages(
            "resources/templates/list",
            |page: ListResourceTemplatesResult| (page.resource_templates, page.next_cursor),
        )
        .await
    }

    /// Completion suggestions for an argument of a prompt or resource template
    /// (`completion/complete`): `reference` is `{"type": "ref/prompt", "name": …}` or
    /// `{"type": "ref/resource", "uri": …}`, `argument` is `{"name": …, "value": …}`.
    ///
    /// # Errors
    /// [`CallError`].
    pub async fn complete(
        &self,
        reference: Value,
        argument: Value,
    ) -> Result<CompleteResult, CallError> {
        self.typed(
            "completion/complete",
            json!({ "ref": reference, "argument": argument }),
        )
        .await
    }

    /// Opens a `subscriptions/listen` stream (modern servers) for the notifications in
    /// `filter`; dropping the [`Subscription`] cancels it. A legacy server has no such
    /// request: its notifications arrive unasked, through
    /// [`ClientOptions::on_notification`].
    ///
    /// # Errors
    /// [`CallError::Disconnected`] when the connection is gone; a refusal (e.g. a legacy
    /// server) arrives as the subscription's [`SubscriptionEvent::Ended`].
    pub async fn listen(&self, filter: SubscriptionFilter) -> Result<Subscription, CallError> {
        let call = self.shared.next_call.fetch_add(1, Ordering::Relaxed);
        let (events, receiver) = crate::channel::bounded(SUBSCRIPTION_QUEUE);
        self.shared
            .commands
            .send(Command::Listen {
                call,
                filter,
                events,
            })
            .await
            .map_err(|_| CallError::Disconnected)?;
        Ok(Subscription {
            call,
            commands: self.shared.commands.clone(),
            events: receiver,
        })
    }

    /// Every resource of the server (all pages).
    ///
    /// # Errors
    /// [`CallError`].
    pub async fn list_resources(&self) -> Result<Vec<Resource>, CallError> {
        self.all_pages("resources/list", |page: ListResourcesResult| {
            (page.resources, page.next_cursor)
        })
        .await
    }

    /// Reads resource `uri`.
    ///
    /// # Errors
    /// [`CallError`].
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, CallError> {
        self.typed("resources/read", json!({ "uri": uri })).await
    }

    /// Every prompt of the server (all pages).
    ///
    /// # Errors
    /// [`CallError`].
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, CallError> {
        self.all_pages("prompts/list", |page: ListPromptsResult| {
            (page.prompts, page.next_cursor)
        })
        .await
    }

    /// Renders prompt `name` with `arguments` (a JSON object of strings).
    ///
    /// # Errors
    /// [`CallError`].
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<GetPromptResult, CallError> {
        self.typed(
            "prompts/get",
            json!({ "name": name, "arguments": arguments }),
        )
        .await
    }

    /// Closes the connection gracefully (in-flight calls get the engine's grace period) and
    /// reports how it ended, transport included (e.g. a child's exit status).
    pub async fn shutdown(self) -> ShutdownReport {
        let _ = self.shared.commands.send(Command::Close).await;
        self.shared.finished.recv().await.unwrap_or(ShutdownReport {
            close: None,
            child: None,
            transport_error: Some("the connection task ended without a report".into()),
        })
    }
}

/// A connection whose handshake is under way; the adapter runs its [`ClientTask`].
#[derive(Debug)]
pub struct Connecting {
    ready: crate::channel::Receiver<Result<Negotiated, ConnectError>>,
    commands: crate::channel::Sender<Command>,
    finished: crate::channel::Receiver<ShutdownReport>,
    timeout: Duration,
    call_timeout: Option<Duration>,
}

/// The connection task's end: the adapter sends the final report through it (after closing
/// its transport, e.g. reaping a child process).
#[derive(Debug, Clone)]
pub struct ReportSender(crate::channel::Sender<ShutdownReport>);

impl ReportSender {
    /// Delivers the report to [`Client::shutdown`] (dropped if nobody waits).
    pub fn send(&self, report: ShutdownReport) {
        let _ = self.0.try_send(report);
    }
}

/// The connection task of a client: the adapter spawns [`ClientTask::run`].
#[derive(Debug)]
pub struct ClientTask {
    pub(crate) options: ClientOptions,
    commands: crate::channel::Receiver<Command>,
    ready: crate::channel::Sender<Result<Negotiated, ConnectError>>,
}

/// Prepares a client connection: the [`Connecting`] half waits for the handshake, the
/// [`ClientTask`] half drives the connection, and the [`ReportSender`] delivers its end.
#[must_use]
pub fn client_connection(options: ClientOptions) -> (Connecting, ClientTask, ReportSender) {
    let (commands, command_queue) = crate::channel::bounded(COMMAND_QUEUE);
    let (ready_sender, ready) = crate::channel::bounded(1);
    let (report, finished) = crate::channel::bounded(1);
    let timeout = options.connect_timeout;
    let call_timeout = options.call_timeout;
    (
        Connecting {
            ready,
            commands,
            finished,
            timeout,
            call_timeout,
        },
        ClientTask {
            options,
            commands: command_queue,
            ready: ready_sender,
        },
        ReportSender(report),
    )
}

impl Connecting {
    /// Waits for the handshake.
    ///
    /// # Errors
    /// [`ConnectError`] as it happened (the transport's own failure is kept).
    pub async fn ready(self) -> Result<Client, ConnectError> {
        match self.ready.recv().await {
            Ok(Ok(negotiated)) => Ok(Client {
                shared: Arc::new(Shared {
                    commands: self.commands,
                    negotiated,
                    call_timeout: self.call_timeout,
                    next_call: AtomicU64::new(1),
                    finished: self.finished,
                }),
            }),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(ConnectError::Io("the connection task ended".into())),
        }
    }

    /// Waits for the handshake; when it fails, also waits for the connection's end and
    /// returns its report (e.g. how a server process exited) with the error.
    ///
    /// # Errors
    /// As [`Connecting::ready`], with the final report.
    pub async fn ready_or_report(self) -> Result<Client, (ConnectError, Option<ShutdownReport>)> {
        let finished = self.finished.clone();
        match self.ready().await {
            Ok(client) => Ok(client),
            Err(error) => Err((error, finished.recv().await.ok())),
        }
    }

    /// The handshake timeout the options asked for.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// What a client connection is carried over: the engine it drives and the wire it feeds.
/// [`ClientTask`] does the rest (commands, answers, the handshake), the same for every
/// transport.
pub(crate) trait ClientTransport {
    /// What woke the task on the wire's side.
    type Wake;
    /// Starts the handshake.
    fn start(&mut self, now: Instant) -> Result<(), mcp_proto::engine::ClientError>;
    /// The engine's client role.
    fn endpoint(&mut self) -> &mut ClientEndpoint;
    /// The next application event.
    fn poll_event(&mut self) -> Option<ClientEvent>;
    /// Moves what the engine wants sent onto the wire.
    fn flush(&mut self);
    /// The engine's next deadline.
    fn poll_timeout(&self) -> Option<Instant>;
    /// The deadline passed.
    fn handle_timeout(&mut self, now: Instant);
    /// Too much is waiting to be written: take no new requests.
    fn is_congested(&self) -> bool;
    /// Polls the wire.
    fn poll_wire(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Self::Wake>;
    /// Feeds what the wire produced to the engine.
    fn handle_wire(&mut self, now: Instant, wake: Self::Wake);
    /// Starts a graceful close.
    fn close(&mut self, now: Instant);
    /// Closes at once.
    fn abort(&mut self, now: Instant);
    /// Finishes the wire once the engine closed (best effort).
    fn finish(&mut self) -> impl Future<Output = ()>;
}

enum Wake<W> {
    Wire(W),
    Command(Option<Command>),
    Input(Job, Box<Result<InputResponse, ErrorObject>>),
    Timer,
}

/// Whom an input handler's answer is for.
#[derive(Debug, Clone, PartialEq)]
enum Job {
    /// A legacy server's request.
    Request(RequestId),
    /// One input request (by its key) of a modern `input_required` result.
    Input(RequestId, String),
}

/// The input handlers running in the connection's task.
#[derive(Default)]
struct InputJobs {
    running: Vec<(Job, BoxFuture<'static, Result<InputResponse, ErrorObject>>)>,
    /// Modern requests waiting for their handlers: answers so far, and how many are missing.
    rounds: HashMap<RequestId, (InputResponses, usize, Option<String>)>,
}

impl InputJobs {
    fn poll(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<(Job, Result<InputResponse, ErrorObject>)> {
        for index in 0..self.running.len() {
            let Some((_, future)) = self.running.get_mut(index) else {
                break;
            };
            if let Poll::Ready(answer) = future.as_mut().poll(cx) {
                let (job, _) = self.running.swap_remove(index);
                return Poll::Ready((job, answer));
            }
        }
        Poll::Pending
    }

    /// Forgets the jobs of a request the server gave up on.
    fn cancel(&mut self, id: &RequestId) {
        self.running
            .retain(|(job, _)| job != &Job::Request(id.clone()));
    }

    /// Forgets the input round of one of our requests (its caller gave up).
    fn forget_round(&mut self, id: &RequestId) {
        if self.rounds.remove(id).is_some() {
            self.running
                .retain(|(job, _)| !matches!(job, Job::Input(round, _) if round == id));
        }
    }
}

type Reply = crate::channel::Sender<Result<RawJson, CallError>>;

/// The calls and subscriptions of the handles, by call number and by request id.
#[derive(Default)]
struct Calls {
    ids: HashMap<u64, RequestId>,
    replies: HashMap<RequestId, (u64, Reply, Option<ProgressToken>)>,
    progress: HashMap<ProgressToken, ProgressFn>,
    subscriptions: HashMap<RequestId, (u64, crate::channel::Sender<SubscriptionEvent>)>,
}

impl Calls {
    fn started(
        &mut self,
        call: u64,
        id: RequestId,
        reply: Reply,
        progress: Option<(ProgressToken, ProgressFn)>,
    ) {
        self.ids.insert(call, id.clone());
        let token = progress.map(|(token, callback)| {
            self.progress.insert(token.clone(), callback);
            token
        });
        self.replies.insert(id, (call, reply, token));
    }

    fn listening(
        &mut self,
        call: u64,
        id: RequestId,
        events: crate::channel::Sender<SubscriptionEvent>,
    ) {
        self.ids.insert(call, id.clone());
        self.subscriptions.insert(id, (call, events));
    }

    /// Request `id` ended.
    fn ended(&mut self, id: &RequestId, outcome: Outcome) {
        let result = match outcome {
            Outcome::Result(raw) => Ok(raw),
            Outcome::Error(error) => Err(CallError::Server(error)),
            Outcome::Failed(failure) => Err(CallError::Failed(failure)),
        };
        if let Some((call, reply, token)) = self.replies.remove(id) {
            self.ids.remove(&call);
            if let Some(token) = token {
                self.progress.remove(&token);
            }
            let _ = reply.try_send(result);
        } else if let Some((call, events)) = self.subscriptions.remove(id) {
            self.ids.remove(&call);
            let _ = events.try_send(SubscriptionEvent::Ended(result.map(|_| ())));
        }
    }

    /// The handle gave up on `call`: its request id, to cancel.
    fn cancel(&mut self, call: u64) -> Option<RequestId> {
        let id = self.ids.remove(&call)?;
        if let Some((_, _, Some(token))) = self.replies.remove(&id) {
            self.progress.remove(&token);
        }
        self.subscriptions.remove(&id);
        Some(id)
    }

    /// A notification: to the call or subscription it is about, else to `others`.
    fn notified(
        &self,
        subscription: Option<RequestId>,
        notification: ServerNotification,
        others: Option<&NotificationFn>,
    ) {
        if let Some(id) = subscription {
            if let Some((_, events)) = self.subscriptions.get(&id)
                && events
                    .try_send(SubscriptionEvent::Notification(notification))
                    .is_err()
            {
                tracing::warn!(%id, "a subscription's queue is full: notification dropped");
            }
            return;
        }
        if let ServerNotification::Progress(params) = &notification
            && let Some(callback) = self.progress.get(&params.progress_token)
        {
            callback(ProgressUpdate {
                progress: params.progress.as_f64().unwrap_or_default(),
                total: params.total.as_ref().and_then(serde_json::Number::as_f64),
                message: params.message.clone(),
            });
            return;
        }
        if let Some(others) = others {
            others(notification);
        }
    }

    /// The connection closed: everything still waiting fails.
    fn closed(&mut self) {
        for (_, (_, reply, _)) in self.replies.drain() {
            let _ = reply.try_send(Err(CallError::Failed(RequestFailure::Closed)));
        }
        for (_, (_, events)) in self.subscriptions.drain() {
            let _ = events.try_send(SubscriptionEvent::Ended(Err(CallError::Failed(
                RequestFailure::Closed,
            ))));
        }
    }
}

/// The line-framed transport: a `ClientEndpoint` over a byte stream.
struct Lines<In, Out> {
    endpoint: ClientEndpoint,
    io: LineIo<In, Out>,
}

impl<In: AsyncRead + Unpin, Out: AsyncWrite + Unpin> ClientTransport for Lines<In, Out> {
    type Wake = IoWake;

    fn start(&mut self, now: Instant) -> Result<(), mcp_proto::engine::ClientError> {
        self.endpoint.start(now)
    }

    fn endpoint(&mut self) -> &mut ClientEndpoint {
        &mut self.endpoint
    }

    fn poll_event(&mut self) -> Option<ClientEvent> {
        self.endpoint.poll_event()
    }

    fn flush(&mut self) {
        while let Some(transmit) = self.endpoint.poll_transmit() {
            if let Transmit::Send { message, .. } = transmit {
                self.io.send(&message);
            }
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.endpoint.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.endpoint.handle_timeout(now);
    }

    fn is_congested(&self) -> bool {
        self.io.is_congested()
    }

    fn poll_wire(&mut self, cx: &mut std::task::Context<'_>) -> Poll<IoWake> {
        self.io.poll(cx)
    }

    fn handle_wire(&mut self, now: Instant, wake: IoWake) {
        self.io.deliver(now, wake, &mut self.endpoint);
    }

    fn close(&mut self, now: Instant) {
        self.endpoint.close(now);
    }

    fn abort(&mut self, now: Instant) {
        self.endpoint.abort(now);
    }

    async fn finish(&mut self) {
        poll_fn(|cx| self.io.poll_close(cx)).await;
    }
}

impl ClientTask {
    /// Drives the connection over a line-framed byte stream until it closes; returns the
    /// engine's close report.
    pub async fn run<R, In, Out>(self, runtime: R, input: In, output: Out) -> CloseReport
    where
        R: Runtime,
        In: AsyncRead + Unpin,
        Out: AsyncWrite + Unpin,
    {
        let transport = Lines {
            endpoint: ClientEndpoint::new(self.options.config.clone()),
            io: LineIo::new(input, output),
        };
        self.drive(runtime, transport).await
    }

    /// Drives the connection through `transport` until it closes.
    pub(crate) async fn drive<R: Runtime, T: ClientTransport>(
        self,
        runtime: R,
        mut transport: T,
    ) -> CloseReport {
        let Self {
            options,
            commands,
            ready,
        } = self;
        let mut timer = Timer::new(runtime.clone());
        let mut handshake_timer = Timer::new(runtime);
        let started = Instant::now();
        handshake_timer.set(started.checked_add(options.connect_timeout));
        let mut commands = Box::pin(commands);
        let mut ready = Some(ready);
        let mut calls = Calls::default();
        let mut handles_gone = false;
        let mut jobs = InputJobs::default();
        if let Err(error) = transport.start(started)
            && let Some(ready) = ready.take()
        {
            let _ = ready.try_send(Err(ConnectError::Io(error.to_string())));
        }
        loop {
            transport.flush();
            let mut closed = None;
            let mut handshake_failed = None;
            while let Some(event) = transport.poll_event() {
                match event {
                    ClientEvent::Ready(negotiated) => {
                        if let Some(ready) = ready.take() {
                            let _ = ready.try_send(Ok(negotiated));
                        }
                    }
                    // Reported below: a transport failure that caused it is the better error.
                    ClientEvent::HandshakeFailed(error) => handshake_failed = Some(error),
                    ClientEvent::Response { id, outcome, .. } => calls.ended(&id, outcome),
                    ClientEvent::Notification(notification) => {
                        calls.notified(None, notification, options.notifications.as_ref());
                    }
                    ClientEvent::SubscriptionNotification { id, notification } => {
                        calls.notified(Some(id), notification, None);
                    }
                    ClientEvent::SubscriptionAcknowledged { id, filter } => {
                        if let Some((_, events)) = calls.subscriptions.get(&id) {
                            let _ = events.try_send(SubscriptionEvent::Acknowledged(filter));
                        }
                    }
                    ClientEvent::Request { id, request, .. } => {
                        match InputRequest::try_from(request) {
                            Ok(request) => {
                                let future = options.handlers.answer(request);
                                jobs.running.push((Job::Request(id), future));
                            }
                            Err(other) => {
                                let error = ErrorObject::new(
                                    ErrorCode::METHOD_NOT_FOUND,
                                    format!("{} is not supported by this client", other.method()),
                                );
                                let _ = transport.endpoint().respond(&id, Err(error));
                            }
                        }
                    }
                    ClientEvent::InputRequired { id, requests, .. } => {
                        jobs.rounds
                            .insert(id.clone(), (InputResponses::new(), requests.len(), None));
                        for (key, request) in requests {
                            let future = options.handlers.answer(request);
                            jobs.running.push((Job::Input(id.clone(), key), future));
                        }
                    }
                    ClientEvent::Cancelled { id } => jobs.cancel(&id),
                    ClientEvent::ToolExcluded { tool, reason } => {
                        tracing::warn!(%tool, %reason, "tool excluded from tools/list");
                    }
                    ClientEvent::Closed(report) => closed = Some(report),
                    other => tracing::debug!(event = ?other, "client event"),
                }
            }
            transport.flush();
            if let Some(ready) = ready.take_if(|_| handshake_failed.is_some() || closed.is_some()) {
                let error = match (&closed, handshake_failed) {
                    (Some(report), _) if let CloseReason::Transport(failure) = &report.reason => {
                        ConnectError::Transport(failure.clone())
                    }
                    (_, Some(HandshakeError::Transport { failure, .. })) => {
                        ConnectError::Transport(failure)
                    }
                    (_, Some(error)) => ConnectError::Handshake(error),
                    (Some(report), None) => ConnectError::Io(format!(
                        "closed during the handshake: {:?}",
                        report.reason
                    )),
                    (None, None) => ConnectError::Io("the handshake ended".into()),
                };
                let _ = ready.try_send(Err(error));
            }
            if let Some(report) = closed {
                calls.closed();
                transport.finish().await;
                return report;
            }
            timer.set(transport.poll_timeout());
            if ready.is_none() {
                handshake_timer.set(None);
            }
            let wake = poll_fn(|cx| {
                if let Poll::Ready(wake) = transport.poll_wire(cx) {
                    return Poll::Ready(Wake::Wire(wake));
                }
                if !handles_gone
                    && !transport.is_congested()
                    && let Poll::Ready(command) = commands.as_mut().poll_next(cx)
                {
                    return Poll::Ready(Wake::Command(command));
                }
                if let Poll::Ready((job, answer)) = jobs.poll(cx) {
                    return Poll::Ready(Wake::Input(job, Box::new(answer)));
                }
                if timer.poll(cx).is_ready() || handshake_timer.poll(cx).is_ready() {
                    return Poll::Ready(Wake::Timer);
                }
                Poll::Pending
            })
            .await;
            let now = Instant::now();
            match wake {
                Wake::Wire(wake) => transport.handle_wire(now, wake),
                Wake::Input(Job::Request(id), answer) => {
                    let answer = (*answer).and_then(|response| {
                        RawJson::from_serialize(&response)
                            .map_err(|e| ErrorObject::new(ErrorCode::INTERNAL_ERROR, e.to_string()))
                    });
                    let _ = transport.endpoint().respond(&id, answer);
                }
                Wake::Input(Job::Input(id, key), answer) => {
                    let Some((responses, missing, failure)) = jobs.rounds.get_mut(&id) else {
                        continue;
                    };
                    match *answer {
                        Ok(response) => {
                            responses.insert(key, response);
                        }
                        Err(error) => {
                            failure.get_or_insert(format!("{key}: {}", error.message));
                        }
                    }
                    *missing = missing.saturating_sub(1);
                    if *missing == 0
                        && let Some((responses, _, failure)) = jobs.rounds.remove(&id)
                    {
                        let endpoint = transport.endpoint();
                        let _ = match failure {
                            None => endpoint.provide_input(now, &id, responses),
                            Some(reason) => endpoint.decline_input(&id, Some(reason)),
                        };
                    }
                }
                Wake::Command(Some(Command::Request {
                    call,
                    request,
                    options,
                    progress,
                    reply,
                })) => {
                    let token = options.progress_token.clone();
                    match transport.endpoint().request(now, &request, options) {
                        Ok(id) => {
                            calls.started(call, id, reply, token.zip(progress));
                        }
                        Err(error) => {
                            let _ = reply.try_send(Err(CallError::Refused(error.to_string())));
                        }
                    }
                }
                Wake::Command(Some(Command::Listen {
                    call,
                    filter,
                    events,
                })) => match transport.endpoint().subscribe(now, filter) {
                    Ok(id) => calls.listening(call, id, events),
                    Err(error) => {
                        let refused = Err(CallError::Refused(error.to_string()));
                        let _ = events.try_send(SubscriptionEvent::Ended(refused));
                    }
                },
                Wake::Command(Some(Command::Cancel { call })) => {
                    if let Some(id) = calls.cancel(call) {
                        jobs.forget_round(&id);
                        transport
                            .endpoint()
                            .cancel(now, &id, Some("the caller gave up".into()));
                    }
                }
                Wake::Command(Some(Command::Close)) => transport.close(now),
                Wake::Command(None) => {
                    // Every handle is gone: nobody can use the connection any more.
                    handles_gone = true;
                    transport.abort(now);
                }
                Wake::Timer => {
                    let handshake_over = started
                        .checked_add(options.connect_timeout)
                        .is_some_and(|deadline| now >= deadline);
                    if ready.is_some() && handshake_over {
                        if let Some(ready) = ready.take() {
                            let _ =
                                ready.try_send(Err(ConnectError::Timeout(options.connect_timeout)));
                        }
                        transport.abort(now);
                    }
                    transport.handle_timeout(now);
                }
            }
        }
    }
}
