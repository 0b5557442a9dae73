//! The demo MCP server (an `echo` tool, a `slow` tool, a resource, a template and a prompt) on
//! smol. The same program as `mcp-tokio`'s `server` example (`mcp_async::programs::server`).
//!
//! ```text
//! cargo run -p mcp-smol --example server -- --stdio
//! cargo run -p mcp-smol --example server -- --listen 127.0.0.1:8080   # MCP endpoint at /mcp
//! ```
//! With `--listen`, the deprecated HTTP+SSE endpoints are served too (`/sse`, `/messages`);
//! `--max-sessions N` and `--max-connections N` raise (or lower) the legacy sessions and the
//! connections held at once (1,024 each by default), e.g. to hold 10,000 idle sessions (raise
//! `ulimit -n` too).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = smol::block_on(mcp_async::programs::server::<mcp_smol::Smol>(
        &args,
        &mut std::io::stderr(),
    ));
    std::process::exit(status);
}
