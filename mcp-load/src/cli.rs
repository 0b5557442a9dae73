//! The command line.

use std::net::SocketAddr;
use std::time::Duration;

use crate::error::LoadError;
use crate::wire::Era;

/// The usage text.
pub const USAGE: &str = "usage: mcp-load <command>

  http --url URL [--sessions N] [--era legacy|modern] [--threads T] [--same-ids] [common options]
        N closed-loop sessions over Streamable HTTP, one keep-alive connection each, driven by
        T epoll threads (default 1); request ids are unique across sessions unless --same-ids
        (each session counts 1, 2, 3… as independent clients do)
  stdio [--window W] [--era legacy|modern] [common options] -- SERVER-COMMAND [ARGS...]
        spawns the server (it must exec, not stay under a shell) and keeps W requests in flight
  idle --url URL --sessions N [--hold SECONDS] [--threads T] [--detached] [--server-pid PID]
        [--label NAME] [--out FILE] [--timeout SECONDS]
        opens N legacy sessions, holds them idle, reports the server's RSS before/after and
        whether every session still answers; --detached holds them without their connections
  ceiling (--listen ADDR:PORT | --stdio)
        the ceiling responder: one thread, HTTP/1.1 codec + serde_json per request, canned echo
  report FILE [--date TEXT] [--command TEXT] [--note TEXT]...
        the Markdown report of a results file (ratios ours / rmcp, the issue's targets)

common options:
  --duration SECONDS     measured time (default 10)
  --warmup SECONDS       calls before measuring, not counted (default 2)
  --server-pid PID       the server process, for its CPU time per call (stdio: the child)
  --message-bytes B      pad each message to B bytes (default: unpadded, ~10 bytes)
  --timeout SECONDS      longest wait for one answer (default 10)
  --label NAME           the server's name in the record (default: unnamed)
  --out FILE             append the record (one JSON line) to FILE

exit status: 0 measured without errors, 3 measured with errors (counted in the record),
4 the server cannot be measured in this scenario (recorded as unsupported), 2 usage, 1 other";

/// Options every load run shares.
#[derive(Debug, Clone, PartialEq)]
pub struct Common {
    /// Measured time.
    pub duration: Duration,
    /// Time before measuring.
    pub warmup: Duration,
    /// The server's pid.
    pub server_pid: Option<u32>,
    /// Message padding.
    pub message_bytes: usize,
    /// Call timeout.
    pub timeout: Duration,
    /// The server's name.
    pub label: String,
    /// Where to append the record.
    pub out: Option<String>,
}

impl Default for Common {
    fn default() -> Self {
        Self {
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(2),
            server_pid: None,
            message_bytes: 0,
            timeout: Duration::from_secs(10),
            label: "unnamed".into(),
            out: None,
        }
    }
}

/// A parsed command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `http`.
    Http {
        /// The endpoint URL.
        url: String,
        /// Sessions.
        sessions: u32,
        /// Era.
        era: Era,
        /// Every session counts its ids from 1.
        same_ids: bool,
        /// Driver threads.
        threads: u32,
        /// Shared options.
        common: Common,
    },
    /// `stdio`.
    Stdio {
        /// The server command.
        command: Vec<String>,
        /// Requests in flight.
        window: u32,
        /// Era.
        era: Era,
        /// Shared options.
        common: Common,
    },
    /// `idle`.
    Idle {
        /// The endpoint URL.
        url: String,
        /// Sessions to hold.
        sessions: usize,
        /// Hold time.
        hold: Duration,
        /// Opening threads.
        threads: usize,
        /// Hold without connections.
        detached: bool,
        /// Shared options (duration and warm-up unused).
        common: Common,
    },
    /// `ceiling --listen`.
    CeilingHttp(SocketAddr),
    /// `ceiling --stdio`.
    CeilingStdio,
    /// `report`.
    Report {
        /// The results file.
        file: String,
        /// The date line.
        date: String,
        /// The reproducing command.
        command: String,
        /// Notes.
        notes: Vec<String>,
    },
    /// `--help`.
    Help,
}

fn usage(message: impl Into<String>) -> LoadError {
    LoadError::Usage(message.into())
}

fn seconds(flag: &str, value: &str) -> Result<Duration, LoadError> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e7)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| usage(format!("{flag} takes seconds, not {value:?}")))
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, LoadError> {
    value
        .parse()
        .map_err(|_| usage(format!("{flag} takes a number, not {value:?}")))
}

/// Parses the arguments after the program name.
///
/// # Errors
/// [`LoadError::Usage`] saying what is wrong.
pub fn parse(args: &[String]) -> Result<Command, LoadError> {
    let Some((name, rest)) = args.split_first() else {
        return Err(usage("no command"));
    };
    match name.as_str() {
        "-h" | "--help" | "help" => Ok(Command::Help),
        "http" | "stdio" | "idle" => parse_run(name, rest),
        "ceiling" => match rest {
            [flag, addr] if flag == "--listen" => addr
                .parse()
                .map(Command::CeilingHttp)
                .map_err(|_| usage(format!("--listen takes ADDR:PORT, not {addr:?}"))),
            [flag] if flag == "--stdio" => Ok(Command::CeilingStdio),
            _ => Err(usage("ceiling takes --listen ADDR:PORT or --stdio")),
        },
        "report" => parse_report(rest),
        other => Err(usage(format!("unknown command {other:?}"))),
    }
}

fn parse_report(rest: &[String]) -> Result<Command, LoadError> {
    let mut file = None;
    let mut date = String::from("an unknown date");
    let mut command = String::from("scripts/bench.sh");
    let mut notes = Vec::new();
    let mut iter = rest.iter();
    while let Some(arg) = iter.next() {
        let mut value = |flag: &str| {
            iter.next()
                .cloned()
                .ok_or_else(|| usage(format!("{flag} needs a value")))
        };
        match arg.as_str() {
            "--date" => date = value("--date")?,
            "--command" => command = value("--command")?,
            "--note" => notes.push(value("--note")?),
            flag if flag.starts_with("--") => return Err(usage(format!("unknown option {flag}"))),
            path if file.is_none() => file = Some(path.to_owned()),
            extra => return Err(usage(format!("unexpected argument {extra:?}"))),
        }
    }
    Ok(Command::Report {
        file: file.ok_or_else(|| usage("report needs the results file"))?,
        date,
        command,
        notes,
    })
}

fn parse_run(name: &str, rest: &[String]) -> Result<Command, LoadError> {
    let mut common = Common::default();
    let mut url = None;
    let mut sessions = None;
    let mut window = 1u32;
    let mut era = Era::Legacy;
    let mut hold = Duration::from_secs(2);
    let mut threads: Option<usize> = None;
    let mut detached = false;
    let mut same_ids = false;
    let mut command = Vec::new();
    let mut iter = rest.iter();
    while let Some(arg) = iter.next() {
        let mut value = |flag: &str| {
            iter.next()
                .map(String::as_str)
                .ok_or_else(|| usage(format!("{flag} needs a value")))
        };
        match arg.as_str() {
            "--url" => url = Some(value("--url")?.to_owned()),
            "--sessions" => sessions = Some(number::<usize>("--sessions", value("--sessions")?)?),
            "--window" => window = number("--window", value("--window")?)?,
            "--era" => {
                let text = value("--era")?;
                era = Era::parse(text)
                    .ok_or_else(|| usage(format!("--era is legacy or modern, not {text:?}")))?;
            }
            "--duration" => common.duration = seconds("--duration", value("--duration")?)?,
            "--warmup" => common.warmup = seconds("--warmup", value("--warmup")?)?,
            "--timeout" => common.timeout = seconds("--timeout", value("--timeout")?)?,
            "--hold" => hold = seconds("--hold", value("--hold")?)?,
            "--server-pid" => {
                common.server_pid = Some(number("--server-pid", value("--server-pid")?)?)
            }
            "--message-bytes" => {
                common.message_bytes = number("--message-bytes", value("--message-bytes")?)?;
            }
            "--threads" => {
                threads = Some(number::<usize>("--threads", value("--threads")?)?.max(1));
            }
            "--label" => common.label = value("--label")?.to_owned(),
            "--out" => common.out = Some(value("--out")?.to_owned()),
            "--detached" => detached = true,
            "--same-ids" => same_ids = true,
            "--" => {
                command = iter.by_ref().cloned().collect();
            }
            other => return Err(usage(format!("unknown option {other:?} for {name}"))),
        }
    }
    if common.timeout.is_zero() {
        return Err(usage("--timeout must be above zero"));
    }
    match name {
        "http" => {
            let sessions = u32::try_from(sessions.unwrap_or(1))
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| usage("--sessions must be 1 or more"))?;
            Ok(Command::Http {
                url: url.ok_or_else(|| usage("http needs --url"))?,
                sessions,
                era,
                same_ids,
                threads: u32::try_from(threads.unwrap_or(1)).unwrap_or(u32::MAX),
                common,
            })
        }
        "stdio" => {
            if command.is_empty() {
                return Err(usage("stdio needs the server command after --"));
            }
            if window == 0 {
                return Err(usage("--window must be 1 or more"));
            }
            Ok(Command::Stdio {
                command,
                window,
                era,
                common,
            })
        }
        _ => Ok(Command::Idle {
            url: url.ok_or_else(|| usage("idle needs --url"))?,
            sessions: sessions
                .filter(|&n| n > 0)
                .ok_or_else(|| usage("idle needs --sessions N (1 or more)"))?,
            hold,
            threads: threads.unwrap_or(4),
            detached,
            common,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_each_command() {
        let Command::Http {
            url,
            sessions,
            era,
            same_ids,
            threads,
            common,
        } = parse(&args(
            "http --url http://127.0.0.1:1/mcp --sessions 32 --era modern --same-ids --duration 2.5 --server-pid 7 --label rmcp",
        ))
        .unwrap()
        else {
            panic!("not http");
        };
        assert_eq!(url, "http://127.0.0.1:1/mcp");
        assert_eq!(sessions, 32);
        assert_eq!(era, Era::Modern);
        assert!(same_ids);
        assert_eq!(threads, 1);
        assert_eq!(common.duration, Duration::from_millis(2500));
        assert_eq!(common.server_pid, Some(7));
        assert_eq!(common.label, "rmcp");

        let Command::Stdio {
            command, window, ..
        } = parse(&args("stdio --window 64 -- server --stdio --flag")).unwrap()
        else {
            panic!("not stdio");
        };
        assert_eq!(command, args("server --stdio --flag"));
        assert_eq!(window, 64);

        assert!(matches!(
            parse(&args("idle --url http://h/mcp --sessions 1000 --detached")).unwrap(),
            Command::Idle {
                sessions: 1000,
                detached: true,
                ..
            }
        ));
        assert_eq!(
            parse(&args("ceiling --listen 127.0.0.1:9000")).unwrap(),
            Command::CeilingHttp("127.0.0.1:9000".parse().unwrap())
        );
        assert_eq!(
            parse(&args("ceiling --stdio")).unwrap(),
            Command::CeilingStdio
        );
        assert!(matches!(
            parse(&args("report r.jsonl --note a --note b")).unwrap(),
            Command::Report { notes, .. } if notes == ["a", "b"]
        ));
    }

    #[test]
    fn refuses_bad_command_lines() {
        for bad in [
            "",
            "http",
            "http --url u --sessions 0",
            "http --url u --era future",
            "http --url u --duration -1",
            "http --url u --timeout 0",
            "stdio --window 4",
            "stdio --window 0 -- server",
            "idle --url u",
            "ceiling",
            "report",
            "fly",
        ] {
            assert!(
                matches!(parse(&args(bad)), Err(LoadError::Usage(_))),
                "{bad:?} was accepted"
            );
        }
    }
}
