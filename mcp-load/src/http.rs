//! Streamable HTTP sessions over blocking keep-alive HTTP/1.1 connections, with mcp-proto's
//! codec, and the closed-loop load run over N of them.
//!
//! A [`Session`] is one MCP client: in the legacy era it performs `initialize` and
//! `notifications/initialized` and then sends `Mcp-Session-Id` and `MCP-Protocol-Version` on
//! every call; in the modern era it has no handshake and sends `MCP-Protocol-Version`,
//! `Mcp-Method` and `Mcp-Name` with `_meta` in each body. Answers may be `application/json` or
//! `text/event-stream` (notifications before the answer are skipped).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::header::{ACCEPT, CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request, StatusCode};
use mcp_proto::framing::{SseDecoder, SseItem, SseStatus};
use mcp_proto::h1::{
    BodyDecoder, BodyFraming, BodyStatus, Limits, encode_request_head, keep_alive,
    parse_response_head, response_body_framing,
};
use mcp_proto::streamable::validate::{
    METHOD_HEADER, NAME_HEADER, PROTOCOL_VERSION_HEADER, SESSION_ID_HEADER,
};
use mcp_proto::types::methods::TOOLS_CALL;

use crate::error::{CallError, LoadError};
use crate::run::{Phase, PhaseState, RunLabel, SessionStats, Window};
use crate::wire::{self, CallBuilder, ECHO_TOOL, Era, Incoming, MODERN_VERSION};

/// The read buffer's first size; it grows only as far as [`MAX_READ_BUFFER`].
const INITIAL_READ_BUFFER: usize = 4 * 1024;
/// The largest read buffer: a head of `Limits::max_head_bytes` plus a chunk line and room to
/// read. Bodies are decoded as they arrive and never need to fit.
const MAX_READ_BUFFER: usize = 32 * 1024;
/// The pause before a failed session is opened again.
const RETRY_PAUSE: Duration = Duration::from_millis(50);
/// The id of `initialize`; calls count from 1.
const INITIALIZE_ID: u64 = 0;

/// Where the MCP endpoint is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL given.
    pub url: String,
    /// The address connected to.
    pub addr: SocketAddr,
    /// The `Host` header value.
    pub authority: String,
    /// The request target (path and query).
    pub path: String,
}

impl Target {
    /// Parses an `http://host:port/path` URL and resolves its host.
    ///
    /// # Errors
    /// [`LoadError::Url`] for another scheme, no host, or a host that does not resolve.
    pub fn parse(url: &str) -> Result<Self, LoadError> {
        let bad = |reason: &str| LoadError::Url {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: http::Uri = url.parse().map_err(|_| bad("not a URI"))?;
        if uri.scheme_str() != Some("http") {
            return Err(bad("only http:// is measured"));
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let port = authority.port_u16().unwrap_or(80);
        let addr = (authority.host().trim_matches(['[', ']']), port)
            .to_socket_addrs()
            .map_err(|e| bad(&e.to_string()))?
            .next()
            .ok_or_else(|| bad("the host has no address"))?;
        let path = uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), ToString::to_string);
        Ok(Self {
            url: url.to_owned(),
            addr,
            authority: authority.as_str().to_owned(),
            path,
        })
    }
}

/// Connects to `target`, retrying refused connections until `wait` has passed (the server
/// may still be starting).
///
/// # Errors
/// [`LoadError::Io`] with the last connection error.
pub fn wait_for_server(target: &Target, wait: Duration) -> Result<(), LoadError> {
    let deadline = Instant::now() + wait;
    loop {
        match TcpStream::connect_timeout(&target.addr, Duration::from_secs(1)) {
            Ok(_) => return Ok(()),
            Err(error) if Instant::now() >= deadline => {
                return Err(LoadError::io(
                    format!("connecting to {}", target.addr),
                    error,
                ));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// How a response body was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Json,
    EventStream,
    Other,
}

fn body_kind(headers: &http::HeaderMap) -> BodyKind {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return BodyKind::Other;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/json") {
        BodyKind::Json
    } else if essence.eq_ignore_ascii_case("text/event-stream") {
        BodyKind::EventStream
    } else {
        BodyKind::Other
    }
}

/// What a response was, its body kept in the [`Connection`].
#[derive(Debug)]
struct ResponseInfo {
    status: StatusCode,
    kind: BodyKind,
    content_type: String,
    session_id: Option<HeaderValue>,
}

/// A read buffer with a window of unconsumed bytes, bounded by [`MAX_READ_BUFFER`].
#[derive(Debug)]
struct ReadBuffer {
    bytes: Vec<u8>,
    start: usize,
    end: usize,
}

impl ReadBuffer {
    fn new() -> Self {
        Self {
            bytes: vec![0; INITIAL_READ_BUFFER],
            start: 0,
            end: 0,
        }
    }

    fn data(&self) -> &[u8] {
        self.bytes.get(self.start..self.end).unwrap_or_default()
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Reads once from `stream`. `Ok(0)` is end of stream.
    fn fill(&mut self, stream: &mut TcpStream) -> std::io::Result<usize> {
        if self.end == self.bytes.len() {
            if self.start > 0 {
                self.bytes.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else if self.bytes.len() < MAX_READ_BUFFER {
                let grown = (self.bytes.len() * 2).min(MAX_READ_BUFFER);
                self.bytes.resize(grown, 0);
            } else {
                return Err(std::io::Error::other("read buffer full"));
            }
        }
        let spare = self.bytes.get_mut(self.end..).unwrap_or_default();
        let n = stream.read(spare)?;
        self.end += n;
        Ok(n)
    }
}

/// One keep-alive HTTP/1.1 connection, sending POSTs and reading their responses.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    input: ReadBuffer,
    out: Vec<u8>,
    limits: Limits,
    timeout: Duration,
    /// The last JSON (or other non-SSE) body.
    body: Vec<u8>,
    /// The last SSE body's event data, one entry per event with data.
    events: Vec<String>,
    sse_buffer: Vec<u8>,
    /// Whether the server lets the connection carry another request.
    reusable: bool,
}

impl Connection {
    /// Connects, with `TCP_NODELAY` and `timeout` on every read and write.
    ///
    /// # Errors
    /// The connection error, as a [`CallError`].
    pub fn connect(addr: SocketAddr, timeout: Duration) -> Result<Self, CallError> {
        let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| CallError::io(&e))?;
        stream.set_nodelay(true).map_err(|e| CallError::io(&e))?;
        stream
            .set_read_timeout(Some(timeout))
            .map_err(|e| CallError::io(&e))?;
        stream
            .set_write_timeout(Some(timeout))
            .map_err(|e| CallError::io(&e))?;
        Ok(Self {
            stream,
            input: ReadBuffer::new(),
            out: Vec::new(),
            limits: Limits::default(),
            timeout,
            body: Vec::new(),
            events: Vec::new(),
            sse_buffer: Vec::new(),
            reusable: true,
        })
    }

    fn timeout_error(&self, error: &std::io::Error) -> CallError {
        match CallError::io(error) {
            CallError::Timeout(_) => CallError::Timeout(self.timeout.as_millis()),
            other => other,
        }
    }

    /// Sends a POST: `head` (request line and fields, without the framing field and the
    /// empty line) then `body`, and reads the whole response.
    fn post(&mut self, head: &[u8], body: &[u8]) -> Result<ResponseInfo, CallError> {
        self.out.clear();
        self.out.extend_from_slice(head);
        self.out.extend_from_slice(b"content-length: ");
        self.out
            .extend_from_slice(body.len().to_string().as_bytes());
        self.out.extend_from_slice(b"\r\n\r\n");
        self.out.extend_from_slice(body);
        if let Err(error) = self.stream.write_all(&self.out) {
            self.reusable = false;
            return Err(self.timeout_error(&error));
        }
        let result = self.read_response();
        if result.is_err() {
            self.reusable = false;
        }
        result
    }

    fn read_more(&mut self) -> Result<usize, CallError> {
        self.input
            .fill(&mut self.stream)
            .map_err(|e| self.timeout_error(&e))
    }

    fn read_response(&mut self) -> Result<ResponseInfo, CallError> {
        let response = loop {
            match parse_response_head(self.input.data(), &self.limits) {
                Ok(Some((response, consumed))) => {
                    self.input.consume(consumed);
                    if response.status().is_informational() {
                        continue;
                    }
                    break response;
                }
                Ok(None) => {
                    if self.read_more()? == 0 {
                        return Err(CallError::Closed);
                    }
                }
                Err(error) => return Err(CallError::Http(error)),
            }
        };
        let framing = response_body_framing(&Method::POST, &response).map_err(CallError::Http)?;
        let kind = body_kind(response.headers());
        self.body.clear();
        self.events.clear();
        self.sse_buffer.clear();
        let mut sse = SseDecoder::new();
        let mut sse_error = None;
        let mut decoder = BodyDecoder::new(framing, &self.limits);
        loop {
            let Self {
                input,
                body,
                events,
                sse_buffer,
                ..
            } = self;
            let status = decoder.decode(input.data()).map_err(CallError::Http)?;
            let consumed = status.consumed();
            match status {
                BodyStatus::Data { data, .. } => {
                    if kind == BodyKind::EventStream {
                        sse_buffer.extend_from_slice(data);
                        if let Err(error) = drain_events(&mut sse, sse_buffer, events) {
                            sse_error.get_or_insert(error);
                        }
                    } else {
                        body.extend_from_slice(data);
                    }
                    input.consume(consumed);
                }
                BodyStatus::End { .. } => {
                    input.consume(consumed);
                    break;
                }
                BodyStatus::NeedMore { .. } => {
                    input.consume(consumed);
                    if self.read_more()? == 0 {
                        decoder.finish().map_err(|_| CallError::Closed)?;
                        self.reusable = false;
                        break;
                    }
                }
            }
        }
        if kind == BodyKind::EventStream
            && let Err(error) = sse.finish(&self.sse_buffer)
        {
            sse_error.get_or_insert(error);
        }
        if let Some(error) = sse_error {
            return Err(CallError::Sse(error));
        }
        self.reusable &= framing != BodyFraming::UntilClose
            && keep_alive(response.version(), response.headers());
        Ok(ResponseInfo {
            status: response.status(),
            kind,
            content_type: response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            session_id: response.headers().get(SESSION_ID_HEADER).cloned(),
        })
    }

    /// The answer to request `id` in the response just read: the JSON body, or the first
    /// answer among its SSE events (notifications before it are skipped).
    fn answer(&self, info: &ResponseInfo) -> Result<&[u8], CallError> {
        if info.status != StatusCode::OK {
            let excerpt = match info.kind {
                BodyKind::EventStream => self.events.first().map(String::as_bytes),
                _ => Some(self.body.as_slice()),
            };
            return Err(CallError::Status {
                status: info.status.as_u16(),
                excerpt: wire::body_excerpt(excerpt.unwrap_or_default()),
            });
        }
        match info.kind {
            BodyKind::Json => Ok(&self.body),
            BodyKind::EventStream => {
                for data in &self.events {
                    match wire::classify(data.as_bytes())? {
                        Incoming::Notification => {}
                        Incoming::Request(method) => return Err(CallError::ServerRequest(method)),
                        Incoming::Answer { .. } => return Ok(data.as_bytes()),
                    }
                }
                Err(CallError::NoAnswer)
            }
            BodyKind::Other => Err(CallError::ContentType(info.content_type.clone())),
        }
    }
}

/// Decodes every complete event in `buffer` (dropping what was consumed), collecting the data
/// of events that have some.
fn drain_events(
    decoder: &mut SseDecoder,
    buffer: &mut Vec<u8>,
    events: &mut Vec<String>,
) -> Result<(), mcp_proto::framing::SseDecodeError> {
    let mut first_error = None;
    loop {
        match decoder.decode(buffer) {
            Ok(SseStatus::Item { item, consumed }) => {
                buffer.drain(..consumed);
                if let SseItem::Event(event) = item
                    && !event.data.is_empty()
                {
                    events.push(event.data);
                }
            }
            Ok(SseStatus::NeedMore { consumed }) => {
                buffer.drain(..consumed);
                break;
            }
            // The decoder skips what it refused on the next call.
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// The head of every POST of a session, up to (not including) the framing field.
fn post_head(
    target: &Target,
    era: Era,
    session_id: Option<&HeaderValue>,
    protocol_version: Option<&str>,
) -> Result<Vec<u8>, CallError> {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(target.path.as_str())
        .header(HOST, target.authority.as_str())
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json, text/event-stream");
    match era {
        Era::Modern => {
            builder = builder
                .header(PROTOCOL_VERSION_HEADER, MODERN_VERSION)
                .header(METHOD_HEADER, TOOLS_CALL)
                .header(NAME_HEADER, ECHO_TOOL);
        }
        Era::Legacy => {
            if let Some(version) = protocol_version {
                builder = builder.header(PROTOCOL_VERSION_HEADER, version);
            }
            if let Some(id) = session_id {
                builder = builder.header(SESSION_ID_HEADER, id.clone());
            }
        }
    }
    let request = builder
        .body(())
        .map_err(|e| CallError::Handshake(format!("cannot build the request head: {e}")))?;
    let mut head = Vec::new();
    encode_request_head(&request, BodyFraming::Empty, &mut head).map_err(CallError::Http)?;
    // Drop the empty line: the caller appends `content-length` and then it.
    head.truncate(head.len().saturating_sub(2));
    Ok(head)
}

/// One MCP client session over one connection (reopened when the server closes it).
#[derive(Debug)]
pub struct Session {
    target: Target,
    era: Era,
    timeout: Duration,
    connection: Option<Connection>,
    head: Vec<u8>,
    session_id: Option<HeaderValue>,
    protocol_version: Option<String>,
    body: Vec<u8>,
}

impl Session {
    /// Connects and, in the legacy era, performs the handshake.
    ///
    /// # Errors
    /// The first failure: connection, status, or a wrong `initialize` answer.
    pub fn open(target: &Target, era: Era, timeout: Duration) -> Result<Self, CallError> {
        Self::open_with(target, era, timeout, None)
    }

    /// As [`Session::open`], over `connection` when it is given and still usable.
    ///
    /// # Errors
    /// As [`Session::open`].
    pub fn open_with(
        target: &Target,
        era: Era,
        timeout: Duration,
        connection: Option<Connection>,
    ) -> Result<Self, CallError> {
        let mut session = Self {
            target: target.clone(),
            era,
            timeout,
            connection,
            head: post_head(target, era, None, None)?,
            session_id: None,
            protocol_version: None,
            body: Vec::new(),
        };
        if era == Era::Legacy {
            session.handshake()?;
        }
        Ok(session)
    }

    /// The legacy session id the server assigned, if any.
    #[must_use]
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_ref().and_then(|v| v.to_str().ok())
    }

    /// Takes the session's connection away (to reuse it for another session); the session
    /// connects again when it is next used.
    pub fn take_connection(&mut self) -> Option<Connection> {
        self.connection.take().filter(|c| c.reusable)
    }

    /// Gives the session a connection to use (dropping the one it had).
    pub fn set_connection(&mut self, connection: Option<Connection>) {
        self.connection = connection;
    }

    fn connection(&mut self) -> Result<&mut Connection, CallError> {
        if self.connection.as_ref().is_none_or(|c| !c.reusable) {
            self.connection = Some(Connection::connect(self.target.addr, self.timeout)?);
        }
        self.connection
            .as_mut()
            .ok_or_else(|| CallError::Io("no connection".into()))
    }

    fn handshake(&mut self) -> Result<(), CallError> {
        let body = wire::initialize_body(INITIALIZE_ID);
        let head = std::mem::take(&mut self.head);
        let connection = self.connection()?;
        let info = connection.post(&head, &body)?;
        let version = wire::check_initialize(connection.answer(&info)?, INITIALIZE_ID)?;
        let session_id = info.session_id;
        let head = post_head(&self.target, self.era, session_id.as_ref(), Some(&version))?;
        let connection = self.connection()?;
        let info = connection.post(&head, &wire::initialized_body())?;
        if !info.status.is_success() {
            return Err(CallError::Handshake(format!(
                "notifications/initialized answered {}",
                info.status
            )));
        }
        self.head = head;
        self.session_id = session_id;
        self.protocol_version = Some(version);
        Ok(())
    }

    /// Calls `echo` with `message` as request `id` and checks the answer.
    ///
    /// # Errors
    /// What went wrong with this call.
    pub fn call_echo(
        &mut self,
        id: u64,
        message: &str,
        builder: &CallBuilder,
    ) -> Result<(), CallError> {
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        builder.write_call(id, message, &mut body);
        let result = self.exchange(&body, |answer| wire::check_echo(answer, id, message));
        self.body = body;
        result
    }

    /// Sends `ping` as request `id` and checks that a result comes back.
    ///
    /// # Errors
    /// What went wrong with this call.
    pub fn ping(&mut self, id: u64) -> Result<(), CallError> {
        let body = wire::ping_body(id);
        self.exchange(&body, |answer| wire::check_result(answer, id))
    }

    fn exchange(
        &mut self,
        body: &[u8],
        check: impl FnOnce(&[u8]) -> Result<(), CallError>,
    ) -> Result<(), CallError> {
        let head = std::mem::take(&mut self.head);
        let result = self.connection().and_then(|connection| {
            let info = connection.post(&head, body)?;
            connection.answer(&info).and_then(check)
        });
        self.head = head;
        result
    }

    /// Whether the session must be opened again after `error` (the legacy server lost it).
    fn lost(&self, error: &CallError) -> bool {
        self.era == Era::Legacy && matches!(error, CallError::Status { status: 404, .. })
    }
}

/// Settings of an HTTP load run.
#[derive(Debug, Clone)]
pub struct HttpLoad {
    /// The endpoint.
    pub target: Target,
    /// The era of the sessions.
    pub era: Era,
    /// Concurrent sessions (one connection and one thread each).
    pub sessions: u32,
    /// Size of each message, at least.
    pub message_bytes: usize,
    /// The longest wait for one answer.
    pub call_timeout: Duration,
    /// Every session numbers its requests 1, 2, 3… as independent clients do, so sessions
    /// use the same ids at the same time. By default ids are unique across sessions (the
    /// session number in the high 32 bits), which a stateless server cannot tell apart from
    /// independent clients either; the option shows whether the server copes with clashes.
    pub same_ids: bool,
}

/// Opens a session and makes one call, to tell a server that cannot be measured (down, or
/// without this era or an `echo` tool) from one that fails under load.
///
/// # Errors
/// [`LoadError::Preflight`] with the failure.
pub fn preflight(load: &HttpLoad) -> Result<Session, LoadError> {
    let builder = CallBuilder::new(load.era, load.message_bytes);
    let mut session =
        Session::open(&load.target, load.era, load.call_timeout).map_err(LoadError::Preflight)?;
    let mut message = String::new();
    builder.message(u32::MAX, 0, &mut message);
    session
        .call_echo(u64::from(u32::MAX), &message, &builder)
        .map_err(LoadError::Preflight)?;
    Ok(session)
}

/// Runs `load.sessions` closed-loop sessions until `phase` says stop, the first one reusing
/// `first` (the preflight's session). Each session adds one to `ready` once it has opened (or
/// failed to), so the caller can start the clock with all of them in place.
///
/// # Errors
/// [`LoadError::Io`] when a thread cannot be started; the sessions already started are
/// stopped and joined first.
pub fn run_sessions(
    load: &HttpLoad,
    first: Session,
    phase: &Phase,
    ready: &Arc<AtomicUsize>,
) -> Result<Vec<std::thread::JoinHandle<SessionStats>>, LoadError> {
    let builder = Arc::new(CallBuilder::new(load.era, load.message_bytes));
    let mut first = Some(first);
    let mut handles = Vec::new();
    for index in 0..load.sessions {
        let load = load.clone();
        let builder = Arc::clone(&builder);
        let worker_phase = phase.clone();
        let ready = Arc::clone(ready);
        let session = if index == 0 { first.take() } else { None };
        let spawned = std::thread::Builder::new()
            .name(format!("session-{index}"))
            .stack_size(256 * 1024)
            .spawn(move || session_loop(index, session, &load, &builder, &worker_phase, &ready));
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(error) => {
                phase.set(PhaseState::Stop);
                for handle in handles {
                    let _ = handle.join();
                }
                return Err(LoadError::io("starting a session thread", error));
            }
        }
    }
    Ok(handles)
}

/// Waits until `count` sessions have reported ready.
pub fn wait_ready(ready: &AtomicUsize, count: usize) {
    while ready.load(Ordering::Acquire) < count {
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn session_loop(
    index: u32,
    mut session: Option<Session>,
    load: &HttpLoad,
    builder: &CallBuilder,
    phase: &Phase,
    ready: &AtomicUsize,
) -> SessionStats {
    let mut stats = SessionStats::new();
    if session.is_none() {
        match Session::open(&load.target, load.era, load.call_timeout) {
            Ok(opened) => session = Some(opened),
            Err(error) => stats.errors.add(&error),
        }
    }
    ready.fetch_add(1, Ordering::AcqRel);
    let mut message = String::new();
    let mut seq = 0u64;
    while phase.get() != PhaseState::Stop {
        let Some(current) = session.as_mut() else {
            std::thread::sleep(RETRY_PAUSE);
            match Session::open(&load.target, load.era, load.call_timeout) {
                Ok(opened) => {
                    stats.reopened += 1;
                    session = Some(opened);
                }
                Err(error) => stats.errors.add(&error),
            }
            continue;
        };
        seq += 1;
        builder.message(index, seq, &mut message);
        let id = if load.same_ids {
            seq
        } else {
            (u64::from(index) << 32) | seq
        };
        let start = Instant::now();
        let result = current.call_echo(id, &message, builder);
        let elapsed = start.elapsed();
        match result {
            Ok(()) => {
                if phase.get() == PhaseState::Measure {
                    stats.calls += 1;
                    stats.hist.record(elapsed);
                }
            }
            Err(error) => {
                stats.errors.add(&error);
                if current.lost(&error) {
                    session = None;
                }
            }
        }
    }
    stats
}

/// What an HTTP run produced.
#[derive(Debug, Clone)]
pub struct HttpOutcome {
    /// Every session's statistics, merged.
    pub stats: SessionStats,
    /// The measured window.
    pub window: Window,
}

/// Runs the load: preflight, open every session, `warmup`, then `duration` measured.
///
/// # Errors
/// [`LoadError::Preflight`] when the server cannot be measured in this era,
/// [`LoadError::Proc`] when `server_pid`'s CPU time cannot be read.
pub fn run(
    load: &HttpLoad,
    warmup: Duration,
    duration: Duration,
    server_pid: Option<u32>,
) -> Result<HttpOutcome, LoadError> {
    let first = preflight(load)?;
    let phase = Phase::new();
    let ready = Arc::new(AtomicUsize::new(0));
    let handles = run_sessions(load, first, &phase, &ready)?;
    wait_ready(&ready, handles.len());
    let window = crate::run::measure(&phase, warmup, duration, server_pid);
    phase.set(PhaseState::Stop);
    let mut stats = SessionStats::new();
    for handle in handles {
        match handle.join() {
            Ok(session) => stats.merge(&session),
            Err(_) => stats
                .errors
                .add(&CallError::Io("a session thread panicked".into())),
        }
    }
    Ok(HttpOutcome {
        stats,
        window: window?,
    })
}

/// The label of an HTTP run's scenario.
#[must_use]
pub fn scenario(sessions: u32, era: Era) -> String {
    format!("http-{sessions}-{}", era.as_str())
}

/// Builds the record of an HTTP run.
#[must_use]
pub fn record(
    server: &str,
    load: &HttpLoad,
    outcome: &HttpOutcome,
    load_average: Option<f64>,
) -> crate::report::LoadRecord {
    crate::run::record(
        &RunLabel {
            server: server.to_owned(),
            scenario: scenario(load.sessions, load.era),
        },
        "http",
        load.era.as_str(),
        load.sessions,
        &outcome.stats,
        &outcome.window,
        load_average,
    )
}
