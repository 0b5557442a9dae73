//! Property tests for the JSON-RPC codec: encode→decode round-trips, arbitrary input never
//! panics and always yields a well-formed answer, and classification follows the rules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mcp_proto::framing::{LineDecoder, LineStatus, encode_line};
use mcp_proto::jsonrpc::{
    DecodeOptions, Decoded, ErrorCode, ErrorObject, ErrorResponse, Message, Notification, RawJson,
    Request, RequestId, Response, decode, decode_message, encode,
};
use proptest::prelude::*;
use serde_json::{Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".*".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn raw(value: &Value) -> RawJson {
    RawJson::from_serialize(value).unwrap()
}

fn params() -> impl Strategy<Value = Option<RawJson>> {
    prop::option::of(prop_oneof![
        prop::collection::btree_map(".{0,8}", json_value(), 0..4)
            .prop_map(|m| raw(&Value::Object(m.into_iter().collect()))),
        prop::collection::vec(json_value(), 0..4).prop_map(|v| raw(&Value::Array(v))),
    ])
}

fn request_id() -> impl Strategy<Value = RequestId> {
    prop_oneof![
        any::<i64>().prop_map(RequestId::Number),
        ".*".prop_map(RequestId::String)
    ]
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (request_id(), ".+", params()).prop_map(|(id, method, params)| Message::Request(Request {
            id,
            method,
            params
        })),
        (".+", params())
            .prop_map(|(method, params)| Message::Notification(Notification { method, params })),
        (request_id(), json_value()).prop_map(|(id, v)| Message::Response(Response {
            id,
            result: raw(&v)
        })),
        (
            prop::option::of(request_id()),
            any::<i64>(),
            ".*",
            prop::option::of(json_value())
        )
            .prop_map(|(id, code, message, data)| {
                Message::Error(ErrorResponse {
                    id,
                    error: ErrorObject {
                        code: ErrorCode(code),
                        message,
                        data: data.as_ref().map(raw),
                    },
                })
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_decode_round_trips(message in message()) {
        let bytes = encode(&message);
        prop_assert!(!bytes.contains(&b'\n') && !bytes.contains(&b'\r'));
        prop_assert_eq!(decode_message(&bytes, &DecodeOptions::default()), Ok(message));
    }

    #[test]
    fn a_batch_round_trips_element_by_element(messages in prop::collection::vec(message(), 1..6)) {
        let mut bytes = Vec::new();
        mcp_proto::jsonrpc::encode_batch_into(&messages, &mut bytes);
        let decoded = decode(&bytes, &DecodeOptions::for_protocol_version("2025-03-26"));
        let expected: Vec<_> = messages.into_iter().map(Ok).collect();
        prop_assert_eq!(decoded, Ok(Decoded::Batch(expected)));
    }

    #[test]
    fn arbitrary_bytes_get_a_well_formed_answer(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        for options in [DecodeOptions::default(), DecodeOptions::for_protocol_version("2025-03-26")] {
            if let Err(err) = decode(&bytes, &options) {
                let answer = encode(&Message::Error(err.error_response()));
                let decoded = decode_message(&answer, &DecodeOptions::default());
                prop_assert!(matches!(decoded, Ok(Message::Error(_))));
                prop_assert!(err.code() == ErrorCode::PARSE_ERROR || err.code() == ErrorCode::INVALID_REQUEST);
            }
        }
    }

    /// Any JSON object built from the JSON-RPC members and junk is classified by the rules:
    /// a request needs a non-null string/integer id, a notification has no id member at all.
    #[test]
    fn objects_are_classified_by_the_rules(
        version in prop::option::of(prop_oneof![Just(json!("2.0")), json_value()]),
        id in prop::option::of(prop_oneof![Just(Value::Null), any::<i64>().prop_map(Value::from), "[a-z]{0,4}".prop_map(Value::String), json_value()]),
        method in prop::option::of(prop_oneof!["[a-z/]{1,10}".prop_map(Value::String), json_value()]),
        result in prop::option::of(json_value()),
        extra in prop::collection::btree_map("x[a-z]{0,4}", json_value(), 0..3),
    ) {
        let mut object = serde_json::Map::new();
        let members = [("jsonrpc", &version), ("id", &id), ("method", &method), ("result", &result)];
        for (key, value) in members {
            if let Some(value) = value {
                object.insert(key.to_owned(), value.clone());
            }
        }
        object.extend(extra);
        let bytes = serde_json::to_vec(&Value::Object(object)).unwrap();
        let decoded = decode_message(&bytes, &DecodeOptions::default());
        let valid_version = version == Some(json!("2.0"));
        let valid_id = matches!(&id, Some(Value::String(_))) || id.as_ref().is_some_and(Value::is_i64);
        match decoded {
            Ok(Message::Request(_)) => {
                prop_assert!(valid_version && valid_id && matches!(method, Some(Value::String(_))) && result.is_none());
            }
            Ok(Message::Notification(_)) => {
                prop_assert!(valid_version && id.is_none() && matches!(method, Some(Value::String(_))) && result.is_none());
            }
            Ok(Message::Response(_)) => prop_assert!(valid_version && valid_id && method.is_none()),
            Ok(Message::Error(_)) => prop_assert!(false, "no error member was generated"),
            Err(err) => {
                prop_assert_eq!(err.code(), ErrorCode::INVALID_REQUEST);
                // The readable id is kept for the answer.
                if let (true, Some(Value::String(s))) = (valid_id, &id) {
                    prop_assert_eq!(err.id, Some(RequestId::String(s.clone())));
                }
            }
        }
    }

    /// The stdio path end to end: messages encoded, framed as lines, delivered in arbitrary
    /// chunks, unframed and decoded come back equal and in order.
    #[test]
    fn stdio_path_survives_any_chunking(
        messages in prop::collection::vec(message(), 1..8),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let mut stream = Vec::new();
        for message in &messages {
            encode_line(&encode(message), &mut stream).unwrap();
        }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.push(0);
        points.push(stream.len());
        points.sort_unstable();
        let mut decoder = LineDecoder::new();
        let mut buffer = Vec::new();
        let mut received = Vec::new();
        for pair in points.windows(2) {
            buffer.extend_from_slice(&stream[pair[0]..pair[1]]);
            loop {
                match decoder.decode(&buffer).unwrap() {
                    LineStatus::Line { line, consumed } => {
                        received.push(decode_message(line, &DecodeOptions::default()).unwrap());
                        buffer.drain(..consumed);
                    }
                    LineStatus::NeedMore { consumed } => {
                        buffer.drain(..consumed);
                        break;
                    }
                }
            }
        }
        prop_assert_eq!(decoder.finish(&buffer), Ok(()));
        prop_assert_eq!(received, messages);
    }
}
