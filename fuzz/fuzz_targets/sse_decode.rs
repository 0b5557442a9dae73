//! SSE decoding: no input panics or loops, and feeding the stream in chunks (of a size taken
//! from the first input byte) yields exactly what feeding it whole does, including the last
//! event id and reconnection time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_proto::framing::{SseDecodeError, SseDecoder, SseItem, SseLimits, SseStatus};

#[derive(Debug, PartialEq)]
enum Item {
    Item(SseItem),
    Error(SseDecodeError),
}

fn run(stream: &[u8], chunk: usize, limits: SseLimits) -> (Vec<Item>, String, Option<u64>) {
    let mut decoder = SseDecoder::with_limits(limits);
    let mut buffer = Vec::new();
    let mut items = Vec::new();
    for piece in stream.chunks(chunk.max(1)) {
        buffer.extend_from_slice(piece);
        let mut budget = 2 * buffer.len() + 4;
        loop {
            budget -= 1;
            assert!(budget > 0, "decoder made no progress");
            match decoder.decode(&buffer) {
                Ok(SseStatus::Item { item, consumed }) => {
                    assert!(consumed <= buffer.len());
                    items.push(Item::Item(item));
                    buffer.drain(..consumed);
                }
                Ok(SseStatus::NeedMore { consumed }) => {
                    assert!(consumed <= buffer.len());
                    buffer.drain(..consumed);
                    break;
                }
                Err(error) => items.push(Item::Error(error)),
            }
        }
    }
    if let Err(error) = decoder.finish(&buffer) {
        items.push(Item::Error(error));
    }
    (items, decoder.last_event_id().to_owned(), decoder.reconnection_time())
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else { return };
    let small = usize::from(first % 64) + 8;
    let limits = SseLimits::new(small, small);
    let whole = run(stream, stream.len(), limits);
    assert_eq!(whole, run(stream, usize::from(first / 64) + 1, limits));
    assert_eq!(whole, run(stream, 1, limits));
    // Default limits too, so that events actually complete.
    let whole = run(stream, stream.len(), SseLimits::default());
    assert_eq!(whole, run(stream, usize::from(first % 7) + 1, SseLimits::default()));
});
