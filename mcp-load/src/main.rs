//! `mcp-load`: see the crate documentation and `mcp-load --help`.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use mcp_load::cli::{self, Command, Common};
use mcp_load::http::{self, HttpLoad, Target};
use mcp_load::idle::{self, IdleLoad};
use mcp_load::report::{self, Record, ReportContext, UnsupportedRecord};
use mcp_load::stdio::{self, StdioLoad};
use mcp_load::{LoadError, ceiling, procfs};

/// How long `http` and `idle` wait for the server to accept connections.
const SERVER_START_WAIT: Duration = Duration::from_secs(15);

const EXIT_ERRORS: u8 = 3;
const EXIT_UNSUPPORTED: u8 = 4;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args) {
        Ok(command) => command,
        Err(error) => {
            eprintln!("mcp-load: {error}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    match execute(command) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("mcp-load: {error}");
            ExitCode::from(1)
        }
    }
}

fn execute(command: Command) -> Result<u8, LoadError> {
    match command {
        Command::Help => {
            println!("{}", cli::USAGE);
            Ok(0)
        }
        Command::Http {
            url,
            sessions,
            era,
            same_ids,
            threads,
            common,
        } => {
            let target = Target::parse(&url)?;
            http::wait_for_server(&target, SERVER_START_WAIT)?;
            let load = HttpLoad {
                target,
                era,
                sessions,
                threads,
                same_ids,
                message_bytes: common.message_bytes,
                call_timeout: common.timeout,
            };
            let load_average = procfs::load_average_1m();
            match http::run(&load, common.warmup, common.duration, common.server_pid) {
                Ok(outcome) => {
                    let record = http::record(&common.label, &load, &outcome, load_average);
                    finish(&common, Record::Load(record))
                }
                Err(LoadError::Preflight(error)) => unsupported(
                    &common,
                    http::scenario(sessions, era, same_ids),
                    &error.to_string(),
                ),
                Err(error) => Err(error),
            }
        }
        Command::Stdio {
            command,
            window,
            era,
            common,
        } => {
            let load = StdioLoad {
                command,
                window,
                era,
                message_bytes: common.message_bytes,
                call_timeout: common.timeout,
            };
            let load_average = procfs::load_average_1m();
            match stdio::run(&load, common.warmup, common.duration) {
                Ok(outcome) => {
                    let record = stdio::record(&common.label, &load, &outcome, load_average);
                    finish(&common, Record::Load(record))
                }
                Err(LoadError::Preflight(error)) => {
                    unsupported(&common, stdio::scenario(window), &error.to_string())
                }
                Err(error) => Err(error),
            }
        }
        Command::Idle {
            url,
            sessions,
            hold,
            threads,
            detached,
            common,
        } => {
            let target = Target::parse(&url)?;
            http::wait_for_server(&target, SERVER_START_WAIT)?;
            let scenario = idle::scenario(sessions, detached);
            match idle::preflight(&target, common.timeout) {
                Ok(()) => {}
                Err(LoadError::Preflight(error)) => {
                    return unsupported(&common, scenario, &error.to_string());
                }
                Err(error) => return Err(error),
            }
            let load = IdleLoad {
                target,
                sessions,
                threads,
                hold,
                server_pid: common.server_pid,
                call_timeout: common.timeout,
                detached,
            };
            for shortage in idle::descriptor_shortage(&load) {
                eprintln!("mcp-load: warning: {shortage}");
            }
            let outcome = idle::run(&load)?;
            finish(
                &common,
                Record::Idle(idle::record(&common.label, &load, &outcome)),
            )
        }
        Command::CeilingHttp(addr) => {
            let responder = ceiling::Ceiling::bind(addr)?;
            eprintln!(
                "mcp-load ceiling: answering at http://{}/ (any path)",
                responder.local_addr()
            );
            responder.run()?;
            Ok(0)
        }
        Command::CeilingStdio => {
            ceiling::serve_stdio(std::io::stdin().lock(), std::io::stdout().lock())?;
            Ok(0)
        }
        Command::Report {
            file,
            date,
            command,
            notes,
        } => {
            let text = std::fs::read_to_string(&file).map_err(|e| LoadError::Io {
                context: format!("reading {file}"),
                source: e,
            })?;
            let records = report::parse_records(&file, &text)?;
            let context = ReportContext {
                date,
                command,
                machine: procfs::machine(),
                notes,
            };
            print!("{}", report::markdown(&records, &context));
            Ok(0)
        }
    }
}

fn append(common: &Common, record: &Record) -> Result<(), LoadError> {
    let Some(path) = &common.out else {
        return Ok(());
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| LoadError::Io {
            context: format!("opening {path}"),
            source: e,
        })?;
    writeln!(file, "{}", record.to_line()).map_err(|e| LoadError::Io {
        context: format!("writing {path}"),
        source: e,
    })
}

fn unsupported(common: &Common, scenario: String, reason: &str) -> Result<u8, LoadError> {
    let record = Record::Unsupported(UnsupportedRecord {
        server: common.label.clone(),
        scenario,
        reason: reason.to_owned(),
    });
    println!(
        "{} {}: cannot be measured: {reason}",
        record.server(),
        record.scenario()
    );
    append(common, &record)?;
    Ok(EXIT_UNSUPPORTED)
}

fn finish(common: &Common, record: Record) -> Result<u8, LoadError> {
    let errors = match &record {
        Record::Load(r) => {
            println!(
                "{} {}: {:.0} calls/s, p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs, {} calls, {} errors, \
                 server CPU {} µs/call, load-tool CPU {} µs/call",
                r.server,
                r.scenario,
                r.calls_per_second,
                r.p50_us,
                r.p99_us,
                r.max_us,
                r.calls,
                r.errors,
                r.server_cpu_us_per_call
                    .map_or_else(|| "?".to_owned(), |v| format!("{v:.2}")),
                r.load_tool_cpu_us_per_call
                    .map_or_else(|| "?".to_owned(), |v| format!("{v:.2}")),
            );
            for sample in &r.error_samples {
                println!("  error: {sample}");
            }
            r.errors
        }
        Record::Idle(r) => {
            println!(
                "{} {}: {} opened, {} held, {} errors, RSS {} -> {} KiB, {} KiB/session, opened in {:.2} s",
                r.server,
                r.scenario,
                r.opened,
                r.held,
                r.errors,
                r.rss_before_kib
                    .map_or_else(|| "?".to_owned(), |v| v.to_string()),
                r.rss_after_kib
                    .map_or_else(|| "?".to_owned(), |v| v.to_string()),
                r.per_session_kib
                    .map_or_else(|| "?".to_owned(), |v| format!("{v:.2}")),
                r.open_seconds,
            );
            for sample in &r.error_samples {
                println!("  error: {sample}");
            }
            r.errors
        }
        Record::Unsupported(_) => 0,
    };
    append(common, &record)?;
    Ok(if errors > 0 { EXIT_ERRORS } else { 0 })
}
