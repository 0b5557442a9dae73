//! The protocol engine: the state shared by the client and server endpoints.
//!
//! So far: [`pending`], the request tables that make "every request is settled exactly once"
//! a property of the data structure rather than of careful callers.

pub mod pending;

pub use pending::{
    BeginError, InboundError, InboundRequests, OutboundRequests, Outcome, PendingLimits,
    RequestFailure, Settled, TransportFailure, TransportScope, Unmatched,
};
