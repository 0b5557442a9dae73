//! The ceiling responder: the least a server can do per call and still do it for real — parse
//! the HTTP request with mcp-proto's codec (httparse underneath), parse the JSON-RPC body with
//! serde_json to get the id and the message, and write the echo's answer. One thread, one
//! epoll loop (mio), no MCP state beyond a counter for session ids. Also over stdio (lines).
//!
//! What it answers: `initialize` with a fixed result (echoing the requested version) and a
//! fresh `Mcp-Session-Id`; any notification with 202; `tools/call` with the
//! `arguments.message` as text; any other request with an empty result; a body that is not
//! JSON with 400 and -32700. It is the "what the machine and the load tool allow" row, not a
//! server.

use std::borrow::Cow;
use std::io::{BufRead, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::header::CONTENT_TYPE;
use http::{HeaderValue, Response, StatusCode};
use mcp_proto::framing::{LineDecoder, LineStatus};
use mcp_proto::h1::{
    BodyDecoder, BodyFraming, BodyStatus, CONTINUE_RESPONSE, Limits, encode_response_head,
    expects_continue, keep_alive, parse_request_head, request_body_framing,
};
use mcp_proto::streamable::validate::SESSION_ID_HEADER;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::LoadError;
use crate::wire::LEGACY_VERSION;

const LISTENER: Token = Token(usize::MAX);
const WAKER: Token = Token(usize::MAX - 1);
/// Bytes read per `read` call.
const READ_CHUNK: usize = 16 * 1024;
/// Unanswered output beyond which a connection is not read until the peer takes it.
const MAX_PENDING_OUTPUT: usize = 1024 * 1024;
/// The most connections served at once; more are closed when accepted.
pub const MAX_CONNECTIONS: usize = 16 * 1024;

#[derive(Deserialize)]
struct IncomingRequest<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    method: Cow<'a, str>,
    #[serde(borrow, default)]
    params: Option<IncomingParams<'a>>,
}

#[derive(Deserialize)]
struct IncomingParams<'a> {
    #[serde(borrow, default)]
    arguments: Option<IncomingArguments<'a>>,
    #[serde(rename = "protocolVersion", borrow, default)]
    protocol_version: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct IncomingArguments<'a> {
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
}

#[derive(Serialize)]
struct Reply<'a, R> {
    jsonrpc: &'static str,
    id: &'a RawValue,
    result: R,
}

#[derive(Serialize)]
struct EchoResult<'a> {
    content: [TextContent<'a>; 1],
}

#[derive(Serialize)]
struct TextContent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

#[derive(Serialize)]
struct InitializeResult<'a> {
    #[serde(rename = "protocolVersion")]
    protocol_version: &'a str,
    capabilities: Capabilities,
    #[serde(rename = "serverInfo")]
    server_info: ServerInfo,
}

#[derive(Serialize)]
struct Capabilities {
    tools: Empty,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct ServerInfo {
    name: &'static str,
    version: &'static str,
}

const PARSE_ERROR: &[u8] =
    br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#;

/// What to send back for one JSON-RPC message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// A result was written to the body; `new_session` for `initialize`.
    Reply { new_session: bool },
    /// A notification or response: nothing to answer (HTTP 202).
    Accepted,
    /// Not JSON-RPC: the body holds a -32700 error.
    Invalid,
}

/// Parses `message` and writes the answer's JSON into `out` (cleared first).
fn answer(message: &[u8], out: &mut Vec<u8>) -> Answer {
    out.clear();
    let Ok(request) = serde_json::from_slice::<IncomingRequest<'_>>(message) else {
        out.extend_from_slice(PARSE_ERROR);
        return Answer::Invalid;
    };
    let Some(id) = request.id else {
        return Answer::Accepted;
    };
    if request.method.is_empty() {
        // A response to a request we never sent.
        return Answer::Accepted;
    }
    let params = request.params;
    let written = match request.method.as_ref() {
        "tools/call" => {
            let text = params
                .as_ref()
                .and_then(|p| p.arguments.as_ref())
                .and_then(|a| a.message.as_deref())
                .unwrap_or_default();
            serde_json::to_writer(
                &mut *out,
                &Reply {
                    jsonrpc: "2.0",
                    id,
                    result: EchoResult {
                        content: [TextContent { kind: "text", text }],
                    },
                },
            )
        }
        "initialize" => {
            let version = params
                .as_ref()
                .and_then(|p| p.protocol_version.as_deref())
                .unwrap_or(LEGACY_VERSION);
            let result = InitializeResult {
                protocol_version: version,
                capabilities: Capabilities { tools: Empty {} },
                server_info: ServerInfo {
                    name: "mcp-load-ceiling",
                    version: env!("CARGO_PKG_VERSION"),
                },
            };
            let written = serde_json::to_writer(
                &mut *out,
                &Reply {
                    jsonrpc: "2.0",
                    id,
                    result,
                },
            );
            if written.is_ok() {
                return Answer::Reply { new_session: true };
            }
            written
        }
        _ => serde_json::to_writer(
            &mut *out,
            &Reply {
                jsonrpc: "2.0",
                id,
                result: Empty {},
            },
        ),
    };
    match written {
        Ok(()) => Answer::Reply { new_session: false },
        Err(_) => {
            out.clear();
            out.extend_from_slice(PARSE_ERROR);
            Answer::Invalid
        }
    }
}

/// Where a connection is in its current request.
#[derive(Debug)]
enum Stage {
    Head,
    Body {
        decoder: BodyDecoder,
        keep_alive: bool,
    },
}

#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    input: Vec<u8>,
    output: Vec<u8>,
    written: usize,
    body: Vec<u8>,
    stage: Stage,
    /// Close once the output is written.
    closing: bool,
    /// Registered for writable events too.
    wants_write: bool,
}

/// The response heads, built once.
#[derive(Debug)]
struct Heads {
    json: Response<()>,
    accepted: Response<()>,
    bad_request: Response<()>,
}

impl Heads {
    fn new() -> Self {
        let json = HeaderValue::from_static("application/json");
        let mut ok = Response::new(());
        ok.headers_mut().insert(CONTENT_TYPE, json.clone());
        let mut accepted = Response::new(());
        *accepted.status_mut() = StatusCode::ACCEPTED;
        let mut bad_request = Response::new(());
        *bad_request.status_mut() = StatusCode::BAD_REQUEST;
        bad_request.headers_mut().insert(CONTENT_TYPE, json);
        Self {
            json: ok,
            accepted,
            bad_request,
        }
    }
}

/// Stops a running [`Ceiling`] from another thread.
#[derive(Debug, Clone)]
pub struct Stopper {
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

impl Stopper {
    /// Asks the loop to return.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.waker.wake();
    }
}

/// The HTTP ceiling responder, bound and ready to run.
#[derive(Debug)]
pub struct Ceiling {
    poll: Poll,
    listener: TcpListener,
    local_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

fn io_error(context: &str) -> impl FnOnce(std::io::Error) -> LoadError + '_ {
    move |e| LoadError::io(context, e)
}

impl Ceiling {
    /// Binds `addr` (port 0 picks one).
    ///
    /// # Errors
    /// [`LoadError::Io`] when the address cannot be bound or epoll is unavailable.
    pub fn bind(addr: SocketAddr) -> Result<Self, LoadError> {
        let poll = Poll::new().map_err(io_error("creating the poller"))?;
        let mut listener =
            TcpListener::bind(addr).map_err(|e| LoadError::io(format!("binding {addr}"), e))?;
        let local_addr = listener
            .local_addr()
            .map_err(io_error("reading the bound address"))?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)
            .map_err(io_error("registering the listener"))?;
        let waker =
            Arc::new(Waker::new(poll.registry(), WAKER).map_err(io_error("creating the waker"))?);
        Ok(Self {
            poll,
            listener,
            local_addr,
            stop: Arc::new(AtomicBool::new(false)),
            waker,
        })
    }

    /// The address bound.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle that stops [`Ceiling::run`].
    #[must_use]
    pub fn stopper(&self) -> Stopper {
        Stopper {
            stop: Arc::clone(&self.stop),
            waker: Arc::clone(&self.waker),
        }
    }

    /// Serves until stopped, on this thread.
    ///
    /// # Errors
    /// [`LoadError::Io`] when polling fails.
    pub fn run(mut self) -> Result<(), LoadError> {
        let mut events = Events::with_capacity(1024);
        let mut conns: Vec<Option<Conn>> = Vec::new();
        let mut free: Vec<usize> = Vec::new();
        let heads = Heads::new();
        let limits = Limits::default();
        let mut scratch = Vec::new();
        let mut sessions = 0u64;
        let mut chunk = vec![0u8; READ_CHUNK];
        loop {
            if let Err(error) = self.poll.poll(&mut events, None) {
                if error.kind() == ErrorKind::Interrupted {
                    continue;
                }
                return Err(LoadError::io("polling", error));
            }
            if self.stop.load(Ordering::Acquire) {
                return Ok(());
            }
            for event in &events {
                match event.token() {
                    LISTENER => self.accept(&mut conns, &mut free),
                    WAKER => {}
                    Token(index) => {
                        let Some(slot) = conns.get_mut(index) else {
                            continue;
                        };
                        let Some(conn) = slot.as_mut() else {
                            continue;
                        };
                        let keep = serve(
                            conn,
                            &mut chunk,
                            &heads,
                            &limits,
                            &mut scratch,
                            &mut sessions,
                        );
                        let keep = keep && update_interest(&self.poll, conn, index);
                        if !keep {
                            if let Some(mut conn) = slot.take() {
                                let _ = self.poll.registry().deregister(&mut conn.stream);
                            }
                            free.push(index);
                        }
                    }
                }
            }
        }
    }

    fn accept(&self, conns: &mut Vec<Option<Conn>>, free: &mut Vec<usize>) {
        loop {
            let mut stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(error) if error.kind() == ErrorKind::WouldBlock => return,
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                // Out of fds or a connection reset before accept: try again on the next event.
                Err(_) => return,
            };
            let live = conns.len() - free.len();
            if live >= MAX_CONNECTIONS {
                continue; // dropped: closed at once
            }
            let _ = stream.set_nodelay(true);
            let index = free.pop().unwrap_or(conns.len());
            if self
                .poll
                .registry()
                .register(&mut stream, Token(index), Interest::READABLE)
                .is_err()
            {
                if index < conns.len() {
                    free.push(index);
                }
                continue;
            }
            let conn = Conn {
                stream,
                input: Vec::new(),
                output: Vec::new(),
                written: 0,
                body: Vec::new(),
                stage: Stage::Head,
                closing: false,
                wants_write: false,
            };
            if let Some(slot) = conns.get_mut(index) {
                *slot = Some(conn);
            } else {
                conns.push(Some(conn));
            }
        }
    }
}

fn update_interest(poll: &Poll, conn: &mut Conn, index: usize) -> bool {
    let pending = conn.written < conn.output.len();
    if pending == conn.wants_write {
        return true;
    }
    conn.wants_write = pending;
    let interest = if pending {
        Interest::READABLE | Interest::WRITABLE
    } else {
        Interest::READABLE
    };
    poll.registry()
        .reregister(&mut conn.stream, Token(index), interest)
        .is_ok()
}

/// Reads, answers and writes what it can on `conn`. `false` means close it.
fn serve(
    conn: &mut Conn,
    chunk: &mut [u8],
    heads: &Heads,
    limits: &Limits,
    scratch: &mut Vec<u8>,
    sessions: &mut u64,
) -> bool {
    if !flush(conn) {
        return false;
    }
    loop {
        if conn.closing || conn.output.len() - conn.written > MAX_PENDING_OUTPUT {
            break;
        }
        match conn.stream.read(chunk) {
            Ok(0) => return false,
            Ok(n) => {
                conn.input
                    .extend_from_slice(chunk.get(..n).unwrap_or_default());
                if !process(conn, heads, limits, scratch, sessions) {
                    conn.closing = true;
                }
                if !flush(conn) {
                    return false;
                }
            }
            Err(error) if error.kind() == ErrorKind::WouldBlock => break,
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    !(conn.closing && conn.written == conn.output.len())
}

/// Writes pending output. `false` means the connection failed.
fn flush(conn: &mut Conn) -> bool {
    while conn.written < conn.output.len() {
        let pending = conn.output.get(conn.written..).unwrap_or_default();
        match conn.stream.write(pending) {
            Ok(0) => return false,
            Ok(n) => conn.written += n,
            Err(error) if error.kind() == ErrorKind::WouldBlock => return true,
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    conn.output.clear();
    conn.written = 0;
    true
}

/// Answers every complete request in `conn.input`. `false` means close after the output
/// (a request the codec refused, or `Connection: close`).
fn process(
    conn: &mut Conn,
    heads: &Heads,
    limits: &Limits,
    scratch: &mut Vec<u8>,
    sessions: &mut u64,
) -> bool {
    let mut start = 0usize;
    let mut open = true;
    loop {
        let input = conn.input.get(start..).unwrap_or_default();
        match &mut conn.stage {
            Stage::Head => match parse_request_head(input, limits) {
                Ok(Some((request, consumed))) => {
                    start += consumed;
                    let framing = match request_body_framing(&request)
                        .and_then(|f| limits.check_declared_body(f).map(|()| f))
                    {
                        Ok(framing) => framing,
                        Err(error) => {
                            write_status(&mut conn.output, error.status());
                            open = false;
                            break;
                        }
                    };
                    if expects_continue(&request) {
                        conn.output.extend_from_slice(CONTINUE_RESPONSE);
                    }
                    conn.body.clear();
                    conn.stage = Stage::Body {
                        decoder: BodyDecoder::new(framing, limits),
                        keep_alive: keep_alive(request.version(), request.headers()),
                    };
                }
                Ok(None) => break,
                Err(error) => {
                    write_status(&mut conn.output, error.status());
                    open = false;
                    break;
                }
            },
            Stage::Body {
                decoder,
                keep_alive,
            } => match decoder.decode(input) {
                Ok(BodyStatus::Data { data, consumed }) => {
                    conn.body.extend_from_slice(data);
                    start += consumed;
                }
                Ok(BodyStatus::NeedMore { consumed }) => {
                    start += consumed;
                    break;
                }
                Ok(BodyStatus::End { consumed }) => {
                    start += consumed;
                    let keep_alive = *keep_alive;
                    respond(&conn.body, &mut conn.output, heads, scratch, sessions);
                    conn.stage = Stage::Head;
                    if !keep_alive {
                        open = false;
                        break;
                    }
                }
                Err(error) => {
                    write_status(&mut conn.output, error.status());
                    open = false;
                    break;
                }
            },
        }
    }
    conn.input.drain(..start.min(conn.input.len()));
    open
}

fn write_status(out: &mut Vec<u8>, status: StatusCode) {
    let mut response = Response::new(());
    *response.status_mut() = status;
    let _ = encode_response_head(&response, BodyFraming::Empty, out);
}

fn respond(
    body: &[u8],
    out: &mut Vec<u8>,
    heads: &Heads,
    scratch: &mut Vec<u8>,
    sessions: &mut u64,
) {
    let length = |scratch: &Vec<u8>| BodyFraming::Length(scratch.len() as u64);
    match answer(body, scratch) {
        Answer::Reply { new_session: false } => {
            let _ = encode_response_head(&heads.json, length(scratch), out);
        }
        Answer::Reply { new_session: true } => {
            *sessions += 1;
            let mut response = Response::new(());
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            if let Ok(id) = HeaderValue::from_str(&format!("ceiling-{:016x}", *sessions)) {
                response.headers_mut().insert(SESSION_ID_HEADER, id);
            }
            let _ = encode_response_head(&response, length(scratch), out);
        }
        Answer::Accepted => {
            let _ = encode_response_head(&heads.accepted, BodyFraming::Empty, out);
        }
        Answer::Invalid => {
            let _ = encode_response_head(&heads.bad_request, length(scratch), out);
        }
    }
    out.extend_from_slice(scratch);
}

/// The ceiling over stdio: one JSON-RPC message per line in, its answer per line out,
/// flushed whenever no further input is already buffered. Returns when stdin ends.
///
/// # Errors
/// [`LoadError::Io`] when stdin or stdout fails.
pub fn serve_stdio(input: impl Read, output: impl Write) -> Result<(), LoadError> {
    let mut input = std::io::BufReader::with_capacity(64 * 1024, input);
    let mut output = std::io::BufWriter::with_capacity(64 * 1024, output);
    let mut decoder = LineDecoder::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut scratch = Vec::new();
    loop {
        let available = input.fill_buf().map_err(io_error("reading stdin"))?;
        if available.is_empty() {
            break;
        }
        pending.extend_from_slice(available);
        let read = available.len();
        input.consume(read);
        let mut start = 0;
        loop {
            let rest = pending.get(start..).unwrap_or_default();
            match decoder.decode(rest) {
                Ok(LineStatus::Line { line, consumed }) => {
                    if answer(line, &mut scratch) != Answer::Accepted {
                        scratch.push(b'\n');
                        output
                            .write_all(&scratch)
                            .map_err(io_error("writing stdout"))?;
                    }
                    start += consumed;
                }
                Ok(LineStatus::NeedMore { consumed }) => {
                    start += consumed;
                    break;
                }
                // An oversized line is skipped; the decoder resynchronises.
                Err(_) => {}
            }
        }
        pending.drain(..start.min(pending.len()));
        if input.buffer().is_empty() {
            output.flush().map_err(io_error("writing stdout"))?;
        }
    }
    output.flush().map_err(io_error("writing stdout"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(bytes: &[u8]) -> serde_json::Value {
        serde_json::from_slice(bytes).unwrap()
    }

    #[test]
    fn answers_each_kind_of_message() {
        let mut out = Vec::new();
        let call = br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"message":"a\"b"}}}"#;
        assert_eq!(answer(call, &mut out), Answer::Reply { new_session: false });
        assert_eq!(
            json(&out),
            serde_json::json!({"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"a\"b"}]}})
        );
        let init = br#"{"jsonrpc":"2.0","id":"x","method":"initialize","params":{"protocolVersion":"2025-06-18"}}"#;
        assert_eq!(answer(init, &mut out), Answer::Reply { new_session: true });
        assert_eq!(json(&out)["result"]["protocolVersion"], "2025-06-18");
        assert_eq!(json(&out)["id"], "x");
        let note = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        assert_eq!(answer(note, &mut out), Answer::Accepted);
        let ping = br#"{"jsonrpc":"2.0","id":4,"method":"ping"}"#;
        assert_eq!(answer(ping, &mut out), Answer::Reply { new_session: false });
        assert_eq!(json(&out)["result"], serde_json::json!({}));
        assert_eq!(answer(b"{nope", &mut out), Answer::Invalid);
        assert_eq!(json(&out)["error"]["code"], -32700);
    }

    #[test]
    fn stdio_answers_line_by_line() {
        let input = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"arguments\":{\"message\":\"hi\"}}}\n\
            {\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n\n\
            {\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\r\n";
        let mut output = Vec::new();
        serve_stdio(&input[..], &mut output).unwrap();
        let lines: Vec<serde_json::Value> = output
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(json)
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["result"]["content"][0]["text"], "hi");
        assert_eq!(lines[1]["id"], 2);
    }
}
