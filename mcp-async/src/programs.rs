//! The example programs — `server`, `cli`, `gateway` — written once for every [`Stack`].
//!
//! Each adapter's `examples/` are a `main` that runs these on its runtime, so both adapters'
//! examples take the same command lines and behave the same. They write to the writers they
//! are given (the examples pass stdout and stderr) and return the process's exit status:
//! 0 on success, 1 on a failure at run time, 2 on a usage error.

use std::io::Write;
use std::net::SocketAddr;

use crate::cli::{CliArgs, Target, USAGE, run};
use crate::client::ClientOptions;
use crate::demo::demo_server;
use crate::group::{Member, ServersConfig, gateway_server};
use crate::http_serve::{HttpServeOptions, LegacySsePaths};
use crate::stack::Stack;

/// The exit status of a usage error.
pub const USAGE_ERROR: i32 = 2;

/// `server (--stdio | --listen ADDR:PORT)`: the demo server (an `echo` tool, a `slow` tool, a
/// resource, a template, a prompt, completions) on stdin/stdout, or over HTTP with the MCP
/// endpoint at `/mcp` and the deprecated HTTP+SSE endpoints at `/sse` and `/messages`.
/// Serves until stdin ends (`--stdio`) or the process is stopped.
pub async fn server<S: Stack>(args: &[String], log: &mut dyn Write) -> i32 {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let runtime = match S::runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = writeln!(log, "server: {error}");
            return 1;
        }
    };
    match args.as_slice() {
        ["--stdio"] => match S::serve_stdio(demo_server(runtime)).await {
            Ok(report) => {
                let _ = writeln!(log, "server: connection ended: {:?}", report.close.reason);
                0
            }
            Err(error) => {
                let _ = writeln!(log, "server: {error}");
                1
            }
        },
        ["--listen", addr] => {
            let Ok(addr) = addr.parse::<SocketAddr>() else {
                return usage(log, SERVER_USAGE);
            };
            let options = HttpServeOptions {
                legacy_sse: Some(LegacySsePaths::default()),
                ..HttpServeOptions::default()
            };
            match S::serve_http(demo_server(runtime), addr, options).await {
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
        _ => usage(log, SERVER_USAGE),
    }
}

const SERVER_USAGE: &str = "usage: server (--stdio | --listen ADDR:PORT)";

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
