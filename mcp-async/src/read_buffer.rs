//! The bytes a server connection has read and not yet parsed, read straight into the buffer
//! that keeps them (no second copy), sized to what the connection needs: small while its
//! requests are small, grown for a large one, and shrunk back once that one was parsed, so an
//! idle keep-alive connection holds little more than one small request's worth.

use std::io;

use futures_lite::io::{AsyncRead, AsyncReadExt};

/// What an empty buffer takes for its first read, and keeps between requests: room for a
/// typical request (head and small JSON body) in one read.
const SMALL: usize = 1024;
/// Less room than this is made more before reading.
const MIN_ROOM: usize = 256;

/// A connection's unparsed input.
#[derive(Debug, Default)]
pub(crate) struct ReadBuffer {
    /// Initialised storage; `bytes[start..end]` is unparsed input, `bytes[end..]` room.
    bytes: Vec<u8>,
    start: usize,
    end: usize,
}

impl ReadBuffer {
    /// The unparsed input.
    pub(crate) fn unread(&self) -> &[u8] {
        self.bytes.get(self.start..self.end).unwrap_or_default()
    }

    /// How many unparsed bytes there are.
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    /// Marks `n` bytes of the unparsed input parsed.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = self.start.saturating_add(n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Reads once from `connection` (at most `max_read` bytes) and appends what came;
    /// returns how many bytes (0: the connection ended).
    pub(crate) async fn read_from<C>(
        &mut self,
        connection: &mut C,
        max_read: usize,
    ) -> io::Result<usize>
    where
        C: AsyncRead + Unpin,
    {
        self.make_room(max_read);
        let room = self.bytes.get_mut(self.end..).unwrap_or_default();
        let n = connection.read(room).await?;
        self.end = self.end.saturating_add(n).min(self.bytes.len());
        Ok(n)
    }

    /// Between requests: gives back what a large request made the buffer take, keeping
    /// [`SMALL`] bytes.
    pub(crate) fn settle(&mut self) {
        if self.start == self.end && self.bytes.len() > SMALL {
            self.bytes.truncate(SMALL);
            self.bytes.shrink_to_fit();
        }
    }

    /// Makes sure there is room to read into: moves the unparsed input to the front when
    /// that makes enough, else grows (doubling from [`SMALL`], by at most `max_read`).
    fn make_room(&mut self, max_read: usize) {
        if self.bytes.len() - self.end >= MIN_ROOM {
            return;
        }
        if self.start > 0 {
            self.bytes.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.bytes.len() - self.end >= MIN_ROOM {
                return;
            }
        }
        let len = self.bytes.len();
        let grown = len
            .saturating_mul(2)
            .max(SMALL)
            .min(len.saturating_add(max_read.max(MIN_ROOM)));
        self.bytes.resize(grown, 0);
    }
}

#[cfg(test)]
mod tests {
    use futures_lite::future::block_on;
    use futures_lite::io::Cursor;

    use super::*;

    #[test]
    fn input_is_kept_across_reads_and_a_large_request_is_given_back() {
        block_on(async {
            let input: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
            let mut connection = Cursor::new(input.clone());
            let mut buffer = ReadBuffer::default();
            assert_eq!(
                buffer.read_from(&mut connection, 16 * 1024).await.unwrap(),
                SMALL
            );
            assert_eq!(buffer.unread(), &input[..SMALL]);
            buffer.consume(10);
            let mut total = SMALL;
            loop {
                let n = buffer.read_from(&mut connection, 16 * 1024).await.unwrap();
                if n == 0 {
                    break;
                }
                total += n;
            }
            assert_eq!(total, input.len());
            assert_eq!(buffer.unread(), &input[10..]);
            assert_eq!(buffer.len(), input.len() - 10);
            buffer.settle();
            assert_eq!(buffer.unread(), &input[10..], "unparsed input is kept");
            buffer.consume(buffer.len());
            buffer.settle();
            assert!(buffer.bytes.capacity() <= SMALL);
            assert_eq!(buffer.unread(), b"");
        });
    }

    #[test]
    fn reads_are_bounded_by_max_read() {
        block_on(async {
            let mut connection = Cursor::new(vec![7u8; 10_000]);
            let mut buffer = ReadBuffer::default();
            buffer.read_from(&mut connection, 100).await.unwrap();
            assert_eq!(
                buffer.len(),
                MIN_ROOM,
                "the first read takes at least MIN_ROOM"
            );
            for _ in 0..10 {
                let n = buffer.read_from(&mut connection, 100).await.unwrap();
                assert!(n <= 100 + MIN_ROOM);
            }
        });
    }
}
