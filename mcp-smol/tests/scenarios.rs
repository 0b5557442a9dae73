//! The shared scenario suite (`mcp-scenarios`) on smol: the same scenarios `mcp-tokio` runs.

use std::future::Future;

struct SmolHarness;

impl mcp_scenarios::Harness for SmolHarness {
    type Stack = mcp_smol::Smol;
    const NAME: &'static str = "smol";

    fn block_on<T>(future: impl Future<Output = T>) -> T {
        smol::block_on(future)
    }
}

fn main() {
    mcp_scenarios::main::<SmolHarness>();
}
