//! `ServerEndpoint::respond` edits results by era, and a refused answer leaves the request
//! awaiting its answer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use mcp_proto::engine::{ServerEndpoint, ServerError, ServerEvent, Transmit, TransportScope};
use mcp_proto::jsonrpc::{DecodeOptions, RequestId, decode_message};
use serde_json::{Value, json};

mod common;
use common::{META, server};

fn send(server: &mut ServerEndpoint, text: &str) -> RequestId {
    let message = decode_message(text.as_bytes(), &DecodeOptions::default()).unwrap();
    server.handle_message(Instant::now(), TransportScope::CONNECTION, message);
    match server.poll_event() {
        Some(ServerEvent::Request { id, .. }) => id,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn sent(server: &mut ServerEndpoint) -> Vec<Value> {
    std::iter::from_fn(|| server.poll_transmit())
        .map(|t| match t {
            Transmit::Send { message, .. } => {
                serde_json::from_slice(&mcp_proto::jsonrpc::encode(&message)).unwrap()
            }
            Transmit::CloseScope(scope) => panic!("unexpected close of {scope:?}"),
        })
        .collect()
}

#[test]
fn a_refused_answer_keeps_the_request_awaiting() {
    let mut s = server();
    let id = send(
        &mut s,
        &format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"_meta":{META},"name":"x"}}}}"#
        ),
    );
    // No tasks extension declared: a task result is refused, nothing is sent.
    let task = json!({"resultType": "task", "taskId": "t"});
    assert!(matches!(
        s.respond(&id, &task),
        Err(ServerError::TaskResultNotAccepted(_))
    ));
    assert!(sent(&mut s).is_empty());
    // Still awaiting: progress goes out, and the real answer too, edited for its era.
    assert!(s.progress(&id, 1.0, None, None).unwrap());
    s.respond(
        &id,
        &json!({"content": [], "resultType": "complete", "z": 1}),
    )
    .unwrap();
    let wire = sent(&mut s);
    assert_eq!(wire.len(), 2, "{wire:?}");
    assert_eq!(
        wire[1]["result"],
        json!({"content": [], "resultType": "complete", "z": 1})
    );
    // Answered: a second answer is refused.
    assert!(s.respond(&id, &json!({})).is_err());
}

#[test]
fn non_object_and_empty_results_of_modern_requests() {
    let mut s = server();
    let request = |id: u8| {
        format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"_meta":{META},"name":"x"}}}}"#
        )
    };
    let first = send(&mut s, &request(1));
    s.respond(&first, &json!([1, 2])).unwrap();
    let second = send(&mut s, &request(2));
    s.respond(&second, &json!({})).unwrap();
    let wire = sent(&mut s);
    assert_eq!(wire[0]["result"], json!([1, 2]));
    assert_eq!(wire[1]["result"], json!({"resultType": "complete"}));
}
