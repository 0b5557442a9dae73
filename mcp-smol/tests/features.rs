//! The rest of the high-level API end to end, in both eras: resource templates, completion,
//! per-call progress callbacks, `subscriptions/listen`, logs as notifications.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_async::client::{CallOptions, SubscriptionEvent};
use mcp_async::demo::{GREETING_TEMPLATE, demo_server};
use mcp_smol::proto::engine::EraPolicy;
use mcp_smol::proto::types::methods::ServerNotification;
use mcp_smol::proto::types::{
    CallToolResult, Era, LoggingLevel, ResourceContents, SubscriptionFilter, Tool,
};
use mcp_smol::{
    CallError, Client, ClientOptions, HandlerError, HttpConnectOptions, HttpServeOptions, Server,
    SmolRuntime, connect_http, connect_in_memory, serve_http,
};
use serde_json::json;

/// Fails the test instead of hanging it.
fn within<T>(limit: Duration, test: impl Future<Output = T>) -> T {
    smol::block_on(smol::future::or(async { Some(test.await) }, async {
        smol::Timer::after(limit).await;
        None
    }))
    .unwrap_or_else(|| panic!("the test did not finish within {limit:?}"))
}

const ERAS: [(EraPolicy, Era); 2] = [
    (EraPolicy::Auto, Era::Modern),
    (EraPolicy::Legacy, Era::Legacy),
];

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

#[test]
fn templates_and_completion_in_both_eras_in_memory_and_over_http() {
    within(Duration::from_secs(30), async {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let server = serve_http(demo_server(SmolRuntime), addr, HttpServeOptions::default())
            .await
            .unwrap();
        let url: http::Uri = server.url("/mcp").parse().unwrap();
        for (policy, era) in ERAS {
            let options = ClientOptions::new("t", "1").era(policy);
            let client = connect_in_memory(demo_server(SmolRuntime), options.clone())
                .await
                .unwrap();
            assert_eq!(client.negotiated().era, era);
            templates_and_completion(&client).await;
            client.shutdown().await;
            let client = connect_http(HttpConnectOptions::new(url.clone()), options)
                .await
                .unwrap();
            templates_and_completion(&client).await;
            client.shutdown().await;
        }
        server.shutdown().await;
    });
}

#[test]
fn a_progress_callback_sees_the_calls_progress_in_both_eras() {
    within(Duration::from_secs(30), async {
        for (policy, _) in ERAS {
            let client = connect_in_memory(
                demo_server(SmolRuntime),
                ClientOptions::new("t", "1").era(policy),
            )
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
    });
}

#[test]
fn listen_is_acknowledged_on_a_modern_server_and_refused_by_a_legacy_one() {
    within(Duration::from_secs(30), async {
        let client = connect_in_memory(demo_server(SmolRuntime), ClientOptions::new("t", "1"))
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

        let legacy = connect_in_memory(
            demo_server(SmolRuntime),
            ClientOptions::new("t", "1").era(EraPolicy::Legacy),
        )
        .await
        .unwrap();
        let subscription = legacy.listen(SubscriptionFilter::default()).await.unwrap();
        assert!(matches!(
            subscription.next().await,
            Some(SubscriptionEvent::Ended(Err(CallError::Refused(_))))
        ));
        legacy.shutdown().await;
    });
}

#[test]
fn handler_logs_reach_a_legacy_clients_notification_callback() {
    within(Duration::from_secs(30), async {
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
        let client = connect_in_memory(server, options).await.unwrap();
        client.call_tool("chatty", json!({})).await.unwrap();
        client.shutdown().await;
        assert_eq!(*logs.lock().unwrap(), [json!("working")]);
    });
}

#[cfg(feature = "schemars")]
#[test]
fn a_tool_with_a_derived_schema_is_listed_and_called() {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Add {
        /// The first term.
        a: i64,
        /// The second term.
        b: i64,
    }
    within(Duration::from_secs(30), async {
        let server = Server::builder("calc", "1")
            .schema_tool("add", "Adds two integers", |_ctx, args: Add| async move {
                Ok::<_, HandlerError>(CallToolResult::text((args.a + args.b).to_string()))
            })
            .build();
        let client = connect_in_memory(server, ClientOptions::new("t", "1"))
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
    });
}

#[test]
fn a_completion_is_capped_at_100_values_with_has_more() {
    within(Duration::from_secs(30), async {
        let server = Server::builder("many", "1")
            .completion(|_ctx, _params| async move {
                Ok::<_, HandlerError>(mcp_smol::proto::types::Completion {
                    values: (0..150).map(|n| n.to_string()).collect(),
                    total: Some(150),
                    has_more: Some(false),
                })
            })
            .build();
        let client = connect_in_memory(server, ClientOptions::new("t", "1"))
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
    });
}
