//! Fixtures shared by the server-role tests.

use mcp_proto::engine::{ServerConfig, ServerEndpoint};
use mcp_proto::types::{Implementation, ServerCapabilities};

/// A modern request's `_meta`: version, capabilities and a progress token.
pub(crate) const META: &str = r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"progressToken":"p"}"#;

/// A server role offering tools.
pub(crate) fn server() -> ServerEndpoint {
    let capabilities = ServerCapabilities {
        tools: Some(Default::default()),
        ..Default::default()
    };
    ServerEndpoint::new(ServerConfig::new(
        Implementation::new("s", "1"),
        capabilities,
    ))
}
