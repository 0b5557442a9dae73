//! Typed `error.data` of the MCP-defined errors, and a classification of error codes.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::capabilities::ClientCapabilities;
use super::elicitation::ElicitRequestUrlParams;
use super::tasks::TASKS_EXTENSION_ID;
use super::version::ProtocolVersion;
use crate::jsonrpc::{ErrorCode, ErrorObject};

/// `data` of -32022 `UnsupportedProtocolVersionError` (2026-07-28; HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UnsupportedProtocolVersionData {
    /// The versions the server supports; the client picks one and retries.
    pub supported: Vec<ProtocolVersion>,
    /// The version the client asked for.
    pub requested: String,
}

/// `data` of -32021 `MissingRequiredClientCapabilityError` (2026-07-28; HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingRequiredClientCapabilityData {
    /// The capabilities the request needs.
    pub required_capabilities: ClientCapabilities,
}

impl MissingRequiredClientCapabilityData {
    /// Data naming the extension `id` (declared with no settings) as the missing capability.
    #[must_use]
    pub fn extension(id: impl Into<String>) -> Self {
        Self {
            required_capabilities: ClientCapabilities::default().with_extension(id),
        }
    }

    /// The -32021 error carrying this data, with `message`.
    #[must_use]
    pub fn into_error(self, message: impl Into<String>) -> ErrorObject {
        let error = ErrorObject::new(Self::CODE, message);
        // Serializing a `ClientCapabilities` cannot fail; the data is kept when it does not.
        error.clone().with_data(&self).unwrap_or(error)
    }
}

/// The -32021 error of a request that needs the tasks extension (`io.modelcontextprotocol/tasks`,
/// SEP-2663) when the client did not declare it on that request: `tasks/get|update|cancel`, a
/// tool that runs only as a task, `subscriptions/listen` asking for `taskIds`. Its
/// `data.requiredCapabilities` is `{"extensions": {"io.modelcontextprotocol/tasks": {}}}`.
///
/// ```
/// use mcp_proto::jsonrpc::ErrorCode;
/// use mcp_proto::types::tasks_extension_required;
///
/// let error = tasks_extension_required("tasks/get needs the tasks extension");
/// assert_eq!(error.code, ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY);
/// let data: serde_json::Value = error.data.unwrap().parse().unwrap();
/// assert_eq!(
///     data,
///     serde_json::json!({"requiredCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}})
/// );
/// ```
#[must_use]
pub fn tasks_extension_required(message: impl Into<String>) -> ErrorObject {
    MissingRequiredClientCapabilityData::extension(TASKS_EXTENSION_ID).into_error(message)
}

/// `data` of -32042 `URLElicitationRequiredError` (2025-11-25 only).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UrlElicitationRequiredData {
    /// The URL-mode elicitations to complete (each with an `elicitationId`).
    pub elicitations: Vec<ElicitRequestUrlParams>,
}

/// Why typed error data could not be read from an [`ErrorObject`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorDataError {
    /// The error has another code.
    #[error("error code {found} is not {expected}")]
    WrongCode {
        /// The code the data type belongs to.
        expected: ErrorCode,
        /// The code of the error.
        found: ErrorCode,
    },
    /// The error has no `data`.
    #[error("error has no data")]
    MissingData,
    /// `data` does not have the expected shape.
    #[error("invalid error data: {0}")]
    Invalid(String),
}

/// Typed `error.data` tied to one error code.
pub trait ErrorData: Serialize + DeserializeOwned {
    /// The code this data belongs to.
    const CODE: ErrorCode;

    /// An error object with this code, `message` and `self` as `data`.
    ///
    /// # Errors
    /// Only if serialization fails, which the data types here never do.
    fn to_error_object(
        &self,
        message: impl Into<String>,
    ) -> Result<ErrorObject, serde_json::Error> {
        ErrorObject::new(Self::CODE, message).with_data(self)
    }

    /// Reads the data of `error`, checking its code.
    ///
    /// # Errors
    /// [`ErrorDataError`] for another code, absent data, or data of the wrong shape.
    fn from_error_object(error: &ErrorObject) -> Result<Self, ErrorDataError> {
        if error.code != Self::CODE {
            return Err(ErrorDataError::WrongCode {
                expected: Self::CODE,
                found: error.code,
            });
        }
        error
            .data
            .as_ref()
            .ok_or(ErrorDataError::MissingData)?
            .parse()
            .map_err(|e| ErrorDataError::Invalid(e.to_string()))
    }
}

impl ErrorData for UnsupportedProtocolVersionData {
    const CODE: ErrorCode = ErrorCode::UNSUPPORTED_PROTOCOL_VERSION;
}

impl ErrorData for MissingRequiredClientCapabilityData {
    const CODE: ErrorCode = ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY;
}

impl ErrorData for UrlElicitationRequiredData {
    const CODE: ErrorCode = ErrorCode::URL_ELICITATION_REQUIRED;
}

/// What an error code means in MCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum McpErrorKind {
    /// -32700.
    ParseError,
    /// -32600.
    InvalidRequest,
    /// -32601 (unknown method, or a capability-gated method not advertised).
    MethodNotFound,
    /// -32602 (also modern "resource not found", unknown tool/prompt/task, bad `_meta`).
    InvalidParams,
    /// -32603.
    InternalError,
    /// -32020 (2026-07-28).
    HeaderMismatch,
    /// -32021 (2026-07-28).
    MissingRequiredClientCapability,
    /// -32022 (2026-07-28).
    UnsupportedProtocolVersion,
    /// -32002 (legacy resource not found; clients still accept it).
    ResourceNotFoundLegacy,
    /// -32042 (2025-11-25 URL elicitation required).
    UrlElicitationRequired,
    /// Any other code.
    Other,
}

impl McpErrorKind {
    /// Classifies `code`.
    #[must_use]
    pub fn of(code: ErrorCode) -> Self {
        match code {
            ErrorCode::PARSE_ERROR => Self::ParseError,
            ErrorCode::INVALID_REQUEST => Self::InvalidRequest,
            ErrorCode::METHOD_NOT_FOUND => Self::MethodNotFound,
            ErrorCode::INVALID_PARAMS => Self::InvalidParams,
            ErrorCode::INTERNAL_ERROR => Self::InternalError,
            ErrorCode::HEADER_MISMATCH => Self::HeaderMismatch,
            ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY => Self::MissingRequiredClientCapability,
            ErrorCode::UNSUPPORTED_PROTOCOL_VERSION => Self::UnsupportedProtocolVersion,
            ErrorCode::RESOURCE_NOT_FOUND_LEGACY => Self::ResourceNotFoundLegacy,
            ErrorCode::URL_ELICITATION_REQUIRED => Self::UrlElicitationRequired,
            _ => Self::Other,
        }
    }

    /// True for the codes only a 2026-07-28 server emits (-32020, -32021, -32022): receiving
    /// one identifies the peer as modern during era detection.
    #[must_use]
    pub fn is_modern_only(self) -> bool {
        matches!(
            self,
            Self::HeaderMismatch
                | Self::MissingRequiredClientCapability
                | Self::UnsupportedProtocolVersion
        )
    }
}
