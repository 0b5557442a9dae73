//! `server/discover` (2026-07-28): the server's versions, capabilities and instructions.
//! Servers MUST implement it; clients MAY call it first, and use it to detect the era.

use serde::{Deserialize, Serialize};

use super::capabilities::ServerCapabilities;
use super::common::{CacheScope, ResultType};
use super::meta::Meta;
use super::version::ProtocolVersion;

/// Params of `server/discover`: only `_meta`.
pub type DiscoverRequestParams = super::common::RequestParams;

/// Result of `server/discover`. A modern-only type: `ttlMs` and `cacheScope` are required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverResult {
    /// Result metadata (SHOULD carry `io.modelcontextprotocol/serverInfo`).
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `"complete"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// Every protocol version the server supports (legacy ones included).
    pub supported_versions: Vec<ProtocolVersion>,
    /// The server's capabilities.
    pub capabilities: ServerCapabilities,
    /// Guidance for the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Cache lifetime in ms.
    pub ttl_ms: u64,
    /// Cache scope.
    pub cache_scope: CacheScope,
}

impl_result!(DiscoverResult);

impl super::common::Cacheable for DiscoverResult {
    fn ttl_ms(&self) -> Option<u64> {
        Some(self.ttl_ms)
    }
    fn cache_scope(&self) -> Option<CacheScope> {
        Some(self.cache_scope)
    }
}
