//! The one timer of a connection task: armed for the engine's next deadline.

use std::task::{Context, Poll};
use std::time::Instant;

use crate::runtime::{BoxFuture, Runtime};

/// A re-armable timer on a [`Runtime`].
pub(crate) struct Timer<R> {
    runtime: R,
    armed: Option<(Instant, BoxFuture<'static, ()>)>,
}

impl<R: Runtime> Timer<R> {
    pub(crate) fn new(runtime: R) -> Self {
        Self {
            runtime,
            armed: None,
        }
    }

    /// Fires at `deadline` (none: disarmed). Re-arming for the same instant keeps the timer.
    pub(crate) fn set(&mut self, deadline: Option<Instant>) {
        match deadline {
            None => self.armed = None,
            Some(at) if self.armed.as_ref().is_some_and(|(armed, _)| *armed == at) => {}
            Some(at) => self.armed = Some((at, self.runtime.sleep_until(at))),
        }
    }

    /// Ready once when the deadline passes.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some((_, sleep)) = &mut self.armed else {
            return Poll::Pending;
        };
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.armed = None;
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
