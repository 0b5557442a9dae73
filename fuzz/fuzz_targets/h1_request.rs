//! The HTTP/1.1 request parser and body decoder on arbitrary bytes: no panic; `consumed` never
//! exceeds the buffer; the head parses the same from every prefix that completes it; the body
//! decodes to the same bytes and outcome whether fed whole or in chunks (size from the first
//! input byte).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_proto::h1::{parse_request_head, request_body_framing, BodyDecoder, BodyStatus, Limits};

/// Decodes `body` fed in `chunk`-sized pieces; returns the data and whether it ended cleanly.
fn decode_body(decoder: &mut BodyDecoder, body: &[u8], chunk: usize) -> (Vec<u8>, Result<bool, String>) {
    let mut buffer = Vec::new();
    let mut data = Vec::new();
    for piece in body.chunks(chunk.max(1)) {
        buffer.extend_from_slice(piece);
        let mut budget = 2 * buffer.len() + 4;
        loop {
            budget -= 1;
            assert!(budget > 0, "the body decoder made no progress");
            match decoder.decode(&buffer) {
                Ok(BodyStatus::Data { data: bytes, consumed }) => {
                    assert!(consumed <= buffer.len());
                    data.extend_from_slice(bytes);
                    buffer.drain(..consumed);
                }
                Ok(BodyStatus::NeedMore { consumed }) => {
                    assert!(consumed <= buffer.len());
                    buffer.drain(..consumed);
                    break;
                }
                Ok(BodyStatus::End { consumed }) => {
                    assert!(consumed <= buffer.len());
                    return (data, Ok(true));
                }
                Err(error) => return (data, Err(error.to_string())),
            }
        }
    }
    (data, decoder.finish().map(|()| false).map_err(|e| e.to_string()))
}

fuzz_target!(|input: &[u8]| {
    let Some((&first, bytes)) = input.split_first() else { return };
    let limits = Limits::default();
    let Ok(Some((request, consumed))) = parse_request_head(bytes, &limits) else {
        // Refusals and incomplete heads must not panic; nothing more to check.
        return;
    };
    assert!(consumed <= bytes.len());
    // Every strict prefix of the head is incomplete, never a different head.
    let head = &bytes[..consumed];
    for cut in [consumed / 2, consumed.saturating_sub(1)] {
        if cut < consumed {
            assert!(!matches!(parse_request_head(&head[..cut], &limits), Ok(Some(_))), "a prefix parsed as a head");
        }
    }
    let Ok(framing) = request_body_framing(&request) else { return };
    let body = &bytes[consumed..];
    let whole = decode_body(&mut BodyDecoder::new(framing, &limits), body, body.len());
    let chunked = decode_body(&mut BodyDecoder::new(framing, &limits), body, usize::from(first % 16) + 1);
    assert_eq!(whole, chunked, "chunking changed the body");
});
