//! stdio framing: no input panics or loops, and feeding the stream in chunks (of a size taken
//! from the first input byte) yields exactly what feeding it whole does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_proto::framing::{LineDecodeError, LineDecoder, LineLimits, LineStatus};

#[derive(Debug, PartialEq)]
enum Item {
    Line(Vec<u8>),
    Error(LineDecodeError),
}

fn run(stream: &[u8], chunk: usize, limits: LineLimits) -> Vec<Item> {
    let mut decoder = LineDecoder::with_limits(limits);
    let mut buffer = Vec::new();
    let mut items = Vec::new();
    for piece in stream.chunks(chunk.max(1)) {
        buffer.extend_from_slice(piece);
        // Each call either consumes bytes, yields an item, or asks for more: bound the loop
        // by the buffered length so a decoder that stalls is caught as a failure, not a hang.
        let mut budget = 2 * buffer.len() + 4;
        loop {
            budget -= 1;
            assert!(budget > 0, "decoder made no progress");
            match decoder.decode(&buffer) {
                Ok(LineStatus::Line { line, consumed }) => {
                    assert!(consumed <= buffer.len());
                    items.push(Item::Line(line.to_vec()));
                    buffer.drain(..consumed);
                }
                Ok(LineStatus::NeedMore { consumed }) => {
                    assert!(consumed <= buffer.len());
                    buffer.drain(..consumed);
                    break;
                }
                Err(error) => items.push(Item::Error(error)),
            }
        }
        assert!(buffer.len() <= limits.max_line_len + 1, "buffer grew past the line limit");
    }
    if let Err(error) = decoder.finish(&buffer) {
        items.push(Item::Error(error));
    }
    items
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else { return };
    let limits = LineLimits::with_max_line_len(usize::from(first % 32) + 1);
    let whole = run(stream, stream.len(), limits);
    let chunked = run(stream, usize::from(first / 32) + 1, limits);
    assert_eq!(whole, chunked);
    let bytewise = run(stream, 1, limits);
    assert_eq!(whole, bytewise);
});
