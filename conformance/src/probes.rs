//! Wire-level probes: each checks one rule of the protocol against `mcp-proto` and says why it
//! failed. They are computed on every run, never recorded.

use std::time::{Duration, Instant};

use mcp_proto::engine::{
    Connection, ConnectionConfig, Event, Outcome, RequestFailure, RequestOptions, ScopePolicy,
    TransportFailure, TransportScope,
};
use mcp_proto::http::{self, AcceptError, McpMediaType};
use mcp_proto::jsonrpc::{self, DecodeOptions, Decoded, ErrorCode, Message};

/// One named check.
pub(crate) struct Probe {
    pub(crate) area: &'static str,
    pub(crate) name: String,
    pub(crate) check: Box<dyn Fn() -> Result<(), String>>,
}

fn probe(
    area: &'static str,
    name: impl Into<String>,
    check: impl Fn() -> Result<(), String> + 'static,
) -> Probe {
    Probe {
        area,
        name: name.into(),
        check: Box::new(check),
    }
}

pub(crate) fn all() -> Vec<Probe> {
    let mut probes = jsonrpc_probes();
    probes.extend(accept_probes());
    probes.extend(header_probes());
    probes.extend(engine_probes());
    probes.extend(http_probes());
    probes.sort_by(|a, b| (a.area, &a.name).cmp(&(b.area, &b.name)));
    probes
}

/// A body that must be refused with `code`.
fn refused(
    body: &'static str,
    code: ErrorCode,
    options: DecodeOptions,
) -> impl Fn() -> Result<(), String> {
    move || match jsonrpc::decode(body.as_bytes(), &options) {
        Err(err) if err.code() == code => Ok(()),
        Err(err) => Err(format!("answered {} instead of {}", err.code().0, code.0)),
        Ok(decoded) => Err(format!("accepted as {decoded:?}")),
    }
}

fn jsonrpc_probes() -> Vec<Probe> {
    let default = DecodeOptions::default();
    let legacy_batches = DecodeOptions::for_protocol_version("2025-03-26");
    vec![
        probe(
            "json-rpc",
            "malformed JSON answers -32700",
            refused("{\"jsonrpc\":", ErrorCode::PARSE_ERROR, default),
        ),
        probe(
            "json-rpc",
            "a non-object answers -32600",
            refused("42", ErrorCode::INVALID_REQUEST, default),
        ),
        probe(
            "json-rpc",
            "id: null is an invalid request, not a notification",
            refused(
                r#"{"jsonrpc":"2.0","id":null,"method":"tools/list"}"#,
                ErrorCode::INVALID_REQUEST,
                default,
            ),
        ),
        probe(
            "json-rpc",
            "a missing jsonrpc member answers -32600",
            refused(
                r#"{"id":1,"method":"ping"}"#,
                ErrorCode::INVALID_REQUEST,
                default,
            ),
        ),
        probe(
            "json-rpc",
            "batches are refused outside 2025-03-26",
            refused(
                r#"[{"jsonrpc":"2.0","method":"a"}]"#,
                ErrorCode::INVALID_REQUEST,
                default,
            ),
        ),
        probe(
            "json-rpc",
            "batches decode under 2025-03-26",
            move || match jsonrpc::decode(
                br#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"}]"#,
                &legacy_batches,
            ) {
                Ok(Decoded::Batch(items))
                    if items.len() == 2 && items.iter().all(Result::is_ok) =>
                {
                    Ok(())
                }
                other => Err(format!("decoded as {other:?}")),
            },
        ),
        probe(
            "json-rpc",
            "the refusal keeps a readable id",
            || match jsonrpc::decode(
                br#"{"jsonrpc":"1.0","id":"abc","method":"x"}"#,
                &DecodeOptions::default(),
            ) {
                Err(err) if err.error_response().id == Some("abc".into()) => Ok(()),
                other => Err(format!("got {other:?}")),
            },
        ),
        probe(
            "json-rpc",
            "encoded messages never contain a line break",
            || {
                let pretty = "{\n\"jsonrpc\": \"2.0\",\n\"id\": 1,\n\"method\": \"x\",\n\"params\": {\n\"a\": 1\n}\n}";
                let message = jsonrpc::decode_message(pretty.as_bytes(), &DecodeOptions::default())
                    .map_err(|e| e.to_string())?;
                let bytes = jsonrpc::encode(&message);
                if bytes.iter().any(|b| matches!(b, b'\n' | b'\r')) {
                    return Err("a raw line break survived encoding".into());
                }
                matches!(
                    jsonrpc::decode_message(&bytes, &DecodeOptions::default()),
                    Ok(Message::Request(_))
                )
                .then_some(())
                .ok_or_else(|| "the encoding does not decode".into())
            },
        ),
    ]
}

/// What a server may answer for one `Accept` header: JSON, SSE, and the preference.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    json: bool,
    sse: bool,
}

fn negotiate(lines: &[&'static str]) -> Result<Answer, AcceptError> {
    let acceptance = http::parse_accept(lines.iter().map(|l| l.as_bytes()))?;
    Ok(Answer {
        json: acceptance.accepts_json(),
        sse: acceptance.accepts_event_stream(),
    })
}

/// The Accept rows other SDKs get wrong (406 on wildcards, q=0 ignored, lookalikes accepted).
fn accept_probes() -> Vec<Probe> {
    let mut probes: Vec<Probe> = http::ACCEPT_TABLE
        .iter()
        .map(|row| {
            let expected = Answer {
                json: row.json,
                sse: row.event_stream,
            };
            probe("accept", row.name, move || match negotiate(row.lines) {
                Ok(answer) if answer == expected => Ok(()),
                Ok(answer) => Err(format!(
                    "{:?} gave {answer:?}, expected {expected:?}",
                    row.lines
                )),
                Err(err) => Err(format!("{:?} refused: {err}", row.lines)),
            })
        })
        .collect();
    probes.push(probe(
        "accept",
        "garbage is reported, not guessed",
        || match negotiate(&[";;;,,"]) {
            Err(AcceptError::Malformed { .. }) => Ok(()),
            other => Err(format!("gave {other:?}")),
        },
    ));
    probes.push(probe("accept", "a higher q-value is preferred", || {
        let acceptance =
            http::parse_accept([&b"application/json;q=0.4, text/event-stream;q=0.9"[..]])
                .map_err(|e| e.to_string())?;
        (acceptance.preferred() == Some(McpMediaType::EventStream))
            .then_some(())
            .ok_or_else(|| format!("preferred {:?}", acceptance.preferred()))
    }));
    probes
}

fn header_probes() -> Vec<Probe> {
    vec![
        probe(
            "http",
            "Content-Type application/json with parameters passes",
            || {
                http::check_json_content_type(b"Application/JSON; charset=UTF-8")
                    .map_err(|e| e.to_string())
            },
        ),
        probe("http", "Content-Type lookalikes are refused (415)", || {
            match http::check_json_content_type(b"application/jsonx") {
                Err(_) => Ok(()),
                Ok(()) => Err("application/jsonx accepted".into()),
            }
        }),
        probe(
            "http",
            "non-ASCII Mcp-Name values round-trip through base64",
            || {
                let encoded = http::encode_header_value("météo du jour");
                let decoded =
                    http::decode_header_value(encoded.as_bytes()).map_err(|e| e.to_string())?;
                (encoded.starts_with("=?base64?") && decoded == "météo du jour")
                    .then_some(())
                    .ok_or_else(|| format!("encoded as {encoded:?}, decoded as {decoded:?}"))
            },
        ),
        probe("http", "session ids need 128 bits of entropy", || {
            match (
                http::SessionId::from_entropy(&[7; 15]),
                http::SessionId::from_entropy(&[7; 16]),
            ) {
                (Err(_), Ok(id)) if id.as_str().bytes().all(|b| (0x21..=0x7e).contains(&b)) => {
                    Ok(())
                }
                other => Err(format!("gave {other:?}")),
            }
        }),
    ]
}

/// Every event the connection has queued.
fn drain_events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

/// The failure modes that made other clients hang: each must settle the pending request at once.
fn engine_probes() -> Vec<Probe> {
    vec![
        probe(
            "engine",
            "an HTTP 502 settles the request with the status kept",
            || {
                let now = Instant::now();
                let mut conn = Connection::new(ConnectionConfig {
                    scopes: ScopePolicy::PerRequest,
                    ..ConnectionConfig::default()
                });
                let id = conn
                    .request(now, "tools/call", None, RequestOptions::default())
                    .map_err(|e| e.to_string())?;
                let failure = TransportFailure::HttpStatus {
                    status: 502,
                    www_authenticate: None,
                    body_excerpt: String::new(),
                };
                conn.handle_transport_closed(now, TransportScope(1), failure.clone());
                match &drain_events(&mut conn)[..] {
                    [Event::Settled(s)]
                        if s.id == id
                            && s.outcome == Outcome::Failed(RequestFailure::Transport(failure)) =>
                    {
                        Ok(())
                    }
                    other => Err(format!("got {other:?}")),
                }
            },
        ),
        probe(
            "engine",
            "a process exit settles every pending request",
            || {
                let now = Instant::now();
                let mut conn = Connection::new(ConnectionConfig::default());
                for _ in 0..3 {
                    conn.request(now, "tools/call", None, RequestOptions::default())
                        .map_err(|e| e.to_string())?;
                }
                conn.handle_transport_closed(
                    now,
                    TransportScope::CONNECTION,
                    TransportFailure::ProcessExited {
                        code: Some(1),
                        signal: None,
                    },
                );
                let events = drain_events(&mut conn);
                let settled = events
                    .iter()
                    .filter(|e| matches!(e, Event::Settled(_)))
                    .count();
                let closed = events
                    .iter()
                    .filter(|e| matches!(e, Event::Closed(_)))
                    .count();
                (settled == 3 && closed == 1 && conn.requests_in_flight() == 0)
                    .then_some(())
                    .ok_or_else(|| format!("{settled} settled, {closed} closed"))
            },
        ),
        probe(
            "engine",
            "a request times out instead of hanging, and is cancelled",
            || {
                let now = Instant::now();
                let mut conn = Connection::new(ConnectionConfig::default());
                conn.request(
                    now,
                    "tools/call",
                    None,
                    RequestOptions {
                        timeout: Some(Duration::from_secs(1)),
                        ..Default::default()
                    },
                )
                .map_err(|e| e.to_string())?;
                let _request = conn.poll_transmit();
                conn.handle_timeout(now + Duration::from_secs(1));
                let cancelled = conn.poll_transmit().is_some();
                match &drain_events(&mut conn)[..] {
                    [Event::Settled(s)]
                        if matches!(
                            s.outcome,
                            Outcome::Failed(RequestFailure::TimedOut { .. })
                        ) && cancelled =>
                    {
                        Ok(())
                    }
                    other => Err(format!("got {other:?}, cancel sent: {cancelled}")),
                }
            },
        ),
    ]
}

fn modern_server() -> mcp_proto::streamable::HttpServer {
    use mcp_proto::engine::ServerConfig;
    use mcp_proto::streamable::{HttpServer, HttpServerConfig};
    use mcp_proto::types::{Implementation, ServerCapabilities};
    let capabilities = ServerCapabilities {
        tools: Some(Default::default()),
        ..Default::default()
    };
    let mut counter = 0u8;
    let entropy = Box::new(move |buf: &mut [u8]| {
        counter = counter.wrapping_add(1);
        buf.fill(counter);
    });
    HttpServer::new(
        HttpServerConfig::new(ServerConfig::new(
            Implementation::new("probe", "1"),
            capabilities,
        )),
        entropy,
    )
}

/// Sends a modern tools/list with `accept` and `origin`, answers it, returns the status.
fn post_status(accept: &str, origin: Option<&str>) -> Result<u16, String> {
    use mcp_proto::engine::ServerEvent;
    use mcp_proto::streamable::HttpOutput;
    let now = Instant::now();
    let mut server = modern_server();
    let mut builder = ::http::Request::post("/mcp")
        .header("host", "localhost:3000")
        .header("content-type", "application/json")
        .header("accept", accept)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/list");
    if let Some(origin) = origin {
        builder = builder.header("origin", origin);
    }
    let (parts, ()) = builder.body(()).map_err(|e| e.to_string())?.into_parts();
    let body = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    server.handle_post(now, &parts, body);
    while let Some((origin, event)) = server.poll_event() {
        if let ServerEvent::Request { id, .. } = event
            && let Some(endpoint) = server.endpoint(&origin)
        {
            endpoint
                .respond(&id, &serde_json::json!({"tools": []}))
                .map_err(|e| e.to_string())?;
        }
    }
    match server.poll_output(now) {
        Some(HttpOutput::Respond { response, .. }) => Ok(response.status().as_u16()),
        Some(HttpOutput::StartEvents { .. }) => Ok(200),
        other => Err(format!("no response: {other:?}")),
    }
}

/// The HTTP rules, checked against the real server and client state machines in memory.
fn http_probes() -> Vec<Probe> {
    let expect = |accept: &'static str, origin: Option<&'static str>, status: u16| {
        move || match post_status(accept, origin) {
            Ok(got) if got == status => Ok(()),
            Ok(got) => Err(format!("answered {got}, expected {status}")),
            Err(e) => Err(e),
        }
    };
    vec![
        probe(
            "http",
            "a POST with Accept: */* is answered, not 406",
            expect("*/*", None, 200),
        ),
        probe(
            "http",
            "a POST with Accept: application/json only is answered",
            expect("application/json", None, 200),
        ),
        probe(
            "http",
            "a POST accepting neither type gets 406",
            expect("text/html", None, 406),
        ),
        probe(
            "http",
            "a foreign Origin gets 403 (DNS rebinding)",
            expect("*/*", Some("https://evil.example"), 403),
        ),
        probe(
            "http",
            "a loopback Origin is allowed",
            expect("*/*", Some("http://localhost:5173"), 200),
        ),
        probe(
            "http",
            "a 404 on the era probe falls back to initialize",
            || probe_answer(404, true),
        ),
        probe(
            "http",
            "a 502 on the era probe fails the handshake with the status",
            || probe_answer(502, false),
        ),
        probe(
            "http",
            "an HTTP 502 settles a pending request with the status",
            || {
                use mcp_proto::engine::{
                    ClientEvent, Outcome, RequestFailure, RequestOptions, TransportFailure,
                };
                use mcp_proto::streamable::HttpClientOutput;
                use mcp_proto::types::methods::ClientRequest;
                let now = Instant::now();
                let mut client = ready_http_client(now)?;
                let request =
                    ClientRequest::parse("tools/list", None).map_err(|e| e.to_string())?;
                client
                    .endpoint()
                    .request(now, &request, RequestOptions::default())
                    .map_err(|e| e.to_string())?;
                let Some(HttpClientOutput::Send { exchange, .. }) = client.poll_output() else {
                    return Err("no request".into());
                };
                let mut response = ::http::Response::new(b"Bad Gateway".to_vec());
                *response.status_mut() = ::http::StatusCode::BAD_GATEWAY;
                client.handle_response(now, exchange, response);
                match client.poll_event() {
                    Some(ClientEvent::Response {
                        outcome:
                            Outcome::Failed(RequestFailure::Transport(TransportFailure::HttpStatus {
                                status: 502,
                                ..
                            })),
                        ..
                    }) => Ok(()),
                    other => Err(format!("got {other:?}")),
                }
            },
        ),
    ]
}

/// An HTTP client that finished its handshake with an in-memory modern server.
fn ready_http_client(now: Instant) -> Result<mcp_proto::streamable::HttpClient, String> {
    use mcp_proto::engine::{ClientConfig, ClientEvent};
    use mcp_proto::streamable::{HttpClient, HttpClientConfig, HttpClientOutput, HttpOutput};
    use mcp_proto::types::{ClientCapabilities, Implementation};
    let endpoint = "http://localhost:3000/mcp"
        .parse()
        .map_err(|e: ::http::uri::InvalidUri| e.to_string())?;
    let mut client = HttpClient::new(HttpClientConfig::new(
        endpoint,
        ClientConfig::new(
            Implementation::new("probe", "1"),
            ClientCapabilities::default(),
        ),
    ));
    let mut server = modern_server();
    client.start(now).map_err(|e| e.to_string())?;
    let Some(HttpClientOutput::Send { exchange, request }) = client.poll_output() else {
        return Err("no probe".into());
    };
    let (parts, body) = request.into_parts();
    server.handle_post(now, &parts, &body);
    match server.poll_output(now) {
        Some(HttpOutput::Respond { response, .. }) => {
            client.handle_response(now, exchange, response)
        }
        other => return Err(format!("discover answered with {other:?}")),
    }
    match client.poll_event() {
        Some(ClientEvent::Ready(_)) => Ok(client),
        other => Err(format!("not ready: {other:?}")),
    }
}

/// Answers a client's era probe with `status` (no JSON-RPC body) and checks whether it falls
/// back to `initialize` or reports the failure — never waits.
fn probe_answer(status: u16, falls_back: bool) -> Result<(), String> {
    use mcp_proto::engine::{ClientConfig, ClientEvent, HandshakeError};
    use mcp_proto::streamable::{HttpClient, HttpClientConfig, HttpClientOutput};
    use mcp_proto::types::{ClientCapabilities, Implementation};
    let now = Instant::now();
    let endpoint = "http://127.0.0.1:1/mcp"
        .parse()
        .map_err(|e: ::http::uri::InvalidUri| e.to_string())?;
    let mut client = HttpClient::new(HttpClientConfig::new(
        endpoint,
        ClientConfig::new(
            Implementation::new("probe", "1"),
            ClientCapabilities::default(),
        ),
    ));
    client.start(now).map_err(|e| e.to_string())?;
    let Some(HttpClientOutput::Send { exchange, .. }) = client.poll_output() else {
        return Err("no probe request".into());
    };
    let mut response = ::http::Response::new(b"not here".to_vec());
    *response.status_mut() = ::http::StatusCode::from_u16(status).map_err(|e| e.to_string())?;
    client.handle_response(now, exchange, response);
    let next = client.poll_output();
    let sent_initialize = matches!(&next, Some(HttpClientOutput::Send { request, .. }) if String::from_utf8_lossy(request.body()).contains("\"initialize\""));
    if falls_back {
        return sent_initialize
            .then_some(())
            .ok_or_else(|| format!("after {status} the client did {next:?}"));
    }
    match client.poll_event() {
        Some(ClientEvent::HandshakeFailed(HandshakeError::Transport {
            failure: TransportFailure::HttpStatus { status: got, .. },
            ..
        })) if got == status && !sent_initialize => Ok(()),
        other => Err(format!("after {status}: {other:?}, then {next:?}")),
    }
}
