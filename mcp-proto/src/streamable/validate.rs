//! Validation of a POST to the MCP endpoint, before the engine sees it: each rule of the
//! Streamable HTTP transport with its exact status and JSON-RPC error.
//!
//! | check | refusal |
//! |---|---|
//! | `Origin` present and not allowed (DNS rebinding) | 403 |
//! | `Host` not allowed (loopback servers accept only loopback hosts by default) | 403 |
//! | `Content-Type` not `application/json` | 415 |
//! | body over the limit | 413 |
//! | body not JSON / not JSON-RPC | 400 with -32700 / -32600 |
//! | a request that can be answered neither as JSON nor as SSE | 406 |
//! | legacy `MCP-Protocol-Version` invalid or unsupported (absent means 2025-03-26) | 400 |
//! | modern: `MCP-Protocol-Version`, `Mcp-Method` or `Mcp-Name` missing or not matching the body | 400 with -32020 |
//! | modern: unsupported version | 400 with -32022 `{supported, requested}` |
//! | `Mcp-Session-Id` malformed | 400 |
//!
//! An `Accept` header that cannot be parsed at all is treated as absent: only a header that
//! names acceptable types and excludes both of ours earns a 406.

use std::borrow::Cow;

use http::header::{ACCEPT, CONTENT_TYPE, HOST, HeaderName, ORIGIN};
use http::{HeaderMap, StatusCode, request::Parts};
use serde_json::value::RawValue;

use crate::http::{
    Acceptance, SessionId, check_json_content_type_lines, header_value, parse_accept,
};
use crate::jsonrpc::{
    self, DecodeOptions, Decoded, ErrorCode, ErrorObject, ErrorResponse, Message, RawJson,
};
use crate::types::errors::UnsupportedProtocolVersionData;
use crate::types::version::{self, Era, ProtocolVersion};

/// `MCP-Protocol-Version`.
pub const PROTOCOL_VERSION_HEADER: &str = "mcp-protocol-version";
/// `Mcp-Method` (2026-07-28).
pub const METHOD_HEADER: &str = "mcp-method";
/// `Mcp-Name` (2026-07-28).
pub const NAME_HEADER: &str = "mcp-name";
/// `Mcp-Session-Id` (legacy).
pub const SESSION_ID_HEADER: &str = "mcp-session-id";

// The names above, for lookups that do not parse a name each time.
const PROTOCOL_VERSION_NAME: HeaderName = HeaderName::from_static(PROTOCOL_VERSION_HEADER);
const SESSION_ID_NAME: HeaderName = HeaderName::from_static(SESSION_ID_HEADER);
const METHOD_NAME: HeaderName = HeaderName::from_static(METHOD_HEADER);
const NAME_NAME: HeaderName = HeaderName::from_static(NAME_HEADER);
/// The version a legacy request without `MCP-Protocol-Version` is assumed to speak.
pub const ASSUMED_LEGACY_VERSION: ProtocolVersion = ProtocolVersion::V2025_03_26;
/// The default largest POST body: 4 MiB.
pub const DEFAULT_MAX_BODY: usize = jsonrpc::DEFAULT_MAX_MESSAGE_LEN;

/// Which `Origin` headers are accepted. A request without `Origin` (not from a browser) is
/// always accepted; a present one must pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginPolicy {
    /// Only `http(s)://localhost`, `127.0.0.1` or `[::1]` origins, any port: the default for a
    /// server bound to loopback, which is what DNS rebinding attacks.
    Loopback,
    /// Exactly these origins (`scheme://host[:port]`, compared case-insensitively).
    AllowList(Vec<String>),
    /// Any origin (a server behind its own gateway that checks origins).
    Any,
}

/// Which `Host` headers are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPolicy {
    /// Only `localhost`, `127.0.0.1` or `[::1]`, any port (DNS rebinding protection).
    Loopback,
    /// Exactly these host names, any port, case-insensitive.
    AllowList(Vec<String>),
    /// Any host.
    Any,
}

/// The HTTP-level rules of one MCP endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpPolicy {
    /// Accepted origins.
    pub origins: OriginPolicy,
    /// Accepted hosts.
    pub hosts: HostPolicy,
    /// Largest POST body.
    pub max_body: usize,
    /// Protocol versions served.
    pub supported_versions: Vec<ProtocolVersion>,
}

impl HttpPolicy {
    /// The safe default for a server bound to loopback: loopback origins and hosts only.
    #[must_use]
    pub fn loopback() -> Self {
        Self {
            origins: OriginPolicy::Loopback,
            hosts: HostPolicy::Loopback,
            max_body: DEFAULT_MAX_BODY,
            supported_versions: version::SUPPORTED.to_vec(),
        }
    }
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self::loopback()
    }
}

/// A refused HTTP request: the status, and the JSON-RPC error to put in the body when there is
/// one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReject {
    /// The status to answer with.
    pub status: StatusCode,
    /// The body: a JSON-RPC error response (with the request's id when it could be read).
    pub error: Option<ErrorResponse>,
}

impl HttpReject {
    pub(crate) fn bare(status: StatusCode, message: impl Into<String>, code: ErrorCode) -> Self {
        Self {
            status,
            error: Some(ErrorResponse {
                id: None,
                error: ErrorObject::new(code, message),
            }),
        }
    }

    fn with_id(status: StatusCode, id: Option<jsonrpc::RequestId>, error: ErrorObject) -> Self {
        Self {
            status,
            error: Some(ErrorResponse { id, error }),
        }
    }

    /// The HTTP response: the status, and the JSON body when there is one.
    #[must_use]
    pub fn to_response(&self) -> http::Response<Vec<u8>> {
        let body = self
            .error
            .clone()
            .map(|e| jsonrpc::encode(&Message::Error(e)))
            .unwrap_or_default();
        let mut response = http::Response::new(body);
        *response.status_mut() = self.status;
        if self.error.is_some() {
            response.headers_mut().insert(
                CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
        }
        response
    }
}

/// A POST that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedPost {
    /// The decoded body (a batch only under 2025-03-26).
    pub body: Decoded,
    /// The era of the body: modern when a request names its version in `params._meta`.
    pub era: Era,
    /// The protocol version the request speaks (the modern `_meta` version, or the legacy
    /// header, or 2025-03-26 when the legacy header is absent).
    pub protocol_version: ProtocolVersion,
    /// What the client accepts.
    pub acceptance: Acceptance,
    /// The legacy session id, when one was sent.
    pub session_id: Option<SessionId>,
}

/// Refuses early, from the head alone, a body the client declared too large (413) — before it
/// is read.
///
/// # Errors
/// The 413 refusal.
pub fn check_declared_length(parts: &Parts, policy: &HttpPolicy) -> Result<(), HttpReject> {
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(len) if len > policy.max_body as u64 => Err(too_large(policy)),
        _ => Ok(()),
    }
}

pub(crate) fn too_large(policy: &HttpPolicy) -> HttpReject {
    HttpReject::bare(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body exceeds {} bytes", policy.max_body),
        ErrorCode::INVALID_REQUEST,
    )
}

/// Checks the origin and host of any request to the endpoint (POST, GET or DELETE).
///
/// # Errors
/// 403 for a present but disallowed `Origin` or a disallowed `Host`; 400 for a missing `Host`.
pub fn check_origin_and_host(headers: &HeaderMap, policy: &HttpPolicy) -> Result<(), HttpReject> {
    for origin in headers.get_all(ORIGIN) {
        let allowed = origin
            .to_str()
            .ok()
            .is_some_and(|o| origin_allowed(o, &policy.origins));
        if !allowed {
            return Err(HttpReject::bare(
                StatusCode::FORBIDDEN,
                "origin not allowed",
                ErrorCode::INVALID_REQUEST,
            ));
        }
    }
    let Some(host) = headers.get(HOST).and_then(|h| h.to_str().ok()) else {
        return Err(HttpReject::bare(
            StatusCode::BAD_REQUEST,
            "missing Host header",
            ErrorCode::INVALID_REQUEST,
        ));
    };
    if !host_allowed(host_name(host), &policy.hosts) {
        return Err(HttpReject::bare(
            StatusCode::FORBIDDEN,
            "host not allowed",
            ErrorCode::INVALID_REQUEST,
        ));
    }
    Ok(())
}

/// Validates a POST to the MCP endpoint (see the [module docs](self) for the rules).
///
/// # Errors
/// The [`HttpReject`] owed to the client.
pub fn validate_post(
    parts: &Parts,
    body: &[u8],
    policy: &HttpPolicy,
) -> Result<ValidatedPost, HttpReject> {
    let headers = &parts.headers;
    check_origin_and_host(headers, policy)?;
    check_json_content_type_lines(
        headers
            .get_all(CONTENT_TYPE)
            .iter()
            .map(http::HeaderValue::as_bytes),
    )
    .map_err(|e| {
        HttpReject::bare(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            e.to_string(),
            ErrorCode::INVALID_REQUEST,
        )
    })?;
    if body.len() > policy.max_body {
        return Err(too_large(policy));
    }
    let version_header = single_header(headers, &PROTOCOL_VERSION_NAME)?;
    let session_id = match single_header(headers, &SESSION_ID_NAME)? {
        Some(raw) => Some(SessionId::parse(raw.as_bytes()).map_err(|e| {
            HttpReject::bare(
                StatusCode::BAD_REQUEST,
                format!("invalid Mcp-Session-Id: {e}"),
                ErrorCode::INVALID_REQUEST,
            )
        })?),
        None => None,
    };

    // Batches exist only in 2025-03-26, which is also what an absent header means.
    let decode_version = version_header.unwrap_or(ASSUMED_LEGACY_VERSION.as_str());
    let options = DecodeOptions {
        max_message_len: policy.max_body,
        ..DecodeOptions::for_protocol_version(decode_version)
    };
    let decoded = jsonrpc::decode(body, &options).map_err(|e| HttpReject {
        status: StatusCode::BAD_REQUEST,
        error: Some(e.error_response()),
    })?;

    let members = match &decoded {
        Decoded::Single(message) => params_members(message),
        Decoded::Batch(_) => None,
    };
    let modern = members.as_ref().and_then(modern_version_in);
    // A modern version in the header but none in the body: a modern request missing its
    // `_meta` (-32602), not a legacy request with an unknown version.
    if modern.is_none()
        && let (
            Some(header),
            Decoded::Single(message @ (Message::Request(_) | Message::Notification(_))),
        ) = (version_header, &decoded)
        && ProtocolVersion::parse(header).is_modern()
    {
        let error = ErrorObject::new(
            ErrorCode::INVALID_PARAMS,
            "missing `_meta` member `io.modelcontextprotocol/protocolVersion`",
        );
        return Err(HttpReject::with_id(
            StatusCode::BAD_REQUEST,
            message.id().cloned(),
            error,
        ));
    }
    let (era, protocol_version) = match (&decoded, modern) {
        (Decoded::Single(message), Some(body_version)) => {
            let version = check_modern_headers(
                headers,
                message,
                members.as_ref(),
                &body_version,
                version_header,
                policy,
            )?;
            (Era::Modern, version)
        }
        (decoded, _) => (
            Era::Legacy,
            legacy_version(version_header, decoded, policy)?,
        ),
    };

    let acceptance = parse_accept(
        headers
            .get_all(ACCEPT)
            .iter()
            .map(http::HeaderValue::as_bytes),
    )
    .unwrap_or(Acceptance::ANY);
    let expects_answer = match &decoded {
        Decoded::Single(message) => matches!(message, Message::Request(_)),
        Decoded::Batch(items) => items
            .iter()
            .any(|item| matches!(item, Ok(Message::Request(_)))),
    };
    if expects_answer && !acceptance.accepts_json() && !acceptance.accepts_event_stream() {
        let id = match &decoded {
            Decoded::Single(message) => message.id().cloned(),
            Decoded::Batch(_) => None,
        };
        let error = ErrorObject::new(
            ErrorCode::INVALID_REQUEST,
            "Accept allows neither application/json nor text/event-stream",
        );
        return Err(HttpReject::with_id(StatusCode::NOT_ACCEPTABLE, id, error));
    }
    Ok(ValidatedPost {
        body: decoded,
        era,
        protocol_version,
        acceptance,
        session_id,
    })
}

/// The HTTP status for the engine's answer to a request of `era`: on the modern transport an
/// unknown method is 404 and the header, `_meta`, capability and version errors are 400; any
/// other answer (including other JSON-RPC errors) is 200.
#[must_use]
pub fn status_for_answer(era: Era, answer: &Message) -> StatusCode {
    let Message::Error(ErrorResponse { error, .. }) = answer else {
        return StatusCode::OK;
    };
    if era == Era::Legacy {
        return StatusCode::OK;
    }
    match error.code {
        ErrorCode::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        ErrorCode::INVALID_PARAMS
        | ErrorCode::HEADER_MISMATCH
        | ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY
        | ErrorCode::UNSUPPORTED_PROTOCOL_VERSION
        | ErrorCode::PARSE_ERROR
        | ErrorCode::INVALID_REQUEST => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

/// The value of a header that must appear at most once, as text.
fn single_header<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
) -> Result<Option<&'h str>, HttpReject> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(HttpReject::bare(
            StatusCode::BAD_REQUEST,
            format!("{name} appears more than once"),
            ErrorCode::INVALID_REQUEST,
        ));
    }
    first.to_str().map(|v| Some(v.trim())).map_err(|_| {
        HttpReject::bare(
            StatusCode::BAD_REQUEST,
            format!("{name} is not visible ASCII"),
            ErrorCode::INVALID_REQUEST,
        )
    })
}

/// The members validation reads: of `params` (`_meta` and the `Mcp-Name` fields) and of
/// `params._meta` (the protocol version). Every other member is skipped.
const READ_MEMBERS: [&str; 5] = [
    "_meta",
    "name",
    "uri",
    "taskId",
    crate::types::meta::PROTOCOL_VERSION_KEY,
];

/// The [`READ_MEMBERS`] of a JSON object, left unparsed. Duplicated keys: the last one wins, as
/// in `serde_json::Value`, except `_meta`, which the engine reads as a struct field: there a
/// repeated member makes it unreadable (see [`Meta::from_params`](crate::types::Meta::from_params)).
#[derive(Debug, Default)]
struct RawMembers<'a> {
    members: [Option<&'a RawValue>; READ_MEMBERS.len()],
    repeated_meta: bool,
}

impl<'a> RawMembers<'a> {
    fn get(&self, key: &str) -> Option<&'a RawValue> {
        if key == "_meta" && self.repeated_meta {
            return None;
        }
        let slot = READ_MEMBERS.iter().position(|read| *read == key)?;
        self.members.get(slot).copied().flatten()
    }
}

impl<'de> serde::Deserialize<'de> for RawMembers<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawMembers<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut members = RawMembers::default();
                while let Some((key, value)) = map.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                    let Some(slot) = READ_MEMBERS.iter().position(|read| *read == key) else {
                        continue;
                    };
                    if let Some(member) = members.members.get_mut(slot) {
                        if key == "_meta" && member.is_some() {
                            members.repeated_meta = true;
                        }
                        *member = Some(value);
                    }
                }
                Ok(members)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// The string value of a raw member, or `None` when it is not a string.
fn raw_str(raw: &RawValue) -> Option<String> {
    serde_json::from_str(raw.get()).ok()
}

/// The top-level members of a request's or notification's `params`, left unparsed: read once,
/// then both the `_meta` version and the `Mcp-Name` member come from them.
fn params_members(message: &Message) -> Option<RawMembers<'_>> {
    let params = match message {
        Message::Request(r) => r.params.as_ref(),
        Message::Notification(n) => n.params.as_ref(),
        Message::Response(_) | Message::Error(_) => None,
    }?;
    serde_json::from_str(params.get()).ok()
}

/// The modern protocol version `params._meta` names, if any: the rules of
/// [`Meta::from_params`](crate::types::Meta::from_params) (absent or `null` is none, anything
/// but an object fails) without building the values the checks here do not look at.
fn modern_version_in(params: &RawMembers<'_>) -> Option<String> {
    let meta: Option<RawMembers<'_>> = serde_json::from_str(params.get("_meta")?.get()).ok()?;
    raw_str(meta?.get(crate::types::meta::PROTOCOL_VERSION_KEY)?)
}

/// The modern protocol version a request or notification names in `params._meta`, if any.
#[cfg(test)]
fn modern_version_of(message: &Message) -> Option<String> {
    modern_version_in(&params_members(message)?)
}

fn header_mismatch(id: Option<jsonrpc::RequestId>, message: String) -> HttpReject {
    HttpReject::with_id(
        StatusCode::BAD_REQUEST,
        id,
        ErrorObject::new(ErrorCode::HEADER_MISMATCH, message),
    )
}

/// The modern header rules: the version header present and equal to `_meta`'s, the version
/// supported, `Mcp-Method` equal to the method, `Mcp-Name` equal to the name/uri/taskId where the
/// method has one.
fn check_modern_headers(
    headers: &HeaderMap,
    message: &Message,
    params: Option<&RawMembers<'_>>,
    body_version: &str,
    version_header: Option<&str>,
    policy: &HttpPolicy,
) -> Result<ProtocolVersion, HttpReject> {
    let id = message.id().cloned();
    match version_header {
        None => {
            return Err(header_mismatch(
                id,
                "missing MCP-Protocol-Version header".into(),
            ));
        }
        Some(header) if header != body_version => {
            return Err(header_mismatch(
                id,
                format!("MCP-Protocol-Version {header:?} does not match _meta {body_version:?}"),
            ));
        }
        Some(_) => {}
    }
    let version = version::check_modern_version(body_version, &policy.supported_versions).map_err(
        |data| {
            let error = ErrorObject::from_code(ErrorCode::UNSUPPORTED_PROTOCOL_VERSION);
            let error = error.clone().with_data(&data).unwrap_or(error);
            HttpReject::with_id(StatusCode::BAD_REQUEST, id.clone(), error)
        },
    )?;
    let method = match message {
        Message::Request(r) => r.method.as_str(),
        Message::Notification(n) => n.method.as_str(),
        Message::Response(_) | Message::Error(_) => return Ok(version),
    };
    match headers.get(METHOD_NAME).map(http::HeaderValue::as_bytes) {
        None => return Err(header_mismatch(id, "missing Mcp-Method header".into())),
        Some(value) => match header_value::header_matches(value, method) {
            Ok(true) => {}
            Ok(false) => {
                return Err(header_mismatch(
                    id,
                    format!("Mcp-Method does not match the method {method:?}"),
                ));
            }
            Err(e) => return Err(header_mismatch(id, format!("invalid Mcp-Method: {e}"))),
        },
    }
    if let Some(expected) = params.and_then(|params| name_in_members(method, params)) {
        match headers.get(NAME_NAME).map(http::HeaderValue::as_bytes) {
            None => return Err(header_mismatch(id, "missing Mcp-Name header".into())),
            Some(value) => match header_value::header_matches(value, &expected) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(header_mismatch(
                        id,
                        "Mcp-Name does not match the body".into(),
                    ));
                }
                Err(e) => return Err(header_mismatch(id, format!("invalid Mcp-Name: {e}"))),
            },
        }
    }
    Ok(version)
}

/// The body value `Mcp-Name` mirrors: `name` (tools/call, prompts/get), `uri`
/// (resources/read) or `taskId` (tasks extension). The client writes it and the server checks
/// it, from this one rule.
pub(crate) fn name_in_body(method: &str, params: Option<&RawJson>) -> Option<String> {
    name_field(method)?;
    let members: RawMembers<'_> = serde_json::from_str(params?.get()).ok()?;
    name_in_members(method, &members)
}

/// [`name_in_body`] from `params` already split into members.
fn name_in_members(method: &str, params: &RawMembers<'_>) -> Option<String> {
    raw_str(params.get(name_field(method)?)?)
}

/// The member of `params` that `Mcp-Name` mirrors for `method`, if it has one.
fn name_field(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        "tasks/get" | "tasks/update" | "tasks/cancel" => Some("taskId"),
        _ => None,
    }
}

/// The legacy version: the header when present (it must be a supported legacy version), else
/// 2025-03-26. `initialize` negotiates in its body, so its header is not checked.
fn legacy_version(
    header: Option<&str>,
    decoded: &Decoded,
    policy: &HttpPolicy,
) -> Result<ProtocolVersion, HttpReject> {
    let is_initialize =
        matches!(decoded, Decoded::Single(Message::Request(r)) if r.method == "initialize");
    match header {
        None => Ok(ASSUMED_LEGACY_VERSION),
        Some(_) if is_initialize => Ok(ASSUMED_LEGACY_VERSION),
        Some(value) => {
            let version = ProtocolVersion::parse(value);
            if version.is_legacy() && policy.supported_versions.contains(&version) {
                Ok(version)
            } else {
                let data = UnsupportedProtocolVersionData {
                    supported: policy.supported_versions.clone(),
                    requested: value.to_owned(),
                };
                let message = if policy.supported_versions.contains(&version) {
                    // A supported modern version on a message without modern `_meta` (a
                    // response, a notification, a request lacking `_meta`): the version is fine,
                    // the message is not one that version has.
                    format!(
                        "MCP-Protocol-Version {value:?} has no sessions: only requests carrying \
                         `_meta` are valid with it, and this message belongs to a legacy session"
                    )
                } else {
                    format!("unsupported MCP-Protocol-Version {value:?}")
                };
                let error = ErrorObject::new(ErrorCode::INVALID_REQUEST, message);
                let error = error.clone().with_data(&data).unwrap_or(error);
                Err(HttpReject {
                    status: StatusCode::BAD_REQUEST,
                    error: Some(ErrorResponse { id: None, error }),
                })
            }
        }
    }
}

const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// The host part of a `Host` value (`host[:port]`, IPv6 in brackets), lowercase.
/// The host without its port, in the case it was sent (names compare case-insensitively).
fn host_name(host: &str) -> &str {
    let host = host.trim();
    if host.starts_with('[') {
        host.find(']')
            .map_or(host, |end| host.get(..=end).unwrap_or(host))
    } else {
        host.rsplit_once(':').map_or(host, |(name, _port)| name)
    }
}

fn is_loopback_host(host: &str) -> bool {
    LOOPBACK_HOSTS
        .iter()
        .any(|loopback| loopback.eq_ignore_ascii_case(host))
}

fn host_allowed(host: &str, policy: &HostPolicy) -> bool {
    match policy {
        HostPolicy::Any => true,
        HostPolicy::Loopback => is_loopback_host(host),
        HostPolicy::AllowList(names) => names.iter().any(|name| name.eq_ignore_ascii_case(host)),
    }
}

fn origin_allowed(origin: &str, policy: &OriginPolicy) -> bool {
    match policy {
        OriginPolicy::Any => true,
        OriginPolicy::AllowList(origins) => origins
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(origin.trim())),
        OriginPolicy::Loopback => {
            let origin = origin.trim();
            let Some(rest) = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
            else {
                // Includes `null` (sandboxed frames, file: pages): not a loopback page.
                return false;
            };
            !rest.contains('/') && is_loopback_host(host_name(rest))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonrpc::{Request, RequestId};
    use crate::types::Meta;

    /// What the checks read before they skipped building `serde_json::Value`s.
    fn name_by_value(method: &str, params: &RawJson) -> Option<String> {
        let field = match method {
            "tools/call" | "prompts/get" => "name",
            "resources/read" => "uri",
            "tasks/get" | "tasks/update" | "tasks/cancel" => "taskId",
            _ => return None,
        };
        let value: serde_json::Value = params.parse().ok()?;
        value.get(field)?.as_str().map(str::to_owned)
    }

    fn version_by_meta(params: &RawJson) -> Option<String> {
        let meta = Meta::from_params(params)?;
        meta.get(crate::types::meta::PROTOCOL_VERSION_KEY)?
            .as_str()
            .map(str::to_owned)
    }

    #[test]
    fn raw_reads_agree_with_parsed_values() {
        let cases = [
            r#"{"name":"echo","arguments":{"name":"inner"}}"#,
            r#"{"name":"first","name":"last"}"#,
            r#"{"name":3}"#,
            r#"{"na\u006de":"escaped key","uri":"file:///x","taskId":"t-1"}"#,
            r#"{"name":"a\"b\\u00e9"}"#,
            r#"{}"#,
            r#"[{"name":"in an array"}]"#,
            r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}"#,
            r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"x","io.modelcontextprotocol/protocolVersion":"2026-07-28"}}"#,
            r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":20260728}}"#,
            r#"{"_meta":null}"#,
            r#"{"_meta":"not an object"}"#,
            r#"{"_meta":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}"#,
            r#"[{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}]"#,
        ];
        for text in cases {
            let params = RawJson::from_text(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            for method in ["tools/call", "resources/read", "tasks/get", "ping"] {
                assert_eq!(
                    name_in_body(method, Some(&params)),
                    name_by_value(method, &params),
                    "{method} {text}"
                );
            }
            let message = Message::Request(Request {
                id: RequestId::Number(1),
                method: "tools/call".into(),
                params: Some(params.clone()),
            });
            assert_eq!(
                modern_version_of(&message),
                version_by_meta(&params),
                "{text}"
            );
        }
    }
}
