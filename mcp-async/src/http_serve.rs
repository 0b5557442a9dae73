//! Serving a [`Server`] over HTTP/1.1: the Streamable HTTP endpoint (both eras on one path)
//! and, optionally, the deprecated HTTP+SSE endpoints, on any listener an adapter provides.
//!
//! One task owns the protocol state — the [`HttpServer`] (and [`SseServer`]) machines and the
//! running handlers. Another task accepts connections (so that the owner's wakes never poll
//! the listener) and gives each one a task of its own that parses requests with the
//! [`mcp_proto::h1`] codec, hands them to the owner, and writes back what the owner routes to
//! its exchange; requests on one connection are answered in order. Another front end can
//! bring the owner its requests instead of a listener (the `tower` feature's service does).

use std::collections::HashMap;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use futures_lite::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use futures_lite::{FutureExt, Stream};
use http::request::Parts;
use http::{Method, StatusCode};
use mcp_proto::engine::{ServerEvent, TransportScope};
use mcp_proto::h1::{
    self, BodyDecoder, BodyFraming, BodyStatus, CONTINUE_RESPONSE, H1Error, Limits,
};
use mcp_proto::http::SessionId;
use mcp_proto::streamable::legacy_sse::SESSION_QUERY_PARAM;
use mcp_proto::streamable::validate::SESSION_ID_HEADER;
use mcp_proto::streamable::{
    EndpointRef, HttpOutput, HttpPolicy, HttpServer, HttpServerConfig, SessionLimits, SseServer,
    SseServerConfig, StreamId,
};

use crate::app::{App, Produced};
use crate::exchange::{self, ExchangeReceiver, ExchangeSender};
use crate::read_buffer::ReadBuffer;
use crate::resource_server::{Gate, Principal, ResourceServerAuth, SessionOwners};
use crate::runtime::{BoxFuture, Runtime};
use crate::server::Server;
use crate::timer::Timer;

/// The default most connections served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// The default time a graceful stop gives open exchanges.
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(5);
/// Outputs queued for one exchange before it is considered stuck and closed.
const EXCHANGE_QUEUE: usize = 256;
/// Requests queued from connection tasks to the owner.
const INBOUND_QUEUE: usize = 1024;
/// Most bytes read from a socket at a time.
const READ_CHUNK: usize = 16 * 1024;

/// A source of connections (a TCP listener, a Unix socket…).
pub trait Listener: Send + 'static {
    /// A connection.
    type Connection: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// The next connection (a future that owns what it needs, e.g. a shared handle).
    fn accept(&self) -> BoxFuture<'static, io::Result<(Self::Connection, SocketAddr)>>;
}

/// The paths of the deprecated HTTP+SSE transport (2024-11-05).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacySsePaths {
    /// Where a client opens its stream (`GET`).
    pub sse: String,
    /// Where its messages are POSTed (the `endpoint` event names it).
    pub messages: String,
}

impl Default for LegacySsePaths {
    fn default() -> Self {
        Self {
            sse: "/sse".into(),
            messages: "/messages".into(),
        }
    }
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct HttpServeOptions {
    /// The MCP endpoint's path.
    pub path: String,
    /// Serve the HTTP+SSE endpoints too.
    pub legacy_sse: Option<LegacySsePaths>,
    /// Origin and Host rules, body limit, versions (loopback-only by default).
    pub policy: HttpPolicy,
    /// HTTP/1.1 parsing limits.
    pub limits: Limits,
    /// Connections served at once; more are closed at once.
    pub max_connections: usize,
    /// Bounds of the legacy session tables (Streamable HTTP's and HTTP+SSE's, each): sessions
    /// alive at once (beyond it `initialize` is refused with 503) and idle expiry.
    pub sessions: SessionLimits,
    /// The time a graceful stop gives open exchanges before closing them.
    pub stop_grace: Duration,
    /// Bearer tokens required of every request, and the Protected Resource Metadata served
    /// (see [`HttpServeOptions::bearer_auth`]); `None` serves without authorization.
    pub auth: Option<Arc<ResourceServerAuth>>,
}

impl HttpServeOptions {
    /// Makes the server an OAuth 2.1 resource server: every request to the MCP endpoint (and
    /// the HTTP+SSE endpoints) needs a valid bearer token with the required scopes before it
    /// reaches the engine, legacy sessions are bound to the subject that created them, and
    /// the metadata document is served at its well-known paths. See
    /// [`resource_server`](crate::resource_server).
    #[must_use]
    pub fn bearer_auth(mut self, auth: ResourceServerAuth) -> Self {
        self.auth = Some(Arc::new(auth));
        self
    }
}

impl Default for HttpServeOptions {
    fn default() -> Self {
        Self {
            path: "/mcp".into(),
            legacy_sse: None,
            policy: HttpPolicy::loopback(),
            limits: Limits::default(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            sessions: SessionLimits::default(),
            stop_grace: DEFAULT_STOP_GRACE,
            auth: None,
        }
    }
}

/// How serving ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpServeReport {
    /// Connections accepted and served.
    pub connections: u64,
    /// Connections closed at once because the limit was reached.
    pub refused_connections: u64,
    /// Exchanges still open when the stop grace ran out (closed then).
    pub cut_exchanges: usize,
    /// An accept error that ended serving, if one did.
    pub accept_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Machine {
    Streamable,
    LegacySse,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Streamable(EndpointRef),
    LegacySse(SessionId),
}

/// A request a connection task parsed, and where its exchange's outputs go.
pub(crate) struct NewRequest {
    machine: Machine,
    parts: Parts,
    body: Vec<u8>,
    /// Who sent it, when the server checks tokens.
    principal: Option<Arc<Principal>>,
    reply: ExchangeSender,
}

/// Hands a request to the owner; returns what the owner routes to its exchange, or `None`
/// when the owner has ended.
pub(crate) async fn submit(
    inbound: &crate::channel::Sender<Inbound>,
    machine: Machine,
    parts: Parts,
    body: Vec<u8>,
    principal: Option<Arc<Principal>>,
) -> Option<ExchangeReceiver> {
    let (reply, outputs) = exchange::channel(EXCHANGE_QUEUE);
    let request = NewRequest {
        machine,
        parts,
        body,
        principal,
        reply,
    };
    inbound
        .send(Inbound::Request(Box::new(request)))
        .await
        .ok()
        .map(|()| outputs)
}

/// From a connection task to the owner.
pub(crate) enum Inbound {
    Request(Box<NewRequest>),
    Closed(Machine, StreamId),
}

impl fmt::Debug for Inbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Request(request) => {
                write!(f, "Request({} {})", request.parts.method, request.parts.uri)
            }
            Self::Closed(machine, stream) => write!(f, "Closed({machine:?}, {stream:?})"),
        }
    }
}

enum Wake {
    /// The accept task ended: with the error that ended it, or `None` after a stop.
    AcceptEnded(Option<String>),
    Inbound(Inbound),
    /// Every sender of requests is gone: another front end's, or the accept task's and its
    /// connections' once it ended.
    FrontEnded,
    App(Produced<Key>),
    Timer,
    Stop,
}

/// The listener of an owner whose requests come from another front end: it has none.
#[cfg(feature = "tower")]
pub(crate) enum NoListener {}

#[cfg(feature = "tower")]
impl Listener for NoListener {
    // Any stream type does: no connection is ever made.
    type Connection = futures_lite::io::Cursor<Vec<u8>>;

    fn accept(&self) -> BoxFuture<'static, io::Result<(Self::Connection, SocketAddr)>> {
        match *self {}
    }
}

/// Serves `server` on `listener` until `stop` completes; then stops accepting, gives open
/// exchanges `stop_grace`, and closes the rest. `entropy` mints legacy session ids (e.g.
/// from the OS's random source).
pub async fn serve_http<R, L>(
    runtime: R,
    server: Server,
    listener: L,
    options: HttpServeOptions,
    entropy: fn(&mut [u8]),
    stop: impl Future<Output = ()> + Send,
) -> HttpServeReport
where
    R: Runtime,
    L: Listener,
{
    let front = Front::listening(listener);
    run_owner(runtime, server, front, options, entropy, stop).await
}

/// Where the owner's requests come from.
pub(crate) struct Front<L> {
    /// A listener whose connections the owner serves, with the sender their tasks get; none
    /// when another front end brings the requests.
    listener: Option<(L, crate::channel::Sender<Inbound>)>,
    /// Requests, closed exchanges and ended connections, from every front-end task. Its
    /// closing (every sender dropped) ends serving.
    inbound: crate::channel::Receiver<Inbound>,
}

impl<L> Front<L> {
    fn listening(listener: L) -> Self {
        let (sender, inbound) = crate::channel::bounded(INBOUND_QUEUE);
        Self {
            listener: Some((listener, sender)),
            inbound,
        }
    }
}

#[cfg(feature = "tower")]
impl Front<NoListener> {
    /// Requests from a front end of another kind, through the returned sender (and its
    /// clones).
    pub(crate) fn requests() -> (Self, crate::channel::Sender<Inbound>) {
        let (sender, inbound) = crate::channel::bounded(INBOUND_QUEUE);
        let front = Self {
            listener: None,
            inbound,
        };
        (front, sender)
    }
}

/// The owner task: the engines, the application and every open exchange, for any front end.
async fn run_owner<R, L>(
    runtime: R,
    server: Server,
    front: Front<L>,
    options: HttpServeOptions,
    entropy: fn(&mut [u8]),
    stop: impl Future<Output = ()> + Send,
) -> HttpServeReport
where
    R: Runtime,
    L: Listener,
{
    let mut config = HttpServerConfig::new(server.config());
    config.policy = options.policy.clone();
    config.sessions = options.sessions;
    let mut http = HttpServer::new(config, Box::new(entropy));
    let invalid = http.set_tools(&server.tools().cloned().collect::<Vec<_>>());
    for tool in invalid {
        tracing::warn!(%tool, "tool with invalid x-mcp-header annotations: clients will not list it");
    }
    let mut sse = options.legacy_sse.as_ref().map(|paths| {
        let mut config = SseServerConfig::new(server.config());
        config.policy = options.policy.clone();
        config.sessions = options.sessions;
        config.message_path.clone_from(&paths.messages);
        SseServer::new(config, Box::new(entropy))
    });
    let mut app: App<Key> = App::new(server);
    let gate = options.auth.clone().map(|auth| Gate::new(&runtime, auth));
    // With bearer auth: the subject each legacy session belongs to.
    let mut owners: SessionOwners<Machine> = SessionOwners::default();
    // The principal of the request handled last: the handlers its events start see it.
    let mut current: Option<(Machine, StreamId, Arc<Principal>)> = None;
    // Held until serving ends: its closing ends connection tasks idling between requests.
    let (_serving, served) = crate::channel::bounded::<()>(1);
    let Front { listener, inbound } = front;
    let mut inbound = Box::pin(inbound);
    let mut inbound_open = true;
    let mut routes: HashMap<(Machine, StreamId), ExchangeSender> = HashMap::new();
    let mut timer = Timer::new(runtime.clone());
    let mut stop_timer = Timer::new(runtime.clone());
    let mut stop = Box::pin(stop);
    let mut stopping_since: Option<Instant> = None;
    let mut report = HttpServeReport::default();
    // The accept task, when there is a listener: it spawns the connection tasks itself.
    let mut accepting = listener.map(|(listener, sender)| {
        let context = ConnectionContext {
            inbound: sender,
            options: Arc::new(options.clone()),
            gate: gate.clone(),
            served: served.clone(),
        };
        Accepting::spawn(&runtime, listener, context)
    });
    loop {
        let now = Instant::now();
        // The engines' news: application events first, then what to write.
        while let Some((origin, event)) = http.poll_event() {
            let principal = principal_of(current.as_ref(), Machine::Streamable, &event);
            app.on_event_as(&Key::Streamable(origin), event, principal);
        }
        if let Some(sse) = &mut sse {
            while let Some((session, event)) = sse.poll_event() {
                let principal = principal_of(current.as_ref(), Machine::LegacySse, &event);
                app.on_event_as(&Key::LegacySse(session), event, principal);
            }
        }
        current = None;
        while let Some(output) = http.poll_output(now) {
            owners.observe(Machine::Streamable, &output);
            deliver(&mut routes, Machine::Streamable, output, |stream| {
                http.handle_stream_closed(now, stream);
            });
        }
        if let Some(sse) = &mut sse {
            while let Some(output) = sse.poll_output(now) {
                deliver(&mut routes, Machine::LegacySse, output, |stream| {
                    sse.handle_stream_closed(now, stream);
                });
            }
        }
        if let Some(since) = stopping_since {
            let expired = now.saturating_duration_since(since) >= options.stop_grace;
            if routes.is_empty() || expired {
                report.cut_exchanges = routes.len();
                if let Some(accept) = &accepting {
                    accept.count(&mut report);
                }
                // Dropping the routes closes every exchange still open.
                return report;
            }
        }
        timer.set(
            http.poll_timeout()
                .into_iter()
                .chain(sse.as_ref().and_then(SseServer::poll_timeout))
                .min(),
        );
        let wake = poll_fn(|cx| {
            if let Some(accept) = &mut accepting
                && let Poll::Ready(ended) = accept.poll_ended(cx)
            {
                return Poll::Ready(Wake::AcceptEnded(ended));
            }
            if inbound_open && let Poll::Ready(message) = inbound.as_mut().poll_next(cx) {
                return Poll::Ready(message.map_or(Wake::FrontEnded, Wake::Inbound));
            }
            if let Poll::Ready(produced) = app.poll(cx, true) {
                return Poll::Ready(Wake::App(produced));
            }
            if stopping_since.is_none() && stop.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Wake::Stop);
            }
            if timer.poll(cx).is_ready() || stop_timer.poll(cx).is_ready() {
                return Poll::Ready(Wake::Timer);
            }
            Poll::Pending
        })
        .await;
        let now = Instant::now();
        match wake {
            Wake::AcceptEnded(ended) => {
                if let Some(accept) = &mut accepting {
                    accept.done = true;
                }
                if let Some(error) = ended {
                    report.accept_error = Some(error);
                    if stopping_since.is_none() {
                        stopping_since = Some(now);
                        stop_timer.set(now.checked_add(options.stop_grace));
                    }
                }
            }
            Wake::Inbound(Inbound::Request(request)) => {
                let NewRequest {
                    machine,
                    parts,
                    body,
                    principal,
                    reply,
                } = *request;
                // Only a server checking tokens binds sessions to subjects.
                let session = principal
                    .as_ref()
                    .and_then(|_| session_named(machine, &parts));
                if let (Some(principal), Some(session)) = (&principal, &session)
                    && owners.refuses(machine, session, &principal.subject)
                {
                    // Another subject's session: as unknown to this one as any other id.
                    tracing::debug!(subject = %principal.subject, "session of another subject");
                    let response = http::Response::builder()
                        .status(StatusCode::NOT_FOUND)
                        .body(Vec::new())
                        .unwrap_or_default();
                    let refusal = HttpOutput::Respond {
                        stream: REFUSED_STREAM,
                        response,
                    };
                    let _ = reply.try_send(refusal);
                    continue;
                }
                let stream = match (machine, &mut sse) {
                    (Machine::LegacySse, Some(sse)) => match parts.method {
                        Method::GET => sse.handle_get(now, &parts),
                        _ => sse.handle_post(now, &parts, &body),
                    },
                    _ => match parts.method {
                        Method::GET => http.handle_get(now, &parts),
                        Method::DELETE => http.handle_delete(now, &parts),
                        _ => http.handle_post(now, &parts, &body),
                    },
                };
                if reply.open(machine, stream).is_ok() {
                    routes.insert((machine, stream), reply);
                }
                if let Some(principal) = principal {
                    let subject = principal.subject.as_str();
                    match machine {
                        Machine::Streamable
                            if session.is_none() && parts.method == Method::POST =>
                        {
                            owners.creating(stream, subject, |s| {
                                routes.contains_key(&(Machine::Streamable, s))
                            });
                        }
                        Machine::LegacySse if parts.method == Method::GET => {
                            if let Some(id) = sse.as_ref().and_then(|sse| sse.session_of(stream)) {
                                owners.bind(machine, id.as_str(), Arc::from(subject));
                            }
                        }
                        _ => {}
                    }
                    let alive =
                        http.session_count() + sse.as_ref().map_or(0, SseServer::session_count);
                    owners.prune(alive, |machine, id| {
                        let Ok(id) = SessionId::parse(id.as_bytes()) else {
                            return false;
                        };
                        match machine {
                            Machine::Streamable => {
                                http.endpoint(&EndpointRef::Session(id)).is_some()
                            }
                            Machine::LegacySse => {
                                sse.as_mut().is_some_and(|sse| sse.endpoint(&id).is_some())
                            }
                        }
                    });
                    current = Some((machine, stream, principal));
                }
            }
            Wake::Inbound(Inbound::Closed(machine, stream)) => {
                routes.remove(&(machine, stream));
                if machine == Machine::Streamable {
                    owners.closed(stream);
                }
                match (machine, &mut sse) {
                    (Machine::LegacySse, Some(sse)) => sse.handle_stream_closed(now, stream),
                    _ => http.handle_stream_closed(now, stream),
                }
            }
            // A handler closing its SSE stream (SSE polling): the engine keeps the stream
            // for the client's `GET` + `Last-Event-ID`.
            Wake::App(Produced::CloseStream(Key::Streamable(origin), id)) => {
                if !http.disconnect_request_stream(now, &origin, &id) {
                    tracing::debug!(%id, "no resumable SSE stream to close");
                }
            }
            Wake::FrontEnded => {
                inbound_open = false;
                // The readers of every exchange were held by the front end's tasks: all gone.
                routes.retain(|_, reply| !reply.is_closed());
                if stopping_since.is_none() {
                    stopping_since = Some(now);
                    stop_timer.set(now.checked_add(options.stop_grace));
                }
            }
            Wake::App(Produced::ListChanged(list)) => {
                http.notify_list_changed(list);
                if let Some(sse) = &mut sse {
                    sse.notify_list_changed(list);
                }
            }
            // Only modern subscriptions follow tasks: HTTP+SSE sessions are legacy.
            Wake::App(Produced::TaskChanged(task)) => {
                http.notify_task(&task);
            }
            Wake::App(produced) => {
                let endpoint = produced
                    .key()
                    .and_then(|key| endpoint_of(&mut http, &mut sse, key));
                app.apply(now, produced, endpoint);
            }
            Wake::Timer => {
                http.handle_timeout(now);
                if let Some(sse) = &mut sse {
                    sse.handle_timeout(now);
                }
            }
            Wake::Stop => {
                stopping_since = Some(now);
                if let Some(accept) = &mut accepting {
                    accept.stop();
                }
                stop_timer.set(now.checked_add(options.stop_grace));
            }
        }
    }
}

/// The exchange id of a refusal the owner answers itself (the engines never number one so).
const REFUSED_STREAM: StreamId = StreamId(u64::MAX);

/// The legacy session a request names: `Mcp-Session-Id` (Streamable HTTP) or the `sessionId`
/// query parameter (HTTP+SSE messages).
fn session_named(machine: Machine, parts: &Parts) -> Option<String> {
    match machine {
        Machine::Streamable => parts
            .headers
            .get(SESSION_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        Machine::LegacySse => parts.uri.query().and_then(|query| {
            query.split('&').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                (name == SESSION_QUERY_PARAM).then(|| value.to_owned())
            })
        }),
    }
}

/// The principal for `event` of `machine`'s engine: the current request's, when the event is
/// a request that arrived on its exchange.
fn principal_of(
    current: Option<&(Machine, StreamId, Arc<Principal>)>,
    machine: Machine,
    event: &ServerEvent,
) -> Option<Arc<Principal>> {
    let (from, stream, principal) = current?;
    let ServerEvent::Request { context, .. } = event else {
        return None;
    };
    // Streamable HTTP scopes a request by its exchange; HTTP+SSE answers on the session's
    // stream, and only the request just handled can have started a request event.
    let same = *from == machine
        && (machine == Machine::LegacySse || context.scope == TransportScope(stream.0));
    same.then(|| Arc::clone(principal))
}

fn endpoint_of<'a>(
    http: &'a mut HttpServer,
    sse: &'a mut Option<SseServer>,
    key: &Key,
) -> Option<&'a mut mcp_proto::engine::ServerEndpoint> {
    match key {
        Key::Streamable(origin) => http.endpoint(origin),
        Key::LegacySse(session) => sse.as_mut()?.endpoint(session),
    }
}

/// Hands `output` to the connection task carrying its exchange. An exchange whose queue is
/// full (a client not reading) or whose task is gone is closed.
fn deliver(
    routes: &mut HashMap<(Machine, StreamId), ExchangeSender>,
    machine: Machine,
    output: HttpOutput,
    mut close: impl FnMut(StreamId),
) {
    let (stream, finishes) = match &output {
        HttpOutput::Respond { stream, .. } | HttpOutput::EndEvents { stream } => (*stream, true),
        HttpOutput::StartEvents { stream, .. } | HttpOutput::Events { stream, .. } => {
            (*stream, false)
        }
    };
    let Some(route) = routes.get(&(machine, stream)) else {
        return;
    };
    if route.try_send(output).is_err() {
        routes.remove(&(machine, stream));
        close(stream);
        return;
    }
    if finishes {
        routes.remove(&(machine, stream));
    }
}

/// What every connection task gets.
#[derive(Clone)]
struct ConnectionContext {
    inbound: crate::channel::Sender<Inbound>,
    options: Arc<HttpServeOptions>,
    gate: Option<Gate>,
    /// Closed when serving ends: ends connection tasks idling between requests.
    served: crate::channel::Receiver<()>,
}

/// The counts the accept task keeps for the report.
#[derive(Debug, Default)]
struct AcceptCounts {
    /// Connections open now (each task lowers it as it ends).
    open: AtomicUsize,
    connections: AtomicU64,
    refused: AtomicU64,
}

/// Lowers the open count when its connection task ends.
struct OpenConnection(Arc<AcceptCounts>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The owner's side of the accept task.
struct Accepting {
    /// Dropped to stop accepting.
    stop: Option<crate::channel::Sender<()>>,
    /// The error that ended accepting; closed when the task ends.
    ended: std::pin::Pin<Box<crate::channel::Receiver<String>>>,
    /// The task has ended and the owner knows it.
    done: bool,
    counts: Arc<AcceptCounts>,
}

impl Accepting {
    fn spawn<R: Runtime, L: Listener>(
        runtime: &R,
        listener: L,
        context: ConnectionContext,
    ) -> Self {
        let (stop, stopped) = crate::channel::bounded(1);
        let (failed, ended) = crate::channel::bounded(1);
        let counts = Arc::new(AcceptCounts::default());
        let task = accept_connections(
            runtime.clone(),
            listener,
            context,
            Arc::clone(&counts),
            stopped,
            failed,
        );
        runtime.spawn(Box::pin(task));
        Self {
            stop: Some(stop),
            ended: Box::pin(ended),
            done: false,
            counts,
        }
    }

    /// Ready once when the task ends, with the error that ended it.
    fn poll_ended(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Option<String>> {
        if self.done {
            return Poll::Pending;
        }
        self.ended.as_mut().poll_next(cx)
    }

    /// Stops accepting (at once: the task is woken).
    fn stop(&mut self) {
        self.stop = None;
    }

    fn count(&self, report: &mut HttpServeReport) {
        report.connections = self.counts.connections.load(Ordering::Acquire);
        report.refused_connections = self.counts.refused.load(Ordering::Acquire);
    }
}

/// The accept task: accepts until `stopped` closes or the listener breaks, spawning a task
/// for each connection within `max_connections` and closing the others at once.
async fn accept_connections<R: Runtime, L: Listener>(
    runtime: R,
    listener: L,
    context: ConnectionContext,
    counts: Arc<AcceptCounts>,
    stopped: crate::channel::Receiver<()>,
    failed: crate::channel::Sender<String>,
) {
    let max_connections = context.options.max_connections;
    loop {
        let Some(accepted) = unless_stopped(&stopped, listener.accept()).await else {
            return;
        };
        match accepted {
            Ok((connection, peer)) => {
                if counts.open.load(Ordering::Acquire) >= max_connections {
                    // Over the limit: closed at once (dropped).
                    counts.refused.fetch_add(1, Ordering::AcqRel);
                    continue;
                }
                counts.open.fetch_add(1, Ordering::AcqRel);
                counts.connections.fetch_add(1, Ordering::AcqRel);
                let open = OpenConnection(Arc::clone(&counts));
                let task = serve_connection(connection, peer, context.clone(), open);
                runtime.spawn(Box::pin(task));
            }
            Err(error) => match classify_accept_error(&error) {
                AcceptFailure::Connection => {
                    tracing::debug!(%error, "accept failed; continuing");
                }
                AcceptFailure::Exhausted => {
                    tracing::warn!(%error, "accept failed; pausing");
                    let Some(until) = Instant::now().checked_add(ACCEPT_PAUSE) else {
                        continue;
                    };
                    let pause = runtime.sleep_until(until);
                    if unless_stopped(&stopped, pause).await.is_none() {
                        return;
                    }
                }
                AcceptFailure::Fatal => {
                    tracing::error!(%error, "accept failed; no longer accepting");
                    let _ = failed.try_send(error.to_string());
                    return;
                }
            },
        }
    }
}

/// `work`'s output, or `None` as soon as the owner stops accepting (`stopped` closes: nothing
/// is ever sent on it). A stop wins over finished work.
async fn unless_stopped<T>(
    stopped: &crate::channel::Receiver<()>,
    work: impl Future<Output = T>,
) -> Option<T> {
    let stopping = async {
        let _ = stopped.recv().await;
        None
    };
    stopping.or(async { Some(work.await) }).await
}

/// What to do after a failed accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AcceptFailure {
    /// One connection went wrong: accept the next at once.
    Connection,
    /// The process is out of descriptors or memory: accepting again at once would only spin,
    /// so wait for connections to end.
    Exhausted,
    /// The listener itself is broken.
    Fatal,
}

/// How long accepting pauses when the process is out of descriptors or memory.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

fn classify_accept_error(error: &io::Error) -> AcceptFailure {
    // EMFILE, ENFILE, ENOBUFS, ENOMEM.
    if error
        .raw_os_error()
        .is_some_and(|code| matches!(code, 24 | 23 | 105 | 12))
    {
        return AcceptFailure::Exhausted;
    }
    match error.kind() {
        io::ErrorKind::ConnectionAborted
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::Interrupted
        | io::ErrorKind::WouldBlock => AcceptFailure::Connection,
        _ => AcceptFailure::Fatal,
    }
}

/// One connection: requests parsed in order, each answered before the next is read.
async fn serve_connection<C>(
    mut connection: C,
    peer: SocketAddr,
    context: ConnectionContext,
    _open: OpenConnection,
) where
    C: AsyncRead + AsyncWrite + Unpin + Send,
{
    let ConnectionContext {
        inbound,
        options,
        gate,
        served,
    } = context;
    let stopped = async {
        // Nothing is ever sent: the channel closes when serving ends.
        let _ = served.recv().await;
        Ok(())
    };
    let result = exchanges(&mut connection, &inbound, &options, gate.as_ref())
        .or(stopped)
        .await;
    if let Err(error) = result {
        tracing::debug!(%peer, %error, "connection ended");
    }
    let _ = connection.close().await;
}

async fn exchanges<C>(
    connection: &mut C,
    inbound: &crate::channel::Sender<Inbound>,
    options: &HttpServeOptions,
    gate: Option<&Gate>,
) -> io::Result<()>
where
    C: AsyncRead + AsyncWrite + Unpin + Send,
{
    let limits = &options.limits;
    let mut buffer = ReadBuffer::default();
    loop {
        // Between requests: an idle connection keeps only a small buffer.
        buffer.settle();
        // The head.
        let (request, consumed) = loop {
            match h1::parse_request_head(buffer.unread(), limits) {
                Ok(Some(parsed)) => break parsed,
                Ok(None) => {
                    if buffer.read_from(connection, READ_CHUNK).await? == 0 {
                        return Ok(());
                    }
                }
                Err(error) => return refuse(connection, &error).await,
            }
        };
        buffer.consume(consumed);
        let framing = match h1::request_body_framing(&request)
            .and_then(|f| limits.check_declared_body(f).map(|()| f))
        {
            Ok(framing) => framing,
            Err(error) => return refuse(connection, &error).await,
        };
        if h1::expects_continue(&request) {
            connection.write_all(CONTINUE_RESPONSE).await?;
            connection.flush().await?;
        }
        // The body.
        let mut body = match framing {
            // The declared length passed the limit: room for it (at most a read's worth).
            BodyFraming::Length(length) => Vec::with_capacity(
                usize::try_from(length).map_or(READ_CHUNK, |length| length.min(READ_CHUNK)),
            ),
            _ => Vec::new(),
        };
        let mut decoder = BodyDecoder::new(framing, limits);
        loop {
            let status = match decoder.decode(buffer.unread()) {
                Ok(status) => status,
                Err(error) => return refuse(connection, &error).await,
            };
            let consumed = status.consumed();
            let done = match status {
                BodyStatus::Data { data, .. } => {
                    body.extend_from_slice(data);
                    false
                }
                BodyStatus::End { .. } => true,
                BodyStatus::NeedMore { .. } => {
                    buffer.consume(consumed);
                    if buffer.read_from(connection, READ_CHUNK).await? == 0 {
                        return Ok(());
                    }
                    continue;
                }
            };
            buffer.consume(consumed);
            if done {
                break;
            }
        }
        let keep_alive = h1::keep_alive(request.version(), request.headers());
        let (parts, ()) = request.into_parts();
        if let Some(response) = gate.and_then(|gate| gate.metadata_response(&parts)) {
            write_response(connection, response).await?;
            if keep_alive {
                continue;
            }
            return Ok(());
        }
        let machine = match route(&parts, options, EndpointPath::Exact(&options.path)) {
            Ok(machine) => machine,
            Err(status) => {
                let allow = (status == StatusCode::METHOD_NOT_ALLOWED)
                    .then(|| allowed_methods(parts.uri.path(), options));
                write_status(connection, status, allow).await?;
                if keep_alive {
                    continue;
                }
                return Ok(());
            }
        };
        let principal = match gate {
            Some(gate) => {
                let checked = match gate.authenticate(&parts.headers).await {
                    Ok(principal) => gate
                        .authorize(&principal, &parts.method, &body)
                        .map(|()| principal),
                    Err(refusal) => Err(refusal),
                };
                match checked {
                    Ok(principal) => Some(principal),
                    Err(refusal) => {
                        write_response(connection, *refusal).await?;
                        if keep_alive {
                            continue;
                        }
                        return Ok(());
                    }
                }
            }
            None => None,
        };
        let Some(mut outputs) = submit(inbound, machine, parts, body, principal).await else {
            // The server is stopping.
            return write_status(connection, StatusCode::SERVICE_UNAVAILABLE, None).await;
        };
        if !answer(connection, &mut outputs, inbound, &mut buffer).await? {
            return Ok(());
        }
        if !keep_alive {
            return Ok(());
        }
    }
}

/// The paths a front end serves the Streamable HTTP endpoint on.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EndpointPath<'a> {
    /// This one only (a listener of our own).
    Exact(&'a str),
    /// Every path but the HTTP+SSE ones (a router in front already chose the route).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    AnyOther,
}

/// The machine serving a request, or the status refusing it: 405 for a served path and
/// another method, 404 for any other path.
pub(crate) fn route(
    parts: &Parts,
    options: &HttpServeOptions,
    endpoint: EndpointPath<'_>,
) -> Result<Machine, StatusCode> {
    let path = parts.uri.path();
    let legacy = options.legacy_sse.as_ref();
    let legacy_path = legacy.is_some_and(|p| path == p.sse || path == p.messages);
    let endpoint_path = match endpoint {
        EndpointPath::Exact(endpoint) => path == endpoint,
        EndpointPath::AnyOther => !legacy_path,
    };
    if endpoint_path && matches!(parts.method, Method::GET | Method::POST | Method::DELETE) {
        return Ok(Machine::Streamable);
    }
    let legacy_serves = legacy.is_some_and(|p| {
        (path == p.sse && parts.method == Method::GET)
            || (path == p.messages && parts.method == Method::POST)
    });
    if legacy_serves {
        Ok(Machine::LegacySse)
    } else if endpoint_path || legacy_path {
        Err(StatusCode::METHOD_NOT_ALLOWED)
    } else {
        Err(StatusCode::NOT_FOUND)
    }
}

/// The `Allow` value of a 405 from [`route`]: the methods the path serves.
pub(crate) fn allowed_methods(path: &str, options: &HttpServeOptions) -> &'static str {
    match options.legacy_sse.as_ref() {
        Some(legacy) if path == legacy.sse => "GET",
        Some(legacy) if path == legacy.messages => "POST",
        _ => "GET, POST, DELETE",
    }
}

enum Next {
    Output(Option<HttpOutput>),
    Read(io::Result<usize>),
}

/// Writes what the owner routes to this exchange until it ends. Returns whether the
/// connection can carry another exchange.
async fn answer<C>(
    connection: &mut C,
    outputs: &mut ExchangeReceiver,
    inbound: &crate::channel::Sender<Inbound>,
    buffer: &mut ReadBuffer,
) -> io::Result<bool>
where
    C: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut head = Vec::new();
    loop {
        // While waiting, a read notices the client going away (and keeps pipelined bytes).
        let next = async { Next::Output(outputs.recv().await) }
            .or(async {
                if buffer.len() > READ_CHUNK * 4 {
                    // Enough pipelined input is waiting; stop reading until this exchange ends.
                    std::future::pending::<()>().await;
                }
                Next::Read(buffer.read_from(connection, READ_CHUNK).await)
            })
            .await;
        let output = match next {
            Next::Output(Some(output)) => output,
            // The owner closed the exchange (stuck client, or stopping): the connection ends.
            Next::Output(None) => return Ok(false),
            Next::Read(Ok(n)) if n > 0 => continue,
            Next::Read(ended) => {
                if let Some((machine, stream)) = outputs.opened() {
                    let _ = inbound.send(Inbound::Closed(machine, stream)).await;
                }
                return ended.map(|_| false);
            }
        };
        head.clear();
        match output {
            HttpOutput::Respond { response, .. } => {
                let (parts, body) = response.into_parts();
                let response = http::Response::from_parts(parts, ());
                let length = u64::try_from(body.len()).unwrap_or(u64::MAX);
                encode(&response, BodyFraming::Length(length), &mut head)?;
                head.extend_from_slice(&body);
                connection.write_all(&head).await?;
                connection.flush().await?;
                return Ok(true);
            }
            HttpOutput::StartEvents { head: response, .. } => {
                encode(&response, BodyFraming::Chunked, &mut head)?;
                connection.write_all(&head).await?;
                connection.flush().await?;
            }
            HttpOutput::Events { bytes, .. } => {
                h1::encode_chunk(&bytes, &mut head);
                connection.write_all(&head).await?;
                connection.flush().await?;
            }
            HttpOutput::EndEvents { .. } => {
                h1::encode_last_chunk(&mut head);
                connection.write_all(&head).await?;
                connection.flush().await?;
                return Ok(true);
            }
        }
    }
}

fn encode(
    response: &http::Response<()>,
    framing: BodyFraming,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    h1::encode_response_head(response, framing, out)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
}

/// Writes a whole response the front end answers itself.
async fn write_response<C: AsyncWrite + Unpin>(
    connection: &mut C,
    response: http::Response<Vec<u8>>,
) -> io::Result<()> {
    let (parts, body) = response.into_parts();
    let response = http::Response::from_parts(parts, ());
    let length = u64::try_from(body.len()).unwrap_or(u64::MAX);
    let mut out = Vec::new();
    encode(&response, BodyFraming::Length(length), &mut out)?;
    out.extend_from_slice(&body);
    connection.write_all(&out).await?;
    connection.flush().await
}

async fn write_status<C: AsyncWrite + Unpin>(
    connection: &mut C,
    status: StatusCode,
    allow: Option<&'static str>,
) -> io::Result<()> {
    let mut response = http::Response::new(());
    *response.status_mut() = status;
    if let Some(allow) = allow {
        response
            .headers_mut()
            .insert(http::header::ALLOW, http::HeaderValue::from_static(allow));
    }
    let mut out = Vec::new();
    encode(&response, BodyFraming::Length(0), &mut out)?;
    connection.write_all(&out).await?;
    connection.flush().await
}

/// Answers a request the codec refused with its status, then ends the connection.
async fn refuse<C: AsyncWrite + Unpin>(connection: &mut C, error: &H1Error) -> io::Result<()> {
    tracing::debug!(%error, "refusing a malformed request");
    let mut response = http::Response::new(());
    *response.status_mut() = error.status();
    response.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    let mut out = Vec::new();
    encode(&response, BodyFraming::Length(0), &mut out)?;
    connection.write_all(&out).await?;
    connection.flush().await
}

/// A running HTTP server: its address, and the way to stop it.
#[derive(Debug)]
pub struct HttpServerHandle {
    local_addr: SocketAddr,
    owner: OwnerTask,
}

impl HttpServerHandle {
    /// The address it listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The MCP endpoint's URL (`http://ADDR/mcp` with the default path).
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.local_addr)
    }

    /// Stops accepting, lets open exchanges finish within the stop grace, closes the rest,
    /// and reports. (Dropping the handle stops the server the same way, without the report.)
    pub async fn shutdown(self) -> HttpServeReport {
        self.owner.shutdown().await
    }
}

/// Spawns [`serve_http`] on `runtime` and returns its handle.
pub fn spawn_http_server<R: Runtime, L: Listener>(
    runtime: &R,
    server: Server,
    listener: L,
    local_addr: SocketAddr,
    options: HttpServeOptions,
    entropy: fn(&mut [u8]),
) -> HttpServerHandle {
    let front = Front::listening(listener);
    let owner = spawn_owner(runtime, server, front, options, entropy, OnHandleDrop::Stop);
    HttpServerHandle { local_addr, owner }
}

/// What the owner does when its handle is dropped without a shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnHandleDrop {
    /// Stops as a shutdown would.
    Stop,
    /// Serves on until its front end ends (every sender of requests dropped).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    Detach,
}

/// A spawned owner task, seen from its handle.
#[derive(Debug)]
pub(crate) struct OwnerTask {
    stop: crate::channel::Sender<()>,
    done: crate::channel::Receiver<HttpServeReport>,
}

impl OwnerTask {
    /// Stops the owner gracefully and waits for its report.
    pub(crate) async fn shutdown(self) -> HttpServeReport {
        let _ = self.stop.try_send(());
        self.done.recv().await.unwrap_or_default()
    }
}

/// Spawns the owner task for `front` on `runtime`.
pub(crate) fn spawn_owner<R: Runtime, L: Listener>(
    runtime: &R,
    server: Server,
    front: Front<L>,
    options: HttpServeOptions,
    entropy: fn(&mut [u8]),
    on_handle_drop: OnHandleDrop,
) -> OwnerTask {
    let (stop, stopped) = crate::channel::bounded::<()>(1);
    let (finished, done) = crate::channel::bounded(1);
    let task_runtime = runtime.clone();
    runtime.spawn(Box::pin(async move {
        let stop = async move {
            // A message from `shutdown`; closed without one when the handle was dropped.
            if stopped.recv().await.is_err() && on_handle_drop == OnHandleDrop::Detach {
                std::future::pending::<()>().await;
            }
        };
        let report = run_owner(task_runtime, server, front, options, entropy, stop).await;
        let _ = finished.try_send(report);
    }));
    OwnerTask { stop, done }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_exhaustion_pauses_accepting_instead_of_spinning() {
        let exhausted = io::Error::from_raw_os_error(24);
        assert_eq!(classify_accept_error(&exhausted), AcceptFailure::Exhausted);
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(classify_accept_error(&reset), AcceptFailure::Connection);
        let broken = io::Error::from(io::ErrorKind::InvalidInput);
        assert_eq!(classify_accept_error(&broken), AcceptFailure::Fatal);
    }

    fn parts(method: Method, path: &str) -> Parts {
        let request = http::Request::builder().method(method).uri(path).body(());
        request.unwrap().into_parts().0
    }

    #[test]
    fn a_listener_serves_its_paths_and_a_router_mount_any_path_but_the_legacy_ones() {
        let mut options = HttpServeOptions::default();
        let exact = EndpointPath::Exact("/mcp");
        let any = EndpointPath::AnyOther;
        for (method, path, endpoint, routed) in [
            (Method::POST, "/mcp", exact, Ok(Machine::Streamable)),
            (
                Method::PUT,
                "/mcp",
                exact,
                Err(StatusCode::METHOD_NOT_ALLOWED),
            ),
            (Method::GET, "/sse", exact, Err(StatusCode::NOT_FOUND)),
            (
                Method::DELETE,
                "/mounted/here",
                any,
                Ok(Machine::Streamable),
            ),
            (
                Method::PATCH,
                "/mounted/here",
                any,
                Err(StatusCode::METHOD_NOT_ALLOWED),
            ),
            (Method::GET, "/sse", any, Ok(Machine::Streamable)),
        ] {
            assert_eq!(
                route(&parts(method, path), &options, endpoint),
                routed,
                "{path}"
            );
        }
        options.legacy_sse = Some(LegacySsePaths::default());
        for endpoint in [exact, any] {
            for (method, path, routed) in [
                (Method::GET, "/sse", Ok(Machine::LegacySse)),
                (
                    Method::POST,
                    "/messages?sessionId=1",
                    Ok(Machine::LegacySse),
                ),
                (Method::POST, "/sse", Err(StatusCode::METHOD_NOT_ALLOWED)),
                (
                    Method::GET,
                    "/messages",
                    Err(StatusCode::METHOD_NOT_ALLOWED),
                ),
            ] {
                assert_eq!(
                    route(&parts(method, path), &options, endpoint),
                    routed,
                    "{path}"
                );
            }
        }
    }
}
