//! The protocol engine: the state shared by the client and server endpoints.
//!
//! - [`pending`]: the request tables that make "every request is settled exactly once" a
//!   property of the data structure rather than of careful callers;
//! - [`lifecycle`]: the open → closing → closed transition table;
//! - [`connection`]: one JSON-RPC conversation as a Sans-IO state machine built on both;
//! - [`server`]: the MCP server role of both eras on top of a connection;
//! - [`client`]: the MCP client role, with era probing and fallback, on top of a connection;
//! - [`capability`]: which capability each method needs on the other side.

pub mod capability;
pub mod client;
pub mod connection;
pub mod lifecycle;
pub mod pending;
mod result_shape;
pub mod server;

pub use client::{
    ClientConfig, ClientEndpoint, ClientError, ClientEvent, EraPolicy, HandshakeError, Negotiated,
};
pub use connection::{
    CancellationStyle, CloseReport, Connection, ConnectionConfig, Event, LocalError,
    RequestOptions, ScopePolicy, Transmit,
};
pub use lifecycle::{CloseReason, State};
pub use pending::{
    BeginError, InboundError, InboundRequest, InboundRequests, OutboundRequests, Outcome,
    PendingLimits, RequestFailure, Settled, TransportFailure, TransportScope, Unmatched,
};
pub use server::{
    ListChanged, RequestContext, RequestIdSpace, ServerConfig, ServerEndpoint, ServerError,
    ServerEvent,
};
