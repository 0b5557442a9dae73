//! The public API every adapter re-exports (`pub use mcp_async::api::*`), listed once so
//! `mcp-smol` and `mcp-tokio` offer the same names.

pub use crate::client::{
    CallError, CallOptions, Client, ClientOptions, ConnectError, ProgressUpdate, ShutdownReport,
    Subscription, SubscriptionEvent, client_connection,
};
pub use crate::group::{Group, GroupCallError, Member, ServerEntry, ServersConfig};
pub use crate::handlers::ClientHandlers;
pub use crate::http_client::{HttpConnectError, HttpConnectOptions};
pub use crate::http_serve::{HttpServeOptions, HttpServeReport, HttpServerHandle, LegacySsePaths};
pub use crate::process::{ChildCommand, ChildExit, CommandLineError, EndedBy};
pub use crate::proxy::{NoProxy, ProxyConfig, ProxyError};
pub use crate::resource_server::{
    Principal, ResourceServerAuth, StaticTokens, TokenCheckLimits, TokenRejection, TokenValidator,
};
pub use crate::serve::ServeReport;
pub use crate::server::{
    Context, Continuation, ContinueAsTaskError, HandlerError, InputError, Server, ServerBuilder,
    TaskCreation, TaskSupport, UriTemplate, UriTemplateError,
};
pub use crate::stack::Stack;
/// TLS for `https://` URLs: rustls (re-exported) and its errors.
#[cfg(feature = "tls")]
pub use crate::tls;
/// The MCP endpoint as a tower service, for axum or hyper routers.
#[cfg(feature = "tower")]
pub use crate::tower;
pub use mcp_proto as proto;
