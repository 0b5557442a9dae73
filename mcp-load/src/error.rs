//! Typed errors: [`LoadError`] ends a run; [`CallError`] is one failed call, counted by
//! [`ErrorTally`] and reported.

use std::collections::BTreeMap;

use mcp_proto::framing::{LineDecodeError, SseDecodeError};
use mcp_proto::h1::H1Error;

/// Why a run could not be made or finished.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The command line is wrong.
    #[error("{0}")]
    Usage(String),
    /// The target URL cannot be used.
    #[error("bad URL {url:?}: {reason}")]
    Url {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A socket, pipe, process or file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// `/proc` did not have what was expected.
    #[error("cannot read {path}: {reason}")]
    Proc {
        /// The file.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The server answered the preflight call or handshake wrongly: nothing can be measured.
    #[error("the server cannot be measured: {0}")]
    Preflight(CallError),
    /// A result file line is not a record this tool wrote.
    #[error("{path}:{line}: not a result record: {reason}")]
    Record {
        /// The file.
        path: String,
        /// The line number (1-based).
        line: usize,
        /// The parse error.
        reason: String,
    },
}

impl LoadError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// One failed call (or handshake step). The [`CallError::kind`] groups them in reports.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The connection or pipe failed.
    #[error("I/O: {0}")]
    Io(String),
    /// No answer within the call timeout.
    #[error("no answer within {0} ms")]
    Timeout(u128),
    /// The peer closed the connection or pipe before answering.
    #[error("closed by the server before the answer")]
    Closed,
    /// The HTTP response could not be parsed.
    #[error("HTTP: {0}")]
    Http(H1Error),
    /// A status other than the one expected.
    #[error("HTTP status {status}: {excerpt}")]
    Status {
        /// The status.
        status: u16,
        /// The start of the body.
        excerpt: String,
    },
    /// A `Content-Type` that is neither JSON nor SSE.
    #[error("unexpected content type {0:?}")]
    ContentType(String),
    /// An SSE body the decoder refused.
    #[error("SSE: {0}")]
    Sse(SseDecodeError),
    /// A stdio line the decoder refused.
    #[error("line: {0}")]
    Line(LineDecodeError),
    /// The body is not the JSON-RPC message expected.
    #[error("malformed reply: {0}")]
    Malformed(String),
    /// A JSON-RPC error answered the call.
    #[error("JSON-RPC error {code}: {message}")]
    JsonRpc {
        /// The error code.
        code: i64,
        /// The error message.
        message: String,
    },
    /// The answer carries another id than the request.
    #[error("answer id {got} to request {expected}")]
    WrongId {
        /// The id sent.
        expected: u64,
        /// The id received (as JSON text).
        got: String,
    },
    /// The echo's text is not the message sent.
    #[error("echo text {got:?} for message {expected:?}")]
    WrongText {
        /// The message sent.
        expected: String,
        /// The text received (its start).
        got: String,
    },
    /// The tool result says `isError: true`.
    #[error("tool error: {0}")]
    ToolError(String),
    /// The response ended without an answer to the request.
    #[error("the response ended without the answer")]
    NoAnswer,
    /// The server sent a request of its own, which a load client does not serve.
    #[error("unexpected server request {0:?}")]
    ServerRequest(String),
    /// The handshake did not go as the protocol says.
    #[error("handshake: {0}")]
    Handshake(String),
}

impl CallError {
    /// A short, stable name for the kind of failure (the report's grouping key).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Io(_) => "io",
            Self::Timeout(_) => "timeout",
            Self::Closed => "closed",
            Self::Http(_) => "http-parse",
            Self::Status { .. } => "http-status",
            Self::ContentType(_) => "content-type",
            Self::Sse(_) => "sse",
            Self::Line(_) => "line",
            Self::Malformed(_) => "malformed",
            Self::JsonRpc { .. } => "jsonrpc-error",
            Self::WrongId { .. } => "wrong-id",
            Self::WrongText { .. } => "wrong-text",
            Self::ToolError(_) => "tool-error",
            Self::NoAnswer => "no-answer",
            Self::ServerRequest(_) => "server-request",
            Self::Handshake(_) => "handshake",
        }
    }

    /// Whether the connection can no longer be used after this failure (its framing state is
    /// unknown or it is gone).
    #[must_use]
    pub fn breaks_connection(&self) -> bool {
        matches!(
            self,
            Self::Io(_) | Self::Timeout(_) | Self::Closed | Self::Http(_)
        )
    }

    pub(crate) fn io(error: &std::io::Error) -> Self {
        match error.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Self::Timeout(0),
            std::io::ErrorKind::UnexpectedEof => Self::Closed,
            _ => Self::Io(error.to_string()),
        }
    }
}

/// The most distinct error messages kept as samples.
pub const MAX_SAMPLES: usize = 8;

/// Failed calls counted by kind, with the first few messages kept as samples (bounded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorTally {
    /// Failures per [`CallError::kind`].
    pub by_kind: BTreeMap<String, u64>,
    /// The first distinct messages, at most [`MAX_SAMPLES`].
    pub samples: Vec<String>,
}

impl ErrorTally {
    /// Counts one failure.
    pub fn add(&mut self, error: &CallError) {
        *self.by_kind.entry(error.kind().to_owned()).or_default() += 1;
        if self.samples.len() < MAX_SAMPLES {
            let text = error.to_string();
            if !self.samples.contains(&text) {
                self.samples.push(text);
            }
        }
    }

    /// Adds another tally's counts and samples.
    pub fn merge(&mut self, other: &Self) {
        for (kind, count) in &other.by_kind {
            *self.by_kind.entry(kind.clone()).or_default() += count;
        }
        for sample in &other.samples {
            if self.samples.len() >= MAX_SAMPLES {
                break;
            }
            if !self.samples.contains(sample) {
                self.samples.push(sample.clone());
            }
        }
    }

    /// All failures counted.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.by_kind.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_counts_by_kind_and_keeps_bounded_distinct_samples() {
        let mut tally = ErrorTally::default();
        for i in 0..20 {
            tally.add(&CallError::WrongId {
                expected: i,
                got: "0".into(),
            });
        }
        tally.add(&CallError::Closed);
        tally.add(&CallError::Closed);
        assert_eq!(tally.total(), 22);
        assert_eq!(tally.by_kind["wrong-id"], 20);
        assert_eq!(tally.by_kind["closed"], 2);
        assert_eq!(tally.samples.len(), MAX_SAMPLES);
        let mut other = ErrorTally::default();
        other.add(&CallError::NoAnswer);
        tally.merge(&other);
        assert_eq!(tally.total(), 23);
        assert_eq!(tally.by_kind["no-answer"], 1);
    }
}
