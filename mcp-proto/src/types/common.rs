//! Building blocks shared by every feature: JSON aliases, roles, icons, `Implementation`,
//! annotations, progress tokens, `resultType`, caching hints and the common params/results.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::meta::Meta;

/// A JSON object (`JSONObject` in the schema). Keys are kept in sorted order.
pub type JsonObject = serde_json::Map<String, Value>;

/// An opaque pagination cursor. An empty string is a valid cursor, not the end of a list.
pub type Cursor = String;

literal_tag!(
    /// The `"jsonrpc": "2.0"` member of a JSON-RPC message.
    JsonRpcVersion = "2.0"
);

/// The sender or recipient of messages and data in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The human side.
    User,
    /// The model side.
    Assistant,
}

/// A progress token: a string or an integer chosen by the requester (`_meta.progressToken`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProgressToken {
    /// An integer token.
    Number(i64),
    /// A string token.
    String(String),
}

impl From<i64> for ProgressToken {
    fn from(n: i64) -> Self {
        Self::Number(n)
    }
}

impl From<&str> for ProgressToken {
    fn from(s: &str) -> Self {
        Self::String(s.to_owned())
    }
}

impl From<String> for ProgressToken {
    fn from(s: String) -> Self {
        Self::String(s)
    }
}

/// The theme an icon is designed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IconTheme {
    /// For a light background.
    Light,
    /// For a dark background.
    Dark,
}

/// An optionally-sized icon that a client can display.
///
/// Clients must only fetch `https:` or `data:` sources; this type does not check `src`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Icon {
    /// The icon URI (`https:` URL or `data:` URI).
    pub src: String,
    /// A MIME type override, e.g. `image/png`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Sizes such as `"48x48"` or `"any"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sizes: Option<Vec<String>>,
    /// The theme the icon suits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme: Option<IconTheme>,
}

/// Describes an MCP implementation (`clientInfo` / `serverInfo`). `name` and `version` are
/// required.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Implementation {
    /// Programmatic name.
    pub name: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Version of the implementation.
    pub version: String,
    /// Human-readable description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Icons for user interfaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// The implementation's website.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website_url: Option<String>,
}

impl Implementation {
    /// An implementation with just `name` and `version`.
    #[must_use]
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            ..Self::default()
        }
    }
}

/// Optional hints telling the client how to use or display an object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotations {
    /// Who the data is meant for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<Role>>,
    /// Importance from 0 (least) to 1 (most). Kept as a JSON number so `1` stays `1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<serde_json::Number>,
    /// ISO 8601 time of the last modification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// How widely a cacheable result may be shared (`cacheScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheScope {
    /// No user-specific data: any cache may share it across authorization contexts.
    Public,
    /// Reusable only within the same authorization context.
    Private,
}

/// The `resultType` discriminator of a 2026-07-28 result.
///
/// Results from legacy servers carry no `resultType`; result structs therefore hold an
/// `Option<ResultType>`, and [`ResultType::effective`] maps an absent value to
/// [`ResultType::Complete`]. A value this crate does not know is kept as
/// [`ResultType::Other`] so that the client can reject it as invalid (which it MUST).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResultType {
    /// `"complete"`: the final result.
    Complete,
    /// `"input_required"`: an MRTR interim result ([`super::mrtr::InputRequiredResult`]).
    InputRequired,
    /// `"task"`: a tasks-extension [`super::tasks::CreateTaskResult`].
    Task,
    /// Any other value; a client must treat the result as invalid.
    Other(String),
}

const COMPLETE: &ResultType = &ResultType::Complete;

impl ResultType {
    /// The wire value.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Complete => "complete",
            Self::InputRequired => "input_required",
            Self::Task => "task",
            Self::Other(other) => other,
        }
    }

    /// Classifies a wire value.
    #[must_use]
    pub fn from_wire(value: &str) -> Self {
        match value {
            "complete" => Self::Complete,
            "input_required" => Self::InputRequired,
            "task" => Self::Task,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The result type to act on: an absent `resultType` means `"complete"`.
    #[must_use]
    pub fn effective(value: Option<&Self>) -> &Self {
        value.unwrap_or(COMPLETE)
    }

    /// False for [`ResultType::Other`], which a client must consider invalid.
    #[must_use]
    pub fn is_recognized(&self) -> bool {
        !matches!(self, Self::Other(_))
    }
}

impl fmt::Display for ResultType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ResultType {
    fn from(value: &str) -> Self {
        Self::from_wire(value)
    }
}

impl Serialize for ResultType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResultType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Ok(Self::from_wire(&value))
    }
}

/// Accessors every result type shares.
pub trait McpResultExt {
    /// The `resultType` member, when present.
    fn result_type(&self) -> Option<&ResultType>;
    /// The `_meta` member, when present.
    fn result_meta(&self) -> Option<&Meta>;
    /// The result type to act on (absent means `"complete"`).
    fn effective_result_type(&self) -> &ResultType {
        ResultType::effective(self.result_type())
    }
}

/// Caching hints (`ttlMs`, `cacheScope`) of the results of `server/discover`, the list methods
/// and `resources/read`. Required in 2026-07-28, absent in legacy results.
pub trait Cacheable {
    /// Milliseconds the client may cache the result.
    fn ttl_ms(&self) -> Option<u64>;
    /// How widely the cached result may be shared.
    fn cache_scope(&self) -> Option<CacheScope>;
    /// The TTL to apply: absent means 0 (immediately stale).
    fn effective_ttl_ms(&self) -> u64 {
        self.ttl_ms().unwrap_or(0)
    }
}

macro_rules! impl_result {
    ($($ty:ty),* $(,)?) => {$(
        impl $crate::types::common::McpResultExt for $ty {
            fn result_type(&self) -> Option<&$crate::types::common::ResultType> {
                self.result_type.as_ref()
            }
            fn result_meta(&self) -> Option<&$crate::types::meta::Meta> {
                self.meta.as_ref()
            }
        }
    )*};
}

macro_rules! impl_cacheable {
    ($($ty:ty),* $(,)?) => {$(
        impl $crate::types::common::Cacheable for $ty {
            fn ttl_ms(&self) -> Option<u64> {
                self.ttl_ms
            }
            fn cache_scope(&self) -> Option<$crate::types::common::CacheScope> {
                self.cache_scope
            }
        }
    )*};
}

/// Params of a request that has nothing but `_meta` (`server/discover`; legacy `ping`).
///
/// In 2026-07-28 `_meta` (with `protocolVersion` and `clientCapabilities`) is required on every
/// request; legacy requests may omit it. Check modern requests with
/// [`Meta::modern_request_fields`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RequestParams {
    /// Request metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Params of a paginated list request (`tools/list`, `prompts/list`, `resources/list`,
/// `resources/templates/list`; legacy `tasks/list`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PaginatedRequestParams {
    /// Request metadata (required in 2026-07-28).
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Where to continue, from a previous `nextCursor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// Params of a notification that carries only `_meta` (the list-changed notifications, legacy
/// `notifications/initialized` and `notifications/roots/list_changed`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NotificationParams {
    /// Notification metadata (e.g. `io.modelcontextprotocol/subscriptionId`).
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// A result with no content of its own (legacy `ping`, `logging/setLevel`,
/// `resources/subscribe`; tasks-extension `tasks/update` and `tasks/cancel` acks).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmptyResult {
    /// Result metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `"complete"` in 2026-07-28; absent from legacy servers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
}

impl EmptyResult {
    /// A modern empty result: `{"resultType": "complete"}`.
    #[must_use]
    pub fn complete() -> Self {
        Self {
            meta: None,
            result_type: Some(ResultType::Complete),
        }
    }
}

impl_result!(EmptyResult);

/// Deserializes a member that is present, keeping `null` as `Some(Value::Null)` (for members
/// such as `structuredContent` that may hold any JSON value).
pub(crate) fn present_value<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// Deserializes a required member whose value may be `null` (e.g. a task's `ttlMs`). Using it
/// via `deserialize_with` also makes the member required.
pub(crate) fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(deserializer)
}

/// Parses a buffered `value` as `T`, turning the error into the caller's deserializer error.
pub(crate) fn from_value_as<T: de::DeserializeOwned, E: de::Error>(value: Value) -> Result<T, E> {
    serde_json::from_value(value).map_err(E::custom)
}
