//! A command-line MCP client on smol: prints a call's JSON result, or its typed error on
//! stderr with exit status 1.
//!
//! ```text
//! cargo run -p mcp-smol --example cli -- --stdio 'cargo run -q -p mcp-smol --example server -- --stdio' tools/list
//! cargo run -p mcp-smol --example cli -- --url http://127.0.0.1:8080/mcp tools/call echo '{"message":"hi"}'
//! cargo run -p mcp-smol --example cli -- --cacert ca.pem --url https://mcp.internal/mcp tools/list
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use mcp_async::cli::{CliArgs, Target, USAGE, run};
use mcp_smol::{ClientOptions, connect_child, connect_http};

fn main() {
    let args = match CliArgs::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(problem) => {
            eprintln!("cli: {problem}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let code = smol::block_on(async {
        let mut options =
            ClientOptions::new("mcp-smol-cli", env!("CARGO_PKG_VERSION")).era(args.era);
        options.call_timeout = Some(args.timeout);
        options.connect_timeout = args.timeout;
        let connected = match &args.target {
            Target::Stdio(command) => connect_child(command.clone(), options).await,
            Target::Url(url) => match args.http_options(url) {
                Ok(http) => connect_http(http, options).await,
                Err(problem) => {
                    eprintln!("cli: {problem}");
                    return 2;
                }
            },
        };
        let client = match connected {
            Ok(client) => client,
            Err(error) => {
                eprintln!("cli: cannot connect: {error}");
                return 1;
            }
        };
        let outcome = run(&client, args.command).await;
        client.shutdown().await;
        match outcome {
            Ok(result) => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&result).unwrap_or_default()
                );
                0
            }
            Err(error) => {
                eprintln!("cli: {error}");
                1
            }
        }
    });
    std::process::exit(code);
}
