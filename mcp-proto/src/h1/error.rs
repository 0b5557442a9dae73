//! The single error type of the HTTP/1.1 codec.

use http::StatusCode;

/// Everything that can go wrong while parsing or encoding HTTP/1.1.
///
/// Most variants are the **peer's** fault: it sent bytes that this codec
/// refuses. For those, [`H1Error::status`] gives the status a server should
/// answer with (then it should close the connection, because the framing of
/// anything after the bad message can no longer be trusted). A client that
/// gets one of these from a response simply drops the connection.
///
/// The variants whose names start with `Outgoing` are the **local caller's**
/// fault: it asked an encoder to write a message that cannot be written.
/// [`H1Error::is_peer_fault`] tells the two groups apart, and
/// [`H1Error::status`] maps the local ones to `500 Internal Server Error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum H1Error {
    /// The peer sent a message head (start line, header fields and the empty
    /// line) longer than [`Limits::max_head_bytes`](super::Limits::max_head_bytes). → 431.
    #[error("message head is longer than {limit} bytes")]
    HeadTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// The peer sent more header fields than
    /// [`Limits::max_headers`](super::Limits::max_headers). → 431.
    #[error("message head has more than {limit} header fields")]
    TooManyHeaders {
        /// The limit in force.
        limit: usize,
    },
    /// The peer sent a head that is not valid HTTP/1.x syntax (bad start line,
    /// bad token, bad field line, invalid request target...). → 400.
    #[error("malformed message head: {reason}")]
    MalformedHead {
        /// What was wrong, for logs.
        reason: &'static str,
    },
    /// The peer spoke an HTTP version other than 1.0 or 1.1. → 505.
    #[error("unsupported HTTP version; only HTTP/1.0 and HTTP/1.1 are spoken")]
    UnsupportedVersion,
    /// The peer sent an HTTP/1.1 request with no `Host` field or with more
    /// than one (RFC 9112 §3.2 requires exactly one). → 400.
    #[error("HTTP/1.1 request must carry exactly one Host header field")]
    InvalidHost,
    /// The peer sent a `Content-Length` that is not a plain decimal number
    /// fitting in 64 bits. → 400.
    #[error("invalid Content-Length")]
    InvalidContentLength,
    /// The peer sent several `Content-Length` values that disagree. → 400.
    #[error("conflicting Content-Length values")]
    ConflictingContentLength,
    /// The peer sent both `Transfer-Encoding` and `Content-Length`. The two
    /// framings could be read differently by intermediaries (request
    /// smuggling), so the message is refused rather than resolved. → 400.
    #[error("both Transfer-Encoding and Content-Length are present")]
    ContentLengthWithTransferEncoding,
    /// The peer sent a request whose `Transfer-Encoding` does not end in
    /// `chunked`, so its body length cannot be determined (RFC 9112 §6.3). → 400.
    #[error("request Transfer-Encoding does not end in chunked")]
    TransferEncodingNotChunked,
    /// The peer sent `Transfer-Encoding` in an HTTP/1.0 message, whose framing
    /// RFC 9112 §6.1 says must be treated as faulty. → 400.
    #[error("Transfer-Encoding in an HTTP/1.0 message")]
    TransferEncodingInHttp10,
    /// The peer sent a `Transfer-Encoding` field that is empty or applies
    /// `chunked` more than once. → 400.
    #[error("invalid Transfer-Encoding: {reason}")]
    InvalidTransferEncoding {
        /// What was wrong, for logs.
        reason: &'static str,
    },
    /// The peer used a transfer coding other than `chunked` (e.g.
    /// `gzip, chunked`); this codec does not decompress. → 501.
    #[error("unsupported transfer coding")]
    UnsupportedTransferCoding,
    /// The peer sent (or declared) a body longer than
    /// [`Limits::max_body_bytes`](super::Limits::max_body_bytes). → 413.
    #[error("body is longer than {limit} bytes")]
    BodyTooLarge {
        /// The limit in force.
        limit: u64,
    },
    /// The peer sent bad chunked framing: a chunk-size that is not hex, an
    /// empty chunk-size, a missing CRLF, a control byte... → 400.
    #[error("invalid chunked encoding: {reason}")]
    InvalidChunk {
        /// What was wrong, for logs.
        reason: &'static str,
    },
    /// The peer sent a chunk-size that does not fit in 64 bits. → 400.
    #[error("chunk size does not fit in 64 bits")]
    ChunkSizeOverflow,
    /// The peer sent a chunk-size line (size plus extensions) longer than
    /// [`Limits::max_chunk_line_bytes`](super::Limits::max_chunk_line_bytes). → 400.
    #[error("chunk-size line is longer than {limit} bytes")]
    ChunkLineTooLong {
        /// The limit in force.
        limit: usize,
    },
    /// The peer sent a trailer section longer than
    /// [`Limits::max_trailer_bytes`](super::Limits::max_trailer_bytes). → 431.
    #[error("trailer section is longer than {limit} bytes")]
    TrailersTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// The peer closed the connection before a `Content-Length` or chunked
    /// body was complete. → 400 (there is rarely anyone left to answer).
    #[error("connection closed before the end of the body")]
    UnexpectedEof,
    /// Local: a request given to the encoder has no `Host` header field. → 500.
    #[error("outgoing request has no Host header field")]
    OutgoingMissingHost,
    /// Local: a header value given to the encoder contains CR, LF or NUL,
    /// which would let it inject lines into the head. → 500.
    #[error("outgoing header {name} has a value containing CR, LF or NUL")]
    OutgoingHeaderValueLineBreak {
        /// The name of the offending header field.
        name: String,
    },
    /// Local: the message given to the encoder has a version other than
    /// HTTP/1.0 or HTTP/1.1. → 500.
    #[error("outgoing message version is not HTTP/1.0 or HTTP/1.1")]
    OutgoingUnsupportedVersion,
    /// Local: the framing given to the encoder cannot be used for this
    /// message (e.g. `UntilClose` on a request, `Chunked` on HTTP/1.0, a body
    /// on a 204). → 500.
    #[error("outgoing framing not allowed: {reason}")]
    OutgoingFramingNotAllowed {
        /// Why, for logs.
        reason: &'static str,
    },
}

impl H1Error {
    /// The response status a server should send when this error happens
    /// while reading a request (500 for the local-fault `Outgoing*` errors).
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::HeadTooLarge { .. }
            | Self::TooManyHeaders { .. }
            | Self::TrailersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::MalformedHead { .. }
            | Self::InvalidHost
            | Self::InvalidContentLength
            | Self::ConflictingContentLength
            | Self::ContentLengthWithTransferEncoding
            | Self::TransferEncodingNotChunked
            | Self::TransferEncodingInHttp10
            | Self::InvalidTransferEncoding { .. }
            | Self::InvalidChunk { .. }
            | Self::ChunkSizeOverflow
            | Self::ChunkLineTooLong { .. }
            | Self::UnexpectedEof => StatusCode::BAD_REQUEST,
            Self::UnsupportedVersion => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            Self::UnsupportedTransferCoding => StatusCode::NOT_IMPLEMENTED,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::OutgoingMissingHost
            | Self::OutgoingHeaderValueLineBreak { .. }
            | Self::OutgoingUnsupportedVersion
            | Self::OutgoingFramingNotAllowed { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// `true` when the peer sent something refused; `false` when the local
    /// caller asked an encoder for something impossible.
    #[must_use]
    pub fn is_peer_fault(&self) -> bool {
        !matches!(
            self,
            Self::OutgoingMissingHost
                | Self::OutgoingHeaderValueLineBreak { .. }
                | Self::OutgoingUnsupportedVersion
                | Self::OutgoingFramingNotAllowed { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping() {
        let rows: &[(&str, H1Error, u16, bool)] = &[
            (
                "head too large",
                H1Error::HeadTooLarge { limit: 1 },
                431,
                true,
            ),
            (
                "too many headers",
                H1Error::TooManyHeaders { limit: 1 },
                431,
                true,
            ),
            (
                "malformed",
                H1Error::MalformedHead { reason: "x" },
                400,
                true,
            ),
            ("version", H1Error::UnsupportedVersion, 505, true),
            ("host", H1Error::InvalidHost, 400, true),
            ("bad length", H1Error::InvalidContentLength, 400, true),
            (
                "conflicting length",
                H1Error::ConflictingContentLength,
                400,
                true,
            ),
            (
                "te+cl",
                H1Error::ContentLengthWithTransferEncoding,
                400,
                true,
            ),
            (
                "te not chunked",
                H1Error::TransferEncodingNotChunked,
                400,
                true,
            ),
            ("te in 1.0", H1Error::TransferEncodingInHttp10, 400, true),
            (
                "bad te",
                H1Error::InvalidTransferEncoding { reason: "x" },
                400,
                true,
            ),
            (
                "unsupported coding",
                H1Error::UnsupportedTransferCoding,
                501,
                true,
            ),
            (
                "body too large",
                H1Error::BodyTooLarge { limit: 1 },
                413,
                true,
            ),
            (
                "bad chunk",
                H1Error::InvalidChunk { reason: "x" },
                400,
                true,
            ),
            ("chunk overflow", H1Error::ChunkSizeOverflow, 400, true),
            (
                "chunk line",
                H1Error::ChunkLineTooLong { limit: 1 },
                400,
                true,
            ),
            (
                "trailers",
                H1Error::TrailersTooLarge { limit: 1 },
                431,
                true,
            ),
            ("eof", H1Error::UnexpectedEof, 400, true),
            ("no host out", H1Error::OutgoingMissingHost, 500, false),
            (
                "crlf out",
                H1Error::OutgoingHeaderValueLineBreak { name: "x".into() },
                500,
                false,
            ),
            (
                "version out",
                H1Error::OutgoingUnsupportedVersion,
                500,
                false,
            ),
            (
                "framing out",
                H1Error::OutgoingFramingNotAllowed { reason: "x" },
                500,
                false,
            ),
        ];
        for (name, error, status, peer) in rows {
            assert_eq!(error.status().as_u16(), *status, "{name}");
            assert_eq!(error.is_peer_fault(), *peer, "{name}");
            assert!(!error.to_string().is_empty(), "{name}");
        }
    }
}
