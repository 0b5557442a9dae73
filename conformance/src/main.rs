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
//!   ([`client`]);
//! - `conformance probe --url URL`: a black-box check of any Streamable HTTP MCP server over
//!   real TCP ([`probe_url`], [`blocking_http`]); `conformance run` runs it against the fixture
//!   on both runtimes too.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod blocking_http;
mod client;
mod expected;
mod fixture;
mod harness;
mod probe_url;
mod probes;
mod run;
mod serve;

use std::process::ExitCode;

const USAGE: &str = "usage: conformance <command>

  run [--runtime smol|tokio]... [--side server|client]... [--harness VERSION]... [--wire WIRE]...
      [--scenario NAME] [--expected-failures FILE] [--out DIR] [--no-probes | --probes-only]
                                        the probes (in-process against mcp-proto, then
                                        `probe --url` against `conformance server` on each
                                        runtime: a FAIL fails the run), then the official
                                        harness's server and client suites for each runtime x
                                        harness version x wire
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
                                        from $MCP_CONFORMANCE_SCENARIO and does what it asks
  probe --url http://HOST:PORT/PATH [--origin-allowed ORIGIN]... [--timeout SECS]
                                        black-box check of any Streamable HTTP MCP server over
                                        TCP: finds the eras it speaks (server/discover,
                                        initialize), then checks Accept negotiation, statuses
                                        (202, 400, 403, 404, 405, 406, 413, 415), JSON-RPC
                                        error codes, version negotiation and that it survives
                                        garbage. One line per check: PASS, FAIL (a MUST),
                                        WARN (a SHOULD or HTTP rule), SKIP (not applicable),
                                        then `N passed, M failed, K warnings, S skipped`.
                                        --origin-allowed: an Origin the server must serve;
                                        --timeout: per exchange (default 10). Exit 1 on a
                                        FAIL, 2 when the URL cannot be probed at all";

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
        Some("probe") => match probe_url::probe_command(args.get(1..).unwrap_or_default()) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(problem) => {
                eprintln!("conformance probe: {problem}");
                ExitCode::from(2)
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
