//! `conformance`: checks this MCP stack against the protocol and prints what holds.
//!
//! - `conformance server`: the official suite's "everything" fixture ([`fixture`]) on smol or
//!   tokio, over Streamable HTTP or stdio;
//! - `conformance run`: the project's own wire-level probes against `mcp-proto` (the rules
//!   other SDKs get wrong: Accept wildcards and q-values, `id: null`, batches by version…),
//!   then the official harness's server suite against the fixture and its client scenarios
//!   against `conformance client`, on both runtimes, for each harness version and wire
//!   ([`mod@run`], [`harness`], [`expected`]);
//! - `conformance client`: the client under test of the harness's client scenarios
//!   ([`client`]).
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod client;
mod expected;
mod fixture;
mod harness;
mod probes;
mod run;
mod serve;

use std::process::ExitCode;

const USAGE: &str = "usage: conformance <command>

  run [--runtime smol|tokio]... [--side server|client]... [--harness VERSION]... [--wire WIRE]...
      [--scenario NAME] [--expected-failures FILE] [--out DIR] [--no-probes | --probes-only]
                                        the probes, then the official harness's server and
                                        client suites for each runtime x harness version x wire
                                        (0.1.16: all; 0.2.0-alpha.12: server 2025-11-25,
                                        2026-07-28, extension; client 2025-03-26, 2025-06-18,
                                        2025-11-25, 2026-07-28, extension). Server suites run
                                        against `conformance server`; client scenarios run one
                                        at a time against `conformance client`. Prints a table
                                        and `N passed, M failed` (scenario runs); exit 1 on a
                                        failure or warning not listed in
                                        conformance/expected-failures.txt, or a listed one that
                                        passed. Node >= 22 and the harnesses are installed into
                                        $MCP_CONFORMANCE_CACHE (~/.cache/mcp-conformance) when
                                        absent (npm needed only then).
  server --runtime smol|tokio (--listen ADDR:PORT | --stdio)
                                        serve the official suite's \"everything\" fixture
                                        (MCP endpoint at /mcp)
  client --runtime smol|tokio URL       the client under test of the harness's client scenarios:
                                        connects to URL (the mock server), reads the scenario
                                        from $MCP_CONFORMANCE_SCENARIO and does what it asks";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(args.get(1..).unwrap_or_default()),
        None => run(&[]),
        Some("server") => match serve::server_command(args.get(1..).unwrap_or_default()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(problem) => {
                eprintln!("conformance server: {problem}\n{USAGE}");
                ExitCode::from(2)
            }
        },
        Some("client") => match client::client_command(args.get(1..).unwrap_or_default()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(problem) => {
                eprintln!("conformance client: {problem}");
                ExitCode::FAILURE
            }
        },
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("conformance: unknown command {other:?}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> ExitCode {
    match run::run_command(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(problem) => {
            eprintln!("conformance run: {problem}");
            ExitCode::from(2)
        }
    }
}
