//! The high-level server: register tools, resources and prompts with async handlers, then
//! serve the [`Server`] over any transport of an adapter. The protocol (both eras, sessions,
//! caching fields, cancellation) is the core's; this module only maps requests to handlers.
//!
//! ```
//! use mcp_async::server::{Server, HandlerError};
//! use mcp_async::proto::types::{CallToolResult, Tool};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Echo {
//!     message: String,
//! }
//!
//! let echo: Tool = serde_json::from_value(serde_json::json!({
//!     "name": "echo",
//!     "description": "Returns its message",
//!     "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}},
//!                     "required": ["message"]}
//! }))
//! .unwrap();
//! let server = Server::builder("echo-server", "1.0.0")
//!     .typed_tool(echo, |_ctx, args: Echo| async move {
//!         Ok::<_, HandlerError>(CallToolResult::text(args.message))
//!     })
//!     .build();
//! assert_eq!(server.tool_count(), 1);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

use mcp_proto::engine::capability::missing_input_capability;
use mcp_proto::engine::{ListChanged, RequestContext, RequestFailure, ServerConfig};
use mcp_proto::jsonrpc::{ErrorCode, ErrorObject, RequestId};
use mcp_proto::types::methods::ClientRequest;
use mcp_proto::types::{
    CallToolResult, CompleteRequestParams, CompleteResult, Completion, CreateMessageRequestParams,
    CreateMessageResult, ElicitRequestParams, ElicitResult, Era, GetPromptResult, Implementation,
    InputRequest, InputResponse, JsonObject, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListRootsResult, ListToolsResult, LoggingLevel, Prompt, PromptsCapability,
    ReadResourceResult, Resource, ResourceContents, ResourceTemplate, ResourcesCapability,
    ServerCapabilities, Tool, ToolsCapability,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::cancel::Cancelled;
use crate::locks::lock;
use crate::resource_server::Principal;
use crate::runtime::BoxFuture;
pub use crate::uri_template::{UriTemplate, UriTemplateError};

/// The most values one completion result may carry (the spec's cap).
pub const MAX_COMPLETION_VALUES: usize = 100;

/// The default number of items per page of a list result.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// A handler's failure, answered as a JSON-RPC error. (A tool that ran and failed should
/// rather return [`CallToolResult::error`], which the model can read.)
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct HandlerError {
    /// The JSON-RPC error code.
    pub code: ErrorCode,
    /// The message.
    pub message: String,
    /// The error's `data` member, if any.
    pub data: Option<Value>,
}

impl HandlerError {
    /// An error with `code` and `message`, without data.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Invalid arguments (-32602).
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INVALID_PARAMS, message)
    }

    /// An internal failure (-32603).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INTERNAL_ERROR, message)
    }

    /// The same error carrying `data`.
    #[must_use]
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    pub(crate) fn into_error_object(self) -> ErrorObject {
        let error = ErrorObject::new(self.code, self.message);
        match self.data {
            Some(data) => error.clone().with_data(&data).unwrap_or(error),
            None => error,
        }
    }
}

/// What a handler sends to the task that owns its connection.
#[derive(Debug)]
pub(crate) enum ToTask {
    /// A progress report (advisory: dropped when the queue is full).
    Progress(Progress),
    /// A log message about the request.
    Log(LoggingLevel, Option<String>, Value),
    /// An input request (elicitation, sampling, roots), the key it asks to travel under in
    /// an MRTR `inputRequests` map, and where its answer goes.
    Ask(
        Box<InputRequest>,
        Option<String>,
        crate::channel::Sender<Result<InputResponse, InputError>>,
    ),
    /// Close the SSE stream carrying the request's messages without ending the request.
    CloseStream,
    /// Continue the request as a task ([`Context::continue_as_task`]); the outcome goes back.
    ContinueAsTask(crate::channel::Sender<Result<Continuation, ContinueAsTaskError>>),
}

/// The handler's line to its connection's task: which handler it is (`slot`, stable while
/// a modern request is retried under new ids) and the queue into the task.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub(crate) slot: u64,
    pub(crate) to_task: crate::channel::Sender<(u64, ToTask)>,
}

/// What a handler knows about its request, and what it can do while running: report
/// progress, log, ask the client for input, notice cancellation.
#[derive(Clone)]
pub struct Context {
    request: RequestContext,
    link: Option<Link>,
    cancelled: Cancelled,
    principal: Option<Arc<Principal>>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

/// A progress report from a handler, delivered by the connection's task.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Progress {
    pub(crate) progress: f64,
    pub(crate) total: Option<f64>,
    pub(crate) message: Option<String>,
}

impl Context {
    pub(crate) fn new(request: RequestContext, link: Option<Link>, cancelled: Cancelled) -> Self {
        Self {
            request,
            link,
            cancelled,
            principal: None,
        }
    }

    pub(crate) fn with_principal(mut self, principal: Option<Arc<Principal>>) -> Self {
        self.principal = principal;
        self
    }

    /// Who made the request, as the HTTP server's token check established it
    /// ([`HttpServeOptions::bearer_auth`](crate::http_serve::HttpServeOptions::bearer_auth)):
    /// the token's subject, scopes and audiences, for a handler that authorises further.
    /// `None` when the server does not check tokens (stdio, in-memory, unprotected HTTP).
    #[must_use]
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_deref()
    }

    /// The id of the request as the client sent it when it first arrived (a modern request
    /// retried with input keeps its handler, and this id). On stateless HTTP, requests of
    /// different clients may carry the same id.
    #[must_use]
    pub fn request_id(&self) -> &RequestId {
        &self.request.wire_id
    }

    /// The protocol era of the request.
    #[must_use]
    pub fn era(&self) -> Era {
        self.request.era
    }

    /// Everything the core knows about the request's client (version, capabilities, info).
    #[must_use]
    pub fn request(&self) -> &RequestContext {
        &self.request
    }

    /// Reports progress, if the client asked for it (rate-limited by the core; a report that
    /// does not fit the connection's queue is dropped, as progress is advisory).
    pub fn progress(&self, progress: f64, total: Option<f64>, message: Option<String>) {
        if let Some(link) = &self.link
            && self.request.progress_token.is_some()
        {
            let report = Progress {
                progress,
                total,
                message,
            };
            let _ = link.to_task.try_send((link.slot, ToTask::Progress(report)));
        }
    }

    /// Sends a log message about this request, if the client wants this level (modern: the
    /// request's `_meta.logLevel`; legacy: the session's `logging/setLevel`). Dropped when
    /// the connection's queue is full, like progress.
    pub fn log(&self, level: LoggingLevel, logger: Option<&str>, data: Value) {
        if let Some(link) = &self.link {
            let message = ToTask::Log(level, logger.map(str::to_owned), data);
            let _ = link.to_task.try_send((link.slot, message));
        }
    }

    /// Closes the SSE stream that carries this request's messages without ending the request
    /// (2025-11-25 "SSE polling", the TypeScript SDK's `closeSSEStream`): the client reconnects
    /// after the stream's `retry` interval with `GET` + `Last-Event-ID` and receives what it
    /// missed, this handler's later messages and its answer included. A request whose answer
    /// has not started a stream yet gets one (with its priming event) first.
    ///
    /// Only a legacy session over Streamable HTTP whose client accepts SSE has such a stream;
    /// elsewhere (stdio, modern requests, which a closed stream would cancel) this does nothing.
    /// Like progress, the wish is dropped when the connection's queue is full.
    pub fn close_stream(&self) {
        if let Some(link) = &self.link {
            let _ = link.to_task.try_send((link.slot, ToTask::CloseStream));
        }
    }

    /// Asks the client for input and waits for its answer: on a legacy session as a
    /// server→client request (on the request's own stream over HTTP); on a modern request as
    /// an `input_required` result (MRTR), the handler resuming when the client retries with
    /// the answer. Several asks made at once (e.g. joined) travel together.
    ///
    /// # Errors
    /// [`InputError`]: the client did not declare the capability, refused, or the request
    /// or connection ended first.
    pub async fn ask(&self, request: InputRequest) -> Result<InputResponse, InputError> {
        self.send_ask(request, None).await
    }

    /// As [`Context::ask`], naming the question: on a modern request `key` is its key in the
    /// `input_required` result's `inputRequests` (and in the client's `inputResponses`), for
    /// clients or tests that look for a given key. Asks made together need distinct keys (a
    /// repeated or missing key is replaced by a generated one). Legacy sessions ignore it.
    ///
    /// # Errors
    /// As [`Context::ask`].
    pub async fn ask_as(
        &self,
        key: impl Into<String>,
        request: InputRequest,
    ) -> Result<InputResponse, InputError> {
        self.send_ask(request, Some(key.into())).await
    }

    async fn send_ask(
        &self,
        request: InputRequest,
        key: Option<String>,
    ) -> Result<InputResponse, InputError> {
        let declared = &self.request.client_capabilities;
        if let Some(capability) = missing_input_capability(&request, declared) {
            return Err(InputError::NotDeclared { capability });
        }
        let Some(link) = &self.link else {
            return Err(InputError::Unsupported(
                "this handler runs without a connection".into(),
            ));
        };
        let (reply, answer) = crate::channel::bounded(1);
        link.to_task
            .send((link.slot, ToTask::Ask(Box::new(request), key, reply)))
            .await
            .map_err(|_| InputError::Closed)?;
        answer.recv().await.unwrap_or(Err(InputError::Closed))
    }

    /// Continues this tool call as a task (extension `io.modelcontextprotocol/tasks`,
    /// SEP-2663): the client gets a `CreateTaskResult` for its request now, and from here on
    /// the handler's answer completes the task (read with `tasks/get`), its asks wait in the
    /// task for `tasks/update`, and `tasks/cancel` stops it.
    ///
    /// This is how a handler gathers input first and then goes asynchronous: register the
    /// tool with [`ServerBuilder::task_support`] and [`TaskCreation::Deferred`]; before this
    /// call its asks are ordinary `input_required` rounds (MRTR) of the request, resolved
    /// before the task exists, as the extension recommends. For a call that already runs as a
    /// task (created on arrival) it returns that task at once.
    ///
    /// Only a 2026-07-28 `tools/call` of a tool with task support, from a client that declared
    /// the extension on it, can become a task; anything else gets [`Continuation::Direct`]:
    /// the handler answers the request as usual.
    ///
    /// ```
    /// use mcp_async::server::{Continuation, HandlerError, Server, TaskCreation, TaskSupport};
    /// use mcp_async::proto::types::{CallToolResult, ElicitAction, InputRequest, InputResponse, Tool};
    ///
    /// let report: Tool = serde_json::from_value(serde_json::json!({
    ///     "name": "report", "inputSchema": {"type": "object"}
    /// })).unwrap();
    /// let server = Server::builder("reports", "1.0")
    ///     .tool(report, |ctx, _args| async move {
    ///         // Round trips with the client while the request is still open…
    ///         let form = serde_json::from_value(serde_json::json!({
    ///             "message": "Which year?",
    ///             "requestedSchema": {"type": "object", "properties": {"year": {"type": "integer"}}}
    ///         })).unwrap();
    ///         let year = match ctx.ask_as("year", InputRequest::elicit(form)).await? {
    ///             InputResponse::Elicit(answer) if answer.action == ElicitAction::Accept => answer
    ///                 .content
    ///                 .and_then(|content| serde_json::to_string(content.get("year")?).ok())
    ///                 .unwrap_or_default(),
    ///             _ => return Ok(CallToolResult::text("no report")),
    ///         };
    ///         // …then the long part as a task: the client polls tasks/get for this answer
    ///         // (a client without the extension waits for it on its request instead).
    ///         let made_as = match ctx.continue_as_task().await? {
    ///             Continuation::Task { task_id } => format!("task {task_id}"),
    ///             _ => "a direct answer".to_owned(),
    ///         };
    ///         Ok::<_, HandlerError>(CallToolResult::text(format!("the report of {year}, as {made_as}")))
    ///     })
    ///     .task_support("report", TaskSupport::Optional)
    ///     .task_creation("report", TaskCreation::Deferred)
    ///     .build();
    /// assert_eq!(server.task_creation("report"), TaskCreation::Deferred);
    /// ```
    ///
    /// # Errors
    /// [`ContinueAsTaskError`]: the server runs as many tasks as it may, or the connection
    /// ended.
    pub async fn continue_as_task(&self) -> Result<Continuation, ContinueAsTaskError> {
        if self.request.era != Era::Modern {
            return Ok(Continuation::Direct);
        }
        let Some(link) = &self.link else {
            return Ok(Continuation::Direct);
        };
        let (reply, answer) = crate::channel::bounded(1);
        link.to_task
            .send((link.slot, ToTask::ContinueAsTask(reply)))
            .await
            .map_err(|_| ContinueAsTaskError::Closed)?;
        answer
            .recv()
            .await
            .unwrap_or(Err(ContinueAsTaskError::Closed))
    }

    /// Asks the user for input through the client (`elicitation/create`).
    ///
    /// # Errors
    /// As [`Context::ask`].
    pub async fn elicit(&self, params: ElicitRequestParams) -> Result<ElicitResult, InputError> {
        match self.ask(InputRequest::elicit(params)).await? {
            InputResponse::Elicit(result) => Ok(result),
            other => Err(InputError::unexpected("elicitation/create", &other)),
        }
    }

    /// Asks the client's model for a completion (`sampling/createMessage`).
    ///
    /// # Errors
    /// As [`Context::ask`].
    pub async fn create_message(
        &self,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, InputError> {
        match self.ask(InputRequest::create_message(params)).await? {
            InputResponse::CreateMessage(result) => Ok(result),
            other => Err(InputError::unexpected("sampling/createMessage", &other)),
        }
    }

    /// Asks the client for its roots (`roots/list`).
    ///
    /// # Errors
    /// As [`Context::ask`].
    pub async fn list_roots(&self) -> Result<ListRootsResult, InputError> {
        match self.ask(InputRequest::list_roots()).await? {
            InputResponse::ListRoots(result) => Ok(result),
            other => Err(InputError::unexpected("roots/list", &other)),
        }
    }

    /// Whether the request was cancelled (by the client, or because the connection ended).
    /// The handler's future is dropped then anyway; this is for work it handed elsewhere.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.is_raised()
    }

    /// Completes when the request is cancelled.
    pub async fn cancelled(&self) {
        self.cancelled.wait().await;
    }
}

/// How a handler's work goes on after [`Context::continue_as_task`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Continuation {
    /// It runs as task `task_id`: the request was answered with the task, and the handler's
    /// answer is the task's result.
    Task {
        /// The task's id, as the client got it.
        task_id: String,
    },
    /// It cannot become a task (not a 2026-07-28 `tools/call`, a tool without task support,
    /// or a client that did not declare the extension): the handler answers the request.
    Direct,
}

/// Why [`Context::continue_as_task`] failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContinueAsTaskError {
    /// The connection already runs as many tasks as it may (none has finished to make room).
    #[error("too many running tasks")]
    TooManyTasks,
    /// The connection ended (or the request was cancelled) first.
    #[error("the connection ended before the task was created")]
    Closed,
    /// The task could not be created.
    #[error("the task could not be created: {0}")]
    Internal(String),
}

impl From<ContinueAsTaskError> for HandlerError {
    /// -32603: the call can neither go on as a task nor be answered as one.
    fn from(error: ContinueAsTaskError) -> Self {
        Self::internal(error.to_string())
    }
}

/// Why a handler's input request got no answer.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    /// The client did not declare the capability (so it must not be asked).
    #[error("the client did not declare the {capability} capability")]
    NotDeclared {
        /// The missing capability.
        capability: &'static str,
    },
    /// The request cannot ask for input (e.g. a modern request other than `tools/call`,
    /// `prompts/get` and `resources/read`).
    #[error("cannot ask the client: {0}")]
    Unsupported(String),
    /// The client answered with a JSON-RPC error.
    #[error("the client answered with error {}: {}", .0.code.0, .0.message)]
    Client(ErrorObject),
    /// No answer: timeout, the stream or connection ended…
    #[error(transparent)]
    Failed(RequestFailure),
    /// The answer did not fit the question.
    #[error("unexpected answer: {0}")]
    InvalidAnswer(String),
    /// The connection (or, for a modern request, the wait for the client's retry) ended.
    #[error("the connection ended before the client answered")]
    Closed,
}

impl InputError {
    fn unexpected(method: &str, answer: &InputResponse) -> Self {
        let kind = match answer {
            InputResponse::CreateMessage(_) => "a sampling result",
            InputResponse::ListRoots(_) => "a roots result",
            InputResponse::Elicit(_) => "an elicitation result",
        };
        Self::InvalidAnswer(format!("{kind} answering {method}"))
    }
}

impl From<InputError> for HandlerError {
    /// -32021 with `data.requiredCapabilities` (a `ClientCapabilities` object naming the
    /// missing one) for an undeclared capability; -32603 otherwise.
    fn from(error: InputError) -> Self {
        match error {
            InputError::NotDeclared { capability } => Self::new(
                ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
                error.to_string(),
            )
            .with_data(serde_json::json!({ "requiredCapabilities": { capability: {} } })),
            other => Self::internal(other.to_string()),
        }
    }
}

type ToolFn = Arc<
    dyn Fn(Context, JsonObject) -> BoxFuture<'static, Result<CallToolResult, HandlerError>>
        + Send
        + Sync,
>;
type ResourceFn = Arc<
    dyn Fn(Context, String) -> BoxFuture<'static, Result<Vec<ResourceContents>, HandlerError>>
        + Send
        + Sync,
>;
type PromptFn = Arc<
    dyn Fn(
            Context,
            BTreeMap<String, String>,
        ) -> BoxFuture<'static, Result<GetPromptResult, HandlerError>>
        + Send
        + Sync,
>;

type TemplateFn = Arc<
    dyn Fn(
            Context,
            String,
            BTreeMap<String, String>,
        ) -> BoxFuture<'static, Result<Vec<ResourceContents>, HandlerError>>
        + Send
        + Sync,
>;
type CompletionFn = Arc<
    dyn Fn(Context, CompleteRequestParams) -> BoxFuture<'static, Result<Completion, HandlerError>>
        + Send
        + Sync,
>;

/// Whether a tool runs as a task (extension `io.modelcontextprotocol/tasks`, SEP-2663) for
/// clients that declare the extension on the call: `Forbidden` (the default: always answered
/// directly), `Optional` (a task for clients that declare the extension, answered directly for
/// the others) or `Required` (only as a task: clients that do not declare the extension get
/// -32021). The tool's listed definition carries it as `execution.taskSupport`.
pub use mcp_proto::types::TaskSupport;

/// When a call of a task-capable tool becomes a task (see [`ServerBuilder::task_creation`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskCreation {
    /// As the call arrives (the default): the client gets the `CreateTaskResult` at once,
    /// and the handler's asks wait in the task for `tasks/update`.
    #[default]
    OnArrival,
    /// When the handler calls [`Context::continue_as_task`]: until then the call is an
    /// ordinary request (its asks are `input_required` rounds), and a handler that never
    /// calls it answers the request directly.
    Deferred,
}

#[derive(Clone)]
struct Registry {
    info: Implementation,
    /// Tools that run as tasks, by name.
    task_support: BTreeMap<String, TaskSupport>,
    /// When their tasks are created, for the tools not created on arrival.
    task_creation: BTreeMap<String, TaskCreation>,
    instructions: Option<String>,
    page_size: usize,
    tools: Vec<(Tool, ToolFn)>,
    resources: Vec<(Resource, ResourceFn)>,
    templates: Vec<(ResourceTemplate, UriTemplate, TemplateFn)>,
    prompts: Vec<(Prompt, PromptFn)>,
    completion: Option<CompletionFn>,
    /// Declared on top of what the registrations imply.
    declared: ServerCapabilities,
}

/// How many list changes may wait for one connection's task; beyond it they are dropped
/// (a waiting one already tells the client to list again).
const LIST_CHANGE_QUEUE: usize = 8;

/// What may change while a server runs, shared by its definition, its handles and every
/// connection serving it.
#[derive(Default)]
struct Live {
    disabled_tools: Mutex<BTreeSet<String>>,
    disabled_prompts: Mutex<BTreeSet<String>>,
    /// One queue per serving task (closed ones are pruned on each change).
    listeners: Mutex<Vec<crate::channel::Sender<ListChanged>>>,
}

/// A poisoned lock still holds a consistent set: recover it rather than panic.
/// The registered entries not hidden at run time (their name is not in `disabled`).
fn enabled<'a, D: NamedDefinition, H>(
    entries: &'a [(D, H)],
    disabled: &Mutex<BTreeSet<String>>,
) -> Vec<&'a (D, H)> {
    let disabled = lock(disabled);
    entries
        .iter()
        .filter(|(definition, _)| !disabled.contains(definition.name()))
        .collect()
}

/// The handler registered as `name`, unless it is hidden.
fn find_enabled<'a, D: NamedDefinition, H>(
    entries: &'a [(D, H)],
    disabled: &Mutex<BTreeSet<String>>,
    name: &str,
) -> Option<&'a H> {
    let (_, handler) = entries
        .iter()
        .find(|(definition, _)| definition.name() == name)?;
    (!lock(disabled).contains(name)).then_some(handler)
}

/// What can be hidden at run time: tools and prompts, by name.
trait NamedDefinition {
    fn name(&self) -> &str;
}

impl NamedDefinition for Tool {
    fn name(&self) -> &str {
        &self.name
    }
}

impl NamedDefinition for Prompt {
    fn name(&self) -> &str {
        &self.name
    }
}

/// Changes a running [`Server`]'s lists and announces them: to the `subscriptions/listen`
/// streams that asked for the list (2026-07-28) and to the legacy sessions when the server
/// declares the list's `listChanged` capability (set it with [`ServerBuilder::capabilities`]).
/// Cheap to clone; get one from [`ServerBuilder::handle`] (e.g. for a handler) or
/// [`Server::handle`].
#[derive(Clone)]
pub struct ServerHandle {
    live: Arc<Live>,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("disabled_tools", &*lock(&self.live.disabled_tools))
            .field("disabled_prompts", &*lock(&self.live.disabled_prompts))
            .finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// Shows (`true`) or hides the tool `name`: a hidden tool is neither listed nor callable
    /// (it is an unknown tool). Announces the tools list change when it changed; returns
    /// whether it did.
    pub fn set_tool_enabled(&self, name: &str, enabled: bool) -> bool {
        let changed = toggle(&self.live.disabled_tools, name, enabled);
        if changed {
            self.notify_list_changed(ListChanged::Tools);
        }
        changed
    }

    /// Shows or hides the prompt `name`, as [`ServerHandle::set_tool_enabled`] does tools.
    pub fn set_prompt_enabled(&self, name: &str, enabled: bool) -> bool {
        let changed = toggle(&self.live.disabled_prompts, name, enabled);
        if changed {
            self.notify_list_changed(ListChanged::Prompts);
        }
        changed
    }

    /// Whether tool `name` is hidden.
    #[must_use]
    pub fn is_tool_enabled(&self, name: &str) -> bool {
        !lock(&self.live.disabled_tools).contains(name)
    }

    /// Whether prompt `name` is hidden.
    #[must_use]
    pub fn is_prompt_enabled(&self, name: &str) -> bool {
        !lock(&self.live.disabled_prompts).contains(name)
    }

    /// Announces that `list` changed (e.g. what a resource list shows changed), to every
    /// connection serving this server. Returns how many serving tasks were told.
    pub fn notify_list_changed(&self, list: ListChanged) -> usize {
        let mut listeners = lock(&self.live.listeners);
        listeners.retain(|listener| !listener.is_closed());
        listeners
            .iter()
            .filter(|listener| match listener.try_send(list) {
                Ok(()) => true,
                Err(error) => {
                    tracing::debug!(?list, %error, "list change not queued (its task is busy)");
                    false
                }
            })
            .count()
    }

    /// A queue of this server's list changes for one serving task.
    pub(crate) fn listen(&self) -> crate::channel::Receiver<ListChanged> {
        let (sender, receiver) = crate::channel::bounded(LIST_CHANGE_QUEUE);
        let mut listeners = lock(&self.live.listeners);
        listeners.retain(|listener| !listener.is_closed());
        listeners.push(sender);
        receiver
    }
}

/// Adds `name` to the `disabled` set (`enabled` false) or removes it; whether that changed it.
fn toggle(disabled: &Mutex<BTreeSet<String>>, name: &str, enabled: bool) -> bool {
    let mut disabled = lock(disabled);
    if enabled {
        disabled.remove(name)
    } else {
        disabled.insert(name.to_owned())
    }
}

/// An MCP server definition: cheap to clone, served by any number of connections at once.
#[derive(Clone)]
pub struct Server {
    registry: Arc<Registry>,
    live: Arc<Live>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("info", &self.registry.info)
            .field("tools", &self.registry.tools.len())
            .field("resources", &self.registry.resources.len())
            .field("prompts", &self.registry.prompts.len())
            .finish()
    }
}

/// Builds a [`Server`] (clone it to derive variants of one definition; the clones share
/// what [`ServerBuilder::handle`] changes).
#[derive(Clone)]
pub struct ServerBuilder {
    registry: Registry,
    live: Arc<Live>,
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("info", &self.registry.info)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts a definition for the server `name` at `version`.
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ServerBuilder {
        ServerBuilder {
            registry: Registry {
                info: Implementation::new(name, version),
                task_support: BTreeMap::new(),
                task_creation: BTreeMap::new(),
                instructions: None,
                page_size: DEFAULT_PAGE_SIZE,
                tools: Vec::new(),
                resources: Vec::new(),
                templates: Vec::new(),
                prompts: Vec::new(),
                completion: None,
                declared: ServerCapabilities::default(),
            },
            live: Arc::default(),
        }
    }

    /// The handle that changes this server's lists while it runs.
    #[must_use]
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            live: Arc::clone(&self.live),
        }
    }

    /// How tool `name` runs with respect to tasks.
    #[must_use]
    pub fn task_support(&self, name: &str) -> TaskSupport {
        self.registry
            .task_support
            .get(name)
            .copied()
            .unwrap_or(TaskSupport::Forbidden)
    }

    /// When a call of tool `name` becomes a task.
    #[must_use]
    pub fn task_creation(&self, name: &str) -> TaskCreation {
        self.registry
            .task_creation
            .get(name)
            .copied()
            .unwrap_or_default()
    }

    /// Registered tools.
    #[must_use]
    pub fn tool_count(&self) -> usize {
        self.registry.tools.len()
    }

    /// The registered tools' definitions (e.g. to check their `x-mcp-header` annotations).
    pub fn tools(&self) -> impl Iterator<Item = &Tool> {
        self.registry.tools.iter().map(|(tool, _)| tool)
    }

    /// The core configuration of this server: who it is and what it declares.
    #[must_use]
    pub fn config(&self) -> ServerConfig {
        let registry = &self.registry;
        let declared = registry.declared.clone();
        let capabilities = ServerCapabilities {
            tools: declared
                .tools
                .or_else(|| (!registry.tools.is_empty()).then(ToolsCapability::default)),
            resources: declared.resources.or_else(|| {
                (!registry.resources.is_empty() || !registry.templates.is_empty())
                    .then(ResourcesCapability::default)
            }),
            prompts: declared
                .prompts
                .or_else(|| (!registry.prompts.is_empty()).then(PromptsCapability::default)),
            completions: declared
                .completions
                .or_else(|| registry.completion.is_some().then(JsonObject::new)),
            ..declared
        };
        let mut capabilities = capabilities;
        if registry
            .task_support
            .values()
            .any(|s| *s != TaskSupport::Forbidden)
        {
            capabilities
                .extensions
                .get_or_insert_with(Default::default)
                .entry(mcp_proto::types::TASKS_EXTENSION_ID.to_owned())
                .or_default();
        }
        let mut config = ServerConfig::new(registry.info.clone(), capabilities);
        config.instructions.clone_from(&registry.instructions);
        config
    }

    /// The answer to `request`, as a future the connection's task polls. Requests the core
    /// answers itself never get here.
    pub(crate) fn dispatch(
        &self,
        context: Context,
        request: ClientRequest,
    ) -> BoxFuture<'static, Result<Answer, ErrorObject>> {
        let registry = &self.registry;
        match request {
            ClientRequest::ListTools(params) => {
                let visible = enabled(&registry.tools, &self.live.disabled_tools);
                let page = paginate(&visible, params.cursor.as_deref(), registry.page_size).map(
                    |(items, next_cursor)| ListToolsResult {
                        tools: items.iter().map(|(t, _)| t.clone()).collect(),
                        next_cursor,
                        ..ListToolsResult::default()
                    },
                );
                ready(page.and_then(to_value))
            }
            ClientRequest::CallTool(params) => {
                let found = find_enabled(&registry.tools, &self.live.disabled_tools, &params.name);
                let Some(handler) = found else {
                    return ready(Err(ErrorObject::new(
                        ErrorCode::INVALID_PARAMS,
                        format!("unknown tool: {}", params.name),
                    )));
                };
                let future = handler(context, params.arguments.unwrap_or_default());
                Box::pin(async move {
                    future
                        .await
                        .map(Answer::Tool)
                        .map_err(HandlerError::into_error_object)
                })
            }
            ClientRequest::ListResources(params) => {
                let page = paginate(
                    &registry.resources,
                    params.cursor.as_deref(),
                    registry.page_size,
                )
                .map(|(items, next_cursor)| ListResourcesResult {
                    resources: items.iter().map(|(r, _)| r.clone()).collect(),
                    next_cursor,
                    ..ListResourcesResult::default()
                });
                ready(page.and_then(to_value))
            }
            ClientRequest::ListResourceTemplates(params) => {
                let page = paginate(
                    &registry.templates,
                    params.cursor.as_deref(),
                    registry.page_size,
                )
                .map(|(items, next_cursor)| ListResourceTemplatesResult {
                    resource_templates: items.iter().map(|(t, _, _)| t.clone()).collect(),
                    next_cursor,
                    ..ListResourceTemplatesResult::default()
                });
                ready(page.and_then(to_value))
            }
            ClientRequest::ReadResource(params) => {
                let exact = registry.resources.iter().find(|(r, _)| r.uri == params.uri);
                let future = if let Some((_, reader)) = exact {
                    reader(context, params.uri)
                } else if let Some((reader, variables)) =
                    registry.templates.iter().find_map(|(_, template, reader)| {
                        template.matches(&params.uri).map(|vars| (reader, vars))
                    })
                {
                    reader(context, params.uri, variables)
                } else {
                    return ready(Err(resource_not_found(context.era(), &params.uri)));
                };
                Box::pin(async move {
                    let contents = future.await.map_err(HandlerError::into_error_object)?;
                    to_value(ReadResourceResult {
                        contents,
                        ..ReadResourceResult::default()
                    })
                    .map(Answer::Json)
                })
            }
            ClientRequest::ListPrompts(params) => {
                let visible = enabled(&registry.prompts, &self.live.disabled_prompts);
                let page = paginate(&visible, params.cursor.as_deref(), registry.page_size).map(
                    |(items, next_cursor)| ListPromptsResult {
                        prompts: items.iter().map(|(p, _)| p.clone()).collect(),
                        next_cursor,
                        ..ListPromptsResult::default()
                    },
                );
                ready(page.and_then(to_value))
            }
            ClientRequest::GetPrompt(params) => {
                let found =
                    find_enabled(&registry.prompts, &self.live.disabled_prompts, &params.name);
                let Some(handler) = found else {
                    return ready(Err(ErrorObject::new(
                        ErrorCode::INVALID_PARAMS,
                        format!("unknown prompt: {}", params.name),
                    )));
                };
                let future = handler(context, params.arguments.unwrap_or_default());
                Box::pin(async move {
                    future
                        .await
                        .map_err(HandlerError::into_error_object)
                        .and_then(to_value)
                        .map(Answer::Json)
                })
            }
            ClientRequest::Complete(params) => {
                let Some(complete) = &registry.completion else {
                    return ready(Err(ErrorObject::new(
                        ErrorCode::METHOD_NOT_FOUND,
                        "this server offers no completions",
                    )));
                };
                let future = complete(context, params);
                Box::pin(async move {
                    let mut completion = future.await.map_err(HandlerError::into_error_object)?;
                    // The spec caps a completion at 100 values.
                    if completion.values.len() > MAX_COMPLETION_VALUES {
                        completion.values.truncate(MAX_COMPLETION_VALUES);
                        completion.has_more = Some(true);
                    }
                    to_value(CompleteResult {
                        completion,
                        ..CompleteResult::default()
                    })
                    .map(Answer::Json)
                })
            }
            other => ready(Err(ErrorObject::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!("{} is not served", other.method()),
            ))),
        }
    }
}

impl ServerBuilder {
    /// Instructions for the model, sent in the handshake.
    #[must_use]
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.registry.instructions = Some(instructions.into());
        self
    }

    /// Declares `capabilities` in the handshake on top of what the registrations imply (tools,
    /// resources, prompts, completions are declared, with default settings, as soon as one is
    /// registered): e.g. `logging`, `resources.subscribe` (the core then answers
    /// `resources/subscribe`), `listChanged` flags, extensions. A field set here replaces the
    /// implied one.
    #[must_use]
    pub fn capabilities(mut self, capabilities: ServerCapabilities) -> Self {
        self.registry.declared = capabilities;
        self
    }

    /// The handle that changes the built server's lists while it runs (to give to a
    /// handler before the server exists).
    #[must_use]
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            live: Arc::clone(&self.live),
        }
    }

    /// Runs tool `name` as a task (`support` [`TaskSupport::Optional`] or
    /// [`TaskSupport::Required`]) for clients that declare the tasks extension, and declares
    /// the extension (`capabilities.extensions["io.modelcontextprotocol/tasks"]`). Its handler
    /// is the tool's own; its asks wait for `tasks/update`, and `tasks/cancel` drops it. The
    /// task is created as the call arrives, or with [`TaskCreation::Deferred`]
    /// ([`ServerBuilder::task_creation`]) when the handler calls [`Context::continue_as_task`].
    /// Each status change goes out as `notifications/tasks` to the `subscriptions/listen`
    /// streams that list the task's id in `taskIds`.
    #[must_use]
    pub fn task_support(mut self, name: impl Into<String>, support: TaskSupport) -> Self {
        self.registry.task_support.insert(name.into(), support);
        self
    }

    /// When a call of tool `name` (given task support with [`ServerBuilder::task_support`])
    /// becomes a task: on arrival (the default), or [`TaskCreation::Deferred`] until its
    /// handler calls [`Context::continue_as_task`]. A tool whose support is
    /// [`TaskSupport::Required`] still refuses clients that do not declare the extension
    /// (-32021) before its handler runs.
    #[must_use]
    pub fn task_creation(mut self, name: impl Into<String>, creation: TaskCreation) -> Self {
        self.registry.task_creation.insert(name.into(), creation);
        self
    }

    /// Items per page of list results (at least 1).
    #[must_use]
    pub fn page_size(mut self, page_size: usize) -> Self {
        self.registry.page_size = page_size.max(1);
        self
    }

    /// Registers `tool`; `handler` gets the call's arguments as a JSON object.
    #[must_use]
    pub fn tool<F, Fut>(mut self, tool: Tool, handler: F) -> Self
    where
        F: Fn(Context, JsonObject) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, HandlerError>> + Send + 'static,
    {
        let handler: ToolFn =
            Arc::new(move |context, arguments| Box::pin(handler(context, arguments)));
        self.registry.tools.retain(|(t, _)| t.name != tool.name);
        self.registry.tools.push((tool, handler));
        self
    }

    /// Registers `tool` with arguments deserialized into `A`. Arguments that do not fit `A`
    /// get a tool error result (`isError`), so the model can correct itself.
    #[must_use]
    pub fn typed_tool<A, F, Fut>(self, tool: Tool, handler: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(Context, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, HandlerError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.tool(tool, move |context, arguments| {
            let handler = Arc::clone(&handler);
            async move {
                match serde_json::from_value::<A>(Value::Object(arguments)) {
                    Ok(arguments) => handler(context, arguments).await,
                    Err(error) => Ok(CallToolResult::error(format!("invalid arguments: {error}"))),
                }
            }
        })
    }

    /// Registers tool `name` whose input schema is derived from `A` (feature `schemars`);
    /// arguments are deserialized into `A` as with [`ServerBuilder::typed_tool`].
    ///
    /// ```
    /// use mcp_async::server::{HandlerError, Server};
    /// use mcp_async::proto::types::CallToolResult;
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Add {
    ///     /// The first term.
    ///     a: i64,
    ///     /// The second term.
    ///     b: i64,
    /// }
    ///
    /// let server = Server::builder("calc", "1.0")
    ///     .schema_tool("add", "Adds two integers", |_ctx, args: Add| async move {
    ///         Ok::<_, HandlerError>(CallToolResult::text((args.a + args.b).to_string()))
    ///     })
    ///     .build();
    /// let add = server.tools().next().unwrap();
    /// assert_eq!(add.input_schema["type"], "object");
    /// assert!(add.input_schema["properties"]["a"].is_object());
    /// ```
    #[cfg(feature = "schemars")]
    #[must_use]
    pub fn schema_tool<A, F, Fut>(self, name: &str, description: &str, handler: F) -> Self
    where
        A: DeserializeOwned + schemars::JsonSchema + Send + 'static,
        F: Fn(Context, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, HandlerError>> + Send + 'static,
    {
        let mut input_schema = match serde_json::to_value(schemars::schema_for!(A)) {
            Ok(Value::Object(schema)) => schema,
            _ => JsonObject::new(),
        };
        // MCP requires an object schema; the meta-schema URI and title add nothing.
        input_schema.remove("$schema");
        input_schema.remove("title");
        input_schema
            .entry("type")
            .or_insert_with(|| Value::String("object".into()));
        let tool = Tool {
            name: name.to_owned(),
            description: (!description.is_empty()).then(|| description.to_owned()),
            input_schema,
            ..Tool::default()
        };
        self.typed_tool(tool, handler)
    }

    /// Registers `resource`; `read` produces its contents.
    #[must_use]
    pub fn resource<F, Fut>(mut self, resource: Resource, read: F) -> Self
    where
        F: Fn(Context, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<ResourceContents>, HandlerError>> + Send + 'static,
    {
        let read: ResourceFn = Arc::new(move |context, uri| Box::pin(read(context, uri)));
        self.registry
            .resources
            .retain(|(r, _)| r.uri != resource.uri);
        self.registry.resources.push((resource, read));
        self
    }

    /// Registers a resource template (`uriTemplate` with RFC 6570 `{name}` and `{+name}`
    /// variables); `read` gets the URI read and the variables it matched. Concrete resources
    /// registered with [`ServerBuilder::resource`] are matched first.
    ///
    /// # Errors
    /// [`UriTemplateError`] when the template cannot be matched against URIs.
    pub fn resource_template<F, Fut>(
        mut self,
        template: ResourceTemplate,
        read: F,
    ) -> Result<Self, UriTemplateError>
    where
        F: Fn(Context, String, BTreeMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<ResourceContents>, HandlerError>> + Send + 'static,
    {
        let matcher = UriTemplate::parse(&template.uri_template)?;
        let read: TemplateFn =
            Arc::new(move |context, uri, variables| Box::pin(read(context, uri, variables)));
        self.registry
            .templates
            .retain(|(t, _, _)| t.uri_template != template.uri_template);
        self.registry.templates.push((template, matcher, read));
        Ok(self)
    }

    /// Answers `completion/complete` (argument suggestions for prompts and resource
    /// templates) with `complete`, and declares the `completions` capability. At most 100
    /// values are sent; more set `hasMore`.
    #[must_use]
    pub fn completion<F, Fut>(mut self, complete: F) -> Self
    where
        F: Fn(Context, CompleteRequestParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Completion, HandlerError>> + Send + 'static,
    {
        self.registry.completion = Some(Arc::new(move |context, params| {
            Box::pin(complete(context, params))
        }));
        self
    }

    /// Registers `prompt`; `get` renders it from its arguments.
    #[must_use]
    pub fn prompt<F, Fut>(mut self, prompt: Prompt, get: F) -> Self
    where
        F: Fn(Context, BTreeMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, HandlerError>> + Send + 'static,
    {
        let get: PromptFn = Arc::new(move |context, arguments| Box::pin(get(context, arguments)));
        self.registry.prompts.retain(|(p, _)| p.name != prompt.name);
        self.registry.prompts.push((prompt, get));
        self
    }

    /// The finished definition.
    #[must_use]
    pub fn build(mut self) -> Server {
        // A client learns from the listing which tools may run as tasks; a definition that
        // states it already is left as written.
        for (tool, _) in &mut self.registry.tools {
            if let Some(support) = self.registry.task_support.get(&tool.name) {
                tool.execution
                    .get_or_insert_with(Default::default)
                    .task_support
                    .get_or_insert(*support);
            }
        }
        Server {
            registry: Arc::new(self.registry),
            live: self.live,
        }
    }
}

/// The error for reading an unknown resource: -32002 before 2026-07-28, -32602 (Invalid
/// Params) from it on (SEP-2164), the URI in `data` either way.
fn resource_not_found(era: Era, uri: &str) -> ErrorObject {
    let code = match era {
        Era::Legacy => ErrorCode::RESOURCE_NOT_FOUND_LEGACY,
        Era::Modern => ErrorCode::INVALID_PARAMS,
    };
    let error = ErrorObject::new(code, format!("resource not found: {uri}"));
    error
        .clone()
        .with_data(&serde_json::json!({ "uri": uri }))
        .unwrap_or(error)
}

fn ready(value: Result<Value, ErrorObject>) -> BoxFuture<'static, Result<Answer, ErrorObject>> {
    Box::pin(std::future::ready(value.map(Answer::Json)))
}

/// A request's result as a handler produced it. A tool's result stays typed until it is
/// written, which saves building (and dropping) a JSON tree on every call.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A `tools/call` result.
    Tool(CallToolResult),
    /// Any other result.
    Json(Value),
}

impl Answer {
    /// The result as JSON (a task keeps its result so).
    pub(crate) fn into_value(self) -> Result<Value, ErrorObject> {
        match self {
            Self::Tool(result) => to_value(result),
            Self::Json(value) => Ok(value),
        }
    }
}

impl serde::Serialize for Answer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Tool(result) => result.serialize(serializer),
            Self::Json(value) => value.serialize(serializer),
        }
    }
}

fn to_value<T: serde::Serialize>(value: T) -> Result<Value, ErrorObject> {
    serde_json::to_value(value)
        .map_err(|e| ErrorObject::new(ErrorCode::INTERNAL_ERROR, format!("result: {e}")))
}

/// One page of `items` from `cursor` (an offset this server wrote), and the next cursor.
fn paginate<'a, T>(
    items: &'a [T],
    cursor: Option<&str>,
    page_size: usize,
) -> Result<(&'a [T], Option<String>), ErrorObject> {
    let start = match cursor {
        None => 0,
        Some(cursor) => cursor
            .parse::<usize>()
            .ok()
            .filter(|start| *start <= items.len())
            .ok_or_else(|| ErrorObject::new(ErrorCode::INVALID_PARAMS, "invalid cursor"))?,
    };
    let end = start.saturating_add(page_size).min(items.len());
    let page = items.get(start..end).unwrap_or_default();
    let next = (end < items.len()).then(|| end.to_string());
    Ok((page, next))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use mcp_proto::types::{ResourcesCapability, ServerCapabilities};

    use super::*;

    #[test]
    fn declared_capabilities_add_to_the_implied_ones() {
        let tool: Tool = serde_json::from_value(
            serde_json::json!({"name": "t", "inputSchema": {"type": "object"}}),
        )
        .unwrap();
        let declared = ServerCapabilities {
            logging: Some(JsonObject::new()),
            resources: Some(ResourcesCapability {
                subscribe: Some(true),
                list_changed: None,
            }),
            ..ServerCapabilities::default()
        };
        let server = Server::builder("s", "1")
            .tool(tool, |_, _| async { Ok(CallToolResult::text("")) })
            .capabilities(declared)
            .build();
        let capabilities = server.config().capabilities;
        assert!(
            capabilities.tools.is_some(),
            "implied by the registered tool"
        );
        assert!(capabilities.logging.is_some());
        assert_eq!(capabilities.resources.unwrap().subscribe, Some(true));
        assert!(capabilities.prompts.is_none());
    }

    #[test]
    fn task_support_is_listed_in_the_tools_execution() {
        let tool = |name: &str, execution: Value| -> Tool {
            serde_json::from_value(serde_json::json!({
                "name": name, "inputSchema": {"type": "object"}, "execution": execution
            }))
            .unwrap()
        };
        let handler = |_, _| async { Ok(CallToolResult::text("")) };
        let server = Server::builder("s", "1")
            .tool(tool("plain", Value::Null), handler)
            .tool(tool("optional", Value::Null), handler)
            .task_support("optional", TaskSupport::Optional)
            .tool(
                tool("stated", serde_json::json!({"taskSupport": "required"})),
                handler,
            )
            .task_support("stated", TaskSupport::Optional)
            .build();
        let listed: Vec<_> = server
            .tools()
            .map(|t| t.execution.as_ref().and_then(|e| e.task_support))
            .collect();
        assert_eq!(
            listed,
            [
                None,
                Some(TaskSupport::Optional),
                Some(TaskSupport::Required)
            ]
        );
    }

    #[test]
    fn unknown_resources_answer_by_era_with_the_uri() {
        let legacy = resource_not_found(Era::Legacy, "test://x");
        assert_eq!(legacy.code, ErrorCode::RESOURCE_NOT_FOUND_LEGACY);
        let modern = resource_not_found(Era::Modern, "test://x");
        assert_eq!(modern.code, ErrorCode::INVALID_PARAMS);
        let data: Value = serde_json::to_value(&modern).unwrap();
        assert_eq!(data["data"]["uri"], "test://x");
    }
}
