//! The server application inside a connection task: turns the engine's requests into
//! running handler futures, polls them, and hands their answers back — for one connection
//! (stdio) or for many endpoints at once (the HTTP server's sessions), told apart by a key.
//!
//! Handlers ask the client for input through their [`Context`]: on a legacy session the ask
//! becomes a server→client request about the handler's request; on a modern request it
//! becomes an `input_required` answer (MRTR) carrying a random `requestState`, the handler's
//! future stays parked here, and the client's retry — a new request echoing that state —
//! resumes it with the client's answers.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant, SystemTime};

use futures_lite::Stream;
use mcp_proto::engine::{
    CloseReport, ListChanged, Outcome, RequestOptions, ServerEndpoint, ServerEvent,
};
use mcp_proto::jsonrpc::{ErrorCode, ErrorObject, RequestId};
use mcp_proto::types::methods::{ClientRequest, ServerRequest};
use mcp_proto::types::tasks::{CreateTaskResult, TaskNotificationParams};
use mcp_proto::types::{
    ClientCapabilities, Era, InputRequest, InputRequests, InputResponse, InputResponses,
    LoggingLevel, TASKS_EXTENSION_ID, tasks_extension_required,
};
use serde_json::Value;

use crate::cancel::{self, CancelGuard};
use crate::entropy::os_entropy;
use crate::resource_server::Principal;
use crate::runtime::BoxFuture;
use crate::server::{
    Answer, Context, Continuation, ContinueAsTaskError, InputError, Link, Progress, Server,
    TaskCreation, TaskSupport, ToTask,
};
use crate::tasks::{TaskError, TaskTable};

/// The most handler messages (progress, logs, asks) queued for the connection task.
const HANDLER_QUEUE: usize = 256;
/// The most handlers parked waiting for a modern client's retry; the oldest is dropped
/// beyond it.
pub(crate) const MAX_PARKED: usize = 1024;
/// How long a parked handler waits for the client's retry.
pub(crate) const PARK_TTL: Duration = Duration::from_secs(600);
/// How long a legacy client may take to answer an elicitation (a person answers it).
const ELICITATION_TIMEOUT: Duration = Duration::from_secs(600);

type Reply = crate::channel::Sender<Result<InputResponse, InputError>>;

/// One input request of a handler: the request, the key it wants in an MRTR
/// `inputRequests` map, and where its answer goes.
pub(crate) type Ask = (InputRequest, Option<String>, Reply);

/// A modern handler waiting for the client to retry with its input.
struct Parked {
    request_state: String,
    since: Instant,
    /// The keys of the input requests, and where each answer goes.
    waiting: Vec<(String, Reply)>,
}

struct Running<K> {
    /// Stable for the handler's life (its request id changes on each MRTR retry).
    slot: u64,
    key: K,
    id: RequestId,
    era: Era,
    /// Whether it may answer `input_required` (modern `tools/call`, `prompts/get`,
    /// `resources/read`).
    can_require_input: bool,
    answer: BoxFuture<'static, Result<Answer, ErrorObject>>,
    parked: Option<Parked>,
    /// Answers the client sent before being asked (SEP-2322: `inputResponses` on a request
    /// without `requestState`, e.g. to a server that keeps no state): an ask whose key is
    /// here takes its answer at once (once) instead of answering `input_required`.
    supplied: InputResponses,
    /// The task it runs as (its answer, errors and asks go to the task table, not to the
    /// request, which was answered with the task).
    task: Option<String>,
    /// Whether its handler may still make it a task ([`Context::continue_as_task`]): a
    /// modern call of a tool whose tasks are created on the handler's request.
    deferred_task: bool,
    /// Whether the client declared the tasks extension on the request now answering (the
    /// first, or the latest retry): only then may it become a task.
    declares_tasks: bool,
    /// Dropped with the handler: raises its context's cancellation signal.
    _cancel: CancelGuard,
}

/// A legacy server→client request sent for a handler.
struct LegacyAsk<K> {
    key: K,
    id: RequestId,
    reply: Reply,
}

/// What the application produced for the endpoint keyed by [`Produced::key`].
pub(crate) enum Produced<K> {
    /// A handler finished (or a request was refused).
    Answer(K, RequestId, Result<Answer, ErrorObject>),
    /// A handler reported progress.
    Progress(K, RequestId, Progress),
    /// A handler logged a message.
    Log(K, RequestId, LoggingLevel, Option<String>, Value),
    /// A handler asked the client for input (several asks made at once travel together).
    Ask {
        key: K,
        id: RequestId,
        slot: u64,
        asks: Vec<Ask>,
    },
    /// A handler asked to close the SSE stream carrying its request (only the HTTP server
    /// has one: it acts on this before [`App::apply`], which ignores it).
    CloseStream(K, RequestId),
    /// A list of the server changed ([`crate::server::ServerHandle`]): for every endpoint
    /// (the HTTP server tells all of its own; [`App::apply`] tells the one it is given).
    ListChanged(ListChanged),
    /// A task's status changed: `notifications/tasks` for the subscriptions following it, on
    /// every endpoint (as [`Produced::ListChanged`]).
    TaskChanged(Box<TaskNotificationParams>),
}

impl<K> Produced<K> {
    /// The endpoint it belongs to (`None`: every endpoint).
    pub(crate) fn key(&self) -> Option<&K> {
        match self {
            Self::Answer(key, ..)
            | Self::Progress(key, ..)
            | Self::Log(key, ..)
            | Self::CloseStream(key, ..) => Some(key),
            Self::Ask { key, .. } => Some(key),
            Self::ListChanged(_) | Self::TaskChanged(_) => None,
        }
    }
}

pub(crate) struct App<K> {
    server: Server,
    running: Vec<Running<K>>,
    next_slot: u64,
    to_task: crate::channel::Sender<(u64, ToTask)>,
    from_handlers: std::pin::Pin<Box<crate::channel::Receiver<(u64, ToTask)>>>,
    inbox: VecDeque<(u64, ToTask)>,
    /// Answers made without a handler (e.g. a retry whose handler is gone).
    ready: VecDeque<Produced<K>>,
    legacy_asks: Vec<LegacyAsk<K>>,
    /// The server's list changes, to announce.
    list_changes: std::pin::Pin<Box<crate::channel::Receiver<ListChanged>>>,
    /// Tool calls running as tasks (extension `io.modelcontextprotocol/tasks`).
    tasks: TaskTable,
}

impl<K: Clone + PartialEq + Send + Sync + 'static> App<K> {
    pub(crate) fn new(server: Server) -> Self {
        let (to_task, from_handlers) = crate::channel::bounded(HANDLER_QUEUE);
        let list_changes = Box::pin(server.handle().listen());
        Self {
            list_changes,
            tasks: TaskTable::default(),
            server,
            running: Vec::new(),
            next_slot: 0,
            to_task,
            from_handlers: Box::pin(from_handlers),
            inbox: VecDeque::new(),
            ready: VecDeque::new(),
            legacy_asks: Vec::new(),
        }
    }

    /// Takes in one event of the endpoint keyed `key`; returns its close report when it
    /// closed.
    pub(crate) fn on_event(&mut self, key: &K, event: ServerEvent) -> Option<CloseReport> {
        self.on_event_as(key, event, None)
    }

    /// [`App::on_event`] for an event whose requests come from `principal` (authenticated by
    /// the HTTP front end): their handlers see it in [`Context::principal`].
    pub(crate) fn on_event_as(
        &mut self,
        key: &K,
        event: ServerEvent,
        principal: Option<Arc<Principal>>,
    ) -> Option<CloseReport> {
        match event {
            ServerEvent::Request {
                id,
                request,
                context,
            } => {
                let mut supplied = InputResponses::new();
                if context.era == Era::Modern {
                    if let Some(answer) = self.task_request(&request) {
                        self.ready.push_back(Produced::Answer(
                            key.clone(),
                            id,
                            answer.map(Answer::Json),
                        ));
                        return None;
                    }
                    match retry_of(&request) {
                        Some((Some(state), responses)) => {
                            let declares_tasks = declares_tasks(&context.client_capabilities);
                            self.resume(key, id, state, responses, declares_tasks);
                            return None;
                        }
                        Some((None, responses)) => supplied = responses,
                        None => {}
                    }
                }
                let plan = match self.task_plan(&request, &context.client_capabilities) {
                    Ok(plan) => plan,
                    Err(error) => {
                        self.ready
                            .push_back(Produced::Answer(key.clone(), id, Err(error)));
                        return None;
                    }
                };
                let (task, deferred_task) = match plan {
                    TaskPlan::Direct => (None, false),
                    TaskPlan::Deferred => (None, context.era == Era::Modern),
                    TaskPlan::Created(task_id, created) => {
                        self.ready.push_back(Produced::Answer(
                            key.clone(),
                            id.clone(),
                            Ok(Answer::Json(created)),
                        ));
                        (Some(task_id), false)
                    }
                };
                let declares_tasks = declares_tasks(&context.client_capabilities);
                let (cancel, cancelled) = cancel::signal();
                let slot = self.next_slot;
                self.next_slot = self.next_slot.wrapping_add(1);
                let link = Link {
                    slot,
                    to_task: self.to_task.clone(),
                };
                let era = context.era;
                let can_require_input = era == Era::Modern
                    && matches!(
                        request,
                        ClientRequest::CallTool(_)
                            | ClientRequest::GetPrompt(_)
                            | ClientRequest::ReadResource(_)
                    );
                let context =
                    Context::new(context, Some(link), cancelled).with_principal(principal);
                self.running.push(Running {
                    slot,
                    key: key.clone(),
                    id,
                    era,
                    can_require_input,
                    answer: self.server.dispatch(context, request),
                    parked: None,
                    supplied,
                    task,
                    deferred_task,
                    declares_tasks,
                    _cancel: cancel,
                });
                None
            }
            ServerEvent::Cancelled { id } => {
                // A task outlives its (answered) request: only tasks/cancel stops it.
                self.running
                    .retain(|r| !(r.key == *key && r.id == id && r.task.is_none()));
                None
            }
            ServerEvent::Settled(settled) => {
                let position = self
                    .legacy_asks
                    .iter()
                    .position(|a| a.key == *key && a.id == settled.id);
                if let Some(ask) = position.map(|p| self.legacy_asks.swap_remove(p)) {
                    let _ = ask.reply.try_send(legacy_answer(settled.outcome));
                }
                None
            }
            ServerEvent::Closed(report) => {
                self.forget(key);
                Some(report)
            }
            ServerEvent::InvalidMessage(error) => {
                tracing::debug!(%error, "invalid message from a client (answered)");
                None
            }
            _ => None,
        }
    }

    /// Resumes the handler parked under `state` with the client's `responses`, now answering
    /// request `id` (which declares the tasks extension or not).
    fn resume(
        &mut self,
        key: &K,
        id: RequestId,
        state: String,
        responses: InputResponses,
        declares_tasks: bool,
    ) {
        let parked = self
            .running
            .iter_mut()
            .find(|r| r.key == *key && r.parked.as_ref().is_some_and(|p| p.request_state == state));
        let Some(running) = parked else {
            let error = ErrorObject::new(
                ErrorCode::INVALID_PARAMS,
                "unknown or expired requestState: retry the request without it",
            );
            self.ready
                .push_back(Produced::Answer(key.clone(), id, Err(error)));
            return;
        };
        running.id = id;
        running.declares_tasks = declares_tasks;
        if let Some(parked) = running.parked.take() {
            for (input_key, reply) in parked.waiting {
                let answer = responses.get(&input_key).cloned().ok_or_else(|| {
                    InputError::InvalidAnswer(format!("the retry has no response for {input_key}"))
                });
                let _ = reply.try_send(answer);
            }
        }
    }

    /// Drops every handler of the endpoint keyed `key` (it ended).
    pub(crate) fn forget(&mut self, key: &K) {
        self.running.retain(|r| r.key != *key);
        self.legacy_asks.retain(|a| a.key != *key);
    }

    /// Polls the handlers (unless `answers` is false: the peer is not reading) and what they
    /// send to the task.
    pub(crate) fn poll(&mut self, cx: &mut TaskContext<'_>, answers: bool) -> Poll<Produced<K>> {
        if let Some(ready) = self.ready.pop_front() {
            return Poll::Ready(ready);
        }
        if let Poll::Ready(Some(list)) = self.list_changes.as_mut().poll_next(cx) {
            return Poll::Ready(Produced::ListChanged(list));
        }
        if answers {
            for index in 0..self.running.len() {
                let Some(handler) = self.running.get_mut(index) else {
                    break;
                };
                if let Poll::Ready(answer) = handler.answer.as_mut().poll(cx) {
                    let handler = self.running.swap_remove(index);
                    // What it reported before finishing goes out before its answer.
                    self.receive(cx);
                    self.queue_messages_of(&handler.key, &handler.id, handler.slot);
                    if let Some(task_id) = &handler.task {
                        let finished = self.tasks.finish(
                            Instant::now(),
                            SystemTime::now(),
                            task_id,
                            answer.and_then(Answer::into_value),
                        );
                        match finished {
                            Ok(()) => self.announce(task_id),
                            Err(error) => tracing::debug!(%error, "task result not recorded"),
                        }
                    } else {
                        self.ready
                            .push_back(Produced::Answer(handler.key, handler.id, answer));
                    }
                    if let Some(ready) = self.ready.pop_front() {
                        return Poll::Ready(ready);
                    }
                    // The others are polled on the next turn.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
            }
        }
        self.receive(cx);
        while let Some(&(slot, _)) = self.inbox.front() {
            let Some(handler) = self.running.iter().find(|r| r.slot == slot) else {
                // Its handler ended since: nobody is left to report about.
                self.inbox.pop_front();
                continue;
            };
            let (key, id) = (handler.key.clone(), handler.id.clone());
            self.queue_messages_of(&key, &id, slot);
            if let Some(ready) = self.ready.pop_front() {
                return Poll::Ready(ready);
            }
        }
        Poll::Pending
    }

    /// Moves every message handler `slot` sent out of the inbox into the ready queue, in
    /// order, its asks together as one [`Produced::Ask`] (they are answered together).
    fn queue_messages_of(&mut self, key: &K, id: &RequestId, slot: u64) {
        let mut asks = Vec::new();
        let mut index = 0;
        while let Some((sender, _)) = self.inbox.get(index) {
            if *sender != slot {
                index += 1;
                continue;
            }
            let Some((_, message)) = self.inbox.remove(index) else {
                break;
            };
            match message {
                ToTask::Progress(report) => {
                    self.ready
                        .push_back(Produced::Progress(key.clone(), id.clone(), report));
                }
                ToTask::Log(level, logger, data) => {
                    let log = Produced::Log(key.clone(), id.clone(), level, logger, data);
                    self.ready.push_back(log);
                }
                ToTask::Ask(request, key, reply) => asks.push((*request, key, reply)),
                ToTask::CloseStream => {
                    self.ready
                        .push_back(Produced::CloseStream(key.clone(), id.clone()));
                }
                ToTask::ContinueAsTask(reply) => {
                    let _ = reply.try_send(self.continue_as_task(slot));
                }
            }
        }
        if !asks.is_empty() {
            self.ready.push_back(Produced::Ask {
                key: key.clone(),
                id: id.clone(),
                slot,
                asks,
            });
        }
    }

    /// Moves what handlers sent into the inbox (bounded by the queue's size).
    fn receive(&mut self, cx: &mut TaskContext<'_>) {
        while self.inbox.len() < HANDLER_QUEUE {
            match self.from_handlers.as_mut().poll_next(cx) {
                Poll::Ready(Some(message)) => self.inbox.push_back(message),
                Poll::Ready(None) | Poll::Pending => break,
            }
        }
    }

    /// Applies what the application produced to `endpoint`, the endpoint of
    /// [`Produced::key`] (`None`: it is gone, and so is whoever waits).
    pub(crate) fn apply(
        &mut self,
        now: Instant,
        produced: Produced<K>,
        endpoint: Option<&mut ServerEndpoint>,
    ) {
        self.evict_tasks(now);
        let Some(endpoint) = endpoint else {
            return;
        };
        match produced {
            Produced::Answer(_, id, answer) => {
                let sent = match answer {
                    Ok(result) => endpoint.respond(&id, &result),
                    Err(error) => endpoint.respond_error(&id, error),
                };
                if let Err(error) = sent {
                    tracing::debug!(%error, %id, "answer not sent");
                }
            }
            Produced::Progress(_, id, report) => {
                let _ = endpoint.progress(&id, report.progress, report.total, report.message);
            }
            Produced::Log(_, id, level, logger, data) => {
                let _ = endpoint.log(&id, level, logger, data);
            }
            // A transport without SSE streams (stdio, in memory) has nothing to close.
            Produced::CloseStream(..) => {}
            Produced::ListChanged(list) => {
                endpoint.notify_list_changed(list);
            }
            Produced::TaskChanged(task) => {
                endpoint.notify_task(&task);
            }
            Produced::Ask {
                key,
                id,
                slot,
                asks,
            } => {
                let Some(handler) = self.running.iter().find(|r| r.slot == slot) else {
                    return;
                };
                match handler.era {
                    Era::Legacy => self.ask_legacy(now, endpoint, &key, &id, asks),
                    Era::Modern => self.require_input(now, endpoint, &id, slot, asks),
                }
            }
        }
    }

    fn ask_legacy(
        &mut self,
        now: Instant,
        endpoint: &mut ServerEndpoint,
        key: &K,
        related: &RequestId,
        asks: Vec<Ask>,
    ) {
        for (request, _key, reply) in asks {
            // A person answers an elicitation: give them time.
            let timeout = matches!(request, InputRequest::Elicit(_)).then_some(ELICITATION_TIMEOUT);
            let request = ServerRequest::from(request);
            let options = RequestOptions {
                timeout,
                ..RequestOptions::default()
            };
            match endpoint.request_related(now, &request, options, related) {
                Ok(id) => self.legacy_asks.push(LegacyAsk {
                    key: key.clone(),
                    id,
                    reply,
                }),
                Err(mcp_proto::engine::ServerError::CapabilityNotDeclared {
                    capability, ..
                }) => {
                    let _ = reply.try_send(Err(InputError::NotDeclared { capability }));
                }
                Err(error) => {
                    let _ = reply.try_send(Err(InputError::Unsupported(error.to_string())));
                }
            }
        }
    }

    /// Answers modern request `id` with `input_required` and parks its handler.
    fn require_input(
        &mut self,
        now: Instant,
        endpoint: &mut ServerEndpoint,
        id: &RequestId,
        slot: u64,
        asks: Vec<Ask>,
    ) {
        let task = self
            .running
            .iter()
            .find(|r| r.slot == slot)
            .and_then(|r| r.task.clone());
        if let Some(task_id) = task {
            // A task's asks wait in the task for the client's tasks/update.
            let asks = asks
                .into_iter()
                .map(|(request, key, reply)| (key, request, reply))
                .collect();
            match self
                .tasks
                .require_input(now, SystemTime::now(), &task_id, asks)
            {
                Ok(()) => self.announce(&task_id),
                // The replies are dropped with the asks: the handler sees Closed.
                Err(error) => tracing::debug!(%error, "task input request not recorded"),
            }
            return;
        }
        let Some(handler) = self.running.iter_mut().find(|r| r.slot == slot) else {
            return;
        };
        if !handler.can_require_input || handler.parked.is_some() {
            let reason = if handler.parked.is_some() {
                "the handler already waits for the client's input"
            } else {
                "only tools/call, prompts/get and resources/read can ask a modern client"
            };
            for (_, _, reply) in asks {
                let _ = reply.try_send(Err(InputError::Unsupported(reason.into())));
            }
            return;
        }
        let mut requests = InputRequests::new();
        let mut waiting = Vec::with_capacity(asks.len());
        for (index, (request, key, reply)) in asks.into_iter().enumerate() {
            let input_key = match key {
                Some(key) if !key.is_empty() && !requests.contains_key(&key) => key,
                _ => generated_key(index, &requests),
            };
            // Answered up front (each answer serves one ask; unknown extra keys are ignored).
            if let Some(answer) = handler.supplied.remove(&input_key) {
                let _ = reply.try_send(Ok(answer));
                continue;
            }
            requests.insert(input_key.clone(), request);
            waiting.push((input_key, reply));
        }
        if waiting.is_empty() {
            return;
        }
        let request_state = random_state();
        if let Err(error) =
            endpoint.respond_input_required(id, requests, Some(request_state.clone()))
        {
            tracing::debug!(%error, %id, "input_required not sent");
            for (_, reply) in waiting {
                let _ = reply.try_send(Err(InputError::Closed));
            }
            return;
        }
        handler.parked = Some(Parked {
            request_state,
            since: now,
            waiting,
        });
        self.evict_parked(now);
    }

    /// Answers a request of the tasks extension (`tasks/get`, `tasks/update`,
    /// `tasks/cancel`; the core already refused clients that did not declare it); `None` for
    /// any other request.
    fn task_request(&mut self, request: &ClientRequest) -> Option<Result<Value, ErrorObject>> {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let answer = match request {
            ClientRequest::GetTask(params) => self
                .tasks
                .get(&params.task_id)
                .map(|got| serde_json::to_value(got).unwrap_or_default()),
            ClientRequest::UpdateTask(params) => self
                .tasks
                .update(now, wall, &params.task_id, &params.input_responses)
                .map(|answered| {
                    if answered {
                        self.announce(&params.task_id);
                    }
                    Value::Object(serde_json::Map::new())
                }),
            ClientRequest::CancelTask(params) => {
                self.tasks
                    .cancel(now, wall, &params.task_id)
                    .map(|stopped| {
                        if stopped {
                            // Dropping its handler's future stops the work.
                            self.running
                                .retain(|r| r.task.as_deref() != Some(params.task_id.as_str()));
                            self.announce(&params.task_id);
                        }
                        Value::Object(serde_json::Map::new())
                    })
            }
            _ => return None,
        };
        Some(answer.map_err(|error| match error {
            TaskError::Unknown(_) => ErrorObject::new(ErrorCode::INVALID_PARAMS, error.to_string()),
            _ => ErrorObject::new(ErrorCode::INTERNAL_ERROR, error.to_string()),
        }))
    }

    /// How `request` relates to tasks: a task-capable tool called by a client declaring the
    /// extension runs as a task created now (the task exists before the client learns its
    /// id, so `tasks/get` resolves at once), or later at its handler's request
    /// ([`TaskCreation::Deferred`]); -32021 for a task-only tool called by a client that does
    /// not declare it.
    fn task_plan(
        &mut self,
        request: &ClientRequest,
        declared: &ClientCapabilities,
    ) -> Result<TaskPlan, ErrorObject> {
        let ClientRequest::CallTool(params) = request else {
            return Ok(TaskPlan::Direct);
        };
        if params.request_state.is_some() {
            return Ok(TaskPlan::Direct);
        }
        let support = self.server.task_support(&params.name);
        match (support, declares_tasks(declared)) {
            (TaskSupport::Forbidden, _) | (TaskSupport::Optional, false) => Ok(TaskPlan::Direct),
            (TaskSupport::Required, false) => Err(tasks_extension_required(format!(
                "{} runs only as a task: declare the {TASKS_EXTENSION_ID} extension",
                params.name
            ))),
            (TaskSupport::Optional | TaskSupport::Required, true) => {
                match self.server.task_creation(&params.name) {
                    TaskCreation::Deferred => Ok(TaskPlan::Deferred),
                    TaskCreation::OnArrival => {
                        let (task_id, created) = self
                            .create_task()
                            .map_err(|e| ErrorObject::new(ErrorCode::INTERNAL_ERROR, e))?;
                        Ok(TaskPlan::Created(task_id, created))
                    }
                }
            }
        }
    }

    /// A new `working` task: its id and the `CreateTaskResult` announcing it.
    fn create_task(&mut self) -> Result<(String, Value), String> {
        let task_id = random_state();
        let task = self
            .tasks
            .create(Instant::now(), SystemTime::now(), task_id.clone())
            .map_err(|e| e.to_string())?;
        let created =
            serde_json::to_value(CreateTaskResult::new(task)).map_err(|e| e.to_string())?;
        Ok((task_id, created))
    }

    /// The handler of `slot` asks to go on as a task ([`Context::continue_as_task`]): when its
    /// request may become one, the task is created and answers the request.
    fn continue_as_task(&mut self, slot: u64) -> Result<Continuation, ContinueAsTaskError> {
        let Some(handler) = self.running.iter().find(|r| r.slot == slot) else {
            return Err(ContinueAsTaskError::Closed);
        };
        if let Some(task_id) = &handler.task {
            return Ok(Continuation::Task {
                task_id: task_id.clone(),
            });
        }
        if !(handler.deferred_task && handler.declares_tasks) || handler.parked.is_some() {
            return Ok(Continuation::Direct);
        }
        let (task_id, created) = self.create_task().map_err(|error| {
            if self.tasks.is_full() {
                ContinueAsTaskError::TooManyTasks
            } else {
                ContinueAsTaskError::Internal(error)
            }
        })?;
        let Some(handler) = self.running.iter_mut().find(|r| r.slot == slot) else {
            return Err(ContinueAsTaskError::Closed);
        };
        handler.task = Some(task_id.clone());
        handler.deferred_task = false;
        let answer = Produced::Answer(
            handler.key.clone(),
            handler.id.clone(),
            Ok(Answer::Json(created)),
        );
        self.ready.push_back(answer);
        Ok(Continuation::Task { task_id })
    }

    /// Tells the subscriptions following `task_id` its state as `tasks/get` shows it now.
    fn announce(&mut self, task_id: &str) {
        let Ok(got) = self.tasks.get(task_id) else {
            return;
        };
        let params = TaskNotificationParams {
            meta: None,
            task: got.task,
            input_requests: got.input_requests,
            result: got.result,
            error: got.error,
        };
        self.ready
            .push_back(Produced::TaskChanged(Box::new(params)));
    }

    /// Forgets expired tasks and stops their handlers.
    fn evict_tasks(&mut self, now: Instant) {
        let expired = self.tasks.evict(now);
        if !expired.is_empty() {
            self.running
                .retain(|r| r.task.as_ref().is_none_or(|t| !expired.contains(t)));
        }
    }

    /// Drops parked handlers whose client did not retry in time, then the oldest beyond the
    /// bound.
    fn evict_parked(&mut self, now: Instant) {
        self.running.retain(|r| {
            r.parked
                .as_ref()
                .is_none_or(|p| now.saturating_duration_since(p.since) < PARK_TTL)
        });
        let parked = self.running.iter().filter(|r| r.parked.is_some()).count();
        if parked > MAX_PARKED {
            let oldest = self
                .running
                .iter()
                .enumerate()
                .filter_map(|(index, r)| r.parked.as_ref().map(|p| (p.since, index)))
                .min()
                .map(|(_, index)| index);
            if let Some(index) = oldest {
                self.running.swap_remove(index);
            }
        }
    }

    /// How many handlers wait for a modern client's retry.
    #[cfg(test)]
    pub(crate) fn parked(&self) -> usize {
        self.running.iter().filter(|r| r.parked.is_some()).count()
    }
}

/// How a request relates to tasks (see [`App::task_plan`]).
enum TaskPlan {
    /// It is answered directly.
    Direct,
    /// Its handler may make it a task ([`TaskCreation::Deferred`]).
    Deferred,
    /// It runs as this task, just created; the `CreateTaskResult` answers it.
    Created(String, Value),
}

/// Whether `capabilities` declare the tasks extension.
fn declares_tasks(capabilities: &ClientCapabilities) -> bool {
    capabilities.extension(TASKS_EXTENSION_ID).is_some()
}

/// The `requestState` and answers of a modern request that can carry them (`None`: it
/// cannot). A request with answers but no state answers its handler's asks by key.
fn retry_of(request: &ClientRequest) -> Option<(Option<String>, InputResponses)> {
    let (state, responses) = match request {
        ClientRequest::CallTool(p) => (&p.request_state, &p.input_responses),
        ClientRequest::GetPrompt(p) => (&p.request_state, &p.input_responses),
        ClientRequest::ReadResource(p) => (&p.request_state, &p.input_responses),
        _ => return None,
    };
    Some((state.clone(), responses.clone().unwrap_or_default()))
}

/// The answer to a legacy server→client request, typed by its shape as MRTR answers are
/// (the asking [`Context`] method checks it answers its question).
fn legacy_answer(outcome: Outcome) -> Result<InputResponse, InputError> {
    match outcome {
        Outcome::Result(raw) => raw
            .parse()
            .map_err(|e| InputError::InvalidAnswer(e.to_string())),
        Outcome::Error(error) => Err(InputError::Client(error)),
        Outcome::Failed(failure) => Err(InputError::Failed(failure)),
    }
}

/// A key for the `index`th ask of a group that is not yet among `taken`.
fn generated_key(index: usize, taken: &InputRequests) -> String {
    let mut key = format!("input-{index}");
    while taken.contains_key(&key) {
        key.push('_');
    }
    key
}

/// An unguessable `requestState`: only the client that got it can resume the handler.
fn random_state() -> String {
    let mut bytes = [0u8; 16];
    os_entropy(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

    use std::task::Waker;

    use mcp_proto::engine::{Transmit, TransportScope};
    use mcp_proto::jsonrpc::{DecodeOptions, decode_message, encode};
    use mcp_proto::types::{CallToolResult, Tool};
    use serde_json::json;

    use super::*;
    use crate::server::HandlerError;

    fn asking_server() -> Server {
        let tool: Tool =
            serde_json::from_value(json!({"name": "ask", "inputSchema": {"type": "object"}}))
                .unwrap();
        Server::builder("s", "1")
            .tool(tool, |ctx, _| async move {
                let roots = ctx.list_roots().await?;
                Ok::<_, HandlerError>(CallToolResult::text(roots.roots.len().to_string()))
            })
            .build()
    }

    fn call(endpoint: &mut ServerEndpoint, now: Instant, id: u32, extra: Value) {
        let mut params = json!({"name": "ask", "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"roots": {}},
            "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "1"}
        }});
        if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
            params.extend(extra.clone());
        }
        let message = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params});
        let message = decode_message(
            &serde_json::to_vec(&message).unwrap(),
            &DecodeOptions::default(),
        )
        .unwrap();
        endpoint.handle_message(now, TransportScope::CONNECTION, message);
    }

    /// Runs the application until it has nothing more to do; returns what was sent.
    fn settle(app: &mut App<()>, endpoint: &mut ServerEndpoint, now: Instant) -> Vec<Value> {
        let mut cx = TaskContext::from_waker(Waker::noop());
        let mut sent = Vec::new();
        loop {
            while let Some(event) = endpoint.poll_event() {
                app.on_event(&(), event);
            }
            while let Some(transmit) = endpoint.poll_transmit() {
                if let Transmit::Send { message, .. } = transmit {
                    sent.push(serde_json::from_slice(&encode(&message)).unwrap());
                }
            }
            match app.poll(&mut cx, true) {
                Poll::Ready(produced) => app.apply(now, produced, Some(endpoint)),
                Poll::Pending => return sent,
            }
        }
    }

    #[test]
    fn a_parked_handler_resumes_only_with_its_state_and_expires() {
        let now = Instant::now();
        let server = asking_server();
        let mut endpoint = ServerEndpoint::new(server.config());
        let mut app = App::new(server);
        call(&mut endpoint, now, 1, json!({}));
        let sent = settle(&mut app, &mut endpoint, now);
        let result = &sent[0]["result"];
        assert_eq!(result["resultType"], "input_required", "{sent:?}");
        let state = result["requestState"].as_str().unwrap().to_owned();
        assert_eq!(state.len(), 32, "128 random bits");
        assert_eq!(app.parked(), 1);

        // A retry with a state nobody issued is refused; the parked handler stays.
        call(
            &mut endpoint,
            now,
            2,
            json!({"requestState": "forged", "inputResponses": {}}),
        );
        let sent = settle(&mut app, &mut endpoint, now);
        assert_eq!(sent[0]["error"]["code"], -32602, "{sent:?}");
        assert_eq!(app.parked(), 1);

        // The real retry resumes it under the new id.
        let responses = json!({"input-0": {"roots": [{"uri": "file:///a"}]}});
        call(
            &mut endpoint,
            now,
            3,
            json!({"requestState": state, "inputResponses": responses}),
        );
        let sent = settle(&mut app, &mut endpoint, now);
        assert_eq!(sent[0]["id"], 3);
        assert_eq!(sent[0]["result"]["content"][0]["text"], "1", "{sent:?}");
        assert_eq!(app.parked(), 0);

        // A client that never retries: its handler is dropped after the TTL.
        call(&mut endpoint, now, 4, json!({}));
        settle(&mut app, &mut endpoint, now);
        assert_eq!(app.parked(), 1);
        app.evict_parked(now + PARK_TTL + Duration::from_secs(1));
        assert_eq!(app.parked(), 0);
    }

    #[test]
    fn answers_sent_without_a_request_state_serve_the_first_asks_by_key() {
        let now = Instant::now();
        let server = asking_server();
        let mut endpoint = ServerEndpoint::new(server.config());
        let mut app = App::new(server);
        // The answer under the ask's key plus keys nobody asked for: it completes at once.
        let responses = json!({
            "input-0": {"roots": [{"uri": "file:///a"}, {"uri": "file:///b"}]},
            "unknown_extra_key": {"action": "accept", "content": {"foo": "bar"}}
        });
        call(&mut endpoint, now, 1, json!({"inputResponses": responses}));
        let sent = settle(&mut app, &mut endpoint, now);
        assert_eq!(sent[0]["result"]["content"][0]["text"], "2", "{sent:?}");
        assert_eq!(app.parked(), 0);

        // Only unrelated answers: the handler still asks (input_required), and parks.
        let responses = json!({"other": {"roots": []}});
        call(&mut endpoint, now, 2, json!({"inputResponses": responses}));
        let sent = settle(&mut app, &mut endpoint, now);
        assert_eq!(
            sent[0]["result"]["resultType"], "input_required",
            "{sent:?}"
        );
        assert!(sent[0]["result"]["inputRequests"]["input-0"].is_object());
        assert_eq!(app.parked(), 1);
    }

    fn send(endpoint: &mut ServerEndpoint, now: Instant, id: u32, method: &str, params: Value) {
        let mut params = params;
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}
        });
        let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let message = decode_message(
            &serde_json::to_vec(&message).unwrap(),
            &DecodeOptions::default(),
        )
        .unwrap();
        endpoint.handle_message(now, TransportScope::CONNECTION, message);
    }

    #[test]
    fn hiding_a_tool_announces_the_change_to_listening_subscriptions_only() {
        let now = Instant::now();
        let capabilities: mcp_proto::types::ServerCapabilities =
            serde_json::from_value(json!({"tools": {"listChanged": true}})).unwrap();
        let builder = Server::builder("s", "1")
            .tool(
                serde_json::from_value(json!({"name": "t", "inputSchema": {"type": "object"}}))
                    .unwrap(),
                |_, _| async { Ok::<_, HandlerError>(CallToolResult::text("ok")) },
            )
            .capabilities(capabilities);
        let handle = builder.handle();
        let server = builder.build();
        let mut endpoint = ServerEndpoint::new(server.config());
        let mut app = App::new(server);
        let tools = json!({"notifications": {"toolsListChanged": true}});
        send(&mut endpoint, now, 1, "subscriptions/listen", tools);
        let prompts = json!({"notifications": {"promptsListChanged": true}});
        send(&mut endpoint, now, 2, "subscriptions/listen", prompts);
        let sent = settle(&mut app, &mut endpoint, now);
        assert_eq!(sent.len(), 2, "two acknowledgements: {sent:?}");

        assert!(handle.set_tool_enabled("t", false));
        assert!(!handle.set_tool_enabled("t", false), "no change, no news");
        let sent = settle(&mut app, &mut endpoint, now);
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0]["method"], "notifications/tools/list_changed");
        assert_eq!(
            sent[0]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
            1
        );

        // Hidden: neither listed nor callable.
        send(&mut endpoint, now, 3, "tools/list", json!({}));
        send(&mut endpoint, now, 4, "tools/call", json!({"name": "t"}));
        let sent = settle(&mut app, &mut endpoint, now);
        let list = sent.iter().find(|m| m["id"] == 3).unwrap();
        assert_eq!(list["result"]["tools"], json!([]), "{list}");
        let call = sent.iter().find(|m| m["id"] == 4).unwrap();
        assert_eq!(call["error"]["code"], -32602, "{call}");

        assert!(handle.set_tool_enabled("t", true));
        send(&mut endpoint, now, 5, "tools/list", json!({}));
        let sent = settle(&mut app, &mut endpoint, now);
        assert_eq!(sent[0]["method"], "notifications/tools/list_changed");
        let list = sent.iter().find(|m| m["id"] == 5).unwrap();
        assert_eq!(list["result"]["tools"][0]["name"], "t", "{list}");
    }

    #[test]
    fn parked_handlers_are_bounded() {
        let now = Instant::now();
        let server = asking_server();
        let mut endpoint = ServerEndpoint::new(server.config());
        let mut app = App::new(server);
        for id in 0..(MAX_PARKED as u32 + 10) {
            call(&mut endpoint, now, id, json!({}));
            settle(&mut app, &mut endpoint, now);
        }
        assert_eq!(app.parked(), MAX_PARKED);
    }
}

#[cfg(test)]
mod progress_order_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::time::Instant;

    use futures_lite::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use mcp_proto::types::{CallToolResult, Tool};
    use serde_json::{Value, json};

    use crate::runtime::{BoxFuture, Runtime};
    use crate::serve::serve_lines;
    use crate::server::{HandlerError, Server};

    /// Needs neither tasks nor timers: the test's requests settle at once.
    #[derive(Debug, Clone)]
    struct NoRuntime;

    impl Runtime for NoRuntime {
        fn spawn(&self, _task: BoxFuture<'static, ()>) {}
        fn sleep_until(&self, _deadline: Instant) -> BoxFuture<'static, ()> {
            Box::pin(std::future::pending())
        }
    }

    /// A tool that reports progress three times and answers in the same poll (as any handler
    /// does whose last step reports progress, then returns).
    fn stepping_server() -> Server {
        let tool: Tool = serde_json::from_value(json!({
            "name": "steps", "inputSchema": {"type": "object"}
        }))
        .unwrap();
        Server::builder("t", "1")
            .tool(tool, |ctx, _args| async move {
                for step in 1..=3 {
                    ctx.progress(f64::from(step), Some(3.0), None);
                }
                Ok::<_, HandlerError>(CallToolResult::text("done"))
            })
            .build()
    }

    #[test]
    fn progress_reported_before_a_handler_returns_reaches_the_client_before_its_answer() {
        let (server_input, mut to_server) = crate::pipe::pipe(64 * 1024);
        let (from_server, server_output) = crate::pipe::pipe(64 * 1024);
        let serving = serve_lines(
            NoRuntime,
            stepping_server(),
            server_input,
            server_output,
            std::future::pending(),
        );
        let client = async move {
            for line in [
                json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "t", "version": "1"}}}),
                json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
                json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
                    "name": "steps", "arguments": {}, "_meta": {"progressToken": "p"}}}),
            ] {
                to_server
                    .write_all(format!("{line}\n").as_bytes())
                    .await
                    .unwrap();
            }
            let mut lines = BufReader::new(from_server).lines();
            let mut progress = Vec::new();
            loop {
                let line = futures_lite::StreamExt::next(&mut lines)
                    .await
                    .expect("the server answers")
                    .unwrap();
                let message: Value = serde_json::from_str(&line).unwrap();
                if message["method"] == "notifications/progress" {
                    progress.push(message["params"]["progress"].as_f64().unwrap());
                } else if message["id"] == 2 {
                    assert_eq!(message["result"]["content"][0]["text"], "done");
                    return progress;
                }
            }
        };
        let progress = futures_lite::future::block_on(futures_lite::future::or(client, async {
            serving.await;
            panic!("the server ended before answering")
        }));
        assert_eq!(progress, [1.0, 2.0, 3.0]);
    }
}

#[cfg(test)]
mod named_input_tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use std::task::{Context as TaskContext, Poll, Waker};
    use std::time::Instant;

    use mcp_proto::engine::{ServerEndpoint, Transmit, TransportScope};
    use mcp_proto::jsonrpc::{DecodeOptions, decode_message, encode};
    use mcp_proto::types::{CallToolResult, InputRequest, Tool};
    use serde_json::{Value, json};

    use super::{App, Produced};
    use crate::server::{HandlerError, Server};

    fn server() -> Server {
        let tool: Tool =
            serde_json::from_value(json!({"name": "ask", "inputSchema": {"type": "object"}}))
                .unwrap();
        Server::builder("s", "1")
            .tool(tool, |ctx, _| async move {
                // Two asks under the same name: the second gets a generated key.
                let (a, b) = futures_lite::future::zip(
                    ctx.ask_as("client_roots", InputRequest::list_roots()),
                    ctx.ask_as("client_roots", InputRequest::list_roots()),
                )
                .await;
                let (_, _) = (a?, b?);
                ctx.close_stream();
                Ok::<_, HandlerError>(CallToolResult::text("done"))
            })
            .build()
    }

    fn modern_call(id: u32, extra: Value) -> mcp_proto::jsonrpc::Message {
        let mut params = json!({"name": "ask", "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"roots": {}},
            "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "1"}
        }});
        if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
            params.extend(extra.clone());
        }
        let message = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params});
        decode_message(
            &serde_json::to_vec(&message).unwrap(),
            &DecodeOptions::default(),
        )
        .unwrap()
    }

    /// Runs until idle; returns the messages sent and whether a stream close was asked.
    fn settle(
        app: &mut App<()>,
        endpoint: &mut ServerEndpoint,
        now: Instant,
    ) -> (Vec<Value>, bool) {
        let mut cx = TaskContext::from_waker(Waker::noop());
        let (mut sent, mut closed) = (Vec::new(), false);
        loop {
            while let Some(event) = endpoint.poll_event() {
                app.on_event(&(), event);
            }
            while let Some(transmit) = endpoint.poll_transmit() {
                if let Transmit::Send { message, .. } = transmit {
                    sent.push(serde_json::from_slice(&encode(&message)).unwrap());
                }
            }
            match app.poll(&mut cx, true) {
                Poll::Ready(Produced::CloseStream(..)) => closed = true,
                Poll::Ready(produced) => app.apply(now, produced, Some(endpoint)),
                Poll::Pending => return (sent, closed),
            }
        }
    }

    #[test]
    fn named_asks_keep_their_names_and_duplicates_get_distinct_keys() {
        let now = Instant::now();
        let server = server();
        let mut endpoint = ServerEndpoint::new(server.config());
        let mut app = App::new(server);
        endpoint.handle_message(now, TransportScope::CONNECTION, modern_call(1, json!({})));
        let (sent, closed) = settle(&mut app, &mut endpoint, now);
        assert!(!closed);
        let result = &sent[0]["result"];
        let keys: Vec<&String> = result["inputRequests"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(keys.len(), 2, "{result}");
        assert!(keys.iter().any(|k| *k == "client_roots"), "{keys:?}");
        let state = result["requestState"].as_str().unwrap().to_owned();
        let roots = json!({"roots": []});
        let responses: serde_json::Map<String, Value> =
            keys.iter().map(|k| ((*k).clone(), roots.clone())).collect();
        let retry = json!({"requestState": state, "inputResponses": responses});
        endpoint.handle_message(now, TransportScope::CONNECTION, modern_call(2, retry));
        let (sent, closed) = settle(&mut app, &mut endpoint, now);
        assert_eq!(sent[0]["result"]["content"][0]["text"], "done", "{sent:?}");
        assert!(closed, "the handler's close_stream reaches the transport");
    }
}

#[cfg(test)]
mod task_tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::{Context as TaskContext, Poll, Wake, Waker};
    use std::time::Instant;

    use mcp_proto::engine::{ServerEndpoint, Transmit, TransportScope};
    use mcp_proto::jsonrpc::{DecodeOptions, decode_message, encode};
    use mcp_proto::types::{CallToolResult, InputRequest, InputResponse, Tool};
    use serde_json::{Value, json};

    use super::App;
    use crate::server::{Continuation, HandlerError, Server, TaskCreation, TaskSupport};

    fn tool(name: &str) -> Tool {
        serde_json::from_value(json!({"name": name, "inputSchema": {"type": "object"}})).unwrap()
    }

    fn name_form() -> InputRequest {
        serde_json::from_value(json!({"method": "elicitation/create", "params": {
            "message": "Your name?",
            "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}
        }}))
        .unwrap()
    }

    /// `greet` and `greet_required` ask a name while the call is open, then go on as a task;
    /// `gated` (a task on arrival) waits for the test's signal, asks, and answers.
    fn server(gate: crate::channel::Receiver<()>) -> Server {
        let greet = |ctx: crate::server::Context, _| async move {
            let answer = ctx.ask_as("user_name", name_form()).await?;
            let InputResponse::Elicit(answer) = answer else {
                return Err(HandlerError::internal("not an elicitation result"));
            };
            let name = answer
                .content
                .and_then(|c| c.get("name").map(|n| serde_json::to_value(n).unwrap()))
                .unwrap_or_default();
            let how = match ctx.continue_as_task().await? {
                Continuation::Task { .. } => "as a task",
                Continuation::Direct => "directly",
            };
            // Asked again for a task: the same one.
            let again = ctx.continue_as_task().await?;
            assert_eq!(again == Continuation::Direct, how == "directly");
            Ok::<_, HandlerError>(CallToolResult::text(format!("Hello, {name}! ({how})")))
        };
        Server::builder("s", "1")
            .tool(tool("greet"), greet)
            .task_support("greet", TaskSupport::Optional)
            .task_creation("greet", TaskCreation::Deferred)
            .tool(tool("greet_required"), greet)
            .task_support("greet_required", TaskSupport::Required)
            .task_creation("greet_required", TaskCreation::Deferred)
            .tool(tool("gated"), move |ctx, _| {
                let gate = gate.clone();
                async move {
                    let _ = gate.recv().await;
                    ctx.ask_as("ok", name_form()).await?;
                    Ok::<_, HandlerError>(CallToolResult::text("opened"))
                }
            })
            .task_support("gated", TaskSupport::Optional)
            .build()
    }

    fn request(id: u32, method: &str, params: Value, declares_tasks: bool) -> Value {
        let mut capabilities = json!({"elicitation": {}});
        if declares_tasks {
            capabilities["extensions"] = json!({"io.modelcontextprotocol/tasks": {}});
        }
        let mut params = params;
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": capabilities,
            "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "1"}
        });
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
    }

    struct Pair {
        app: App<()>,
        endpoint: ServerEndpoint,
    }

    impl Pair {
        fn new(server: Server) -> Self {
            Self {
                endpoint: ServerEndpoint::new(server.config()),
                app: App::new(server),
            }
        }

        /// Sends `message`, runs until idle, returns what was sent.
        fn exchange(&mut self, message: &Value) -> Vec<Value> {
            let message = decode_message(
                &serde_json::to_vec(message).unwrap(),
                &DecodeOptions::default(),
            )
            .unwrap();
            self.endpoint
                .handle_message(Instant::now(), TransportScope::CONNECTION, message);
            self.settle()
        }

        /// Runs until idle: nothing ready, and nothing woken since (a handler answered
        /// through a channel is polled again, as the owner task would be woken).
        fn settle(&mut self) -> Vec<Value> {
            let woken = Arc::new(Woken(AtomicBool::new(false)));
            let waker = Waker::from(Arc::clone(&woken));
            let mut cx = TaskContext::from_waker(&waker);
            let mut sent = Vec::new();
            loop {
                while let Some(event) = self.endpoint.poll_event() {
                    self.app.on_event(&(), event);
                }
                while let Some(transmit) = self.endpoint.poll_transmit() {
                    if let Transmit::Send { message, .. } = transmit {
                        sent.push(serde_json::from_slice(&encode(&message)).unwrap());
                    }
                }
                match self.app.poll(&mut cx, true) {
                    Poll::Ready(produced) => {
                        self.app
                            .apply(Instant::now(), produced, Some(&mut self.endpoint));
                    }
                    Poll::Pending if woken.0.swap(false, Ordering::SeqCst) => {}
                    Poll::Pending => return sent,
                }
            }
        }
    }

    /// A waker that remembers it was woken.
    struct Woken(AtomicBool);

    impl Wake for Woken {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    fn answer_to(sent: &[Value], id: u32) -> Value {
        sent.iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("no answer to {id} in {sent:?}"))
            .clone()
    }

    #[test]
    fn a_deferred_call_asks_first_then_becomes_a_task_for_declaring_clients_only() {
        let (_open, gate) = crate::channel::bounded(1);
        let mut pair = Pair::new(server(gate));
        for (first, declares) in [(1, true), (10, false)] {
            let call = json!({"name": "greet", "arguments": {}});
            let sent = pair.exchange(&request(first, "tools/call", call.clone(), declares));
            let round_1 = answer_to(&sent, first)["result"].clone();
            assert_eq!(round_1["resultType"], "input_required", "{round_1}");
            assert!(round_1.get("taskId").is_none(), "{round_1}");
            assert!(
                round_1["inputRequests"]["user_name"].is_object(),
                "{round_1}"
            );

            let mut retry = call;
            retry["requestState"] = round_1["requestState"].clone();
            retry["inputResponses"] =
                json!({"user_name": {"action": "accept", "content": {"name": "Alice"}}});
            let sent = pair.exchange(&request(first + 1, "tools/call", retry, declares));
            let round_2 = answer_to(&sent, first + 1)["result"].clone();
            if !declares {
                assert_eq!(round_2["resultType"], "complete", "{round_2}");
                assert_eq!(
                    round_2["content"][0]["text"],
                    "Hello, \"Alice\"! (directly)"
                );
                continue;
            }
            assert_eq!(round_2["resultType"], "task", "{round_2}");
            assert_eq!(round_2["status"], "working", "{round_2}");
            assert!(round_2.get("requestState").is_none(), "{round_2}");
            assert!(round_2.get("inputRequests").is_none(), "{round_2}");
            let task_id = round_2["taskId"].as_str().unwrap().to_owned();
            let get = json!({"taskId": task_id});
            let sent = pair.exchange(&request(first + 2, "tasks/get", get, true));
            let got = answer_to(&sent, first + 2)["result"].clone();
            assert_eq!(got["status"], "completed", "{got}");
            assert_eq!(
                got["result"]["content"][0]["text"],
                "Hello, \"Alice\"! (as a task)"
            );
        }
    }

    #[test]
    fn a_required_deferred_tool_refuses_clients_without_the_extension_up_front() {
        let (_open, gate) = crate::channel::bounded(1);
        let mut pair = Pair::new(server(gate));
        let call = json!({"name": "greet_required", "arguments": {}});
        let sent = pair.exchange(&request(1, "tools/call", call, false));
        let refused = answer_to(&sent, 1);
        assert_eq!(refused["error"]["code"], -32021, "{refused}");
        assert_eq!(
            refused["error"]["data"]["requiredCapabilities"]["extensions"],
            json!({"io.modelcontextprotocol/tasks": {}})
        );
        assert_eq!(pair.app.running.len(), 0, "its handler never ran");
    }

    #[test]
    fn status_changes_reach_the_subscriptions_following_the_task() {
        let (open, gate) = crate::channel::bounded(1);
        let mut pair = Pair::new(server(gate));
        let sent = pair.exchange(&request(1, "tools/call", json!({"name": "gated"}), true));
        let created = answer_to(&sent, 1)["result"].clone();
        assert_eq!(created["resultType"], "task", "{created}");
        let task_id = created["taskId"].as_str().unwrap().to_owned();

        let follow = json!({"notifications": {"taskIds": [task_id]}});
        let sent = pair.exchange(&request(2, "subscriptions/listen", follow, true));
        assert_eq!(
            sent[0]["params"]["notifications"]["taskIds"][0],
            task_id.as_str()
        );
        let other = json!({"notifications": {"taskIds": ["another-task"]}});
        pair.exchange(&request(3, "subscriptions/listen", other, true));

        // The handler asks: input_required, with the request inline.
        open.try_send(()).unwrap();
        let sent = pair.settle();
        assert_eq!(sent.len(), 1, "{sent:?}");
        let note = &sent[0];
        assert_eq!(note["method"], "notifications/tasks");
        assert_eq!(
            note["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
            2
        );
        assert_eq!(note["params"]["taskId"], task_id.as_str());
        assert_eq!(note["params"]["status"], "input_required");
        assert!(note["params"]["inputRequests"]["ok"].is_object(), "{note}");

        // An update answering nothing changes nothing.
        let update = json!({"taskId": task_id, "inputResponses": {"nobody-asked": {}}});
        let sent = pair.exchange(&request(4, "tasks/update", update, true));
        assert_eq!(sent.len(), 1, "only the ack: {sent:?}");

        // The answer: working again, then completed with the result inline.
        let answer = json!({"action": "accept", "content": {"name": "x"}});
        let update = json!({"taskId": task_id, "inputResponses": {"ok": answer}});
        let sent = pair.exchange(&request(5, "tasks/update", update, true));
        let notes: Vec<&Value> = sent
            .iter()
            .filter(|m| m["method"] == "notifications/tasks")
            .collect();
        let statuses: Vec<&Value> = notes.iter().map(|n| &n["params"]["status"]).collect();
        assert_eq!(statuses, ["working", "completed"], "{sent:?}");
        assert_eq!(notes[1]["params"]["result"]["content"][0]["text"], "opened");
        assert!(
            notes
                .iter()
                .all(|n| n["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == 2),
            "subscription 3 follows another task: {notes:?}"
        );
    }

    #[test]
    fn a_cancelled_task_is_announced() {
        let (_open, gate) = crate::channel::bounded(1);
        let mut pair = Pair::new(server(gate));
        let sent = pair.exchange(&request(1, "tools/call", json!({"name": "gated"}), true));
        let task_id = answer_to(&sent, 1)["result"]["taskId"].clone();
        let follow = json!({"notifications": {"taskIds": [task_id]}});
        pair.exchange(&request(2, "subscriptions/listen", follow, true));
        let sent = pair.exchange(&request(
            3,
            "tasks/cancel",
            json!({"taskId": task_id}),
            true,
        ));
        let note = sent
            .iter()
            .find(|m| m["method"] == "notifications/tasks")
            .unwrap();
        assert_eq!(note["params"]["status"], "cancelled");
        assert_eq!(pair.app.running.len(), 0, "its handler was dropped");
    }
}
