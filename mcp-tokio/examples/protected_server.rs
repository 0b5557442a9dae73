//! The protected demo server on tokio: an MCP server that is an OAuth 2.1 resource server
//! (bearer tokens checked before the engine, RFC 9728 metadata, per-tool scopes). The same
//! program as `mcp-smol`'s `protected_server` example
//! (`mcp_async::programs::protected_server`).
//!
//! ```text
//! cargo run -p mcp-tokio --example protected_server -- --listen 127.0.0.1:8080 \
//!     --authorization-server https://auth.example.com --token s3cret:notes:write
//! ```

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status =
        mcp_async::programs::protected_server::<mcp_tokio::Tokio>(&args, &mut std::io::stderr())
            .await;
    std::process::exit(status);
}
