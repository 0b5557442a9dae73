//! Child processes as MCP servers: the launch description, and the shutdown sequence the spec
//! recommends — close stdin, wait, SIGTERM, wait, SIGKILL — written once for every runtime.
//! An adapter implements [`Spawner`] (start a process with pipes, kill-on-drop) and
//! [`ChildProcess`]; [`connect_child`] does the rest, so a child never outlives its client.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use futures_lite::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::client::{Client, ClientOptions, ConnectError, ShutdownReport, client_connection};
use crate::runtime::{BoxFuture, Runtime};

/// The default wait after closing a child's stdin before SIGTERM.
pub const DEFAULT_STDIN_GRACE: Duration = Duration::from_secs(2);
/// The default wait after SIGTERM before SIGKILL.
pub const DEFAULT_TERM_GRACE: Duration = Duration::from_secs(2);
/// The default number of bytes of the child's stderr kept for error reports.
pub const DEFAULT_STDERR_TAIL: usize = 8 * 1024;

/// How to launch a server process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildCommand {
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Variables added to the inherited environment.
    pub env: BTreeMap<String, String>,
    /// The working directory (the current one when `None`).
    pub cwd: Option<PathBuf>,
    /// The wait after closing stdin before SIGTERM.
    pub stdin_grace: Duration,
    /// The wait after SIGTERM before SIGKILL.
    pub term_grace: Duration,
}

impl ChildCommand {
    /// Runs `program` with no arguments.
    pub fn new(program: impl Into<String>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: BTreeMap::new(),
            cwd: None,
            stdin_grace: DEFAULT_STDIN_GRACE,
            term_grace: DEFAULT_TERM_GRACE,
        }
    }

    /// Adds arguments.
    #[must_use]
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable.
    #[must_use]
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Parses a command line into words the way a POSIX shell does (quotes and backslashes;
    /// no expansions).
    ///
    /// # Errors
    /// [`CommandLineError`] for an empty line or an unterminated quote.
    pub fn parse(line: &str) -> Result<Self, CommandLineError> {
        let words = split_words(line)?;
        let mut words = words.into_iter();
        let program = words.next().ok_or(CommandLineError::Empty)?;
        Ok(Self::new(program).args(words))
    }
}

/// Why a command line could not be split into words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandLineError {
    /// No words at all.
    #[error("the command line is empty")]
    Empty,
    /// A quote was opened and never closed.
    #[error("unterminated {0} quote in the command line")]
    UnterminatedQuote(char),
}

fn split_words(line: &str) -> Result<Vec<String>, CommandLineError> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if let Some(done) = word.take() {
                    words.push(done);
                }
            }
            '\'' => {
                let current = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => current.push(c),
                        None => return Err(CommandLineError::UnterminatedQuote('\'')),
                    }
                }
            }
            '"' => {
                let current = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => current.push(c),
                            Some(c) => {
                                current.push('\\');
                                current.push(c);
                            }
                            None => return Err(CommandLineError::UnterminatedQuote('"')),
                        },
                        Some(c) => current.push(c),
                        None => return Err(CommandLineError::UnterminatedQuote('"')),
                    }
                }
            }
            '\\' => {
                let current = word.get_or_insert_with(String::new);
                if let Some(c) = chars.next() {
                    current.push(c);
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    if let Some(done) = word {
        words.push(done);
    }
    Ok(words)
}

/// A running child process, as the shutdown sequence needs it.
pub trait ChildProcess: Send {
    /// Its process id, while it has one.
    fn id(&self) -> Option<u32>;
    /// Waits for it to exit.
    fn wait(&mut self) -> BoxFuture<'_, io::Result<ExitStatus>>;
    /// Kills it (SIGKILL).
    ///
    /// # Errors
    /// The OS's refusal.
    fn kill(&mut self) -> io::Result<()>;
}

/// How a child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildExit {
    /// Its exit status, when it could be collected.
    pub status: Option<ExitStatus>,
    /// The step of the sequence that ended it.
    pub ended_by: EndedBy,
    /// The last bytes it wrote to stderr.
    pub stderr_tail: String,
}

/// Which step of the shutdown sequence ended a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    /// It exited on its own (before or after its stdin closed).
    Exited,
    /// SIGTERM.
    Terminated,
    /// SIGKILL.
    Killed,
    /// Waiting for it failed.
    Unknown,
}

impl fmt::Display for ChildExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.status, self.ended_by) {
            (Some(status), EndedBy::Exited) => write!(f, "exited ({status})"),
            (Some(status), EndedBy::Terminated) => write!(f, "stopped by SIGTERM ({status})"),
            (Some(status), EndedBy::Killed) => write!(f, "killed by SIGKILL ({status})"),
            _ => write!(f, "exit status unknown"),
        }
    }
}

/// Stops a child whose stdin was just closed: waits `stdin_grace` for it to exit, then sends
/// SIGTERM and waits `term_grace`, then SIGKILL, and collects its status.
pub async fn stop_child<R: Runtime, C: ChildProcess>(
    runtime: &R,
    child: &mut C,
    stdin_grace: Duration,
    term_grace: Duration,
) -> (Option<ExitStatus>, EndedBy) {
    if let Some(status) = wait_for(runtime, child, stdin_grace).await {
        return (Some(status), EndedBy::Exited);
    }
    if let Some(pid) = child.id() {
        terminate(pid);
        if let Some(status) = wait_for(runtime, child, term_grace).await {
            return (Some(status), EndedBy::Terminated);
        }
    }
    if let Err(error) = child.kill() {
        tracing::warn!(%error, "SIGKILL failed");
    }
    match child.wait().await {
        Ok(status) => (Some(status), EndedBy::Killed),
        Err(_) => (None, EndedBy::Unknown),
    }
}

async fn wait_for<R: Runtime, C: ChildProcess>(
    runtime: &R,
    child: &mut C,
    grace: Duration,
) -> Option<ExitStatus> {
    let deadline = Instant::now().checked_add(grace)?;
    let timeout = runtime.sleep_until(deadline);
    futures_lite::future::or(async { child.wait().await.ok() }, async {
        timeout.await;
        None
    })
    .await
}

/// Sends SIGTERM to `pid` (a no-op where there are no signals).
fn terminate(pid: u32) {
    #[cfg(unix)]
    {
        let pid = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw);
        if let Some(pid) = pid
            && let Err(error) = rustix::process::kill_process(pid, rustix::process::Signal::TERM)
        {
            tracing::debug!(%error, "SIGTERM failed (the child may be gone)");
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Keeps the last bytes of a stream (a child's stderr) for error reports.
#[derive(Debug, Clone, Default)]
pub struct Tail {
    bytes: std::collections::VecDeque<u8>,
    limit: usize,
}

impl Tail {
    /// Keeps at most `limit` bytes.
    #[must_use]
    pub fn new(limit: usize) -> Self {
        Self {
            bytes: std::collections::VecDeque::new(),
            limit,
        }
    }

    /// Appends `data`, dropping the oldest bytes beyond the limit.
    pub fn push(&mut self, data: &[u8]) {
        self.bytes.extend(data);
        while self.bytes.len() > self.limit {
            self.bytes.pop_front();
        }
    }

    /// The kept bytes as text.
    #[must_use]
    pub fn text(&self) -> String {
        let bytes: Vec<u8> = self.bytes.iter().copied().collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_split_like_a_shell() {
        let parsed =
            ChildCommand::parse(r#"python3 -m "my server" --name='a b' x\ y "q\"uote""#).unwrap();
        assert_eq!(parsed.program, "python3");
        assert_eq!(
            parsed.args,
            ["-m", "my server", "--name=a b", "x y", "q\"uote"]
        );
        assert_eq!(ChildCommand::parse("   "), Err(CommandLineError::Empty));
        assert_eq!(
            ChildCommand::parse("a 'b"),
            Err(CommandLineError::UnterminatedQuote('\''))
        );
    }

    #[test]
    fn a_tail_keeps_the_last_bytes() {
        let mut tail = Tail::new(4);
        tail.push(b"abc");
        tail.push(b"defg");
        assert_eq!(tail.text(), "defg");
    }
}

/// How long a child's stderr may stay open after it exited (a grandchild holding it) before
/// the report is made without the rest of it.
const STDERR_LINGER: Duration = Duration::from_millis(200);

/// A started child process and its three pipes.
#[derive(Debug)]
pub struct SpawnedChild<C, I, O, E> {
    /// The process.
    pub child: C,
    /// Its stdin (our requests).
    pub stdin: I,
    /// Its stdout (its answers).
    pub stdout: O,
    /// Its stderr (its logs).
    pub stderr: E,
}

/// `command` as a standard-library command (program, arguments, environment, working
/// directory), for an adapter to turn into its runtime's command type and spawn with piped
/// stdio and kill-on-drop.
#[must_use]
pub fn std_command(command: &ChildCommand) -> std::process::Command {
    let mut process = std::process::Command::new(&command.program);
    process.args(&command.args).envs(&command.env);
    if let Some(cwd) = &command.cwd {
        process.current_dir(cwd);
    }
    process
}

impl<C, I, O, E> SpawnedChild<C, I, O, E> {
    /// A started child with the pipes taken from it.
    ///
    /// # Errors
    /// When one of the pipes is missing (the command was not set up with piped stdio).
    pub fn from_pipes(
        child: C,
        stdin: Option<I>,
        stdout: Option<O>,
        stderr: Option<E>,
    ) -> io::Result<Self> {
        match (stdin, stdout, stderr) {
            (Some(stdin), Some(stdout), Some(stderr)) => Ok(Self {
                child,
                stdin,
                stdout,
                stderr,
            }),
            _ => Err(io::Error::other("the child's pipes are missing")),
        }
    }
}

/// An adapter's way of starting processes: the one process-specific piece of
/// [`connect_child`].
pub trait Spawner: Runtime {
    /// The process.
    type Child: ChildProcess + 'static;
    /// Its stdin.
    type Stdin: AsyncWrite + Unpin + Send + 'static;
    /// Its stdout.
    type Stdout: AsyncRead + Unpin + Send + 'static;
    /// Its stderr.
    type Stderr: AsyncRead + Unpin + Send + 'static;

    /// Starts `command` (program, args, env, working directory) with its three pipes, to be
    /// killed if dropped.
    ///
    /// # Errors
    /// The OS's refusal (program not found, permission…).
    #[allow(clippy::type_complexity)]
    fn spawn_child(
        &self,
        command: &ChildCommand,
    ) -> io::Result<SpawnedChild<Self::Child, Self::Stdin, Self::Stdout, Self::Stderr>>;
}

/// Starts `command` and connects to it over its stdin/stdout; its stderr is drained
/// continuously (logged, and its tail kept for the report). On [`Client::shutdown`] (or when
/// the last handle is dropped) stdin is closed, then SIGTERM and SIGKILL follow after the
/// command's graces; the child never outlives the client.
///
/// # Errors
/// [`ConnectError::Io`] when the process cannot be started;
/// [`ConnectError::ProcessExited`] (status and stderr tail) when it ends before the
/// handshake; otherwise the handshake's failure.
pub async fn connect_child<R: Spawner>(
    runtime: R,
    command: ChildCommand,
    options: ClientOptions,
) -> Result<Client, ConnectError> {
    let SpawnedChild {
        mut child,
        stdin,
        stdout,
        stderr,
    } = runtime
        .spawn_child(&command)
        .map_err(|e| ConnectError::Io(format!("cannot start {}: {e}", command.program)))?;
    let (tail_sender, tail) = crate::channel::bounded(1);
    runtime.spawn(Box::pin(drain_stderr(
        command.program.clone(),
        stderr,
        tail_sender,
    )));
    let (connecting, task, report) = client_connection(options);
    let owner = runtime.clone();
    runtime.spawn(Box::pin(async move {
        let close = task.run(owner.clone(), stdout, stdin).await;
        let (status, ended_by) =
            stop_child(&owner, &mut child, command.stdin_grace, command.term_grace).await;
        let linger = Instant::now()
            .checked_add(STDERR_LINGER)
            .map(|deadline| owner.sleep_until(deadline));
        let stderr_tail = futures_lite::future::or(async { tail.recv().await.ok() }, async {
            if let Some(linger) = linger {
                linger.await;
            }
            None
        })
        .await
        .unwrap_or_default();
        report.send(ShutdownReport {
            close: Some(close),
            child: Some(ChildExit {
                status,
                ended_by,
                stderr_tail,
            }),
            transport_error: None,
        });
    }));
    match connecting.ready_or_report().await {
        Ok(client) => Ok(client),
        // The process's own end (status, stderr) says more than the broken pipe it caused.
        Err((
            ConnectError::Transport(_),
            Some(ShutdownReport {
                child: Some(exit), ..
            }),
        )) => Err(ConnectError::ProcessExited(exit)),
        Err((error, _)) => Err(error),
    }
}

/// Logs the child's stderr line by line and sends its tail when it ends.
async fn drain_stderr(
    program: String,
    mut stderr: impl AsyncRead + Unpin,
    tail_sender: crate::channel::Sender<String>,
) {
    let mut tail = Tail::new(DEFAULT_STDERR_TAIL);
    let mut chunk = vec![0u8; 4096];
    loop {
        match stderr.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let data = chunk.get(..n).unwrap_or_default();
                tracing::info!(target: "mcp::child", %program, "{}", String::from_utf8_lossy(data).trim_end());
                tail.push(data);
            }
        }
    }
    let _ = tail_sender.try_send(tail.text());
}
