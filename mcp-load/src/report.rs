//! The records runs append (one JSON object per line) and the Markdown report made from them:
//! the results table, the ratios of ours to rmcp, and the issue's targets with verdicts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::error::LoadError;
use crate::procfs::Machine;

/// One load run (HTTP or stdio).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadRecord {
    /// The server measured.
    pub server: String,
    /// The scenario (`http-32-legacy`, `stdio-w64`…).
    pub scenario: String,
    /// `http` or `stdio`.
    pub transport: String,
    /// `legacy` or `modern`.
    pub era: String,
    /// Sessions (HTTP) or window (stdio).
    pub concurrency: u32,
    /// Measured wall time.
    pub seconds: f64,
    /// Verified calls in the measured window.
    pub calls: u64,
    /// Failures over the whole run.
    pub errors: u64,
    /// Failures by kind.
    pub error_kinds: BTreeMap<String, u64>,
    /// The first distinct failure messages.
    pub error_samples: Vec<String>,
    /// Sessions opened again after being lost.
    pub reopened: u64,
    /// Verified calls per second.
    pub calls_per_second: f64,
    /// Median latency, µs.
    pub p50_us: f64,
    /// 99th percentile latency, µs.
    pub p99_us: f64,
    /// Largest latency, µs.
    pub max_us: f64,
    /// Mean latency, µs.
    pub mean_us: f64,
    /// The server's CPU time (user + system) per verified call, µs, when its pid was known.
    pub server_cpu_us_per_call: Option<f64>,
    /// This tool's CPU time per verified call, µs.
    pub load_tool_cpu_us_per_call: Option<f64>,
    /// The machine's 1-minute load average when the run started.
    pub load_average_1m: Option<f64>,
}

/// One idle-sessions run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdleRecord {
    /// The server measured.
    pub server: String,
    /// `idle-N`, or `idle-N-detached`.
    pub scenario: String,
    /// Sessions asked for.
    pub sessions: usize,
    /// Whether the sessions were held without connections of their own.
    #[serde(default)]
    pub detached: bool,
    /// Sessions opened.
    pub opened: usize,
    /// Sessions that still answered after the hold.
    pub held: usize,
    /// Failures while opening or checking.
    pub errors: u64,
    /// Failures by kind.
    pub error_kinds: BTreeMap<String, u64>,
    /// The first distinct failure messages.
    pub error_samples: Vec<String>,
    /// The server's RSS before, KiB.
    pub rss_before_kib: Option<u64>,
    /// The server's RSS after the hold, KiB.
    pub rss_after_kib: Option<u64>,
    /// (after − before) ÷ opened, KiB.
    pub per_session_kib: Option<f64>,
    /// Wall time to open them all, s.
    pub open_seconds: f64,
    /// The machine's 1-minute load average at the end of the run.
    pub load_average_1m: Option<f64>,
}

/// A scenario the server could not be measured in (the preflight failed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsupportedRecord {
    /// The server.
    pub server: String,
    /// The scenario.
    pub scenario: String,
    /// The preflight's failure.
    pub reason: String,
}

/// One line of a results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Record {
    /// A load run.
    Load(LoadRecord),
    /// An idle-sessions run.
    Idle(IdleRecord),
    /// A scenario the server could not be measured in.
    Unsupported(UnsupportedRecord),
}

impl Record {
    /// The server.
    #[must_use]
    pub fn server(&self) -> &str {
        match self {
            Self::Load(r) => &r.server,
            Self::Idle(r) => &r.server,
            Self::Unsupported(r) => &r.server,
        }
    }

    /// The scenario.
    #[must_use]
    pub fn scenario(&self) -> &str {
        match self {
            Self::Load(r) => &r.scenario,
            Self::Idle(r) => &r.scenario,
            Self::Unsupported(r) => &r.scenario,
        }
    }

    /// One JSON line.
    #[must_use]
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Parses a results file (blank lines skipped).
///
/// # Errors
/// [`LoadError::Record`] for a line that is not a record.
pub fn parse_records(path: &str, text: &str) -> Result<Vec<Record>, LoadError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line).map_err(|e| LoadError::Record {
                path: path.to_owned(),
                line: index + 1,
                reason: e.to_string(),
            })
        })
        .collect()
}

/// What the report says about where and how it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportContext {
    /// When (free text, e.g. `date -u`).
    pub date: String,
    /// The command that reproduces it.
    pub command: String,
    /// The machine.
    pub machine: Machine,
    /// Extra notes (e.g. skipped servers), one per line.
    pub notes: Vec<String>,
}

/// The label prefix of our servers (`ours-smol`, `ours-tokio`, and variants such as
/// `ours-tokio-1w`), compared with [`BASELINE`].
pub const OURS_PREFIX: &str = "ours-";

/// Whether `server` is one of ours.
#[must_use]
pub fn is_ours(server: &str) -> bool {
    server.starts_with(OURS_PREFIX)
}
/// The server ours are compared with.
pub const BASELINE: &str = "rmcp";
/// The ceiling responder.
pub const CEILING: &str = "ceiling";

fn server_rank(server: &str) -> (usize, String) {
    let rank = match server {
        "ours-smol" => 0,
        "ours-tokio" => 1,
        ours if is_ours(ours) => 2,
        BASELINE => 3,
        CEILING => 4,
        _ => 5,
    };
    (rank, server.to_owned())
}

/// Orders scenarios: HTTP, then stdio, then idle; by concurrency; then by name (legacy before
/// modern, plain before `-same-ids` or `-detached`).
fn scenario_rank(scenario: &str) -> (usize, u64, String) {
    let mut parts = scenario.split('-');
    let transport = parts.next().unwrap_or_default();
    let number = parts
        .next()
        .map(|n| n.trim_start_matches('w'))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let rank = match transport {
        "http" => 0,
        "stdio" => 1,
        "idle" => 2,
        _ => 3,
    };
    (rank, number, scenario.to_owned())
}

fn num(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn opt(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), num)
}

fn ratio(ours: Option<f64>, theirs: Option<f64>) -> Option<f64> {
    match (ours, theirs) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn ratio_text(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |r| format!("{r:.2}×"))
}

/// A measure a target is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    CallsPerSecond,
    P99,
    CpuPerCall,
}

impl Metric {
    fn of(self, record: &LoadRecord) -> Option<f64> {
        match self {
            Self::CallsPerSecond => Some(record.calls_per_second),
            Self::P99 => Some(record.p99_us),
            Self::CpuPerCall => record.server_cpu_us_per_call,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::CallsPerSecond => "calls/s",
            Self::P99 => "p99",
            Self::CpuPerCall => "server CPU/call",
        }
    }
}

/// One of the issue's targets for a load scenario: ours (metric) relation factor × other.
#[derive(Debug, Clone, Copy)]
struct Target {
    transport: &'static str,
    /// `None`: any concurrency.
    concurrency: Option<u32>,
    metric: Metric,
    at_most: bool,
    factor: f64,
    against: &'static str,
}

const TARGETS: [Target; 7] = [
    Target {
        transport: "http",
        concurrency: Some(32),
        metric: Metric::CpuPerCall,
        at_most: true,
        factor: 0.33,
        against: BASELINE,
    },
    Target {
        transport: "http",
        concurrency: Some(32),
        metric: Metric::CpuPerCall,
        at_most: true,
        factor: 2.0,
        against: CEILING,
    },
    Target {
        transport: "http",
        concurrency: Some(32),
        metric: Metric::CallsPerSecond,
        at_most: false,
        factor: 2.0,
        against: BASELINE,
    },
    Target {
        transport: "http",
        concurrency: Some(32),
        metric: Metric::P99,
        at_most: true,
        factor: 0.5,
        against: BASELINE,
    },
    Target {
        transport: "http",
        concurrency: Some(1),
        metric: Metric::CallsPerSecond,
        at_most: false,
        factor: 1.5,
        against: BASELINE,
    },
    Target {
        transport: "stdio",
        concurrency: None,
        metric: Metric::CallsPerSecond,
        at_most: false,
        factor: 1.0,
        against: BASELINE,
    },
    Target {
        transport: "stdio",
        concurrency: None,
        metric: Metric::CpuPerCall,
        at_most: true,
        factor: 0.5,
        against: BASELINE,
    },
];

/// The largest idle legacy session the issue allows, KiB.
pub const IDLE_TARGET_KIB: f64 = 8.0;
/// The number of idle sessions that must all be held.
pub const IDLE_TARGET_SESSIONS: usize = 10_000;

struct Index<'a> {
    loads: Vec<&'a LoadRecord>,
}

impl<'a> Index<'a> {
    fn find(&self, server: &str, scenario: &str) -> Option<&'a LoadRecord> {
        self.loads
            .iter()
            .rev()
            .find(|r| r.server == server && r.scenario == scenario)
            .copied()
    }

    /// The record of `server` to compare `ours` with: the same scenario, or the same
    /// transport and concurrency in the legacy era (a server without the modern era).
    fn counterpart(&self, server: &str, ours: &LoadRecord) -> Option<(&'a LoadRecord, bool)> {
        if let Some(same) = self.find(server, &ours.scenario) {
            return Some((same, false));
        }
        self.loads
            .iter()
            .rev()
            .find(|r| {
                r.server == server
                    && r.transport == ours.transport
                    && r.concurrency == ours.concurrency
                    && r.era == "legacy"
            })
            .map(|r| (*r, true))
    }
}

/// Renders the report.
#[must_use]
pub fn markdown(records: &[Record], context: &ReportContext) -> String {
    let mut out = String::new();
    let loads: Vec<&LoadRecord> = records
        .iter()
        .filter_map(|r| match r {
            Record::Load(load) => Some(load),
            _ => None,
        })
        .collect();
    let index = Index {
        loads: loads.clone(),
    };
    header(&mut out, records, context);
    load_table(&mut out, records);
    ratio_table(&mut out, &index);
    idle_table(&mut out, records);
    targets(&mut out, &index, records);
    out
}

fn header(out: &mut String, records: &[Record], context: &ReportContext) {
    let averages: Vec<f64> = records
        .iter()
        .filter_map(|r| match r {
            Record::Load(l) => l.load_average_1m,
            Record::Idle(i) => i.load_average_1m,
            Record::Unsupported(_) => None,
        })
        .collect();
    let (low, high) = averages
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let _ = writeln!(out, "# Benchmarks: MCP servers under load, side by side\n");
    let _ = writeln!(
        out,
        "Made by `mcp-load` (crate [`mcp-load`](mcp-load)) on {date}.\n\n\
         - Reproduce: `{command}`\n\
         - Machine: {cpus} CPUs, {model}, Linux {kernel}\n\
         - 1-minute load average at the start of each run: {load}\n",
        date = context.date,
        command = context.command,
        cpus = context.machine.cpus,
        model = context.machine.cpu_model,
        kernel = context.machine.kernel,
        load = if averages.is_empty() {
            "unknown".to_owned()
        } else {
            format!("{} to {}", num(low), num(high))
        },
    );
    for note in &context.notes {
        let _ = writeln!(out, "- {note}");
    }
    let _ = writeln!(
        out,
        "\nEvery call is `tools/call` of `echo` with a unique message; a call counts only when \
         its answer has the request's id and echoes the message. HTTP sessions are closed \
         loops over one keep-alive connection each (legacy: `initialize` then \
         `Mcp-Session-Id`, 2025-11-25; modern: stateless 2026-07-28 with `_meta`); stdio keeps \
         a window of W requests in flight. Request ids are unique across sessions, except in \
         `-same-ids` runs: 8 modern sessions that each number their requests 1, 2, 3…, as \
         independent clients do, which a stateless server must answer each on its own (their \
         errors are refusals). Server CPU/call is the server's utime + stime \
         (`/proc/<pid>/stat`) over the measured window ÷ verified calls: at high rates the \
         load tool, not the server, limits calls/s, so CPU/call is the figure to compare. \
         `ceiling` is `mcp-load ceiling`: one thread, epoll, the HTTP/1.1 codec and a \
         serde_json parse per request, a canned echo — what the machine and the load tool \
         allow.\n"
    );
}

fn sorted<'a>(records: impl Iterator<Item = &'a Record>) -> Vec<&'a Record> {
    let mut list: Vec<&Record> = records.collect();
    list.sort_by_key(|r| (scenario_rank(r.scenario()), server_rank(r.server())));
    list
}

fn errors_cell(errors: u64, kinds: &BTreeMap<String, u64>) -> String {
    if errors == 0 {
        return "0".into();
    }
    let detail: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    format!("**{errors}** ({})", detail.join(", "))
}

/// The most error samples shown per run (the results file keeps more).
const SAMPLES_SHOWN: usize = 3;

fn samples_text(samples: &[String]) -> String {
    let shown: Vec<&str> = samples
        .iter()
        .take(SAMPLES_SHOWN)
        .map(|s| s.as_str())
        .collect();
    let more = samples.len().saturating_sub(SAMPLES_SHOWN);
    let text = shown.join("; ");
    if more > 0 {
        format!("{text}; … ({more} more in the results file)")
    } else {
        text
    }
}

fn load_table(out: &mut String, records: &[Record]) {
    let _ = writeln!(out, "## Results\n");
    let _ = writeln!(
        out,
        "| scenario | server | calls/s | p50 µs | p99 µs | max µs | errors | server CPU µs/call | load-tool CPU µs/call | load avg |\n\
         |---|---|---:|---:|---:|---:|---|---:|---:|---:|"
    );
    let rows = sorted(
        records
            .iter()
            .filter(|r| !matches!(r, Record::Idle(_)) && !r.scenario().starts_with("idle")),
    );
    for record in rows {
        match record {
            Record::Load(r) => {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    r.scenario,
                    r.server,
                    num(r.calls_per_second),
                    num(r.p50_us),
                    num(r.p99_us),
                    num(r.max_us),
                    errors_cell(r.errors, &r.error_kinds),
                    opt(r.server_cpu_us_per_call),
                    opt(r.load_tool_cpu_us_per_call),
                    opt(r.load_average_1m),
                );
            }
            Record::Unsupported(u) => {
                let _ = writeln!(
                    out,
                    "| {} | {} | n/a: {} | | | | | | | |",
                    u.scenario,
                    u.server,
                    u.reason.replace('|', "\\|")
                );
            }
            Record::Idle(_) => {}
        }
    }
    let samples = records.iter().filter_map(|r| match r {
        Record::Load(l) => Some((l.scenario.as_str(), l.server.as_str(), &l.error_samples[..])),
        _ => None,
    });
    write_error_samples(out, samples);
}

fn ratio_table(out: &mut String, index: &Index<'_>) {
    let _ = writeln!(
        out,
        "## Ours ÷ rmcp\n\nA ratio below 1 is better for latency and CPU/call, above 1 for \
         calls/s. `(vs legacy)`: rmcp has no such era, compared with its legacy run.\n"
    );
    let _ = writeln!(
        out,
        "| scenario | server | calls/s | p50 | p99 | server CPU/call | CPU/call ÷ ceiling |\n\
         |---|---|---:|---:|---:|---:|---:|"
    );
    let mut ours: Vec<&LoadRecord> = index
        .loads
        .iter()
        .filter(|r| is_ours(&r.server))
        .copied()
        .collect();
    ours.sort_by_key(|r| (scenario_rank(&r.scenario), server_rank(&r.server)));
    for record in ours {
        let baseline = index.counterpart(BASELINE, record);
        let ceiling = index.counterpart(CEILING, record).map(|(c, _)| c);
        let note = if baseline.is_some_and(|(_, fallback)| fallback) {
            " (vs legacy)"
        } else {
            ""
        };
        let base = baseline.map(|(b, _)| b);
        let _ = writeln!(
            out,
            "| {}{} | {} | {} | {} | {} | {} | {} |",
            record.scenario,
            note,
            record.server,
            ratio_text(ratio(
                Some(record.calls_per_second),
                base.map(|b| b.calls_per_second)
            )),
            ratio_text(ratio(Some(record.p50_us), base.map(|b| b.p50_us))),
            ratio_text(ratio(Some(record.p99_us), base.map(|b| b.p99_us))),
            ratio_text(ratio(
                record.server_cpu_us_per_call,
                base.and_then(|b| b.server_cpu_us_per_call)
            )),
            ratio_text(ratio(
                record.server_cpu_us_per_call,
                ceiling.and_then(|c| c.server_cpu_us_per_call)
            )),
        );
    }
    let _ = writeln!(out);
}

fn idle_table(out: &mut String, records: &[Record]) {
    let rows = sorted(records.iter().filter(|r| r.scenario().starts_with("idle")));
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "## Idle legacy sessions\n\nN sessions opened (`initialize` + `notifications/initialized`), \
         each keeping its connection open, held idle; the server's RSS (`VmRSS`) before and \
         after; then every session must still answer an `echo` call (held). `detached`: the \
         sessions were opened over a few connections and held without any, so the figure is \
         the session alone, without its connection.\n"
    );
    let _ = writeln!(
        out,
        "| scenario | server | opened | held | errors | RSS before KiB | RSS after KiB | KiB per session | open s |\n\
         |---|---|---:|---:|---|---:|---:|---:|---:|"
    );
    for record in rows {
        match record {
            Record::Idle(r) => {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    r.scenario,
                    r.server,
                    r.opened,
                    r.held,
                    errors_cell(r.errors, &r.error_kinds),
                    r.rss_before_kib.map_or("–".into(), |v| v.to_string()),
                    r.rss_after_kib.map_or("–".into(), |v| v.to_string()),
                    opt(r.per_session_kib),
                    num(r.open_seconds),
                );
            }
            Record::Unsupported(u) => {
                let _ = writeln!(
                    out,
                    "| {} | {} | n/a: {} | | | | | | |",
                    u.scenario,
                    u.server,
                    u.reason.replace('|', "\\|")
                );
            }
            Record::Load(_) => {}
        }
    }
    let samples = records.iter().filter_map(|r| match r {
        Record::Idle(i) => Some((i.scenario.as_str(), i.server.as_str(), &i.error_samples[..])),
        _ => None,
    });
    write_error_samples(out, samples);
}

/// The "Error samples" list under a table: one line per run that had errors.
fn write_error_samples<'a>(
    out: &mut String,
    runs: impl Iterator<Item = (&'a str, &'a str, &'a [String])>,
) {
    let lines: Vec<String> = runs
        .filter(|(_, _, samples)| !samples.is_empty())
        .map(|(scenario, server, samples)| {
            format!("- {scenario} / {server}: {}", samples_text(samples))
        })
        .collect();
    if !lines.is_empty() {
        let _ = writeln!(out, "\nError samples:\n\n{}", lines.join("\n"));
    }
    let _ = writeln!(out);
}

/// A verdict: `None` when it cannot be decided (a run is missing).
fn verdict(met: Option<bool>, errors: u64) -> &'static str {
    match met {
        None => "n/a",
        Some(_) if errors > 0 => "FAIL (errors)",
        Some(true) => "PASS",
        Some(false) => "FAIL",
    }
}

fn targets(out: &mut String, index: &Index<'_>, records: &[Record]) {
    let _ = writeln!(
        out,
        "## Targets (issue 8)\n\n| scenario | server | target | measured | verdict |\n|---|---|---|---:|---|"
    );
    let mut ours: Vec<&LoadRecord> = index
        .loads
        .iter()
        .filter(|r| is_ours(&r.server))
        .copied()
        .collect();
    ours.sort_by_key(|r| (scenario_rank(&r.scenario), server_rank(&r.server)));
    for record in ours {
        for target in TARGETS.iter().filter(|t| {
            t.transport == record.transport && t.concurrency.is_none_or(|c| c == record.concurrency)
        }) {
            let other = index.counterpart(target.against, record).map(|(o, _)| o);
            let value = ratio(
                target.metric.of(record),
                other.and_then(|o| target.metric.of(o)),
            );
            let met = value.map(|v| {
                if target.at_most {
                    v <= target.factor
                } else {
                    v >= target.factor
                }
            });
            let _ = writeln!(
                out,
                "| {} | {} | {} {} {}× {} | {} | {} |",
                record.scenario,
                record.server,
                target.metric.name(),
                if target.at_most { "≤" } else { "≥" },
                target.factor,
                target.against,
                ratio_text(value),
                verdict(met, record.errors),
            );
        }
    }
    for record in sorted(records.iter()) {
        let Record::Idle(idle) = record else {
            continue;
        };
        if !is_ours(&idle.server) {
            continue;
        }
        let met = idle.per_session_kib.map(|kib| kib <= IDLE_TARGET_KIB);
        let _ = writeln!(
            out,
            "| {} | {} | idle RSS per session ≤ {IDLE_TARGET_KIB} KiB | {} KiB | {} |",
            idle.scenario,
            idle.server,
            opt(idle.per_session_kib),
            verdict(met, idle.errors),
        );
        if idle.sessions == IDLE_TARGET_SESSIONS && !idle.detached {
            let _ = writeln!(
                out,
                "| {} | {} | all {IDLE_TARGET_SESSIONS} sessions held | {} held | {} |",
                idle.scenario,
                idle.server,
                idle.held,
                if idle.held == IDLE_TARGET_SESSIONS {
                    "PASS"
                } else {
                    "FAIL"
                },
            );
        }
    }
    for record in records {
        if let Record::Unsupported(u) = record
            && is_ours(&u.server)
        {
            let _ = writeln!(
                out,
                "| {} | {} | measurable | n/a | FAIL ({}) |",
                u.scenario,
                u.server,
                u.reason.replace('|', "\\|")
            );
        }
    }
    let _ = writeln!(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(server: &str, scenario: &str, cps: f64, p99: f64, cpu: f64) -> Record {
        let mut parts = scenario.split('-');
        let transport = parts.next().unwrap().to_owned();
        let concurrency = parts
            .next()
            .unwrap()
            .trim_start_matches('w')
            .parse()
            .unwrap();
        Record::Load(LoadRecord {
            server: server.into(),
            scenario: scenario.into(),
            transport,
            era: parts.next().unwrap_or("legacy").into(),
            concurrency,
            seconds: 10.0,
            calls: (cps * 10.0) as u64,
            errors: 0,
            error_kinds: BTreeMap::new(),
            error_samples: Vec::new(),
            reopened: 0,
            calls_per_second: cps,
            p50_us: p99 / 2.0,
            p99_us: p99,
            max_us: p99 * 2.0,
            mean_us: p99 / 2.0,
            server_cpu_us_per_call: Some(cpu),
            load_tool_cpu_us_per_call: Some(10.0),
            load_average_1m: Some(0.2),
        })
    }

    fn context() -> ReportContext {
        ReportContext {
            date: "2026-01-01".into(),
            command: "scripts/bench.sh".into(),
            machine: Machine {
                cpus: 2,
                cpu_model: "Test CPU".into(),
                kernel: "6.0".into(),
            },
            notes: vec![],
        }
    }

    #[test]
    fn records_round_trip_as_lines() {
        let record = load("rmcp", "http-32-legacy", 30_000.0, 1800.0, 38.0);
        let line = record.to_line();
        assert!(line.starts_with(r#"{"kind":"load""#), "{line}");
        let parsed = parse_records("f", &format!("{line}\n\n{line}\n")).unwrap();
        assert_eq!(parsed, vec![record.clone(), record]);
        assert!(matches!(
            parse_records("f", "{}\n"),
            Err(LoadError::Record { line: 1, .. })
        ));
    }

    #[test]
    fn verdicts_follow_the_targets() {
        let records = vec![
            load("rmcp", "http-32-legacy", 30_000.0, 1800.0, 38.0),
            load("ceiling", "http-32-legacy", 60_000.0, 600.0, 7.0),
            // CPU 0.30× rmcp (pass), 1.71× ceiling (pass), calls 2.1× (pass), p99 0.6× (fail).
            load("ours-smol", "http-32-legacy", 63_000.0, 1080.0, 12.0),
            // The modern era is compared with rmcp's legacy run.
            load("ours-smol", "http-32-modern", 50_000.0, 900.0, 20.0),
            Record::Unsupported(UnsupportedRecord {
                server: "rmcp".into(),
                scenario: "http-32-modern".into(),
                reason: "HTTP status 400".into(),
            }),
            Record::Idle(IdleRecord {
                server: "ours-smol".into(),
                scenario: "idle-10000".into(),
                sessions: 10_000,
                detached: false,
                opened: 10_000,
                held: 9_000,
                errors: 1000,
                error_kinds: BTreeMap::from([("http-status".to_owned(), 1000)]),
                error_samples: vec!["HTTP status 503: full".into()],
                rss_before_kib: Some(4000),
                rss_after_kib: Some(54_000),
                per_session_kib: Some(5.0),
                open_seconds: 2.0,
                load_average_1m: Some(0.1),
            }),
        ];
        let text = markdown(&records, &context());
        assert!(
            text.contains(
                "| http-32-legacy | ours-smol | server CPU/call ≤ 0.33× rmcp | 0.32× | PASS |"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "| http-32-legacy | ours-smol | server CPU/call ≤ 2× ceiling | 1.71× | PASS |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| http-32-legacy | ours-smol | calls/s ≥ 2× rmcp | 2.10× | PASS |"),
            "{text}"
        );
        assert!(
            text.contains("| http-32-legacy | ours-smol | p99 ≤ 0.5× rmcp | 0.60× | FAIL |"),
            "{text}"
        );
        assert!(
            text.contains("| http-32-modern (vs legacy) | ours-smol |"),
            "{text}"
        );
        assert!(
            text.contains("| http-32-modern | rmcp | n/a: HTTP status 400 |"),
            "{text}"
        );
        assert!(
            text.contains(
                "| idle-10000 | ours-smol | all 10000 sessions held | 9000 held | FAIL |"
            ),
            "{text}"
        );
        assert!(text.contains("| idle-10000 | ours-smol | idle RSS per session ≤ 8 KiB | 5.00 KiB | FAIL (errors) |"), "{text}");
        assert!(text.contains("2 CPUs, Test CPU, Linux 6.0"), "{text}");
        // Ordering: HTTP 32 legacy rows list ours first, then rmcp, then the ceiling.
        let smol = text.find("| http-32-legacy | ours-smol | 63000").unwrap();
        let rmcp = text.find("| http-32-legacy | rmcp | 30000").unwrap();
        let ceiling = text.find("| http-32-legacy | ceiling | 60000").unwrap();
        assert!(smol < rmcp && rmcp < ceiling);
    }

    #[test]
    fn missing_baseline_is_not_a_verdict() {
        let records = vec![load("ours-tokio", "stdio-w1", 20_000.0, 60.0, 9.0)];
        let text = markdown(&records, &context());
        assert!(
            text.contains("| stdio-w1 | ours-tokio | calls/s ≥ 1× rmcp | – | n/a |"),
            "{text}"
        );
    }
}
