//! A command-line MCP client on tokio: prints a call's JSON result, or its typed error on
//! stderr with exit status 1. The same program as `mcp-smol`'s `cli` example
//! (`mcp_async::programs::cli`).
//!
//! ```text
//! cargo run -p mcp-tokio --example cli -- --stdio 'cargo run -q -p mcp-tokio --example server -- --stdio' tools/list
//! cargo run -p mcp-tokio --example cli -- --url http://127.0.0.1:8080/mcp tools/call echo '{"message":"hi"}'
//! cargo run -p mcp-tokio --example cli -- --cacert ca.pem --url https://mcp.internal/mcp tools/list
//! ```
#![allow(clippy::print_stderr)]

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = tokio_runtime().block_on(mcp_async::programs::cli::<mcp_tokio::Tokio>(
        &args,
        &mut std::io::stdout(),
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
