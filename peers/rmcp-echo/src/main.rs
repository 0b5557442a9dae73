//! `rmcp-echo`: one tool, `echo`, on rmcp, over Streamable HTTP or stdio.
//!
//! ```text
//! rmcp-echo --http 127.0.0.1:PORT [--stateless]   # Streamable HTTP at /mcp
//! rmcp-echo --stdio
//! ```
//!
//! Over HTTP it prints `listening http://ADDR/mcp` on stdout once the socket is bound, so a
//! script can pass port 0 and read the real address.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, ServiceExt, tool, tool_handler, tool_router};

const USAGE: &str = "usage: rmcp-echo (--http ADDR:PORT [--stateless] | --stdio)";

/// The arguments of `echo`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    message: String,
}

#[derive(Debug, Clone)]
struct Echo {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Echo {
    fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
        }
    }

    /// Returns its `message` argument as text.
    #[tool(description = "Echoes the message back")]
    fn echo(&self, Parameters(EchoArgs { message }): Parameters<EchoArgs>) -> String {
        message
    }
}

// The field's router, built once per session rather than once per call.
#[tool_handler(router = self.tool_router)]
impl ServerHandler for Echo {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("rmcp-echo", env!("CARGO_PKG_VERSION")))
    }
}

enum Mode {
    Http { addr: SocketAddr, stateless: bool },
    Stdio,
}

fn parse(args: &[String]) -> Result<Mode, String> {
    let mut http = None;
    let mut stdio = false;
    let mut stateless = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--http" => {
                let value = args.next().ok_or("--http needs ADDR:PORT")?;
                http = Some(
                    value
                        .parse::<SocketAddr>()
                        .map_err(|e| format!("--http {value}: {e}"))?,
                );
            }
            "--stdio" => stdio = true,
            "--stateless" => stateless = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    match (http, stdio) {
        (Some(addr), false) => Ok(Mode::Http { addr, stateless }),
        (None, true) if !stateless => Ok(Mode::Stdio),
        _ => {
            Err("exactly one of --http ADDR:PORT or --stdio (--stateless only with --http)".into())
        }
    }
}

async fn serve_http(addr: SocketAddr, stateless: bool) -> Result<(), String> {
    // rmcp's defaults: legacy (2025-era) sessions on, 2026-07-28 requests always stateless,
    // loopback Host names only. `--stateless` turns legacy sessions off.
    let config = StreamableHttpServerConfig::default().with_legacy_session_mode(!stateless);
    let service = StreamableHttpService::new(
        || Ok(Echo::new()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening http://{bound}/mcp");
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}

async fn serve_stdio() -> Result<(), String> {
    let running = Echo::new()
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| e.to_string())?;
    running.waiting().await.map_err(|e| e.to_string())?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = match parse(&args) {
        Ok(mode) => mode,
        Err(problem) => {
            eprintln!("rmcp-echo: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let outcome = match mode {
        Mode::Http { addr, stateless } => serve_http(addr, stateless).await,
        Mode::Stdio => serve_stdio().await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            eprintln!("rmcp-echo: {problem}");
            ExitCode::FAILURE
        }
    }
}
