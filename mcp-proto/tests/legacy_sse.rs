#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The deprecated HTTP+SSE transport (2024-11-05): `SseClient` and `SseServer` wired to each
//! other in memory (requests and responses as `http` values, virtual time), every status rule of
//! the server, and the client against canned failures — every pending request settles exactly
//! once with a typed error.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use http::StatusCode;
use http::request::Parts;
use mcp_proto::engine::{
    ClientConfig, ClientEvent, CloseReason, Outcome, RequestFailure, RequestOptions, ServerConfig,
    ServerEvent, TransportFailure,
};
use mcp_proto::framing::{SseDecoder, SseEvent, SseItem, SseStatus};
use mcp_proto::http::SessionId;
use mcp_proto::jsonrpc::{RawJson, RequestId};
use mcp_proto::streamable::sessions::SessionLimits;
use mcp_proto::streamable::{
    ExchangeId, HttpClient, HttpClientConfig, HttpClientOutput, HttpOutput, LegacySsePolicy,
    SseClient, SseClientConfig, SseHandshakeError, SseServer, SseServerConfig, StreamId,
};
use mcp_proto::types::methods::{ClientRequest, ServerNotification, ServerRequest};
use mcp_proto::types::{ClientCapabilities, Era, Implementation, ServerCapabilities};
use serde_json::json;

const SSE_URL: &str = "http://127.0.0.1:8080/sse";
const HOST: &str = "127.0.0.1:8080";
const IDLE: Duration = Duration::from_secs(60);
const KEEP_ALIVE: Duration = Duration::from_secs(15);

fn server_config() -> SseServerConfig {
    let capabilities = ServerCapabilities {
        tools: Some(Default::default()),
        ..Default::default()
    };
    let mut config = SseServerConfig::new(ServerConfig::new(
        Implementation::new("srv", "1"),
        capabilities,
    ));
    config.sessions = SessionLimits {
        max_sessions: 8,
        idle_timeout: IDLE,
    };
    config.keep_alive = KEEP_ALIVE;
    config
}

/// Session ids from a counter: the first is sixteen 0x01 bytes.
fn sse_server(config: SseServerConfig) -> SseServer {
    let mut counter = 0u8;
    let entropy = Box::new(move |buf: &mut [u8]| {
        counter = counter.wrapping_add(1);
        buf.fill(counter);
    });
    SseServer::new(config, entropy)
}

fn sse_client_at(url: &str) -> SseClient {
    let capabilities: ClientCapabilities = serde_json::from_value(json!({"roots": {}})).unwrap();
    let mut config = SseClientConfig::new(
        url.parse().unwrap(),
        ClientConfig::new(Implementation::new("cli", "1"), capabilities),
    );
    config
        .headers
        .insert("authorization", "Bearer token-123".parse().unwrap());
    SseClient::new(config)
}

fn sse_client() -> SseClient {
    sse_client_at(SSE_URL)
}

/// The in-memory network between one client and one server, and the server application.
#[derive(Default)]
struct Wire {
    exchanges: HashMap<StreamId, ExchangeId>,
    get_exchange: Option<ExchangeId>,
    get_stream: Option<StreamId>,
    /// Server events the application did not handle itself.
    server_events: Vec<(SessionId, ServerEvent)>,
    /// Whether the server application answers requests.
    answering: bool,
}

impl Wire {
    fn new() -> Self {
        Self {
            answering: true,
            ..Self::default()
        }
    }
}

/// Carries requests to the server and outputs back until both sides are quiet. The adapter
/// routes by method and path, as a real one would.
fn run(now: Instant, client: &mut SseClient, server: &mut SseServer, wire: &mut Wire) {
    loop {
        let mut moved = false;
        while let Some(output) = client.poll_output() {
            moved = true;
            match output {
                HttpClientOutput::Send { exchange, request } => {
                    assert_eq!(
                        request.headers()["authorization"],
                        "Bearer token-123",
                        "configured headers go on every request"
                    );
                    let (parts, body) = request.into_parts();
                    let stream = match (parts.method.as_str(), parts.uri.path()) {
                        ("GET", "/sse") => {
                            wire.get_exchange = Some(exchange);
                            let stream = server.handle_get(now, &parts);
                            wire.get_stream = Some(stream);
                            stream
                        }
                        ("POST", "/messages") => {
                            assert_eq!(parts.headers["content-type"], "application/json");
                            server.handle_post(now, &parts, &body)
                        }
                        other => panic!("unexpected request {other:?}"),
                    };
                    wire.exchanges.insert(stream, exchange);
                }
                HttpClientOutput::Abort { exchange } => {
                    let stream = wire
                        .exchanges
                        .iter()
                        .find(|(_, e)| **e == exchange)
                        .map(|(s, _)| *s)
                        .unwrap();
                    server.handle_stream_closed(now, stream);
                }
            }
        }
        while let Some((session, event)) = server.poll_event() {
            match &event {
                ServerEvent::Request { id, request, .. } if wire.answering => {
                    let result = match request.method() {
                        "tools/call" => json!({"content": [{"type": "text", "text": "done"}]}),
                        _ => json!({"tools": []}),
                    };
                    server
                        .endpoint(&session)
                        .unwrap()
                        .respond(id, &result)
                        .unwrap();
                }
                _ => wire.server_events.push((session, event)),
            }
        }
        while let Some(output) = server.poll_output(now) {
            moved = true;
            match output {
                HttpOutput::Respond { stream, response } => {
                    client.handle_response(now, wire.exchanges[&stream], response)
                }
                HttpOutput::StartEvents { stream, head } => {
                    client.handle_response_head(now, wire.exchanges[&stream], &head)
                }
                HttpOutput::Events { stream, bytes } => {
                    client.handle_body(now, wire.exchanges[&stream], &bytes)
                }
                HttpOutput::EndEvents { stream } => {
                    client.handle_body_end(now, wire.exchanges[&stream])
                }
            }
        }
        if !moved {
            return;
        }
    }
}

fn events(client: &mut SseClient) -> Vec<ClientEvent> {
    std::iter::from_fn(|| client.poll_event()).collect()
}

fn outputs(client: &mut SseClient) -> Vec<HttpClientOutput> {
    std::iter::from_fn(|| client.poll_output()).collect()
}

fn call(name: &str) -> ClientRequest {
    ClientRequest::parse(
        "tools/call",
        Some(&RawJson::from_serialize(&json!({"name": name})).unwrap()),
    )
    .unwrap()
}

/// A client and server with a ready session, the session's id, and the wire.
fn ready_pair(now: Instant) -> (SseClient, SseServer, Wire, SessionId) {
    let (mut client, mut server, mut wire) =
        (sse_client(), sse_server(server_config()), Wire::new());
    client.start(now).unwrap();
    run(now, &mut client, &mut server, &mut wire);
    let ready = events(&mut client);
    assert!(
        matches!(&ready[..], [ClientEvent::Ready(n)] if n.era == Era::Legacy),
        "{ready:?}"
    );
    let session = server.session_of(wire.get_stream.unwrap()).unwrap().clone();
    (client, server, wire, session)
}

/// Every SSE event in `bytes`.
fn sse_items(bytes: &[u8]) -> Vec<SseItem> {
    let mut decoder = SseDecoder::new();
    let mut buf = bytes.to_vec();
    let mut items = Vec::new();
    loop {
        match decoder.decode(&buf).unwrap() {
            SseStatus::Item { item, consumed } => {
                items.push(item);
                buf.drain(..consumed);
            }
            SseStatus::NeedMore { .. } => return items,
        }
    }
}

fn message_events(bytes: &[u8]) -> Vec<SseEvent> {
    sse_items(bytes)
        .into_iter()
        .filter_map(|item| match item {
            SseItem::Event(event) => Some(event),
            _ => None,
        })
        .collect()
}

// ------------------------------------------------------------------------------------------
// The pair
// ------------------------------------------------------------------------------------------

#[test]
fn a_session_carries_initialize_a_tool_call_a_notification_and_server_requests() {
    let now = Instant::now();
    let (mut client, mut server, mut wire, session) = ready_pair(now);
    assert_eq!(
        client.message_url().unwrap().to_string(),
        format!("http://{HOST}/messages?sessionId={}", session.as_str())
    );
    assert_eq!(server.session_count(), 1);
    assert!(
        wire.server_events
            .iter()
            .any(|(s, e)| *s == session && matches!(e, ServerEvent::Initialized { .. })),
        "{:?}",
        wire.server_events
    );

    // A tool call answered by the application: 202 for the POST, the answer on the stream.
    let id = client
        .endpoint()
        .request(now, &call("weather"), RequestOptions::default())
        .unwrap();
    run(now, &mut client, &mut server, &mut wire);
    let answered = events(&mut client);
    let [
        ClientEvent::Response {
            id: done,
            outcome: Outcome::Result(result),
            ..
        },
    ] = &answered[..]
    else {
        panic!("{answered:?}")
    };
    assert_eq!(done, &id);
    assert!(result.get().contains("done"));

    // A server notification.
    let notification = ServerNotification::parse(
        "notifications/message",
        Some(&RawJson::from_serialize(&json!({"level": "info", "data": "hello"})).unwrap()),
    )
    .unwrap();
    server
        .endpoint(&session)
        .unwrap()
        .notify(&notification)
        .unwrap();
    run(now, &mut client, &mut server, &mut wire);
    let notified = events(&mut client);
    assert!(
        matches!(
            &notified[..],
            [ClientEvent::Notification(
                ServerNotification::LoggingMessage(_)
            )]
        ),
        "{notified:?}"
    );

    // A server→client request the client application answers (its answer is a POST).
    let asked = server
        .endpoint(&session)
        .unwrap()
        .request(
            now,
            &ServerRequest::parse("roots/list", None).unwrap(),
            RequestOptions::default(),
        )
        .unwrap();
    run(now, &mut client, &mut server, &mut wire);
    let [
        ClientEvent::Request {
            id: roots_id,
            request: ServerRequest::ListRoots(_),
        },
    ] = &events(&mut client)[..]
    else {
        panic!("roots/list arrived")
    };
    client
        .endpoint()
        .respond(roots_id, Ok(RawJson::from_text(r#"{"roots":[]}"#).unwrap()))
        .unwrap();
    // And a ping the client engine answers by itself.
    let pinged = server
        .endpoint(&session)
        .unwrap()
        .request(
            now,
            &ServerRequest::parse("ping", None).unwrap(),
            RequestOptions::default(),
        )
        .unwrap();
    wire.server_events.clear();
    run(now, &mut client, &mut server, &mut wire);
    for expected in [&asked, &pinged] {
        assert!(
            wire.server_events.iter().any(|(_, e)| matches!(e, ServerEvent::Settled(s) if s.id == *expected && matches!(s.outcome, Outcome::Result(_)))),
            "{expected}: {:?}",
            wire.server_events
        );
    }

    // Closing the client gives the stream up, which ends the session on the server.
    client.close(now);
    run(now, &mut client, &mut server, &mut wire);
    assert!(matches!(
        events(&mut client).last(),
        Some(ClientEvent::Closed(_))
    ));
    assert_eq!(server.session_count(), 0);
    assert!(server.endpoint(&session).is_none());
    assert!(
        wire.server_events
            .iter()
            .any(|(_, e)| matches!(e, ServerEvent::Closed(_)))
    );
}

#[test]
fn two_clients_get_separate_sessions() {
    let now = Instant::now();
    let mut server = sse_server(server_config());
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let (mut client, mut wire) = (sse_client(), Wire::new());
        client.start(now).unwrap();
        run(now, &mut client, &mut server, &mut wire);
        assert!(matches!(&events(&mut client)[..], [ClientEvent::Ready(_)]));
        sessions.push(client.message_url().unwrap().to_string());
    }
    assert_eq!(server.session_count(), 2);
    assert_ne!(sessions[0], sessions[1]);
}

// ------------------------------------------------------------------------------------------
// Server: the GET stream and every status rule
// ------------------------------------------------------------------------------------------

fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap().into_parts().0
}

fn get(headers: &[(&str, &str)]) -> Parts {
    let mut all = vec![("host", HOST)];
    all.extend_from_slice(headers);
    parts("GET", "/sse", &all)
}

fn post(uri: &str, headers: &[(&str, &str)]) -> Parts {
    let mut all = vec![("host", HOST), ("content-type", "application/json")];
    all.extend_from_slice(headers);
    parts("POST", uri, &all)
}

/// Everything the server wants written now.
fn drain(server: &mut SseServer, now: Instant) -> Vec<HttpOutput> {
    std::iter::from_fn(|| server.poll_output(now)).collect()
}

/// The complete response `stream` got.
fn response_of(outputs: &[HttpOutput], stream: StreamId) -> &http::Response<Vec<u8>> {
    outputs
        .iter()
        .find_map(|o| match o {
            HttpOutput::Respond {
                stream: s,
                response,
            } if *s == stream => Some(response),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no response for {stream:?} in {outputs:?}"))
}

/// The bytes written on `stream`.
fn stream_bytes(outputs: &[HttpOutput], stream: StreamId) -> Vec<u8> {
    outputs
        .iter()
        .filter_map(|o| match o {
            HttpOutput::Events { stream: s, bytes } if *s == stream => Some(bytes.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Opens a session directly; returns its GET stream and message URI.
fn open_session(server: &mut SseServer, now: Instant) -> (StreamId, String) {
    let stream = server.handle_get(now, &get(&[("accept", "text/event-stream")]));
    let out = drain(server, now);
    let events = message_events(&stream_bytes(&out, stream));
    assert_eq!(events[0].event.as_deref(), Some("endpoint"));
    (stream, events[0].data.clone())
}

#[test]
fn the_get_stream_starts_with_sse_headers_and_the_endpoint_event() {
    let now = Instant::now();
    let mut server = sse_server(server_config());
    let stream = server.handle_get(now, &get(&[]));
    let out = drain(&mut server, now);
    let HttpOutput::StartEvents {
        stream: started,
        head,
    } = &out[0]
    else {
        panic!("{out:?}")
    };
    assert_eq!(*started, stream);
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["content-type"], "text/event-stream");
    assert_eq!(head.headers()["cache-control"], "no-cache");
    assert_eq!(head.headers()["x-accel-buffering"], "no");
    // Sixteen 0x01 bytes of entropy, base64url.
    assert_eq!(
        stream_bytes(&out, stream),
        b"event: endpoint\ndata: /messages?sessionId=AQEBAQEBAQEBAQEBAQEBAQ\n\n"
    );
    assert_eq!(server.session_count(), 1);

    // A message path with its own query gets `&sessionId=`.
    let mut config = server_config();
    config.message_path = "/rpc?tenant=a".into();
    let mut server = sse_server(config);
    let (_, uri) = open_session(&mut server, now);
    assert_eq!(uri, "/rpc?tenant=a&sessionId=AQEBAQEBAQEBAQEBAQEBAQ");
}

#[test]
fn every_status_rule() {
    let now = Instant::now();
    let mut config = server_config();
    config.policy.max_body = 256;
    let mut server = sse_server(config);
    let (get_stream, uri) = open_session(&mut server, now);
    let ping = br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.to_vec();
    let big = vec![b' '; 300];
    let initialize = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#.to_vec();

    enum Req {
        Get(Parts),
        Post(Parts, Vec<u8>),
    }
    let cases: Vec<(&str, Req, u16)> = vec![
        (
            "GET from a foreign origin",
            Req::Get(get(&[("origin", "http://evil.example")])),
            403,
        ),
        (
            "GET for a foreign host",
            Req::Get(parts("GET", "/sse", &[("host", "evil.example")])),
            403,
        ),
        (
            "GET that accepts no SSE",
            Req::Get(get(&[("accept", "application/json")])),
            406,
        ),
        (
            "POST from a foreign origin",
            Req::Post(
                post(&uri, &[("origin", "http://evil.example")]),
                ping.clone(),
            ),
            403,
        ),
        (
            "POST for a foreign host",
            Req::Post(
                parts(
                    "POST",
                    &uri,
                    &[
                        ("host", "evil.example"),
                        ("content-type", "application/json"),
                    ],
                ),
                ping.clone(),
            ),
            403,
        ),
        (
            "POST as text/plain",
            Req::Post(
                parts(
                    "POST",
                    &uri,
                    &[("host", HOST), ("content-type", "text/plain")],
                ),
                ping.clone(),
            ),
            415,
        ),
        (
            "POST over the body limit",
            Req::Post(post(&uri, &[]), big),
            413,
        ),
        (
            "POST without sessionId",
            Req::Post(post("/messages", &[]), ping.clone()),
            400,
        ),
        (
            "POST with a broken sessionId",
            Req::Post(post("/messages?sessionId=%zz", &[]), ping.clone()),
            400,
        ),
        (
            "POST with two sessionIds",
            Req::Post(post(&format!("{uri}&sessionId=x"), &[]), ping.clone()),
            400,
        ),
        (
            "POST for an unknown session",
            Req::Post(post("/messages?sessionId=nope", &[]), ping.clone()),
            404,
        ),
        (
            "POST that is not JSON",
            Req::Post(post(&uri, &[]), b"{not json".to_vec()),
            400,
        ),
        (
            "POST of a batch",
            Req::Post(
                post(&uri, &[]),
                format!("[{}]", String::from_utf8_lossy(&ping)).into_bytes(),
            ),
            400,
        ),
        (
            "POST of a request",
            Req::Post(post(&uri, &[]), initialize),
            202,
        ),
        (
            "POST of a notification",
            Req::Post(
                post(&uri, &[]),
                br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_vec(),
            ),
            202,
        ),
    ];
    for (what, request, expected) in cases {
        let stream = match &request {
            Req::Get(parts) => server.handle_get(now, parts),
            Req::Post(parts, body) => server.handle_post(now, parts, body),
        };
        let out = drain(&mut server, now);
        let response = response_of(&out, stream);
        assert_eq!(response.status().as_u16(), expected, "{what}: {response:?}");
        if expected == 202 {
            assert!(response.body().is_empty(), "{what}");
        } else {
            // Every refusal explains itself with a JSON-RPC error.
            let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
            assert!(body["error"]["code"].is_i64(), "{what}: {body}");
        }
        if what == "POST that is not JSON" {
            let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
            assert_eq!(body["error"]["code"], -32700, "{body}");
        }
        if what == "POST of a request" {
            // The answer is not in the POST's response but on the session's stream.
            let answers = message_events(&stream_bytes(&out, get_stream));
            assert_eq!(answers.len(), 1, "{out:?}");
            assert_eq!(answers[0].event.as_deref(), Some("message"));
            let answer: serde_json::Value = serde_json::from_str(&answers[0].data).unwrap();
            assert_eq!(answer["id"], 1, "{answer}");
            assert_eq!(
                answer["result"]["protocolVersion"], "2024-11-05",
                "{answer}"
            );
        }
    }
    assert_eq!(server.session_count(), 1, "refused GETs opened no session");
}

#[test]
fn a_full_session_table_refuses_with_503() {
    let now = Instant::now();
    let mut config = server_config();
    config.sessions.max_sessions = 1;
    let mut server = sse_server(config);
    open_session(&mut server, now);
    let stream = server.handle_get(now, &get(&[]));
    let out = drain(&mut server, now);
    let response = response_of(&out, stream);
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        String::from_utf8_lossy(response.body()).contains("maximum of 1 sessions"),
        "{response:?}"
    );
    assert_eq!(
        server.session_count(),
        1,
        "the live session was not evicted"
    );
}

#[test]
fn idle_streams_get_keep_alives_and_idle_sessions_expire() {
    let t0 = Instant::now();
    let mut server = sse_server(server_config());
    let (stream, uri) = open_session(&mut server, t0);
    assert_eq!(server.poll_timeout(), Some(t0 + KEEP_ALIVE));
    server.handle_timeout(t0 + KEEP_ALIVE);
    let out = drain(&mut server, t0 + KEEP_ALIVE);
    assert!(
        matches!(&sse_items(&stream_bytes(&out, stream))[..], [SseItem::Comment(c)] if c == "keep-alive"),
        "{out:?}"
    );

    // A POST is activity: it pushes the expiry back.
    let t1 = t0 + Duration::from_secs(40);
    let posted = server.handle_post(
        t1,
        &post(&uri, &[]),
        br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    assert_eq!(
        response_of(&drain(&mut server, t1), posted).status(),
        StatusCode::ACCEPTED
    );
    server.handle_timeout(t0 + IDLE);
    assert_eq!(server.session_count(), 1);
    assert!(
        !drain(&mut server, t0 + IDLE)
            .iter()
            .any(|o| matches!(o, HttpOutput::EndEvents { .. }))
    );

    // Keep-alives are not activity: idle past the timeout, the session ends with its stream.
    let expiry = t1 + IDLE;
    let mut at = t0 + IDLE;
    while at < expiry {
        at = server.poll_timeout().unwrap().min(expiry);
        server.handle_timeout(at);
    }
    let out = drain(&mut server, at);
    assert!(
        out.iter()
            .any(|o| matches!(o, HttpOutput::EndEvents { stream: s } if *s == stream)),
        "{out:?}"
    );
    assert_eq!(server.session_count(), 0);
    assert!(matches!(
        server.poll_event(),
        Some((_, ServerEvent::Closed(_)))
    ));
    let late = server.handle_post(
        at,
        &post(&uri, &[]),
        br#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#,
    );
    assert_eq!(
        response_of(&drain(&mut server, at), late).status(),
        StatusCode::NOT_FOUND
    );
}

#[test]
fn an_expired_session_ends_the_clients_stream_and_settles_its_requests() {
    let t0 = Instant::now();
    let (mut client, mut server, mut wire, _) = ready_pair(t0);
    wire.answering = false;
    let id = client
        .endpoint()
        .request(t0, &call("slow"), RequestOptions::default())
        .unwrap();
    run(t0, &mut client, &mut server, &mut wire);
    // The server expires the session before the application answers.
    let later = t0 + IDLE;
    server.handle_timeout(later);
    run(later, &mut client, &mut server, &mut wire);
    let ended = events(&mut client);
    assert!(
        matches!(&ended[..], [
            ClientEvent::Response { id: done, outcome: Outcome::Failed(RequestFailure::Transport(TransportFailure::StreamClosed)), .. },
            ClientEvent::Closed(report),
        ] if *done == id && report.reason == CloseReason::Transport(TransportFailure::StreamClosed)),
        "{ended:?}"
    );
    assert_eq!(server.session_count(), 0);
}

#[test]
fn a_closed_get_stream_ends_the_session_and_settles_the_servers_requests() {
    let now = Instant::now();
    let (_client, mut server, wire, session) = ready_pair(now);
    let asked = server
        .endpoint(&session)
        .unwrap()
        .request(
            now,
            &ServerRequest::parse("roots/list", None).unwrap(),
            RequestOptions::default(),
        )
        .unwrap();
    drain(&mut server, now);
    server.handle_stream_closed(now, wire.get_stream.unwrap());
    let ended: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    let settled: Vec<_> = ended
        .iter()
        .filter(|(_, e)| matches!(e, ServerEvent::Settled(s) if s.id == asked))
        .collect();
    assert!(
        matches!(&settled[..], [(_, ServerEvent::Settled(s))] if s.outcome == Outcome::Failed(RequestFailure::Transport(TransportFailure::StreamClosed))),
        "{ended:?}"
    );
    assert!(matches!(ended.last(), Some((_, ServerEvent::Closed(_)))));
    assert_eq!(server.session_count(), 0);
    assert!(server.endpoint(&session).is_none());
    assert_eq!(server.poll_timeout(), None, "nothing left to wait for");
}

#[test]
fn the_application_closing_a_session_ends_its_stream() {
    let now = Instant::now();
    let (mut client, mut server, mut wire, session) = ready_pair(now);
    server.endpoint(&session).unwrap().close(now);
    run(now, &mut client, &mut server, &mut wire);
    assert_eq!(server.session_count(), 0);
    assert!(
        wire.server_events
            .iter()
            .any(|(s, e)| *s == session && matches!(e, ServerEvent::Closed(_)))
    );
    let ended = events(&mut client);
    assert!(
        matches!(&ended[..], [ClientEvent::Closed(r)] if r.reason == CloseReason::Transport(TransportFailure::StreamClosed)),
        "{ended:?}"
    );
}

#[test]
fn the_servers_request_deadline_is_in_its_timeout() {
    let now = Instant::now();
    let (_client, mut server, _wire, session) = ready_pair(now);
    let options = RequestOptions {
        timeout: Some(Duration::from_secs(2)),
        ..RequestOptions::default()
    };
    let asked = server
        .endpoint(&session)
        .unwrap()
        .request(
            now,
            &ServerRequest::parse("roots/list", None).unwrap(),
            options,
        )
        .unwrap();
    drain(&mut server, now);
    let deadline = now + Duration::from_secs(2);
    assert_eq!(server.poll_timeout(), Some(deadline));
    server.handle_timeout(deadline);
    let events: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
    assert!(
        events.iter().any(|(_, e)| matches!(e, ServerEvent::Settled(s) if s.id == asked && matches!(s.outcome, Outcome::Failed(RequestFailure::TimedOut { .. })))),
        "{events:?}"
    );
}

// ------------------------------------------------------------------------------------------
// Client: failures settle everything with a typed error
// ------------------------------------------------------------------------------------------

#[test]
fn a_post_answered_with_an_error_status_settles_its_request_with_the_status() {
    for status in [401u16, 404, 500, 503] {
        let now = Instant::now();
        let (mut client, _server, _wire, _) = ready_pair(now);
        let id = client
            .endpoint()
            .request(now, &call("t"), RequestOptions::default())
            .unwrap();
        let [HttpClientOutput::Send { exchange, request }] = &outputs(&mut client)[..] else {
            panic!()
        };
        assert_eq!(request.method(), "POST");
        let mut response = http::Response::new(b"upstream failed".to_vec());
        *response.status_mut() = StatusCode::from_u16(status).unwrap();
        if status == 401 {
            response
                .headers_mut()
                .insert("www-authenticate", r#"Bearer realm="x""#.parse().unwrap());
        }
        client.handle_response(now, *exchange, response);
        let settled = events(&mut client);
        let [
            ClientEvent::Response {
                id: done,
                outcome:
                    Outcome::Failed(RequestFailure::Transport(TransportFailure::HttpStatus {
                        status: got,
                        www_authenticate,
                        body_excerpt,
                    })),
                ..
            },
        ] = &settled[..]
        else {
            panic!("{status}: {settled:?}")
        };
        assert_eq!((done, *got), (&id, status));
        assert_eq!(body_excerpt, "upstream failed");
        assert_eq!(www_authenticate.is_some(), status == 401);
        // The client is still up: the failure concerned that one POST.
        assert!(client.endpoint().negotiated().is_some());
    }
}

#[test]
fn a_post_that_fails_on_the_network_settles_its_request() {
    let now = Instant::now();
    let (mut client, _server, _wire, _) = ready_pair(now);
    let id = client
        .endpoint()
        .request(now, &call("t"), RequestOptions::default())
        .unwrap();
    let [HttpClientOutput::Send { exchange, .. }] = &outputs(&mut client)[..] else {
        panic!()
    };
    client.handle_exchange_failed(now, *exchange, "connection reset".into());
    assert!(matches!(
        &events(&mut client)[..],
        [ClientEvent::Response {
            id: done,
            outcome: Outcome::Failed(RequestFailure::Transport(TransportFailure::ConnectionLost(why))),
            ..
        }] if *done == id && why == "connection reset"
    ));
}

#[test]
fn a_cut_stream_settles_every_pending_request_with_stream_closed() {
    let now = Instant::now();
    let (mut client, mut server, mut wire, _) = ready_pair(now);
    wire.answering = false;
    let ids: Vec<RequestId> = (0..3)
        .map(|i| {
            client
                .endpoint()
                .request(now, &call(&format!("t{i}")), RequestOptions::default())
                .unwrap()
        })
        .collect();
    run(now, &mut client, &mut server, &mut wire);
    assert!(events(&mut client).is_empty(), "nothing answered yet");
    client.handle_body_end(now, wire.get_exchange.unwrap());
    let ended = events(&mut client);
    let mut settled: Vec<&RequestId> = ended
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Response {
                id,
                outcome: Outcome::Failed(RequestFailure::Transport(TransportFailure::StreamClosed)),
                ..
            } => Some(id),
            ClientEvent::Response { .. } => panic!("{e:?}"),
            _ => None,
        })
        .collect();
    settled.sort_by_key(|id| id.to_string());
    let mut expected: Vec<&RequestId> = ids.iter().collect();
    expected.sort_by_key(|id| id.to_string());
    assert_eq!(settled, expected, "each pending request settles once");
    assert!(
        matches!(ended.last(), Some(ClientEvent::Closed(r)) if r.reason == CloseReason::Transport(TransportFailure::StreamClosed))
    );
    assert!(
        client.handshake_error().is_none(),
        "the handshake had succeeded"
    );
    assert!(
        outputs(&mut client).is_empty(),
        "the stream ended by itself: nothing to abort"
    );
    // Later input is ignored, and no request can be sent.
    client.handle_body(
        now,
        wire.get_exchange.unwrap(),
        b"event: message\ndata: {}\n\n",
    );
    assert!(events(&mut client).is_empty());
    assert!(
        client
            .endpoint()
            .request(now, &call("late"), RequestOptions::default())
            .is_err()
    );
}

/// A client whose GET was answered with an SSE head; returns the GET's exchange.
fn client_with_open_stream(url: &str, now: Instant) -> (SseClient, ExchangeId) {
    let mut client = sse_client_at(url);
    client.start(now).unwrap();
    let [HttpClientOutput::Send { exchange, request }] = &outputs(&mut client)[..] else {
        panic!()
    };
    assert_eq!(request.method(), "GET");
    assert_eq!(request.uri().to_string(), url);
    assert_eq!(request.headers()["accept"], "text/event-stream");
    let mut head = http::Response::new(());
    head.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    client.handle_response_head(now, *exchange, &head);
    (client, *exchange)
}

fn endpoint_event(data: &str) -> Vec<u8> {
    format!("event: endpoint\ndata: {data}\n\n").into_bytes()
}

/// Asserts the handshake failed with `expected`: initialize settled, the client closed.
fn assert_handshake_failed(client: &mut SseClient, expected: &SseHandshakeError) {
    assert_eq!(client.handshake_error(), Some(expected));
    let failed = events(client);
    assert!(
        matches!(&failed[..], [ClientEvent::HandshakeFailed(_), ClientEvent::Closed(r)]
            if r.reason == CloseReason::Transport(expected.to_transport_failure())),
        "{failed:?}"
    );
}

#[test]
fn an_endpoint_on_another_origin_is_refused() {
    for foreign in [
        "http://evil.example:8080/messages?sessionId=1",
        "//evil.example:8080/messages",
        "https://127.0.0.1:8080/messages",
        "http://127.0.0.1:9090/messages",
        "http://localhost:8080/messages",
    ] {
        let now = Instant::now();
        let (mut client, get) = client_with_open_stream(SSE_URL, now);
        client.handle_body(now, get, &endpoint_event(foreign));
        let expected = SseHandshakeError::ForeignOrigin {
            endpoint: foreign.to_owned(),
            expected: "http://127.0.0.1:8080".to_owned(),
        };
        assert_handshake_failed(&mut client, &expected);
        // The stream is given up, and nothing is ever POSTed.
        assert!(
            matches!(&outputs(&mut client)[..], [HttpClientOutput::Abort { exchange }] if *exchange == get),
            "{foreign}"
        );
        assert!(client.message_url().is_none());
    }
}

#[test]
fn the_endpoint_is_resolved_against_the_sse_url() {
    for (url, data, expected) in [
        (
            "http://127.0.0.1:8080/mcp/sse",
            "/messages?sessionId=1",
            "http://127.0.0.1:8080/messages?sessionId=1",
        ),
        (
            "http://127.0.0.1:8080/mcp/sse",
            "messages?sessionId=1",
            "http://127.0.0.1:8080/mcp/messages?sessionId=1",
        ),
        (
            "http://127.0.0.1:8080/mcp/sse",
            "../m",
            "http://127.0.0.1:8080/m",
        ),
        (
            "http://127.0.0.1:8080/mcp/sse",
            "?sessionId=1",
            "http://127.0.0.1:8080/mcp/sse?sessionId=1",
        ),
        (
            "http://127.0.0.1:8080/mcp/sse",
            "HTTP://127.0.0.1:8080/x?s=1#frag",
            "http://127.0.0.1:8080/x?s=1",
        ),
        (
            "http://Example.com/sse",
            "http://example.com:80/m",
            "http://Example.com/m",
        ),
        (
            "https://example.com/sse",
            " https://example.com:443/m \n",
            "https://example.com/m",
        ),
    ] {
        let now = Instant::now();
        let (mut client, get) = client_with_open_stream(url, now);
        client.handle_body(now, get, &endpoint_event(data));
        assert_eq!(client.handshake_error(), None, "{data}");
        assert_eq!(
            client.message_url().unwrap().to_string(),
            expected,
            "{data}"
        );
        // The held-back initialize goes to that URI.
        let sent = outputs(&mut client);
        let [HttpClientOutput::Send { request, .. }] = &sent[..] else {
            panic!("{sent:?}")
        };
        assert_eq!(request.method(), "POST");
        assert_eq!(request.uri().to_string(), expected);
        assert_eq!(request.headers()["content-type"], "application/json");
        assert!(String::from_utf8_lossy(request.body()).contains("\"initialize\""));
    }
}

#[test]
fn a_failed_get_ends_the_client_with_a_typed_handshake_error() {
    let now = Instant::now();

    // An error status.
    let mut client = sse_client();
    client.start(now).unwrap();
    let [HttpClientOutput::Send { exchange, .. }] = &outputs(&mut client)[..] else {
        panic!()
    };
    let mut response = http::Response::new(b"log in first".to_vec());
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response
        .headers_mut()
        .insert("www-authenticate", "Bearer".parse().unwrap());
    client.handle_response(now, *exchange, response);
    assert_handshake_failed(
        &mut client,
        &SseHandshakeError::HttpStatus {
            status: 401,
            www_authenticate: Some("Bearer".into()),
            body_excerpt: "log in first".into(),
        },
    );
    assert!(outputs(&mut client).is_empty(), "the GET is over already");

    // A success that is not an event stream (head first, as a streaming adapter reports it).
    let mut client = sse_client();
    client.start(now).unwrap();
    let [HttpClientOutput::Send { exchange, .. }] = &outputs(&mut client)[..] else {
        panic!()
    };
    let mut head = http::Response::new(());
    head.headers_mut()
        .insert("content-type", "text/html".parse().unwrap());
    client.handle_response_head(now, *exchange, &head);
    assert_handshake_failed(
        &mut client,
        &SseHandshakeError::NotEventStream {
            content_type: Some("text/html".into()),
        },
    );

    // The stream ends before the endpoint event.
    let (mut client, get) = client_with_open_stream(SSE_URL, now);
    client.handle_body(now, get, b": hello\n\n");
    client.handle_body_end(now, get);
    assert_handshake_failed(&mut client, &SseHandshakeError::StreamEnded);

    // The first event is not `endpoint`.
    let (mut client, get) = client_with_open_stream(SSE_URL, now);
    client.handle_body(
        now,
        get,
        b"data: {\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n\n",
    );
    assert_handshake_failed(
        &mut client,
        &SseHandshakeError::UnexpectedEvent {
            event: "message".into(),
        },
    );
    assert!(matches!(
        &outputs(&mut client)[..],
        [HttpClientOutput::Abort { .. }]
    ));

    // An endpoint that is not a URI reference.
    let (mut client, get) = client_with_open_stream(SSE_URL, now);
    client.handle_body(now, get, &endpoint_event("/with space"));
    assert!(matches!(
        client.handshake_error(),
        Some(SseHandshakeError::InvalidEndpoint { .. })
    ));

    // The connection breaks.
    let (mut client, get) = client_with_open_stream(SSE_URL, now);
    client.handle_exchange_failed(now, get, "reset".into());
    assert_handshake_failed(
        &mut client,
        &SseHandshakeError::ConnectionLost("reset".into()),
    );

    // An SSE URL that is not absolute cannot be requested.
    let mut client = sse_client_at("/sse");
    client.start(now).unwrap();
    assert!(matches!(
        client.handshake_error(),
        Some(SseHandshakeError::InvalidRequest(_))
    ));
    assert!(outputs(&mut client).is_empty());
}

#[test]
fn no_endpoint_event_before_the_initialize_deadline_fails_the_handshake() {
    let t0 = Instant::now();
    let (mut client, get) = client_with_open_stream(SSE_URL, t0);
    client.handle_body(t0, get, b": keep-alive\n\n");
    let deadline = client.poll_timeout().expect("initialize has a deadline");
    assert!(deadline > t0);
    client.handle_timeout(deadline);
    let failed = events(&mut client);
    assert!(
        matches!(
            &failed[..],
            [ClientEvent::HandshakeFailed(_), ClientEvent::Closed(_)]
        ),
        "{failed:?}"
    );
    assert!(
        matches!(&outputs(&mut client)[..], [HttpClientOutput::Abort { exchange }] if *exchange == get),
        "the stream is given up"
    );
}

#[test]
fn a_whole_sse_body_is_read_then_treated_as_the_end_of_the_stream() {
    // An adapter that buffers the GET's response hands it over in one piece: the endpoint event
    // is read (initialize goes out), then the stream is over and initialize settles.
    let now = Instant::now();
    let mut client = sse_client();
    client.start(now).unwrap();
    let [HttpClientOutput::Send { exchange, .. }] = &outputs(&mut client)[..] else {
        panic!()
    };
    let mut response = http::Response::new(endpoint_event("/messages?sessionId=1"));
    response.headers_mut().insert(
        "content-type",
        "text/event-stream; charset=utf-8".parse().unwrap(),
    );
    client.handle_response(now, *exchange, response);
    assert!(client.handshake_error().is_none());
    let failed = events(&mut client);
    assert!(
        matches!(&failed[..], [ClientEvent::HandshakeFailed(_), ClientEvent::Closed(r)] if r.reason == CloseReason::Transport(TransportFailure::StreamClosed)),
        "{failed:?}"
    );
}

/// The Streamable HTTP client pointed at a server that only speaks HTTP+SSE: its POSTs to the
/// SSE URL get 405 (`refusal`), as such servers answer.
fn fall_back(refusal: StatusCode, refusal_body: &str) -> (HttpClient, Vec<ClientEvent>, usize) {
    let now = Instant::now();
    let mut config = HttpClientConfig::new(
        SSE_URL.parse().unwrap(),
        ClientConfig::new(
            Implementation::new("cli", "1"),
            ClientCapabilities::default(),
        ),
    );
    config.legacy_sse = LegacySsePolicy::Fallback;
    let mut client = HttpClient::new(config);
    let mut server = sse_server(server_config());
    let mut exchanges: HashMap<StreamId, ExchangeId> = HashMap::new();
    let mut refused = 0;
    client.start(now).unwrap();
    let mut requested = false;
    let mut events = Vec::new();
    for _ in 0..100 {
        let mut moved = false;
        while let Some(output) = client.poll_output() {
            moved = true;
            let HttpClientOutput::Send { exchange, request } = output else {
                continue;
            };
            let (parts, body) = request.into_parts();
            match (parts.method.as_str(), parts.uri.path()) {
                ("POST", "/sse") => {
                    refused += 1;
                    let mut response = http::Response::new(refusal_body.as_bytes().to_vec());
                    *response.status_mut() = refusal;
                    if !refusal_body.is_empty() {
                        response
                            .headers_mut()
                            .insert("content-type", "application/json".parse().unwrap());
                    }
                    client.handle_response(now, exchange, response);
                }
                ("GET", "/sse") => {
                    exchanges.insert(server.handle_get(now, &parts), exchange);
                }
                ("POST", "/messages") => {
                    exchanges.insert(server.handle_post(now, &parts, &body), exchange);
                }
                other => panic!("unexpected request {other:?}"),
            }
        }
        while let Some((session, event)) = server.poll_event() {
            if let ServerEvent::Request { id, .. } = &event {
                server
                    .endpoint(&session)
                    .unwrap()
                    .respond(id, &json!({"tools": []}))
                    .unwrap();
            }
        }
        while let Some(output) = server.poll_output(now) {
            moved = true;
            match output {
                HttpOutput::Respond { stream, response } => {
                    client.handle_response(now, exchanges[&stream], response)
                }
                HttpOutput::StartEvents { stream, head } => {
                    client.handle_response_head(now, exchanges[&stream], &head)
                }
                HttpOutput::Events { stream, bytes } => {
                    client.handle_body(now, exchanges[&stream], &bytes)
                }
                HttpOutput::EndEvents { stream } => client.handle_body_end(now, exchanges[&stream]),
            }
        }
        while let Some(event) = client.poll_event() {
            moved = true;
            if matches!(event, ClientEvent::Ready(_)) && !requested {
                requested = true;
                client
                    .endpoint()
                    .request(
                        now,
                        &ClientRequest::parse("tools/list", None).unwrap(),
                        RequestOptions::default(),
                    )
                    .unwrap();
            }
            events.push(event);
        }
        if !moved {
            break;
        }
    }
    (client, events, refused)
}

#[test]
fn the_http_client_falls_back_to_http_sse_when_initialize_is_refused() {
    for status in [
        StatusCode::METHOD_NOT_ALLOWED,
        StatusCode::NOT_FOUND,
        StatusCode::BAD_REQUEST,
    ] {
        let (client, events, refused) = fall_back(status, "");
        assert_eq!(refused, 2, "server/discover, then initialize");
        assert!(client.uses_legacy_sse(), "{status}");
        assert!(
            matches!(&events[..], [ClientEvent::Ready(n), ClientEvent::Response { outcome: Outcome::Result(_), .. }] if n.era == Era::Legacy),
            "{status}: {events:?}"
        );
    }
}

#[test]
fn no_fallback_on_a_modern_json_rpc_error_or_other_statuses() {
    let error = r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"no"}}"#;
    for (status, body) in [
        (StatusCode::BAD_REQUEST, error),
        (StatusCode::INTERNAL_SERVER_ERROR, ""),
        (StatusCode::UNAUTHORIZED, ""),
    ] {
        let (client, events, _) = fall_back(status, body);
        assert!(!client.uses_legacy_sse(), "{status}");
        assert!(
            matches!(
                &events[..],
                [ClientEvent::HandshakeFailed(_), ClientEvent::Closed(_)]
            ),
            "{status}: {events:?}"
        );
    }
}
