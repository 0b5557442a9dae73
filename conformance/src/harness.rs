//! The official harness (`@modelcontextprotocol/conformance`, a Node program): a cache with
//! Node ≥ 22 and each harness version, installed only when absent, and runs of its server
//! suite whose `checks.json` files are read back as per-scenario verdicts.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::serve::RuntimeKind;

/// The Node major version the harness needs (`fs.globSync`).
const MIN_NODE_MAJOR: u32 = 22;
/// The longest one harness invocation may take.
const RUN_LIMIT: Duration = Duration::from_secs(900);
/// The longest one client scenario may take, harness included.
const CLIENT_RUN_LIMIT: Duration = Duration::from_secs(120);
/// The harness's own limit on our client, per scenario (ms).
const CLIENT_TIMEOUT_MS: &str = "60000";
/// How long the fixture may take to say where it listens.
const START_LIMIT: Duration = Duration::from_secs(30);

/// One harness line this project tracks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HarnessVersion {
    /// The npm version.
    pub(crate) version: &'static str,
    /// Its directory in the cache.
    pub(crate) dir: &'static str,
    /// The wires its server suite is run at: `None` runs `--suite all` as is; a spec version
    /// runs `--suite all --spec-version V`; [`EXTENSIONS`] runs each extension scenario.
    pub(crate) wires: &'static [Option<&'static str>],
    /// The wires its client suite is run at, the same way (each scenario on its own).
    pub(crate) client_wires: &'static [Option<&'static str>],
}

/// The pseudo-wire of the extension scenarios (tasks, skills), run one by one.
pub(crate) const EXTENSIONS: &str = "extension";

pub(crate) const HARNESSES: [HarnessVersion; 2] = [
    HarnessVersion {
        version: "0.1.16",
        dir: "h0116",
        wires: &[None],
        client_wires: &[None],
    },
    HarnessVersion {
        version: "0.2.0-alpha.12",
        dir: "h020a12",
        wires: &[Some("2025-11-25"), Some("2026-07-28"), Some(EXTENSIONS)],
        // Every revision with client scenarios (2025-03-26 and 2025-06-18 only have a few).
        client_wires: &[
            Some("2025-03-26"),
            Some("2025-06-18"),
            Some("2025-11-25"),
            Some("2026-07-28"),
            Some(EXTENSIONS),
        ],
    },
];

/// The cache directory: `$MCP_CONFORMANCE_CACHE`, else `~/.cache/mcp-conformance`.
pub(crate) fn cache_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("MCP_CONFORMANCE_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME").ok_or("neither MCP_CONFORMANCE_CACHE nor HOME is set")?;
    Ok(Path::new(&home).join(".cache").join("mcp-conformance"))
}

/// The Node major version of `node`, if it runs.
fn node_major(node: &Path) -> Option<u32> {
    let output = Command::new(node).arg("-v").output().ok()?;
    let version = String::from_utf8_lossy(&output.stdout);
    version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// npm's package of the Node binary for this platform.
fn node_package() -> Result<String, String> {
    let os = match std::env::consts::OS {
        "linux" => "linux",
        "macos" => "darwin",
        other => return Err(format!("no Node package known for OS {other}")),
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => return Err(format!("no Node package known for CPU {other}")),
    };
    Ok(format!("node-{os}-{arch}"))
}

/// Runs `npm install PACKAGE` in `dir` (created with a `package.json` first).
fn npm_install(dir: &Path, package: &str) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !dir.join("package.json").exists() {
        fs::write(dir.join("package.json"), "{\"private\": true}\n")
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    eprintln!("conformance: installing {package} into {}", dir.display());
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", package])
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run npm (needed once, to fill the cache): {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("npm install {package} failed: {status}"))
    }
}

/// A Node ≥ 22: the system's when new enough, else the cache's (installed from npm when
/// absent).
pub(crate) fn ensure_node(cache: &Path) -> Result<PathBuf, String> {
    let system = PathBuf::from("node");
    if node_major(&system).is_some_and(|major| major >= MIN_NODE_MAJOR) {
        return Ok(system);
    }
    let package = node_package()?;
    let dir = cache.join("node22");
    let node = dir
        .join("node_modules")
        .join(&package)
        .join("bin")
        .join("node");
    if !node.exists() {
        npm_install(&dir, &format!("{package}@{MIN_NODE_MAJOR}"))?;
    }
    match node_major(&node) {
        Some(major) if major >= MIN_NODE_MAJOR => Ok(node),
        found => Err(format!(
            "{} is not a usable Node {MIN_NODE_MAJOR} (version {found:?})",
            node.display()
        )),
    }
}

/// The harness's entry point for `harness`, installed when absent.
pub(crate) fn ensure_harness(cache: &Path, harness: &HarnessVersion) -> Result<PathBuf, String> {
    let dir = cache.join(harness.dir);
    let cli = dir.join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    if !cli.exists() {
        npm_install(
            &dir,
            &format!("@modelcontextprotocol/conformance@{}", harness.version),
        )?;
    }
    if cli.exists() {
        Ok(cli)
    } else {
        Err(format!("{} is missing after installing", cli.display()))
    }
}

/// The fixture served by a child process of this program; killed on drop.
#[derive(Debug)]
pub(crate) struct FixtureProcess {
    child: Child,
    pub(crate) url: String,
}

impl FixtureProcess {
    /// Starts `conformance server --runtime R --listen 127.0.0.1:0` and waits for its URL.
    pub(crate) fn start(runtime: RuntimeKind, log: &Path) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
        let stderr = fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut child = Command::new(exe)
            .args([
                "server",
                "--runtime",
                runtime.name(),
                "--listen",
                "127.0.0.1:0",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start the fixture: {e}"))?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            return Err("the fixture's stdout is not piped".into());
        };
        let (found, url) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = found.send(line);
            }
            // Keep draining so the child never blocks on a full pipe.
            for _ in lines {}
        });
        let mut process = Self {
            child,
            url: String::new(),
        };
        match url.recv_timeout(START_LIMIT) {
            Ok(line) => match line.strip_prefix("listening ") {
                Some(url) => {
                    process.url = url.trim().to_owned();
                    Ok(process)
                }
                None => Err(format!("the fixture said {line:?} instead of its URL")),
            },
            Err(_) => Err(format!(
                "the {runtime} fixture did not start (see {})",
                log.display()
            )),
        }
    }
}

impl Drop for FixtureProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one scenario run came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verdict {
    Pass,
    /// Every check was SKIPPED by the harness (e.g. one awaiting its own rewrite): neither a
    /// pass nor a failure.
    Skip,
    Warn,
    Fail,
}

impl Verdict {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Skip => "SKIP",
            Self::Warn => "WARN",
            Self::Fail => "FAIL",
        }
    }
}

/// One scenario's checks, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ScenarioResult {
    pub(crate) success: usize,
    pub(crate) failure: usize,
    pub(crate) warning: usize,
    /// Checks the harness skipped (not applicable to what the server declares).
    pub(crate) skipped: usize,
    /// Checks of any other status (INFO…): counted only to tell an all-skipped run.
    pub(crate) other: usize,
    /// The first failing or warning check's id and message.
    pub(crate) first_problem: Option<String>,
}

impl ScenarioResult {
    /// Adds `other`'s counts (its first problem only when this one has none).
    fn add(&mut self, other: &Self) {
        self.success += other.success;
        self.failure += other.failure;
        self.warning += other.warning;
        self.skipped += other.skipped;
        self.other += other.other;
        if self.first_problem.is_none() {
            self.first_problem.clone_from(&other.first_problem);
        }
    }

    /// FAIL on any FAILURE, WARN on any WARNING, SKIP when every check was SKIPPED, FAIL
    /// when no check succeeded otherwise (none at all, or only INFO), else PASS.
    pub(crate) fn verdict(&self) -> Verdict {
        if self.failure == 0
            && self.warning == 0
            && self.success == 0
            && self.other == 0
            && self.skipped > 0
        {
            Verdict::Skip
        } else if self.failure > 0 || self.success + self.warning == 0 {
            Verdict::Fail
        } else if self.warning > 0 {
            Verdict::Warn
        } else {
            Verdict::Pass
        }
    }
}

#[derive(Debug, Deserialize)]
struct Check {
    id: String,
    status: String,
    #[serde(default, rename = "errorMessage")]
    error_message: Option<String>,
}

/// The scenario a result directory (`server-<scenario>-<ISO timestamp>`) belongs to.
pub(crate) fn scenario_of_dir(name: &str) -> Option<String> {
    let rest = name.strip_prefix("server-")?;
    // The timestamp is `YYYY-MM-DDTHH-MM-SS-mmmZ`: 24 characters after a dash.
    let cut = rest.len().checked_sub(25)?;
    let (scenario, stamp) = rest.split_at(cut);
    let looks_like_stamp =
        stamp.starts_with('-') && stamp.ends_with('Z') && stamp.as_bytes().get(11) == Some(&b'T');
    (looks_like_stamp && !scenario.is_empty()).then(|| scenario.to_owned())
}

/// Reads every `checks.json` under `dir` (one directory per scenario).
pub(crate) fn read_results(dir: &Path) -> Result<BTreeMap<String, ScenarioResult>, String> {
    let mut results = BTreeMap::new();
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(scenario) = scenario_of_dir(&name) else {
            continue;
        };
        let path = entry.path().join("checks.json");
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let checks: Vec<Check> =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        results.insert(scenario, tally(&checks));
    }
    Ok(results)
}

fn tally(checks: &[Check]) -> ScenarioResult {
    let mut result = ScenarioResult::default();
    for check in checks {
        match check.status.as_str() {
            "SUCCESS" => result.success += 1,
            "FAILURE" => result.failure += 1,
            "WARNING" => result.warning += 1,
            "SKIPPED" => {
                result.skipped += 1;
                continue;
            }
            _ => {
                result.other += 1;
                continue;
            }
        }
        if check.status != "SUCCESS" && result.first_problem.is_none() {
            let message = check.error_message.as_deref().unwrap_or_default();
            result.first_problem = Some(format!("{}: {message}", check.id));
        }
    }
    result
}

/// The server scenarios `cli` lists (at `spec`, when given) with their spec tags.
pub(crate) fn list_server_scenarios(
    node: &Path,
    cli: &Path,
    spec: Option<&str>,
) -> Result<Vec<(String, String)>, String> {
    list_scenarios(node, cli, "--server", spec)
}

/// The client scenarios `cli` lists (at `spec`, when given) with their spec tags.
pub(crate) fn list_client_scenarios(
    node: &Path,
    cli: &Path,
    spec: Option<&str>,
) -> Result<Vec<(String, String)>, String> {
    list_scenarios(node, cli, "--client", spec)
}

fn list_scenarios(
    node: &Path,
    cli: &Path,
    side: &str,
    spec: Option<&str>,
) -> Result<Vec<(String, String)>, String> {
    let mut command = Command::new(node);
    command.arg(cli).args(["list", side]);
    if let Some(spec) = spec {
        command.args(["--spec-version", spec]);
    }
    let output = command
        .output()
        .map_err(|e| format!("cannot run the harness: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text
        .lines()
        .filter_map(|line| {
            let entry = line.trim().strip_prefix("- ")?;
            let (name, tags) = entry.split_once(' ').unwrap_or((entry, ""));
            Some((name.to_owned(), tags.trim().to_owned()))
        })
        .collect())
}

/// One invocation of `conformance server`.
#[derive(Debug, Clone)]
pub(crate) struct SuiteRun<'a> {
    pub(crate) node: &'a Path,
    pub(crate) cli: &'a Path,
    pub(crate) url: &'a str,
    pub(crate) spec: Option<&'a str>,
    pub(crate) scenario: Option<&'a str>,
    pub(crate) out: &'a Path,
}

impl SuiteRun<'_> {
    /// Runs the harness (its console output goes to `out/harness.log`), then reads the
    /// results it wrote.
    pub(crate) fn run(&self) -> Result<BTreeMap<String, ScenarioResult>, String> {
        let mut command = Command::new(self.node);
        command
            .arg(self.cli)
            .args(["server", "--url", self.url, "-o"])
            .arg(self.out);
        match self.scenario {
            Some(scenario) => command.args(["--scenario", scenario]),
            None => command.args(["--suite", "all"]),
        };
        if let Some(spec) = self.spec {
            command.args(["--spec-version", spec]);
        }
        run_logged(command, self.out, RUN_LIMIT)?;
        // The exit status says nothing the checks do not (and ignores warnings): the
        // checks decide.
        read_results(self.out)
    }
}

/// Runs `command` (the harness, writing its results under `out`) with its console output in
/// `out/harness.log`, for at most `limit`; its exit status.
fn run_logged(mut command: Command, out: &Path, limit: Duration) -> Result<Option<i32>, String> {
    fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let log_path = out.join("harness.log");
    let log = fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    let child = command
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("cannot run the harness: {e}"))?;
    wait_for(child, limit, &log_path)
}

/// Waits for `child` (the harness) for at most `limit`; kills it past that.
fn wait_for(mut child: Child, limit: Duration, log: &Path) -> Result<Option<i32>, String> {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status.code()),
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the harness ran over {} s (see {})",
                    limit.as_secs(),
                    log.display()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(format!("waiting for the harness: {e}")),
        }
    }
}

/// Every `checks.json` under `dir`, at any depth (auth scenario names contain `/`, so their
/// result directories nest).
fn find_checks(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            find_checks(&path, found);
        } else if path.file_name().is_some_and(|n| n == "checks.json") {
            found.push(path);
        }
    }
}

/// One invocation of `conformance client --scenario S`: the harness starts the scenario's
/// mock and runs `command` (our own binary) against it.
#[derive(Debug, Clone)]
pub(crate) struct ClientRun<'a> {
    pub(crate) node: &'a Path,
    pub(crate) cli: &'a Path,
    /// The client under test; the harness splits it on spaces and appends the mock's URL.
    pub(crate) command: &'a str,
    pub(crate) spec: Option<&'a str>,
    pub(crate) scenario: &'a str,
    pub(crate) out: &'a Path,
}

impl ClientRun<'_> {
    /// Runs the scenario alone (client suites otherwise run every scenario at once, which
    /// on a small machine upsets the timing checks of `sse-retry`) and reads its checks. A
    /// run whose checks pass but whose harness failed (our client exited with an error or
    /// ran out of time) is a failure.
    pub(crate) fn run(&self) -> Result<ScenarioResult, String> {
        let mut command = Command::new(self.node);
        command
            .arg(self.cli)
            .args(["client", "--command", self.command, "--scenario"])
            .arg(self.scenario)
            .args(["--timeout", CLIENT_TIMEOUT_MS, "-o"])
            .arg(self.out);
        if let Some(spec) = self.spec {
            command.args(["--spec-version", spec]);
        }
        let status = run_logged(command, self.out, CLIENT_RUN_LIMIT)?;
        let mut found = Vec::new();
        find_checks(self.out, &mut found);
        let mut result = ScenarioResult::default();
        for path in &found {
            let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let checks: Vec<Check> =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            result.add(&tally(&checks));
        }
        if status != Some(0) && matches!(result.verdict(), Verdict::Pass | Verdict::Skip) {
            result.failure += 1;
            result.first_problem = Some(format!(
                "the harness exited with {status:?}: our client failed or timed out (see {})",
                self.out.join("harness.log").display()
            ));
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn result_directories_name_their_scenario() {
        assert_eq!(
            scenario_of_dir("server-tools-call-image-2026-11-21T14-18-46-455Z").as_deref(),
            Some("tools-call-image")
        );
        assert_eq!(scenario_of_dir("server--2026-11-21T14-18-46-455Z"), None);
        assert_eq!(scenario_of_dir("harness.log"), None);
        assert_eq!(scenario_of_dir("server-x-not-a-timestamp-at-all-000"), None);
    }

    #[test]
    fn warnings_and_empty_scenarios_are_not_passes() {
        let checks: Vec<Check> = serde_json::from_str(
            r#"[{"id":"a","status":"SUCCESS"},{"id":"b","status":"WARNING","errorMessage":"late"},
                {"id":"c","status":"INFO"}]"#,
        )
        .unwrap();
        let result = tally(&checks);
        assert_eq!(result.verdict(), Verdict::Warn);
        assert_eq!(result.first_problem.as_deref(), Some("b: late"));
        assert_eq!(tally(&[]).verdict(), Verdict::Fail);
        let failed: Vec<Check> =
            serde_json::from_str(r#"[{"id":"a","status":"FAILURE"}]"#).unwrap();
        assert_eq!(tally(&failed).verdict(), Verdict::Fail);
    }

    #[test]
    fn only_an_all_skipped_scenario_is_a_skip() {
        let checks = |json: &str| tally(&serde_json::from_str::<Vec<Check>>(json).unwrap());
        let skipped = checks(r#"[{"id":"a","status":"SKIPPED"},{"id":"b","status":"SKIPPED"}]"#);
        assert_eq!(skipped.verdict(), Verdict::Skip);
        assert_eq!(skipped.skipped, 2);
        // Skips beside a success are a pass; beside a failure, a failure.
        let passed = checks(r#"[{"id":"a","status":"SKIPPED"},{"id":"b","status":"SUCCESS"}]"#);
        assert_eq!(passed.verdict(), Verdict::Pass);
        let failed = checks(r#"[{"id":"a","status":"SKIPPED"},{"id":"b","status":"FAILURE"}]"#);
        assert_eq!(failed.verdict(), Verdict::Fail);
        // A skip beside an INFO check is not all skipped: nothing succeeded, so it fails.
        let info = checks(r#"[{"id":"a","status":"SKIPPED"},{"id":"b","status":"INFO"}]"#);
        assert_eq!(info.verdict(), Verdict::Fail);
    }
}
