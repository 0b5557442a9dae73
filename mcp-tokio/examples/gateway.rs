//! A gateway on tokio: connects to every server of an `mcpServers` configuration and
//! re-exposes their tools as `<server>__<tool>`. A member that fails is logged to stderr with
//! its original error and the rest keep serving. The same program as `mcp-tokio`'s `gateway`
//! example (`mcp_async::programs::gateway`).
//!
//! ```text
//! cargo run -p mcp-tokio --example gateway -- --config servers.json --listen 127.0.0.1:8080
//! cargo run -p mcp-tokio --example gateway -- --config servers.json --stdio
//! ```
#![allow(clippy::print_stderr)]

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = tokio_runtime().block_on(mcp_async::programs::gateway::<mcp_tokio::Tokio>(
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
