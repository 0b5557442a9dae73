//! `subscriptions/listen` (2026-07-28): a long-lived request whose response stream carries the
//! list-changed and resource-updated notifications the client opted in to.

use serde::{Deserialize, Serialize};

use super::common::ResultType;
use super::meta::{Meta, MetaValueError};
use crate::jsonrpc::RequestId;

/// The notification types a client opts in to (request), or the server agreed to honour
/// (acknowledgement).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionFilter {
    /// `notifications/tools/list_changed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools_list_changed: Option<bool>,
    /// `notifications/prompts/list_changed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompts_list_changed: Option<bool>,
    /// `notifications/resources/list_changed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources_list_changed: Option<bool>,
    /// `notifications/resources/updated` for these URIs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_subscriptions: Option<Vec<String>>,
    /// Tasks extension (`io.modelcontextprotocol/tasks`): `notifications/tasks` for these
    /// task ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_ids: Option<Vec<String>>,
}

impl SubscriptionFilter {
    /// The part of `self` that `allowed` also contains: what a server may acknowledge, given
    /// what it supports.
    #[must_use]
    pub fn intersect(&self, allowed: &Self) -> Self {
        fn flag(a: Option<bool>, b: Option<bool>) -> Option<bool> {
            (a == Some(true) && b == Some(true)).then_some(true)
        }
        fn list(a: Option<&Vec<String>>, b: Option<&Vec<String>>) -> Option<Vec<String>> {
            let (a, b) = (a?, b?);
            Some(a.iter().filter(|x| b.contains(x)).cloned().collect())
        }
        Self {
            tools_list_changed: flag(self.tools_list_changed, allowed.tools_list_changed),
            prompts_list_changed: flag(self.prompts_list_changed, allowed.prompts_list_changed),
            resources_list_changed: flag(
                self.resources_list_changed,
                allowed.resources_list_changed,
            ),
            resource_subscriptions: list(
                self.resource_subscriptions.as_ref(),
                allowed.resource_subscriptions.as_ref(),
            ),
            task_ids: list(self.task_ids.as_ref(), allowed.task_ids.as_ref()),
        }
    }
}

/// Params of `subscriptions/listen`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SubscriptionsListenRequestParams {
    /// Request metadata (required in 2026-07-28).
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// What to receive.
    pub notifications: SubscriptionFilter,
}

/// Params of `notifications/subscriptions/acknowledged`, the first message of a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SubscriptionsAcknowledgedNotificationParams {
    /// Notification metadata (carries `subscriptionId`).
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The subset the server honours.
    pub notifications: SubscriptionFilter,
}

/// The result that closes a subscription. Its `_meta` is required and carries
/// `io.modelcontextprotocol/subscriptionId`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionsListenResult {
    /// Result metadata, with the subscription id.
    #[serde(rename = "_meta")]
    pub meta: Meta,
    /// `"complete"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
}

impl SubscriptionsListenResult {
    /// The closing result of the subscription opened by request `id`.
    #[must_use]
    pub fn closing(id: &RequestId) -> Self {
        let mut meta = Meta::new();
        meta.set_subscription_id(id);
        Self {
            meta,
            result_type: Some(ResultType::Complete),
        }
    }

    /// The subscription id (required).
    ///
    /// # Errors
    /// When it is missing or not a string or integer.
    pub fn subscription_id(&self) -> Result<RequestId, MetaValueError> {
        self.meta.subscription_id()?.ok_or(MetaValueError::Missing {
            key: super::meta::SUBSCRIPTION_ID_KEY,
        })
    }
}

impl super::common::McpResultExt for SubscriptionsListenResult {
    fn result_type(&self) -> Option<&ResultType> {
        self.result_type.as_ref()
    }
    fn result_meta(&self) -> Option<&Meta> {
        Some(&self.meta)
    }
}
