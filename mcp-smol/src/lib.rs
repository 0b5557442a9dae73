//! # mcp-smol
//!
//! The MCP stack on smol / async-io (no tokio anywhere in the dependency tree). Everything
//! that is not about the runtime — the protocol engines, the drivers, the high-level
//! [`Server`] and [`Client`] — lives in `mcp-proto` and `mcp-async`; this crate supplies the
//! runtime ([`SmolRuntime`]) and the transports:
//!
//! - [`serve_stdio`]: a server on stdin/stdout (nothing but MCP messages on stdout);
//! - [`connect_child`]: a client of a server process, stopped on shutdown by closing its
//!   stdin, then SIGTERM, then SIGKILL, its exit status reported;
//! - [`serve_http`]: a Streamable HTTP server (both eras on one URL, optional HTTP+SSE
//!   endpoints) on a TCP listener;
//! - [`connect_http`]: a client of a Streamable HTTP server, either era, falling back to
//!   HTTP+SSE; `http://` and (with the default `tls` feature) `https://` URLs, through the
//!   proxy of `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` or one set in [`HttpConnectOptions`]
//!   ([`ProxyConfig`]), trusting extra roots or a rustls configuration of your own
//!   ([`tls`]);
//! - `tower_service` (feature `tower`): the MCP endpoint as a tower service for a hyper (or
//!   axum) router on smol;
//! - [`connect_in_memory`]: client and server in one process;
//! - [`connect_group`]: clients of many servers (an `mcpServers` configuration), each
//!   member's failure kept to itself.
//!
//! ```
//! use mcp_smol::{ClientOptions, HandlerError, Server, connect_in_memory};
//! use mcp_smol::proto::types::{CallToolResult, Tool};
//!
//! let tool: Tool = serde_json::from_value(serde_json::json!({
//!     "name": "echo", "inputSchema": {"type": "object"}
//! })).unwrap();
//! let server = Server::builder("demo", "1.0")
//!     .tool(tool, |_ctx, args| async move {
//!         Ok::<_, HandlerError>(CallToolResult::text(serde_json::Value::Object(args).to_string()))
//!     })
//!     .build();
//! smol::block_on(async {
//!     let client = connect_in_memory(server, ClientOptions::new("demo-client", "1.0")).await?;
//!     let result = client.call_tool("echo", serde_json::json!({"message": "hi"})).await?;
//!     assert!(result.is_error.is_none());
//!     let report = client.shutdown().await;
//!     assert!(report.close.is_some());
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! }).unwrap();
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::future::pending;
use std::io;
use std::process::{ExitStatus, Stdio};
use std::time::Instant;

use std::net::SocketAddr;

use mcp_async::entropy::os_entropy;
use mcp_async::http_client::Connector;
use mcp_async::http_serve::{Listener, spawn_http_server};
use mcp_async::process::{ChildProcess, SpawnedChild, Spawner, std_command};
use mcp_async::runtime::{BoxFuture, Runtime};
use mcp_async::serve::serve_lines;

pub use mcp_async::api::*;

/// The README's examples (they use this crate and the core), compiled and run as doctests so
/// they cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The smol runtime: tasks on smol's global executor, timers from async-io.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolRuntime;

impl Runtime for SmolRuntime {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        smol::spawn(task).detach();
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            smol::Timer::at(deadline).await;
        })
    }
}

/// Serves `server` on stdin/stdout until stdin ends. Logs go wherever `tracing` is set up
/// to write (stderr in the examples), never to stdout.
pub async fn serve_stdio(server: Server) -> ServeReport {
    let stdin = smol::Unblock::new(io::stdin());
    let stdout = smol::Unblock::new(io::stdout());
    serve_lines(SmolRuntime, server, stdin, stdout, pending()).await
}

/// Connects to `server` in this process.
///
/// # Errors
/// [`ConnectError`] when the handshake fails.
pub async fn connect_in_memory(
    server: Server,
    options: ClientOptions,
) -> Result<Client, ConnectError> {
    mcp_async::memory::connect_in_memory(&SmolRuntime, server, options)
        .ready()
        .await
}

/// A child process started by [`SmolRuntime`].
#[derive(Debug)]
pub struct SmolChild(smol::process::Child);

impl ChildProcess for SmolChild {
    fn id(&self) -> Option<u32> {
        Some(self.0.id())
    }

    fn wait(&mut self) -> BoxFuture<'_, io::Result<ExitStatus>> {
        Box::pin(self.0.status())
    }

    fn kill(&mut self) -> io::Result<()> {
        self.0.kill()
    }
}

impl Spawner for SmolRuntime {
    type Child = SmolChild;
    type Stdin = smol::process::ChildStdin;
    type Stdout = smol::process::ChildStdout;
    type Stderr = smol::process::ChildStderr;

    fn spawn_child(
        &self,
        command: &ChildCommand,
    ) -> io::Result<SpawnedChild<SmolChild, Self::Stdin, Self::Stdout, Self::Stderr>> {
        let mut child = smol::process::Command::from(std_command(command))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let (stdin, stdout, stderr) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take());
        SpawnedChild::from_pipes(SmolChild(child), stdin, stdout, stderr)
    }
}

/// Starts `command` and connects to it over its stdin/stdout; its stderr is drained
/// continuously (logged, and its tail kept for the report). On [`Client::shutdown`] (or when
/// the last handle is dropped) stdin is closed, then SIGTERM and SIGKILL follow after the
/// command's graces; the child never outlives the client.
///
/// # Errors
/// [`ConnectError::Io`] when the process cannot be started, or the handshake's failure.
pub async fn connect_child(
    command: ChildCommand,
    options: ClientOptions,
) -> Result<Client, ConnectError> {
    mcp_async::process::connect_child(SmolRuntime, command, options).await
}

/// A TCP listener for [`serve_http`].
#[derive(Debug, Clone)]
struct SmolTcpListener(smol::net::TcpListener);

impl Listener for SmolTcpListener {
    type Connection = smol::net::TcpStream;

    fn accept(&self) -> BoxFuture<'static, io::Result<(Self::Connection, SocketAddr)>> {
        let listener = self.0.clone();
        Box::pin(async move {
            let (stream, peer) = listener.accept().await?;
            // Responses are written whole; Nagle would only delay them.
            let _ = stream.set_nodelay(true);
            Ok((stream, peer))
        })
    }
}

/// Serves `server` over HTTP on `addr` (port 0 picks a free port): the Streamable HTTP
/// endpoint at `options.path` (both eras), and the HTTP+SSE endpoints when
/// `options.legacy_sse` is set. Returns once listening; the server runs on smol's executor
/// until [`HttpServerHandle::shutdown`] (or the handle's drop).
///
/// # Errors
/// The bind's failure.
pub async fn serve_http(
    server: Server,
    addr: SocketAddr,
    options: HttpServeOptions,
) -> io::Result<HttpServerHandle> {
    let listener = smol::net::TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    Ok(spawn_http_server(
        &SmolRuntime,
        server,
        SmolTcpListener(listener),
        local_addr,
        options,
        os_entropy,
    ))
}

/// The MCP endpoint as a tower service whose owner task runs on smol's executor, to mount in a
/// hyper (or axum) router: the Streamable HTTP endpoint on whatever route it is mounted at,
/// with the checks and limits of [`serve_http`] (see [`tower`] for paths, limits and
/// lifetime). The handle's [`shutdown`](tower::McpServiceHandle::shutdown) stops it with a
/// report.
#[cfg(feature = "tower")]
#[must_use]
pub fn tower_service(
    server: Server,
    options: HttpServeOptions,
) -> (tower::McpService, tower::McpServiceHandle) {
    tower::McpService::new(&SmolRuntime, server, options)
}

/// Opens TCP connections for the HTTP client; proxies and TLS are added on top by
/// `mcp-async`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolConnector;

impl Connector for SmolConnector {
    type Connection = smol::net::TcpStream;

    fn connect_tcp(
        &self,
        host: &str,
        port: u16,
    ) -> BoxFuture<'static, io::Result<Self::Connection>> {
        let host = host.to_owned();
        Box::pin(async move {
            let stream = smol::net::TcpStream::connect((host.as_str(), port)).await?;
            let _ = stream.set_nodelay(true);
            Ok(stream)
        })
    }
}

/// Connects to the MCP server at `http.url` over Streamable HTTP (either era, falling back to
/// HTTP+SSE per `http.legacy_sse`), with pooled keep-alive connections: `http://` or
/// `https://` (with the `tls` feature), directly or through the proxy `http.proxy` chooses
/// (by default the environment's: `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`…).
///
/// # Errors
/// [`ConnectError`]: the transport's failure as it happened (e.g. the HTTP status and
/// `WWW-Authenticate` of a 401), or the handshake's. A connection that cannot be opened (a
/// refused TCP connection, a proxy's 407, a certificate that is not trusted) is
/// [`ConnectError::Transport`] with the cause's text, e.g. `… TLS handshake with example.com
/// failed: invalid peer certificate: UnknownIssuer`.
pub async fn connect_http(
    http: HttpConnectOptions,
    options: ClientOptions,
) -> Result<Client, ConnectError> {
    mcp_async::http_client::connect_http(SmolRuntime, SmolConnector, http, options).await
}

/// Connects to every server of an `mcpServers` configuration at once (processes and URLs).
/// A member that fails keeps its own error and the others work; see [`Group`].
pub async fn connect_group(config: ServersConfig, options: ClientOptions) -> Group {
    Group::connect_all(SmolRuntime, SmolConnector, config, options).await
}
