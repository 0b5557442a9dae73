//! The server role: request classification by era, validation with the exact error codes,
//! built-in answers (discover, initialize, ping), capability gating both ways, typed events.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::time::Instant;

use mcp_proto::engine::{
    RequestOptions, ServerConfig, ServerEndpoint, ServerError, ServerEvent, Transmit,
    TransportFailure, TransportScope,
};
use mcp_proto::jsonrpc::{DecodeOptions, ErrorCode, RequestId, decode_message};
use mcp_proto::types::methods::{ClientRequest, ServerRequest};
use mcp_proto::types::{
    DiscoverResult, Era, Implementation, InitializeResult, ProtocolVersion, ServerCapabilities,
};
use serde_json::{Value, json};

fn server(capabilities: ServerCapabilities) -> ServerEndpoint {
    ServerEndpoint::new(ServerConfig::new(
        Implementation::new("test-server", "1.0.0"),
        capabilities,
    ))
}

fn with_tools() -> ServerCapabilities {
    ServerCapabilities {
        tools: Some(Default::default()),
        ..Default::default()
    }
}

fn send(server: &mut ServerEndpoint, message: Value) {
    let bytes = serde_json::to_vec(&message).unwrap();
    match decode_message(&bytes, &DecodeOptions::default()) {
        Ok(message) => server.handle_message(Instant::now(), TransportScope::CONNECTION, message),
        Err(error) => {
            server.handle_invalid_message(Instant::now(), TransportScope::CONNECTION, error);
        }
    }
}

/// Everything the server put on the wire, as JSON.
fn wire(server: &mut ServerEndpoint) -> Vec<Value> {
    std::iter::from_fn(|| server.poll_transmit())
        .map(|t| match t {
            Transmit::Send { message, .. } => {
                serde_json::from_slice(&mcp_proto::jsonrpc::encode(&message)).unwrap()
            }
            Transmit::CloseScope(scope) => panic!("unexpected close of {scope:?}"),
        })
        .collect()
}

fn events(server: &mut ServerEndpoint) -> Vec<ServerEvent> {
    std::iter::from_fn(|| server.poll_event()).collect()
}

fn modern_meta(version: &str) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "1"}
    })
}

fn error_code(answer: &Value) -> i64 {
    answer["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("not an error: {answer}"))
}

#[test]
fn the_official_modern_tools_call_reaches_the_application_typed() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/examples-2026-07-28/CallToolRequest/call-tool-request.json");
    let example: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut server = server(with_tools());
    send(&mut server, example);
    let [
        ServerEvent::Request {
            id,
            request: ClientRequest::CallTool(call),
            context,
        },
    ] = &events(&mut server)[..]
    else {
        panic!("a typed tools/call")
    };
    assert_eq!(call.name, "get_weather");
    assert_eq!(
        (context.era, &context.protocol_version),
        (Era::Modern, &ProtocolVersion::V2026_07_28)
    );
    assert_eq!(context.client_info.as_ref().unwrap().name, "ExampleClient");
    // The application's result lacks resultType: a modern answer gets "complete".
    server
        .respond(id, &json!({"content": [{"type": "text", "text": "sunny"}]}))
        .unwrap();
    let answer = &wire(&mut server)[0];
    assert_eq!(answer["id"], "call-tool-example");
    assert_eq!(answer["result"]["resultType"], "complete");
}

#[test]
fn modern_validation_answers_with_the_exact_codes() {
    let mut server = server(with_tools());
    let cases = [
        (
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}),
            ErrorCode::INVALID_PARAMS,
        ),
        (
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
            ErrorCode::INVALID_PARAMS,
        ),
        (
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}}),
            ErrorCode::INVALID_PARAMS,
        ),
        (
            json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": {"_meta": modern_meta("1900-01-01")}}),
            ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
        ),
        (
            json!({"jsonrpc": "2.0", "id": 5, "method": "ping", "params": {"_meta": modern_meta("2026-07-28")}}),
            ErrorCode::METHOD_NOT_FOUND,
        ),
        (
            json!({"jsonrpc": "2.0", "id": 6, "method": "prompts/list", "params": {"_meta": modern_meta("2026-07-28")}}),
            ErrorCode::METHOD_NOT_FOUND,
        ),
        (
            json!({"jsonrpc": "2.0", "id": 7, "method": "tools/explode", "params": {"_meta": modern_meta("2026-07-28")}}),
            ErrorCode::METHOD_NOT_FOUND,
        ),
        (
            json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"_meta": modern_meta("2026-07-28")}}),
            ErrorCode::INVALID_PARAMS,
        ),
    ];
    for (request, code) in cases {
        send(&mut server, request.clone());
        let answers = wire(&mut server);
        assert_eq!(answers.len(), 1, "{request}");
        assert_eq!(
            error_code(&answers[0]),
            code.0,
            "{request} → {}",
            answers[0]
        );
        assert_eq!(answers[0]["id"], request["id"]);
    }
    assert!(
        events(&mut server).is_empty(),
        "nothing invalid reaches the application"
    );
    // -32022 names what is supported and what was asked.
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": {"_meta": modern_meta("1900-01-01")}}),
    );
    let data = &wire(&mut server)[0]["error"]["data"];
    assert_eq!(data["requested"], "1900-01-01");
    assert!(
        data["supported"]
            .as_array()
            .unwrap()
            .contains(&json!("2026-07-28"))
    );
}

#[test]
fn server_discover_is_answered_by_the_endpoint() {
    let mut server = server(with_tools());
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": "d", "method": "server/discover", "params": {"_meta": modern_meta("2026-07-28")}}),
    );
    let answer = wire(&mut server).remove(0);
    let result: DiscoverResult = serde_json::from_value(answer["result"].clone()).unwrap();
    assert!(
        result
            .supported_versions
            .contains(&ProtocolVersion::V2026_07_28)
    );
    assert!(
        result
            .supported_versions
            .contains(&ProtocolVersion::V2025_11_25)
    );
    assert!(result.capabilities.tools.is_some());
    assert_eq!(
        result.meta.unwrap().server_info().unwrap().unwrap().name,
        "test-server"
    );
    assert!(events(&mut server).is_empty());
}

#[test]
fn legacy_initialize_negotiates_and_opens_a_session() {
    for (requested, chosen) in [
        ("2025-06-18", "2025-06-18"),
        ("2024-11-05", "2024-11-05"),
        ("2026-07-28", "2025-11-25"),
        ("2099-01-01", "2025-11-25"),
    ] {
        let mut server = server(with_tools());
        send(
            &mut server,
            json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": requested, "capabilities": {}, "clientInfo": {"name": "old", "version": "0.1"}}}),
        );
        let answer = wire(&mut server).remove(0);
        let result: InitializeResult = serde_json::from_value(answer["result"].clone()).unwrap();
        assert_eq!(
            result.protocol_version.as_str(),
            chosen,
            "initialize({requested})"
        );
        assert_eq!(result.server_info.name, "test-server");
    }
}

#[test]
fn a_legacy_session_serves_requests_without_meta_and_answers_ping() {
    let mut server = server(with_tools());
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {"sampling": {}}, "clientInfo": {"name": "old", "version": "0.1"}}}),
    );
    wire(&mut server);
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    assert_eq!(
        events(&mut server),
        vec![ServerEvent::Initialized {
            protocol_version: ProtocolVersion::V2025_11_25
        }]
    );
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
    );
    assert_eq!(wire(&mut server)[0]["result"], json!({}));
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    );
    let [ServerEvent::Request { id, context, .. }] = &events(&mut server)[..] else {
        panic!()
    };
    assert_eq!(
        (context.era, &context.protocol_version),
        (Era::Legacy, &ProtocolVersion::V2025_11_25)
    );
    // Legacy answers are not rewritten.
    server.respond(id, &json!({"tools": []})).unwrap();
    assert_eq!(wire(&mut server)[0]["result"], json!({"tools": []}));
    // A result built with the modern default loses it: legacy results have no resultType.
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "t"}}),
    );
    let [ServerEvent::Request { id, .. }] = &events(&mut server)[..] else {
        panic!()
    };
    let result = mcp_proto::types::CallToolResult {
        result_type: Some(mcp_proto::types::ResultType::Complete),
        ..mcp_proto::types::CallToolResult::text("done")
    };
    server.respond(id, &result).unwrap();
    assert_eq!(
        wire(&mut server)[0]["result"],
        json!({"content": [{"type": "text", "text": "done"}]})
    );
    // Modern-only methods are refused inside a legacy session when sent without modern _meta.
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 3, "method": "subscriptions/listen", "params": {"filter": {}}}),
    );
    assert_eq!(
        error_code(&wire(&mut server)[0]),
        ErrorCode::METHOD_NOT_FOUND.0
    );
}

#[test]
fn without_initialize_a_request_needs_modern_meta() {
    let mut server = server(with_tools());
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    );
    assert_eq!(
        error_code(&wire(&mut server)[0]),
        ErrorCode::INVALID_PARAMS.0
    );
    // An unknown method is -32601 before anything else is checked.
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 2, "method": "no/such"}),
    );
    assert_eq!(
        error_code(&wire(&mut server)[0]),
        ErrorCode::METHOD_NOT_FOUND.0
    );
}

#[test]
fn server_to_client_requests_need_a_legacy_session_and_the_capability() {
    let now = Instant::now();
    let sampling: ServerRequest = ServerRequest::parse(
        "sampling/createMessage",
        Some(&mcp_proto::jsonrpc::RawJson::from_text(r#"{"messages":[],"maxTokens":10}"#).unwrap()),
    )
    .unwrap();
    let roots = ServerRequest::parse("roots/list", None).unwrap();
    let mut server = server(with_tools());
    assert!(matches!(
        server.request(now, &sampling, RequestOptions::default()),
        Err(ServerError::NoLegacySession { .. })
    ));
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {"sampling": {}}, "clientInfo": {"name": "old", "version": "0.1"}}}),
    );
    wire(&mut server);
    assert!(matches!(
        server.request(now, &roots, RequestOptions::default()),
        Err(ServerError::CapabilityNotDeclared {
            capability: "roots",
            ..
        })
    ));
    assert!(
        wire(&mut server).is_empty(),
        "a refused request is never sent"
    );
    let id = server
        .request(now, &sampling, RequestOptions::default())
        .unwrap();
    let sent = wire(&mut server).remove(0);
    assert_eq!(sent["method"], "sampling/createMessage");
    assert_eq!(
        serde_json::from_value::<RequestId>(sent["id"].clone()).unwrap(),
        id
    );
    // The client's answer settles it.
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": sent["id"], "result": {"role": "assistant", "content": {"type": "text", "text": "hi"}, "model": "m"}}),
    );
    assert!(matches!(&events(&mut server)[..], [ServerEvent::Settled(s)] if s.id == id));
}

#[test]
fn a_cancelled_request_is_not_answered() {
    let mut server = server(with_tools());
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": modern_meta("2026-07-28")}}),
    );
    events(&mut server);
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1, "reason": "user"}}),
    );
    assert_eq!(
        events(&mut server),
        vec![ServerEvent::Cancelled { id: 1.into() }]
    );
    assert!(server.respond(&1.into(), &json!({"tools": []})).is_err());
    assert!(wire(&mut server).is_empty());
}

#[test]
fn progress_and_logs_go_only_where_the_client_asked_for_them() {
    use mcp_proto::types::LoggingLevel;
    let mut server = server(with_tools());
    let mut meta = modern_meta("2026-07-28");
    meta["progressToken"] = json!("p-1");
    meta["io.modelcontextprotocol/logLevel"] = json!("warning");
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}}),
    );
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": modern_meta("2026-07-28")}}),
    );
    events(&mut server);
    let (one, two) = (RequestId::from(1), RequestId::from(2));
    assert!(
        server
            .progress(&one, 50.0, Some(100.0), Some("half".into()))
            .unwrap()
    );
    assert!(
        !server.progress(&two, 50.0, None, None).unwrap(),
        "no token, no progress"
    );
    assert!(
        !server
            .log(&one, LoggingLevel::Info, None, json!("chatty"))
            .unwrap(),
        "below the requested level"
    );
    assert!(
        server
            .log(&one, LoggingLevel::Error, Some("db".into()), json!("down"))
            .unwrap()
    );
    assert!(
        !server
            .log(&two, LoggingLevel::Emergency, None, json!("x"))
            .unwrap(),
        "a modern request without logLevel gets no logs"
    );
    let sent = wire(&mut server);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["method"], "notifications/progress");
    assert_eq!(
        (
            sent[0]["params"]["progressToken"].clone(),
            sent[0]["params"]["progress"].clone()
        ),
        (json!("p-1"), json!(50.0))
    );
    assert_eq!(sent[1]["method"], "notifications/message");
    assert_eq!(sent[1]["params"]["level"], "error");
    assert!(
        server
            .progress(&RequestId::from(99), 1.0, None, None)
            .is_err()
    );
}

#[test]
fn legacy_set_level_filters_logs_and_needs_the_logging_capability() {
    use mcp_proto::types::LoggingLevel;
    let initialize = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "old", "version": "0.1"}}});
    let mut without_logging = server(with_tools());
    send(&mut without_logging, initialize.clone());
    wire(&mut without_logging);
    send(
        &mut without_logging,
        json!({"jsonrpc": "2.0", "id": 1, "method": "logging/setLevel", "params": {"level": "error"}}),
    );
    assert_eq!(
        error_code(&wire(&mut without_logging)[0]),
        ErrorCode::METHOD_NOT_FOUND.0
    );

    let mut server = server(ServerCapabilities {
        tools: Some(Default::default()),
        logging: Some(Default::default()),
        ..Default::default()
    });
    send(&mut server, initialize);
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    );
    events(&mut server);
    assert!(
        server
            .log(
                &RequestId::from(1),
                LoggingLevel::Debug,
                None,
                json!("before setLevel everything goes")
            )
            .unwrap()
    );
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 2, "method": "logging/setLevel", "params": {"level": "error"}}),
    );
    assert!(
        !server
            .log(
                &RequestId::from(1),
                LoggingLevel::Warning,
                None,
                json!("filtered")
            )
            .unwrap()
    );
    assert!(
        server
            .log(
                &RequestId::from(1),
                LoggingLevel::Critical,
                None,
                json!("kept")
            )
            .unwrap()
    );
    let sent = wire(&mut server);
    assert_eq!(
        sent.iter()
            .filter(|m| m["method"] == "notifications/message")
            .count(),
        2
    );
    assert!(
        sent.iter()
            .any(|m| m["id"] == 2 && m["result"] == json!({})),
        "setLevel answered by the endpoint"
    );
}

#[test]
fn input_required_and_missing_capability_answers() {
    use mcp_proto::types::{ClientCapabilities, InputRequest};
    let mut server = server(with_tools());
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "deploy", "_meta": modern_meta("2026-07-28")}}),
    );
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "deploy", "_meta": modern_meta("2026-07-28")}}),
    );
    events(&mut server);
    let mut requests = mcp_proto::types::InputRequests::new();
    requests.insert("roots".into(), InputRequest::list_roots());
    server
        .respond_input_required(&RequestId::from(1), requests, Some("state-1".into()))
        .unwrap();
    let required = ClientCapabilities {
        elicitation: Some(Default::default()),
        ..Default::default()
    };
    server
        .respond_missing_client_capability(&RequestId::from(2), required)
        .unwrap();
    let sent = wire(&mut server);
    assert_eq!(sent[0]["result"]["resultType"], "input_required");
    assert_eq!(sent[0]["result"]["requestState"], "state-1");
    assert_eq!(
        sent[0]["result"]["inputRequests"]["roots"]["method"],
        "roots/list"
    );
    assert_eq!(
        error_code(&sent[1]),
        ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY.0
    );
    assert!(sent[1]["error"]["data"]["requiredCapabilities"]["elicitation"].is_object());

    // A legacy request cannot be answered with input_required.
    let mut legacy = self::server(with_tools());
    send(
        &mut legacy,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "old", "version": "0.1"}}}),
    );
    send(
        &mut legacy,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "deploy"}}),
    );
    events(&mut legacy);
    let refused =
        legacy.respond_input_required(&RequestId::from(1), Default::default(), Some("s".into()));
    assert!(matches!(refused, Err(ServerError::ModernOnly { .. })));
}

#[test]
fn legacy_sessions_get_resource_updates_they_subscribed_to_and_list_changes() {
    use mcp_proto::engine::ListChanged;
    let capabilities: ServerCapabilities = serde_json::from_value(json!({
        "tools": {"listChanged": true}, "resources": {"subscribe": true}
    }))
    .unwrap();
    let mut server = server(capabilities);
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "old", "version": "0.1"}}}),
    );
    assert_eq!(
        server.notify_list_changed(ListChanged::Tools),
        0,
        "not before notifications/initialized"
    );
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 1, "method": "resources/subscribe", "params": {"uri": "file:///notes"}}),
    );
    wire(&mut server);
    assert_eq!(server.notify_resource_updated("file:///notes/today.md"), 1);
    assert_eq!(server.notify_resource_updated("file:///other"), 0);
    assert_eq!(server.notify_list_changed(ListChanged::Tools), 1);
    assert_eq!(
        server.notify_list_changed(ListChanged::Prompts),
        0,
        "prompts are not advertised"
    );
    let sent = wire(&mut server);
    assert_eq!(sent[0]["method"], "notifications/resources/updated");
    assert_eq!(sent[0]["params"]["uri"], "file:///notes/today.md");
    assert_eq!(sent[1]["method"], "notifications/tools/list_changed");
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 2, "method": "resources/unsubscribe", "params": {"uri": "file:///notes"}}),
    );
    assert_eq!(wire(&mut server)[0]["result"], json!({}));
    assert_eq!(server.notify_resource_updated("file:///notes/today.md"), 0);

    // Without resources.subscribe the method is refused.
    let mut plain = self::server(ServerCapabilities {
        resources: Some(Default::default()),
        ..Default::default()
    });
    send(
        &mut plain,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "old", "version": "0.1"}}}),
    );
    wire(&mut plain);
    send(
        &mut plain,
        json!({"jsonrpc": "2.0", "id": 1, "method": "resources/subscribe", "params": {"uri": "file:///x"}}),
    );
    assert_eq!(
        error_code(&wire(&mut plain)[0]),
        ErrorCode::METHOD_NOT_FOUND.0
    );
}

#[test]
fn cacheable_modern_results_get_safe_caching_defaults() {
    let mut server = server(with_tools());
    for id in 1..=3 {
        let method = if id == 3 { "tools/call" } else { "tools/list" };
        send(
            &mut server,
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {"name": "t", "_meta": modern_meta("2026-07-28")}}),
        );
    }
    events(&mut server);
    server
        .respond(&RequestId::from(1), &json!({"tools": []}))
        .unwrap();
    server
        .respond(
            &RequestId::from(2),
            &json!({"tools": [], "ttlMs": 60000, "cacheScope": "public"}),
        )
        .unwrap();
    server
        .respond(&RequestId::from(3), &json!({"content": []}))
        .unwrap();
    let sent = wire(&mut server);
    assert_eq!(
        (
            sent[0]["result"]["ttlMs"].clone(),
            sent[0]["result"]["cacheScope"].clone()
        ),
        (json!(0), json!("private"))
    );
    assert_eq!(
        (
            sent[1]["result"]["ttlMs"].clone(),
            sent[1]["result"]["cacheScope"].clone()
        ),
        (json!(60000), json!("public")),
        "the application's choice wins"
    );
    assert!(
        sent[2]["result"].get("ttlMs").is_none(),
        "tools/call results are not cacheable"
    );
}

#[test]
fn subscriptions_are_bounded_per_connection() {
    let mut config = ServerConfig::new(Implementation::new("s", "1"), with_tools());
    config.max_subscriptions = 1;
    let mut server = ServerEndpoint::new(config);
    for id in 1..=2 {
        send(
            &mut server,
            json!({"jsonrpc": "2.0", "id": id, "method": "subscriptions/listen", "params": {"notifications": {}, "_meta": modern_meta("2026-07-28")}}),
        );
    }
    let sent = wire(&mut server);
    assert_eq!(
        sent[0]["method"],
        "notifications/subscriptions/acknowledged"
    );
    assert_eq!(
        (sent[1]["id"].clone(), error_code(&sent[1])),
        (json!(2), ErrorCode::INTERNAL_ERROR.0),
        "the second is refused"
    );
    assert_eq!(server.subscription_count(), 1);
}

#[test]
fn a_request_about_a_client_request_travels_on_that_requests_scope() {
    let now = Instant::now();
    let mut server = server(with_tools());
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {"roots": {}}, "clientInfo": {"name": "old", "version": "0.1"}}}),
    );
    send(
        &mut server,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    wire(&mut server);
    events(&mut server);
    let call_scope = TransportScope(7);
    let call = decode_message(
        br#"{"jsonrpc":"2.0","id":"call-1","method":"tools/call","params":{"name":"t"}}"#,
        &DecodeOptions::default(),
    )
    .unwrap();
    server.handle_message(now, call_scope, call);
    let roots = ServerRequest::parse("roots/list", None).unwrap();
    let related = RequestId::from("call-1");
    let id = server
        .request_related(now, &roots, RequestOptions::default(), &related)
        .unwrap();
    let scopes: Vec<TransportScope> = std::iter::from_fn(|| server.poll_transmit())
        .map(|t| match t {
            Transmit::Send { scope, .. } => scope,
            Transmit::CloseScope(scope) => panic!("unexpected close of {scope:?}"),
        })
        .collect();
    assert_eq!(scopes, [call_scope]);
    // Once the call is answered, a request about it has no stream of its own any more.
    server.respond(&related, &json!({"content": []})).unwrap();
    wire(&mut server);
    server
        .request_related(now, &roots, RequestOptions::default(), &related)
        .unwrap();
    assert!(matches!(
        server.poll_transmit(),
        Some(Transmit::Send {
            scope: TransportScope::CONNECTION,
            ..
        })
    ));
    // The stream closing before the client answered settles the request as failed.
    server.handle_transport_closed(now, call_scope, TransportFailure::StreamClosed);
    let settled = events(&mut server);
    assert!(
        settled
            .iter()
            .any(|e| matches!(e, ServerEvent::Settled(s) if s.id == id)),
        "{settled:?}"
    );
}

fn with_tasks() -> ServerCapabilities {
    serde_json::from_value(json!({
        "tools": {}, "extensions": {"io.modelcontextprotocol/tasks": {}}
    }))
    .unwrap()
}

fn listen(id: u32, task_ids: Value, declares_tasks: bool) -> Value {
    let mut meta = modern_meta("2026-07-28");
    if declares_tasks {
        meta["io.modelcontextprotocol/clientCapabilities"] =
            json!({"extensions": {"io.modelcontextprotocol/tasks": {}}});
    }
    json!({"jsonrpc": "2.0", "id": id, "method": "subscriptions/listen", "params": {
        "notifications": {"taskIds": task_ids}, "_meta": meta}})
}

fn task(
    task_id: &str,
    status: &str,
    extra: Value,
) -> mcp_proto::types::tasks::TaskNotificationParams {
    let mut value = json!({
        "taskId": task_id, "status": status, "createdAt": "2026-07-28T12:00:00.000Z",
        "lastUpdatedAt": "2026-07-28T12:00:01.000Z", "ttlMs": 60000
    });
    if let (Some(value), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
        value.extend(extra.clone());
    }
    serde_json::from_value(value).unwrap()
}

#[test]
fn task_notifications_reach_only_the_subscriptions_that_listed_the_task() {
    let mut server = server(with_tasks());
    send(&mut server, listen(1, json!(["t-1", "t-1", "t-2"]), true));
    send(&mut server, listen(2, json!(["t-2"]), true));
    let acks = wire(&mut server);
    assert_eq!(
        acks[0]["method"],
        "notifications/subscriptions/acknowledged"
    );
    assert_eq!(
        acks[0]["params"]["notifications"]["taskIds"],
        json!(["t-1", "t-2"]),
        "honoured once each"
    );
    assert_eq!(
        acks[1]["params"]["notifications"]["taskIds"],
        json!(["t-2"])
    );

    let done = task(
        "t-1",
        "completed",
        json!({"result": {"content": [{"type": "text", "text": "hi"}], "isError": false}}),
    );
    assert_eq!(server.notify_task(&done), 1);
    assert_eq!(server.notify_task(&task("t-2", "working", json!({}))), 2);
    assert_eq!(server.notify_task(&task("t-3", "working", json!({}))), 0);
    let sent = wire(&mut server);
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(sent[0]["method"], "notifications/tasks");
    let params = &sent[0]["params"];
    assert_eq!(params["taskId"], "t-1");
    assert_eq!(params["status"], "completed");
    assert_eq!(params["result"]["content"][0]["text"], "hi");
    assert_eq!(params["_meta"]["io.modelcontextprotocol/subscriptionId"], 1);
    let mut subscriptions: Vec<i64> = sent[1..]
        .iter()
        .map(|m| {
            m["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"]
                .as_i64()
                .unwrap()
        })
        .collect();
    subscriptions.sort_unstable();
    assert_eq!(subscriptions, [1, 2]);
}

#[test]
fn task_ids_on_listen_need_the_extension_on_both_sides() {
    // A client asking for task notifications without declaring the extension: -32021.
    let mut server = server(with_tasks());
    send(&mut server, listen(1, json!(["t-1"]), false));
    let sent = wire(&mut server);
    assert_eq!(
        error_code(&sent[0]),
        ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY.0
    );
    assert_eq!(
        sent[0]["error"]["data"],
        json!({"requiredCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}})
    );
    assert_eq!(server.subscription_count(), 0);
    // Asking for none is no request for task notifications.
    send(&mut server, listen(2, json!([]), false));
    let sent = wire(&mut server);
    assert_eq!(
        sent[0]["method"],
        "notifications/subscriptions/acknowledged"
    );

    // A server without the extension leaves taskIds out of what it honours.
    let mut plain = self::server(with_tools());
    send(&mut plain, listen(1, json!(["t-1"]), true));
    let sent = wire(&mut plain);
    assert_eq!(
        sent[0]["method"],
        "notifications/subscriptions/acknowledged"
    );
    assert!(
        sent[0]["params"]["notifications"].get("taskIds").is_none(),
        "{sent:?}"
    );
    assert_eq!(plain.notify_task(&task("t-1", "working", json!({}))), 0);
}

#[test]
fn a_subscription_follows_a_bounded_number_of_tasks() {
    use mcp_proto::engine::server::MAX_TASK_IDS_PER_SUBSCRIPTION;
    let mut server = server(with_tasks());
    let ids: Vec<String> = (0..=MAX_TASK_IDS_PER_SUBSCRIPTION)
        .map(|i| format!("t-{i}"))
        .collect();
    send(&mut server, listen(1, json!(ids), true));
    let sent = wire(&mut server);
    let honoured = sent[0]["params"]["notifications"]["taskIds"]
        .as_array()
        .unwrap();
    assert_eq!(honoured.len(), MAX_TASK_IDS_PER_SUBSCRIPTION);
    let last = format!("t-{MAX_TASK_IDS_PER_SUBSCRIPTION}");
    assert_eq!(server.notify_task(&task(&last, "working", json!({}))), 0);
    assert_eq!(server.notify_task(&task("t-0", "working", json!({}))), 1);
}
