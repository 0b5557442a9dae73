//! Idle legacy sessions: open N sessions (`initialize` + `notifications/initialized`), hold
//! them without traffic, read the server's RSS before and after, then check every session
//! still answers an `echo` call.
//!
//! By default each session keeps its own keep-alive connection open, as N separate clients
//! would: N file descriptors on each side (raise `ulimit -n`). Detached, the sessions are
//! opened (and checked) over one connection per thread and held without a connection of their
//! own, to tell what a session costs the server from what a connection costs it.

use std::time::{Duration, Instant};

use crate::error::{ErrorTally, LoadError};
use crate::http::{Connection, Session, Target};
use crate::procfs::{self, Pid};
use crate::report::IdleRecord;
use crate::wire::{CallBuilder, Era};

/// Settings of an idle run.
#[derive(Debug, Clone)]
pub struct IdleLoad {
    /// The endpoint.
    pub target: Target,
    /// Sessions to open and hold.
    pub sessions: usize,
    /// Threads opening (and checking) them.
    pub threads: usize,
    /// How long they are held before the second RSS reading.
    pub hold: Duration,
    /// The server, for its RSS.
    pub server_pid: Option<u32>,
    /// The longest wait for one answer.
    pub call_timeout: Duration,
    /// Hold the sessions without connections (opened over one connection per thread).
    pub detached: bool,
}

/// What holding the sessions showed.
#[derive(Debug, Clone)]
pub struct IdleOutcome {
    /// Sessions opened.
    pub opened: usize,
    /// Sessions that still answered after the hold.
    pub held: usize,
    /// Failures while opening or checking.
    pub errors: ErrorTally,
    /// The server's RSS before opening, in KiB.
    pub rss_before_kib: Option<u64>,
    /// The server's RSS after the hold, in KiB.
    pub rss_after_kib: Option<u64>,
    /// Wall time to open them all.
    pub open_time: Duration,
}

fn split<T>(items: Vec<T>, parts: usize) -> Vec<Vec<T>> {
    let parts = parts.max(1);
    let mut out: Vec<Vec<T>> = (0..parts).map(|_| Vec::new()).collect();
    for (index, item) in items.into_iter().enumerate() {
        if let Some(part) = out.get_mut(index % parts) {
            part.push(item);
        }
    }
    out
}

/// Opens `count` sessions; failures are counted.
fn open_sessions(load: &IdleLoad, count: usize) -> (Vec<Session>, ErrorTally) {
    let per_thread = split((0..count).collect(), load.threads);
    let results: Vec<(Vec<Session>, ErrorTally)> = std::thread::scope(|scope| {
        let handles: Vec<_> = per_thread
            .into_iter()
            .map(|indexes| {
                scope.spawn(move || {
                    let mut sessions = Vec::with_capacity(indexes.len());
                    let mut errors = ErrorTally::default();
                    let mut shared: Option<Connection> = None;
                    for _ in indexes {
                        let opened = Session::open_with(
                            &load.target,
                            Era::Legacy,
                            load.call_timeout,
                            shared.take(),
                        );
                        match opened {
                            Ok(mut session) => {
                                if load.detached {
                                    shared = session.take_connection();
                                }
                                sessions.push(session);
                            }
                            Err(error) => errors.add(&error),
                        }
                    }
                    (sessions, errors)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut sessions = Vec::with_capacity(count);
    let mut errors = ErrorTally::default();
    for (opened, failed) in results {
        sessions.extend(opened);
        errors.merge(&failed);
    }
    (sessions, errors)
}

/// Checks each session with one `echo` call; returns how many answered.
fn check_sessions(load: &IdleLoad, sessions: Vec<Session>, errors: &mut ErrorTally) -> usize {
    let builder = CallBuilder::new(Era::Legacy, 0);
    let groups = split(sessions, load.threads);
    let results: Vec<(usize, ErrorTally)> = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .into_iter()
            .enumerate()
            .map(|(group, mut sessions)| {
                let builder = &builder;
                scope.spawn(move || {
                    let mut alive = 0;
                    let mut errors = ErrorTally::default();
                    let mut message = String::new();
                    let mut shared: Option<Connection> = None;
                    for (index, session) in sessions.iter_mut().enumerate() {
                        let id = index as u64 + 1;
                        let group = u32::try_from(group).unwrap_or(u32::MAX);
                        builder.message(group, id, &mut message);
                        if load.detached {
                            session.set_connection(shared.take());
                        }
                        match session.call_echo(id, &message, builder) {
                            Ok(()) => alive += 1,
                            Err(error) => errors.add(&error),
                        }
                        if load.detached {
                            shared = session.take_connection();
                        }
                    }
                    (alive, errors)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut alive = 0;
    for (count, failed) in results {
        alive += count;
        errors.merge(&failed);
    }
    alive
}

fn rss(pid: Option<u32>) -> Result<Option<u64>, LoadError> {
    pid.map(|pid| procfs::rss_kib(Pid::Id(pid))).transpose()
}

/// Opens, holds and checks the sessions.
///
/// # Errors
/// [`LoadError::Proc`] when the server's RSS cannot be read (it exited).
pub fn run(load: &IdleLoad) -> Result<IdleOutcome, LoadError> {
    let rss_before_kib = rss(load.server_pid)?;
    let start = Instant::now();
    let (sessions, mut errors) = open_sessions(load, load.sessions);
    let open_time = start.elapsed();
    let opened = sessions.len();
    std::thread::sleep(load.hold);
    let rss_after_kib = rss(load.server_pid)?;
    let held = check_sessions(load, sessions, &mut errors);
    Ok(IdleOutcome {
        opened,
        held,
        errors,
        rss_before_kib,
        rss_after_kib,
        open_time,
    })
}

/// Descriptors each side needs beyond one per held connection (listeners, stdio, spares).
const SPARE_DESCRIPTORS: u64 = 32;

/// Why holding `load.sessions` connections cannot succeed, when a descriptor limit (of this
/// process or of the server) is too low for it: such a run fails for lack of descriptors, not
/// because of the server. Nothing when the sessions are held detached or the limits are
/// unknown.
#[must_use]
pub fn descriptor_shortage(load: &IdleLoad) -> Vec<String> {
    if load.detached {
        return Vec::new();
    }
    let needed = u64::try_from(load.sessions)
        .unwrap_or(u64::MAX)
        .saturating_add(SPARE_DESCRIPTORS);
    let mut processes = vec![("the load tool", Pid::Current)];
    if let Some(pid) = load.server_pid {
        processes.push(("the server", Pid::Id(pid)));
    }
    processes
        .into_iter()
        .filter_map(|(who, pid)| match procfs::open_files_limit(pid) {
            Ok(Some(limit)) if limit < needed => Some(format!(
                "{who} may open {limit} descriptors (ulimit -n); {} sessions with their \
                 connections need about {needed}",
                load.sessions
            )),
            _ => None,
        })
        .collect()
}

/// Checks the server accepts connections and legacy sessions at all (one session, one call),
/// so a server without the legacy era is reported as such rather than as N failures.
///
/// # Errors
/// [`LoadError::Preflight`].
pub fn preflight(target: &Target, timeout: Duration) -> Result<(), LoadError> {
    let builder = CallBuilder::new(Era::Legacy, 0);
    let mut session = Session::open(target, Era::Legacy, timeout).map_err(LoadError::Preflight)?;
    let mut message = String::new();
    builder.message(u32::MAX, 0, &mut message);
    session
        .call_echo(1, &message, &builder)
        .map_err(LoadError::Preflight)?;
    // The preflight session stays open on the server; it is one of thousands.
    drop(session);
    Ok(())
}

/// The label of an idle run's scenario.
#[must_use]
pub fn scenario(sessions: usize, detached: bool) -> String {
    if detached {
        format!("idle-{sessions}-detached")
    } else {
        format!("idle-{sessions}")
    }
}

/// Builds the record of an idle run.
#[must_use]
pub fn record(server: &str, load: &IdleLoad, outcome: &IdleOutcome) -> IdleRecord {
    let per_session_kib = outcome
        .rss_before_kib
        .zip(outcome.rss_after_kib)
        .filter(|_| outcome.opened > 0)
        .map(|(before, after)| (after as f64 - before as f64) / outcome.opened as f64);
    IdleRecord {
        server: server.to_owned(),
        scenario: scenario(load.sessions, load.detached),
        sessions: load.sessions,
        detached: load.detached,
        opened: outcome.opened,
        held: outcome.held,
        errors: outcome.errors.total(),
        error_kinds: outcome.errors.by_kind.clone(),
        error_samples: outcome.errors.samples.clone(),
        rss_before_kib: outcome.rss_before_kib,
        rss_after_kib: outcome.rss_after_kib,
        per_session_kib,
        open_seconds: outcome.open_time.as_secs_f64(),
        load_average_1m: procfs::load_average_1m(),
    }
}
