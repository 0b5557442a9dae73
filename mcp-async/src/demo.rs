//! The demo server of the examples, tests and benchmarks, defined once for every runtime:
//! an `echo` tool, a `slow` tool (sleeps, reporting progress; for cancellation and timeouts),
//! a text resource, a greeting resource template, a `greet` prompt and completions of names.

use std::collections::BTreeMap;
use std::time::Duration;

use mcp_proto::types::{
    CallToolResult, CompleteRequestParams, Completion, ContentBlock, GetPromptResult, Prompt,
    PromptMessage, Resource, ResourceContents, ResourceTemplate, Role, Tool,
};
use serde::Deserialize;
use serde_json::json;

use crate::runtime::Runtime;
use crate::server::{Context, HandlerError, Server};

/// The URI of the demo resource.
pub const README_URI: &str = "demo://readme";
/// The demo resource template: a greeting for `{name}`.
pub const GREETING_TEMPLATE: &str = "demo://greeting/{name}";
/// The names the demo server suggests for `greet`'s `name` (and the template's).
pub const NAMES: [&str; 4] = ["Ada", "Alan", "Grace", "Linus"];

#[derive(Deserialize)]
struct Echo {
    message: String,
}

#[derive(Deserialize)]
struct Slow {
    millis: u64,
}

fn definition<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, HandlerError> {
    serde_json::from_value(value).map_err(|e| HandlerError::internal(e.to_string()))
}

/// The demo server; `runtime` provides the `slow` tool's timer.
///
/// # Panics
/// Never: the definitions are fixed and valid (checked by this crate's tests).
#[must_use]
pub fn demo_server<R: Runtime>(runtime: R) -> Server {
    let echo: Tool = serde_json::from_value(json!({
        "name": "echo",
        "description": "Returns its message as text.",
        "inputSchema": {
            "type": "object",
            "properties": {"message": {"type": "string"}},
            "required": ["message"]
        }
    }))
    .unwrap_or_default();
    let slow: Tool = serde_json::from_value(json!({
        "name": "slow",
        "description": "Waits `millis` milliseconds, reporting progress, then answers.",
        "inputSchema": {
            "type": "object",
            "properties": {"millis": {"type": "integer", "minimum": 0}},
            "required": ["millis"]
        }
    }))
    .unwrap_or_default();
    let readme = Resource {
        uri: README_URI.into(),
        name: "readme".into(),
        mime_type: Some("text/plain".into()),
        description: Some("What this server is".into()),
        ..Resource::default()
    };
    let greet = Prompt {
        name: "greet".into(),
        description: Some("Greets someone by name".into()),
        arguments: definition(json!([{"name": "name", "required": true}])).ok(),
        ..Prompt::default()
    };
    let builder = Server::builder("mcp-demo", env!("CARGO_PKG_VERSION"))
        .instructions(
            "A demo server: echo, slow, a readme resource, a greeting template and a greet prompt.",
        )
        .typed_tool(echo, |_: Context, args: Echo| async move {
            Ok(CallToolResult::text(args.message))
        })
        .typed_tool(slow, move |ctx: Context, args: Slow| {
            let runtime = runtime.clone();
            async move {
                let steps = 10u32;
                let step = Duration::from_millis(args.millis) / steps;
                for done in 1..=steps {
                    runtime.sleep_until(std::time::Instant::now() + step).await;
                    ctx.progress(f64::from(done), Some(f64::from(steps)), None);
                }
                Ok(CallToolResult::text(format!("waited {} ms", args.millis)))
            }
        })
        .resource(readme, |_: Context, uri: String| async move {
            definition::<ResourceContents>(json!({
                "uri": uri,
                "mimeType": "text/plain",
                "text": "This is the mcp-rs demo server."
            }))
            .map(|contents| vec![contents])
        })
        .prompt(
            greet,
            |_: Context, arguments: BTreeMap<String, String>| async move {
                let name = arguments
                    .get("name")
                    .ok_or_else(|| HandlerError::invalid_params("missing argument `name`"))?;
                Ok(GetPromptResult {
                    description: Some("A greeting".into()),
                    messages: vec![PromptMessage {
                        role: Role::User,
                        content: ContentBlock::text(format!("Say hello to {name}.")),
                    }],
                    ..GetPromptResult::default()
                })
            },
        )
        .completion(|_: Context, params: CompleteRequestParams| async move {
            let prefix = params.argument.value.to_lowercase();
            let values: Vec<String> = NAMES
                .iter()
                .filter(|name| name.to_lowercase().starts_with(&prefix))
                .map(|name| (*name).to_owned())
                .collect();
            Ok(Completion {
                total: Some(values.len() as u64),
                has_more: Some(false),
                values,
            })
        });
    let greeting = ResourceTemplate {
        uri_template: GREETING_TEMPLATE.into(),
        name: "greeting".into(),
        mime_type: Some("text/plain".into()),
        ..ResourceTemplate::default()
    };
    let fallback = builder.clone();
    builder
        .resource_template(
            greeting,
            |_: Context, uri: String, vars: BTreeMap<String, String>| async move {
                let name = vars.get("name").cloned().unwrap_or_default();
                definition::<ResourceContents>(json!({
                    "uri": uri, "mimeType": "text/plain", "text": format!("Hello, {name}!")
                }))
                .map(|contents| vec![contents])
            },
        )
        // The template is a valid constant (a test checks it is served).
        .unwrap_or(fallback)
        .build()
}
