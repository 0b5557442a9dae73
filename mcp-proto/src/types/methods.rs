//! Method names, the [`McpRequest`] / [`McpNotification`] traits with one marker type per
//! method, and the typed dispatch enums [`ClientRequest`], [`ServerRequest`],
//! [`ClientNotification`] and [`ServerNotification`].
//!
//! The dispatch enums are era-agnostic: they know every method of both eras, and
//! [`Availability`] tells in which era a method exists, so a modern server can answer a legacy
//! method with -32601 and vice versa. Methods whose params have the same shape in both eras
//! (`tasks/get`, `tasks/cancel`) have one variant; their *results* differ, which is why the
//! result types hang off the per-era marker types (e.g. [`GetTask`] vs [`LegacyGetTask`]).
//!
//! Parsing treats absent `params` as `{}` (so methods whose params are all optional accept a
//! missing `params`), refuses non-object `params`, tolerates unknown members, and requires the
//! required ones.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::common::{
    EmptyResult, JsonObject, NotificationParams, PaginatedRequestParams, RequestParams,
};
use super::completion::{CompleteRequestParams, CompleteResult};
use super::discover::DiscoverResult;
use super::elicitation::{
    ElicitRequestParams, ElicitResult, ElicitationCompleteNotificationParams,
};
use super::lifecycle::{InitializeRequestParams, InitializeResult, SetLevelRequestParams};
use super::logging::LoggingMessageNotificationParams;
use super::meta::Meta;
use super::mrtr::MrtrResponse;
use super::notifications::{CancelledNotificationParams, ProgressNotificationParams};
use super::prompts::{GetPromptRequestParams, GetPromptResult, ListPromptsResult};
use super::resources::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceRequestParams,
    ReadResourceResult, ResourceUpdatedNotificationParams, SubscribeRequestParams,
};
use super::roots::{ListRootsRequestParams, ListRootsResult};
use super::sampling::{CreateMessageRequestParams, CreateMessageResult};
use super::subscriptions::{
    SubscriptionsAcknowledgedNotificationParams, SubscriptionsListenRequestParams,
    SubscriptionsListenResult,
};
use super::tasks::{self, TaskIdParams, TaskNotificationParams, UpdateTaskRequestParams};
use super::tools::{CallToolRequestParams, CallToolResponse, ListToolsResult};
use super::version::Era;
use crate::jsonrpc::{ErrorCode, ErrorObject, Notification, RawJson, Request, RequestId};

/// `server/discover`.
pub const SERVER_DISCOVER: &str = "server/discover";
/// `tools/list`.
pub const TOOLS_LIST: &str = "tools/list";
/// `tools/call`.
pub const TOOLS_CALL: &str = "tools/call";
/// `prompts/list`.
pub const PROMPTS_LIST: &str = "prompts/list";
/// `prompts/get`.
pub const PROMPTS_GET: &str = "prompts/get";
/// `resources/list`.
pub const RESOURCES_LIST: &str = "resources/list";
/// `resources/templates/list`.
pub const RESOURCES_TEMPLATES_LIST: &str = "resources/templates/list";
/// `resources/read`.
pub const RESOURCES_READ: &str = "resources/read";
/// `skills/list` (the skills extension, SEP-2640).
pub const SKILLS_LIST: &str = "skills/list";
/// `subscriptions/listen`.
pub const SUBSCRIPTIONS_LISTEN: &str = "subscriptions/listen";
/// `completion/complete`.
pub const COMPLETION_COMPLETE: &str = "completion/complete";
/// `sampling/createMessage`.
pub const SAMPLING_CREATE_MESSAGE: &str = "sampling/createMessage";
/// `elicitation/create`.
pub const ELICITATION_CREATE: &str = "elicitation/create";
/// `roots/list`.
pub const ROOTS_LIST: &str = "roots/list";
/// `tasks/get` (tasks extension; also 2025-11-25).
pub const TASKS_GET: &str = "tasks/get";
/// `tasks/update` (tasks extension).
pub const TASKS_UPDATE: &str = "tasks/update";
/// `tasks/cancel` (tasks extension; also 2025-11-25).
pub const TASKS_CANCEL: &str = "tasks/cancel";
/// `tasks/result` (2025-11-25).
pub const TASKS_RESULT: &str = "tasks/result";
/// `tasks/list` (2025-11-25).
pub const TASKS_LIST: &str = "tasks/list";
/// `initialize` (legacy).
pub const INITIALIZE: &str = "initialize";
/// `ping` (legacy).
pub const PING: &str = "ping";
/// `logging/setLevel` (legacy).
pub const LOGGING_SET_LEVEL: &str = "logging/setLevel";
/// `resources/subscribe` (legacy).
pub const RESOURCES_SUBSCRIBE: &str = "resources/subscribe";
/// `resources/unsubscribe` (legacy).
pub const RESOURCES_UNSUBSCRIBE: &str = "resources/unsubscribe";

/// `notifications/cancelled`.
pub const NOTIFICATION_CANCELLED: &str = "notifications/cancelled";
/// `notifications/progress`.
pub const NOTIFICATION_PROGRESS: &str = "notifications/progress";
/// `notifications/message`.
pub const NOTIFICATION_MESSAGE: &str = "notifications/message";
/// `notifications/resources/updated`.
pub const NOTIFICATION_RESOURCES_UPDATED: &str = "notifications/resources/updated";
/// `notifications/resources/list_changed`.
pub const NOTIFICATION_RESOURCES_LIST_CHANGED: &str = "notifications/resources/list_changed";
/// `notifications/tools/list_changed`.
pub const NOTIFICATION_TOOLS_LIST_CHANGED: &str = "notifications/tools/list_changed";
/// `notifications/prompts/list_changed`.
pub const NOTIFICATION_PROMPTS_LIST_CHANGED: &str = "notifications/prompts/list_changed";
/// `notifications/subscriptions/acknowledged`.
pub const NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED: &str =
    "notifications/subscriptions/acknowledged";
/// `notifications/tasks` (tasks extension).
pub const NOTIFICATION_TASKS: &str = "notifications/tasks";
/// `notifications/initialized` (legacy).
pub const NOTIFICATION_INITIALIZED: &str = "notifications/initialized";
/// `notifications/roots/list_changed` (legacy).
pub const NOTIFICATION_ROOTS_LIST_CHANGED: &str = "notifications/roots/list_changed";
/// `notifications/elicitation/complete` (2025-11-25).
pub const NOTIFICATION_ELICITATION_COMPLETE: &str = "notifications/elicitation/complete";
/// `notifications/tasks/status` (2025-11-25).
pub const NOTIFICATION_TASKS_STATUS: &str = "notifications/tasks/status";

/// In which era a method exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Availability {
    /// Both eras.
    Both,
    /// 2026-07-28 and later only (core, or the tasks extension).
    Modern,
    /// 2025-11-25 and earlier only.
    Legacy,
}

impl Availability {
    /// True when the method exists in `era`.
    #[must_use]
    pub fn includes(self, era: Era) -> bool {
        match self {
            Self::Both => true,
            Self::Modern => era == Era::Modern,
            Self::Legacy => era == Era::Legacy,
        }
    }
}

/// Why a method call could not be turned into a typed value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// No such method (answer -32601).
    #[error("method not found: {method}")]
    UnknownMethod {
        /// The method name.
        method: String,
    },
    /// Known method, bad params (answer -32602).
    #[error("invalid params for {method}: {message}")]
    InvalidParams {
        /// The method name.
        method: String,
        /// What was wrong (the serde message).
        message: String,
    },
}

impl ParseError {
    /// -32601 or -32602.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::UnknownMethod { .. } => ErrorCode::METHOD_NOT_FOUND,
            Self::InvalidParams { .. } => ErrorCode::INVALID_PARAMS,
        }
    }

    /// The error object to answer a request with.
    #[must_use]
    pub fn to_error_object(&self) -> ErrorObject {
        ErrorObject::new(self.code(), self.to_string())
    }
}

/// Parses `params` (absent means `{}`) as `T`.
fn parse_params<T: DeserializeOwned>(
    method: &str,
    params: Option<&RawJson>,
) -> Result<T, ParseError> {
    let invalid = |message: String| ParseError::InvalidParams {
        method: method.to_owned(),
        message,
    };
    let parsed = match params {
        None => serde_json::from_str("{}"),
        Some(raw) if !raw.is_object() => {
            return Err(invalid("params must be an object".to_owned()));
        }
        Some(raw) => raw.parse(),
    };
    parsed.map_err(|e| invalid(e.to_string()))
}

/// A request method: its name, params and result types.
pub trait McpRequest {
    /// The method name.
    const METHOD: &'static str;
    /// In which era it exists.
    const AVAILABILITY: Availability;
    /// The params type.
    type Params: Serialize + DeserializeOwned;
    /// The result type (for MRTR-capable methods, the polymorphic response).
    type Result: Serialize + DeserializeOwned;

    /// Parses `params` (absent means `{}`).
    ///
    /// # Errors
    /// [`ParseError::InvalidParams`].
    fn parse_params(params: Option<&RawJson>) -> Result<Self::Params, ParseError> {
        parse_params(Self::METHOD, params)
    }

    /// Parses a response's `result`.
    ///
    /// # Errors
    /// The serde error when the result does not fit.
    fn parse_result(result: &RawJson) -> Result<Self::Result, serde_json::Error> {
        result.parse()
    }

    /// Builds the JSON-RPC request.
    ///
    /// # Errors
    /// Only if serialization fails.
    fn request(id: RequestId, params: &Self::Params) -> Result<Request, serde_json::Error> {
        Ok(Request {
            id,
            method: Self::METHOD.to_owned(),
            params: Some(RawJson::from_serialize(params)?),
        })
    }
}

/// A notification method: its name and params type.
pub trait McpNotification {
    /// The method name.
    const METHOD: &'static str;
    /// In which era it exists.
    const AVAILABILITY: Availability;
    /// The params type.
    type Params: Serialize + DeserializeOwned;

    /// Parses `params` (absent means `{}`).
    ///
    /// # Errors
    /// [`ParseError::InvalidParams`].
    fn parse_params(params: Option<&RawJson>) -> Result<Self::Params, ParseError> {
        parse_params(Self::METHOD, params)
    }

    /// Builds the JSON-RPC notification.
    ///
    /// # Errors
    /// Only if serialization fails.
    fn notification(params: &Self::Params) -> Result<Notification, serde_json::Error> {
        Ok(Notification {
            method: Self::METHOD.to_owned(),
            params: Some(RawJson::from_serialize(params)?),
        })
    }
}

macro_rules! request_markers {
    ($( $(#[$doc:meta])* $name:ident: $method:ident, $avail:ident, $params:ty => $result:ty; )*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name;

        impl McpRequest for $name {
            const METHOD: &'static str = $method;
            const AVAILABILITY: Availability = Availability::$avail;
            type Params = $params;
            type Result = $result;
        }
    )*};
}

macro_rules! notification_markers {
    ($( $(#[$doc:meta])* $name:ident: $method:ident, $avail:ident, $params:ty; )*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name;

        impl McpNotification for $name {
            const METHOD: &'static str = $method;
            const AVAILABILITY: Availability = Availability::$avail;
            type Params = $params;
        }
    )*};
}

request_markers! {
    /// `server/discover`.
    Discover: SERVER_DISCOVER, Modern, RequestParams => DiscoverResult;
    /// `tools/list`.
    ListTools: TOOLS_LIST, Both, PaginatedRequestParams => ListToolsResult;
    /// `tools/call` (result: complete, `input_required`, or a task).
    CallTool: TOOLS_CALL, Both, CallToolRequestParams => CallToolResponse;
    /// `prompts/list`.
    ListPrompts: PROMPTS_LIST, Both, PaginatedRequestParams => ListPromptsResult;
    /// `prompts/get` (result: complete or `input_required`).
    GetPrompt: PROMPTS_GET, Both, GetPromptRequestParams => MrtrResponse<GetPromptResult>;
    /// `resources/list`.
    ListResources: RESOURCES_LIST, Both, PaginatedRequestParams => ListResourcesResult;
    /// `resources/templates/list`.
    ListResourceTemplates: RESOURCES_TEMPLATES_LIST, Both, PaginatedRequestParams => ListResourceTemplatesResult;
    /// `resources/read` (result: complete or `input_required`).
    ReadResource: RESOURCES_READ, Both, ReadResourceRequestParams => MrtrResponse<ReadResourceResult>;
    /// `subscriptions/listen`.
    SubscriptionsListen: SUBSCRIPTIONS_LISTEN, Modern, SubscriptionsListenRequestParams => SubscriptionsListenResult;
    /// `completion/complete`.
    Complete: COMPLETION_COMPLETE, Both, CompleteRequestParams => CompleteResult;
    /// `sampling/createMessage` (modern: an MRTR input request; legacy: server to client).
    CreateMessage: SAMPLING_CREATE_MESSAGE, Both, CreateMessageRequestParams => CreateMessageResult;
    /// `elicitation/create` (modern: an MRTR input request; legacy: server to client).
    Elicit: ELICITATION_CREATE, Both, ElicitRequestParams => ElicitResult;
    /// `roots/list` (modern: an MRTR input request; legacy: server to client).
    ListRoots: ROOTS_LIST, Both, ListRootsRequestParams => ListRootsResult;
    /// `tasks/get` of the tasks extension.
    GetTask: TASKS_GET, Modern, TaskIdParams => tasks::GetTaskResult;
    /// `tasks/update` of the tasks extension.
    UpdateTask: TASKS_UPDATE, Modern, UpdateTaskRequestParams => tasks::UpdateTaskResult;
    /// `tasks/cancel` of the tasks extension.
    CancelTask: TASKS_CANCEL, Modern, TaskIdParams => tasks::CancelTaskResult;
    /// Legacy `initialize`.
    Initialize: INITIALIZE, Legacy, InitializeRequestParams => InitializeResult;
    /// Legacy `ping`.
    Ping: PING, Legacy, RequestParams => EmptyResult;
    /// Legacy `logging/setLevel`.
    SetLevel: LOGGING_SET_LEVEL, Legacy, SetLevelRequestParams => EmptyResult;
    /// Legacy `resources/subscribe`.
    Subscribe: RESOURCES_SUBSCRIBE, Legacy, SubscribeRequestParams => EmptyResult;
    /// Legacy `resources/unsubscribe`.
    Unsubscribe: RESOURCES_UNSUBSCRIBE, Legacy, SubscribeRequestParams => EmptyResult;
    /// 2025-11-25 `tasks/get`.
    LegacyGetTask: TASKS_GET, Legacy, TaskIdParams => tasks::legacy::GetTaskResult;
    /// 2025-11-25 `tasks/result`.
    LegacyGetTaskPayload: TASKS_RESULT, Legacy, TaskIdParams => JsonObject;
    /// 2025-11-25 `tasks/list`.
    LegacyListTasks: TASKS_LIST, Legacy, PaginatedRequestParams => tasks::legacy::ListTasksResult;
    /// 2025-11-25 `tasks/cancel`.
    LegacyCancelTask: TASKS_CANCEL, Legacy, TaskIdParams => tasks::legacy::CancelTaskResult;
}

notification_markers! {
    /// `notifications/cancelled`.
    Cancelled: NOTIFICATION_CANCELLED, Both, CancelledNotificationParams;
    /// `notifications/progress`.
    Progress: NOTIFICATION_PROGRESS, Both, ProgressNotificationParams;
    /// `notifications/message`.
    LoggingMessage: NOTIFICATION_MESSAGE, Both, LoggingMessageNotificationParams;
    /// `notifications/resources/updated`.
    ResourceUpdated: NOTIFICATION_RESOURCES_UPDATED, Both, ResourceUpdatedNotificationParams;
    /// `notifications/resources/list_changed`.
    ResourceListChanged: NOTIFICATION_RESOURCES_LIST_CHANGED, Both, NotificationParams;
    /// `notifications/tools/list_changed`.
    ToolListChanged: NOTIFICATION_TOOLS_LIST_CHANGED, Both, NotificationParams;
    /// `notifications/prompts/list_changed`.
    PromptListChanged: NOTIFICATION_PROMPTS_LIST_CHANGED, Both, NotificationParams;
    /// `notifications/subscriptions/acknowledged`.
    SubscriptionsAcknowledged: NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED, Modern, SubscriptionsAcknowledgedNotificationParams;
    /// `notifications/tasks` of the tasks extension.
    TaskChanged: NOTIFICATION_TASKS, Modern, TaskNotificationParams;
    /// Legacy `notifications/initialized`.
    Initialized: NOTIFICATION_INITIALIZED, Legacy, NotificationParams;
    /// Legacy `notifications/roots/list_changed`.
    RootsListChanged: NOTIFICATION_ROOTS_LIST_CHANGED, Legacy, NotificationParams;
    /// 2025-11-25 `notifications/elicitation/complete`.
    ElicitationComplete: NOTIFICATION_ELICITATION_COMPLETE, Legacy, ElicitationCompleteNotificationParams;
    /// 2025-11-25 `notifications/tasks/status`.
    LegacyTaskStatus: NOTIFICATION_TASKS_STATUS, Legacy, tasks::legacy::TaskStatusNotificationParams;
}

macro_rules! dispatch_enum {
    (
        $(#[$doc:meta])*
        $name:ident {
            $( $(#[$vdoc:meta])* $variant:ident($params:ty) = $method:ident, $avail:ident; )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            $( $(#[$vdoc])* $variant($params), )*
        }

        impl $name {
            /// Every method name this enum knows.
            pub const METHODS: &'static [&'static str] = &[$($method),*];

            /// The method name.
            #[must_use]
            pub fn method(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => $method, )*
                }
            }

            /// Parses a method name and its params (absent params mean `{}`).
            ///
            /// # Errors
            /// [`ParseError::UnknownMethod`] (-32601) or [`ParseError::InvalidParams`]
            /// (-32602, with the serde message).
            pub fn parse(method: &str, params: Option<&RawJson>) -> Result<Self, ParseError> {
                match method {
                    $( $method => parse_params(method, params).map(Self::$variant), )*
                    _ => Err(ParseError::UnknownMethod { method: method.to_owned() }),
                }
            }

            /// Encodes the params.
            ///
            /// # Errors
            /// Only if serialization fails.
            pub fn to_params(&self) -> Result<RawJson, serde_json::Error> {
                match self {
                    $( Self::$variant(params) => RawJson::from_serialize(params), )*
                }
            }

            /// In which era the method exists.
            #[must_use]
            pub fn availability(&self) -> Availability {
                match self {
                    $( Self::$variant(_) => Availability::$avail, )*
                }
            }

            /// True when the method exists in `era`.
            #[must_use]
            pub fn is_available_in(&self, era: Era) -> bool {
                self.availability().includes(era)
            }

            /// In which era the method named `method` exists, or `None` for an unknown method;
            /// answers the -32601 question before any params are parsed.
            #[must_use]
            pub fn method_availability(method: &str) -> Option<Availability> {
                match method {
                    $( $method => Some(Availability::$avail), )*
                    _ => None,
                }
            }
        }
    };
}

dispatch_enum! {
    /// A request from client to server, in either era.
    ClientRequest {
        /// `server/discover`.
        Discover(RequestParams) = SERVER_DISCOVER, Modern;
        /// `tools/list`.
        ListTools(PaginatedRequestParams) = TOOLS_LIST, Both;
        /// `tools/call`.
        CallTool(CallToolRequestParams) = TOOLS_CALL, Both;
        /// `prompts/list`.
        ListPrompts(PaginatedRequestParams) = PROMPTS_LIST, Both;
        /// `prompts/get`.
        GetPrompt(GetPromptRequestParams) = PROMPTS_GET, Both;
        /// `resources/list`.
        ListResources(PaginatedRequestParams) = RESOURCES_LIST, Both;
        /// `resources/templates/list`.
        ListResourceTemplates(PaginatedRequestParams) = RESOURCES_TEMPLATES_LIST, Both;
        /// `resources/read`.
        ReadResource(ReadResourceRequestParams) = RESOURCES_READ, Both;
        /// `skills/list` (the skills extension, SEP-2640).
        ListSkills(PaginatedRequestParams) = SKILLS_LIST, Both;
        /// `subscriptions/listen`.
        SubscriptionsListen(SubscriptionsListenRequestParams) = SUBSCRIPTIONS_LISTEN, Modern;
        /// `completion/complete`.
        Complete(CompleteRequestParams) = COMPLETION_COMPLETE, Both;
        /// `tasks/get` (extension, or 2025-11-25 core).
        GetTask(TaskIdParams) = TASKS_GET, Both;
        /// `tasks/update` (extension).
        UpdateTask(UpdateTaskRequestParams) = TASKS_UPDATE, Modern;
        /// `tasks/cancel` (extension, or 2025-11-25 core).
        CancelTask(TaskIdParams) = TASKS_CANCEL, Both;
        /// `initialize`.
        Initialize(Box<InitializeRequestParams>) = INITIALIZE, Legacy;
        /// `ping`.
        Ping(RequestParams) = PING, Legacy;
        /// `logging/setLevel`.
        SetLevel(SetLevelRequestParams) = LOGGING_SET_LEVEL, Legacy;
        /// `resources/subscribe`.
        Subscribe(SubscribeRequestParams) = RESOURCES_SUBSCRIBE, Legacy;
        /// `resources/unsubscribe`.
        Unsubscribe(SubscribeRequestParams) = RESOURCES_UNSUBSCRIBE, Legacy;
        /// `tasks/result` (2025-11-25).
        GetTaskPayload(TaskIdParams) = TASKS_RESULT, Legacy;
        /// `tasks/list` (2025-11-25).
        ListTasks(PaginatedRequestParams) = TASKS_LIST, Legacy;
    }
}

impl ClientRequest {
    /// The request's `_meta` (every client request's params have the member).
    #[must_use]
    pub fn meta(&self) -> Option<&Meta> {
        match self {
            Self::Discover(p) | Self::Ping(p) => p.meta.as_ref(),
            Self::ListTools(p)
            | Self::ListPrompts(p)
            | Self::ListResources(p)
            | Self::ListResourceTemplates(p)
            | Self::ListSkills(p)
            | Self::ListTasks(p) => p.meta.as_ref(),
            Self::CallTool(p) => p.meta.as_ref(),
            Self::GetPrompt(p) => p.meta.as_ref(),
            Self::ReadResource(p) => p.meta.as_ref(),
            Self::SubscriptionsListen(p) => p.meta.as_ref(),
            Self::Complete(p) => p.meta.as_ref(),
            Self::GetTask(p) | Self::CancelTask(p) | Self::GetTaskPayload(p) => p.meta.as_ref(),
            Self::UpdateTask(p) => p.meta.as_ref(),
            Self::Initialize(p) => p.meta.as_ref(),
            Self::SetLevel(p) => p.meta.as_ref(),
            Self::Subscribe(p) | Self::Unsubscribe(p) => p.meta.as_ref(),
        }
    }
}

dispatch_enum! {
    /// A request from server to client: legacy sessions only (modern servers never send
    /// requests; they use MRTR).
    ServerRequest {
        /// `ping`.
        Ping(RequestParams) = PING, Legacy;
        /// `sampling/createMessage`.
        CreateMessage(Box<CreateMessageRequestParams>) = SAMPLING_CREATE_MESSAGE, Legacy;
        /// `elicitation/create`.
        Elicit(ElicitRequestParams) = ELICITATION_CREATE, Legacy;
        /// `roots/list`.
        ListRoots(ListRootsRequestParams) = ROOTS_LIST, Legacy;
        /// `tasks/get` (2025-11-25).
        GetTask(TaskIdParams) = TASKS_GET, Legacy;
        /// `tasks/result` (2025-11-25).
        GetTaskPayload(TaskIdParams) = TASKS_RESULT, Legacy;
        /// `tasks/list` (2025-11-25).
        ListTasks(PaginatedRequestParams) = TASKS_LIST, Legacy;
        /// `tasks/cancel` (2025-11-25).
        CancelTask(TaskIdParams) = TASKS_CANCEL, Legacy;
    }
}

dispatch_enum! {
    /// A notification from client to server, in either era.
    ClientNotification {
        /// `notifications/cancelled`.
        Cancelled(CancelledNotificationParams) = NOTIFICATION_CANCELLED, Both;
        /// `notifications/progress` (legacy: either side may report progress).
        Progress(ProgressNotificationParams) = NOTIFICATION_PROGRESS, Legacy;
        /// `notifications/initialized`.
        Initialized(NotificationParams) = NOTIFICATION_INITIALIZED, Legacy;
        /// `notifications/roots/list_changed`.
        RootsListChanged(NotificationParams) = NOTIFICATION_ROOTS_LIST_CHANGED, Legacy;
        /// `notifications/tasks/status` (2025-11-25).
        TaskStatus(tasks::legacy::TaskStatusNotificationParams) = NOTIFICATION_TASKS_STATUS, Legacy;
    }
}

dispatch_enum! {
    /// A notification from server to client, in either era.
    ServerNotification {
        /// `notifications/cancelled` (modern: only to end a `subscriptions/listen`).
        Cancelled(CancelledNotificationParams) = NOTIFICATION_CANCELLED, Both;
        /// `notifications/progress`.
        Progress(ProgressNotificationParams) = NOTIFICATION_PROGRESS, Both;
        /// `notifications/message`.
        LoggingMessage(LoggingMessageNotificationParams) = NOTIFICATION_MESSAGE, Both;
        /// `notifications/resources/updated`.
        ResourceUpdated(ResourceUpdatedNotificationParams) = NOTIFICATION_RESOURCES_UPDATED, Both;
        /// `notifications/resources/list_changed`.
        ResourceListChanged(NotificationParams) = NOTIFICATION_RESOURCES_LIST_CHANGED, Both;
        /// `notifications/tools/list_changed`.
        ToolListChanged(NotificationParams) = NOTIFICATION_TOOLS_LIST_CHANGED, Both;
        /// `notifications/prompts/list_changed`.
        PromptListChanged(NotificationParams) = NOTIFICATION_PROMPTS_LIST_CHANGED, Both;
        /// `notifications/subscriptions/acknowledged`.
        SubscriptionsAcknowledged(SubscriptionsAcknowledgedNotificationParams) = NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED, Modern;
        /// `notifications/tasks` (tasks extension).
        TaskChanged(TaskNotificationParams) = NOTIFICATION_TASKS, Modern;
        /// `notifications/elicitation/complete` (2025-11-25).
        ElicitationComplete(ElicitationCompleteNotificationParams) = NOTIFICATION_ELICITATION_COMPLETE, Legacy;
        /// `notifications/tasks/status` (2025-11-25).
        TaskStatus(tasks::legacy::TaskStatusNotificationParams) = NOTIFICATION_TASKS_STATUS, Legacy;
    }
}

macro_rules! request_conversions {
    ($($name:ident),*) => {$(
        impl $name {
            /// Parses a decoded JSON-RPC request.
            ///
            /// # Errors
            /// As [`Self::parse`].
            pub fn from_request(request: &Request) -> Result<Self, ParseError> {
                Self::parse(&request.method, request.params.as_ref())
            }

            /// Builds the JSON-RPC request with `id`.
            ///
            /// # Errors
            /// Only if serialization fails.
            pub fn to_request(&self, id: RequestId) -> Result<Request, serde_json::Error> {
                Ok(Request {
                    id,
                    method: self.method().to_owned(),
                    params: Some(self.to_params()?),
                })
            }
        }
    )*};
}

macro_rules! notification_conversions {
    ($($name:ident),*) => {$(
        impl $name {
            /// Parses a decoded JSON-RPC notification.
            ///
            /// # Errors
            /// As [`Self::parse`].
            pub fn from_notification(notification: &Notification) -> Result<Self, ParseError> {
                Self::parse(&notification.method, notification.params.as_ref())
            }

            /// Builds the JSON-RPC notification.
            ///
            /// # Errors
            /// Only if serialization fails.
            pub fn to_notification(&self) -> Result<Notification, serde_json::Error> {
                Ok(Notification {
                    method: self.method().to_owned(),
                    params: Some(self.to_params()?),
                })
            }
        }
    )*};
}

request_conversions!(ClientRequest, ServerRequest);
notification_conversions!(ClientNotification, ServerNotification);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ProgressToken;
    use crate::types::version::ProtocolVersion;

    fn raw(text: &str) -> RawJson {
        RawJson::from_text(text).unwrap()
    }

    #[test]
    fn a_requests_meta_is_its_params_meta() {
        let call = ClientRequest::parse(
            TOOLS_CALL,
            Some(&raw(r#"{"_meta":{"progressToken":7},"name":"echo"}"#)),
        )
        .unwrap();
        assert_eq!(
            call.meta().map(|meta| meta.progress_token()),
            Some(Ok(Some(ProgressToken::Number(7))))
        );
        let list = ClientRequest::parse(TOOLS_LIST, None).unwrap();
        assert!(list.meta().is_none());
    }

    #[test]
    fn known_method_with_good_params_parses() {
        let params = raw(
            r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}},"name":"get_weather","arguments":{"city":"Paris"},"unknown":1}"#,
        );
        let parsed = ClientRequest::parse(TOOLS_CALL, Some(&params)).unwrap();
        let ClientRequest::CallTool(call) = &parsed else {
            panic!("wrong variant: {parsed:?}");
        };
        assert_eq!(call.name, "get_weather");
        let meta = call.meta.as_ref().unwrap().modern_request_fields().unwrap();
        assert_eq!(meta.protocol_version, ProtocolVersion::V2026_07_28);
        assert_eq!(parsed.method(), TOOLS_CALL);
        assert!(parsed.is_available_in(Era::Modern) && parsed.is_available_in(Era::Legacy));
    }

    #[test]
    fn absent_params_mean_empty_object() {
        assert_eq!(
            ClientRequest::parse(PING, None).unwrap(),
            ClientRequest::Ping(RequestParams::default())
        );
        assert_eq!(
            ServerNotification::parse(NOTIFICATION_TOOLS_LIST_CHANGED, None).unwrap(),
            ServerNotification::ToolListChanged(NotificationParams::default())
        );
        // Required members are still required.
        let err = ClientRequest::parse(TOOLS_CALL, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::INVALID_PARAMS);
    }

    #[test]
    fn unknown_method_is_method_not_found() {
        let err = ClientRequest::parse("tools/explode", Some(&raw("{}"))).unwrap_err();
        assert_eq!(
            err,
            ParseError::UnknownMethod {
                method: "tools/explode".to_owned()
            }
        );
        assert_eq!(err.code(), ErrorCode::METHOD_NOT_FOUND);
        assert_eq!(err.to_error_object().code, ErrorCode::METHOD_NOT_FOUND);
        // A server-to-client method is unknown to the client-request enum.
        let err = ClientRequest::parse(SAMPLING_CREATE_MESSAGE, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::METHOD_NOT_FOUND);
        let err = ServerNotification::parse(NOTIFICATION_INITIALIZED, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::METHOD_NOT_FOUND);
    }

    #[test]
    fn bad_params_are_invalid_params_with_serde_message() {
        let err = ClientRequest::parse(TOOLS_CALL, Some(&raw(r#"{"arguments":{}}"#))).unwrap_err();
        let ParseError::InvalidParams { method, message } = &err else {
            panic!("wrong error: {err:?}");
        };
        assert_eq!(method, TOOLS_CALL);
        assert!(message.contains("missing field `name`"), "{message}");
        assert_eq!(err.code(), ErrorCode::INVALID_PARAMS);

        let err = ClientRequest::parse(TOOLS_CALL, Some(&raw(r#"{"name":5}"#))).unwrap_err();
        assert_eq!(err.code(), ErrorCode::INVALID_PARAMS);

        // Non-object params are refused even where positional decoding would succeed.
        let err = ClientRequest::parse(TOOLS_CALL, Some(&raw(r#"["x"]"#))).unwrap_err();
        assert_eq!(err.code(), ErrorCode::INVALID_PARAMS);

        let err = ServerNotification::parse(
            NOTIFICATION_MESSAGE,
            Some(&raw(r#"{"level":"loud","data":1}"#)),
        )
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::INVALID_PARAMS);
    }

    #[test]
    fn encode_then_parse_round_trips() {
        let mut meta = Meta::new();
        meta.set_protocol_version(&ProtocolVersion::V2026_07_28);
        let request = ClientRequest::ListTools(PaginatedRequestParams {
            meta: Some(meta),
            cursor: Some(String::new()),
        });
        let wire = request.to_request(RequestId::Number(7)).unwrap();
        assert_eq!(wire.method, TOOLS_LIST);
        assert_eq!(ClientRequest::from_request(&wire).unwrap(), request);

        let notification = ServerNotification::Progress(ProgressNotificationParams {
            meta: None,
            progress_token: 1.into(),
            progress: 50.into(),
            total: None,
            message: None,
        });
        let wire = notification.to_notification().unwrap();
        assert_eq!(
            wire.params.as_ref().unwrap().get(),
            r#"{"progressToken":1,"progress":50}"#
        );
        assert_eq!(
            ServerNotification::from_notification(&wire).unwrap(),
            notification
        );
    }

    #[test]
    fn availability_by_era() {
        let initialize = ClientRequest::Initialize(Box::new(InitializeRequestParams::new(
            crate::types::common::Implementation::new("c", "1"),
            crate::types::capabilities::ClientCapabilities::default(),
        )));
        assert!(!initialize.is_available_in(Era::Modern));
        assert!(!ClientRequest::Discover(RequestParams::default()).is_available_in(Era::Legacy));
        assert!(ClientRequest::METHODS.contains(&TASKS_UPDATE));
        assert_eq!(<CallTool as McpRequest>::METHOD, TOOLS_CALL);
        assert_eq!(
            <LegacyGetTask as McpRequest>::METHOD,
            <GetTask as McpRequest>::METHOD
        );
    }

    #[test]
    fn typed_result_decoding_by_result_type() {
        let complete = raw(r#"{"resultType":"complete","content":[]}"#);
        assert!(matches!(
            CallTool::parse_result(&complete).unwrap(),
            CallToolResponse::Complete(_)
        ));
        let legacy = raw(r#"{"content":[{"type":"text","text":"hi"}]}"#);
        assert!(matches!(
            CallTool::parse_result(&legacy).unwrap(),
            CallToolResponse::Complete(_)
        ));
        let input = raw(r#"{"resultType":"input_required","requestState":"s"}"#);
        assert!(matches!(
            CallTool::parse_result(&input).unwrap(),
            CallToolResponse::InputRequired(_)
        ));
        let task = raw(
            r#"{"resultType":"task","taskId":"t","status":"working","createdAt":"a","lastUpdatedAt":"b","ttlMs":null}"#,
        );
        assert!(matches!(
            CallTool::parse_result(&task).unwrap(),
            CallToolResponse::Task(_)
        ));
        assert!(CallTool::parse_result(&raw(r#"{"resultType":"bogus","content":[]}"#)).is_err());
        assert!(GetPrompt::parse_result(&task).is_err());
    }
}
