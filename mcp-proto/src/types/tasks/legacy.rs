//! The 2025-11-25 experimental tasks (core in that revision; replaced by the tasks extension).
//!
//! Differences from the extension: `ttl`/`pollInterval` instead of `ttlMs`/`pollIntervalMs`,
//! `CreateTaskResult` nests the task under `task`, `tasks/get` and `tasks/cancel` return the
//! bare task, `tasks/result` and `tasks/list` exist, status changes arrive as
//! `notifications/tasks/status`, requests opt in with a `task` param, and tasks may run in
//! both directions.

use serde::{Deserialize, Serialize};

use super::super::common::{Cursor, JsonObject, nullable};
use super::super::meta::Meta;
pub use super::{TaskIdParams, TaskStatus};

/// The state of a task (2025-11-25 shape).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// The identifier.
    pub task_id: String,
    /// Current status.
    pub status: TaskStatus,
    /// Human-readable description of the state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// ISO 8601 creation time.
    pub created_at: String,
    /// ISO 8601 time of the last update.
    pub last_updated_at: String,
    /// Retention from creation in ms; `null` (None) for unlimited. Required member.
    #[serde(deserialize_with = "nullable")]
    pub ttl: Option<u64>,
    /// Suggested polling interval in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_interval: Option<u64>,
}

/// The `task` param of a task-augmented request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TaskMetadata {
    /// Requested retention in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
}

/// The value of `_meta["io.modelcontextprotocol/related-task"]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedTaskMetadata {
    /// The related task.
    pub task_id: String,
}

/// The answer to a task-augmented request: `{task: {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CreateTaskResult {
    /// Result metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The new task.
    pub task: Task,
}

/// Result of `tasks/get` and `tasks/cancel`: the task, inline.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GetTaskResult {
    /// Result metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The task.
    #[serde(flatten)]
    pub task: Task,
}

/// Result of `tasks/cancel` (the task, now `cancelled`).
pub type CancelTaskResult = GetTaskResult;

/// Params of `tasks/get`.
pub type GetTaskRequestParams = TaskIdParams;
/// Params of `tasks/result`.
pub type GetTaskPayloadRequestParams = TaskIdParams;
/// Params of `tasks/cancel`.
pub type CancelTaskRequestParams = TaskIdParams;
/// Params of `tasks/list`.
pub type ListTasksRequestParams = super::super::common::PaginatedRequestParams;

/// Result of `tasks/result`: exactly the underlying request's result (e.g. a
/// `CallToolResult`), kept as a JSON object for the caller to parse.
pub type GetTaskPayloadResult = JsonObject;

/// Result of `tasks/list`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTasksResult {
    /// Result metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The tasks on this page.
    pub tasks: Vec<Task>,
    /// Present when more pages may follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Cursor>,
}

/// Params of `notifications/tasks/status`: the task, inline.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TaskStatusNotificationParams {
    /// Notification metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The task.
    #[serde(flatten)]
    pub task: Task,
}

/// Client `tasks` capability (2025-11-25).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClientTasksCapability {
    /// Supports `tasks/list`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<JsonObject>,
    /// Supports `tasks/cancel`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel: Option<JsonObject>,
    /// Which requests may be task-augmented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<ClientTaskRequests>,
}

/// Client task-augmentable requests.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClientTaskRequests {
    /// `sampling/*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampling: Option<SamplingTaskRequests>,
    /// `elicitation/*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elicitation: Option<ElicitationTaskRequests>,
}

/// `sampling/createMessage` as a task.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SamplingTaskRequests {
    /// Supported when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_message: Option<JsonObject>,
}

/// `elicitation/create` as a task.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ElicitationTaskRequests {
    /// Supported when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create: Option<JsonObject>,
}

/// Server `tasks` capability (2025-11-25).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServerTasksCapability {
    /// Supports `tasks/list`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<JsonObject>,
    /// Supports `tasks/cancel`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel: Option<JsonObject>,
    /// Which requests may be task-augmented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<ServerTaskRequests>,
}

/// Server task-augmentable requests.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServerTaskRequests {
    /// `tools/*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<ToolsTaskRequests>,
}

/// `tools/call` as a task.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ToolsTaskRequests {
    /// Supported when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<JsonObject>,
}
