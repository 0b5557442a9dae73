//! The demo MCP server (an `echo` tool, a `slow` tool, a resource and a prompt) on smol.
//!
//! ```text
//! cargo run -p mcp-smol --example server -- --stdio
//! ```
#![allow(clippy::print_stderr)]

use mcp_async::demo::demo_server;
use mcp_smol::{SmolRuntime, serve_stdio};

fn main() {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("--stdio") => {
            let report = smol::block_on(serve_stdio(demo_server(SmolRuntime)));
            eprintln!("server: connection ended: {:?}", report.close.reason);
        }
        _ => {
            eprintln!("usage: server --stdio");
            std::process::exit(2);
        }
    }
}
