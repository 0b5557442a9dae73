//! Streamable HTTP, as pure logic: what the transport decides before and after the engine.
//!
//! - [`validate`]: the checks on a POST to the MCP endpoint, each with its exact status and
//!   JSON-RPC error, and the status of the engine's answers on the modern transport;
//! - [`sessions`]: the legacy `Mcp-Session-Id` table (minting from given entropy, 400/404,
//!   idle expiry, a bounded count);
//! - [`client`]: the client side (POST per message, typed errors for every status, SSE
//!   streams, session capture and DELETE);
//! - [`event_store`]: event ids and the bounded replay buffer for resuming legacy SSE streams;
//! - [`server`]: the server side of the transport as a state machine (JSON or SSE per
//!   exchange, keep-alives, a closed stream as cancellation);
//! - [`param_headers`]: `x-mcp-header` (2026-07-28): validating a tool's annotations, the
//!   client's `Mcp-Param-*` headers and the server's check of them;
//! - [`legacy_sse`]: the deprecated HTTP+SSE transport of 2024-11-05 (a GET stream opened by
//!   an `endpoint` event, one POST per client message), server and client.

pub mod client;
pub mod event_store;
pub mod legacy_sse;
pub mod param_headers;
pub mod server;
pub mod sessions;
pub mod validate;

pub use client::{
    DEFAULT_STANDALONE_WAIT, ExchangeId, HttpClient, HttpClientConfig, HttpClientOutput,
    LegacySsePolicy,
};
pub use event_store::{EventId, EventStore, MemoryEventStore, MemoryEventStoreLimits, StoredEvent};
pub use legacy_sse::{SseClient, SseClientConfig, SseHandshakeError, SseServer, SseServerConfig};
pub use param_headers::{
    AnnotationRule, InvalidAnnotation, ParamHeader, ParamHeaderRegistry, ParamType, ToolHeaders,
    check_param_headers,
};
pub use server::{EndpointRef, EntropySource, HttpOutput, HttpServer, HttpServerConfig, StreamId};
pub use sessions::{SessionError, SessionLimits, SessionTable};
pub use validate::{
    HostPolicy, HttpPolicy, HttpReject, OriginPolicy, ValidatedPost, check_declared_length,
    check_origin_and_host, status_for_answer, validate_post,
};

/// The `Host` header for requests to `uri`: its host and port only — never the
/// `user:password@` a URL may carry, which must not travel in a header.
pub(crate) fn host_header(uri: &http::Uri) -> Option<http::HeaderValue> {
    let authority = uri.authority()?;
    let host = match authority.port_u16() {
        Some(port) => format!("{}:{port}", authority.host()),
        None => authority.host().to_owned(),
    };
    http::HeaderValue::from_str(&host).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn the_host_header_never_carries_credentials() {
        for (url, host) in [
            ("https://user:secret@example.com/mcp", "example.com"),
            ("http://user@127.0.0.1:8080/mcp", "127.0.0.1:8080"),
            ("http://[::1]:9/mcp", "[::1]:9"),
        ] {
            let uri: http::Uri = url.parse().unwrap();
            assert_eq!(super::host_header(&uri).unwrap(), host, "{url}");
        }
    }
}
