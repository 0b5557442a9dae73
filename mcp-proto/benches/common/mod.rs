//! Fixtures and drivers shared by the micro-benchmarks: typical messages, the HTTP requests a
//! client sends, and the server set-ups (a modern stateless endpoint, an established legacy
//! session, a stdio-style engine) with the loop that answers one `tools/call`.
//!
//! Every bench file includes this module and uses only part of it.
#![allow(dead_code)]

use std::time::Instant;

use mcp_proto::engine::{
    Connection, ConnectionConfig, Event, ServerConfig, ServerEndpoint, ServerEvent, Transmit,
    TransportScope,
};
use mcp_proto::framing::{LineDecoder, LineStatus, encode_line};
use mcp_proto::h1::{
    BodyDecoder, BodyFraming, BodyStatus, Limits, encode_response_head, parse_request_head,
    request_body_framing,
};
use mcp_proto::jsonrpc::{self, DecodeOptions, Message, RawJson};
use mcp_proto::streamable::{EndpointRef, HttpOutput, HttpServer, HttpServerConfig};
use mcp_proto::types::methods::ClientRequest;
use mcp_proto::types::{CallToolResult, Implementation, ServerCapabilities};

/// The `_meta` every 2026-07-28 request carries.
pub(crate) const MODERN_META: &str = r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench-client","version":"1.0.0"}}"#;

/// A small request with empty params.
pub(crate) const SMALL_REQUEST: &str =
    r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#;

/// A progress notification.
pub(crate) const NOTIFICATION: &str = r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"job-17","progress":50,"total":100,"message":"halfway there"}}"#;

/// A modern (2026-07-28) `tools/call` of `echo` with arguments, as one line of JSON.
pub(crate) fn tools_call_modern(id: u64) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"hello, world","count":3,"tags":["alpha","beta"]}},"_meta":{MODERN_META}}}}}"#
    )
}

/// A legacy (2025-11-25) `tools/call` of `echo`: the same call without `_meta`.
pub(crate) fn tools_call_legacy(id: u64) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"hello, world","count":3,"tags":["alpha","beta"]}}}}}}"#
    )
}

/// `len` bytes of English-like text with a line break every 80 characters.
pub(crate) fn text_of_len(len: usize) -> String {
    const WORDS: &str = "The quick brown fox jumps over the lazy dog; \"quoted\" words, numbers 0123456789 and tabs\tappear too. ";
    let mut text = String::with_capacity(len);
    let mut column = 0;
    for c in WORDS.chars().cycle() {
        if text.len() >= len {
            break;
        }
        if column == 79 {
            text.push('\n');
            column = 0;
        } else {
            text.push(c);
            column += 1;
        }
    }
    text
}

/// A `tools/call` response carrying one 4 KiB text block (encoded as JSON, escapes included).
pub(crate) fn response_4k() -> String {
    let result = CallToolResult::text(text_of_len(4096));
    let message = Message::Response(jsonrpc::Response {
        id: 42.into(),
        result: RawJson::from_serialize(&result).expect("a result serializes"),
    });
    String::from_utf8(jsonrpc::encode(&message)).expect("JSON is UTF-8")
}

/// Decodes one message that the fixtures know to be valid.
pub(crate) fn message(json: &str) -> Message {
    jsonrpc::decode_message(json.as_bytes(), &DecodeOptions::default()).expect("a valid fixture")
}

/// The answer the benchmarks give to `echo`: the `message` argument back as text.
pub(crate) fn echo(request: &ClientRequest) -> CallToolResult {
    let ClientRequest::CallTool(call) = request else {
        panic!("expected tools/call, got {request:?}");
    };
    let text = call
        .arguments
        .as_ref()
        .and_then(|args| args.get("message"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    CallToolResult::text(text)
}

fn server_config() -> ServerConfig {
    let capabilities = ServerCapabilities {
        tools: Some(Default::default()),
        ..Default::default()
    };
    ServerConfig::new(Implementation::new("bench", "1.0.0"), capabilities)
}

/// A Streamable HTTP server with deterministic entropy (distinct session ids).
pub(crate) fn http_server() -> HttpServer {
    let mut counter = 0u8;
    let entropy = Box::new(move |buf: &mut [u8]| {
        counter = counter.wrapping_add(1);
        buf.fill(counter);
    });
    HttpServer::new(HttpServerConfig::new(server_config()), entropy)
}

/// A POST of `body` to `/mcp` with a client's usual headers plus `extra`, as wire bytes.
pub(crate) fn http_post(body: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut head = String::from(
        "POST /mcp HTTP/1.1\r\n\
         Host: 127.0.0.1:8080\r\n\
         User-Agent: bench-client/1.0\r\n\
         Content-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\n",
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// The modern `tools/call` POST with its `Mcp-*` headers.
pub(crate) fn modern_tools_call_post() -> Vec<u8> {
    http_post(
        &tools_call_modern(7),
        &[
            ("Mcp-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", "tools/call"),
            ("Mcp-Name", "echo"),
        ],
    )
}

/// A server, an HTTP request to feed it, and reusable buffers: one exchange per `exchange()`.
pub(crate) struct HttpBench {
    pub(crate) server: HttpServer,
    pub(crate) request: Vec<u8>,
    pub(crate) now: Instant,
    limits: Limits,
    body: Vec<u8>,
    pub(crate) out: Vec<u8>,
}

impl HttpBench {
    /// A modern stateless server and the modern `tools/call` POST.
    pub(crate) fn modern() -> Self {
        Self::new(http_server(), modern_tools_call_post())
    }

    /// A legacy session (initialize + initialized, done here) and a `tools/call` POST on it.
    pub(crate) fn legacy() -> Self {
        let mut bench = Self::new(http_server(), Vec::new());
        let initialize = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench-client","version":"1.0.0"}}}"#;
        bench.request = http_post(initialize, &[]);
        let response = bench.exchange();
        let session =
            header_value(response, "mcp-session-id").expect("initialize answers with a session id");
        let session_headers = [
            ("Mcp-Session-Id", session.as_str()),
            ("Mcp-Protocol-Version", "2025-11-25"),
        ];
        bench.request = http_post(
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            &session_headers,
        );
        let response = bench.exchange();
        assert!(response.starts_with(b"HTTP/1.1 202 "), "initialized: 202");
        bench.request = http_post(&tools_call_legacy(7), &session_headers);
        bench
    }

    fn new(server: HttpServer, request: Vec<u8>) -> Self {
        Self {
            server,
            request,
            now: Instant::now(),
            limits: Limits::default(),
            body: Vec::new(),
            out: Vec::new(),
        }
    }

    /// One exchange: parse the request head and body, hand them to the server, answer the
    /// `tools/call` it reports with [`echo`], and encode the response into `out`. Returns `out`.
    pub(crate) fn exchange(&mut self) -> &[u8] {
        let (request, head_len) = parse_request_head(&self.request, &self.limits)
            .expect("a valid head")
            .expect("a complete head");
        let framing = request_body_framing(&request).expect("valid framing");
        self.limits
            .check_declared_body(framing)
            .expect("a body within limits");
        let mut decoder = BodyDecoder::new(framing, &self.limits);
        let mut rest = self.request.get(head_len..).unwrap_or_default();
        self.body.clear();
        loop {
            match decoder.decode(rest).expect("a valid body") {
                BodyStatus::Data { data, consumed } => {
                    self.body.extend_from_slice(data);
                    rest = rest.get(consumed..).unwrap_or_default();
                }
                BodyStatus::End { .. } => break,
                BodyStatus::NeedMore { .. } => panic!("the whole body is in the buffer"),
            }
        }
        let (parts, ()) = request.into_parts();
        self.server.handle_post(self.now, &parts, &self.body);
        while let Some((origin, event)) = self.server.poll_event() {
            answer(&mut self.server, &origin, event);
        }
        self.out.clear();
        while let Some(output) = self.server.poll_output(self.now) {
            let HttpOutput::Respond { response, .. } = output else {
                panic!("expected a JSON response, got {output:?}");
            };
            let (parts, body) = response.into_parts();
            let head = http::Response::from_parts(parts, ());
            let length = u64::try_from(body.len()).expect("a small body");
            encode_response_head(&head, BodyFraming::Length(length), &mut self.out)
                .expect("a valid response head");
            self.out.extend_from_slice(&body);
        }
        &self.out
    }
}

fn answer(server: &mut HttpServer, origin: &EndpointRef, event: ServerEvent) {
    match event {
        ServerEvent::Request { id, request, .. } => {
            let result = echo(&request);
            server
                .endpoint(origin)
                .expect("the endpoint is alive")
                .respond(&id, &result)
                .expect("the request awaits its answer");
        }
        ServerEvent::Initialized { .. } => {}
        other => panic!("unexpected event {other:?}"),
    }
}

/// The value of header `name` (lower-case) in an encoded response head.
pub(crate) fn header_value(response: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(response).ok()?;
    let head = text.split("\r\n\r\n").next()?;
    head.split("\r\n").find_map(|line| {
        let (field, value) = line.split_once(':')?;
        field
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

/// The body of an encoded response.
pub(crate) fn response_body(response: &[u8]) -> &[u8] {
    let at = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    response.get(at + 4..).unwrap_or_default()
}

/// A stdio-style server: lines in, [`ServerEndpoint`] (server role), lines out.
pub(crate) struct StdioBench {
    pub(crate) endpoint: ServerEndpoint,
    decoder: LineDecoder,
    options: DecodeOptions,
    pub(crate) input: Vec<u8>,
    pub(crate) now: Instant,
    pub(crate) out: Vec<u8>,
    json: Vec<u8>,
}

impl StdioBench {
    /// A fresh endpoint and one modern `tools/call` line to feed it.
    pub(crate) fn modern() -> Self {
        let mut input = tools_call_modern(7).into_bytes();
        input.push(b'\n');
        Self::new(input)
    }

    /// An endpoint after `initialize` and `notifications/initialized` (legacy, 2025-11-25),
    /// and one legacy `tools/call` line.
    pub(crate) fn legacy() -> Self {
        let mut bench = Self::new(Vec::new());
        bench.input = concat!(
            r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench-client","version":"1.0.0"}}}"#,
            "\n",
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            "\n"
        )
        .as_bytes()
        .to_vec();
        bench.exchange();
        assert!(
            bench.endpoint.legacy_version().is_some(),
            "the session is initialized"
        );
        bench.input = tools_call_legacy(7).into_bytes();
        bench.input.push(b'\n');
        bench
    }

    fn new(input: Vec<u8>) -> Self {
        Self {
            endpoint: ServerEndpoint::new(server_config()),
            decoder: LineDecoder::new(),
            options: DecodeOptions::default(),
            input,
            now: Instant::now(),
            out: Vec::new(),
            json: Vec::new(),
        }
    }

    /// Every line of `input` through the endpoint, `tools/call` answered with [`echo`], the
    /// answers framed into `out`. Returns `out`.
    pub(crate) fn exchange(&mut self) -> &[u8] {
        let scope = TransportScope::CONNECTION;
        let mut rest = self.input.as_slice();
        while let LineStatus::Line { line, consumed } =
            self.decoder.decode(rest).expect("lines within limits")
        {
            let message = jsonrpc::decode_message(line, &self.options).expect("a valid message");
            self.endpoint.handle_message(self.now, scope, message);
            rest = rest.get(consumed..).unwrap_or_default();
        }
        while let Some(event) = self.endpoint.poll_event() {
            match event {
                ServerEvent::Request { id, request, .. } => {
                    let result = echo(&request);
                    self.endpoint
                        .respond(&id, &result)
                        .expect("the request awaits its answer");
                }
                ServerEvent::Initialized { .. } => {}
                other => panic!("unexpected event {other:?}"),
            }
        }
        self.out.clear();
        while let Some(transmit) = self.endpoint.poll_transmit() {
            let Transmit::Send { message, .. } = transmit else {
                panic!("unexpected {transmit:?}");
            };
            self.json.clear();
            jsonrpc::encode_into(&message, &mut self.json);
            encode_line(&self.json, &mut self.out).expect("a compact message");
        }
        &self.out
    }
}

/// The JSON-RPC engine alone ([`Connection`], no MCP role): lines in, a canned result out.
pub(crate) struct ConnectionBench {
    pub(crate) conn: Connection,
    decoder: LineDecoder,
    options: DecodeOptions,
    pub(crate) input: Vec<u8>,
    result: RawJson,
    pub(crate) now: Instant,
    pub(crate) out: Vec<u8>,
    json: Vec<u8>,
}

impl ConnectionBench {
    /// A connection and one modern `tools/call` line; the answer is a fixed echo result.
    pub(crate) fn new() -> Self {
        let mut input = tools_call_modern(7).into_bytes();
        input.push(b'\n');
        Self {
            conn: Connection::new(ConnectionConfig::default()),
            decoder: LineDecoder::new(),
            options: DecodeOptions::default(),
            input,
            result: RawJson::from_serialize(&CallToolResult::text("hello, world"))
                .expect("a result serializes"),
            now: Instant::now(),
            out: Vec::new(),
            json: Vec::new(),
        }
    }

    /// The line through the connection, its request answered, the answer framed into `out`.
    pub(crate) fn exchange(&mut self) -> &[u8] {
        let scope = TransportScope::CONNECTION;
        let mut rest = self.input.as_slice();
        while let LineStatus::Line { line, consumed } =
            self.decoder.decode(rest).expect("lines within limits")
        {
            let message = jsonrpc::decode_message(line, &self.options).expect("a valid message");
            self.conn.handle_message(self.now, scope, message);
            rest = rest.get(consumed..).unwrap_or_default();
        }
        while let Some(event) = self.conn.poll_event() {
            let Event::Request { id, .. } = event else {
                panic!("unexpected event {event:?}");
            };
            self.conn
                .respond(&id, Ok(self.result.clone()))
                .expect("the request awaits its answer");
        }
        self.out.clear();
        while let Some(transmit) = self.conn.poll_transmit() {
            let Transmit::Send { message, .. } = transmit else {
                panic!("unexpected {transmit:?}");
            };
            self.json.clear();
            jsonrpc::encode_into(&message, &mut self.json);
            encode_line(&self.json, &mut self.out).expect("a compact message");
        }
        &self.out
    }
}
