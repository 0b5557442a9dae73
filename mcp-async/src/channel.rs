//! A bounded multi-producer, multi-consumer async channel: how handles, handlers and helper
//! tasks talk to the task that owns a connection (and back). It is the part of
//! `async-channel` this crate used, kept here so that the adapters do not pull in that crate
//! and the four it depends on.
//!
//! One mutex guards the queue and the two lists of waiting tasks: the queues are short and
//! their users few, so a lock held for a push or a pop costs less than the lock-free machinery
//! it replaces, and a waker registered under the same lock as the state it waits on cannot
//! miss the change that would wake it.
//!
//! A new message wakes one waiting receiver and a freed place one waiting sender, oldest
//! first. A woken future that is dropped before taking what it was woken for (it lost a
//! `select`) passes the wake to the next waiter, so a cancelled wait never strands the others.
//! Closing wakes every waiter.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use futures_lite::Stream;

use crate::locks::lock;

/// A channel holding at most `capacity` messages. A capacity of 0 is taken as 1: a channel
/// without room would make every send wait forever, and no caller means that.
pub(crate) fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(State {
        // Grown on demand: most channels here carry one reply and many are never used.
        queue: VecDeque::new(),
        capacity: capacity.max(1),
        senders: 1,
        receivers: 1,
        closed: false,
        sending: Waiters::default(),
        receiving: Waiters::default(),
    }));
    (
        Sender {
            shared: Arc::clone(&shared),
        },
        Receiver {
            shared,
            ticket: None,
        },
    )
}

/// What the handles of one channel share.
type Shared<T> = Arc<Mutex<State<T>>>;

/// A channel's queue and waiters.
struct State<T> {
    /// The messages sent and not yet received, never more than `capacity`.
    queue: VecDeque<T>,
    capacity: usize,
    /// The live handles of each side: the last one of either side to go closes the channel.
    senders: usize,
    receivers: usize,
    /// Once set, sends fail and receives fail as soon as the queue is empty.
    closed: bool,
    /// The tasks waiting for a free place, and those waiting for a message.
    sending: Waiters,
    receiving: Waiters,
}

impl<T> State<T> {
    /// Whether a send may queue its message now.
    fn has_room(&self) -> bool {
        self.queue.len() < self.capacity
    }

    /// Closes the channel, handing back every waiter to wake once the lock is released.
    fn close(&mut self) -> Option<Vec<Waker>> {
        if self.closed {
            return None;
        }
        self.closed = true;
        let mut wakers = self.sending.take_all();
        wakers.extend(self.receiving.take_all());
        Some(wakers)
    }
}

/// The tasks parked on one side of a channel, oldest first, each under the ticket its future
/// holds. Tickets only grow, so the list stays sorted by ticket and a future finds its entry
/// by binary search when it is polled again or dropped.
#[derive(Default)]
struct Waiters {
    parked: VecDeque<(u64, Waker)>,
    /// The ticket of the next future to park.
    next_ticket: u64,
}

impl Waiters {
    /// Where the future holding `ticket` is parked (`Err`: it is not, having been woken).
    fn find(&self, ticket: u64) -> Result<usize, usize> {
        self.parked
            .binary_search_by_key(&ticket, |(parked, _)| *parked)
    }

    /// Parks the task behind `waker`. A future still parked keeps its place (and refreshes its
    /// waker, which may have changed since its last poll); one woken meanwhile queues again at
    /// the back.
    fn park(&mut self, ticket: &mut Option<u64>, waker: &Waker) {
        if let Some(place) = ticket.and_then(|ticket| self.find(ticket).ok())
            && let Some((_, parked)) = self.parked.get_mut(place)
        {
            if !parked.will_wake(waker) {
                parked.clone_from(waker);
            }
            return;
        }
        let next = self.next_ticket;
        self.next_ticket += 1;
        self.parked.push_back((next, waker.clone()));
        *ticket = Some(next);
    }

    /// Forgets the future holding `ticket`. True when it was no longer parked, having been
    /// woken: a future leaving without what it was woken for lets the caller pass the wake on.
    fn leave(&mut self, ticket: &mut Option<u64>) -> bool {
        let Some(ticket) = ticket.take() else {
            return false;
        };
        match self.find(ticket) {
            Ok(place) => {
                self.parked.remove(place);
                false
            }
            Err(_) => true,
        }
    }

    /// Takes the oldest waiter off the list, to wake once the lock is released.
    fn take_one(&mut self) -> Option<Waker> {
        self.parked.pop_front().map(|(_, waker)| waker)
    }

    /// Empties the list, to wake every waiter once the lock is released.
    fn take_all(&mut self) -> Vec<Waker> {
        self.parked.drain(..).map(|(_, waker)| waker).collect()
    }
}

/// Wakes outside the lock: a wake may run code (a scheduler, an executor polling inline) that
/// uses this channel and would otherwise wait for the lock, or deadlock on it.
fn wake(wakers: impl IntoIterator<Item = Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

/// The sending side; clones send into the same channel. Dropping the last one closes the
/// channel: receivers get what is queued, then [`RecvError`].
pub(crate) struct Sender<T> {
    shared: Shared<T>,
}

impl<T> Sender<T> {
    /// Queues `message` if there is room, without waiting.
    pub(crate) fn try_send(&self, message: T) -> Result<(), TrySendError<T>> {
        let receiver = {
            let mut state = lock(&self.shared);
            if state.closed {
                return Err(TrySendError::Closed(message));
            }
            if !state.has_room() {
                return Err(TrySendError::Full(message));
            }
            state.queue.push_back(message);
            state.receiving.take_one()
        };
        wake(receiver);
        Ok(())
    }

    /// Queues `message`, waiting for room while the channel is full. Dropping the future
    /// before it completes drops the message unsent.
    pub(crate) fn send(&self, message: T) -> SendFuture<'_, T> {
        SendFuture {
            shared: &self.shared,
            message: Some(message),
            ticket: None,
        }
    }

    /// Whether every receiver is gone, so that sends fail.
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.shared).closed
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        lock(&self.shared).senders += 1;
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let wakers = {
            let mut state = lock(&self.shared);
            state.senders -= 1;
            if state.senders > 0 {
                return;
            }
            state.close()
        };
        wake(wakers.into_iter().flatten());
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// The future of [`Sender::send`].
#[must_use = "a message is sent only when the future is awaited"]
pub(crate) struct SendFuture<'a, T> {
    shared: &'a Shared<T>,
    /// The message until it is queued or given back.
    message: Option<T>,
    /// Its place among the waiting senders, while it has one.
    ticket: Option<u64>,
}

// The message is only ever moved, never pinned, so the future may move whatever `T` is.
impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // Polled again after completing (a caller's bug): nothing is left to send, and
        // repeating an outcome could repeat the wrong one.
        let Some(message) = this.message.take() else {
            return Poll::Pending;
        };
        let receiver = {
            let mut state = lock(this.shared);
            if state.closed {
                state.sending.leave(&mut this.ticket);
                return Poll::Ready(Err(SendError(message)));
            }
            if !state.has_room() {
                state.sending.park(&mut this.ticket, cx.waker());
                this.message = Some(message);
                return Poll::Pending;
            }
            state.sending.leave(&mut this.ticket);
            state.queue.push_back(message);
            state.receiving.take_one()
        };
        wake(receiver);
        Poll::Ready(Ok(()))
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        if self.ticket.is_none() {
            return;
        }
        let next = {
            let mut state = lock(self.shared);
            let woken = state.sending.leave(&mut self.ticket);
            if woken && !state.closed && state.has_room() {
                state.sending.take_one()
            } else {
                None
            }
        };
        wake(next);
    }
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture").finish_non_exhaustive()
    }
}

/// The receiving side; clones take from the same channel, each message reaching one of them.
/// Dropping the last one closes the channel (senders get their message back) and drops what
/// is queued.
///
/// It is also a [`Stream`] of the messages, which ends once the channel is closed and empty.
pub(crate) struct Receiver<T> {
    shared: Shared<T>,
    /// Its place among the waiting receivers while polled as a stream.
    ticket: Option<u64>,
}

impl<T> Receiver<T> {
    /// The next message if one is queued.
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        let (message, sender) = {
            let mut state = lock(&self.shared);
            match state.queue.pop_front() {
                Some(message) => (message, state.sending.take_one()),
                None if state.closed => return Err(TryRecvError::Closed),
                None => return Err(TryRecvError::Empty),
            }
        };
        wake(sender);
        Ok(message)
    }

    /// How many messages are queued.
    pub(crate) fn len(&self) -> usize {
        lock(&self.shared).queue.len()
    }

    /// The next message, waiting while the channel is empty; [`RecvError`] once it is closed
    /// and empty. Dropping the future before it completes takes no message.
    pub(crate) fn recv(&self) -> RecvFuture<'_, T> {
        RecvFuture {
            shared: &self.shared,
            ticket: None,
        }
    }
}

/// Takes the next message for the receiver holding `ticket`, or parks it.
fn poll_recv<T>(
    shared: &Shared<T>,
    ticket: &mut Option<u64>,
    waker: &Waker,
) -> Poll<Result<T, RecvError>> {
    let (message, sender) = {
        let mut state = lock(shared);
        match state.queue.pop_front() {
            Some(message) => {
                state.receiving.leave(ticket);
                (message, state.sending.take_one())
            }
            None if state.closed => {
                state.receiving.leave(ticket);
                return Poll::Ready(Err(RecvError));
            }
            None => {
                state.receiving.park(ticket, waker);
                return Poll::Pending;
            }
        }
    };
    wake(sender);
    Poll::Ready(Ok(message))
}

/// Withdraws a waiting receiver, passing its wake on if a message it was woken for is left.
fn stop_receiving<T>(shared: &Shared<T>, ticket: &mut Option<u64>) {
    if ticket.is_none() {
        return;
    }
    let next = {
        let mut state = lock(shared);
        let woken = state.receiving.leave(ticket);
        if woken && !state.queue.is_empty() {
            state.receiving.take_one()
        } else {
            None
        }
    };
    wake(next);
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        lock(&self.shared).receivers += 1;
        Self {
            shared: Arc::clone(&self.shared),
            ticket: None,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        stop_receiving(&self.shared, &mut self.ticket);
        let (wakers, unread) = {
            let mut state = lock(&self.shared);
            state.receivers -= 1;
            if state.receivers > 0 {
                return;
            }
            // No one can read them any more; dropped below, outside the lock, since a
            // message may hold a handle of this very channel.
            (state.close(), std::mem::take(&mut state.queue))
        };
        drop(unread);
        wake(wakers.into_iter().flatten());
    }
}

impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        poll_recv(&this.shared, &mut this.ticket, cx.waker()).map(Result::ok)
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

/// The future of [`Receiver::recv`].
#[must_use = "a message is received only when the future is awaited"]
pub(crate) struct RecvFuture<'a, T> {
    shared: &'a Shared<T>,
    /// Its place among the waiting receivers, while it has one.
    ticket: Option<u64>,
}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        poll_recv(this.shared, &mut this.ticket, cx.waker())
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    fn drop(&mut self) {
        stop_receiving(self.shared, &mut self.ticket);
    }
}

impl<T> fmt::Debug for RecvFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFuture").finish_non_exhaustive()
    }
}

/// A [`Sender::send`] into a closed channel; holds the message, unsent.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct SendError<T>(pub(crate) T);

/// Why [`Sender::try_send`] did not queue its message, which it gives back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum TrySendError<T> {
    /// The channel holds as many messages as it may.
    Full(T),
    /// The channel is closed.
    Closed(T),
}

/// The channel is closed and empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecvError;

/// Why [`Receiver::try_recv`] returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TryRecvError {
    /// Nothing is queued yet.
    Empty,
    /// The channel is closed and empty.
    Closed,
}

// Without `T: Debug`: the errors are worth printing whatever the message is.
impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending into a closed channel")
    }
}

impl<T> std::error::Error for SendError<T> {}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full(_) => "Full(..)",
            Self::Closed(_) => "Closed(..)",
        })
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full(_) => "sending into a full channel",
            Self::Closed(_) => "sending into a closed channel",
        })
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("receiving from an empty and closed channel")
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "receiving from an empty channel",
            Self::Closed => "receiving from an empty and closed channel",
        })
    }
}

impl std::error::Error for TryRecvError {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use futures_lite::future::{block_on, poll_once};
    use futures_lite::{FutureExt, StreamExt};

    use super::*;

    /// A waker that counts its wakes, standing for one task.
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn task() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        (count, waker)
    }

    fn wakes(count: &Count) -> usize {
        count.0.load(Ordering::SeqCst)
    }

    fn poll<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(waker))
    }

    fn waiting<T>(sender: &Sender<T>) -> (usize, usize) {
        let state = lock(&sender.shared);
        (state.sending.parked.len(), state.receiving.parked.len())
    }

    #[test]
    fn it_holds_at_most_its_capacity_in_order_and_zero_means_one() {
        let (sender, receiver) = bounded(3);
        for n in 0..3 {
            sender.try_send(n).unwrap();
        }
        assert!(matches!(sender.try_send(3), Err(TrySendError::Full(3))));
        assert_eq!(receiver.len(), 3);
        assert_eq!(receiver.try_recv(), Ok(0));
        sender.try_send(3).unwrap();
        let received: Vec<_> = std::iter::from_fn(|| receiver.try_recv().ok()).collect();
        assert_eq!(received, [1, 2, 3]);
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));

        let (sender, receiver) = bounded(0);
        sender.try_send('a').unwrap();
        assert!(matches!(sender.try_send('b'), Err(TrySendError::Full('b'))));
        assert_eq!(block_on(receiver.recv()), Ok('a'));
    }

    #[test]
    fn a_send_into_a_full_channel_waits_until_a_recv_makes_room() {
        let (count, waker) = task();
        let (sender, receiver) = bounded(1);
        sender.try_send(1).unwrap();
        let mut send = sender.send(2);
        assert!(poll(&mut send, &waker).is_pending());
        assert!(
            poll(&mut send, &waker).is_pending(),
            "polled again: one place"
        );
        assert_eq!(waiting(&sender), (1, 0));
        assert_eq!(wakes(&count), 0);
        assert_eq!(block_on(receiver.recv()), Ok(1));
        assert_eq!(wakes(&count), 1);
        assert_eq!(poll(&mut send, &waker), Poll::Ready(Ok(())));
        drop(send);
        assert_eq!(waiting(&sender), (0, 0));
        assert_eq!(receiver.try_recv(), Ok(2));
    }

    #[test]
    fn a_recv_from_an_empty_channel_waits_until_a_send() {
        let (count, waker) = task();
        let (sender, receiver) = bounded(4);
        let mut recv = receiver.recv();
        assert!(poll(&mut recv, &waker).is_pending());
        assert_eq!(waiting(&sender), (0, 1));
        block_on(sender.send("hello")).unwrap();
        assert_eq!(wakes(&count), 1);
        assert_eq!(poll(&mut recv, &waker), Poll::Ready(Ok("hello")));
    }

    #[test]
    fn the_last_sender_gone_wakes_receivers_which_drain_then_see_the_end() {
        let (count, waker) = task();
        let (sender, receiver) = bounded(4);
        let other = receiver.clone();
        let mut first = receiver.recv();
        let mut second = other.recv();
        assert!(poll(&mut first, &waker).is_pending());
        assert!(poll(&mut second, &waker).is_pending());
        let clone = sender.clone();
        drop(sender);
        assert_eq!(wakes(&count), 0, "a sender is left");
        clone.try_send(1).unwrap();
        clone.try_send(2).unwrap();
        assert_eq!(wakes(&count), 2, "one receiver per message");
        assert_eq!(poll(&mut first, &waker), Poll::Ready(Ok(1)));
        drop(clone);
        assert_eq!(
            receiver.try_recv(),
            Ok(2),
            "what was queued is still delivered"
        );
        assert_eq!(poll(&mut second, &waker), Poll::Ready(Err(RecvError)));
        assert_eq!(other.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(block_on(receiver.recv()), Err(RecvError));
    }

    #[test]
    fn closing_wakes_every_waiting_sender_and_receiver() {
        let (count, waker) = task();
        let (sender, receiver) = bounded::<u8>(1);
        let mut waits = receiver.recv();
        assert!(poll(&mut waits, &waker).is_pending());
        let spare = receiver.clone();
        drop(sender);
        assert_eq!(wakes(&count), 1);
        assert_eq!(poll(&mut waits, &waker), Poll::Ready(Err(RecvError)));
        drop(waits);

        let (count, waker) = task();
        let (sender, receiver) = bounded(1);
        sender.try_send(0).unwrap();
        let other = sender.clone();
        let mut first = sender.send(1);
        let mut second = other.send(2);
        assert!(poll(&mut first, &waker).is_pending());
        assert!(poll(&mut second, &waker).is_pending());
        assert!(!sender.is_closed());
        drop(receiver);
        assert!(sender.is_closed());
        assert_eq!(wakes(&count), 2);
        assert!(matches!(
            poll(&mut first, &waker),
            Poll::Ready(Err(SendError(1)))
        ));
        assert!(matches!(
            poll(&mut second, &waker),
            Poll::Ready(Err(SendError(2)))
        ));
        assert!(matches!(other.try_send(3), Err(TrySendError::Closed(3))));
        drop(spare);
    }

    #[test]
    fn the_last_receiver_gone_drops_what_was_queued() {
        let (sender, receiver) = bounded(2);
        let message = Arc::new(());
        sender.try_send(Arc::clone(&message)).unwrap();
        let clone = receiver.clone();
        drop(receiver);
        assert!(!sender.is_closed(), "a receiver is left");
        assert_eq!(Arc::strong_count(&message), 2);
        drop(clone);
        assert_eq!(Arc::strong_count(&message), 1);
        assert!(block_on(sender.send(message)).is_err());
    }

    #[test]
    fn a_cancelled_send_delivers_nothing_and_passes_its_wake_on() {
        let (first_count, first_waker) = task();
        let (second_count, second_waker) = task();
        let (sender, receiver) = bounded(1);
        sender.try_send(0).unwrap();
        let mut first = sender.send(1);
        let mut second = sender.send(2);
        assert!(poll(&mut first, &first_waker).is_pending());
        assert!(poll(&mut second, &second_waker).is_pending());
        assert_eq!(receiver.try_recv(), Ok(0));
        assert_eq!(wakes(&first_count), 1, "the oldest waiter is woken");
        assert_eq!(wakes(&second_count), 0);
        drop(first);
        assert_eq!(wakes(&second_count), 1, "its wake went to the next waiter");
        assert_eq!(poll(&mut second, &second_waker), Poll::Ready(Ok(())));
        assert_eq!(receiver.try_recv(), Ok(2));
        assert_eq!(
            receiver.try_recv(),
            Err(TryRecvError::Empty),
            "1 was not sent"
        );
        assert_eq!(waiting(&sender), (0, 0));

        // A waiter cancelled before it is woken just leaves the line.
        let (third_count, third_waker) = task();
        sender.try_send(3).unwrap();
        let mut third = sender.send(4);
        let mut fourth = sender.send(5);
        assert!(poll(&mut third, &third_waker).is_pending());
        assert!(poll(&mut fourth, &second_waker).is_pending());
        drop(third);
        assert_eq!(waiting(&sender), (1, 0));
        assert_eq!(receiver.try_recv(), Ok(3));
        assert_eq!(wakes(&third_count), 0);
        assert_eq!(wakes(&second_count), 2);
        assert_eq!(poll(&mut fourth, &second_waker), Poll::Ready(Ok(())));
        assert_eq!(receiver.try_recv(), Ok(5));
    }

    #[test]
    fn a_cancelled_recv_takes_no_message_and_passes_its_wake_on() {
        let (first_count, first_waker) = task();
        let (second_count, second_waker) = task();
        let (sender, receiver) = bounded(2);
        let mut first = receiver.recv();
        let mut second = receiver.recv();
        assert!(poll(&mut first, &first_waker).is_pending());
        assert!(poll(&mut second, &second_waker).is_pending());
        sender.try_send("only").unwrap();
        assert_eq!((wakes(&first_count), wakes(&second_count)), (1, 0));
        drop(first);
        assert_eq!(wakes(&second_count), 1, "its wake went to the next waiter");
        assert_eq!(poll(&mut second, &second_waker), Poll::Ready(Ok("only")));

        // Losing a race to another future leaves the message for the next recv.
        let lost = block_on(receiver.recv().or(async { Err(RecvError) }));
        assert_eq!(lost, Err(RecvError));
        sender.try_send("kept").unwrap();
        assert_eq!(block_on(poll_once(receiver.recv())), Some(Ok("kept")));
    }

    #[test]
    fn the_stream_yields_every_message_then_ends() {
        let (sender, mut receiver) = bounded(2);
        let sending = async move {
            for n in 0..10 {
                sender.send(n).await.unwrap();
            }
        };
        let receiving = async { (&mut receiver).collect::<Vec<_>>().await };
        let ((), received) = block_on(futures_lite::future::zip(sending, receiving));
        assert_eq!(received, (0..10).collect::<Vec<_>>());
        assert_eq!(block_on(receiver.next()), None);
    }

    #[test]
    fn the_errors_give_the_message_back_and_say_what_happened() {
        assert_eq!(SendError(1).0, 1);
        assert_eq!(SendError(1).to_string(), "sending into a closed channel");
        assert_eq!(format!("{:?}", TrySendError::Full(1)), "Full(..)");
        assert_eq!(
            TrySendError::Closed(1).to_string(),
            "sending into a closed channel"
        );
        assert_eq!(
            RecvError.to_string(),
            "receiving from an empty and closed channel"
        );
        assert_eq!(
            TryRecvError::Empty.to_string(),
            "receiving from an empty channel"
        );
    }

    #[test]
    fn two_producer_threads_deliver_every_message_exactly_once() {
        const EACH: usize = 20_000;
        let (sender, receiver) = bounded(3);
        let producers: Vec<_> = (0..2)
            .map(|producer| {
                let sender = sender.clone();
                std::thread::spawn(move || {
                    for n in 0..EACH {
                        block_on(sender.send(producer * EACH + n)).unwrap();
                    }
                })
            })
            .collect();
        drop(sender);
        let other = receiver.clone();
        let consumer = std::thread::spawn(move || {
            let mut got = Vec::new();
            while let Ok(n) = block_on(other.recv()) {
                got.push(n);
            }
            got
        });
        let mut received = Vec::new();
        while let Ok(n) = block_on(receiver.recv()) {
            received.push(n);
        }
        for producer in producers {
            producer.join().unwrap();
        }
        let mut other = consumer.join().unwrap();
        let in_order = |got: &[usize]| {
            (0..2).all(|producer| {
                let own = got.iter().filter(|n| **n / EACH == producer);
                own.clone().zip(own.skip(1)).all(|(a, b)| a < b)
            })
        };
        assert!(in_order(&received) && in_order(&other), "FIFO per producer");
        received.append(&mut other);
        received.sort_unstable();
        assert_eq!(received, (0..2 * EACH).collect::<Vec<_>>());
    }

    #[test]
    fn waits_cancelled_on_both_sides_lose_and_strand_nothing() {
        const EACH: usize = 5_000;
        let (sender, receiver) = bounded(2);
        // Each producer gives up every other wait (as a lost `select` would) and sends the
        // message again: a wake lost to a cancelled waiter would hang a blocked peer.
        let producers: Vec<_> = (0..2)
            .map(|producer| {
                let sender = sender.clone();
                std::thread::spawn(move || {
                    for n in 0..EACH {
                        let message = producer * EACH + n;
                        if n % 2 == 0 && block_on(poll_once(sender.send(message))).is_some() {
                            continue;
                        }
                        block_on(sender.send(message)).unwrap();
                    }
                })
            })
            .collect();
        drop(sender);
        let mut received = Vec::new();
        let mut attempt = 0_usize;
        loop {
            attempt += 1;
            let next = if attempt % 3 == 0 {
                match block_on(poll_once(receiver.recv())) {
                    Some(next) => next,
                    None => continue,
                }
            } else {
                block_on(receiver.recv())
            };
            match next {
                Ok(n) => received.push(n),
                Err(RecvError) => break,
            }
        }
        for producer in producers {
            producer.join().unwrap();
        }
        received.sort_unstable();
        assert_eq!(received, (0..2 * EACH).collect::<Vec<_>>());
    }
}
