//! A command-line MCP client on tokio: prints a call's JSON result, or its typed error on
//! stderr with exit status 1. The same program as `mcp-smol`'s `cli` example
//! (`mcp_async::programs::cli`).
//!
//! ```text
//! cargo run -p mcp-tokio --example cli -- --stdio 'cargo run -q -p mcp-tokio --example server -- --stdio' tools/list
//! cargo run -p mcp-tokio --example cli -- --url http://127.0.0.1:8080/mcp tools/call echo '{"message":"hi"}'
//! cargo run -p mcp-tokio --example cli -- --cacert ca.pem --url https://mcp.internal/mcp tools/list
//! ```

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = mcp_async::programs::cli::<mcp_tokio::Tokio>(
        &args,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    )
    .await;
    std::process::exit(status);
}
