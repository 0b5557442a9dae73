//! Multi round-trip requests (MRTR, 2026-07-28): instead of sending requests to the client, a
//! server answers `tools/call`, `prompts/get` or `resources/read` with an
//! [`InputRequiredResult`] holding [`InputRequests`] (sampling, elicitation, roots) and/or an
//! opaque `requestState`; the client retries the original request with a new id,
//! [`InputResponses`] under the same keys, and the `requestState` echoed exactly.

use std::collections::BTreeMap;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::common::{JsonObject, ResultType, from_value_as};
use super::elicitation::{ElicitRequestParams, ElicitResult};
use super::meta::Meta;
use super::methods::ServerRequest;
use super::roots::{ListRootsRequestParams, ListRootsResult};
use super::sampling::{CreateMessageRequestParams, CreateMessageResult};

literal_tag!(
    /// The `"method": "sampling/createMessage"` member of a [`CreateMessageRequest`].
    CreateMessageMethod = "sampling/createMessage"
);
literal_tag!(
    /// The `"method": "elicitation/create"` member of an [`ElicitRequest`].
    ElicitMethod = "elicitation/create"
);
literal_tag!(
    /// The `"method": "roots/list"` member of a [`ListRootsRequest`].
    ListRootsMethod = "roots/list"
);

/// A sampling input request: `{"method": "sampling/createMessage", "params": {...}}`.
///
/// Members other than `method` and `params` are kept in `extra` so that forwarding is lossless
/// (the official `ListRootsRequest` example carries a stray `id`). In legacy sessions the same
/// params travel in a real JSON-RPC request instead.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CreateMessageRequest {
    /// The method tag.
    pub method: CreateMessageMethod,
    /// The sampling parameters.
    pub params: CreateMessageRequestParams,
    /// Any other members, verbatim.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// An elicitation input request: `{"method": "elicitation/create", "params": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElicitRequest {
    /// The method tag.
    pub method: ElicitMethod,
    /// The elicitation parameters (form or URL mode).
    pub params: ElicitRequestParams,
    /// Any other members, verbatim.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// A roots input request: `{"method": "roots/list"}` (params optional).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListRootsRequest {
    /// The method tag.
    pub method: ListRootsMethod,
    /// Optional params (only `_meta`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<ListRootsRequestParams>,
    /// Any other members, verbatim.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// One input request, told apart by `method`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputRequest {
    /// `sampling/createMessage` (client must declare `sampling`).
    CreateMessage(CreateMessageRequest),
    /// `elicitation/create` (client must declare `elicitation` with the mode).
    Elicit(ElicitRequest),
    /// `roots/list` (client must declare `roots`).
    ListRoots(ListRootsRequest),
}

impl InputRequest {
    /// The method name.
    #[must_use]
    pub fn method(&self) -> &'static str {
        match self {
            Self::CreateMessage(_) => CreateMessageMethod::VALUE,
            Self::Elicit(_) => ElicitMethod::VALUE,
            Self::ListRoots(_) => ListRootsMethod::VALUE,
        }
    }

    /// A sampling input request.
    #[must_use]
    pub fn create_message(params: CreateMessageRequestParams) -> Self {
        Self::CreateMessage(CreateMessageRequest {
            method: CreateMessageMethod,
            params,
            extra: JsonObject::new(),
        })
    }

    /// An elicitation input request.
    #[must_use]
    pub fn elicit(params: ElicitRequestParams) -> Self {
        Self::Elicit(ElicitRequest {
            method: ElicitMethod,
            params,
            extra: JsonObject::new(),
        })
    }

    /// A roots input request.
    #[must_use]
    pub fn list_roots() -> Self {
        Self::ListRoots(ListRootsRequest::default())
    }
}

/// A legacy session asks the same things with real requests: the request for an input
/// request (its `extra` members are not carried).
impl From<InputRequest> for ServerRequest {
    fn from(request: InputRequest) -> Self {
        match request {
            InputRequest::CreateMessage(r) => Self::CreateMessage(Box::new(r.params)),
            InputRequest::Elicit(r) => Self::Elicit(r.params),
            InputRequest::ListRoots(r) => Self::ListRoots(r.params.unwrap_or_default()),
        }
    }
}

/// The input request a legacy server's request carries; other requests (`ping`, tasks) are
/// given back.
impl TryFrom<ServerRequest> for InputRequest {
    type Error = ServerRequest;

    fn try_from(request: ServerRequest) -> Result<Self, ServerRequest> {
        Ok(match request {
            ServerRequest::CreateMessage(params) => Self::create_message(*params),
            ServerRequest::Elicit(params) => Self::elicit(params),
            ServerRequest::ListRoots(params) => Self::ListRoots(ListRootsRequest {
                params: Some(params),
                ..ListRootsRequest::default()
            }),
            other => return Err(other),
        })
    }
}

impl Serialize for InputRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::CreateMessage(r) => r.serialize(serializer),
            Self::Elicit(r) => r.serialize(serializer),
            Self::ListRoots(r) => r.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for InputRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let method = value
            .get("method")
            .ok_or_else(|| D::Error::missing_field("method"))?
            .as_str()
            .ok_or_else(|| D::Error::custom("`method` must be a string"))?;
        match method {
            CreateMessageMethod::VALUE => from_value_as(value).map(Self::CreateMessage),
            ElicitMethod::VALUE => from_value_as(value).map(Self::Elicit),
            ListRootsMethod::VALUE => from_value_as(value).map(Self::ListRoots),
            other => Err(D::Error::custom(format_args!(
                "unknown input request method {other:?}"
            ))),
        }
    }
}

/// Server-assigned keys to input requests (`InputRequests`). Keys MUST be unique within the
/// request.
pub type InputRequests = BTreeMap<String, InputRequest>;

/// The client's answer to one input request.
///
/// Decoding tells the variants apart by their required members: `action` (elicitation),
/// `roots` (roots), otherwise a sampling result (`role`, `content`, `model`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputResponse {
    /// Answer to `sampling/createMessage`.
    CreateMessage(CreateMessageResult),
    /// Answer to `roots/list`.
    ListRoots(ListRootsResult),
    /// Answer to `elicitation/create`.
    Elicit(ElicitResult),
}

impl Serialize for InputResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::CreateMessage(r) => r.serialize(serializer),
            Self::ListRoots(r) => r.serialize(serializer),
            Self::Elicit(r) => r.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for InputResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let Some(object) = value.as_object() else {
            return Err(D::Error::custom("an input response must be an object"));
        };
        if object.contains_key("action") {
            from_value_as(value).map(Self::Elicit)
        } else if object.contains_key("roots") {
            from_value_as(value).map(Self::ListRoots)
        } else {
            from_value_as(value).map(Self::CreateMessage)
        }
    }
}

/// The client's answers, under the keys of the [`InputRequests`] (`InputResponses`).
pub type InputResponses = BTreeMap<String, InputResponse>;

/// An interim result (`resultType: "input_required"`): the server needs input before it can
/// complete the request. At least one of `inputRequests` and `requestState` MUST be present
/// (see [`InputRequiredResult::is_well_formed`]). Carries no caching hints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputRequiredResult {
    /// Result metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Always `"input_required"` (required: this type exists only in 2026-07-28).
    pub result_type: ResultType,
    /// What the client must fulfil before retrying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<InputRequests>,
    /// Opaque state the client echoes exactly on the retry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
}

impl Default for InputRequiredResult {
    fn default() -> Self {
        Self {
            meta: None,
            result_type: ResultType::InputRequired,
            input_requests: None,
            request_state: None,
        }
    }
}

impl InputRequiredResult {
    /// True when `resultType` is `"input_required"` and `inputRequests` or `requestState` is
    /// present.
    #[must_use]
    pub fn is_well_formed(&self) -> bool {
        self.result_type == ResultType::InputRequired
            && (self.input_requests.is_some() || self.request_state.is_some())
    }
}

impl super::common::McpResultExt for InputRequiredResult {
    fn result_type(&self) -> Option<&ResultType> {
        Some(&self.result_type)
    }
    fn result_meta(&self) -> Option<&Meta> {
        self.meta.as_ref()
    }
}

/// Reads the `resultType` of a buffered result: absent means `"complete"`.
pub(crate) fn result_type_of<E: serde::de::Error>(value: &Value) -> Result<ResultType, E> {
    let Some(object) = value.as_object() else {
        return Err(E::custom("a result must be an object"));
    };
    match object.get("resultType") {
        None => Ok(ResultType::Complete),
        Some(Value::String(s)) => Ok(ResultType::from_wire(s)),
        Some(_) => Err(E::custom("`resultType` must be a string")),
    }
}

/// What `prompts/get` and `resources/read` may answer: the final result or an MRTR interim
/// result, by `resultType` (absent or `"complete"` → [`MrtrResponse::Complete`]). Any other
/// value, `"task"` included, fails to decode: it is invalid for these methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MrtrResponse<R> {
    /// The final result.
    Complete(R),
    /// The server needs input first.
    InputRequired(InputRequiredResult),
}

impl<R: Serialize> Serialize for MrtrResponse<R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Complete(r) => r.serialize(serializer),
            Self::InputRequired(r) => r.serialize(serializer),
        }
    }
}

impl<'de, R: DeserializeOwned> Deserialize<'de> for MrtrResponse<R> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        match result_type_of::<D::Error>(&value)? {
            ResultType::Complete => from_value_as(value).map(Self::Complete),
            ResultType::InputRequired => from_value_as(value).map(Self::InputRequired),
            other => Err(D::Error::custom(format_args!(
                "resultType {:?} is not valid here",
                other.as_str()
            ))),
        }
    }
}
