//! # mcp-async
//!
//! The runtime-agnostic async layer of the MCP stack, written once and shared by the
//! `mcp-smol` and `mcp-tokio` adapters: the high-level [`server::Server`] and
//! [`client::Client`] APIs and the connection drivers that run the [`mcp_proto`] Sans-IO
//! engines over `futures-io` byte streams. An adapter supplies a [`runtime::Runtime`] (spawn
//! and a timer) and its transports (stdio, processes, sockets); nothing here depends on an
//! executor, a reactor or a clock other than `Instant::now`.
//!
//! One task owns each connection: it holds the engine, the I/O, the timer and the running
//! handlers and polls them itself. Handles talk to it through bounded channels.
//!
//! The HTTP client ([`http_client`]) asks the adapter only for TCP connections; the `CONNECT`
//! tunnel through a proxy ([`proxy`]) and TLS for `https://` ([`tls`], rustls on ring) are
//! added here, over any `futures-io` stream.
//!
//! Features: `tls` (off by default here, on by default in `mcp-smol`) enables `https://`;
//! `tower` adds [`tower`], the MCP endpoint as a `tower_service::Service` to
//! mount in an axum or hyper router.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// The docs link to the TLS and tower items, which only exist with their features (docs are
// built with every feature).
#![cfg_attr(
    not(all(feature = "tls", feature = "tower")),
    allow(rustdoc::broken_intra_doc_links)
)]

pub mod api;
mod app;
mod cancel;
mod channel;
pub mod cli;
pub mod client;
pub mod demo;
mod dial;
pub mod entropy;
mod exchange;
pub mod group;
pub mod handlers;
pub mod http_client;
pub mod http_serve;
mod lines;
mod locks;
pub mod memory;
pub mod oauth;
#[cfg(feature = "tls")]
pub mod oauth_signer;
mod percent;
mod pipe;
pub mod process;
pub mod programs;
pub mod proxy;
mod read_buffer;
pub mod resource_server;
pub mod runtime;
pub mod serve;
pub mod server;
pub mod skills;
pub mod stack;
pub mod stdio_pipes;
mod tasks;
mod timer;
pub mod tls;
#[cfg(feature = "tower")]
pub mod tower;
mod uri_template;

pub use mcp_proto as proto;
