//! A gateway on smol: connects to every server of an `mcpServers` configuration and
//! re-exposes their tools as `<server>__<tool>`. A member that fails is logged to stderr with
//! its original error and the rest keep serving. The same program as `mcp-tokio`'s `gateway`
//! example (`mcp_async::programs::gateway`).
//!
//! ```text
//! cargo run -p mcp-smol --example gateway -- --config servers.json --listen 127.0.0.1:8080
//! cargo run -p mcp-smol --example gateway -- --config servers.json --stdio
//! ```

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = smol::block_on(mcp_async::programs::gateway::<mcp_smol::Smol>(
        &args,
        &mut std::io::stderr(),
    ));
    std::process::exit(status);
}
