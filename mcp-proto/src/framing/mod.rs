//! Byte-level framing of MCP messages, for the two standard transports.
//!
//! - [`lines`]: the stdio transport, one JSON-RPC message per newline-terminated line.
//! - [`sse`]: the Streamable HTTP transport's Server-Sent Events streams.
//!
//! Both decoders work the same way. The caller owns the buffer of received bytes and passes
//! it to `decode`; the result says how many bytes from the front it consumed and either
//! carries one complete item or says more input is needed. Errors are about what the peer
//! sent, consume nothing, and are not fatal: calling `decode` again skips the offending
//! message and carries on with the next one. At end of input `finish` reports a message the
//! peer left unfinished. Memory stays bounded by the limits given to each decoder, both in the
//! decoder and in the caller's buffer.
//!
//! # Example
//!
//! ```
//! use mcp_proto::framing::{LineDecodeError, LineDecoder, LineLimits, LineStatus};
//!
//! let mut decoder = LineDecoder::with_limits(LineLimits::with_max_line_len(16));
//! let mut buf = b"{\"a\":1}\r\n{\"too\":\"long for the limit\"}\n{}".to_vec();
//! let mut results = Vec::new();
//! loop {
//!     match decoder.decode(&buf) {
//!         Ok(LineStatus::Line { line, consumed }) => {
//!             results.push(Ok(String::from_utf8_lossy(line).into_owned()));
//!             buf.drain(..consumed);
//!         }
//!         Ok(LineStatus::NeedMore { consumed }) => {
//!             buf.drain(..consumed);
//!             break; // a real caller now reads more input
//!         }
//!         Err(error) => results.push(Err(error)),
//!     }
//! }
//! assert_eq!(
//!     results,
//!     [
//!         Ok("{\"a\":1}".to_owned()),
//!         Err(LineDecodeError::LineTooLong { max: 16 }),
//!     ]
//! );
//! // The input ends with `{}` but no newline.
//! assert_eq!(
//!     decoder.finish(&buf),
//!     Err(LineDecodeError::TruncatedLine { len: 2 })
//! );
//! ```

pub mod lines;
pub mod sse;

pub use lines::{
    LineDecodeError, LineDecoder, LineEncodeError, LineLimits, LineStatus, encode_line,
    encode_line_with_limits,
};
pub use sse::{
    SseDecodeError, SseDecoder, SseEncodeError, SseEvent, SseItem, SseLimits, SseStatus,
    encode_comment,
};
