//! A client of a server process over its stdin/stdout, and the shutdown sequence: closing
//! stdin, then SIGTERM, then SIGKILL, each step reported. The example programs `cli` and
//! `gateway` run as processes on the adapter under test (this test binary in
//! [`crate::PROGRAM_ENV`] mode). Unix: `sh`, `env`, `true` and signals.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use futures_lite::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use mcp_async::api::{ChildCommand, ClientOptions, ConnectError, EndedBy, Stack};
use mcp_async::process::{ChildProcess, SpawnedChild, Spawner, stop_child};
use serde_json::json;

use crate::{Harness, S, Scenario, program, scenario, stdio_server, text, within};

pub fn scenarios<H: Harness>() -> Vec<Scenario> {
    vec![
        scenario!(
            H,
            a_child_process_server_is_used_then_stopped_by_closing_its_stdin
        ),
        scenario!(
            H,
            a_command_that_is_not_a_server_fails_to_connect_with_its_own_error
        ),
        scenario!(
            H,
            the_shutdown_sequence_escalates_from_stdin_to_sigterm_to_sigkill
        ),
        scenario!(H, the_cli_example_prints_results_and_typed_errors),
        scenario!(
            H,
            the_gateway_example_reexposes_members_and_survives_a_failing_one
        ),
    ]
}

fn runtime<H: Harness>() -> <S<H> as Stack>::Runtime {
    S::<H>::runtime().expect("the adapter's runtime")
}

pub async fn a_child_process_server_is_used_then_stopped_by_closing_its_stdin<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        // The example server program (not the bare `stdio_server`): it logs "connection
        // ended" to stderr when its stdin closes, which shows stderr is drained and kept.
        let mut command = program("server").args(["--stdio"]);
        // Plenty of time to notice the closed stdin however busy the machine is: exiting on
        // it is what is checked, not how fast.
        command.stdin_grace = Duration::from_secs(30);
        let client = S::<H>::connect_child(command, ClientOptions::new("t", "1"))
            .await
            .unwrap();
        let echoed = client
            .call_tool("echo", json!({"message": "over a pipe"}))
            .await
            .unwrap();
        assert_eq!(text(&echoed.content), "over a pipe");
        let report = client.shutdown().await;
        let child = report.child.unwrap();
        assert_eq!(child.ended_by, EndedBy::Exited, "{child:?}");
        assert!(child.status.unwrap().success());
        assert!(
            child.stderr_tail.contains("connection ended"),
            "stderr is drained: {:?}",
            child.stderr_tail
        );
    })
    .await;
}

pub async fn a_command_that_is_not_a_server_fails_to_connect_with_its_own_error<H: Harness>() {
    within::<H, _>(Duration::from_secs(30), async {
        let missing = S::<H>::connect_child(
            ChildCommand::new("/nonexistent/mcp-server"),
            ClientOptions::new("t", "1"),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&missing, ConnectError::Io(m)
                if m.contains("cannot start") && m.contains("/nonexistent/mcp-server")),
            "{missing:?}"
        );
        // A process that exits at once: the handshake fails as a transport failure.
        let exits = S::<H>::connect_child(ChildCommand::new("true"), ClientOptions::new("t", "1"))
            .await
            .unwrap_err();
        assert!(
            matches!(&exits, ConnectError::ProcessExited(exit) if exit.status.is_some_and(|s| s.success())),
            "{exits:?}"
        );
    })
    .await;
}

/// The adapter's process runtime.
type Spawning<H> = <S<H> as Stack>::Runtime;
/// A process started by `H`'s runtime, with its three pipes.
type Spawned<H> = SpawnedChild<
    <Spawning<H> as Spawner>::Child,
    <Spawning<H> as Spawner>::Stdin,
    <Spawning<H> as Spawner>::Stdout,
    <Spawning<H> as Spawner>::Stderr,
>;

/// `sh -c script`, started by the adapter's runtime (with its three pipes).
fn shell<H: Harness>(script: &str) -> Spawned<H> {
    runtime::<H>()
        .spawn_child(&ChildCommand::new("sh").args(["-c", script]))
        .unwrap()
}

pub async fn the_shutdown_sequence_escalates_from_stdin_to_sigterm_to_sigkill<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let runtime = runtime::<H>();
        // The graces a step must not reach are short; those it must not run out are long
        // (a child that ends returns at once), so the outcome never depends on speed.
        let (short, long) = (Duration::from_millis(100), Duration::from_secs(30));

        // Exits when its stdin closes.
        let quits = shell::<H>("read line; exit 3");
        let mut child = quits.child;
        drop(quits.stdin);
        let (status, ended_by) = stop_child(&runtime, &mut child, long, long).await;
        assert_eq!(
            (status.unwrap().code(), ended_by),
            (Some(3), EndedBy::Exited)
        );

        // Ignores its stdin; SIGTERM ends it.
        let mut sleeps = shell::<H>("exec sleep 3600");
        let (status, ended_by) = stop_child(&runtime, &mut sleeps.child, short, long).await;
        assert_eq!(ended_by, EndedBy::Terminated);
        assert_eq!(status.unwrap().signal(), Some(15), "ended by SIGTERM");

        // Ignores SIGTERM too (once it says so: the trap is set); SIGKILL ends it.
        let stubborn = shell::<H>("trap '' TERM; echo ready; exec sleep 3600");
        let mut child = stubborn.child;
        let mut ready = String::new();
        BufReader::new(stubborn.stdout)
            .read_line(&mut ready)
            .await
            .unwrap();
        assert_eq!(ready, "ready\n");
        let (status, ended_by) = stop_child(&runtime, &mut child, short, short).await;
        assert_eq!(ended_by, EndedBy::Killed);
        assert_eq!(status.unwrap().signal(), Some(9), "ended by SIGKILL");
    })
    .await;
}

/// `command` as one command line (for the cli's `--stdio`), its environment set by `env`.
fn command_line(command: &ChildCommand) -> String {
    let quote = |word: &str| format!("'{}'", word.replace('\'', r"'\''"));
    let mut words: Vec<String> = Vec::new();
    if !command.env.is_empty() {
        words.push("env".to_owned());
        words.extend(command.env.iter().map(|(k, v)| quote(&format!("{k}={v}"))));
    }
    words.push(quote(&command.program));
    words.extend(command.args.iter().map(|arg| quote(arg)));
    words.join(" ")
}

/// Runs `command` with an empty stdin to its end: its status, stdout and stderr.
async fn output<H: Harness>(command: &ChildCommand) -> (ExitStatus, String, String) {
    let SpawnedChild {
        mut child,
        stdin,
        mut stdout,
        mut stderr,
    } = runtime::<H>().spawn_child(command).unwrap();
    drop(stdin);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let (read_out, read_err) =
        futures_lite::future::zip(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err)).await;
    read_out.unwrap();
    read_err.unwrap();
    let status = child.wait().await.unwrap();
    let lossy = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (status, lossy(&out), lossy(&err))
}

pub async fn the_cli_example_prints_results_and_typed_errors<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let server = command_line(&stdio_server());
        let cli = |args: &[&str]| program("cli").args(args.iter().copied());
        let (status, stdout, stderr) = output::<H>(&cli(&[
            "--stdio",
            &server,
            "tools/call",
            "echo",
            r#"{"message":"from the cli"}"#,
        ]))
        .await;
        assert!(status.success(), "{status:?}: {stderr}");
        let printed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(printed["content"][0]["text"], "from the cli");
        let (status, _, stderr) =
            output::<H>(&cli(&["--stdio", &server, "prompts/get", "missing"])).await;
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("unknown prompt"), "{stderr}");
        let (usage, _, _) = output::<H>(&cli(&["discover"])).await;
        assert_eq!(usage.code(), Some(2));
    })
    .await;
}

pub async fn the_gateway_example_reexposes_members_and_survives_a_failing_one<H: Harness>() {
    within::<H, _>(Duration::from_secs(60), async {
        let dir = std::env::temp_dir().join(format!(
            "mcp-gateway-scenario-{}-{}",
            H::NAME,
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("servers.json");
        let demo = stdio_server();
        std::fs::write(
            &config,
            json!({"mcpServers": {
                "demo": {"command": demo.program, "args": demo.args, "env": demo.env},
                "broken": {"command": "/nonexistent/server"}
            }})
            .to_string(),
        )
        .unwrap();
        let gateway =
            program("gateway").args(["--config", &config.display().to_string(), "--stdio"]);
        let client = S::<H>::connect_child(gateway, ClientOptions::new("t", "1"))
            .await
            .unwrap();
        let tools = client.list_tools().await.unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["demo__echo", "demo__slow"]);
        let echoed = client
            .call_tool("demo__echo", json!({"message": "through the gateway"}))
            .await
            .unwrap();
        assert_eq!(text(&echoed.content), "through the gateway");
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
    })
    .await;
}
