//! Server-Sent Events framing for the MCP Streamable HTTP transport.
//!
//! [`SseDecoder`] interprets a `text/event-stream` body the way the WHATWG HTML standard
//! ("Interpreting an event stream") says, incrementally and without owning a buffer: the caller
//! keeps the unconsumed bytes, calls [`SseDecoder::decode`], and drops as many bytes from the
//! front as the result says were consumed. [`SseEvent::encode`], [`SseItem::encode`] and
//! [`encode_comment`] write events that decode back to themselves.
//!
//! Decoding rules, and where this module chooses:
//! - One UTF-8 byte order mark at the very start of a stream is skipped.
//! - Lines end with `\r\n`, `\n` or `\r`. A `\r` at the end of one chunk followed by `\n` at
//!   the start of the next is one line ending, so results never depend on how the input was
//!   split.
//! - `field: value` loses one space after the colon; a line without a colon is a field with
//!   an empty value. `event`, `data`, `id` (ignored if it contains NUL) and `retry` (ignored
//!   unless all ASCII digits and within `u64`) are understood, other fields ignored.
//! - A blank line ends the event block. A block with at least one `data` line is dispatched as
//!   [`SseItem::Event`], even when the data is empty (`id: 1\ndata:\n\n` is MCP's priming
//!   event). A block without `data` lines is not dispatched (WHATWG), but if it set `id` or
//!   `retry` the caller learns of it through [`SseItem::NoData`].
//! - `id` and `retry` take effect when their block ends: [`SseDecoder::last_event_id`] and
//!   [`SseDecoder::reconnection_time`] change then. WHATWG applies `retry` as soon as its line
//!   is read; waiting for the blank line keeps a block all-or-nothing, which only differs for
//!   a block that is later discarded.
//! - Comment lines (starting with `:`) are surfaced as [`SseItem::Comment`] so a caller can
//!   treat keep-alives as liveness; ignore them otherwise.
//! - Invalid UTF-8 is an error ([`SseDecodeError::InvalidUtf8`]) instead of browsers' lossy
//!   decoding: an MCP message with replacement characters is silently corrupted JSON, so the
//!   event is dropped and reported. Decoding resynchronises at the next blank line.
//! - Limits ([`SseLimits`]) bound the caller's buffer (one line) and the decoder's own memory
//!   (one event). Exceeding one is reported at once; the rest of the offending event (or just
//!   the comment line, for an oversized comment) is discarded and decoding continues.
//! - At end of input an unfinished event is discarded, as WHATWG says, and reported by
//!   [`SseDecoder::finish`].
//!
//! # Example
//!
//! ```
//! use mcp_proto::framing::sse::{SseDecoder, SseEvent, SseItem, SseStatus};
//!
//! let mut wire = Vec::new();
//! SseEvent::new("").with_id("1").encode(&mut wire)?; // priming event
//! SseEvent::new(r#"{"jsonrpc":"2.0","result":{},"id":1}"#)
//!     .with_id("2")
//!     .encode(&mut wire)?;
//! assert!(wire.starts_with(b"id: 1\ndata:\n\n"));
//!
//! let mut decoder = SseDecoder::new();
//! let mut buf: Vec<u8> = Vec::new();
//! let mut items = Vec::new();
//! // The input arrives in arbitrary chunks, here 5 bytes at a time.
//! for chunk in wire.chunks(5) {
//!     buf.extend_from_slice(chunk);
//!     loop {
//!         match decoder.decode(&buf) {
//!             Ok(SseStatus::Item { item, consumed }) => {
//!                 items.push(item);
//!                 buf.drain(..consumed);
//!             }
//!             Ok(SseStatus::NeedMore { consumed }) => {
//!                 buf.drain(..consumed);
//!                 break;
//!             }
//!             // Nothing was consumed; the decoder skips the offending event on the next call.
//!             Err(error) => eprintln!("dropping a bad event: {error}"),
//!         }
//!     }
//! }
//! decoder.finish(&buf)?; // end of input: an unfinished event is reported
//! assert_eq!(items[0], SseItem::Event(SseEvent::new("").with_id("1")));
//! assert_eq!(decoder.last_event_id(), "2");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::mem;

/// The default largest event: 1 MiB. It counts every field line of the event being assembled
/// (name, colon and value; not line endings or comments), so it bounds the decoder's memory.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 1024 * 1024;

/// The default longest line, line ending excluded: 1 MiB. Field lines also count toward
/// [`SseLimits::max_event_size`], so with the defaults this mostly bounds comment lines.
pub const DEFAULT_MAX_LINE_LEN: usize = 1024 * 1024;

const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// Bounds on what one line and one event may cost.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseLimits {
    /// Largest event in bytes, counting its field lines without their line endings. Defaults
    /// to [`DEFAULT_MAX_EVENT_SIZE`] (1 MiB).
    pub max_event_size: usize,
    /// Longest line in bytes, line ending excluded; this is what the caller's buffer must hold
    /// at most, plus one chunk. Defaults to [`DEFAULT_MAX_LINE_LEN`] (1 MiB).
    pub max_line_len: usize,
}

impl Default for SseLimits {
    fn default() -> Self {
        Self {
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
            max_line_len: DEFAULT_MAX_LINE_LEN,
        }
    }
}

impl SseLimits {
    /// Limits with the given largest event and longest line.
    #[must_use]
    pub fn new(max_event_size: usize, max_line_len: usize) -> Self {
        Self {
            max_event_size,
            max_line_len,
        }
    }
}

/// One event, as dispatched by a decoder or to be written by [`SseEvent::encode`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The event type; `None` means the default type, `message`. An empty type is the same as
    /// none: it is not written, and decodes as `None`.
    pub event: Option<String>,
    /// The data, its lines joined with `\n`. Encoding writes one `data` line per line, so
    /// `\r\n` and `\r` in the data decode as `\n`.
    pub data: String,
    /// The `id` field of this event's block, if it had a valid one; `Some("")` resets the last
    /// event ID. A decoded event without an `id` field has `None` here even though WHATWG's
    /// persistent last event ID ([`SseDecoder::last_event_id`]) still applies to it.
    pub id: Option<String>,
    /// The `retry` field of this event's block: the reconnection time in milliseconds.
    pub retry: Option<u64>,
}

impl SseEvent {
    /// An event of the default type carrying `data`.
    #[must_use]
    pub fn new(data: impl Into<String>) -> Self {
        Self {
            data: data.into(),
            ..Self::default()
        }
    }

    /// Sets the event type.
    #[must_use]
    pub fn with_event(mut self, event: impl Into<String>) -> Self {
        self.event = Some(event.into());
        self
    }

    /// Sets the event id.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the reconnection time in milliseconds.
    #[must_use]
    pub fn with_retry(mut self, retry_ms: u64) -> Self {
        self.retry = Some(retry_ms);
        self
    }

    /// Appends the event to `out`: `event`, `id` and `retry` lines when set, one `data` line
    /// per line of data (at least one, so an empty event is still dispatched), then a blank
    /// line. On error nothing is written.
    ///
    /// # Errors
    ///
    /// [`SseEncodeError::InvalidEventType`] for a line break in the type and
    /// [`SseEncodeError::InvalidId`] for NUL, CR or LF in the id.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), SseEncodeError> {
        let event = self.event.as_deref().unwrap_or_default();
        if let Some(at) = find_line_break(event) {
            return Err(SseEncodeError::InvalidEventType { at });
        }
        if let Some(id) = &self.id {
            check_id(id)?;
        }
        if !event.is_empty() {
            write_field(out, "event", event);
        }
        write_id_and_retry(out, self.id.as_deref(), self.retry);
        for_each_line(&self.data, |line| write_field(out, "data", line));
        out.push(b'\n');
        Ok(())
    }
}

/// Something the decoder produced.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    /// A dispatched event: its block had at least one `data` line.
    Event(SseEvent),
    /// A block without `data` lines that set the id and/or the reconnection time. WHATWG does
    /// not dispatch it, but both take effect. A block that set neither produces nothing.
    NoData {
        /// The id the block set (`Some("")` resets it); now [`SseDecoder::last_event_id`].
        id: Option<String>,
        /// The reconnection time in milliseconds the block set; now
        /// [`SseDecoder::reconnection_time`].
        retry: Option<u64>,
    },
    /// A comment line, without its `:` and one following space. Servers send them as
    /// keep-alives; they carry no meaning.
    Comment(String),
}

impl SseItem {
    /// Appends the item to `out` so that it decodes back to itself (event data normalised as
    /// described on [`SseEvent::data`]). A [`SseItem::NoData`] with neither field writes
    /// nothing. On error nothing is written.
    ///
    /// # Errors
    ///
    /// As for [`SseEvent::encode`] and [`encode_comment`].
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), SseEncodeError> {
        match self {
            Self::Event(event) => event.encode(out),
            Self::NoData { id, retry } => {
                if let Some(id) = id {
                    check_id(id)?;
                }
                if id.is_some() || retry.is_some() {
                    write_id_and_retry(out, id.as_deref(), *retry);
                    out.push(b'\n');
                }
                Ok(())
            }
            Self::Comment(text) => encode_comment(text, out),
        }
    }
}

/// Appends a comment line and a blank line (`: keep-alive\n\n` for `keep-alive`) to `out`.
/// Receivers ignore it, so it serves as a keep-alive. On error nothing is written.
///
/// # Errors
///
/// [`SseEncodeError::InvalidComment`] when `text` contains CR or LF.
pub fn encode_comment(text: &str, out: &mut Vec<u8>) -> Result<(), SseEncodeError> {
    if let Some(at) = find_line_break(text) {
        return Err(SseEncodeError::InvalidComment { at });
    }
    write_field(out, "", text);
    out.push(b'\n');
    Ok(())
}

/// Why an event could not be written. The caller is at fault: nothing was written.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseEncodeError {
    /// The id contains NUL (receivers would ignore the id), CR or LF (it would end the line).
    #[error("event id contains NUL, CR or LF at byte {at}")]
    InvalidId {
        /// Offset of the first forbidden byte.
        at: usize,
    },
    /// The event type contains CR or LF, which would end the line.
    #[error("event type contains a line break at byte {at}")]
    InvalidEventType {
        /// Offset of the first line break.
        at: usize,
    },
    /// The comment contains CR or LF, which would end the line.
    #[error("comment contains a line break at byte {at}")]
    InvalidComment {
        /// Offset of the first line break.
        at: usize,
    },
}

fn find_line_break(text: &str) -> Option<usize> {
    find_line_ending(text.as_bytes())
}

fn check_id(id: &str) -> Result<(), SseEncodeError> {
    match id.bytes().position(|b| matches!(b, b'\0' | b'\r' | b'\n')) {
        Some(at) => Err(SseEncodeError::InvalidId { at }),
        None => Ok(()),
    }
}

fn write_id_and_retry(out: &mut Vec<u8>, id: Option<&str>, retry: Option<u64>) {
    if let Some(id) = id {
        write_field(out, "id", id);
    }
    if let Some(retry) = retry {
        write_field(out, "retry", &retry.to_string());
    }
}

/// Writes `name: value`. The space is left out before an empty value so that `data:` carries
/// no trailing blank; receivers strip exactly one space, so either way the value survives.
fn write_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.push(b':');
    if !value.is_empty() {
        out.push(b' ');
        out.extend_from_slice(value.as_bytes());
    }
    out.push(b'\n');
}

/// Calls `f` with each line of `text`, split at `\r\n`, `\r` and `\n`; always at least once.
fn for_each_line(text: &str, mut f: impl FnMut(&str)) {
    let mut rest = text;
    while let Some(at) = find_line_break(rest) {
        f(rest.get(..at).unwrap_or_default());
        let ending_len = if rest.get(at..).is_some_and(|r| r.starts_with("\r\n")) {
            2
        } else {
            1
        };
        rest = rest
            .get(at.saturating_add(ending_len)..)
            .unwrap_or_default();
    }
    f(rest);
}

/// What one call to [`SseDecoder::decode`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseStatus {
    /// Something was decoded.
    Item {
        /// The item.
        item: SseItem,
        /// Bytes to drop from the front of the buffer.
        consumed: usize,
    },
    /// The buffer holds no further complete line: drop `consumed` bytes, append more input
    /// and call again.
    NeedMore {
        /// Bytes to drop from the front of the buffer.
        consumed: usize,
    },
}

impl SseStatus {
    /// Bytes to drop from the front of the caller's buffer.
    #[must_use]
    pub fn consumed(&self) -> usize {
        match *self {
            Self::Item { consumed, .. } | Self::NeedMore { consumed } => consumed,
        }
    }
}

/// Why part of the event stream was dropped. The peer is at fault; the decoder stays usable.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseDecodeError {
    /// The peer sent a line longer than [`SseLimits::max_line_len`]. The rest of the event (or
    /// of the comment line, for a comment) is discarded.
    #[error("peer sent an event-stream line longer than the limit of {max} bytes")]
    LineTooLong {
        /// The limit.
        max: usize,
    },
    /// The peer sent an event larger than [`SseLimits::max_event_size`]. It is reported as soon
    /// as the limit is crossed, before the event's end; the rest of it is discarded.
    #[error("peer sent an event larger than the limit of {max} bytes")]
    EventTooLarge {
        /// The limit.
        max: usize,
    },
    /// The peer sent a line that is not UTF-8. The rest of the event (or just the line, for a
    /// comment) is discarded.
    #[error("peer sent a line that is not valid UTF-8 after byte {valid_up_to}")]
    InvalidUtf8 {
        /// Length of the line's valid prefix.
        valid_up_to: usize,
    },
    /// The stream ended inside an event, which is discarded (WHATWG).
    #[error("stream ended inside an event; {len} bytes of it were discarded")]
    TruncatedEvent {
        /// Bytes of the unfinished event: its field lines, line endings excluded.
        len: usize,
    },
}

/// What the decoder drops before looking at lines again, after reporting an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    Nothing,
    /// The rest of a bad comment line: the event around it is unaffected.
    RestOfLine,
    /// Everything up to the blank line that ends the bad event.
    RestOfEvent {
        /// Whether the line being skipped has bytes, so its ending is not a blank line.
        line_started: bool,
    },
}

/// The event block being assembled, up to its blank line.
#[derive(Debug, Clone, Default)]
struct PendingEvent {
    event_type: String,
    data: String,
    id: Option<String>,
    retry: Option<u64>,
    /// Bytes of field lines so far, compared against [`SseLimits::max_event_size`].
    size: usize,
}

/// Incremental interpreter of an event stream.
///
/// Contract: between calls the caller's buffer must be the previous buffer with exactly the
/// reported `consumed` bytes removed from its front (none after an error), optionally with
/// more input appended. The decoder relies on it to avoid rescanning bytes it has already
/// searched; a caller that breaks it gets wrong items, never a panic.
#[derive(Debug, Clone)]
pub struct SseDecoder {
    limits: SseLimits,
    /// No byte of the stream has been looked at yet, so a byte order mark may follow.
    at_stream_start: bool,
    /// The last line ended with `\r`: a `\n` right after it belongs to the same ending.
    after_cr: bool,
    /// Bytes at the front of the caller's buffer that were dealt with in a call that ended in
    /// an error, which cannot report consumption; the next call reports them.
    carry: usize,
    /// Bytes at the start of the current partial line already known to hold no line ending.
    scanned: usize,
    skip: Skip,
    pending: PendingEvent,
    last_event_id: String,
    reconnection_time: Option<u64>,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::with_limits(SseLimits::default())
    }
}

impl SseDecoder {
    /// A decoder with the default limits.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder with the given limits.
    #[must_use]
    pub fn with_limits(limits: SseLimits) -> Self {
        Self {
            limits,
            at_stream_start: true,
            after_cr: false,
            carry: 0,
            scanned: 0,
            skip: Skip::Nothing,
            pending: PendingEvent::default(),
            last_event_id: String::new(),
            reconnection_time: None,
        }
    }

    /// The limits this decoder enforces.
    #[must_use]
    pub fn limits(&self) -> SseLimits {
        self.limits
    }

    /// WHATWG's last event ID: set by the `id` field of every completed block, kept across
    /// blocks without one and across [`SseDecoder::finish`]; empty when none was set or it was
    /// reset. A client sends it as `Last-Event-ID` when it reconnects.
    #[must_use]
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection time in milliseconds from the latest completed block with a valid
    /// `retry` field, if any; kept across [`SseDecoder::finish`].
    #[must_use]
    pub fn reconnection_time(&self) -> Option<u64> {
        self.reconnection_time
    }

    /// Decodes the next item from `buf`, the caller's unconsumed input.
    ///
    /// On [`SseStatus::Item`] and [`SseStatus::NeedMore`] the caller drops `consumed` bytes
    /// from the front of its buffer. After [`SseStatus::NeedMore`] it waits for more input.
    /// An error consumes nothing: the caller keeps its buffer as it is and calls again, and
    /// the decoder then skips what the error says is discarded.
    ///
    /// # Errors
    ///
    /// [`SseDecodeError::LineTooLong`], [`SseDecodeError::EventTooLarge`] and
    /// [`SseDecodeError::InvalidUtf8`]; each problem is reported once.
    #[must_use = "the result says how many bytes to drop from the buffer"]
    pub fn decode(&mut self, buf: &[u8]) -> Result<SseStatus, SseDecodeError> {
        let mut pos = self.carry.min(buf.len());
        self.carry = 0;
        loop {
            let rest = buf.get(pos..).unwrap_or_default();
            if self.at_stream_start {
                if rest.len() < BYTE_ORDER_MARK.len() && BYTE_ORDER_MARK.starts_with(rest) {
                    return Ok(SseStatus::NeedMore { consumed: pos });
                }
                self.at_stream_start = false;
                if rest.starts_with(BYTE_ORDER_MARK) {
                    pos = pos.saturating_add(BYTE_ORDER_MARK.len());
                    continue;
                }
            }
            if self.after_cr {
                match rest.first() {
                    None => return Ok(SseStatus::NeedMore { consumed: pos }),
                    Some(b'\n') => {
                        self.after_cr = false;
                        pos = pos.saturating_add(1);
                        continue;
                    }
                    Some(_) => self.after_cr = false,
                }
            }

            let already_scanned = self.scanned.min(rest.len());
            let unscanned = rest.get(already_scanned..).unwrap_or_default();
            let Some(line_len) =
                find_line_ending(unscanned).map(|i| already_scanned.saturating_add(i))
            else {
                return self.partial_line(rest, pos, buf.len());
            };
            self.scanned = 0;
            let line = rest.get(..line_len).unwrap_or_default();
            self.after_cr = rest.get(line_len) == Some(&b'\r');
            pos = pos.saturating_add(line_len).saturating_add(1);

            match self.skip {
                Skip::Nothing => {}
                Skip::RestOfLine => {
                    self.skip = Skip::Nothing;
                    continue;
                }
                Skip::RestOfEvent { line_started } => {
                    let blank_line = line.is_empty() && !line_started;
                    self.skip = if blank_line {
                        Skip::Nothing
                    } else {
                        Skip::RestOfEvent {
                            line_started: false,
                        }
                    };
                    continue;
                }
            }
            match self.complete_line(line) {
                Ok(Some(item)) => {
                    return Ok(SseStatus::Item {
                        item,
                        consumed: pos,
                    });
                }
                Ok(None) => {}
                Err(error) => {
                    self.carry = pos;
                    return Err(error);
                }
            }
        }
    }

    /// Ends the stream. `buf` is what the caller still holds after the last
    /// [`SseStatus::NeedMore`]. An unfinished event is discarded. The decoder is then ready
    /// for a new stream (a reconnection): a byte order mark is accepted again, and
    /// [`SseDecoder::last_event_id`] and [`SseDecoder::reconnection_time`] are kept.
    ///
    /// # Errors
    ///
    /// [`SseDecodeError::TruncatedEvent`] when the stream stopped inside an event (field lines
    /// after the last blank line), unless an error about that event was already reported.
    pub fn finish(&mut self, buf: &[u8]) -> Result<(), SseDecodeError> {
        let rest = buf.get(self.carry.min(buf.len())..).unwrap_or_default();
        let rest = if self.after_cr {
            rest.strip_prefix(b"\n").unwrap_or(rest)
        } else {
            rest
        };
        let unfinished_len = match self.skip {
            Skip::Nothing => {
                let partial_field_line = if rest.first() == Some(&b':') {
                    0
                } else {
                    rest.len()
                };
                self.pending.size.saturating_add(partial_field_line)
            }
            Skip::RestOfLine | Skip::RestOfEvent { .. } => 0,
        };
        *self = Self {
            last_event_id: mem::take(&mut self.last_event_id),
            reconnection_time: self.reconnection_time,
            ..Self::with_limits(self.limits)
        };
        if unfinished_len > 0 {
            Err(SseDecodeError::TruncatedEvent {
                len: unfinished_len,
            })
        } else {
            Ok(())
        }
    }

    /// Handles `rest`, the start of a line whose ending has not arrived.
    fn partial_line(
        &mut self,
        rest: &[u8],
        pos: usize,
        buf_len: usize,
    ) -> Result<SseStatus, SseDecodeError> {
        match self.skip {
            Skip::RestOfLine => {}
            Skip::RestOfEvent { line_started } => {
                self.skip = Skip::RestOfEvent {
                    line_started: line_started || !rest.is_empty(),
                };
            }
            Skip::Nothing => {
                if let Some(error) = self.check_line_len(rest) {
                    // Report as soon as the line is known to be too long, so the caller's
                    // buffer stays within the limit; all of it is discarded from here on.
                    self.skip = if is_comment(rest) {
                        Skip::RestOfLine
                    } else {
                        self.pending = PendingEvent::default();
                        Skip::RestOfEvent { line_started: true }
                    };
                    self.scanned = 0;
                    self.carry = buf_len;
                    return Err(error);
                }
                self.scanned = rest.len();
                return Ok(SseStatus::NeedMore { consumed: pos });
            }
        }
        self.scanned = 0;
        Ok(SseStatus::NeedMore { consumed: buf_len })
    }

    /// Which limit a line of `line.len()` bytes so far breaks, if any. The limit with less
    /// room is crossed first however the input is split, so it is the one reported.
    fn check_line_len(&self, line: &[u8]) -> Option<SseDecodeError> {
        let max_line_len = self.limits.max_line_len;
        if is_comment(line) {
            return (line.len() > max_line_len)
                .then_some(SseDecodeError::LineTooLong { max: max_line_len });
        }
        let event_room = self.limits.max_event_size.saturating_sub(self.pending.size);
        if line.len() <= event_room.min(max_line_len) {
            None
        } else if event_room <= max_line_len {
            Some(SseDecodeError::EventTooLarge {
                max: self.limits.max_event_size,
            })
        } else {
            Some(SseDecodeError::LineTooLong { max: max_line_len })
        }
    }

    /// Interprets one complete line (ending excluded) while not skipping.
    fn complete_line(&mut self, line: &[u8]) -> Result<Option<SseItem>, SseDecodeError> {
        if line.is_empty() {
            return Ok(self.end_of_event());
        }
        let checked = match self.check_line_len(line) {
            Some(error) => Err(error),
            None => std::str::from_utf8(line).map_err(|e| SseDecodeError::InvalidUtf8 {
                valid_up_to: e.valid_up_to(),
            }),
        };
        let text = match checked {
            Ok(text) => text,
            Err(error) => {
                // A bad comment spoils nothing else; a bad field spoils its whole event.
                if !is_comment(line) {
                    self.pending = PendingEvent::default();
                    self.skip = Skip::RestOfEvent {
                        line_started: false,
                    };
                }
                return Err(error);
            }
        };
        if let Some(comment) = text.strip_prefix(':') {
            return Ok(Some(SseItem::Comment(strip_one_space(comment).to_owned())));
        }

        self.pending.size = self.pending.size.saturating_add(line.len());
        let (name, value) = match text.split_once(':') {
            Some((name, value)) => (name, strip_one_space(value)),
            None => (text, ""),
        };
        match name {
            "event" => {
                self.pending.event_type.clear();
                self.pending.event_type.push_str(value);
            }
            "data" => {
                self.pending.data.push_str(value);
                self.pending.data.push('\n');
            }
            "id" if !value.contains('\0') => self.pending.id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                // Out of `u64` range is ignored like any other invalid value.
                if let Ok(retry) = value.parse::<u64>() {
                    self.pending.retry = Some(retry);
                }
            }
            _ => {}
        }
        Ok(None)
    }

    /// The blank line: commits `id` and `retry`, and dispatches the event if it has data.
    fn end_of_event(&mut self) -> Option<SseItem> {
        let pending = mem::take(&mut self.pending);
        if let Some(id) = &pending.id {
            self.last_event_id.clone_from(id);
        }
        if pending.retry.is_some() {
            self.reconnection_time = pending.retry;
        }
        if pending.data.is_empty() {
            // WHATWG does not dispatch an event with an empty data buffer.
            return (pending.id.is_some() || pending.retry.is_some()).then_some(SseItem::NoData {
                id: pending.id,
                retry: pending.retry,
            });
        }
        // The data buffer is non-empty only through `data` lines, each of which appended LF.
        let mut data = pending.data;
        if data.ends_with('\n') {
            data.pop();
        }
        Some(SseItem::Event(SseEvent {
            event: Some(pending.event_type).filter(|t| !t.is_empty()),
            data,
            id: pending.id,
            retry: pending.retry,
        }))
    }
}

fn find_line_ending(bytes: &[u8]) -> Option<usize> {
    crate::scan::find(bytes, |b| b == b'\n' || b == b'\r')
}

fn is_comment(line: &[u8]) -> bool {
    line.first() == Some(&b':')
}

fn strip_one_space(value: &str) -> &str {
    value.strip_prefix(' ').unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Out = Result<SseItem, SseDecodeError>;

    struct Run {
        items: Vec<Out>,
        end: Result<(), SseDecodeError>,
        last_event_id: String,
        reconnection_time: Option<u64>,
        peak: usize,
    }

    /// Feeds `chunks` through the usual caller loop.
    fn run(limits: SseLimits, chunks: &[&[u8]]) -> Run {
        let mut decoder = SseDecoder::with_limits(limits);
        let mut buf = Vec::new();
        let mut items = Vec::new();
        let mut peak = 0;
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            peak = peak.max(buf.len());
            loop {
                match decoder.decode(&buf) {
                    Ok(SseStatus::Item { item, consumed }) => {
                        items.push(Ok(item));
                        buf.drain(..consumed);
                    }
                    Ok(SseStatus::NeedMore { consumed }) => {
                        buf.drain(..consumed);
                        break;
                    }
                    Err(e) => items.push(Err(e)),
                }
            }
        }
        let end = decoder.finish(&buf);
        Run {
            items,
            end,
            last_event_id: decoder.last_event_id().to_owned(),
            reconnection_time: decoder.reconnection_time(),
            peak,
        }
    }

    /// Runs `input` whole and byte at a time, checks both agree, returns the whole run.
    fn decode_all(limits: SseLimits, input: &[u8]) -> Run {
        let whole = run(limits, &[input]);
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        let split = run(limits, &bytes);
        let shown = String::from_utf8_lossy(input);
        assert_eq!(whole.items, split.items, "{shown:?}");
        assert_eq!(whole.end, split.end, "{shown:?}");
        assert_eq!(whole.last_event_id, split.last_event_id, "{shown:?}");
        assert_eq!(
            whole.reconnection_time, split.reconnection_time,
            "{shown:?}"
        );
        whole
    }

    fn event(data: &str) -> Out {
        Ok(SseItem::Event(SseEvent::new(data)))
    }

    fn comment(text: &str) -> Out {
        Ok(SseItem::Comment(text.to_owned()))
    }

    #[test]
    fn interprets_event_streams() {
        let cases: &[(&str, &str, Vec<Out>)] = &[
            ("simple", "data: hi\n\n", vec![event("hi")]),
            (
                "priming",
                "id: 1\ndata:\n\n",
                vec![Ok(SseItem::Event(SseEvent::new("").with_id("1")))],
            ),
            ("data with space value", "data: \n\n", vec![event("")]),
            ("data without colon", "data\n\n", vec![event("")]),
            ("two empty data lines", "data\ndata\n\n", vec![event("\n")]),
            (
                "multi line",
                "data: a\ndata:b\ndata:  c\n\n",
                vec![event("a\nb\n c")],
            ),
            ("crlf", "data: a\r\ndata: b\r\n\r\n", vec![event("a\nb")]),
            ("cr", "data: a\rdata: b\r\r", vec![event("a\nb")]),
            (
                "mixed endings",
                "data: a\r\n\ndata: b\r\rdata: c\n\r\n",
                vec![event("a"), event("b"), event("c")],
            ),
            (
                "event type",
                "event: ping\ndata: x\n\n",
                vec![Ok(SseItem::Event(SseEvent::new("x").with_event("ping")))],
            ),
            (
                "empty event type is message",
                "event:\ndata: x\n\n",
                vec![event("x")],
            ),
            (
                "last event type wins",
                "event: a\nevent: b\ndata: x\n\n",
                vec![Ok(SseItem::Event(SseEvent::new("x").with_event("b")))],
            ),
            (
                "id only",
                "id: 1\n\n",
                vec![Ok(SseItem::NoData {
                    id: Some("1".into()),
                    retry: None,
                })],
            ),
            (
                "retry only",
                "retry: 3000\n\n",
                vec![Ok(SseItem::NoData {
                    id: None,
                    retry: Some(3000),
                })],
            ),
            (
                "retry with event",
                "retry: 5\ndata: x\n\n",
                vec![Ok(SseItem::Event(SseEvent::new("x").with_retry(5)))],
            ),
            (
                "invalid retry ignored",
                "retry: 3s\n\nretry:\n\nretry: -1\n\n",
                vec![],
            ),
            (
                "retry overflow ignored",
                "retry: 99999999999999999999999\n\n",
                vec![],
            ),
            (
                "id with nul ignored",
                "id: a\0b\ndata: x\n\n",
                vec![event("x")],
            ),
            (
                "event type alone dispatches nothing",
                "event: x\n\n",
                vec![],
            ),
            (
                "unknown fields ignored",
                "foo: bar\nDATA: x\ndata: y\n\n",
                vec![event("y")],
            ),
            (
                "comments",
                ": keep-alive\n:\n::x\n\n",
                vec![comment("keep-alive"), comment(""), comment(":x")],
            ),
            (
                "comment inside event",
                "data: a\n: c\ndata: b\n\n",
                vec![comment("c"), event("a\nb")],
            ),
            ("colon in value", "data: a: b\n\n", vec![event("a: b")]),
            ("blank lines alone", "\n\r\n\r\n", vec![]),
        ];
        for (name, input, expected) in cases {
            let outcome = decode_all(SseLimits::default(), input.as_bytes());
            assert_eq!(&outcome.items, expected, "{name}");
        }
    }

    #[test]
    fn bom_is_only_stripped_at_the_start() {
        // The second BOM is part of the field name, so the field is unknown.
        let outcome = decode_all(
            SseLimits::default(),
            "\u{FEFF}data: a\n\n\u{FEFF}data: b\n\n".as_bytes(),
        );
        assert_eq!(outcome.items, vec![event("a")]);
        let outcome = decode_all(SseLimits::default(), b"\xEF\xBBdata: a\n\n");
        assert_eq!(
            outcome.items,
            vec![Err(SseDecodeError::InvalidUtf8 { valid_up_to: 0 })]
        );
    }

    #[test]
    fn last_event_id_persists_and_resets() {
        let outcome = decode_all(SseLimits::default(), b"id: 7\ndata: a\n\ndata: b\n\n");
        assert_eq!(
            outcome.items,
            vec![
                Ok(SseItem::Event(SseEvent::new("a").with_id("7"))),
                event("b")
            ]
        );
        assert_eq!(outcome.last_event_id, "7");

        let outcome = decode_all(SseLimits::default(), b"id: 7\n\nid\ndata: x\n\n");
        assert_eq!(outcome.last_event_id, "");
        assert_eq!(
            outcome.items.last(),
            Some(&Ok(SseItem::Event(SseEvent::new("x").with_id(""))))
        );

        // An id in an unfinished event never takes effect.
        let outcome = decode_all(SseLimits::default(), b"id: 1\n\nid: 2\nretry: 9\ndata: x\n");
        assert_eq!(outcome.last_event_id, "1");
        assert_eq!(outcome.reconnection_time, None);
        assert_eq!(outcome.end, Err(SseDecodeError::TruncatedEvent { len: 20 }));
    }

    #[test]
    fn retry_updates_the_reconnection_time() {
        let outcome = decode_all(
            SseLimits::default(),
            b"retry: 3000\n\nretry: 10\ndata: x\n\n",
        );
        assert_eq!(outcome.reconnection_time, Some(10));
    }

    #[test]
    fn end_of_stream() {
        let cases: &[(&[u8], Result<(), SseDecodeError>)] = &[
            (b"", Ok(())),
            (b"data: a\n\n", Ok(())),
            (b"data: a\n\n: partial comment", Ok(())),
            (b"data: a\n", Err(SseDecodeError::TruncatedEvent { len: 7 })),
            (
                b"data: a\ndat",
                Err(SseDecodeError::TruncatedEvent { len: 10 }),
            ),
            (b"data: a\r", Err(SseDecodeError::TruncatedEvent { len: 7 })),
            (
                b"data: a\r\n",
                Err(SseDecodeError::TruncatedEvent { len: 7 }),
            ),
        ];
        for (input, expected) in cases {
            let outcome = decode_all(SseLimits::default(), input);
            assert_eq!(
                &outcome.end,
                expected,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn finish_prepares_for_a_new_stream() {
        let mut decoder = SseDecoder::new();
        assert!(matches!(
            decoder.decode(b"id: 4\n\n"),
            Ok(SseStatus::Item { .. })
        ));
        assert_eq!(decoder.finish(b""), Ok(()));
        assert_eq!(decoder.last_event_id(), "4");
        let status = decoder.decode(b"\xEF\xBB\xBFdata: x\n\n");
        assert_eq!(
            status,
            Ok(SseStatus::Item {
                item: SseItem::Event(SseEvent::new("x")),
                consumed: 12
            })
        );
    }

    #[test]
    fn cr_at_a_chunk_boundary_is_one_line_ending() {
        let outcome = run(
            SseLimits::default(),
            &[b"data: a\r", b"\n", b"data: b\r", b"\ndata: c\r", b"\r\n"],
        );
        assert_eq!(outcome.items, vec![event("a\nb\nc")]);
        assert_eq!(outcome.end, Ok(()));
    }

    #[test]
    fn oversized_events_are_skipped() {
        let limits = SseLimits::new(16, 12);
        let too_large = || Err(SseDecodeError::EventTooLarge { max: 16 });
        let too_long = || Err(SseDecodeError::LineTooLong { max: 12 });
        let cases: &[(&str, Vec<Out>)] = &[
            // Lines fit, event does not.
            (
                "data: aaaa\ndata: bbbb\ndata: cccc\n\ndata: ok\n\n",
                vec![too_large(), event("ok")],
            ),
            // A line over both limits: the line limit has less room, so it is crossed first.
            (
                "data: 0123456789abcdef\n\ndata: ok\n\n",
                vec![too_long(), event("ok")],
            ),
            // Later in the event, the event limit has less room.
            (
                "data: 1234\ndata: 1234567\n\ndata: ok\n\n",
                vec![too_large(), event("ok")],
            ),
            // The rest of the event is skipped, id included, up to the blank line.
            (
                "data: 0123456789abcdef\ndata: lost\nid: 9\n\nid: 1\n\n",
                vec![
                    too_long(),
                    Ok(SseItem::NoData {
                        id: Some("1".into()),
                        retry: None,
                    }),
                ],
            ),
            // An oversized comment spoils only itself.
            (
                "data: a\n: 0123456789abcdef\ndata: b\n\n",
                vec![too_long(), event("a\nb")],
            ),
            (
                "data: 0123456789abcdef\r\n\r\ndata: ok\r\n\r\n",
                vec![too_long(), event("ok")],
            ),
        ];
        for (input, expected) in cases {
            let outcome = decode_all(limits, input.as_bytes());
            assert_eq!(&outcome.items, expected, "{input:?}");
            assert_eq!(outcome.end, Ok(()), "{input:?}");
        }
    }

    #[test]
    fn oversized_line_is_reported_before_its_end() {
        let limits = SseLimits::new(1024, 8);
        let mut decoder = SseDecoder::with_limits(limits);
        assert_eq!(
            decoder.decode(b"data: 12"),
            Ok(SseStatus::NeedMore { consumed: 0 })
        );
        assert_eq!(
            decoder.decode(b"data: 123"),
            Err(SseDecodeError::LineTooLong { max: 8 })
        );
        assert_eq!(
            decoder.decode(b"data: 123456"),
            Ok(SseStatus::NeedMore { consumed: 12 })
        );
        assert_eq!(
            decoder.decode(b"7\n\ndata: ok\n\n"),
            Ok(SseStatus::Item {
                item: SseItem::Event(SseEvent::new("ok")),
                consumed: 13
            })
        );
    }

    #[test]
    fn buffer_stays_near_the_line_limit() {
        let mut input = b"data: ".to_vec();
        input.extend(std::iter::repeat_n(b'x', 10_000));
        input.extend_from_slice(b"\n\ndata: after\n\n");
        let chunks: Vec<&[u8]> = input.chunks(32).collect();
        let outcome = run(SseLimits::new(1024, 64), &chunks);
        assert_eq!(
            outcome.items,
            vec![Err(SseDecodeError::LineTooLong { max: 64 }), event("after")]
        );
        assert!(
            outcome.peak <= 64 + 1 + 32,
            "buffer peaked at {}",
            outcome.peak
        );
    }

    #[test]
    fn invalid_utf8_skips_the_event() {
        let cases: &[(&[u8], Vec<Out>)] = &[
            (
                b"data: a\xFFb\ndata: more\n\ndata: ok\n\n",
                vec![
                    Err(SseDecodeError::InvalidUtf8 { valid_up_to: 7 }),
                    event("ok"),
                ],
            ),
            (
                b"id: 5\ndata: \xC3\n\n",
                vec![Err(SseDecodeError::InvalidUtf8 { valid_up_to: 6 })],
            ),
            (
                b"data: a\n:\xFF\ndata: b\n\n",
                vec![
                    Err(SseDecodeError::InvalidUtf8 { valid_up_to: 1 }),
                    event("a\nb"),
                ],
            ),
        ];
        for (input, expected) in cases {
            let outcome = decode_all(SseLimits::default(), input);
            assert_eq!(
                &outcome.items,
                expected,
                "{:?}",
                String::from_utf8_lossy(input)
            );
            assert_eq!(outcome.last_event_id, "");
        }
    }

    #[test]
    fn status_reports_consumed() {
        assert_eq!(SseStatus::NeedMore { consumed: 3 }.consumed(), 3);
        let status = SseStatus::Item {
            item: SseItem::Comment(String::new()),
            consumed: 2,
        };
        assert_eq!(status.consumed(), 2);
    }

    fn encoded(item: &SseItem) -> Result<String, SseEncodeError> {
        let mut out = Vec::new();
        item.encode(&mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn encodes_items() {
        let cases: Vec<(SseItem, Result<&str, SseEncodeError>)> = vec![
            (SseItem::Event(SseEvent::new("")), Ok("data:\n\n")),
            (
                SseItem::Event(SseEvent::new("").with_id("1")),
                Ok("id: 1\ndata:\n\n"),
            ),
            (
                SseItem::Event(SseEvent::new("a\r\nb\rc\nd")),
                Ok("data: a\ndata: b\ndata: c\ndata: d\n\n"),
            ),
            (
                SseItem::Event(SseEvent::new("a\n")),
                Ok("data: a\ndata:\n\n"),
            ),
            (
                SseItem::Event(
                    SseEvent::new(" x")
                        .with_event("ping")
                        .with_id("")
                        .with_retry(3000),
                ),
                Ok("event: ping\nid:\nretry: 3000\ndata:  x\n\n"),
            ),
            (
                SseItem::Event(SseEvent::new("x").with_event("")),
                Ok("data: x\n\n"),
            ),
            (
                SseItem::Event(SseEvent::new("x").with_id("a\0")),
                Err(SseEncodeError::InvalidId { at: 1 }),
            ),
            (
                SseItem::Event(SseEvent::new("x").with_id("a\rb")),
                Err(SseEncodeError::InvalidId { at: 1 }),
            ),
            (
                SseItem::Event(SseEvent::new("x").with_id("\n")),
                Err(SseEncodeError::InvalidId { at: 0 }),
            ),
            (
                SseItem::Event(SseEvent::new("x").with_event("a\nb")),
                Err(SseEncodeError::InvalidEventType { at: 1 }),
            ),
            (
                SseItem::NoData {
                    id: None,
                    retry: Some(3000),
                },
                Ok("retry: 3000\n\n"),
            ),
            (
                SseItem::NoData {
                    id: Some("9".into()),
                    retry: None,
                },
                Ok("id: 9\n\n"),
            ),
            (
                SseItem::NoData {
                    id: Some("\0".into()),
                    retry: None,
                },
                Err(SseEncodeError::InvalidId { at: 0 }),
            ),
            (
                SseItem::NoData {
                    id: None,
                    retry: None,
                },
                Ok(""),
            ),
            (
                SseItem::Comment("keep-alive".into()),
                Ok(": keep-alive\n\n"),
            ),
            (SseItem::Comment(String::new()), Ok(":\n\n")),
            (
                SseItem::Comment("a\rb".into()),
                Err(SseEncodeError::InvalidComment { at: 1 }),
            ),
        ];
        for (item, expected) in cases {
            let result = encoded(&item);
            assert_eq!(
                result.as_deref().map_err(|e| e.clone()),
                expected.clone(),
                "{item:?}"
            );
            if let Ok(wire) = result {
                let outcome = decode_all(SseLimits::default(), wire.as_bytes());
                let expected_back = match item {
                    SseItem::NoData {
                        id: None,
                        retry: None,
                    } => vec![],
                    SseItem::Event(mut event) => {
                        event.data = event.data.replace("\r\n", "\n").replace('\r', "\n");
                        event.event = event.event.filter(|t| !t.is_empty());
                        vec![Ok(SseItem::Event(event))]
                    }
                    other => vec![Ok(other)],
                };
                assert_eq!(outcome.items, expected_back, "{wire:?}");
            }
        }
    }

    #[test]
    fn encode_errors_write_nothing() {
        let mut out = b"prev".to_vec();
        let bad = SseEvent::new("x").with_event("ok").with_id("a\nb");
        assert!(bad.encode(&mut out).is_err());
        assert!(encode_comment("a\nb", &mut out).is_err());
        assert_eq!(out, b"prev");
    }
}
