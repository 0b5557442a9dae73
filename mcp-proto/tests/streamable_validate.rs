//! The Streamable HTTP POST rules, one row each: status and JSON-RPC error code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use http::StatusCode;
use mcp_proto::jsonrpc::{ErrorCode, Message};
use mcp_proto::streamable::{
    HostPolicy, HttpPolicy, OriginPolicy, status_for_answer, validate_post,
};
use mcp_proto::types::{Era, ProtocolVersion};
use serde_json::{Value, json};

fn post(headers: &[(&str, &str)], body: &Value) -> (http::request::Parts, Vec<u8>) {
    let mut builder = http::Request::post("/mcp");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let (parts, ()) = builder.body(()).unwrap().into_parts();
    (parts, serde_json::to_vec(body).unwrap())
}

fn base() -> Vec<(&'static str, &'static str)> {
    vec![
        ("host", "localhost:3000"),
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
    ]
}

fn modern_call() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "get_weather",
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}})
}

fn modern_headers() -> Vec<(&'static str, &'static str)> {
    let mut headers = base();
    headers.extend([
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "get_weather"),
    ]);
    headers
}

fn legacy_list() -> Value {
    json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
}

fn without(
    mut headers: Vec<(&'static str, &'static str)>,
    name: &str,
) -> Vec<(&'static str, &'static str)> {
    headers.retain(|(n, _)| *n != name);
    headers
}

fn with(
    mut headers: Vec<(&'static str, &'static str)>,
    name: &'static str,
    value: &'static str,
) -> Vec<(&'static str, &'static str)> {
    headers.retain(|(n, _)| *n != name);
    headers.push((name, value));
    headers
}

#[test]
fn every_rule_has_its_status_and_code() {
    let policy = HttpPolicy::loopback();
    type Row = (
        &'static str,
        Vec<(&'static str, &'static str)>,
        Value,
        StatusCode,
        Option<ErrorCode>,
    );
    let rows: Vec<Row> = vec![
        (
            "foreign origin",
            with(modern_headers(), "origin", "https://evil.example"),
            modern_call(),
            StatusCode::FORBIDDEN,
            None,
        ),
        (
            "null origin",
            with(modern_headers(), "origin", "null"),
            modern_call(),
            StatusCode::FORBIDDEN,
            None,
        ),
        (
            "rebinding host",
            with(modern_headers(), "host", "attacker.example:3000"),
            modern_call(),
            StatusCode::FORBIDDEN,
            None,
        ),
        (
            "no host",
            without(modern_headers(), "host"),
            modern_call(),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            "text/plain body",
            with(modern_headers(), "content-type", "text/plain"),
            modern_call(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
        ),
        (
            "no content type",
            without(modern_headers(), "content-type"),
            modern_call(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
        ),
        (
            "lookalike content type",
            with(modern_headers(), "content-type", "application/jsonx"),
            modern_call(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
        ),
        (
            "not JSON-RPC",
            base(),
            json!({"hello": "world"}),
            StatusCode::BAD_REQUEST,
            Some(ErrorCode::INVALID_REQUEST),
        ),
        (
            "html only",
            with(modern_headers(), "accept", "text/html"),
            modern_call(),
            StatusCode::NOT_ACCEPTABLE,
            None,
        ),
        (
            "q=0 on both",
            with(
                modern_headers(),
                "accept",
                "application/json;q=0, text/event-stream;q=0",
            ),
            modern_call(),
            StatusCode::NOT_ACCEPTABLE,
            None,
        ),
        (
            "missing version header",
            without(modern_headers(), "mcp-protocol-version"),
            modern_call(),
            StatusCode::BAD_REQUEST,
            Some(ErrorCode::HEADER_MISMATCH),
        ),
        (
            "version header mismatch",
            with(modern_headers(), "mcp-protocol-version", "2025-11-25"),
            modern_call(),
            StatusCode::BAD_REQUEST,
            Some(ErrorCode::HEADER_MISMATCH),
        ),
        (
            "missing Mcp-Method",
            without(modern_headers(), "mcp-method"),
            modern_call(),
            StatusCode::BAD_REQUEST,
            Some(ErrorCode::HEADER_MISMATCH),
        ),
        (
            "wrong Mcp-Method",
            with(modern_headers(), "mcp-method", "tools/list"),
            modern_call(),
            StatusCode::BAD_REQUEST,
            Some(ErrorCode::HEADER_MISMATCH),
        ),
        (
            "missing Mcp-Name",
            without(modern_headers(), "mcp-name"),
            modern_call(),
            StatusCode::BAD_REQUEST,
            Some(ErrorCode::HEADER_MISMATCH),
        ),
        (
            "wrong Mcp-Name",
            with(modern_headers(), "mcp-name", "other_tool"),
            modern_call(),
            StatusCode::BAD_REQUEST,
            Some(ErrorCode::HEADER_MISMATCH),
        ),
        (
            "modern header without _meta",
            with(base(), "mcp-protocol-version", "2026-07-28"),
            legacy_list(),
            StatusCode::BAD_REQUEST,
            Some(ErrorCode::INVALID_PARAMS),
        ),
        (
            "legacy unsupported version header",
            with(base(), "mcp-protocol-version", "1999-01-01"),
            legacy_list(),
            StatusCode::BAD_REQUEST,
            Some(ErrorCode::INVALID_REQUEST),
        ),
        (
            "bad session id",
            with(base(), "mcp-session-id", "has space"),
            legacy_list(),
            StatusCode::BAD_REQUEST,
            None,
        ),
    ];
    for (name, headers, body, status, code) in rows {
        let (parts, bytes) = post(&headers, &body);
        let reject = validate_post(&parts, &bytes, &policy).expect_err(name);
        assert_eq!(reject.status, status, "{name}");
        if let Some(code) = code {
            assert_eq!(reject.error.as_ref().unwrap().error.code, code, "{name}");
        }
        let response = reject.to_response();
        assert_eq!(response.status(), status);
        if reject.error.is_some() {
            let answer: Value = serde_json::from_slice(response.body()).unwrap();
            assert_eq!(answer["jsonrpc"], "2.0", "{name}: a JSON-RPC error body");
        }
    }
}

#[test]
fn an_unsupported_modern_version_is_400_with_the_supported_list() {
    let mut body = modern_call();
    body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
    let headers = with(modern_headers(), "mcp-protocol-version", "2099-01-01");
    let (parts, bytes) = post(&headers, &body);
    let reject = validate_post(&parts, &bytes, &HttpPolicy::loopback()).unwrap_err();
    assert_eq!(reject.status, StatusCode::BAD_REQUEST);
    let error = reject.error.unwrap();
    assert_eq!(
        (error.id, error.error.code),
        (Some(1.into()), ErrorCode::UNSUPPORTED_PROTOCOL_VERSION)
    );
    let data: Value = error.error.data.unwrap().parse().unwrap();
    assert_eq!(data["requested"], "2099-01-01");
}

#[test]
fn valid_requests_pass_with_their_era() {
    let policy = HttpPolicy::loopback();
    // Modern, with the Mcp-Name in base64 because it is not plain ASCII.
    let mut body = modern_call();
    body["params"]["name"] = json!("météo");
    let encoded = mcp_proto::http::encode_header_value("météo").into_owned();
    let encoded: &'static str = Box::leak(encoded.into_boxed_str());
    let (parts, bytes) = post(&with(modern_headers(), "mcp-name", encoded), &body);
    let ok = validate_post(&parts, &bytes, &policy).unwrap();
    assert_eq!(
        (ok.era, ok.protocol_version),
        (Era::Modern, ProtocolVersion::V2026_07_28)
    );

    // Legacy without a version header speaks 2025-03-26 (which allows batches).
    for accept in [
        "*/*",
        "application/*",
        "application/json",
        "text/event-stream",
        ";;;",
    ] {
        let (parts, bytes) = post(&with(base(), "accept", accept), &legacy_list());
        let ok = validate_post(&parts, &bytes, &policy)
            .unwrap_or_else(|e| panic!("Accept {accept}: {e:?}"));
        assert_eq!(
            (ok.era, ok.protocol_version),
            (Era::Legacy, ProtocolVersion::V2025_03_26)
        );
    }
    let batch = json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"jsonrpc": "2.0", "method": "notifications/initialized"}]);
    let (parts, bytes) = post(&base(), &batch);
    assert!(validate_post(&parts, &bytes, &policy).is_ok());
    let (parts, bytes) = post(&with(base(), "mcp-protocol-version", "2025-06-18"), &batch);
    assert_eq!(
        validate_post(&parts, &bytes, &policy).unwrap_err().status,
        StatusCode::BAD_REQUEST,
        "no batches after 2025-03-26"
    );

    // Loopback origins and any port are fine; a notification needs no Accept at all.
    let (parts, bytes) = post(
        &with(
            with(base(), "origin", "http://127.0.0.1:5173"),
            "accept",
            "text/html",
        ),
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    assert!(validate_post(&parts, &bytes, &policy).is_ok());
    // A permissive policy accepts foreign hosts and origins.
    let open = HttpPolicy {
        origins: OriginPolicy::Any,
        hosts: HostPolicy::Any,
        ..HttpPolicy::loopback()
    };
    let (parts, bytes) = post(
        &with(
            with(modern_headers(), "origin", "https://app.example"),
            "host",
            "mcp.example",
        ),
        &modern_call(),
    );
    assert!(validate_post(&parts, &bytes, &open).is_ok());
}

#[test]
fn bodies_over_the_limit_are_413() {
    let policy = HttpPolicy {
        max_body: 16,
        ..HttpPolicy::loopback()
    };
    let (parts, bytes) = post(&base(), &legacy_list());
    assert_eq!(
        validate_post(&parts, &bytes, &policy).unwrap_err().status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let (parts, _) = post(&with(base(), "content-length", "1000000"), &legacy_list());
    assert_eq!(
        mcp_proto::streamable::check_declared_length(&parts, &policy)
            .unwrap_err()
            .status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[test]
fn engine_answers_map_to_statuses_on_the_modern_transport() {
    let error = |code| {
        Message::Error(mcp_proto::jsonrpc::ErrorResponse {
            id: Some(1.into()),
            error: mcp_proto::jsonrpc::ErrorObject::from_code(code),
        })
    };
    assert_eq!(
        status_for_answer(Era::Modern, &error(ErrorCode::METHOD_NOT_FOUND)),
        StatusCode::NOT_FOUND
    );
    for code in [
        ErrorCode::INVALID_PARAMS,
        ErrorCode::HEADER_MISMATCH,
        ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
        ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
    ] {
        assert_eq!(
            status_for_answer(Era::Modern, &error(code)),
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(
        status_for_answer(Era::Modern, &error(ErrorCode::INTERNAL_ERROR)),
        StatusCode::OK
    );
    assert_eq!(
        status_for_answer(Era::Legacy, &error(ErrorCode::METHOD_NOT_FOUND)),
        StatusCode::OK
    );
}
