//! `conformance`: checks this MCP stack against the protocol and prints what holds.
//!
//! Today `conformance run` runs the project's own wire-level probes against `mcp-proto` (the
//! rules other SDKs get wrong: Accept wildcards and q-values, `id: null`, batches by version…).
//! The official suite, served fixtures and both runtimes join as the adapters land.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod fixture;
mod probes;
mod serve;

use std::process::ExitCode;

const USAGE: &str = "usage: conformance <command>

  run                                   run every probe and print a table; exit 1 if any fails
  server --runtime smol|tokio (--listen ADDR:PORT | --stdio)
                                        serve the official suite's \"everything\" fixture
                                        (MCP endpoint at /mcp)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") | None => run(),
        Some("server") => match serve::server_command(args.get(1..).unwrap_or_default()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(problem) => {
                eprintln!("conformance server: {problem}\n{USAGE}");
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

fn run() -> ExitCode {
    let results: Vec<(probes::Probe, Result<(), String>)> = probes::all()
        .into_iter()
        .map(|probe| {
            let outcome = (probe.check)();
            (probe, outcome)
        })
        .collect();
    let area_width = results.iter().map(|(p, _)| p.area.len()).max().unwrap_or(0);
    let name_width = results.iter().map(|(p, _)| p.name.len()).max().unwrap_or(0);
    println!("{:area_width$}  {:name_width$}  result", "area", "probe");
    let mut failed = 0;
    for (probe, outcome) in &results {
        let verdict = match outcome {
            Ok(()) => "pass".to_owned(),
            Err(why) => {
                failed += 1;
                format!("FAIL: {why}")
            }
        };
        println!(
            "{:area_width$}  {:name_width$}  {verdict}",
            probe.area, probe.name
        );
    }
    println!(
        "\nnot yet covered: MCP client/server endpoints, Streamable HTTP, smol/tokio transports, official suite"
    );
    println!(
        "conformance: {} passed, {failed} failed",
        results.len() - failed
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
