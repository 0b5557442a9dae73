//! JSON-RPC 2.0 message types, as MCP restricts them.

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use super::{ErrorCode, RawJson};

/// A request id: a string or an integer. Never `null` (MCP forbids it, and a `null` id would make
/// a request indistinguishable from a response to an unreadable request).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// An integer id. JSON-RPC allows any integer; ids outside `i64` are refused as invalid.
    Number(i64),
    /// A string id.
    String(String),
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        Self::Number(n)
    }
}

impl From<String> for RequestId {
    fn from(s: String) -> Self {
        Self::String(s)
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        Self::String(s.to_owned())
    }
}

/// A request: expects exactly one response with the same id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The id the response will carry.
    pub id: RequestId,
    /// The method name, e.g. `tools/call`.
    pub method: String,
    /// The parameters (an object or array), kept unparsed.
    pub params: Option<RawJson>,
}

/// A notification: no id, never answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The method name, e.g. `notifications/progress`.
    pub method: String,
    /// The parameters (an object or array), kept unparsed.
    pub params: Option<RawJson>,
}

/// A successful response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The id of the request this answers.
    pub id: RequestId,
    /// The result, kept unparsed.
    pub result: RawJson,
}

/// The `error` member of an error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The error code.
    pub code: ErrorCode,
    /// A short description.
    pub message: String,
    /// Extra information defined by the code (e.g. `{supported, requested}` for -32022).
    /// `Some(null)` and `None` differ, so `"data": null` survives a round trip.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub data: Option<RawJson>,
}

/// Deserializes a member that is present, keeping `null` as `Some(null)`.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<RawJson>, D::Error> {
    RawJson::deserialize(deserializer).map(Some)
}

impl ErrorObject {
    /// An error with `code` and `message` and no data.
    #[must_use]
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// An error with `code` and the code's standard message (or `"Error"` for unknown codes).
    #[must_use]
    pub fn from_code(code: ErrorCode) -> Self {
        Self::new(code, code.default_message().unwrap_or("Error"))
    }

    /// Attaches `data`, serialized to JSON.
    ///
    /// # Errors
    /// Fails only when `data`'s `Serialize` implementation fails.
    pub fn with_data<T: Serialize + ?Sized>(mut self, data: &T) -> Result<Self, serde_json::Error> {
        self.data = Some(RawJson::from_serialize(data)?);
        Ok(self)
    }
}

impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JSON-RPC error {}: {}", self.code.0, self.message)
    }
}

impl std::error::Error for ErrorObject {}

/// An error response. `id` is `None` only when the id of the offending message could not be
/// read (it is then encoded as `"id": null`, as JSON-RPC requires).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    /// The id of the request this answers, when it could be determined.
    pub id: Option<RequestId>,
    /// What went wrong.
    pub error: ErrorObject,
}

/// One JSON-RPC message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
    /// A successful response.
    Response(Response),
    /// An error response.
    Error(ErrorResponse),
}

impl Message {
    /// The method name of a request or notification.
    #[must_use]
    pub fn method(&self) -> Option<&str> {
        match self {
            Self::Request(r) => Some(&r.method),
            Self::Notification(n) => Some(&n.method),
            Self::Response(_) | Self::Error(_) => None,
        }
    }

    /// The id of a request or response (`None` for notifications and id-less errors).
    #[must_use]
    pub fn id(&self) -> Option<&RequestId> {
        match self {
            Self::Request(r) => Some(&r.id),
            Self::Response(r) => Some(&r.id),
            Self::Error(e) => e.id.as_ref(),
            Self::Notification(_) => None,
        }
    }
}

impl From<Request> for Message {
    fn from(m: Request) -> Self {
        Self::Request(m)
    }
}

impl From<Notification> for Message {
    fn from(m: Notification) -> Self {
        Self::Notification(m)
    }
}

impl From<Response> for Message {
    fn from(m: Response) -> Self {
        Self::Response(m)
    }
}

impl From<ErrorResponse> for Message {
    fn from(m: ErrorResponse) -> Self {
        Self::Error(m)
    }
}

const JSONRPC_VERSION: &str = "2.0";

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Request(r) => {
                let mut s = serializer.serialize_struct("Request", 4)?;
                s.serialize_field("jsonrpc", JSONRPC_VERSION)?;
                s.serialize_field("id", &r.id)?;
                s.serialize_field("method", &r.method)?;
                if let Some(params) = &r.params {
                    s.serialize_field("params", params)?;
                }
                s.end()
            }
            Self::Notification(n) => {
                let mut s = serializer.serialize_struct("Notification", 3)?;
                s.serialize_field("jsonrpc", JSONRPC_VERSION)?;
                s.serialize_field("method", &n.method)?;
                if let Some(params) = &n.params {
                    s.serialize_field("params", params)?;
                }
                s.end()
            }
            Self::Response(r) => {
                let mut s = serializer.serialize_struct("Response", 3)?;
                s.serialize_field("jsonrpc", JSONRPC_VERSION)?;
                s.serialize_field("id", &r.id)?;
                s.serialize_field("result", &r.result)?;
                s.end()
            }
            Self::Error(e) => {
                let mut s = serializer.serialize_struct("ErrorResponse", 3)?;
                s.serialize_field("jsonrpc", JSONRPC_VERSION)?;
                s.serialize_field("id", &e.id)?;
                s.serialize_field("error", &e.error)?;
                s.end()
            }
        }
    }
}
