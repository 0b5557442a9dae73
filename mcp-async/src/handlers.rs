//! The client's answers to a server's input requests — elicitation, sampling and roots —
//! the same handlers for both eras: a legacy server sends them as requests, a modern one
//! as `input_required` results (MRTR) that the client retries with the answers.
//!
//! ```
//! use mcp_async::client::ClientOptions;
//! use mcp_async::proto::types::{ElicitAction, ElicitResult, ListRootsResult, Root};
//!
//! let options = ClientOptions::new("my-client", "1.0")
//!     .with_roots(vec![Root { uri: "file:///work".into(), name: None, meta: None }])
//!     .on_elicitation(|_params| async move {
//!         // Ask the user; here they always decline.
//!         Ok(ElicitResult::new(ElicitAction::Decline))
//!     });
//! assert!(options.config.capabilities.roots.is_some());
//! assert!(options.config.capabilities.elicitation.is_some());
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use mcp_proto::jsonrpc::ErrorObject;
use mcp_proto::types::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult,
    ElicitationCapability, InputRequest, InputResponse, ListRootsResult, Root, RootsCapability,
    SamplingCapability,
};

use crate::client::ClientOptions;
use crate::runtime::BoxFuture;
use crate::server::HandlerError;

type RootsFn =
    Arc<dyn Fn() -> BoxFuture<'static, Result<ListRootsResult, HandlerError>> + Send + Sync>;
type SamplingFn = Arc<
    dyn Fn(
            CreateMessageRequestParams,
        ) -> BoxFuture<'static, Result<CreateMessageResult, HandlerError>>
        + Send
        + Sync,
>;
type ElicitationFn = Arc<
    dyn Fn(ElicitRequestParams) -> BoxFuture<'static, Result<ElicitResult, HandlerError>>
        + Send
        + Sync,
>;

/// The client's input handlers. Each runs inside the connection's task (so keep it
/// `Send`, and let a slow one — a person answering a form — simply await).
#[derive(Clone, Default)]
pub struct ClientHandlers {
    roots: Option<RootsFn>,
    sampling: Option<SamplingFn>,
    elicitation: Option<ElicitationFn>,
    apply_defaults: bool,
}

impl fmt::Debug for ClientHandlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientHandlers")
            .field("roots", &self.roots.is_some())
            .field("sampling", &self.sampling.is_some())
            .field("elicitation", &self.elicitation.is_some())
            .field("apply_defaults", &self.apply_defaults)
            .finish()
    }
}

impl ClientHandlers {
    /// Answers `request` with the matching handler.
    pub(crate) fn answer(
        &self,
        request: InputRequest,
    ) -> BoxFuture<'static, Result<InputResponse, ErrorObject>> {
        let missing = |method: &str| -> BoxFuture<'static, Result<InputResponse, ErrorObject>> {
            let error = HandlerError::new(
                mcp_proto::jsonrpc::ErrorCode::METHOD_NOT_FOUND,
                format!("{method} is not supported by this client"),
            );
            Box::pin(std::future::ready(Err(error.into_error_object())))
        };
        match request {
            InputRequest::ListRoots(_) => match &self.roots {
                Some(roots) => {
                    let future = roots();
                    Box::pin(async move {
                        future
                            .await
                            .map(InputResponse::ListRoots)
                            .map_err(HandlerError::into_error_object)
                    })
                }
                None => missing("roots/list"),
            },
            InputRequest::CreateMessage(request) => match &self.sampling {
                Some(sampling) => {
                    let future = sampling(request.params);
                    Box::pin(async move {
                        future
                            .await
                            .map(InputResponse::CreateMessage)
                            .map_err(HandlerError::into_error_object)
                    })
                }
                None => missing("sampling/createMessage"),
            },
            InputRequest::Elicit(request) => match &self.elicitation {
                Some(elicitation) => {
                    // The form, kept when its defaults are to fill what the user left out.
                    let form = match &request.params {
                        ElicitRequestParams::Form(form) if self.apply_defaults => {
                            Some(form.requested_schema.clone())
                        }
                        _ => None,
                    };
                    let future = elicitation(request.params);
                    Box::pin(async move {
                        future
                            .await
                            .map(|result| match &form {
                                Some(schema) => result.with_defaults_from(schema),
                                None => result,
                            })
                            .map(InputResponse::Elicit)
                            .map_err(HandlerError::into_error_object)
                    })
                }
                None => missing("elicitation/create"),
            },
        }
    }
}

impl ClientOptions {
    /// Answers `roots/list` with `handler` (and declares the `roots` capability).
    #[must_use]
    pub fn on_roots<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ListRootsResult, HandlerError>> + Send + 'static,
    {
        self.handlers.roots = Some(Arc::new(move || Box::pin(handler())));
        self.config
            .capabilities
            .roots
            .get_or_insert_with(RootsCapability::default);
        self
    }

    /// Answers `roots/list` with a fixed list (and declares the `roots` capability).
    #[must_use]
    pub fn with_roots(self, roots: Vec<Root>) -> Self {
        let result = ListRootsResult {
            roots,
            ..ListRootsResult::default()
        };
        self.on_roots(move || std::future::ready(Ok(result.clone())))
    }

    /// Answers `sampling/createMessage` with `handler` (and declares `sampling`).
    #[must_use]
    pub fn on_sampling<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(CreateMessageRequestParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CreateMessageResult, HandlerError>> + Send + 'static,
    {
        self.handlers.sampling = Some(Arc::new(move |params| Box::pin(handler(params))));
        self.config
            .capabilities
            .sampling
            .get_or_insert_with(SamplingCapability::default);
        self
    }

    /// Answers `elicitation/create` with `handler` (and declares `elicitation` for form
    /// mode; add URL mode to `config.capabilities` if the handler opens URLs).
    #[must_use]
    pub fn on_elicitation<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(ElicitRequestParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ElicitResult, HandlerError>> + Send + 'static,
    {
        self.handlers.elicitation = Some(Arc::new(move |params| Box::pin(handler(params))));
        let capability = self
            .config
            .capabilities
            .elicitation
            .get_or_insert_with(ElicitationCapability::default);
        capability.form.get_or_insert_with(Default::default);
        self
    }

    /// Whether an accepted form-mode elicitation gets the schema's `default` for every field
    /// the handler's answer leaves out (SEP-1034), so a handler may return only what the user
    /// changed. Off by default: the handler's content is sent as it is.
    #[must_use]
    pub fn apply_elicitation_defaults(mut self, apply: bool) -> Self {
        self.handlers.apply_defaults = apply;
        self
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use mcp_proto::types::{ElicitAction, ElicitValue, InputRequest, InputResponse};
    use serde_json::json;

    use super::*;

    fn form_request() -> InputRequest {
        serde_json::from_value(json!({
            "method": "elicitation/create",
            "params": {
                "message": "Who are you?",
                "requestedSchema": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "default": "John Doe"},
                        "age": {"type": "integer", "default": 30}
                    }
                }
            }
        }))
        .unwrap()
    }

    /// The user typed only their age.
    fn answer_with(options: ClientOptions) -> ElicitResult {
        let answer = futures_lite::future::block_on(options.handlers.answer(form_request()));
        match answer.unwrap() {
            InputResponse::Elicit(result) => result,
            other => panic!("not an elicitation answer: {other:?}"),
        }
    }

    fn typed_age() -> ClientOptions {
        ClientOptions::new("test", "1").on_elicitation(|_params| async move {
            let mut result = ElicitResult::new(ElicitAction::Accept);
            result
                .content
                .get_or_insert_with(Default::default)
                .insert("age".into(), ElicitValue::Number(41.into()));
            Ok(result)
        })
    }

    #[test]
    fn defaults_fill_the_omitted_fields_of_an_accepted_form_when_asked() {
        let result = answer_with(typed_age().apply_elicitation_defaults(true));
        let content = result.content.unwrap();
        assert_eq!(content.get("age"), Some(&ElicitValue::Number(41.into())));
        assert_eq!(
            content.get("name"),
            Some(&ElicitValue::String("John Doe".into()))
        );
    }

    #[test]
    fn without_the_option_the_answer_is_sent_as_it_is() {
        let result = answer_with(typed_age());
        let content = result.content.unwrap();
        assert_eq!(content.len(), 1);
        assert!(!content.contains_key("name"));
    }
}
