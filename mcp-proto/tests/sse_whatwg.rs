//! WHATWG event-stream edge cases, checked through the public API with a plain caller loop.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use mcp_proto::framing::{SseDecoder, SseEvent, SseItem, SseStatus};

/// Feeds `chunks` one after another like a socket would and collects the items.
fn items(chunks: &[&[u8]]) -> Vec<SseItem> {
    let mut decoder = SseDecoder::new();
    let mut buffer = Vec::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buffer.extend_from_slice(chunk);
        loop {
            match decoder.decode(&buffer).unwrap() {
                SseStatus::Item { item, consumed } => {
                    out.push(item);
                    buffer.drain(..consumed);
                }
                SseStatus::NeedMore { consumed } => {
                    buffer.drain(..consumed);
                    break;
                }
            }
        }
    }
    out
}

fn events(chunks: &[&[u8]]) -> Vec<SseEvent> {
    items(chunks)
        .into_iter()
        .filter_map(|item| match item {
            SseItem::Event(event) => Some(event),
            _ => None,
        })
        .collect()
}

#[test]
fn whatwg_rules() {
    // BOM at the start is stripped once; one space after the colon is removed, not two.
    let e = events(&[b"\xEF\xBB\xBFdata:  two spaces\n\n"]);
    assert_eq!(e[0].data, " two spaces");
    // A CR ending one chunk and an LF starting the next are one line break, not two.
    let e = events(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].data, "a\nb");
    // A field name alone is a field with an empty value; data lines concatenate with LF.
    let e = events(&[b"data\ndata\n\n"]);
    assert_eq!(e[0].data, "\n");
    // An id containing NUL is ignored; retry with a non-digit is ignored.
    let e = events(&[b"id: a\0b\nretry: 12a\ndata: x\n\n"]);
    assert_eq!((e[0].id.as_deref(), e[0].retry), (None, None));
    // Comments do not dispatch and unknown fields are ignored.
    let e = events(&[b": keep-alive\nfoo: bar\ndata: y\n\n"]);
    assert_eq!((e.len(), e[0].data.as_str()), (1, "y"));
    // The MCP priming event (id + empty data) IS dispatched, with empty data.
    let e = events(&[b"id: 42\ndata:\n\n"]);
    assert_eq!((e[0].id.as_deref(), e[0].data.as_str()), (Some("42"), ""));
    // An id with no data dispatches nothing but is remembered.
    let all = items(&[b"id: 7\n\n"]);
    assert!(all.iter().all(|item| !matches!(item, SseItem::Event(_))));
}

#[test]
fn last_event_id_persists_across_events() {
    let mut decoder = SseDecoder::new();
    let stream = b"id: 1\ndata: a\n\ndata: b\n\n";
    let mut offset = 0;
    let mut seen = Vec::new();
    while let SseStatus::Item {
        item: SseItem::Event(_),
        consumed,
    } = decoder.decode(&stream[offset..]).unwrap()
    {
        offset += consumed;
        seen.push(decoder.last_event_id().to_owned());
    }
    assert_eq!(seen, ["1", "1"]);
}
