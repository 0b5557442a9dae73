//! The rest of the high-level API end to end, in both eras: resource templates, completion,
//! per-call progress callbacks, `subscriptions/listen`, logs as notifications, tools with
//! derived schemas.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_async::api::{
    CallError, CallOptions, Client, ClientOptions, HandlerError, HttpConnectOptions,
    HttpServeOptions, Server, Stack, SubscriptionEvent,
};
use mcp_async::demo::{GREETING_TEMPLATE, demo_server};
use mcp_async::proto::engine::EraPolicy;
use mcp_async::proto::types::methods::ServerNotification;
use mcp_async::proto::types::{
    CallToolResult, Completion, Era, LoggingLevel, ResourceContents, SubscriptionFilter, Tool,
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
