//! Incremental, zero-copy decoding of a message body.

use super::error::H1Error;
use super::framing::BodyFraming;
use super::limits::Limits;

/// What one call to [`BodyDecoder::decode`] found.
///
/// Every variant carries `consumed`: how many bytes from the start of the
/// buffer the decoder has used up (framing and data alike). The caller drops
/// exactly that many bytes before the next call; the decoder remembers where
/// it was, so the dropped bytes are never needed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyStatus<'b> {
    /// Some body bytes: `data` is a slice of the caller's buffer, ending at
    /// `consumed`. Call `decode` again with the rest of the buffer: more data
    /// or the end may already be there.
    Data {
        /// Body bytes, never empty.
        data: &'b [u8],
        /// Bytes of the buffer used up, `data` included.
        consumed: usize,
    },
    /// The buffer holds no more body bytes yet (it may have held framing,
    /// which is counted in `consumed`). Read more and call again.
    NeedMore {
        /// Bytes of the buffer used up.
        consumed: usize,
    },
    /// The body is complete. Bytes after `consumed` belong to the next message
    /// on the connection (e.g. a pipelined request) and stay with the caller.
    /// Further calls keep returning `End { consumed: 0 }`.
    End {
        /// Bytes of the buffer used up.
        consumed: usize,
    },
}

impl BodyStatus<'_> {
    /// The `consumed` count of any variant.
    #[must_use]
    pub fn consumed(&self) -> usize {
        match *self {
            Self::Data { consumed, .. } | Self::NeedMore { consumed } | Self::End { consumed } => {
                consumed
            }
        }
    }
}

/// Decodes one message body, whatever its [`BodyFraming`], from buffers the
/// caller owns.
///
/// It is a state machine fed with whatever bytes have arrived: no recursion,
/// no buffering of its own, and every call either makes progress through the
/// buffer or returns. Its bounds come from [`Limits`]: the body as a whole
/// (all chunks together), each chunk-size line, and the trailer section.
///
/// Chunked decoding follows RFC 9112 §7.1 strictly: a hex chunk-size (no
/// sign, no `0x`, at most 64 bits), optional extensions (`;name=value`,
/// allowed and ignored; whitespace is allowed before each `;`), and CRLF
/// line ends everywhere: a bare LF is refused, because lenient line endings
/// are a classic source of parser disagreement. Trailer fields are checked
/// for shape (a colon, no control bytes), then discarded.
///
/// After an error the decoder stays failed and returns the same error.
///
/// ```
/// use mcp_proto::h1::{BodyDecoder, BodyFraming, BodyStatus, Limits};
///
/// let mut decoder = BodyDecoder::new(BodyFraming::Chunked, &Limits::default());
/// let mut buf: &[u8] = b"3;ext=1\r\nabc\r\n0\r\n\r\nNEXT";
/// let mut body = Vec::new();
/// loop {
///     match decoder.decode(buf)? {
///         BodyStatus::Data { data, consumed } => {
///             body.extend_from_slice(data);
///             buf = &buf[consumed..];
///         }
///         BodyStatus::NeedMore { .. } => unreachable!("all bytes are here"),
///         BodyStatus::End { consumed } => {
///             buf = &buf[consumed..];
///             break;
///         }
///     }
/// }
/// assert_eq!(body, b"abc");
/// assert_eq!(buf, b"NEXT");
/// # Ok::<(), mcp_proto::h1::H1Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyDecoder {
    state: DecodeState,
    /// Body bytes announced so far by chunk sizes or read until close.
    received: u64,
    limits: Limits,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DecodeState {
    /// A `Content-Length` body with this many bytes still to come (never 0).
    Length {
        remaining: u64,
    },
    UntilClose,
    ChunkSizeLine(ChunkSizeLine),
    /// Inside a chunk with this many bytes still to come (never 0).
    ChunkData {
        remaining: u64,
    },
    /// After a chunk's data, expecting its CRLF.
    ChunkDataEnd {
        seen_cr: bool,
    },
    Trailers(TrailerSection),
    Done,
    Failed(H1Error),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ChunkSizeLine {
    size: u64,
    has_digits: bool,
    line_bytes: usize,
    part: SizeLinePart,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum SizeLinePart {
    #[default]
    Digits,
    /// Whitespace after the size, which may only lead to an extension.
    WhitespaceAfterSize,
    Extension,
    /// CR seen, LF expected.
    LineEnd,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct TrailerSection {
    section_bytes: usize,
    /// Bytes of the current line, CR excluded.
    line_bytes: usize,
    line_has_colon: bool,
    seen_cr: bool,
}

impl BodyDecoder {
    /// A decoder for one body with this framing.
    ///
    /// A `Length` above [`Limits::max_body_bytes`] makes the first `decode`
    /// fail with [`H1Error::BodyTooLarge`] before reading anything
    /// ([`Limits::check_declared_body`] gives the same answer up front).
    #[must_use]
    pub fn new(framing: BodyFraming, limits: &Limits) -> Self {
        let state = match framing {
            BodyFraming::Empty | BodyFraming::Length(0) => DecodeState::Done,
            BodyFraming::Length(length) if length > limits.max_body_bytes => {
                DecodeState::Failed(H1Error::BodyTooLarge {
                    limit: limits.max_body_bytes,
                })
            }
            BodyFraming::Length(length) => DecodeState::Length { remaining: length },
            BodyFraming::Chunked => DecodeState::ChunkSizeLine(ChunkSizeLine::default()),
            BodyFraming::UntilClose => DecodeState::UntilClose,
        };
        Self {
            state,
            received: 0,
            limits: *limits,
        }
    }

    /// Decodes from the start of `buf`, which holds the bytes not yet
    /// consumed by earlier calls followed by any newly read ones.
    ///
    /// # Errors
    /// [`H1Error::BodyTooLarge`] (413), [`H1Error::InvalidChunk`],
    /// [`H1Error::ChunkSizeOverflow`], [`H1Error::ChunkLineTooLong`] (400)
    /// and [`H1Error::TrailersTooLarge`] (431).
    pub fn decode<'b>(&mut self, buf: &'b [u8]) -> Result<BodyStatus<'b>, H1Error> {
        let result = self.decode_step(buf);
        if let Err(error) = &result {
            self.state = DecodeState::Failed(error.clone());
        }
        result
    }

    /// Tells the decoder the peer closed the connection (EOF).
    ///
    /// That ends an until-close body; for a `Length` or chunked body that is
    /// not complete yet it is an error. Call it only once `decode` has seen
    /// every byte that arrived.
    ///
    /// # Errors
    /// [`H1Error::UnexpectedEof`] if the body was not complete, or the error
    /// the decoder already failed with.
    pub fn finish(&mut self) -> Result<(), H1Error> {
        match &self.state {
            DecodeState::Done => Ok(()),
            DecodeState::UntilClose => {
                self.state = DecodeState::Done;
                Ok(())
            }
            DecodeState::Failed(error) => Err(error.clone()),
            DecodeState::Length { .. }
            | DecodeState::ChunkSizeLine(_)
            | DecodeState::ChunkData { .. }
            | DecodeState::ChunkDataEnd { .. }
            | DecodeState::Trailers(_) => {
                self.state = DecodeState::Failed(H1Error::UnexpectedEof);
                Err(H1Error::UnexpectedEof)
            }
        }
    }

    /// `true` once the whole body has been decoded (`End` was or will be
    /// returned without needing more bytes).
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.state == DecodeState::Done
    }

    fn decode_step<'b>(&mut self, buf: &'b [u8]) -> Result<BodyStatus<'b>, H1Error> {
        let mut position = 0_usize;
        loop {
            match &mut self.state {
                DecodeState::Done => return Ok(BodyStatus::End { consumed: position }),
                DecodeState::Failed(error) => return Err(error.clone()),
                DecodeState::Length { remaining } => {
                    let data = take_up_to(buf, position, *remaining);
                    let Some(taken) = data_length(data) else {
                        return Ok(BodyStatus::NeedMore { consumed: position });
                    };
                    *remaining -= taken.min(*remaining);
                    if *remaining == 0 {
                        self.state = DecodeState::Done;
                    }
                    return Ok(BodyStatus::Data {
                        data,
                        consumed: position + data.len(),
                    });
                }
                DecodeState::ChunkData { remaining } => {
                    let data = take_up_to(buf, position, *remaining);
                    let Some(taken) = data_length(data) else {
                        return Ok(BodyStatus::NeedMore { consumed: position });
                    };
                    *remaining -= taken.min(*remaining);
                    if *remaining == 0 {
                        self.state = DecodeState::ChunkDataEnd { seen_cr: false };
                    }
                    return Ok(BodyStatus::Data {
                        data,
                        consumed: position + data.len(),
                    });
                }
                DecodeState::UntilClose => {
                    let data = buf.get(position..).unwrap_or_default();
                    let Some(taken) = data_length(data) else {
                        return Ok(BodyStatus::NeedMore { consumed: position });
                    };
                    self.count_body_bytes(taken)?;
                    return Ok(BodyStatus::Data {
                        data,
                        consumed: position + data.len(),
                    });
                }
                DecodeState::ChunkSizeLine(_)
                | DecodeState::ChunkDataEnd { .. }
                | DecodeState::Trailers(_) => {
                    let Some(&byte) = buf.get(position) else {
                        return Ok(BodyStatus::NeedMore { consumed: position });
                    };
                    position += 1;
                    self.framing_byte(byte)?;
                }
            }
        }
    }

    /// Advances the chunked framing by one byte.
    fn framing_byte(&mut self, byte: u8) -> Result<(), H1Error> {
        match &mut self.state {
            DecodeState::ChunkSizeLine(line) => {
                let line = *line;
                self.size_line_byte(line, byte)
            }
            DecodeState::ChunkDataEnd { seen_cr: false } if byte == b'\r' => {
                self.state = DecodeState::ChunkDataEnd { seen_cr: true };
                Ok(())
            }
            DecodeState::ChunkDataEnd { seen_cr: true } if byte == b'\n' => {
                self.state = DecodeState::ChunkSizeLine(ChunkSizeLine::default());
                Ok(())
            }
            DecodeState::ChunkDataEnd { .. } => Err(H1Error::InvalidChunk {
                reason: "chunk data not followed by CRLF",
            }),
            DecodeState::Trailers(section) => {
                let section = *section;
                self.trailer_byte(section, byte)
            }
            DecodeState::Length { .. }
            | DecodeState::UntilClose
            | DecodeState::ChunkData { .. }
            | DecodeState::Done
            | DecodeState::Failed(_) => Ok(()),
        }
    }

    fn size_line_byte(&mut self, mut line: ChunkSizeLine, byte: u8) -> Result<(), H1Error> {
        const MISSING_SIZE: H1Error = H1Error::InvalidChunk {
            reason: "missing chunk size",
        };
        line.line_bytes += 1;
        if line.line_bytes > self.limits.max_chunk_line_bytes {
            return Err(H1Error::ChunkLineTooLong {
                limit: self.limits.max_chunk_line_bytes,
            });
        }
        match (line.part, byte) {
            (SizeLinePart::Digits, _) if byte.is_ascii_hexdigit() => {
                if line.size >> 60 != 0 {
                    return Err(H1Error::ChunkSizeOverflow);
                }
                line.size = (line.size << 4) | u64::from(hex_value(byte));
                line.has_digits = true;
            }
            (
                SizeLinePart::Digits | SizeLinePart::WhitespaceAfterSize | SizeLinePart::Extension,
                b'\n',
            ) => return Err(BARE_LF),
            (SizeLinePart::Digits, b';' | b' ' | b'\t' | b'\r') if !line.has_digits => {
                return Err(MISSING_SIZE);
            }
            (SizeLinePart::Digits | SizeLinePart::WhitespaceAfterSize, b' ' | b'\t') => {
                line.part = SizeLinePart::WhitespaceAfterSize;
            }
            (SizeLinePart::Digits | SizeLinePart::WhitespaceAfterSize, b';') => {
                line.part = SizeLinePart::Extension;
            }
            (SizeLinePart::Digits | SizeLinePart::Extension, b'\r') => {
                line.part = SizeLinePart::LineEnd;
            }
            (SizeLinePart::Digits, _) => {
                return Err(H1Error::InvalidChunk {
                    reason: "chunk size is not hexadecimal",
                });
            }
            (SizeLinePart::WhitespaceAfterSize, _) => {
                return Err(H1Error::InvalidChunk {
                    reason: "whitespace after chunk size not followed by an extension",
                });
            }
            (SizeLinePart::Extension, _) if is_control(byte) => {
                return Err(H1Error::InvalidChunk {
                    reason: "control byte in chunk extension",
                });
            }
            (SizeLinePart::Extension, _) => {}
            (SizeLinePart::LineEnd, b'\n') => return self.start_chunk(line.size),
            (SizeLinePart::LineEnd, _) => {
                return Err(H1Error::InvalidChunk {
                    reason: "CR in chunk-size line not followed by LF",
                });
            }
        }
        self.state = DecodeState::ChunkSizeLine(line);
        Ok(())
    }

    fn start_chunk(&mut self, size: u64) -> Result<(), H1Error> {
        if size == 0 {
            self.state = DecodeState::Trailers(TrailerSection::default());
            return Ok(());
        }
        self.count_body_bytes(size)?;
        self.state = DecodeState::ChunkData { remaining: size };
        Ok(())
    }

    fn trailer_byte(&mut self, mut section: TrailerSection, byte: u8) -> Result<(), H1Error> {
        section.section_bytes += 1;
        if section.section_bytes > self.limits.max_trailer_bytes {
            return Err(H1Error::TrailersTooLarge {
                limit: self.limits.max_trailer_bytes,
            });
        }
        if section.seen_cr {
            if byte != b'\n' {
                return Err(H1Error::InvalidChunk {
                    reason: "CR in trailer section not followed by LF",
                });
            }
            if section.line_bytes == 0 {
                self.state = DecodeState::Done;
                return Ok(());
            }
            section.line_bytes = 0;
            section.line_has_colon = false;
            section.seen_cr = false;
        } else if byte == b'\r' {
            if section.line_bytes > 0 && !section.line_has_colon {
                return Err(H1Error::InvalidChunk {
                    reason: "trailer line without a colon",
                });
            }
            section.seen_cr = true;
        } else if byte == b'\n' {
            return Err(BARE_LF);
        } else if is_control(byte) {
            return Err(H1Error::InvalidChunk {
                reason: "control byte in trailer section",
            });
        } else {
            section.line_bytes += 1;
            section.line_has_colon |= byte == b':';
        }
        self.state = DecodeState::Trailers(section);
        Ok(())
    }

    fn count_body_bytes(&mut self, more: u64) -> Result<(), H1Error> {
        let limit = self.limits.max_body_bytes;
        match self.received.checked_add(more) {
            Some(total) if total <= limit => {
                self.received = total;
                Ok(())
            }
            _ => Err(H1Error::BodyTooLarge { limit }),
        }
    }
}

/// Strict CRLF: accepting a bare LF where another parser would not is how
/// framing disagreements (and smuggling) start.
const BARE_LF: H1Error = H1Error::InvalidChunk {
    reason: "line ends in LF without CR",
};

/// At most `limit` bytes of `buf` from `position` on.
fn take_up_to(buf: &[u8], position: usize, limit: u64) -> &[u8] {
    let rest = buf.get(position..).unwrap_or_default();
    let length = usize::try_from(limit).map_or(rest.len(), |limit| limit.min(rest.len()));
    rest.get(..length).unwrap_or(rest)
}

/// The length of a non-empty slice, as the body counters want it.
fn data_length(data: &[u8]) -> Option<u64> {
    if data.is_empty() {
        None
    } else {
        u64::try_from(data.len()).ok()
    }
}

fn hex_value(byte: u8) -> u8 {
    match byte {
        b'0'..=b'9' => byte - b'0',
        b'a'..=b'f' => byte - b'a' + 10,
        b'A'..=b'F' => byte - b'A' + 10,
        _ => 0,
    }
}

/// Control bytes other than horizontal tab, which field values allow.
fn is_control(byte: u8) -> bool {
    (byte < 0x20 && byte != b'\t') || byte == 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes; returns the body and the
    /// unconsumed tail once `End` is seen.
    fn decode_all(
        framing: BodyFraming,
        limits: &Limits,
        input: &[u8],
        step: usize,
    ) -> Result<(Vec<u8>, Vec<u8>, bool), H1Error> {
        let mut decoder = BodyDecoder::new(framing, limits);
        let mut pending = Vec::new();
        let mut body = Vec::new();
        let mut fed = 0;
        loop {
            match decoder.decode(&pending)? {
                BodyStatus::Data { data, consumed } => {
                    body.extend_from_slice(data);
                    pending.drain(..consumed);
                }
                BodyStatus::End { consumed } => {
                    pending.drain(..consumed);
                    pending.extend_from_slice(&input[fed..]);
                    return Ok((body, pending, true));
                }
                BodyStatus::NeedMore { consumed } => {
                    pending.drain(..consumed);
                    if fed == input.len() {
                        decoder.finish()?;
                        return Ok((body, pending, false));
                    }
                    let next = (fed + step).min(input.len());
                    pending.extend_from_slice(&input[fed..next]);
                    fed = next;
                }
            }
        }
    }

    type Row = (
        &'static str,
        BodyFraming,
        &'static [u8],
        Result<(&'static [u8], &'static [u8]), H1Error>,
    );

    fn check_rows(rows: &[Row], limits: &Limits) {
        for (name, framing, input, expected) in rows {
            for step in [1, 2, 3, 7, input.len().max(1)] {
                let got =
                    decode_all(*framing, limits, input, step).map(|(body, rest, _)| (body, rest));
                let expected = expected
                    .clone()
                    .map(|(body, rest)| (body.to_vec(), rest.to_vec()));
                assert_eq!(got, expected, "{name} (step {step})");
            }
        }
    }

    #[test]
    fn chunked_bodies() {
        let rows: &[Row] = &[
            (
                "one chunk",
                BodyFraming::Chunked,
                b"5\r\nhello\r\n0\r\n\r\n",
                Ok((b"hello", b"")),
            ),
            (
                "two chunks then pipelined bytes",
                BodyFraming::Chunked,
                b"2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\nGET",
                Ok((b"hello", b"GET")),
            ),
            (
                "empty body",
                BodyFraming::Chunked,
                b"0\r\n\r\n",
                Ok((b"", b"")),
            ),
            (
                "upper hex",
                BodyFraming::Chunked,
                b"A\r\n0123456789\r\n0\r\n\r\n",
                Ok((b"0123456789", b"")),
            ),
            (
                "leading zeros",
                BodyFraming::Chunked,
                b"0002\r\nab\r\n000\r\n\r\n",
                Ok((b"ab", b"")),
            ),
            (
                "extensions ignored",
                BodyFraming::Chunked,
                b"2;name=value;flag\r\nab\r\n0;last=\"q\"\r\n\r\n",
                Ok((b"ab", b"")),
            ),
            (
                "whitespace before extension",
                BodyFraming::Chunked,
                b"2 \t;x\r\nab\r\n0\r\n\r\n",
                Ok((b"ab", b"")),
            ),
            (
                "trailers discarded",
                BodyFraming::Chunked,
                b"2\r\nab\r\n0\r\nX-Sum: 1\r\nX-Other:\t2\r\n\r\nrest",
                Ok((b"ab", b"rest")),
            ),
            (
                "bad hex",
                BodyFraming::Chunked,
                b"2g\r\nab\r\n0\r\n\r\n",
                Err(H1Error::InvalidChunk {
                    reason: "chunk size is not hexadecimal",
                }),
            ),
            (
                "0x prefix",
                BodyFraming::Chunked,
                b"0x2\r\nab\r\n0\r\n\r\n",
                Err(H1Error::InvalidChunk {
                    reason: "chunk size is not hexadecimal",
                }),
            ),
            (
                "empty size",
                BodyFraming::Chunked,
                b"\r\nab\r\n0\r\n\r\n",
                Err(H1Error::InvalidChunk {
                    reason: "missing chunk size",
                }),
            ),
            (
                "extension without size",
                BodyFraming::Chunked,
                b";x\r\n",
                Err(H1Error::InvalidChunk {
                    reason: "missing chunk size",
                }),
            ),
            (
                "size overflow",
                BodyFraming::Chunked,
                b"10000000000000000\r\n",
                Err(H1Error::ChunkSizeOverflow),
            ),
            (
                "largest size is only too large",
                BodyFraming::Chunked,
                b"ffffffffffffffff\r\n",
                Err(H1Error::BodyTooLarge {
                    limit: 4 * 1024 * 1024,
                }),
            ),
            (
                "bare LF after size",
                BodyFraming::Chunked,
                b"2\nab\r\n0\r\n\r\n",
                Err(H1Error::InvalidChunk {
                    reason: "line ends in LF without CR",
                }),
            ),
            (
                "bare LF after extension",
                BodyFraming::Chunked,
                b"2;x\nab\r\n0\r\n\r\n",
                Err(H1Error::InvalidChunk {
                    reason: "line ends in LF without CR",
                }),
            ),
            (
                "data longer than size",
                BodyFraming::Chunked,
                b"2\r\nabc\r\n0\r\n\r\n",
                Err(H1Error::InvalidChunk {
                    reason: "chunk data not followed by CRLF",
                }),
            ),
            (
                "whitespace then garbage",
                BodyFraming::Chunked,
                b"2 x\r\n",
                Err(H1Error::InvalidChunk {
                    reason: "whitespace after chunk size not followed by an extension",
                }),
            ),
            (
                "control byte in extension",
                BodyFraming::Chunked,
                b"2;\x00\r\n",
                Err(H1Error::InvalidChunk {
                    reason: "control byte in chunk extension",
                }),
            ),
            (
                "trailer without colon",
                BodyFraming::Chunked,
                b"0\r\nnocolon\r\n\r\n",
                Err(H1Error::InvalidChunk {
                    reason: "trailer line without a colon",
                }),
            ),
            (
                "trailer bare LF",
                BodyFraming::Chunked,
                b"0\r\nA: b\n\r\n",
                Err(H1Error::InvalidChunk {
                    reason: "line ends in LF without CR",
                }),
            ),
            (
                "eof in size line",
                BodyFraming::Chunked,
                b"5",
                Err(H1Error::UnexpectedEof),
            ),
            (
                "eof in data",
                BodyFraming::Chunked,
                b"5\r\nhel",
                Err(H1Error::UnexpectedEof),
            ),
            (
                "eof before last chunk",
                BodyFraming::Chunked,
                b"5\r\nhello\r\n",
                Err(H1Error::UnexpectedEof),
            ),
            (
                "eof in trailers",
                BodyFraming::Chunked,
                b"0\r\nA: b\r\n",
                Err(H1Error::UnexpectedEof),
            ),
        ];
        check_rows(rows, &Limits::default());
    }

    #[test]
    fn length_and_close_bodies() {
        let rows: &[Row] = &[
            (
                "length",
                BodyFraming::Length(5),
                b"helloGET",
                Ok((b"hello", b"GET")),
            ),
            (
                "zero length",
                BodyFraming::Length(0),
                b"GET",
                Ok((b"", b"GET")),
            ),
            ("empty", BodyFraming::Empty, b"GET", Ok((b"", b"GET"))),
            (
                "eof mid length",
                BodyFraming::Length(5),
                b"hel",
                Err(H1Error::UnexpectedEof),
            ),
            (
                "until close",
                BodyFraming::UntilClose,
                b"all of it",
                Ok((b"all of it", b"")),
            ),
            (
                "until close, nothing",
                BodyFraming::UntilClose,
                b"",
                Ok((b"", b"")),
            ),
        ];
        check_rows(rows, &Limits::default());
    }

    #[test]
    fn limits_enforced() {
        let limits = Limits {
            max_body_bytes: 4,
            max_chunk_line_bytes: 8,
            max_trailer_bytes: 8,
            ..Limits::default()
        };
        let rows: &[Row] = &[
            (
                "length at limit",
                BodyFraming::Length(4),
                b"abcd",
                Ok((b"abcd", b"")),
            ),
            (
                "length over limit",
                BodyFraming::Length(5),
                b"abcde",
                Err(H1Error::BodyTooLarge { limit: 4 }),
            ),
            (
                "chunks at limit",
                BodyFraming::Chunked,
                b"2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n",
                Ok((b"abcd", b"")),
            ),
            (
                "chunks over limit together",
                BodyFraming::Chunked,
                b"2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n",
                Err(H1Error::BodyTooLarge { limit: 4 }),
            ),
            (
                "one chunk over limit",
                BodyFraming::Chunked,
                b"5\r\n",
                Err(H1Error::BodyTooLarge { limit: 4 }),
            ),
            (
                "until close over limit",
                BodyFraming::UntilClose,
                b"abcde",
                Err(H1Error::BodyTooLarge { limit: 4 }),
            ),
            (
                "line at limit",
                BodyFraming::Chunked,
                b"1;abcd\r\na\r\n0\r\n\r\n",
                Ok((b"a", b"")),
            ),
            (
                "line over limit",
                BodyFraming::Chunked,
                b"1;abcde\r\na\r\n0\r\n\r\n",
                Err(H1Error::ChunkLineTooLong { limit: 8 }),
            ),
            (
                "zeros over line limit",
                BodyFraming::Chunked,
                b"000000000",
                Err(H1Error::ChunkLineTooLong { limit: 8 }),
            ),
            (
                "trailers at limit",
                BodyFraming::Chunked,
                b"0\r\nA: b\r\n\r\n",
                Ok((b"", b"")),
            ),
            (
                "trailers over limit",
                BodyFraming::Chunked,
                b"0\r\nA: bc\r\n\r\n",
                Err(H1Error::TrailersTooLarge { limit: 8 }),
            ),
        ];
        check_rows(rows, &limits);
    }

    #[test]
    fn statuses_and_stickiness() {
        let mut decoder = BodyDecoder::new(BodyFraming::Chunked, &Limits::default());
        let rows: &[(&str, &[u8], Result<BodyStatus<'_>, H1Error>)] = &[
            ("nothing yet", b"", Ok(BodyStatus::NeedMore { consumed: 0 })),
            (
                "framing only",
                b"3\r\n",
                Ok(BodyStatus::NeedMore { consumed: 3 }),
            ),
            (
                "data",
                b"ab",
                Ok(BodyStatus::Data {
                    data: b"ab",
                    consumed: 2,
                }),
            ),
            (
                "rest of chunk",
                b"c\r\n0\r",
                Ok(BodyStatus::Data {
                    data: b"c",
                    consumed: 1,
                }),
            ),
            (
                "end pending",
                b"\r\n0\r",
                Ok(BodyStatus::NeedMore { consumed: 4 }),
            ),
            ("end", b"\n\r\nX", Ok(BodyStatus::End { consumed: 3 })),
            ("end again", b"X", Ok(BodyStatus::End { consumed: 0 })),
        ];
        for (name, input, expected) in rows {
            assert_eq!(&decoder.decode(input), expected, "{name}");
        }
        assert!(decoder.is_finished());
        assert_eq!(decoder.finish(), Ok(()));

        let mut failed = BodyDecoder::new(BodyFraming::Chunked, &Limits::default());
        let error = H1Error::InvalidChunk {
            reason: "chunk size is not hexadecimal",
        };
        assert_eq!(failed.decode(b"z"), Err(error.clone()));
        assert_eq!(
            failed.decode(b"0\r\n\r\n"),
            Err(error.clone()),
            "stays failed"
        );
        assert_eq!(failed.finish(), Err(error));
    }
}
