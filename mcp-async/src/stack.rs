//! A runtime's whole MCP stack as one trait, so code is written once for every adapter.
//!
//! `mcp-smol` and `mcp-tokio` each implement [`Stack`] (`mcp_smol::Smol`,
//! `mcp_tokio::Tokio`) by supplying four runtime-specific pieces — the runtime itself, TCP
//! dialling, TCP listening and the standard streams — and get every entry point below from
//! this module. Their free functions (`mcp_smol::connect_http`…) are these methods; generic
//! code (a library that must run on either runtime, the examples, the shared test scenarios)
//! names `S: Stack` instead.
//!
//! ```
//! use mcp_async::stack::Stack;
//! use mcp_async::api::{ClientOptions, ConnectError, Server};
//!
//! /// Lists a server's tools in process, on whichever runtime `S` is.
//! async fn tool_names<S: Stack>(server: Server) -> Result<Vec<String>, ConnectError> {
//!     let client = S::connect_in_memory(server, ClientOptions::new("lister", "1.0")).await?;
//!     let tools = client.list_tools().await.map_err(|e| ConnectError::Io(e.to_string()))?;
//!     let _report = client.shutdown().await;
//!     Ok(tools.into_iter().map(|tool| tool.name).collect())
//! }
//! ```

use std::future::{Future, pending};
use std::io;
use std::net::SocketAddr;

use futures_lite::io::{AsyncRead, AsyncWrite};

use crate::client::{Client, ClientOptions, ConnectError};
use crate::entropy::os_entropy;
use crate::group::{Group, ServersConfig};
use crate::http_client::{Connector, HttpConnectOptions};
use crate::http_serve::{HttpServeOptions, HttpServerHandle, Listener, spawn_http_server};
use crate::process::{ChildCommand, Spawner};
use crate::serve::{ServeReport, serve_lines};
use crate::server::Server;

/// One runtime's MCP stack: four runtime-specific pieces, and every transport built on them.
///
/// The provided methods are what the adapters export as free functions, with the same
/// behaviour and errors: an adapter adds nothing to them.
pub trait Stack: Send + Sync + 'static {
    /// Spawns tasks, sets timers, starts child processes.
    type Runtime: Spawner;
    /// Dials TCP for the HTTP client.
    type Connector: Connector + Clone;
    /// Accepts TCP connections for the HTTP server.
    type Listener: Listener;
    /// The process's stdin, as an async stream.
    type Stdin: AsyncRead + Unpin + Send + 'static;
    /// The process's stdout, as an async stream.
    type Stdout: AsyncWrite + Unpin + Send + 'static;

    /// The runtime this code runs on.
    ///
    /// # Errors
    /// When there is none to be found (e.g. tokio's, called outside a tokio runtime).
    fn runtime() -> io::Result<Self::Runtime>;

    /// The TCP dialler.
    fn connector() -> Self::Connector;

    /// Binds a TCP listener to `addr`, returning it and the address it got.
    ///
    /// # Errors
    /// The OS's refusal (address in use, permission…), or no runtime.
    fn bind(
        addr: SocketAddr,
    ) -> impl Future<Output = io::Result<(Self::Listener, SocketAddr)>> + Send;

    /// This process's stdin and stdout.
    ///
    /// # Errors
    /// No runtime to drive them.
    fn stdio() -> io::Result<(Self::Stdin, Self::Stdout)>;

    /// Serves `server` on stdin/stdout until stdin ends. Nothing but MCP messages is written
    /// to stdout; logs go wherever `tracing` writes (stderr in the examples).
    ///
    /// # Errors
    /// No runtime (the connection's own failures are in the report).
    fn serve_stdio(server: Server) -> impl Future<Output = io::Result<ServeReport>> + Send {
        async move {
            let runtime = Self::runtime()?;
            let (stdin, stdout) = Self::stdio()?;
            Ok(serve_lines(runtime, server, stdin, stdout, pending()).await)
        }
    }

    /// Serves `server` over Streamable HTTP (both eras on one path, and the deprecated
    /// HTTP+SSE endpoints when `options.legacy_sse` is set) on `addr` until the handle is
    /// shut down or dropped.
    ///
    /// # Errors
    /// The address cannot be bound, or no runtime.
    fn serve_http(
        server: Server,
        addr: SocketAddr,
        options: HttpServeOptions,
    ) -> impl Future<Output = io::Result<HttpServerHandle>> + Send {
        async move {
            let runtime = Self::runtime()?;
            let (listener, local_addr) = Self::bind(addr).await?;
            Ok(spawn_http_server(
                &runtime, server, listener, local_addr, options, os_entropy,
            ))
        }
    }

    /// Connects to `server` in this process (no sockets).
    ///
    /// # Errors
    /// [`ConnectError`] when the handshake fails, or [`ConnectError::Io`] without a runtime.
    fn connect_in_memory(
        server: Server,
        options: ClientOptions,
    ) -> impl Future<Output = Result<Client, ConnectError>> + Send {
        async move {
            let runtime = runtime_for_client::<Self>()?;
            crate::memory::connect_in_memory(&runtime, server, options)
                .ready()
                .await
        }
    }

    /// Starts `command` and connects to it over its stdin/stdout (see
    /// [`crate::process::connect_child`] for the shutdown sequence).
    ///
    /// # Errors
    /// As [`crate::process::connect_child`], or [`ConnectError::Io`] without a runtime.
    fn connect_child(
        command: ChildCommand,
        options: ClientOptions,
    ) -> impl Future<Output = Result<Client, ConnectError>> + Send {
        async move {
            let runtime = runtime_for_client::<Self>()?;
            crate::process::connect_child(runtime, command, options).await
        }
    }

    /// Connects to the MCP server at `http.url` (`http://` or `https://`, through a proxy
    /// when configured) over Streamable HTTP, either era, falling back to HTTP+SSE per
    /// `http.legacy_sse`.
    ///
    /// # Errors
    /// As [`crate::http_client::connect_http`], or [`ConnectError::Io`] without a runtime.
    fn connect_http(
        http: HttpConnectOptions,
        options: ClientOptions,
    ) -> impl Future<Output = Result<Client, ConnectError>> + Send {
        async move {
            let runtime = runtime_for_client::<Self>()?;
            crate::http_client::connect_http(runtime, Self::connector(), http, options).await
        }
    }

    /// Connects to every server of `config` at once; a member that fails keeps its own
    /// error and the others work (see [`Group`]).
    ///
    /// # Errors
    /// No runtime (members' failures are in the group).
    fn connect_group(
        config: ServersConfig,
        options: ClientOptions,
    ) -> impl Future<Output = io::Result<Group>> + Send {
        async move {
            let runtime = Self::runtime()?;
            Ok(Group::connect_all(runtime, Self::connector(), config, options).await)
        }
    }

    /// The MCP endpoint as a tower service whose owner task runs on this runtime, to mount in
    /// an axum or hyper router: the Streamable HTTP endpoint on whatever route it is mounted
    /// at, with the checks and limits of [`Stack::serve_http`] (see [`crate::tower`] for
    /// paths, limits and lifetime). The handle's `shutdown` stops it with a report.
    ///
    /// # Errors
    /// No runtime.
    #[cfg(feature = "tower")]
    fn tower_service(
        server: Server,
        options: HttpServeOptions,
    ) -> io::Result<(crate::tower::McpService, crate::tower::McpServiceHandle)> {
        let runtime = Self::runtime()?;
        Ok(crate::tower::McpService::new(&runtime, server, options))
    }
}

fn runtime_for_client<S: Stack + ?Sized>() -> Result<S::Runtime, ConnectError> {
    S::runtime().map_err(|e| ConnectError::Io(e.to_string()))
}

/// Defines an adapter's free functions — `serve_stdio`, `serve_http`, `connect_in_memory`,
/// `connect_child`, `connect_http`, `connect_group` — as the methods of its [`Stack`], with
/// their documentation, so every adapter exports the same functions written once.
#[macro_export]
macro_rules! stack_functions {
    ($stack:ty) => {
        /// Serves `server` on stdin/stdout until stdin ends. Nothing but MCP messages is
        /// written to stdout; logs go wherever `tracing` writes (stderr in the examples).
        ///
        /// # Errors
        /// No runtime to run on (the connection's own failures are in the report).
        pub async fn serve_stdio(
            server: $crate::server::Server,
        ) -> ::std::io::Result<$crate::serve::ServeReport> {
            <$stack as $crate::stack::Stack>::serve_stdio(server).await
        }

        /// Serves `server` over HTTP on `addr` (port 0 picks a free port): the Streamable
        /// HTTP endpoint at `options.path` (both eras), and the deprecated HTTP+SSE endpoints
        /// when `options.legacy_sse` is set. Returns once listening; the server runs until
        /// [`HttpServerHandle::shutdown`] (or the handle's drop), which stops accepting and
        /// gives open exchanges `options.stop_grace`.
        ///
        /// # Errors
        /// The bind's failure, or no runtime to run on.
        pub async fn serve_http(
            server: $crate::server::Server,
            addr: ::std::net::SocketAddr,
            options: $crate::http_serve::HttpServeOptions,
        ) -> ::std::io::Result<$crate::http_serve::HttpServerHandle> {
            <$stack as $crate::stack::Stack>::serve_http(server, addr, options).await
        }

        /// Connects to `server` in this process, without sockets.
        ///
        /// # Errors
        /// [`ConnectError`] when the handshake fails, or [`ConnectError::Io`] without a
        /// runtime to run on.
        pub async fn connect_in_memory(
            server: $crate::server::Server,
            options: $crate::client::ClientOptions,
        ) -> ::std::result::Result<$crate::client::Client, $crate::client::ConnectError> {
            <$stack as $crate::stack::Stack>::connect_in_memory(server, options).await
        }

        /// Starts `command` and connects to it over its stdin/stdout; its stderr is drained
        /// continuously (logged, and its tail kept for the report). On [`Client::shutdown`]
        /// (or when the last handle is dropped) stdin is closed, then SIGTERM and SIGKILL
        /// follow after the command's graces, and the exit status is reported; the child
        /// never outlives the client.
        ///
        /// # Errors
        /// [`ConnectError::Io`] when the process cannot be started (or there is no runtime),
        /// [`ConnectError::ProcessExited`] (status and stderr tail) when it ends before the
        /// handshake, otherwise the handshake's failure.
        pub async fn connect_child(
            command: $crate::process::ChildCommand,
            options: $crate::client::ClientOptions,
        ) -> ::std::result::Result<$crate::client::Client, $crate::client::ConnectError> {
            <$stack as $crate::stack::Stack>::connect_child(command, options).await
        }

        /// Connects to the MCP server at `http.url` over Streamable HTTP (either era, falling
        /// back to HTTP+SSE per `http.legacy_sse`), with pooled keep-alive connections:
        /// `http://` or `https://` (with the `tls` feature), directly or through the proxy
        /// `http.proxy` chooses (by default the environment's: `HTTPS_PROXY`, `HTTP_PROXY`,
        /// `NO_PROXY`…).
        ///
        /// # Errors
        /// [`ConnectError`]: the transport's failure as it happened (e.g. the HTTP status and
        /// `WWW-Authenticate` of a 401), or the handshake's. A connection that cannot be
        /// opened (a refused TCP connection, a proxy's 407, a certificate that is not
        /// trusted) is [`ConnectError::Transport`] with the cause's text.
        pub async fn connect_http(
            http: $crate::http_client::HttpConnectOptions,
            options: $crate::client::ClientOptions,
        ) -> ::std::result::Result<$crate::client::Client, $crate::client::ConnectError> {
            <$stack as $crate::stack::Stack>::connect_http(http, options).await
        }

        /// Connects to every server of an `mcpServers` configuration at once (processes and
        /// URLs). A member that fails keeps its own error and the others work; see
        /// [`Group`].
        ///
        /// # Errors
        /// No runtime to run on (members' failures are in the group).
        pub async fn connect_group(
            config: $crate::group::ServersConfig,
            options: $crate::client::ClientOptions,
        ) -> ::std::io::Result<$crate::group::Group> {
            <$stack as $crate::stack::Stack>::connect_group(config, options).await
        }

        /// The MCP endpoint as a tower service whose owner task runs on this runtime, to
        /// mount in an axum or hyper router: the Streamable HTTP endpoint on whatever route
        /// it is mounted at, with the checks and limits of [`serve_http`] (see [`tower`] for
        /// paths, limits and lifetime). The handle's `shutdown` stops it with a report.
        ///
        /// # Errors
        /// No runtime to run on.
        #[cfg(feature = "tower")]
        pub fn tower_service(
            server: $crate::server::Server,
            options: $crate::http_serve::HttpServeOptions,
        ) -> ::std::io::Result<($crate::tower::McpService, $crate::tower::McpServiceHandle)> {
            <$stack as $crate::stack::Stack>::tower_service(server, options)
        }
    };
}
