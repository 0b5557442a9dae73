//! MCP types: hand-written serde types for the 2026-07-28 schema and the legacy revisions
//! (2025-11-25 down to 2024-11-05) a dual-era implementation still meets.
//!
//! Conventions:
//! - Members are camelCase; optional members are `Option` and skipped when `None`; arrays the
//!   schema marks optional are `Option<Vec<_>>`, so round trips are exact. JSON `number`
//!   members are [`serde_json::Number`] (so `50` does not come back as `50.0`).
//! - Unknown members are tolerated (never `deny_unknown_fields`) and required ones required.
//! - Where the eras differ, one type is a superset with optional members when that is faithful
//!   to both (e.g. results carry `Option<ResultType>` and optional `ttlMs`/`cacheScope`;
//!   capabilities carry both `extensions` and the legacy `tasks`); types that exist in one era
//!   only are documented as such. The 2025-11-25 tasks, whose shapes clash with the tasks
//!   extension, live in [`tasks::legacy`].
//! - `_meta` on request params is `Option<Meta>`: required in 2026-07-28 (check it with
//!   [`Meta::modern_request_fields`]), optional in legacy requests.
//!
//! Modules: [`common`], [`meta`], [`version`], [`content`], [`tools`], [`resources`],
//! [`prompts`], [`completion`], [`logging`], [`notifications`], [`sampling`],
//! [`elicitation`], [`roots`], [`mrtr`], [`subscriptions`], [`discover`], [`capabilities`],
//! [`lifecycle`], [`tasks`], [`errors`], [`methods`] (names, [`McpRequest`], dispatch enums),
//! [`envelope`] (typed JSON-RPC envelopes with the schema's message names).

/// Defines a unit struct that (de)serializes as one fixed string (a `const` member of the
/// schema such as `"jsonrpc": "2.0"` or `"type": "object"`), rejecting any other value.
macro_rules! literal_tag {
    ($(#[$doc:meta])* $name:ident = $lit:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name;

        impl $name {
            /// The literal.
            pub const VALUE: &'static str = $lit;
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str($lit)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                if value == $lit {
                    Ok(Self)
                } else {
                    Err(serde::de::Error::invalid_value(
                        serde::de::Unexpected::Str(&value),
                        &$lit,
                    ))
                }
            }
        }
    };
}

#[macro_use]
pub mod common;
pub mod capabilities;
pub mod completion;
pub mod content;
pub mod discover;
pub mod elicitation;
pub mod envelope;
pub mod errors;
pub mod lifecycle;
pub mod logging;
pub mod meta;
pub mod methods;
pub mod mrtr;
pub mod notifications;
pub mod prompts;
pub mod resources;
pub mod roots;
pub mod sampling;
pub mod skills;
pub mod subscriptions;
pub mod tasks;
pub mod tools;
pub mod version;

pub use capabilities::{
    ClientCapabilities, ElicitationCapability, ExtensionMap, PromptsCapability,
    ResourcesCapability, RootsCapability, SamplingCapability, ServerCapabilities, ToolsCapability,
};
pub use common::{
    Annotations, CacheScope, Cacheable, Cursor, EmptyResult, Icon, IconTheme, Implementation,
    JsonObject, JsonRpcVersion, McpResultExt, NotificationParams, PaginatedRequestParams,
    ProgressToken, RequestParams, ResultType, Role,
};
pub use completion::{
    CompleteRequestParams, CompleteResult, Completion, CompletionArgument, CompletionContext,
    CompletionReference, PromptReference, ResourceTemplateReference,
};
pub use content::{
    AudioContent, ContentBlock, EmbeddedResource, ImageContent, MediaContent, ResourceLink,
    SamplingContent, SamplingMessageContent, TextContent, ToolResultContent, ToolUseContent,
};
pub use discover::{DiscoverRequestParams, DiscoverResult};
pub use elicitation::{
    BooleanSchema, ElicitAction, ElicitRequestFormParams, ElicitRequestParams,
    ElicitRequestUrlParams, ElicitResult, ElicitValue, ElicitationCompleteNotificationParams,
    ElicitationSchema, EnumOption, LegacyTitledEnumSchema, NumberSchema, NumberType,
    PrimitiveSchemaDefinition, StringFormat, StringSchema, TitledMultiSelectEnumSchema,
    TitledSingleSelectEnumSchema, UntitledMultiSelectEnumSchema, UntitledSingleSelectEnumSchema,
};
pub use errors::{
    ErrorData, ErrorDataError, McpErrorKind, MissingRequiredClientCapabilityData,
    UnsupportedProtocolVersionData, UrlElicitationRequiredData, tasks_extension_required,
};
pub use lifecycle::{InitializeRequestParams, InitializeResult, SetLevelRequestParams};
pub use logging::{LoggingLevel, LoggingMessageNotificationParams};
pub use meta::{Meta, MetaKey, MetaKeyError, MetaValueError, ModernRequestMeta};
pub use methods::{
    Availability, ClientNotification, ClientRequest, McpNotification, McpRequest, ParseError,
    ServerNotification, ServerRequest,
};
pub use mrtr::{
    CreateMessageRequest, ElicitRequest, InputRequest, InputRequests, InputRequiredResult,
    InputResponse, InputResponses, ListRootsRequest, MrtrResponse,
};
pub use notifications::{CancelledNotificationParams, ProgressNotificationParams};
pub use prompts::{
    GetPromptRequestParams, GetPromptResult, ListPromptsResult, Prompt, PromptArgument,
    PromptMessage,
};
pub use resources::{
    BlobResourceContents, ListResourceTemplatesResult, ListResourcesResult,
    ReadResourceRequestParams, ReadResourceResult, Resource, ResourceContents, ResourceTemplate,
    ResourceUpdatedNotificationParams, SubscribeRequestParams, TextResourceContents,
    UnsubscribeRequestParams,
};
pub use roots::{ListRootsRequestParams, ListRootsResult, Root};
pub use sampling::{
    CreateMessageRequestParams, CreateMessageResult, IncludeContext, ModelHint, ModelPreferences,
    SamplingMessage, StopReason, ToolChoice, ToolChoiceMode,
};
pub use subscriptions::{
    SubscriptionFilter, SubscriptionsAcknowledgedNotificationParams,
    SubscriptionsListenRequestParams, SubscriptionsListenResult,
};
pub use tasks::{TASKS_EXTENSION_ID, TaskStatus};
pub use tools::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ListToolsResult, TaskSupport, Tool,
    ToolAnnotations, ToolExecution,
};
pub use version::{Era, LATEST, LATEST_LEGACY, ProtocolVersion};
