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

use std::io;
use std::net::SocketAddr;
use std::process::{ExitStatus, Stdio};
use std::time::Instant;

use mcp_async::http_client::Connector;
use mcp_async::http_serve::Listener;
use mcp_async::process::{ChildProcess, SpawnedChild, Spawner, std_command};
use mcp_async::runtime::{BoxFuture, Runtime};

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

/// smol's TCP listener, accepting connections for [`serve_http`].
#[derive(Debug, Clone)]
pub struct SmolTcpListener(smol::net::TcpListener);

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

/// The smol stack: [`SmolRuntime`], [`SmolConnector`], smol's TCP listener and stdio. Write
/// code once for both adapters with `S: Stack`; the free functions of this crate are its
/// methods.
#[derive(Debug, Clone, Copy, Default)]
pub struct Smol;

impl Stack for Smol {
    type Runtime = SmolRuntime;
    type Connector = SmolConnector;
    type Listener = SmolTcpListener;
    type Stdin = smol::Unblock<io::Stdin>;
    type Stdout = smol::Unblock<io::Stdout>;

    fn runtime() -> io::Result<SmolRuntime> {
        // smol's executor and reactor start on first use: there is always one.
        Ok(SmolRuntime)
    }

    fn connector() -> SmolConnector {
        SmolConnector
    }

    async fn bind(addr: SocketAddr) -> io::Result<(SmolTcpListener, SocketAddr)> {
        let listener = smol::net::TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        Ok((SmolTcpListener(listener), local_addr))
    }

    fn stdio() -> io::Result<(Self::Stdin, Self::Stdout)> {
        Ok((
            smol::Unblock::new(io::stdin()),
            smol::Unblock::new(io::stdout()),
        ))
    }
}

mcp_async::stack_functions!(Smol);
