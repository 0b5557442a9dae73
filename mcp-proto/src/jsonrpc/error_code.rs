//! JSON-RPC and MCP error codes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A JSON-RPC `error.code`.
///
/// Any integer is representable, because peers may send application-defined codes; the constants
/// name the ones JSON-RPC 2.0 and MCP define.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ErrorCode(pub i64);

impl ErrorCode {
    /// -32700: the bytes were not valid JSON.
    pub const PARSE_ERROR: Self = Self(-32700);
    /// -32600: valid JSON, but not a valid JSON-RPC message.
    pub const INVALID_REQUEST: Self = Self(-32600);
    /// -32601: unknown method, or a method behind a capability that was not advertised.
    pub const METHOD_NOT_FOUND: Self = Self(-32601);
    /// -32602: invalid parameters (also: modern "resource not found", missing `_meta` fields).
    pub const INVALID_PARAMS: Self = Self(-32602);
    /// -32603: internal error.
    pub const INTERNAL_ERROR: Self = Self(-32603);
    /// -32020 (2026-07-28): HTTP headers missing, malformed or not matching the body.
    pub const HEADER_MISMATCH: Self = Self(-32020);
    /// -32021 (2026-07-28): the request needs a client capability the client did not declare.
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: Self = Self(-32021);
    /// -32022 (2026-07-28): the server does not implement the requested protocol version.
    pub const UNSUPPORTED_PROTOCOL_VERSION: Self = Self(-32022);
    /// -32002 (legacy only): resource not found. Modern servers must not emit it; clients still
    /// accept it from legacy servers.
    pub const RESOURCE_NOT_FOUND_LEGACY: Self = Self(-32002);
    /// -32042 (2025-11-25 only): URL-mode elicitation required.
    pub const URL_ELICITATION_REQUIRED: Self = Self(-32042);

    /// The standard message for a known code, or `None` for other codes.
    #[must_use]
    pub const fn default_message(self) -> Option<&'static str> {
        Some(match self.0 {
            -32700 => "Parse error",
            -32600 => "Invalid Request",
            -32601 => "Method not found",
            -32602 => "Invalid params",
            -32603 => "Internal error",
            -32020 => "Header mismatch",
            -32021 => "Missing required client capability",
            -32022 => "Unsupported protocol version",
            -32002 => "Resource not found",
            -32042 => "URL elicitation required",
            _ => return None,
        })
    }

    /// True for codes in the range JSON-RPC reserves for itself and MCP (-32768..=-32000).
    #[must_use]
    pub const fn is_reserved(self) -> bool {
        self.0 >= -32768 && self.0 <= -32000
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.default_message() {
            Some(message) => write!(f, "{} ({message})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}
