//! # mcp-tokio
//!
//! The MCP stack on tokio, with the same API as `mcp-smol`: everything that is not about the
//! runtime — the protocol engines, the drivers, the high-level [`Server`] and [`Client`] —
//! lives in `mcp-proto` and `mcp-async`; this crate supplies the runtime ([`TokioRuntime`])
//! and its sockets, processes and stdio. No smol or async-io in its dependency tree.
//!
//! - [`serve_stdio`], [`serve_http`]: servers on stdin/stdout and on a TCP listener;
//! - [`connect_child`], [`connect_http`], [`connect_in_memory`], [`connect_group`]: clients;
//! - `tower_service` (feature `tower`): the MCP endpoint as a tower service, mounted in an
//!   axum or hyper router next to other routes.
//!
//! Tasks go to the runtime that was current when the connection was made (through its
//! [`tokio::runtime::Handle`]), so dropping a handle never needs a runtime: `Drop` only
//! closes channels. The runtime needs its IO and time drivers (`enable_all`).
//!
//! ```
//! use mcp_tokio::{ClientOptions, HandlerError, Server, connect_in_memory};
//! use mcp_tokio::proto::types::{CallToolResult, Tool};
//!
//! let tool: Tool = serde_json::from_value(serde_json::json!({
//!     "name": "echo", "inputSchema": {"type": "object"}
//! })).unwrap();
//! let server = Server::builder("demo", "1.0")
//!     .tool(tool, |_ctx, args| async move {
//!         Ok::<_, HandlerError>(CallToolResult::text(serde_json::Value::Object(args).to_string()))
//!     })
//!     .build();
//! let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
//! runtime.block_on(async {
//!     let client = connect_in_memory(server, ClientOptions::new("demo-client", "1.0")).await?;
//!     let result = client.call_tool("echo", serde_json::json!({"message": "hi"})).await?;
//!     assert!(result.is_error.is_none());
//!     let report = client.shutdown().await;
//!     assert!(report.close.is_some());
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! }).unwrap();
//! ```
//!
//! ## Mounting in axum or hyper (feature `tower`)
//!
//! `tower_service` is the MCP endpoint as a `tower::Service`, next to your other routes,
//! with the same checks (Origin, Host, Accept…) and limits as [`serve_http`]:
//!
//! ```no_run
//! # #[cfg(feature = "tower")]
//! # mod example {
//! use std::future::IntoFuture;
//!
//! use axum::{Router, routing::get};
//! use mcp_tokio::{HttpServeOptions, TokioRuntime, tower_service};
//!
//! async fn ctrl_c() {
//!     let _ = tokio::signal::ctrl_c().await;
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = mcp_async::demo::demo_server(TokioRuntime::current()?);
//!     let (mcp, handle) = tower_service(server, HttpServeOptions::default())?;
//!     let app = Router::new()
//!         .route("/health", get(|| async { "ok" }))
//!         .route_service("/mcp", mcp);
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     let serving = axum::serve(listener, app).with_graceful_shutdown(ctrl_c());
//!     let serving = tokio::spawn(serving.into_future());
//!     ctrl_c().await;
//!     // axum's graceful stop waits for open responses; the MCP shutdown ends its SSE streams.
//!     let report = handle.shutdown().await;
//!     serving.await??;
//!     eprintln!("{report:?}");
//!     Ok(())
//! }
//! # }
//! # fn main() {}
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use mcp_async::http_client::Connector;
use mcp_async::http_serve::Listener;
use mcp_async::process::{ChildProcess, SpawnedChild, Spawner, std_command};
use mcp_async::runtime::{BoxFuture, Runtime};
use tokio::runtime::Handle;

pub use mcp_async::api::*;

/// The tokio runtime a connection's tasks run on.
#[derive(Debug, Clone)]
pub struct TokioRuntime {
    handle: Handle,
}

impl TokioRuntime {
    /// The runtime this is called from.
    ///
    /// # Errors
    /// Outside a tokio runtime.
    pub fn current() -> io::Result<Self> {
        Handle::try_current()
            .map(|handle| Self { handle })
            .map_err(|e| io::Error::other(format!("mcp-tokio needs a tokio runtime: {e}")))
    }

    /// The runtime behind `handle`.
    #[must_use]
    pub fn new(handle: Handle) -> Self {
        Self { handle }
    }
}

impl Runtime for TokioRuntime {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        // Detached; a runtime shutting down drops it instead of panicking.
        drop(self.handle.spawn(task));
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        let _entered = self.handle.enter();
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }
}

/// A tokio byte stream seen through the `futures-io` traits `mcp-async` drives.
#[derive(Debug)]
pub struct Compat<T>(pub T);

impl<T: tokio::io::AsyncRead + Unpin> futures_lite::io::AsyncRead for Compat<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut read = tokio::io::ReadBuf::new(buf);
        match Pin::new(&mut self.0).poll_read(cx, &mut read) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(read.filled().len())),
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> futures_lite::io::AsyncWrite for Compat<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// A child process started by [`TokioRuntime`] (killed if dropped).
#[derive(Debug)]
pub struct TokioChild(tokio::process::Child);

impl ChildProcess for TokioChild {
    fn id(&self) -> Option<u32> {
        self.0.id()
    }

    fn wait(&mut self) -> BoxFuture<'_, io::Result<ExitStatus>> {
        Box::pin(self.0.wait())
    }

    fn kill(&mut self) -> io::Result<()> {
        self.0.start_kill()
    }
}

impl Spawner for TokioRuntime {
    type Child = TokioChild;
    type Stdin = Compat<tokio::process::ChildStdin>;
    type Stdout = Compat<tokio::process::ChildStdout>;
    type Stderr = Compat<tokio::process::ChildStderr>;

    fn spawn_child(
        &self,
        command: &ChildCommand,
    ) -> io::Result<SpawnedChild<TokioChild, Self::Stdin, Self::Stdout, Self::Stderr>> {
        // Pipes register with this runtime's reactor.
        let _entered = self.handle.enter();
        let mut child = tokio::process::Command::from(std_command(command))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdin = child.stdin.take().map(Compat);
        let (stdout, stderr) = (
            child.stdout.take().map(Compat),
            child.stderr.take().map(Compat),
        );
        SpawnedChild::from_pipes(TokioChild(child), stdin, stdout, stderr)
    }
}

/// tokio's TCP listener, accepting connections for [`serve_http`].
#[derive(Debug, Clone)]
pub struct TokioTcpListener(Arc<tokio::net::TcpListener>);

impl Listener for TokioTcpListener {
    type Connection = Compat<tokio::net::TcpStream>;

    fn accept(&self) -> BoxFuture<'static, io::Result<(Self::Connection, SocketAddr)>> {
        let listener = Arc::clone(&self.0);
        Box::pin(async move {
            let (stream, peer) = listener.accept().await?;
            // Responses are written whole; Nagle would only delay them.
            let _ = stream.set_nodelay(true);
            Ok((Compat(stream), peer))
        })
    }
}

/// Opens TCP connections for the HTTP client; proxies and TLS are added on top by
/// `mcp-async`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioConnector;

impl Connector for TokioConnector {
    type Connection = Compat<tokio::net::TcpStream>;

    fn connect_tcp(
        &self,
        host: &str,
        port: u16,
    ) -> BoxFuture<'static, io::Result<Self::Connection>> {
        let host = host.to_owned();
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
            let _ = stream.set_nodelay(true);
            Ok(Compat(stream))
        })
    }
}

/// The tokio stack: [`TokioRuntime`] (the current runtime), [`TokioConnector`], tokio's TCP
/// listener and stdio. Write code once for both adapters with `S: Stack`; the free functions
/// of this crate are its methods, and fail with an error (never a panic) outside a tokio
/// runtime.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokio;

impl Stack for Tokio {
    type Runtime = TokioRuntime;
    type Connector = TokioConnector;
    type Listener = TokioTcpListener;
    /// A pipe read through the reactor (a spawned server's stdin), else tokio's stdin (a
    /// blocking thread).
    type Stdin = futures_lite::io::BoxedReader;
    /// A pipe written through the reactor, else tokio's stdout.
    type Stdout = futures_lite::io::BoxedWriter;

    fn runtime() -> io::Result<TokioRuntime> {
        TokioRuntime::current()
    }

    fn connector() -> TokioConnector {
        TokioConnector
    }

    async fn bind(addr: SocketAddr) -> io::Result<(TokioTcpListener, SocketAddr)> {
        // Binding outside a runtime would panic in tokio: check first.
        let _runtime = TokioRuntime::current()?;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        Ok((TokioTcpListener(Arc::new(listener)), local_addr))
    }

    fn stdio() -> io::Result<(Self::Stdin, Self::Stdout)> {
        let _runtime = TokioRuntime::current()?;
        Ok((stdin_stream(), stdout_stream()))
    }
}

mcp_async::stack_functions!(Tokio);

/// stdin through the reactor when it is a pipe (only pipes are made non-blocking, see
/// `mcp_async::stdio_pipes`), else tokio's stdin (a blocking thread). Needs a runtime.
fn stdin_stream() -> futures_lite::io::BoxedReader {
    #[cfg(unix)]
    if let Some(pipe) = mcp_async::stdio_pipes::stdin_pipe()
        .and_then(|file| tokio::net::unix::pipe::Receiver::from_file(file).ok())
    {
        return Box::pin(Compat(pipe));
    }
    Box::pin(Compat(tokio::io::stdin()))
}

/// stdout through the reactor when it is a pipe, else tokio's stdout. Needs a runtime.
fn stdout_stream() -> futures_lite::io::BoxedWriter {
    #[cfg(unix)]
    if let Some(pipe) = mcp_async::stdio_pipes::stdout_pipe()
        .and_then(|file| tokio::net::unix::pipe::Sender::from_file(file).ok())
    {
        return Box::pin(Compat(pipe));
    }
    Box::pin(Compat(tokio::io::stdout()))
}
