//! JSON-RPC decoding: the invalid-input table, valid classifications, batches, and the official
//! 2026-07-28 example messages as round-trip vectors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use mcp_proto::jsonrpc::{
    DecodeErrorKind as K, DecodeOptions, Decoded, ErrorCode, ErrorObject, Message, RequestId,
    decode, decode_message, encode,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/examples-2026-07-28")
}

fn example_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(fixtures()).unwrap() {
        let dir = dir.unwrap().path();
        if dir.is_dir() {
            for file in std::fs::read_dir(&dir).unwrap() {
                files.push(file.unwrap().path());
            }
        }
    }
    files.sort();
    files
}

#[test]
fn invalid_input_table() {
    let id1 = Some(RequestId::Number(1));
    let deep = format!(
        r#"{{"jsonrpc":"2.0","method":"x","params":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    type Case = (
        &'static str,
        Vec<u8>,
        ErrorCode,
        Option<K>,
        Option<RequestId>,
    );
    let cases: Vec<Case> = vec![
        (
            "empty body",
            b"".to_vec(),
            ErrorCode::PARSE_ERROR,
            None,
            None,
        ),
        (
            "whitespace only",
            b"  \n".to_vec(),
            ErrorCode::PARSE_ERROR,
            None,
            None,
        ),
        (
            "unterminated object",
            b"{".to_vec(),
            ErrorCode::PARSE_ERROR,
            None,
            None,
        ),
        (
            "not json",
            b"hello".to_vec(),
            ErrorCode::PARSE_ERROR,
            None,
            None,
        ),
        (
            "invalid utf-8",
            b"{\"jsonrpc\":\"2.0\",\"method\":\"\xff\"}".to_vec(),
            ErrorCode::PARSE_ERROR,
            None,
            None,
        ),
        (
            "truncated request",
            br#"{"jsonrpc":"2.0","id":1,"method":"x""#.to_vec(),
            ErrorCode::PARSE_ERROR,
            None,
            None,
        ),
        (
            "trailing garbage",
            br#"{"jsonrpc":"2.0","method":"x"} x"#.to_vec(),
            ErrorCode::PARSE_ERROR,
            None,
            None,
        ),
        (
            "duplicate member then truncation",
            br#"{"jsonrpc":"2.0","id":1,"id":2,"method":"x""#.to_vec(),
            ErrorCode::PARSE_ERROR,
            None,
            None,
        ),
        (
            "nesting far too deep",
            deep.into_bytes(),
            ErrorCode::INVALID_REQUEST,
            Some(K::TooDeep { max: 128 }),
            None,
        ),
        (
            "number",
            b"5".to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::NotAnObject),
            None,
        ),
        (
            "string",
            br#""tools/list""#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::NotAnObject),
            None,
        ),
        (
            "null",
            b"null".to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::NotAnObject),
            None,
        ),
        (
            "batch outside 2025-03-26",
            br#"[{"jsonrpc":"2.0","method":"x"}]"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::BatchNotAllowed),
            None,
        ),
        (
            "empty array outside 2025-03-26",
            b"[]".to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::BatchNotAllowed),
            None,
        ),
        (
            "empty object",
            b"{}".to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::MissingVersion),
            None,
        ),
        (
            "no jsonrpc member",
            br#"{"id":1,"method":"x"}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::MissingVersion),
            id1.clone(),
        ),
        (
            "jsonrpc 1.0",
            br#"{"jsonrpc":"1.0","id":1,"method":"x"}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::WrongVersion),
            id1.clone(),
        ),
        (
            "jsonrpc as number",
            br#"{"jsonrpc":2.0,"id":1,"method":"x"}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::WrongVersion),
            id1.clone(),
        ),
        (
            "jsonrpc null",
            br#"{"jsonrpc":null,"id":1,"method":"x"}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::WrongVersion),
            id1.clone(),
        ),
        (
            "id null on a request is not a notification",
            br#"{"jsonrpc":"2.0","id":null,"method":"x"}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::NullRequestId),
            None,
        ),
        (
            "fractional id",
            br#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::InvalidId),
            None,
        ),
        (
            "exponent id",
            br#"{"jsonrpc":"2.0","id":1e3,"method":"x"}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::InvalidId),
            None,
        ),
        (
            "object id",
            br#"{"jsonrpc":"2.0","id":{},"method":"x"}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::InvalidId),
            None,
        ),
        (
            "array id",
            br#"{"jsonrpc":"2.0","id":[1],"method":"x"}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::InvalidId),
            None,
        ),
        (
            "boolean id",
            br#"{"jsonrpc":"2.0","id":true,"method":"x"}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::InvalidId),
            None,
        ),
        (
            "id beyond 64 bits",
            br#"{"jsonrpc":"2.0","id":99999999999999999999,"method":"x"}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::InvalidId),
            None,
        ),
        (
            "method not a string",
            br#"{"jsonrpc":"2.0","id":1,"method":5}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::InvalidMember {
                member: "method",
                expected: "a string",
            }),
            id1.clone(),
        ),
        (
            "method null",
            br#"{"jsonrpc":"2.0","id":1,"method":null}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::InvalidMember {
                member: "method",
                expected: "a string",
            }),
            id1.clone(),
        ),
        (
            "params a string",
            br#"{"jsonrpc":"2.0","id":1,"method":"x","params":"s"}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::InvalidMember {
                member: "params",
                expected: "an object or an array",
            }),
            id1.clone(),
        ),
        (
            "params a number",
            br#"{"jsonrpc":"2.0","method":"x","params":3}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::InvalidMember {
                member: "params",
                expected: "an object or an array",
            }),
            None,
        ),
        (
            "request and result at once",
            br#"{"jsonrpc":"2.0","id":1,"method":"x","result":{}}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::Ambiguous),
            id1.clone(),
        ),
        (
            "result and error at once",
            br#"{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::Ambiguous),
            id1.clone(),
        ),
        (
            "no method, result or error",
            br#"{"jsonrpc":"2.0","id":1}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::NotAMessage),
            id1.clone(),
        ),
        (
            "result without id",
            br#"{"jsonrpc":"2.0","result":{}}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::MissingResponseId),
            None,
        ),
        (
            "result with null id",
            br#"{"jsonrpc":"2.0","id":null,"result":{}}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            Some(K::MissingResponseId),
            None,
        ),
        (
            "error code a string",
            br#"{"jsonrpc":"2.0","id":1,"error":{"code":"x","message":"m"}}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            None,
            id1.clone(),
        ),
        (
            "error code fractional",
            br#"{"jsonrpc":"2.0","id":1,"error":{"code":1.5,"message":"m"}}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            None,
            id1.clone(),
        ),
        (
            "error without message",
            br#"{"jsonrpc":"2.0","id":1,"error":{"code":-1}}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            None,
            id1.clone(),
        ),
        (
            "error not an object",
            br#"{"jsonrpc":"2.0","id":1,"error":"boom"}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            None,
            id1,
        ),
        (
            "duplicated member",
            br#"{"jsonrpc":"2.0","id":1,"id":2,"method":"x"}"#.to_vec(),
            ErrorCode::INVALID_REQUEST,
            None,
            None,
        ),
    ];
    for (name, input, code, kind, id) in cases {
        let Err(err) = decode(&input, &DecodeOptions::default()) else {
            panic!("{name}: decoded")
        };
        assert_eq!(err.code(), code, "{name}: {err}");
        if let Some(kind) = kind {
            assert_eq!(err.kind, kind, "{name}");
        }
        assert_eq!(err.id, id, "{name}");
        let answer = err.error_response();
        assert_eq!(answer.error.code, code, "{name}");
        assert_eq!(answer.id, id, "{name}");
        // The answer itself is a valid message that says what went wrong.
        let reencoded = decode_message(&encode(&Message::Error(answer)), &DecodeOptions::default())
            .unwrap_or_else(|e| panic!("{name}: answer does not decode: {e}"));
        assert!(matches!(reencoded, Message::Error(_)), "{name}");
    }
}

#[test]
fn nesting_up_to_the_limit_is_accepted() {
    let options = DecodeOptions {
        max_depth: 4,
        ..DecodeOptions::default()
    };
    // Depth counts the message object: {params:[[["]]]"]]]} is 4 deep, brackets in strings do not count.
    let ok = br#"{"jsonrpc":"2.0","method":"x","params":[[["]]]\"[[[["]]]}"#;
    assert!(decode(ok, &options).is_ok());
    let deep = br#"{"jsonrpc":"2.0","method":"x","params":[[[[]]]]}"#;
    assert_eq!(
        decode(deep, &options).unwrap_err().kind,
        K::TooDeep { max: 4 }
    );
}

#[test]
fn too_large_is_refused_before_parsing() {
    let options = DecodeOptions {
        max_message_len: 16,
        ..DecodeOptions::default()
    };
    let err = decode(br#"{"jsonrpc":"2.0","method":"x"}"#, &options).unwrap_err();
    assert_eq!(err.kind, K::TooLarge { len: 30, max: 16 });
    assert_eq!(err.code(), ErrorCode::INVALID_REQUEST);
}

fn single(input: &str) -> Message {
    match decode(input.as_bytes(), &DecodeOptions::default()) {
        Ok(Decoded::Single(m)) => m,
        other => panic!("{input}: {other:?}"),
    }
}

#[test]
fn valid_messages_are_classified() {
    let Message::Request(r) =
        single(r#" {"jsonrpc":"2.0","id":"a-1","method":"tools/list","params":{"cursor":"c"}} "#)
    else {
        panic!("request")
    };
    assert_eq!(r.id, RequestId::String("a-1".into()));
    assert_eq!(r.params.unwrap().get(), r#"{"cursor":"c"}"#);

    let Message::Request(r) = single(r#"{"jsonrpc":"2.0","id":-7,"method":"ping"}"#) else {
        panic!("request")
    };
    assert_eq!((r.id, r.params), (RequestId::Number(-7), None));

    let Message::Request(r) = single(r#"{"jsonrpc":"2.0","id":0,"method":"ping","params":null}"#)
    else {
        panic!("request")
    };
    assert_eq!(r.params, None, "params: null reads as absent");

    let Message::Notification(n) =
        single(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
    else {
        panic!("notification")
    };
    assert_eq!(n.method, "notifications/initialized");

    let Message::Notification(n) =
        single(r#"{"method":"x","jsonrpc":"2.0","params":[1,2],"extension":true}"#)
    else {
        panic!("notification with unknown member")
    };
    assert_eq!(n.params.unwrap().get(), "[1,2]");

    let Message::Response(r) = single(r#"{"jsonrpc":"2.0","id":3,"result":{}}"#) else {
        panic!("response")
    };
    assert_eq!(r.id, RequestId::Number(3));

    let Message::Response(r) = single(r#"{"jsonrpc":"2.0","id":3,"result":null}"#) else {
        panic!("null result")
    };
    assert!(r.result.is_null());

    let Message::Error(e) =
        single(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#)
    else {
        panic!("error")
    };
    assert_eq!((e.id, e.error.code), (None, ErrorCode::PARSE_ERROR));

    let Message::Error(e) =
        single(r#"{"jsonrpc":"2.0","error":{"code":-32600,"message":"m","data":{"k":[1]}}}"#)
    else {
        panic!("error without id")
    };
    assert_eq!(e.id, None);
    assert_eq!(e.error.data.unwrap().get(), r#"{"k":[1]}"#);

    let Message::Error(e) =
        single(r#"{"jsonrpc":"2.0","id":"x","error":{"code":12345,"message":"app"}}"#)
    else {
        panic!("application error code")
    };
    assert_eq!(e.error.code, ErrorCode(12345));
}

#[test]
fn batches_only_where_negotiated() {
    let body = br#"[{"jsonrpc":"2.0","id":1,"method":"a"}, 5, {"jsonrpc":"2.0","id":null,"method":"b"}, {"jsonrpc":"2.0","method":"c"}]"#;
    assert_eq!(
        decode(body, &DecodeOptions::for_protocol_version("2025-06-18"))
            .unwrap_err()
            .kind,
        K::BatchNotAllowed
    );
    let options = DecodeOptions::for_protocol_version("2025-03-26");
    let Ok(Decoded::Batch(items)) = decode(body, &options) else {
        panic!("batch")
    };
    assert_eq!(items.len(), 4);
    assert!(matches!(&items[0], Ok(Message::Request(r)) if r.method == "a"));
    assert_eq!(items[1].as_ref().unwrap_err().kind, K::NotAnObject);
    assert_eq!(items[2].as_ref().unwrap_err().kind, K::NullRequestId);
    assert!(matches!(&items[3], Ok(Message::Notification(_))));

    assert_eq!(decode(b"[]", &options).unwrap_err().kind, K::EmptyBatch);
    assert_eq!(
        decode(b" [1,", &options).unwrap_err().code(),
        ErrorCode::PARSE_ERROR
    );
    let long = format!("[{}]", [r#"{"jsonrpc":"2.0","method":"n"}"#; 3].join(","));
    let small = DecodeOptions {
        max_batch_len: 2,
        ..options
    };
    assert_eq!(
        decode(long.as_bytes(), &small).unwrap_err().kind,
        K::BatchTooLarge { len: 3, max: 2 }
    );
    assert!(
        decode_message(long.as_bytes(), &options).is_err(),
        "decode_message never yields a batch"
    );
}

#[test]
fn encoding_never_contains_line_breaks() {
    let pretty = "{\n  \"jsonrpc\": \"2.0\",\r\n  \"id\": 1,\n  \"method\": \"x\",\n  \"params\": {\n    \"text\": \"a\\nb\"\n  }\n}";
    let message = single(pretty);
    let bytes = encode(&message);
    assert!(
        !bytes.contains(&b'\n') && !bytes.contains(&b'\r'),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(
        decode_message(&bytes, &DecodeOptions::default()).unwrap(),
        {
            // Raw params keep their original text apart from the flattened whitespace.
            let Message::Request(mut r) = message else {
                panic!()
            };
            r.params = Some(
                mcp_proto::jsonrpc::RawJson::from_text(
                    r.params.unwrap().get().replace(['\n', '\r'], " "),
                )
                .unwrap(),
            );
            Message::Request(r)
        }
    );
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn official_example_messages_round_trip() {
    let mut messages = 0;
    let mut error_objects = 0;
    for path in example_files() {
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read(&path).unwrap();
        let value = json(&text);
        let name = path.display();
        if value.get("jsonrpc").is_some() {
            let message = decode_message(&text, &DecodeOptions::default())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let folder = path
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_str()
                .unwrap();
            let expected_kind = if folder.ends_with("Error") {
                "error"
            } else if folder.ends_with("Notification") {
                "notification"
            } else if folder.ends_with("Response") {
                "response"
            } else {
                "request"
            };
            let kind = match &message {
                Message::Request(_) => "request",
                Message::Notification(_) => "notification",
                Message::Response(_) => "response",
                Message::Error(_) => "error",
            };
            assert_eq!(kind, expected_kind, "{name}");
            assert_eq!(json(&encode(&message)), value, "{name}");
            messages += 1;
        } else if path.parent().unwrap().to_str().unwrap().ends_with("Error") {
            let error: ErrorObject =
                serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(serde_json::to_value(&error).unwrap(), value, "{name}");
            error_objects += 1;
        }
    }
    // The 2026-07-28 snapshot holds 32 full JSON-RPC messages and 7 bare error objects; a
    // smaller count means the fixtures went missing, not that everything passed.
    assert_eq!(messages, 32);
    assert_eq!(error_objects, 7);
}
