//! A group of clients, one per server, e.g. from the `mcpServers` configuration desktop MCP
//! hosts use. Each member owns its connection: a member that fails (unreachable, 401, a
//! crashed process) keeps its own error, exactly as it happened, and the others keep working.
//! Tools are listed under server-prefixed names; [`Group::shutdown`] closes the members one
//! by one and reports each.

use std::collections::BTreeMap;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use mcp_proto::types::{CallToolResult, Tool};
use serde::Deserialize;
use serde_json::Value;

use crate::client::{CallError, Client, ClientOptions, ConnectError, ShutdownReport};
use crate::http_client::{Connector, HttpConnectOptions, connect_http};
use crate::process::{ChildCommand, Spawner, connect_child};
use crate::runtime::BoxFuture;

/// The separator between a server's name and its tool's name in the group's tool names.
pub const PREFIX_SEPARATOR: &str = "__";

/// The `mcpServers` configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServersConfig {
    /// The servers by name.
    #[serde(rename = "mcpServers")]
    pub servers: BTreeMap<String, ServerEntry>,
}

/// How to reach one server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ServerEntry {
    /// A process spoken to over its stdin/stdout.
    Stdio {
        /// The program.
        command: String,
        /// Its arguments.
        #[serde(default)]
        args: Vec<String>,
        /// Variables added to its environment.
        #[serde(default)]
        env: BTreeMap<String, String>,
    },
    /// A Streamable HTTP (or HTTP+SSE) URL.
    Http {
        /// The URL.
        url: String,
        /// Headers for every request (e.g. `Authorization`).
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
}

/// Why a group call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GroupCallError {
    /// No member has that name, or the tool name has no server prefix.
    #[error("no server in the group serves {0}")]
    UnknownTool(String),
    /// The member never connected; its own error.
    #[error("server {server} is not connected: {error}")]
    NotConnected {
        /// The member.
        server: String,
        /// Why it could not connect.
        error: ConnectError,
    },
    /// The member's call failed.
    #[error("server {server}: {error}")]
    Call {
        /// The member.
        server: String,
        /// The failure.
        error: CallError,
    },
}

/// One member of a group.
#[derive(Debug, Clone)]
pub enum Member {
    /// Connected.
    Connected(Client),
    /// Never connected: why.
    Failed(ConnectError),
}

/// Clients of many servers. Cheap to clone (members are handles).
#[derive(Debug, Clone, Default)]
pub struct Group {
    members: BTreeMap<String, Member>,
}

impl Group {
    /// Connects to every server of `config` at once with `connect` (the adapter's transports),
    /// keeping each member's outcome.
    pub async fn connect<F>(config: ServersConfig, connect: F) -> Self
    where
        F: Fn(String, ServerEntry) -> BoxFuture<'static, Result<Client, ConnectError>>,
    {
        let (names, futures): (Vec<String>, Vec<_>) = config
            .servers
            .into_iter()
            .map(|(name, entry)| (name.clone(), connect(name, entry)))
            .unzip();
        let outcomes = join_all(futures).await;
        let members = names
            .into_iter()
            .zip(outcomes)
            .map(|(name, outcome)| {
                let member = match outcome {
                    Ok(client) => Member::Connected(client),
                    Err(error) => {
                        tracing::warn!(server = %name, %error, "server failed to connect");
                        Member::Failed(error)
                    }
                };
                (name, member)
            })
            .collect();
        Self { members }
    }

    /// Connects to every server of `config` at once — processes through `runtime`, URLs
    /// through `connector` — naming each client `<options' name>/<server name>`.
    pub async fn connect_all<R: Spawner, C: Connector + Clone>(
        runtime: R,
        connector: C,
        config: ServersConfig,
        options: ClientOptions,
    ) -> Self {
        Self::connect(config, move |name, entry| {
            let mut options = options.clone();
            options.config.info.name = format!("{}/{name}", options.config.info.name);
            let (runtime, connector) = (runtime.clone(), connector.clone());
            Box::pin(async move {
                match entry {
                    ServerEntry::Stdio { command, args, env } => {
                        let mut child = ChildCommand::new(command).args(args);
                        child.env = env;
                        connect_child(runtime, child, options).await
                    }
                    ServerEntry::Http { url, headers } => {
                        let url = url
                            .parse()
                            .map_err(|e| ConnectError::Io(format!("invalid URL {url}: {e}")))?;
                        let mut http = HttpConnectOptions::new(url);
                        for (name, value) in headers {
                            http = http.with_header(&name, &value).map_err(ConnectError::Io)?;
                        }
                        connect_http(runtime, connector, http, options).await
                    }
                }
            })
        })
        .await
    }

    /// The members by name.
    #[must_use]
    pub fn members(&self) -> &BTreeMap<String, Member> {
        &self.members
    }

    /// The connected member `name`.
    #[must_use]
    pub fn client(&self, name: &str) -> Option<&Client> {
        match self.members.get(name)? {
            Member::Connected(client) => Some(client),
            Member::Failed(_) => None,
        }
    }

    /// Every tool of every connected member, named `<server>__<tool>`. A member whose listing
    /// fails contributes its error instead; the others are listed.
    pub async fn list_tools(&self) -> (Vec<Tool>, Vec<(String, CallError)>) {
        let mut tools = Vec::new();
        let mut failures = Vec::new();
        for (name, member) in &self.members {
            let Member::Connected(client) = member else {
                continue;
            };
            match client.list_tools().await {
                Ok(listed) => tools.extend(listed.into_iter().map(|mut tool| {
                    tool.name = format!("{name}{PREFIX_SEPARATOR}{}", tool.name);
                    tool
                })),
                Err(error) => failures.push((name.clone(), error)),
            }
        }
        (tools, failures)
    }

    /// Calls `<server>__<tool>` on its member.
    ///
    /// # Errors
    /// [`GroupCallError`], with the member's own error inside.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<CallToolResult, GroupCallError> {
        let (server, tool) = name
            .split_once(PREFIX_SEPARATOR)
            .ok_or_else(|| GroupCallError::UnknownTool(name.to_owned()))?;
        match self.members.get(server) {
            None => Err(GroupCallError::UnknownTool(name.to_owned())),
            Some(Member::Failed(error)) => Err(GroupCallError::NotConnected {
                server: server.to_owned(),
                error: error.clone(),
            }),
            Some(Member::Connected(client)) => {
                client
                    .call_tool(tool, arguments)
                    .await
                    .map_err(|error| GroupCallError::Call {
                        server: server.to_owned(),
                        error,
                    })
            }
        }
    }

    /// Closes the members one by one; each member's result: its shutdown report, or the
    /// error it failed to connect with.
    pub async fn shutdown(self) -> Vec<(String, Result<ShutdownReport, ConnectError>)> {
        let mut reports = Vec::with_capacity(self.members.len());
        for (name, member) in self.members {
            let result = match member {
                Member::Connected(client) => Ok(client.shutdown().await),
                Member::Failed(error) => Err(error),
            };
            reports.push((name, result));
        }
        reports
    }
}

/// A server re-exposing `tools` (as listed by [`Group::list_tools`], with server-prefixed
/// names) and routing each call to its member: the `gateway` examples. A member's failure
/// becomes that call's tool error, readable by the model; the other members are unaffected.
#[must_use]
pub fn gateway_server(
    group: &Group,
    tools: Vec<Tool>,
    name: &str,
    version: &str,
) -> crate::server::Server {
    let mut builder = crate::server::Server::builder(name, version);
    for tool in tools {
        let group = group.clone();
        let tool_name = tool.name.clone();
        builder = builder.tool(tool, move |_context, arguments| {
            let group = group.clone();
            let tool_name = tool_name.clone();
            async move {
                match group.call_tool(&tool_name, Value::Object(arguments)).await {
                    Ok(result) => Ok(result),
                    Err(error) => Ok(CallToolResult::error(error.to_string())),
                }
            }
        });
    }
    builder.build()
}

/// Runs the futures concurrently on the current task; their outputs in order.
async fn join_all<T>(futures: Vec<BoxFuture<'static, T>>) -> Vec<T> {
    let mut pending: Vec<Option<Pin<Box<dyn Future<Output = T> + Send>>>> =
        futures.into_iter().map(Some).collect();
    let mut outputs: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut all_done = true;
        for (slot, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => {
                        *output = Some(value);
                        *slot = None;
                    }
                    Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_desktop_config_format_parses() {
        let config: ServersConfig = serde_json::from_value(serde_json::json!({
            "mcpServers": {
                "files": {"command": "npx", "args": ["-y", "server-files", "/tmp"], "env": {"A": "1"}},
                "remote": {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer x"}},
                "bare": {"command": "my-server"}
            }
        }))
        .unwrap();
        assert!(
            matches!(&config.servers["files"], ServerEntry::Stdio { args, env, .. } if args.len() == 3 && env["A"] == "1")
        );
        assert!(
            matches!(&config.servers["remote"], ServerEntry::Http { headers, .. } if headers.len() == 1)
        );
        assert!(
            matches!(&config.servers["bare"], ServerEntry::Stdio { args, .. } if args.is_empty())
        );
    }
}
