//! The JSON-RPC bodies the load tool sends and the checks on what comes back, shared by every
//! transport.
//!
//! Each call's message is unique (`s<session>-<seq>`, padded to the requested size), so an
//! answer to another call, a cached answer or a wrong echo is caught, not just a wrong id.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use mcp_proto::types::meta::{CLIENT_CAPABILITIES_KEY, CLIENT_INFO_KEY, PROTOCOL_VERSION_KEY};
use mcp_proto::types::methods::{INITIALIZE, NOTIFICATION_INITIALIZED, PING, TOOLS_CALL};

use crate::error::CallError;

/// The legacy protocol version offered in `initialize`.
pub const LEGACY_VERSION: &str = "2025-11-25";
/// The modern protocol version, carried in every request's `_meta` and header.
pub const MODERN_VERSION: &str = "2026-07-28";
/// The tool called.
pub const ECHO_TOOL: &str = "echo";
/// The client name sent in `clientInfo`.
pub const CLIENT_NAME: &str = "mcp-load";
/// The longest excerpt of a wrong text or body kept in an error.
const EXCERPT: usize = 80;

/// The protocol era of the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Era {
    /// `initialize`, `notifications/initialized`, then calls on the session (2025-11-25).
    Legacy,
    /// No handshake; each request carries its `_meta` (2026-07-28).
    Modern,
}

impl Era {
    /// `legacy` or `modern`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Legacy => "legacy",
            Self::Modern => "modern",
        }
    }

    /// Parses `legacy` or `modern`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "legacy" => Some(Self::Legacy),
            "modern" => Some(Self::Modern),
            _ => None,
        }
    }
}

#[derive(Serialize)]
struct RequestOut<'a, P> {
    jsonrpc: &'static str,
    id: u64,
    method: &'a str,
    params: P,
}

#[derive(Serialize)]
struct NotificationOut<'a> {
    jsonrpc: &'static str,
    method: &'a str,
}

#[derive(Serialize)]
struct CallParams<'a> {
    name: &'a str,
    arguments: EchoArguments<'a>,
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    meta: Option<&'a RawValue>,
}

#[derive(Serialize)]
struct EchoArguments<'a> {
    message: &'a str,
}

#[derive(Serialize)]
struct InitializeParams<'a> {
    #[serde(rename = "protocolVersion")]
    protocol_version: &'a str,
    capabilities: Empty,
    #[serde(rename = "clientInfo")]
    client_info: ClientInfo,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct ClientInfo {
    name: &'static str,
    version: &'static str,
}

const CLIENT_INFO: ClientInfo = ClientInfo {
    name: CLIENT_NAME,
    version: env!("CARGO_PKG_VERSION"),
};

/// Builds the bodies of `tools/call` requests of one era.
#[derive(Debug, Clone)]
pub struct CallBuilder {
    era: Era,
    /// The modern `_meta`, serialized once.
    meta: Option<Box<RawValue>>,
    message_bytes: usize,
}

impl CallBuilder {
    /// Calls of `era` whose messages are padded to at least `message_bytes` bytes.
    ///
    /// # Panics
    /// Never: the `_meta` is built from fixed strings.
    #[must_use]
    pub fn new(era: Era, message_bytes: usize) -> Self {
        let meta = (era == Era::Modern).then(|| {
            let value = serde_json::json!({
                PROTOCOL_VERSION_KEY: MODERN_VERSION,
                CLIENT_CAPABILITIES_KEY: {},
                CLIENT_INFO_KEY: {"name": CLIENT_NAME, "version": env!("CARGO_PKG_VERSION")},
            });
            // A `Value` always serializes, and its text is valid JSON.
            serde_json::value::to_raw_value(&value).unwrap_or_default()
        });
        Self {
            era,
            meta,
            message_bytes,
        }
    }

    /// The era.
    #[must_use]
    pub fn era(&self) -> Era {
        self.era
    }

    /// Writes the message of call `seq` of `session` into `out` (cleared first): plain ASCII,
    /// so it needs no escaping and its echo must come back byte for byte.
    pub fn message(&self, session: u32, seq: u64, out: &mut String) {
        out.clear();
        let _ = write!(out, "s{session}-{seq}");
        if out.len() < self.message_bytes {
            let pad = self.message_bytes - out.len();
            out.extend(std::iter::repeat_n('x', pad));
        }
    }

    /// Appends the body of `tools/call` `echo` with `id` and `message` to `out`.
    pub fn write_call(&self, id: u64, message: &str, out: &mut Vec<u8>) {
        let request = RequestOut {
            jsonrpc: "2.0",
            id,
            method: TOOLS_CALL,
            params: CallParams {
                name: ECHO_TOOL,
                arguments: EchoArguments { message },
                meta: self.meta.as_deref(),
            },
        };
        // Serializing plain strings and numbers into a Vec cannot fail.
        let _ = serde_json::to_writer(out, &request);
    }
}

/// The body of a legacy `initialize` request.
#[must_use]
pub fn initialize_body(id: u64) -> Vec<u8> {
    let request = RequestOut {
        jsonrpc: "2.0",
        id,
        method: INITIALIZE,
        params: InitializeParams {
            protocol_version: LEGACY_VERSION,
            capabilities: Empty {},
            client_info: CLIENT_INFO,
        },
    };
    serde_json::to_vec(&request).unwrap_or_default()
}

/// The body of `notifications/initialized`.
#[must_use]
pub fn initialized_body() -> Vec<u8> {
    serde_json::to_vec(&NotificationOut {
        jsonrpc: "2.0",
        method: NOTIFICATION_INITIALIZED,
    })
    .unwrap_or_default()
}

/// The body of a `ping` request.
#[must_use]
pub fn ping_body(id: u64) -> Vec<u8> {
    serde_json::to_vec(&RequestOut {
        jsonrpc: "2.0",
        id,
        method: PING,
        params: Empty {},
    })
    .unwrap_or_default()
}

/// A JSON-RPC message received, with its `result` parsed as `R`.
#[derive(Deserialize)]
struct Envelope<'a, R> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(default = "Option::default")]
    result: Option<R>,
    #[serde(borrow, default)]
    error: Option<ErrorBody<'a>>,
}

#[derive(Deserialize)]
struct ErrorBody<'a> {
    code: i64,
    #[serde(borrow, default)]
    message: Cow<'a, str>,
}

#[derive(Deserialize)]
struct CallResult<'a> {
    #[serde(borrow, default)]
    content: Vec<Content<'a>>,
    #[serde(rename = "isError", default)]
    is_error: Option<bool>,
}

#[derive(Deserialize)]
struct Content<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct InitializeResult<'a> {
    #[serde(rename = "protocolVersion", borrow)]
    protocol_version: Cow<'a, str>,
}

/// What one received JSON-RPC message turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// An answer (result or error) to request `id` (its JSON text).
    Answer {
        /// The id as sent back, as JSON text (`"7"` for the number 7).
        id: String,
    },
    /// A notification (logging, progress…): not an answer; skipped.
    Notification,
    /// A request from the server (`ping`, `roots/list`…), which a load client does not serve.
    Request(String),
}

fn excerpt(text: &str) -> String {
    let mut end = text.len().min(EXCERPT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default().to_owned()
}

/// An excerpt of a body, for error messages.
#[must_use]
pub fn body_excerpt(body: &[u8]) -> String {
    excerpt(&String::from_utf8_lossy(
        body.get(..body.len().min(EXCERPT)).unwrap_or(body),
    ))
}

fn malformed(error: &serde_json::Error, body: &[u8]) -> CallError {
    CallError::Malformed(format!("{error} in {:?}", body_excerpt(body)))
}

fn id_matches(id: Option<&RawValue>, expected: u64) -> Result<(), CallError> {
    match id {
        Some(raw) if raw.get().parse::<u64>() == Ok(expected) => Ok(()),
        other => Err(CallError::WrongId {
            expected,
            got: other.map_or_else(|| "null".to_owned(), |raw| excerpt(raw.get())),
        }),
    }
}

/// Classifies one message: an answer, a notification or a server request.
///
/// # Errors
/// [`CallError::Malformed`] when it is not a JSON-RPC message.
pub fn classify(body: &[u8]) -> Result<Incoming, CallError> {
    let envelope: Envelope<'_, &RawValue> =
        serde_json::from_slice(body).map_err(|e| malformed(&e, body))?;
    Ok(match (envelope.method, envelope.id) {
        (Some(method), Some(_)) => Incoming::Request(method.into_owned()),
        (Some(_), None) => Incoming::Notification,
        (None, id) => Incoming::Answer {
            id: id.map_or_else(|| "null".to_owned(), |raw| raw.get().to_owned()),
        },
    })
}

/// Checks that `body` answers the `echo` call `id` with exactly `message`.
///
/// # Errors
/// The [`CallError`] saying what is wrong: malformed, wrong id, a JSON-RPC error, a tool
/// error, or a text that is not the message.
pub fn check_echo(body: &[u8], id: u64, message: &str) -> Result<(), CallError> {
    let envelope: Envelope<'_, CallResult<'_>> =
        serde_json::from_slice(body).map_err(|e| malformed(&e, body))?;
    if let Some(method) = envelope.method {
        return Err(CallError::Malformed(format!(
            "expected the answer, got {method:?}"
        )));
    }
    id_matches(envelope.id, id)?;
    if let Some(error) = envelope.error {
        return Err(CallError::JsonRpc {
            code: error.code,
            message: excerpt(&error.message),
        });
    }
    let result = envelope
        .result
        .ok_or_else(|| CallError::Malformed("an answer with neither result nor error".into()))?;
    let text = result
        .content
        .iter()
        .find(|c| c.kind == "text")
        .and_then(|c| c.text.as_deref());
    if result.is_error == Some(true) {
        return Err(CallError::ToolError(excerpt(text.unwrap_or_default())));
    }
    match text {
        Some(text) if text == message => Ok(()),
        other => Err(CallError::WrongText {
            expected: excerpt(message),
            got: excerpt(other.unwrap_or("<no text content>")),
        }),
    }
}

/// Checks that `body` answers `initialize` request `id` and returns the protocol version
/// the server chose.
///
/// # Errors
/// As [`check_echo`], for the `initialize` result.
pub fn check_initialize(body: &[u8], id: u64) -> Result<String, CallError> {
    let envelope: Envelope<'_, InitializeResult<'_>> =
        serde_json::from_slice(body).map_err(|e| malformed(&e, body))?;
    id_matches(envelope.id, id)?;
    if let Some(error) = envelope.error {
        return Err(CallError::JsonRpc {
            code: error.code,
            message: excerpt(&error.message),
        });
    }
    envelope
        .result
        .map(|r| r.protocol_version.into_owned())
        .ok_or_else(|| CallError::Handshake("initialize answered without a result".into()))
}

/// Checks that `body` answers request `id` with a result (of any shape).
///
/// # Errors
/// As [`check_echo`].
pub fn check_result(body: &[u8], id: u64) -> Result<(), CallError> {
    let envelope: Envelope<'_, &RawValue> =
        serde_json::from_slice(body).map_err(|e| malformed(&e, body))?;
    id_matches(envelope.id, id)?;
    if let Some(error) = envelope.error {
        return Err(CallError::JsonRpc {
            code: error.code,
            message: excerpt(&error.message),
        });
    }
    envelope
        .result
        .map(|_| ())
        .ok_or_else(|| CallError::Malformed("an answer with neither result nor error".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_the_ones_mcp_proto_speaks() {
        use mcp_proto::types::version::{LATEST, LATEST_LEGACY};
        assert_eq!(LEGACY_VERSION, LATEST_LEGACY.as_str());
        assert_eq!(MODERN_VERSION, LATEST.as_str());
    }

    #[test]
    fn call_bodies_carry_what_each_era_needs() {
        let legacy = CallBuilder::new(Era::Legacy, 0);
        let mut message = String::new();
        legacy.message(3, 41, &mut message);
        assert_eq!(message, "s3-41");
        let mut body = Vec::new();
        legacy.write_call(41, &message, &mut body);
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"jsonrpc": "2.0", "id": 41, "method": "tools/call",
                "params": {"name": "echo", "arguments": {"message": "s3-41"}}})
        );

        let modern = CallBuilder::new(Era::Modern, 16);
        modern.message(0, 7, &mut message);
        assert_eq!(message, "s0-7xxxxxxxxxxxx");
        body.clear();
        modern.write_call(7, &message, &mut body);
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let meta = &value["params"]["_meta"];
        assert_eq!(meta[PROTOCOL_VERSION_KEY], "2026-07-28");
        assert_eq!(meta[CLIENT_CAPABILITIES_KEY], serde_json::json!({}));
        assert_eq!(meta[CLIENT_INFO_KEY]["name"], "mcp-load");
        assert_eq!(value["params"]["arguments"]["message"], message.as_str());
    }

    #[test]
    fn echo_checks_catch_every_wrong_answer() {
        let ok =
            br#"{"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"s0-5"}]}}"#;
        assert_eq!(check_echo(ok, 5, "s0-5"), Ok(()));
        let escaped = br#"{"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"s0-\u0035"}],"isError":false}}"#;
        assert_eq!(check_echo(escaped, 5, "s0-5"), Ok(()));

        let kinds = [
            (&br#"{"jsonrpc":"2.0","id":6,"result":{"content":[{"type":"text","text":"s0-5"}]}}"#[..], "wrong-id"),
            (br#"{"jsonrpc":"2.0","id":"5","result":{"content":[{"type":"text","text":"s0-5"}]}}"#, "wrong-id"),
            (br#"{"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"s0-6"}]}}"#, "wrong-text"),
            (br#"{"jsonrpc":"2.0","id":5,"result":{"content":[]}}"#, "wrong-text"),
            (br#"{"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"boom"}],"isError":true}}"#, "tool-error"),
            (br#"{"jsonrpc":"2.0","id":5,"error":{"code":-32602,"message":"bad"}}"#, "jsonrpc-error"),
            (br#"{"jsonrpc":"2.0","id":5}"#, "malformed"),
            (br#"{"jsonrpc":"2.0","method":"notifications/message"}"#, "malformed"),
            (b"<html>", "malformed"),
        ];
        for (body, kind) in kinds {
            let error = check_echo(body, 5, "s0-5").unwrap_err();
            assert_eq!(error.kind(), kind, "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn classify_tells_answers_from_notifications_and_requests() {
        assert_eq!(
            classify(br#"{"jsonrpc":"2.0","id":9,"result":{}}"#),
            Ok(Incoming::Answer { id: "9".into() })
        );
        assert_eq!(
            classify(br#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}}"#),
            Ok(Incoming::Notification)
        );
        assert_eq!(
            classify(br#"{"jsonrpc":"2.0","id":1,"method":"roots/list"}"#),
            Ok(Incoming::Request("roots/list".into()))
        );
        assert!(classify(b"nope").is_err());
    }

    #[test]
    fn handshake_bodies_and_checks() {
        let init: serde_json::Value = serde_json::from_slice(&initialize_body(0)).unwrap();
        assert_eq!(init["method"], "initialize");
        assert_eq!(init["params"]["protocolVersion"], LEGACY_VERSION);
        assert_eq!(init["params"]["clientInfo"]["name"], CLIENT_NAME);
        let answer = br#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","capabilities":{}}}"#;
        assert_eq!(check_initialize(answer, 0).as_deref(), Ok("2025-06-18"));
        assert!(check_initialize(answer, 1).is_err());
        let note: serde_json::Value = serde_json::from_slice(&initialized_body()).unwrap();
        assert_eq!(
            note,
            serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
        );
        assert_eq!(
            check_result(br#"{"jsonrpc":"2.0","id":2,"result":{}}"#, 2),
            Ok(())
        );
        let ping: serde_json::Value = serde_json::from_slice(&ping_body(2)).unwrap();
        assert_eq!(ping["method"], "ping");
    }
}
