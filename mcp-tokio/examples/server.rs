//! The demo MCP server (an `echo` tool, a `slow` tool, a resource, a template and a prompt) on
//! smol. The same program as `mcp-smol`'s `server` example (`mcp_async::programs::server`).
//!
//! ```text
//! cargo run -p mcp-tokio --example server -- --stdio
//! cargo run -p mcp-tokio --example server -- --listen 127.0.0.1:8080   # MCP endpoint at /mcp
//! ```
//! With `--listen`, the deprecated HTTP+SSE endpoints are served too (`/sse`, `/messages`).
#![allow(clippy::print_stderr)]

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = tokio_runtime().block_on(mcp_async::programs::server::<mcp_tokio::Tokio>(
        &args,
        &mut std::io::stderr(),
    ));
    std::process::exit(status);
}

/// A multi-threaded runtime with IO and timers; the program cannot run without one.
fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|error| {
            eprintln!("cannot start a tokio runtime: {error}");
            std::process::exit(1)
        })
}
