//! `mcp-load`: measures MCP servers that expose an `echo` tool (`{"message": string}` answered
//! with the message as text) — ours, rmcp, the official SDKs — and serves the ceiling
//! responder they are compared with.
//!
//! - [`http`]: N closed-loop sessions over Streamable HTTP, one keep-alive HTTP/1.1
//!   connection each, in the legacy era (`initialize`, `Mcp-Session-Id`, 2025-11-25) or the
//!   modern one (2026-07-28: no handshake, `_meta` and `Mcp-Method`/`Mcp-Name` on each request).
//! - [`stdio`]: the server spawned with pipes, a window of W requests in flight.
//! - [`idle`]: N legacy sessions opened and held idle; the server's RSS before and after.
//! - [`ceiling`]: a minimal single-threaded responder (HTTP over epoll, or stdio) that parses
//!   each request for real and answers the echo: what the machine and the load tool allow.
//! - [`report`]: the records each run appends as JSON lines, and the Markdown report.
//!
//! Every reply is checked: its id, and that the text echoes the message sent (unique per
//! call); a JSON or SSE answer is accepted. Failures are counted by kind, never dropped. The
//! server's CPU time per call comes from `/proc/<pid>/stat` around the measured window.
//!
//! Sessions are opened with blocking sockets, then driven by one epoll loop per thread (mio),
//! which keeps the tool's own cost per call low; it is reported too (load-tool CPU per call).
#![forbid(unsafe_code)]

pub mod ceiling;
pub mod cli;
mod driver;
pub mod error;
pub mod hist;
pub mod http;
pub mod idle;
pub mod procfs;
pub mod report;
pub mod run;
pub mod stdio;
pub mod wire;

pub use error::LoadError;
