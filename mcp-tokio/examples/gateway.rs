//! A gateway on tokio: connects to every server of an `mcpServers` configuration and
//! re-exposes their tools as `<server>__<tool>`. A member that fails is logged to stderr with
//! its original error and the rest keep serving. The same program as `mcp-tokio`'s `gateway`
//! example (`mcp_async::programs::gateway`).
//!
//! ```text
//! cargo run -p mcp-tokio --example gateway -- --config servers.json --listen 127.0.0.1:8080
//! cargo run -p mcp-tokio --example gateway -- --config servers.json --stdio
//! ```

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status =
        mcp_async::programs::gateway::<mcp_tokio::Tokio>(&args, &mut std::io::stderr()).await;
    std::process::exit(status);
}
