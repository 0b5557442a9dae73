//! The tokio adapter over real transports: in-memory, HTTP in both eras, a child process with
//! its shutdown report, and handles dropped after their runtime is gone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use mcp_async::demo::demo_server;
use mcp_tokio::proto::engine::EraPolicy;
use mcp_tokio::proto::types::Era;
use mcp_tokio::{
    ChildCommand, ClientOptions, EndedBy, HttpConnectOptions, HttpServeOptions, ProxyConfig,
    TokioRuntime, connect_child, connect_http, connect_in_memory, serve_http,
};
use serde_json::json;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Fails the test instead of hanging it.
fn within<T>(limit: Duration, test: impl Future<Output = T>) -> T {
    runtime()
        .block_on(async { tokio::time::timeout(limit, test).await })
        .unwrap_or_else(|_| panic!("the test did not finish within {limit:?}"))
}

fn demo() -> mcp_tokio::Server {
    demo_server(TokioRuntime::current().unwrap())
}

#[test]
fn in_memory_and_http_in_both_eras() {
    within(Duration::from_secs(30), async {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let server = serve_http(demo(), addr, HttpServeOptions::default())
            .await
            .unwrap();
        let url: http::Uri = server.url("/mcp").parse().unwrap();
        for (policy, era) in [
            (EraPolicy::Auto, Era::Modern),
            (EraPolicy::Legacy, Era::Legacy),
        ] {
            let options = ClientOptions::new("t", "1").era(policy);
            let client = connect_in_memory(demo(), options.clone()).await.unwrap();
            assert_eq!(client.negotiated().era, era);
            let echoed = client
                .call_tool("echo", json!({"message": "tokio"}))
                .await
                .unwrap();
            assert_eq!(
                serde_json::to_value(&echoed.content).unwrap()[0]["text"],
                "tokio"
            );
            client.shutdown().await;

            let http = HttpConnectOptions::new(url.clone()).with_proxy(ProxyConfig::none());
            let client = connect_http(http, options).await.unwrap();
            assert_eq!(client.negotiated().era, era);
            assert_eq!(client.list_tools().await.unwrap().len(), 2);
            let slow = client
                .call_tool("slow", json!({"millis": 20}))
                .await
                .unwrap();
            assert!(slow.is_error.is_none());
            client.shutdown().await;
        }
        server.shutdown().await;
    });
}

/// The smol adapter's example server, which the workspace's tests build.
fn example_server() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("debug/examples/server")
}

#[test]
fn a_child_server_is_used_and_stopped_with_a_report() {
    let server = example_server();
    if !server.exists() {
        // Built by `cargo test --workspace` (mcp-smol's examples); say so rather than pass.
        panic!(
            "{} is missing: run `cargo test --workspace`",
            server.display()
        );
    }
    within(Duration::from_secs(30), async {
        let command = ChildCommand::new(server.to_string_lossy()).args(["--stdio"]);
        let client = connect_child(command, ClientOptions::new("t", "1"))
            .await
            .unwrap();
        let tools = client.list_tools().await.unwrap();
        assert_eq!(tools.len(), 2);
        let report = client.shutdown().await;
        let child = report.child.unwrap();
        assert_eq!(child.ended_by, EndedBy::Exited, "{child:?}");
        assert!(child.status.unwrap().success());
    });
}

#[test]
fn a_missing_program_is_a_typed_error() {
    within(Duration::from_secs(10), async {
        let error = connect_child(
            ChildCommand::new("/nonexistent/mcp-server"),
            ClientOptions::new("t", "1"),
        )
        .await
        .unwrap_err();
        assert!(error.to_string().contains("cannot start"), "{error}");
    });
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
