//! Every official 2026-07-28 example (`tests/fixtures/examples-2026-07-28/<TypeName>/*.json`)
//! deserialized into the Rust type for its schema type name and re-serialized to the same
//! JSON value. A folder without a mapping fails the test.
//!
//! Mapping notes: full JSON-RPC messages map to the typed envelopes in
//! `mcp_proto::types::envelope` (e.g. `CallToolRequest` = `JsonRpcRequest<CallToolRequestParams>`);
//! content-block structs map to the `type`-tagged enum that owns the discriminator
//! (`TextContent` -> `ContentBlock::Text`); bare error objects map to `jsonrpc::ErrorObject`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Debug;
use std::path::{Path, PathBuf};

use mcp_proto::jsonrpc::{DecodeOptions, ErrorCode, ErrorObject, Message, decode_message};
use mcp_proto::types::envelope;
use mcp_proto::types::methods::{self, ClientNotification, ClientRequest, ServerNotification};
use mcp_proto::types::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

const EXPECTED_FOLDERS: usize = 88;
const EXPECTED_FILES: usize = 129;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/examples-2026-07-28")
}

/// Deserializes `text` as `T`, re-serializes it, and checks the JSON value is unchanged.
fn rt<T: DeserializeOwned + Serialize + Debug>(path: &Path, text: &str) -> T {
    let original: Value = serde_json::from_str(text).unwrap();
    let parsed: T = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{}: does not parse: {e}", path.display()));
    let back = serde_json::to_value(&parsed).unwrap();
    assert_eq!(back, original, "{}: round trip differs", path.display());
    // Parsing from a `Value` (buffered, as inside tagged enums) must give the same JSON.
    let from_value: T = serde_json::from_value(original.clone()).unwrap();
    assert_eq!(serde_json::to_value(&from_value).unwrap(), original);
    parsed
}

fn error_object(path: &Path, text: &str, code: ErrorCode) {
    let error: ErrorObject = rt(path, text);
    assert_eq!(error.code, code, "{}", path.display());
}

/// Checks the per-request `_meta` of a modern request example.
fn modern_meta(meta: Option<&Meta>) {
    let fields = ModernRequestMeta::from_params_meta(meta).unwrap();
    assert_eq!(fields.protocol_version, ProtocolVersion::V2026_07_28);
    assert_eq!(
        fields.client_info.unwrap(),
        Implementation::new("ExampleClient", "1.0.0")
    );
}

fn request<P: DeserializeOwned + Serialize + Debug>(
    path: &Path,
    text: &str,
    method: &str,
    meta: impl Fn(&P) -> Option<&Meta>,
) {
    let req: envelope::JsonRpcRequest<P> = rt(path, text);
    assert_eq!(req.method, method, "{}", path.display());
    modern_meta(meta(req.params.as_ref().unwrap()));
}

/// Full messages also go through the transport decoder and the dispatch enums.
fn dispatch(path: &Path, text: &str) {
    let value: Value = serde_json::from_str(text).unwrap();
    if value.get("jsonrpc").is_none() {
        return;
    }
    match decode_message(text.as_bytes(), &DecodeOptions::default()).unwrap() {
        Message::Request(req) => {
            let parsed = ClientRequest::from_request(&req)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(parsed.method(), req.method);
            assert!(parsed.is_available_in(Era::Modern));
        }
        Message::Notification(n) => {
            let server = ServerNotification::from_notification(&n);
            let client = ClientNotification::from_notification(&n);
            assert!(
                server.is_ok() || client.is_ok(),
                "{}: {server:?} {client:?}",
                path.display()
            );
        }
        Message::Response(_) | Message::Error(_) => {}
    }
}

#[allow(clippy::too_many_lines)]
fn check(folder: &str, path: &Path, text: &str) {
    match folder {
        // Content blocks: the discriminator lives on the tagged enum.
        "TextContent" => assert!(matches!(rt(path, text), ContentBlock::Text(_))),
        "ImageContent" => assert!(matches!(rt(path, text), ContentBlock::Image(_))),
        "AudioContent" => {
            let ContentBlock::Audio(audio) = rt(path, text) else {
                panic!("not audio");
            };
            assert!(audio.decode_data().unwrap().starts_with(b"RIFF"));
        }
        "ResourceLink" => assert!(matches!(rt(path, text), ContentBlock::ResourceLink(_))),
        "EmbeddedResource" => assert!(matches!(
            rt(path, text),
            ContentBlock::Resource(EmbeddedResource {
                resource: ResourceContents::Text(_),
                ..
            })
        )),
        "ToolUseContent" => assert!(matches!(rt(path, text), SamplingContent::ToolUse(_))),
        "ToolResultContent" => assert!(matches!(rt(path, text), SamplingContent::ToolResult(_))),
        "TextResourceContents" => {
            rt::<TextResourceContents>(path, text);
            assert!(matches!(rt(path, text), ResourceContents::Text(_)));
        }
        "BlobResourceContents" => {
            let blob: BlobResourceContents = rt(path, text);
            assert!(blob.decode_blob().unwrap().starts_with(b"\x89PNG"));
            assert!(matches!(rt(path, text), ResourceContents::Blob(_)));
        }
        "Resource" => drop(rt::<Resource>(path, text)),
        "Root" => drop(rt::<Root>(path, text)),
        "SamplingMessage" => drop(rt::<SamplingMessage>(path, text)),
        "ModelPreferences" => drop(rt::<ModelPreferences>(path, text)),
        "Tool" => assert!(rt::<Tool>(path, text).has_object_input_schema()),
        "ClientCapabilities" => drop(rt::<ClientCapabilities>(path, text)),
        "ServerCapabilities" => drop(rt::<ServerCapabilities>(path, text)),

        // Elicitation form fields.
        "StringSchema" => {
            rt::<StringSchema>(path, text);
            assert!(matches!(
                rt(path, text),
                PrimitiveSchemaDefinition::String(_)
            ));
        }
        "NumberSchema" => {
            rt::<NumberSchema>(path, text);
            assert!(matches!(
                rt(path, text),
                PrimitiveSchemaDefinition::Number(_)
            ));
        }
        "BooleanSchema" => {
            rt::<BooleanSchema>(path, text);
            assert!(matches!(
                rt(path, text),
                PrimitiveSchemaDefinition::Boolean(_)
            ));
        }
        "UntitledSingleSelectEnumSchema" => {
            rt::<UntitledSingleSelectEnumSchema>(path, text);
            assert!(matches!(
                rt(path, text),
                PrimitiveSchemaDefinition::UntitledSingleSelect(_)
            ));
        }
        "TitledSingleSelectEnumSchema" => {
            rt::<TitledSingleSelectEnumSchema>(path, text);
            assert!(matches!(
                rt(path, text),
                PrimitiveSchemaDefinition::TitledSingleSelect(_)
            ));
        }
        "UntitledMultiSelectEnumSchema" => {
            rt::<UntitledMultiSelectEnumSchema>(path, text);
            assert!(matches!(
                rt(path, text),
                PrimitiveSchemaDefinition::UntitledMultiSelect(_)
            ));
        }
        "TitledMultiSelectEnumSchema" => {
            rt::<TitledMultiSelectEnumSchema>(path, text);
            assert!(matches!(
                rt(path, text),
                PrimitiveSchemaDefinition::TitledMultiSelect(_)
            ));
        }

        // Params.
        "CallToolRequestParams" => {
            let p: CallToolRequestParams = rt(path, text);
            modern_meta(p.meta.as_ref());
        }
        "CancelledNotificationParams" => drop(rt::<CancelledNotificationParams>(path, text)),
        "CompleteRequestParams" => {
            let p: CompleteRequestParams = rt(path, text);
            modern_meta(p.meta.as_ref());
            assert!(matches!(p.reference, CompletionReference::Prompt(_)));
        }
        "CreateMessageRequestParams" => drop(rt::<CreateMessageRequestParams>(path, text)),
        "ElicitRequestFormParams" => {
            rt::<ElicitRequestFormParams>(path, text);
            assert!(matches!(rt(path, text), ElicitRequestParams::Form(_)));
        }
        "ElicitRequestURLParams" => {
            rt::<ElicitRequestUrlParams>(path, text);
            assert!(matches!(rt(path, text), ElicitRequestParams::Url(_)));
        }
        "GetPromptRequestParams" => {
            let p: GetPromptRequestParams = rt(path, text);
            modern_meta(p.meta.as_ref());
        }
        "LoggingMessageNotificationParams" => {
            drop(rt::<LoggingMessageNotificationParams>(path, text));
        }
        "PaginatedRequestParams" => {
            let p: PaginatedRequestParams = rt(path, text);
            modern_meta(p.meta.as_ref());
        }
        "ProgressNotificationParams" => drop(rt::<ProgressNotificationParams>(path, text)),
        "ResourceUpdatedNotificationParams" => {
            drop(rt::<ResourceUpdatedNotificationParams>(path, text));
        }

        // Results.
        "CallToolResult" => {
            let r: CallToolResult = rt(path, text);
            assert_eq!(r.effective_result_type(), &ResultType::Complete);
            assert!(matches!(rt(path, text), CallToolResponse::Complete(_)));
        }
        "CompleteResult" => drop(rt::<CompleteResult>(path, text)),
        "CreateMessageResult" => drop(rt::<CreateMessageResult>(path, text)),
        "DiscoverResult" => {
            let r: DiscoverResult = rt(path, text);
            assert_eq!(r.supported_versions, [ProtocolVersion::V2026_07_28]);
            let info = r.meta.as_ref().unwrap().server_info().unwrap().unwrap();
            assert_eq!(info.name, "ExampleServer");
        }
        "ElicitResult" => drop(rt::<ElicitResult>(path, text)),
        "GetPromptResult" => {
            rt::<GetPromptResult>(path, text);
            assert!(matches!(
                rt(path, text),
                MrtrResponse::<GetPromptResult>::Complete(_)
            ));
        }
        "InputRequiredResult" => {
            let r: InputRequiredResult = rt(path, text);
            assert!(r.is_well_formed());
            assert!(matches!(rt(path, text), CallToolResponse::InputRequired(_)));
        }
        "ListPromptsResult" => drop(rt::<ListPromptsResult>(path, text)),
        "ListResourceTemplatesResult" => drop(rt::<ListResourceTemplatesResult>(path, text)),
        "ListResourcesResult" => {
            let r: ListResourcesResult = rt(path, text);
            assert_eq!(r.cache_scope(), Some(CacheScope::Private));
        }
        "ListRootsResult" => drop(rt::<ListRootsResult>(path, text)),
        "ListToolsResult" => {
            let r: ListToolsResult = rt(path, text);
            assert!(r.effective_ttl_ms() > 0);
        }
        "ReadResourceResult" => drop(rt::<ReadResourceResult>(path, text)),
        "SubscriptionsListenResult" => {
            let r: SubscriptionsListenResult = rt(path, text);
            assert_eq!(r.subscription_id().unwrap(), "listen-1".into());
        }

        // MRTR.
        "InputRequests" => {
            let r: InputRequests = rt(path, text);
            assert_eq!(r["github_login"].method(), methods::ELICITATION_CREATE);
            assert_eq!(
                r["capital_of_france"].method(),
                methods::SAMPLING_CREATE_MESSAGE
            );
        }
        "InputResponses" => {
            let r: InputResponses = rt(path, text);
            assert!(matches!(r["github_login"], InputResponse::Elicit(_)));
            assert!(matches!(
                r["capital_of_france"],
                InputResponse::CreateMessage(_)
            ));
        }
        "CreateMessageRequest" => {
            rt::<CreateMessageRequest>(path, text);
            assert!(matches!(rt(path, text), InputRequest::CreateMessage(_)));
        }
        "ElicitRequest" => {
            rt::<ElicitRequest>(path, text);
            assert!(matches!(rt(path, text), InputRequest::Elicit(_)));
        }
        "ListRootsRequest" => {
            rt::<ListRootsRequest>(path, text);
            assert!(matches!(rt(path, text), InputRequest::ListRoots(_)));
        }

        // Requests (envelopes).
        "CallToolRequest" => request(
            path,
            text,
            methods::TOOLS_CALL,
            |p: &CallToolRequestParams| p.meta.as_ref(),
        ),
        "CompleteRequest" => request(
            path,
            text,
            methods::COMPLETION_COMPLETE,
            |p: &CompleteRequestParams| p.meta.as_ref(),
        ),
        "DiscoverRequest" => request(path, text, methods::SERVER_DISCOVER, |p: &RequestParams| {
            p.meta.as_ref()
        }),
        "GetPromptRequest" => request(
            path,
            text,
            methods::PROMPTS_GET,
            |p: &GetPromptRequestParams| p.meta.as_ref(),
        ),
        "ListPromptsRequest" => request(
            path,
            text,
            methods::PROMPTS_LIST,
            |p: &PaginatedRequestParams| p.meta.as_ref(),
        ),
        "ListResourceTemplatesRequest" => request(
            path,
            text,
            methods::RESOURCES_TEMPLATES_LIST,
            |p: &PaginatedRequestParams| p.meta.as_ref(),
        ),
        "ListResourcesRequest" => request(
            path,
            text,
            methods::RESOURCES_LIST,
            |p: &PaginatedRequestParams| p.meta.as_ref(),
        ),
        "ListToolsRequest" => request(
            path,
            text,
            methods::TOOLS_LIST,
            |p: &PaginatedRequestParams| p.meta.as_ref(),
        ),
        "ReadResourceRequest" => request(
            path,
            text,
            methods::RESOURCES_READ,
            |p: &ReadResourceRequestParams| p.meta.as_ref(),
        ),
        "SubscriptionsListenRequest" => request(
            path,
            text,
            methods::SUBSCRIPTIONS_LISTEN,
            |p: &SubscriptionsListenRequestParams| p.meta.as_ref(),
        ),

        // Result responses (envelopes).
        "CallToolResultResponse" => drop(rt::<envelope::CallToolResultResponse>(path, text)),
        "CompleteResultResponse" => drop(rt::<envelope::CompleteResultResponse>(path, text)),
        "DiscoverResultResponse" => drop(rt::<envelope::DiscoverResultResponse>(path, text)),
        "GetPromptResultResponse" => drop(rt::<envelope::GetPromptResultResponse>(path, text)),
        "ListPromptsResultResponse" => {
            drop(rt::<envelope::ListPromptsResultResponse>(path, text));
        }
        "ListResourceTemplatesResultResponse" => {
            drop(rt::<envelope::ListResourceTemplatesResultResponse>(
                path, text,
            ));
        }
        "ListResourcesResultResponse" => {
            drop(rt::<envelope::ListResourcesResultResponse>(path, text));
        }
        "ListToolsResultResponse" => drop(rt::<envelope::ListToolsResultResponse>(path, text)),
        "ReadResourceResultResponse" => {
            let r: envelope::ReadResourceResultResponse = rt(path, text);
            assert!(matches!(r.result, MrtrResponse::Complete(_)));
        }
        "SubscriptionsListenResultResponse" => {
            drop(rt::<envelope::SubscriptionsListenResultResponse>(
                path, text,
            ));
        }

        // Notifications (envelopes).
        "CancelledNotification" => drop(rt::<envelope::CancelledNotification>(path, text)),
        "LoggingMessageNotification" => {
            let n: envelope::LoggingMessageNotification = rt(path, text);
            assert_eq!(n.params.unwrap().level, LoggingLevel::Error);
        }
        "ProgressNotification" => drop(rt::<envelope::ProgressNotification>(path, text)),
        "PromptListChangedNotification" => {
            let n: envelope::PromptListChangedNotification = rt(path, text);
            let meta = n.params.unwrap().meta.unwrap();
            assert_eq!(meta.subscription_id().unwrap(), Some("listen-1".into()));
        }
        "ResourceListChangedNotification" => {
            drop(rt::<envelope::ResourceListChangedNotification>(path, text));
        }
        "ResourceUpdatedNotification" => {
            drop(rt::<envelope::ResourceUpdatedNotification>(path, text));
        }
        "SubscriptionsAcknowledgedNotification" => {
            drop(rt::<envelope::SubscriptionsAcknowledgedNotification>(
                path, text,
            ));
        }
        "ToolListChangedNotification" => {
            drop(rt::<envelope::ToolListChangedNotification>(path, text));
        }

        // Errors.
        "HeaderMismatchError" => {
            let e: envelope::HeaderMismatchError = rt(path, text);
            assert_eq!(e.error.code, ErrorCode::HEADER_MISMATCH);
        }
        "MissingRequiredClientCapabilityError" => {
            let e: envelope::MissingRequiredClientCapabilityError = rt(path, text);
            assert_eq!(e.error.code, ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY);
            assert!(
                e.error
                    .data
                    .unwrap()
                    .required_capabilities
                    .supports_elicitation_form()
            );
            let Message::Error(wire) =
                decode_message(text.as_bytes(), &DecodeOptions::default()).unwrap()
            else {
                panic!("not an error response");
            };
            MissingRequiredClientCapabilityData::from_error_object(&wire.error).unwrap();
        }
        "UnsupportedProtocolVersionError" => {
            let e: envelope::UnsupportedProtocolVersionError = rt(path, text);
            assert_eq!(e.error.code, ErrorCode::UNSUPPORTED_PROTOCOL_VERSION);
            let Message::Error(wire) =
                decode_message(text.as_bytes(), &DecodeOptions::default()).unwrap()
            else {
                panic!("not an error response");
            };
            let data = UnsupportedProtocolVersionData::from_error_object(&wire.error).unwrap();
            assert_eq!(data.requested, "1900-01-01");
            assert_eq!(
                data.supported,
                [ProtocolVersion::V2026_07_28, ProtocolVersion::V2025_11_25]
            );
            assert!(McpErrorKind::of(wire.error.code).is_modern_only());
        }
        "InternalError" => error_object(path, text, ErrorCode::INTERNAL_ERROR),
        "InvalidParamsError" => error_object(path, text, ErrorCode::INVALID_PARAMS),
        "MethodNotFoundError" => error_object(path, text, ErrorCode::METHOD_NOT_FOUND),
        "ParseError" => error_object(path, text, ErrorCode::PARSE_ERROR),

        other => panic!("no Rust type mapped for example folder {other:?}"),
    }
}

#[test]
fn every_example_round_trips_through_its_type() {
    let mut folders = Vec::new();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            folders.push(path);
        }
    }
    folders.sort();
    assert_eq!(folders.len(), EXPECTED_FOLDERS);

    let mut files = 0;
    for folder in &folders {
        let name = folder.file_name().unwrap().to_str().unwrap();
        let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        assert!(!entries.is_empty(), "{name} is empty");
        for path in entries {
            assert_eq!(path.extension().unwrap(), "json", "{}", path.display());
            let text = std::fs::read_to_string(&path).unwrap();
            check(name, &path, &text);
            dispatch(&path, &text);
            files += 1;
        }
    }
    assert_eq!(files, EXPECTED_FILES);
}

#[test]
fn an_unmapped_folder_fails() {
    let result = std::panic::catch_unwind(|| check("NoSuchType", Path::new("x.json"), "{}"));
    assert!(result.is_err());
}
