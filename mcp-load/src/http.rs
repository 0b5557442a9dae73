//! Streamable HTTP sessions over blocking keep-alive HTTP/1.1 connections, with mcp-proto's
//! codec, and the closed-loop load run over N of them.
//!
//! A [`Session`] is one MCP client: in the legacy era it performs `initialize` and
//! `notifications/initialized` and then sends `Mcp-Session-Id` and `MCP-Protocol-Version` on
//! every call; in the modern era it has no handshake and sends `MCP-Protocol-Version`,
//! `Mcp-Method` and `Mcp-Name` with `_meta` in each body. Answers may be `application/json` or
//! `text/event-stream` (notifications before the answer are skipped).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
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

use crate::driver;
use crate::error::{CallError, ErrorTally, LoadError};
use crate::run::{Phase, PhaseState, RunLabel, SessionStats, Window};
use crate::wire::{self, CallBuilder, ECHO_TOOL, Era, Incoming, MODERN_VERSION};

/// The read buffer's first size; it grows only as far as [`MAX_READ_BUFFER`].
const INITIAL_READ_BUFFER: usize = 4 * 1024;
/// The largest read buffer: a head of `Limits::max_head_bytes` plus a chunk line and room to
/// read. Bodies are decoded as they arrive and never need to fit.
const MAX_READ_BUFFER: usize = 32 * 1024;
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

/// What a response was; its body stays in the [`ResponseReader`].
#[derive(Debug)]
pub(crate) struct ResponseInfo {
    status: StatusCode,
    kind: BodyKind,
    content_type: String,
    session_id: Option<HeaderValue>,
    /// Whether the connection may carry another request.
    reusable: bool,
}

impl ResponseInfo {
    /// Whether the connection may carry another request after this response.
    pub(crate) fn is_reusable(&self) -> bool {
        self.reusable
    }
}

/// A read buffer with a window of unconsumed bytes, bounded by [`MAX_READ_BUFFER`].
#[derive(Debug)]
pub(crate) struct ReadBuffer {
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
    fn fill(&mut self, stream: &mut impl Read) -> std::io::Result<usize> {
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

/// Where the reader is in the current response.
#[derive(Debug)]
enum ReadStage {
    Head,
    Body {
        decoder: BodyDecoder,
        info: ResponseInfo,
    },
}

/// Reads one response at a time out of a [`ReadBuffer`], resumable: it takes whatever bytes
/// have arrived and says when the response is complete. JSON bodies are collected; SSE
/// bodies are decoded into their events' data as they arrive.
#[derive(Debug)]
pub(crate) struct ResponseReader {
    limits: Limits,
    stage: ReadStage,
    /// The last JSON (or other non-SSE) body.
    body: Vec<u8>,
    /// The last SSE body's event data, one entry per event with data.
    events: Vec<String>,
    sse_buffer: Vec<u8>,
    sse: SseDecoder,
    sse_error: Option<mcp_proto::framing::SseDecodeError>,
}

impl ResponseReader {
    fn new() -> Self {
        Self {
            limits: Limits::default(),
            stage: ReadStage::Head,
            body: Vec::new(),
            events: Vec::new(),
            sse_buffer: Vec::new(),
            sse: SseDecoder::new(),
            sse_error: None,
        }
    }

    /// Consumes what `input` holds of the current response: `Some` once it is complete,
    /// `None` when more bytes are needed.
    fn advance(&mut self, input: &mut ReadBuffer) -> Result<Option<ResponseInfo>, CallError> {
        loop {
            match &mut self.stage {
                ReadStage::Head => match parse_response_head(input.data(), &self.limits) {
                    Ok(Some((response, consumed))) => {
                        input.consume(consumed);
                        if response.status().is_informational() {
                            continue;
                        }
                        let framing = response_body_framing(&Method::POST, &response)
                            .map_err(CallError::Http)?;
                        let headers = response.headers();
                        let info = ResponseInfo {
                            status: response.status(),
                            kind: body_kind(headers),
                            content_type: headers
                                .get(CONTENT_TYPE)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned(),
                            session_id: headers.get(SESSION_ID_HEADER).cloned(),
                            reusable: framing != BodyFraming::UntilClose
                                && keep_alive(response.version(), headers),
                        };
                        self.body.clear();
                        self.events.clear();
                        self.sse_buffer.clear();
                        self.sse = SseDecoder::new();
                        self.sse_error = None;
                        self.stage = ReadStage::Body {
                            decoder: BodyDecoder::new(framing, &self.limits),
                            info,
                        };
                    }
                    Ok(None) => return Ok(None),
                    Err(error) => return Err(CallError::Http(error)),
                },
                ReadStage::Body { decoder, info } => {
                    let status = decoder.decode(input.data()).map_err(CallError::Http)?;
                    let consumed = status.consumed();
                    match status {
                        BodyStatus::Data { data, .. } => {
                            if info.kind == BodyKind::EventStream {
                                self.sse_buffer.extend_from_slice(data);
                                if let Err(error) = drain_events(
                                    &mut self.sse,
                                    &mut self.sse_buffer,
                                    &mut self.events,
                                ) {
                                    self.sse_error.get_or_insert(error);
                                }
                            } else {
                                self.body.extend_from_slice(data);
                            }
                            input.consume(consumed);
                        }
                        BodyStatus::NeedMore { .. } => {
                            input.consume(consumed);
                            return Ok(None);
                        }
                        BodyStatus::End { .. } => {
                            input.consume(consumed);
                            return self.complete().map(Some);
                        }
                    }
                }
            }
        }
    }

    /// The stream ended: that completes a body delimited by the close; anything else was cut.
    fn end_of_stream(&mut self) -> Result<ResponseInfo, CallError> {
        match &mut self.stage {
            ReadStage::Body { decoder, info } => {
                decoder.finish().map_err(|_| CallError::Closed)?;
                info.reusable = false;
                self.complete()
            }
            ReadStage::Head => Err(CallError::Closed),
        }
    }

    fn complete(&mut self) -> Result<ResponseInfo, CallError> {
        let ReadStage::Body { info, .. } = std::mem::replace(&mut self.stage, ReadStage::Head)
        else {
            return Err(CallError::Closed);
        };
        if info.kind == BodyKind::EventStream
            && let Err(error) = self.sse.finish(&self.sse_buffer)
        {
            self.sse_error.get_or_insert(error);
        }
        match self.sse_error.take() {
            Some(error) => Err(CallError::Sse(error)),
            None => Ok(info),
        }
    }

    /// The answer in the response just read: the JSON body, or the first answer among its
    /// SSE events (notifications before it are skipped).
    pub(crate) fn answer(&self, info: &ResponseInfo) -> Result<&[u8], CallError> {
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

/// What one non-blocking read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadOutcome {
    /// Bytes arrived.
    Data,
    /// Nothing now.
    WouldBlock,
    /// The peer closed the connection.
    Eof,
}

/// One keep-alive HTTP/1.1 connection, sending POSTs and reading their responses: blocking
/// over a std [`TcpStream`], or non-blocking over mio's (driven by an event loop).
#[derive(Debug)]
pub struct Connection<S = TcpStream> {
    pub(crate) stream: S,
    input: ReadBuffer,
    pub(crate) reader: ResponseReader,
    out: Vec<u8>,
    written: usize,
    timeout: Duration,
    /// Whether the server lets the connection carry another request.
    reusable: bool,
}

impl<S: Read + Write> Connection<S> {
    /// Puts a POST in the output buffer: `head` (request line and fields, without the
    /// framing field and the empty line) then `body`.
    pub(crate) fn queue_post(&mut self, head: &[u8], body: &[u8]) {
        self.out.clear();
        self.written = 0;
        self.out.extend_from_slice(head);
        self.out.extend_from_slice(b"content-length: ");
        // Writing into a Vec cannot fail.
        let _ = write!(self.out, "{}", body.len());
        self.out.extend_from_slice(b"\r\n\r\n");
        self.out.extend_from_slice(body);
    }

    /// Writes what it can of the queued output: `true` once all of it is written.
    pub(crate) fn write_some(&mut self) -> Result<bool, CallError> {
        while self.written < self.out.len() {
            let pending = self.out.get(self.written..).unwrap_or_default();
            match self.stream.write(pending) {
                Ok(0) => return Err(CallError::Closed),
                Ok(n) => self.written += n,
                Err(error) if error.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(CallError::io(&error)),
            }
        }
        Ok(true)
    }

    /// Reads what has arrived (once) without blocking.
    pub(crate) fn read_some(&mut self) -> Result<ReadOutcome, CallError> {
        match self.input.fill(&mut self.stream) {
            Ok(0) => Ok(ReadOutcome::Eof),
            Ok(_) => Ok(ReadOutcome::Data),
            Err(error) if error.kind() == ErrorKind::WouldBlock => Ok(ReadOutcome::WouldBlock),
            Err(error) if error.kind() == ErrorKind::Interrupted => Ok(ReadOutcome::Data),
            Err(error) => Err(CallError::io(&error)),
        }
    }

    /// Advances the response reader over what has been read.
    pub(crate) fn advance(&mut self) -> Result<Option<ResponseInfo>, CallError> {
        let result = self.reader.advance(&mut self.input);
        match &result {
            Ok(Some(info)) => self.reusable &= info.reusable,
            Ok(None) => {}
            Err(_) => self.reusable = false,
        }
        result
    }

    /// The peer closed the connection.
    pub(crate) fn end_of_stream(&mut self) -> Result<ResponseInfo, CallError> {
        self.reusable = false;
        self.reader.end_of_stream()
    }

    /// Whether the connection can carry another request.
    pub(crate) fn is_reusable(&self) -> bool {
        self.reusable
    }
}

impl Connection<TcpStream> {
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
            reader: ResponseReader::new(),
            out: Vec::new(),
            written: 0,
            timeout,
            reusable: true,
        })
    }

    /// The same connection, non-blocking, for an event loop.
    ///
    /// # Errors
    /// The OS's refusal to make the socket non-blocking.
    pub(crate) fn into_nonblocking(self) -> Result<Connection<mio::net::TcpStream>, CallError> {
        self.stream
            .set_nonblocking(true)
            .map_err(|e| CallError::io(&e))?;
        Ok(Connection {
            stream: mio::net::TcpStream::from_std(self.stream),
            input: self.input,
            reader: self.reader,
            out: self.out,
            written: self.written,
            timeout: self.timeout,
            reusable: self.reusable,
        })
    }

    fn timeout_error(&self, error: &std::io::Error) -> CallError {
        match CallError::io(error) {
            CallError::Timeout(_) => CallError::Timeout(self.timeout.as_millis()),
            other => other,
        }
    }

    /// Sends a POST and reads the whole response, blocking.
    fn post(&mut self, head: &[u8], body: &[u8]) -> Result<ResponseInfo, CallError> {
        self.queue_post(head, body);
        if let Err(error) = self.stream.write_all(&self.out) {
            self.reusable = false;
            return Err(self.timeout_error(&error));
        }
        loop {
            if let Some(info) = self.advance()? {
                return Ok(info);
            }
            match self.input.fill(&mut self.stream) {
                Ok(0) => return self.end_of_stream(),
                Ok(_) => {}
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => {
                    self.reusable = false;
                    return Err(self.timeout_error(&error));
                }
            }
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
        self.connection.take().filter(Connection::is_reusable)
    }

    /// Gives the session a connection to use (dropping the one it had).
    pub fn set_connection(&mut self, connection: Option<Connection>) {
        self.connection = connection;
    }

    /// The session's connection, taken out of it (connecting first if it has none usable),
    /// for an event loop to drive.
    pub(crate) fn connected(&mut self) -> Result<Connection, CallError> {
        self.connection()?;
        self.connection
            .take()
            .ok_or_else(|| CallError::Io("no connection".into()))
    }

    /// The head of the session's POSTs, without the framing field and the empty line.
    pub(crate) fn head(&self) -> &[u8] {
        &self.head
    }

    fn connection(&mut self) -> Result<&mut Connection, CallError> {
        if !self
            .connection
            .as_ref()
            .is_some_and(Connection::is_reusable)
        {
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
        let version = wire::check_initialize(connection.reader.answer(&info)?, INITIALIZE_ID)?;
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
            connection.reader.answer(&info).and_then(check)
        });
        self.head = head;
        result
    }

    /// Whether the session must be opened again after `error` (the legacy server lost it).
    pub(crate) fn lost(&self, error: &CallError) -> bool {
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
    /// Concurrent sessions (one connection each).
    pub sessions: u32,
    /// Threads driving them (each an epoll loop over its share of the sessions).
    pub threads: u32,
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
/// [`LoadError::Io`] when a thread cannot be started, [`LoadError::Proc`] when
/// `server_pid`'s CPU time cannot be read.
pub fn run(
    load: &HttpLoad,
    warmup: Duration,
    duration: Duration,
    server_pid: Option<u32>,
) -> Result<HttpOutcome, LoadError> {
    let first = preflight(load)?;
    let mut opening_errors = ErrorTally::default();
    let mut sessions: Vec<(u32, Option<Session>)> = vec![(0, Some(first))];
    for index in 1..load.sessions {
        match Session::open(&load.target, load.era, load.call_timeout) {
            Ok(session) => sessions.push((index, Some(session))),
            Err(error) => {
                opening_errors.add(&error);
                sessions.push((index, None));
            }
        }
    }
    let threads = usize::try_from(load.threads.clamp(1, load.sessions.max(1))).unwrap_or(1);
    let mut shares: Vec<Vec<(u32, Option<Session>)>> = (0..threads).map(|_| Vec::new()).collect();
    for (position, session) in sessions.into_iter().enumerate() {
        if let Some(share) = shares.get_mut(position % threads) {
            share.push(session);
        }
    }
    let builder = CallBuilder::new(load.era, load.message_bytes);
    let phase = Phase::new();
    let (window, mut stats) = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for (number, share) in shares.into_iter().enumerate() {
            let (builder, phase) = (&builder, &phase);
            let spawned = std::thread::Builder::new()
                .name(format!("driver-{number}"))
                .spawn_scoped(scope, move || driver::drive(load, share, builder, phase));
            match spawned {
                Ok(handle) => handles.push(handle),
                Err(error) => {
                    phase.set(PhaseState::Stop);
                    return (
                        Err(LoadError::io("starting a driver thread", error)),
                        SessionStats::new(),
                    );
                }
            }
        }
        let window = crate::run::measure(&phase, warmup, duration, server_pid);
        phase.set(PhaseState::Stop);
        let mut stats = SessionStats::new();
        for handle in handles {
            match handle.join() {
                Ok(driven) => stats.merge(&driven),
                Err(_) => stats
                    .errors
                    .add(&CallError::Io("a driver thread panicked".into())),
            }
        }
        (window, stats)
    });
    stats.errors.merge(&opening_errors);
    Ok(HttpOutcome {
        stats,
        window: window?,
    })
}

/// The label of an HTTP run's scenario (`-same-ids` when every session numbers its requests
/// from 1).
#[must_use]
pub fn scenario(sessions: u32, era: Era, same_ids: bool) -> String {
    let suffix = if same_ids { "-same-ids" } else { "" };
    format!("http-{sessions}-{}{suffix}", era.as_str())
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
            scenario: scenario(load.sessions, load.era, load.same_ids),
        },
        "http",
        load.era.as_str(),
        load.sessions,
        &outcome.stats,
        &outcome.window,
        load_average,
    )
}
