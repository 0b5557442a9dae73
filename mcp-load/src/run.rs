//! What every load run shares: the phase (warm-up, measure, stop) all workers watch, the
//! per-worker statistics, and the measured window with the CPU time the server and this tool
//! spent in it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use crate::error::{ErrorTally, LoadError};
use crate::hist::Histogram;
use crate::procfs::{self, Pid};
use crate::report::LoadRecord;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseState {
    /// Calls are made but not counted (connections, caches and allocators settle).
    Warmup,
    /// Calls completed now are counted.
    Measure,
    /// Workers finish their call and return.
    Stop,
}

/// The phase, shared by the coordinator and the workers.
#[derive(Debug, Clone, Default)]
pub struct Phase(Arc<AtomicU8>);

impl Phase {
    /// A new run, warming up.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The current state.
    #[must_use]
    pub fn get(&self) -> PhaseState {
        match self.0.load(Ordering::Acquire) {
            0 => PhaseState::Warmup,
            1 => PhaseState::Measure,
            _ => PhaseState::Stop,
        }
    }

    /// Moves to `state`.
    pub fn set(&self, state: PhaseState) {
        let value = match state {
            PhaseState::Warmup => 0,
            PhaseState::Measure => 1,
            PhaseState::Stop => 2,
        };
        self.0.store(value, Ordering::Release);
    }
}

/// What one worker (an HTTP session, or the stdio reader) saw.
#[derive(Debug, Clone)]
pub struct SessionStats {
    /// Latencies of the calls counted.
    pub hist: Histogram,
    /// Verified calls completed while measuring.
    pub calls: u64,
    /// Every failure of the whole run, warm-up and handshakes included.
    pub errors: ErrorTally,
    /// Sessions opened again after one was lost.
    pub reopened: u64,
}

impl SessionStats {
    /// Empty statistics.
    #[must_use]
    pub fn new() -> Self {
        Self {
            hist: Histogram::new(),
            calls: 0,
            errors: ErrorTally::default(),
            reopened: 0,
        }
    }

    /// Adds another worker's statistics.
    pub fn merge(&mut self, other: &Self) {
        self.hist.merge(&other.hist);
        self.calls += other.calls;
        self.errors.merge(&other.errors);
        self.reopened += other.reopened;
    }
}

impl Default for SessionStats {
    fn default() -> Self {
        Self::new()
    }
}

/// CPU time so far of the server (when known) and of this process.
#[derive(Debug, Clone, Copy)]
struct Snapshot {
    at: Instant,
    server_ticks: Option<u64>,
    own_ticks: u64,
}

fn snapshot(server: Option<u32>) -> Result<Snapshot, LoadError> {
    Ok(Snapshot {
        at: Instant::now(),
        server_ticks: server
            .map(|pid| procfs::cpu_ticks(Pid::Id(pid)))
            .transpose()?,
        own_ticks: procfs::cpu_ticks(Pid::Current)?,
    })
}

/// The measured window: its length and the CPU time spent in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Wall time measured.
    pub elapsed: Duration,
    /// The server's CPU time (user + system), when its pid is known.
    pub server_cpu: Option<Duration>,
    /// This tool's CPU time.
    pub own_cpu: Duration,
}

/// Runs the clock: waits `warmup`, starts measuring, waits `duration`, stops, reading the
/// CPU time of `server` (a pid) and of this process at both ends.
///
/// # Errors
/// [`LoadError::Proc`] when the server's `/proc` entry cannot be read (it exited).
pub fn measure(
    phase: &Phase,
    warmup: Duration,
    duration: Duration,
    server: Option<u32>,
) -> Result<Window, LoadError> {
    std::thread::sleep(warmup);
    let before = snapshot(server);
    phase.set(PhaseState::Measure);
    std::thread::sleep(duration);
    phase.set(PhaseState::Stop);
    let after = snapshot(server);
    let (before, after) = (before?, after?);
    let per_second = procfs::clock_ticks_per_second();
    Ok(Window {
        elapsed: after.at - before.at,
        server_cpu: before
            .server_ticks
            .zip(after.server_ticks)
            .map(|(b, a)| procfs::ticks_to_duration(a.saturating_sub(b), per_second)),
        own_cpu: procfs::ticks_to_duration(
            after.own_ticks.saturating_sub(before.own_ticks),
            per_second,
        ),
    })
}

/// What identifies a run in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLabel {
    /// The server measured (`ours-smol`, `rmcp`…).
    pub server: String,
    /// The scenario (`http-32-legacy`, `stdio-w64`…).
    pub scenario: String,
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// The record of a finished run.
#[must_use]
pub fn record(
    label: &RunLabel,
    transport: &str,
    era: &str,
    concurrency: u32,
    stats: &SessionStats,
    window: &Window,
    load_average: Option<f64>,
) -> LoadRecord {
    let calls = stats.calls;
    let per_call = |cpu: Duration| (calls > 0).then(|| micros(cpu) / calls as f64);
    LoadRecord {
        server: label.server.clone(),
        scenario: label.scenario.clone(),
        transport: transport.to_owned(),
        era: era.to_owned(),
        concurrency,
        seconds: window.elapsed.as_secs_f64(),
        calls,
        errors: stats.errors.total(),
        error_kinds: stats.errors.by_kind.clone(),
        error_samples: stats.errors.samples.clone(),
        reopened: stats.reopened,
        calls_per_second: calls as f64 / window.elapsed.as_secs_f64().max(1e-9),
        p50_us: micros(stats.hist.quantile(0.50)),
        p99_us: micros(stats.hist.quantile(0.99)),
        max_us: micros(stats.hist.max()),
        mean_us: micros(stats.hist.mean()),
        server_cpu_us_per_call: window.server_cpu.and_then(per_call),
        load_tool_cpu_us_per_call: per_call(window.own_cpu),
        load_average_1m: load_average,
    }
}
