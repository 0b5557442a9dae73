//! Legacy (2025-11-25 and earlier) vectors written from the 2025-11-25 schema definitions,
//! the 2025-11-25 tasks next to the tasks extension, version negotiation tables, and `_meta`
//! key-format tables.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Debug;

use mcp_proto::jsonrpc::{ErrorCode, RequestId};
use mcp_proto::types::envelope::{
    self, JsonRpcNotification, JsonRpcRequest, JsonRpcResultResponse,
};
use mcp_proto::types::meta::{
    LabelProblem, NameProblem, is_reserved_key, is_valid_traceparent, validate_extension_id,
    validate_meta_key,
};
use mcp_proto::types::methods::{
    self, ClientNotification, ClientRequest, ServerNotification, ServerRequest,
};
use mcp_proto::types::tasks::{self, legacy};
use mcp_proto::types::version::{
    LegacyNegotiationError, SUPPORTED, SUPPORTED_LEGACY, check_modern_version,
    negotiate_legacy_client, negotiate_legacy_server, select_modern_version,
};
use mcp_proto::types::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Parses `value` as `T` and checks that it serializes back to the same value.
fn rt<T: DeserializeOwned + Serialize + Debug>(value: &Value) -> T {
    let parsed: T = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{value}: does not parse: {e}"));
    assert_eq!(&serde_json::to_value(&parsed).unwrap(), value);
    let from_text: T = serde_json::from_str(&value.to_string()).unwrap();
    assert_eq!(&serde_json::to_value(&from_text).unwrap(), value);
    parsed
}

/// Checks that a full request/notification also goes through the dispatch enums.
fn params_of(message: &Value) -> Option<mcp_proto::jsonrpc::RawJson> {
    message
        .get("params")
        .map(|p| mcp_proto::jsonrpc::RawJson::from_serialize(p).unwrap())
}

// ---------------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------------

#[test]
fn initialize_request() {
    let message = json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {
                "roots": {"listChanged": true},
                "sampling": {"context": {}, "tools": {}},
                "elicitation": {"form": {}, "url": {}},
                "tasks": {
                    "list": {},
                    "cancel": {},
                    "requests": {
                        "sampling": {"createMessage": {}},
                        "elicitation": {"create": {}}
                    }
                },
                "experimental": {"com.example/feature": {"level": 2}}
            },
            "clientInfo": {
                "name": "ExampleClient",
                "title": "Example Client",
                "version": "1.0.0",
                "description": "An example",
                "websiteUrl": "https://example.com",
                "icons": [{"src": "https://example.com/i.png", "mimeType": "image/png", "sizes": ["48x48"], "theme": "dark"}]
            }
        }
    });
    let req: envelope::InitializeRequest = rt(&message);
    let params = req.params.unwrap();
    assert_eq!(params.protocol_version, ProtocolVersion::V2025_11_25);
    assert!(params.capabilities.supports_elicitation_url());
    assert!(params.capabilities.supports_sampling_tools());
    assert_eq!(
        params.capabilities.roots.as_ref().unwrap().list_changed,
        Some(true)
    );

    let parsed = ClientRequest::parse("initialize", params_of(&message).as_ref()).unwrap();
    assert!(matches!(parsed, ClientRequest::Initialize(_)));
    assert!(parsed.is_available_in(Era::Legacy) && !parsed.is_available_in(Era::Modern));

    // Required members are required.
    let missing = json!({"protocolVersion": "2025-11-25", "capabilities": {}});
    let err = ClientRequest::parse(
        "initialize",
        Some(&mcp_proto::jsonrpc::RawJson::from_serialize(&missing).unwrap()),
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::INVALID_PARAMS);
    assert!(err.to_string().contains("clientInfo"), "{err}");
}

#[test]
fn initialize_result() {
    let message = json!({
        "jsonrpc": "2.0",
        "id": 1,
        "result": {
            "protocolVersion": "2025-06-18",
            "capabilities": {
                "logging": {},
                "completions": {},
                "prompts": {"listChanged": true},
                "resources": {"subscribe": true, "listChanged": true},
                "tools": {"listChanged": false},
                "tasks": {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}},
                "experimental": {}
            },
            "serverInfo": {"name": "ExampleServer", "version": "2.0.0"},
            "instructions": "Be nice.",
            "_meta": {"com.example/trace": "x"}
        }
    });
    let res: envelope::InitializeResultResponse = rt(&message);
    assert_eq!(res.result.protocol_version, ProtocolVersion::V2025_06_18);
    assert_eq!(res.result.server_info.version, "2.0.0");
    assert!(res.result.capabilities.tasks.is_some());
    assert!(res.result.capabilities.extensions.is_none());
}

#[test]
fn initialized_ping_and_set_level() {
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let n: envelope::InitializedNotification = rt(&initialized);
    assert!(n.params.is_none());
    assert_eq!(
        ClientNotification::parse("notifications/initialized", None).unwrap(),
        ClientNotification::Initialized(NotificationParams::default())
    );

    let ping = json!({"jsonrpc": "2.0", "id": "ping-1", "method": "ping"});
    let p: envelope::PingRequest = rt(&ping);
    assert_eq!(p.id, RequestId::from("ping-1"));
    assert!(matches!(
        ClientRequest::parse("ping", None).unwrap(),
        ClientRequest::Ping(_)
    ));
    assert!(matches!(
        ServerRequest::parse("ping", None).unwrap(),
        ServerRequest::Ping(_)
    ));
    let ping_with_meta = json!({"jsonrpc": "2.0", "id": 2, "method": "ping", "params": {"_meta": {"progressToken": 5}}});
    let p: envelope::PingRequest = rt(&ping_with_meta);
    assert_eq!(
        p.params.unwrap().meta.unwrap().progress_token().unwrap(),
        Some(ProgressToken::Number(5))
    );

    let pong = json!({"jsonrpc": "2.0", "id": "ping-1", "result": {}});
    let r: envelope::EmptyResultResponse = rt(&pong);
    assert_eq!(r.result.effective_result_type(), &ResultType::Complete);

    let set_level = json!({"jsonrpc": "2.0", "id": 3, "method": "logging/setLevel", "params": {"level": "warning"}});
    let s: envelope::SetLevelRequest = rt(&set_level);
    assert_eq!(s.params.unwrap().level, LoggingLevel::Warning);
    let bad = json!({"level": "verbose"});
    let err = ClientRequest::parse(
        "logging/setLevel",
        Some(&mcp_proto::jsonrpc::RawJson::from_serialize(&bad).unwrap()),
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::INVALID_PARAMS);
}

#[test]
fn subscribe_unsubscribe_and_updates() {
    for method in ["resources/subscribe", "resources/unsubscribe"] {
        let message = json!({"jsonrpc": "2.0", "id": 4, "method": method, "params": {"uri": "file:///a.txt"}});
        let req: envelope::SubscribeRequest = rt(&message);
        assert_eq!(req.params.unwrap().uri, "file:///a.txt");
        let parsed = ClientRequest::parse(method, params_of(&message).as_ref()).unwrap();
        assert_eq!(parsed.method(), method);
        assert!(!parsed.is_available_in(Era::Modern));
    }
    let updated = json!({"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": "file:///a.txt"}});
    rt::<envelope::ResourceUpdatedNotification>(&updated);
}

#[test]
fn roots_list_changed_and_roots_request() {
    let message = json!({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"});
    rt::<envelope::RootsListChangedNotification>(&message);
    let parsed = ClientNotification::parse("notifications/roots/list_changed", None).unwrap();
    assert!(matches!(parsed, ClientNotification::RootsListChanged(_)));
    assert!(!parsed.is_available_in(Era::Modern));

    // Legacy roots/list is a real server-to-client request.
    let request = json!({"jsonrpc": "2.0", "id": 9, "method": "roots/list"});
    rt::<JsonRpcRequest<ListRootsRequestParams>>(&request);
    assert!(matches!(
        ServerRequest::parse("roots/list", None).unwrap(),
        ServerRequest::ListRoots(_)
    ));
    let result = json!({"roots": [{"uri": "file:///home/u", "name": "Home"}], "_meta": {}});
    rt::<ListRootsResult>(&result);
}

#[test]
fn url_elicitation_complete_and_error_32042() {
    let request = json!({
        "jsonrpc": "2.0",
        "id": 11,
        "method": "elicitation/create",
        "params": {
            "mode": "url",
            "message": "Please sign in",
            "url": "https://example.com/auth",
            "elicitationId": "e-42",
            "_meta": {"io.modelcontextprotocol/related-task": {"taskId": "t1"}}
        }
    });
    let req: JsonRpcRequest<ElicitRequestParams> = rt(&request);
    let ElicitRequestParams::Url(url) = req.params.unwrap() else {
        panic!("not url mode");
    };
    assert_eq!(url.elicitation_id.as_deref(), Some("e-42"));
    assert_eq!(
        url.meta.unwrap().related_task().unwrap().unwrap().task_id,
        "t1"
    );
    assert!(matches!(
        ServerRequest::parse("elicitation/create", params_of(&request).as_ref()).unwrap(),
        ServerRequest::Elicit(ElicitRequestParams::Url(_))
    ));

    let complete = json!({"jsonrpc": "2.0", "method": "notifications/elicitation/complete", "params": {"elicitationId": "e-42"}});
    let n: envelope::ElicitationCompleteNotification = rt(&complete);
    assert_eq!(n.params.unwrap().elicitation_id, "e-42");
    assert!(matches!(
        ServerNotification::parse(
            "notifications/elicitation/complete",
            params_of(&complete).as_ref()
        )
        .unwrap(),
        ServerNotification::ElicitationComplete(_)
    ));
    // elicitationId is required there.
    assert!(ServerNotification::parse("notifications/elicitation/complete", None).is_err());

    let error = json!({
        "jsonrpc": "2.0",
        "id": 12,
        "error": {
            "code": -32042,
            "message": "URL elicitation required",
            "data": {"elicitations": [{"mode": "url", "message": "Sign in", "url": "https://example.com/a", "elicitationId": "e-43"}]}
        }
    });
    let e: envelope::UrlElicitationRequiredError = rt(&error);
    assert_eq!(e.error.code, ErrorCode::URL_ELICITATION_REQUIRED);
    let object: mcp_proto::jsonrpc::ErrorObject =
        serde_json::from_value(error["error"].clone()).unwrap();
    let data = UrlElicitationRequiredData::from_error_object(&object).unwrap();
    assert_eq!(data.elicitations[0].elicitation_id.as_deref(), Some("e-43"));
    assert!(UnsupportedProtocolVersionData::from_error_object(&object).is_err());

    // Form results may carry legacy _meta, numbers and multi-select arrays.
    let result = json!({"action": "accept", "content": {"n": 1.5, "b": true, "s": "x", "m": ["a", "b"]}, "_meta": {}});
    let r: ElicitResult = rt(&result);
    assert_eq!(
        r.content.unwrap()["m"],
        ElicitValue::StringArray(vec!["a".into(), "b".into()])
    );
}

#[test]
fn legacy_results_without_result_type_or_cache_hints() {
    let tools = json!({"tools": [{"name": "t", "inputSchema": {"type": "object"}, "execution": {"taskSupport": "optional"}}], "nextCursor": ""});
    let r: ListToolsResult = rt(&tools);
    assert_eq!(r.effective_result_type(), &ResultType::Complete);
    assert_eq!(r.effective_ttl_ms(), 0);
    assert_eq!(r.next_cursor.as_deref(), Some(""));
    assert_eq!(
        r.tools[0].execution.as_ref().unwrap().task_support,
        Some(TaskSupport::Optional)
    );

    let call = json!({"content": [{"type": "text", "text": "ok"}], "structuredContent": null});
    let r: CallToolResult = rt(&call);
    assert_eq!(r.structured_content, Some(Value::Null));
    assert!(matches!(
        rt::<CallToolResponse>(&call),
        CallToolResponse::Complete(_)
    ));

    // notifications/cancelled without requestId (allowed by 2025-11-25).
    let cancelled = json!({"reason": "gone"});
    rt::<CancelledNotificationParams>(&cancelled);

    // Unknown resultType values are detectable.
    let odd = json!({"resultType": "later", "content": []});
    let r: CallToolResult = rt(&odd);
    assert!(!r.effective_result_type().is_recognized());
    assert!(serde_json::from_value::<CallToolResponse>(odd).is_err());
}

// ---------------------------------------------------------------------------------------------
// Tasks: 2025-11-25 core vs the io.modelcontextprotocol/tasks extension
// ---------------------------------------------------------------------------------------------

#[test]
fn legacy_tasks() {
    let call = json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "process_batch", "arguments": {"data": "x"}, "task": {"ttl": 60000}}
    });
    let req: envelope::CallToolRequest = rt(&call);
    assert_eq!(req.params.unwrap().task.unwrap().ttl, Some(60000));

    let created = json!({
        "task": {
            "taskId": "786512e2", "status": "working", "statusMessage": "Processing",
            "createdAt": "2025-11-25T10:30:00Z", "lastUpdatedAt": "2025-11-25T10:30:00Z",
            "ttl": 60000, "pollInterval": 5000
        }
    });
    let c: legacy::CreateTaskResult = rt(&created);
    assert_eq!(c.task.poll_interval, Some(5000));

    let get =
        json!({"jsonrpc": "2.0", "id": 3, "method": "tasks/get", "params": {"taskId": "786512e2"}});
    rt::<JsonRpcRequest<legacy::GetTaskRequestParams>>(&get);
    assert!(matches!(
        ServerRequest::parse("tasks/get", params_of(&get).as_ref()).unwrap(),
        ServerRequest::GetTask(_)
    ));
    assert!(matches!(
        ClientRequest::parse("tasks/get", params_of(&get).as_ref()).unwrap(),
        ClientRequest::GetTask(_)
    ));
    assert!(ClientRequest::parse("tasks/get", None).is_err());

    let got = json!({
        "taskId": "786512e2", "status": "input_required",
        "createdAt": "2025-11-25T10:30:00Z", "lastUpdatedAt": "2025-11-25T10:40:00Z",
        "ttl": null, "_meta": {"io.modelcontextprotocol/related-task": {"taskId": "786512e2"}}
    });
    let g: legacy::GetTaskResult = rt(&got);
    assert_eq!(g.task.ttl, None);
    assert_eq!(g.task.status, TaskStatus::InputRequired);
    // ttl is required (nullable), not optional.
    let mut no_ttl = got;
    no_ttl.as_object_mut().unwrap().remove("ttl");
    assert!(serde_json::from_value::<legacy::GetTaskResult>(no_ttl).is_err());

    let payload_req = json!({"jsonrpc": "2.0", "id": 4, "method": "tasks/result", "params": {"taskId": "786512e2"}});
    rt::<JsonRpcRequest<legacy::GetTaskPayloadRequestParams>>(&payload_req);
    assert!(matches!(
        ClientRequest::parse("tasks/result", params_of(&payload_req).as_ref()).unwrap(),
        ClientRequest::GetTaskPayload(_)
    ));
    let payload = json!({"content": [{"type": "text", "text": "done"}], "isError": false, "_meta": {"io.modelcontextprotocol/related-task": {"taskId": "786512e2"}}});
    let p: legacy::GetTaskPayloadResult = rt(&payload);
    let as_call: CallToolResult = serde_json::from_value(Value::Object(p)).unwrap();
    assert_eq!(as_call.content[0].as_text(), Some("done"));

    let list = json!({"tasks": [{"taskId": "a", "status": "completed", "createdAt": "x", "lastUpdatedAt": "y", "ttl": 1000}], "nextCursor": "c2"});
    rt::<legacy::ListTasksResult>(&list);
    assert!(matches!(
        ClientRequest::parse("tasks/list", None).unwrap(),
        ClientRequest::ListTasks(_)
    ));

    let cancelled = json!({"taskId": "a", "status": "cancelled", "createdAt": "x", "lastUpdatedAt": "y", "ttl": 1000});
    let c: legacy::CancelTaskResult = rt(&cancelled);
    assert!(c.task.status.is_terminal());

    let status = json!({
        "jsonrpc": "2.0", "method": "notifications/tasks/status",
        "params": {"taskId": "a", "status": "failed", "statusMessage": "boom", "createdAt": "x", "lastUpdatedAt": "y", "ttl": 1000}
    });
    rt::<envelope::TaskStatusNotification>(&status);
    for parsed in [
        ServerNotification::parse("notifications/tasks/status", params_of(&status).as_ref())
            .map(|n| n.method()),
        ClientNotification::parse("notifications/tasks/status", params_of(&status).as_ref())
            .map(|n| n.method()),
    ] {
        assert_eq!(parsed.unwrap(), methods::NOTIFICATION_TASKS_STATUS);
    }

    let caps: ServerCapabilities = rt(&json!({"tasks": {"requests": {"tools": {"call": {}}}}}));
    assert!(
        caps.tasks
            .unwrap()
            .requests
            .unwrap()
            .tools
            .unwrap()
            .call
            .is_some()
    );
}

#[test]
fn extension_tasks() {
    let created = json!({
        "resultType": "task", "taskId": "786512e2", "status": "working",
        "statusMessage": "The operation is now in progress.",
        "createdAt": "2025-11-25T10:30:00Z", "lastUpdatedAt": "2025-11-25T10:40:00Z",
        "ttlMs": 60000, "pollIntervalMs": 5000
    });
    let c: tasks::CreateTaskResult = rt(&created);
    assert_eq!(c.task.ttl_ms, Some(60000));
    let CallToolResponse::Task(t) = rt::<CallToolResponse>(&created) else {
        panic!("not a task");
    };
    assert_eq!(t.task.task_id, "786512e2");
    assert_eq!(
        tasks::CreateTaskResult::new(t.task).result_type,
        Some(ResultType::Task)
    );
    // A task is not a valid answer to prompts/get.
    assert!(serde_json::from_value::<MrtrResponse<GetPromptResult>>(created).is_err());

    let input_required = json!({
        "resultType": "complete", "taskId": "786512e2", "status": "input_required",
        "createdAt": "a", "lastUpdatedAt": "b", "ttlMs": null,
        "inputRequests": {"name": {"method": "elicitation/create", "params": {"mode": "form", "message": "Name?", "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}}
    });
    let g: tasks::GetTaskResult = rt(&input_required);
    assert!(g.is_consistent());

    let completed = json!({
        "resultType": "complete", "taskId": "786512e2", "status": "completed",
        "createdAt": "a", "lastUpdatedAt": "b", "ttlMs": 3600000, "pollIntervalMs": 5000,
        "result": {"content": [{"type": "text", "text": "Hello, Luca!"}], "isError": false}
    });
    let g: tasks::GetTaskResult = rt(&completed);
    assert!(g.is_consistent());
    let failed_without_error = json!({"taskId": "x", "status": "failed", "createdAt": "a", "lastUpdatedAt": "b", "ttlMs": null});
    assert!(!rt::<tasks::GetTaskResult>(&failed_without_error).is_consistent());

    let update = json!({
        "jsonrpc": "2.0", "id": 6, "method": "tasks/update",
        "params": {"taskId": "786512e2", "inputResponses": {"name": {"action": "accept", "content": {"input": "Luca"}}}}
    });
    rt::<JsonRpcRequest<tasks::UpdateTaskRequestParams>>(&update);
    let parsed = ClientRequest::parse("tasks/update", params_of(&update).as_ref()).unwrap();
    assert!(matches!(parsed, ClientRequest::UpdateTask(_)));
    assert!(!parsed.is_available_in(Era::Legacy));
    rt::<JsonRpcResultResponse<tasks::UpdateTaskResult>>(
        &json!({"jsonrpc": "2.0", "id": 6, "result": {"resultType": "complete"}}),
    );

    let notification = json!({
        "jsonrpc": "2.0", "method": "notifications/tasks",
        "params": {"taskId": "786512e2", "status": "cancelled", "createdAt": "a", "lastUpdatedAt": "b", "ttlMs": 60000, "_meta": {"io.modelcontextprotocol/subscriptionId": 7}}
    });
    let n: JsonRpcNotification<tasks::TaskNotificationParams> = rt(&notification);
    assert_eq!(
        n.params.unwrap().meta.unwrap().subscription_id().unwrap(),
        Some(RequestId::Number(7))
    );

    let listen = json!({"toolsListChanged": true, "taskIds": ["786512e2"]});
    let filter: SubscriptionFilter = rt(&listen);
    let honoured = filter.intersect(&SubscriptionFilter {
        task_ids: Some(vec!["786512e2".into()]),
        ..SubscriptionFilter::default()
    });
    assert_eq!(honoured.tools_list_changed, None);
    assert_eq!(honoured.task_ids, Some(vec!["786512e2".to_owned()]));

    let caps = ClientCapabilities::default().with_extension(TASKS_EXTENSION_ID);
    assert!(caps.extension(TASKS_EXTENSION_ID).is_some());
    assert_eq!(
        serde_json::to_value(&caps).unwrap(),
        json!({"extensions": {"io.modelcontextprotocol/tasks": {}}})
    );
}

// ---------------------------------------------------------------------------------------------
// Version negotiation
// ---------------------------------------------------------------------------------------------

fn v(s: &str) -> ProtocolVersion {
    ProtocolVersion::parse(s)
}

#[test]
fn legacy_server_negotiation_table() {
    let only_two = [v("2025-06-18"), v("2024-11-05")];
    let modern_only = [v("2026-07-28")];
    let cases: &[(&str, &[ProtocolVersion], Option<&str>)] = &[
        // Supported: echo it.
        ("2025-11-25", &SUPPORTED, Some("2025-11-25")),
        ("2025-06-18", &SUPPORTED, Some("2025-06-18")),
        ("2025-03-26", &SUPPORTED, Some("2025-03-26")),
        ("2024-11-05", &SUPPORTED, Some("2024-11-05")),
        // Not supported: offer the newest supported legacy version.
        ("2025-03-26", &only_two, Some("2025-06-18")),
        ("2025-11-25", &only_two, Some("2025-06-18")),
        ("1900-01-01", &SUPPORTED, Some("2025-11-25")),
        ("draft", &SUPPORTED, Some("2025-11-25")),
        ("", &SUPPORTED_LEGACY, Some("2025-11-25")),
        // initialize never yields a modern version.
        ("2026-07-28", &SUPPORTED, Some("2025-11-25")),
        ("2030-01-01", &SUPPORTED, Some("2025-11-25")),
        // Nothing legacy to offer.
        ("2025-11-25", &modern_only, None),
        ("2025-11-25", &[], None),
    ];
    for (requested, supported, expected) in cases {
        assert_eq!(
            negotiate_legacy_server(requested, supported),
            expected.map(v),
            "requested {requested:?}, supported {supported:?}"
        );
    }
}

#[test]
fn legacy_client_negotiation_table() {
    let only_newest = [v("2025-11-25")];
    let cases: &[(
        &str,
        &[ProtocolVersion],
        Result<&str, LegacyNegotiationError>,
    )] = &[
        ("2025-11-25", &SUPPORTED, Ok("2025-11-25")),
        ("2024-11-05", &SUPPORTED_LEGACY, Ok("2024-11-05")),
        (
            "2025-06-18",
            &only_newest,
            Err(LegacyNegotiationError::Unsupported("2025-06-18".into())),
        ),
        (
            "2026-07-28",
            &SUPPORTED,
            Err(LegacyNegotiationError::NotLegacy("2026-07-28".into())),
        ),
        (
            "garbage",
            &SUPPORTED,
            Err(LegacyNegotiationError::NotLegacy("garbage".into())),
        ),
        (
            "2023-01-01",
            &SUPPORTED,
            Err(LegacyNegotiationError::Unsupported("2023-01-01".into())),
        ),
    ];
    for (offered, supported, expected) in cases {
        assert_eq!(
            negotiate_legacy_client(offered, supported),
            expected.clone().map(v),
            "offered {offered:?}"
        );
    }
}

#[test]
fn modern_version_checks_and_eras() {
    assert_eq!(
        check_modern_version("2026-07-28", &SUPPORTED).unwrap(),
        v("2026-07-28")
    );
    let err = check_modern_version("2025-11-25", &SUPPORTED).unwrap_err();
    assert_eq!(err.requested, "2025-11-25");
    assert_eq!(err.supported, SUPPORTED.to_vec());
    let object = err.to_error_object("Unsupported protocol version").unwrap();
    assert_eq!(object.code, ErrorCode::UNSUPPORTED_PROTOCOL_VERSION);
    assert_eq!(
        serde_json::to_value(&object).unwrap()["data"]["requested"],
        "2025-11-25"
    );
    assert!(check_modern_version("2027-01-01", &SUPPORTED).is_err());

    assert_eq!(
        select_modern_version(&SUPPORTED, &[v("2025-11-25"), v("2026-07-28")]),
        Some(v("2026-07-28"))
    );
    assert_eq!(select_modern_version(&SUPPORTED, &[v("2025-11-25")]), None);

    let eras: &[(&str, Option<Era>)] = &[
        ("2024-11-05", Some(Era::Legacy)),
        ("2025-03-26", Some(Era::Legacy)),
        ("2025-06-18", Some(Era::Legacy)),
        ("2025-11-25", Some(Era::Legacy)),
        ("2026-07-28", Some(Era::Modern)),
        ("2027-03-01", Some(Era::Modern)),
        ("2000-01-01", Some(Era::Legacy)),
        ("2026-01-01", None),
        ("draft", None),
        ("2026-7-28", None),
        ("", None),
    ];
    for (s, era) in eras {
        assert_eq!(v(s).era(), *era, "{s:?}");
    }
    assert_eq!(LATEST.as_str(), "2026-07-28");
    assert_eq!(LATEST_LEGACY.as_str(), "2025-11-25");
    assert!(v("2025-03-26").has_batches() && !v("2025-06-18").has_batches());
    assert_eq!(v("1999-12-31"), ProtocolVersion::Other("1999-12-31".into()));
    assert_eq!(
        serde_json::to_value(v("2025-06-18")).unwrap(),
        json!("2025-06-18")
    );
}

// ---------------------------------------------------------------------------------------------
// _meta
// ---------------------------------------------------------------------------------------------

#[test]
fn meta_key_format_valid() {
    let valid = [
        "",
        "a",
        "Z9",
        "progressToken",
        "x-y_z.w",
        "a.b",
        "com.example/",
        "com.example/key",
        "com.example/key.sub-part_2",
        "io.modelcontextprotocol/protocolVersion",
        "io.modelcontextprotocol/related-task",
        "a/b",
        "a-b.c1/n",
        "A.B-2/x",
        "dev.mcp/x",
        "com.example.mcp/x",
    ];
    for key in valid {
        assert!(validate_meta_key(key).is_ok(), "{key:?} should be valid");
    }
    let k = validate_meta_key("io.modelcontextprotocol/protocolVersion").unwrap();
    assert_eq!(k.prefix, Some("io.modelcontextprotocol"));
    assert_eq!(k.name, "protocolVersion");
    assert_eq!(
        k.labels().collect::<Vec<_>>(),
        ["io", "modelcontextprotocol"]
    );
}

#[test]
fn meta_key_format_invalid() {
    let label = |label: &str, problem| MetaKeyError::InvalidLabel {
        label: label.into(),
        problem,
    };
    let name = |name: &str, problem| MetaKeyError::InvalidName {
        name: name.into(),
        problem,
    };
    let cases = [
        ("/x", label("", LabelProblem::Empty)),
        ("a..b/x", label("", LabelProblem::Empty)),
        (".a/x", label("", LabelProblem::Empty)),
        ("a./x", label("", LabelProblem::Empty)),
        ("1a/x", label("1a", LabelProblem::BadStart)),
        ("-a/x", label("-a", LabelProblem::BadStart)),
        ("a-/x", label("a-", LabelProblem::BadEnd)),
        ("a_b/x", label("a_b", LabelProblem::BadChar('_'))),
        ("a b/x", label("a b", LabelProblem::BadChar(' '))),
        (
            "com.ex ample/x",
            label("ex ample", LabelProblem::BadChar(' ')),
        ),
        ("com.example/-x", name("-x", NameProblem::BadStart)),
        ("com.example/x-", name("x-", NameProblem::BadEnd)),
        ("com.example/_", name("_", NameProblem::BadStart)),
        ("com.example/x y", name("x y", NameProblem::BadChar(' '))),
        ("a/b/c", name("b/c", NameProblem::BadChar('/'))),
        ("-x", name("-x", NameProblem::BadStart)),
        ("x.", name("x.", NameProblem::BadEnd)),
        ("é", name("é", NameProblem::BadChar('é'))),
        ("com.example/ü", name("ü", NameProblem::BadChar('ü'))),
        ("a:b", name("a:b", NameProblem::BadChar(':'))),
    ];
    for (key, expected) in cases {
        assert_eq!(validate_meta_key(key).unwrap_err(), expected, "{key:?}");
    }
    assert_eq!(
        validate_extension_id("tasks").unwrap_err(),
        MetaKeyError::MissingPrefix
    );
    assert!(validate_extension_id(TASKS_EXTENSION_ID).is_ok());
    assert!(validate_extension_id("io.modelcontextprotocol/").is_ok());

    let mut meta = Meta::new();
    meta.insert("ok", json!(1));
    assert!(meta.validate_keys().is_ok());
    meta.insert("bad key", json!(1));
    assert_eq!(meta.validate_keys().unwrap_err().0, "bad key");
}

#[test]
fn meta_reserved_keys() {
    let cases = [
        ("io.modelcontextprotocol/anything", true),
        ("dev.mcp/x", true),
        ("org.modelcontextprotocol.api/x", true),
        ("com.mcp.tools/x", true),
        ("com.MCP/x", true),
        ("com.example.mcp/x", false),
        ("mcp/x", false),
        ("modelcontextprotocol.io/x", false),
        ("progressToken", true),
        ("traceparent", true),
        ("tracestate", true),
        ("baggage", true),
        ("progress", false),
        ("com.example/progressToken", false),
        ("io.modelcontextprotocol/bad name", false),
    ];
    for (key, reserved) in cases {
        assert_eq!(is_reserved_key(key), reserved, "{key:?}");
    }
}

#[test]
fn meta_typed_accessors() {
    let mut meta = Meta::for_modern_request(
        &ProtocolVersion::V2026_07_28,
        &ClientCapabilities {
            elicitation: Some(ElicitationCapability::default()),
            ..ClientCapabilities::default()
        },
    );
    meta.set_client_info(&Implementation::new("c", "1"));
    meta.set_log_level(LoggingLevel::Notice);
    meta.set_progress_token(&"tok".into());
    meta.set_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    meta.set_tracestate("congo=t61rcWkgMzE");
    meta.set_baggage("userId=alice");
    meta.set_subscription_id(&RequestId::from("listen-1"));
    meta.set_server_info(&Implementation::new("s", "2"));
    meta.set_related_task(&legacy::RelatedTaskMetadata {
        task_id: "t".into(),
    });
    assert_eq!(
        serde_json::to_value(&meta).unwrap(),
        json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
            "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "1"},
            "io.modelcontextprotocol/logLevel": "notice",
            "io.modelcontextprotocol/subscriptionId": "listen-1",
            "io.modelcontextprotocol/serverInfo": {"name": "s", "version": "2"},
            "io.modelcontextprotocol/related-task": {"taskId": "t"},
            "progressToken": "tok",
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "tracestate": "congo=t61rcWkgMzE",
            "baggage": "userId=alice"
        })
    );
    assert!(meta.validate_keys().is_ok());
    let fields = meta.modern_request_fields().unwrap();
    assert!(fields.client_capabilities.supports_elicitation_form());
    assert_eq!(fields.log_level, Some(LoggingLevel::Notice));
    assert_eq!(fields.progress_token, Some(ProgressToken::from("tok")));
    assert_eq!(meta.server_info().unwrap().unwrap().name, "s");
    assert!(is_valid_traceparent(&meta.traceparent().unwrap().unwrap()));
    assert_eq!(meta.baggage().unwrap().as_deref(), Some("userId=alice"));

    // Missing and malformed reserved values are typed errors (-32602).
    let mut partial = Meta::new();
    partial.set_protocol_version(&ProtocolVersion::V2026_07_28);
    assert_eq!(
        partial.modern_request_fields().unwrap_err(),
        MetaValueError::Missing {
            key: meta::CLIENT_CAPABILITIES_KEY
        }
    );
    assert_eq!(
        ModernRequestMeta::from_params_meta(None).unwrap_err(),
        MetaValueError::MissingMeta
    );
    partial.insert("io.modelcontextprotocol/logLevel", json!("loud"));
    let err = partial.log_level().unwrap_err();
    assert!(matches!(err, MetaValueError::Invalid { .. }));
    assert_eq!(err.code(), ErrorCode::INVALID_PARAMS);

    // Unknown keys survive a round trip.
    let odd =
        json!({"com.example/x": [1, 2], "": null, "io.modelcontextprotocol/future": {"a": 1}});
    rt::<Meta>(&odd);
}

#[test]
fn traceparent_format() {
    let cases = [
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            true,
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
            true,
        ),
        (
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            true,
        ),
        (
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            false,
        ),
        (
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            false,
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            false,
        ),
        (
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            false,
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            false,
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            false,
        ),
        ("", false),
    ];
    for (value, ok) in cases {
        assert_eq!(is_valid_traceparent(value), ok, "{value:?}");
    }
}

#[test]
fn input_requests_and_legacy_server_requests_convert_both_ways() {
    use mcp_proto::engine::capability::{missing_client_capability, missing_input_capability};
    use mcp_proto::types::InputRequest;
    use mcp_proto::types::methods::ServerRequest;

    let none = ClientCapabilities::default();
    for method in ["sampling/createMessage", "elicitation/create", "roots/list"] {
        let params = match method {
            "sampling/createMessage" => r#"{"messages":[],"maxTokens":5}"#,
            "elicitation/create" => {
                r#"{"message":"?","requestedSchema":{"type":"object","properties":{}}}"#
            }
            _ => "{}",
        };
        let raw = mcp_proto::jsonrpc::RawJson::from_text(params).unwrap();
        let request = ServerRequest::parse(method, Some(&raw)).unwrap();
        let input = InputRequest::try_from(request.clone()).unwrap();
        assert_eq!(input.method(), method);
        // Both eras' ways of asking need the same capability.
        assert_eq!(
            missing_input_capability(&input, &none),
            missing_client_capability(&request, &none)
        );
        assert!(missing_input_capability(&input, &none).is_some());
        assert_eq!(ServerRequest::from(input), request);
    }
    let ping = ServerRequest::parse("ping", None).unwrap();
    assert_eq!(InputRequest::try_from(ping.clone()), Err(ping));
}
