//! Capability gating, shared by both roles: which capability a method needs on the other side.
//! A client refuses to send a request the server did not advertise a capability for, and a
//! server answers such a request with -32601; the same tables decide both.

use crate::types::methods::{ClientRequest, ServerRequest};
use crate::types::skills::SKILLS_EXTENSION;
use crate::types::{ClientCapabilities, InputRequest, ServerCapabilities};

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
        ClientRequest::ListSkills(_) => (
            SKILLS_EXTENSION,
            capabilities.extension(SKILLS_EXTENSION).is_some(),
        ),
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
    let needed = match request {
        ServerRequest::CreateMessage(_) => "sampling",
        ServerRequest::Elicit(_) => "elicitation",
        ServerRequest::ListRoots(_) => "roots",
        _ => return None,
    };
    (!declares(capabilities, needed)).then_some(needed)
}

/// The client capability an input request (either era's way of asking) needs, when
/// `capabilities` do not declare it.
#[must_use]
pub fn missing_input_capability(
    request: &InputRequest,
    capabilities: &ClientCapabilities,
) -> Option<&'static str> {
    let needed = match request {
        InputRequest::CreateMessage(_) => "sampling",
        InputRequest::Elicit(_) => "elicitation",
        InputRequest::ListRoots(_) => "roots",
    };
    (!declares(capabilities, needed)).then_some(needed)
}

fn declares(capabilities: &ClientCapabilities, capability: &str) -> bool {
    match capability {
        "sampling" => capabilities.sampling.is_some(),
        "elicitation" => capabilities.elicitation.is_some(),
        "roots" => capabilities.roots.is_some(),
        _ => true,
    }
}
