//! Typed JSON-RPC envelopes around the params and result types.
//!
//! The transport works with [`crate::jsonrpc::Message`], whose `params`/`result` stay unparsed
//! until a handler owns them. These generic structs are the *typed* counterpart: a whole
//! message with its params or result parsed, as the schema's message types (`CallToolRequest`,
//! `CallToolResultResponse`, `HeaderMismatchError`, ...) describe it. They serve tests, logs,
//! fixtures and simple clients; the aliases below give them the schema's names.
//!
//! Differences from the transport types: an error response without an id omits `id` (the MCP
//! schema's form) where the transport encoder writes `"id": null` (JSON-RPC's form).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{
    EmptyResult, JsonRpcVersion, NotificationParams, PaginatedRequestParams, RequestParams,
};
use super::completion::{CompleteRequestParams, CompleteResult};
use super::discover::DiscoverResult;
use super::elicitation::ElicitationCompleteNotificationParams;
use super::errors::{
    MissingRequiredClientCapabilityData, UnsupportedProtocolVersionData, UrlElicitationRequiredData,
};
use super::lifecycle::{InitializeRequestParams, InitializeResult, SetLevelRequestParams};
use super::logging::LoggingMessageNotificationParams;
use super::methods::{McpNotification, McpRequest};
use super::mrtr::MrtrResponse;
use super::notifications::{CancelledNotificationParams, ProgressNotificationParams};
use super::prompts::{GetPromptRequestParams, GetPromptResult, ListPromptsResult};
use super::resources::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceRequestParams,
    ReadResourceResult, ResourceUpdatedNotificationParams, SubscribeRequestParams,
};
use super::subscriptions::{
    SubscriptionsAcknowledgedNotificationParams, SubscriptionsListenRequestParams,
    SubscriptionsListenResult,
};
use super::tasks::legacy::TaskStatusNotificationParams;
use super::tools::{CallToolRequestParams, CallToolResponse, ListToolsResult};
use crate::jsonrpc::{ErrorCode, RequestId};

/// A request with typed params.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonRpcRequest<P> {
    /// `"2.0"`.
    pub jsonrpc: JsonRpcVersion,
    /// The request id.
    pub id: RequestId,
    /// The method name.
    pub method: String,
    /// The params (required on every 2026-07-28 request; optional for some legacy ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<P>,
}

impl<P> JsonRpcRequest<P> {
    /// A request for method `M`.
    #[must_use]
    pub fn new<M: McpRequest<Params = P>>(id: RequestId, params: P) -> Self {
        Self {
            jsonrpc: JsonRpcVersion,
            id,
            method: M::METHOD.to_owned(),
            params: Some(params),
        }
    }
}

/// A notification with typed params.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonRpcNotification<P> {
    /// `"2.0"`.
    pub jsonrpc: JsonRpcVersion,
    /// The method name.
    pub method: String,
    /// The params.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<P>,
}

impl<P> JsonRpcNotification<P> {
    /// A notification for method `M`.
    #[must_use]
    pub fn new<M: McpNotification<Params = P>>(params: P) -> Self {
        Self {
            jsonrpc: JsonRpcVersion,
            method: M::METHOD.to_owned(),
            params: Some(params),
        }
    }
}

/// A successful response with a typed result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonRpcResultResponse<R> {
    /// `"2.0"`.
    pub jsonrpc: JsonRpcVersion,
    /// The id of the answered request.
    pub id: RequestId,
    /// The result.
    pub result: R,
}

impl<R> JsonRpcResultResponse<R> {
    /// A response to request `id`.
    #[must_use]
    pub fn new(id: RequestId, result: R) -> Self {
        Self {
            jsonrpc: JsonRpcVersion,
            id,
            result,
        }
    }
}

/// The `error` member with typed `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypedErrorObject<D> {
    /// The code.
    pub code: ErrorCode,
    /// A short description.
    pub message: String,
    /// Code-specific data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<D>,
}

/// An error response with typed `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonRpcErrorResponse<D = Value> {
    /// `"2.0"`.
    pub jsonrpc: JsonRpcVersion,
    /// The id of the answered request; absent when it could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RequestId>,
    /// The error.
    pub error: TypedErrorObject<D>,
}

/// `server/discover` request.
pub type DiscoverRequest = JsonRpcRequest<RequestParams>;
/// `tools/list` request.
pub type ListToolsRequest = JsonRpcRequest<PaginatedRequestParams>;
/// `tools/call` request.
pub type CallToolRequest = JsonRpcRequest<CallToolRequestParams>;
/// `prompts/list` request.
pub type ListPromptsRequest = JsonRpcRequest<PaginatedRequestParams>;
/// `prompts/get` request.
pub type GetPromptRequest = JsonRpcRequest<GetPromptRequestParams>;
/// `resources/list` request.
pub type ListResourcesRequest = JsonRpcRequest<PaginatedRequestParams>;
/// `resources/templates/list` request.
pub type ListResourceTemplatesRequest = JsonRpcRequest<PaginatedRequestParams>;
/// `resources/read` request.
pub type ReadResourceRequest = JsonRpcRequest<ReadResourceRequestParams>;
/// `subscriptions/listen` request.
pub type SubscriptionsListenRequest = JsonRpcRequest<SubscriptionsListenRequestParams>;
/// `completion/complete` request.
pub type CompleteRequest = JsonRpcRequest<CompleteRequestParams>;
/// Legacy `initialize` request.
pub type InitializeRequest = JsonRpcRequest<InitializeRequestParams>;
/// Legacy `ping` request.
pub type PingRequest = JsonRpcRequest<RequestParams>;
/// Legacy `logging/setLevel` request.
pub type SetLevelRequest = JsonRpcRequest<SetLevelRequestParams>;
/// Legacy `resources/subscribe` request.
pub type SubscribeRequest = JsonRpcRequest<SubscribeRequestParams>;
/// Legacy `resources/unsubscribe` request.
pub type UnsubscribeRequest = JsonRpcRequest<SubscribeRequestParams>;

/// Response to `server/discover`.
pub type DiscoverResultResponse = JsonRpcResultResponse<DiscoverResult>;
/// Response to `tools/list`.
pub type ListToolsResultResponse = JsonRpcResultResponse<ListToolsResult>;
/// Response to `tools/call` (complete, `input_required` or task).
pub type CallToolResultResponse = JsonRpcResultResponse<CallToolResponse>;
/// Response to `prompts/list`.
pub type ListPromptsResultResponse = JsonRpcResultResponse<ListPromptsResult>;
/// Response to `prompts/get` (complete or `input_required`).
pub type GetPromptResultResponse = JsonRpcResultResponse<MrtrResponse<GetPromptResult>>;
/// Response to `resources/list`.
pub type ListResourcesResultResponse = JsonRpcResultResponse<ListResourcesResult>;
/// Response to `resources/templates/list`.
pub type ListResourceTemplatesResultResponse = JsonRpcResultResponse<ListResourceTemplatesResult>;
/// Response to `resources/read` (complete or `input_required`).
pub type ReadResourceResultResponse = JsonRpcResultResponse<MrtrResponse<ReadResourceResult>>;
/// Response closing a `subscriptions/listen`.
pub type SubscriptionsListenResultResponse = JsonRpcResultResponse<SubscriptionsListenResult>;
/// Response to `completion/complete`.
pub type CompleteResultResponse = JsonRpcResultResponse<CompleteResult>;
/// Response to legacy `initialize`.
pub type InitializeResultResponse = JsonRpcResultResponse<InitializeResult>;
/// An empty response (legacy `ping`, `logging/setLevel`, ...).
pub type EmptyResultResponse = JsonRpcResultResponse<EmptyResult>;

/// `notifications/cancelled`.
pub type CancelledNotification = JsonRpcNotification<CancelledNotificationParams>;
/// `notifications/progress`.
pub type ProgressNotification = JsonRpcNotification<ProgressNotificationParams>;
/// `notifications/message`.
pub type LoggingMessageNotification = JsonRpcNotification<LoggingMessageNotificationParams>;
/// `notifications/resources/updated`.
pub type ResourceUpdatedNotification = JsonRpcNotification<ResourceUpdatedNotificationParams>;
/// `notifications/resources/list_changed`.
pub type ResourceListChangedNotification = JsonRpcNotification<NotificationParams>;
/// `notifications/tools/list_changed`.
pub type ToolListChangedNotification = JsonRpcNotification<NotificationParams>;
/// `notifications/prompts/list_changed`.
pub type PromptListChangedNotification = JsonRpcNotification<NotificationParams>;
/// `notifications/subscriptions/acknowledged`.
pub type SubscriptionsAcknowledgedNotification =
    JsonRpcNotification<SubscriptionsAcknowledgedNotificationParams>;
/// Legacy `notifications/initialized`.
pub type InitializedNotification = JsonRpcNotification<NotificationParams>;
/// Legacy `notifications/roots/list_changed`.
pub type RootsListChangedNotification = JsonRpcNotification<NotificationParams>;
/// 2025-11-25 `notifications/elicitation/complete`.
pub type ElicitationCompleteNotification =
    JsonRpcNotification<ElicitationCompleteNotificationParams>;
/// 2025-11-25 `notifications/tasks/status`.
pub type TaskStatusNotification = JsonRpcNotification<TaskStatusNotificationParams>;

/// -32020 error response (no typed data).
pub type HeaderMismatchError = JsonRpcErrorResponse<Value>;
/// -32021 error response.
pub type MissingRequiredClientCapabilityError =
    JsonRpcErrorResponse<MissingRequiredClientCapabilityData>;
/// -32022 error response.
pub type UnsupportedProtocolVersionError = JsonRpcErrorResponse<UnsupportedProtocolVersionData>;
/// 2025-11-25 -32042 error response.
pub type UrlElicitationRequiredError = JsonRpcErrorResponse<UrlElicitationRequiredData>;
