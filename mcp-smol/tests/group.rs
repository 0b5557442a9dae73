//! A client group with an unreachable member: its connection error is reported as such (not a
//! teardown error; python-sdk PR #2443, litellm #26700), the healthy members work, and
//! shutdown reports every member.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::time::Duration;

use mcp_async::demo::demo_server;
use mcp_smol::{
    ClientOptions, ConnectError, GroupCallError, HttpServeOptions, Member, ServersConfig,
    SmolRuntime, connect_group, serve_http,
};
use serde_json::json;

fn within<T>(limit: Duration, test: impl Future<Output = T>) -> T {
    smol::block_on(smol::future::or(async { Some(test.await) }, async {
        smol::Timer::after(limit).await;
        None
    }))
    .unwrap_or_else(|| panic!("the test did not finish within {limit:?}"))
}

#[test]
fn an_unreachable_member_keeps_its_own_error_and_the_rest_work() {
    within(Duration::from_secs(60), async {
        let healthy = serve_http(
            demo_server(SmolRuntime),
            "127.0.0.1:0".parse().unwrap(),
            HttpServeOptions::default(),
        )
        .await
        .unwrap();
        let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config: ServersConfig = serde_json::from_value(json!({
            "mcpServers": {
                "healthy": {"url": healthy.url("/mcp")},
                "down": {"url": format!("http://127.0.0.1:{closed_port}/mcp")}
            }
        }))
        .unwrap();
        let group = connect_group(config, ClientOptions::new("group", "1")).await.unwrap();
        let Member::Failed(error) = &group.members()["down"] else {
            panic!("the unreachable member connected")
        };
        assert!(
            matches!(error, ConnectError::Transport(_)) && error.to_string().contains("refused"),
            "its own connection error: {error}"
        );
        let (tools, failures) = group.list_tools().await;
        assert!(failures.is_empty());
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["healthy__echo", "healthy__slow"]);
        let echoed = group
            .call_tool("healthy__echo", json!({"message": "grouped"}))
            .await
            .unwrap();
        assert!(echoed.is_error.is_none());
        let refused = group.call_tool("down__echo", json!({})).await.unwrap_err();
        assert!(
            matches!(refused, GroupCallError::NotConnected { .. }),
            "{refused:?}"
        );
        let reports = group.shutdown().await;
        assert_eq!(reports.len(), 2);
        assert!(matches!(&reports[0], (name, Err(ConnectError::Transport(_))) if name == "down"));
        assert!(
            matches!(&reports[1], (name, Ok(report)) if name == "healthy" && report.close.is_some())
        );
        healthy.shutdown().await;
    });
}
