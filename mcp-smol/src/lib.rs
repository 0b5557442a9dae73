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
use std::pin::Pin;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, ready};
use std::time::Instant;

use smol::io::{AsyncRead, AsyncWrite};

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
pub struct SmolTcpListener(Arc<smol::Async<std::net::TcpListener>>);

impl Listener for SmolTcpListener {
    type Connection = SmolConnection;

    fn accept(&self) -> BoxFuture<'static, io::Result<(Self::Connection, SocketAddr)>> {
        let listener = Arc::clone(&self.0);
        Box::pin(async move {
            let (stream, peer) = listener.accept().await?;
            // Responses are written whole; Nagle would only delay them.
            let _ = stream.get_ref().set_nodelay(true);
            let connection = SmolConnection {
                stream,
                drained: false,
            };
            Ok((connection, peer))
        })
    }
}

/// A connection accepted by [`SmolTcpListener`]: a TCP stream on smol's reactor, read as tokio
/// reads. A read that did not fill its buffer emptied the socket, so the next read waits for
/// readiness before asking the socket, instead of asking at once and failing with `EAGAIN`
/// (async-io's default: two system calls more for every wait).
#[derive(Debug)]
pub struct SmolConnection {
    stream: smol::Async<std::net::TcpStream>,
    /// The last read left the socket empty.
    drained: bool,
}

impl AsyncRead for SmolConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.drained && !buf.is_empty() {
            ready!(this.stream.poll_readable(cx))?;
            this.drained = false;
        }
        let read = ready!(Pin::new(&mut this.stream).poll_read(cx, buf));
        if let Ok(n) = read {
            // 0 is the end of the stream: every later read returns at once.
            this.drained = n > 0 && n < buf.len();
        }
        Poll::Ready(read)
    }
}

impl AsyncWrite for SmolConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    /// Shuts the writing half down (the peer reads the end), as smol's `TcpStream` does
    /// (`Async`'s own `poll_close` only flushes).
    fn poll_close(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.stream).poll_flush(cx))?;
        Poll::Ready(this.stream.get_ref().shutdown(std::net::Shutdown::Write))
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
    /// A pipe read through the reactor (a spawned server's stdin), else stdin on a blocking
    /// thread.
    type Stdin = smol::io::BoxedReader;
    /// A pipe written through the reactor, else stdout on a blocking thread.
    type Stdout = smol::io::BoxedWriter;

    fn runtime() -> io::Result<SmolRuntime> {
        // smol's executor and reactor start on first use: there is always one.
        Ok(SmolRuntime)
    }

    fn connector() -> SmolConnector {
        SmolConnector
    }

    async fn bind(addr: SocketAddr) -> io::Result<(SmolTcpListener, SocketAddr)> {
        let listener = smol::Async::<std::net::TcpListener>::bind(addr)?;
        let local_addr = listener.get_ref().local_addr()?;
        Ok((SmolTcpListener(Arc::new(listener)), local_addr))
    }

    fn stdio() -> io::Result<(Self::Stdin, Self::Stdout)> {
        Ok((stdin_stream(), stdout_stream()))
    }
}

mcp_async::stack_functions!(Smol);

/// stdin through the reactor when it is a pipe (only pipes are made non-blocking, see
/// `mcp_async::stdio_pipes`), else on a blocking thread.
fn stdin_stream() -> smol::io::BoxedReader {
    #[cfg(unix)]
    if let Some(pipe) =
        mcp_async::stdio_pipes::stdin_pipe().and_then(|file| smol::Async::new(file).ok())
    {
        return Box::pin(pipe);
    }
    Box::pin(smol::Unblock::new(io::stdin()))
}

/// stdout through the reactor when it is a pipe, else on a blocking thread.
fn stdout_stream() -> smol::io::BoxedWriter {
    #[cfg(unix)]
    if let Some(pipe) =
        mcp_async::stdio_pipes::stdout_pipe().and_then(|file| smol::Async::new(file).ok())
    {
        return Box::pin(pipe);
    }
    Box::pin(smol::Unblock::new(io::stdout()))
}

#[cfg(test)]
mod tests {
    use smol::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[test]
    fn an_accepted_connection_reads_what_comes_after_a_short_read_and_closes_its_half() {
        smol::block_on(async {
            let (listener, addr) = Smol::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
            let mut client = smol::net::TcpStream::connect(addr).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 64];
            client.write_all(b"first").await.unwrap();
            assert_eq!(server.read(&mut buf).await.unwrap(), 5);
            assert!(
                server.drained,
                "a read that did not fill the buffer drained the socket"
            );
            // Written after the short read: the next read waits for it.
            let writer = smol::spawn(async move {
                smol::Timer::after(std::time::Duration::from_millis(20)).await;
                client.write_all(b"second").await.unwrap();
                client
            });
            assert_eq!(server.read(&mut buf).await.unwrap(), 6);
            assert_eq!(&buf[..6], b"second");
            let mut client = writer.await;
            server.close().await.unwrap();
            let mut rest = Vec::new();
            client.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty(), "closing shuts the writing half down");
            client.close().await.unwrap();
            assert_eq!(server.read(&mut buf).await.unwrap(), 0);
        });
    }
}
