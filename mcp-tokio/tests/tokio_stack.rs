//! What only the tokio adapter has to get right: handles dropped after their runtime is gone,
//! and connecting outside a runtime. Everything else it does (in-memory, HTTP in both eras, a
//! child process, a missing program…) is checked by the shared scenarios
//! (`tests/scenarios.rs`, the same ones mcp-smol runs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;

use mcp_async::demo::demo_server;
use mcp_tokio::{ClientOptions, HttpServeOptions, TokioRuntime, connect_in_memory, serve_http};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn demo() -> mcp_tokio::Server {
    demo_server(TokioRuntime::current().unwrap())
}

#[test]
fn handles_dropped_after_their_runtime_is_gone_do_not_panic() {
    let rt = runtime();
    let (client, server) = rt.block_on(async {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let server = serve_http(demo(), addr, HttpServeOptions::default())
            .await
            .unwrap();
        let client = connect_in_memory(demo(), ClientOptions::new("t", "1"))
            .await
            .unwrap();
        (client, server)
    });
    drop(rt);
    // No runtime, no reactor: dropping only closes channels.
    drop(client);
    drop(server);
}

#[test]
fn outside_a_runtime_connecting_is_an_error_not_a_panic() {
    let error = futures_lite::future::block_on(connect_in_memory(
        mcp_async::server::Server::builder("s", "1").build(),
        ClientOptions::new("t", "1"),
    ))
    .unwrap_err();
    assert!(error.to_string().contains("tokio runtime"), "{error}");
}
