//! Decoding and encoding of JSON-RPC messages.

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use serde_json::error::Category;
use serde_json::value::RawValue;

use super::{
    ErrorCode, ErrorObject, ErrorResponse, Message, Notification, RawJson, Request, RequestId,
    Response,
};

/// The default largest message [`decode`] accepts: 4 MiB.
pub const DEFAULT_MAX_MESSAGE_LEN: usize = 4 * 1024 * 1024;
/// The default largest batch [`decode`] accepts, when batches are allowed at all.
pub const DEFAULT_MAX_BATCH_LEN: usize = 128;
/// The default deepest nesting of arrays and objects [`decode`] accepts (serde_json's own
/// recursion limit, which raw values would otherwise bypass).
pub const DEFAULT_MAX_DEPTH: usize = 128;

/// The one protocol version whose receivers must accept JSON-RPC batches.
const BATCH_PROTOCOL_VERSION: &str = "2025-03-26";

/// What [`decode`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Largest message, in bytes, before any parsing is attempted.
    pub max_message_len: usize,
    /// Whether a top-level JSON array is decoded as a batch. Only protocol version 2025-03-26
    /// has batches; every other version refuses them with -32600.
    pub allow_batches: bool,
    /// Largest number of messages in one batch.
    pub max_batch_len: usize,
    /// Deepest nesting of arrays and objects, counting the message object itself. Unparsed
    /// `params` would otherwise carry unbounded nesting to whoever parses them later.
    pub max_depth: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            max_message_len: DEFAULT_MAX_MESSAGE_LEN,
            allow_batches: false,
            max_batch_len: DEFAULT_MAX_BATCH_LEN,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

impl DecodeOptions {
    /// The options for a connection that negotiated `protocol_version`: batches are allowed
    /// exactly when it is `2025-03-26`.
    #[must_use]
    pub fn for_protocol_version(protocol_version: &str) -> Self {
        Self {
            allow_batches: protocol_version == BATCH_PROTOCOL_VERSION,
            ..Self::default()
        }
    }
}

/// A successfully decoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// One message.
    Single(Message),
    /// A batch (2025-03-26 only). Each element decodes on its own: an invalid element gets its
    /// own error response and does not spoil its neighbours.
    Batch(Vec<Result<Message, DecodeError>>),
}

/// Why a message could not be decoded. The peer is at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct DecodeError {
    /// The id of the offending message, when it could be read. Answers carry it, and a client
    /// uses it to settle the pending request that a malformed response was meant for.
    pub id: Option<RequestId>,
    /// What was wrong.
    pub kind: DecodeErrorKind,
}

/// The ways a message can be malformed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    /// The message is larger than [`DecodeOptions::max_message_len`].
    #[error("message of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Arrays and objects nested deeper than [`DecodeOptions::max_depth`].
    #[error("JSON nesting exceeds the limit of {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// Not valid UTF-8 JSON (syntax error, truncation, nesting too deep).
    #[error("invalid JSON: {detail}")]
    InvalidJson {
        /// What the JSON parser reported (position and reason; never the input itself).
        detail: String,
    },
    /// Valid JSON, but neither an object nor (where allowed) an array.
    #[error("a JSON-RPC message must be a JSON object")]
    NotAnObject,
    /// A top-level array where batches are not allowed.
    #[error("JSON-RPC batches are not supported by this protocol version")]
    BatchNotAllowed,
    /// An empty top-level array.
    #[error("empty JSON-RPC batch")]
    EmptyBatch,
    /// A batch with more elements than [`DecodeOptions::max_batch_len`].
    #[error("batch of {len} messages exceeds the limit of {max}")]
    BatchTooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The `jsonrpc` member is absent.
    #[error("missing \"jsonrpc\": \"2.0\"")]
    MissingVersion,
    /// The `jsonrpc` member is not the string `"2.0"`.
    #[error("\"jsonrpc\" must be \"2.0\"")]
    WrongVersion,
    /// A request with `"id": null`. It is not a notification: a notification has no `id` member.
    #[error("a request id must not be null")]
    NullRequestId,
    /// An id that is neither a string nor an integer that fits in 64 bits.
    #[error("an id must be a string or an integer")]
    InvalidId,
    /// A member of the wrong JSON type.
    #[error("\"{member}\" must be {expected}")]
    InvalidMember {
        /// The member's name.
        member: &'static str,
        /// What it should have been.
        expected: &'static str,
    },
    /// A successful response without an id (or with `"id": null`).
    #[error("a result response must carry the id of its request")]
    MissingResponseId,
    /// A message that is a request and a response at once, or a response with both `result`
    /// and `error`.
    #[error("a message must have exactly one of \"method\", \"result\" or \"error\"")]
    Ambiguous,
    /// An object with none of `method`, `result` or `error`.
    #[error("a message must have a \"method\", a \"result\" or an \"error\"")]
    NotAMessage,
}

impl DecodeError {
    fn new(kind: DecodeErrorKind) -> Self {
        Self { id: None, kind }
    }

    fn with_id(kind: DecodeErrorKind, id: Option<RequestId>) -> Self {
        Self { id, kind }
    }

    /// The JSON-RPC code a receiver answers with: -32700 for bytes that are not JSON, -32600
    /// for everything else.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self.kind {
            DecodeErrorKind::InvalidJson { .. } => ErrorCode::PARSE_ERROR,
            _ => ErrorCode::INVALID_REQUEST,
        }
    }

    /// The error response a receiver sends for this input (JSON-RPC 2.0 §5: the id when it
    /// could be read, `null` otherwise).
    #[must_use]
    pub fn error_response(&self) -> ErrorResponse {
        let message = self.code().default_message().unwrap_or("Invalid Request");
        ErrorResponse {
            id: self.id.clone(),
            error: ErrorObject::new(self.code(), format!("{message}: {}", self.kind)),
        }
    }
}

/// Decodes one JSON-RPC body: a single message, or a batch where `options` allow it.
///
/// Invalid input never panics and is never misclassified: `{"id": null, "method": "x"}` is an
/// invalid request (-32600), not a notification.
///
/// # Errors
/// A [`DecodeError`] whose [`DecodeError::error_response`] is the answer the peer is owed.
///
/// # Example
/// ```
/// use mcp_proto::jsonrpc::{decode, DecodeOptions, Decoded, ErrorCode, Message};
///
/// let body = br#"{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}}"#;
/// let Ok(Decoded::Single(Message::Request(request))) = decode(body, &DecodeOptions::default()) else {
///     panic!("a valid request");
/// };
/// assert_eq!(request.method, "tools/list");
/// assert_eq!(request.params.map(|p| p.get().to_owned()), Some("{}".to_owned()));
///
/// let err = decode(br#"{"jsonrpc":"2.0","id":null,"method":"x"}"#, &DecodeOptions::default())
///     .unwrap_err();
/// assert_eq!(err.code(), ErrorCode::INVALID_REQUEST);
/// ```
pub fn decode(bytes: &[u8], options: &DecodeOptions) -> Result<Decoded, DecodeError> {
    if bytes.len() > options.max_message_len {
        return Err(DecodeError::new(DecodeErrorKind::TooLarge {
            len: bytes.len(),
            max: options.max_message_len,
        }));
    }
    if nesting_exceeds(bytes, options.max_depth) {
        return Err(DecodeError::new(DecodeErrorKind::TooDeep {
            max: options.max_depth,
        }));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        DecodeError::new(DecodeErrorKind::InvalidJson {
            detail: format!("invalid UTF-8: {e}"),
        })
    })?;
    match text
        .trim_start_matches(is_json_whitespace)
        .as_bytes()
        .first()
    {
        Some(b'{') => decode_object_text(text).map(Decoded::Single),
        Some(b'[') => decode_batch(text, options),
        _ => Err(match serde_json::from_str::<IgnoredAny>(text) {
            Ok(_) => DecodeError::new(DecodeErrorKind::NotAnObject),
            Err(e) => invalid_json(&e),
        }),
    }
}

/// Decodes a body that must hold exactly one message (a batch is refused like any non-object).
///
/// # Errors
/// As [`decode`].
pub fn decode_message(bytes: &[u8], options: &DecodeOptions) -> Result<Message, DecodeError> {
    let single = DecodeOptions {
        allow_batches: false,
        ..*options
    };
    match decode(bytes, &single)? {
        Decoded::Single(message) => Ok(message),
        // Unreachable with batches refused, but a typed error is cheaper than a proof.
        Decoded::Batch(_) => Err(DecodeError::new(DecodeErrorKind::BatchNotAllowed)),
    }
}

/// Whether arrays and objects nest deeper than `max`, looking only at brackets outside strings.
fn nesting_exceeds(bytes: &[u8], max: usize) -> bool {
    // The depth never exceeds the number of opening brackets, strings included: when those
    // are few, as in almost every message, one vectorised count settles it.
    if crate::scan::count(bytes, |b| b == b'{' || b == b'[') <= max {
        return false;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in bytes {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                (false, _) => {}
            }
        } else {
            match byte {
                b'"' => in_string = true,
                b'{' | b'[' => {
                    depth += 1;
                    if depth > max {
                        return true;
                    }
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    false
}

fn is_json_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn invalid_json(error: &serde_json::Error) -> DecodeError {
    DecodeError::new(DecodeErrorKind::InvalidJson {
        detail: error.to_string(),
    })
}

fn decode_batch(text: &str, options: &DecodeOptions) -> Result<Decoded, DecodeError> {
    let elements: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| invalid_json(&e))?;
    if !options.allow_batches {
        return Err(DecodeError::new(DecodeErrorKind::BatchNotAllowed));
    }
    if elements.is_empty() {
        return Err(DecodeError::new(DecodeErrorKind::EmptyBatch));
    }
    if elements.len() > options.max_batch_len {
        return Err(DecodeError::new(DecodeErrorKind::BatchTooLarge {
            len: elements.len(),
            max: options.max_batch_len,
        }));
    }
    Ok(Decoded::Batch(
        elements
            .into_iter()
            .map(|element| {
                if element.get().starts_with('{') {
                    decode_object_text(element.get())
                } else {
                    Err(DecodeError::new(DecodeErrorKind::NotAnObject))
                }
            })
            .collect(),
    ))
}

/// The members of a message object, each still raw. `Some(raw null)` and `None` differ: the
/// first is `"id": null`, the second an absent `id`.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    jsonrpc: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    method: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    params: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    error: Option<&'a RawValue>,
}

/// Deserializes a member that is present, including when it is `null` (which `Option`'s own
/// implementation would turn into `None`).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

enum IdField {
    Absent,
    Null,
    Valid(RequestId),
    Invalid,
}

fn read_id(raw: Option<&RawValue>) -> IdField {
    let Some(raw) = raw else {
        return IdField::Absent;
    };
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'n') => IdField::Null,
        Some(b'"') => serde_json::from_str::<String>(text)
            .map_or(IdField::Invalid, |s| IdField::Valid(RequestId::String(s))),
        Some(b'-' | b'0'..=b'9') => serde_json::from_str::<i64>(text)
            .map_or(IdField::Invalid, |n| IdField::Valid(RequestId::Number(n))),
        _ => IdField::Invalid,
    }
}

fn decode_object_text(text: &str) -> Result<Message, DecodeError> {
    let envelope: Envelope<'_> = match serde_json::from_str(text) {
        Ok(envelope) => envelope,
        Err(e) if matches!(e.classify(), Category::Data) => {
            // A data error (e.g. a duplicated member) stops the parser early; the rest of the
            // text may still be broken JSON, which deserves -32700 rather than -32600.
            return Err(match serde_json::from_str::<IgnoredAny>(text) {
                Ok(_) => DecodeError::new(DecodeErrorKind::InvalidMember {
                    member: "(object)",
                    expected: "an object without duplicated members",
                }),
                Err(syntax) => invalid_json(&syntax),
            });
        }
        Err(e) => return Err(invalid_json(&e)),
    };
    let id = read_id(envelope.id);
    let readable_id = match &id {
        IdField::Valid(id) => Some(id.clone()),
        IdField::Absent | IdField::Null | IdField::Invalid => None,
    };
    let fail = |kind| Err(DecodeError::with_id(kind, readable_id.clone()));

    match envelope.jsonrpc {
        None => return fail(DecodeErrorKind::MissingVersion),
        // The exact text `"2.0"` is the common case; anything else (escapes…) is parsed.
        Some(v)
            if v.get() != r#""2.0""#
                && serde_json::from_str::<String>(v.get()).ok().as_deref() != Some("2.0") =>
        {
            return fail(DecodeErrorKind::WrongVersion);
        }
        Some(_) => {}
    }

    match (envelope.method, envelope.result, envelope.error) {
        (Some(method), None, None) => {
            let Ok(method) = serde_json::from_str::<String>(method.get()) else {
                return fail(DecodeErrorKind::InvalidMember {
                    member: "method",
                    expected: "a string",
                });
            };
            let params = match envelope.params {
                None => None,
                Some(raw) => match raw.get().as_bytes().first() {
                    Some(b'{' | b'[') => Some(RawJson::from_raw(raw)),
                    // `"params": null` carries nothing; reading it as absent costs nothing and
                    // spares peers whose serializers emit null for a missing option.
                    Some(b'n') => None,
                    _ => {
                        return fail(DecodeErrorKind::InvalidMember {
                            member: "params",
                            expected: "an object or an array",
                        });
                    }
                },
            };
            match id {
                IdField::Absent => Ok(Message::Notification(Notification { method, params })),
                IdField::Valid(id) => Ok(Message::Request(Request { id, method, params })),
                IdField::Null => fail(DecodeErrorKind::NullRequestId),
                IdField::Invalid => fail(DecodeErrorKind::InvalidId),
            }
        }
        (None, Some(result), None) => match id {
            IdField::Valid(id) => Ok(Message::Response(Response {
                id,
                result: RawJson::from_raw(result),
            })),
            IdField::Absent | IdField::Null => fail(DecodeErrorKind::MissingResponseId),
            IdField::Invalid => fail(DecodeErrorKind::InvalidId),
        },
        (None, None, Some(error)) => {
            let id = match id {
                IdField::Valid(id) => Some(id),
                // An error about a message whose id could not be read carries `null`; some
                // peers omit the member instead, which means the same.
                IdField::Absent | IdField::Null => None,
                IdField::Invalid => return fail(DecodeErrorKind::InvalidId),
            };
            let Ok(error) = serde_json::from_str::<ErrorObject>(error.get()) else {
                return fail(DecodeErrorKind::InvalidMember {
                    member: "error",
                    expected: "an object with an integer \"code\" and a string \"message\"",
                });
            };
            Ok(Message::Error(ErrorResponse { id, error }))
        }
        (None, None, None) => fail(DecodeErrorKind::NotAMessage),
        _ => fail(DecodeErrorKind::Ambiguous),
    }
}

/// Appends the compact JSON encoding of `message` to `out`.
///
/// The output never contains a raw CR or LF byte, so it is always a valid stdio frame and a
/// valid SSE `data` line. (Raw values received pretty-printed keep their whitespace; since JSON
/// strings cannot hold raw line breaks, every CR/LF in valid JSON is insignificant whitespace
/// and is replaced by a space.)
pub fn encode_into(message: &Message, out: &mut Vec<u8>) {
    let start = out.len();
    // Serializing our own types into a Vec cannot fail: every map key is a string and
    // `RawJson` holds validated JSON.
    let written = match message {
        // The most frequent message, whose frame is fixed text around the id and the result:
        // written directly, byte for byte what serde writes, without escaping the constant keys.
        Message::Response(response) => {
            out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
            let id = serde_json::to_writer(&mut *out, &response.id);
            out.extend_from_slice(br#","result":"#);
            out.extend_from_slice(response.result.get().as_bytes());
            out.push(b'}');
            id
        }
        _ => serde_json::to_writer(&mut *out, message),
    };
    if written.is_err() {
        out.truncate(start);
        return;
    }
    flatten_line_breaks(out.get_mut(start..).unwrap_or_default());
}

/// The compact JSON encoding of `message` (see [`encode_into`]).
#[must_use]
pub fn encode(message: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    encode_into(message, &mut out);
    out
}

/// Appends the encoding of a batch (a JSON array of messages) to `out`, e.g. the responses to a
/// 2025-03-26 batch request.
pub fn encode_batch_into(messages: &[Message], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, message) in messages.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        encode_into(message, out);
    }
    out.push(b']');
}

fn flatten_line_breaks(bytes: &mut [u8]) {
    // Compact serialization has none; only pretty-printed raw values do.
    let Some(first) = crate::scan::find(bytes, |b| matches!(b, b'\n' | b'\r')) else {
        return;
    };
    for byte in bytes
        .get_mut(first..)
        .unwrap_or_default()
        .iter_mut()
        .filter(|b| matches!(b, b'\n' | b'\r'))
    {
        *byte = b' ';
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_written_as_serde_writes_them() {
        let ids = [
            RequestId::Number(0),
            RequestId::Number(i64::MIN),
            RequestId::Number(i64::MAX),
            RequestId::String(String::new()),
            RequestId::String("a \"quoted\" \\ id\u{1}\u{7f} é ☃".to_owned()),
        ];
        let results = [
            "{}",
            "null",
            r#"{"content":[{"type":"text","text":"line\nbreak"}]}"#,
            "{\n  \"pretty\": [1,\r\n 2]\n}",
            " [1, \"two\"] ",
        ];
        for id in &ids {
            for result in results {
                let message = Message::Response(Response {
                    id: id.clone(),
                    result: RawJson::from_text(result).unwrap(),
                });
                let mut expected = serde_json::to_vec(&message).unwrap();
                flatten_line_breaks(&mut expected);
                let mut out = b"prefix".to_vec();
                encode_into(&message, &mut out);
                assert_eq!(out.get(6..), Some(expected.as_slice()), "{id} {result}");
            }
        }
    }

    #[test]
    fn the_version_may_be_escaped() {
        let body = br#"{"jsonrpc":"2\u002e0","id":1,"method":"x"}"#;
        assert!(decode_message(body, &DecodeOptions::default()).is_ok());
    }

    #[test]
    fn nesting_is_exact_whatever_the_count_of_brackets() {
        // Many brackets, shallow: the count exceeds the limit, the depth does not.
        let shallow = format!(
            r#"{{"a":[{}],"b":"[[[[[[{{{{{{"}}"#,
            "[],".repeat(10) + "[]"
        );
        assert!(!nesting_exceeds(shallow.as_bytes(), 3));
        // Deep: refused, also when the depth is exactly one past the limit.
        assert!(nesting_exceeds(b"[[[[]]]]", 3));
        assert!(!nesting_exceeds(b"[[[]]]", 3));
        // Brackets inside strings never count.
        assert!(!nesting_exceeds(br#"["[[[[[[\"[[[["]"#, 1));
    }

    #[test]
    fn line_breaks_of_pretty_raw_values_are_flattened() {
        let mut bytes = b"{\n  \"a\": [1,\r\n 2]\n}".to_vec();
        flatten_line_breaks(&mut bytes);
        assert_eq!(bytes, b"{   \"a\": [1,   2] }");
        let mut compact = br#"{"a":"b\nc"}"#.to_vec();
        flatten_line_breaks(&mut compact);
        assert_eq!(compact, br#"{"a":"b\nc"}"#);
    }
}
