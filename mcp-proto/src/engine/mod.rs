//! The protocol engine: the state shared by the client and server endpoints.
//!
//! - [`pending`]: the request tables that make "every request is settled exactly once" a
//!   property of the data structure rather than of careful callers;
//! - [`lifecycle`]: the open → closing → closed transition table;
//! - [`connection`]: one JSON-RPC conversation as a Sans-IO state machine built on both;
//! - [`server`]: the MCP server role of both eras on top of a connection.

pub mod connection;
pub mod lifecycle;
pub mod pending;
pub mod server;

pub use connection::{
    CancellationStyle, CloseReport, Connection, ConnectionConfig, Event, LocalError,
    RequestOptions, ScopePolicy, Transmit,
};
pub use lifecycle::{CloseReason, State};
pub use pending::{
    BeginError, InboundError, InboundRequest, InboundRequests, OutboundRequests, Outcome,
    PendingLimits, RequestFailure, Settled, TransportFailure, TransportScope, Unmatched,
};
pub use server::{RequestContext, ServerConfig, ServerEndpoint, ServerError, ServerEvent};
