//! Load over stdio: the server is spawned with pipes, handshaken (legacy `initialize`, or
//! nothing in the modern era), then a writer keeps W requests in flight while a reader checks
//! each answer line. The server's pid is the child's, so its CPU time is always measured (the
//! command must `exec` the server rather than run it under a shell that stays).

use std::collections::HashMap;
use std::io::{BufWriter, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::time::{Duration, Instant};

use mcp_proto::framing::{LineDecoder, LineStatus};

use crate::error::{CallError, ErrorTally, LoadError};
use crate::run::{Phase, PhaseState, RunLabel, SessionStats, Window};
use crate::wire::{self, CallBuilder, Era, Incoming};

/// Bytes read from the server's stdout per `read`.
const READ_CHUNK: usize = 64 * 1024;
/// How long the server gets to exit after its stdin is closed.
const EXIT_GRACE: Duration = Duration::from_secs(5);
/// The id of the preflight call (the loop counts from 1).
const PREFLIGHT_ID: u64 = 1 << 40;
/// The session number in the messages.
const SESSION: u32 = 0;

/// Settings of a stdio load run.
#[derive(Debug, Clone)]
pub struct StdioLoad {
    /// The server command and its arguments.
    pub command: Vec<String>,
    /// Requests in flight at once.
    pub window: u32,
    /// The era of the calls.
    pub era: Era,
    /// Size of each message, at least.
    pub message_bytes: usize,
    /// The longest wait for one answer.
    pub call_timeout: Duration,
}

/// Reads the server's stdout one line at a time, bounded by the line decoder's limit.
struct Lines {
    stdout: ChildStdout,
    decoder: LineDecoder,
    buffer: Vec<u8>,
    start: usize,
    chunk: Vec<u8>,
}

impl Lines {
    fn new(stdout: ChildStdout) -> Self {
        Self {
            stdout,
            decoder: LineDecoder::new(),
            buffer: Vec::new(),
            start: 0,
            chunk: vec![0; READ_CHUNK],
        }
    }

    /// The next line, or `None` at end of output. A line over the limit is an error (and is
    /// skipped).
    fn next(&mut self) -> Result<Option<&[u8]>, CallError> {
        loop {
            let rest = self.buffer.get(self.start..).unwrap_or_default();
            match self.decoder.decode(rest) {
                Ok(LineStatus::Line { consumed, .. }) => {
                    let from = self.start;
                    self.start += consumed;
                    // The consumed bytes are the line with its terminator (and any empty lines
                    // skipped before it); the line is what is left once those are trimmed.
                    let line = self.buffer.get(from..self.start).unwrap_or_default();
                    return Ok(Some(trim_line(line)));
                }
                Ok(LineStatus::NeedMore { consumed }) => {
                    self.start += consumed;
                    self.buffer.drain(..self.start.min(self.buffer.len()));
                    self.start = 0;
                    let n = loop {
                        match self.stdout.read(&mut self.chunk) {
                            Ok(n) => break n,
                            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                            Err(error) => return Err(CallError::io(&error)),
                        }
                    };
                    if n == 0 {
                        return match self.decoder.finish(&self.buffer) {
                            Ok(()) => Ok(None),
                            Err(error) => Err(CallError::Line(error)),
                        };
                    }
                    self.buffer
                        .extend_from_slice(self.chunk.get(..n).unwrap_or_default());
                }
                Err(error) => return Err(CallError::Line(error)),
            }
        }
    }
}

/// A line as consumed (empty lines skipped before it, its terminator after it): the line
/// itself.
fn trim_line(consumed: &[u8]) -> &[u8] {
    let mut line = consumed;
    while let [b'\n' | b'\r', rest @ ..] = line {
        line = rest;
    }
    while let [rest @ .., b'\n' | b'\r'] = line {
        line = rest;
    }
    line
}

fn write_line(stdin: &mut BufWriter<ChildStdin>, body: &[u8]) -> Result<(), CallError> {
    stdin
        .write_all(body)
        .and_then(|()| stdin.write_all(b"\n"))
        .map_err(|e| CallError::io(&e))
}

/// Reads until the answer to `id`, skipping notifications.
fn read_answer(lines: &mut Lines, id: u64) -> Result<Vec<u8>, CallError> {
    loop {
        let line = lines.next()?.ok_or(CallError::Closed)?;
        match wire::classify(line)? {
            Incoming::Notification => {}
            Incoming::Request(method) => return Err(CallError::ServerRequest(method)),
            Incoming::Answer { id: got } if got == id.to_string() => return Ok(line.to_vec()),
            Incoming::Answer { id: got } => {
                return Err(CallError::WrongId { expected: id, got });
            }
        }
    }
}

/// The spawned server, handshaken and checked with one call.
struct Started {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    lines: Lines,
}

fn start(load: &StdioLoad, builder: &CallBuilder) -> Result<Started, LoadError> {
    let (program, args) = load
        .command
        .split_first()
        .ok_or_else(|| LoadError::Usage("no server command".into()))?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| LoadError::io(format!("spawning {program}"), e))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(LoadError::Usage("the child has no pipes".into()));
    };
    let mut started = Started {
        child,
        stdin: BufWriter::with_capacity(64 * 1024, stdin),
        lines: Lines::new(stdout),
    };
    if let Err(error) = preflight(&mut started, builder) {
        let _ = started.child.kill();
        let _ = started.child.wait();
        return Err(LoadError::Preflight(error));
    }
    Ok(started)
}

fn preflight(started: &mut Started, builder: &CallBuilder) -> Result<(), CallError> {
    if builder.era() == Era::Legacy {
        write_line(&mut started.stdin, &wire::initialize_body(0))?;
        started.stdin.flush().map_err(|e| CallError::io(&e))?;
        let answer = read_answer(&mut started.lines, 0)?;
        wire::check_initialize(&answer, 0)?;
        write_line(&mut started.stdin, &wire::initialized_body())?;
    }
    let mut message = String::new();
    builder.message(SESSION, PREFLIGHT_ID, &mut message);
    let mut body = Vec::new();
    builder.write_call(PREFLIGHT_ID, &message, &mut body);
    write_line(&mut started.stdin, &body)?;
    started.stdin.flush().map_err(|e| CallError::io(&e))?;
    let answer = read_answer(&mut started.lines, PREFLIGHT_ID)?;
    wire::check_echo(&answer, PREFLIGHT_ID, &message)
}

/// The reader: checks each answer against the send time the writer registered, and gives
/// the writer a credit back for each.
fn reader(
    mut lines: Lines,
    builder: &CallBuilder,
    sent: Receiver<(u64, Instant)>,
    credits: SyncSender<()>,
    phase: &Phase,
) -> SessionStats {
    let mut stats = SessionStats::new();
    let mut in_flight: HashMap<u64, Instant> = HashMap::new();
    let mut message = String::new();
    loop {
        let line = match lines.next() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(error) => {
                stats.errors.add(&error);
                if error.breaks_connection() {
                    break;
                }
                continue;
            }
        };
        let now = Instant::now();
        let id = match wire::classify(line) {
            Ok(Incoming::Answer { id }) => id,
            Ok(Incoming::Notification) => continue,
            Ok(Incoming::Request(method)) => {
                stats.errors.add(&CallError::ServerRequest(method));
                continue;
            }
            Err(error) => {
                stats.errors.add(&error);
                continue;
            }
        };
        in_flight.extend(sent.try_iter());
        let Some((id, sent_at)) = id
            .parse::<u64>()
            .ok()
            .and_then(|id| in_flight.remove(&id).map(|at| (id, at)))
        else {
            // No credit back: the request this should have answered is still owed.
            stats.errors.add(&CallError::WrongId {
                expected: 0,
                got: id,
            });
            continue;
        };
        builder.message(SESSION, id, &mut message);
        match wire::check_echo(line, id, &message) {
            Ok(()) => {
                if phase.get() == PhaseState::Measure {
                    stats.calls += 1;
                    stats.hist.record(now - sent_at);
                }
            }
            Err(error) => stats.errors.add(&error),
        }
        if credits.send(()).is_err() {
            break;
        }
    }
    stats
}

/// The writer: sends while it has credits and the run lasts, then waits for what is owed.
fn writer(
    mut stdin: BufWriter<ChildStdin>,
    load: &StdioLoad,
    builder: &CallBuilder,
    sent: mpsc::Sender<(u64, Instant)>,
    credits: Receiver<()>,
    phase: &Phase,
) -> ErrorTally {
    let mut errors = ErrorTally::default();
    let mut available = load.window.max(1);
    let mut message = String::new();
    let mut body = Vec::new();
    let mut id = 0u64;
    while phase.get() != PhaseState::Stop {
        loop {
            match credits.try_recv() {
                Ok(()) => available += 1,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    errors.add(&CallError::Closed);
                    return errors;
                }
            }
        }
        if available == 0 {
            if let Err(error) = stdin.flush() {
                errors.add(&CallError::io(&error));
                return errors;
            }
            match credits.recv_timeout(load.call_timeout) {
                Ok(()) => available += 1,
                Err(RecvTimeoutError::Timeout) => {
                    errors.add(&CallError::Timeout(load.call_timeout.as_millis()));
                    return errors;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    errors.add(&CallError::Closed);
                    return errors;
                }
            }
            continue;
        }
        id += 1;
        builder.message(SESSION, id, &mut message);
        body.clear();
        builder.write_call(id, &message, &mut body);
        if sent.send((id, Instant::now())).is_err() {
            errors.add(&CallError::Closed);
            return errors;
        }
        if let Err(error) = write_line(&mut stdin, &body) {
            errors.add(&error);
            return errors;
        }
        available -= 1;
        if available == 0
            && let Err(error) = stdin.flush()
        {
            errors.add(&CallError::io(&error));
            return errors;
        }
    }
    if let Err(error) = stdin.flush() {
        errors.add(&CallError::io(&error));
        return errors;
    }
    // Wait for every answer owed; each missing one is an error.
    let deadline = Instant::now() + load.call_timeout;
    while available < load.window.max(1) {
        let left = deadline.saturating_duration_since(Instant::now());
        match credits.recv_timeout(left) {
            Ok(()) => available += 1,
            Err(_) => {
                for _ in available..load.window.max(1) {
                    errors.add(&CallError::NoAnswer);
                }
                break;
            }
        }
    }
    errors
    // Dropping stdin here closes the server's input: it should exit.
}

/// What a stdio run produced.
#[derive(Debug, Clone)]
pub struct StdioOutcome {
    /// The reader's statistics, the writer's errors merged in.
    pub stats: SessionStats,
    /// The measured window.
    pub window: Window,
}

/// Runs the load: spawn, handshake, preflight call, then `warmup` and `duration` of calls
/// with `load.window` in flight.
///
/// # Errors
/// [`LoadError::Preflight`] when the server cannot be measured, [`LoadError::Io`] when it
/// cannot be spawned, [`LoadError::Proc`] when its CPU time cannot be read.
pub fn run(
    load: &StdioLoad,
    warmup: Duration,
    duration: Duration,
) -> Result<StdioOutcome, LoadError> {
    let builder = CallBuilder::new(load.era, load.message_bytes);
    let Started {
        mut child,
        stdin,
        lines,
    } = start(load, &builder)?;
    let pid = child.id();
    let phase = Phase::new();
    let (sent_tx, sent_rx) = mpsc::channel();
    let (credit_tx, credit_rx) = mpsc::sync_channel(usize::try_from(load.window).unwrap_or(1));
    let (window, mut stats, writer_errors) = std::thread::scope(|scope| {
        let (builder, phase) = (&builder, &phase);
        let reader = scope.spawn(move || reader(lines, builder, sent_rx, credit_tx, phase));
        let writer = scope.spawn(move || writer(stdin, load, builder, sent_tx, credit_rx, phase));
        let window = crate::run::measure(phase, warmup, duration, Some(pid));
        phase.set(PhaseState::Stop);
        let writer_errors = writer.join().unwrap_or_default();
        // The server exits once its stdin is closed, which ends the reader; a server that does
        // not is stopped.
        let exited = wait_exit(&mut child);
        let stats = reader.join().unwrap_or_default();
        (window, stats, (writer_errors, exited))
    });
    let (writer_errors, exited) = writer_errors;
    stats.errors.merge(&writer_errors);
    if let Err(error) = exited {
        stats.errors.add(&error);
    }
    Ok(StdioOutcome {
        stats,
        window: window?,
    })
}

/// Waits for the child to exit after its stdin closed; kills it after [`EXIT_GRACE`].
fn wait_exit(child: &mut Child) -> Result<(), CallError> {
    let deadline = Instant::now() + EXIT_GRACE;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                return Err(CallError::Io(format!("the server exited with {status}")));
            }
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(CallError::Io(format!(
                    "the server did not exit within {EXIT_GRACE:?} of its stdin closing"
                )));
            }
            Err(error) => return Err(CallError::io(&error)),
        }
    }
}

/// The label of a stdio run's scenario.
#[must_use]
pub fn scenario(window: u32) -> String {
    format!("stdio-w{window}")
}

/// Builds the record of a stdio run.
#[must_use]
pub fn record(
    server: &str,
    load: &StdioLoad,
    outcome: &StdioOutcome,
    load_average: Option<f64>,
) -> crate::report::LoadRecord {
    crate::run::record(
        &RunLabel {
            server: server.to_owned(),
            scenario: scenario(load.window),
        },
        "stdio",
        load.era.as_str(),
        load.window,
        &outcome.stats,
        &outcome.window,
        load_average,
    )
}
