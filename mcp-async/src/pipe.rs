//! A bounded in-memory byte pipe: what one side writes, the other reads, in order. The
//! in-memory transport joins a client and a server with two of them.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use crate::locks::lock;
use std::task::{Context, Poll, Waker};

use futures_lite::io::{AsyncRead, AsyncWrite};

/// A pipe that holds at most `capacity` unread bytes (at least one): a writer beyond that
/// waits for the reader.
pub(crate) fn pipe(capacity: usize) -> (PipeReader, PipeWriter) {
    let shared = Arc::new(Mutex::new(Shared {
        buffer: VecDeque::new(),
        capacity: capacity.max(1),
        reader: None,
        writer: None,
        reader_gone: false,
        writer_gone: false,
    }));
    (
        PipeReader {
            shared: Arc::clone(&shared),
        },
        PipeWriter { shared },
    )
}

#[derive(Debug)]
struct Shared {
    buffer: VecDeque<u8>,
    capacity: usize,
    /// The reader waiting for bytes, and the writer waiting for room.
    reader: Option<Waker>,
    writer: Option<Waker>,
    reader_gone: bool,
    writer_gone: bool,
}

fn park(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(parked) if parked.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

/// The reading end; dropping it makes further writes fail with `BrokenPipe`.
#[derive(Debug)]
pub(crate) struct PipeReader {
    shared: Arc<Mutex<Shared>>,
}

/// The writing end; closing or dropping it ends the reader's stream after the bytes in it.
#[derive(Debug)]
pub(crate) struct PipeWriter {
    shared: Arc<Mutex<Shared>>,
}

impl AsyncRead for PipeReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut shared = lock(&*self.shared);
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if shared.buffer.is_empty() {
            if shared.writer_gone {
                return Poll::Ready(Ok(0));
            }
            park(&mut shared.reader, cx.waker());
            return Poll::Pending;
        }
        let count = buf.len().min(shared.buffer.len());
        for (slot, byte) in buf.iter_mut().zip(shared.buffer.drain(..count)) {
            *slot = byte;
        }
        if let Some(writer) = shared.writer.take() {
            writer.wake();
        }
        Poll::Ready(Ok(count))
    }
}

impl Drop for PipeReader {
    fn drop(&mut self) {
        let mut shared = lock(&*self.shared);
        shared.reader_gone = true;
        if let Some(writer) = shared.writer.take() {
            writer.wake();
        }
    }
}

impl AsyncWrite for PipeWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut shared = lock(&*self.shared);
        if shared.reader_gone || shared.writer_gone {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let room = shared.capacity.saturating_sub(shared.buffer.len());
        if room == 0 {
            park(&mut shared.writer, cx.waker());
            return Poll::Pending;
        }
        let count = room.min(buf.len());
        shared.buffer.extend(buf.iter().take(count));
        if let Some(reader) = shared.reader.take() {
            reader.wake();
        }
        Poll::Ready(Ok(count))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.end();
        Poll::Ready(Ok(()))
    }
}

impl PipeWriter {
    fn end(&self) {
        let mut shared = lock(&*self.shared);
        shared.writer_gone = true;
        if let Some(reader) = shared.reader.take() {
            reader.wake();
        }
    }
}

impl Drop for PipeWriter {
    fn drop(&mut self) {
        self.end();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use futures_lite::future::block_on;
    use futures_lite::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn bytes_arrive_in_order_through_a_small_buffer_and_close_ends_the_stream() {
        let (mut reader, mut writer) = pipe(7);
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let sent = data.clone();
        let writing = async move {
            writer.write_all(&sent).await.unwrap();
            writer.close().await.unwrap();
        };
        let reading = async move {
            let mut received = Vec::new();
            reader.read_to_end(&mut received).await.unwrap();
            received
        };
        let ((), received) = block_on(futures_lite::future::zip(writing, reading));
        assert_eq!(received, data);
    }

    #[test]
    fn a_full_pipe_makes_the_writer_wait_and_a_gone_reader_breaks_it() {
        let (reader, mut writer) = pipe(4);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut write = |bytes: &[u8]| Pin::new(&mut writer).poll_write(&mut cx, bytes);
        assert!(matches!(write(b"abcdef"), Poll::Ready(Ok(4))));
        assert!(write(b"g").is_pending(), "the buffer is full");
        drop(reader);
        assert!(
            matches!(write(b"g"), Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::BrokenPipe)
        );
    }

    #[test]
    fn a_dropped_writer_ends_the_readers_stream_after_its_bytes() {
        let (mut reader, mut writer) = pipe(16);
        block_on(writer.write_all(b"last")).unwrap();
        drop(writer);
        let mut received = Vec::new();
        block_on(reader.read_to_end(&mut received)).unwrap();
        assert_eq!(received, b"last");
    }
}
