//! A command-line MCP client on smol: prints a call's JSON result, or its typed error on
//! stderr with exit status 1. The same program as `mcp-tokio`'s `cli` example
//! (`mcp_async::programs::cli`).
//!
//! ```text
//! cargo run -p mcp-smol --example cli -- --stdio 'cargo run -q -p mcp-smol --example server -- --stdio' tools/list
//! cargo run -p mcp-smol --example cli -- --url http://127.0.0.1:8080/mcp tools/call echo '{"message":"hi"}'
//! cargo run -p mcp-smol --example cli -- --cacert ca.pem --url https://mcp.internal/mcp tools/list
//! ```

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = smol::block_on(mcp_async::programs::cli::<mcp_smol::Smol>(
        &args,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    ));
    std::process::exit(status);
}
