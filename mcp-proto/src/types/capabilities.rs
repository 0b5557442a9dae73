//! Client and server capabilities.
//!
//! One type per side serves both eras (a superset with optional members): `extensions` is
//! 2026-07-28 only; `roots.listChanged` and `tasks` are 2025-11-25 (legacy) only. Modern
//! clients send their capabilities in every request's `_meta`; modern servers publish theirs in
//! `server/discover`; legacy peers exchange them once in `initialize`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::common::JsonObject;
use super::tasks::legacy::{ClientTasksCapability, ServerTasksCapability};

/// Extension settings by extension identifier (e.g. `io.modelcontextprotocol/tasks`); `{}`
/// means supported with no settings.
pub type ExtensionMap = BTreeMap<String, JsonObject>;

/// `roots` capability.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RootsCapability {
    /// Legacy only: the client sends `notifications/roots/list_changed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
}

/// `sampling` capability.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SamplingCapability {
    /// Supports `includeContext` other than `none` (deprecated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<JsonObject>,
    /// Supports `tools` and `toolChoice`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<JsonObject>,
}

/// `elicitation` capability; `{}` means form mode only.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ElicitationCapability {
    /// Form mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form: Option<JsonObject>,
    /// URL mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<JsonObject>,
}

impl ElicitationCapability {
    /// Form mode is supported: declared, or nothing declared (`{}` means form).
    #[must_use]
    pub fn supports_form(&self) -> bool {
        self.form.is_some() || self.url.is_none()
    }

    /// URL mode is supported.
    #[must_use]
    pub fn supports_url(&self) -> bool {
        self.url.is_some()
    }
}

/// What a client supports.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClientCapabilities {
    /// Non-standard capabilities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub experimental: Option<BTreeMap<String, JsonObject>>,
    /// Roots (deprecated in 2026-07-28).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roots: Option<RootsCapability>,
    /// Sampling (deprecated in 2026-07-28).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampling: Option<SamplingCapability>,
    /// Elicitation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elicitation: Option<ElicitationCapability>,
    /// 2025-11-25 only: task-augmented requests the client accepts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<ClientTasksCapability>,
    /// 2026-07-28 only: supported extensions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<ExtensionMap>,
}

impl ClientCapabilities {
    /// Form-mode elicitation is declared.
    #[must_use]
    pub fn supports_elicitation_form(&self) -> bool {
        self.elicitation
            .as_ref()
            .is_some_and(ElicitationCapability::supports_form)
    }

    /// URL-mode elicitation is declared.
    #[must_use]
    pub fn supports_elicitation_url(&self) -> bool {
        self.elicitation
            .as_ref()
            .is_some_and(ElicitationCapability::supports_url)
    }

    /// Sampling is declared.
    #[must_use]
    pub fn supports_sampling(&self) -> bool {
        self.sampling.is_some()
    }

    /// Sampling with tools is declared.
    #[must_use]
    pub fn supports_sampling_tools(&self) -> bool {
        self.sampling.as_ref().is_some_and(|s| s.tools.is_some())
    }

    /// Roots are declared.
    #[must_use]
    pub fn supports_roots(&self) -> bool {
        self.roots.is_some()
    }

    /// The settings of extension `id`, when declared.
    #[must_use]
    pub fn extension(&self, id: &str) -> Option<&JsonObject> {
        self.extensions.as_ref()?.get(id)
    }

    /// Declares extension `id` with no settings.
    #[must_use]
    pub fn with_extension(mut self, id: impl Into<String>) -> Self {
        self.extensions
            .get_or_insert_with(ExtensionMap::new)
            .insert(id.into(), JsonObject::new());
        self
    }
}

/// `prompts` capability.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptsCapability {
    /// Sends `notifications/prompts/list_changed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
}

/// `resources` capability.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourcesCapability {
    /// Supports resource subscriptions (`resourceSubscriptions` on `subscriptions/listen`;
    /// legacy `resources/subscribe`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<bool>,
    /// Sends `notifications/resources/list_changed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
}

/// `tools` capability.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolsCapability {
    /// Sends `notifications/tools/list_changed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
}

/// What a server supports.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServerCapabilities {
    /// Non-standard capabilities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub experimental: Option<BTreeMap<String, JsonObject>>,
    /// Sends log messages (deprecated in 2026-07-28).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging: Option<JsonObject>,
    /// Supports `completion/complete`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completions: Option<JsonObject>,
    /// Offers prompts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompts: Option<PromptsCapability>,
    /// Offers resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourcesCapability>,
    /// Offers tools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<ToolsCapability>,
    /// 2025-11-25 only: task-augmented requests the server accepts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<ServerTasksCapability>,
    /// 2026-07-28 only: supported extensions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<ExtensionMap>,
}

impl ServerCapabilities {
    /// The settings of extension `id`, when declared.
    #[must_use]
    pub fn extension(&self, id: &str) -> Option<&JsonObject> {
        self.extensions.as_ref()?.get(id)
    }

    /// Declares extension `id` with no settings.
    #[must_use]
    pub fn with_extension(mut self, id: impl Into<String>) -> Self {
        self.extensions
            .get_or_insert_with(ExtensionMap::new)
            .insert(id.into(), JsonObject::new());
        self
    }
}
