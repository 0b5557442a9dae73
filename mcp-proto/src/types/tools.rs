//! Tools: `tools/list`, `tools/call` and their results.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::common::{CacheScope, Cursor, Icon, JsonObject, ResultType, present_value};
use super::content::ContentBlock;
use super::meta::Meta;
use super::mrtr::{InputRequiredResult, InputResponses};
use super::tasks::CreateTaskResult;
use super::tasks::legacy::TaskMetadata;

/// A tool the client can call.
///
/// `execution` exists only in 2025-11-25 (legacy tasks); it is optional, so one type serves
/// both eras.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// Programmatic name (SHOULD be 1-128 of `[A-Za-z0-9_.-]`).
    pub name: String,
    /// Display name (precedence: `title`, `annotations.title`, `name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the tool does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Icons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// JSON Schema of the arguments; its root MUST have `"type": "object"` (see
    /// [`Tool::has_object_input_schema`]). Any 2020-12 keyword may appear.
    pub input_schema: JsonObject,
    /// JSON Schema of `structuredContent` (any root type in 2026-07-28).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<JsonObject>,
    /// Behaviour hints (untrusted unless the server is trusted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<ToolAnnotations>,
    /// 2025-11-25 only: task support of the tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution: Option<ToolExecution>,
    /// Metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl Tool {
    /// True when `inputSchema` has `"type": "object"`, as the schema requires.
    #[must_use]
    pub fn has_object_input_schema(&self) -> bool {
        self.input_schema.get("type").and_then(Value::as_str) == Some("object")
    }

    /// The name to display: `title`, then `annotations.title`, then `name`.
    #[must_use]
    pub fn display_name(&self) -> &str {
        self.title
            .as_deref()
            .or_else(|| self.annotations.as_ref().and_then(|a| a.title.as_deref()))
            .unwrap_or(&self.name)
    }
}

/// Hints describing a tool. All are hints only; the getters apply the schema defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// Display title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Does not modify its environment (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// May perform destructive updates (default true; meaningful when not read-only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// Repeated calls have no additional effect (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    /// Interacts with an open world of external entities (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
}

impl ToolAnnotations {
    /// `readOnlyHint`, default false.
    #[must_use]
    pub fn read_only(&self) -> bool {
        self.read_only_hint.unwrap_or(false)
    }
    /// `destructiveHint`, default true.
    #[must_use]
    pub fn destructive(&self) -> bool {
        self.destructive_hint.unwrap_or(true)
    }
    /// `idempotentHint`, default false.
    #[must_use]
    pub fn idempotent(&self) -> bool {
        self.idempotent_hint.unwrap_or(false)
    }
    /// `openWorldHint`, default true.
    #[must_use]
    pub fn open_world(&self) -> bool {
        self.open_world_hint.unwrap_or(true)
    }
}

/// 2025-11-25: execution properties of a tool.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolExecution {
    /// Whether the tool may be called as a task (absent means forbidden).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_support: Option<TaskSupport>,
}

/// 2025-11-25: whether a tool supports task-augmented calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskSupport {
    /// Must not be called as a task (the default).
    Forbidden,
    /// May be called as a task.
    Optional,
    /// Must be called as a task.
    Required,
}

/// Result of `tools/list` (caching fields optional for legacy; required in 2026-07-28).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListToolsResult {
    /// Result metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `"complete"` (modern).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// The tools on this page.
    pub tools: Vec<Tool>,
    /// Present when more pages may follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Cursor>,
    /// Cache lifetime in ms (modern).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<u64>,
    /// Cache scope (modern).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_scope: Option<CacheScope>,
}

/// Params of `tools/call`.
///
/// Superset of both eras: `inputResponses`/`requestState` are 2026-07-28 MRTR members, `task`
/// is the 2025-11-25 task augmentation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolRequestParams {
    /// Request metadata (required in 2026-07-28).
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The tool name.
    pub name: String,
    /// The arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arguments: Option<JsonObject>,
    /// MRTR retry: responses to the previous `inputRequests`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<InputResponses>,
    /// MRTR retry: the `requestState` echoed exactly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// 2025-11-25: request task-augmented execution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
}

/// The final result of `tools/call`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    /// Result metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `"complete"` (modern).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// Unstructured result.
    pub content: Vec<ContentBlock>,
    /// Structured result: any JSON value (`null` included); must match `outputSchema`.
    #[serde(
        default,
        deserialize_with = "present_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub structured_content: Option<Value>,
    /// True for tool execution errors (absent means false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
}

impl CallToolResult {
    /// A successful result with one text block (the server engine adds the modern
    /// `resultType`).
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            content: vec![ContentBlock::text(text)],
            ..Self::default()
        }
    }

    /// A tool execution error (`isError: true`) with one text block.
    #[must_use]
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            is_error: Some(true),
            ..Self::text(text)
        }
    }
}

impl_result!(ListToolsResult, CallToolResult);
impl_cacheable!(ListToolsResult);

/// What `tools/call` may answer: the final result, an MRTR `input_required` interim result, or
/// (tasks extension negotiated) a task handle.
///
/// Decoding dispatches on `resultType`: absent or `"complete"` gives
/// [`CallToolResponse::Complete`], `"input_required"` gives [`CallToolResponse::InputRequired`],
/// `"task"` gives [`CallToolResponse::Task`], and any other value is an error (the client MUST
/// treat it as invalid). Whether `"task"` was allowed (the client declared the extension) is
/// for the caller to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallToolResponse {
    /// The final result.
    Complete(CallToolResult),
    /// The server needs input first (MRTR).
    InputRequired(InputRequiredResult),
    /// The server runs the call as a task (`io.modelcontextprotocol/tasks`).
    Task(CreateTaskResult),
}

impl Serialize for CallToolResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Complete(r) => r.serialize(serializer),
            Self::InputRequired(r) => r.serialize(serializer),
            Self::Task(r) => r.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for CallToolResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use super::common::from_value_as;
        let value = Value::deserialize(deserializer)?;
        match super::mrtr::result_type_of::<D::Error>(&value)? {
            ResultType::Complete => from_value_as(value).map(Self::Complete),
            ResultType::InputRequired => from_value_as(value).map(Self::InputRequired),
            ResultType::Task => from_value_as(value).map(Self::Task),
            ResultType::Other(other) => Err(serde::de::Error::custom(format_args!(
                "unrecognized resultType {other:?}"
            ))),
        }
    }
}
