//! Client and server in one process: calls, cancellation by drop, and 2,000 connect/use/shut
//! down cycles with no leaked file descriptors, threads or memory (the seed: fastmcp #348,
//! in-memory teardown that blew up in tests).

use std::time::Duration;

use mcp_async::api::{CallError, ClientOptions, Stack};
use mcp_async::demo::{README_URI, demo_server};
use serde_json::json;

use crate::{Harness, S, Scenario, scenario, sleep, text, within};

pub fn scenarios<H: Harness>() -> Vec<Scenario> {
    vec![
        scenario!(H, a_client_uses_every_feature_of_an_in_memory_server),
        scenario!(
            H,
            a_call_times_out_with_a_typed_error_and_a_dropped_call_is_cancelled
        ),
        scenario!(H, two_thousand_in_memory_cycles_leak_nothing).exclusive(),
    ]
}

fn runtime<H: Harness>() -> <S<H> as Stack>::Runtime {
    S::<H>::runtime().expect("the adapter's runtime")
}

pub async fn a_client_uses_every_feature_of_an_in_memory_server<H: Harness>() {
    within::<H, _>(Duration::from_secs(30), async {
        let client =
            S::<H>::connect_in_memory(demo_server(runtime::<H>()), ClientOptions::new("t", "1"))
                .await
                .unwrap();
        let tools = client.list_tools().await.unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["echo", "slow"]);
        let echoed = client
            .call_tool("echo", json!({"message": "hello"}))
            .await
            .unwrap();
        assert_eq!(text(&echoed.content), "hello");
        let bad = client.call_tool("echo", json!({"nope": 1})).await.unwrap();
        assert_eq!(bad.is_error, Some(true), "bad arguments are a tool error");
        let unknown = client.call_tool("missing", json!({})).await.unwrap_err();
        assert!(matches!(unknown, CallError::Server(e) if e.code.0 == -32602));
        let resources = client.list_resources().await.unwrap();
        assert_eq!(resources[0].uri, README_URI);
        let read = client.read_resource(README_URI).await.unwrap();
        assert_eq!(read.contents.len(), 1);
        let prompts = client.list_prompts().await.unwrap();
        assert_eq!(prompts[0].name, "greet");
        let greeting = client
            .get_prompt("greet", json!({"name": "Ada"}))
            .await
            .unwrap();
        assert_eq!(greeting.messages.len(), 1);
        let report = client.shutdown().await;
        let close = report.close.unwrap();
        assert!(close.abandoned.is_empty(), "{close:?}");
    })
    .await;
}

pub async fn a_call_times_out_with_a_typed_error_and_a_dropped_call_is_cancelled<H: Harness>() {
    within::<H, _>(Duration::from_secs(30), async {
        let client =
            S::<H>::connect_in_memory(demo_server(runtime::<H>()), ClientOptions::new("t", "1"))
                .await
                .unwrap();
        let request = mcp_async::proto::types::methods::ClientRequest::parse(
            "tools/call",
            Some(
                &mcp_async::proto::jsonrpc::RawJson::from_serialize(
                    &json!({"name": "slow", "arguments": {"millis": 5000}}),
                )
                .unwrap(),
            ),
        )
        .unwrap();
        let timed_out = client
            .request(request.clone(), Some(Duration::from_millis(50)))
            .await
            .unwrap_err();
        assert!(
            matches!(
                timed_out,
                CallError::Failed(mcp_async::proto::engine::RequestFailure::TimedOut { .. })
            ),
            "{timed_out:?}"
        );
        // Dropping a call's future cancels it; the connection stays usable.
        let dropped = futures_lite::future::or(
            async {
                let _ = client.request(request, None).await;
                false
            },
            async {
                sleep::<H>(Duration::from_millis(20)).await;
                true
            },
        )
        .await;
        assert!(dropped);
        let echoed = client
            .call_tool("echo", json!({"message": "still here"}))
            .await
            .unwrap();
        assert_eq!(text(&echoed.content), "still here");
        let report = client.shutdown().await;
        assert!(report.close.unwrap().abandoned.is_empty());
    })
    .await;
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:").map(|v| v.trim().parse().ok()))
                .flatten()
        })
        .unwrap_or(0)
}

fn rss_kib() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmRSS:")
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
        })
        .unwrap_or(0)
}

pub async fn two_thousand_in_memory_cycles_leak_nothing<H: Harness>() {
    within::<H, _>(Duration::from_secs(120), async {
        let cycle = || async {
            let client = S::<H>::connect_in_memory(
                demo_server(runtime::<H>()),
                ClientOptions::new("cycle", "1"),
            )
            .await
            .unwrap();
            let echoed = client
                .call_tool("echo", json!({"message": "x"}))
                .await
                .unwrap();
            assert_eq!(text(&echoed.content), "x");
            let report = client.shutdown().await;
            assert!(report.close.is_some());
        };
        // Warm up allocators and the executor's threads before measuring.
        for _ in 0..100 {
            cycle().await;
        }
        let (fds, threads_before, rss) = (open_fds(), threads(), rss_kib());
        for _ in 0..2000 {
            cycle().await;
        }
        // Let detached server tasks observe their closed pipes.
        sleep::<H>(Duration::from_millis(100)).await;
        let (fds_after, threads_after, rss_after) = (open_fds(), threads(), rss_kib());
        eprintln!(
            "2000 cycles: fds {fds} -> {fds_after}, threads {threads_before} -> {threads_after}, \
             RSS {rss} KiB -> {rss_after} KiB"
        );
        assert!(
            fds_after <= fds,
            "file descriptors leaked: {fds} -> {fds_after}"
        );
        assert!(threads_after <= threads_before + 1, "threads leaked");
        assert!(
            rss_after <= rss + 8 * 1024,
            "memory grew by more than 8 MiB: {rss} -> {rss_after} KiB"
        );
    })
    .await;
}
