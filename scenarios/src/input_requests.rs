//! A server handler asks the client for input — elicitation, sampling, roots — and the same
//! handler code works in both eras and over both transports: as server→client requests on a
//! legacy session, as `input_required` results (MRTR) that the client retries on a modern
//! request.

use std::net::SocketAddr;
use std::time::Duration;

use mcp_async::api::{
    CallError, Client, ClientOptions, HandlerError, HttpConnectOptions, HttpServeOptions,
    HttpServerHandle, Server, Stack,
};
use mcp_async::proto::engine::{EraPolicy, RequestFailure};
use mcp_async::proto::types::{CallToolResult, ElicitAction, ElicitResult, Era, Root, Tool};
use mcp_async::runtime::Runtime;
use serde_json::{Value, json};

use crate::{Harness, S, Scenario, scenario, text, within};

pub fn scenarios<H: Harness>() -> Vec<Scenario> {
    vec![
        scenario!(H, input_requests_in_memory_in_both_eras),
        scenario!(H, input_requests_over_http_in_both_eras),
        scenario!(
            H,
            a_client_without_the_capability_gets_a_typed_refusal_in_both_eras
        ),
        scenario!(H, a_failing_client_handler_fails_the_call_in_both_eras),
    ]
}

const LIMIT: Duration = Duration::from_secs(30);

const ERAS: [(EraPolicy, Era); 2] = [
    (EraPolicy::Auto, Era::Modern),
    (EraPolicy::Legacy, Era::Legacy),
];

fn tool(name: &str) -> Tool {
    serde_json::from_value(json!({"name": name, "inputSchema": {"type": "object"}})).unwrap()
}

/// `survey` asks for all three inputs at once, then (a second round) for the user's name.
fn asking_server() -> Server {
    Server::builder("asking", "1.0")
        .tool(tool("survey"), |ctx, _args| async move {
            let elicit = serde_json::from_value(json!({
                "message": "Your favourite colour?",
                "requestedSchema": {"type": "object", "properties": {"colour": {"type": "string"}}}
            }))
            .unwrap();
            let sample = serde_json::from_value(json!({
                "messages": [{"role": "user", "content": {"type": "text", "text": "2+2?"}}],
                "maxTokens": 5
            }))
            .unwrap();
            let (colour, (roots, sampled)) = futures_lite::future::zip(
                ctx.elicit(elicit),
                futures_lite::future::zip(ctx.list_roots(), ctx.create_message(sample)),
            )
            .await;
            let colour = colour?.content.unwrap()["colour"].clone();
            let roots = roots?;
            let sampled = sampled?;
            let name_form = serde_json::from_value(json!({
                "message": "Your name?",
                "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}
            }))
            .unwrap();
            let name = ctx.elicit(name_form).await?.content.unwrap()["name"].clone();
            let summary = json!({
                "era": format!("{:?}", ctx.era()),
                "colour": colour,
                "name": name,
                "roots": roots.roots.iter().map(|r| r.uri.clone()).collect::<Vec<_>>(),
                "model": sampled.model,
            });
            Ok::<_, HandlerError>(CallToolResult::text(summary.to_string()))
        })
        .tool(tool("roots-only"), |ctx, _args| async move {
            let roots = ctx.list_roots().await?;
            Ok::<_, HandlerError>(CallToolResult::text(roots.roots.len().to_string()))
        })
        .build()
}

/// A client that answers every input request.
fn answering_client(era: EraPolicy) -> ClientOptions {
    ClientOptions::new("answering", "1.0")
        .era(era)
        .with_roots(vec![Root {
            uri: "file:///work".into(),
            name: Some("work".into()),
            meta: None,
        }])
        .on_elicitation(|params| async move {
            let message = serde_json::to_value(&params).unwrap()["message"].clone();
            let content = if message == "Your name?" {
                json!({"name": "Ada"})
            } else {
                json!({"colour": "teal"})
            };
            let mut result = ElicitResult::new(ElicitAction::Accept);
            result.content = Some(serde_json::from_value(content).unwrap());
            Ok(result)
        })
        .on_sampling(|_params| async move {
            Ok(serde_json::from_value(json!({
                "role": "assistant",
                "content": {"type": "text", "text": "4"},
                "model": "test-model"
            }))
            .unwrap())
        })
}

fn summary(result: &CallToolResult) -> Value {
    serde_json::from_str(&text(&result.content)).unwrap()
}

async fn survey_works(client: &Client, era: Era) {
    assert_eq!(client.negotiated().era, era);
    let result = client.call_tool("survey", json!({})).await.unwrap();
    assert_eq!(
        summary(&result),
        json!({
            "era": format!("{era:?}"),
            "colour": "teal",
            "name": "Ada",
            "roots": ["file:///work"],
            "model": "test-model",
        })
    );
}

async fn http_server<H: Harness>() -> (HttpServerHandle, http::Uri) {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let handle = S::<H>::serve_http(asking_server(), addr, HttpServeOptions::default())
        .await
        .unwrap();
    let url = handle.url("/mcp").parse().unwrap();
    (handle, url)
}

pub async fn input_requests_in_memory_in_both_eras<H: Harness>() {
    within::<H, _>(LIMIT, async {
        for (policy, era) in ERAS {
            let client = S::<H>::connect_in_memory(asking_server(), answering_client(policy))
                .await
                .unwrap();
            survey_works(&client, era).await;
            client.shutdown().await;
        }
    })
    .await;
}

pub async fn input_requests_over_http_in_both_eras<H: Harness>() {
    within::<H, _>(LIMIT, async {
        let (server, url) = http_server::<H>().await;
        let runtime = S::<H>::runtime().unwrap();
        for (policy, era) in ERAS {
            let client = S::<H>::connect_http(
                HttpConnectOptions::new(url.clone()),
                answering_client(policy),
            )
            .await
            .unwrap();
            survey_works(&client, era).await;
            // Several calls asking at the same time, each a task of its own, each get their
            // own answers.
            let calls: Vec<_> = (0..5)
                .map(|_| {
                    let client = client.clone();
                    let (answer, answered) = async_channel::bounded(1);
                    runtime.spawn(Box::pin(async move {
                        let _ = answer
                            .send(client.call_tool("roots-only", json!({})).await)
                            .await;
                    }));
                    answered
                })
                .collect();
            for call in calls {
                let result = call.recv().await.expect("the call's task ended unanswered");
                assert_eq!(text(&result.unwrap().content), "1");
            }
            client.shutdown().await;
        }
        server.shutdown().await;
    })
    .await;
}

pub async fn a_client_without_the_capability_gets_a_typed_refusal_in_both_eras<H: Harness>() {
    within::<H, _>(LIMIT, async {
        for (policy, _) in ERAS {
            let client = S::<H>::connect_in_memory(
                asking_server(),
                ClientOptions::new("bare", "1").era(policy),
            )
            .await
            .unwrap();
            let error = client.call_tool("roots-only", json!({})).await.unwrap_err();
            assert!(
                matches!(&error, CallError::Server(e) if e.code.0 == -32021),
                "{policy:?}: {error:?}"
            );
            client.shutdown().await;
        }
    })
    .await;
}

pub async fn a_failing_client_handler_fails_the_call_in_both_eras<H: Harness>() {
    within::<H, _>(LIMIT, async {
        let failing = |policy| {
            ClientOptions::new("failing", "1")
                .era(policy)
                .on_roots(|| async { Err(HandlerError::internal("no roots today")) })
        };
        // Legacy: the client answers the server's request with an error, which the handler
        // turns into its own error answer.
        let client = S::<H>::connect_in_memory(asking_server(), failing(EraPolicy::Legacy))
            .await
            .unwrap();
        let error = client.call_tool("roots-only", json!({})).await.unwrap_err();
        assert!(
            matches!(&error, CallError::Server(e) if e.message.contains("no roots today")),
            "{error:?}"
        );
        client.shutdown().await;
        // Modern: the client cannot answer, so it gives up on the request with the reason.
        let client = S::<H>::connect_in_memory(asking_server(), failing(EraPolicy::Auto))
            .await
            .unwrap();
        let error = client.call_tool("roots-only", json!({})).await.unwrap_err();
        assert!(
            matches!(&error, CallError::Failed(RequestFailure::Cancelled { reason: Some(r) }) if r.contains("no roots today")),
            "{error:?}"
        );
        client.shutdown().await;
    })
    .await;
}
