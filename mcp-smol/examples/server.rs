//! The demo MCP server (an `echo` tool, a `slow` tool, a resource and a prompt) on smol.
//!
//! ```text
//! cargo run -p mcp-smol --example server -- --stdio
//! cargo run -p mcp-smol --example server -- --listen 127.0.0.1:8080   # MCP endpoint at /mcp
//! ```
//! With `--listen`, the deprecated HTTP+SSE endpoints are served too (`/sse`, `/messages`).
#![allow(clippy::print_stderr)]

use std::net::SocketAddr;

use mcp_async::demo::demo_server;
use mcp_smol::{HttpServeOptions, LegacySsePaths, SmolRuntime, serve_http, serve_stdio};

fn usage() -> ! {
    eprintln!("usage: server (--stdio | --listen ADDR:PORT)");
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["--stdio"] => {
            let report = smol::block_on(serve_stdio(demo_server(SmolRuntime)));
            eprintln!("server: connection ended: {:?}", report.close.reason);
        }
        ["--listen", addr] => {
            let Ok(addr) = addr.parse::<SocketAddr>() else {
                usage()
            };
            let options = HttpServeOptions {
                legacy_sse: Some(LegacySsePaths::default()),
                ..HttpServeOptions::default()
            };
            smol::block_on(async {
                match serve_http(demo_server(SmolRuntime), addr, options).await {
                    Ok(handle) => {
                        eprintln!("server: MCP endpoint at {}", handle.url("/mcp"));
                        // Serves until the process is stopped.
                        std::future::pending::<()>().await;
                    }
                    Err(error) => {
                        eprintln!("server: cannot listen on {addr}: {error}");
                        std::process::exit(1);
                    }
                }
            });
        }
        _ => usage(),
    }
}
