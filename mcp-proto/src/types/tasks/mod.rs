//! Tasks.
//!
//! This module holds the 2026-07-28 **tasks extension** (`io.modelcontextprotocol/tasks`,
//! from `modelcontextprotocol/ext-tasks`; not part of `schema.json`): a server may answer
//! `tools/call` with a [`CreateTaskResult`] (`resultType: "task"`, the task's members inline)
//! when the client declared the extension on that request; the client then polls `tasks/get`,
//! answers input requests with `tasks/update`, and may `tasks/cancel`. Status changes can
//! arrive as `notifications/tasks` on a `subscriptions/listen` stream (filter `taskIds`).
//!
//! The 2025-11-25 experimental tasks (core, different shapes: `ttl`/`pollInterval`, a nested
//! `task` in `CreateTaskResult`, `tasks/result`, `tasks/list`, `notifications/tasks/status`)
//! live in [`legacy`]. Both generations share [`TaskStatus`] and the `{taskId}` params.

pub mod legacy;

use serde::{Deserialize, Serialize};

use super::common::{JsonObject, ResultType, nullable};
use super::meta::Meta;
use super::mrtr::{InputRequests, InputResponse};

/// The extension identifier, as a key of `capabilities.extensions`.
pub const TASKS_EXTENSION_ID: &str = "io.modelcontextprotocol/tasks";

/// The status of a task (same values in the extension and in 2025-11-25).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Being processed.
    #[default]
    Working,
    /// Waiting for input from the client.
    InputRequired,
    /// Finished; the result is available (also for tool results with `isError: true`).
    Completed,
    /// Failed with a JSON-RPC error.
    Failed,
    /// Cancelled before completion.
    Cancelled,
}

impl TaskStatus {
    /// True for `completed`, `failed` and `cancelled`.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// The state of a task (extension shape).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// The server-generated identifier.
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
    pub ttl_ms: Option<u64>,
    /// Suggested polling interval in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_interval_ms: Option<u64>,
}

/// The answer to a task-augmented request: `resultType: "task"` plus the task members inline
/// (`Result & Task`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTaskResult {
    /// Result metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `"task"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// The seed state of the task.
    #[serde(flatten)]
    pub task: Task,
}

impl CreateTaskResult {
    /// A `resultType: "task"` result for `task`.
    #[must_use]
    pub fn new(task: Task) -> Self {
        Self {
            meta: None,
            result_type: Some(ResultType::Task),
            task,
        }
    }
}

/// Params naming one task: `tasks/get`, `tasks/cancel` (both generations) and the legacy
/// `tasks/result`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskIdParams {
    /// Request metadata (required on modern requests).
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The task.
    pub task_id: String,
}

/// Params of `tasks/get`.
pub type GetTaskRequestParams = TaskIdParams;
/// Params of `tasks/cancel`.
pub type CancelTaskRequestParams = TaskIdParams;

/// Params of the extension's `tasks/update`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTaskRequestParams {
    /// Request metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The task.
    pub task_id: String,
    /// Responses to outstanding `inputRequests`, by key, as sent: the server SHOULD ignore
    /// unknown or already answered keys, whatever they hold, so each value is parsed (with
    /// [`UpdateTaskRequestParams::response`]) only under a key the task waits for.
    pub input_responses: JsonObject,
}

impl UpdateTaskRequestParams {
    /// The response under `key`, typed: `None` when absent, an error when it is not an
    /// elicitation, sampling or roots result.
    ///
    /// # Errors
    /// The decoding error of a value that is no input response.
    pub fn response(&self, key: &str) -> Option<Result<InputResponse, serde_json::Error>> {
        self.input_responses
            .get(key)
            .map(|value| serde_json::from_value(value.clone()))
    }
}

/// Result of the extension's `tasks/get` (`resultType: "complete"`): the task with its
/// status-specific member inline (`DetailedTask`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTaskResult {
    /// Result metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `"complete"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// The task.
    #[serde(flatten)]
    pub task: Task,
    /// Outstanding input requests (status `input_required`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<InputRequests>,
    /// The final result (status `completed`), e.g. a `CallToolResult`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<JsonObject>,
    /// The JSON-RPC error (status `failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<JsonObject>,
}

impl GetTaskResult {
    /// True when the status-specific member is present: `inputRequests` for
    /// `input_required`, `result` for `completed`, `error` for `failed`.
    #[must_use]
    pub fn is_consistent(&self) -> bool {
        match self.task.status {
            TaskStatus::InputRequired => self.input_requests.is_some(),
            TaskStatus::Completed => self.result.is_some(),
            TaskStatus::Failed => self.error.is_some(),
            TaskStatus::Working | TaskStatus::Cancelled => true,
        }
    }
}

/// Result of the extension's `tasks/update` (an empty ack).
pub type UpdateTaskResult = super::common::EmptyResult;
/// Result of the extension's `tasks/cancel` (an empty ack; cancellation is cooperative).
pub type CancelTaskResult = super::common::EmptyResult;

/// Params of the extension's `notifications/tasks`: the full task, as `tasks/get` would return
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskNotificationParams {
    /// Notification metadata (carries `subscriptionId`).
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The task.
    #[serde(flatten)]
    pub task: Task,
    /// Outstanding input requests (status `input_required`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<InputRequests>,
    /// The final result (status `completed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<JsonObject>,
    /// The JSON-RPC error (status `failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<JsonObject>,
}

impl_result!(CreateTaskResult, GetTaskResult);
