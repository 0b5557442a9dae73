//! # mcp-scenarios
//!
//! The integration scenarios of the MCP stack — seed-bug regressions, every transport over
//! real sockets and processes, TLS and proxies, input requests in both eras, interop with the
//! official Python and TypeScript SDKs, the 2,000-cycle teardown — written **once**, generic
//! over a [`Harness`] (an adapter's [`Stack`] plus a way to block on a future), and run by
//! each adapter's `tests/scenarios.rs`:
//!
//! ```text
//! // mcp-smol/tests/scenarios.rs
//! struct SmolHarness;
//! impl mcp_scenarios::Harness for SmolHarness {
//!     type Stack = mcp_smol::Smol;
//!     fn block_on<T>(future: impl Future<Output = T>) -> T { smol::block_on(future) }
//! }
//! fn main() { mcp_scenarios::main::<SmolHarness>() }
//! ```
//!
//! The test target has `harness = false`: [`main`] is its runner (a name filter as the first
//! free argument, `--exact`, `--list`, `RUST_TEST_THREADS`), and, when started with
//! [`STDIO_SERVER_ENV`] set, it is the adapter's stdio demo server instead — so the stdio
//! scenarios spawn the adapter under test, not whichever example binary cargo built last.
#![forbid(unsafe_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    clippy::print_stdout,
    missing_docs
)]

use std::future::Future;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mcp_async::api::{ChildCommand, Stack};
use mcp_async::demo::demo_server;
use mcp_async::programs;
use mcp_async::proto::types::ContentBlock;
use mcp_async::runtime::Runtime;

pub mod child;
pub mod features;
pub mod group;
pub mod http_client;
pub mod http_server;
pub mod in_memory;
pub mod input_requests;
pub mod interop;
pub mod oauth;
pub mod resource_server;
pub mod tls_proxy;

/// An adapter under test: its [`Stack`] and the way to run a future to completion on it.
pub trait Harness: Send + Sync + 'static {
    /// The adapter's stack (`mcp_smol::Smol`, `mcp_tokio::Tokio`).
    type Stack: Stack;
    /// A short name for reports (`smol`, `tokio`).
    const NAME: &'static str;

    /// Runs `future` to completion on a runtime of this adapter (a fresh one per call is
    /// fine).
    fn block_on<T>(future: impl Future<Output = T>) -> T;
}

/// The stack of harness `H`, for calls like `S::<H>::connect_http(…)`.
pub type S<H> = <H as Harness>::Stack;

/// Set (to anything) in the environment of this test binary to make it the adapter's stdio
/// demo server instead of the scenario runner.
pub const STDIO_SERVER_ENV: &str = "MCP_SCENARIOS_STDIO_SERVER";

/// Set to `server`, `cli` or `gateway` in the environment of this test binary to make it that
/// example program of the adapter (`mcp_async::programs`, on `H`'s stack) with the command
/// line's arguments, exiting with its status. See [`program`].
pub const PROGRAM_ENV: &str = "MCP_SCENARIOS_PROGRAM";

/// One scenario: a name and a way to run it on an adapter.
pub struct Scenario {
    /// `module::function`.
    pub name: String,
    /// Runs alone, after the others (it measures the process: descriptors, threads, memory).
    pub exclusive: bool,
    run: Box<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.name)
            .field("exclusive", &self.exclusive)
            .finish_non_exhaustive()
    }
}

impl Scenario {
    /// A scenario running `test` on `H`'s runtime.
    pub fn new<H: Harness, F: Future<Output = ()>>(
        name: &str,
        test: impl Fn() -> F + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name
                .strip_prefix("mcp_scenarios::")
                .unwrap_or(name)
                .to_owned(),
            exclusive: false,
            run: Box::new(move || H::block_on(test())),
        }
    }

    /// Marks it to run alone.
    #[must_use]
    pub fn exclusive(mut self) -> Self {
        self.exclusive = true;
        self
    }
}

/// `scenario!(H, module::function)`: the scenario running the async fn `function::<H>()`.
#[macro_export]
macro_rules! scenario {
    ($harness:ty, $($path:ident)::+) => {
        $crate::Scenario::new::<$harness, _>(
            concat!(module_path!(), "::", stringify!($($path)::+)),
            || $($path)::+::<$harness>())
    };
}

/// Every scenario, for harness `H`.
pub fn all<H: Harness>() -> Vec<Scenario> {
    let mut all = Vec::new();
    all.extend(in_memory::scenarios::<H>());
    all.extend(child::scenarios::<H>());
    all.extend(group::scenarios::<H>());
    all.extend(http_client::scenarios::<H>());
    all.extend(http_server::scenarios::<H>());
    all.extend(features::scenarios::<H>());
    all.extend(input_requests::scenarios::<H>());
    all.extend(tls_proxy::scenarios::<H>());
    all.extend(resource_server::scenarios::<H>());
    all.extend(oauth::scenarios::<H>());
    all.extend(interop::scenarios::<H>());
    all
}

/// The test binary's `main`: the stdio demo server when [`STDIO_SERVER_ENV`] is set,
/// otherwise the runner of [`all`] scenarios. Exits with status 101 when one fails, like
/// libtest.
pub fn main<H: Harness>() {
    if std::env::var_os(STDIO_SERVER_ENV).is_some() {
        let served = H::block_on(async {
            let runtime = S::<H>::runtime()?;
            S::<H>::serve_stdio(demo_server(runtime)).await
        });
        if let Err(error) = served {
            eprintln!("stdio demo server: {error}");
            std::process::exit(1);
        }
        return;
    }
    if let Some(name) = std::env::var_os(PROGRAM_ENV) {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let (mut out, mut log) = (std::io::stdout(), std::io::stderr());
        let status = H::block_on(async {
            match name.to_str() {
                Some("server") => programs::server::<S<H>>(&args, &mut log).await,
                Some("cli") => programs::cli::<S<H>>(&args, &mut out, &mut log).await,
                Some("gateway") => programs::gateway::<S<H>>(&args, &mut log).await,
                _ => {
                    eprintln!("{PROGRAM_ENV}: no program {name:?}");
                    programs::USAGE_ERROR
                }
            }
        });
        let _ = out.flush();
        std::process::exit(status);
    }
    let options = RunOptions::parse(std::env::args().skip(1));
    let scenarios: Vec<Scenario> = all::<H>()
        .into_iter()
        .filter(|s| options.selects(&s.name))
        .collect();
    if options.list {
        for scenario in &scenarios {
            println!("{}: test", scenario.name);
        }
        return;
    }
    let failures = run(H::NAME, &scenarios, options.threads);
    if failures > 0 {
        std::process::exit(101);
    }
}

/// The command line libtest users type, as far as it matters here.
struct RunOptions {
    filters: Vec<String>,
    exact: bool,
    list: bool,
    threads: usize,
}

impl RunOptions {
    fn parse(args: impl Iterator<Item = String>) -> Self {
        let mut options = Self {
            filters: Vec::new(),
            exact: false,
            list: false,
            threads: std::env::var("RUST_TEST_THREADS")
                .ok()
                .and_then(|n| n.parse().ok())
                .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
                .unwrap_or(2)
                .max(1),
        };
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--exact" => options.exact = true,
                "--list" => options.list = true,
                "--test-threads" => {
                    if let Some(n) = args.next().and_then(|n| n.parse().ok()) {
                        options.threads = usize::max(n, 1);
                    }
                }
                flag if flag.starts_with("--test-threads=") => {
                    if let Some(Ok(n)) = flag.strip_prefix("--test-threads=").map(str::parse) {
                        options.threads = usize::max(n, 1);
                    }
                }
                // Other libtest flags (--nocapture, --quiet, --format…) change nothing here.
                flag if flag.starts_with('-') => {}
                filter => options.filters.push(filter.to_owned()),
            }
        }
        options
    }

    fn selects(&self, name: &str) -> bool {
        self.filters.is_empty()
            || self.filters.iter().any(|filter| {
                if self.exact {
                    name == filter
                } else {
                    name.contains(filter.as_str())
                }
            })
    }
}

/// Runs `scenarios` on `threads` threads (the exclusive ones alone, at the end); returns
/// how many failed.
fn run(adapter: &str, scenarios: &[Scenario], threads: usize) -> usize {
    println!("\nrunning {} scenarios on {adapter}", scenarios.len());
    let started = Instant::now();
    let failed = Mutex::new(Vec::new());
    let run_one = |scenario: &Scenario| {
        let began = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| (scenario.run)()));
        let took = began.elapsed();
        let mut out = std::io::stdout().lock();
        match outcome {
            Ok(()) => {
                let _ = writeln!(out, "test {} ... ok ({took:.2?})", scenario.name);
            }
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                let _ = writeln!(out, "test {} ... FAILED ({took:.2?})", scenario.name);
                failed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push((scenario.name.clone(), message));
            }
        }
    };
    let shared: Vec<&Scenario> = scenarios.iter().filter(|s| !s.exclusive).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(shared.len()) {
            scope.spawn(|| {
                while let Some(scenario) = shared.get(next.fetch_add(1, Ordering::Relaxed)) {
                    run_one(scenario);
                }
            });
        }
    });
    for scenario in scenarios.iter().filter(|s| s.exclusive) {
        run_one(scenario);
    }
    let failed = failed
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !failed.is_empty() {
        println!("\nfailures:");
        for (name, message) in &failed {
            println!("---- {name} ----\n{message}\n");
        }
    }
    println!(
        "\nscenario result on {adapter}: {}. {} passed; {} failed; finished in {:.2?}\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        scenarios.len() - failed.len(),
        failed.len(),
        started.elapsed()
    );
    failed.len()
}

/// Runs `test`, failing (panicking) instead of hanging when it takes longer than `limit`.
pub async fn within<H: Harness, T>(limit: Duration, test: impl Future<Output = T>) -> T {
    let runtime = S::<H>::runtime().expect("the adapter's runtime");
    futures_lite::future::or(async { Some(test.await) }, async {
        runtime.sleep_until(Instant::now() + limit).await;
        None
    })
    .await
    .unwrap_or_else(|| panic!("the scenario did not finish within {limit:?}"))
}

/// Sleeps `duration` on `H`'s runtime.
pub async fn sleep<H: Harness>(duration: Duration) {
    let runtime = S::<H>::runtime().expect("the adapter's runtime");
    runtime.sleep_until(Instant::now() + duration).await;
}

/// The adapter's stdio demo server as a command: this very test binary, started with
/// [`STDIO_SERVER_ENV`] set.
pub fn stdio_server() -> ChildCommand {
    let program = std::env::current_exe().expect("the test binary's path");
    let mut command = ChildCommand::new(program.to_string_lossy().into_owned());
    command
        .env
        .insert(STDIO_SERVER_ENV.to_owned(), "1".to_owned());
    command
}

/// The adapter's example program `name` (`server`, `cli`, `gateway`) as a command: this very
/// test binary, started with [`PROGRAM_ENV`] set to `name`. Its own children inherit that
/// variable: give them theirs (as [`stdio_server`] does, which takes precedence).
pub fn program(name: &str) -> ChildCommand {
    let program = std::env::current_exe().expect("the test binary's path");
    ChildCommand::new(program.to_string_lossy().into_owned()).env(PROGRAM_ENV, name)
}

/// Against the demo server at `http`: checks the negotiated era, lists the tools, echoes a few
/// messages, runs the `slow` tool (its progress comes first, so its answer is an SSE stream),
/// then shuts down and checks nothing was abandoned.
pub async fn exercise_demo<H: Harness>(
    http: mcp_async::api::HttpConnectOptions,
    era: mcp_async::proto::engine::EraPolicy,
    expected: mcp_async::proto::types::Era,
) {
    let options = mcp_async::api::ClientOptions::new("t", "1").era(era);
    let client = S::<H>::connect_http(http, options).await.unwrap();
    assert_eq!(client.negotiated().era, expected);
    assert_eq!(client.list_tools().await.unwrap().len(), 2);
    for n in 0..5 {
        let message = format!("call {n}");
        let echoed = client
            .call_tool("echo", serde_json::json!({"message": message}))
            .await
            .unwrap();
        assert_eq!(text(&echoed.content), message);
    }
    let slow = client
        .call_tool("slow", serde_json::json!({"millis": 20}))
        .await
        .unwrap();
    assert_eq!(text(&slow.content), "waited 20 ms");
    let report = client.shutdown().await;
    assert!(report.close.unwrap().abandoned.is_empty());
}

/// The text of a result's first content block.
pub fn text(content: &[ContentBlock]) -> String {
    match content.first() {
        Some(ContentBlock::Text(text)) => text.text.clone(),
        other => panic!("expected text content, got {other:?}"),
    }
}

/// Where this crate's fixtures are (TLS certificates…).
pub fn fixture(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}
