//! A small blocking HTTP/1.1 client for black-box probes of any server: one request per TCP
//! connection (`Connection: close`), every read bounded in size and in time, responses framed
//! by `Content-Length`, chunked transfer-encoding or the end of the connection, and
//! `text/event-stream` bodies read event by event until the JSON-RPC answer wanted arrives.
//!
//! It shares no parsing code with the stack under test on purpose (only `httparse` for the
//! response head): a bug in our own codec must not hide the same bug in our server.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The most response header lines read.
const MAX_HEADERS: usize = 100;
/// The longest chunk-size or trailer line.
const MAX_LINE: usize = 4096;
/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024;
/// Bytes written at a time when the server may answer before the body is sent.
const WRITE_CHUNK: usize = 64 * 1024;

/// How far one exchange may go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The whole exchange: connect, send, and read up to the answer.
    pub(crate) timeout: Duration,
    /// The response head.
    pub(crate) max_head: usize,
    /// The response body (decoded), SSE included.
    pub(crate) max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_head: 64 * 1024,
            max_body: 4 * 1024 * 1024,
        }
    }
}

/// Why an exchange produced no response head.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// The URL is not one this client can use.
    #[error("unusable URL {url:?}: {why}")]
    Url { url: String, why: String },
    /// No connection could be made.
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: String, source: io::Error },
    /// The request could not be written (and no answer came).
    #[error("writing the request failed: {0}")]
    Write(io::Error),
    /// Reading failed.
    #[error("reading the response failed: {0}")]
    Read(io::Error),
    /// The time limit ran out.
    #[error("no complete response head within {0:?}")]
    Timeout(Duration),
    /// The server closed the connection before a complete head.
    #[error("the connection closed after {0} bytes, before a complete response head")]
    Closed(usize),
    /// The head is not HTTP/1.x.
    #[error("malformed response head: {0}")]
    Malformed(String),
    /// The head exceeded its limit.
    #[error("the response head exceeds {0} bytes")]
    HeadTooLarge(usize),
}

/// Where the server is.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// The `Host` header: the URL's authority.
    pub(crate) host: String,
    /// The request target: path and query.
    pub(crate) path: String,
    addrs: Vec<SocketAddr>,
}

impl Endpoint {
    /// Parses an `http://host[:port]/path` URL and resolves its host.
    pub(crate) fn parse(url: &str) -> Result<Self, HttpError> {
        let bad = |why: &str| HttpError::Url {
            url: url.to_owned(),
            why: why.to_owned(),
        };
        let uri: http::Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => return Err(bad(&format!("scheme {other} (only http:// is probed)"))),
            None => return Err(bad("no scheme (http://HOST:PORT/PATH)")),
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad("credentials in the URL are not supported"));
        }
        let host = authority.host();
        let port = authority.port_u16().unwrap_or(80);
        let bare_host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = (bare_host, port)
            .to_socket_addrs()
            .map_err(|e| bad(&format!("cannot resolve {host}: {e}")))?
            .collect();
        if addrs.is_empty() {
            return Err(bad(&format!("{host} resolves to no address")));
        }
        let path = uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        Ok(Self {
            host: authority.as_str().to_owned(),
            path,
            addrs,
        })
    }

    /// Opens a connection, within `timeout`.
    pub(crate) fn connect(&self, timeout: Duration) -> Result<TcpStream, HttpError> {
        let mut last = None;
        for addr in &self.addrs {
            match TcpStream::connect_timeout(addr, timeout) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(HttpError::Connect {
            addr: self.host.clone(),
            source: last.unwrap_or_else(|| io::Error::other("no address")),
        })
    }
}

/// One request. `Host`, `Content-Length` (when there is a body or the method is POST or PUT)
/// and `Connection: close` are added when it is sent.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: &'static str,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// Send the body piece by piece and stop as soon as the server answers (or stops
    /// reading): for bodies a server should refuse early.
    pub(crate) stop_on_answer: bool,
}

impl Request {
    pub(crate) fn new(method: &'static str) -> Self {
        Self {
            method,
            headers: Vec::new(),
            body: Vec::new(),
            stop_on_answer: false,
        }
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Drops every header named `name`.
    pub(crate) fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// Replaces the headers named `name` by one with `value`.
    pub(crate) fn replace(self, name: &str, value: impl Into<String>) -> Self {
        self.without(name).header(name, value)
    }

    pub(crate) fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    fn head(&self, endpoint: &Endpoint) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\n",
            self.method, endpoint.path, endpoint.host
        );
        for (name, value) in &self.headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        if !self.body.is_empty() || matches!(self.method, "POST" | "PUT") {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        head.push_str("Connection: close\r\n\r\n");
        head.into_bytes()
    }
}

/// What to read of the body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Want {
    /// Read until the JSON-RPC answer (result or error) with this id; a JSON body is read
    /// whole.
    Id(Value),
    /// Read until any JSON-RPC answer or batch of answers.
    AnyAnswer,
    /// The head only (a stream that may never end).
    Head,
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    pub(crate) event: Option<String>,
    pub(crate) data: String,
}

/// A response: its head, what was read of its body, and the JSON-RPC answer in it.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    /// The decoded body as read (for SSE: up to the answer).
    pub(crate) body: Vec<u8>,
    /// The events read, when the body is `text/event-stream`.
    pub(crate) events: Vec<SseEvent>,
    /// The JSON-RPC answer: the JSON body, or the SSE event that carried the answer wanted.
    pub(crate) answer: Option<Value>,
    /// What went wrong after the head (time or size limit, malformed framing), if anything.
    pub(crate) problem: Option<String>,
    /// Bytes of the request body sent before the server answered or stopped reading, when
    /// less than all.
    pub(crate) body_sent: Option<usize>,
}

impl Response {
    /// The first value of header `name`.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The media type without parameters, lowercase.
    pub(crate) fn media_type(&self) -> Option<String> {
        self.header("content-type").map(essence)
    }

    pub(crate) fn is_json(&self) -> bool {
        self.media_type().as_deref() == Some("application/json")
    }

    pub(crate) fn is_event_stream(&self) -> bool {
        self.media_type().as_deref() == Some("text/event-stream")
    }

    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The JSON-RPC error code of the answer, if it is an error.
    pub(crate) fn error_code(&self) -> Option<i64> {
        self.answer.as_ref()?.get("error")?.get("code")?.as_i64()
    }

    /// A one-line account: status, media type, body excerpt, and any problem.
    pub(crate) fn describe(&self) -> String {
        let mut out = format!("{}", self.status);
        if let Some(media) = self.header("content-type") {
            out.push(' ');
            out.push_str(media);
        }
        let shown = match &self.answer {
            Some(answer) if self.is_event_stream() => answer.to_string(),
            _ => String::from_utf8_lossy(&self.body).into_owned(),
        };
        if shown.trim().is_empty() {
            out.push_str(", no body");
        } else {
            out.push_str(&format!(", body {}", excerpt(&shown, 160)));
        }
        if let Some(problem) = &self.problem {
            out.push_str(&format!(" ({problem})"));
        }
        out
    }
}

/// The essence of a media type: before `;`, trimmed, lowercase.
pub(crate) fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// `text` cut to `max` characters, on one line, quoted.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let flat: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut cut: String = flat.chars().take(max).collect();
    if flat.chars().count() > max {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// Sends `request` to `endpoint` and reads the response as `want` says.
pub(crate) fn send(
    endpoint: &Endpoint,
    request: &Request,
    want: &Want,
    limits: &Limits,
) -> Result<Response, HttpError> {
    let deadline = Instant::now() + limits.timeout;
    let mut stream = endpoint.connect(limits.timeout)?;
    let head = request.head(endpoint);
    let body_sent = write_request(&mut stream, &head, request, deadline)?;
    let mut conn = Conn {
        stream,
        buf: Vec::new(),
        deadline,
        timeout: limits.timeout,
        eof: false,
    };
    let (status, headers) = read_head(&mut conn, limits)?;
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
        events: Vec::new(),
        answer: None,
        problem: None,
        body_sent,
    };
    if *want == Want::Head {
        return Ok(response);
    }
    let framing = match framing(request.method, &response) {
        Ok(framing) => framing,
        Err(problem) => {
            response.problem = Some(problem);
            return Ok(response);
        }
    };
    let mut body = BodyReader { framing };
    let sse = response.is_event_stream();
    let mut parser = SseParser::default();
    loop {
        let piece = match body.next(&mut conn) {
            Ok(Some(piece)) => piece,
            Ok(None) => break,
            Err(problem) => {
                response.problem = Some(problem);
                break;
            }
        };
        if response.body.len() + piece.len() > limits.max_body {
            response.problem = Some(format!("the body exceeds {} bytes", limits.max_body));
            break;
        }
        response.body.extend_from_slice(&piece);
        if sse {
            let mut found = false;
            for event in parser.feed(&piece) {
                if !found
                    && let Ok(message) = serde_json::from_str::<Value>(&event.data)
                    && is_answer(&message, want)
                {
                    response.answer = Some(message);
                    found = true;
                }
                response.events.push(event);
            }
            if found {
                // The answer is in: the rest of the stream is not this probe's business.
                let _ = conn.stream.shutdown(Shutdown::Both);
                return Ok(response);
            }
        }
    }
    if sse {
        // An event without its closing blank line is dropped, as browsers do.
        if response.answer.is_none() && response.problem.is_none() {
            response.problem = Some(format!(
                "the event stream ended after {} events without the answer",
                response.events.len()
            ));
        }
    } else {
        response.answer = serde_json::from_slice(&response.body).ok();
    }
    Ok(response)
}

/// Whether `message` is the answer `want` waits for.
fn is_answer(message: &Value, want: &Want) -> bool {
    let answers = |m: &Value, id: Option<&Value>| {
        (m.get("result").is_some() || m.get("error").is_some())
            && id.is_none_or(|id| m.get("id") == Some(id))
    };
    let id = match want {
        Want::Id(id) => Some(id),
        Want::AnyAnswer => None,
        Want::Head => return false,
    };
    match message {
        Value::Array(items) => id.is_none() || items.iter().any(|m| answers(m, id)),
        other => answers(other, id),
    }
}

/// Writes the head and body. With `stop_on_answer`, the body goes in pieces and sending stops
/// when the server answers, closes, or stops reading; returns how much was sent then.
fn write_request(
    stream: &mut TcpStream,
    head: &[u8],
    request: &Request,
    deadline: Instant,
) -> Result<Option<usize>, HttpError> {
    let remaining = || deadline.saturating_duration_since(Instant::now());
    stream
        .set_write_timeout(Some(remaining().max(Duration::from_millis(1))))
        .map_err(HttpError::Write)?;
    if !request.stop_on_answer {
        let mut all = head.to_vec();
        all.extend_from_slice(&request.body);
        stream.write_all(&all).map_err(HttpError::Write)?;
        return Ok(None);
    }
    stream.write_all(head).map_err(HttpError::Write)?;
    // A server that stops reading must not hold us for the whole limit.
    let per_write = Duration::from_secs(2).min(remaining().max(Duration::from_millis(1)));
    stream
        .set_write_timeout(Some(per_write))
        .map_err(HttpError::Write)?;
    let mut sent = 0;
    for piece in request.body.chunks(WRITE_CHUNK) {
        if server_spoke(stream) || remaining().is_zero() {
            return Ok(Some(sent));
        }
        if stream.write_all(piece).is_err() {
            return Ok(Some(sent));
        }
        sent += piece.len();
    }
    Ok(None)
}

/// Whether the server has sent something (or closed) without waiting.
fn server_spoke(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let mut byte = [0u8; 1];
    let spoke = match stream.peek(&mut byte) {
        Ok(_) => true,
        Err(e) => e.kind() != io::ErrorKind::WouldBlock,
    };
    let _ = stream.set_nonblocking(false);
    spoke
}

/// A connection with a read buffer and a deadline.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    deadline: Instant,
    timeout: Duration,
    eof: bool,
}

impl Conn {
    /// Reads more bytes into the buffer; `Ok(false)` at the end of the stream.
    fn fill(&mut self) -> Result<bool, ReadFailure> {
        if self.eof {
            return Ok(false);
        }
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(ReadFailure::Timeout);
        }
        self.stream
            .set_read_timeout(Some(remaining))
            .map_err(ReadFailure::Io)?;
        let mut chunk = [0u8; READ_CHUNK];
        match self.stream.read(&mut chunk) {
            Ok(0) => {
                self.eof = true;
                Ok(false)
            }
            Ok(n) => {
                self.buf
                    .extend_from_slice(chunk.get(..n).unwrap_or_default());
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Err(ReadFailure::Timeout)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
            Err(e) => Err(ReadFailure::Io(e)),
        }
    }

    /// Takes `n` buffered bytes.
    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.buf.len());
        self.buf.drain(..n).collect()
    }

    /// One line ending in LF (CR before it dropped), at most [`MAX_LINE`] long.
    fn line(&mut self) -> Result<Vec<u8>, String> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line = self.take(end + 1);
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.buf.len() > MAX_LINE {
                return Err(format!("a framing line exceeds {MAX_LINE} bytes"));
            }
            match self.fill() {
                Ok(true) => {}
                Ok(false) => return Err("the connection closed inside the chunked framing".into()),
                Err(failure) => return Err(failure.describe(self.timeout)),
            }
        }
    }
}

enum ReadFailure {
    Timeout,
    Io(io::Error),
}

impl ReadFailure {
    fn describe(&self, timeout: Duration) -> String {
        match self {
            Self::Timeout => format!("no more data within {timeout:?}"),
            Self::Io(e) => format!("reading failed: {e}"),
        }
    }
}

/// Reads the status and headers, skipping interim (1xx) responses.
fn read_head(conn: &mut Conn, limits: &Limits) -> Result<(u16, Vec<(String, String)>), HttpError> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut headers);
        match parsed.parse(&conn.buf) {
            Ok(httparse::Status::Complete(len)) => {
                let status = parsed.code.unwrap_or_default();
                let headers: Vec<(String, String)> = parsed
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_owned(),
                            String::from_utf8_lossy(h.value).trim().to_owned(),
                        )
                    })
                    .collect();
                conn.take(len);
                if (100..200).contains(&status) && status != 101 {
                    continue;
                }
                return Ok((status, headers));
            }
            Ok(httparse::Status::Partial) => {
                if conn.buf.len() > limits.max_head {
                    return Err(HttpError::HeadTooLarge(limits.max_head));
                }
                match conn.fill() {
                    Ok(true) => {}
                    Ok(false) => return Err(HttpError::Closed(conn.buf.len())),
                    Err(ReadFailure::Timeout) => return Err(HttpError::Timeout(limits.timeout)),
                    Err(ReadFailure::Io(e)) => return Err(HttpError::Read(e)),
                }
            }
            Err(e) => {
                return Err(HttpError::Malformed(format!(
                    "{e} in {}",
                    excerpt(&String::from_utf8_lossy(&conn.buf), 80)
                )));
            }
        }
    }
}

/// How the body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy)]
enum Framing {
    None,
    Length(u64),
    Chunked(ChunkState),
    UntilClose,
}

#[derive(Debug, Clone, Copy)]
enum ChunkState {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
}

fn framing(method: &str, response: &Response) -> Result<Framing, String> {
    if method == "HEAD" || matches!(response.status, 204 | 304) {
        return Ok(Framing::None);
    }
    if let Some(coding) = response.header("transfer-encoding") {
        let last = coding.rsplit(',').next().unwrap_or_default().trim();
        return if last.eq_ignore_ascii_case("chunked") {
            Ok(Framing::Chunked(ChunkState::Size))
        } else {
            Ok(Framing::UntilClose)
        };
    }
    match response.header("content-length") {
        Some(length) => length
            .parse::<u64>()
            .map(Framing::Length)
            .map_err(|_| format!("invalid Content-Length {length:?}")),
        None => Ok(Framing::UntilClose),
    }
}

/// Yields the decoded body piece by piece.
struct BodyReader {
    framing: Framing,
}

impl BodyReader {
    fn next(&mut self, conn: &mut Conn) -> Result<Option<Vec<u8>>, String> {
        loop {
            match self.framing {
                Framing::None | Framing::Length(0) => return Ok(None),
                Framing::Length(left) => {
                    if conn.buf.is_empty() && !self.more(conn)? {
                        return Err(format!(
                            "the connection closed {left} bytes before the body's end"
                        ));
                    }
                    let n = usize::try_from(left)
                        .unwrap_or(usize::MAX)
                        .min(conn.buf.len());
                    self.framing = Framing::Length(left - n as u64);
                    return Ok(Some(conn.take(n)));
                }
                Framing::UntilClose => {
                    if conn.buf.is_empty() && !self.more(conn)? {
                        self.framing = Framing::None;
                        return Ok(None);
                    }
                    let n = conn.buf.len();
                    return Ok(Some(conn.take(n)));
                }
                Framing::Chunked(ChunkState::Size) => {
                    let line = conn.line()?;
                    let text = String::from_utf8_lossy(&line);
                    let size = text.split(';').next().unwrap_or_default().trim();
                    let size = u64::from_str_radix(size, 16)
                        .map_err(|_| format!("invalid chunk size line {:?}", excerpt(&text, 40)))?;
                    self.framing = Framing::Chunked(if size == 0 {
                        ChunkState::Trailers
                    } else {
                        ChunkState::Data(size)
                    });
                }
                Framing::Chunked(ChunkState::Data(left)) => {
                    if conn.buf.is_empty() && !self.more(conn)? {
                        return Err("the connection closed inside a chunk".into());
                    }
                    let n = usize::try_from(left)
                        .unwrap_or(usize::MAX)
                        .min(conn.buf.len());
                    let left = left - n as u64;
                    self.framing = Framing::Chunked(if left == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left)
                    });
                    return Ok(Some(conn.take(n)));
                }
                Framing::Chunked(ChunkState::DataEnd) => {
                    let line = conn.line()?;
                    if !line.is_empty() {
                        return Err("a chunk is not followed by CRLF".into());
                    }
                    self.framing = Framing::Chunked(ChunkState::Size);
                }
                Framing::Chunked(ChunkState::Trailers) => {
                    if conn.line()?.is_empty() {
                        self.framing = Framing::None;
                    }
                }
            }
        }
    }

    fn more(&self, conn: &mut Conn) -> Result<bool, String> {
        conn.fill()
            .map_err(|failure| failure.describe(conn.timeout))
    }
}

/// An incremental `text/event-stream` parser (the WHATWG rules: lines end in CRLF, LF or CR;
/// `data` lines join with LF; a blank line dispatches; comments and `id`/`retry` are skipped).
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    line: Vec<u8>,
    after_cr: bool,
    data: Option<String>,
    event: Option<String>,
}

impl SseParser {
    /// Feeds bytes; returns the events they complete.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for &byte in bytes {
            if self.after_cr {
                self.after_cr = false;
                if byte == b'\n' {
                    continue;
                }
            }
            match byte {
                b'\r' | b'\n' => {
                    self.after_cr = byte == b'\r';
                    let line = std::mem::take(&mut self.line);
                    if let Some(event) = self.line_done(&line) {
                        events.push(event);
                    }
                }
                other => self.line.push(other),
            }
        }
        events
    }

    fn line_done(&mut self, line: &[u8]) -> Option<SseEvent> {
        if line.is_empty() {
            let data = self.data.take()?;
            return Some(SseEvent {
                event: self.event.take(),
                data,
            });
        }
        if line.first() == Some(&b':') {
            return None;
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text.as_ref(), ""),
        };
        match field {
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            "event" => self.event = Some(value.to_owned()),
            _ => {}
        }
        None
    }
}

/// Sends raw bytes on a fresh connection, then reads what comes back (at most `max` bytes,
/// until the server closes or `wait` passes) and drops the connection.
pub(crate) fn raw_exchange(
    endpoint: &Endpoint,
    bytes: &[u8],
    max: usize,
    wait: Duration,
) -> Result<Vec<u8>, HttpError> {
    let mut stream = endpoint.connect(wait)?;
    stream
        .set_write_timeout(Some(wait))
        .map_err(HttpError::Write)?;
    stream.write_all(bytes).map_err(HttpError::Write)?;
    let deadline = Instant::now() + wait;
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while got.len() < max {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() || stream.set_read_timeout(Some(remaining)).is_err() {
            break;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
    got.truncate(max);
    Ok(got)
}

/// Sends `bytes` on a fresh connection and closes it at once, without reading.
pub(crate) fn send_and_drop(
    endpoint: &Endpoint,
    bytes: &[u8],
    wait: Duration,
) -> Result<(), HttpError> {
    let mut stream = endpoint.connect(wait)?;
    stream
        .set_write_timeout(Some(wait))
        .map_err(HttpError::Write)?;
    stream.write_all(bytes).map_err(HttpError::Write)?;
    let _ = stream.shutdown(Shutdown::Both);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn sse_events_split_anywhere_and_any_line_ending() {
        let stream = b": comment\r\nid: 1\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\nevent: x\rdata:two\r\rdata: three\n\n";
        for split in 0..stream.len() {
            let mut parser = SseParser::default();
            let (a, b) = stream.split_at(split);
            let mut events = parser.feed(a);
            events.extend(parser.feed(b));
            assert_eq!(
                events,
                vec![
                    SseEvent {
                        event: None,
                        data: "{\"a\":\n1}".into()
                    },
                    SseEvent {
                        event: Some("x".into()),
                        data: "two".into()
                    },
                    SseEvent {
                        event: None,
                        data: "three".into()
                    },
                ],
                "split at {split}"
            );
        }
    }

    #[test]
    fn a_priming_event_with_empty_data_is_an_event_without_an_answer() {
        let mut parser = SseParser::default();
        let events = parser.feed(b"id: 0\ndata: \nretry: 3000\n\n");
        assert_eq!(
            events,
            vec![SseEvent {
                event: None,
                data: String::new()
            }]
        );
    }

    #[test]
    fn answers_match_by_id_and_batches_count() {
        let answer: Value = serde_json::json!({"jsonrpc": "2.0", "id": 7, "result": {}});
        assert!(is_answer(&answer, &Want::Id(7.into())));
        assert!(!is_answer(&answer, &Want::Id(8.into())));
        assert!(is_answer(&answer, &Want::AnyAnswer));
        let request = serde_json::json!({"jsonrpc": "2.0", "id": 7, "method": "ping"});
        assert!(!is_answer(&request, &Want::Id(7.into())));
        let batch = serde_json::json!([answer]);
        assert!(is_answer(&batch, &Want::Id(7.into())));
        assert!(is_answer(&batch, &Want::AnyAnswer));
    }

    #[test]
    fn urls_other_than_plain_http_are_refused() {
        for url in [
            "https://127.0.0.1/mcp",
            "127.0.0.1:80/mcp",
            "http://u:p@127.0.0.1/mcp",
        ] {
            assert!(
                matches!(Endpoint::parse(url), Err(HttpError::Url { .. })),
                "{url}"
            );
        }
        let endpoint = Endpoint::parse("http://127.0.0.1:9/mcp?x=1").unwrap();
        assert_eq!(
            (endpoint.host.as_str(), endpoint.path.as_str()),
            ("127.0.0.1:9", "/mcp?x=1")
        );
    }

    /// A server for one exchange: reads the request head, writes `response` (in `pieces`,
    /// with a pause between them), then keeps the connection open until the client leaves.
    fn one_shot(pieces: Vec<Vec<u8>>) -> (Endpoint, std::thread::JoinHandle<()>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        let thread = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            for piece in pieces {
                if conn.write_all(&piece).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            // Held open: only the client's leaving ends it (or the read timeout).
            let _ = conn.read(&mut byte);
        });
        (Endpoint::parse(&url).unwrap(), thread)
    }

    /// A request without a body: the test server reads only heads.
    fn get() -> Request {
        Request::new("GET")
    }

    #[test]
    fn a_chunked_event_stream_is_read_up_to_the_answer_and_no_further() {
        let events = concat!(
            "id: 0\ndata: \nretry: 3000\n\n",
            "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n",
            "data: {\"jsonrpc\":\"2.0\",\"id\":6,\"result\":{}}\n\n",
            "data: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"ok\":true}}\n\n",
        );
        let mut pieces =
            vec![b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec()];
        // Chunks of 7 bytes, each sent alone: events and chunk framing split anywhere.
        for chunk in events.as_bytes().chunks(7) {
            let mut piece = format!("{:x};ext=1\r\n", chunk.len()).into_bytes();
            piece.extend_from_slice(chunk);
            piece.extend_from_slice(b"\r\n");
            pieces.push(piece);
        }
        // The stream stays open after the answer: the client must not wait for its end.
        let (endpoint, server) = one_shot(pieces);
        let started = Instant::now();
        let response = send(&endpoint, &get(), &Want::Id(7.into()), &Limits::default()).unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(response.status, 200);
        assert!(response.is_event_stream());
        assert_eq!(response.events.len(), 4);
        assert_eq!(response.answer.unwrap()["result"]["ok"], true);
        assert_eq!(response.problem, None);
        server.join().unwrap();
    }

    #[test]
    fn a_json_body_is_framed_by_its_length() {
        let body = r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}"#;
        let head = format!(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Type: Application/JSON; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let (endpoint, server) = one_shot(vec![head.into_bytes(), body.as_bytes().to_vec()]);
        let response = send(&endpoint, &get(), &Want::Id(1.into()), &Limits::default()).unwrap();
        assert_eq!((response.status, response.is_json()), (404, true));
        assert_eq!(response.error_code(), Some(-32601));
        server.join().unwrap();
    }

    #[test]
    fn a_silent_or_endless_body_is_cut_by_the_limits() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n".to_vec();
        let limits = Limits {
            timeout: Duration::from_millis(300),
            ..Limits::default()
        };
        let (endpoint, server) = one_shot(vec![head.clone(), b": keep-alive\n".to_vec()]);
        let response = send(&endpoint, &get(), &Want::Id(1.into()), &limits).unwrap();
        let problem = response.problem.unwrap();
        assert!(problem.contains("no more data within"), "{problem}");
        server.join().unwrap();

        let mut pieces = vec![head];
        pieces.extend(std::iter::repeat_n(
            b": padding padding padding\n".to_vec(),
            100,
        ));
        let (endpoint, server) = one_shot(pieces);
        let limits = Limits {
            max_body: 1024,
            ..Limits::default()
        };
        let response = send(&endpoint, &get(), &Want::Id(1.into()), &limits).unwrap();
        let problem = response.problem.unwrap();
        assert!(problem.contains("exceeds 1024 bytes"), "{problem}");
        server.join().unwrap();
    }

    #[test]
    fn no_head_is_an_error() {
        let (endpoint, server) = one_shot(vec![b"HTTP/1.1 20".to_vec()]);
        let limits = Limits {
            timeout: Duration::from_millis(300),
            ..Limits::default()
        };
        assert!(matches!(
            send(&endpoint, &get(), &Want::AnyAnswer, &limits),
            Err(HttpError::Timeout(_))
        ));
        server.join().unwrap();
        let (endpoint, server) = one_shot(vec![b"SSH-2.0-OpenSSH\r\n\r\n".to_vec()]);
        assert!(matches!(
            send(&endpoint, &get(), &Want::AnyAnswer, &limits),
            Err(HttpError::Malformed(_))
        ));
        server.join().unwrap();
    }
}
