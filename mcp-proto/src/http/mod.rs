//! Sans-IO HTTP header logic for the Streamable HTTP transport.
//!
//! Everything here works on raw header bytes (`&[u8]`, as handed over by
//! `http::HeaderValue::as_bytes()` or `httparse`), never panics, and bounds
//! its work by explicit limits. Fields that may repeat are taken as an
//! iterator over their lines.
//!
//! - [`accept`]: may we answer with JSON, with SSE, and which is preferred.
//! - [`content_type`]: is the request body declared as UTF-8 JSON.
//! - [`header_value`]: the 2026-07-28 `Mcp-Name` / `Mcp-Param-*` value codec.
//! - [`session_id`]: the legacy `Mcp-Session-Id` value.
//! - [`media_type`]: the RFC 9110 media-type grammar the others share.
//!
//! ```
//! use mcp_proto::http::{check_json_content_type, encode_header_value, parse_accept, SessionId};
//!
//! let acceptance = parse_accept([&b"application/json, text/event-stream"[..]]).unwrap();
//! assert!(acceptance.accepts_both());
//! assert!(check_json_content_type(b"application/json").is_ok());
//! assert_eq!(encode_header_value("tools/call"), "tools/call");
//! assert!(SessionId::parse(b"a1b2c3").is_ok());
//! ```

pub mod accept;
pub mod content_type;
pub mod header_value;
pub mod media_type;
pub mod session_id;

pub use accept::{
    ACCEPT_TABLE, AcceptError, AcceptLimits, AcceptMemberError, AcceptRow, Acceptance,
    McpMediaType, Quality, parse_accept, parse_accept_with_limits,
};
pub use content_type::{ContentTypeError, check_json_content_type, check_json_content_type_lines};
pub use header_value::{
    HeaderValueError, ParamHeaderNameError, ParamValueError, decode_header_value,
    encode_header_value, encode_param_value, header_matches, param_matches,
    validate_param_header_name,
};
pub use media_type::{MediaType, MediaTypeError, Parameter};
pub use session_id::{SessionId, SessionIdError};
