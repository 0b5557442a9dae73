//! # mcp-proto: the Sans-IO core of the MCP stack
//!
//! Everything about the Model Context Protocol that is not about sockets, processes, clocks or
//! executors lives here, as plain data transformations and state machines:
//!
//! - [`auth`]: MCP authorization for clients (OAuth 2.1): `WWW-Authenticate` parsing and
//!   encoding, PKCE, metadata discovery orders and checks, registration, scope rules, token
//!   requests, and the whole flow as the [`auth::OAuthClient`] state machine;
//! - [`jsonrpc`]: JSON-RPC 2.0 messages, a decoder that classifies every body (and tells what
//!   to answer for bad input), and a compact encoder;
//! - [`engine`]: the request tables behind the settle-exactly-once guarantee (the client and
//!   server endpoints build on them);
//! - [`framing`]: stdio line framing (bounded, resynchronising after an oversized line) and
//!   Server-Sent Events (a WHATWG-exact incremental decoder and an encoder);
//! - [`h1`]: an HTTP/1.1 codec over httparse (heads with limits, Content-Length and chunked
//!   bodies both ways, keep-alive, `Expect: 100-continue`), so adapters need no HTTP library;
//! - [`http`]: the header logic of Streamable HTTP: `Accept` negotiation (RFC 9110 §12.5.1,
//!   wildcards and q-values), the `Content-Type` check, the 2026-07-28 `Mcp-Name`/`Mcp-Param-*`
//!   value codec, and legacy `Mcp-Session-Id` values minted from caller-supplied entropy;
//! - [`streamable`]: the Streamable HTTP transport's rules as pure functions (request
//!   validation with exact statuses, answer statuses);
//! - [`types`]: the MCP types of 2026-07-28 and the legacy line (down to what negotiating
//!   2024-11-05 needs), `_meta` with its reserved keys, protocol versions and eras, and typed
//!   dispatch of every method.
//!
//! The crate performs no IO, reads no clock (time arrives as an `Instant` argument) and draws no
//! randomness (entropy arrives as bytes). The runtime adapters `mcp-smol` and `mcp-tokio` own
//! the sockets and timers and drive this crate.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod auth;
pub mod engine;
pub mod framing;
pub mod h1;
pub mod http;
pub mod jsonrpc;
mod scan;
pub mod sha256;
pub mod streamable;
pub mod types;
