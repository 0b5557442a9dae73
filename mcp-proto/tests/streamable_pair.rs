//! The Streamable HTTP client and server wired to each other in memory (requests and
//! responses as `http` values), and the client against canned failures: every HTTP error
//! status and a cut SSE stream settle the pending request in the same call that received them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use http::StatusCode;
use mcp_proto::engine::{
    ClientConfig, ClientEvent, Outcome, RequestFailure, RequestOptions, ServerConfig, ServerEvent,
    TransportFailure,
};
use mcp_proto::jsonrpc::{RawJson, RequestId};
use mcp_proto::streamable::{
    EndpointRef, ExchangeId, HttpClient, HttpClientConfig, HttpClientOutput, HttpOutput,
    HttpServer, HttpServerConfig, StreamId,
};
use mcp_proto::types::methods::ClientRequest;
use mcp_proto::types::{ClientCapabilities, Era, Implementation, ServerCapabilities, version};
use serde_json::json;

fn http_server(legacy_only: bool) -> HttpServer {
    let capabilities = ServerCapabilities {
        tools: Some(Default::default()),
        ..Default::default()
    };
    let mut server = ServerConfig::new(Implementation::new("srv", "1"), capabilities);
    if legacy_only {
        server.supported_versions = version::SUPPORTED_LEGACY.to_vec();
    }
    let mut counter = 0u8;
    let entropy = Box::new(move |buf: &mut [u8]| {
        counter = counter.wrapping_add(1);
        buf.fill(counter);
    });
    let mut config = HttpServerConfig::new(server.clone());
    config.policy.supported_versions = server.supported_versions;
    HttpServer::new(config, entropy)
}

fn http_client() -> HttpClient {
    let mut config = HttpClientConfig::new(
        "http://127.0.0.1:8080/mcp".parse().unwrap(),
        ClientConfig::new(
            Implementation::new("cli", "1"),
            ClientCapabilities::default(),
        ),
    );
    config
        .headers
        .insert("authorization", "Bearer token-123".parse().unwrap());
    HttpClient::new(config)
}

/// Carries requests to the server and responses back until both sides are quiet; the server
/// application answers every request.
fn run(
    now: Instant,
    client: &mut HttpClient,
    server: &mut HttpServer,
    exchanges: &mut HashMap<StreamId, ExchangeId>,
) -> Vec<(EndpointRef, ServerEvent)> {
    run_with(now, client, server, exchanges, &mut answer).0
}

/// The server application of [`run`]: every request gets a result.
fn answer(server: &mut HttpServer, origin: &EndpointRef, id: &RequestId, request: &ClientRequest) {
    let result = match request.method() {
        "tools/call" => json!({"content": [{"type": "text", "text": "done"}]}),
        _ => json!({"tools": []}),
    };
    server
        .endpoint(origin)
        .unwrap()
        .respond(id, &result)
        .unwrap();
}

type Application<'a> = dyn FnMut(&mut HttpServer, &EndpointRef, &RequestId, &ClientRequest) + 'a;

/// [`run`] with the server application given, returning also the heads of the HTTP requests
/// the client made.
fn run_with(
    now: Instant,
    client: &mut HttpClient,
    server: &mut HttpServer,
    exchanges: &mut HashMap<StreamId, ExchangeId>,
    application: &mut Application<'_>,
) -> (Vec<(EndpointRef, ServerEvent)>, Vec<http::request::Parts>) {
    let mut other_events = Vec::new();
    let mut sent = Vec::new();
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
                    let stream = match parts.method.as_str() {
                        "GET" => server.handle_get(now, &parts),
                        "DELETE" => server.handle_delete(now, &parts),
                        _ => server.handle_post(now, &parts, &body),
                    };
                    exchanges.insert(stream, exchange);
                    sent.push(parts);
                }
                HttpClientOutput::Abort { exchange } => {
                    let stream = exchanges
                        .iter()
                        .find(|(_, e)| **e == exchange)
                        .map(|(s, _)| *s)
                        .unwrap();
                    server.handle_stream_closed(now, stream);
                }
            }
        }
        while let Some((origin, event)) = server.poll_event() {
            if let ServerEvent::Request { id, request, .. } = &event {
                application(server, &origin, id, request);
            } else {
                other_events.push((origin, event));
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
        if !moved {
            return (other_events, sent);
        }
    }
}

fn events(client: &mut HttpClient) -> Vec<ClientEvent> {
    std::iter::from_fn(|| client.poll_event()).collect()
}

fn call(name: &str) -> ClientRequest {
    ClientRequest::parse(
        "tools/call",
        Some(&RawJson::from_serialize(&json!({"name": name})).unwrap()),
    )
    .unwrap()
}

#[test]
fn a_modern_exchange_over_http_with_validated_headers() {
    let now = Instant::now();
    let (mut client, mut server, mut map) = (http_client(), http_server(false), HashMap::new());
    client.start(now).unwrap();
    run(now, &mut client, &mut server, &mut map);
    assert!(matches!(&events(&mut client)[..], [ClientEvent::Ready(n)] if n.era == Era::Modern));
    // A non-ASCII tool name travels base64-encoded in Mcp-Name and passes the server's check.
    let id = client
        .endpoint()
        .request(now, &call("météo"), RequestOptions::default())
        .unwrap();
    run(now, &mut client, &mut server, &mut map);
    let answered = events(&mut client);
    assert!(
        matches!(&answered[..], [ClientEvent::Response { id: done, outcome: Outcome::Result(_), .. }] if *done == id),
        "{answered:?}"
    );
    assert_eq!(
        client.session_id(),
        None,
        "no sessions in the modern protocol"
    );
}

#[test]
fn a_legacy_server_gets_initialize_a_session_and_a_delete_at_the_end() {
    let now = Instant::now();
    let (mut client, mut server, mut map) = (http_client(), http_server(true), HashMap::new());
    client.start(now).unwrap();
    run(now, &mut client, &mut server, &mut map);
    let ready = events(&mut client);
    assert!(
        matches!(&ready[..], [ClientEvent::Ready(n)] if n.era == Era::Legacy),
        "{ready:?}"
    );
    assert!(client.session_id().is_some());
    assert_eq!(server.session_count(), 1);
    let id = client
        .endpoint()
        .request(
            now,
            &ClientRequest::parse("tools/list", None).unwrap(),
            RequestOptions::default(),
        )
        .unwrap();
    run(now, &mut client, &mut server, &mut map);
    assert!(
        matches!(&events(&mut client)[..], [ClientEvent::Response { id: done, outcome: Outcome::Result(_), .. }] if *done == id)
    );
    client.close(now);
    run(now, &mut client, &mut server, &mut map);
    assert!(matches!(
        events(&mut client).last(),
        Some(ClientEvent::Closed(_))
    ));
    assert_eq!(server.session_count(), 0, "the client deleted its session");
}

/// Starts a client against a modern server and sends one request, returning the exchange the
/// adapter would now perform.
fn pending_request() -> (HttpClient, ExchangeId, RequestId, Instant) {
    let now = Instant::now();
    let (mut client, mut server, mut map) = (http_client(), http_server(false), HashMap::new());
    client.start(now).unwrap();
    run(now, &mut client, &mut server, &mut map);
    events(&mut client);
    let id = client
        .endpoint()
        .request(now, &call("t"), RequestOptions::default())
        .unwrap();
    let Some(HttpClientOutput::Send { exchange, .. }) = client.poll_output() else {
        panic!()
    };
    (client, exchange, id, now)
}

#[test]
fn every_error_status_settles_the_request_at_once_with_the_status() {
    for status in [401u16, 403, 404, 500, 502, 503] {
        let (mut client, exchange, id, now) = pending_request();
        let mut response = http::Response::new(b"<html>upstream failed</html>".to_vec());
        *response.status_mut() = StatusCode::from_u16(status).unwrap();
        response
            .headers_mut()
            .insert("content-type", "text/html".parse().unwrap());
        if status == 401 {
            response.headers_mut().insert(
                "www-authenticate",
                r#"Bearer resource_metadata="https://x/.well-known/oauth-protected-resource""#
                    .parse()
                    .unwrap(),
            );
        }
        client.handle_response(now, exchange, response);
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
        assert!(body_excerpt.contains("upstream failed"));
        assert_eq!(www_authenticate.is_some(), status == 401);
    }
}

#[test]
fn a_modern_servers_json_rpc_error_is_its_answer_not_a_transport_failure() {
    let (mut client, exchange, id, now) = pending_request();
    let mut response = http::Response::new(serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "Method not found"}})).unwrap());
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    client.handle_response(now, exchange, response);
    assert!(
        matches!(&events(&mut client)[..], [ClientEvent::Response { outcome: Outcome::Error(e), .. }] if e.code.0 == -32601)
    );
    // An error body that names no request still settles the one this POST carried.
    let (mut client, exchange, _, now) = pending_request();
    let mut response = http::Response::new(
        br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"bad"}}"#.to_vec(),
    );
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    client.handle_response(now, exchange, response);
    assert!(matches!(
        &events(&mut client)[..],
        [ClientEvent::Response {
            outcome: Outcome::Failed(RequestFailure::Transport(TransportFailure::HttpStatus {
                status: 400,
                ..
            })),
            ..
        }]
    ));
}

#[test]
fn a_stream_cut_before_the_answer_settles_at_once() {
    let (mut client, exchange, id, now) = pending_request();
    let mut head = http::Response::new(());
    head.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    client.handle_response_head(now, exchange, &head);
    client.handle_body(now, exchange, b"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"x\"}}\n\n");
    assert!(
        matches!(&events(&mut client)[..], [ClientEvent::Notification(_)]),
        "the stream's notification arrives"
    );
    client.handle_body_end(now, exchange);
    let settled = events(&mut client);
    assert!(
        matches!(&settled[..], [ClientEvent::Response { id: done, outcome: Outcome::Failed(RequestFailure::Transport(TransportFailure::StreamClosed)), .. }] if *done == id),
        "{settled:?}"
    );
    // A network failure does the same.
    let (mut client, exchange, _, now) = pending_request();
    client.handle_exchange_failed(now, exchange, "connection reset".into());
    assert!(matches!(
        &events(&mut client)[..],
        [ClientEvent::Response {
            outcome: Outcome::Failed(RequestFailure::Transport(TransportFailure::ConnectionLost(
                _
            ))),
            ..
        }]
    ));
}

#[test]
fn a_modern_cancel_closes_the_stream_and_the_server_sees_it() {
    let now = Instant::now();
    let (mut client, mut server, mut map) = (http_client(), http_server(false), HashMap::new());
    client.start(now).unwrap();
    run(now, &mut client, &mut server, &mut map);
    events(&mut client);
    let id = client
        .endpoint()
        .request(now, &call("slow"), RequestOptions::default())
        .unwrap();
    // Deliver the request but keep the server application from answering.
    let Some(HttpClientOutput::Send { exchange, request }) = client.poll_output() else {
        panic!()
    };
    let (parts, body) = request.into_parts();
    let stream = server.handle_post(now, &parts, &body);
    map.insert(stream, exchange);
    assert!(matches!(
        server.poll_event(),
        Some((EndpointRef::Modern, ServerEvent::Request { .. }))
    ));
    assert!(client.endpoint().cancel(now, &id, None));
    assert!(
        matches!(client.poll_output(), Some(HttpClientOutput::Abort { exchange: e }) if e == exchange)
    );
    server.handle_stream_closed(now, stream);
    assert!(matches!(
        server.poll_event(),
        Some((_, ServerEvent::Cancelled { .. }))
    ));
}

#[test]
fn the_era_probe_falls_back_on_legacy_answers_but_not_on_auth_or_server_errors() {
    use mcp_proto::engine::HandshakeError;
    for (status, falls_back) in [
        (400u16, true),
        (404, true),
        (405, true),
        (401, false),
        (403, false),
        (500, false),
        (502, false),
    ] {
        let now = Instant::now();
        let mut client = http_client();
        client.start(now).unwrap();
        let Some(HttpClientOutput::Send { exchange, .. }) = client.poll_output() else {
            panic!()
        };
        let mut response = http::Response::new(b"no".to_vec());
        *response.status_mut() = StatusCode::from_u16(status).unwrap();
        client.handle_response(now, exchange, response);
        let next = client.poll_output();
        let initialize = matches!(&next, Some(HttpClientOutput::Send { request, .. }) if String::from_utf8_lossy(request.body()).contains("\"initialize\""));
        assert_eq!(initialize, falls_back, "{status}");
        if !falls_back {
            let failed = events(&mut client);
            assert!(
                matches!(&failed[0], ClientEvent::HandshakeFailed(HandshakeError::Transport { failure: TransportFailure::HttpStatus { status: got, .. }, .. }) if *got == status),
                "{status}: {failed:?}"
            );
        }
    }
}

/// Seen with the Python SDK 1.x: its stateful server answers the `server/discover` probe (a
/// POST without a session) with 400 "Missing session ID" and, on that refusal, an
/// `Mcp-Session-Id` of a session it ends at once. Only the answer to `initialize` assigns a
/// session: adopting that id made the fallback `initialize` fail with 404.
#[test]
fn a_session_id_on_the_refused_era_probe_is_not_adopted() {
    let now = Instant::now();
    let (mut client, mut server, mut map) = (http_client(), http_server(true), HashMap::new());
    client.start(now).unwrap();
    let Some(HttpClientOutput::Send { exchange, request }) = client.poll_output() else {
        panic!()
    };
    assert!(String::from_utf8_lossy(request.body()).contains("server/discover"));
    let refusal = http::Response::builder()
        .status(400)
        .header("content-type", "application/json")
        .header("mcp-session-id", "abandoned-by-the-server")
        .body(
            br#"{"jsonrpc":"2.0","id":"server-error","error":{"code":-32600,"message":"Bad Request: Missing session ID"}}"#
                .to_vec(),
        )
        .unwrap();
    client.handle_response(now, exchange, refusal);
    assert_eq!(client.session_id(), None);
    let (_, sent) = run_with(now, &mut client, &mut server, &mut map, &mut answer);
    assert_eq!(
        sent[0].method,
        http::Method::POST,
        "the fallback initialize"
    );
    assert_eq!(
        sent[0].headers.get("mcp-session-id"),
        None,
        "the fallback initialize starts without a session"
    );
    let ready = events(&mut client);
    assert!(
        matches!(&ready[..], [ClientEvent::Ready(n)] if n.era == Era::Legacy),
        "{ready:?}"
    );
    let assigned = client.session_id().unwrap().to_owned();
    assert_ne!(assigned, "abandoned-by-the-server");
    assert_eq!(server.session_count(), 1);
}

#[test]
fn a_legacy_servers_own_requests_reach_the_client_on_the_get_stream() {
    use mcp_proto::types::methods::ServerRequest;
    let now = Instant::now();
    let mut config = HttpClientConfig::new(
        "http://127.0.0.1:8080/mcp".parse().unwrap(),
        ClientConfig::new(
            Implementation::new("cli", "1"),
            serde_json::from_value(json!({"sampling": {}})).unwrap(),
        ),
    );
    config
        .headers
        .insert("authorization", "Bearer token-123".parse().unwrap());
    let (mut client, mut server, mut map) =
        (HttpClient::new(config), http_server(true), HashMap::new());
    client.start(now).unwrap();
    run(now, &mut client, &mut server, &mut map);
    assert!(matches!(&events(&mut client)[..], [ClientEvent::Ready(n)] if n.era == Era::Legacy));
    assert!(
        server.open_streams() >= 1,
        "the client opened the session's GET stream"
    );

    let session =
        mcp_proto::http::SessionId::parse(client.session_id().unwrap().as_bytes()).unwrap();
    let origin = EndpointRef::Session(session);
    let sampling = ServerRequest::parse(
        "sampling/createMessage",
        Some(&RawJson::from_text(r#"{"messages":[],"maxTokens":5}"#).unwrap()),
    )
    .unwrap();
    let asked = server
        .endpoint(&origin)
        .unwrap()
        .request(now, &sampling, RequestOptions::default())
        .unwrap();
    run(now, &mut client, &mut server, &mut map);
    let [
        ClientEvent::Request {
            id,
            request: ServerRequest::CreateMessage(_),
        },
    ] = &events(&mut client)[..]
    else {
        panic!("the request arrived")
    };
    let answer = RawJson::from_text(
        r#"{"role":"assistant","content":{"type":"text","text":"hi"},"model":"m"}"#,
    )
    .unwrap();
    client.endpoint().respond(id, Ok(answer)).unwrap();
    let settled = run(now, &mut client, &mut server, &mut map);
    assert!(
        settled.iter().any(|(_, e)| matches!(e, ServerEvent::Settled(s) if s.id == asked && matches!(s.outcome, Outcome::Result(_)))),
        "{settled:?}"
    );
}

#[test]
fn a_servers_request_about_a_call_travels_on_its_stream_and_our_answer_does_not_end_it() {
    use mcp_proto::types::methods::ServerRequest;
    let now = Instant::now();
    let mut config = HttpClientConfig::new(
        "http://127.0.0.1:8080/mcp".parse().unwrap(),
        ClientConfig::new(
            Implementation::new("cli", "1"),
            serde_json::from_value(json!({"roots": {}})).unwrap(),
        ),
    );
    config
        .headers
        .insert("authorization", "Bearer token-123".parse().unwrap());
    let (mut client, mut server, mut map) =
        (HttpClient::new(config), http_server(true), HashMap::new());
    client.start(now).unwrap();
    run(now, &mut client, &mut server, &mut map);
    events(&mut client);
    let call_id = client
        .endpoint()
        .request(now, &call("survey"), RequestOptions::default())
        .unwrap();
    // The application asks for roots about the call instead of answering it.
    let mut asked = None;
    let (_, sent) = run_with(
        now,
        &mut client,
        &mut server,
        &mut map,
        &mut |server, origin, id, request| {
            assert_eq!(request.method(), "tools/call");
            let roots = ServerRequest::parse("roots/list", None).unwrap();
            let endpoint = server.endpoint(origin).unwrap();
            asked = Some((
                origin.clone(),
                id.clone(),
                endpoint
                    .request_related(now, &roots, RequestOptions::default(), id)
                    .unwrap(),
            ));
        },
    );
    assert_eq!(
        sent.iter()
            .filter(|p| p.method == http::Method::GET)
            .count(),
        0,
        "the request came on the call's own stream, not the standalone one"
    );
    let (origin, server_call_id, _) = asked.unwrap();
    let [ClientEvent::Request { id, .. }] = &events(&mut client)[..] else {
        panic!("the roots request arrived")
    };
    let roots = RawJson::from_text(r#"{"roots":[]}"#).unwrap();
    client.endpoint().respond(id, Ok(roots)).unwrap();
    run(now, &mut client, &mut server, &mut map);
    assert!(
        events(&mut client).is_empty(),
        "the 202 answering our POST did not settle the call"
    );
    server
        .endpoint(&origin)
        .unwrap()
        .respond(&server_call_id, &json!({"content": []}))
        .unwrap();
    run(now, &mut client, &mut server, &mut map);
    assert!(matches!(
        &events(&mut client)[..],
        [ClientEvent::Response { id, outcome: Outcome::Result(_), .. }] if *id == call_id
    ));
}

/// A client with a ready legacy session.
fn legacy_pair(now: Instant) -> (HttpClient, HttpServer, HashMap<StreamId, ExchangeId>) {
    let (mut client, mut server, mut map) = (http_client(), http_server(true), HashMap::new());
    client.start(now).unwrap();
    run(now, &mut client, &mut server, &mut map);
    assert!(matches!(&events(&mut client)[..], [ClientEvent::Ready(n)] if n.era == Era::Legacy));
    (client, server, map)
}

fn tools_list() -> ClientRequest {
    ClientRequest::parse("tools/list", None).unwrap()
}

#[test]
fn a_legacy_stream_the_server_closes_is_resumed_after_retry_with_last_event_id() {
    let now = Instant::now();
    let (mut client, mut server, mut map) = legacy_pair(now);
    let id = client
        .endpoint()
        .request(now, &tools_list(), RequestOptions::default())
        .unwrap();
    // The server application closes the connection without answering (SSE polling).
    let mut parked = Vec::new();
    run_with(
        now,
        &mut client,
        &mut server,
        &mut map,
        &mut |server: &mut HttpServer, origin: &EndpointRef, id: &RequestId, _: &ClientRequest| {
            assert!(server.disconnect_request_stream(now, origin, id));
            parked.push((origin.clone(), id.clone()));
        },
    );
    assert!(events(&mut client).is_empty(), "the request is not settled");
    let due = now + Duration::from_millis(1000);
    assert_eq!(
        client.poll_timeout(),
        Some(due),
        "the server's retry is honoured"
    );
    let (origin, server_id) = parked.pop().unwrap();
    answer(&mut server, &origin, &server_id, &tools_list());
    run(now, &mut client, &mut server, &mut map);
    assert!(
        events(&mut client).is_empty(),
        "nothing before the retry time"
    );

    client.handle_timeout(due);
    let (_, sent) = run_with(due, &mut client, &mut server, &mut map, &mut answer);
    let get = sent.iter().find(|p| p.method == "GET").unwrap();
    assert!(
        get.headers["last-event-id"]
            .to_str()
            .unwrap()
            .ends_with("-0")
    );
    assert!(get.headers.contains_key("mcp-session-id"));
    let settled = events(&mut client);
    assert!(
        matches!(&settled[..], [ClientEvent::Response { id: done, outcome: Outcome::Result(_), .. }] if *done == id),
        "{settled:?}"
    );
}

#[test]
fn fruitless_resumptions_are_bounded_then_the_request_fails() {
    let now = Instant::now();
    let (mut client, _server, _map) = legacy_pair(now);
    // Drop the standalone GET the handshake opened.
    while client.poll_output().is_some() {}
    let id = client
        .endpoint()
        .request(now, &tools_list(), RequestOptions::default())
        .unwrap();
    let Some(HttpClientOutput::Send { exchange, .. }) = client.poll_output() else {
        panic!()
    };
    let mut head = http::Response::new(());
    head.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    client.handle_response_head(now, exchange, &head);
    client.handle_body(now, exchange, b"id: s-0\nretry: 10\ndata:\n\n");
    client.handle_body_end(now, exchange);
    let mut at = now;
    let mut resumptions = 0;
    while let Some(due) = client.poll_timeout() {
        at = at.max(due);
        client.handle_timeout(at);
        let Some(HttpClientOutput::Send { exchange, request }) = client.poll_output() else {
            break;
        };
        assert_eq!(request.method(), "GET");
        assert_eq!(request.headers()["last-event-id"], "s-0");
        resumptions += 1;
        // Each resumption opens and ends without a new event.
        client.handle_response_head(at, exchange, &head);
        client.handle_body_end(at, exchange);
        if resumptions > 10 {
            panic!("resumptions are not bounded");
        }
    }
    assert_eq!(resumptions, 3);
    let settled = events(&mut client);
    assert!(
        matches!(&settled[..], [ClientEvent::Response { id: done, outcome: Outcome::Failed(RequestFailure::Transport(TransportFailure::StreamClosed)), .. }] if *done == id),
        "{settled:?}"
    );
}

#[test]
fn a_404_on_a_lost_session_starts_a_new_one_and_retries_once() {
    let now = Instant::now();
    let (mut client, mut server, mut map) = legacy_pair(now);
    let first_session = client.session_id().unwrap().to_owned();
    // The server forgets the session (e.g. a restart or idle expiry).
    let (parts, ()) = http::Request::delete("/mcp")
        .header("host", "localhost")
        .header("mcp-session-id", first_session.as_str())
        .body(())
        .unwrap()
        .into_parts();
    server.handle_delete(now, &parts);
    while server.poll_output(now).is_some() {}
    while server.poll_event().is_some() {}

    let id = client
        .endpoint()
        .request(now, &tools_list(), RequestOptions::default())
        .unwrap();
    run(now, &mut client, &mut server, &mut map);
    let settled = events(&mut client);
    assert!(
        matches!(&settled[..], [ClientEvent::Response { id: done, outcome: Outcome::Result(_), .. }] if *done == id),
        "{settled:?}"
    );
    assert_eq!(client.reinitializations(), 1);
    assert_ne!(client.session_id().unwrap(), first_session);
    assert_eq!(server.session_count(), 1);
}

#[test]
fn a_failed_reinitialization_settles_the_request_with_the_404() {
    let now = Instant::now();
    let (mut client, _server, _map) = legacy_pair(now);
    while client.poll_output().is_some() {}
    let id = client
        .endpoint()
        .request(now, &tools_list(), RequestOptions::default())
        .unwrap();
    let Some(HttpClientOutput::Send { exchange, .. }) = client.poll_output() else {
        panic!()
    };
    let mut not_found = http::Response::new(Vec::new());
    *not_found.status_mut() = StatusCode::NOT_FOUND;
    client.handle_response(now, exchange, not_found.clone());
    assert!(events(&mut client).is_empty(), "held for the new session");
    let Some(HttpClientOutput::Send { exchange, request }) = client.poll_output() else {
        panic!()
    };
    assert!(
        !request.headers().contains_key("mcp-session-id"),
        "initialize goes without a session"
    );
    assert!(String::from_utf8_lossy(request.body()).contains("\"initialize\""));
    let mut failure = http::Response::new(b"down".to_vec());
    *failure.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    client.handle_response(now, exchange, failure);
    let settled = events(&mut client);
    assert!(
        matches!(&settled[..], [ClientEvent::Response { id: done, outcome: Outcome::Failed(RequestFailure::Transport(TransportFailure::HttpStatus { status: 404, .. })), .. }] if *done == id),
        "{settled:?}"
    );
}

#[test]
fn the_standalone_stream_is_reopened_and_resumed_when_it_ends() {
    let now = Instant::now();
    let (mut client, mut server, mut map) = (http_client(), http_server(true), HashMap::new());
    client.start(now).unwrap();
    let (_, sent) = run_with(now, &mut client, &mut server, &mut map, &mut answer);
    events(&mut client);
    // Streams are numbered in the order the requests arrived.
    let at = sent.iter().position(|p| p.method == "GET").unwrap();
    let mut streams: Vec<StreamId> = map.keys().copied().collect();
    streams.sort();
    let stream = streams[at];
    let standalone = map[&stream];
    // The connection of the GET stream breaks.
    client.handle_body_end(now, standalone);
    server.handle_stream_closed(now, stream);
    // A server request sent meanwhile waits for the client to come back.
    let origin = EndpointRef::Session(
        mcp_proto::http::SessionId::parse(client.session_id().unwrap().as_bytes()).unwrap(),
    );
    let ping = mcp_proto::types::methods::ServerRequest::parse("ping", None).unwrap();
    server
        .endpoint(&origin)
        .unwrap()
        .request(now, &ping, RequestOptions::default())
        .unwrap();
    run(now, &mut client, &mut server, &mut map);
    assert!(events(&mut client).is_empty());
    let due = client.poll_timeout().unwrap();
    assert_eq!(due, now + Duration::from_secs(1));
    client.handle_timeout(due);
    let (server_events, sent) = run_with(due, &mut client, &mut server, &mut map, &mut answer);
    assert!(
        sent.iter()
            .any(|p| p.method == "GET" && p.headers.contains_key("last-event-id"))
    );
    // The client engine answers pings itself; the server sees its answer.
    assert!(
        server_events
            .iter()
            .any(|(_, e)| matches!(e, ServerEvent::Settled(_))),
        "{server_events:?}"
    );
    assert_eq!(
        server.open_streams(),
        1,
        "the standalone stream is connected again"
    );
}

fn annotated_tools() -> Vec<mcp_proto::types::Tool> {
    serde_json::from_value(json!([
        {"name": "weather", "inputSchema": {"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "days": {"type": "integer", "x-mcp-header": "Days"}}}},
        {"name": "broken", "inputSchema": {"type": "object", "properties": {
            "ratio": {"type": "number", "x-mcp-header": "Ratio"}}}}
    ]))
    .unwrap()
}

#[test]
fn x_mcp_header_parameters_are_mirrored_checked_and_invalid_tools_excluded() {
    let now = Instant::now();
    let (mut client, mut server, mut map) = (http_client(), http_server(false), HashMap::new());
    let invalid = server.set_tools(&annotated_tools());
    assert_eq!(invalid.len(), 1, "the server reports its own broken tool");
    client.start(now).unwrap();
    run(now, &mut client, &mut server, &mut map);
    events(&mut client);
    let mut serve_tools = |server: &mut HttpServer,
                           origin: &EndpointRef,
                           id: &RequestId,
                           request: &ClientRequest| {
        let result = match request.method() {
            "tools/list" => json!({"tools": annotated_tools(), "ttlMs": 0, "cacheScope": "public"}),
            _ => json!({"content": [{"type": "text", "text": "sunny"}]}),
        };
        server
            .endpoint(origin)
            .unwrap()
            .respond(id, &result)
            .unwrap();
    };
    client
        .endpoint()
        .request(now, &tools_list(), RequestOptions::default())
        .unwrap();
    run_with(now, &mut client, &mut server, &mut map, &mut serve_tools);
    let listed = events(&mut client);
    let [
        ClientEvent::ToolExcluded { tool, .. },
        ClientEvent::Response {
            outcome: Outcome::Result(raw),
            ..
        },
    ] = &listed[..]
    else {
        panic!("{listed:?}")
    };
    assert_eq!(tool, "broken");
    let result: serde_json::Value = raw.parse().unwrap();
    assert_eq!(result["tools"].as_array().unwrap().len(), 1);
    assert_eq!(result["tools"][0]["name"], "weather");

    let call = ClientRequest::parse(
        "tools/call",
        Some(
            &RawJson::from_serialize(
                &json!({"name": "weather", "arguments": {"region": "Zürich", "days": 3}}),
            )
            .unwrap(),
        ),
    )
    .unwrap();
    client
        .endpoint()
        .request(now, &call, RequestOptions::default())
        .unwrap();
    let (_, sent) = run_with(now, &mut client, &mut server, &mut map, &mut serve_tools);
    let post = sent.last().unwrap();
    assert_eq!(post.headers["mcp-param-days"], "3");
    assert!(
        post.headers["mcp-param-region"]
            .to_str()
            .unwrap()
            .starts_with("=?base64?"),
        "non-ASCII values travel base64-encoded"
    );
    assert!(
        matches!(
            &events(&mut client)[..],
            [ClientEvent::Response {
                outcome: Outcome::Result(_),
                ..
            }]
        ),
        "the server's check passes"
    );

    // A request whose header disagrees with its arguments is refused by the server.
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "1"},
                      "io.modelcontextprotocol/clientCapabilities": {}});
    let body = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
        "params": {"name": "weather", "arguments": {"region": "eu", "days": 3}, "_meta": meta}});
    let raw_call = |region: &str| {
        http::Request::post("/mcp")
            .header("host", "127.0.0.1:8080")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", "weather")
            .header("mcp-param-region", region)
            .header("mcp-param-days", "3")
            .body(())
            .unwrap()
            .into_parts()
            .0
    };
    // With agreeing headers the request reaches the application.
    server.handle_post(now, &raw_call("eu"), &serde_json::to_vec(&body).unwrap());
    assert!(server.poll_output(now).is_none());
    assert!(matches!(
        server.poll_event(),
        Some((_, ServerEvent::Request { .. }))
    ));
    let body = json!({"jsonrpc": "2.0", "id": 10, "method": "tools/call",
        "params": {"name": "weather", "arguments": {"region": "eu", "days": 3}, "_meta": meta}});
    let (parts, ()) = http::Request::post("/mcp")
        .header("host", "127.0.0.1:8080")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "weather")
        .header("mcp-param-region", "us")
        .header("mcp-param-days", "3")
        .body(())
        .unwrap()
        .into_parts();
    server.handle_post(now, &parts, &serde_json::to_vec(&body).unwrap());
    let Some(HttpOutput::Respond { response, .. }) = server.poll_output(now) else {
        panic!()
    };
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(error["error"]["code"], -32020);
    assert_eq!(error["id"], 10);
}

/// A legacy handshake in which the standalone GET is not delivered: returns the GET's exchange
/// and request head, the client being Ready.
fn legacy_ready_with_get_in_flight(
    now: Instant,
    client: &mut HttpClient,
    server: &mut HttpServer,
    exchanges: &mut HashMap<StreamId, ExchangeId>,
) -> (ExchangeId, http::request::Parts) {
    client.start(now).unwrap();
    let mut get = None;
    loop {
        let mut moved = false;
        while let Some(output) = client.poll_output() {
            moved = true;
            let HttpClientOutput::Send { exchange, request } = output else {
                panic!("nothing to abort during a handshake")
            };
            let (parts, body) = request.into_parts();
            if parts.method == http::Method::GET {
                get = Some((exchange, parts));
                continue;
            }
            let stream = server.handle_post(now, &parts, &body);
            exchanges.insert(stream, exchange);
        }
        while let Some(output) = server.poll_output(now) {
            moved = true;
            match output {
                HttpOutput::Respond { stream, response } => {
                    client.handle_response(now, exchanges[&stream], response)
                }
                other => panic!("a handshake answers in one piece: {other:?}"),
            }
        }
        if !moved {
            break;
        }
    }
    assert!(
        matches!(&events(client)[..], [ClientEvent::Ready(n)] if n.era == Era::Legacy),
        "legacy handshake"
    );
    get.expect("a legacy session opens its standalone stream")
}

fn sent_method(client: &mut HttpClient) -> Option<http::Method> {
    match client.poll_output()? {
        HttpClientOutput::Send { request, .. } => Some(request.method().clone()),
        HttpClientOutput::Abort { .. } => None,
    }
}

#[test]
fn a_new_sessions_first_request_waits_until_its_standalone_stream_is_answered() {
    let now = Instant::now();
    let (mut client, mut server, mut map) = (http_client(), http_server(true), HashMap::new());
    let (get_exchange, get) =
        legacy_ready_with_get_in_flight(now, &mut client, &mut server, &mut map);
    client
        .endpoint()
        .request(now, &tools_list(), RequestOptions::default())
        .unwrap();
    assert_eq!(
        sent_method(&mut client),
        None,
        "the request must not overtake the GET (the server could not reach us yet)"
    );
    let stream = server.handle_get(now, &get);
    map.insert(stream, get_exchange);
    let Some(HttpOutput::StartEvents { head, .. }) = server.poll_output(now) else {
        panic!("the server opens the standalone stream")
    };
    client.handle_response_head(now, get_exchange, &head);
    assert_eq!(sent_method(&mut client), Some(http::Method::POST));
}

#[test]
fn a_refused_or_silent_standalone_stream_releases_the_waiting_requests() {
    // Refused: 405 means the server has no standalone stream.
    let now = Instant::now();
    let (mut client, mut server, mut map) = (http_client(), http_server(true), HashMap::new());
    let (get_exchange, _) =
        legacy_ready_with_get_in_flight(now, &mut client, &mut server, &mut map);
    client
        .endpoint()
        .request(now, &tools_list(), RequestOptions::default())
        .unwrap();
    assert_eq!(sent_method(&mut client), None);
    let mut refused = http::Response::new(Vec::new());
    *refused.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    client.handle_response(now, get_exchange, refused);
    assert_eq!(sent_method(&mut client), Some(http::Method::POST));

    // Silent: a server that holds the GET's head back delays the first request by the bound.
    let (mut client, mut server, mut map) = (http_client(), http_server(true), HashMap::new());
    legacy_ready_with_get_in_flight(now, &mut client, &mut server, &mut map);
    client
        .endpoint()
        .request(now, &tools_list(), RequestOptions::default())
        .unwrap();
    let deadline = client.poll_timeout().expect("the wait is bounded");
    assert!(deadline <= now + mcp_proto::streamable::DEFAULT_STANDALONE_WAIT);
    client.handle_timeout(deadline - Duration::from_millis(1));
    assert_eq!(sent_method(&mut client), None);
    client.handle_timeout(deadline);
    assert_eq!(sent_method(&mut client), Some(http::Method::POST));
}
