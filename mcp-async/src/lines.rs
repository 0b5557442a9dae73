//! Newline-delimited JSON-RPC over any `futures-io` byte stream (stdio, a child's pipes, an
//! in-memory pipe): buffered, bounded, polled from the connection's one task.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::io::{AsyncRead, AsyncWrite};
use std::time::Instant;

use mcp_proto::engine::{ClientEndpoint, ServerEndpoint, TransportFailure, TransportScope};
use mcp_proto::framing::{LineDecodeError, LineDecoder, LineStatus, encode_line};
use mcp_proto::jsonrpc::{self, DecodeError, DecodeErrorKind, DecodeOptions, Message};

/// Bytes read at a time.
const READ_CHUNK: usize = 16 * 1024;
/// Unwritten bytes beyond which the connection stops taking new work until the peer reads.
pub(crate) const MAX_PENDING_WRITE: usize = 8 * 1024 * 1024;

/// How the read side ended.
#[derive(Debug)]
pub(crate) enum ReadEnd {
    /// End of input.
    Eof,
    /// A read failed.
    Failed(io::Error),
}

/// What [`LineIo::poll`] noticed.
#[derive(Debug)]
pub(crate) enum IoWake {
    /// New bytes arrived: call [`LineIo::next_message`].
    Read,
    /// The input ended (reported once).
    ReadEnded,
    /// A write failed; nothing more can be sent (reported once).
    WriteFailed,
}

/// A line-framed duplex connection.
#[derive(Debug)]
pub(crate) struct LineIo<R, W> {
    reader: R,
    writer: W,
    decoder: LineDecoder,
    inbound: Vec<u8>,
    /// Where the unread part of `inbound` starts: the bytes before it are dropped once per read,
    /// not once per message.
    inbound_start: usize,
    chunk: Vec<u8>,
    outbound: Vec<u8>,
    written: usize,
    needs_flush: bool,
    read_end: Option<ReadEnd>,
    write_error: Option<io::Error>,
    options: DecodeOptions,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> LineIo<R, W> {
    pub(crate) fn new(reader: R, writer: W) -> Self {
        Self {
            reader,
            writer,
            decoder: LineDecoder::new(),
            inbound: Vec::new(),
            inbound_start: 0,
            chunk: vec![0; READ_CHUNK],
            outbound: Vec::new(),
            written: 0,
            needs_flush: false,
            read_end: None,
            write_error: None,
            options: DecodeOptions::default(),
        }
    }

    /// Appends `message` to the output (written by later polls).
    pub(crate) fn send(&mut self, message: &Message) {
        if self.write_error.is_some() {
            return;
        }
        if let Err(error) = encode_line(&jsonrpc::encode(message), &mut self.outbound) {
            // The engine answers on its own deadline; nothing malformed goes on the wire.
            tracing::error!(%error, "dropping a message that cannot be framed as one line");
        }
    }

    /// Too much is waiting to be written: stop taking new work until the peer reads.
    pub(crate) fn is_congested(&self) -> bool {
        self.outbound.len().saturating_sub(self.written) > MAX_PENDING_WRITE
    }

    /// Everything sent so far has been written and flushed (or writing failed).
    pub(crate) fn is_flushed(&self) -> bool {
        self.write_error.is_some() || (self.outbound.is_empty() && !self.needs_flush)
    }

    /// How the input ended, once it has.
    pub(crate) fn read_end(&self) -> Option<&ReadEnd> {
        self.read_end.as_ref()
    }

    /// The write error, once writing failed.
    pub(crate) fn write_error(&self) -> Option<&io::Error> {
        self.write_error.as_ref()
    }

    /// Writes what it can, then reads what is there.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<IoWake> {
        if let Poll::Ready(()) = self.poll_write(cx) {
            return Poll::Ready(IoWake::WriteFailed);
        }
        // Unparsed input is bounded: while a full message's worth waits, stop reading.
        if self.read_end.is_some() || self.inbound.len() > self.options.max_message_len {
            return Poll::Pending;
        }
        loop {
            match Pin::new(&mut self.reader).poll_read(cx, &mut self.chunk) {
                Poll::Ready(Ok(0)) => {
                    self.read_end = Some(ReadEnd::Eof);
                    return Poll::Ready(IoWake::ReadEnded);
                }
                Poll::Ready(Ok(n)) => {
                    self.inbound
                        .extend_from_slice(self.chunk.get(..n).unwrap_or_default());
                    return Poll::Ready(IoWake::Read);
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => {
                    self.read_end = Some(ReadEnd::Failed(e));
                    return Poll::Ready(IoWake::ReadEnded);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Ready once, when writing fails.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.write_error.is_some() {
            return Poll::Pending;
        }
        while self.written < self.outbound.len() {
            let pending = self.outbound.get(self.written..).unwrap_or_default();
            match Pin::new(&mut self.writer).poll_write(cx, pending) {
                Poll::Ready(Ok(0)) => return self.write_failed(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => {
                    self.written += n;
                    self.needs_flush = true;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return self.write_failed(e),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.outbound.clear();
        self.written = 0;
        if self.needs_flush {
            match Pin::new(&mut self.writer).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.needs_flush = false,
                Poll::Ready(Err(e)) => return self.write_failed(e),
                Poll::Pending => {}
            }
        }
        Poll::Pending
    }

    fn write_failed(&mut self, error: io::Error) -> Poll<()> {
        self.write_error = Some(error);
        self.outbound.clear();
        self.written = 0;
        Poll::Ready(())
    }

    /// Closes the write side once everything is written (best effort: errors are ignored).
    pub(crate) fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.poll_write(cx).is_ready() || self.write_error.is_some() {
            return Poll::Ready(());
        }
        if !self.is_flushed() {
            return Poll::Pending;
        }
        Pin::new(&mut self.writer).poll_close(cx).map(|_| ())
    }

    /// The next complete message received (or why a line was not one).
    pub(crate) fn next_message(&mut self) -> Option<Result<Message, DecodeError>> {
        let unread = self.inbound.get(self.inbound_start..).unwrap_or_default();
        let (message, consumed) = match self.decoder.decode(unread) {
            Ok(LineStatus::Line { line, consumed }) => {
                (Some(jsonrpc::decode_message(line, &self.options)), consumed)
            }
            Ok(LineStatus::NeedMore { consumed }) => (None, consumed),
            // The decoder skips the rest of the line by itself.
            Err(LineDecodeError::LineTooLong { max }) => (
                Some(Err(DecodeError {
                    id: None,
                    kind: DecodeErrorKind::TooLarge {
                        len: max.saturating_add(1),
                        max,
                    },
                })),
                0,
            ),
            Err(_) => (None, 0),
        };
        self.inbound_start = self
            .inbound_start
            .saturating_add(consumed)
            .min(self.inbound.len());
        if message.is_none() {
            self.inbound.drain(..self.inbound_start);
            self.inbound_start = 0;
        }
        message
    }

    /// Feeds what `wake` reported to `endpoint`: the messages received, or the end of the
    /// connection with its cause.
    pub(crate) fn deliver(&mut self, now: Instant, wake: IoWake, endpoint: &mut impl LineEndpoint) {
        let scope = TransportScope::CONNECTION;
        match wake {
            IoWake::Read => {
                while let Some(message) = self.next_message() {
                    match message {
                        Ok(message) => endpoint.handle_message(now, scope, message),
                        Err(error) => endpoint.handle_invalid_message(now, scope, error),
                    }
                }
            }
            IoWake::ReadEnded => {
                while let Some(Ok(message)) = self.next_message() {
                    endpoint.handle_message(now, scope, message);
                }
                let failure = match &self.read_end {
                    Some(ReadEnd::Failed(e)) => TransportFailure::ConnectionLost(e.to_string()),
                    _ => TransportFailure::StreamClosed,
                };
                endpoint.handle_transport_closed(now, scope, failure);
            }
            IoWake::WriteFailed => {
                let reason = self
                    .write_error
                    .as_ref()
                    .map_or_else(String::new, ToString::to_string);
                endpoint.handle_transport_closed(
                    now,
                    scope,
                    TransportFailure::ConnectionLost(reason),
                );
            }
        }
    }
}

/// An engine role fed by a line-framed connection (both endpoints have this shape).
pub(crate) trait LineEndpoint {
    fn handle_message(&mut self, now: Instant, scope: TransportScope, message: Message);
    fn handle_invalid_message(&mut self, now: Instant, scope: TransportScope, error: DecodeError);
    fn handle_transport_closed(
        &mut self,
        now: Instant,
        scope: TransportScope,
        failure: TransportFailure,
    );
}

macro_rules! line_endpoint {
    ($endpoint:ty) => {
        impl LineEndpoint for $endpoint {
            fn handle_message(&mut self, now: Instant, scope: TransportScope, message: Message) {
                <$endpoint>::handle_message(self, now, scope, message);
            }
            fn handle_invalid_message(
                &mut self,
                now: Instant,
                scope: TransportScope,
                error: DecodeError,
            ) {
                <$endpoint>::handle_invalid_message(self, now, scope, error);
            }
            fn handle_transport_closed(
                &mut self,
                now: Instant,
                scope: TransportScope,
                failure: TransportFailure,
            ) {
                <$endpoint>::handle_transport_closed(self, now, scope, failure);
            }
        }
    };
}

line_endpoint!(ServerEndpoint);
line_endpoint!(ClientEndpoint);
