//! JSON-RPC decoding: no input panics; every refusal yields an answer that is itself a valid
//! error message; every accepted message re-encodes to a fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_proto::jsonrpc::{decode, decode_message, encode, DecodeOptions, Decoded, Message};

fn check_message(message: &Message) {
    let once = encode(message);
    assert!(!once.contains(&b'\n') && !once.contains(&b'\r'));
    let again = decode_message(&once, &DecodeOptions::default()).expect("our encoding decodes");
    assert_eq!(encode(&again), once, "re-encoding is a fixed point");
}

fuzz_target!(|data: &[u8]| {
    for options in [DecodeOptions::default(), DecodeOptions::for_protocol_version("2025-03-26")] {
        match decode(data, &options) {
            Ok(Decoded::Single(message)) => check_message(&message),
            Ok(Decoded::Batch(items)) => {
                for item in items {
                    match item {
                        Ok(message) => check_message(&message),
                        Err(err) => check_message(&Message::Error(err.error_response())),
                    }
                }
            }
            Err(err) => {
                let answer = Message::Error(err.error_response());
                check_message(&answer);
            }
        }
    }
});
