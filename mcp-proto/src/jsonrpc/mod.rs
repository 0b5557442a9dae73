//! JSON-RPC 2.0 as MCP uses it: message types, a classifying decoder and a compact encoder.
//!
//! The decoder answers two questions for every body: *what is it* (request, notification,
//! response, error, or a 2025-03-26 batch) and, for bad input, *what must the receiver answer*
//! (-32700 for bytes that are not JSON, -32600 for JSON that is not a valid message, with the
//! id whenever it could be read). `params`, `result` and `error.data` stay unparsed
//! ([`RawJson`]) so routing never parses a body twice.

mod decode;
mod error_code;
mod message;
mod raw;

pub use decode::{
    DEFAULT_MAX_BATCH_LEN, DEFAULT_MAX_DEPTH, DEFAULT_MAX_MESSAGE_LEN, DecodeError,
    DecodeErrorKind, DecodeOptions, Decoded, decode, decode_message, encode, encode_batch_into,
    encode_into,
};
pub use error_code::ErrorCode;
pub use message::{
    ErrorObject, ErrorResponse, Message, Notification, Request, RequestId, Response,
};
pub use raw::RawJson;
