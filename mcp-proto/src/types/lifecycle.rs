//! The legacy (2025-11-25 and earlier) lifecycle: `initialize`, `notifications/initialized`,
//! `ping` and `logging/setLevel`. None of these exist in 2026-07-28.

use serde::{Deserialize, Serialize};

use super::capabilities::{ClientCapabilities, ServerCapabilities};
use super::common::Implementation;
use super::logging::LoggingLevel;
use super::meta::Meta;
use super::version::ProtocolVersion;

/// Params of `initialize`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeRequestParams {
    /// Request metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The newest version the client supports.
    pub protocol_version: ProtocolVersion,
    /// The client's capabilities.
    pub capabilities: ClientCapabilities,
    /// The client software.
    pub client_info: Implementation,
}

/// Result of `initialize`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeResult {
    /// Result metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The version the server chose (see [`super::version::negotiate_legacy_server`]).
    pub protocol_version: ProtocolVersion,
    /// The server's capabilities.
    pub capabilities: ServerCapabilities,
    /// The server software.
    pub server_info: Implementation,
    /// Guidance for the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}

impl InitializeRequestParams {
    /// Params asking for the newest legacy version ([`super::version::LATEST_LEGACY`]).
    #[must_use]
    pub fn new(client_info: Implementation, capabilities: ClientCapabilities) -> Self {
        Self {
            meta: None,
            protocol_version: super::version::LATEST_LEGACY,
            capabilities,
            client_info,
        }
    }
}

/// Params of `ping` (only `_meta`, and the params object itself is optional).
pub type PingRequestParams = super::common::RequestParams;

/// Params of `notifications/initialized`.
pub type InitializedNotificationParams = super::common::NotificationParams;

/// Params of `logging/setLevel` (use `_meta["io.modelcontextprotocol/logLevel"]` in
/// 2026-07-28).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetLevelRequestParams {
    /// Request metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The minimum level to send.
    pub level: LoggingLevel,
}
