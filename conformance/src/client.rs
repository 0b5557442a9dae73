//! `conformance client`: the client under test for the official harness's client scenarios.
//!
//! The harness starts a mock server per scenario, runs our command through `sh` with the
//! mock's URL as the last argument and the scenario's name in `MCP_CONFORMANCE_SCENARIO`
//! (`MCP_CONFORMANCE_CONTEXT` holds a JSON context for a few auth scenarios). The client is
//! the project's real [`mcp_async::client::Client`], one code path for every [`Stack`]: it
//! connects, lists the tools and does what the scenario asks of a user (which tool to call,
//! with which arguments). Everything on the wire is the stack's own doing.

use std::sync::Arc;
use std::time::Duration;

use mcp_async::client::{CallError, Client, ClientOptions};
use mcp_async::http_client::HttpConnectOptions;
use mcp_async::oauth::{HeadlessAuthorizer, OAuthOptions};
use mcp_async::oauth_signer::Es256Signer;
use mcp_async::stack::Stack;
use mcp_proto::auth::{
    ClientRegistration, GrantConfig, HttpUrl, IdentityAssertionGrant, PreRegisteredClient, Secret,
    UrlPolicy,
};
use mcp_proto::types::skills::SKILLS_EXTENSION;
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

/// The arguments the scenario's user gives `tool`, where the scenario asks for particular
/// ones; otherwise [`sample_arguments`].
fn arguments_for(scenario: &str, tool: &Tool, tools: &[Tool]) -> Value {
    match (scenario, tool.name.as_str()) {
        // Hand the rich schema we received back verbatim, so the mock can see what our
        // types kept of it.
        ("json-schema-2020-12-preservation", "json_schema_echo") => {
            let focal = tools.iter().find(|t| t.name == "json_schema_2020_12_tool");
            let schema = focal
                .and_then(|t| serde_json::to_value(&t.input_schema).ok())
                .unwrap_or_else(|| json!({}));
            json!({ "schema": schema })
        }
        // Values that need each of the header encodings (plain, numbers, booleans, Base64
        // for non-ASCII, edge whitespace and control characters).
        ("http-custom-headers", "test_custom_headers") => json!({
            "region": "us-west-2",
            "priority": 7,
            "verbose": true,
            "debug": false,
            "empty_val": "",
            "method_val": "tools/call",
            "float_val": 2.5,
            "non_ascii_val": "Grüße, 世界",
            "whitespace_val": "  padded  ",
            "leading_space_val": " leading",
            "trailing_space_val": "trailing ",
            "internal_space_val": "two words",
            "control_char_val": "bell\u{7}here",
            "crlf_val": "line1\r\nline2",
            "tab_val": "\tindented",
            "query": "what is mirrored",
        }),
        ("http-custom-headers", "test_custom_headers_null") => json!({
            "region": "eu-central-1",
            "priority": 1,
            "verbose": null,
            "query": "null is omitted",
        }),
        _ => sample_arguments(tool),
    }
}

/// A call's outcome as the user sees it: the server's answer, a result or a JSON-RPC error
/// (`Ok(Err(text))`: the server did answer, e.g. a mock that has no `tools/call`), or the
/// client's own failure (`Err`: no answer, a malformed one, a dead connection).
fn answered<T>(outcome: Result<T, CallError>) -> Result<Result<T, String>, CallError> {
    match outcome {
        Ok(result) => Ok(Ok(result)),
        Err(CallError::Server(error)) => Ok(Err(format!(
            "the server answered error {}: {}",
            error.code.0, error.message
        ))),
        Err(other) => Err(other),
    }
}

/// Lists the server's skills and, unless the scenario's user only browses, uses each: loads
/// it (its `SKILL.md`, verified) and then reads its other files (each verified). A skill
/// that fails verification is refused and none of its other files is read.
async fn use_skills(client: &Client, scenario: &str) -> Result<(), String> {
    let skills = client
        .list_skills()
        .await
        .map_err(|e| format!("skills/list: {e}"))?;
    eprintln!(
        "conformance client: {} skill(s): {:?}",
        skills.len(),
        skills.iter().map(|s| s.uri.as_str()).collect::<Vec<_>>()
    );
    if scenario == "sep-2640-client-no-prefetch" {
        // The user looks at the list and never asks for a skill.
        return Ok(());
    }
    for skill in &skills {
        match client.load_skill(skill).await {
            Ok(text) => {
                eprintln!(
                    "conformance client: loaded {} ({} bytes)",
                    skill.uri,
                    text.len()
                );
                for file in skill.resources.iter().filter(|f| f.uri != skill.uri) {
                    match client.read_skill_file(skill, &file.uri).await {
                        Ok(bytes) => {
                            eprintln!(
                                "conformance client: read {} ({} bytes)",
                                file.uri,
                                bytes.len()
                            );
                        }
                        Err(refused) => eprintln!("conformance client: {}: {refused}", file.uri),
                    }
                }
            }
            Err(refused) => eprintln!("conformance client: not using {}: {refused}", skill.uri),
        }
    }
    Ok(())
}

/// What the scenario's user does once connected: looks at everything the server offers
/// (tools, resources, prompts, as its capabilities say) and uses each once — calls every
/// tool, reads every resource, renders every prompt.
async fn exercise(client: &Client, scenario: &str) -> Result<(), String> {
    let capabilities = client.negotiated().server_capabilities.clone();
    if capabilities.tools.is_some() {
        let tools = client
            .list_tools()
            .await
            .map_err(|e| format!("tools/list: {e}"))?;
        eprintln!(
            "conformance client: {} tool(s): {:?}",
            tools.len(),
            tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>()
        );
        for tool in &tools {
            let arguments = arguments_for(scenario, tool, &tools);
            let result = answered(client.call_tool(&tool.name, arguments).await)
                .map_err(|e| format!("tools/call {}: {e}", tool.name))?;
            eprintln!(
                "conformance client: {} -> {}",
                tool.name,
                result.map_or_else(|e| e, |r| serde_json::to_string(&r).unwrap_or_default())
            );
        }
    }
    if capabilities.resources.is_some() {
        let resources = client
            .list_resources()
            .await
            .map_err(|e| format!("resources/list: {e}"))?;
        for resource in &resources {
            let read = answered(client.read_resource(&resource.uri).await)
                .map_err(|e| format!("resources/read {}: {e}", resource.uri))?;
            eprintln!(
                "conformance client: read {}: {}",
                resource.uri,
                read.map_or_else(|e| e, |r| format!("{} content item(s)", r.contents.len()))
            );
        }
    }
    if capabilities.extension(SKILLS_EXTENSION).is_some() {
        use_skills(client, scenario).await?;
    }
    if capabilities.prompts.is_some() {
        let prompts = client
            .list_prompts()
            .await
            .map_err(|e| format!("prompts/list: {e}"))?;
        for prompt in &prompts {
            let arguments: serde_json::Map<String, Value> = prompt
                .arguments
                .iter()
                .flatten()
                .map(|a| (a.name.clone(), json!(format!("{}-value", a.name))))
                .collect();
            let rendered = answered(
                client
                    .get_prompt(&prompt.name, Value::Object(arguments))
                    .await,
            )
            .map_err(|e| format!("prompts/get {}: {e}", prompt.name))?;
            eprintln!(
                "conformance client: prompt {}: {}",
                prompt.name,
                rendered.map_or_else(|e| e, |r| format!("{} message(s)", r.messages.len()))
            );
        }
    }
    Ok(())
}

/// The environment variable holding an auth scenario's JSON context.
const CONTEXT_VAR: &str = "MCP_CONFORMANCE_CONTEXT";

/// The Client ID Metadata Document URL the harness expects a CIMD client to use.
const CLIENT_METADATA_URL: &str = "https://conformance-test.local/client-metadata.json";

/// Where the harness's authorization endpoint redirects (never listened on: the headless
/// authorizer reads the redirect's `Location`).
const REDIRECT_URI: &str = "http://127.0.0.1:3000/callback";

/// OAuth as an auth scenario's user sets it up: headless authorization (the mock redirects at
/// once), plain http on loopback allowed, the CIMD URL offered, DPoP with a fresh P-256 key
/// (used only where the authorization server advertises it: `auth/dpop`, `auth/dpop-nonce`),
/// and what the context
/// (`MCP_CONFORMANCE_CONTEXT`) gives — pre-registered credentials, a `client_credentials`
/// grant (secret or ES256 key), an enterprise identity provider's ID token, a workload's JWT.
fn oauth_options(scenario: &str, context: Option<&str>) -> Result<OAuthOptions, String> {
    let mut oauth = OAuthOptions::new(
        "mcp-rust-conformance-client",
        HeadlessAuthorizer::new(REDIRECT_URI),
    )
    .with_client_id_metadata_url(CLIENT_METADATA_URL)
    .with_dpop(Arc::new(
        Es256Signer::generate().map_err(|e| format!("a DPoP key: {e}"))?,
    ))
    .with_url_policy(UrlPolicy {
        allow_insecure_loopback: true,
        allow_private_addresses: false,
    });
    let Some(context) = context else {
        return Ok(oauth);
    };
    let context: Value =
        serde_json::from_str(context).map_err(|e| format!("{CONTEXT_VAR} is not JSON: {e}"))?;
    let field = |name: &str| context.get(name).and_then(Value::as_str).map(str::to_owned);
    let Some(client_id) = field("client_id") else {
        return Ok(oauth);
    };
    let secret = field("client_secret").map(Secret::new);
    oauth = oauth.with_pre_registered(PreRegisteredClient {
        issuer: field("issuer"),
        registration: ClientRegistration::pre_registered(client_id, secret),
    });
    if let Some(pem) = field("private_key_pem") {
        let signer = Es256Signer::from_pkcs8_pem(&pem).map_err(|e| e.to_string())?;
        oauth = oauth
            .with_signer(Arc::new(signer))
            .with_grant(GrantConfig::ClientCredentials);
    } else if let (Some(id_token), Some(endpoint), Some(idp_client_id)) = (
        field("idp_id_token"),
        field("idp_token_endpoint"),
        field("idp_client_id"),
    ) {
        let idp_token_endpoint =
            HttpUrl::parse(&endpoint).map_err(|e| format!("idp_token_endpoint: {e}"))?;
        oauth = oauth.with_grant(GrantConfig::EnterpriseManaged(IdentityAssertionGrant {
            idp_token_endpoint,
            id_token: Secret::new(id_token),
            idp_client: ClientRegistration::pre_registered(idp_client_id, None),
        }));
    } else if let Some(assertion) = field("valid_jwt") {
        oauth = oauth.with_grant(GrantConfig::JwtBearer {
            assertion: Secret::new(assertion),
        });
    } else if scenario.contains("client-credentials") {
        oauth = oauth.with_grant(GrantConfig::ClientCredentials);
    }
    Ok(oauth)
}

/// Connects to `url` on `S`, runs the scenario, closes.
async fn run_scenario<S: Stack>(url: String, scenario: String) -> Result<(), String> {
    let uri = url
        .parse()
        .map_err(|e| format!("bad server URL {url:?}: {e}"))?;
    let mut http = HttpConnectOptions::new(uri);
    if scenario.starts_with("auth/") {
        let context = std::env::var(CONTEXT_VAR).ok();
        http = http.with_oauth(oauth_options(&scenario, context.as_deref())?);
    }
    let client = S::connect_http(http, client_options())
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
