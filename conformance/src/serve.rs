//! `conformance server`: the fixture on one runtime, over Streamable HTTP or stdio, with one
//! code path for every [`Stack`].

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use mcp_async::http_serve::{HttpServeOptions, HttpServerHandle};
use mcp_async::stack::Stack;

use crate::fixture::fixture_server;

/// The runtimes the fixture runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum RuntimeKind {
    Smol,
    Tokio,
}

impl RuntimeKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Smol => "smol",
            Self::Tokio => "tokio",
        }
    }
}

impl fmt::Display for RuntimeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RuntimeKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "smol" => Ok(Self::Smol),
            "tokio" => Ok(Self::Tokio),
            other => Err(format!("unknown runtime {other:?} (smol or tokio)")),
        }
    }
}

/// Where the fixture is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Listen(SocketAddr),
    Stdio,
}

/// The MCP endpoint's path.
pub(crate) const MCP_PATH: &str = "/mcp";

/// Starts the fixture over HTTP on `addr` on `S`'s runtime (call from inside it).
pub(crate) async fn start_http<S: Stack>(addr: SocketAddr) -> Result<HttpServerHandle, String> {
    let runtime = S::runtime().map_err(|e| e.to_string())?;
    let server = fixture_server(runtime).map_err(|e| e.to_string())?;
    let options = HttpServeOptions {
        path: MCP_PATH.into(),
        ..HttpServeOptions::default()
    };
    S::serve_http(server, addr, options)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))
}

/// Serves the fixture until the process is stopped (HTTP) or stdin ends (stdio).
pub(crate) async fn serve<S: Stack>(transport: Transport) -> Result<(), String> {
    match transport {
        Transport::Listen(addr) => {
            let handle = start_http::<S>(addr).await?;
            println!("listening {}", handle.url(MCP_PATH));
            std::future::pending::<()>().await;
            Ok(())
        }
        Transport::Stdio => {
            let runtime = S::runtime().map_err(|e| e.to_string())?;
            let server = fixture_server(runtime).map_err(|e| e.to_string())?;
            let report = S::serve_stdio(server).await.map_err(|e| e.to_string())?;
            eprintln!("conformance server: stdin ended: {:?}", report.close.reason);
            Ok(())
        }
    }
}

/// Runs `future` to completion on `runtime` (a fresh tokio runtime, or smol's executor).
pub(crate) fn block_on<T: Send + 'static>(
    runtime: RuntimeKind,
    future: impl Future<Output = T> + Send + 'static,
) -> Result<T, String> {
    match runtime {
        RuntimeKind::Smol => Ok(smol::block_on(future)),
        RuntimeKind::Tokio => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(future))
            .map_err(|e| format!("cannot start a tokio runtime: {e}")),
    }
}

/// `conformance server --runtime R (--listen ADDR | --stdio)`.
pub(crate) fn server_command(args: &[String]) -> Result<(), String> {
    let mut runtime = None;
    let mut transport = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runtime" => {
                let value = args.next().ok_or("--runtime needs a value")?;
                runtime = Some(value.parse::<RuntimeKind>()?);
            }
            "--listen" => {
                let value = args.next().ok_or("--listen needs ADDR:PORT")?;
                let addr = value
                    .parse::<SocketAddr>()
                    .map_err(|e| format!("--listen {value}: {e}"))?;
                transport = Some(Transport::Listen(addr));
            }
            "--stdio" => transport = Some(Transport::Stdio),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    let runtime = runtime.unwrap_or(RuntimeKind::Smol);
    let transport = transport.ok_or("--listen ADDR:PORT or --stdio is required")?;
    match runtime {
        RuntimeKind::Smol => block_on(runtime, serve::<mcp_smol::Smol>(transport))?,
        RuntimeKind::Tokio => block_on(runtime, serve::<mcp_tokio::Tokio>(transport))?,
    }
}
