//! The client and server endpoints wired to each other through the real codec, on virtual
//! time: era discovery and every fallback path, `_meta` validation end to end, capability
//! gating, resultType checks, and legacy server→client requests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use mcp_proto::engine::{
    ClientConfig, ClientEndpoint, ClientError, ClientEvent, EraPolicy, HandshakeError, Outcome,
    RequestFailure, RequestOptions, ServerConfig, ServerEndpoint, ServerEvent, Transmit,
    TransportScope,
};
use mcp_proto::jsonrpc::{
    self, DecodeOptions, ErrorCode, ErrorObject, Message, RawJson, RequestId,
};
use mcp_proto::types::methods::{ClientRequest, ServerRequest};
use mcp_proto::types::{
    ClientCapabilities, Era, Implementation, PaginatedRequestParams, ProtocolVersion,
    ServerCapabilities, version,
};

fn tools_server() -> ServerConfig {
    ServerConfig::new(
        Implementation::new("srv", "1"),
        ServerCapabilities {
            tools: Some(Default::default()),
            ..Default::default()
        },
    )
}

fn client_config(era: EraPolicy) -> ClientConfig {
    let mut config = ClientConfig::new(
        Implementation::new("cli", "1"),
        ClientCapabilities {
            sampling: Some(Default::default()),
            ..Default::default()
        },
    );
    config.era = era;
    config
}

fn decode(message: &Message) -> Result<Message, jsonrpc::DecodeError> {
    jsonrpc::decode_message(&jsonrpc::encode(message), &DecodeOptions::default())
}

/// Moves every transmit each way until both sides are quiet.
fn run(now: Instant, client: &mut ClientEndpoint, server: &mut ServerEndpoint) {
    loop {
        let mut moved = false;
        while let Some(Transmit::Send { scope, message }) = client.poll_transmit() {
            match decode(&message) {
                Ok(m) => server.handle_message(now, scope, m),
                Err(e) => server.handle_invalid_message(now, scope, e),
            }
            moved = true;
        }
        while let Some(Transmit::Send { scope, message }) = server.poll_transmit() {
            match decode(&message) {
                Ok(m) => client.handle_message(now, scope, m),
                Err(e) => client.handle_invalid_message(now, scope, e),
            }
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

fn client_events(client: &mut ClientEndpoint) -> Vec<ClientEvent> {
    std::iter::from_fn(|| client.poll_event()).collect()
}

fn server_events(server: &mut ServerEndpoint) -> Vec<ServerEvent> {
    std::iter::from_fn(|| server.poll_event()).collect()
}

fn list_tools() -> ClientRequest {
    ClientRequest::ListTools(PaginatedRequestParams::default())
}

#[test]
fn auto_discovers_a_modern_server_and_requests_carry_valid_meta() {
    let now = Instant::now();
    let (mut client, mut server) = (
        ClientEndpoint::new(client_config(EraPolicy::Auto)),
        ServerEndpoint::new(tools_server()),
    );
    client.start(now).unwrap();
    run(now, &mut client, &mut server);
    let [ClientEvent::Ready(negotiated)] = &client_events(&mut client)[..] else {
        panic!("ready")
    };
    assert_eq!(
        (negotiated.era, &negotiated.protocol_version),
        (Era::Modern, &ProtocolVersion::V2026_07_28)
    );
    assert_eq!(negotiated.server_info.as_ref().unwrap().name, "srv");
    assert!(
        server_events(&mut server).is_empty(),
        "discover was answered by the server endpoint"
    );

    let id = client
        .request(now, &list_tools(), RequestOptions::default())
        .unwrap();
    run(now, &mut client, &mut server);
    let [
        ServerEvent::Request {
            id: seen, context, ..
        },
    ] = &server_events(&mut server)[..]
    else {
        panic!()
    };
    assert_eq!(
        context.era,
        Era::Modern,
        "the server validated the client's _meta"
    );
    assert_eq!(context.client_info.as_ref().unwrap().name, "cli");
    assert!(context.client_capabilities.sampling.is_some());
    server
        .respond(seen, &serde_json::json!({"tools": []}))
        .unwrap();
    run(now, &mut client, &mut server);
    let [
        ClientEvent::Response {
            id: answered,
            outcome: Outcome::Result(result),
            ..
        },
    ] = &client_events(&mut client)[..]
    else {
        panic!()
    };
    assert_eq!(answered, &id);
    assert!(result.get().contains(r#""resultType":"complete""#));
}

#[test]
fn auto_falls_back_to_initialize_when_the_server_speaks_no_modern_version() {
    let now = Instant::now();
    let mut legacy_only = tools_server();
    legacy_only.supported_versions = version::SUPPORTED_LEGACY.to_vec();
    let (mut client, mut server) = (
        ClientEndpoint::new(client_config(EraPolicy::Auto)),
        ServerEndpoint::new(legacy_only),
    );
    client.start(now).unwrap();
    run(now, &mut client, &mut server);
    let [ClientEvent::Ready(negotiated)] = &client_events(&mut client)[..] else {
        panic!("ready")
    };
    assert_eq!(
        (negotiated.era, &negotiated.protocol_version),
        (Era::Legacy, &ProtocolVersion::V2025_11_25)
    );
    assert!(matches!(
        &server_events(&mut server)[..],
        [ServerEvent::Initialized { .. }]
    ));
    client
        .request(now, &list_tools(), RequestOptions::default())
        .unwrap();
    run(now, &mut client, &mut server);
    assert!(
        matches!(&server_events(&mut server)[..], [ServerEvent::Request { context, .. }] if context.era == Era::Legacy)
    );
    // A modern-only method is refused before it is sent.
    let discover = ClientRequest::parse("server/discover", None).unwrap();
    assert!(matches!(
        client.request(now, &discover, RequestOptions::default()),
        Err(ClientError::NotInEra { .. })
    ));
}

/// A legacy peer that answers everything but `initialize` with -32601 (like old SDKs).
fn legacy_peer_answer(request: &jsonrpc::Request) -> Message {
    if request.method == "initialize" {
        Message::Response(jsonrpc::Response {
            id: request.id.clone(),
            result: RawJson::from_text(r#"{"protocolVersion":"2025-03-26","capabilities":{"tools":{}},"serverInfo":{"name":"old","version":"0.9"}}"#).unwrap(),
        })
    } else {
        Message::Error(jsonrpc::ErrorResponse {
            id: Some(request.id.clone()),
            error: ErrorObject::from_code(ErrorCode::METHOD_NOT_FOUND),
        })
    }
}

#[test]
fn auto_falls_back_on_any_non_modern_answer_and_on_a_probe_timeout() {
    let t0 = Instant::now();
    // 1. -32601 from an old SDK.
    let mut client = ClientEndpoint::new(client_config(EraPolicy::Auto));
    client.start(t0).unwrap();
    let mut notifications = Vec::new();
    for _ in 0..3 {
        while let Some(transmit) = client.poll_transmit() {
            match transmit {
                Transmit::Send {
                    message: Message::Request(request),
                    ..
                } => {
                    client.handle_message(
                        t0,
                        TransportScope::CONNECTION,
                        legacy_peer_answer(&request),
                    );
                }
                Transmit::Send { message, .. } => {
                    notifications.extend(message.method().map(str::to_owned));
                }
                Transmit::CloseScope(_) => panic!("no stream to close on stdio"),
            }
        }
    }
    let events = client_events(&mut client);
    assert!(
        matches!(&events[..], [ClientEvent::Ready(n)] if n.era == Era::Legacy && n.protocol_version == ProtocolVersion::V2025_03_26),
        "{events:?}"
    );
    let sent = notifications;
    assert_eq!(sent, ["notifications/initialized"]);

    // 2. No answer at all: the probe times out, then initialize goes out.
    let mut config = client_config(EraPolicy::Auto);
    config.connection.limits.default_timeout = Duration::from_secs(5);
    let mut client = ClientEndpoint::new(config);
    client.start(t0).unwrap();
    let _probe = client.poll_transmit();
    client.handle_timeout(t0 + Duration::from_secs(5));
    // The server is told the probe was given up, then the legacy handshake starts.
    let after: Vec<String> = std::iter::from_fn(|| client.poll_transmit())
        .filter_map(|t| match t {
            Transmit::Send { message, .. } => message.method().map(str::to_owned),
            Transmit::CloseScope(_) => None,
        })
        .collect();
    assert_eq!(after, ["notifications/cancelled", "initialize"]);
}

#[test]
fn modern_policy_reports_a_failed_handshake_instead_of_falling_back() {
    let now = Instant::now();
    let mut client = ClientEndpoint::new(client_config(EraPolicy::Modern));
    client.start(now).unwrap();
    while let Some(Transmit::Send {
        message: Message::Request(request),
        ..
    }) = client.poll_transmit()
    {
        client.handle_message(
            now,
            TransportScope::CONNECTION,
            legacy_peer_answer(&request),
        );
    }
    let events = client_events(&mut client);
    assert!(matches!(
        &events[0],
        ClientEvent::HandshakeFailed(HandshakeError::Refused {
            method: "server/discover",
            ..
        })
    ));
    assert!(matches!(events.last(), Some(ClientEvent::Closed(_))));
    assert_eq!(
        client.request(now, &list_tools(), RequestOptions::default()),
        Err(ClientError::NotReady)
    );
}

#[test]
fn a_server_without_the_capability_is_not_asked() {
    let now = Instant::now();
    let (mut client, mut server) = (
        ClientEndpoint::new(client_config(EraPolicy::Auto)),
        ServerEndpoint::new(tools_server()),
    );
    client.start(now).unwrap();
    run(now, &mut client, &mut server);
    client_events(&mut client);
    let prompts = ClientRequest::parse("prompts/list", None).unwrap();
    assert!(matches!(
        client.request(now, &prompts, RequestOptions::default()),
        Err(ClientError::CapabilityNotOffered {
            capability: "prompts",
            ..
        })
    ));
    assert!(client.poll_transmit().is_none());
}

#[test]
fn an_unknown_result_type_is_an_invalid_result() {
    let now = Instant::now();
    let (mut client, mut server) = (
        ClientEndpoint::new(client_config(EraPolicy::Auto)),
        ServerEndpoint::new(tools_server()),
    );
    client.start(now).unwrap();
    run(now, &mut client, &mut server);
    client_events(&mut client);
    client
        .request(now, &list_tools(), RequestOptions::default())
        .unwrap();
    run(now, &mut client, &mut server);
    let [ServerEvent::Request { id, .. }] = &server_events(&mut server)[..] else {
        panic!()
    };
    server
        .respond(
            id,
            &serde_json::json!({"tools": [], "resultType": "teleport"}),
        )
        .unwrap();
    run(now, &mut client, &mut server);
    assert!(matches!(
        &client_events(&mut client)[..],
        [ClientEvent::Response {
            outcome: Outcome::Failed(RequestFailure::InvalidResult { .. }),
            ..
        }]
    ));
}

#[test]
fn a_legacy_server_can_ask_for_what_the_client_declared() {
    let now = Instant::now();
    let (mut client, mut server) = (
        ClientEndpoint::new(client_config(EraPolicy::Legacy)),
        ServerEndpoint::new(tools_server()),
    );
    client.start(now).unwrap();
    run(now, &mut client, &mut server);
    assert!(
        matches!(&client_events(&mut client)[..], [ClientEvent::Ready(n)] if n.era == Era::Legacy)
    );
    server_events(&mut server);
    let sampling = ServerRequest::parse(
        "sampling/createMessage",
        Some(&RawJson::from_text(r#"{"messages":[],"maxTokens":5}"#).unwrap()),
    )
    .unwrap();
    let id = server
        .request(now, &sampling, RequestOptions::default())
        .unwrap();
    run(now, &mut client, &mut server);
    let [
        ClientEvent::Request {
            id: asked,
            request: ServerRequest::CreateMessage(_),
        },
    ] = &client_events(&mut client)[..]
    else {
        panic!()
    };
    client
        .respond(
            asked,
            Ok(RawJson::from_text(
                r#"{"role":"assistant","content":{"type":"text","text":"ok"},"model":"m"}"#,
            )
            .unwrap()),
        )
        .unwrap();
    run(now, &mut client, &mut server);
    assert!(
        matches!(&server_events(&mut server)[..], [ServerEvent::Settled(s)] if s.id == id && matches!(s.outcome, Outcome::Result(_)))
    );
    // A request the client did not declare the capability for is answered -32601 by the client.
    client.handle_message(
        now,
        TransportScope::CONNECTION,
        Message::Request(jsonrpc::Request {
            id: 99.into(),
            method: "roots/list".into(),
            params: None,
        }),
    );
    let Some(Transmit::Send {
        message: Message::Error(refusal),
        ..
    }) = client.poll_transmit()
    else {
        panic!("refused")
    };
    assert_eq!(refusal.error.code, ErrorCode::METHOD_NOT_FOUND);
}

fn modern_pair(now: Instant) -> (ClientEndpoint, ServerEndpoint) {
    let (mut client, mut server) = (
        ClientEndpoint::new(client_config(EraPolicy::Auto)),
        ServerEndpoint::new(tools_server()),
    );
    client.start(now).unwrap();
    run(now, &mut client, &mut server);
    assert!(
        matches!(&client_events(&mut client)[..], [ClientEvent::Ready(n)] if n.era == Era::Modern)
    );
    (client, server)
}

fn call_tool() -> ClientRequest {
    ClientRequest::parse(
        "tools/call",
        Some(&RawJson::from_text(r#"{"name":"deploy","arguments":{"env":"prod"}}"#).unwrap()),
    )
    .unwrap()
}

fn input_required(state: &str) -> serde_json::Value {
    serde_json::json!({
        "resultType": "input_required",
        "inputRequests": {"confirm": {"method": "elicitation/create", "params": {
            "mode": "form", "message": "Deploy to prod?",
            "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}}},
        "requestState": state
    })
}

fn confirm() -> mcp_proto::types::InputResponses {
    serde_json::from_value(
        serde_json::json!({"confirm": {"action": "accept", "content": {"ok": true}}}),
    )
    .unwrap()
}

#[test]
fn mrtr_retries_with_the_input_and_the_exact_state_and_settles_once() {
    let now = Instant::now();
    let (mut client, mut server) = modern_pair(now);
    let id = client
        .request(now, &call_tool(), RequestOptions::default())
        .unwrap();
    run(now, &mut client, &mut server);
    let [ServerEvent::Request { id: first, .. }] = &server_events(&mut server)[..] else {
        panic!()
    };
    server.respond(first, &input_required("opaque-1")).unwrap();
    run(now, &mut client, &mut server);
    let [
        ClientEvent::InputRequired {
            id: asked,
            requests,
            round: 1,
        },
    ] = &client_events(&mut client)[..]
    else {
        panic!("input required")
    };
    assert_eq!(asked, &id);
    assert!(requests.contains_key("confirm"));

    client.provide_input(now, &id, confirm()).unwrap();
    run(now, &mut client, &mut server);
    let [
        ServerEvent::Request {
            id: second,
            request: ClientRequest::CallTool(retry),
            context,
        },
    ] = &server_events(&mut server)[..]
    else {
        panic!()
    };
    assert_ne!(second, first, "a retry is a new request with a new id");
    assert_eq!(context.era, Era::Modern, "the retry carries the same _meta");
    assert_eq!(retry.name, "deploy");
    assert_eq!(
        retry.request_state.as_deref(),
        Some("opaque-1"),
        "the state is echoed exactly"
    );
    assert!(
        retry
            .input_responses
            .as_ref()
            .unwrap()
            .contains_key("confirm")
    );
    server
        .respond(
            second,
            &serde_json::json!({"content": [{"type": "text", "text": "deployed"}]}),
        )
        .unwrap();
    run(now, &mut client, &mut server);
    let events = client_events(&mut client);
    assert!(
        matches!(&events[..], [ClientEvent::Response { id: done, outcome: Outcome::Result(_), .. }] if *done == id),
        "{events:?}"
    );
}

#[test]
fn mrtr_rounds_are_bounded_and_pending_input_settles_on_close() {
    let now = Instant::now();
    let (mut client, mut server) = modern_pair(now);
    let id = client
        .request(now, &call_tool(), RequestOptions::default())
        .unwrap();
    // A server that never stops asking: the ninth input_required ends the request.
    for round in 1..=9 {
        run(now, &mut client, &mut server);
        let [ServerEvent::Request { id: wire, .. }] = &server_events(&mut server)[..] else {
            panic!("round {round}")
        };
        server
            .respond(wire, &input_required(&format!("s{round}")))
            .unwrap();
        run(now, &mut client, &mut server);
        match &client_events(&mut client)[..] {
            [ClientEvent::InputRequired { round: r, .. }] if *r == round => {
                client.provide_input(now, &id, confirm()).unwrap();
            }
            [
                ClientEvent::Response {
                    id: done,
                    outcome: Outcome::Failed(RequestFailure::InvalidResult { .. }),
                    ..
                },
            ] if round == 9 => {
                assert_eq!(done, &id);
            }
            other => panic!("round {round}: {other:?}"),
        }
    }
    // A request left waiting for input is settled when the connection closes.
    let second = client
        .request(now, &call_tool(), RequestOptions::default())
        .unwrap();
    run(now, &mut client, &mut server);
    let [ServerEvent::Request { id: wire, .. }] = &server_events(&mut server)[..] else {
        panic!()
    };
    server.respond(wire, &input_required("s")).unwrap();
    run(now, &mut client, &mut server);
    assert!(matches!(
        &client_events(&mut client)[..],
        [ClientEvent::InputRequired { .. }]
    ));
    client.close(now);
    let events = client_events(&mut client);
    assert!(
        matches!(&events[..], [ClientEvent::Response { id: done, outcome: Outcome::Failed(RequestFailure::Closed), .. }, ClientEvent::Closed(_)] if *done == second),
        "{events:?}"
    );
    assert_eq!(
        client.provide_input(now, &second, confirm()),
        Err(ClientError::NotAwaitingInput(second))
    );
}

#[test]
fn subscriptions_are_acknowledged_filtered_demultiplexed_and_ended() {
    use mcp_proto::engine::ListChanged;
    use mcp_proto::types::SubscriptionFilter;

    let now = Instant::now();
    let mut config = tools_server();
    config.capabilities = serde_json::from_value(serde_json::json!({
        "tools": {"listChanged": true}, "resources": {"subscribe": true}
    }))
    .unwrap();
    config.connection.limits.default_timeout = Duration::from_secs(5);
    let (mut client, mut server) = (
        ClientEndpoint::new(client_config(EraPolicy::Auto)),
        ServerEndpoint::new(config),
    );
    client.start(now).unwrap();
    run(now, &mut client, &mut server);
    client_events(&mut client);

    let asked = SubscriptionFilter {
        tools_list_changed: Some(true),
        prompts_list_changed: Some(true),
        resource_subscriptions: Some(vec!["file:///docs/".into()]),
        ..Default::default()
    };
    let first = client.subscribe(now, asked).unwrap();
    let second = client
        .subscribe(
            now,
            SubscriptionFilter {
                tools_list_changed: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    run(now, &mut client, &mut server);
    let honoured = SubscriptionFilter {
        tools_list_changed: Some(true),
        resource_subscriptions: Some(vec!["file:///docs/".into()]),
        ..Default::default()
    };
    assert_eq!(
        server_events(&mut server)[0],
        ServerEvent::Subscribed {
            id: first.clone(),
            filter: honoured.clone()
        },
        "prompts are not offered, so they are not honoured"
    );
    let acks = client_events(&mut client);
    assert_eq!(
        acks[0],
        ClientEvent::SubscriptionAcknowledged {
            id: first.clone(),
            filter: honoured
        }
    );

    // Fan-out reaches exactly the subscriptions that opted in, tagged with their ids.
    assert_eq!(server.notify_list_changed(ListChanged::Tools), 2);
    assert_eq!(server.notify_list_changed(ListChanged::Prompts), 0);
    assert_eq!(server.notify_resource_updated("file:///docs/a.md"), 1);
    assert_eq!(
        server.notify_resource_updated("file:///docsets"),
        0,
        "a prefix is not a parent"
    );
    run(now, &mut client, &mut server);
    let delivered: Vec<(RequestId, &'static str)> = client_events(&mut client)
        .into_iter()
        .map(|e| match e {
            ClientEvent::SubscriptionNotification { id, notification } => {
                (id, notification.method())
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        delivered,
        [
            (first.clone(), "notifications/tools/list_changed"),
            (second.clone(), "notifications/tools/list_changed"),
            (first.clone(), "notifications/resources/updated"),
        ]
    );

    // Long-lived: the request timeout does not end a subscription.
    client.handle_timeout(now + Duration::from_secs(60));
    assert!(client_events(&mut client).is_empty());

    // The server ends one; the client cancels the other.
    assert!(server.end_subscription(&first));
    run(now, &mut client, &mut server);
    assert!(
        matches!(&client_events(&mut client)[..], [ClientEvent::Response { id, outcome: Outcome::Result(_), .. }] if *id == first)
    );
    assert!(client.cancel(now, &second, None));
    run(now, &mut client, &mut server);
    assert!(
        matches!(&server_events(&mut server)[..], [ServerEvent::Cancelled { id }] if *id == second)
    );
    assert_eq!(server.subscription_count(), 0);
    assert_eq!(server.notify_list_changed(ListChanged::Tools), 0);
}

#[test]
fn a_legacy_server_has_no_subscriptions() {
    let now = Instant::now();
    let (mut client, mut server) = (
        ClientEndpoint::new(client_config(EraPolicy::Legacy)),
        ServerEndpoint::new(tools_server()),
    );
    client.start(now).unwrap();
    run(now, &mut client, &mut server);
    let result = client.subscribe(now, Default::default());
    assert!(matches!(
        result,
        Err(ClientError::NotInEra {
            era: Era::Legacy,
            ..
        })
    ));
}

#[test]
fn a_server_may_end_a_subscription_with_a_cancel_notification() {
    let now = Instant::now();
    let (mut client, mut server) = modern_pair(now);
    let sub = client.subscribe(now, Default::default()).unwrap();
    run(now, &mut client, &mut server);
    client_events(&mut client);
    server_events(&mut server);
    let cancel = |id: &RequestId| {
        Message::Notification(jsonrpc::Notification {
            method: "notifications/cancelled".into(),
            params: Some(
                RawJson::from_serialize(
                    &serde_json::json!({"requestId": id, "reason": "shutting down"}),
                )
                .unwrap(),
            ),
        })
    };
    // A stray cancel (a race with an answer) means nothing.
    client.handle_message(
        now,
        TransportScope::CONNECTION,
        cancel(&RequestId::from(4242)),
    );
    assert!(client_events(&mut client).is_empty());
    client.handle_message(now, TransportScope::CONNECTION, cancel(&sub));
    let events = client_events(&mut client);
    assert!(
        matches!(&events[..], [ClientEvent::Response { id, outcome: Outcome::Failed(RequestFailure::EndedByPeer { reason: Some(r) }), .. }] if *id == sub && r == "shutting down"),
        "{events:?}"
    );
    assert!(
        client.poll_transmit().is_none(),
        "nothing is cancelled back"
    );
}

#[test]
fn task_results_only_for_clients_that_declared_the_extension() {
    use mcp_proto::engine::ServerError;
    let task = serde_json::json!({"resultType": "task", "taskId": "t1", "status": "working",
        "createdAt": "2026-01-01T00:00:00Z", "lastUpdatedAt": "2026-01-01T00:00:00Z", "ttlMs": null});
    let now = Instant::now();
    // A client without the extension: the server refuses to answer with a task…
    let (mut client, mut server) = modern_pair(now);
    client
        .request(now, &call_tool(), RequestOptions::default())
        .unwrap();
    run(now, &mut client, &mut server);
    let [ServerEvent::Request { id, .. }] = &server_events(&mut server)[..] else {
        panic!()
    };
    assert!(matches!(
        server.respond(id, &task),
        Err(ServerError::TaskResultNotAccepted(_))
    ));
    // …and the client refuses one that arrives anyway.
    server
        .respond(id, &serde_json::json!({"content": []}))
        .unwrap();
    run(now, &mut client, &mut server);
    client_events(&mut client);
    client
        .request(now, &call_tool(), RequestOptions::default())
        .unwrap();
    while let Some(Transmit::Send {
        message: Message::Request(request),
        ..
    }) = client.poll_transmit()
    {
        let answer = Message::Response(jsonrpc::Response {
            id: request.id,
            result: RawJson::from_serialize(&task).unwrap(),
        });
        client.handle_message(now, TransportScope::CONNECTION, answer);
    }
    assert!(matches!(
        &client_events(&mut client)[..],
        [ClientEvent::Response {
            outcome: Outcome::Failed(RequestFailure::InvalidResult { .. }),
            ..
        }]
    ));

    // A client that declared it gets the task result.
    let mut config = client_config(EraPolicy::Auto);
    config.capabilities = config
        .capabilities
        .with_extension(mcp_proto::types::TASKS_EXTENSION_ID);
    let (mut client, mut server) = (
        ClientEndpoint::new(config),
        ServerEndpoint::new(tools_server()),
    );
    client.start(now).unwrap();
    run(now, &mut client, &mut server);
    client_events(&mut client);
    client
        .request(now, &call_tool(), RequestOptions::default())
        .unwrap();
    run(now, &mut client, &mut server);
    let [ServerEvent::Request { id, .. }] = &server_events(&mut server)[..] else {
        panic!()
    };
    server.respond(id, &task).unwrap();
    run(now, &mut client, &mut server);
    assert!(
        matches!(&client_events(&mut client)[..], [ClientEvent::Response { outcome: Outcome::Result(r), .. }] if r.get().contains("\"task\""))
    );
}
