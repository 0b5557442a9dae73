//! Shared by the HTTP server targets (`http_server`, `legacy_sse_server`): the input format
//! and the per-exchange output check.
//!
//! The input is a sequence of records. A record starting with `!` is a control line, `!<op>`
//! then optional decimal digits (the argument) up to the next `\n`. Any other record is an
//! HTTP/1.1 request: a head parsed by the h1 codec, then a body that runs up to the next blank
//! line (`\n\n`, a crude splitter). CR and LF between records are skipped.
//!
//! Session ids are minted from a deterministic entropy counter (the Nth id is
//! `SessionId::from_entropy(&[N; 16])`), so the placeholders `$S1` … `$S9` in a request stand
//! for the 1st … 9th id minted. The ids do not depend on anything else, so every placeholder
//! is replaced up front; one for an id not minted yet when its request comes is an unknown
//! session (404), as it would be for a real client.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::OnceLock;

use http::request::Parts;
use mcp_proto::h1::{Limits, parse_request_head};
use mcp_proto::http::SessionId;
use mcp_proto::streamable::{EntropySource, HttpOutput, StreamId};

/// Whether `FUZZ_TRACE` is set: the targets then print what they do (to write seeds with).
pub fn tracing() -> bool {
    static TRACE: OnceLock<bool> = OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("FUZZ_TRACE").is_some())
}

/// One record of the input.
pub enum Record {
    /// An HTTP request: its head and body.
    Request { parts: Parts, body: Vec<u8> },
    /// A control line: `!<op><arg>`.
    Op { op: u8, arg: u64 },
}

/// The entropy the servers mint session ids from: sixteen copies of a counter that starts at 1.
pub fn counter_entropy() -> EntropySource {
    let mut counter = 0u8;
    Box::new(move |buf: &mut [u8]| {
        counter = counter.wrapping_add(1);
        buf.fill(counter);
    })
}

/// The `n`th session id `counter_entropy` mints (1-based).
pub fn session_id(n: u8) -> SessionId {
    SessionId::from_entropy(&[n; 16]).expect("16 bytes of entropy")
}

fn placeholders() -> &'static [Vec<u8>] {
    static TABLE: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    TABLE.get_or_init(|| (1..=9u8).map(|n| session_id(n).as_str().as_bytes().to_vec()).collect())
}

/// Replaces every `$S1` … `$S9` in `bytes`. (Byte by byte: comparing slices at every position
/// goes through libFuzzer's memcmp hook, which is slow.)
fn substitute(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if let (b'$', Some(b'S'), Some(digit @ b'1'..=b'9')) = (byte, bytes.get(at + 1).copied(), bytes.get(at + 2).copied()) {
            out.extend_from_slice(&placeholders()[usize::from(digit - b'1')]);
            at += 3;
        } else {
            out.push(byte);
            at += 1;
        }
    }
    out
}

/// The records of one input, read one at a time.
pub struct Input {
    bytes: Vec<u8>,
    /// Where the next record starts.
    at: usize,
    limits: Limits,
}

impl Input {
    pub fn new(data: &[u8]) -> Self {
        Self { bytes: substitute(data), at: 0, limits: Limits::default() }
    }

    /// The next record; `None` at the end or at a head the codec refuses or cannot complete.
    pub fn next_record(&mut self) -> Option<Record> {
        let skipped = self.bytes.get(self.at..)?.iter().position(|b| !matches!(b, b'\r' | b'\n'))?;
        self.at += skipped;
        let rest = &self.bytes[self.at..];
        if rest.first() == Some(&b'!') {
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let line = &rest[1..end];
            let op = line.first().copied().unwrap_or(0);
            let arg = line
                .iter()
                .skip(1)
                .take_while(|b| b.is_ascii_digit())
                .fold(0u64, |acc, b| acc.saturating_mul(10).saturating_add(u64::from(b - b'0')));
            self.at += end;
            return Some(Record::Op { op, arg });
        }
        let Ok(Some((request, consumed))) = parse_request_head(rest, &self.limits) else {
            return None;
        };
        let (parts, ()) = request.into_parts();
        let after = &rest[consumed..];
        let end = after.windows(2).position(|w| w[0] == b'\n' && w[1] == b'\n').unwrap_or(after.len());
        let body = after[..end].to_vec();
        self.at += (consumed + end + 2).min(rest.len());
        Some(Record::Request { parts, body })
    }
}

/// Where an exchange is, as seen from its outputs.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Seen {
    /// `StartEvents` was written; events may follow.
    Streaming,
    /// `Respond` or `EndEvents` was written.
    Ended,
    /// The client went away (`handle_stream_closed`) before it ended.
    Closed,
}

/// Every exchange the server handed out and what was written on it. Asserts that each
/// exchange ends exactly once (one `Respond`, or `StartEvents` … `EndEvents`) and that nothing
/// is written after its end or after the client closed it.
#[derive(Default)]
pub struct Exchanges {
    pub opened: Vec<StreamId>,
    pub seen: HashMap<StreamId, Seen>,
}

impl Exchanges {
    /// A `handle_*` call returned `stream`.
    pub fn opened(&mut self, stream: StreamId) {
        assert!(!self.opened.contains(&stream), "{stream:?} handed out twice");
        self.opened.push(stream);
    }

    /// Checks one output against what came before on its exchange.
    pub fn output(&mut self, output: &HttpOutput) {
        let stream = match output {
            HttpOutput::Respond { stream, .. }
            | HttpOutput::StartEvents { stream, .. }
            | HttpOutput::Events { stream, .. }
            | HttpOutput::EndEvents { stream } => *stream,
        };
        assert!(self.opened.contains(&stream), "output on {stream:?}, which was never handed out");
        if tracing() {
            match output {
                HttpOutput::Respond { response, .. } => {
                    eprintln!("  {stream:?} <- {} {:?} {}", response.status(), response.headers(), String::from_utf8_lossy(response.body()));
                }
                HttpOutput::StartEvents { head, .. } => eprintln!("  {stream:?} <- SSE {:?}", head.headers()),
                HttpOutput::Events { bytes, .. } => eprintln!("  {stream:?} <- {:?}", String::from_utf8_lossy(bytes)),
                HttpOutput::EndEvents { .. } => eprintln!("  {stream:?} <- end"),
            }
        }
        let before = self.seen.get(&stream).copied();
        assert_ne!(before, Some(Seen::Closed), "{output:?} written after the client closed {stream:?}");
        assert_ne!(before, Some(Seen::Ended), "{output:?} written after {stream:?} ended");
        match output {
            HttpOutput::Respond { .. } => {
                assert_eq!(before, None, "a response on {stream:?}, which is streaming");
                self.seen.insert(stream, Seen::Ended);
            }
            HttpOutput::StartEvents { .. } => {
                assert_eq!(before, None, "{stream:?} started twice");
                self.seen.insert(stream, Seen::Streaming);
            }
            HttpOutput::Events { .. } => {
                assert_eq!(before, Some(Seen::Streaming), "events on {stream:?} before its head");
            }
            HttpOutput::EndEvents { .. } => {
                assert_eq!(before, Some(Seen::Streaming), "an end on {stream:?} without a stream");
                self.seen.insert(stream, Seen::Ended);
            }
        }
    }

    /// Exchanges neither ended nor closed, oldest first.
    pub fn open(&self) -> Vec<StreamId> {
        self.opened
            .iter()
            .copied()
            .filter(|s| !matches!(self.seen.get(s), Some(Seen::Ended | Seen::Closed)))
            .collect()
    }

    /// The client closed `stream`.
    pub fn closed(&mut self, stream: StreamId) {
        self.seen.insert(stream, Seen::Closed);
    }

    pub fn state(&self, stream: StreamId) -> Option<Seen> {
        self.seen.get(&stream).copied()
    }
}
