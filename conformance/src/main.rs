//! `conformance`: checks this MCP stack against the protocol.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

fn main() {
    println!("conformance: work in progress");
}
