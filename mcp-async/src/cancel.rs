//! A request's cancellation signal: raised once, when the owner drops the handler's
//! [`CancelGuard`] (the request was answered, cancelled, or its connection ended); seen by
//! any number of [`Cancelled`] clones in the handler's context.
//!
//! One is made per request, so it is a single small allocation, and raising a signal no one
//! waits on costs a flag.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::locks::lock;

#[derive(Debug, Default)]
struct Shared {
    raised: AtomicBool,
    /// The tasks waiting, each in the slot its [`WaitCancelled`] took (`None`: free).
    waiters: Mutex<Vec<Option<Waker>>>,
}

impl Shared {
    fn waiters(&self) -> MutexGuard<'_, Vec<Option<Waker>>> {
        lock(&self.waiters)
    }
}

/// A signal and the guard that raises it when dropped.
pub(crate) fn signal() -> (CancelGuard, Cancelled) {
    let shared = Arc::new(Shared::default());
    (CancelGuard(Arc::clone(&shared)), Cancelled(shared))
}

/// Raises the signal when dropped.
#[derive(Debug)]
pub(crate) struct CancelGuard(Arc<Shared>);

impl Drop for CancelGuard {
    fn drop(&mut self) {
        self.0.raised.store(true, Ordering::Release);
        let waiters = std::mem::take(&mut *self.0.waiters());
        for waker in waiters.into_iter().flatten() {
            waker.wake();
        }
    }
}

/// The signal, seen from the handler.
#[derive(Debug, Clone)]
pub(crate) struct Cancelled(Arc<Shared>);

impl Cancelled {
    /// Whether it was raised.
    pub(crate) fn is_raised(&self) -> bool {
        self.0.raised.load(Ordering::Acquire)
    }

    /// Completes once it is raised.
    pub(crate) fn wait(&self) -> WaitCancelled<'_> {
        WaitCancelled {
            shared: &self.0,
            slot: None,
        }
    }
}

/// The future of [`Cancelled::wait`]; gives its waiter slot back when dropped.
#[derive(Debug)]
pub(crate) struct WaitCancelled<'a> {
    shared: &'a Shared,
    slot: Option<usize>,
}

impl Future for WaitCancelled<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.shared.raised.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        let mut waiters = this.shared.waiters();
        // Checked again under the lock: the guard takes the waiters after raising the flag.
        if this.shared.raised.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        match this.slot.and_then(|slot| waiters.get_mut(slot)) {
            Some(Some(waker)) if waker.will_wake(cx.waker()) => {}
            Some(waiter) => *waiter = Some(cx.waker().clone()),
            None => {
                let free = waiters.iter().position(Option::is_none);
                let slot = free.unwrap_or(waiters.len());
                match waiters.get_mut(slot) {
                    Some(waiter) => *waiter = Some(cx.waker().clone()),
                    None => waiters.push(Some(cx.waker().clone())),
                }
                this.slot = Some(slot);
            }
        }
        Poll::Pending
    }
}

impl Drop for WaitCancelled<'_> {
    fn drop(&mut self) {
        let Some(slot) = self.slot else {
            return;
        };
        let mut waiters = self.shared.waiters();
        if let Some(waiter) = waiters.get_mut(slot) {
            *waiter = None;
        }
        while waiters.last().is_some_and(Option::is_none) {
            waiters.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn every_waiter_is_woken_once_raised_and_a_dropped_one_leaves_no_slot() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);
        let (guard, cancelled) = signal();
        let other = cancelled.clone();
        assert!(!other.is_raised());
        let mut first = Box::pin(cancelled.wait());
        let mut second = Box::pin(other.wait());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(
            first.as_mut().poll(&mut cx).is_pending(),
            "polled again: same slot"
        );
        assert!(second.as_mut().poll(&mut cx).is_pending());
        {
            let mut dropped = Box::pin(other.wait());
            assert!(dropped.as_mut().poll(&mut cx).is_pending());
            assert_eq!(cancelled.0.waiters().len(), 3);
        }
        assert_eq!(
            cancelled.0.waiters().len(),
            2,
            "the dropped waiter's slot is freed"
        );
        drop(guard);
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        assert!(other.is_raised());
        assert!(first.as_mut().poll(&mut cx).is_ready());
        assert!(second.as_mut().poll(&mut cx).is_ready());
        let mut late = Box::pin(other.wait());
        assert!(
            late.as_mut().poll(&mut cx).is_ready(),
            "raised before the wait began"
        );
    }
}
