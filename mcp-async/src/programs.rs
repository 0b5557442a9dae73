//! The example programs — `server`, `cli`, `gateway`, `protected_server`, `oauth_client` —
//! written once for every [`Stack`].
//!
//! Each adapter's `examples/` are a `main` that runs these on its runtime, so both adapters'
//! examples take the same command lines and behave the same. They write to the writers they
//! are given (the examples pass stdout and stderr) and return the process's exit status:
//! 0 on success, 1 on a failure at run time, 2 on a usage error.

use std::io::Write;
use std::net::SocketAddr;

use mcp_proto::auth::ScopeSet;
use mcp_proto::types::{CallToolResult, Tool};

use crate::cli::{CliArgs, Target, USAGE, run};
use crate::client::ClientOptions;
use crate::demo::demo_server;
use crate::entropy::os_entropy;
use crate::group::{Member, ServersConfig, gateway_server};
use crate::http_serve::{HttpServeOptions, LegacySsePaths, spawn_http_server};
use crate::resource_server::{ResourceServerAuth, StaticTokens};
use crate::server::{HandlerError, Server};
use crate::stack::Stack;

/// The exit status of a usage error.
pub const USAGE_ERROR: i32 = 2;

/// `server (--stdio | --listen ADDR:PORT [--max-sessions N] [--max-connections N])`: the demo
/// server (an `echo` tool, a `slow` tool, a resource, a template, a prompt, completions) on
/// stdin/stdout, or over HTTP with the MCP endpoint at `/mcp` and the deprecated HTTP+SSE
/// endpoints at `/sse` and `/messages`. `--max-sessions` bounds the legacy sessions alive at
/// once (each transport's; default
/// [`DEFAULT_MAX_SESSIONS`](mcp_proto::streamable::sessions::DEFAULT_MAX_SESSIONS)),
/// `--max-connections` the connections served at once (default
/// [`DEFAULT_MAX_CONNECTIONS`](crate::http_serve::DEFAULT_MAX_CONNECTIONS)). Serves until stdin ends
/// (`--stdio`) or the process is stopped.
pub async fn server<S: Stack>(args: &[String], log: &mut dyn Write) -> i32 {
    let runtime = match S::runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = writeln!(log, "server: {error}");
            return 1;
        }
    };
    let Some(mode) = ServerMode::parse(args) else {
        return usage(log, SERVER_USAGE);
    };
    match mode {
        ServerMode::Stdio => match S::serve_stdio(demo_server(runtime)).await {
            Ok(report) => {
                let _ = writeln!(log, "server: connection ended: {:?}", report.close.reason);
                0
            }
            Err(error) => {
                let _ = writeln!(log, "server: {error}");
                1
            }
        },
        ServerMode::Listen(addr, options) => {
            match S::serve_http(demo_server(runtime), addr, *options).await {
                Ok(handle) => {
                    let _ = writeln!(log, "server: MCP endpoint at {}", handle.url("/mcp"));
                    let _ = log.flush();
                    std::future::pending::<()>().await;
                    0
                }
                Err(error) => {
                    let _ = writeln!(log, "server: cannot listen on {addr}: {error}");
                    1
                }
            }
        }
    }
}

const SERVER_USAGE: &str =
    "usage: server (--stdio | --listen ADDR:PORT [--max-sessions N] [--max-connections N])";

/// The `server` program's command line.
#[derive(Debug)]
enum ServerMode {
    Stdio,
    Listen(SocketAddr, Box<HttpServeOptions>),
}

impl ServerMode {
    /// `None`: not a valid command line.
    fn parse(args: &[String]) -> Option<Self> {
        let mut args = args.iter().map(String::as_str);
        match args.next()? {
            "--stdio" => args.next().is_none().then_some(Self::Stdio),
            "--listen" => {
                let addr = args.next()?.parse::<SocketAddr>().ok()?;
                let mut options = HttpServeOptions {
                    legacy_sse: Some(LegacySsePaths::default()),
                    ..HttpServeOptions::default()
                };
                while let Some(flag) = args.next() {
                    let value = args.next()?.parse::<usize>().ok().filter(|n| *n > 0)?;
                    match flag {
                        "--max-sessions" => options.sessions.max_sessions = value,
                        "--max-connections" => options.max_connections = value,
                        _ => return None,
                    }
                }
                Some(Self::Listen(addr, Box::new(options)))
            }
            _ => None,
        }
    }
}

/// `cli [options] (--stdio 'CMD ARGS' | --url URL) METHOD [ARGS]` (see [`USAGE`]): connects,
/// makes one call, writes its JSON result to `out`, or its typed error to `log` with status 1.
pub async fn cli<S: Stack>(args: &[String], out: &mut dyn Write, log: &mut dyn Write) -> i32 {
    let args = match CliArgs::parse(args.iter().cloned()) {
        Ok(args) => args,
        Err(problem) => {
            let _ = writeln!(log, "cli: {problem}\n{USAGE}");
            return USAGE_ERROR;
        }
    };
    let mut options = ClientOptions::new("mcp-cli", env!("CARGO_PKG_VERSION")).era(args.era);
    options.call_timeout = Some(args.timeout);
    options.connect_timeout = args.timeout;
    let connected = match &args.target {
        Target::Stdio(command) => S::connect_child(command.clone(), options).await,
        Target::Url(url) => match args.http_options(url) {
            Ok(http) => S::connect_http(http, options).await,
            Err(problem) => {
                let _ = writeln!(log, "cli: {problem}");
                return USAGE_ERROR;
            }
        },
    };
    let client = match connected {
        Ok(client) => client,
        Err(error) => {
            let _ = writeln!(log, "cli: cannot connect: {error}");
            return 1;
        }
    };
    let outcome = run(&client, args.command).await;
    let _report = client.shutdown().await;
    match outcome {
        Ok(result) => {
            let text = serde_json::to_string_pretty(&result).unwrap_or_default();
            let _ = writeln!(out, "{text}");
            0
        }
        Err(error) => {
            let _ = writeln!(log, "cli: {error}");
            1
        }
    }
}

/// `gateway --config FILE (--stdio | --listen ADDR:PORT)`: connects to every server of an
/// `mcpServers` configuration and re-exposes their tools as `<server>__<tool>`. A member that
/// fails is reported to `log` with its original error and the rest keep serving; when
/// serving ends (stdin closed), every member is shut down and its result reported.
pub async fn gateway<S: Stack>(args: &[String], log: &mut dyn Write) -> i32 {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (file, listen) = match args.as_slice() {
        ["--config", file, "--stdio"] => (*file, None),
        ["--config", file, "--listen", addr] => match addr.parse::<SocketAddr>() {
            Ok(addr) => (*file, Some(addr)),
            Err(_) => return usage(log, GATEWAY_USAGE),
        },
        _ => return usage(log, GATEWAY_USAGE),
    };
    let config: ServersConfig = match std::fs::read_to_string(file)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
    {
        Ok(config) => config,
        Err(error) => {
            let _ = writeln!(log, "gateway: cannot read {file}: {error}");
            return USAGE_ERROR;
        }
    };
    let group = match S::connect_group(config, ClientOptions::new("mcp-gateway", "1")).await {
        Ok(group) => group,
        Err(error) => {
            let _ = writeln!(log, "gateway: {error}");
            return 1;
        }
    };
    for (name, member) in group.members() {
        if let Member::Failed(error) = member {
            let _ = writeln!(log, "gateway: server {name} is unavailable: {error}");
        }
    }
    let (tools, failures) = group.list_tools().await;
    for (name, error) in failures {
        let _ = writeln!(log, "gateway: cannot list the tools of {name}: {error}");
    }
    let _ = writeln!(log, "gateway: serving {} tools", tools.len());
    let server = gateway_server(&group, tools, "mcp-gateway", env!("CARGO_PKG_VERSION"));
    let mut status = 0;
    match listen {
        None => {
            if let Err(error) = S::serve_stdio(server).await {
                let _ = writeln!(log, "gateway: {error}");
                status = 1;
            }
        }
        Some(addr) => match S::serve_http(server, addr, HttpServeOptions::default()).await {
            Ok(handle) => {
                let _ = writeln!(log, "gateway: MCP endpoint at {}", handle.url("/mcp"));
                let _ = log.flush();
                std::future::pending::<()>().await;
            }
            Err(error) => {
                let _ = writeln!(log, "gateway: cannot listen on {addr}: {error}");
                status = 1;
            }
        },
    }
    for (name, result) in group.shutdown().await {
        let _ = match result {
            Ok(report) => writeln!(
                log,
                "gateway: {name} closed: {:?}",
                report.close.map(|c| c.reason)
            ),
            Err(error) => writeln!(log, "gateway: {name} had failed: {error}"),
        };
    }
    status
}

const GATEWAY_USAGE: &str = "usage: gateway --config FILE (--stdio | --listen ADDR:PORT)";

fn usage(log: &mut dyn Write, usage: &str) -> i32 {
    let _ = writeln!(log, "{usage}");
    USAGE_ERROR
}

/// The scope the `write-note` tool of [`protected_demo_server`] needs.
pub const NOTES_WRITE_SCOPE: &str = "notes:write";

/// The server of `protected_server`: `whoami` answers the caller's subject and scopes (from
/// [`Context::principal`](crate::server::Context::principal)); `write-note` needs
/// [`NOTES_WRITE_SCOPE`] (the HTTP front end checks it, see
/// [`protected_demo_auth`]) and checks it again itself, as a handler authorising further
/// would.
#[must_use]
pub fn protected_demo_server() -> Server {
    let tool = |name: &str, description: &str| -> Option<Tool> {
        serde_json::from_value(serde_json::json!({
            "name": name,
            "description": description,
            "inputSchema": {"type": "object"}
        }))
        .ok()
    };
    let mut builder = Server::builder("protected-demo", env!("CARGO_PKG_VERSION"));
    if let Some(whoami) = tool("whoami", "The caller's subject and scopes") {
        builder = builder.tool(whoami, |ctx, _args| async move {
            let principal = ctx
                .principal()
                .ok_or_else(|| HandlerError::internal("no authenticated caller"))?;
            Ok::<_, HandlerError>(CallToolResult::text(format!(
                "{} {}",
                principal.subject, principal.scopes
            )))
        });
    }
    if let Some(write) = tool("write-note", "Needs the notes:write scope") {
        builder = builder.tool(write, |ctx, _args| async move {
            match ctx.principal() {
                Some(principal) if principal.has_scope(NOTES_WRITE_SCOPE) => Ok::<_, HandlerError>(
                    CallToolResult::text(format!("note written by {}", principal.subject)),
                ),
                _ => Err(HandlerError::internal("notes:write is required")),
            }
        });
    }
    builder.build()
}

/// The resource-server settings of `protected_server`: metadata for `resource` naming
/// `authorization_server`, `tokens` checked (audience included), `required` of every request
/// and [`NOTES_WRITE_SCOPE`] of `write-note`.
///
/// # Errors
/// An invalid URL (see [`ResourceServerAuth::new`]).
pub fn protected_demo_auth(
    resource: &str,
    authorization_server: &str,
    tokens: StaticTokens,
    required: ScopeSet,
) -> Result<ResourceServerAuth, crate::resource_server::ResourceServerConfigError> {
    let notes = ScopeSet::from_scopes([NOTES_WRITE_SCOPE]).unwrap_or_default();
    ResourceServerAuth::new(resource, [authorization_server], tokens)?
        .resource_name("protected demo")
        .require_scopes(required)
        .tool_scopes("write-note", notes)
}

/// `protected_server --listen ADDR:PORT --authorization-server URL [--resource URL]
/// [--require SCOPES] --token TOKEN[:SCOPES]...`: [`protected_demo_server`] over HTTP as an
/// OAuth resource server. Each `--token` is accepted for subject `user-N` (its position) with
/// the comma-separated scopes; `--require` (comma-separated) is needed by every request;
/// `--resource` is the canonical URI (default `http://ADDR:PORT/mcp` with the bound address).
/// Serves until the process is stopped.
pub async fn protected_server<S: Stack>(args: &[String], log: &mut dyn Write) -> i32 {
    let Some(parsed) = ProtectedArgs::parse(args) else {
        return usage(log, PROTECTED_USAGE);
    };
    let runtime = match S::runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = writeln!(log, "protected_server: {error}");
            return 1;
        }
    };
    let (listener, local) = match S::bind(parsed.listen).await {
        Ok(bound) => bound,
        Err(error) => {
            let _ = writeln!(
                log,
                "protected_server: cannot listen on {}: {error}",
                parsed.listen
            );
            return 1;
        }
    };
    let resource = parsed
        .resource
        .clone()
        .unwrap_or_else(|| format!("http://{local}/mcp"));
    let mut tokens = StaticTokens::new(resource.clone());
    for (n, (token, scopes)) in parsed.tokens.into_iter().enumerate() {
        if let Err(error) = tokens.add(token, format!("user-{}", n + 1), scopes) {
            let _ = writeln!(log, "protected_server: {error}");
            return USAGE_ERROR;
        }
    }
    let auth = match protected_demo_auth(&resource, &parsed.issuer, tokens, parsed.required) {
        Ok(auth) => auth,
        Err(error) => {
            let _ = writeln!(log, "protected_server: {error}");
            return USAGE_ERROR;
        }
    };
    let metadata_url = auth.metadata_url();
    let options = HttpServeOptions::default().bearer_auth(auth);
    let _handle = spawn_http_server(
        &runtime,
        protected_demo_server(),
        listener,
        local,
        options,
        os_entropy,
    );
    let _ = writeln!(log, "protected_server: MCP endpoint at http://{local}/mcp");
    let _ = writeln!(log, "protected_server: resource metadata at {metadata_url}");
    let _ = log.flush();
    std::future::pending::<()>().await;
    0
}

const PROTECTED_USAGE: &str = "usage: protected_server --listen ADDR:PORT --authorization-server URL [--resource URL] [--require SCOPE,...] --token TOKEN[:SCOPE,...]...";

struct ProtectedArgs {
    listen: SocketAddr,
    issuer: String,
    resource: Option<String>,
    required: ScopeSet,
    tokens: Vec<(String, ScopeSet)>,
}

impl ProtectedArgs {
    fn parse(args: &[String]) -> Option<Self> {
        let scopes = |list: &str| ScopeSet::from_scopes(list.split(',').filter(|s| !s.is_empty()));
        let mut listen = None;
        let mut issuer = None;
        let mut resource = None;
        let mut required = ScopeSet::new();
        let mut tokens = Vec::new();
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let value = args.next()?;
            match flag.as_str() {
                "--listen" => listen = Some(value.parse().ok()?),
                "--authorization-server" => issuer = Some(value.clone()),
                "--resource" => resource = Some(value.clone()),
                "--require" => required = scopes(value).ok()?,
                "--token" => {
                    let (token, list) = value.split_once(':').unwrap_or((value, ""));
                    if token.is_empty() {
                        return None;
                    }
                    tokens.push((token.to_owned(), scopes(list).ok()?));
                }
                _ => return None,
            }
        }
        if tokens.is_empty() {
            return None;
        }
        Some(Self {
            listen: listen?,
            issuer: issuer?,
            resource,
            required,
            tokens,
        })
    }
}

const OAUTH_CLIENT_USAGE: &str = "usage: oauth_client [--port PORT] [--client-name NAME] \
     [--allow-http-loopback] URL [TOOL [JSON_ARGUMENTS]]";

/// How long `oauth_client` gives the whole connection, the user's visit to the authorization
/// page included.
const OAUTH_CLIENT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// `oauth_client [--port PORT] [--client-name NAME] [--allow-http-loopback] URL [TOOL
/// [JSON_ARGUMENTS]]`: connects to the MCP server at `URL`, which may require OAuth 2.1. When
/// it does, the flow runs with a loopback redirect listener on `127.0.0.1:PORT` (default: any
/// free port): the authorization URL is written to `log` for the user to open in a browser,
/// and the client continues once the browser comes back to the listener. Then it lists the
/// tools (or calls `TOOL` with `JSON_ARGUMENTS`, default `{}`) and writes the JSON result to
/// `out`. Authorization servers must use https, except on loopback addresses with
/// `--allow-http-loopback` (local development).
pub async fn oauth_client<S: Stack>(
    args: &[String],
    out: &mut dyn Write,
    log: &mut dyn Write,
) -> i32 {
    let mut port = 0u16;
    let mut client_name = "mcp-rs oauth_client".to_owned();
    let mut url_policy = mcp_proto::auth::UrlPolicy::default();
    let mut rest = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = p,
                None => return usage(log, OAUTH_CLIENT_USAGE),
            },
            "--client-name" => match args.next() {
                Some(name) => name.clone_into(&mut client_name),
                None => return usage(log, OAUTH_CLIENT_USAGE),
            },
            "--allow-http-loopback" => url_policy.allow_insecure_loopback = true,
            _ => rest.push(arg.as_str()),
        }
    }
    let (url, call) = match rest.as_slice() {
        [url] => (*url, None),
        [url, tool] => (*url, Some((*tool, "{}"))),
        [url, tool, arguments] => (*url, Some((*tool, *arguments))),
        _ => return usage(log, OAUTH_CLIENT_USAGE),
    };
    let Ok(uri) = url.parse::<http::Uri>() else {
        let _ = writeln!(log, "oauth_client: not a URL: {url}");
        return USAGE_ERROR;
    };
    let arguments = match call.map(|(_, text)| serde_json::from_str::<serde_json::Value>(text)) {
        Some(Err(error)) => {
            let _ = writeln!(log, "oauth_client: the arguments are not JSON: {error}");
            return USAGE_ERROR;
        }
        Some(Ok(value)) => value,
        None => serde_json::Value::Null,
    };
    // The URL goes to the user through a channel the callback can own (`log` is borrowed).
    let (shown, to_show) = crate::channel::bounded::<String>(1);
    let open = move |url: &str| {
        shown
            .try_send(url.to_owned())
            .map_err(|_| "the authorization URL was not shown".to_owned())
    };
    let authorizer = match crate::oauth::LoopbackAuthorizer::bind::<S>(port, open).await {
        Ok(authorizer) => authorizer,
        Err(error) => {
            let _ = writeln!(log, "oauth_client: cannot listen for the redirect: {error}");
            return 1;
        }
    };
    let http = crate::http_client::HttpConnectOptions::new(uri).with_oauth(
        crate::oauth::OAuthOptions::new(client_name, authorizer).with_url_policy(url_policy),
    );
    let mut options = ClientOptions::new("oauth_client", env!("CARGO_PKG_VERSION"));
    options.connect_timeout = OAUTH_CLIENT_CONNECT_TIMEOUT;
    let connecting = S::connect_http(http, options);
    let mut connecting = std::pin::pin!(connecting);
    let connected = futures_lite::future::or(async { Some((&mut connecting).await) }, async {
        // Shown as soon as the flow asks for it, while the connection waits for the browser.
        let Ok(url) = to_show.recv().await else {
            return std::future::pending().await;
        };
        let _ = writeln!(log, "oauth_client: open this URL to authorize:\n{url}");
        let _ = log.flush();
        None
    })
    .await;
    let connected = match connected {
        Some(connected) => connected,
        None => connecting.await,
    };
    let client = match connected {
        Ok(client) => client,
        Err(error) => {
            let _ = writeln!(log, "oauth_client: {error}");
            return 1;
        }
    };
    let result = match call {
        Some((tool, _)) => client
            .call_tool(tool, arguments)
            .await
            .map(|result| serde_json::to_value(result).unwrap_or_default()),
        None => client
            .list_tools()
            .await
            .map(|tools| serde_json::to_value(tools).unwrap_or_default()),
    };
    let status = match result {
        Ok(value) => {
            let _ = writeln!(out, "{value:#}");
            0
        }
        Err(error) => {
            let _ = writeln!(log, "oauth_client: {error}");
            1
        }
    };
    client.shutdown().await;
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Option<ServerMode> {
        let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        ServerMode::parse(&args)
    }

    #[test]
    fn the_server_takes_its_session_and_connection_limits_from_flags() {
        assert!(matches!(parse("--stdio"), Some(ServerMode::Stdio)));
        let Some(ServerMode::Listen(addr, options)) =
            parse("--listen 127.0.0.1:8080 --max-sessions 20000 --max-connections 12000")
        else {
            panic!("not parsed");
        };
        assert_eq!(addr, "127.0.0.1:8080".parse::<SocketAddr>().unwrap());
        assert_eq!(options.sessions.max_sessions, 20_000);
        assert_eq!(options.max_connections, 12_000);
        assert!(options.legacy_sse.is_some());
        let Some(ServerMode::Listen(_, defaults)) = parse("--listen 127.0.0.1:8080") else {
            panic!("not parsed");
        };
        assert_eq!(
            defaults.max_connections,
            HttpServeOptions::default().max_connections
        );
        for bad in [
            "",
            "--stdio --max-sessions 5",
            "--listen nowhere",
            "--listen 127.0.0.1:8080 --max-sessions",
            "--listen 127.0.0.1:8080 --max-sessions 0",
            "--listen 127.0.0.1:8080 --max-sessions many",
            "--listen 127.0.0.1:8080 --max-streams 5",
        ] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }
}
