//! Every method of both eras, through a client endpoint and a server endpoint wired in memory:
//! each request reaches the server application typed, its answer (an official example result
//! where one exists) reaches the client and decodes as the method's result type; legacy
//! server→client requests and notifications in both directions likewise.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::time::Instant;

use mcp_proto::engine::{
    ClientConfig, ClientEndpoint, ClientEvent, EraPolicy, Outcome, RequestOptions, ServerConfig,
    ServerEndpoint, ServerEvent, Transmit,
};
use mcp_proto::jsonrpc::{self, DecodeOptions, RawJson};
use mcp_proto::types::methods::{
    self, ClientNotification, ClientRequest, McpRequest, ServerNotification, ServerRequest,
};
use mcp_proto::types::{ClientCapabilities, Era, Implementation, ServerCapabilities};
use serde_json::{Value, json};

fn example(type_name: &str) -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/examples-2026-07-28")
        .join(type_name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    files.sort();
    serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap()
}

fn run(now: Instant, client: &mut ClientEndpoint, server: &mut ServerEndpoint) {
    let decode = |m: &jsonrpc::Message| {
        jsonrpc::decode_message(&jsonrpc::encode(m), &DecodeOptions::default()).unwrap()
    };
    loop {
        let mut moved = false;
        while let Some(Transmit::Send { scope, message }) = client.poll_transmit() {
            server.handle_message(now, scope, decode(&message));
            moved = true;
        }
        while let Some(Transmit::Send { scope, message }) = server.poll_transmit() {
            client.handle_message(now, scope, decode(&message));
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

fn pair(now: Instant, era: EraPolicy) -> (ClientEndpoint, ServerEndpoint) {
    let capabilities: ServerCapabilities = serde_json::from_value(json!({
        "tools": {"listChanged": true}, "prompts": {"listChanged": true},
        "resources": {"subscribe": true, "listChanged": true}, "completions": {}, "logging": {}
    }))
    .unwrap();
    let mut server = ServerEndpoint::new(ServerConfig::new(
        Implementation::new("srv", "1"),
        capabilities,
    ));
    let mut declared =
        json!({"sampling": {}, "elicitation": {"form": {}}, "roots": {"listChanged": true}});
    if era != EraPolicy::Legacy {
        // The tasks extension's methods serve only clients that declare it.
        declared["extensions"] = json!({"io.modelcontextprotocol/tasks": {}});
    }
    let client_capabilities: ClientCapabilities = serde_json::from_value(declared).unwrap();
    let mut config = ClientConfig::new(Implementation::new("cli", "1"), client_capabilities);
    config.era = era;
    let mut client = ClientEndpoint::new(config);
    client.start(now).unwrap();
    run(now, &mut client, &mut server);
    let expected = if era == EraPolicy::Legacy {
        Era::Legacy
    } else {
        Era::Modern
    };
    assert!(matches!(client.poll_event(), Some(ClientEvent::Ready(n)) if n.era == expected));
    while server.poll_event().is_some() {}
    (client, server)
}

type Check = fn(&RawJson) -> Result<(), String>;

fn check<R: McpRequest>(raw: &RawJson) -> Result<(), String> {
    R::parse_result(raw)
        .map(|_| ())
        .map_err(|e| format!("{}: {e}", R::METHOD))
}

/// Sends `method` with `params`, lets the server application answer `result`, and checks the
/// client decodes the answer as the method's result type.
fn round_trip(
    now: Instant,
    client: &mut ClientEndpoint,
    server: &mut ServerEndpoint,
    method: &str,
    params: Value,
    result: Value,
    check: Check,
) {
    let request =
        ClientRequest::parse(method, Some(&RawJson::from_serialize(&params).unwrap())).unwrap();
    let id = client
        .request(now, &request, RequestOptions::default())
        .unwrap_or_else(|e| panic!("{method}: {e}"));
    run(now, client, server);
    match server.poll_event() {
        Some(ServerEvent::Request {
            id: asked, request, ..
        }) => {
            assert_eq!(request.method(), method);
            server.respond(&asked, &result).unwrap();
        }
        // Methods the server endpoint answers by itself.
        None => {}
        Some(other) => panic!("{method}: {other:?}"),
    }
    run(now, client, server);
    match client.poll_event() {
        Some(ClientEvent::Response {
            id: answered,
            outcome: Outcome::Result(raw),
            ..
        }) if answered == id => {
            check(&raw).unwrap_or_else(|e| panic!("{method}: {e} in {raw}"));
        }
        other => panic!("{method}: {other:?}"),
    }
}

#[test]
fn every_modern_client_request_round_trips() {
    let now = Instant::now();
    let (mut client, mut server) = pair(now, EraPolicy::Auto);
    let task = json!({"taskId": "t1", "status": "working", "createdAt": "2026-01-01T00:00:00Z",
                      "lastUpdatedAt": "2026-01-01T00:00:00Z", "ttlMs": null});
    let mut get_task = task;
    get_task["resultType"] = json!("complete");
    let rows: Vec<(&str, Value, Value, Check)> = vec![
        (
            "tools/list",
            json!({}),
            example("ListToolsResult"),
            check::<methods::ListTools>,
        ),
        (
            "tools/call",
            json!({"name": "get_weather", "arguments": {"location": "Paris"}}),
            example("CallToolResult"),
            check::<methods::CallTool>,
        ),
        (
            "prompts/list",
            json!({}),
            example("ListPromptsResult"),
            check::<methods::ListPrompts>,
        ),
        (
            "prompts/get",
            json!({"name": "code_review"}),
            example("GetPromptResult"),
            check::<methods::GetPrompt>,
        ),
        (
            "resources/list",
            json!({}),
            example("ListResourcesResult"),
            check::<methods::ListResources>,
        ),
        (
            "resources/templates/list",
            json!({}),
            example("ListResourceTemplatesResult"),
            check::<methods::ListResourceTemplates>,
        ),
        (
            "resources/read",
            json!({"uri": "file:///a.md"}),
            json!({"contents": [{"uri": "file:///a.md", "text": "a"}], "ttlMs": 0, "cacheScope": "private"}),
            check::<methods::ReadResource>,
        ),
        (
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "code_review"}, "argument": {"name": "language", "value": "py"}}),
            example("CompleteResult"),
            check::<methods::Complete>,
        ),
        (
            "tasks/get",
            json!({"taskId": "t1"}),
            get_task,
            check::<methods::GetTask>,
        ),
        (
            "tasks/update",
            json!({"taskId": "t1", "inputResponses": {}}),
            json!({}),
            check::<methods::UpdateTask>,
        ),
        (
            "tasks/cancel",
            json!({"taskId": "t1"}),
            json!({}),
            check::<methods::CancelTask>,
        ),
        (
            "server/discover",
            json!({}),
            Value::Null,
            check::<methods::Discover>,
        ),
    ];
    for (method, params, result, check) in rows {
        round_trip(now, &mut client, &mut server, method, params, result, check);
    }
}

#[test]
fn every_legacy_method_round_trips_both_ways() {
    let now = Instant::now();
    let (mut client, mut server) = pair(now, EraPolicy::Legacy);
    let task = json!({"taskId": "t1", "status": "working", "createdAt": "2026-01-01T00:00:00Z",
                      "lastUpdatedAt": "2026-01-01T00:00:00Z", "ttl": null});
    let rows: Vec<(&str, Value, Value, Check)> = vec![
        ("ping", json!({}), Value::Null, check::<methods::Ping>),
        (
            "tools/list",
            json!({}),
            json!({"tools": [{"name": "t", "inputSchema": {"type": "object"}}]}),
            check::<methods::ListTools>,
        ),
        (
            "tools/call",
            json!({"name": "t"}),
            json!({"content": [{"type": "text", "text": "ok"}]}),
            check::<methods::CallTool>,
        ),
        (
            "prompts/list",
            json!({}),
            json!({"prompts": []}),
            check::<methods::ListPrompts>,
        ),
        (
            "prompts/get",
            json!({"name": "p"}),
            json!({"messages": []}),
            check::<methods::GetPrompt>,
        ),
        (
            "resources/list",
            json!({}),
            json!({"resources": []}),
            check::<methods::ListResources>,
        ),
        (
            "resources/templates/list",
            json!({}),
            json!({"resourceTemplates": []}),
            check::<methods::ListResourceTemplates>,
        ),
        (
            "resources/read",
            json!({"uri": "file:///a"}),
            json!({"contents": []}),
            check::<methods::ReadResource>,
        ),
        (
            "resources/subscribe",
            json!({"uri": "file:///a"}),
            Value::Null,
            check::<methods::Subscribe>,
        ),
        (
            "resources/unsubscribe",
            json!({"uri": "file:///a"}),
            Value::Null,
            check::<methods::Unsubscribe>,
        ),
        (
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "p"}, "argument": {"name": "a", "value": "x"}}),
            json!({"completion": {"values": []}}),
            check::<methods::Complete>,
        ),
        (
            "logging/setLevel",
            json!({"level": "info"}),
            Value::Null,
            check::<methods::SetLevel>,
        ),
        (
            "tasks/get",
            json!({"taskId": "t1"}),
            task.clone(),
            check::<methods::LegacyGetTask>,
        ),
        (
            "tasks/result",
            json!({"taskId": "t1"}),
            json!({"content": []}),
            check::<methods::LegacyGetTaskPayload>,
        ),
        (
            "tasks/list",
            json!({}),
            json!({"tasks": [task]}),
            check::<methods::LegacyListTasks>,
        ),
        (
            "tasks/cancel",
            json!({"taskId": "t1"}),
            task,
            check::<methods::LegacyCancelTask>,
        ),
    ];
    for (method, params, result, check) in rows {
        round_trip(now, &mut client, &mut server, method, params, result, check);
    }

    // Server → client requests (legacy only), answered with the official example results.
    let server_rows: Vec<(&str, Value, Value, Check)> = vec![
        ("ping", json!({}), json!({}), check::<methods::Ping>),
        (
            "sampling/createMessage",
            json!({"messages": [], "maxTokens": 10}),
            example("CreateMessageResult"),
            check::<methods::CreateMessage>,
        ),
        (
            "elicitation/create",
            json!({"mode": "form", "message": "name?", "requestedSchema": {"type": "object", "properties": {}}}),
            example("ElicitResult"),
            check::<methods::Elicit>,
        ),
        (
            "roots/list",
            json!({}),
            example("ListRootsResult"),
            check::<methods::ListRoots>,
        ),
    ];
    for (method, params, result, check) in server_rows {
        let request =
            ServerRequest::parse(method, Some(&RawJson::from_serialize(&params).unwrap())).unwrap();
        let id = server
            .request(now, &request, RequestOptions::default())
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        run(now, &mut client, &mut server);
        if let Some(ClientEvent::Request { id: asked, request }) = client.poll_event() {
            assert_eq!(request.method(), method);
            client
                .respond(&asked, Ok(RawJson::from_serialize(&result).unwrap()))
                .unwrap();
            run(now, &mut client, &mut server);
        }
        match server.poll_event() {
            Some(ServerEvent::Settled(settled)) if settled.id == id => {
                let Outcome::Result(raw) = settled.outcome else {
                    panic!("{method}: {:?}", settled.outcome)
                };
                check(&raw).unwrap_or_else(|e| panic!("{method}: {e}"));
            }
            other => panic!("{method}: {other:?}"),
        }
    }

    // Notifications, both directions.
    let to_client = [
        (
            "notifications/progress",
            json!({"progressToken": "p", "progress": 1}),
        ),
        (
            "notifications/message",
            json!({"level": "info", "data": "hello"}),
        ),
        (
            "notifications/resources/updated",
            json!({"uri": "file:///a"}),
        ),
        ("notifications/resources/list_changed", json!({})),
        ("notifications/tools/list_changed", json!({})),
        ("notifications/prompts/list_changed", json!({})),
        (
            "notifications/elicitation/complete",
            json!({"elicitationId": "e1"}),
        ),
    ];
    for (method, params) in to_client {
        let notification =
            ServerNotification::parse(method, Some(&RawJson::from_serialize(&params).unwrap()))
                .unwrap();
        server.notify(&notification).unwrap();
        run(now, &mut client, &mut server);
        assert!(
            matches!(client.poll_event(), Some(ClientEvent::Notification(n)) if n.method() == method),
            "{method}"
        );
    }
    let roots_changed =
        ClientNotification::parse("notifications/roots/list_changed", None).unwrap();
    client.notify(&roots_changed).unwrap();
    run(now, &mut client, &mut server);
    assert!(
        matches!(server.poll_event(), Some(ServerEvent::Notification(n)) if n.method() == "notifications/roots/list_changed")
    );
}
