//! The rest of the high-level API end to end, in both eras: resource templates, completion,
//! per-call progress callbacks, `subscriptions/listen`, logs as notifications, tools with
//! derived schemas, a call that gathers input then goes on as a task, followed with
//! `notifications/tasks`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_async::api::{
    CallError, CallOptions, Client, ClientOptions, Continuation, HandlerError, HttpConnectOptions,
    HttpServeOptions, Server, Stack, SubscriptionEvent, TaskCreation, TaskSupport,
};
use mcp_async::demo::{GREETING_TEMPLATE, demo_server};
use mcp_async::proto::engine::EraPolicy;
use mcp_async::proto::jsonrpc::RawJson;
use mcp_async::proto::types::methods::{ClientRequest, ServerNotification};
use mcp_async::proto::types::tasks::{CreateTaskResult, GetTaskResult};
use mcp_async::proto::types::{
    CallToolResult, Completion, ElicitResult, Era, InputRequest, InputResponse, LoggingLevel,
    ResourceContents, SubscriptionFilter, TASKS_EXTENSION_ID, TaskStatus, Tool,
};
use serde_json::json;

use crate::{Harness, S, Scenario, scenario, within};

pub fn scenarios<H: Harness>() -> Vec<Scenario> {
    vec![
        scenario!(
            H,
            templates_and_completion_in_both_eras_in_memory_and_over_http
        ),
        scenario!(H, a_progress_callback_sees_the_calls_progress_in_both_eras),
        scenario!(
            H,
            listen_is_acknowledged_on_a_modern_server_and_refused_by_a_legacy_one
        ),
        scenario!(H, handler_logs_reach_a_legacy_clients_notification_callback),
        scenario!(H, a_tool_with_a_derived_schema_is_listed_and_called),
        scenario!(H, a_completion_is_capped_at_100_values_with_has_more),
        scenario!(
            H,
            a_call_gathers_input_then_runs_as_a_task_whose_end_is_notified_in_memory_and_over_http
        ),
    ]
}

const LIMIT: Duration = Duration::from_secs(30);

const ERAS: [(EraPolicy, Era); 2] = [
    (EraPolicy::Auto, Era::Modern),
    (EraPolicy::Legacy, Era::Legacy),
];

fn demo<H: Harness>() -> Server {
    demo_server(S::<H>::runtime().expect("the adapter's runtime"))
}

async fn templates_and_completion(client: &Client) {
    let templates = client.list_resource_templates().await.unwrap();
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].uri_template, GREETING_TEMPLATE);
    let read = client
        .read_resource("demo://greeting/Grace%20Hopper")
        .await
        .unwrap();
    match &read.contents[..] {
        [ResourceContents::Text(text)] => assert_eq!(text.text, "Hello, Grace Hopper!"),
        other => panic!("{other:?}"),
    }
    let missing = client
        .read_resource("demo://greeting/a/b")
        .await
        .unwrap_err();
    assert!(matches!(missing, CallError::Server(_)), "{missing:?}");
    let completed = client
        .complete(
            json!({"type": "ref/prompt", "name": "greet"}),
            json!({"name": "name", "value": "a"}),
        )
        .await
        .unwrap();
    assert_eq!(completed.completion.values, ["Ada", "Alan"]);
}

pub async fn templates_and_completion_in_both_eras_in_memory_and_over_http<H: Harness>() {
    within::<H, _>(LIMIT, async {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let server = S::<H>::serve_http(demo::<H>(), addr, HttpServeOptions::default())
            .await
            .unwrap();
        let url: http::Uri = server.url("/mcp").parse().unwrap();
        for (policy, era) in ERAS {
            let options = ClientOptions::new("t", "1").era(policy);
            let client = S::<H>::connect_in_memory(demo::<H>(), options.clone())
                .await
                .unwrap();
            assert_eq!(client.negotiated().era, era);
            templates_and_completion(&client).await;
            client.shutdown().await;
            let client = S::<H>::connect_http(HttpConnectOptions::new(url.clone()), options)
                .await
                .unwrap();
            assert_eq!(client.negotiated().era, era);
            templates_and_completion(&client).await;
            client.shutdown().await;
        }
        server.shutdown().await;
    })
    .await;
}

pub async fn a_progress_callback_sees_the_calls_progress_in_both_eras<H: Harness>() {
    within::<H, _>(LIMIT, async {
        for (policy, _) in ERAS {
            let client =
                S::<H>::connect_in_memory(demo::<H>(), ClientOptions::new("t", "1").era(policy))
                    .await
                    .unwrap();
            let seen = Arc::new(Mutex::new(Vec::new()));
            let sink = Arc::clone(&seen);
            let options = CallOptions::default()
                .on_progress(move |update| sink.lock().unwrap().push(update.progress));
            let result = client
                .call_tool_with("slow", json!({"millis": 100}), options)
                .await
                .unwrap();
            assert!(result.is_error.is_none());
            let seen = seen.lock().unwrap().clone();
            assert!(!seen.is_empty(), "{policy:?}: no progress");
            assert!(
                seen.windows(2).all(|w| w[0] < w[1]) && *seen.last().unwrap() <= 10.0,
                "{policy:?}: {seen:?}"
            );
            // Without a callback, no progress is asked for.
            client
                .call_tool("slow", json!({"millis": 10}))
                .await
                .unwrap();
            client.shutdown().await;
        }
    })
    .await;
}

pub async fn listen_is_acknowledged_on_a_modern_server_and_refused_by_a_legacy_one<H: Harness>() {
    within::<H, _>(LIMIT, async {
        let client = S::<H>::connect_in_memory(demo::<H>(), ClientOptions::new("t", "1"))
            .await
            .unwrap();
        let filter = SubscriptionFilter {
            tools_list_changed: Some(true),
            ..SubscriptionFilter::default()
        };
        let subscription = client.listen(filter).await.unwrap();
        match subscription.next().await {
            Some(SubscriptionEvent::Acknowledged(_)) => {}
            other => panic!("{other:?}"),
        }
        // Dropping it cancels it; the connection goes on.
        drop(subscription);
        client
            .call_tool("echo", json!({"message": "x"}))
            .await
            .unwrap();
        client.shutdown().await;

        let legacy = S::<H>::connect_in_memory(
            demo::<H>(),
            ClientOptions::new("t", "1").era(EraPolicy::Legacy),
        )
        .await
        .unwrap();
        let subscription = legacy.listen(SubscriptionFilter::default()).await.unwrap();
        let ended = subscription.next().await;
        assert!(
            matches!(
                ended,
                Some(SubscriptionEvent::Ended(Err(CallError::Refused(_))))
            ),
            "{ended:?}"
        );
        legacy.shutdown().await;
    })
    .await;
}

pub async fn handler_logs_reach_a_legacy_clients_notification_callback<H: Harness>() {
    within::<H, _>(LIMIT, async {
        let tool: Tool =
            serde_json::from_value(json!({"name": "chatty", "inputSchema": {"type": "object"}}))
                .unwrap();
        let server = Server::builder("logs", "1")
            .tool(tool, |ctx, _| async move {
                ctx.log(LoggingLevel::Info, Some("chatty"), json!("working"));
                Ok::<_, HandlerError>(CallToolResult::text("done"))
            })
            .build();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&logs);
        let options = ClientOptions::new("t", "1")
            .era(EraPolicy::Legacy)
            .on_notification(move |notification| {
                if let ServerNotification::LoggingMessage(message) = notification {
                    sink.lock().unwrap().push(message.data);
                }
            });
        let client = S::<H>::connect_in_memory(server, options).await.unwrap();
        client.call_tool("chatty", json!({})).await.unwrap();
        client.shutdown().await;
        assert_eq!(*logs.lock().unwrap(), [json!("working")]);
    })
    .await;
}

/// The arguments of the `add` tool, whose input schema is derived from them.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Add {
    /// The first term.
    a: i64,
    /// The second term.
    b: i64,
}

pub async fn a_tool_with_a_derived_schema_is_listed_and_called<H: Harness>() {
    within::<H, _>(LIMIT, async {
        let server = Server::builder("calc", "1")
            .schema_tool("add", "Adds two integers", |_ctx, args: Add| async move {
                Ok::<_, HandlerError>(CallToolResult::text((args.a + args.b).to_string()))
            })
            .build();
        let client = S::<H>::connect_in_memory(server, ClientOptions::new("t", "1"))
            .await
            .unwrap();
        let tools = client.list_tools().await.unwrap();
        let schema = serde_json::to_value(&tools[0].input_schema).unwrap();
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["properties"]["a"]["description"], "The first term.");
        assert_eq!(schema["required"], json!(["a", "b"]));
        let sum = client
            .call_tool("add", json!({"a": 2, "b": 40}))
            .await
            .unwrap();
        assert_eq!(serde_json::to_value(&sum.content).unwrap()[0]["text"], "42");
        client.shutdown().await;
    })
    .await;
}

pub async fn a_completion_is_capped_at_100_values_with_has_more<H: Harness>() {
    within::<H, _>(LIMIT, async {
        let server = Server::builder("many", "1")
            .completion(|_ctx, _params| async move {
                Ok::<_, HandlerError>(Completion {
                    values: (0..150).map(|n| n.to_string()).collect(),
                    total: Some(150),
                    has_more: Some(false),
                })
            })
            .build();
        let client = S::<H>::connect_in_memory(server, ClientOptions::new("t", "1"))
            .await
            .unwrap();
        let completed = client
            .complete(
                json!({"type": "ref/prompt", "name": "any"}),
                json!({"name": "x", "value": ""}),
            )
            .await
            .unwrap();
        assert_eq!(completed.completion.values.len(), 100);
        assert_eq!(completed.completion.has_more, Some(true));
        assert_eq!(completed.completion.total, Some(150));
        client.shutdown().await;
    })
    .await;
}

/// `greet` asks the user's name while the call is open (MRTR), goes on as a task, waits for
/// `gate` (so the test can subscribe first), then greets.
fn escalating_server(gate: async_channel::Receiver<()>) -> Server {
    let tool: Tool =
        serde_json::from_value(json!({"name": "greet", "inputSchema": {"type": "object"}}))
            .unwrap();
    let form: InputRequest = serde_json::from_value(json!({
        "method": "elicitation/create",
        "params": {"message": "Your name?", "requestedSchema": {
            "type": "object", "properties": {"name": {"type": "string"}}}}
    }))
    .unwrap();
    Server::builder("escalating", "1")
        .tool(tool, move |ctx, _| {
            let (gate, form) = (gate.clone(), form.clone());
            async move {
                let InputResponse::Elicit(answer) = ctx.ask_as("user_name", form).await? else {
                    return Err(HandlerError::internal("not an elicitation answer"));
                };
                let name = serde_json::to_value(answer.content).unwrap()["name"].clone();
                let Continuation::Task { .. } = ctx.continue_as_task().await? else {
                    return Err(HandlerError::internal("the call did not become a task"));
                };
                let _ = gate.recv().await;
                Ok::<_, HandlerError>(CallToolResult::text(format!("Hello, {name}!")))
            }
        })
        .task_support("greet", TaskSupport::Optional)
        .task_creation("greet", TaskCreation::Deferred)
        .build()
}

fn request(method: &str, params: serde_json::Value) -> ClientRequest {
    let raw = RawJson::from_serialize(&params).unwrap();
    ClientRequest::parse(method, Some(&raw)).unwrap()
}

/// Calls `greet` as a client declaring the tasks extension, follows the task it becomes,
/// lets it finish, and checks the notification and `tasks/get`.
async fn gather_then_follow_the_task(client: &Client, gate: &async_channel::Sender<()>) {
    let call = request("tools/call", json!({"name": "greet", "arguments": {}}));
    let created: CreateTaskResult = client.request(call, None).await.unwrap().parse().unwrap();
    assert_eq!(created.task.status, TaskStatus::Working);
    let task_id = created.task.task_id;
    let filter = SubscriptionFilter {
        task_ids: Some(vec![task_id.clone()]),
        ..SubscriptionFilter::default()
    };
    let subscription = client.listen(filter).await.unwrap();
    match subscription.next().await {
        Some(SubscriptionEvent::Acknowledged(honoured)) => {
            assert_eq!(honoured.task_ids, Some(vec![task_id.clone()]));
        }
        other => panic!("{other:?}"),
    }
    gate.send(()).await.unwrap();
    let notified = match subscription.next().await {
        Some(SubscriptionEvent::Notification(ServerNotification::TaskChanged(task))) => task,
        other => panic!("{other:?}"),
    };
    assert_eq!(notified.task.task_id, task_id);
    assert_eq!(notified.task.status, TaskStatus::Completed);
    let result = notified.result.unwrap();
    assert_eq!(
        result["content"][0]["text"], "Hello, \"Alice\"!",
        "{result:?}"
    );
    let get = request("tasks/get", json!({"taskId": task_id}));
    let got: GetTaskResult = client.request(get, None).await.unwrap().parse().unwrap();
    assert_eq!(got.task.status, TaskStatus::Completed);
    assert_eq!(got.result.as_ref(), Some(&result));
}

pub async fn a_call_gathers_input_then_runs_as_a_task_whose_end_is_notified_in_memory_and_over_http<
    H: Harness,
>() {
    within::<H, _>(LIMIT, async {
        let mut options = ClientOptions::new("t", "1").on_elicitation(|_form| async {
            let answer = json!({"action": "accept", "content": {"name": "Alice"}});
            Ok(serde_json::from_value::<ElicitResult>(answer).unwrap())
        });
        options.config.capabilities = options
            .config
            .capabilities
            .clone()
            .with_extension(TASKS_EXTENSION_ID);

        let (gate, opened) = async_channel::bounded(1);
        let client = S::<H>::connect_in_memory(escalating_server(opened), options.clone())
            .await
            .unwrap();
        gather_then_follow_the_task(&client, &gate).await;
        client.shutdown().await;

        let (gate, opened) = async_channel::bounded(1);
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let server =
            S::<H>::serve_http(escalating_server(opened), addr, HttpServeOptions::default())
                .await
                .unwrap();
        let url: http::Uri = server.url("/mcp").parse().unwrap();
        let client = S::<H>::connect_http(HttpConnectOptions::new(url), options)
            .await
            .unwrap();
        gather_then_follow_the_task(&client, &gate).await;
        client.shutdown().await;
        server.shutdown().await;
    })
    .await;
}
