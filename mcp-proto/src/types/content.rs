//! Content blocks: what tools return, prompts contain and sampling exchanges.
//!
//! The `type` discriminator belongs to the enums ([`ContentBlock`], [`SamplingContent`]),
//! which are `#[serde(tag = "type")]`; the variant structs (`TextContent`, ...) hold the other
//! members. Every wire position that the schema types as a content block uses one of the enums,
//! so a bare struct is never serialized without its `type`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::common::{Annotations, JsonObject, present_value};
use super::meta::Meta;
use super::resources::{Resource, ResourceContents};

/// Text provided to or from an LLM (`type: "text"`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TextContent {
    /// The text.
    pub text: String,
    /// Display hints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl TextContent {
    /// Text content without annotations.
    #[must_use]
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}

/// Base64 data with a MIME type: an image (`type: "image"`) or audio clip (`type: "audio"`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaContent {
    /// Base64-encoded bytes.
    pub data: String,
    /// MIME type, e.g. `image/png` or `audio/wav`.
    pub mime_type: String,
    /// Display hints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// An image (`type: "image"`).
pub type ImageContent = MediaContent;
/// An audio clip (`type: "audio"`).
pub type AudioContent = MediaContent;

impl MediaContent {
    /// Encodes `bytes` as base64.
    #[must_use]
    pub fn from_bytes(bytes: &[u8], mime_type: impl Into<String>) -> Self {
        Self {
            data: BASE64.encode(bytes),
            mime_type: mime_type.into(),
            ..Self::default()
        }
    }

    /// Decodes `data`.
    ///
    /// # Errors
    /// When `data` is not standard base64.
    pub fn decode_data(&self) -> Result<Vec<u8>, base64::DecodeError> {
        BASE64.decode(&self.data)
    }
}

/// A link to a resource (`type: "resource_link"`): the members of a [`Resource`].
pub type ResourceLink = Resource;

/// A resource embedded in a prompt or tool result (`type: "resource"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddedResource {
    /// The contents (text or blob).
    pub resource: ResourceContents,
    /// Display hints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// A content block of tool results, prompt messages and tool-result content (`ContentBlock`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ContentBlock {
    /// `"text"`.
    #[serde(rename = "text")]
    Text(TextContent),
    /// `"image"`.
    #[serde(rename = "image")]
    Image(ImageContent),
    /// `"audio"`.
    #[serde(rename = "audio")]
    Audio(AudioContent),
    /// `"resource_link"`.
    #[serde(rename = "resource_link")]
    ResourceLink(ResourceLink),
    /// `"resource"`.
    #[serde(rename = "resource")]
    Resource(EmbeddedResource),
}

impl ContentBlock {
    /// A text block.
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(TextContent::new(text))
    }

    /// The text of a text block.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(&t.text),
            _ => None,
        }
    }
}

/// A request from the model to call a tool, in sampling (`type: "tool_use"`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ToolUseContent {
    /// Identifier matched by the corresponding [`ToolResultContent::tool_use_id`].
    pub id: String,
    /// Tool name.
    pub name: String,
    /// Tool arguments.
    pub input: JsonObject,
    /// Metadata (clients SHOULD preserve it in later sampling requests).
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// The result of a tool use, in sampling (`type: "tool_result"`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolResultContent {
    /// The [`ToolUseContent::id`] this answers.
    pub tool_use_id: String,
    /// Unstructured result, as in `CallToolResult.content`.
    pub content: Vec<ContentBlock>,
    /// Structured result: any JSON value (`null` included).
    #[serde(
        default,
        deserialize_with = "present_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub structured_content: Option<Value>,
    /// Whether the tool use failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// Metadata (clients SHOULD preserve it in later sampling requests).
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// A content block of a sampling message (`SamplingMessageContentBlock`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum SamplingContent {
    /// `"text"`.
    #[serde(rename = "text")]
    Text(TextContent),
    /// `"image"`.
    #[serde(rename = "image")]
    Image(ImageContent),
    /// `"audio"`.
    #[serde(rename = "audio")]
    Audio(AudioContent),
    /// `"tool_use"`.
    #[serde(rename = "tool_use")]
    ToolUse(ToolUseContent),
    /// `"tool_result"`.
    #[serde(rename = "tool_result")]
    ToolResult(ToolResultContent),
}

/// The `content` of a sampling message or `CreateMessageResult`: one block or an array of
/// blocks (the array form is needed for parallel tool uses and results).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SamplingMessageContent {
    /// A single block (serialized as an object).
    Single(SamplingContent),
    /// Several blocks (serialized as an array).
    Multiple(Vec<SamplingContent>),
}

impl SamplingMessageContent {
    /// The blocks, whichever form was used.
    #[must_use]
    pub fn blocks(&self) -> &[SamplingContent] {
        match self {
            Self::Single(block) => std::slice::from_ref(block),
            Self::Multiple(blocks) => blocks,
        }
    }
}

impl From<SamplingContent> for SamplingMessageContent {
    fn from(block: SamplingContent) -> Self {
        Self::Single(block)
    }
}

impl Serialize for SamplingMessageContent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Single(block) => block.serialize(serializer),
            Self::Multiple(blocks) => blocks.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for SamplingMessageContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        if value.is_array() {
            super::common::from_value_as(value).map(Self::Multiple)
        } else {
            super::common::from_value_as(value).map(Self::Single)
        }
    }
}
