//! The demo MCP server mounted in an axum router, next to an ordinary route.
//!
//! ```text
//! cargo run -p mcp-tokio --features tower --example axum -- --listen 127.0.0.1:8080
//! curl http://127.0.0.1:8080/health                 # ok
//! cargo run -p mcp-smol --example cli -- --url http://127.0.0.1:8080/mcp tools/list
//! ```
//! Ctrl-C stops both gracefully: axum stops accepting while the MCP service ends its open
//! streams; the service's report goes to stderr.
#![allow(clippy::print_stderr)]

use std::future::IntoFuture;
use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use mcp_async::demo::demo_server;
use mcp_tokio::{HttpServeOptions, TokioRuntime, tower_service};

fn usage() -> ! {
    eprintln!("usage: axum --listen ADDR:PORT");
    std::process::exit(2);
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["--listen", addr] => addr.parse::<SocketAddr>().unwrap_or_else(|_| usage()),
        _ => usage(),
    };
    if let Err(error) = serve(addr).await {
        eprintln!("axum: {error}");
        std::process::exit(1);
    }
}

async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let server = demo_server(TokioRuntime::current()?);
    let (mcp, handle) = tower_service(server, HttpServeOptions::default())?;
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route_service("/mcp", mcp);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!(
        "axum: MCP endpoint at http://{}/mcp",
        listener.local_addr()?
    );
    let serving = axum::serve(listener, app).with_graceful_shutdown(ctrl_c());
    let serving = tokio::spawn(serving.into_future());
    ctrl_c().await;
    // axum's graceful stop waits for every response to end, SSE streams included: the MCP
    // service ends them (after its stop grace at the most) while axum stops accepting.
    let report = handle.shutdown().await;
    eprintln!("axum: MCP service stopped: {report:?}");
    serving.await.map_err(std::io::Error::other)?
}

async fn ctrl_c() {
    // Without a signal handler there is nothing to wait for: serve until killed.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
