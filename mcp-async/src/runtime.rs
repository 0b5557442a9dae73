//! What the shared layer needs from an async runtime: spawning a task and a timer. The
//! adapters (`mcp-smol`, `mcp-tokio`) implement [`Runtime`]; everything else is written once,
//! against it and the `futures-io` traits.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An async runtime, as the drivers use it.
pub trait Runtime: Clone + Send + Sync + fmt::Debug + 'static {
    /// Runs `task` in the background until it completes. Only drivers spawn, never `Drop`.
    fn spawn(&self, task: BoxFuture<'static, ()>);
    /// A future that completes at `deadline`.
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()>;
}
