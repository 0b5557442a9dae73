//! A Sans-IO HTTP/1.1 codec: heads, body framing, bodies and connection
//! reuse, over buffers the caller owns.
//!
//! Nothing here reads a socket, looks at a clock or spawns a task. The
//! runtime adapters read bytes into their own buffer, hand it to these
//! functions, drop the `consumed` bytes they are told about, and write the
//! bytes the encoders append. Parsers follow the `httparse` style: they
//! answer complete (with a `consumed` count), incomplete (`None` /
//! [`BodyStatus::NeedMore`]: read more and call again), or a typed
//! [`H1Error`]. Every amount a peer can make the codec read is bounded by
//! [`Limits`].
//!
//! # A server exchange
//!
//! ```
//! use mcp_proto::h1::{
//!     encode_response_head, keep_alive, parse_request_head, request_body_framing,
//!     BodyDecoder, BodyFraming, BodyStatus, Limits,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let limits = Limits::default();
//! let received: &[u8] = b"POST /mcp HTTP/1.1\r\nHost: example.com\r\n\
//!     Transfer-Encoding: chunked\r\n\r\n\
//!     7\r\n{\"id\":1\r\n1\r\n}\r\n0\r\n\r\n";
//!
//! // 1. The head. `None` would mean: read more bytes and try again.
//! let (request, head_len) = parse_request_head(received, &limits)?.ok_or("incomplete")?;
//! assert_eq!(request.uri(), "/mcp");
//! let mut buf = &received[head_len..];
//!
//! // 2. The body, decoded in place: each `data` is a slice of `buf`.
//! let framing = request_body_framing(&request)?;
//! assert_eq!(framing, BodyFraming::Chunked);
//! let mut decoder = BodyDecoder::new(framing, &limits);
//! let mut body = Vec::new();
//! loop {
//!     let status = decoder.decode(buf)?;
//!     if let BodyStatus::Data { data, .. } = status {
//!         body.extend_from_slice(data);
//!     }
//!     buf = &buf[status.consumed()..];
//!     match status {
//!         BodyStatus::Data { .. } => continue,
//!         BodyStatus::End { .. } => break,
//!         BodyStatus::NeedMore { .. } => return Err("a socket read goes here".into()),
//!     }
//! }
//! assert_eq!(body, br#"{"id":1}"#);
//! assert!(buf.is_empty(), "a pipelined request would start here");
//!
//! // 3. The response: head from the encoder, body written raw after it.
//! let reply = br#"{"jsonrpc":"2.0","id":1,"result":{}}"#;
//! let response = http::Response::builder()
//!     .header("content-type", "application/json")
//!     .body(())?;
//! let mut out = Vec::new();
//! encode_response_head(&response, BodyFraming::Length(reply.len() as u64), &mut out)?;
//! out.extend_from_slice(reply);
//! assert!(out.starts_with(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 36\r\n\r\n"));
//! assert!(keep_alive(request.version(), request.headers()));
//! # Ok(())
//! # }
//! ```
//!
//! # Pipelining
//!
//! A client may send several requests without waiting for the responses.
//! Nothing here reads past the message it was asked about: after a head's
//! `consumed` bytes and the body decoder's [`BodyStatus::End`], whatever is
//! left in the caller's buffer is the start of the next request. The caller
//! keeps it, answers the current request, and only then parses the next one,
//! so the responses go out in request order as HTTP/1.1 requires.
//!
//! # Choices made
//!
//! - Conflicting framing is refused, never resolved: `Transfer-Encoding`
//!   with `Content-Length`, differing `Content-Length` values, or
//!   `Transfer-Encoding` on HTTP/1.0 end the exchange with a 400. Identical
//!   repeated `Content-Length` values are accepted (RFC 9110 §8.6).
//! - A request `Transfer-Encoding` not ending in `chunked` (e.g. `gzip`) is
//!   400, since its length is unknowable; `gzip, chunked` is 501, since only
//!   `chunked` is supported.
//! - Chunked framing is strict about CRLF: a bare LF is a 400.
//! - Encoders own the framing headers and overwrite the caller's.

mod body;
mod conn;
mod encode;
mod error;
mod framing;
mod head;
mod limits;

pub use body::{BodyDecoder, BodyStatus};
pub use conn::{CONTINUE_RESPONSE, expects_continue, keep_alive};
pub use encode::{encode_chunk, encode_last_chunk, encode_request_head, encode_response_head};
pub use error::H1Error;
pub use framing::{BodyFraming, request_body_framing, response_body_framing};
pub use head::{parse_request_head, parse_response_head};
pub use limits::Limits;
