//! `_meta`: the metadata object carried by params and results, its reserved keys, and the
//! key-format rules of the 2026-07-28 schema (`MetaObject`).
//!
//! [`Meta`] keeps every member as received (unknown keys included) and offers typed
//! getters/setters for the reserved keys. Getters are fallible: a peer may put anything at a
//! key, and a malformed value is a `-32602` matter for the receiver, not a panic.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::capabilities::ClientCapabilities;
use super::common::{Implementation, JsonObject, ProgressToken};
use super::logging::LoggingLevel;
use super::tasks::legacy::RelatedTaskMetadata;
use super::version::ProtocolVersion;
use crate::jsonrpc::{ErrorCode, RequestId};

/// `io.modelcontextprotocol/protocolVersion`: the version of a modern request (required).
pub const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
/// `io.modelcontextprotocol/clientCapabilities`: the per-request client capabilities (required).
pub const CLIENT_CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
/// `io.modelcontextprotocol/clientInfo`: the client's `Implementation` (SHOULD).
pub const CLIENT_INFO_KEY: &str = "io.modelcontextprotocol/clientInfo";
/// `io.modelcontextprotocol/logLevel`: opt-in log level for this request.
pub const LOG_LEVEL_KEY: &str = "io.modelcontextprotocol/logLevel";
/// `io.modelcontextprotocol/serverInfo`: the server's `Implementation`, on results.
pub const SERVER_INFO_KEY: &str = "io.modelcontextprotocol/serverInfo";
/// `io.modelcontextprotocol/subscriptionId`: the `subscriptions/listen` request id, on stream
/// notifications and on the closing result.
pub const SUBSCRIPTION_ID_KEY: &str = "io.modelcontextprotocol/subscriptionId";
/// `io.modelcontextprotocol/related-task` (2025-11-25 tasks): `{taskId}` of the related task.
pub const RELATED_TASK_KEY: &str = "io.modelcontextprotocol/related-task";
/// `progressToken`: opt-in to progress notifications.
pub const PROGRESS_TOKEN_KEY: &str = "progressToken";
/// `traceparent` (W3C Trace Context).
pub const TRACEPARENT_KEY: &str = "traceparent";
/// `tracestate` (W3C Trace Context).
pub const TRACESTATE_KEY: &str = "tracestate";
/// `baggage` (W3C Baggage).
pub const BAGGAGE_KEY: &str = "baggage";

/// Reserved keys that have no prefix.
const RESERVED_UNPREFIXED: [&str; 4] = [
    PROGRESS_TOKEN_KEY,
    TRACEPARENT_KEY,
    TRACESTATE_KEY,
    BAGGAGE_KEY,
];

/// The contents of a `_meta` member: a JSON object whose keys are all preserved.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Meta(JsonObject);

/// A reserved `_meta` value that is missing or does not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaValueError {
    /// The params carry no `_meta` at all (a modern request requires it).
    #[error("missing `_meta`")]
    MissingMeta,
    /// A required key is absent.
    #[error("missing `_meta` member `{key}`")]
    Missing {
        /// The missing key.
        key: &'static str,
    },
    /// A key holds a value of the wrong shape.
    #[error("invalid `_meta` member `{key}`: {message}")]
    Invalid {
        /// The offending key.
        key: String,
        /// The serde error.
        message: String,
    },
}

impl MetaValueError {
    /// The JSON-RPC code to answer with: always -32602 (on HTTP, with status 400).
    #[must_use]
    pub const fn code(&self) -> ErrorCode {
        ErrorCode::INVALID_PARAMS
    }
}

/// The per-request fields of a 2026-07-28 request, checked by
/// [`Meta::modern_request_fields`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModernRequestMeta {
    /// `io.modelcontextprotocol/protocolVersion` (required).
    pub protocol_version: ProtocolVersion,
    /// `io.modelcontextprotocol/clientCapabilities` (required; `{}` means none).
    pub client_capabilities: ClientCapabilities,
    /// `io.modelcontextprotocol/clientInfo` (SHOULD).
    pub client_info: Option<Implementation>,
    /// `io.modelcontextprotocol/logLevel` (optional opt-in to `notifications/message`).
    pub log_level: Option<LoggingLevel>,
    /// `progressToken` (optional opt-in to `notifications/progress`).
    pub progress_token: Option<ProgressToken>,
}

impl ModernRequestMeta {
    /// Checks the `_meta` of a modern request's params; a missing `_meta` is an error.
    ///
    /// # Errors
    /// [`MetaValueError`] when `_meta`, `protocolVersion` or `clientCapabilities` is missing or
    /// any reserved field is malformed; answer it with -32602.
    pub fn from_params_meta(meta: Option<&Meta>) -> Result<Self, MetaValueError> {
        meta.ok_or(MetaValueError::MissingMeta)?
            .modern_request_fields()
    }
}

/// Serializes plain data into a JSON value. The types stored through the typed setters have
/// string keys and derived `Serialize` implementations, for which `serde_json` cannot fail;
/// `Null` is only a formal fallback.
fn to_json<T: Serialize + ?Sized>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// `value`, the member `key` of a `_meta` if present, parsed as `T`.
fn value_as<T: DeserializeOwned>(
    key: &str,
    value: Option<&Value>,
) -> Result<Option<T>, MetaValueError> {
    value
        .map(|value| {
            T::deserialize(value).map_err(|e| MetaValueError::Invalid {
                key: key.to_owned(),
                message: e.to_string(),
            })
        })
        .transpose()
}

/// As [`value_as`], for a member that must be present.
fn required_value<T: DeserializeOwned>(
    key: &'static str,
    value: Option<&Value>,
) -> Result<T, MetaValueError> {
    value_as(key, value)?.ok_or(MetaValueError::Missing { key })
}

/// Reads only `_meta` out of request or notification params (the rest is left unparsed).
#[derive(Deserialize)]
struct ParamsMeta {
    #[serde(rename = "_meta", default)]
    meta: Option<Meta>,
}

impl Meta {
    /// The `_meta` of `params`, when present and an object; the rest of the params is skipped
    /// without being materialized.
    #[must_use]
    pub fn from_params(params: &crate::jsonrpc::RawJson) -> Option<Self> {
        // MCP params are objects; a derived struct would also read an array by position.
        if !params.is_object() {
            return None;
        }
        params.parse::<ParamsMeta>().ok().and_then(|p| p.meta)
    }

    /// An empty `_meta`.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The `_meta` of a modern request: `protocolVersion` and `clientCapabilities` set.
    #[must_use]
    pub fn for_modern_request(
        protocol_version: &ProtocolVersion,
        client_capabilities: &ClientCapabilities,
    ) -> Self {
        let mut meta = Self::new();
        meta.set_protocol_version(protocol_version);
        meta.set_client_capabilities(client_capabilities);
        meta
    }

    /// The members.
    #[must_use]
    pub fn as_map(&self) -> &JsonObject {
        &self.0
    }

    /// The members, mutably.
    pub fn as_map_mut(&mut self) -> &mut JsonObject {
        &mut self.0
    }

    /// Unwraps the members.
    #[must_use]
    pub fn into_map(self) -> JsonObject {
        self.0
    }

    /// True when there are no members.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The raw value at `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// Sets the raw value at `key`, returning the previous one.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Option<Value> {
        self.0.insert(key.into(), value)
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.0.remove(key)
    }

    /// Parses the value at `key` as `T`; `Ok(None)` when absent.
    ///
    /// # Errors
    /// [`MetaValueError::Invalid`] when the value does not fit `T`.
    pub fn get_as<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, MetaValueError> {
        value_as(key, self.0.get(key))
    }

    /// Serializes `value` to `key`.
    ///
    /// # Errors
    /// Fails only when `value`'s `Serialize` implementation fails.
    pub fn set_as<T: Serialize + ?Sized>(
        &mut self,
        key: impl Into<String>,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        self.0.insert(key.into(), serde_json::to_value(value)?);
        Ok(())
    }

    /// `io.modelcontextprotocol/protocolVersion`.
    ///
    /// # Errors
    /// When the value is not a string.
    pub fn protocol_version(&self) -> Result<Option<ProtocolVersion>, MetaValueError> {
        self.get_as(PROTOCOL_VERSION_KEY)
    }

    /// Sets `io.modelcontextprotocol/protocolVersion`.
    pub fn set_protocol_version(&mut self, version: &ProtocolVersion) {
        self.insert(
            PROTOCOL_VERSION_KEY,
            Value::String(version.as_str().to_owned()),
        );
    }

    /// `io.modelcontextprotocol/clientCapabilities`.
    ///
    /// # Errors
    /// When the value is not a `ClientCapabilities` object.
    pub fn client_capabilities(&self) -> Result<Option<ClientCapabilities>, MetaValueError> {
        self.get_as(CLIENT_CAPABILITIES_KEY)
    }

    /// Sets `io.modelcontextprotocol/clientCapabilities`.
    pub fn set_client_capabilities(&mut self, capabilities: &ClientCapabilities) {
        self.insert(CLIENT_CAPABILITIES_KEY, to_json(capabilities));
    }

    /// `io.modelcontextprotocol/clientInfo`.
    ///
    /// # Errors
    /// When the value is not an `Implementation`.
    pub fn client_info(&self) -> Result<Option<Implementation>, MetaValueError> {
        self.get_as(CLIENT_INFO_KEY)
    }

    /// Sets `io.modelcontextprotocol/clientInfo`.
    pub fn set_client_info(&mut self, info: &Implementation) {
        self.insert(CLIENT_INFO_KEY, to_json(info));
    }

    /// `io.modelcontextprotocol/logLevel`.
    ///
    /// # Errors
    /// When the value is not a known logging level (answer -32602).
    pub fn log_level(&self) -> Result<Option<LoggingLevel>, MetaValueError> {
        self.get_as(LOG_LEVEL_KEY)
    }

    /// Sets `io.modelcontextprotocol/logLevel`.
    pub fn set_log_level(&mut self, level: LoggingLevel) {
        self.insert(LOG_LEVEL_KEY, Value::String(level.as_str().to_owned()));
    }

    /// `io.modelcontextprotocol/serverInfo`.
    ///
    /// # Errors
    /// When the value is not an `Implementation`.
    pub fn server_info(&self) -> Result<Option<Implementation>, MetaValueError> {
        self.get_as(SERVER_INFO_KEY)
    }

    /// Sets `io.modelcontextprotocol/serverInfo`.
    pub fn set_server_info(&mut self, info: &Implementation) {
        self.insert(SERVER_INFO_KEY, to_json(info));
    }

    /// `io.modelcontextprotocol/subscriptionId`.
    ///
    /// # Errors
    /// When the value is not a string or integer.
    pub fn subscription_id(&self) -> Result<Option<RequestId>, MetaValueError> {
        self.get_as(SUBSCRIPTION_ID_KEY)
    }

    /// Sets `io.modelcontextprotocol/subscriptionId`.
    pub fn set_subscription_id(&mut self, id: &RequestId) {
        self.insert(SUBSCRIPTION_ID_KEY, to_json(id));
    }

    /// `progressToken`.
    ///
    /// # Errors
    /// When the value is not a string or integer.
    pub fn progress_token(&self) -> Result<Option<ProgressToken>, MetaValueError> {
        self.get_as(PROGRESS_TOKEN_KEY)
    }

    /// Sets `progressToken`.
    pub fn set_progress_token(&mut self, token: &ProgressToken) {
        self.insert(PROGRESS_TOKEN_KEY, to_json(token));
    }

    /// `traceparent` (not checked against the W3C format; see [`is_valid_traceparent`]).
    ///
    /// # Errors
    /// When the value is not a string.
    pub fn traceparent(&self) -> Result<Option<String>, MetaValueError> {
        self.get_as(TRACEPARENT_KEY)
    }

    /// Sets `traceparent`.
    pub fn set_traceparent(&mut self, value: impl Into<String>) {
        self.insert(TRACEPARENT_KEY, Value::String(value.into()));
    }

    /// `tracestate`.
    ///
    /// # Errors
    /// When the value is not a string.
    pub fn tracestate(&self) -> Result<Option<String>, MetaValueError> {
        self.get_as(TRACESTATE_KEY)
    }

    /// Sets `tracestate`.
    pub fn set_tracestate(&mut self, value: impl Into<String>) {
        self.insert(TRACESTATE_KEY, Value::String(value.into()));
    }

    /// `baggage`.
    ///
    /// # Errors
    /// When the value is not a string.
    pub fn baggage(&self) -> Result<Option<String>, MetaValueError> {
        self.get_as(BAGGAGE_KEY)
    }

    /// Sets `baggage`.
    pub fn set_baggage(&mut self, value: impl Into<String>) {
        self.insert(BAGGAGE_KEY, Value::String(value.into()));
    }

    /// `io.modelcontextprotocol/related-task` (2025-11-25 tasks).
    ///
    /// # Errors
    /// When the value is not `{taskId}`.
    pub fn related_task(&self) -> Result<Option<RelatedTaskMetadata>, MetaValueError> {
        self.get_as(RELATED_TASK_KEY)
    }

    /// Sets `io.modelcontextprotocol/related-task`.
    pub fn set_related_task(&mut self, task: &RelatedTaskMetadata) {
        self.insert(RELATED_TASK_KEY, to_json(task));
    }

    /// Checks the per-request fields of a 2026-07-28 request: `protocolVersion` and
    /// `clientCapabilities` must be present, and every reserved field present must be
    /// well-formed.
    ///
    /// # Errors
    /// [`MetaValueError`]; the server answers -32602 (HTTP 400).
    pub fn modern_request_fields(&self) -> Result<ModernRequestMeta, MetaValueError> {
        // One walk over the members instead of a lookup per key (each a few comparisons of
        // long, mostly shared prefixes); the checks then run in the order of the fields.
        let (mut version, mut capabilities, mut info, mut level, mut token) =
            (None, None, None, None, None);
        for (key, value) in &self.0 {
            match key.as_str() {
                PROTOCOL_VERSION_KEY => version = Some(value),
                CLIENT_CAPABILITIES_KEY => capabilities = Some(value),
                CLIENT_INFO_KEY => info = Some(value),
                LOG_LEVEL_KEY => level = Some(value),
                PROGRESS_TOKEN_KEY => token = Some(value),
                _ => {}
            }
        }
        Ok(ModernRequestMeta {
            protocol_version: required_value(PROTOCOL_VERSION_KEY, version)?,
            client_capabilities: required_value(CLIENT_CAPABILITIES_KEY, capabilities)?,
            client_info: value_as(CLIENT_INFO_KEY, info)?,
            log_level: value_as(LOG_LEVEL_KEY, level)?,
            progress_token: value_as(PROGRESS_TOKEN_KEY, token)?,
        })
    }

    /// Checks every key against the `_meta` key format; returns the first bad key.
    ///
    /// # Errors
    /// The offending key and why it is invalid.
    pub fn validate_keys(&self) -> Result<(), (String, MetaKeyError)> {
        for key in self.0.keys() {
            validate_meta_key(key).map_err(|e| (key.clone(), e))?;
        }
        Ok(())
    }
}

impl From<JsonObject> for Meta {
    fn from(map: JsonObject) -> Self {
        Self(map)
    }
}

impl From<Meta> for JsonObject {
    fn from(meta: Meta) -> Self {
        meta.0
    }
}

/// What is wrong with one dot-separated label of a `_meta` key prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelProblem {
    /// The label is empty (e.g. `a..b/`, `/x`).
    Empty,
    /// The label does not start with a letter.
    BadStart,
    /// The label does not end with a letter or digit.
    BadEnd,
    /// The label contains a character other than letters, digits and `-`.
    BadChar(char),
}

/// What is wrong with the name part of a `_meta` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    /// The name does not start with a letter or digit.
    BadStart,
    /// The name does not end with a letter or digit.
    BadEnd,
    /// The name contains a character other than letters, digits, `-`, `_` and `.`.
    BadChar(char),
}

impl fmt::Display for LabelProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("is empty"),
            Self::BadStart => f.write_str("must start with a letter"),
            Self::BadEnd => f.write_str("must end with a letter or digit"),
            Self::BadChar(c) => write!(f, "contains {c:?}"),
        }
    }
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadStart => f.write_str("must start with a letter or digit"),
            Self::BadEnd => f.write_str("must end with a letter or digit"),
            Self::BadChar(c) => write!(f, "contains {c:?}"),
        }
    }
}

/// Why a string is not a valid `_meta` key (or extension identifier).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaKeyError {
    /// A prefix label breaks the label rules.
    #[error("prefix label {label:?} {problem}")]
    InvalidLabel {
        /// The label.
        label: String,
        /// What is wrong with it.
        problem: LabelProblem,
    },
    /// The name breaks the name rules.
    #[error("name {name:?} {problem}")]
    InvalidName {
        /// The name.
        name: String,
        /// What is wrong with it.
        problem: NameProblem,
    },
    /// An extension identifier has no prefix (it is mandatory there).
    #[error("missing prefix")]
    MissingPrefix,
}

/// A `_meta` key split into its optional prefix and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaKey<'a> {
    /// The prefix without its trailing `/` (e.g. `io.modelcontextprotocol`).
    pub prefix: Option<&'a str>,
    /// The name (may be empty).
    pub name: &'a str,
}

impl<'a> MetaKey<'a> {
    /// The dot-separated labels of the prefix (none without a prefix).
    pub fn labels(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.prefix.into_iter().flat_map(|p| p.split('.'))
    }

    /// True when the prefix is reserved for MCP: its second label is `modelcontextprotocol` or
    /// `mcp` (compared ASCII case-insensitively, as DNS labels are).
    #[must_use]
    pub fn has_reserved_prefix(&self) -> bool {
        self.labels().nth(1).is_some_and(|label| {
            label.eq_ignore_ascii_case("modelcontextprotocol") || label.eq_ignore_ascii_case("mcp")
        })
    }
}

fn check_label(label: &str) -> Result<(), LabelProblem> {
    let mut chars = label.chars();
    let first = chars.next().ok_or(LabelProblem::Empty)?;
    if !first.is_ascii_alphabetic() {
        return Err(LabelProblem::BadStart);
    }
    if let Some(bad) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(LabelProblem::BadChar(bad));
    }
    if label
        .chars()
        .last()
        .is_some_and(|c| !c.is_ascii_alphanumeric())
    {
        return Err(LabelProblem::BadEnd);
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), NameProblem> {
    let Some(first) = name.chars().next() else {
        return Ok(());
    };
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(NameProblem::BadChar(bad));
    }
    if !first.is_ascii_alphanumeric() {
        return Err(NameProblem::BadStart);
    }
    if name
        .chars()
        .last()
        .is_some_and(|c| !c.is_ascii_alphanumeric())
    {
        return Err(NameProblem::BadEnd);
    }
    Ok(())
}

/// Validates a `_meta` key (2026-07-28 `MetaObject` rules): an optional prefix of
/// dot-separated labels followed by `/`, then a name.
///
/// Labels start with a letter, end with a letter or digit, and contain only letters, digits
/// and `-`. The name, unless empty, starts and ends with a letter or digit and contains only
/// letters, digits, `-`, `_` and `.`. (So `""` and `com.example/` are valid keys.)
///
/// # Errors
/// [`MetaKeyError`] naming the offending label or the name.
pub fn validate_meta_key(key: &str) -> Result<MetaKey<'_>, MetaKeyError> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        for label in prefix.split('.') {
            check_label(label).map_err(|problem| MetaKeyError::InvalidLabel {
                label: label.to_owned(),
                problem,
            })?;
        }
    }
    check_name(name).map_err(|problem| MetaKeyError::InvalidName {
        name: name.to_owned(),
        problem,
    })?;
    Ok(MetaKey { prefix, name })
}

/// Validates an extension identifier (a key of `capabilities.extensions`): the `_meta` key
/// rules with a mandatory prefix, e.g. `io.modelcontextprotocol/tasks`.
///
/// # Errors
/// [`MetaKeyError`], including [`MetaKeyError::MissingPrefix`].
pub fn validate_extension_id(id: &str) -> Result<MetaKey<'_>, MetaKeyError> {
    let key = validate_meta_key(id)?;
    if key.prefix.is_none() {
        return Err(MetaKeyError::MissingPrefix);
    }
    Ok(key)
}

/// True for keys MCP reserves: a valid key with a reserved prefix, or one of the unprefixed
/// reserved names `progressToken`, `traceparent`, `tracestate`, `baggage`.
#[must_use]
pub fn is_reserved_key(key: &str) -> bool {
    RESERVED_UNPREFIXED.contains(&key)
        || validate_meta_key(key).is_ok_and(|k| k.has_reserved_prefix())
}

/// Checks a W3C Trace Context `traceparent` value: `version-traceid-parentid-flags` in
/// lowercase hex, with non-zero ids and a version other than `ff`. Version `00` must be exactly
/// 55 characters; later versions may append `-`-separated fields.
#[must_use]
pub fn is_valid_traceparent(value: &str) -> bool {
    fn hex(s: &str, len: usize) -> bool {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }
    let mut parts = value.split('-');
    let (Some(version), Some(trace_id), Some(parent_id), Some(flags)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let rest_ok = if version == "00" {
        parts.next().is_none()
    } else {
        true
    };
    hex(version, 2)
        && version != "ff"
        && hex(trace_id, 32)
        && trace_id.bytes().any(|b| b != b'0')
        && hex(parent_id, 16)
        && parent_id.bytes().any(|b| b != b'0')
        && hex(flags, 2)
        && rest_ok
}
