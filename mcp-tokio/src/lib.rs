//! # mcp-tokio
//!
//! Drives the [`mcp_proto`] Sans-IO core on tokio.
//! The transports (stdio, child process, Streamable HTTP, in-memory) arrive with the
//! protocol engine; today the crate re-exports the core so dependants can build against it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use mcp_proto as proto;
