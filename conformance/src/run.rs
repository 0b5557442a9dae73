//! `conformance run`: the project's probes (in-process, then black-box over TCP against the
//! fixture on each runtime), then the official harness's server suite for every runtime ×
//! harness version × wire, as one table and one verdict.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::expected::{self, Entry, RunKey, Side};
use crate::harness::{
    self, ClientRun, EXTENSIONS, FixtureProcess, HARNESSES, HarnessVersion, ScenarioResult,
    SuiteRun, Verdict,
};
use crate::probe_url::{self, ProbeOptions, Verdict as ProbeVerdict};
use crate::probes;
use crate::serve::RuntimeKind;

/// The expected-failures file shipped with the crate.
const DEFAULT_EXPECTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/expected-failures.txt");

/// What to run.
#[derive(Debug, Default)]
pub(crate) struct RunOptions {
    runtimes: Vec<RuntimeKind>,
    sides: Vec<Side>,
    harnesses: Vec<String>,
    wires: Vec<String>,
    scenario: Option<String>,
    expected: Option<PathBuf>,
    out: Option<PathBuf>,
    probes_only: bool,
    no_probes: bool,
}

impl RunOptions {
    pub(crate) fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Self::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .cloned()
                    .ok_or_else(|| format!("{arg} needs a value"))
            };
            match arg.as_str() {
                "--runtime" => options.runtimes.push(value()?.parse()?),
                "--side" => {
                    let side = value()?;
                    options.sides.push(
                        Side::parse(&side)
                            .ok_or_else(|| format!("--side {side:?}: server or client"))?,
                    );
                }
                "--harness" => options.harnesses.push(value()?),
                "--wire" => options.wires.push(value()?),
                "--scenario" => options.scenario = Some(value()?),
                "--expected-failures" => options.expected = Some(PathBuf::from(value()?)),
                "--out" => options.out = Some(PathBuf::from(value()?)),
                "--probes-only" => options.probes_only = true,
                "--no-probes" => options.no_probes = true,
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        if options.runtimes.is_empty() {
            options.runtimes = vec![RuntimeKind::Smol, RuntimeKind::Tokio];
        }
        if options.sides.is_empty() {
            options.sides = vec![Side::Server, Side::Client];
        }
        for wanted in &options.harnesses {
            if !HARNESSES.iter().any(|h| h.version == *wanted) {
                let known: Vec<&str> = HARNESSES.iter().map(|h| h.version).collect();
                return Err(format!("unknown harness {wanted} (known: {known:?})"));
            }
        }
        Ok(options)
    }

    fn wants_harness(&self, harness: &HarnessVersion) -> bool {
        self.harnesses.is_empty() || self.harnesses.iter().any(|h| h == harness.version)
    }

    fn wants_wire(&self, wire: &str) -> bool {
        self.wires.is_empty() || self.wires.iter().any(|w| w == wire)
    }
}

/// The column of a result: harness version and wire.
type Column = (String, String);

/// Every result: (side, scenario) → (runtime, column) → result.
type Table = BTreeMap<(Side, String), BTreeMap<(RuntimeKind, Column), ScenarioResult>>;

fn wire_label(wire: Option<&str>) -> &str {
    wire.unwrap_or("all")
}

/// Runs the probes; prints their table; returns how many failed.
fn run_probes() -> (usize, usize) {
    let results: Vec<(probes::Probe, Result<(), String>)> = probes::all()
        .into_iter()
        .map(|probe| {
            let outcome = (probe.check)();
            (probe, outcome)
        })
        .collect();
    let area_width = results.iter().map(|(p, _)| p.area.len()).max().unwrap_or(0);
    let name_width = results.iter().map(|(p, _)| p.name.len()).max().unwrap_or(0);
    println!("{:area_width$}  {:name_width$}  result", "area", "probe");
    let mut failed = 0;
    for (probe, outcome) in &results {
        let verdict = match outcome {
            Ok(()) => "pass".to_owned(),
            Err(why) => {
                failed += 1;
                format!("FAIL: {why}")
            }
        };
        println!(
            "{:area_width$}  {:name_width$}  {verdict}",
            probe.area, probe.name
        );
    }
    println!(
        "probes: {} passed, {failed} failed\n",
        results.len() - failed
    );
    (results.len() - failed, failed)
}

/// Runs the black-box probe (`conformance probe --url`) against `conformance server` on each
/// runtime; prints each report and its count; returns how many checks passed and failed (a
/// fixture that does not start, or cannot be probed, counts as one failure).
fn run_url_probes(runtimes: &[RuntimeKind], out: &Path) -> (usize, usize) {
    let (mut passed, mut failed) = (0, 0);
    for &runtime in runtimes {
        let log = out.join(format!("probe-fixture-{runtime}.log"));
        let report = FixtureProcess::start(runtime, &log).and_then(|fixture| {
            probe_url::probe(&fixture.url, &ProbeOptions::default()).map_err(|e| e.to_string())
        });
        match report {
            Ok(report) => {
                println!(
                    "black-box probe of the {runtime} fixture ({}): {}",
                    report.url, report.eras
                );
                for line in report.lines() {
                    println!("{line}");
                }
                println!("probe {runtime}: {}\n", report.summary());
                passed += report.count(ProbeVerdict::Pass);
                failed += report.count(ProbeVerdict::Fail);
            }
            Err(problem) => {
                println!("probe {runtime}: FAIL: {problem}\n");
                failed += 1;
            }
        }
    }
    (passed, failed)
}

/// The runs of one harness version at one wire against one fixture.
fn run_wire(
    node: &Path,
    cli: &Path,
    url: &str,
    wire: Option<&str>,
    scenario: Option<&str>,
    out: &Path,
) -> Result<BTreeMap<String, ScenarioResult>, String> {
    if wire == Some(EXTENSIONS) {
        // Extension scenarios are not selected by a spec version: each runs on its own.
        let listed = harness::list_server_scenarios(node, cli, None)?;
        let mut results = BTreeMap::new();
        for (name, tags) in listed {
            if !tags.contains(EXTENSIONS) || scenario.is_some_and(|s| s != name) {
                continue;
            }
            let run = SuiteRun {
                node,
                cli,
                url,
                spec: None,
                scenario: Some(&name),
                out: &out.join(&name),
            };
            results.extend(run.run()?);
        }
        return Ok(results);
    }
    if let Some(scenario) = scenario {
        let listed = harness::list_server_scenarios(node, cli, wire)?;
        if !listed.iter().any(|(name, _)| name == scenario) {
            return Ok(BTreeMap::new());
        }
    }
    SuiteRun {
        node,
        cli,
        url,
        spec: wire,
        scenario,
        out,
    }
    .run()
}

/// The client scenarios of one harness version at one wire, each run alone against our
/// client on `runtime`.
fn run_client_wire(
    node: &Path,
    cli: &Path,
    runtime: RuntimeKind,
    wire: Option<&str>,
    scenario: Option<&str>,
    out: &Path,
) -> Result<BTreeMap<String, ScenarioResult>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
    let exe = exe.to_string_lossy();
    if exe.contains(char::is_whitespace) {
        // The harness splits --command on spaces.
        return Err(format!("the path of this program ({exe}) contains a space"));
    }
    let command = format!("{exe} client --runtime {}", runtime.name());
    let (listed, spec) = if wire == Some(EXTENSIONS) {
        // Extension scenarios are not selected by a spec version.
        let all = harness::list_client_scenarios(node, cli, None)?;
        let extensions = all
            .into_iter()
            .filter(|(_, tags)| tags.contains(EXTENSIONS))
            .collect();
        (extensions, None)
    } else {
        (harness::list_client_scenarios(node, cli, wire)?, wire)
    };
    let mut results = BTreeMap::new();
    for (name, _) in listed {
        if scenario.is_some_and(|s| s != name) {
            continue;
        }
        let run = ClientRun {
            node,
            cli,
            command: &command,
            spec,
            scenario: &name,
            out: &out.join(name.replace('/', "_")),
        };
        results.insert(name.clone(), run.run()?);
    }
    Ok(results)
}

fn load_expected(path: &Path) -> Result<Vec<Entry>, String> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    expected::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// `conformance run [options]`; returns whether everything held.
pub(crate) fn run_command(args: &[String]) -> Result<bool, String> {
    let options = RunOptions::parse(args)?;
    let expected_path = options
        .expected
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_EXPECTED));
    let expected = load_expected(&expected_path)?;
    let cache = harness::cache_dir()?;
    let out = match &options.out {
        Some(out) => out.clone(),
        None => cache
            .join("results")
            .join(format!("run-{}", std::process::id())),
    };
    let _ = fs::remove_dir_all(&out);
    let mut probes_failed = 0;
    if !options.no_probes {
        let (mut passed, mut failed) = run_probes();
        fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        let (url_passed, url_failed) = run_url_probes(&options.runtimes, &out);
        passed += url_passed;
        failed += url_failed;
        probes_failed = failed;
        if options.probes_only {
            println!("in-process and black-box probes together:");
            println!("{passed} passed, {failed} failed");
        }
    }
    if options.probes_only {
        return Ok(probes_failed == 0);
    }
    let node = harness::ensure_node(&cache)?;
    let mut table: Table = BTreeMap::new();
    let mut columns: Vec<Column> = Vec::new();
    for harness in HARNESSES.iter().filter(|h| options.wants_harness(h)) {
        let cli = harness::ensure_harness(&cache, harness)?;
        fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        for &runtime in &options.runtimes {
            if options.sides.contains(&Side::Server) {
                let log = out.join(format!("fixture-{runtime}-{}.log", harness.dir));
                let fixture = FixtureProcess::start(runtime, &log)?;
                for &wire in harness.wires {
                    let label = wire_label(wire);
                    if !options.wants_wire(label) {
                        continue;
                    }
                    let column = (harness.version.to_owned(), label.to_owned());
                    if !columns.contains(&column) {
                        columns.push(column.clone());
                    }
                    let dir = out.join(format!("{}-{label}-{runtime}", harness.dir));
                    eprintln!(
                        "conformance: harness {} server suite, wire {label}, on {runtime} ({})",
                        harness.version, fixture.url
                    );
                    let results = run_wire(
                        &node,
                        &cli,
                        &fixture.url,
                        wire,
                        options.scenario.as_deref(),
                        &dir,
                    )?;
                    for (scenario, result) in results {
                        table
                            .entry((Side::Server, scenario))
                            .or_default()
                            .insert((runtime, column.clone()), result);
                    }
                }
            }
            if options.sides.contains(&Side::Client) {
                for &wire in harness.client_wires {
                    let label = wire_label(wire);
                    if !options.wants_wire(label) {
                        continue;
                    }
                    let column = (harness.version.to_owned(), label.to_owned());
                    if !columns.contains(&column) {
                        columns.push(column.clone());
                    }
                    let dir = out.join(format!("client-{}-{label}-{runtime}", harness.dir));
                    eprintln!(
                        "conformance: harness {} client suite, wire {label}, on {runtime}",
                        harness.version
                    );
                    let results = run_client_wire(
                        &node,
                        &cli,
                        runtime,
                        wire,
                        options.scenario.as_deref(),
                        &dir,
                    )?;
                    for (scenario, result) in results {
                        table
                            .entry((Side::Client, scenario))
                            .or_default()
                            .insert((runtime, column.clone()), result);
                    }
                }
            }
        }
    }
    Ok(report(&table, &columns, &options.runtimes, &expected, &out) && probes_failed == 0)
}

/// Prints the table, the problems and the last line; returns whether the run is clean.
fn report(
    table: &Table,
    columns: &[Column],
    runtimes: &[RuntimeKind],
    expected: &[Entry],
    out: &Path,
) -> bool {
    let headers: Vec<String> = columns
        .iter()
        .flat_map(|(harness, wire)| {
            runtimes
                .iter()
                .map(move |runtime| format!("{harness}/{wire}/{runtime}"))
        })
        .collect();
    let row_name = |(side, scenario): &(Side, String)| format!("{} {scenario}", side.name());
    let name_width = table
        .keys()
        .map(|k| row_name(k).len())
        .max()
        .unwrap_or(8)
        .max(8);
    let cell_width = headers.iter().map(String::len).max().unwrap_or(4).max(5);
    print!("{:name_width$}", "side scenario");
    for header in &headers {
        print!("  {header:>cell_width$}");
    }
    println!();
    let (mut passed, mut failed, mut skipped, mut expected_failures) = (0, 0, 0, 0usize);
    let mut problems = Vec::new();
    let mut stale = Vec::new();
    for (key, results) in table {
        let (side, scenario) = (key.0, key.1.as_str());
        print!("{:name_width$}", row_name(key));
        for (harness, wire) in columns {
            for &runtime in runtimes {
                let cell = match results.get(&(runtime, (harness.clone(), wire.clone()))) {
                    None => "-".to_owned(),
                    Some(result) => {
                        let key = RunKey {
                            side,
                            harness,
                            wire,
                            runtime: runtime.name(),
                            scenario,
                        };
                        let listed = expected.iter().find(|e| e.matches(&key));
                        let verdict = result.verdict();
                        let where_ =
                            format!("{} {scenario} [{harness}/{wire}/{runtime}]", side.name());
                        match (verdict, listed) {
                            (Verdict::Pass, None) => {
                                passed += 1;
                                if result.skipped > 0 {
                                    format!("PASS/{}s", result.skipped)
                                } else {
                                    "PASS".to_owned()
                                }
                            }
                            (Verdict::Pass, Some(entry)) if entry.intermittent() => {
                                passed += 1;
                                "PASS~".to_owned()
                            }
                            (Verdict::Pass, Some(entry)) => {
                                passed += 1;
                                stale.push(format!("{where_} passed but is listed ({entry})"));
                                "PASS!".to_owned()
                            }
                            // The harness ran no check: nothing to pass, fail or expect.
                            (Verdict::Skip, None) => {
                                skipped += 1;
                                "SKIP".to_owned()
                            }
                            (Verdict::Skip, Some(entry)) => {
                                skipped += 1;
                                stale.push(format!(
                                    "{where_} was skipped by the harness but is listed ({entry})"
                                ));
                                "SKIP!".to_owned()
                            }
                            (_, Some(_)) => {
                                failed += 1;
                                expected_failures += 1;
                                format!("x{}", verdict.label())
                            }
                            (_, None) => {
                                failed += 1;
                                problems.push(format!(
                                    "{where_} {}: {} ok, {} failed, {} warnings; {}",
                                    verdict.label(),
                                    result.success,
                                    result.failure,
                                    result.warning,
                                    result.first_problem.as_deref().unwrap_or("no checks ran")
                                ));
                                verdict.label().to_owned()
                            }
                        }
                    }
                };
                print!("  {cell:>cell_width$}");
            }
        }
        println!();
    }
    println!(
        "\nPASS: every check succeeded (PASS/Ns: N checks SKIPPED by the harness as not \
         applicable, e.g. to an undeclared extension); SKIP: every check SKIPPED by the \
         harness\n(neither passed nor failed); WARN/FAIL: a warning/failure; x: listed in the \
         expected-failures file; PASS!/SKIP!: listed but passed/skipped\n(stale entry); PASS~: \
         listed as intermittent and passed; -: not run."
    );
    println!("results: {}", out.display());
    for problem in &problems {
        println!("unexpected: {problem}");
    }
    for entry in &stale {
        println!("stale: {entry}");
    }
    println!(
        "counted in scenario runs (scenario × runtime × harness/wire); {expected_failures} of \
         the failures are expected"
    );
    println!("{passed} passed, {failed} failed, {skipped} skipped by the harness");
    problems.is_empty() && stale.is_empty() && !table.is_empty()
}
