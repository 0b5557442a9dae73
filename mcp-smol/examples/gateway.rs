//! A gateway on smol: connects to every server of an `mcpServers` configuration and
//! re-exposes their tools as `<server>__<tool>`. A member that fails is logged to stderr with
//! its original error and the rest keep serving.
//!
//! ```text
//! cargo run -p mcp-smol --example gateway -- --config servers.json --listen 127.0.0.1:8080
//! cargo run -p mcp-smol --example gateway -- --config servers.json --stdio
//! ```
#![allow(clippy::print_stderr)]

use std::net::SocketAddr;

use mcp_async::group::gateway_server;
use mcp_smol::{
    ClientOptions, HttpServeOptions, Member, ServersConfig, connect_group, serve_http, serve_stdio,
};

fn usage() -> ! {
    eprintln!("usage: gateway --config FILE (--stdio | --listen ADDR:PORT)");
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (config, listen) = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["--config", file, "--stdio"] => (file.to_string(), None),
        ["--config", file, "--listen", addr] => match addr.parse::<SocketAddr>() {
            Ok(addr) => (file.to_string(), Some(addr)),
            Err(_) => usage(),
        },
        _ => usage(),
    };
    let config: ServersConfig = match std::fs::read_to_string(&config)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
    {
        Ok(config) => config,
        Err(error) => {
            eprintln!("gateway: cannot read {config}: {error}");
            std::process::exit(2);
        }
    };
    smol::block_on(async {
        let group = connect_group(config, ClientOptions::new("mcp-smol-gateway", "1")).await;
        for (name, member) in group.members() {
            if let Member::Failed(error) = member {
                eprintln!("gateway: server {name} is unavailable: {error}");
            }
        }
        let (tools, failures) = group.list_tools().await;
        for (name, error) in failures {
            eprintln!("gateway: cannot list the tools of {name}: {error}");
        }
        eprintln!("gateway: serving {} tools", tools.len());
        let server = gateway_server(&group, tools, "mcp-smol-gateway", env!("CARGO_PKG_VERSION"));
        match listen {
            None => {
                serve_stdio(server).await;
            }
            Some(addr) => match serve_http(server, addr, HttpServeOptions::default()).await {
                Ok(handle) => {
                    eprintln!("gateway: MCP endpoint at {}", handle.url("/mcp"));
                    std::future::pending::<()>().await;
                }
                Err(error) => {
                    eprintln!("gateway: cannot listen on {addr}: {error}");
                    std::process::exit(1);
                }
            },
        }
        for (name, result) in group.shutdown().await {
            match result {
                Ok(report) => eprintln!(
                    "gateway: {name} closed: {:?}",
                    report.close.map(|c| c.reason)
                ),
                Err(error) => eprintln!("gateway: {name} had failed: {error}"),
            }
        }
    });
}
