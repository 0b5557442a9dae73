//! The queue from the HTTP owner task to the one front-end task carrying an exchange: what to
//! write for it, in order, bounded; and which exchange it is, once the engine opened it.
//!
//! One exists per request, so it is made cheap: a small shared state behind a mutex, its queue
//! allocated on the first output, and the receiver woken only for outputs (not for the
//! opening, which the front end needs only if its client goes away).

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use mcp_proto::streamable::{HttpOutput, StreamId};

use crate::http_serve::Machine;
use crate::locks::lock;

struct State {
    outputs: VecDeque<HttpOutput>,
    capacity: usize,
    /// The exchange the engine opened for the request.
    opened: Option<(Machine, StreamId)>,
    /// The receiver's task, waiting for an output.
    waker: Option<Waker>,
    sender_gone: bool,
    receiver_gone: bool,
}

type Shared = Arc<Mutex<State>>;

/// A queue of at most `capacity` outputs.
pub(crate) fn channel(capacity: usize) -> (ExchangeSender, ExchangeReceiver) {
    let shared = Arc::new(Mutex::new(State {
        outputs: VecDeque::new(),
        capacity,
        opened: None,
        waker: None,
        sender_gone: false,
        receiver_gone: false,
    }));
    (
        ExchangeSender(Arc::clone(&shared)),
        ExchangeReceiver(shared),
    )
}

/// The owner's end. Dropping it ends the exchange for the receiver (after what was queued).
pub(crate) struct ExchangeSender(Shared);

impl ExchangeSender {
    /// Names the exchange the engine opened. Fails when the receiver is gone.
    pub(crate) fn open(&self, machine: Machine, stream: StreamId) -> Result<(), ()> {
        let mut state = lock(&*self.0);
        if state.receiver_gone {
            return Err(());
        }
        state.opened = Some((machine, stream));
        Ok(())
    }

    /// Queues `output`; fails (handing it back) when the queue is full or the receiver gone.
    // The refused output goes back to the caller as it is: boxing it would cost an
    // allocation on every send to shrink only the rare failure.
    #[allow(clippy::result_large_err)]
    pub(crate) fn try_send(&self, output: HttpOutput) -> Result<(), HttpOutput> {
        let waker = {
            let mut state = lock(&*self.0);
            if state.receiver_gone || state.outputs.len() >= state.capacity {
                return Err(output);
            }
            state.outputs.push_back(output);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Whether the receiver is gone.
    pub(crate) fn is_closed(&self) -> bool {
        lock(&*self.0).receiver_gone
    }
}

impl Drop for ExchangeSender {
    fn drop(&mut self) {
        let waker = {
            let mut state = lock(&*self.0);
            state.sender_gone = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The front end's end. Dropping it closes the exchange for the sender.
pub(crate) struct ExchangeReceiver(Shared);

// `&mut self`: one task receives, as with any channel receiver, though the shared state
// needs only `&self`.
#[allow(clippy::needless_pass_by_ref_mut)]
impl ExchangeReceiver {
    /// The next output; `None` once the sender is gone and every output was taken.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<HttpOutput>> {
        let mut state = lock(&*self.0);
        if let Some(output) = state.outputs.pop_front() {
            return Poll::Ready(Some(output));
        }
        if state.sender_gone {
            return Poll::Ready(None);
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            waker => *waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// [`ExchangeReceiver::poll_recv`] as a future.
    pub(crate) async fn recv(&mut self) -> Option<HttpOutput> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The next output if one is queued.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn try_recv(&mut self) -> Option<HttpOutput> {
        lock(&*self.0).outputs.pop_front()
    }

    /// The exchange the engine opened for the request, once it did.
    pub(crate) fn opened(&self) -> Option<(Machine, StreamId)> {
        lock(&*self.0).opened
    }
}

impl Drop for ExchangeReceiver {
    fn drop(&mut self) {
        let outputs = {
            let mut state = lock(&*self.0);
            state.receiver_gone = true;
            state.waker = None;
            std::mem::take(&mut state.outputs)
        };
        drop(outputs);
    }
}

#[cfg(test)]
mod tests {
    use std::task::Wake;

    use super::*;

    struct Count(std::sync::atomic::AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn events(stream: u64) -> HttpOutput {
        HttpOutput::Events {
            stream: StreamId(stream),
            bytes: Vec::new(),
        }
    }

    #[test]
    fn outputs_arrive_in_order_within_the_bound_and_only_outputs_wake() {
        let count = Arc::new(Count(0.into()));
        let waker = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);
        let (sender, mut receiver) = channel(2);
        assert!(receiver.poll_recv(&mut cx).is_pending());
        assert_eq!(sender.open(Machine::Streamable, StreamId(7)), Ok(()));
        assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert_eq!(receiver.opened(), Some((Machine::Streamable, StreamId(7))));
        assert!(sender.try_send(events(1)).is_ok());
        assert!(sender.try_send(events(2)).is_ok());
        assert!(sender.try_send(events(3)).is_err(), "full");
        assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        let stream = |output: Option<HttpOutput>| match output {
            Some(HttpOutput::Events { stream, .. }) => Some(stream.0),
            _ => None,
        };
        assert_eq!(stream(receiver.try_recv()), Some(1));
        drop(sender);
        assert!(matches!(receiver.poll_recv(&mut cx), Poll::Ready(Some(_))));
        assert!(matches!(receiver.poll_recv(&mut cx), Poll::Ready(None)));
    }

    #[test]
    fn a_gone_receiver_refuses_outputs_and_the_opening() {
        let (sender, receiver) = channel(4);
        assert!(!sender.is_closed());
        drop(receiver);
        assert!(sender.is_closed());
        assert!(sender.try_send(events(1)).is_err());
        assert_eq!(sender.open(Machine::LegacySse, StreamId(1)), Err(()));
    }
}
