//! Newline-delimited framing for the MCP stdio transport.
//!
//! Over stdio every JSON-RPC message is one line: the message bytes followed by `\n`. A message
//! must not contain a raw line break, which compact JSON never does (line breaks inside strings
//! are escaped as `\n`).
//!
//! [`LineDecoder`] splits a byte stream into lines without owning a buffer: the caller keeps
//! the unconsumed bytes, calls [`LineDecoder::decode`], and drops as many bytes from the front
//! as the result says were consumed. [`encode_line`] writes one frame and refuses messages that
//! would break the framing.
//!
//! Receiving rules:
//! - `\r\n` is accepted as well as `\n`: one trailing `\r` is stripped.
//! - Empty lines (`\n` or `\r\n` alone) are not messages and are skipped silently.
//! - A line longer than [`LineLimits::max_line_len`] is reported as
//!   [`LineDecodeError::LineTooLong`] as soon as it is known to be too long; the rest of it is
//!   then discarded and decoding carries on with the next line, so one bad message does not end
//!   the connection and the caller's buffer never holds much more than the limit.
//! - At end of input, bytes after the last `\n` are a [`LineDecodeError::TruncatedLine`] (see
//!   [`LineDecoder::finish`]).
//!
//! # Example
//!
//! ```
//! use mcp_proto::framing::lines::{encode_line, LineDecoder, LineStatus};
//!
//! let mut wire = Vec::new();
//! encode_line(br#"{"jsonrpc":"2.0","method":"ping","id":1}"#, &mut wire)?;
//! encode_line(br#"{"jsonrpc":"2.0","result":{},"id":1}"#, &mut wire)?;
//!
//! let mut decoder = LineDecoder::new();
//! let mut buf: Vec<u8> = Vec::new();
//! let mut messages: Vec<Vec<u8>> = Vec::new();
//! // The input arrives in arbitrary chunks, here 7 bytes at a time.
//! for chunk in wire.chunks(7) {
//!     buf.extend_from_slice(chunk);
//!     loop {
//!         match decoder.decode(&buf) {
//!             Ok(LineStatus::Line { line, consumed }) => {
//!                 messages.push(line.to_vec());
//!                 buf.drain(..consumed);
//!             }
//!             Ok(LineStatus::NeedMore { consumed }) => {
//!                 buf.drain(..consumed);
//!                 break;
//!             }
//!             // Nothing was consumed; the decoder skips the offending line on the next call.
//!             Err(error) => eprintln!("dropping a bad line: {error}"),
//!         }
//!     }
//! }
//! decoder.finish(&buf)?; // end of input: anything left over is a truncated line
//! assert_eq!(messages.len(), 2);
//! assert_eq!(messages[0], br#"{"jsonrpc":"2.0","method":"ping","id":1}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// The default longest line, terminator excluded: 4 MiB, the same as the JSON-RPC layer's
/// default largest message.
pub const DEFAULT_MAX_LINE_LEN: usize = 4 * 1024 * 1024;

/// Bounds on what one line may cost, for the decoder and the encoder alike.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineLimits {
    /// Longest line in bytes, not counting the `\n` or `\r\n` terminator. Defaults to
    /// [`DEFAULT_MAX_LINE_LEN`] (4 MiB).
    pub max_line_len: usize,
}

impl Default for LineLimits {
    fn default() -> Self {
        Self {
            max_line_len: DEFAULT_MAX_LINE_LEN,
        }
    }
}

impl LineLimits {
    /// Limits with the given longest line (terminator excluded).
    #[must_use]
    pub fn with_max_line_len(max_line_len: usize) -> Self {
        Self { max_line_len }
    }
}

/// What one call to [`LineDecoder::decode`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStatus<'buf> {
    /// A complete, non-empty line.
    Line {
        /// The line without its `\n` or `\r\n`, borrowed from the caller's buffer.
        line: &'buf [u8],
        /// Bytes to drop from the front of the buffer: the line, its terminator and any empty
        /// lines skipped before it.
        consumed: usize,
    },
    /// The buffer holds no further complete line: drop `consumed` bytes (skipped empty lines
    /// or discarded parts of an oversized line), append more input and call again.
    NeedMore {
        /// Bytes to drop from the front of the buffer.
        consumed: usize,
    },
}

impl LineStatus<'_> {
    /// Bytes to drop from the front of the caller's buffer.
    #[must_use]
    pub fn consumed(&self) -> usize {
        match *self {
            Self::Line { consumed, .. } | Self::NeedMore { consumed } => consumed,
        }
    }
}

/// Why the incoming byte stream could not be split into lines. The peer is at fault; the
/// decoder stays usable.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineDecodeError {
    /// The peer sent a line longer than [`LineLimits::max_line_len`]. It is reported as soon as
    /// `max + 1` bytes of it have arrived, before its end is known, so its full length is not
    /// part of the error. The decoder discards the rest of it and continues after its `\n`.
    #[error("peer sent a line longer than the limit of {max} bytes")]
    LineTooLong {
        /// The limit.
        max: usize,
    },
    /// The input ended with `len` bytes after the last `\n`: a message cut short, since every
    /// message must be terminated by a newline.
    #[error("input ended inside a line: {len} bytes without a terminating newline")]
    TruncatedLine {
        /// How many bytes were left over.
        len: usize,
    },
}

/// Incremental splitter of a byte stream into newline-terminated lines.
///
/// Contract: between calls the caller's buffer must be the previous buffer with exactly the
/// reported `consumed` bytes removed from its front (none after an error), optionally with
/// more input appended. The decoder relies on it to avoid rescanning bytes it has already
/// searched; a caller that breaks it gets wrong lines, never a panic.
#[derive(Debug, Clone)]
pub struct LineDecoder {
    limits: LineLimits,
    /// Bytes at the front of the caller's buffer that were dealt with in a call that ended in
    /// an error, which cannot report consumption; the next call reports them.
    carry: usize,
    /// Bytes at the start of the current partial line already known to hold no `\n`.
    scanned: usize,
    /// Inside an oversized line that was already reported: drop bytes up to its `\n`.
    discarding: bool,
}

impl Default for LineDecoder {
    fn default() -> Self {
        Self::with_limits(LineLimits::default())
    }
}

impl LineDecoder {
    /// A decoder with the default limits ([`DEFAULT_MAX_LINE_LEN`]).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder with the given limits.
    #[must_use]
    pub fn with_limits(limits: LineLimits) -> Self {
        Self {
            limits,
            carry: 0,
            scanned: 0,
            discarding: false,
        }
    }

    /// The limits this decoder enforces.
    #[must_use]
    pub fn limits(&self) -> LineLimits {
        self.limits
    }

    /// Finds the next complete line in `buf`, the caller's unconsumed input.
    ///
    /// On [`LineStatus::Line`] and [`LineStatus::NeedMore`] the caller drops `consumed` bytes
    /// from the front of its buffer. After [`LineStatus::NeedMore`] it waits for more input.
    /// An error consumes nothing: the caller keeps its buffer as it is and calls again, and
    /// the decoder then skips the rest of the offending line. Each oversized line is reported
    /// once.
    ///
    /// # Errors
    ///
    /// [`LineDecodeError::LineTooLong`] when the current line exceeds the limit.
    #[must_use = "the result says how many bytes to drop from the buffer"]
    pub fn decode<'buf>(&mut self, buf: &'buf [u8]) -> Result<LineStatus<'buf>, LineDecodeError> {
        let max = self.limits.max_line_len;
        let mut pos = self.carry.min(buf.len());
        self.carry = 0;
        loop {
            let rest = buf.get(pos..).unwrap_or_default();
            if self.discarding {
                self.scanned = 0;
                let Some(newline) = find_newline(rest) else {
                    return Ok(LineStatus::NeedMore {
                        consumed: buf.len(),
                    });
                };
                self.discarding = false;
                pos = pos.saturating_add(newline).saturating_add(1);
                continue;
            }

            let already_scanned = self.scanned.min(rest.len());
            let unscanned = rest.get(already_scanned..).unwrap_or_default();
            let Some(newline) = find_newline(unscanned).map(|i| already_scanned.saturating_add(i))
            else {
                // A trailing `\r` may be the first half of `\r\n`, so it does not count yet.
                let known_len = rest.strip_suffix(b"\r").unwrap_or(rest).len();
                if known_len > max {
                    self.discarding = true;
                    self.scanned = 0;
                    self.carry = buf.len();
                    return Err(LineDecodeError::LineTooLong { max });
                }
                self.scanned = rest.len();
                return Ok(LineStatus::NeedMore { consumed: pos });
            };

            self.scanned = 0;
            let raw_line = rest.get(..newline).unwrap_or_default();
            let line = raw_line.strip_suffix(b"\r").unwrap_or(raw_line);
            let after_line = pos.saturating_add(newline).saturating_add(1);
            if line.is_empty() {
                pos = after_line;
                continue;
            }
            if line.len() > max {
                self.carry = after_line;
                return Err(LineDecodeError::LineTooLong { max });
            }
            return Ok(LineStatus::Line {
                line,
                consumed: after_line,
            });
        }
    }

    /// Ends the input. `buf` is what the caller still holds after the last
    /// [`LineStatus::NeedMore`]. The decoder is reset and can be reused for a new stream.
    ///
    /// Leftover bytes are an error rather than a final message: MCP messages are
    /// newline-delimited, so a peer that stops mid-line (crash, kill, closed pipe) sent a
    /// message that may be cut short, and parsing it could act on half a message.
    ///
    /// # Errors
    ///
    /// [`LineDecodeError::TruncatedLine`] when bytes remain after the last newline, unless
    /// they belong to an oversized line that was already reported.
    pub fn finish(&mut self, buf: &[u8]) -> Result<(), LineDecodeError> {
        let rest = buf.get(self.carry.min(buf.len())..).unwrap_or_default();
        let was_discarding = self.discarding;
        *self = Self::with_limits(self.limits);
        if was_discarding || rest.is_empty() {
            Ok(())
        } else {
            Err(LineDecodeError::TruncatedLine { len: rest.len() })
        }
    }
}

fn find_newline(bytes: &[u8]) -> Option<usize> {
    crate::scan::find(bytes, |b| b == b'\n')
}

/// Why a message could not be written as a line. The caller is at fault: nothing was written.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineEncodeError {
    /// The message is empty. An empty line is skipped by receivers, so it would be lost.
    #[error("message is empty, and an empty line is not a message")]
    EmptyMessage,
    /// The message is longer than [`LineLimits::max_line_len`]; the peer would reject it.
    #[error("message of {len} bytes exceeds the line limit of {max} bytes")]
    MessageTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The message contains a raw `\n` or `\r`, which would split or corrupt the frame.
    /// Serialize JSON compactly: it escapes line breaks inside strings.
    #[error("message contains a raw line break at byte {at}; serialize it as compact JSON")]
    EmbeddedLineBreak {
        /// Offset of the first `\n` or `\r`.
        at: usize,
    },
}

/// Appends `message_json` and one `\n` to `out`, with the default limits.
///
/// # Errors
///
/// See [`encode_line_with_limits`].
pub fn encode_line(message_json: &[u8], out: &mut Vec<u8>) -> Result<(), LineEncodeError> {
    encode_line_with_limits(message_json, LineLimits::default(), out)
}

/// Appends `message_json` and one `\n` to `out`. On error nothing is written.
///
/// # Errors
///
/// [`LineEncodeError::EmptyMessage`], [`LineEncodeError::MessageTooLong`] when it exceeds
/// `limits.max_line_len`, and [`LineEncodeError::EmbeddedLineBreak`] when it contains `\n`
/// or `\r`.
pub fn encode_line_with_limits(
    message_json: &[u8],
    limits: LineLimits,
    out: &mut Vec<u8>,
) -> Result<(), LineEncodeError> {
    if message_json.is_empty() {
        return Err(LineEncodeError::EmptyMessage);
    }
    if message_json.len() > limits.max_line_len {
        return Err(LineEncodeError::MessageTooLong {
            len: message_json.len(),
            max: limits.max_line_len,
        });
    }
    if let Some(at) = crate::scan::find(message_json, |b| b == b'\n' || b == b'\r') {
        return Err(LineEncodeError::EmbeddedLineBreak { at });
    }
    out.reserve(message_json.len().saturating_add(1));
    out.extend_from_slice(message_json);
    out.push(b'\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Eq)]
    enum Out {
        Line(Vec<u8>),
        Err(LineDecodeError),
    }

    /// Feeds `chunks` through the usual caller loop; returns the items, the finish result and
    /// the largest the buffer ever got.
    fn run(limits: LineLimits, chunks: &[&[u8]]) -> (Vec<Out>, Result<(), LineDecodeError>, usize) {
        let mut decoder = LineDecoder::with_limits(limits);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        let mut peak = 0;
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            peak = peak.max(buf.len());
            loop {
                match decoder.decode(&buf) {
                    Ok(LineStatus::Line { line, consumed }) => {
                        out.push(Out::Line(line.to_vec()));
                        buf.drain(..consumed);
                    }
                    Ok(LineStatus::NeedMore { consumed }) => {
                        buf.drain(..consumed);
                        break;
                    }
                    Err(e) => out.push(Out::Err(e)),
                }
            }
        }
        let end = decoder.finish(&buf);
        (out, end, peak)
    }

    fn line(s: &str) -> Out {
        Out::Line(s.as_bytes().to_vec())
    }

    /// Name, input, lines and errors, result of `finish`.
    type DecodeCase = (
        &'static str,
        &'static [u8],
        Vec<Out>,
        Result<(), LineDecodeError>,
    );
    /// Message, frame or error.
    type EncodeCase = (&'static [u8], Result<&'static [u8], LineEncodeError>);

    const TOO_LONG: Out = Out::Err(LineDecodeError::LineTooLong { max: 4 });

    #[test]
    fn decodes_streams_whole_and_byte_at_a_time() {
        let limits = LineLimits::with_max_line_len(4);
        let cases: &[DecodeCase] = &[
            ("single", b"abc\n", vec![line("abc")], Ok(())),
            ("crlf stripped", b"abc\r\n", vec![line("abc")], Ok(())),
            (
                "only one cr stripped",
                b"ab\r\r\n",
                vec![line("ab\r")],
                Ok(()),
            ),
            ("inner cr kept", b"a\rb\n", vec![line("a\rb")], Ok(())),
            (
                "empty lines skipped",
                b"\n\r\n\nab\n\n",
                vec![line("ab")],
                Ok(()),
            ),
            ("exactly max", b"abcd\n", vec![line("abcd")], Ok(())),
            (
                "exactly max with crlf",
                b"abcd\r\n",
                vec![line("abcd")],
                Ok(()),
            ),
            (
                "too long",
                b"abcde\nok\n",
                vec![TOO_LONG, line("ok")],
                Ok(()),
            ),
            (
                "too long then more",
                b"abcdefghij\r\nxy\nabcdef\n\nz\n",
                vec![TOO_LONG, line("xy"), TOO_LONG, line("z")],
                Ok(()),
            ),
            (
                "truncated",
                b"ok\nabc",
                vec![line("ok")],
                Err(LineDecodeError::TruncatedLine { len: 3 }),
            ),
            (
                "too long at eof is reported once",
                b"abcdefgh",
                vec![TOO_LONG],
                Ok(()),
            ),
            ("empty input", b"", vec![], Ok(())),
        ];
        for (name, input, expected, expected_end) in cases {
            let (whole, end, _) = run(limits, &[input]);
            assert_eq!(&whole, expected, "{name}: whole");
            assert_eq!(&end, expected_end, "{name}: whole end");
            let bytes: Vec<&[u8]> = input.chunks(1).collect();
            let (split, end, _) = run(limits, &bytes);
            assert_eq!(&split, expected, "{name}: byte at a time");
            assert_eq!(&end, expected_end, "{name}: byte at a time end");
        }
    }

    #[test]
    fn reports_an_oversized_line_before_its_newline() {
        let mut decoder = LineDecoder::with_limits(LineLimits::with_max_line_len(4));
        assert_eq!(
            decoder.decode(b"abcd"),
            Ok(LineStatus::NeedMore { consumed: 0 })
        );
        // A trailing `\r` might still be half of `\r\n`.
        assert_eq!(
            decoder.decode(b"abcd\r"),
            Ok(LineStatus::NeedMore { consumed: 0 })
        );
        assert_eq!(
            decoder.decode(b"abcd\rx"),
            Err(LineDecodeError::LineTooLong { max: 4 })
        );
        // The error consumed nothing; the next call drops everything seen so far.
        assert_eq!(
            decoder.decode(b"abcd\rxyz"),
            Ok(LineStatus::NeedMore { consumed: 8 })
        );
        assert_eq!(
            decoder.decode(b"tail\nnext\n"),
            Ok(LineStatus::Line {
                line: b"next",
                consumed: 10
            })
        );
    }

    #[test]
    fn buffer_stays_near_the_limit_while_discarding() {
        let max = 64;
        let mut input = vec![b'x'; 10_000];
        input.extend_from_slice(b"\nafter\n");
        let chunks: Vec<&[u8]> = input.chunks(16).collect();
        let (out, end, peak) = run(LineLimits::with_max_line_len(max), &chunks);
        assert_eq!(
            out,
            vec![
                Out::Err(LineDecodeError::LineTooLong { max }),
                line("after")
            ]
        );
        assert_eq!(end, Ok(()));
        assert!(peak <= max + 2 + 16, "buffer peaked at {peak}");
    }

    #[test]
    fn errors_keep_skipped_empty_lines_accounted() {
        let mut decoder = LineDecoder::with_limits(LineLimits::with_max_line_len(2));
        let buf = b"\n\nabc\nok\n";
        assert_eq!(
            decoder.decode(buf),
            Err(LineDecodeError::LineTooLong { max: 2 })
        );
        assert_eq!(
            decoder.decode(buf),
            Ok(LineStatus::Line {
                line: b"ok",
                consumed: buf.len()
            })
        );
    }

    #[test]
    fn a_shrunken_buffer_does_not_panic() {
        let mut decoder = LineDecoder::with_limits(LineLimits::with_max_line_len(2));
        assert!(decoder.decode(b"abcdef").is_err());
        let _ = decoder.decode(b"");
        let _ = decoder.decode(b"a");
        assert_eq!(decoder.finish(b""), Ok(()));
    }

    #[test]
    fn status_reports_consumed() {
        assert_eq!(LineStatus::NeedMore { consumed: 3 }.consumed(), 3);
        let status = LineStatus::Line {
            line: b"x",
            consumed: 2,
        };
        assert_eq!(status.consumed(), 2);
    }

    #[test]
    fn encodes_lines() {
        let limits = LineLimits::with_max_line_len(8);
        let cases: &[EncodeCase] = &[
            (br#"{"a":1}"#, Ok(b"{\"a\":1}\n")),
            (b"", Err(LineEncodeError::EmptyMessage)),
            (
                b"123456789",
                Err(LineEncodeError::MessageTooLong { len: 9, max: 8 }),
            ),
            (b"ab\ncd", Err(LineEncodeError::EmbeddedLineBreak { at: 2 })),
            (b"abcd\r", Err(LineEncodeError::EmbeddedLineBreak { at: 4 })),
        ];
        for (message, expected) in cases {
            let mut out = b"prev".to_vec();
            let result = encode_line_with_limits(message, limits, &mut out);
            match expected {
                Ok(frame) => {
                    assert_eq!(result, Ok(()));
                    assert_eq!(out.get(4..), Some(*frame));
                }
                Err(error) => {
                    assert_eq!(result.as_ref(), Err(error));
                    assert_eq!(out, b"prev", "nothing written on error");
                }
            }
        }
    }

    #[test]
    fn error_messages_carry_the_numbers() {
        assert_eq!(
            LineDecodeError::LineTooLong { max: 7 }.to_string(),
            "peer sent a line longer than the limit of 7 bytes"
        );
        assert_eq!(
            LineEncodeError::MessageTooLong { len: 9, max: 8 }.to_string(),
            "message of 9 bytes exceeds the line limit of 8 bytes"
        );
    }
}
