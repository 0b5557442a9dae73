//! An MCP client for servers that require OAuth 2.1, on smol: the authorization code flow with
//! PKCE through a loopback redirect listener (the URL to open is printed on stderr), then a
//! tool listing or call. The same program as `mcp-tokio`'s `oauth_client` example
//! (`mcp_async::programs::oauth_client`).
//!
//! ```text
//! cargo run -p mcp-smol --example oauth_client -- https://mcp.example.com/mcp
//! cargo run -p mcp-smol --example oauth_client -- --port 8765 https://mcp.example.com/mcp echo '{"message":"hi"}'
//! ```

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = smol::block_on(mcp_async::programs::oauth_client::<mcp_smol::Smol>(
        &args,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    ));
    std::process::exit(status);
}
