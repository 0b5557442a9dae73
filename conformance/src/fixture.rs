//! The "everything" fixture of the official conformance suite, built with `mcp-async`'s
//! [`ServerBuilder`]: every tool, resource, template and prompt the harness's server
//! scenarios call, with the exact names, contents and behaviour their descriptions require
//! (harness lines 0.1.16 and 0.2.0-alpha.12; see `conformance/README.md`).
//!
//! Definitions are data (JSON) checked once when the server is built; handlers answer from
//! their arguments and from what the client sent back, never from recorded results.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mcp_async::proto::types::{
    CallToolResult, CompleteRequestParams, Completion, ContentBlock, ElicitAction,
    ElicitRequestParams, ElicitResult, GetPromptResult, InputRequest, InputResponse, LoggingLevel,
    Prompt, PromptMessage, Resource, ResourceContents, ResourceTemplate, Role, ServerCapabilities,
    Tool,
};
use mcp_async::runtime::Runtime;
use mcp_async::server::{
    Context, HandlerError, InputError, Server, ServerBuilder, TaskCreation, TaskSupport,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A 1×1 PNG.
const IMAGE_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A minimal WAV file.
const AUDIO_WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";
/// The pause between the steps of the logging and progress tools.
const STEP: Duration = Duration::from_millis(50);
/// How long `test_reconnection` works after closing its stream, so the answer follows the
/// client's reconnection (or waits in the event store for it).
const RECONNECTION_WORK: Duration = Duration::from_millis(100);
/// Rounds of re-asking when a retry lacks the answer a tool needs.
const MAX_ASK_ROUNDS: usize = 5;
/// How long `test_tool_with_task` works as a task after gathering its input.
const TASK_WORK: Duration = Duration::from_millis(200);

/// A fixture definition that does not parse (a bug in this file, reported rather than
/// panicking).
#[derive(Debug)]
pub(crate) struct FixtureError(String);

impl std::error::Error for FixtureError {}

impl std::fmt::Display for FixtureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid fixture definition: {}", self.0)
    }
}

fn define<T: DeserializeOwned>(what: &str, value: Value) -> Result<T, FixtureError> {
    serde_json::from_value(value).map_err(|e| FixtureError(format!("{what}: {e}")))
}

fn parse<T: DeserializeOwned>(value: Value) -> Result<T, HandlerError> {
    serde_json::from_value(value).map_err(|e| HandlerError::internal(e.to_string()))
}

fn text(text: impl Into<String>) -> ContentBlock {
    ContentBlock::text(text)
}

fn content(value: Value) -> Result<ContentBlock, HandlerError> {
    parse(value)
}

fn result(blocks: Vec<ContentBlock>) -> CallToolResult {
    CallToolResult {
        content: blocks,
        ..CallToolResult::default()
    }
}

/// A tool with `description` and an input schema.
fn tool(name: &str, description: &str, schema: Value) -> Result<Tool, FixtureError> {
    define(
        name,
        json!({"name": name, "description": description, "inputSchema": schema}),
    )
}

fn no_arguments() -> Value {
    json!({"type": "object", "properties": {}})
}

fn string_argument(name: &str, description: &str) -> Value {
    json!({
        "type": "object",
        "properties": {name: {"type": "string", "description": description}},
        "required": [name]
    })
}

/// The JSON Schema 2020-12 input schema `json_schema_2020_12_tool` must list verbatim
/// (the 0.2 line's superset of 0.1.16's: `$anchor`, composition and conditionals).
fn schema_2020_12() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": {"street": {"type": "string"}, "city": {"type": "string"}}
            }
        },
        "properties": {
            "name": {"type": "string"},
            "address": {"$ref": "#/$defs/address"},
            "contactMethod": {"type": "string", "enum": ["phone", "email"]},
            "phone": {"type": "string"},
            "email": {"type": "string"}
        },
        "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
        "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
        "then": {"required": ["phone"]},
        "else": {"required": ["email"]},
        "additionalProperties": false
    })
}

fn elicitation(message: &str, schema: Value) -> Result<ElicitRequestParams, HandlerError> {
    parse(json!({"message": message, "requestedSchema": schema}))
}

fn describe_elicitation(answer: &ElicitResult) -> String {
    let action = match answer.action {
        ElicitAction::Accept => "accept",
        ElicitAction::Decline => "decline",
        ElicitAction::Cancel => "cancel",
    };
    let content = serde_json::to_string(&answer.content).unwrap_or_default();
    format!("action={action}, content={content}")
}

fn string_schema(field: &str) -> Value {
    json!({"type": "object", "properties": {field: {"type": "string"}}, "required": [field]})
}

/// Asks `request` under `key` until the client's retry carries an answer (a retry without
/// it is asked again, as SEP-2322 prefers to an error).
async fn ask_until_answered(
    ctx: &Context,
    key: &str,
    request: &InputRequest,
) -> Result<InputResponse, HandlerError> {
    let mut last = None;
    for _ in 0..MAX_ASK_ROUNDS {
        match ctx.ask_as(key, request.clone()).await {
            Ok(answer) => return Ok(answer),
            Err(InputError::InvalidAnswer(why)) => last = Some(why),
            Err(other) => return Err(other.into()),
        }
    }
    Err(HandlerError::invalid_params(format!(
        "no usable answer for {key}: {}",
        last.unwrap_or_default()
    )))
}

fn accepted_field(answer: &InputResponse, field: &str) -> Option<String> {
    let InputResponse::Elicit(result) = answer else {
        return None;
    };
    let value = result.content.as_ref()?.get(field)?;
    let value = serde_json::to_value(value).ok()?;
    Some(match value {
        Value::String(s) => s,
        other => other.to_string(),
    })
}

fn sampled_text(answer: &InputResponse) -> Option<String> {
    let InputResponse::CreateMessage(result) = answer else {
        return None;
    };
    let content = serde_json::to_value(&result.content).ok()?;
    let first = match content {
        Value::Array(items) => items.into_iter().next()?,
        single => single,
    };
    first.get("text")?.as_str().map(str::to_owned)
}

/// The fixture server; `runtime` provides the timers of the tools that pause.
pub(crate) fn fixture_server<R: Runtime>(runtime: R) -> Result<Server, FixtureError> {
    let builder = Server::builder("mcp-rs-conformance-fixture", env!("CARGO_PKG_VERSION"))
        .capabilities(define::<ServerCapabilities>(
            "capabilities",
            json!({
                "tools": {"listChanged": true},
                "resources": {"subscribe": true, "listChanged": true},
                "prompts": {"listChanged": true},
                "logging": {},
                "completions": {}
            }),
        )?);
    let builder = content_tools(builder)?;
    let runtime_for_tasks = runtime.clone();
    let builder = timed_tools(builder, runtime)?;
    let builder = legacy_input_tools(builder)?;
    let builder = mrtr_tools(builder)?;
    let builder = resources(builder)?;
    let builder = prompts(builder)?;
    let builder = stateless_tools(builder)?;
    let builder = task_tools(builder, runtime_for_tasks)?;
    Ok(builder.build())
}

fn content_tools(builder: ServerBuilder) -> Result<ServerBuilder, FixtureError> {
    let header_schema = json!({
        "type": "object",
        "properties": {
            "region": {
                "type": "string",
                "description": "Where to run; mirrored in the Mcp-Param-Region header",
                "x-mcp-header": "Region"
            }
        },
        "required": ["region"]
    });
    Ok(builder
        .tool(
            tool(
                "test_simple_text",
                "Returns a simple text response",
                no_arguments(),
            )?,
            |_, _| async {
                Ok(result(vec![text(
                    "This is a simple text response for testing.",
                )]))
            },
        )
        .tool(
            tool(
                "test_image_content",
                "Returns a 1x1 PNG image",
                no_arguments(),
            )?,
            |_, _| async {
                let image =
                    content(json!({"type": "image", "data": IMAGE_PNG, "mimeType": "image/png"}))?;
                Ok(result(vec![image]))
            },
        )
        .tool(
            tool(
                "test_audio_content",
                "Returns a short WAV clip",
                no_arguments(),
            )?,
            |_, _| async {
                let audio =
                    content(json!({"type": "audio", "data": AUDIO_WAV, "mimeType": "audio/wav"}))?;
                Ok(result(vec![audio]))
            },
        )
        .tool(
            tool(
                "test_embedded_resource",
                "Returns an embedded text resource",
                no_arguments(),
            )?,
            |_, _| async {
                let resource = content(json!({"type": "resource", "resource": {
                    "uri": "test://embedded-resource",
                    "mimeType": "text/plain",
                    "text": "This is an embedded resource content."
                }}))?;
                Ok(result(vec![resource]))
            },
        )
        .tool(
            tool(
                "test_multiple_content_types",
                "Returns text, an image and an embedded resource",
                no_arguments(),
            )?,
            |_, _| async {
                let image =
                    content(json!({"type": "image", "data": IMAGE_PNG, "mimeType": "image/png"}))?;
                let resource = content(json!({"type": "resource", "resource": {
                    "uri": "test://mixed-content-resource",
                    "mimeType": "application/json",
                    "text": "{\"test\":\"data\",\"value\":123}"
                }}))?;
                Ok(result(vec![
                    text("Multiple content types test:"),
                    image,
                    resource,
                ]))
            },
        )
        .tool(
            tool(
                "test_error_handling",
                "Always fails with a tool-level error",
                no_arguments(),
            )?,
            |_, _| async {
                Ok(CallToolResult::error(
                    "This tool intentionally returns an error for testing",
                ))
            },
        )
        .tool(
            tool(
                "json_schema_2020_12_tool",
                "Tool with JSON Schema 2020-12 features",
                schema_2020_12(),
            )?,
            |_, arguments| async move {
                let name = arguments
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("anonymous");
                Ok(result(vec![text(format!("ok: {name}"))]))
            },
        )
        .tool(
            tool(
                "test_header_param",
                "Echoes its region, which also travels in the Mcp-Param-Region header",
                header_schema,
            )?,
            |_, arguments| async move {
                let region = arguments
                    .get("region")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                Ok(result(vec![text(format!("region: {region}"))]))
            },
        ))
}

fn timed_tools<R: Runtime>(
    builder: ServerBuilder,
    runtime: R,
) -> Result<ServerBuilder, FixtureError> {
    let logging_runtime = runtime.clone();
    let progress_runtime = runtime.clone();
    Ok(builder
        .tool(
            tool(
                "test_tool_with_logging",
                "Sends three log messages while it runs",
                no_arguments(),
            )?,
            move |ctx, _| {
                let runtime = logging_runtime.clone();
                async move {
                    let messages = [
                        "Tool execution started",
                        "Tool processing data",
                        "Tool execution completed",
                    ];
                    for (index, message) in messages.into_iter().enumerate() {
                        if index > 0 {
                            runtime.sleep_until(Instant::now() + STEP).await;
                        }
                        ctx.log(LoggingLevel::Info, Some("conformance"), json!(message));
                    }
                    Ok(result(vec![text(
                        "Tool with logging executed successfully",
                    )]))
                }
            },
        )
        .tool(
            tool(
                "test_tool_with_progress",
                "Reports progress 0, 50 and 100 of 100 while it runs",
                no_arguments(),
            )?,
            move |ctx, _| {
                let runtime = progress_runtime.clone();
                async move {
                    for (index, done) in [0.0, 50.0, 100.0].into_iter().enumerate() {
                        if index > 0 {
                            runtime.sleep_until(Instant::now() + STEP).await;
                        }
                        ctx.progress(done, Some(100.0), None);
                    }
                    Ok(result(vec![text(
                        "Tool with progress executed successfully",
                    )]))
                }
            },
        )
        .tool(
            tool(
                "test_reconnection",
                "Closes its SSE stream mid-call; the answer arrives after GET + Last-Event-ID",
                no_arguments(),
            )?,
            move |ctx, _| {
                let runtime = runtime.clone();
                async move {
                    ctx.close_stream();
                    runtime
                        .sleep_until(Instant::now() + RECONNECTION_WORK)
                        .await;
                    Ok(result(vec![text(
                        "Reconnection test completed successfully",
                    )]))
                }
            },
        ))
}

fn legacy_input_tools(builder: ServerBuilder) -> Result<ServerBuilder, FixtureError> {
    Ok(builder
        .tool(
            tool(
                "test_sampling",
                "Asks the client's model to answer a prompt",
                string_argument("prompt", "The prompt to send"),
            )?,
            |ctx, arguments| async move {
                let prompt = arguments
                    .get("prompt")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let params = parse(json!({
                    "messages": [{"role": "user", "content": {"type": "text", "text": prompt}}],
                    "maxTokens": 100
                }))?;
                let answer = ctx.create_message(params).await?;
                let answered = sampled_text(&InputResponse::CreateMessage(answer))
                    .unwrap_or_else(|| "(no text)".into());
                Ok(result(vec![text(format!("LLM response: {answered}"))]))
            },
        )
        .tool(
            tool(
                "test_elicitation",
                "Asks the user for a username and an email address",
                string_argument("message", "The message to show the user"),
            )?,
            |ctx, arguments| async move {
                let message = arguments
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("Please provide your details");
                let schema = json!({
                    "type": "object",
                    "properties": {
                        "username": {"type": "string", "description": "User's response"},
                        "email": {"type": "string", "description": "User's email address"}
                    },
                    "required": ["username", "email"]
                });
                let answer = ctx.elicit(elicitation(message, schema)?).await?;
                Ok(result(vec![text(format!(
                    "User response: {}",
                    describe_elicitation(&answer)
                ))]))
            },
        )
        .tool(
            tool(
                "test_elicitation_sep1034_defaults",
                "Asks for a form whose fields all carry defaults (SEP-1034)",
                no_arguments(),
            )?,
            |ctx, _| async move {
                let schema = json!({
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "description": "User name", "default": "John Doe"},
                        "age": {"type": "integer", "description": "User age", "default": 30},
                        "score": {"type": "number", "description": "User score", "default": 95.5},
                        "status": {
                            "type": "string", "description": "User status",
                            "enum": ["active", "inactive", "pending"], "default": "active"
                        },
                        "verified": {"type": "boolean", "description": "Verified", "default": true}
                    },
                    "required": []
                });
                let answer = ctx
                    .elicit(elicitation("Please review your profile", schema)?)
                    .await?;
                Ok(result(vec![text(format!(
                    "Elicitation completed: {}",
                    describe_elicitation(&answer)
                ))]))
            },
        )
        .tool(
            tool(
                "test_elicitation_sep1330_enums",
                "Asks for a form with every enum variant (SEP-1330)",
                no_arguments(),
            )?,
            |ctx, _| async move {
                let schema = json!({
                    "type": "object",
                    "properties": {
                        "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
                        "titledSingle": {"type": "string", "oneOf": [
                            {"const": "value1", "title": "First Option"},
                            {"const": "value2", "title": "Second Option"},
                            {"const": "value3", "title": "Third Option"}
                        ]},
                        "legacyEnum": {
                            "type": "string", "enum": ["opt1", "opt2", "opt3"],
                            "enumNames": ["Option One", "Option Two", "Option Three"]
                        },
                        "untitledMulti": {
                            "type": "array", "minItems": 1, "maxItems": 3,
                            "items": {"type": "string", "enum": ["option1", "option2", "option3"]}
                        },
                        "titledMulti": {
                            "type": "array", "minItems": 1, "maxItems": 3,
                            "items": {"anyOf": [
                                {"const": "value1", "title": "First Choice"},
                                {"const": "value2", "title": "Second Choice"},
                                {"const": "value3", "title": "Third Choice"}
                            ]}
                        }
                    },
                    "required": []
                });
                let answer = ctx
                    .elicit(elicitation("Please pick your options", schema)?)
                    .await?;
                Ok(result(vec![text(format!(
                    "Elicitation completed: {}",
                    describe_elicitation(&answer)
                ))]))
            },
        ))
}

/// The tools of SEP-2322 (`input_required` results, 2026-07-28): each asks under the key the
/// harness looks for, and answers from what the client's retry carried.
fn mrtr_tools(builder: ServerBuilder) -> Result<ServerBuilder, FixtureError> {
    Ok(builder
        .tool(
            tool(
                "test_input_required_result_elicitation",
                "Asks the user's name (input_required), then greets them",
                no_arguments(),
            )?,
            |ctx, _| async move {
                let ask = InputRequest::elicit(elicitation(
                    "What is your name?",
                    string_schema("name"),
                )?);
                let answer = ask_until_answered(&ctx, "user_name", &ask).await?;
                let name = accepted_field(&answer, "name").unwrap_or_else(|| "stranger".into());
                Ok(result(vec![text(format!("Hello, {name}!"))]))
            },
        )
        .tool(
            tool(
                "test_input_required_result_sampling",
                "Asks the client's model a question (input_required)",
                no_arguments(),
            )?,
            |ctx, _| async move {
                let ask = InputRequest::create_message(parse(json!({
                    "messages": [{"role": "user", "content": {
                        "type": "text", "text": "What is the capital of France?"
                    }}],
                    "maxTokens": 100
                }))?);
                let answer = ask_until_answered(&ctx, "capital_question", &ask).await?;
                let said = sampled_text(&answer).unwrap_or_else(|| "(no text)".into());
                Ok(result(vec![text(format!("The model answered: {said}"))]))
            },
        )
        .tool(
            tool(
                "test_input_required_result_list_roots",
                "Asks for the client's roots (input_required)",
                no_arguments(),
            )?,
            |ctx, _| async move {
                let answer =
                    ask_until_answered(&ctx, "client_roots", &InputRequest::list_roots()).await?;
                let InputResponse::ListRoots(roots) = answer else {
                    return Err(HandlerError::invalid_params("client_roots is not a roots result"));
                };
                let uris: Vec<String> = roots.roots.iter().map(|r| r.uri.clone()).collect();
                Ok(result(vec![text(format!(
                    "Client roots ({}): {}",
                    uris.len(),
                    uris.join(", ")
                ))]))
            },
        )
        .tool(
            tool(
                "test_input_required_result_request_state",
                "Asks for a confirmation; the retry must echo the requestState",
                no_arguments(),
            )?,
            |ctx, _| async move {
                let ask = InputRequest::elicit(elicitation(
                    "Please confirm",
                    json!({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}),
                )?);
                // The handler resumes only for a retry echoing the requestState it was parked
                // under (mcp-async checks it): reaching this line is the validation.
                let answer = ask_until_answered(&ctx, "confirm", &ask).await?;
                let ok = accepted_field(&answer, "ok").unwrap_or_else(|| "unset".into());
                Ok(result(vec![text(format!("state-ok: confirmed={ok}"))]))
            },
        )
        .tool(
            tool(
                "test_input_required_result_multiple_inputs",
                "Asks for a name, a sampled greeting and the roots at once",
                no_arguments(),
            )?,
            |ctx, _| async move {
                let name = InputRequest::elicit(elicitation(
                    "What is your name?",
                    string_schema("name"),
                )?);
                let greeting = InputRequest::create_message(parse(json!({
                    "messages": [{"role": "user", "content": {"type": "text", "text": "Generate a greeting"}}],
                    "maxTokens": 50
                }))?);
                let (name, (greeting, roots)) = futures_lite::future::zip(
                    ctx.ask_as("user_name", name),
                    futures_lite::future::zip(
                        ctx.ask_as("greeting", greeting),
                        ctx.ask_as("client_roots", InputRequest::list_roots()),
                    ),
                )
                .await;
                let name = accepted_field(&name?, "name").unwrap_or_default();
                let greeting = sampled_text(&greeting?).unwrap_or_default();
                let roots = match roots? {
                    InputResponse::ListRoots(roots) => roots.roots.len(),
                    _ => 0,
                };
                Ok(result(vec![text(format!(
                    "name={name}, greeting={greeting}, roots={roots}"
                ))]))
            },
        )
        .tool(
            tool(
                "test_input_required_result_multi_round",
                "Asks two questions in two rounds",
                no_arguments(),
            )?,
            |ctx, _| async move {
                let first = InputRequest::elicit(elicitation(
                    "Step 1: What is your name?",
                    string_schema("name"),
                )?);
                let name = accepted_field(&ask_until_answered(&ctx, "step1", &first).await?, "name")
                    .unwrap_or_default();
                let second = InputRequest::elicit(elicitation(
                    "Step 2: What is your favorite color?",
                    string_schema("color"),
                )?);
                let color =
                    accepted_field(&ask_until_answered(&ctx, "step2", &second).await?, "color")
                        .unwrap_or_default();
                Ok(result(vec![text(format!(
                    "{name}'s favorite color is {color}"
                ))]))
            },
        )
        .tool(
            tool(
                "test_input_required_result_capabilities",
                "Asks only for the input kinds the client declared (elicitation, sampling)",
                no_arguments(),
            )?,
            |ctx, _| async move {
                let declared = &ctx.request().client_capabilities;
                let elicits = declared.elicitation.is_some();
                let samples = declared.sampling.is_some();
                let name = InputRequest::elicit(elicitation(
                    "What is your name?",
                    string_schema("name"),
                )?);
                let question = InputRequest::create_message(parse(json!({
                    "messages": [{"role": "user", "content": {"type": "text", "text": "Say hello"}}],
                    "maxTokens": 50
                }))?);
                // Each ask is made only when declared (Context::ask would refuse it anyway);
                // both travel together in one input_required result.
                let (name, said) = futures_lite::future::zip(
                    async {
                        if elicits {
                            Some(ctx.ask_as("user_name", name).await)
                        } else {
                            None
                        }
                    },
                    async {
                        if samples {
                            Some(ctx.ask_as("greeting", question).await)
                        } else {
                            None
                        }
                    },
                )
                .await;
                let name = name.transpose()?.and_then(|a| accepted_field(&a, "name"));
                let said = said.transpose()?.and_then(|a| sampled_text(&a));
                Ok(result(vec![text(format!(
                    "elicitation: {}, sampling: {}",
                    name.unwrap_or_else(|| "not asked".into()),
                    said.unwrap_or_else(|| "not asked".into())
                ))]))
            },
        )
        .tool(
            tool(
                "test_input_required_result_tampered_state",
                "Asks for input under an unguessable requestState; a forged one is refused",
                no_arguments(),
            )?,
            |ctx, _| async move {
                let ask = InputRequest::elicit(elicitation(
                    "Please confirm",
                    json!({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}),
                )?);
                ask_until_answered(&ctx, "confirm", &ask).await?;
                Ok(result(vec![text("state verified")]))
            },
        ))
}

fn resources(builder: ServerBuilder) -> Result<ServerBuilder, FixtureError> {
    let static_text: Resource = define(
        "test://static-text",
        json!({"uri": "test://static-text", "name": "static-text",
               "description": "A static text resource", "mimeType": "text/plain"}),
    )?;
    let static_binary: Resource = define(
        "test://static-binary",
        json!({"uri": "test://static-binary", "name": "static-binary",
               "description": "A static PNG image", "mimeType": "image/png"}),
    )?;
    let watched: Resource = define(
        "test://watched-resource",
        json!({"uri": "test://watched-resource", "name": "watched-resource",
               "description": "A resource to subscribe to", "mimeType": "text/plain"}),
    )?;
    let template: ResourceTemplate = define(
        "test://template/{id}/data",
        json!({"uriTemplate": "test://template/{id}/data", "name": "template-data",
               "description": "Data for an id", "mimeType": "application/json"}),
    )?;
    let builder = builder
        .resource(static_text, |_, uri| async move {
            Ok(vec![parse::<ResourceContents>(json!({
                "uri": uri, "mimeType": "text/plain",
                "text": "This is the content of the static text resource."
            }))?])
        })
        .resource(static_binary, |_, uri| async move {
            Ok(vec![parse::<ResourceContents>(json!({
                "uri": uri, "mimeType": "image/png", "blob": IMAGE_PNG
            }))?])
        })
        .resource(watched, |_, uri| async move {
            Ok(vec![parse::<ResourceContents>(json!({
                "uri": uri, "mimeType": "text/plain", "text": "Watched resource content"
            }))?])
        });
    builder
        .resource_template(
            template,
            |_, uri, variables: BTreeMap<String, String>| async move {
                let id = variables.get("id").cloned().unwrap_or_default();
                let data =
                    json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")});
                Ok(vec![parse::<ResourceContents>(json!({
                    "uri": uri, "mimeType": "application/json", "text": data.to_string()
                }))?])
            },
        )
        .map_err(|e| FixtureError(format!("resource template: {e}")))
}

fn user_says(content: ContentBlock) -> PromptMessage {
    PromptMessage {
        role: Role::User,
        content,
    }
}

fn prompt_result(messages: Vec<PromptMessage>) -> GetPromptResult {
    GetPromptResult {
        messages,
        ..GetPromptResult::default()
    }
}

fn argument<'a>(
    arguments: &'a BTreeMap<String, String>,
    name: &str,
) -> Result<&'a str, HandlerError> {
    arguments
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| HandlerError::invalid_params(format!("missing argument `{name}`")))
}

/// The most seconds `slow_compute` works.
const MAX_COMPUTE_SECONDS: u64 = 600;

/// The tools of the tasks extension's scenarios (SEP-2663): one sync tool and task-capable
/// ones that work, fail, ask, or break.
fn task_tools<R: Runtime>(
    builder: ServerBuilder,
    runtime: R,
) -> Result<ServerBuilder, FixtureError> {
    let compute_runtime = runtime.clone();
    let escalating_runtime = runtime.clone();
    let confirm_schema = json!({
        "type": "object",
        "properties": {"confirm": {"type": "boolean", "description": "Delete it?"}},
        "required": ["confirm"]
    });
    let multi_schema = confirm_schema.clone();
    Ok(builder
        .tool(
            tool(
                "greet",
                "Greets by name (never a task)",
                string_argument("name", "Who to greet"),
            )?,
            |_, arguments| async move {
                let name = arguments
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("stranger");
                Ok(result(vec![text(format!("Hello, {name}!"))]))
            },
        )
        .tool(
            tool(
                "slow_compute",
                "Works `seconds` seconds, then answers (a task for clients declaring tasks)",
                json!({
                    "type": "object",
                    "properties": {
                        "seconds": {"type": "number", "description": "How long to work"},
                        "label": {"type": "string", "description": "Echoed in the result"}
                    },
                    "required": ["seconds"]
                }),
            )?,
            move |_, arguments| {
                let runtime = compute_runtime.clone();
                async move {
                    let seconds = arguments
                        .get("seconds")
                        .and_then(Value::as_f64)
                        .unwrap_or(0.0);
                    if !(0.0..=MAX_COMPUTE_SECONDS as f64).contains(&seconds) {
                        return Ok(CallToolResult::error(format!(
                            "seconds must be between 0 and {MAX_COMPUTE_SECONDS}"
                        )));
                    }
                    let label = arguments.get("label").and_then(Value::as_str).unwrap_or("");
                    if seconds > 0.0 {
                        runtime
                            .sleep_until(Instant::now() + Duration::from_secs_f64(seconds))
                            .await;
                    }
                    Ok(result(vec![text(format!(
                        "Computed {label} in {seconds} s"
                    ))]))
                }
            },
        )
        .task_support("slow_compute", TaskSupport::Optional)
        .tool(
            tool(
                "failing_job",
                "Runs about a second, then reports a tool error (task only)",
                no_arguments(),
            )?,
            move |_, _| {
                let runtime = runtime.clone();
                async move {
                    runtime
                        .sleep_until(Instant::now() + Duration::from_secs(1))
                        .await;
                    Ok(CallToolResult::error("the job failed"))
                }
            },
        )
        .task_support("failing_job", TaskSupport::Required)
        .tool(
            tool(
                "protocol_error_job",
                "Fails with a JSON-RPC error instead of a result",
                no_arguments(),
            )?,
            |_, _| async { Err(HandlerError::internal("the job broke")) },
        )
        .task_support("protocol_error_job", TaskSupport::Optional)
        .tool(
            tool(
                "confirm_delete",
                "Asks the user to confirm, then deletes (pretends to) the file",
                string_argument("filename", "The file to delete"),
            )?,
            move |ctx, arguments| {
                let schema = confirm_schema.clone();
                async move {
                    let filename = arguments
                        .get("filename")
                        .and_then(Value::as_str)
                        .unwrap_or("the file")
                        .to_owned();
                    let ask =
                        InputRequest::elicit(elicitation(&format!("Delete {filename}?"), schema)?);
                    let answer = ask_until_answered(&ctx, "confirm", &ask).await?;
                    Ok(result(vec![text(match answer {
                        InputResponse::Elicit(e) if e.action == ElicitAction::Accept => {
                            format!("Deleted {filename}")
                        }
                        _ => format!("Kept {filename}"),
                    })]))
                }
            },
        )
        .task_support("confirm_delete", TaskSupport::Optional)
        .tool(
            tool(
                "multi_input",
                "Asks two questions at once, then reports both answers",
                no_arguments(),
            )?,
            move |ctx, _| {
                let schema = multi_schema.clone();
                async move {
                    let first = InputRequest::elicit(elicitation("First?", schema.clone())?);
                    let second = InputRequest::elicit(elicitation("Second?", schema)?);
                    let (a, b) = futures_lite::future::zip(
                        ask_until_answered(&ctx, "first", &first),
                        ask_until_answered(&ctx, "second", &second),
                    )
                    .await;
                    let describe = |answer: &InputResponse| match answer {
                        InputResponse::Elicit(e) => describe_elicitation(e),
                        _ => "not an elicitation".to_owned(),
                    };
                    Ok(result(vec![text(format!(
                        "first: {}, second: {}",
                        describe(&a?),
                        describe(&b?)
                    ))]))
                }
            },
        )
        .task_support("multi_input", TaskSupport::Optional)
        .tool(
            tool(
                "test_tool_with_task",
                "Asks for the user's name while the call is open (input_required), then goes \
                 on as a task that greets them",
                no_arguments(),
            )?,
            move |ctx, _| {
                let runtime = escalating_runtime.clone();
                async move {
                    let ask = InputRequest::elicit(elicitation(
                        "What is your name?",
                        string_schema("name"),
                    )?);
                    let answer = ask_until_answered(&ctx, "user_name", &ask).await?;
                    let name = accepted_field(&answer, "name");
                    // The input is in: the rest runs as a task (MRTR first, then the task).
                    ctx.continue_as_task().await?;
                    runtime.sleep_until(Instant::now() + TASK_WORK).await;
                    Ok(result(vec![text(match name {
                        Some(name) => format!("Hello, {name}! (name gathered before the task)"),
                        None => "No name was given".to_owned(),
                    })]))
                }
            },
        )
        .task_support("test_tool_with_task", TaskSupport::Required)
        .task_creation("test_tool_with_task", TaskCreation::Deferred))
}

/// The tool and prompt that `test_trigger_tool_change` and `test_trigger_prompt_change` show
/// and hide, changing what `tools/list` and `prompts/list` answer.
const DYNAMIC_TOOL: &str = "test_dynamic_tool";
const DYNAMIC_PROMPT: &str = "test_dynamic_prompt";

/// The diagnostic tools of the 2026-07-28 `server-stateless` scenario (SEP-2575).
fn stateless_tools(builder: ServerBuilder) -> Result<ServerBuilder, FixtureError> {
    let handle = builder.handle();
    let prompt_handle = builder.handle();
    let dynamic_prompt: Prompt = define(
        DYNAMIC_PROMPT,
        json!({"name": DYNAMIC_PROMPT,
               "description": "Listed or not: test_trigger_prompt_change toggles it"}),
    )?;
    Ok(builder
        .tool(
            tool(
                "test_missing_capability",
                "Needs the client's sampling capability: -32021 when it was not declared",
                no_arguments(),
            )?,
            |ctx, _| async move {
                let ask = InputRequest::create_message(parse(json!({
                    "messages": [{"role": "user", "content": {"type": "text", "text": "Say hi"}}],
                    "maxTokens": 20
                }))?);
                let answer = ask_until_answered(&ctx, "sampling", &ask).await?;
                let said = sampled_text(&answer).unwrap_or_else(|| "(no text)".into());
                Ok(result(vec![text(format!("The model said: {said}"))]))
            },
        )
        .tool(
            tool(
                "test_streaming_elicitation",
                "Asks the user for a name through the answer (input_required), never as a request",
                no_arguments(),
            )?,
            |ctx, _| async move {
                let ask =
                    InputRequest::elicit(elicitation("What is your name?", string_schema("name"))?);
                let answer = ask_until_answered(&ctx, "user_name", &ask).await?;
                let name = accepted_field(&answer, "name").unwrap_or_else(|| "stranger".into());
                Ok(result(vec![text(format!("Hello, {name}!"))]))
            },
        )
        .tool(
            tool(
                "test_logging_tool",
                "Logs at info and debug; only a request's _meta logLevel lets them out",
                no_arguments(),
            )?,
            |ctx, _| async move {
                ctx.log(LoggingLevel::Info, Some("conformance"), json!("working"));
                ctx.log(LoggingLevel::Debug, Some("conformance"), json!("details"));
                Ok(result(vec![text("Logged two messages")]))
            },
        )
        .tool(
            tool(
                DYNAMIC_TOOL,
                "Listed or not: test_trigger_tool_change toggles it",
                no_arguments(),
            )?,
            |_, _| async { Ok(result(vec![text("The dynamic tool ran")])) },
        )
        .tool(
            tool(
                "test_trigger_tool_change",
                "Shows or hides test_dynamic_tool (tools/list changes, and listeners hear it)",
                no_arguments(),
            )?,
            move |_, _| {
                let handle = handle.clone();
                async move {
                    let shown = !handle.is_tool_enabled(DYNAMIC_TOOL);
                    handle.set_tool_enabled(DYNAMIC_TOOL, shown);
                    let now = if shown { "listed" } else { "hidden" };
                    Ok(result(vec![text(format!("{DYNAMIC_TOOL} is now {now}"))]))
                }
            },
        )
        .tool(
            tool(
                "test_trigger_prompt_change",
                "Shows or hides test_dynamic_prompt (prompts/list changes, and listeners hear it)",
                no_arguments(),
            )?,
            move |_, _| {
                let handle = prompt_handle.clone();
                async move {
                    let shown = !handle.is_prompt_enabled(DYNAMIC_PROMPT);
                    handle.set_prompt_enabled(DYNAMIC_PROMPT, shown);
                    let now = if shown { "listed" } else { "hidden" };
                    Ok(result(vec![text(format!("{DYNAMIC_PROMPT} is now {now}"))]))
                }
            },
        )
        .prompt(dynamic_prompt, |_, _| async {
            Ok(prompt_result(vec![user_says(text(
                "This prompt comes and goes.",
            ))]))
        }))
}

fn prompts(builder: ServerBuilder) -> Result<ServerBuilder, FixtureError> {
    let simple: Prompt = define(
        "test_simple_prompt",
        json!({"name": "test_simple_prompt", "description": "A simple prompt without arguments"}),
    )?;
    let with_arguments: Prompt = define(
        "test_prompt_with_arguments",
        json!({"name": "test_prompt_with_arguments", "description": "A prompt with two arguments",
        "arguments": [
            {"name": "arg1", "description": "First argument", "required": true},
            {"name": "arg2", "description": "Second argument", "required": true}
        ]}),
    )?;
    let embedded: Prompt = define(
        "test_prompt_with_embedded_resource",
        json!({"name": "test_prompt_with_embedded_resource",
               "description": "A prompt embedding a resource",
               "arguments": [{"name": "resourceUri", "description": "The resource to embed",
                              "required": true}]}),
    )?;
    let image: Prompt = define(
        "test_prompt_with_image",
        json!({"name": "test_prompt_with_image", "description": "A prompt with an image"}),
    )?;
    let asking: Prompt = define(
        "test_input_required_result_prompt",
        json!({"name": "test_input_required_result_prompt",
               "description": "Asks the user for context (input_required) before rendering"}),
    )?;
    Ok(builder
        .prompt(simple, |_, _| async {
            Ok(prompt_result(vec![user_says(text(
                "This is a simple prompt for testing.",
            ))]))
        })
        .prompt(with_arguments, |_, arguments| async move {
            let arg1 = argument(&arguments, "arg1")?;
            let arg2 = argument(&arguments, "arg2")?;
            Ok(prompt_result(vec![user_says(text(format!(
                "Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"
            )))]))
        })
        .prompt(embedded, |_, arguments| async move {
            let uri = argument(&arguments, "resourceUri")?;
            let resource = content(json!({"type": "resource", "resource": {
                "uri": uri, "mimeType": "text/plain",
                "text": "Embedded resource content for testing."
            }}))?;
            Ok(prompt_result(vec![
                user_says(resource),
                user_says(text("Please process the embedded resource above.")),
            ]))
        })
        .prompt(image, |_, _| async {
            let image =
                content(json!({"type": "image", "data": IMAGE_PNG, "mimeType": "image/png"}))?;
            Ok(prompt_result(vec![
                user_says(image),
                user_says(text("Please analyze the image above.")),
            ]))
        })
        .prompt(asking, |ctx, _| async move {
            let ask = InputRequest::elicit(elicitation(
                "What context should the prompt use?",
                string_schema("context"),
            )?);
            let answer = ask_until_answered(&ctx, "user_context", &ask).await?;
            let context = accepted_field(&answer, "context").unwrap_or_default();
            Ok(prompt_result(vec![user_says(text(format!(
                "Use this context: {context}"
            )))]))
        })
        .completion(|_, params: CompleteRequestParams| async move {
            // Suggestions for the arguments of `test_prompt_with_arguments` and the
            // template's `id`: the fixed values that start with what was typed.
            let candidates: &[&str] = match params.argument.name.as_str() {
                "arg1" | "arg2" => &["test", "testValue1", "testValue2", "value"],
                "id" => &["1", "123", "42"],
                _ => &[],
            };
            let values: Vec<String> = candidates
                .iter()
                .filter(|c| c.starts_with(params.argument.value.as_str()))
                .map(|c| (*c).to_owned())
                .collect();
            Ok(Completion {
                total: Some(values.len() as u64),
                has_more: Some(false),
                values,
            })
        }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[derive(Debug, Clone)]
    struct NoTimers;

    impl Runtime for NoTimers {
        fn spawn(&self, _task: mcp_async::runtime::BoxFuture<'static, ()>) {}
        fn sleep_until(&self, _deadline: Instant) -> mcp_async::runtime::BoxFuture<'static, ()> {
            Box::pin(std::future::ready(()))
        }
    }

    #[test]
    fn every_definition_parses_and_keeps_the_2020_12_schema_verbatim() {
        let server = fixture_server(NoTimers).unwrap();
        let schema = server
            .tools()
            .find(|t| t.name == "json_schema_2020_12_tool")
            .map(|t| Value::Object(t.input_schema.clone()))
            .unwrap();
        assert_eq!(schema, schema_2020_12());
        assert!(server.tools().all(|t| t.description.is_some()));
        let capabilities = server.config().capabilities;
        assert_eq!(capabilities.resources.unwrap().subscribe, Some(true));
        assert!(capabilities.logging.is_some());
    }
}
