//! Interoperability with the official SDKs: the Python `mcp` package and the TypeScript
//! `@modelcontextprotocol/sdk`, in all four directions (our client against their servers,
//! their clients against our server) over stdio and over Streamable HTTP. "Our server" is the
//! adapter under test: its stdio demo server is the test binary itself ([`stdio_server`]),
//! its HTTP one runs in this process.
//!
//! The peers are the small programs in `interop/`; `scripts/install-interop.sh` installs the
//! SDKs and writes the interpreters' paths into `<dir>/env`, where `<dir>` is
//! `$MCP_INTEROP_DIR`, by default `interop/` in the cargo target directory (`CARGO_TARGET_DIR`
//! when set, else `<workspace>/target`). The scenarios read `$MCP_INTEROP_DIR/env` when it is
//! set, otherwise the first `interop/env` found in `$CARGO_TARGET_DIR`, in the target
//! directory this test binary was built in, or in `<workspace>/target`. Without that file they
//! fail; `MCP_INTEROP=off` skips them.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use mcp_async::api::{
    ChildCommand, Client, ClientOptions, EndedBy, HttpConnectOptions, HttpServeOptions,
    HttpServerHandle, LegacySsePaths, Stack,
};
use mcp_async::demo::{README_URI, demo_server};
use mcp_async::http_client::Connector;
use mcp_async::proto::engine::EraPolicy;
use mcp_async::proto::types::{ContentBlock, Era, ResourceContents};
use serde_json::{Value, json};

use crate::{Harness, S, Scenario, scenario, sleep, stdio_server, within};

pub fn scenarios<H: Harness>() -> Vec<Scenario> {
    vec![
        scenario!(H, our_client_and_the_python_server_over_stdio),
        scenario!(H, our_client_and_the_python_server_over_http),
        scenario!(H, our_client_and_the_python_v1_server_over_stdio),
        scenario!(H, our_client_and_the_python_v1_server_over_http),
        scenario!(H, our_client_and_the_typescript_server_over_stdio),
        scenario!(H, our_client_and_the_typescript_server_over_http),
        scenario!(H, the_python_client_and_our_server_over_stdio),
        scenario!(H, the_python_client_and_our_server_over_http),
        scenario!(H, the_typescript_client_and_our_server_over_stdio),
        scenario!(H, the_typescript_client_and_our_server_over_http),
    ]
}

/// Each scenario's bound: peers start interpreters (a second or two each) on a shared machine.
const LIMIT: Duration = Duration::from_secs(120);

/// How long a peer server may take to exit after its stdin is closed before it is sent
/// SIGTERM (and the scenario fails).
const STDIN_GRACE: Duration = Duration::from_secs(30);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn peer_script(name: &str) -> String {
    workspace().join("interop").join(name).display().to_string()
}

/// An interpreter the install script set up, with what its peers need in their environment.
struct Interpreter {
    program: String,
    /// `PYTHONPATH` or `NODE_PATH`, when set (passed on to what the peers start in turn).
    env: Vec<(String, String)>,
}

/// The interpreters of the official SDKs.
struct Sdks {
    /// The Python SDK 2.x (both eras).
    python: Interpreter,
    /// The Python SDK 1.x (the legacy line only).
    python_v1: Interpreter,
    /// Node with the TypeScript SDK.
    node: Interpreter,
}

/// Where the install script may have put the peers, in the order they are looked for:
/// `$MCP_INTEROP_DIR` alone when set; otherwise `interop/` in `$CARGO_TARGET_DIR` (when it is
/// an absolute path: cargo passes its environment on to the tests), in the target directory
/// this binary was built in (`<target>/<profile>/deps/<binary>`, wherever cargo was told to
/// build), then in `<workspace>/target`.
fn interop_dirs() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os("MCP_INTEROP_DIR") {
        return vec![PathBuf::from(dir)];
    }
    let from_env = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute());
    let built_in = std::env::current_exe().ok().and_then(|exe| {
        let deps = exe.parent().filter(|dir| dir.ends_with("deps"))?;
        Some(deps.parent()?.parent()?.to_path_buf())
    });
    let mut dirs: Vec<PathBuf> = Vec::new();
    for target in [from_env, built_in, Some(workspace().join("target"))]
        .into_iter()
        .flatten()
    {
        let dir = target.join("interop");
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

/// The SDKs, or `None` when `MCP_INTEROP=off` asks to skip. Fails when they are not installed.
fn sdks() -> Option<Sdks> {
    if std::env::var("MCP_INTEROP").is_ok_and(|v| v.eq_ignore_ascii_case("off")) {
        println!("interop: skipped (MCP_INTEROP=off)");
        return None;
    }
    let files: Vec<PathBuf> = interop_dirs()
        .into_iter()
        .map(|dir| dir.join("env"))
        .collect();
    let Some((file, text)) = files
        .iter()
        .find_map(|file| Some((file, std::fs::read_to_string(file).ok()?)))
    else {
        let tried: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        panic!(
            "none of {} exists. The interop scenarios need the official Python and TypeScript \
             SDKs: run scripts/install-interop.sh first (with the same CARGO_TARGET_DIR, or \
             MCP_INTEROP_DIR, as the tests), or set MCP_INTEROP=off to skip them",
            tried.join(", ")
        )
    };
    let vars: BTreeMap<&str, &str> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.trim(), value.trim()))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    let interpreter = |program: &str, path: &str, path_name: &str| Interpreter {
        program: vars
            .get(program)
            .map(|p| (*p).to_owned())
            .unwrap_or_else(|| {
                panic!(
                    "{} has no {program}: rerun scripts/install-interop.sh",
                    file.display()
                )
            }),
        env: vars
            .get(path)
            .map(|value| (path_name.to_owned(), (*value).to_owned()))
            .into_iter()
            .collect(),
    };
    Some(Sdks {
        python: interpreter("PYTHON", "PYTHONPATH", "PYTHONPATH"),
        python_v1: interpreter("PYTHON_V1", "PYTHONPATH_V1", "PYTHONPATH"),
        node: interpreter("NODE", "NODE_PATH", "NODE_PATH"),
    })
}

/// A peer process, killed (and reaped) when dropped, whatever happened; its output goes to
/// files, shown when the scenario fails. Never waited on blocking: its exit is polled.
struct Peer {
    name: String,
    child: std::process::Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Peer {
    fn start(interpreter: &Interpreter, name: &str, args: &[&str]) -> Self {
        Self::start_with(interpreter, name, args, &BTreeMap::new())
    }

    /// Starts the peer with `env` added to its environment.
    fn start_with(
        interpreter: &Interpreter,
        name: &str,
        args: &[&str],
        env: &BTreeMap<String, String>,
    ) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let base =
            std::env::temp_dir().join(format!("mcp-interop-{}-{n}-{name}", std::process::id()));
        let stdout = base.with_extension("out");
        let stderr = base.with_extension("err");
        let program = &interpreter.program;
        let child = Command::new(program)
            .args(args)
            .envs(interpreter.env.iter().cloned())
            .envs(env)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).unwrap())
            .stderr(File::create(&stderr).unwrap())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {program}: {error}"));
        Self {
            name: name.to_owned(),
            child,
            stdout,
            stderr,
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits for the process to end (the scenario's bound applies).
    async fn exit<H: Harness>(&mut self) -> ExitStatus {
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            sleep::<H>(Duration::from_millis(50)).await;
        }
    }

    /// Runs a peer client to its end and returns the JSON summary it printed.
    async fn summary<H: Harness>(mut self) -> Value {
        let status = self.exit::<H>().await;
        let stdout = std::fs::read_to_string(&self.stdout).unwrap_or_default();
        assert!(
            status.success(),
            "{} failed ({status}): {}",
            self.name,
            self.stderr()
        );
        serde_json::from_str(&stdout).unwrap_or_else(|error| {
            panic!("{} printed no JSON summary ({error}): {stdout}", self.name)
        })
    }

    /// Waits (bounded) until the peer server accepts TCP connections on `addr`, dialling with
    /// the adapter's connector.
    async fn wait_for_port<H: Harness>(&mut self, addr: SocketAddr) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let host = addr.ip().to_string();
        loop {
            if S::<H>::connector()
                .connect_tcp(&host, addr.port())
                .await
                .is_ok()
            {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "{} exited ({status}) before listening: {}",
                    self.name,
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} is not listening on {addr} after 60 s: {}",
                self.name,
                self.stderr()
            );
            sleep::<H>(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // SIGKILL, then reap it (at once: a killed process cannot linger).
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- {} stderr ---\n{}", self.name, self.stderr());
        }
        let _ = std::fs::remove_file(&self.stdout);
        let _ = std::fs::remove_file(&self.stderr);
    }
}

/// A port nobody listens on right now, for a peer server to take.
async fn free_port<H: Harness>() -> SocketAddr {
    let (listener, addr) = S::<H>::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    drop(listener);
    addr
}

/// A peer server listening on a free port, and its MCP endpoint.
async fn http_peer<H: Harness>(
    interpreter: &Interpreter,
    name: &str,
    script: &str,
) -> (Peer, http::Uri) {
    let addr = free_port::<H>().await;
    let port = addr.port().to_string();
    let mut peer = Peer::start(interpreter, name, &[script, "--http", &port]);
    peer.wait_for_port::<H>(addr).await;
    (peer, format!("http://{addr}/mcp").parse().unwrap())
}

/// A peer client to run against our stdio server: the command line it takes (`--stdio
/// 'CMD ARGS'`) and the variables that make the test binary the stdio server, which the peer
/// clients pass on to the processes they start (their whole environment).
fn our_stdio_server() -> (String, BTreeMap<String, String>) {
    let command = stdio_server();
    let line = std::iter::once(&command.program)
        .chain(&command.args)
        .map(|word| {
            assert!(!word.contains('\''), "cannot quote {word:?} for the peers");
            format!("'{word}'")
        })
        .collect::<Vec<_>>()
        .join(" ");
    (line, command.env)
}

fn unique_message(from: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{from} {} {} ✓",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// What a peer server serves (the same in both peers but for the words).
struct PeerServer {
    name: &'static str,
    readme: &'static str,
}

const PYTHON_SERVER: PeerServer = PeerServer {
    name: "python-peer",
    readme: "This is the Python peer.",
};
const TS_SERVER: PeerServer = PeerServer {
    name: "ts-peer",
    readme: "This is the TypeScript peer.",
};

/// Our client's whole tour of a peer server: the era it settled on, tools, `echo`, the
/// resource and the prompt.
async fn tour(client: &Client, server: &PeerServer, era: Era) {
    let negotiated = client.negotiated();
    assert_eq!(negotiated.era, era, "{negotiated:?}");
    let expected_version = match era {
        Era::Modern => "2026-07-28",
        Era::Legacy => "2025-11-25",
    };
    assert_eq!(negotiated.protocol_version.as_str(), expected_version);
    assert_eq!(
        negotiated
            .server_info
            .as_ref()
            .map(|info| info.name.as_str()),
        Some(server.name)
    );
    let tools = client.list_tools().await.unwrap();
    assert!(tools.iter().any(|tool| tool.name == "echo"), "{tools:?}");
    let message = unique_message("rust");
    let echoed = client
        .call_tool("echo", json!({"message": message}))
        .await
        .unwrap();
    assert_ne!(echoed.is_error, Some(true), "{echoed:?}");
    let Some(ContentBlock::Text(text)) = echoed.content.first() else {
        panic!("echo answered {echoed:?}")
    };
    assert_eq!(text.text, message);
    let resources = client.list_resources().await.unwrap();
    assert!(
        resources.iter().any(|r| r.uri == "peer://readme"),
        "{resources:?}"
    );
    let read = client.read_resource("peer://readme").await.unwrap();
    let [ResourceContents::Text(contents)] = read.contents.as_slice() else {
        panic!("{read:?}")
    };
    assert_eq!(contents.text, server.readme);
    let prompts = client.list_prompts().await.unwrap();
    assert!(prompts.iter().any(|p| p.name == "greet"), "{prompts:?}");
    let prompt = client
        .get_prompt("greet", json!({"name": "interop"}))
        .await
        .unwrap();
    let Some(ContentBlock::Text(text)) = prompt.messages.first().map(|m| &m.content) else {
        panic!("{prompt:?}")
    };
    assert_eq!(text.text, "Say hello to interop.");
}

/// Our client over stdio: the tour, then a shutdown that ends the child by closing its stdin.
async fn our_client_over_stdio<H: Harness>(
    interpreter: &Interpreter,
    script: &str,
    server: &PeerServer,
    policies: &[(EraPolicy, Era)],
) {
    for &(policy, era) in policies {
        let mut command = ChildCommand::new(&interpreter.program).args([script, "--stdio"]);
        command.env.extend(interpreter.env.iter().cloned());
        // The peer must end by itself once its stdin is closed (checked below); an
        // interpreter's teardown on a loaded machine can take longer than the default grace
        // before SIGTERM, so this one only guards against a peer that never ends.
        command.stdin_grace = STDIN_GRACE;
        let client = S::<H>::connect_child(command, ClientOptions::new("interop", "1").era(policy))
            .await
            .unwrap_or_else(|error| panic!("{} ({policy:?}): {error}", server.name));
        tour(&client, server, era).await;
        let report = client.shutdown().await;
        assert!(report.close.unwrap().abandoned.is_empty());
        let child = report.child.unwrap();
        assert_eq!(child.ended_by, EndedBy::Exited, "{child:?}");
        assert!(child.status.unwrap().success(), "{child:?}");
    }
}

/// Our client over Streamable HTTP: the tour, then a clean shutdown.
async fn our_client_over_http<H: Harness>(
    url: &http::Uri,
    server: &PeerServer,
    policies: &[(EraPolicy, Era)],
) {
    for &(policy, era) in policies {
        let client = S::<H>::connect_http(
            HttpConnectOptions::new(url.clone()),
            ClientOptions::new("interop", "1").era(policy),
        )
        .await
        .unwrap_or_else(|error| panic!("{} ({policy:?}): {error}", server.name));
        tour(&client, server, era).await;
        let report = client.shutdown().await;
        assert_eq!(report.transport_error, None);
        assert!(report.close.unwrap().abandoned.is_empty());
    }
}

/// Checks a peer client's summary of its tour of our demo server.
fn check_summary(summary: &Value, protocol_version: &str) {
    assert_eq!(summary["protocol_version"], protocol_version, "{summary}");
    assert_eq!(summary["server"], "mcp-demo", "{summary}");
    assert_eq!(summary["tools"], json!(["echo", "slow"]), "{summary}");
    let sent = summary["echo"]["sent"].as_str().unwrap();
    assert_eq!(summary["echo"]["text"], json!([sent]), "{summary}");
    assert_eq!(summary["echo"]["is_error"], false, "{summary}");
    // Every progress notification comes before the answer (over HTTP, in its SSE stream).
    assert_eq!(
        summary["slow"]["text"],
        json!(["waited 200 ms"]),
        "{summary}"
    );
    let progress: Vec<f64> = summary["slow"]["progress"]
        .as_array()
        .unwrap_or_else(|| panic!("{summary}"))
        .iter()
        .map(|done| done.as_f64().unwrap())
        .collect();
    assert_eq!(
        progress,
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
        "{summary}"
    );
    if let Some(late) = summary["slow"].get("after_answer") {
        assert_eq!(late, &json!([]), "progress after the answer: {summary}");
    }
    assert_eq!(summary["resources"], json!([README_URI]), "{summary}");
    assert_eq!(
        summary["resource_text"],
        json!(["This is the mcp-rs demo server."]),
        "{summary}"
    );
    assert_eq!(summary["prompts"], json!(["greet"]), "{summary}");
    assert_eq!(
        summary["prompt_text"],
        json!(["Say hello to interop."]),
        "{summary}"
    );
}

/// Our demo server on HTTP in this process (both eras, and the HTTP+SSE endpoints as the
/// example serves them).
async fn our_http_server<H: Harness>() -> HttpServerHandle {
    let options = HttpServeOptions {
        legacy_sse: Some(LegacySsePaths::default()),
        ..HttpServeOptions::default()
    };
    S::<H>::serve_http(
        demo_server(S::<H>::runtime().unwrap()),
        "127.0.0.1:0".parse().unwrap(),
        options,
    )
    .await
    .unwrap()
}

// --- Our client against their servers --------------------------------------------------------

/// The Python SDK 2.x speaks 2026-07-28: the probe finds it; forced legacy works too.
const BOTH_ERAS: [(EraPolicy, Era); 2] = [
    (EraPolicy::Auto, Era::Modern),
    (EraPolicy::Legacy, Era::Legacy),
];
/// A legacy-only server: `server/discover` fails and the client falls back to `initialize`.
const FALLS_BACK: [(EraPolicy, Era); 1] = [(EraPolicy::Auto, Era::Legacy)];

pub async fn our_client_and_the_python_server_over_stdio<H: Harness>() {
    let Some(sdks) = sdks() else { return };
    within::<H, _>(LIMIT, async {
        let script = peer_script("python_server.py");
        our_client_over_stdio::<H>(&sdks.python, &script, &PYTHON_SERVER, &BOTH_ERAS).await;
    })
    .await;
}

pub async fn our_client_and_the_python_server_over_http<H: Harness>() {
    let Some(sdks) = sdks() else { return };
    within::<H, _>(LIMIT, async {
        let script = peer_script("python_server.py");
        let (peer, url) = http_peer::<H>(&sdks.python, "python_server", &script).await;
        our_client_over_http::<H>(&url, &PYTHON_SERVER, &BOTH_ERAS).await;
        drop(peer);
    })
    .await;
}

pub async fn our_client_and_the_python_v1_server_over_stdio<H: Harness>() {
    let Some(sdks) = sdks() else { return };
    within::<H, _>(LIMIT, async {
        let script = peer_script("python_server.py");
        our_client_over_stdio::<H>(&sdks.python_v1, &script, &PYTHON_SERVER, &FALLS_BACK).await;
    })
    .await;
}

pub async fn our_client_and_the_python_v1_server_over_http<H: Harness>() {
    let Some(sdks) = sdks() else { return };
    within::<H, _>(LIMIT, async {
        // Its stateful server refuses the probe (a POST without a session) with 400 and a
        // session id of its own on the refusal, which must not be adopted.
        let script = peer_script("python_server.py");
        let (peer, url) = http_peer::<H>(&sdks.python_v1, "python_v1_server", &script).await;
        our_client_over_http::<H>(&url, &PYTHON_SERVER, &FALLS_BACK).await;
        drop(peer);
    })
    .await;
}

pub async fn our_client_and_the_typescript_server_over_stdio<H: Harness>() {
    let Some(sdks) = sdks() else { return };
    within::<H, _>(LIMIT, async {
        let script = peer_script("ts_server.mjs");
        our_client_over_stdio::<H>(&sdks.node, &script, &TS_SERVER, &FALLS_BACK).await;
    })
    .await;
}

pub async fn our_client_and_the_typescript_server_over_http<H: Harness>() {
    let Some(sdks) = sdks() else { return };
    within::<H, _>(LIMIT, async {
        // The probe gets the SDK's stateful answer to a request without a session (400).
        let script = peer_script("ts_server.mjs");
        let (peer, url) = http_peer::<H>(&sdks.node, "ts_server", &script).await;
        our_client_over_http::<H>(&url, &TS_SERVER, &FALLS_BACK).await;
        drop(peer);
    })
    .await;
}

// --- Their clients against our server --------------------------------------------------------

/// The Python client's negotiation modes and the version each settles on with our server.
const PYTHON_MODES: [(&str, &str); 2] = [("auto", "2026-07-28"), ("legacy", "2025-11-25")];

pub async fn the_python_client_and_our_server_over_stdio<H: Harness>() {
    let Some(sdks) = sdks() else { return };
    within::<H, _>(LIMIT, async {
        let (server, server_env) = our_stdio_server();
        let script = peer_script("python_client.py");
        for (mode, version) in PYTHON_MODES {
            let args = [script.as_str(), "--mode", mode, "--stdio", &server];
            let client = Peer::start_with(&sdks.python, "python_client", &args, &server_env);
            check_summary(&client.summary::<H>().await, version);
        }
    })
    .await;
}

pub async fn the_python_client_and_our_server_over_http<H: Harness>() {
    let Some(sdks) = sdks() else { return };
    within::<H, _>(LIMIT, async {
        let handle = our_http_server::<H>().await;
        let url = handle.url("/mcp");
        let script = peer_script("python_client.py");
        for (mode, version) in PYTHON_MODES {
            let args = [script.as_str(), "--mode", mode, "--url", &url];
            let client = Peer::start(&sdks.python, "python_client", &args);
            check_summary(&client.summary::<H>().await, version);
        }
        let report = handle.shutdown().await;
        assert!(report.connections > 0);
        assert_eq!(report.accept_error, None);
    })
    .await;
}

pub async fn the_typescript_client_and_our_server_over_stdio<H: Harness>() {
    let Some(sdks) = sdks() else { return };
    within::<H, _>(LIMIT, async {
        let (server, server_env) = our_stdio_server();
        let script = peer_script("ts_client.mjs");
        let args = [script.as_str(), "--stdio", &server];
        let client = Peer::start_with(&sdks.node, "ts_client", &args, &server_env);
        check_summary(&client.summary::<H>().await, "2025-11-25");
    })
    .await;
}

pub async fn the_typescript_client_and_our_server_over_http<H: Harness>() {
    let Some(sdks) = sdks() else { return };
    within::<H, _>(LIMIT, async {
        let handle = our_http_server::<H>().await;
        let url = handle.url("/mcp");
        let script = peer_script("ts_client.mjs");
        let client = Peer::start(&sdks.node, "ts_client", &[&script, "--url", &url]);
        // The TypeScript client opens the GET stream and ends its session with DELETE: both
        // must succeed for it to exit 0.
        check_summary(&client.summary::<H>().await, "2025-11-25");
        let report = handle.shutdown().await;
        assert!(report.connections > 0);
        assert_eq!(report.accept_error, None);
    })
    .await;
}
