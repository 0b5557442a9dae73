//! Child processes as MCP servers: the launch description, and the shutdown sequence the spec
//! recommends — close stdin, wait, SIGTERM, wait, SIGKILL — written once for every runtime.
//! An adapter implements [`ChildProcess`] for its process type and spawns with
//! kill-on-drop, so a child never outlives its client.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

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
