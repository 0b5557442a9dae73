//! A client group with an unreachable member: its connection error is reported as such (not a
//! teardown error; python-sdk PR #2443, litellm #26700), the healthy members work, and
//! shutdown reports every member.

use std::time::Duration;

use mcp_async::api::{
    ClientOptions, ConnectError, GroupCallError, HttpServeOptions, Member, ServersConfig, Stack,
};
use mcp_async::demo::demo_server;
use serde_json::json;

use crate::{Harness, S, Scenario, scenario, text, within};

pub fn scenarios<H: Harness>() -> Vec<Scenario> {
    vec![scenario!(
        H,
        an_unreachable_member_keeps_its_own_error_and_the_rest_work
    )]
}

pub async fn an_unreachable_member_keeps_its_own_error_and_the_rest_work<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let runtime = S::<H>::runtime().unwrap();
        let healthy = S::<H>::serve_http(
            demo_server(runtime),
            "127.0.0.1:0".parse().unwrap(),
            HttpServeOptions::default(),
        )
        .await
        .unwrap();
        let closed = crate::http_client::closed_addr::<H>().await;
        let config: ServersConfig = serde_json::from_value(json!({
            "mcpServers": {
                "healthy": {"url": healthy.url("/mcp")},
                "down": {"url": format!("http://{closed}/mcp")}
            }
        }))
        .unwrap();
        let group = S::<H>::connect_group(config, ClientOptions::new("group", "1"))
            .await
            .unwrap();
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
        assert_eq!(text(&echoed.content), "grouped");
        let refused = group.call_tool("down__echo", json!({})).await.unwrap_err();
        assert!(
            matches!(refused, GroupCallError::NotConnected { .. }),
            "{refused:?}"
        );
        // The seed: the failed member's own error survives teardown (not replaced by one).
        let reports = group.shutdown().await;
        assert_eq!(reports.len(), 2);
        assert!(matches!(&reports[0], (name, Err(ConnectError::Transport(_))) if name == "down"));
        assert!(
            matches!(&reports[1], (name, Ok(report)) if name == "healthy" && report.close.is_some())
        );
        healthy.shutdown().await;
    })
    .await;
}
