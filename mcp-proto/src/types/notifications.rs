//! Utility notifications: progress and cancellation.

use serde::{Deserialize, Serialize};
use serde_json::Number;

use super::common::ProgressToken;
use super::meta::Meta;
use crate::jsonrpc::RequestId;

/// Params of `notifications/progress`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressNotificationParams {
    /// Notification metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The token from the request's `_meta.progressToken`.
    pub progress_token: ProgressToken,
    /// Progress so far; MUST increase with each notification. A JSON number (`50` stays `50`).
    pub progress: Number,
    /// Total, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Number>,
    /// Human-readable progress message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Params of `notifications/cancelled`.
///
/// `requestId` is required in 2026-07-28 but optional in 2025-11-25 (where task-augmented
/// requests are cancelled with `tasks/cancel` instead); one type serves both, so it is
/// optional here.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelledNotificationParams {
    /// Notification metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The request to cancel (or, from a server, the `subscriptions/listen` it tears down).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
