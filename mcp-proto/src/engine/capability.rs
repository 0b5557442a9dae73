//! Capability gating, shared by both roles: which capability a method needs on the other side.
//! A client refuses to send a request the server did not advertise a capability for, and a
//! server answers such a request with -32601; the same tables decide both.

use crate::types::methods::{ClientRequest, ServerRequest};
use crate::types::{ClientCapabilities, ServerCapabilities};

/// The server capability `request` needs, when `capabilities` do not offer it.
#[must_use]
pub fn missing_server_capability(
    request: &ClientRequest,
    capabilities: &ServerCapabilities,
) -> Option<&'static str> {
    let (needed, offered) = match request {
        ClientRequest::ListTools(_) | ClientRequest::CallTool(_) => {
            ("tools", capabilities.tools.is_some())
        }
        ClientRequest::ListPrompts(_) | ClientRequest::GetPrompt(_) => {
            ("prompts", capabilities.prompts.is_some())
        }
        ClientRequest::ListResources(_)
        | ClientRequest::ListResourceTemplates(_)
        | ClientRequest::ReadResource(_)
        | ClientRequest::Subscribe(_)
        | ClientRequest::Unsubscribe(_) => ("resources", capabilities.resources.is_some()),
        ClientRequest::Complete(_) => ("completions", capabilities.completions.is_some()),
        ClientRequest::SetLevel(_) => ("logging", capabilities.logging.is_some()),
        _ => return None,
    };
    (!offered).then_some(needed)
}

/// The client capability a (legacy) server→client `request` needs, when `capabilities` do not
/// declare it.
#[must_use]
pub fn missing_client_capability(
    request: &ServerRequest,
    capabilities: &ClientCapabilities,
) -> Option<&'static str> {
    match request {
        ServerRequest::CreateMessage(_) if capabilities.sampling.is_none() => Some("sampling"),
        ServerRequest::Elicit(_) if capabilities.elicitation.is_none() => Some("elicitation"),
        ServerRequest::ListRoots(_) if capabilities.roots.is_none() => Some("roots"),
        _ => None,
    }
}
