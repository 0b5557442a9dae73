//! `conformance client`: the client under test for the official harness's client scenarios.
//!
//! The harness starts a mock server per scenario, runs our command through `sh` with the
//! mock's URL as the last argument and the scenario's name in `MCP_CONFORMANCE_SCENARIO`
//! (`MCP_CONFORMANCE_CONTEXT` holds a JSON context for a few auth scenarios). The client is
//! the project's real [`mcp_async::client::Client`], one code path for every [`Stack`]: it
//! connects, lists the tools and does what the scenario asks of a user (which tool to call,
//! with which arguments). Everything on the wire is the stack's own doing.

use std::time::Duration;

use mcp_async::client::{Client, ClientOptions};
use mcp_async::http_client::HttpConnectOptions;
use mcp_async::stack::Stack;
use mcp_proto::types::{ElicitAction, ElicitResult, Tool};
use serde_json::{Value, json};

use crate::serve::{RuntimeKind, block_on};

/// The environment variable naming the scenario.
pub(crate) const SCENARIO_VAR: &str = "MCP_CONFORMANCE_SCENARIO";

/// The longest the whole scenario may take (the harness kills us at its own timeout).
const SCENARIO_LIMIT: Duration = Duration::from_secs(45);

/// The options every scenario's client connects with: our identity, and a user who accepts
/// every form as offered (fields left empty, so the schema's defaults apply).
fn client_options() -> ClientOptions {
    ClientOptions::new("mcp-rust-conformance-client", env!("CARGO_PKG_VERSION"))
        .on_elicitation(|_params| async move {
            // The user submits the form without typing anything: every field is what the
            // form offered by default.
            Ok(ElicitResult::new(ElicitAction::Accept))
        })
        .apply_elicitation_defaults(true)
}

/// Arguments a user would type for `tool`: a value of the declared type for each property
/// (required or not); numbers are small and distinct.
fn sample_arguments(tool: &Tool) -> Value {
    let mut arguments = serde_json::Map::new();
    let schema = serde_json::to_value(&tool.input_schema).unwrap_or(Value::Null);
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (index, (name, property)) in properties.iter().enumerate() {
            let value = match property.get("type").and_then(Value::as_str) {
                Some("number" | "integer") => json!(index + 1),
                Some("boolean") => json!(true),
                Some("string") => json!(format!("{name}-value")),
                Some("array") => json!([]),
                Some("object") => json!({}),
                _ => continue,
            };
            arguments.insert(name.clone(), value);
        }
    }
    Value::Object(arguments)
}

/// What the scenario's user does once connected.
async fn exercise(client: &Client, scenario: &str) -> Result<(), String> {
    if client.negotiated().server_capabilities.tools.is_none() {
        // Nothing to list or call (`initialize`'s mock offers no capabilities): the
        // handshake was the scenario.
        eprintln!("conformance client: the server offers no tools");
        return Ok(());
    }
    let tools = client
        .list_tools()
        .await
        .map_err(|e| format!("tools/list: {e}"))?;
    eprintln!(
        "conformance client: {} tool(s): {:?}",
        tools.len(),
        tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>()
    );
    let wanted: &[&str] = match scenario {
        "tools_call" => &["add_numbers"],
        "elicitation-sep1034-client-defaults" => &["test_client_elicitation_defaults"],
        "sse-retry" => &["test_reconnection"],
        // The handshake and a listing are the whole scenario.
        _ => &[],
    };
    for name in wanted {
        let tool = tools
            .iter()
            .find(|t| t.name == *name)
            .ok_or_else(|| format!("the server has no tool {name}"))?;
        let arguments = sample_arguments(tool);
        let result = client
            .call_tool(name, arguments)
            .await
            .map_err(|e| format!("tools/call {name}: {e}"))?;
        eprintln!(
            "conformance client: {name} -> {}",
            serde_json::to_string(&result).unwrap_or_default()
        );
    }
    Ok(())
}

/// Connects to `url` on `S`, runs the scenario, closes.
async fn run_scenario<S: Stack>(url: String, scenario: String) -> Result<(), String> {
    let uri = url
        .parse()
        .map_err(|e| format!("bad server URL {url:?}: {e}"))?;
    let client = S::connect_http(HttpConnectOptions::new(uri), client_options())
        .await
        .map_err(|e| format!("connecting to {url}: {e}"))?;
    eprintln!(
        "conformance client: connected ({:?})",
        client.negotiated().protocol_version
    );
    let outcome = exercise(&client, &scenario).await;
    let report = client.shutdown().await;
    if let Some(problem) = report.transport_error {
        eprintln!("conformance client: while closing: {problem}");
    }
    outcome
}

/// `conformance client --runtime R URL`.
pub(crate) fn client_command(args: &[String]) -> Result<(), String> {
    let mut runtime = RuntimeKind::Smol;
    let mut url = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runtime" => {
                runtime = args.next().ok_or("--runtime needs a value")?.parse()?;
            }
            other if other.starts_with("--") => return Err(format!("unknown option {other:?}")),
            other => url = Some(other.to_owned()),
        }
    }
    let url = url.ok_or("the server URL (the last argument) is missing")?;
    let scenario = std::env::var(SCENARIO_VAR).unwrap_or_default();
    eprintln!("conformance client: scenario {scenario:?} on {runtime} at {url}");
    let limit = SCENARIO_LIMIT;
    match runtime {
        RuntimeKind::Smol => block_on(runtime, async move {
            let run = run_scenario::<mcp_smol::Smol>(url, scenario);
            futures_lite::future::or(run, async move {
                smol::Timer::after(limit).await;
                Err(format!("the scenario took over {limit:?}"))
            })
            .await
        })?,
        RuntimeKind::Tokio => block_on(runtime, async move {
            tokio::time::timeout(limit, run_scenario::<mcp_tokio::Tokio>(url, scenario))
                .await
                .unwrap_or_else(|_| Err(format!("the scenario took over {limit:?}")))
        })?,
    }
}
