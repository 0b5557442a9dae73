//! The shared scenario suite (`mcp-scenarios`) on tokio: the same scenarios `mcp-smol` runs.
#![allow(clippy::expect_used)]

use std::future::Future;

struct TokioHarness;

impl mcp_scenarios::Harness for TokioHarness {
    type Stack = mcp_tokio::Tokio;
    const NAME: &'static str = "tokio";

    /// A fresh multi-threaded runtime per scenario, as an application would have.
    fn block_on<T>(future: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(future)
    }
}

fn main() {
    mcp_scenarios::main::<TokioHarness>();
}
