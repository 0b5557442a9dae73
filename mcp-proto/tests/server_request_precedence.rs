//! The order in which the server role refuses a request with several faults: an unknown
//! method, then the era (-32601), then modern `_meta` (-32602 / -32022), then the params
//! (-32602). The params are parsed once; these cases pin the answers whichever part fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Instant;

use mcp_proto::engine::{ServerEndpoint, ServerEvent, Transmit, TransportScope};
use mcp_proto::jsonrpc::{DecodeOptions, decode_message};
use mcp_proto::types::methods::ClientRequest;
use serde_json::Value;

mod common;
use common::{META, server};

fn send(server: &mut ServerEndpoint, text: &str) {
    let message = decode_message(text.as_bytes(), &DecodeOptions::default()).unwrap();
    server.handle_message(Instant::now(), TransportScope::CONNECTION, message);
}

/// The one answer to request `text`: `(code, message)` of its error.
fn refusal(server: &mut ServerEndpoint, text: &str) -> (i64, String) {
    send(server, text);
    let sent: Vec<Value> = std::iter::from_fn(|| server.poll_transmit())
        .map(|t| match t {
            Transmit::Send { message, .. } => {
                serde_json::from_slice(&mcp_proto::jsonrpc::encode(&message)).unwrap()
            }
            Transmit::CloseScope(scope) => panic!("unexpected close of {scope:?}"),
        })
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let error = &sent[0]["error"];
    (
        error["code"].as_i64().unwrap_or_else(|| panic!("{sent:?}")),
        error["message"].as_str().unwrap().to_owned(),
    )
}

fn call(params: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{params}}}"#)
}

#[test]
fn meta_faults_come_before_params_faults() {
    let mut s = server();
    // Unsupported version, params without `name`: the version is refused.
    let bad_version = META.replace("2026-07-28", "2099-01-01");
    let (code, _) = refusal(&mut s, &call(&format!(r#"{{"_meta":{bad_version}}}"#)));
    assert_eq!(code, -32022);
    // `clientCapabilities` missing, `name` a number: the `_meta` fault is named.
    let (code, message) = refusal(
        &mut s,
        &call(r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"name":5}"#),
    );
    assert_eq!(code, -32602);
    assert!(message.contains("clientCapabilities"), "{message}");
    // `_meta` not an object: as absent, so a modern request lacks it.
    let (code, message) = refusal(&mut s, &call(r#"{"_meta":5,"name":"echo"}"#));
    assert_eq!((code, message.as_str()), (-32602, "missing `_meta`"));
    // `_meta` twice: unreadable, so absent.
    let (code, message) = refusal(
        &mut s,
        &call(&format!(
            r#"{{"_meta":{META},"_meta":{META},"name":"echo"}}"#
        )),
    );
    assert_eq!((code, message.as_str()), (-32602, "missing `_meta`"));
    // Good `_meta`, bad params: the params fault.
    let (code, message) = refusal(&mut s, &call(&format!(r#"{{"_meta":{META},"name":5}}"#)));
    assert_eq!(code, -32602);
    assert!(
        message.starts_with("invalid params for tools/call"),
        "{message}"
    );
    // Non-object params: no `_meta` to read.
    let (code, message) = refusal(&mut s, &call(r#"["echo"]"#));
    assert_eq!((code, message.as_str()), (-32602, "missing `_meta`"));
}

#[test]
fn the_era_comes_before_meta_and_params() {
    let mut s = server();
    // `initialize` declaring a modern version is a modern request for a removed method.
    let (code, _) = refusal(
        &mut s,
        &format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"_meta":{META},"x":1}}}}"#
        ),
    );
    assert_eq!(code, -32601);
    // An unknown method, whatever its params.
    let (code, _) = refusal(
        &mut s,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/explode","params":[1]}"#,
    );
    assert_eq!(code, -32601);
    // In a legacy session, a modern-only method without `_meta` is of the wrong era, even
    // with params that would not parse.
    send(
        &mut s,
        r#"{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#,
    );
    assert_eq!(std::iter::from_fn(|| s.poll_transmit()).count(), 1);
    send(
        &mut s,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    let (code, _) = refusal(
        &mut s,
        r#"{"jsonrpc":"2.0","id":4,"method":"server/discover","params":{"_meta":5}}"#,
    );
    assert_eq!(code, -32601);
    // A legacy request with bad params: the params fault.
    let (code, message) = refusal(&mut s, &call(r#"{"name":5}"#));
    assert_eq!(code, -32602);
    assert!(
        message.starts_with("invalid params for tools/call"),
        "{message}"
    );
}

#[test]
fn a_good_request_carries_its_meta_into_the_context() {
    let mut s = server();
    send(
        &mut s,
        &call(&format!(
            r#"{{"_meta":{META},"name":"echo","arguments":{{"a":1}}}}"#
        )),
    );
    assert!(std::iter::from_fn(|| s.poll_transmit()).next().is_none());
    let Some(ServerEvent::Request {
        request, context, ..
    }) = s.poll_event()
    else {
        panic!("expected a request");
    };
    assert_eq!(context.progress_token, Some("p".into()));
    let ClientRequest::CallTool(call) = request else {
        panic!("expected tools/call");
    };
    assert_eq!(call.name, "echo");
    assert!(call.meta.unwrap().get("progressToken").is_some());
}
