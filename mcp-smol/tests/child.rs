//! A client of a server process over its stdin/stdout, and the shutdown sequence: closing
//! stdin, then SIGTERM, then SIGKILL, each step reported.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use mcp_async::process::{ChildProcess, stop_child};
use mcp_async::runtime::BoxFuture;
use mcp_smol::proto::types::ContentBlock;
use mcp_smol::{ChildCommand, ClientOptions, ConnectError, EndedBy, SmolRuntime, connect_child};
use serde_json::json;

fn within<T>(limit: Duration, test: impl Future<Output = T>) -> T {
    smol::block_on(smol::future::or(async { Some(test.await) }, async {
        smol::Timer::after(limit).await;
        None
    }))
    .unwrap_or_else(|| panic!("the test did not finish within {limit:?}"))
}

/// The example server, which `cargo test` builds next to the test binaries.
fn example_server() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join("examples").join("server"))
        .unwrap();
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo test` (which builds the examples)",
        path.display()
    );
    path
}

#[test]
fn a_child_process_server_is_used_then_stopped_by_closing_its_stdin() {
    within(Duration::from_secs(60), async {
        let command = ChildCommand::new(example_server().display().to_string()).args(["--stdio"]);
        let client = connect_child(command, ClientOptions::new("t", "1"))
            .await
            .unwrap();
        let echoed = client
            .call_tool("echo", json!({"message": "over a pipe"}))
            .await
            .unwrap();
        let Some(ContentBlock::Text(text)) = echoed.content.first() else {
            panic!("{echoed:?}")
        };
        assert_eq!(text.text, "over a pipe");
        let report = client.shutdown().await;
        let child = report.child.unwrap();
        assert_eq!(child.ended_by, EndedBy::Exited, "{child:?}");
        assert!(child.status.unwrap().success());
        assert!(
            child.stderr_tail.contains("connection ended"),
            "stderr is drained: {:?}",
            child.stderr_tail
        );
    });
}

#[test]
fn a_command_that_is_not_a_server_fails_to_connect_with_its_own_error() {
    within(Duration::from_secs(30), async {
        let missing = connect_child(
            ChildCommand::new("/nonexistent/mcp-server"),
            ClientOptions::new("t", "1"),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&missing, ConnectError::Io(m) if m.contains("/nonexistent/mcp-server")),
            "{missing:?}"
        );
        // A process that exits at once: the handshake fails as a transport failure.
        let exits = connect_child(ChildCommand::new("true"), ClientOptions::new("t", "1"))
            .await
            .unwrap_err();
        assert!(
            matches!(&exits, ConnectError::ProcessExited(exit) if exit.status.is_some_and(|s| s.success())),
            "{exits:?}"
        );
    });
}

struct Child(smol::process::Child);

impl ChildProcess for Child {
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

fn shell(script: &str) -> Child {
    Child(
        smol::process::Command::new("sh")
            .args(["-c", script])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap(),
    )
}

#[test]
fn the_shutdown_sequence_escalates_from_stdin_to_sigterm_to_sigkill() {
    within(Duration::from_secs(30), async {
        let grace = Duration::from_millis(200);
        let mut quits = shell("exit 3");
        let (status, ended_by) = stop_child(&SmolRuntime, &mut quits, grace, grace).await;
        assert_eq!(
            (status.unwrap().code(), ended_by),
            (Some(3), EndedBy::Exited)
        );

        let mut sleeps = shell("exec sleep 30");
        let started = Instant::now();
        let (status, ended_by) = stop_child(&SmolRuntime, &mut sleeps, grace, grace).await;
        assert_eq!(ended_by, EndedBy::Terminated);
        assert!(status.unwrap().code().is_none(), "ended by a signal");
        assert!(started.elapsed() < Duration::from_secs(5));

        let mut stubborn = shell("trap '' TERM; exec sleep 30");
        let (_, ended_by) = stop_child(&SmolRuntime, &mut stubborn, grace, grace).await;
        assert_eq!(ended_by, EndedBy::Killed);
    });
}

fn example(name: &str) -> PathBuf {
    example_server().with_file_name(name)
}

#[test]
fn the_cli_example_prints_results_and_typed_errors() {
    let server = format!("{} --stdio", example_server().display());
    let output = std::process::Command::new(example("cli"))
        .args([
            "--stdio",
            &server,
            "tools/call",
            "echo",
            r#"{"message":"from the cli"}"#,
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["content"][0]["text"], "from the cli");
    let failed = std::process::Command::new(example("cli"))
        .args(["--stdio", &server, "prompts/get", "missing"])
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("unknown prompt"));
    let usage = std::process::Command::new(example("cli"))
        .arg("discover")
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn the_gateway_example_reexposes_members_and_survives_a_failing_one() {
    within(Duration::from_secs(60), async {
        let dir = std::env::temp_dir().join(format!("mcp-gateway-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("servers.json");
        std::fs::write(
            &config,
            json!({"mcpServers": {
                "demo": {"command": example_server().display().to_string(), "args": ["--stdio"]},
                "broken": {"command": "/nonexistent/server"}
            }})
            .to_string(),
        )
        .unwrap();
        let gateway = ChildCommand::new(example("gateway").display().to_string()).args([
            "--config",
            &config.display().to_string(),
            "--stdio",
        ]);
        let client = connect_child(gateway, ClientOptions::new("t", "1"))
            .await
            .unwrap();
        let tools = client.list_tools().await.unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["demo__echo", "demo__slow"]);
        let echoed = client
            .call_tool("demo__echo", json!({"message": "through the gateway"}))
            .await
            .unwrap();
        assert!(
            matches!(echoed.content.first(), Some(ContentBlock::Text(t)) if t.text == "through the gateway")
        );
        let report = client.shutdown().await;
        let child = report.child.unwrap();
        assert!(
            child.stderr_tail.contains("server broken is unavailable"),
            "{}",
            child.stderr_tail
        );
        assert!(
            child.stderr_tail.contains("/nonexistent/server"),
            "the original error is logged"
        );
        let _ = std::fs::remove_dir_all(dir);
    });
}
